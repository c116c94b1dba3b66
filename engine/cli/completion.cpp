#include "engine/cli/completion.hpp"

#include <cstdlib>
#include <map>
#include <optional>
#include <set>

#include "lcrules/testing.hpp"

namespace lcrules::cli {
namespace {

constexpr int kDirectiveDefault = 0;     // no candidate: the shell completes file names
constexpr int kDirectiveNoFileComp = 4;  // no candidate: the shell offers nothing

// Options whose value is text but never a file name (completed from elsewhere, or free).
const std::set<std::string> kNotFileOptions = {"--context", "--run", "--listen"};

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

bool repeatable(const CLI::Option* opt) { return opt->get_expected_max() > 1; }

// The values an `IsMember` check allows: CLI11 writes them into the type name as
// `TEXT:{text,json}`.
std::vector<std::string> members(const CLI::Option* opt) {
  const std::string type = opt->get_type_name();
  const auto open = type.find('{');
  const auto close = type.find('}', open);
  if (open == std::string::npos || close == std::string::npos) return {};
  std::vector<std::string> out;
  std::string item;
  for (char c : type.substr(open + 1, close - open - 1)) {
    if (c == ',') {
      out.push_back(item);
      item.clear();
    } else {
      item += c;
    }
  }
  out.push_back(item);
  return out;
}

// Numbers get no candidate (and no file names).
bool numeric(const CLI::Option* opt) {
  const std::string type = opt->get_type_name();
  return starts_with(type, "FLOAT") || starts_with(type, "INT") || starts_with(type, "UINT") ||
         starts_with(type, "NUMBER");
}

// The option `name` (`--context`, `-o`) of this subcommand, or nullptr.
const CLI::Option* find_option(const CLI::App* cmd, const std::string& name) {
  for (const CLI::Option* opt : cmd->get_options()) {
    if (opt->get_positional() && opt->get_lnames().empty() && opt->get_snames().empty()) continue;
    for (const auto& l : opt->get_lnames())
      if (name == "--" + l) return opt;
    for (const auto& s : opt->get_snames())
      if (name == "-" + s) return opt;
  }
  return nullptr;
}

std::string option_key(const CLI::Option* opt) {
  if (!opt->get_lnames().empty()) return "--" + opt->get_lnames().front();
  if (!opt->get_snames().empty()) return "-" + opt->get_snames().front();
  return opt->get_name();
}

bool hidden(const CLI::App* sub) { return sub->get_group().empty(); }

struct Line {
  std::vector<std::string> subcommands;  // chosen, in order
  const CLI::App* cmd = nullptr;
  std::map<std::string, std::vector<std::string>> given;  // option key -> values, unquoted
  std::vector<std::string> positionals;                   // unquoted
};

class Completer {
 public:
  Completer(const CLI::App& app, const RuleSetOptions& rules, std::ostream& out)
      : app_(app), rules_(rules), out_(out) {}

  void run(const std::vector<std::string>& words) {
    if (words.empty()) return finish(kDirectiveNoFileComp);
    Line line;
    line.cmd = &app_;
    const CLI::Option* pending = nullptr;  // an option waiting for its value
    bool only_positionals = false;         // after `--`
    for (std::size_t i = 0; i + 1 < words.size(); ++i) {
      const std::string& w = words[i];
      if (pending) {
        line.given[option_key(pending)].push_back(shell_unquote(w));
        pending = nullptr;
        continue;
      }
      if (!only_positionals && w == "--") {
        only_positionals = true;
        continue;
      }
      if (!only_positionals && w.size() > 1 && w[0] == '-') {
        const auto eq = w.find('=');
        std::string name = w.substr(0, eq);
        std::optional<std::string> value;
        if (eq != std::string::npos) value = w.substr(eq + 1);
        if (name.size() > 2 && name[1] != '-') {  // -ojson
          value = name.substr(2);
          name = name.substr(0, 2);
        }
        const CLI::Option* opt = find_option(line.cmd, name);
        if (!opt) continue;
        if (!takes_value(opt)) {
          line.given[option_key(opt)].emplace_back();
        } else if (value) {
          line.given[option_key(opt)].push_back(shell_unquote(*value));
        } else {
          pending = opt;
        }
        continue;
      }
      if (line.positionals.empty()) {
        if (const CLI::App* sub = subcommand(line.cmd, w)) {
          line.cmd = sub;
          line.subcommands.push_back(w);
          continue;
        }
      }
      line.positionals.push_back(shell_unquote(w));
    }

    const std::string& cur = words.back();
    if (pending) return values(line, pending, "", shell_unquote(cur));
    if (!only_positionals && starts_with(cur, "--") && cur.find('=') != std::string::npos) {
      const auto eq = cur.find('=');
      const CLI::Option* opt = find_option(line.cmd, cur.substr(0, eq));
      if (opt && takes_value(opt))
        return values(line, opt, cur.substr(0, eq + 1), shell_unquote(cur.substr(eq + 1)));
      return finish(kDirectiveNoFileComp);
    }
    if (!only_positionals && starts_with(cur, "-")) return flags(line, cur, true);
    if (line.positionals.empty() && has_subcommands(line.cmd)) return subcommands(line.cmd, cur);
    return positional(line, cur);
  }

 private:
  const CLI::App* subcommand(const CLI::App* cmd, const std::string& name) const {
    for (const CLI::App* sub : cmd->get_subcommands({}))
      if (sub->get_name() == name) return sub;
    return nullptr;
  }

  bool has_subcommands(const CLI::App* cmd) const { return !cmd->get_subcommands({}).empty(); }

  void candidate(const std::string& value, const std::string& description = "") {
    out_ << value;
    if (!description.empty()) out_ << '\t' << first_line(description);
    out_ << '\n';
  }

  void finish(int directive) { out_ << ':' << directive << '\n'; }

  void subcommands(const CLI::App* cmd, const std::string& cur) {
    for (const CLI::App* sub : cmd->get_subcommands({}))
      if (!hidden(sub) && starts_with(sub->get_name(), cur))
        candidate(sub->get_name(), sub->get_description());
    finish(kDirectiveNoFileComp);
  }

  // The subcommand's flags not given yet (repeatable ones always); short names only when
  // the word has a single dash.
  void flags(const Line& line, const std::string& cur, bool with_short) {
    for (const CLI::Option* opt : line.cmd->get_options()) {
      if (opt->get_lnames().empty() && opt->get_snames().empty()) continue;
      if (line.given.count(option_key(opt)) && !repeatable(opt)) continue;
      for (const auto& l : opt->get_lnames())
        if (starts_with("--" + l, cur)) candidate("--" + l, opt->get_description());
      if (!with_short || starts_with(cur, "--")) continue;
      for (const auto& s : opt->get_snames())
        if (starts_with("-" + s, cur)) candidate("-" + s, opt->get_description());
    }
    finish(kDirectiveNoFileComp);
  }

  void positional(const Line& line, const std::string& cur) {
    for (const CLI::Option* opt : line.cmd->get_options()) {
      if (!opt->get_lnames().empty() || !opt->get_snames().empty()) continue;
      if (!opt->get_positional()) continue;
      if (!repeatable(opt) && !line.positionals.empty()) continue;
      return values(line, opt, "", shell_unquote(cur));
    }
    // No positional argument: the flags are all there is to type.
    if (line.cmd != &app_) return flags(line, cur, false);
    finish(kDirectiveNoFileComp);
  }

  // Values of `opt` that start with `cur`, each written after `prefix` (`--output=`).
  void values(const Line& line, const CLI::Option* opt, const std::string& prefix, const std::string& cur) {
    const std::string key = option_key(opt);
    std::vector<std::string> found;
    bool files = false;
    if (key == "--context") {
      found = contexts(line);
    } else if (key == "--run") {
      found = test_names(line);
    } else if (auto allowed = members(opt); !allowed.empty()) {
      found = allowed;
    } else {
      files = !numeric(opt) && !kNotFileOptions.count(key);
    }
    for (const auto& v : found)
      if (starts_with(v, cur)) candidate(prefix + v);
    finish(files ? kDirectiveDefault : kDirectiveNoFileComp);
  }

  // The contexts of the kubeconfig the command line would read: its --kubeconfig, else
  // $KUBECONFIG, else ~/.kube/config (through the engine, as `lcrules eval` reads them).
  std::vector<std::string> contexts(const Line& line) const {
    EvalRequest request;
    if (auto it = line.given.find("--kubeconfig"); it != line.given.end() && !it->second.empty())
      request.kubeconfig = it->second.back();
    request.no_cache = line.given.count("--no-cache") > 0;
    const Engine engine;
    auto names = engine.context_names(request);
    return names ? names.value() : std::vector<std::string>{};
  }

  // The names of the tests `lcrules test` would run with the paths on the line, written
  // as regular expressions that find them (--run takes a regex).
  std::vector<std::string> test_names(const Line& line) const {
    TestOptions options;
    options.paths = line.positionals;
    std::vector<std::string> out;
    for (const auto& name : rule_test_names(options, rules_)) {
      std::string escaped;
      for (char c : name) {
        if (std::string("\\^$.|?*+()[]{}").find(c) != std::string::npos) escaped += '\\';
        escaped += c;
      }
      out.push_back(escaped);
    }
    return out;
  }

  const CLI::App& app_;
  const RuleSetOptions& rules_;
  std::ostream& out_;
};

const char* const kBashScript =
    R"BASH(# bash completion for lcrules: `source <(lcrules completion bash)`, or the file
# /usr/share/bash-completion/completions/lcrules. Needs no bash-completion package. The
# candidates come from the binary itself (`lcrules __complete WORD... CURRENT`).

# words/cword: the command line as lcrules reads it. Bash splits words at COMP_WORDBREAKS
# (`--context=x` and `arn:aws:eks:...` come in pieces): pieces typed without a blank
# between them are joined again, by walking COMP_LINE.
__lcrules_words() {
  local line=${COMP_LINE-} i w
  words=() cword=-1
  if [[ -z $line ]]; then
    words=("${COMP_WORDS[@]}")
    cword=$COMP_CWORD
    return
  fi
  for ((i = 0; i <= COMP_CWORD && i < ${#COMP_WORDS[@]}; i++)); do
    w=${COMP_WORDS[i]}
    if ((i == 0)) || [[ $line == [[:space:]]* ]]; then
      line=${line#"${line%%[![:space:]]*}"}
      words+=("$w")
    else
      words[${#words[@]} - 1]+=$w
    fi
    line=${line#"$w"}
  done
  ((COMP_CWORD >= ${#COMP_WORDS[@]})) && words+=("")
  cword=$((${#words[@]} - 1))
}

_lcrules() {
  local words cword cur prog out directive c piece
  local -a lines
  __lcrules_words
  cur=${words[cword]}
  prog=${words[0]}
  [[ $prog == "~/"* ]] && prog=$HOME/${prog#"~/"}
  out=$("$prog" __complete "${words[@]:1:cword-1}" "$cur" 2>/dev/null) || return 0
  mapfile -t lines <<<"$out"
  directive=${lines[${#lines[@]} - 1]#:}
  unset 'lines[${#lines[@]}-1]'
  # The word bash replaces is the last piece of cur.
  piece=${COMP_WORDS[COMP_CWORD]-}
  [[ $cur == *"$piece" ]] || piece=$cur
  COMPREPLY=()
  for c in "${lines[@]}"; do
    c=${c%%$'\t'*}
    c=${c#"${cur%"$piece"}"}
    if [[ $piece == [\"\']* ]]; then
      COMPREPLY+=("${piece:0:1}$c${piece:0:1}")
    else
      COMPREPLY+=("$(printf '%q' "$c")")
    fi
  done
  if ((${#COMPREPLY[@]} == 0 && (directive & 4) == 0)); then
    compopt -o filenames 2>/dev/null
    if [[ $cur == --*=* ]]; then
      local value=${cur#*=}
      while IFS= read -r c; do COMPREPLY+=("${c:${#value}-${#piece}}"); done < <(compgen -f -- "$value")
      [[ $piece == "=" ]] && COMPREPLY=("${COMPREPLY[@]/#/=}")
    else
      mapfile -t COMPREPLY < <(compgen -f -- "$piece")
    fi
  fi
  return 0
}
complete -F _lcrules lcrules kubectl-lcrules
)BASH";

const char* const kZshScript = R"ZSH(#compdef lcrules kubectl-lcrules
# zsh completion for lcrules: `source <(lcrules completion zsh)` after compinit, or the file
# _lcrules in a folder of $fpath (/usr/share/zsh/vendor-completions). The candidates come
# from the binary itself (`lcrules __complete WORD... CURRENT`).
_lcrules() {
  local out directive line value description prog=${words[1]}
  local -a lines candidates
  [[ $prog == "~/"* ]] && prog=$HOME/${prog#"~/"}
  out=$("$prog" __complete "${(@)words[2,CURRENT-1]}" "${words[CURRENT]}" 2>/dev/null) || return 1
  lines=("${(@f)out}")
  directive=${lines[-1]#:}
  lines=("${(@)lines[1,-2]}")
  for line in "${lines[@]}"; do
    value=${line%%$'\t'*}
    description=""
    [[ $line == *$'\t'* ]] && description=${line#*$'\t'}
    candidates+=("${value//:/\\:}${description:+:$description}")
  done
  if (( ${#candidates} )); then
    _describe -t lcrules lcrules candidates
  elif (( (directive & 4) == 0 )); then
    _files
  fi
}
if [[ ${funcstack[1]} == _lcrules ]]; then
  _lcrules "$@"
else
  compdef _lcrules lcrules kubectl-lcrules
fi
)ZSH";

const char* const kFishScript =
    R"FISH(# fish completion for lcrules: `lcrules completion fish | source`, or the file lcrules.fish
# in /usr/share/fish/vendor_completions.d. The candidates come from the binary itself
# (`lcrules __complete WORD... CURRENT`).
function __lcrules_complete
    set -l tokens (commandline -opc)
    set -l current (commandline -ct)
    set -l prog $tokens[1]
    set -e tokens[1]
    set -l out ($prog __complete $tokens $current 2>/dev/null)
    or return
    set -l directive (string replace -r '^:' '' -- $out[-1])
    set -e out[-1]
    if test (count $out) -eq 0; and test (math "bitand($directive, 4)") -eq 0
        __fish_complete_path $current
        return
    end
    printf '%s\n' $out
end
complete -c lcrules -f -a '(__lcrules_complete)'
complete -c kubectl-lcrules -f -a '(__lcrules_complete)'
)FISH";

}  // namespace

bool takes_value(const CLI::Option* opt) { return opt->get_items_expected_max() > 0; }

const std::vector<std::string>& completion_shells() {
  static const std::vector<std::string> shells = {"bash", "zsh", "fish"};
  return shells;
}

std::string completion_script(const std::string& shell) {
  if (shell == "bash") return kBashScript;
  if (shell == "zsh") return kZshScript;
  return kFishScript;
}

std::string shell_unquote(const std::string& word) {
  std::string out;
  char quote = 0;
  for (std::size_t i = 0; i < word.size(); ++i) {
    const char c = word[i];
    if (quote == '\'') {
      if (c == '\'')
        quote = 0;
      else
        out += c;
    } else if (quote == '"') {
      if (c == '"') {
        quote = 0;
      } else if (c == '\\' && i + 1 < word.size() &&
                 std::string("$`\"\\").find(word[i + 1]) != std::string::npos) {
        out += word[++i];
      } else {
        out += c;
      }
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '\\' && i + 1 < word.size()) {
      out += word[++i];
    } else {
      out += c;
    }
  }
  if (starts_with(out, "~/") && starts_with(word, "~/")) {
    if (const char* home = std::getenv("HOME")) out = home + out.substr(1);
  }
  return out;
}

void complete(const CLI::App& app, const std::vector<std::string>& words, const RuleSetOptions& rules,
              std::ostream& out) {
  Completer(app, rules, out).run(words);
}

}  // namespace lcrules::cli
