#include "client/lib/settings.h"

namespace petabox::client {

std::string ResolveServer(const std::string& server_flag, const ClientEnv& env, const CliConfig& config) {
  if (!server_flag.empty()) return server_flag;
  if (!env.petabox_server.empty()) return env.petabox_server;
  if (!config.server.empty()) return config.server;
  return kDefaultServer;
}

StatusOr<ClientSettings> ResolveSettings(const ClientFlags& flags, const ClientEnv& env, const CliConfig& config) {
  ClientSettings settings;
  settings.server = ResolveServer(flags.server, env, config);
  PB_ASSIGN_OR_RETURN(settings.token, DiscoverToken(flags.token, env, config, settings.server, flags.data_dir));
  settings.tls_ca = flags.tls_ca.empty() ? config.tls_ca : flags.tls_ca;
  return settings;
}

}  // namespace petabox::client
