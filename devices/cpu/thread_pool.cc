#include "devices/cpu/thread_pool.h"

#include <algorithm>

namespace petabox {
namespace {

// The pool whose loop body the current thread is running, if any. Lets a nested
// ParallelFor run inline rather than wait on call_mutex_, which its caller holds.
thread_local const ThreadPool* current_pool = nullptr;

// Marks the current thread as running a loop body of `pool` for its lifetime.
class ScopedLoopBody {
 public:
  explicit ScopedLoopBody(const ThreadPool* pool) : previous_(current_pool) {
    current_pool = pool;
  }
  ~ScopedLoopBody() { current_pool = previous_; }

 private:
  const ThreadPool* previous_;
};

}  // namespace

ThreadPool::ThreadPool(int threads) : num_threads_(std::max(threads, 1)) {
  workers_.reserve(num_threads_ - 1);
  for (int i = 1; i < num_threads_; ++i) workers_.emplace_back([this, i] { WorkerLoop(i); });
}

ThreadPool::~ThreadPool() {
  {
    MutexLock lock(mutex_);
    stop_ = true;
  }
  work_cv_.notify_all();
  for (std::thread& worker : workers_) worker.join();
}

void ThreadPool::RunChunk(const Job& job, int chunk_index) {
  // Spread the remainder over the first chunks; avoids n * i overflowing for huge n.
  const int64_t base = job.n / job.chunks;
  const int64_t extra = job.n % job.chunks;
  const int64_t begin = chunk_index * base + std::min<int64_t>(chunk_index, extra);
  const int64_t end = begin + base + (chunk_index < extra ? 1 : 0);
  ScopedLoopBody scope(this);
  (*job.fn)(begin, end);
}

void ThreadPool::RunSerially(int64_t n, const std::function<void(int64_t, int64_t)>& fn) {
  ScopedLoopBody scope(this);
  fn(0, n);
}

void ThreadPool::ParallelFor(int64_t n, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  const int chunks = static_cast<int>(std::min<int64_t>(n, num_threads_));
  if (chunks == 1 || current_pool == this) return RunSerially(n, fn);

  MutexLock call_lock(call_mutex_);
  Job job{&fn, n, chunks};
  {
    MutexLock lock(mutex_);
    job_ = job;
    pending_ = chunks - 1;
    ++generation_;
  }
  work_cv_.notify_all();
  RunChunk(job, 0);
  MutexLock lock(mutex_);
  while (pending_ != 0) lock.Wait(done_cv_);
}

void ThreadPool::WorkerLoop(int chunk_index) {
  uint64_t seen_generation = 0;
  Job job;
  while (NextJob(chunk_index, &seen_generation, &job)) {
    RunChunk(job, chunk_index);
    MutexLock lock(mutex_);
    if (--pending_ == 0) done_cv_.notify_one();
  }
}

bool ThreadPool::NextJob(int chunk_index, uint64_t* seen_generation, Job* job) {
  MutexLock lock(mutex_);
  for (;;) {
    while (!stop_ && generation_ == *seen_generation) lock.Wait(work_cv_);
    if (stop_) return false;
    *seen_generation = generation_;
    // A worker with no chunk in this Job is not counted in pending_, so it may skip the
    // Job entirely; the caller cannot publish another until every counted chunk is done.
    if (chunk_index < job_.chunks) {
      *job = job_;
      return true;
    }
  }
}

}  // namespace petabox
