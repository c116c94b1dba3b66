// The start-up baseline of docs/performance.md: an iostream "hello", built with `g++ -O2`
// and default (dynamic) linking.
#include <iostream>

int main() {
  std::cout << "hello\n";
  return 0;
}
