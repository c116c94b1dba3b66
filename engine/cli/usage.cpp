#include "engine/cli/usage.hpp"

#include <iostream>
#include <optional>
#include <vector>

#include "lcrules/suggest.hpp"

namespace lcrules::cli {
namespace {

std::string quoted_list(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

std::string did_you_mean(const std::optional<std::string>& s) {
  return s ? " (did you mean '" + *s + "'?)" : std::string();
}

std::vector<std::string> subcommand_names(const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    if (!sub->get_group().empty()) names.push_back(sub->get_name());  // not the hidden ones
  }
  return names;
}

// The flags `app` takes ("--context", "-o", ...), and its parent's, which work after it.
std::vector<std::string> flag_names(const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::App* a = &app; a != nullptr; a = a->get_parent()) {
    for (const CLI::Option* opt : a->get_options()) {
      for (const auto& l : opt->get_lnames()) names.push_back("--" + l);
      for (const auto& s : opt->get_snames()) names.push_back("-" + s);
    }
  }
  return names;
}

// "lcrules eval" for a subcommand, "lcrules" for the app.
std::string command_name(const CLI::App& app) {
  return app.get_parent() == nullptr ? std::string("lcrules") : "lcrules " + app.get_name();
}

std::string with_hint(const CLI::App& app, const std::string& message) {
  return "lcrules: error: " + message + "\nRun '" + command_name(app) + " --help' for more information.\n";
}

// The subcommand being parsed when the error came, or the app.
const CLI::App& parsed_command(const CLI::App& app) {
  const auto selected = app.get_subcommands();
  return selected.empty() ? app : *selected.front();
}

// An argument nothing took: an unknown subcommand, an unknown flag, or one too many.
std::string extra_argument(const CLI::App& app) {
  const CLI::App& cmd = parsed_command(app);
  std::vector<std::string> extras = cmd.remaining();
  if (&cmd != &app) {
    for (auto& e : app.remaining()) extras.push_back(e);
  }
  if (extras.empty()) return with_hint(cmd, "unexpected arguments");
  // An unknown flag explains the arguments after it (its value): report it first.
  for (const auto& e : extras) {
    if (e.size() > 1 && e[0] == '-') {
      const std::string flag = e.substr(0, e.find('='));
      return with_hint(cmd, "unknown flag '" + flag + "' for '" + command_name(cmd) + "'" +
                                did_you_mean(suggest_name(flag, flag_names(cmd))));
    }
  }
  const std::string& word = extras.front();
  if (&cmd == &app) {
    const auto names = subcommand_names(app);
    return with_hint(app, "unknown subcommand '" + word + "'" + did_you_mean(suggest_name(word, names)) +
                              "; the subcommands are " + quoted_list(names));
  }
  return with_hint(cmd, "unexpected argument '" + word + "' for '" + command_name(cmd) + "'");
}

// CLI11's "--context: 1 required TEXT missing" and the like: the option's name.
std::string option_of(const std::string& what) { return what.substr(0, what.find(':')); }

}  // namespace

CLI::Validator one_of(std::initializer_list<const char*> values) {
  std::vector<std::string> names(values.begin(), values.end());
  return CLI::Validator(
      [names](std::string& value) -> std::string {
        for (const auto& n : names) {
          if (value == n) return {};
        }
        return "'" + value + "' is not one of " + quoted_list(names) +
               did_you_mean(suggest_name(value, names));
      },
      "{" +
          [&] {
            std::string s;
            for (const auto& n : names) s += (s.empty() ? "" : ",") + n;
            return s;
          }() +
          "}");
}

CLI::App* add_usage_support(CLI::App& app, std::string& help_topic) {
  for (CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) sub->fallthrough();
  CLI::App* help = app.add_subcommand("help", "Show the help of lcrules or of a subcommand");
  help->add_option("subcommand", help_topic, "The subcommand to show the help of");
  return help;
}

int run_help(CLI::App& app, const std::string& topic) {
  if (topic.empty()) {
    std::cout << app.get_formatter()->make_help(&app, app.get_name(), CLI::AppFormatMode::Normal);
    return 0;
  }
  for (CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    if (sub->get_name() == topic && topic != "help") {
      std::cout << sub->help(app.get_name());
      return 0;
    }
  }
  const auto names = subcommand_names(app);
  std::cerr << with_hint(app, "unknown subcommand '" + topic + "'" +
                                  did_you_mean(suggest_name(topic, names)) + "; the subcommands are " +
                                  quoted_list(names));
  return 2;
}

std::string usage_error(const CLI::App& app, const CLI::ParseError& e) {
  const std::string what = e.what();
  const CLI::App& cmd = parsed_command(app);
  // Before a subcommand, an unknown word leaves none selected: CLI11 says one is required.
  if (dynamic_cast<const CLI::ExtrasError*>(&e) != nullptr || (&cmd == &app && !app.remaining().empty())) {
    return extra_argument(app);
  }
  if (dynamic_cast<const CLI::RequiredError*>(&e) != nullptr && &cmd == &app) {
    return with_hint(app, "no subcommand given; the subcommands are " + quoted_list(subcommand_names(app)));
  }
  if (dynamic_cast<const CLI::ArgumentMismatch*>(&e) != nullptr) {
    return with_hint(cmd, option_of(what) + " needs a value");
  }
  return with_hint(cmd, what);
}

}  // namespace lcrules::cli
