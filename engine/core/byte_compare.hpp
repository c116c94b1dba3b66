// Byte comparisons of facts against the short operands rules use ("kind-", "@kind",
// "minikube"). Header-only and always inlined: predicates, template rendering and the
// decision facts all compare this way on the hot path, and a byte loop beats a call into
// libc's memcmp for operands this short.
#pragma once

#include <cstddef>
#include <cstring>
#include <string_view>

namespace lcrules::bytes {

[[gnu::always_inline]] inline bool same(const char* a, const char* b, std::size_t n) {
  if (n > 32) return std::memcmp(a, b, n) == 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}
inline bool equal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && same(a.data(), b.data(), a.size());
}
inline bool starts_with(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && same(s.data(), p.data(), p.size());
}
inline bool ends_with(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && same(s.data() + (s.size() - p.size()), p.data(), p.size());
}

}  // namespace lcrules::bytes
