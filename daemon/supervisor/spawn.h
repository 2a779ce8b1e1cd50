// Spawning a worker process: posix_spawn with the descriptors and process group the
// supervisor (worker_process.h) relies on. The child gets stdin from /dev/null, a pipe each
// for stdout and stderr, and a pipe as file descriptor 3 (kWorkerEventsFd) for its events;
// no other descriptor of the daemon; its own process group (so signals reach the compilers
// it runs too); an empty signal mask and default signal dispositions; the daemon's
// environment with `env` ("KEY=VALUE") overriding or adding entries, a later one of the
// same key winning.
//
// Reaping the child is the caller's (waitpid on SpawnedChild::pid): spawning only starts it.
// Thread-safe (no shared state; descriptors are opened close-on-exec).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "daemon/supervisor/unique_fd.h"
#include "engine/util/status.h"

namespace petabox::daemon {

// The child's descriptor for its events (petabox-worker --events /dev/fd/3).
inline constexpr int kWorkerEventsFd = 3;

struct SpawnedChild {
  pid_t pid = -1;
  // The daemon's ends of the child's pipes, non-blocking.
  UniqueFd stdout_read;
  UniqueFd stderr_read;
  UniqueFd events_read;
};

// Starts argv[0] (a path) with argv[1..]. InvalidArgument for an empty argv; NotFound when
// argv[0] is missing, not a regular file or not executable (checked first, for a clear
// message), or the exec finds no such file; Unavailable (with errno's text) when a pipe
// cannot be made or the exec fails otherwise.
StatusOr<SpawnedChild> SpawnChild(const std::vector<std::string>& argv, const std::vector<std::string>& env);

// The daemon's environment with `overrides` replacing (or adding) entries by key.
std::vector<std::string> MergeEnvironment(const std::vector<std::string>& overrides);

}  // namespace petabox::daemon
