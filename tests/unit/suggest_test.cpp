// The "did you mean" facility (grammar/suggest.hpp): distances, threshold, ties.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "grammar/suggest.hpp"

namespace {

using lcrules::closest_name;
using lcrules::edit_distance;

TEST_CASE("edit distance counts insertions, deletions, substitutions and swaps", "[suggest]") {
  CHECK(edit_distance("", "") == 0);
  CHECK(edit_distance("abc", "") == 3);
  CHECK(edit_distance("", "abc") == 3);
  CHECK(edit_distance("priority", "priority") == 0);
  CHECK(edit_distance("priorty", "priority") == 1);           // a deletion
  CHECK(edit_distance("prioritty", "priority") == 1);         // an insertion
  CHECK(edit_distance("priorita", "priority") == 1);          // a substitution
  CHECK(edit_distance("context.nmae", "context.name") == 1);  // a swap of neighbours
  CHECK(edit_distance("ab", "ba") == 1);
  CHECK(edit_distance("ca", "abc") == 3);  // optimal string alignment: no edit of a swapped pair
  CHECK(edit_distance("kitten", "sitting") == 3);
  CHECK(edit_distance("Name", "name") == 1);  // case counts here
}

TEST_CASE("the threshold grows with the length of the word", "[suggest]") {
  CHECK(lcrules::suggestion_threshold(0) == 1);
  CHECK(lcrules::suggestion_threshold(2) == 1);
  CHECK(lcrules::suggestion_threshold(5) == 1);
  CHECK(lcrules::suggestion_threshold(6) == 2);
  CHECK(lcrules::suggestion_threshold(12) == 4);
}

TEST_CASE("closest_name suggests the nearest candidate within the threshold", "[suggest]") {
  const std::vector<std::string> props = {"priority", "stage", "description", "timeout",
                                          "when",     "set",   "note"};
  CHECK(closest_name("priorty", props) == "priority");
  CHECK(closest_name("stag", props) == "stage");
  CHECK(closest_name("descripton", props) == "description");
  CHECK(closest_name("nots", props) == "note");
  CHECK(closest_name("Priority", props) == "priority");  // case alone never hides a name
  CHECK_FALSE(closest_name("colour", props));            // nothing near
  CHECK_FALSE(closest_name("x", props));                 // one letter is no evidence
  CHECK_FALSE(closest_name("set", props));               // the word itself is no suggestion
  CHECK_FALSE(closest_name("anything", std::vector<std::string>{}));
}

TEST_CASE("closest_name: short words allow one edit, long ones a third of their length", "[suggest]") {
  const std::vector<std::string> names = {"eval", "check", "rules", "facts", "test", "serve"};
  CHECK(closest_name("evl", names) == "eval");
  CHECK(closest_name("chekc", names) == "check");
  CHECK_FALSE(closest_name("ev", names));  // two edits from eval: too far for two letters
  CHECK(closest_name("load_image", std::vector<std::string>{"load_images", "push_images"}) == "load_images");
  CHECK_FALSE(closest_name("colour", std::vector<std::string>{"cluster", "local", "registry"}));
}

TEST_CASE("closest_name breaks ties by distance with case, then by name, not by order", "[suggest]") {
  // One substitution from both: the name that sorts first.
  CHECK(closest_name("bat", std::vector<std::string>{"cat", "bar"}) == "bar");
  CHECK(closest_name("bat", std::vector<std::string>{"bar", "cat"}) == "bar");
  // Equal ignoring case: the candidate that also matches the case wins.
  CHECK(closest_name("Nme", std::vector<std::string>{"name", "Name"}) == "Name");
  CHECK(closest_name("Nme", std::vector<std::string>{"Name", "name"}) == "Name");
}

TEST_CASE("did_you_mean phrases a suggestion for a message", "[suggest]") {
  CHECK(lcrules::did_you_mean(std::string("priority")) == " (did you mean 'priority'?)");
  CHECK(lcrules::did_you_mean(std::nullopt).empty());
}

}  // namespace
