// HttpServer on a real loopback socket: routes, 404/405, HEAD, keep-alive, stop; the
// status routes' JSON and embedded page.
#include "daemon/http/http_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmath>
#include <thread>

#include <boost/asio/post.hpp>

#include "daemon/http/status_endpoints.h"
#include "tests/daemon/integration/http_harness.h"
#include "tests/daemon/store/test_util.h"
#include "tests/daemon/telemetry/fake_telemetry.h"

namespace petabox::daemon {
namespace {

using testing::HttpGet;

// A server on its own loop thread for one test.
class ServerTest : public ::testing::Test {
 protected:
  void Serve(std::map<std::string, HttpHandler> routes) {
    auto server = HttpServer::Start(io_, "127.0.0.1:0", std::move(routes));
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(*server);
    loop_ = std::thread([this] { io_.run(); });
  }
  void TearDown() override {
    if (!server_) return;
    boost::asio::post(io_, [this] {
      server_->Stop();
      io_.stop();
    });
    loop_.join();
  }
  boost::asio::io_context io_;
  std::unique_ptr<HttpServer> server_;
  std::thread loop_;
};

// Sends raw bytes, reads until the peer closes.
std::string RawExchange(int port, const std::string& bytes) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  timeval timeout{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) return "";
  ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof(buf), 0)) > 0;) out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return out;
}

TEST_F(ServerTest, RoutesAndErrors) {
  Serve({{"/hello", [](const HttpRequest& r) { return HttpResponse{200, "text/plain", "hi " + r.query}; }}});
  auto ok = HttpGet(server_->port(), "/hello?x=1");
  EXPECT_EQ(ok.status, 200) << ok.error;
  EXPECT_EQ(ok.body, "hi x=1");
  EXPECT_EQ(HttpGet(server_->port(), "/nope").status, 404);
  const std::string post = RawExchange(server_->port(), "POST /hello HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(post.rfind("HTTP/1.1 405", 0), 0u) << post;
}

TEST_F(ServerTest, HeadHasLengthButNoBody) {
  Serve({{"/x", [](const HttpRequest&) { return HttpResponse{200, "text/plain", "12345"}; }}});
  const std::string head = RawExchange(server_->port(), "HEAD /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_NE(head.find("Content-Length: 5"), std::string::npos) << head;
  EXPECT_EQ(head.substr(head.find("\r\n\r\n") + 4), "");
}

TEST_F(ServerTest, KeepAliveServesSeveralRequests) {
  int calls = 0;
  Serve({{"/n", [&calls](const HttpRequest&) { return HttpResponse{200, "text/plain", std::to_string(++calls)}; }}});
  const std::string both = RawExchange(server_->port(),
                                       "GET /n HTTP/1.1\r\nHost: x\r\n\r\n"
                                       "GET /n HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  size_t responses = 0;
  for (size_t p = both.find("HTTP/1.1 200"); p != std::string::npos; p = both.find("HTTP/1.1 200", p + 1)) ++responses;
  EXPECT_EQ(responses, 2u) << both;
  EXPECT_EQ(calls, 2);
}

TEST_F(ServerTest, StopClosesIdleConnections) {
  Serve({{"/x", [](const HttpRequest&) { return HttpResponse{}; }}});
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(server_->port()));
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  boost::asio::post(io_, [this] { server_->Stop(); });
  timeval timeout{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  char c;
  EXPECT_EQ(::recv(fd, &c, 1, 0), 0);  // closed by the server, not timed out
  ::close(fd);
  EXPECT_EQ(HttpGet(server_->port(), "/x").status, 0);
}

TEST(HttpServerStartTest, BadAddresses) {
  boost::asio::io_context io;
  EXPECT_EQ(HttpServer::Start(io, "nohost", {}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(HttpServer::Start(io, "example.com:80", {}).status().code(), StatusCode::kInvalidArgument);
  auto first = HttpServer::Start(io, "127.0.0.1:0", {});
  ASSERT_TRUE(first.ok());
  auto second = HttpServer::Start(io, "127.0.0.1:" + std::to_string((*first)->port()), {});
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable);
}

// The status routes over a real store, ledger and sampler: the embedded page and assets,
// and JSON that parses with the documented fields.
TEST_F(ServerTest, StatusRoutes) {
  testing::FakeClock clock;
  testutil::TempDir dir;
  auto store = JobStore::Open(dir.path() + "/petabox.db");
  ASSERT_TRUE(store.ok());
  // A name that would end a <script> element if the JSON were embedded in a page unescaped.
  v1::Job job;
  job.set_name("jobs/j-1");
  job.set_display_name("</script><b>x</b>");
  job.set_state(v1::Job::QUEUED);
  bool created = false;
  ASSERT_TRUE((*store)->CreateJob(job, "", &created).ok());
  UsageLedger ledger({"CPU:0"}, &clock);
  TelemetrySampler sampler({{"CPU:0", 1 << 30, std::make_shared<testing::FakeTelemetry>()}}, &ledger, &clock);
  sampler.SampleOnce();
  clock.Advance(1);
  sampler.SampleOnce();
  BoxMetrics metrics({{"CPU:0", "cpu", "a CPU"}}, &sampler, &ledger);
  StatusSources sources{{{"CPU:0", "cpu", "a CPU"}}, &sampler, &ledger, &metrics, store->get(), &clock, nullptr};
  Serve(StatusRoutes(sources));
  const int port = server_->port();
  auto page = HttpGet(port, "/");
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("/static/status.js"), std::string::npos);
  EXPECT_EQ(HttpGet(port, "/static/status.js").status, 200);
  EXPECT_EQ(HttpGet(port, "/static/status.css").status, 200);
  EXPECT_EQ(HttpGet(port, "/healthz").body, "ok\n");
  auto metrics_text = HttpGet(port, "/metrics");
  EXPECT_NE(metrics_text.body.find("petabox_device_busy_ratio{device=\"CPU:0\"} 0"), std::string::npos);
  for (const char* path : {"/api/box", "/api/history"}) {
    auto r = HttpGet(port, path);
    ASSERT_EQ(r.status, 200) << path;
    google::protobuf::Struct json;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r.body, &json).ok()) << r.body;
    if (std::string(path) == "/api/box") {
      const auto& f = json.fields();
      for (const char* key : {"daemon_version", "time", "telemetry_interval_seconds", "sample", "draining",
                              "queue_length", "running_jobs", "devices", "jobs", "tenants"}) {
        EXPECT_TRUE(f.count(key)) << key;
      }
      const auto& device = f.at("devices").list_value().values(0).struct_value().fields();
      EXPECT_EQ(device.at("name").string_value(), "CPU:0");
      EXPECT_EQ(device.at("state").string_value(), "idle");
      EXPECT_TRUE(device.at("power_watts").has_null_value());
      EXPECT_EQ(device.at("busy_ratio").number_value(), 0);
      EXPECT_EQ(r.body.find('<'), std::string::npos) << r.body;
      EXPECT_EQ(r.body.find('>'), std::string::npos) << r.body;
      const auto& listed = f.at("jobs").list_value().values(0).struct_value().fields();
      EXPECT_EQ(listed.at("display_name").string_value(), "</script><b>x</b>");
    } else {
      EXPECT_EQ(json.fields().at("times").list_value().values_size(), 2);
      EXPECT_EQ(json.fields().at("last_sequence").number_value(), 2);
    }
  }
}

}  // namespace
}  // namespace petabox::daemon
