#include "engine/serve/server.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <spdlog/spdlog.h>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>

#include "engine/serve/limits.hpp"
#include "engine/serve/request.hpp"
#include "engine/serve/service.hpp"
#include "engine/serve/watcher.hpp"

namespace lcrules::serve {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using unix_protocol = net::local::stream_protocol;
using tcp = net::ip::tcp;

// What every connection shares: the service, the token, counters, the watchers.
class WatchSessionBase;

struct Shared {
  Shared(Service& s, net::io_context& i) : service(s), ioc(i) {}
  Service& service;
  net::io_context& ioc;
  std::string token;  // empty: no token required (the Unix socket)
  std::atomic<std::size_t> connections{0};
  std::atomic<std::size_t> in_flight{0};
  std::atomic<bool> stopping{false};
  std::mutex watchers_mutex;
  std::vector<std::weak_ptr<WatchSessionBase>> watchers;

  void notify_watchers();
  void close_watchers();
};

// Constant-time comparison: the time taken does not tell how much of the token matched.
bool same_token(const std::string& given, const std::string& expected) {
  if (given.size() != expected.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < given.size(); ++i) diff |= static_cast<unsigned char>(given[i] ^ expected[i]);
  return diff == 0;
}

class WatchSessionBase {
 public:
  virtual ~WatchSessionBase() = default;
  virtual void refresh() = 0;
  virtual void close() = 0;
};

void Shared::notify_watchers() {
  std::lock_guard lock(watchers_mutex);
  std::erase_if(watchers, [](const auto& w) { return w.expired(); });
  for (const auto& w : watchers) {
    if (auto s = w.lock()) s->refresh();
  }
}

void Shared::close_watchers() {
  std::lock_guard lock(watchers_mutex);
  for (const auto& w : watchers) {
    if (auto s = w.lock()) s->close();
  }
  watchers.clear();
}

// One connection: reads requests, answers each through the Service, keeps the connection
// alive, or turns into a stream of server-sent events for /v1/watch.
template <typename Protocol>
class Session : public WatchSessionBase, public std::enable_shared_from_this<Session<Protocol>> {
 public:
  Session(typename Protocol::socket socket, Shared& shared, bool needs_token)
      : stream_(std::move(socket)), shared_(shared), needs_token_(needs_token) {
    ++shared_.connections;
  }
  ~Session() override { --shared_.connections; }

  void start() {
    net::dispatch(stream_.get_executor(), [self = this->shared_from_this()] { self->wait_for_request(); });
  }

  void refresh() override {
    net::post(stream_.get_executor(), [self = this->shared_from_this()] { self->send_if_changed(); });
  }

  void close() override {
    net::post(stream_.get_executor(), [self = this->shared_from_this()] {
      beast::error_code ec;
      self->stream_.socket().shutdown(Protocol::socket::shutdown_both, ec);
      self->stream_.close();
    });
  }

 private:
  // An idle keep-alive connection may wait kIdleTimeout for its next request; once it has
  // begun, the whole request must arrive within kHeaderTimeout.
  void wait_for_request() {
    if (shared_.stopping) return shutdown();
    if (buffer_.size() > 0) return read_request();
    stream_.expires_after(kIdleTimeout);
    stream_.async_read_some(buffer_.prepare(4096),
                            [self = this->shared_from_this()](beast::error_code ec, std::size_t n) {
                              if (ec) return self->shutdown();
                              self->buffer_.commit(n);
                              self->read_request();
                            });
  }

  void read_request() {
    parser_.emplace();
    parser_->header_limit(kMaxHeaderBytes);
    parser_->body_limit(kMaxBodyBytes);
    stream_.expires_after(kHeaderTimeout);
    http::async_read(
        stream_, buffer_, *parser_,
        [self = this->shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
        ec == net::error::operation_aborted || ec == net::error::connection_reset || ec == net::error::eof)
      return shutdown();
    if (ec) {
      HttpResponse r = ec == http::error::body_limit
                           ? error_response(413, "too_large", "the request body is larger than 64 KiB")
                       : ec == http::error::header_limit
                           ? error_response(431, "too_large", "the request headers are larger than 16 KiB")
                           : error_response(400, "bad_request", "malformed HTTP request: " + ec.message());
      shared_.service.metrics().count_request("other", r.status);
      return respond(r, false);
    }
    auto& req = parser_->get();
    HttpRequest request = take_request(req);
    const bool keep_alive = req.keep_alive() && !shared_.stopping;

    if (needs_token_) {
      const std::string auth(req[http::field::authorization]);
      if (auth.rfind("Bearer ", 0) != 0 || !same_token(auth.substr(7), shared_.token)) {
        HttpResponse r =
            error_response(401, "unauthorized", "a bearer token is required (Authorization: Bearer TOKEN)");
        shared_.service.metrics().count_request("other", 401);
        return respond(r, keep_alive, "Bearer");
      }
    }
    if (request.target == "/v1/watch" || request.target.rfind("/v1/watch?", 0) == 0)
      return start_watch(request);

    // In flight until the answer is written: a graceful stop waits for it.
    ++shared_.in_flight;
    HttpResponse r = shared_.service.handle(request);
    respond(r, keep_alive, nullptr, true);
  }

  void respond(const HttpResponse& r, bool keep_alive, const char* authenticate = nullptr,
               bool in_flight = false) {
    auto res = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(r.status), 11);
    res->set(http::field::server, "lcrules");
    res->set(http::field::content_type, r.content_type);
    if (!r.allow.empty()) res->set(http::field::allow, r.allow);
    if (authenticate) res->set(http::field::www_authenticate, authenticate);
    res->keep_alive(keep_alive);
    res->body() = r.body;
    res->prepare_payload();
    stream_.expires_after(kHeaderTimeout);
    http::async_write(
        stream_, *res,
        [self = this->shared_from_this(), res, keep_alive, in_flight](beast::error_code ec, std::size_t) {
          if (in_flight) --self->shared_.in_flight;
          if (ec || !keep_alive || self->shared_.stopping) return self->shutdown();
          self->wait_for_request();
        });
  }

  void shutdown() {
    beast::error_code ec;
    stream_.socket().shutdown(Protocol::socket::shutdown_send, ec);
    stream_.close();
  }

  // --- /v1/watch: server-sent events ---------------------------------------------------

  void start_watch(const HttpRequest& request) {
    auto parsed = shared_.service.parse_watch(request);
    if (auto* error = std::get_if<HttpResponse>(&parsed)) return respond(*error, false);
    watch_ = std::get<WatchRequest>(parsed);
    stream_.expires_never();
    queue_.push_back(
        "HTTP/1.1 200 OK\r\nServer: lcrules\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
        "Connection: keep-alive\r\n\r\n");
    {
      std::lock_guard lock(shared_.watchers_mutex);
      shared_.watchers.push_back(this->shared_from_this());
    }
    send_if_changed();
    // Read (and ignore) until the client goes away, to notice that it did.
    watch_read();
  }

  void watch_read() {
    stream_.async_read_some(buffer_.prepare(512),
                            [self = this->shared_from_this()](beast::error_code ec, std::size_t n) {
                              if (ec) {
                                self->watch_closed_ = true;
                                return self->shutdown();
                              }
                              self->buffer_.consume(n);
                              self->watch_read();
                            });
  }

  void send_if_changed() {
    if (!watch_ || watch_closed_) return;
    WatchEvent event = shared_.service.watch_event(*watch_);
    if (last_event_ && *last_event_ == event) return;
    if (queue_.size() >= kMaxQueuedEvents) {
      // A client that stopped reading must not make the server hold its events forever.
      spdlog::warn("closing a /v1/watch stream whose client reads nothing ({} events queued)", queue_.size());
      watch_closed_ = true;
      return shutdown();
    }
    queue_.push_back("event: " + event.event + "\ndata: " + event.data + "\n\n");
    last_event_ = std::move(event);
    if (!writing_) write_next();
  }

  void write_next() {
    if (queue_.empty()) {
      writing_ = false;
      return;
    }
    writing_ = true;
    net::async_write(stream_, net::buffer(queue_.front()),
                     [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                       if (ec) {
                         self->watch_closed_ = true;
                         return self->shutdown();
                       }
                       self->queue_.pop_front();
                       self->write_next();
                     });
  }

  beast::basic_stream<Protocol> stream_;  // on a strand: one handler at a time
  Shared& shared_;
  bool needs_token_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<WatchRequest> watch_;
  std::optional<WatchEvent> last_event_;
  std::deque<std::string> queue_;
  bool writing_ = false;
  bool watch_closed_ = false;
};

// Accepts connections on one socket and starts a Session for each, up to kMaxConnections.
template <typename Protocol>
class Listener : public std::enable_shared_from_this<Listener<Protocol>> {
 public:
  Listener(typename Protocol::acceptor acceptor, Shared& shared, bool needs_token)
      : acceptor_(std::move(acceptor)), shared_(shared), needs_token_(needs_token) {}

  void start() { accept(); }
  void stop() {
    net::post(acceptor_.get_executor(), [self = this->shared_from_this()] {
      beast::error_code ec;
      self->acceptor_.close(ec);
    });
  }

 private:
  void accept() {
    acceptor_.async_accept(net::make_strand(shared_.ioc), [self = this->shared_from_this()](
                                                              beast::error_code ec,
                                                              typename Protocol::socket socket) {
      if (ec == net::error::operation_aborted || !self->acceptor_.is_open()) return;
      if (!ec) {
        if (self->shared_.connections >= kMaxConnections) {
          spdlog::warn("connection refused: {} connections open", kMaxConnections);
          beast::error_code ignored;
          socket.close(ignored);
        } else {
          std::make_shared<Session<Protocol>>(std::move(socket), self->shared_, self->needs_token_)->start();
        }
      }
      self->accept();
    });
  }

  typename Protocol::acceptor acceptor_;
  Shared& shared_;
  bool needs_token_;
};

// --- Start-up -------------------------------------------------------------------------------

struct StartError {
  std::string message;
};

std::string default_socket_path(const Engine& engine) {
  const auto runtime = engine.environment().get("XDG_RUNTIME_DIR");
  if (runtime && !runtime->empty() && (*runtime)[0] == '/') return *runtime + "/lcrules/lcrules.sock";
  return engine.environment().cache_dir() + "/run/lcrules.sock";
}

// The folder of the default socket: created 0700, and refused unless it is the caller's
// own and private.
void prepare_socket_folder(const std::string& folder) {
  std::error_code ec;
  std::filesystem::create_directories(folder, ec);
  ::chmod(folder.c_str(), 0700);
  struct stat st {};
  if (::lstat(folder.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    throw StartError{folder + ": error: cannot create the socket's folder"};
  if (st.st_uid != ::getuid() || (st.st_mode & 077))
    throw StartError{folder + ": error: the socket's folder must be yours and private (mode 0700)"};
}

unix_protocol::acceptor open_unix_socket(net::io_context& ioc, const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode))
      throw StartError{path + ": error: exists and is not a socket; not replacing it"};
    // A server that answers there is running: refuse. A socket nothing answers on was left
    // by a server that crashed: replace it.
    unix_protocol::socket probe(ioc);
    beast::error_code ec;
    probe.connect(unix_protocol::endpoint(path), ec);
    if (!ec) throw StartError{path + ": error: another lcrules serve is answering on this socket"};
    spdlog::info("replacing the stale socket {}", path);
    ::unlink(path.c_str());
  }
  unix_protocol::acceptor acceptor(ioc);
  acceptor.open(unix_protocol());
  const mode_t old = ::umask(0177);  // the socket is created 0600
  beast::error_code ec;
  acceptor.bind(unix_protocol::endpoint(path), ec);
  ::umask(old);
  if (ec) throw StartError{path + ": error: cannot listen: " + ec.message()};
  acceptor.listen(net::socket_base::max_listen_connections);
  return acceptor;
}

tcp::acceptor open_tcp_socket(net::io_context& ioc, const std::string& listen) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos) throw StartError{"--listen: give ADDRESS:PORT, e.g. 127.0.0.1:8080"};
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  beast::error_code ec;
  const auto address = net::ip::make_address(host, ec);
  if (ec) throw StartError{"--listen: '" + host + "' is not an IP address"};
  if (!address.is_loopback())
    throw StartError{"--listen: " + host +
                     " is not a loopback address; lcrules serve listens on loopback only"};
  unsigned long port = 0;
  try {
    std::size_t used = 0;
    port = std::stoul(listen.substr(colon + 1), &used);
    if (used != listen.size() - colon - 1 || port > 65535) throw std::out_of_range("port");
  } catch (const std::exception&) {
    throw StartError{"--listen: '" + listen.substr(colon + 1) + "' is not a port"};
  }
  tcp::acceptor acceptor(ioc);
  const tcp::endpoint endpoint(address, static_cast<unsigned short>(port));
  acceptor.open(endpoint.protocol());
  acceptor.set_option(net::socket_base::reuse_address(true));
  acceptor.bind(endpoint, ec);
  if (ec) throw StartError{"--listen: cannot listen on " + listen + ": " + ec.message()};
  acceptor.listen(net::socket_base::max_listen_connections);
  return acceptor;
}

std::string read_token(const std::string& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0)
    throw StartError{file + ": error: cannot read the token file: " + std::strerror(errno)};
  if (st.st_mode & 077)
    throw StartError{
        file + ": error: the token file must not be readable or writable by group or others (chmod 600 " +
        file + ")"};
  std::ifstream in(file, std::ios::binary);
  std::string token((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' '))
    token.pop_back();
  if (token.empty()) throw StartError{file + ": error: the token file is empty"};
  return token;
}

// Sockets passed by systemd (sd_listen_fds(3)): LISTEN_PID is this process, LISTEN_FDS
// how many, from fd 3.
std::vector<int> systemd_sockets(const Engine& engine) {
  const auto pid = engine.environment().get("LISTEN_PID");
  const auto fds = engine.environment().get("LISTEN_FDS");
  if (!pid || !fds || *pid != std::to_string(::getpid())) return {};
  std::vector<int> out;
  const int n = std::atoi(fds->c_str());
  for (int i = 0; i < n && i < 16; ++i) out.push_back(3 + i);
  ::unsetenv("LISTEN_PID");
  ::unsetenv("LISTEN_FDS");
  ::unsetenv("LISTEN_FDNAMES");
  return out;
}

std::vector<WatchTarget> watch_targets(const Engine& engine, const RuleSetOptions& rules) {
  std::vector<WatchTarget> targets;
  for (const auto& p : engine.rule_paths(rules)) targets.push_back({p.path, kRulesChanged, p.folder});
  const auto& env = engine.environment();
  const auto kubeconfig = env.get("KUBECONFIG");
  if (kubeconfig && !kubeconfig->empty()) {
    std::size_t start = 0;
    while (start <= kubeconfig->size()) {
      const auto end = kubeconfig->find(':', start);
      const std::string p =
          kubeconfig->substr(start, end == std::string::npos ? std::string::npos : end - start);
      if (!p.empty()) targets.push_back({p, kInputsChanged, false});
      if (end == std::string::npos) break;
      start = end + 1;
    }
  } else {
    targets.push_back({env.home() + "/.kube/config", kInputsChanged, false});
  }
  targets.push_back({env.home() + "/.skaffold/config", kInputsChanged, false});
  return targets;
}

}  // namespace

int run(const Engine& engine, const ServeOptions& options) {
  net::io_context ioc;
  Service service(engine, options.rules);
  Shared shared(service, ioc);
  std::vector<std::shared_ptr<Listener<unix_protocol>>> unix_listeners;
  std::vector<std::shared_ptr<Listener<tcp>>> tcp_listeners;
  std::string socket_to_remove;
  try {
    if (!options.listen.empty() && options.token_file.empty())
      throw StartError{"--listen requires --token-file FILE (a bearer token clients must send)"};
    if (!options.token_file.empty()) shared.token = read_token(options.token_file);
    const auto passed = systemd_sockets(engine);
    for (int fd : passed) {
      sockaddr_storage addr{};
      socklen_t len = sizeof addr;
      if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) continue;
      if (addr.ss_family == AF_UNIX) {
        unix_listeners.push_back(std::make_shared<Listener<unix_protocol>>(
            unix_protocol::acceptor(ioc, unix_protocol(), fd), shared, false));
      } else {
        if (shared.token.empty())
          throw StartError{
              "a TCP socket from systemd requires --token-file FILE (a bearer token clients must send)"};
        const tcp protocol = addr.ss_family == AF_INET6 ? tcp::v6() : tcp::v4();
        tcp::acceptor acceptor(ioc, protocol, fd);
        if (!acceptor.local_endpoint().address().is_loopback())
          throw StartError{"the TCP socket from systemd is not on a loopback address"};
        tcp_listeners.push_back(std::make_shared<Listener<tcp>>(std::move(acceptor), shared, true));
      }
    }
    if (passed.empty()) {
      if (!options.listen.empty()) {
        tcp_listeners.push_back(
            std::make_shared<Listener<tcp>>(open_tcp_socket(ioc, options.listen), shared, true));
        spdlog::info("listening on http://{}", options.listen);
      }
      if (options.listen.empty() || !options.socket_path.empty()) {
        std::string path = options.socket_path;
        if (path.empty()) {
          path = default_socket_path(engine);
          prepare_socket_folder(std::filesystem::path(path).parent_path().string());
        }
        unix_listeners.push_back(
            std::make_shared<Listener<unix_protocol>>(open_unix_socket(ioc, path), shared, false));
        socket_to_remove = path;
        spdlog::info("listening on {}", path);
      }
    }
  } catch (const StartError& e) {
    spdlog::error("{}", e.message);
    return 2;
  } catch (const std::exception& e) {
    spdlog::error("cannot start: {}", e.what());
    return 2;
  }

  service.reload();

  ChangeWatcher watcher(watch_targets(engine, options.rules), [&](unsigned kinds) {
    if (kinds & kRulesChanged) {
      spdlog::info("rule files changed: reloading");
      service.reload();
    }
    shared.notify_watchers();
  });
  watcher.start(!options.poll_files);

  net::signal_set signals(ioc, SIGTERM, SIGINT, SIGHUP);
  net::steady_timer grace(ioc);
  std::chrono::steady_clock::time_point grace_until;
  // After SIGTERM: stop when no request is in flight, or when the grace period is over.
  std::function<void()> wait_in_flight = [&] {
    if (shared.in_flight == 0 || std::chrono::steady_clock::now() >= grace_until) return ioc.stop();
    grace.expires_after(std::chrono::milliseconds(20));
    grace.async_wait([&](beast::error_code) { wait_in_flight(); });
  };
  std::function<void()> wait_signal = [&] {
    signals.async_wait([&](beast::error_code ec, int sig) {
      if (ec) return;
      if (sig == SIGHUP) {
        spdlog::info("SIGHUP: reloading the rule set");
        service.reload();
        shared.notify_watchers();
        return wait_signal();
      }
      spdlog::info("{}: stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
      shared.stopping = true;
      for (auto& l : unix_listeners) l->stop();
      for (auto& l : tcp_listeners) l->stop();
      shared.close_watchers();
      grace_until = std::chrono::steady_clock::now() + kShutdownGrace;
      wait_in_flight();
    });
  };
  wait_signal();
  for (auto& l : unix_listeners) l->start();
  for (auto& l : tcp_listeners) l->start();

  // One I/O thread per core: more threads than cores make name-decided answers wait for the
  // scheduler (p99 at 8 connections 4-6 ms with 4 threads on 2 cores, 0.4-1.1 ms with 2;
  // docs/performance.md). A request whose rules run a command holds its thread meanwhile;
  // identical concurrent commands run once and results are cached.
  const unsigned threads = std::max(2u, std::thread::hardware_concurrency());
  std::vector<std::thread> pool;
  for (unsigned i = 1; i < threads; ++i) pool.emplace_back([&ioc] { ioc.run(); });
  ioc.run();
  for (auto& t : pool) t.join();
  watcher.stop();
  if (!socket_to_remove.empty()) ::unlink(socket_to_remove.c_str());
  spdlog::info("stopped");
  return 0;
}

}  // namespace lcrules::serve
