// Connection: one gRPC channel to a petaboxd (HOST:PORT), insecure or TLS, and the stubs of
// its services. Every call made through it should take its ClientContext from
// NewContext, which adds "authorization: Bearer TOKEN" metadata and, for unary calls, the
// deadline.
//
// Thread-safe: gRPC channels and stubs may be used from any thread; the object itself is
// immutable after Open.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <string>

#include "engine/util/status.h"
#include "petabox/v1/admin.grpc.pb.h"
#include "petabox/v1/box.grpc.pb.h"
#include "petabox/v1/dataset.grpc.pb.h"
#include "petabox/v1/job.grpc.pb.h"

namespace petabox::client {

struct ConnectionOptions {
  // gRPC target of the daemon: "HOST:PORT".
  std::string server = "127.0.0.1:7480";
  // Bearer token sent with every call; "" sends no authorization metadata.
  std::string token;
  // PEM file with the CA certificate(s) that signed the daemon's certificate; "" makes an
  // insecure (plaintext) channel.
  std::string tls_ca_file;
  // Deadline of each unary call (streams have none).
  std::chrono::milliseconds unary_timeout{std::chrono::seconds(30)};
};

enum class CallKind { kUnary, kStream };

class Connection {
 public:
  // Makes the channel; it connects on first use, so a daemon that is down shows up as
  // UNAVAILABLE on the first call, not here. InvalidArgument when the server is empty or
  // the CA file cannot be read.
  static StatusOr<std::unique_ptr<Connection>> Open(const ConnectionOptions& options);

  // A context for one call: authorization metadata, plus the deadline for kUnary.
  std::unique_ptr<grpc::ClientContext> NewContext(CallKind kind) const;

  const ConnectionOptions& options() const { return options_; }
  v1::JobService::Stub& jobs() const { return *jobs_; }
  v1::DatasetService::Stub& datasets() const { return *datasets_; }
  v1::BoxService::Stub& box() const { return *box_; }
  v1::AdminService::Stub& admin() const { return *admin_; }

 private:
  Connection(ConnectionOptions options, std::shared_ptr<grpc::Channel> channel);

  ConnectionOptions options_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::JobService::Stub> jobs_;
  std::unique_ptr<v1::DatasetService::Stub> datasets_;
  std::unique_ptr<v1::BoxService::Stub> box_;
  std::unique_ptr<v1::AdminService::Stub> admin_;
};

}  // namespace petabox::client
