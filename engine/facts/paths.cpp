#include "engine/facts/paths.hpp"

#include <vector>

namespace lcrules::paths {

std::string clean(std::string_view path) {
  if (path.empty()) return ".";
  const bool absolute = path.front() == '/';
  std::vector<std::string_view> parts;
  std::size_t i = 0;
  while (i <= path.size()) {
    std::size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    std::string_view part = path.substr(i, j - i);
    if (part.empty() || part == ".") {
      // skip
    } else if (part == "..") {
      if (!parts.empty() && parts.back() != "..") {
        parts.pop_back();
      } else if (!absolute) {
        parts.push_back(part);
      }
    } else {
      parts.push_back(part);
    }
    i = j + 1;
  }
  std::string out = absolute ? "/" : "";
  for (std::size_t k = 0; k < parts.size(); ++k) {
    if (k > 0) out += '/';
    out += parts[k];
  }
  if (out.empty()) out.push_back('.');  // not `out = "."`: g++ 12 -O2 warns falsely (-Wrestrict)
  return out;
}

// How many ".." components a cleaned relative path starts with ("../../a": 2); clean()
// leaves ".." only at the start of a path.
std::size_t leading_parents(const std::string& p) {
  std::size_t n = 0;
  for (std::size_t i = 0;
       i + 2 <= p.size() && p.compare(i, 2, "..") == 0 && (i + 2 == p.size() || p[i + 2] == '/'); i += 3) {
    ++n;
  }
  return n;
}

bool inside(std::string_view path, std::string_view base) {
  const std::string p = clean(path);
  const std::string b = clean(base);
  if ((p.front() == '/') != (b.front() == '/')) return false;
  if (b == "/") return true;
  // Relative paths: one that climbs more or fewer folders than the base is never inside it
  // ("..a" climbs none, "../../a" is not inside "..").
  if (p.front() != '/' && leading_parents(p) != leading_parents(b)) return false;
  if (b == ".") return true;
  if (p.size() < b.size() || p.compare(0, b.size(), b) != 0) return false;
  return p.size() == b.size() || p[b.size()] == '/';
}

std::string resolve_relative_to_file(const std::string& relative, const std::string& file) {
  if (relative.empty() || relative.front() == '/') return relative;
  const auto slash = file.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : file.substr(0, slash);
  return clean(dir + "/" + relative);
}

}  // namespace lcrules::paths
