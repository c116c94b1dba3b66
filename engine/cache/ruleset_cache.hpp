// The compiled rule set kept across runs. Reading, parsing and checking the ~90 shipped
// rules costs more than the rest of an `eval` together (docs/performance.md), and the
// files rarely change, so `eval`, `rules` and `facts` load the checked rule set from an
// entry under the cache folder when every rule file is unchanged.
//
// An entry holds its key, the encoded RuleSet and nothing else. The key names every input
// of the checked result: the entry format, the lcrules binary (its size and modification
// time, so a rebuilt binary never reads an older encoding), and for each rule file in load
// order its path, size, modification and change times, inode and device. Editing,
// replacing, adding or removing a rule file changes the key. An entry that is missing,
// unreadable, for another key or malformed in any way is ignored and rewritten.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/loader.hpp"
#include "engine/core/ruleset.hpp"

namespace lcrules::ruleset_cache {

// The key of the rule set built from `files`, or nullopt if a file cannot be stat'ed (the
// loader then reports it).
std::optional<std::string> key_of(const std::vector<RuleFileRef>& files);

// Where the entry for `files` lives under `dir`: named after the files' paths only, so
// that editing a rule file replaces its entry instead of adding one.
std::string entry_path(const std::string& dir, const std::vector<RuleFileRef>& files);

// The entry's bytes: the key, then the rule set; empty if the rule set nests too deeply
// to be cached. encode() is make_entry(key, encode_body(rules)); the fuzzer wraps its
// inputs with make_entry() to reach the body's decoder past the checksum.
std::string encode(const RuleSet& rules, std::string_view key);
std::string encode_body(const RuleSet& rules);
std::string make_entry(std::string_view key, std::string_view body);

// The rule set of an entry written by encode() for `key`; nullopt with `why` set when the
// bytes are anything else (another key, another format, truncated, corrupt).
std::optional<RuleSet> decode(std::string_view bytes, std::string_view key, std::string* why);

// Entries larger than this are neither written nor read.
inline constexpr std::size_t kMaxEntrySize = 64 * 1024 * 1024;

// The active rule set for `files`: from the entry under `dir` when it is current, else
// loaded (read, parsed, checked) and, when it has no errors, stored there. Failing to
// read or write the cache only costs a load.
LoadResult load_with_cache(const std::vector<RuleFileRef>& files, const std::string& dir);

}  // namespace lcrules::ruleset_cache
