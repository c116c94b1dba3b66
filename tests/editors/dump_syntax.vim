" Writes the highlight groups of the current buffer to g:dump_out: a first line
" `filetype NAME`, then one line per run of non-blank characters that share a syntax
" group, `LINE:COL GROUP TEXT` (GROUP `-` where no group applies).
let s:out = ['filetype ' . &filetype]
for s:lnum in range(1, line('$'))
  let s:text = getline(s:lnum)
  let s:col = 1
  while s:col <= strlen(s:text)
    if s:text[s:col - 1] =~# '\s'
      let s:col += 1
      continue
    endif
    let s:name = synIDattr(synID(s:lnum, s:col, 1), 'name')
    let s:start = s:col
    while s:col <= strlen(s:text) && s:text[s:col - 1] !~# '\s'
          \ && synIDattr(synID(s:lnum, s:col, 1), 'name') ==# s:name
      let s:col += 1
    endwhile
    call add(s:out, printf('%d:%d %s %s', s:lnum, s:start, empty(s:name) ? '-' : s:name,
          \ strpart(s:text, s:start - 1, s:col - s:start)))
  endwhile
endfor
call writefile(s:out, g:dump_out)
