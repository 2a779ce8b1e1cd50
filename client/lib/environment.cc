#include "client/lib/environment.h"

#include <cstdlib>

namespace petabox::client {
namespace {

std::string Get(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

}  // namespace

ClientEnv ClientEnv::FromProcess() {
  ClientEnv env;
  env.home = Get("HOME");
  env.xdg_config_home = Get("XDG_CONFIG_HOME");
  env.xdg_data_home = Get("XDG_DATA_HOME");
  env.petabox_token = Get("PETABOX_TOKEN");
  env.petabox_server = Get("PETABOX_SERVER");
  return env;
}

}  // namespace petabox::client
