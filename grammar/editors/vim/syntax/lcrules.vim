" Vim syntax file for lcrules .rules files (docs/language.md).
" Install: docs/editors.md. The keyword lists below are checked against the grammar by
" tests/editors/check_keywords.py: a word the grammar gains must be added here.

if exists("b:current_syntax")
  finish
endif

let s:cpo_save = &cpo
set cpo&vim

" Names and keywords are made of letters, digits, '_', '-' and '.', as in the grammar:
" `starts-with` is one word, and `cluster` in `cluster.name` is no keyword.
syntax iskeyword @,48-57,_,-,.
syntax case match

syntax keyword lcrulesTodo contained TODO FIXME XXX NOTE
syntax match lcrulesComment /#.*$/ contains=lcrulesTodo,@Spell

" Items and the properties of rules and overrides.
syntax keyword lcrulesItem lcrules rule macro list override disable decision
syntax keyword lcrulesProperty priority stage description timeout when set note replace append unset decide leave
" Conditions and commands.
syntax keyword lcrulesOperator and or not is in exists starts-with ends-with matches inside
" (`contains` is an argument of :syntax, so it cannot be in a keyword list.)
syntax match lcrulesOperator /\<contains\>/
syntax keyword lcrulesCommand run read succeeds exits output json yaml as cache env
" Values.
syntax keyword lcrulesBoolean true false
syntax keyword lcrulesNull null
syntax keyword lcrulesStage identify policy
" Decision fields (set, unset, decision.FIELD).
syntax keyword lcrulesField cluster local cluster_name load_images push_images load_command registry

syntax match lcrulesSymbol /==\|!=\||/

" The name an item defines or refers to.
syntax match lcrulesName /\%(\<\%(rule\|macro\|list\|override\|disable\|decision\|decide\)\s\+\)\@<=[A-Za-z_][A-Za-z0-9_.-]*/

" Facts: a known root, then dotted segments. Inside ${...} too.
syntax match lcrulesFact /\<\%(context\|cluster\|user\|env\|skaffold\|option\|kubeconfig\|decision\|match\|item\)\.[A-Za-z0-9_-]\+\%(\.[A-Za-z0-9_-]\+\)*/ contains=lcrulesFactRoot
syntax match lcrulesFactRoot contained /\<\%(context\|cluster\|user\|env\|skaffold\|option\|kubeconfig\|decision\|match\|item\)\./

" Numbers and durations: 100, -5, 500ms, 5s, 1.5m, 1h.
syntax match lcrulesNumber /\%([A-Za-z0-9_.-]\)\@<![-+]\=\d\+\%(\.\d\+\)\=\%(ms\|[smh]\)\=\>/

" Strings: escapes, ${...} interpolation (nested in defaults), $$ and {IMAGE}.
syntax region lcrulesString start=/"/ skip=/\\\\\|\\"/ end=/"/ oneline contains=lcrulesEscape,lcrulesBadEscape,lcrulesDollar,lcrulesInterp,lcrulesPlaceholder
syntax match lcrulesBadEscape contained /\\./
syntax match lcrulesEscape contained /\\\%(["\\ntr0$]\|x\x\x\|u{\x\{1,6}}\)/
syntax match lcrulesDollar contained /\$\$/
syntax match lcrulesPlaceholder contained /{IMAGE}/
syntax region lcrulesInterp contained matchgroup=lcrulesInterpDelim start=/\${/ end=/}/ oneline contains=lcrulesFact,lcrulesInterpName,lcrulesInterpOp
syntax match lcrulesInterpName contained /\%(\${\)\@<=[A-Za-z][A-Za-z0-9_-]*\%(\.[A-Za-z0-9_-]\+\)*/ contains=lcrulesFact
syntax region lcrulesInterpOp contained matchgroup=lcrulesInterpDelim start=/:-\|#\|%/ end=/\ze}/ oneline contains=lcrulesEscape,lcrulesBadEscape,lcrulesDollar,lcrulesInterp
" The path string of a json/yaml test, with its prefixes: "every .items[]", "go(TYPE).path".
syntax region lcrulesPath start=/\%(\<\%(json\|yaml\)\s\+\)\@<="/ skip=/\\\\\|\\"/ end=/"/ oneline contains=lcrulesEscape,lcrulesBadEscape,lcrulesPathPrefix,lcrulesGoType
syntax match lcrulesPathPrefix contained /\%("\)\@<=every\ze\s/
syntax region lcrulesGoType contained matchgroup=lcrulesPathPrefix start=/\%("\|"every\s\+\)\@<=go(/ end=/)/ oneline

" Regular expressions /.../ and /.../i (a '/' starts nothing else outside strings).
syntax region lcrulesRegex matchgroup=lcrulesRegexDelim start=+/+ skip=+\\\\\|\\/+ end=+/i\=+ oneline contains=lcrulesRegexGroup
syntax match lcrulesRegexGroup contained /(?<[A-Za-z_][A-Za-z0-9_]*>/

highlight default link lcrulesComment Comment
highlight default link lcrulesTodo Todo
highlight default link lcrulesItem Statement
highlight default link lcrulesProperty Keyword
highlight default link lcrulesOperator Operator
highlight default link lcrulesCommand Keyword
highlight default link lcrulesSymbol Operator
highlight default link lcrulesBoolean Boolean
highlight default link lcrulesNull Constant
highlight default link lcrulesStage Constant
highlight default link lcrulesField Type
highlight default link lcrulesName Function
highlight default link lcrulesFact Identifier
highlight default link lcrulesFactRoot Identifier
highlight default link lcrulesNumber Number
highlight default link lcrulesString String
highlight default link lcrulesEscape SpecialChar
highlight default link lcrulesBadEscape Error
highlight default link lcrulesDollar SpecialChar
highlight default link lcrulesPlaceholder Special
highlight default link lcrulesInterpDelim Delimiter
highlight default link lcrulesInterp Identifier
highlight default link lcrulesInterpName Identifier
highlight default link lcrulesInterpOp String
highlight default link lcrulesPath String
highlight default link lcrulesPathPrefix Special
highlight default link lcrulesGoType Type
highlight default link lcrulesRegex String
highlight default link lcrulesRegexDelim Delimiter
highlight default link lcrulesRegexGroup Special

let b:current_syntax = "lcrules"

let &cpo = s:cpo_save
unlet s:cpo_save
