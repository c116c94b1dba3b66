// Load client for `lcrules serve` on its Unix socket (tests/bench/serve_load.sh).
//
// Opens CONNECTIONS keep-alive connections and sends GET /v1/eval?context=NAME on each, one
// request at a time, rotating through the contexts given with --expect. Every response must
// be a 200 whose body is exactly one of the bodies expected for its context (several
// --expect for one context: any of them). Prints one line of counts, the rate and latency
// percentiles, and how often each expected body was seen; exits 1 if any request failed.
//
// usage: serve_load_client --socket PATH --expect CONTEXT FILE [--expect CONTEXT FILE ...]
//          [--connections N] [--threads N] (--requests N | --seconds S)
#include <utility>  // before Boost.Asio 1.74 in C++20 (std::exchange)

#include <boost/asio.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace net = boost::asio;
using unix_socket = net::local::stream_protocol;
using Clock = std::chrono::steady_clock;

namespace {

struct Target {
  std::string context;
  std::string request;                  // the whole HTTP request
  std::vector<std::string> bodies;      // acceptable bodies
  std::vector<std::string> body_files;  // where each came from, for the report
};

struct Totals {
  std::atomic<std::uint64_t> issued{0};
  std::atomic<std::uint64_t> ok{0};
  std::atomic<std::uint64_t> bad_status{0};
  std::atomic<std::uint64_t> bad_body{0};
  std::atomic<std::uint64_t> errors{0};  // connect, read, write, or the server closing
  std::atomic<bool> stop{false};
  std::uint64_t limit = 0;  // requests in all; 0: until stop
  std::mutex report_mutex;
  int reported_failures = 0;
};

struct PerThread {
  std::vector<std::uint32_t> latencies_ns;
  std::vector<std::vector<std::uint64_t>> seen;  // [target][body]
};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::cerr << path << ": cannot read\n";
    std::exit(2);
  }
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

bool iequals_prefix(const char* p, const char* end, const char* word) {
  const std::size_t n = std::strlen(word);
  if (static_cast<std::size_t>(end - p) < n) return false;
  for (std::size_t i = 0; i < n; ++i)
    if (std::tolower(static_cast<unsigned char>(p[i])) != word[i]) return false;
  return true;
}

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(net::io_context& ioc, const std::string& path, const std::vector<Target>& targets,
             std::size_t first, Totals& totals, PerThread& mine)
      : socket_(ioc), path_(path), targets_(targets), next_(first % targets.size()), totals_(totals),
        mine_(mine) {}

  void start() {
    boost::system::error_code ec;
    socket_.connect(unix_socket::endpoint(path_), ec);
    if (ec) return fail("connect: " + ec.message());
    send();
  }

 private:
  void send() {
    if (totals_.stop.load(std::memory_order_relaxed)) return close();
    if (totals_.limit && totals_.issued.fetch_add(1, std::memory_order_relaxed) >= totals_.limit) return close();
    if (!totals_.limit) totals_.issued.fetch_add(1, std::memory_order_relaxed);
    current_ = next_;
    next_ = (next_ + 1) % targets_.size();
    sent_at_ = Clock::now();
    net::async_write(socket_, net::buffer(targets_[current_].request),
                     [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                       if (ec) return self->fail("write: " + ec.message());
                       self->read();
                     });
  }

  void read() {
    socket_.async_read_some(net::buffer(chunk_), [self = shared_from_this()](boost::system::error_code ec,
                                                                             std::size_t n) {
      if (ec) return self->fail("read: " + ec.message());
      self->buffer_.append(self->chunk_.data(), n);
      self->parse();
    });
  }

  // One response at a time: headers, then Content-Length bytes of body.
  void parse() {
    const auto header_end = buffer_.find("\r\n\r\n");
    if (header_end == std::string::npos) return read();
    const char* p = buffer_.data();
    const char* end = p + header_end;
    if (header_end < 12 || std::memcmp(p, "HTTP/1.1 ", 9) != 0) return fail("not an HTTP/1.1 response");
    const int status = std::atoi(p + 9);
    long length = -1;
    bool closes = false;
    for (const char* line = static_cast<const char*>(std::memchr(p, '\n', end - p)); line && line < end;
         line = static_cast<const char*>(std::memchr(line + 1, '\n', end - line - 1))) {
      const char* h = line + 1;
      if (iequals_prefix(h, end, "content-length:")) length = std::atol(h + 15);
      if (iequals_prefix(h, end, "connection: close")) closes = true;
    }
    if (length < 0) return fail("no Content-Length");
    const std::size_t total = header_end + 4 + static_cast<std::size_t>(length);
    if (buffer_.size() < total) return read();
    const std::string_view body(buffer_.data() + header_end + 4, static_cast<std::size_t>(length));
    const auto took = Clock::now() - sent_at_;
    mine_.latencies_ns.push_back(static_cast<std::uint32_t>(
        std::min<std::int64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(took).count(), UINT32_MAX)));
    const Target& t = targets_[current_];
    if (status != 200) {
      totals_.bad_status.fetch_add(1, std::memory_order_relaxed);
      report("status " + std::to_string(status) + " for " + t.context + ": " + std::string(body));
    } else {
      std::size_t i = 0;
      while (i < t.bodies.size() && body != t.bodies[i]) ++i;
      if (i == t.bodies.size()) {
        totals_.bad_body.fetch_add(1, std::memory_order_relaxed);
        report("unexpected body for " + t.context + ":\n" + std::string(body));
      } else {
        totals_.ok.fetch_add(1, std::memory_order_relaxed);
        ++mine_.seen[current_][i];
      }
    }
    buffer_.erase(0, total);
    if (closes) return fail("the server closed the connection");
    send();
  }

  void report(const std::string& what) {
    std::lock_guard lock(totals_.report_mutex);
    if (totals_.reported_failures++ < 5) std::cerr << "serve_load_client: " << what << "\n";
  }

  void fail(const std::string& what) {
    totals_.errors.fetch_add(1, std::memory_order_relaxed);
    report(what);
    close();
  }

  void close() {
    boost::system::error_code ec;
    socket_.close(ec);
  }

  unix_socket::socket socket_;
  const std::string& path_;
  const std::vector<Target>& targets_;
  std::size_t next_, current_ = 0;
  Totals& totals_;
  PerThread& mine_;
  Clock::time_point sent_at_;
  std::array<char, 16384> chunk_{};
  std::string buffer_;
};

[[noreturn]] void usage() {
  std::cerr << "usage: serve_load_client --socket PATH --expect CONTEXT FILE [--expect ...] "
               "[--connections N] [--threads N] (--requests N | --seconds S)\n";
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  std::string path;
  std::size_t connections = 64, threads = 1;
  std::uint64_t requests = 0;
  double seconds = 0;
  std::vector<Target> targets;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage();
      return argv[++i];
    };
    if (a == "--socket") path = value();
    else if (a == "--connections") connections = std::stoul(value());
    else if (a == "--threads") threads = std::stoul(value());
    else if (a == "--requests") requests = std::stoull(value());
    else if (a == "--seconds") seconds = std::stod(value());
    else if (a == "--expect") {
      const std::string context = value(), file = value();
      auto it = std::find_if(targets.begin(), targets.end(), [&](const Target& t) { return t.context == context; });
      if (it == targets.end()) {
        targets.push_back({context, "GET /v1/eval?context=" + context + " HTTP/1.1\r\nHost: lcrules\r\n\r\n", {}, {}});
        it = targets.end() - 1;
      }
      it->bodies.push_back(read_file(file));
      it->body_files.push_back(file);
    } else usage();
  }
  if (path.empty() || targets.empty() || connections == 0 || threads == 0 || (!requests && seconds <= 0)) usage();

  Totals totals;
  totals.limit = requests;
  std::vector<std::unique_ptr<net::io_context>> iocs;
  std::vector<PerThread> per(threads);
  for (std::size_t t = 0; t < threads; ++t) {
    iocs.push_back(std::make_unique<net::io_context>(1));
    per[t].latencies_ns.reserve(requests ? requests / threads + 1024 : 1 << 20);
    per[t].seen.assign(targets.size(), std::vector<std::uint64_t>());
    for (std::size_t i = 0; i < targets.size(); ++i) per[t].seen[i].assign(targets[i].bodies.size(), 0);
  }
  const auto start = Clock::now();
  for (std::size_t c = 0; c < connections; ++c)
    std::make_shared<Connection>(*iocs[c % threads], path, targets, c, totals, per[c % threads])->start();
  std::vector<std::thread> pool;
  for (std::size_t t = 0; t < threads; ++t) pool.emplace_back([&, t] { iocs[t]->run(); });
  std::thread timer;
  if (seconds > 0)
    timer = std::thread([&] {
      while (Clock::now() - start < std::chrono::duration<double>(seconds) && !totals.stop) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        bool all_done = true;
        for (auto& ioc : iocs) all_done = all_done && ioc->stopped();
        if (all_done) break;
      }
      totals.stop = true;
    });
  for (auto& t : pool) t.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  totals.stop = true;
  if (timer.joinable()) timer.join();

  std::vector<std::uint32_t> all;
  for (auto& p : per) all.insert(all.end(), p.latencies_ns.begin(), p.latencies_ns.end());
  std::sort(all.begin(), all.end());
  auto pct = [&](double q) -> double {
    if (all.empty()) return 0;
    return all[std::min(all.size() - 1, static_cast<std::size_t>(q * (all.size() - 1) + 0.5))] / 1000.0;
  };
  const std::uint64_t answered = totals.ok + totals.bad_status + totals.bad_body;
  std::printf(
      "requests=%llu ok=%llu bad_status=%llu bad_body=%llu errors=%llu seconds=%.3f rate=%.0f "
      "p50_us=%.0f p90_us=%.0f p99_us=%.0f max_us=%.0f\n",
      static_cast<unsigned long long>(answered), static_cast<unsigned long long>(totals.ok.load()),
      static_cast<unsigned long long>(totals.bad_status.load()),
      static_cast<unsigned long long>(totals.bad_body.load()), static_cast<unsigned long long>(totals.errors.load()),
      elapsed, answered / elapsed, pct(0.50), pct(0.90), pct(0.99), all.empty() ? 0.0 : all.back() / 1000.0);
  for (std::size_t i = 0; i < targets.size(); ++i)
    for (std::size_t b = 0; b < targets[i].bodies.size(); ++b) {
      std::uint64_t n = 0;
      for (auto& p : per) n += p.seen[i][b];
      std::printf("seen %s %s %llu\n", targets[i].context.c_str(), targets[i].body_files[b].c_str(),
                  static_cast<unsigned long long>(n));
    }
  const bool failed = totals.bad_status || totals.bad_body || totals.errors || answered == 0 ||
                      (requests && answered != requests);
  return failed ? 1 : 0;
}
