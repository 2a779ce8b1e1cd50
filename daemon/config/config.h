// DaemonConfig: petaboxd's configuration, one YAML file (configs/petaboxd.yaml is the
// default, compiled into the daemon). A plain value, loaded once at start; every field has
// a comment and a default, and a file only names the keys it changes.
//
// Thread-safe (no shared state).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/util/status.h"

namespace petabox::daemon {

struct TlsConfig {
  std::string cert;  // PEM certificate chain file; TLS is on when cert and key are set
  std::string key;   // PEM private key file
  bool enabled() const { return !cert.empty() && !key.empty(); }
};

struct LimitsConfig {
  int64_t max_dataset_bytes = int64_t{8} << 30;  // largest dataset upload
  int64_t max_spec_bytes = 1 << 20;              // largest job spec
  int64_t max_graph_bytes = int64_t{512} << 20;  // largest training graph sent with a job
  int64_t max_queued_jobs = 1000;                // queued jobs beyond this are refused
};

struct WorkersConfig {
  std::string binary;                       // petabox-worker path; "" = beside petaboxd
  double stop_grace_seconds = 30;           // SIGTERM -> SIGKILL delay
  int64_t checkpoint_interval_steps = 200;  // for specs that set none
};

struct TelemetryConfig {
  // How often devices are sampled (busy, FLOP/s, power, ...) and workers report their
  // kernels' time and FLOPs (twice per interval); 0 turns telemetry off.
  double interval_seconds = 1;
  int64_t history_samples = 300;  // samples kept for the status page's charts
};

struct DaemonConfig {
  std::string listen = "127.0.0.1:7480";       // gRPC HOST:PORT
  std::string http_listen = "127.0.0.1:7481";  // metrics + status page; "" disables
  std::string data_dir;                        // "" = DefaultDataDir()
  std::vector<std::string> devices;            // empty = all GPUs, else CPU:0
  std::vector<std::string> dataset_dirs = {"/usr/share/datasets"};
  bool allow_insecure_remote = false;
  TlsConfig tls;
  LimitsConfig limits;
  WorkersConfig workers;
  TelemetryConfig telemetry;
};

// The largest limits.max_graph_bytes: a graph travels in one gRPC message, which carries
// less than 2 GiB.
inline constexpr int64_t kMaxGraphBytes = int64_t{1} << 30;

// The default config text (configs/petaboxd.yaml, compiled in).
extern const char kDefaultConfigYaml[];

// $XDG_DATA_HOME/petabox, or $HOME/.local/share/petabox.
std::string DefaultDataDir();

// Parses and validates a config. `source` names it in messages. InvalidArgument naming the
// key (and line) for syntax errors, unknown keys, wrong types and bad values: addresses
// that are not HOST:PORT, a non-loopback `listen` without TLS or allow_insecure_remote,
// half-configured TLS, non-positive limits (max_graph_bytes also at most kMaxGraphBytes),
// relative dataset_dirs.
StatusOr<DaemonConfig> ParseDaemonConfig(const std::string& yaml, const std::string& source);

// Checks a config changed after parsing (command-line overrides) as ParseDaemonConfig does.
Status ValidateDaemonConfig(const DaemonConfig& config);

// Reads and parses a file (NotFound when it cannot be read).
StatusOr<DaemonConfig> LoadDaemonConfig(const std::string& path);

// Splits "HOST:PORT" ("[::1]:7480" for IPv6). InvalidArgument otherwise.
Status SplitHostPort(const std::string& address, std::string* host, int* port);

// True for 127.0.0.0/8, ::1 and "localhost".
bool IsLoopbackHost(const std::string& host);

}  // namespace petabox::daemon
