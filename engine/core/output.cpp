#include "engine/core/output.hpp"

namespace lcrules {
namespace {

std::string pipeline_text(const std::vector<Argv>& pipeline) {
  std::string out;
  for (const auto& argv : pipeline) {
    if (!out.empty()) out += " | ";
    Argv shown = argv;
    for (auto& a : shown) {
      if (a == "{IMAGE}") a = "IMAGE";
    }
    out += describe_argv(shown);
  }
  return out;
}

}  // namespace

std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f) {
      static const char* hex = "0123456789abcdef";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += ch;
    }
  }
  return out;
}

namespace {

// Command output for the text explanation: trailing newlines dropped, later lines indented
// under the first.
std::string indented(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  std::string out;
  for (char c : text) {
    out += c;
    if (c == '\n') out += "              ";
  }
  return out;
}

const char* outcome_name(Explanation::RuleTrace::Outcome o) {
  switch (o) {
    case Explanation::RuleTrace::Outcome::Matched:
      return "matched";
    case Explanation::RuleTrace::Outcome::NotMatched:
      return "not-matched";
    case Explanation::RuleTrace::Outcome::Skipped:
      return "skipped";
  }
  return "";
}

std::string fields_text(const std::vector<Field>& fields) {
  std::string out;
  for (auto f : fields) out += (out.empty() ? "" : ", ") + std::string(field_name(f));
  return out;
}

std::string last_changed(const CompiledRule& r) {
  return r.changed_by.empty() ? location_text(r.loc) : location_text(r.changed_by.back());
}

std::string rule_ref(const CompiledRule* r) {
  if (!r) return "default (no rule decided it)";
  std::string out = "rule " + r->name + " (" + location_text(r->loc);
  if (!r->changed_by.empty()) out += ", changed at " + location_text(r->changed_by.back());
  return out + ")";
}

}  // namespace

std::string location_text(const ast::Location& loc) {
  return loc.file.str() + ":" + std::to_string(loc.line);
}

std::string summary_line(const Decision& d) {
  std::string out = d.context + ": " + d.cluster + ", " + (d.local ? "local" : "remote");
  if (d.cluster_name) out += ", cluster " + *d.cluster_name;
  out += ": ";
  if (d.load_images && d.load_command) {
    out += "load images with `" + pipeline_text(*d.load_command) + "`";
  } else if (d.load_images) {
    out += "load images into the cluster";
  } else if (d.push_images) {
    out += "push images to " + (d.registry ? *d.registry : std::string("a registry"));
  } else if (d.local) {
    out += "no load and no push: the cluster uses the images built for it locally";
  } else {
    out += "no load and no push";
  }
  return out;
}

std::string render_text(const Decision& d, const Explanation* ex, TextStyle style) {
  std::string out = summary_line(d) + "\n";
  for (const auto& n : d.notes) out += "note: " + n + "\n";
  if (!ex) return printable(out);
  // Kubeconfig values and command output reach a terminal: everything but the markers goes
  // through printable(), so no escape sequence gets through but the markers' own colour.
  std::string done;
  auto mark = [&](std::string_view marker, Tone tone) {
    done += printable(out) + paint(marker, tone, style);
    out.clear();
  };
  out += "\nWhy:\n";
  for (const auto& f : ex->fields) {
    std::string line = "  " + std::string(field_name(f.field)) + " = " + f.value;
    if (line.size() < 34) line.resize(34, ' ');
    out += line + "  by " + rule_ref(f.rule) + "\n";
    if (f.replaced_rule || !f.replaced_value.empty()) {
      out +=
          "      (stage policy replaced " + f.replaced_value + " from " + rule_ref(f.replaced_rule) + ")\n";
    }
  }
  out += "\nRules, in evaluation order:\n";
  for (const auto& t : ex->rules) {
    const CompiledRule& r = *t.rule;
    out += "  ";
    if (t.outcome == Explanation::RuleTrace::Outcome::Skipped) {
      out += "[skipped]";
    } else {
      const bool matched = t.outcome == Explanation::RuleTrace::Outcome::Matched;
      mark(matched ? "[matched]" : "[not-matched]", matched ? Tone::Good : Tone::Bad);
    }
    out += " " + r.name + " (priority " + std::to_string(r.priority) +
           (r.stage == ast::Stage::Policy ? ", stage policy" : "") + ", " + last_changed(r) + ")\n";
    if (t.outcome == Explanation::RuleTrace::Outcome::Skipped) {
      out += "      not evaluated: every field it sets (" + fields_text(t.lost) + ") was already decided\n";
      continue;
    }
    for (const auto& r : t.reads) {
      out += "      reads decision." + std::string(field_name(r.field)) + " = " + r.value +
             (r.rule ? " (set by " + r.rule->name + ")" : std::string(" (the default: no rule set it)")) +
             "\n";
    }
    for (const auto& c : t.checks) {
      out += "      ";
      mark(c.held ? "held:" : "failed:", c.held ? Tone::Good : Tone::Bad);
      out += " " + c.text + "\n";
    }
    if (!t.decided.empty()) out += "      decided: " + fields_text(t.decided) + "\n";
    for (const auto& r : t.replaced) {
      out += "      replaced " + std::string(field_name(r.field)) + " set by " + r.rule->name +
             " (lower priority, evaluated before it)\n";
    }
    if (!t.lost.empty()) out += "      lost to higher-priority rules: " + fields_text(t.lost) + "\n";
    for (const auto& u : t.unset_values) out += "      not set: " + u + "\n";
    for (const auto& n : t.notes) out += "      note: " + n + "\n";
  }
  if (ex->rules_not_reached) {
    out += "  (" + std::to_string(ex->rules_not_reached) + " more rule" +
           (ex->rules_not_reached == 1 ? "" : "s") + " not evaluated: every field was decided)\n";
  }
  if (!ex->commands.empty()) {
    out += "\nCommands run:\n";
    for (const auto& c : ex->commands) {
      out += "  `" + describe_argv(c.argv) + "`: " + c.status;
      if (c.from_cache) {
        out += " (cached result, " + std::to_string(c.cache_age.count()) + "s old)";
      } else if (c.duration.count() > 0) {  // zero: it never started
        out += " in " + std::to_string(c.duration.count() / 1000) + " ms";
      }
      out += "\n";
      if (!c.output_head.empty()) out += "      output: " + indented(c.output_head) + "\n";
      if (!c.error_head.empty()) out += "      stderr: " + indented(c.error_head) + "\n";
    }
  }
  if (!ex->problems.empty()) {
    out += "\nFacts not available:\n";
    for (const auto& p : ex->problems) out += "  " + p.fact + ": " + p.reason + "\n";
  }
  return done + printable(out);
}

nlohmann::ordered_json explanation_json(const Explanation& ex) {
  using json = nlohmann::ordered_json;
  auto rule_json = [](const CompiledRule* r) -> json {
    if (!r) return nullptr;
    json changed = json::array();
    for (const auto& c : r->changed_by) changed.push_back(location_text(c));
    return {{"name", r->name}, {"file", r->loc.file}, {"line", r->loc.line}, {"changed_by", changed}};
  };
  auto field_list = [](const std::vector<Field>& fields) {
    json arr = json::array();
    for (auto f : fields) arr.push_back(field_name(f));
    return arr;
  };
  json fields = json::array();
  for (const auto& f : ex.fields) {
    // Field values are kept as JSON text; give programs the values themselves.
    auto value = [](const std::string& text) { return json::parse(text, nullptr, false); };
    json item = {{"field", field_name(f.field)}, {"value", value(f.value)}, {"rule", rule_json(f.rule)}};
    if (f.replaced_rule || !f.replaced_value.empty()) {
      item["replaced"] = {{"value", value(f.replaced_value)}, {"rule", rule_json(f.replaced_rule)}};
    }
    fields.push_back(std::move(item));
  }
  json rules = json::array();
  for (const auto& t : ex.rules) {
    json checks = json::array();
    for (const auto& c : t.checks) {
      checks.push_back({{"text", c.text}, {"held", c.held}, {"at", location_text(c.loc)}});
    }
    json item = rule_json(t.rule);
    item["priority"] = t.rule->priority;
    item["stage"] = t.rule->stage == ast::Stage::Policy ? "policy" : "identify";
    item["outcome"] = outcome_name(t.outcome);
    item["checks"] = std::move(checks);
    item["decided"] = field_list(t.decided);
    item["lost"] = field_list(t.lost);
    item["unset"] = t.unset_values;
    item["notes"] = t.notes;
    if (!t.reads.empty()) {
      json reads = json::array();
      for (const auto& r : t.reads) {
        reads.push_back({{"field", field_name(r.field)},
                         {"value", json::parse(r.value, nullptr, false)},
                         {"set_by", r.rule ? json(r.rule->name) : json(nullptr)}});
      }
      item["reads"] = std::move(reads);
    }
    if (!t.replaced.empty()) {
      json replaced = json::array();
      for (const auto& r : t.replaced)
        replaced.push_back({{"field", field_name(r.field)}, {"rule", r.rule->name}});
      item["replaced"] = std::move(replaced);
    }
    rules.push_back(std::move(item));
  }
  json commands = json::array();
  for (const auto& c : ex.commands) {
    commands.push_back({{"argv", c.argv},
                        {"status", c.status},
                        {"duration_ms", c.duration.count() / 1000.0},
                        {"output", c.output_head},
                        {"stderr", c.error_head},
                        {"cached", c.from_cache},
                        {"cache_age_seconds", c.cache_age.count()}});
  }
  json problems = json::array();
  for (const auto& p : ex.problems) problems.push_back({{"fact", p.fact}, {"reason", p.reason}});
  return {{"fields", fields},
          {"rules", rules},
          {"rules_not_reached", ex.rules_not_reached},
          {"commands", commands},
          {"problems", problems}};
}

nlohmann::ordered_json decision_json(const Decision& d, const Explanation* ex) {
  using json = nlohmann::ordered_json;
  auto nullable = [](const std::optional<std::string>& s) -> json { return s ? json(*s) : json(nullptr); };
  json out = {{"context", d.context},
              {"cluster", d.cluster},
              {"local", d.local},
              {"cluster_name", nullable(d.cluster_name)},
              {"kubeconfig_cluster", nullable(d.kubeconfig_cluster)},
              {"load_images", d.load_images},
              {"push_images", d.push_images},
              {"load_command", d.load_command ? json(*d.load_command) : json(nullptr)},
              {"registry", nullable(d.registry)},
              {"notes", d.notes}};
  if (ex) out["explain"] = explanation_json(*ex);
  return out;
}

}  // namespace lcrules
