// ClientEnv: the environment variables the client reads, captured once at start (main)
// so that everything downstream is a plain function of its inputs (and testable without
// touching the process environment).
#pragma once

#include <string>

namespace petabox::client {

struct ClientEnv {
  std::string home;             // $HOME
  std::string xdg_config_home;  // $XDG_CONFIG_HOME; "" when unset
  std::string xdg_data_home;    // $XDG_DATA_HOME; "" when unset
  std::string petabox_token;    // $PETABOX_TOKEN: the bearer token
  std::string petabox_server;   // $PETABOX_SERVER: HOST:PORT of the daemon

  // Reads the variables above from the process environment (unset reads as "").
  static ClientEnv FromProcess();
};

}  // namespace petabox::client
