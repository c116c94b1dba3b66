#include "engine/cli/diff.hpp"

#include <algorithm>
#include <cstddef>
#include <vector>

namespace lcrules::cli {
namespace {

constexpr std::size_t kContext = 3;
// Beyond this many differing lines the middle of the texts is shown as one replacement
// rather than searched for a shortest edit (which costs memory quadratic in the count).
constexpr std::size_t kMaxEditDistance = 2000;

struct Line {
  std::string_view text;  // without its newline
  bool newline;           // false for a last line without one
};

std::vector<Line> split_lines(std::string_view s) {
  std::vector<Line> out;
  std::size_t i = 0;
  while (i < s.size()) {
    const std::size_t nl = s.find('\n', i);
    if (nl == std::string_view::npos) {
      out.push_back({s.substr(i), false});
      break;
    }
    out.push_back({s.substr(i, nl - i), true});
    i = nl + 1;
  }
  return out;
}

bool same(const Line& x, const Line& y) { return x.text == y.text && x.newline == y.newline; }

enum class Op : char { Keep = ' ', Remove = '-', Add = '+' };
struct Edit {
  Op op;
  std::size_t a;  // index in the old lines (Keep, Remove)
  std::size_t b;  // index in the new lines (Keep, Add)
};

// Myers' shortest edit script between a[a0, a1) and b[b0, b1), appended to `out`.
void myers(const std::vector<Line>& a, std::size_t a0, std::size_t a1, const std::vector<Line>& b,
           std::size_t b0, std::size_t b1, std::vector<Edit>& out) {
  const auto n = static_cast<long>(a1 - a0);
  const auto m = static_cast<long>(b1 - b0);
  const long max = std::min<long>(n + m, static_cast<long>(kMaxEditDistance));
  std::vector<long> v(static_cast<std::size_t>(2 * max + 3), 0);
  const long off = max + 1;
  std::vector<std::vector<long>> trace;
  long found = -1;
  for (long d = 0; d <= max && found < 0; ++d) {
    trace.emplace_back(v.begin() + (off - d - 1), v.begin() + (off + d + 2));
    for (long k = -d; k <= d; k += 2) {
      long x = (k == -d || (k != d && v[off + k - 1] < v[off + k + 1])) ? v[off + k + 1] : v[off + k - 1] + 1;
      long y = x - k;
      while (x < n && y < m && same(a[a0 + x], b[b0 + y])) ++x, ++y;
      v[off + k] = x;
      if (x >= n && y >= m) {
        found = d;
        break;
      }
    }
  }
  if (found < 0) {  // too different: remove everything, add everything
    for (long i = 0; i < n; ++i) out.push_back({Op::Remove, a0 + i, b0});
    for (long j = 0; j < m; ++j) out.push_back({Op::Add, a1, b0 + j});
    return;
  }
  std::vector<Edit> rev;
  long x = n;
  long y = m;
  for (long d = found; d > 0; --d) {
    const std::vector<long>& pv = trace[static_cast<std::size_t>(d)];  // v before step d: [-d-1, d+1]
    auto at = [&](long k) { return pv[static_cast<std::size_t>(k + d + 1)]; };
    const long k = x - y;
    const bool down = k == -d || (k != d && at(k - 1) < at(k + 1));
    const long pk = down ? k + 1 : k - 1;
    const long px = at(pk);
    const long py = px - pk;
    while (x > px + (down ? 0 : 1) && y > py + (down ? 1 : 0)) {
      --x, --y;
      rev.push_back({Op::Keep, a0 + x, b0 + y});
    }
    if (down) {
      --y;
      rev.push_back({Op::Add, a0 + x, b0 + y});
    } else {
      --x;
      rev.push_back({Op::Remove, a0 + x, b0 + y});
    }
  }
  while (x > 0 && y > 0) {
    --x, --y;
    rev.push_back({Op::Keep, a0 + x, b0 + y});
  }
  out.insert(out.end(), rev.rbegin(), rev.rend());
}

void put_line(std::string& out, char mark, const Line& l) {
  out += mark;
  out.append(l.text);
  out += '\n';
  if (!l.newline) out += "\\ No newline at end of file\n";
}

std::string range(std::size_t start, std::size_t count) {
  // A hunk with no lines on one side names the line before it.
  return std::to_string(count == 0 ? start : start + 1) + "," + std::to_string(count);
}

}  // namespace

std::string unified_diff(std::string_view old_text, std::string_view new_text, const std::string& old_name,
                         const std::string& new_name) {
  if (old_text == new_text) return "";
  const std::vector<Line> a = split_lines(old_text);
  const std::vector<Line> b = split_lines(new_text);
  std::size_t pre = 0;
  while (pre < a.size() && pre < b.size() && same(a[pre], b[pre])) ++pre;
  std::size_t suf = 0;
  while (suf < a.size() - pre && suf < b.size() - pre && same(a[a.size() - 1 - suf], b[b.size() - 1 - suf]))
    ++suf;
  std::vector<Edit> edits;
  for (std::size_t i = 0; i < pre; ++i) edits.push_back({Op::Keep, i, i});
  myers(a, pre, a.size() - suf, b, pre, b.size() - suf, edits);
  for (std::size_t i = 0; i < suf; ++i) edits.push_back({Op::Keep, a.size() - suf + i, b.size() - suf + i});

  std::string out = "--- " + old_name + "\n+++ " + new_name + "\n";
  std::size_t i = 0;
  while (i < edits.size()) {
    if (edits[i].op == Op::Keep) {
      ++i;
      continue;
    }
    // A hunk: from kContext lines before this change to kContext lines after the last
    // change that is at most 2 * kContext unchanged lines from the previous one.
    const std::size_t start = i >= kContext ? i - kContext : 0;
    std::size_t end = i;
    std::size_t keeps = 0;
    for (std::size_t j = i; j < edits.size(); ++j) {
      if (edits[j].op == Op::Keep) {
        if (++keeps > 2 * kContext) break;
      } else {
        keeps = 0;
        end = j;
      }
    }
    const std::size_t stop = std::min(edits.size(), end + 1 + kContext);
    std::size_t a_start = 0, a_count = 0, b_start = 0, b_count = 0;
    bool a_set = false, b_set = false;
    for (std::size_t j = start; j < stop; ++j) {
      const Edit& e = edits[j];
      if (e.op != Op::Add) {
        if (!a_set) a_start = e.a, a_set = true;
        ++a_count;
      }
      if (e.op != Op::Remove) {
        if (!b_set) b_start = e.b, b_set = true;
        ++b_count;
      }
    }
    if (!a_set) a_start = edits[start].a;
    if (!b_set) b_start = edits[start].b;
    out += "@@ -" + range(a_start, a_count) + " +" + range(b_start, b_count) + " @@\n";
    for (std::size_t j = start; j < stop; ++j) {
      const Edit& e = edits[j];
      if (e.op == Op::Add) {
        put_line(out, '+', b[e.b]);
      } else {
        put_line(out, static_cast<char>(e.op), a[e.a]);
      }
    }
    i = stop;
  }
  return out;
}

}  // namespace lcrules::cli
