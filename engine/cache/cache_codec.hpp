// The byte format of cache entries (engine/cache/cache_store.hpp): unsigned integers as LEB128
// varints, signed ones zigzagged, doubles as their native bytes (an entry never leaves
// the machine that wrote it), strings as a length and bytes. An entry is framed by a
// 16-byte magic, a format number, its key and a checksum of its body.
//
// Decoding checks every length against the bytes left and throws CodecError on anything
// malformed: any bytes give a value or a reason, never a crash or a read past the end.
#pragma once

#include <cstdint>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace lcrules::cache_codec {

struct CodecError {
  const char* what;
};

class ByteWriter {
 public:
  void u8(std::uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void u64(std::uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(static_cast<char>((v & 0x7f) | 0x80));
      v >>= 7;
    }
    out_.push_back(static_cast<char>(v));
  }
  void i64(std::int64_t v) {
    u64((static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63));
  }
  void f64(double v) { out_.append(reinterpret_cast<const char*>(&v), sizeof v); }
  void boolean(bool v) { u8(v ? 1 : 0); }
  void str(std::string_view s) {
    u64(s.size());
    out_.append(s);
  }
  void opt_str(const std::optional<std::string>& s) {
    boolean(s.has_value());
    if (s) str(*s);
  }
  void string_map(const std::map<std::string, std::string>& m) {
    u64(m.size());
    for (const auto& [k, v] : m) {
      str(k);
      str(v);
    }
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

class ByteReader {
 public:
  explicit ByteReader(std::string_view data) : p_(data.data()), end_(data.data() + data.size()) {}

  std::uint8_t u8() {
    need(1);
    return static_cast<std::uint8_t>(*p_++);
  }
  std::uint64_t u64() {
    std::uint64_t v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
      const std::uint8_t byte = u8();
      v |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
      if (!(byte & 0x80)) return v;
    }
    throw CodecError{"an integer is too long"};
  }
  std::int64_t i64() {
    const std::uint64_t v = u64();
    return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
  }
  double f64() {
    need(sizeof(double));
    double v;
    std::memcpy(&v, p_, sizeof v);
    p_ += sizeof v;
    return v;
  }
  bool boolean() {
    const std::uint8_t v = u8();
    if (v > 1) throw CodecError{"a flag is neither 0 nor 1"};
    return v == 1;
  }
  std::string str() {
    const std::uint64_t n = u64();
    need(n);
    std::string s(p_, static_cast<std::size_t>(n));
    p_ += n;
    return s;
  }
  std::optional<std::string> opt_str() {
    if (!boolean()) return std::nullopt;
    return str();
  }
  std::map<std::string, std::string> string_map() {
    std::map<std::string, std::string> m;
    for (std::size_t n = count(2); n > 0; --n) {
      std::string k = str();
      m.insert_or_assign(std::move(k), str());
    }
    return m;
  }
  // A count of items each taking at least `min_bytes`: never more than the bytes left allow.
  std::size_t count(std::size_t min_bytes) {
    const std::uint64_t n = u64();
    if (n > static_cast<std::uint64_t>(end_ - p_) / min_bytes) throw CodecError{"a count exceeds the entry"};
    return static_cast<std::size_t>(n);
  }
  std::string_view take(std::size_t n) {
    need(n);
    std::string_view s(p_, n);
    p_ += n;
    return s;
  }
  std::string_view rest() const { return {p_, static_cast<std::size_t>(end_ - p_)}; }
  bool at_end() const { return p_ == end_; }

 private:
  void need(std::uint64_t n) const {
    if (n > static_cast<std::uint64_t>(end_ - p_)) throw CodecError{"the entry is truncated"};
  }

  const char* p_;
  const char* end_;
};

// A 64-bit checksum, eight bytes at a time: an entry damaged in place (not only
// truncated) is refused rather than decoded into something else.
inline std::uint64_t checksum(std::string_view data) {
  std::uint64_t h = 0x9e3779b97f4a7c15ULL ^ data.size();
  std::size_t i = 0;
  for (; i + 8 <= data.size(); i += 8) {
    std::uint64_t w;
    std::memcpy(&w, data.data() + i, 8);
    h = (h ^ w) * 0xff51afd7ed558ccdULL;
    h ^= h >> 29;
  }
  for (; i < data.size(); ++i) h = (h ^ static_cast<unsigned char>(data[i])) * 0x100000001b3ULL;
  return h ^ (h >> 32);
}

// magic (16 bytes), format, key, checksum, body.
inline std::string frame(std::string_view magic, std::uint64_t format, std::string_view key,
                         std::string_view body) {
  ByteWriter header;
  std::string out(magic);
  header.u64(format);
  header.str(key);
  header.u64(checksum(body));
  out += header.take();
  out += body;
  return out;
}

// The body of a framed entry for `key` (any key when null); CodecError otherwise.
inline std::string_view unframe(std::string_view bytes, std::string_view magic, std::uint64_t format,
                                const std::string_view* key) {
  ByteReader in(bytes);
  if (in.take(magic.size()) != magic) throw CodecError{"not an entry of this kind"};
  if (in.u64() != format) throw CodecError{"another entry format"};
  const std::string stored_key = in.str();
  if (key && stored_key != *key) throw CodecError{"the files changed"};
  const std::uint64_t sum = in.u64();
  const std::string_view body = in.rest();
  if (checksum(body) != sum) throw CodecError{"the checksum does not match"};
  return body;
}

// "SIZE MTIME_NS CTIME_NS INODE DEVICE" of a file, or nullopt when it cannot be stat'ed: a
// file's part of a cache key.
std::optional<std::string> file_identity(const std::string& path);

// File systems keep modification times in ticks (1 s on some, 2 s on FAT, kernel ticks on
// others), so a file rewritten with the same size within one tick keeps its identity. As
// git does for its index ("racy" entries), a cache entry is not stored for a file modified
// less than kRacyWindowNs before now (or in the future): once a file's time is older than
// that, any later rewrite gets a later time, so an entry stored then is never stale.
inline constexpr std::int64_t kRacyWindowNs = 2'000'000'000;

// Whether `path` was modified within the last kRacyWindowNs (or its time is in the future;
// or it cannot be stat'ed): an entry that depends on it must not be stored.
bool recently_modified(const std::string& path);

// The running lcrules binary's size and modification time: entries of another build are
// never read.
std::string binary_identity();

}  // namespace lcrules::cache_codec
