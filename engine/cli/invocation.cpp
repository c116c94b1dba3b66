#include "engine/cli/invocation.hpp"

#include <iostream>
#include <sstream>

#include "engine/cli/app.hpp"
#include "engine/cli/completion.hpp"

namespace lcrules::cli {
namespace {

const std::string kPluginName = "kubectl-lcrules";
const std::string kPluginCompletionName = "kubectl_complete-lcrules";

std::string base_name(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

bool is_subcommand(const CLI::App& app, const std::string& word) {
  for (const CLI::App* sub : app.get_subcommands({}))
    if (!sub->get_name().empty() && sub->get_name() == word) return true;
  return false;
}

// The root's own option `word` (`-v`, `--color=auto`, `--color`), or nullptr.
const CLI::Option* root_option(const CLI::App& app, const std::string& word) {
  if (word.size() < 2 || word[0] != '-') return nullptr;
  const std::string name = word.substr(0, word.find('='));
  for (const CLI::Option* opt : app.get_options()) {
    for (const auto& l : opt->get_lnames())
      if (name == "--" + l) return opt;
    for (const auto& s : opt->get_snames())
      if (name == "-" + s) return opt;
  }
  return nullptr;
}

// `kubectl lcrules ARGS`: `eval` goes after the root's own flags unless a subcommand follows
// them. With `completing`, the last word is being typed: a word that is not a flag there
// may become a subcommand, so nothing is inserted before it.
void insert_eval(const CLI::App& app, std::vector<std::string>& words, std::size_t from, bool completing) {
  std::size_t i = from;
  while (i < words.size()) {
    const CLI::Option* opt = root_option(app, words[i]);
    if (!opt || (completing && i + 1 == words.size())) break;
    const bool separate_value = takes_value(opt) && words[i].find('=') == std::string::npos;
    i += separate_value ? 2 : 1;
  }
  if (i > words.size()) return;  // a root flag's value is being typed
  if (i < words.size() && is_subcommand(app, words[i])) return;
  if (completing && i + 1 == words.size() && (words[i].empty() || words[i][0] != '-')) return;
  words.insert(words.begin() + static_cast<std::ptrdiff_t>(i), "eval");
}

// `lcrules eval` and its flags as the synopsis and OPTIONS of a man page show them.
std::string value_text(const CLI::Option* opt) {
  std::string type = opt->get_type_name();
  const auto open = type.find('{');
  const auto close = type.find('}', open);
  if (open != std::string::npos && close != std::string::npos) {
    std::string values = type.substr(open + 1, close - open - 1);
    for (auto& c : values)
      if (c == ',') c = '|';
    return values;
  }
  return type.substr(0, type.find(':'));
}

std::string md_escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (std::string("\\`*_{}[]<>#+-.!|$").find(c) != std::string::npos) out += '\\';
    out += c;
  }
  return out;
}

bool is_flag_like(const CLI::Option* opt) { return !opt->get_lnames().empty() || !opt->get_snames().empty(); }

std::string names_markdown(const CLI::Option* opt) {
  std::string out;
  for (const auto& s : opt->get_snames())
    out += (out.empty() ? "" : ", ") + std::string("**") + md_escape("-" + s) + "**";
  for (const auto& l : opt->get_lnames())
    out += (out.empty() ? "" : ", ") + std::string("**") + md_escape("--" + l) + "**";
  if (takes_value(opt)) out += " *" + md_escape(value_text(opt)) + "*";
  return out;
}

std::string synopsis_item(const CLI::Option* opt) {
  if (!is_flag_like(opt)) {
    std::string item = "*" + md_escape(opt->get_name()) + "*";
    if (opt->get_expected_max() > 1) item += "\\.\\.\\.";
    return opt->get_required() ? item : "\\[" + item + "\\]";
  }
  std::string names;
  for (const auto& s : opt->get_snames())
    names += (names.empty() ? "" : "\\|") + std::string("**") + md_escape("-" + s) + "**";
  for (const auto& l : opt->get_lnames())
    names += (names.empty() ? "" : "\\|") + std::string("**") + md_escape("--" + l) + "**";
  if (takes_value(opt)) names += " *" + md_escape(value_text(opt)) + "*";
  std::string item = "\\[" + names + "\\]";
  if (opt->get_expected_max() > 1) item += "\\.\\.\\.";
  return item;
}

std::string options_markdown(const CLI::App& cmd) {
  std::string out;
  for (const CLI::Option* opt : cmd.get_options()) {
    if (opt->get_lnames().empty() && opt->get_snames().empty() && !opt->get_positional()) continue;
    out += (is_flag_like(opt) ? names_markdown(opt) : "*" + md_escape(opt->get_name()) + "*") + "\n";
    std::string description = opt->get_description();
    if (opt->get_expected_max() > 1 && is_flag_like(opt)) description += " (repeatable)";
    out += ":   " + md_escape(description) + "\n\n";
  }
  return out;
}

std::vector<const CLI::App*> visible_subcommands(const CLI::App& app) {
  std::vector<const CLI::App*> out;
  for (const CLI::App* sub : app.get_subcommands({}))
    if (!sub->get_name().empty() && !sub->get_group().empty()) out.push_back(sub);
  return out;
}

std::string page_header(const std::string& page, const std::string& description) {
  std::string title = page;
  for (auto& c : title) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return "---\ntitle: " + title + "\nsection: 1\nheader: lcrules manual\n---\n\n# NAME\n\n" +
         md_escape(page) + " \\- " + md_escape(description) + "\n\n";
}

}  // namespace

Invocation invocation(const CLI::App& app, int argc, char** argv) {
  Invocation inv;
  for (int i = 0; i < argc; ++i) inv.args.emplace_back(argv[i]);
  const std::string name = inv.args.empty() ? "lcrules" : base_name(inv.args[0]);
  inv.name = name == kPluginName ? "kubectl lcrules" : "lcrules";
  if (name == kPluginCompletionName) {
    // kubectl runs `kubectl_complete-lcrules ARGS... CURRENT` for `kubectl lcrules <TAB>`.
    inv.args.insert(inv.args.begin() + 1, "__complete");
    insert_eval(app, inv.args, 2, true);
  } else if (name == kPluginName) {
    if (inv.args.size() > 1 && inv.args[1] == "__complete")
      insert_eval(app, inv.args, 2, true);
    else
      insert_eval(app, inv.args, 1, false);
  }
  return inv;
}

std::optional<int> run_hidden_command(const CLI::App& app, const Invocation& inv,
                                      const RuleSetOptions& rules) {
  if (inv.args.size() < 2) return std::nullopt;
  if (inv.args[1] == "__complete") {
    std::vector<std::string> words(inv.args.begin() + 2, inv.args.end());
    if (words.empty()) words.emplace_back();
    complete(app, words, rules, std::cout);
    return answer_written(kExitOk);
  }
  if (inv.args[1] == "__man") {
    if (inv.args.size() == 2) {
      std::cout << man_page_names(app);
      return answer_written(kExitOk);
    }
    const auto page = man_page_markdown(app, inv.args[2]);
    if (!page) {
      std::cerr << "lcrules: error: __man: no page " << inv.args[2] << "\n";
      return kExitInput;
    }
    std::cout << *page;
    return answer_written(kExitOk);
  }
  return std::nullopt;
}

std::string man_page_names(const CLI::App& app) {
  std::string out = "lcrules\n";
  for (const CLI::App* sub : visible_subcommands(app)) out += "lcrules-" + sub->get_name() + "\n";
  return out;
}

std::optional<std::string> man_page_markdown(const CLI::App& app, const std::string& page) {
  std::ostringstream md;
  const auto subs = visible_subcommands(app);
  if (page == "lcrules") {
    std::string summary = app.get_description();  // "lcrules: is the cluster ...?"
    if (summary.rfind("lcrules: ", 0) == 0) summary = summary.substr(9);
    md << page_header(page, summary);
    md << "# SYNOPSIS\n\n**lcrules**";
    for (const CLI::Option* opt : app.get_options()) md << " " << synopsis_item(opt);
    md << " *SUBCOMMAND* \\[*ARGS*\\]\n\n";
    md << "**kubectl lcrules** \\[*ARGS*\\]\n\n";
    md << "# DESCRIPTION\n\n@DESCRIPTION@\n\n";
    md << "# OPTIONS\n\n" << options_markdown(app);
    md << "# SUBCOMMANDS\n\n";
    for (const CLI::App* sub : subs)
      md << "**" << md_escape(sub->get_name()) << "**\n:   " << md_escape(sub->get_description())
         << "; see **lcrules-" << md_escape(sub->get_name()) << "**(1)\n\n";
    md << "# SEE ALSO\n\n";
    std::string sep;
    for (const CLI::App* sub : subs) {
      md << sep << "**lcrules-" << md_escape(sub->get_name()) << "**(1)";
      sep = ", ";
    }
    md << sep << "**lcrules-rules**(5), **kubectl**(1)\n";
    return md.str();
  }
  for (const CLI::App* sub : subs) {
    if (page != "lcrules-" + sub->get_name()) continue;
    md << page_header(page, sub->get_description());
    md << "# SYNOPSIS\n\n**lcrules " << md_escape(sub->get_name()) << "**";
    for (const CLI::Option* opt : sub->get_options()) md << " " << synopsis_item(opt);
    md << "\n\n";
    md << "# DESCRIPTION\n\n" << md_escape(sub->get_description()) << ".\n\n@DESCRIPTION@\n\n";
    md << "# OPTIONS\n\n" << options_markdown(*sub);
    md << "# EXIT STATUS\n\nAs for every subcommand: see **lcrules**(1).\n\n";
    md << "# SEE ALSO\n\n**lcrules**(1), **lcrules-rules**(5)\n";
    return md.str();
  }
  return std::nullopt;
}

}  // namespace lcrules::cli
