#include "daemon/config/config.h"

#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "daemon/worker/yaml_reader.h"

namespace petabox::daemon {
namespace {

using worker::KeyLocations;
using worker::YamlMapReader;

void ReadConfig(YamlMapReader& r, DaemonConfig* c) {
  r.Read("listen", &c->listen);
  r.Read("http_listen", &c->http_listen);
  r.Read("data_dir", &c->data_dir);
  r.Read("devices", &c->devices);
  r.Read("dataset_dirs", &c->dataset_dirs);
  r.Read("allow_insecure_remote", &c->allow_insecure_remote);
  r.ReadMap("tls", [c](YamlMapReader& m) {
    m.Read("cert", &c->tls.cert);
    m.Read("key", &c->tls.key);
  });
  r.ReadMap("limits", [c](YamlMapReader& m) {
    m.Read("max_dataset_bytes", &c->limits.max_dataset_bytes);
    m.Read("max_spec_bytes", &c->limits.max_spec_bytes);
    m.Read("max_graph_bytes", &c->limits.max_graph_bytes);
    m.Read("max_queued_jobs", &c->limits.max_queued_jobs);
  });
  r.ReadMap("workers", [c](YamlMapReader& m) {
    m.Read("binary", &c->workers.binary);
    m.Read("stop_grace_seconds", &c->workers.stop_grace_seconds);
    m.Read("checkpoint_interval_steps", &c->workers.checkpoint_interval_steps);
  });
  r.ReadMap("telemetry", [c](YamlMapReader& m) {
    m.Read("interval_seconds", &c->telemetry.interval_seconds);
    m.Read("history_samples", &c->telemetry.history_samples);
  });
}

struct ConfigError {
  std::string key;
  std::string reason;
};

std::optional<ConfigError> CheckAddress(const std::string& address, const std::string& key) {
  std::string host;
  int port = 0;
  if (Status s = SplitHostPort(address, &host, &port); !s.ok()) return ConfigError{key, s.message()};
  return std::nullopt;
}

std::optional<ConfigError> CheckListen(const DaemonConfig& c) {
  if (auto e = CheckAddress(c.listen, "listen")) return e;
  if (!c.http_listen.empty()) {
    if (auto e = CheckAddress(c.http_listen, "http_listen")) return e;
  }
  std::string host;
  int port = 0;
  (void)SplitHostPort(c.listen, &host, &port);
  if (!IsLoopbackHost(host) && !c.tls.enabled() && !c.allow_insecure_remote) {
    return ConfigError{"listen", "'" + c.listen +
                                     "' is not a loopback address: configure tls.cert and tls.key, or set "
                                     "allow_insecure_remote: true to serve tokens in the clear"};
  }
  return std::nullopt;
}

std::optional<ConfigError> Check(const DaemonConfig& c) {
  if (auto e = CheckListen(c)) return e;
  if (c.tls.cert.empty() != c.tls.key.empty()) return ConfigError{"tls", "set both cert and key, or neither"};
  for (size_t i = 0; i < c.dataset_dirs.size(); ++i) {
    if (c.dataset_dirs[i].empty() || c.dataset_dirs[i][0] != '/') {
      return ConfigError{"dataset_dirs[" + std::to_string(i) + "]", "must be an absolute path"};
    }
  }
  if (c.limits.max_dataset_bytes <= 0) return ConfigError{"limits.max_dataset_bytes", "must be > 0"};
  if (c.limits.max_spec_bytes <= 0 || c.limits.max_spec_bytes > (64 << 20))
    return ConfigError{"limits.max_spec_bytes", "must be in 1..67108864"};
  if (c.limits.max_graph_bytes <= 0 || c.limits.max_graph_bytes > kMaxGraphBytes)
    return ConfigError{"limits.max_graph_bytes", "must be in 1.." + std::to_string(kMaxGraphBytes) +
                                                     " (a graph travels in one gRPC message)"};
  if (c.limits.max_queued_jobs <= 0) return ConfigError{"limits.max_queued_jobs", "must be > 0"};
  if (c.workers.stop_grace_seconds < 0) return ConfigError{"workers.stop_grace_seconds", "must be >= 0"};
  if (c.workers.checkpoint_interval_steps < 0) {
    return ConfigError{"workers.checkpoint_interval_steps", "must be >= 0"};
  }
  if (!(c.telemetry.interval_seconds == 0 || (c.telemetry.interval_seconds >= 0.05 && c.telemetry.interval_seconds <= 3600))) {
    return ConfigError{"telemetry.interval_seconds", "must be 0 (off) or between 0.05 and 3600"};
  }
  if (c.telemetry.history_samples < 1 || c.telemetry.history_samples > 100000) {
    return ConfigError{"telemetry.history_samples", "must be in 1..100000"};
  }
  return std::nullopt;
}

}  // namespace

std::string DefaultDataDir() {
  const char* xdg = std::getenv("XDG_DATA_HOME");
  if (xdg && *xdg) return std::string(xdg) + "/petabox";
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : ".") + "/.local/share/petabox";
}

Status SplitHostPort(const std::string& address, std::string* host, int* port) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0) return InvalidArgument("'" + address + "' is not HOST:PORT");
  *host = address.substr(0, colon);
  if (host->size() >= 2 && host->front() == '[' && host->back() == ']') *host = host->substr(1, host->size() - 2);
  const std::string digits = address.substr(colon + 1);
  if (digits.empty() || digits.size() > 5 || digits.find_first_not_of("0123456789") != std::string::npos) {
    return InvalidArgument("'" + address + "' has no valid port");
  }
  *port = std::stoi(digits);
  if (*port > 65535) return InvalidArgument("'" + address + "': port must be <= 65535");
  return Status::Ok();
}

bool IsLoopbackHost(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

StatusOr<DaemonConfig> ParseDaemonConfig(const std::string& yaml, const std::string& source) {
  PB_ASSIGN_OR_RETURN(std::unique_ptr<YAML::Node> root, worker::ParseYaml(yaml, source));
  KeyLocations locations;
  DaemonConfig config;
  YamlMapReader reader(*root, "", &locations);
  ReadConfig(reader, &config);
  if (Status s = reader.Finish(); !s.ok()) return Status(s.code(), source + ": " + s.message());
  if (std::optional<ConfigError> e = Check(config)) {
    auto it = locations.find(e->key);
    const std::string where = it != locations.end() && !it->second.empty() ? " " + it->second : "";
    return InvalidArgument(source + ": " + e->key + ": " + e->reason + where);
  }
  return config;
}

Status ValidateDaemonConfig(const DaemonConfig& config) {
  if (std::optional<ConfigError> e = Check(config)) return InvalidArgument(e->key + ": " + e->reason);
  return Status::Ok();
}

StatusOr<DaemonConfig> LoadDaemonConfig(const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFound(path + ": cannot read the config file");
  std::stringstream text;
  text << in.rdbuf();
  return ParseDaemonConfig(text.str(), path);
}

}  // namespace petabox::daemon
