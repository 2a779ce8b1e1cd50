// HttpServer: a small read-only HTTP/1.1 server (Boost.Beast) for petaboxd's http_listen
// address: /metrics, the status page and its JSON. GET and HEAD only, routes by exact
// path, keep-alive (Prometheus reuses its connection), a request size limit and an idle
// timeout. There is no authentication: it serves what the box shows to anyone who can
// reach the address (loopback by default).
//
// Threading: everything runs on the io_context given to Start; handlers run there too
// and must not block for long. Call Start, Stop and the destructor from that io_context's
// thread, or while it is not running.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

#include "engine/util/status.h"

namespace petabox::daemon {

struct HttpRequest {
  std::string method;  // "GET" or "HEAD"
  std::string path;    // "/api/box"
  std::string query;   // what follows '?', "" when none
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

class HttpServer {
 public:
  // Listens on `address` (HOST:PORT; port 0 picks a free one) and serves `routes` (path
  // -> handler); other paths get 404, other methods 405. Unavailable when the address
  // cannot be bound, InvalidArgument when it is not HOST:PORT.
  static StatusOr<std::unique_ptr<HttpServer>> Start(boost::asio::io_context& io, const std::string& address,
                                                     std::map<std::string, HttpHandler> routes);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The bound port.
  int port() const;
  // Stops accepting and closes every open connection.
  void Stop();

  struct State;

 private:
  explicit HttpServer(std::shared_ptr<State> state) : state_(std::move(state)) {}
  std::shared_ptr<State> state_;
};

}  // namespace petabox::daemon
