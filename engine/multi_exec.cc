#include "engine/multi_exec.h"

#include <algorithm>
#include <condition_variable>
#include <functional>
#include <map>
#include <optional>
#include <thread>
#include <unordered_map>

#include "engine/util/thread_annotations.h"

namespace petabox {
namespace {

// How far past its first unstarted op a lane looks for one that may start. Bounded so that
// a lane blocked for long does not rescan thousands of ops on every completion.
constexpr size_t kLookahead = 512;

// Host threads for lanes, kept between calls (a replayed training step would otherwise
// start a thread per lane every step). A task goes to an idle thread, or to a new one when
// none is idle, so concurrent callers never wait for each other's lanes. Threads live for
// the rest of the process. Thread-safe.
class LanePool {
 public:
  static LanePool& Global() {
    static LanePool* pool = new LanePool();  // never destroyed: its threads outlive main
    return *pool;
  }

  void Run(std::function<void()> task) EXCLUDES(mu_) {
    MutexLock lock(mu_);
    if (idle_.empty()) {
      auto* worker = new Worker();  // owned by its thread
      worker->task = std::move(task);
      std::thread([this, worker] { Loop(worker); }).detach();
      return;
    }
    Worker* worker = idle_.back();
    idle_.pop_back();
    worker->task = std::move(task);
    worker->wake.notify_one();
  }

 private:
  struct Worker {
    // Read and written under the pool's mu_ (clang cannot name an enclosing object's
    // mutex in a nested struct's annotation); empty while idle.
    std::function<void()> task;
    std::condition_variable wake;
  };

  // Runs the worker's tasks for good (the first is set before the thread starts), with mu_
  // released while a task runs.
  void Loop(Worker* worker) EXCLUDES(mu_) {
    for (;;) {
      std::function<void()> task;
      {
        MutexLock lock(mu_);
        while (worker->task == nullptr) lock.Wait(worker->wake);
        task = std::move(worker->task);
        worker->task = nullptr;
      }
      task();
      MutexLock lock(mu_);
      idle_.push_back(worker);
    }
  }


  Mutex mu_;
  std::vector<Worker*> idle_ GUARDED_BY(mu_);
};

// The ops of each lane, in list order.
std::vector<std::vector<size_t>> Lanes(const std::vector<CapturedOp>& ops) {
  std::map<std::string, size_t> index;
  std::vector<std::vector<size_t>> lanes;
  for (size_t i = 0; i < ops.size(); ++i) {
    auto [it, fresh] = index.emplace(LaneOf(ops[i]), lanes.size());
    if (fresh) lanes.emplace_back();
    lanes[it->second].push_back(i);
  }
  return lanes;
}

// Shared state of one ExecuteOps call: which ops are done, and the first error.
class Execution {
 public:
  Execution(const std::vector<CapturedOp>& ops, const std::vector<std::vector<std::shared_ptr<Buffer>>>& buffers,
            const std::vector<std::vector<size_t>>& deps)
      : ops_(ops), buffers_(buffers), deps_(deps), done_(ops.size(), 0) {}

  // Runs the ops of one lane, each as soon as its dependencies are done.
  void RunLane(const std::vector<size_t>& lane) EXCLUDES(mu_) {
    std::vector<char> started(lane.size(), 0);
    size_t head = 0;
    for (;;) {
      size_t pick = lane.size();
      {
        MutexLock lock(mu_);
        for (;;) {
          if (!error_.ok()) return;
          while (head < lane.size() && started[head]) ++head;
          if (head == lane.size()) return;
          for (size_t j = head; j < lane.size() && j < head + kLookahead; ++j) {
            if (!started[j] && Ready(lane[j])) {
              pick = j;
              break;
            }
          }
          if (pick < lane.size()) break;
          lock.Wait(changed_);
        }
      }
      started[pick] = 1;
      const size_t op = lane[pick];
      Status s = Replay(ops_[op], buffers_[op]);
      {
        MutexLock lock(mu_);
        if (!s.ok() && error_.ok()) error_ = s;
        done_[op] = 1;
      }
      changed_.notify_all();
    }
  }

  Status error() EXCLUDES(mu_) {
    MutexLock lock(mu_);
    return error_;
  }

 private:
  bool Ready(size_t op) const REQUIRES(mu_) {
    for (size_t d : deps_[op])
      if (!done_[d]) return false;
    return true;
  }

  const std::vector<CapturedOp>& ops_;
  const std::vector<std::vector<std::shared_ptr<Buffer>>>& buffers_;
  const std::vector<std::vector<size_t>>& deps_;
  Mutex mu_;
  std::condition_variable changed_;  // an op finished (or failed)
  std::vector<char> done_ GUARDED_BY(mu_);
  Status error_ GUARDED_BY(mu_);
};

// Counts the lanes still running on pool threads; the caller waits for none.
class Countdown {
 public:
  explicit Countdown(size_t n) : left_(n) {}

  // One lane finished. Notifies under the lock: the waiter may destroy this object as soon
  // as it sees zero.
  void Done() EXCLUDES(mu_) {
    MutexLock lock(mu_);
    if (--left_ == 0) zero_.notify_one();
  }
  // Returns once every lane has called Done().
  void Wait() EXCLUDES(mu_) {
    MutexLock lock(mu_);
    while (left_ != 0) lock.Wait(zero_);
  }

 private:
  Mutex mu_;
  std::condition_variable zero_;
  size_t left_ GUARDED_BY(mu_);
};

}  // namespace

std::string LaneOf(const CapturedOp& op) {
  return op.kind == CapturedOp::Kind::kCopy ? op.device + " copy" : op.device;
}

std::vector<std::vector<size_t>> OpDependencies(const std::vector<std::vector<std::shared_ptr<Buffer>>>& buffers) {
  struct Access {
    std::optional<size_t> writer;  // the last op that wrote the buffer
    std::vector<size_t> readers;   // ops that read it since
  };
  std::unordered_map<const Buffer*, Access> access;
  std::vector<std::vector<size_t>> deps(buffers.size());
  for (size_t i = 0; i < buffers.size(); ++i) {
    const auto& bufs = buffers[i];
    if (bufs.empty()) continue;
    std::vector<size_t>& d = deps[i];
    for (size_t k = 1; k < bufs.size(); ++k) {
      const Access& a = access[bufs[k].get()];
      if (a.writer) d.push_back(*a.writer);
    }
    Access& out = access[bufs[0].get()];
    if (out.writer) d.push_back(*out.writer);
    for (size_t r : out.readers) d.push_back(r);
    std::sort(d.begin(), d.end());
    d.erase(std::unique(d.begin(), d.end()), d.end());
    d.erase(std::remove(d.begin(), d.end(), i), d.end());
    for (size_t k = 1; k < bufs.size(); ++k) access[bufs[k].get()].readers.push_back(i);
    Access& written = access[bufs[0].get()];
    written.writer = i;
    written.readers.clear();
  }
  return deps;
}

ExecutionPlan PlanOps(const std::vector<CapturedOp>& ops,
                      const std::vector<std::vector<std::shared_ptr<Buffer>>>& buffers) {
  ExecutionPlan plan;
  plan.lanes = Lanes(ops);
  if (plan.lanes.size() > 1) plan.deps = OpDependencies(buffers);
  return plan;
}

Status ExecuteOps(const std::vector<CapturedOp>& ops, const std::vector<std::vector<std::shared_ptr<Buffer>>>* buffers,
                  const ExecutionPlan* plan) {
  std::vector<std::vector<std::shared_ptr<Buffer>>> own;
  if (!buffers) {
    own.reserve(ops.size());
    for (const CapturedOp& op : ops) own.push_back(op.buffers);
    buffers = &own;
  }
  if (!plan && Lanes(ops).size() <= 1) {  // one device, one queue: in order, on this thread
    for (size_t i = 0; i < ops.size(); ++i) PB_RETURN_IF_ERROR(Replay(ops[i], (*buffers)[i]));
    return Status::Ok();
  }
  ExecutionPlan own_plan;
  if (!plan) {
    own_plan = PlanOps(ops, *buffers);
    plan = &own_plan;
  }
  const std::vector<std::vector<size_t>>& lanes = plan->lanes;
  if (lanes.size() <= 1) {
    for (size_t i = 0; i < ops.size(); ++i) PB_RETURN_IF_ERROR(Replay(ops[i], (*buffers)[i]));
    return Status::Ok();
  }
  Execution execution(ops, *buffers, plan->deps);
  Countdown running(lanes.size() - 1);
  for (size_t l = 1; l < lanes.size(); ++l) {
    LanePool::Global().Run([&, l] {
      execution.RunLane(lanes[l]);
      running.Done();
    });
  }
  execution.RunLane(lanes[0]);
  running.Wait();
  return execution.error();

}

}  // namespace petabox
