#include "engine/cache/kubeconfig_cache.hpp"

#include <unistd.h>

#include <spdlog/spdlog.h>

#include "engine/cache/cache_codec.hpp"
#include "engine/cache/cache_store.hpp"

namespace lcrules::kubeconfig_cache {

namespace {

constexpr std::uint64_t kFormat = 1;
constexpr std::string_view kMagic{"lcrules-kubecfg\n", 16};
constexpr std::size_t kMaxEntrySize = 64 * 1024 * 1024;

std::string working_folder() {
  std::string buf(4096, '\0');
  if (::getcwd(buf.data(), buf.size()) == nullptr) return "?";
  buf.resize(buf.find('\0'));
  return buf;
}

}  // namespace

std::string key_of(const std::vector<std::string>& files, bool must_exist) {
  std::string key = "format " + std::to_string(kFormat) + "\nlcrules " + cache_codec::binary_identity() +
                    "\nmust-exist " + (must_exist ? "1" : "0") + "\n";
  bool relative = false;
  for (const auto& f : files) {
    if (f.empty()) continue;
    if (f.front() != '/') relative = true;
    key += cache_codec::file_identity(f).value_or("missing") + " " + f + "\n";
  }
  if (relative) key += "cwd " + working_folder() + "\n";
  return key;
}

std::string encode(const Kubeconfig& kc, std::string_view key) {
  cache_codec::ByteWriter body;
  kc.encode(body);
  return cache_codec::frame(kMagic, kFormat, key, body.take());
}

std::optional<Kubeconfig> decode(std::string_view bytes, const std::string_view* key, std::string* why) {
  try {
    cache_codec::ByteReader in(cache_codec::unframe(bytes, kMagic, kFormat, key));
    Kubeconfig kc = Kubeconfig::decode(in);
    if (!in.at_end()) throw cache_codec::CodecError{"bytes after the kubeconfig"};
    return kc;
  } catch (const cache_codec::CodecError& e) {
    if (why) *why = e.what;
  } catch (const std::bad_alloc&) {
    if (why) *why = "out of memory";
  }
  return std::nullopt;
}

Kubeconfig load(const std::vector<std::string>& files, bool must_exist, const std::string& dir,
                const std::string* known_key) {
  if (!cache_store::usable_dir(dir)) return Kubeconfig::load(files, must_exist);
  std::string names = must_exist ? "1\n" : "0\n";
  for (const auto& f : files) names += f + "\n";
  const std::string path = dir + "/kubeconfig-" + cache_store::hash_name(names) + ".bin";
  const std::string key = known_key ? *known_key : key_of(files, must_exist);
  if (auto bytes = cache_store::read_entry(path, kMaxEntrySize)) {
    std::string why;
    const std::string_view k(key);
    if (auto kc = decode(*bytes, &k, &why)) {
      spdlog::debug("kubeconfig from the cache: {}", path);
      return std::move(*kc);
    }
    spdlog::debug("kubeconfig cache entry {} not used: {}", path, why);
  }
  // Checked before reading: a file that is not recent now cannot be rewritten unseen later
  // (its next write gets a later time, hence another key).
  bool recent = false;
  for (const auto& f : files) {
    if (!f.empty() && cache_codec::file_identity(f) && cache_codec::recently_modified(f)) recent = true;
  }
  Kubeconfig kc = Kubeconfig::load(files, must_exist);  // a KubeconfigError is not cached
  if (recent) {
    spdlog::debug("kubeconfig not cached: a file was modified within the last {} s",
                  cache_codec::kRacyWindowNs / 1'000'000'000);
    return kc;
  }
  const std::string entry = encode(kc, key);
  if (entry.size() <= kMaxEntrySize && cache_store::write_entry(path, entry)) {
    spdlog::debug("kubeconfig cached in {}", path);
  }
  return kc;
}

}  // namespace lcrules::kubeconfig_cache
