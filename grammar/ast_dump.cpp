#include "grammar/ast_dump.hpp"

#include <cstdio>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace lcrules::ast {
namespace {

class Dumper {
 public:
  std::string out;

  void file(const File& f) {
    out += "version ";
    out += f.version ? std::to_string(*f.version) : "-";
    out += '\n';
    for (const auto& item : f.items) {
      std::visit([&](const auto& i) { this->item(i); }, item);
      out += '\n';
    }
  }

 private:
  void str(const std::string& s) {
    out += '"';
    for (char c : s) {
      const auto u = static_cast<unsigned char>(c);
      if (c == '"' || c == '\\') {
        out += '\\';
        out += c;
      } else if (u < 0x20 || u >= 0x7f) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\x%02x", u);
        out += buf;
      } else {
        out += c;
      }
    }
    out += '"';
  }
  void num(double d) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g", d);
    out += buf;
  }
  template <typename T>
  void opt(const char* name, const std::optional<T>& v) {
    out += ' ';
    out += name;
    out += '=';
    if (!v) {
      out += '-';
    } else if constexpr (std::is_same_v<T, std::string>) {
      str(*v);
    } else if constexpr (std::is_same_v<T, Stage>) {
      out += *v == Stage::Policy ? "policy" : "identify";
    } else {
      num(static_cast<double>(*v));
    }
  }

  void templ(const Template& t) {
    out += "t(";
    for (const auto& p : t.parts) {
      if (const auto* s = std::get_if<std::string>(&p)) {
        str(*s);
      } else {
        const auto& r = std::get<Reference>(p);
        out += "${" + r.name + " " + std::to_string(static_cast<int>(r.modifier));
        if (r.argument) templ(*r.argument);
        out += '}';
      }
      out += ' ';
    }
    out += ')';
  }
  void templs(const std::vector<Template>& v) {
    out += '[';
    for (const auto& t : v) templ(t);
    out += ']';
  }

  void test(const StringTest& t) {
    out += " op" + std::to_string(static_cast<int>(t.op)) + " ";
    std::visit(
        [&](const auto& o) {
          using O = std::decay_t<decltype(o)>;
          if constexpr (std::is_same_v<O, Template>) {
            templ(o);
          } else if constexpr (std::is_same_v<O, RegexLiteral>) {
            out += "re(";
            str(o.pattern);
            out += o.ignore_case ? " i)" : ")";
          } else if constexpr (std::is_same_v<O, ListRef>) {
            out += "list " + o.name;
          } else {
            templs(o.items);
          }
        },
        t.operand);
  }

  void cond(const Condition& c) {
    out += '(';
    std::visit(
        [&](const auto& n) {
          using N = std::decay_t<decltype(n)>;
          if constexpr (std::is_same_v<N, Conjunction> || std::is_same_v<N, Disjunction>) {
            out += std::is_same_v<N, Conjunction> ? "and" : "or";
            for (const auto& o : n.operands) cond(o);
          } else if constexpr (std::is_same_v<N, Negation>) {
            out += "not";
            for (const auto& o : n.operand) cond(o);
          } else if constexpr (std::is_same_v<N, FactPredicate>) {
            out += "fact " + n.fact;
            if (n.subject) templ(*n.subject);
            test(n.test);
          } else if constexpr (std::is_same_v<N, IsSetPredicate>) {
            out += "isset " + n.fact + (n.negated ? " not" : "");
          } else if constexpr (std::is_same_v<N, ExistsPredicate>) {
            out += "exists ";
            templ(n.path);
          } else if constexpr (std::is_same_v<N, MacroCall>) {
            out += "macro " + n.name;
          } else {
            const CommandPredicate& p = *n;
            out += "run ";
            templs(p.argv);
            opt("timeout", p.timeout_seconds);
            opt("cache", p.cache_seconds);
            for (const auto& e : p.cache_env) out += " env " + e;
            out += " test" + std::to_string(static_cast<int>(p.test.kind)) + " " +
                   std::to_string(p.test.exit_status) + " ";
            str(p.test.doc_path);
            if (p.test.projection) templ(*p.test.projection);
            if (p.test.test) test(*p.test.test);
          }
        },
        c.node);
    out += ')';
  }

  void sets(const char* what, const std::vector<FieldSet>& v) {
    for (const auto& s : v) {
      out += std::string(" ") + what + " " + s.field + "=";
      std::visit(
          [&](const auto& x) {
            using X = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<X, bool>) {
              out += x ? "true" : "false";
            } else if constexpr (std::is_same_v<X, Null>) {
              out += "null";
            } else if constexpr (std::is_same_v<X, Template>) {
              templ(x);
            } else {
              for (const auto& argv : x) templs(argv);
            }
          },
          s.value);
    }
  }
  void notes(const std::vector<Note>& v) {
    for (const auto& n : v) {
      out += " note ";
      templ(n.text);
    }
  }

  void item(const Rule& r) {
    out += "rule " + r.name;
    opt("priority", r.priority);
    opt("stage", r.stage);
    opt("description", r.description);
    opt("timeout", r.timeout_seconds);
    if (r.when) cond(*r.when);
    sets("set", r.sets);
    notes(r.notes);
    if (r.decide) {
      out += " decide " + r.decide->name;
      templs(r.decide->args);
    }
    sets("leave", r.leaves);
  }
  void item(const Decision& d) {
    out += "decision " + d.name + " (";
    for (const auto& p : d.params) out += p + " ";
    out += ')';
    sets("set", d.sets);
    notes(d.notes);
  }
  void item(const Override& o) {
    out += "override " + o.name;
    opt("priority", o.priority);
    opt("stage", o.stage);
    opt("description", o.description);
    opt("timeout", o.timeout_seconds);
    if (o.replace_when) cond(*o.replace_when);
    for (const auto& c : o.append_when) cond(c);
    sets("set", o.sets);
    sets("unset", o.unsets);
    notes(o.notes);
  }
  void item(const Disable& d) { out += "disable " + d.name; }
  void item(const Macro& m) {
    out += "macro " + m.name;
    cond(m.condition);
  }
  void item(const List& l) {
    out += "list " + l.name;
    templs(l.items);
  }
  // An item this dump does not know yet compiles, and dumps as nothing more than its kind.
  template <typename T>
  void item(const T& /*unused*/) {
    out += "item";
  }
};

}  // namespace

std::string dump(const File& file) {
  Dumper d;
  d.file(file);
  return std::move(d.out);
}

}  // namespace lcrules::ast
