#include "client/lib/connection.h"

#include <fstream>
#include <sstream>

namespace petabox::client {
namespace {

// Checkpoint chunks and dataset listings can exceed gRPC's 4 MiB default.
constexpr int kMaxReceiveBytes = 64 << 20;

StatusOr<std::shared_ptr<grpc::ChannelCredentials>> Credentials(const std::string& ca_file) {
  if (ca_file.empty()) return grpc::InsecureChannelCredentials();
  std::ifstream in(ca_file, std::ios::binary);
  std::ostringstream pem;
  pem << in.rdbuf();
  if (!in || pem.str().empty()) return InvalidArgument("cannot read TLS CA file " + ca_file);
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = pem.str();
  return grpc::SslCredentials(ssl);
}

}  // namespace

StatusOr<std::unique_ptr<Connection>> Connection::Open(const ConnectionOptions& options) {
  if (options.server.empty()) return InvalidArgument("empty server address (expected HOST:PORT)");
  PB_ASSIGN_OR_RETURN(std::shared_ptr<grpc::ChannelCredentials> credentials, Credentials(options.tls_ca_file));
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(kMaxReceiveBytes);
  auto channel = grpc::CreateCustomChannel(options.server, credentials, args);
  return std::unique_ptr<Connection>(new Connection(options, std::move(channel)));
}

Connection::Connection(ConnectionOptions options, std::shared_ptr<grpc::Channel> channel)
    : options_(std::move(options)),
      channel_(std::move(channel)),
      jobs_(v1::JobService::NewStub(channel_)),
      datasets_(v1::DatasetService::NewStub(channel_)),
      box_(v1::BoxService::NewStub(channel_)),
      admin_(v1::AdminService::NewStub(channel_)) {}

std::unique_ptr<grpc::ClientContext> Connection::NewContext(CallKind kind) const {
  auto context = std::make_unique<grpc::ClientContext>();
  // Plain metadata rather than call credentials: gRPC refuses to send call credentials
  // over an insecure channel, and a local daemon on 127.0.0.1 is reached without TLS.
  if (!options_.token.empty()) context->AddMetadata("authorization", "Bearer " + options_.token);
  if (kind == CallKind::kUnary) context->set_deadline(std::chrono::system_clock::now() + options_.unary_timeout);
  return context;
}

}  // namespace petabox::client
