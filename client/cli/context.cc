#include "client/cli/context.h"

#include "client/lib/cli_config.h"
#include "client/lib/status_mapping.h"

namespace petabox::cli {

StatusOr<const client::Connection*> CommandContext::Connect() {
  if (connection_) return static_cast<const client::Connection*>(connection_.get());
  PB_ASSIGN_OR_RETURN(client::CliConfig config, client::LoadCliConfig(client::DefaultCliConfigPath(env_)));
  PB_ASSIGN_OR_RETURN(settings_, client::ResolveSettings(options_.flags, env_, config));
  client::ConnectionOptions connection;
  connection.server = settings_.server;
  connection.token = settings_.token.value;
  connection.tls_ca_file = settings_.tls_ca;
  PB_ASSIGN_OR_RETURN(connection_, client::Connection::Open(connection));
  return static_cast<const client::Connection*>(connection_.get());
}

Outcome CommandContext::RpcFailure(const Status& status) const {
  switch (client::GrpcCodeOf(status)) {
    case grpc::StatusCode::UNAUTHENTICATED:
      if (settings_.token.source == client::TokenSource::kNone) {
        return ServerError(status, "no token: pass --token, set PETABOX_TOKEN or put token: in " +
                                       client::DefaultCliConfigPath(env_));
      }
      return ServerError(status, "using " + client::DescribeTokenSource(settings_.token));
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return ServerError(status, "server " + settings_.server);
    default:
      return ServerError(status);
  }
}

}  // namespace petabox::cli
