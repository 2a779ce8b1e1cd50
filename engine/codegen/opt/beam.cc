#include "engine/codegen/opt/beam.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>
#include <random>
#include <set>
#include <thread>

#include "engine/codegen/linearize.h"
#include "engine/codegen/opt/heuristic.h"
#include "engine/codegen/render/cstyle.h"

namespace petabox {
namespace {

using Clock = std::chrono::steady_clock;
constexpr double kNotTimed = std::numeric_limits<double>::infinity();

struct Candidate {
  std::vector<Action> actions;
  Kernel kernel;
  LinearKernel linear;
  std::string source;
  std::string binary;
  std::unique_ptr<Program> program;
  Status status;
  double seconds = kNotTimed;
};

double Since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// Device buffers shaped like the kernel's, with random contents; freed on destruction.
class TimingBuffers {
 public:
  explicit TimingBuffers(Allocator& allocator) : allocator_(allocator) {}
  ~TimingBuffers() {
    for (size_t i = 0; i < ptrs_.size(); ++i) allocator_.Free(ptrs_[i], sizes_[i]);
  }
  TimingBuffers(const TimingBuffers&) = delete;
  TimingBuffers& operator=(const TimingBuffers&) = delete;

  Status Allocate(const Kernel& kernel);
  const std::vector<void*>& args() const { return ptrs_; }

 private:
  Allocator& allocator_;
  std::vector<void*> ptrs_;
  std::vector<size_t> sizes_;
};

// Elements buffer `buf` must hold: one past the largest index any of its views computes.
std::vector<int64_t> BufferElements(const Kernel& kernel) {
  std::vector<int64_t> elements(kernel.ast().buf_dtypes.size(), 1);
  std::vector<sym::ExprRef> vars;
  for (size_t i = 0; i < kernel.shape().size(); ++i) vars.push_back(sym::Var("a" + std::to_string(i), 0, kernel.shape()[i] - 1));
  auto grow = [&](int buf, const ShapeTracker& st) {
    elements[buf] = std::max(elements[buf], st.IndexExpr(vars).first->max + 1);
  };
  grow(0, kernel.ViewOf(nullptr));
  std::function<void(const KRef&)> visit = [&](const KRef& k) {
    if (k->kind == KKind::kLoad) grow(k->buf, kernel.ViewOf(k.get()));
    for (const KRef& s : k->srcs) visit(s);
  };
  visit(kernel.ast().root);
  return elements;
}

// Random bytes that are valid values of `dtype`: floats in [-1, 1), integers in [1, 8] (no
// division by zero), booleans 0/1.
std::vector<uint8_t> RandomContents(DType dtype, int64_t n, std::mt19937& rng) {
  std::vector<uint8_t> bytes(static_cast<size_t>(n * ItemSize(dtype)));
  std::uniform_real_distribution<float> real(-1.0f, 1.0f);
  std::uniform_int_distribution<int> small(1, 8);
  for (int64_t i = 0; i < n; ++i) {
    uint8_t* p = bytes.data() + i * ItemSize(dtype);
    switch (dtype) {
      case DType::kBool: *p = static_cast<uint8_t>(small(rng) & 1); break;
      case DType::kUInt8: *p = static_cast<uint8_t>(small(rng)); break;
      case DType::kInt32: { int32_t v = small(rng); std::memcpy(p, &v, 4); break; }
      case DType::kInt64: { int64_t v = small(rng); std::memcpy(p, &v, 8); break; }
      case DType::kFloat16: { uint16_t v = FloatToHalf(real(rng)); std::memcpy(p, &v, 2); break; }
      case DType::kBFloat16: { uint16_t v = FloatToBFloat16(real(rng)); std::memcpy(p, &v, 2); break; }
      case DType::kFloat32: { float v = real(rng); std::memcpy(p, &v, 4); break; }
    }
  }
  return bytes;
}

Status TimingBuffers::Allocate(const Kernel& kernel) {
  std::mt19937 rng(12345);
  std::vector<int64_t> elements = BufferElements(kernel);
  for (size_t b = 0; b < elements.size(); ++b) {
    DType dtype = kernel.ast().buf_dtypes[b];
    std::vector<uint8_t> host = RandomContents(dtype, elements[b], rng);
    PB_ASSIGN_OR_RETURN(void* ptr, allocator_.Alloc(host.size()));
    ptrs_.push_back(ptr);
    sizes_.push_back(host.size());
    PB_RETURN_IF_ERROR(allocator_.CopyIn(ptr, host.data(), host.size()));
  }
  return Status::Ok();
}

// Compiles one rendered candidate (any thread); loading is left to the caller.
void Build(Candidate& c, Device& device) {
  StatusOr<std::string> binary = device.compiler().Compile(c.source);
  if (binary.ok()) c.binary = std::move(*binary);
  else c.status = binary.status();
}

// Compiles `batch` on up to `threads` host threads, then loads the programs on this one.
void CompileAll(std::vector<Candidate*>& batch, Device& device, int threads) {
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i; (i = next.fetch_add(1)) < batch.size();) Build(*batch[i], device);
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < std::min<int>(threads, static_cast<int>(batch.size())); ++t) pool.emplace_back(work);
  work();
  for (std::thread& t : pool) t.join();
  for (Candidate* c : batch) {
    if (!c->status.ok()) continue;
    StatusOr<std::unique_ptr<Program>> program = device.LoadProgram(c->binary, c->linear.name);
    if (program.ok()) c->program = std::move(*program);
    else c->status = program.status();
  }
}

// Times one candidate: a first launch (it warms caches and pages in the code; a candidate
// over the time limit or far slower than the best stops there, unless `finish`: the
// heuristics' layout is always timed), then the median of `runs` launches.
void Time(Candidate& c, const TimingBuffers& buffers, const BeamOptions& options, double best, bool finish,
          BeamResult& result) {
  ++result.timed;
  std::vector<double> times;
  for (int run = 0; run <= std::max(1, options.runs); ++run) {
    StatusOr<double> t = c.program->Launch(buffers.args(), c.linear.dims);
    if (!t.ok()) {
      c.status = t.status();
      ++result.launch_failures;
      return;
    }
    if (run > 0) times.push_back(*t);
    if (run == 0 && !finish && (*t > options.candidate_time_limit_s || *t > options.early_stop_ratio * best)) {
      ++result.too_slow;
      return;  // never a winner: seconds stays kNotTimed
    }
  }
  std::sort(times.begin(), times.end());
  c.seconds = times[times.size() / 2];
}

class Search {
 public:
  Search(Device& device, const Dialect& dialect, const BeamOptions& options)
      : device_(device), dialect_(dialect), options_(options), buffers_(device.allocator()) {}
  StatusOr<BeamResult> Run(const Kernel& kernel);

 private:
  // Compiles and times the candidates whose source is new; returns those that ran.
  // `finish`: a candidate that is timed to the end whatever its speed.
  std::vector<Candidate*> Evaluate(std::vector<std::unique_ptr<Candidate>>& batch, const Candidate* finish = nullptr);
  std::vector<std::unique_ptr<Candidate>> Expand(const std::vector<Candidate*>& beam) const;
  int Threads() const;

  Device& device_;
  const Dialect& dialect_;
  const BeamOptions& options_;
  TimingBuffers buffers_;
  BeamResult result_;
  std::set<std::string> seen_;  // sources already timed: equal code needs no second timing
  double best_ = kNotTimed;
  std::vector<std::unique_ptr<Candidate>> all_;  // owns every candidate: beams point into it
};

int Search::Threads() const {
  if (options_.compile_threads > 0) return options_.compile_threads;
  return std::max(1u, std::thread::hardware_concurrency());
}

std::vector<Candidate*> Search::Evaluate(std::vector<std::unique_ptr<Candidate>>& batch, const Candidate* finish) {
  std::vector<Candidate*> fresh;
  for (auto& c : batch) {
    c->linear = Linearize(c->kernel);
    c->linear.dims.cost = c->linear.flops + c->linear.bytes;  // as realization sets it
    c->source = Render(c->linear, dialect_);
    if (seen_.insert(c->source).second) fresh.push_back(c.get());
  }
  CompileAll(fresh, device_, Threads());
  std::vector<Candidate*> ran;
  for (Candidate* c : fresh) {
    if (!c->status.ok()) {
      ++result_.compile_failures;
      continue;
    }
    Time(*c, buffers_, options_, best_, c == finish, result_);
    c->program.reset();  // the winner is compiled again (a compiler cache hit) by realization
    if (c->seconds == kNotTimed) continue;
    best_ = std::min(best_, c->seconds);
    ran.push_back(c);
  }
  for (auto& c : batch) all_.push_back(std::move(c));
  return ran;
}

std::vector<std::unique_ptr<Candidate>> Search::Expand(const std::vector<Candidate*>& beam) const {
  std::vector<std::unique_ptr<Candidate>> next;
  for (const Candidate* parent : beam) {
    for (const Action& a : CandidateActions(parent->kernel)) {
      auto c = std::make_unique<Candidate>(Candidate{parent->actions, parent->kernel, {}, "", "", nullptr, {}, kNotTimed});
      if (!ApplyAction(c->kernel, a).ok()) continue;
      if (c->kernel.UpcastSize() > std::max(options_.max_expanded, parent->kernel.UpcastSize())) continue;
      c->actions.push_back(a);
      next.push_back(std::move(c));
    }
  }
  return next;
}

StatusOr<BeamResult> Search::Run(const Kernel& kernel) {
  const Clock::time_point start = Clock::now();
  Kernel normalized = kernel;
  normalized.Normalize();
  PB_RETURN_IF_ERROR(buffers_.Allocate(normalized));
  // Round 0: the heuristics' layout and the plain normalized kernel.
  std::vector<std::unique_ptr<Candidate>> batch;
  batch.push_back(std::make_unique<Candidate>(Candidate{HeuristicActions(kernel), normalized, {}, "", "", nullptr, {}, kNotTimed}));
  PB_RETURN_IF_ERROR(ApplyActions(batch[0]->kernel, batch[0]->actions));
  batch.push_back(std::make_unique<Candidate>(Candidate{{}, normalized, {}, "", "", nullptr, {}, kNotTimed}));
  Candidate* heuristic = batch[0].get();
  std::vector<Candidate*> beam = Evaluate(batch, heuristic);
  if (heuristic->seconds == kNotTimed)
    return heuristic->status.ok() ? Internal("the heuristics' kernel was too slow to time") : heuristic->status;
  result_.default_seconds = heuristic->seconds;
  const Candidate* best = heuristic;
  for (Candidate* c : beam) if (c->seconds < best->seconds) best = c;
  for (int round = 1; round <= options_.max_rounds && !beam.empty() && Since(start) < options_.max_seconds; ++round) {
    std::vector<std::unique_ptr<Candidate>> next = Expand(beam);
    std::vector<Candidate*> ran = Evaluate(next);
    result_.rounds = round;
    std::sort(ran.begin(), ran.end(), [](const Candidate* a, const Candidate* b) { return a->seconds < b->seconds; });
    if (ran.size() > static_cast<size_t>(options_.width)) ran.resize(options_.width);
    if (Since(start) > options_.progress_after_s)
      std::fprintf(stderr, "beam: %s round %d: %zu candidates, best %.3f ms, %.1f s so far\n", kernel.Name().c_str(),
                   round, next.size(), (ran.empty() ? kNotTimed : ran[0]->seconds) * 1e3, Since(start));
    if (ran.empty() || ran[0]->seconds >= best->seconds) break;  // no improvement: stop
    best = ran[0];
    beam = ran;
  }
  result_.actions = best->actions;
  result_.seconds = best->seconds;
  result_.search_seconds = Since(start);
  return result_;
}

}  // namespace

StatusOr<BeamResult> BeamSearch(const Kernel& kernel, Device& device, const BeamOptions& options) {
  const Dialect* dialect = FindDialect(device.properties().dialect);
  if (!dialect) return Unimplemented("no renderer dialect '" + device.properties().dialect + "'");
  Search search(device, *dialect, options);
  return search.Run(kernel);
}

}  // namespace petabox
