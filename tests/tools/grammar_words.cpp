// Prints the words of the .rules grammar (grammar/keywords.hpp), one per line as
// "KIND WORD", sorted by word: what tests/editors/check_keywords.py compares the editor
// syntax files with.
#include <cstdio>

#include "grammar/keywords.hpp"

int main() {
  for (const auto& w : lcrules::grammar::grammar_words()) {
    std::printf("%s %s\n", lcrules::grammar::word_kind_name(w.kind), w.text.c_str());
  }
  return 0;
}
