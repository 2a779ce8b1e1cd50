// What the engine ran: per-kernel records and running totals of kernels, FLOPs, bytes and
// kernel time. FLOPs and bytes are counted statically from each kernel's uops, so achieved
// FLOP/s needs no hardware counters. Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace petabox {

struct KernelRecord {
  std::string name;    // e.g. "r_256_4_64_16_1024"
  std::string device;  // e.g. "CPU:0"
  double seconds = 0;
  int64_t flops = 0;
  int64_t bytes = 0;   // bytes of the buffers the kernel touches, each counted once
};

struct ExecTotals {
  int64_t kernels = 0;
  int64_t flops = 0;
  int64_t bytes = 0;
  double seconds = 0;
  // BEAM kernel search (engine/codegen/opt/optimize.h): kernels searched, the wall time
  // spent searching, and layouts found in the on-disk search cache instead.
  int64_t searches = 0;
  double search_seconds = 0;
  int64_t search_cache_hits = 0;
};

// Totals since the process started (or the last ResetExecTotals).
ExecTotals GetExecTotals();
void ResetExecTotals();
// Adds a record to the totals, calls the observer, and prints it when the debug level is >= 2.
void RecordKernel(const KernelRecord& record);
// Adds one BEAM search of `seconds` (or, with cache_hit, one layout read from the cache).
void RecordSearch(double seconds, bool cache_hit);
// Called after every kernel, from the thread that ran it (work on several devices runs on
// one thread per device: engine/multi_exec.h); an empty function removes it.
void SetKernelObserver(std::function<void(const KernelRecord&)> observer);

// The PETABOX_DEBUG level, read once: 0 quiet, 1 one line per BEAM search, 2 one line per
// kernel, 4 also the source.
int DebugLevel();

}  // namespace petabox
