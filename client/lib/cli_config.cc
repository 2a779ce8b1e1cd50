#include "client/lib/cli_config.h"

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <system_error>

namespace petabox::client {
namespace {

namespace fs = std::filesystem;

// Reads one key's string value into *out; InvalidArgument when it is not a scalar.
Status ReadKey(const std::string& path, const YAML::Node& value, const std::string& key, std::string* out) {
  if (!value.IsScalar()) return InvalidArgument(path + ": '" + key + "' must be a string");
  *out = value.Scalar();
  return Status::Ok();
}

}  // namespace

std::string DefaultCliConfigPath(const ClientEnv& env) {
  if (!env.xdg_config_home.empty()) return env.xdg_config_home + "/petabox/cli.yaml";
  if (!env.home.empty()) return env.home + "/.config/petabox/cli.yaml";
  return "";
}

StatusOr<CliConfig> LoadCliConfig(const std::string& path) {
  CliConfig config;
  std::error_code ec;
  if (path.empty() || !fs::exists(path, ec)) return config;
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    return InvalidArgument(path + ": " + e.what());
  }
  config.path = path;
  if (root.IsNull()) return config;
  if (!root.IsMap()) return InvalidArgument(path + ": expected a mapping with keys server, token, tls_ca");
  for (const auto& entry : root) {
    const std::string key = entry.first.as<std::string>("");
    if (key == "server") {
      PB_RETURN_IF_ERROR(ReadKey(path, entry.second, key, &config.server));
    } else if (key == "token") {
      PB_RETURN_IF_ERROR(ReadKey(path, entry.second, key, &config.token));
    } else if (key == "tls_ca") {
      PB_RETURN_IF_ERROR(ReadKey(path, entry.second, key, &config.tls_ca));
    } else {
      return InvalidArgument(path + ": unknown key '" + key + "' (known: server, token, tls_ca)");
    }
  }
  // A relative CA path means "next to the config file", not "next to wherever I run petabox".
  if (!config.tls_ca.empty() && fs::path(config.tls_ca).is_relative()) {
    config.tls_ca = (fs::path(path).parent_path() / config.tls_ca).string();
  }
  return config;
}

}  // namespace petabox::client
