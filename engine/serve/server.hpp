// `lcrules serve`: the Service (engine/serve/service.hpp) over HTTP/1.1 on a Unix socket,
// loopback TCP with a bearer token, or sockets systemd passes (LISTEN_FDS); Boost.Beast over
// Boost.Asio. Sets up the sockets, watches files, reloads on SIGHUP and stops gracefully
// on SIGTERM and SIGINT.
#pragma once

#include <string>

#include "lcrules/engine.hpp"

namespace lcrules::serve {

struct ServeOptions {
  std::string socket_path;  // --socket; empty: the default (docs/service.md)
  std::string listen;       // --listen 127.0.0.1:PORT
  std::string token_file;   // --token-file, required with --listen
  RuleSetOptions rules;
  bool poll_files = false;  // watch files by polling instead of inotify (LCRULES_WATCH=poll)
};

// Runs until SIGTERM or SIGINT: 0 then; 2 when it cannot start (bad options, a socket in
// use, a token file others can read). Everything is logged through spdlog.
int run(const Engine& engine, const ServeOptions& options);

}  // namespace lcrules::serve
