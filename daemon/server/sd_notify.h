// systemd's readiness protocol (sd_notify(3)) without libsystemd: a datagram such as
// "READY=1" to the socket named by $NOTIFY_SOCKET (a path, or "@name" for an abstract
// socket), which systemd sets for a Type=notify service. Thread-safe.
#pragma once

#include <string>

#include "engine/util/status.h"

namespace petabox::daemon {

// Sends `state` ("READY=1", "STOPPING=1", "STATUS=...", lines joined by '\n'). Ok without
// doing anything when $NOTIFY_SOCKET is unset (not started by systemd); Unavailable, with
// the reason, when the socket cannot be reached.
Status NotifySystemd(const std::string& state);

}  // namespace petabox::daemon
