#include "daemon/http/http_server.h"

#include <chrono>
#include <list>
#include <optional>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "daemon/config/config.h"
#include "engine/util/thread_annotations.h"

namespace petabox::daemon {

namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;

namespace {

constexpr auto kIdleTimeout = std::chrono::seconds(30);
constexpr uint64_t kMaxRequestBytes = 64 * 1024;

class Session;

}  // namespace

struct HttpServer::State : std::enable_shared_from_this<HttpServer::State> {
  explicit State(boost::asio::io_context& io) : io(io), acceptor(io) {}
  void Accept();
  void Forget(Session* session);

  boost::asio::io_context& io;
  tcp::acceptor acceptor;
  std::map<std::string, HttpHandler> routes;
  int port = 0;
  Mutex mu;
  std::list<std::weak_ptr<Session>> sessions GUARDED_BY(mu);
  bool stopped GUARDED_BY(mu) = false;
};

namespace {

HttpResponse Route(const HttpServer::State& state, const http::request<http::string_body>& req) {
  if (req.method() != http::verb::get && req.method() != http::verb::head) {
    return {405, "text/plain; charset=utf-8", "only GET and HEAD\n"};
  }
  const std::string target(req.target());
  const size_t q = target.find('?');
  HttpRequest r{std::string(req.method_string()), target.substr(0, q), q == std::string::npos ? "" : target.substr(q + 1)};
  auto it = state.routes.find(r.path);
  if (it == state.routes.end()) return {404, "text/plain; charset=utf-8", "not found: " + r.path + "\n"};
  return it->second(r);
}

// One connection: read a request, answer it, repeat while the client keeps it alive.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, std::shared_ptr<HttpServer::State> server)
      : stream_(std::move(socket)), server_(std::move(server)) {}

  void Read() {
    request_.emplace();
    request_->body_limit(kMaxRequestBytes);
    stream_.expires_after(kIdleTimeout);
    http::async_read(stream_, buffer_, *request_,
                     [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  void Close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
  }

 private:
  void OnRead(beast::error_code ec) {
    if (ec) return Finish();
    const http::request<http::string_body> req = request_->release();
    const HttpResponse r = Route(*server_, req);
    auto res = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(r.status), req.version());
    res->set(http::field::server, "petaboxd");
    res->set(http::field::content_type, r.content_type);
    res->set(http::field::cache_control, "no-store");
    res->keep_alive(req.keep_alive());
    if (req.method() != http::verb::head) res->body() = r.body;
    res->prepare_payload();
    if (req.method() == http::verb::head) res->content_length(r.body.size());
    http::async_write(stream_, *res, [self = shared_from_this(), res](beast::error_code ec, size_t) {
      if (ec || !res->keep_alive()) return self->Finish();
      self->Read();
    });
  }

  void Finish() {
    Close();
    server_->Forget(this);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> request_;
  std::shared_ptr<HttpServer::State> server_;
};

}  // namespace

void HttpServer::State::Accept() {
  acceptor.async_accept([self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
    if (ec) return;  // closed by Stop, or a failure that leaves the acceptor unusable
    auto session = std::make_shared<Session>(std::move(socket), self);
    {
      MutexLock lock(self->mu);
      if (self->stopped) return session->Close();
      self->sessions.push_back(session);
    }
    session->Read();
    self->Accept();
  });
}

void HttpServer::State::Forget(Session* session) {
  MutexLock lock(mu);
  sessions.remove_if([session](const std::weak_ptr<Session>& w) {
    auto s = w.lock();
    return !s || s.get() == session;
  });
}

StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(boost::asio::io_context& io, const std::string& address,
                                                        std::map<std::string, HttpHandler> routes) {
  std::string host;
  int port = 0;
  PB_RETURN_IF_ERROR(SplitHostPort(address, &host, &port));
  if (host == "localhost") host = "127.0.0.1";
  beast::error_code ec;
  const auto ip = boost::asio::ip::make_address(host, ec);
  if (ec) return InvalidArgument("http_listen: '" + host + "' is not an IP address: " + ec.message());
  auto state = std::make_shared<State>(io);
  state->routes = std::move(routes);
  const tcp::endpoint endpoint(ip, static_cast<uint16_t>(port));
  state->acceptor.open(endpoint.protocol(), ec);
  if (!ec) state->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) state->acceptor.bind(endpoint, ec);
  if (!ec) state->acceptor.listen(boost::asio::socket_base::max_listen_connections, ec);
  if (ec) return Unavailable("http_listen: cannot listen on " + address + ": " + ec.message());
  state->port = state->acceptor.local_endpoint().port();
  state->Accept();
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(state)));
}

HttpServer::~HttpServer() { Stop(); }

int HttpServer::port() const { return state_->port; }

void HttpServer::Stop() {
  std::list<std::weak_ptr<Session>> sessions;
  {
    MutexLock lock(state_->mu);
    if (state_->stopped) return;
    state_->stopped = true;
    sessions.swap(state_->sessions);
  }
  beast::error_code ec;
  state_->acceptor.close(ec);
  for (auto& w : sessions) {
    if (auto s = w.lock()) s->Close();
  }
}

}  // namespace petabox::daemon
