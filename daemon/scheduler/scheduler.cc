#include "daemon/scheduler/scheduler.h"

#include <algorithm>
#include <cstddef>
#include <utility>

namespace petabox::daemon {
namespace {

// Highest priority first; among equal priorities the job created first. stable_sort keeps
// the caller's order for exact ties, so the result is deterministic.
void SortByPolicy(std::vector<QueuedJob>& queue) {
  std::stable_sort(queue.begin(), queue.end(), [](const QueuedJob& a, const QueuedJob& b) {
    if (a.priority != b.priority) return a.priority > b.priority;
    return a.order < b.order;
  });
}

}  // namespace

std::vector<Placement> PlaceJobs(std::vector<QueuedJob> queue, std::vector<std::string> free_devices) {
  SortByPolicy(queue);
  std::vector<Placement> placements;
  size_t next_free = 0;  // free_devices[next_free..] are still unassigned
  for (QueuedJob& job : queue) {
    // The contract says device_count >= 1; a job that asks for less still needs one
    // device to run on, rather than starting on none.
    const size_t need = static_cast<size_t>(std::max(job.device_count, 1));
    if (need > free_devices.size() - next_free) break;  // no backfill past a blocked job
    Placement placement;
    placement.name = std::move(job.name);
    placement.devices.assign(std::make_move_iterator(free_devices.begin() + next_free),
                             std::make_move_iterator(free_devices.begin() + next_free + need));
    next_free += need;
    placements.push_back(std::move(placement));
  }
  return placements;
}

}  // namespace petabox::daemon
