// libFuzzer target: see entry_points.hpp (serve_request_one_input) and docs/hardening.md.
#include "tests/fuzz/entry_points.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  lcrules::fuzz::serve_request_one_input(data, size);
  return 0;
}
