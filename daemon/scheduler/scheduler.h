// Scheduling policy, as a pure function of the queue and the free devices: which queued
// jobs start now and on which devices. Highest priority first, FIFO (creation order) within
// a priority. No backfill: when the first job in that order does not fit on the free
// devices, nothing behind it starts (so a large job is never starved by smaller ones).
//
// Thread-safe (no state).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace petabox::daemon {

struct QueuedJob {
  std::string name;      // "jobs/{id}"
  int priority = 0;      // higher first
  int64_t order = 0;     // creation order: lower first among equal priorities
  int device_count = 1;  // >= 1
};

struct Placement {
  std::string name;
  std::vector<std::string> devices;  // device_count of the free devices, in the pool's order
};

// The jobs to start now. `free_devices` lists the idle devices in the box's order
// (configured order); jobs take the first free ones.
std::vector<Placement> PlaceJobs(std::vector<QueuedJob> queue, std::vector<std::string> free_devices);

}  // namespace petabox::daemon
