// The limits of `lcrules serve`, named where they are used (docs/service.md).
#pragma once

#include <chrono>
#include <cstddef>

namespace lcrules::serve {

inline constexpr std::size_t kMaxHeaderBytes = 16 * 1024;       // request line and headers
inline constexpr std::size_t kMaxBodyBytes = 64 * 1024;         // request body
inline constexpr std::chrono::seconds kHeaderTimeout{10};       // to receive a whole request
inline constexpr std::chrono::seconds kIdleTimeout{60};         // a keep-alive connection with no request
inline constexpr std::size_t kMaxConnections = 512;             // beyond it, new connections are closed
inline constexpr std::chrono::seconds kShutdownGrace{10};       // for in-flight requests on SIGTERM
inline constexpr std::chrono::milliseconds kPollInterval{100};  // the watcher without inotify
inline constexpr std::chrono::seconds kRequestDeadline{30};     // one evaluation's --deadline
inline constexpr std::size_t kMaxQueuedEvents = 64;  // unsent /v1/watch events before the stream is closed

}  // namespace lcrules::serve
