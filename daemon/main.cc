// petaboxd: the per-box training daemon (daemon/server/daemon.h).
//
//   petaboxd [--config FILE] [--data-dir DIR] [--listen HOST:PORT] [--http-listen HOST:PORT]
//
// Without --config it runs on the default config compiled in (configs/petaboxd.yaml). The
// flags override the config's keys of the same name. Exit codes: 0 after a clean drain,
// 1 when it cannot start or serve, 2 for bad usage or an invalid config.
#include <cstdio>
#include <cstring>
#include <string>

#include "daemon/config/config.h"
#include "daemon/server/daemon.h"
#include "devices/registry.h"
#include "engine/device_source.h"

namespace {

constexpr char kUsage[] =
    "usage: petaboxd [--config FILE] [--data-dir DIR] [--listen HOST:PORT] [--http-listen HOST:PORT]\n"
    "  --config FILE          YAML config (default: the built-in configs/petaboxd.yaml)\n"
    "  --data-dir DIR         job store, owner token, checkpoints, datasets (config data_dir)\n"
    "  --listen HOST:PORT     gRPC address (config listen; default 127.0.0.1:7480)\n"
    "  --http-listen HOST:PORT  metrics and status page (config http_listen)\n"
    "  --version              print the version\n";

struct Flags {
  std::string config, data_dir, listen, http_listen;
  bool has_http_listen = false;
};

// Returns 0 to go on, or an exit code.
int Parse(int argc, char** argv, Flags* f) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--help" || a == "-h") return std::printf("%s", kUsage), -1;
    if (a == "--version") return std::printf("petaboxd %s\n", PETABOX_VERSION), -1;
    if (a == "--config" && has_value) f->config = argv[++i];
    else if (a == "--data-dir" && has_value) f->data_dir = argv[++i];
    else if (a == "--listen" && has_value) f->listen = argv[++i];
    else if (a == "--http-listen" && has_value) f->http_listen = argv[++i], f->has_http_listen = true;
    else return std::fprintf(stderr, "petaboxd: unexpected argument '%s'\n%s", a.c_str(), kUsage), 2;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace petabox::daemon;
  petabox::InstallDeviceSource(&petabox::DeviceRegistry::Global());
  Flags flags;
  if (int code = Parse(argc, argv, &flags)) return code < 0 ? 0 : code;
  auto config = flags.config.empty() ? ParseDaemonConfig(kDefaultConfigYaml, "default config")
                                     : LoadDaemonConfig(flags.config);
  if (!config.ok()) return std::fprintf(stderr, "petaboxd: %s\n", config.status().ToString().c_str()), 2;
  if (!flags.data_dir.empty()) config->data_dir = flags.data_dir;
  if (!flags.listen.empty()) config->listen = flags.listen;
  if (flags.has_http_listen) config->http_listen = flags.http_listen;
  if (auto s = ValidateDaemonConfig(*config); !s.ok()) {
    return std::fprintf(stderr, "petaboxd: command line: %s\n", s.ToString().c_str()), 2;
  }
  auto daemon = Daemon::Create(*config);
  if (!daemon.ok()) return std::fprintf(stderr, "petaboxd: %s\n", daemon.status().ToString().c_str()), 1;
  petabox::Status served = (*daemon)->Run();
  if (!served.ok()) return std::fprintf(stderr, "petaboxd: %s\n", served.ToString().c_str()), 1;
  return 0;
}
