#include "engine/serve/request.hpp"

#include <boost/beast/http/field.hpp>

namespace lcrules::serve {

HttpRequest take_request(boost::beast::http::request<boost::beast::http::string_body>& req) {
  HttpRequest request;
  request.method = std::string(req.method_string());
  request.target = std::string(req.target());
  request.body = std::move(req.body());
  request.content_type = std::string(req[boost::beast::http::field::content_type]);
  return request;
}

}  // namespace lcrules::serve
