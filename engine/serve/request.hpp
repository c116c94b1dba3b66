// A request Boost.Beast has parsed, as the service takes it (HttpRequest). Shared by the
// server (engine/serve/server.cpp) and the request fuzzer (tests/fuzz/), so that what the
// fuzzer feeds Service::handle is what the server would.
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "engine/serve/service.hpp"

namespace lcrules::serve {

// Method, target, body and Content-Type of `req`; the body is moved out, the headers stay.
HttpRequest take_request(boost::beast::http::request<boost::beast::http::string_body>& req);

}  // namespace lcrules::serve
