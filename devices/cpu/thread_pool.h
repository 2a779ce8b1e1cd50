// A fixed pool of worker threads that runs data-parallel loops for the CPU backend.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

#include "engine/util/thread_annotations.h"

namespace petabox {

// Runs ParallelFor loops on `threads` threads: the calling thread plus `threads - 1`
// persistent workers started by the constructor and joined by the destructor.
//
// Thread-safety: ParallelFor may be called from any thread; concurrent calls are
// serialized (one loop runs at a time). A ParallelFor issued from inside a running loop
// body (nested parallelism) runs serially on the calling thread instead of deadlocking.
class ThreadPool {
 public:
  // `threads` < 1 is treated as 1 (no workers; every loop runs on the caller).
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // Splits [0, n) into min(n, num_threads()) contiguous chunks of near-equal size, runs
  // fn(begin, end) once per chunk (chunk 0 on the calling thread, chunk i on worker i) and
  // returns when all chunks are done. n <= 0 does nothing. `fn` must not throw.
  void ParallelFor(int64_t n, const std::function<void(int64_t begin, int64_t end)>& fn)
      EXCLUDES(call_mutex_, mutex_);

  // Threads a loop can use, the caller included.
  int num_threads() const { return num_threads_; }

 private:
  // One ParallelFor call, published to the workers.
  struct Job {
    const std::function<void(int64_t, int64_t)>* fn = nullptr;
    int64_t n = 0;
    int chunks = 0;
  };

  void WorkerLoop(int chunk_index) EXCLUDES(mutex_);
  // Waits for a Job newer than *seen_generation that has a chunk for this worker, and
  // copies it to *job; false once the pool stops.
  bool NextJob(int chunk_index, uint64_t* seen_generation, Job* job) EXCLUDES(mutex_);
  void RunChunk(const Job& job, int chunk_index);
  void RunSerially(int64_t n, const std::function<void(int64_t, int64_t)>& fn);

  const int num_threads_;

  // Serializes ParallelFor calls so at most one Job is in flight.
  Mutex call_mutex_;

  Mutex mutex_;
  std::condition_variable work_cv_;  // signalled when generation_ or stop_ changes
  std::condition_variable done_cv_;  // signalled when pending_ reaches 0
  Job job_ GUARDED_BY(mutex_);
  uint64_t generation_ GUARDED_BY(mutex_) = 0;  // bumped once per published Job
  int pending_ GUARDED_BY(mutex_) = 0;          // worker chunks not yet finished
  bool stop_ GUARDED_BY(mutex_) = false;


  std::vector<std::thread> workers_;  // worker i runs chunk i + 1; written only in ctor/dtor
};

}  // namespace petabox
