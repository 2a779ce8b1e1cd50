// BEAM search: a searched kernel computes what a naive loop does; candidates that fail to
// compile, fail to launch or are too slow are skipped; results are cached on disk, found
// again without searching, and a corrupt entry is ignored with a warning.
#include "engine/codegen/opt/beam.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <random>

#include "devices/registry.h"
#include "engine/codegen/linearize.h"
#include "engine/codegen/opt/beam_cache.h"
#include "engine/codegen/opt/heuristic.h"
#include "engine/codegen/opt/optimize.h"
#include "engine/codegen/render/cstyle.h"
#include "engine/codegen/render/dialect.h"
#include "engine/exec_stats.h"
#include "engine/jit.h"
#include "engine/realize.h"
#include "engine/schedule/schedule.h"
#include "engine/tensor.h"
#include "tests/engine/codegen/opt/beam_test_device.h"

namespace petabox {
namespace {

using beamtest::FaultyDevice;
using beamtest::FaultyDevices;

// Restores the process's optimizer options when a test ends.
class OptionsGuard {
 public:
  OptionsGuard() : saved_(GetOptimizeOptions()) {}
  ~OptionsGuard() { SetOptimizeOptions(saved_); }

 private:
  OptimizeOptions saved_;
};

// Small searches: the tests show behaviour, not speed.
BeamOptions SmallSearch() {
  BeamOptions o;
  o.width = 2;
  o.max_rounds = 1;
  o.runs = 3;
  o.compile_threads = 2;
  o.progress_after_s = 1e9;
  return o;
}

std::vector<float> RandomFloats(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = u(rng);
  return v;
}

std::string Source(const Kernel& k) { return Render(Linearize(k), *FindDialect(k.props().dialect)); }

class BeamTest : public ::testing::Test {
 protected:
  BeamTest() : scope_(&devices_) {}

  // The AST of the last kernel computing a 24x40 @ 40x32 matmul on `device`.
  std::shared_ptr<const KernelAst> MatmulAst(FaultyDevice& device) {
    const std::string& name = device.properties().name;
    Tensor a = Tensor::FromVector(RandomFloats(24 * 40, 1), {24, 40}, DType::kFloat32, name);
    Tensor b = Tensor::FromVector(RandomFloats(40 * 32, 2), {40, 32}, DType::kFloat32, name);
    auto items = CreateSchedule({a.Matmul(b).Contiguous().node()});
    EXPECT_TRUE(items.ok()) << items.status().ToString();
    return items->back().ast;
  }

  // The heuristics' kernel source for `ast` on `device`.
  std::string HeuristicSource(const std::shared_ptr<const KernelAst>& ast, FaultyDevice& device) {
    Kernel k(ast, device.properties());
    ApplyHeuristics(k);
    return Source(k);
  }

  FaultyDevices devices_;
  ScopedDeviceSource scope_;
  OptionsGuard options_guard_;
};

TEST_F(BeamTest, SearchedKernelsMatchANaiveReference) {
  FaultyDevice& device = devices_.Add("BEAMT:1");
  OptimizeOptions options;
  options.beam = 2;
  options.search = SmallSearch();
  options.search.max_rounds = 2;
  SetOptimizeOptions(options);
  const int64_t m = 24, k = 40, n = 32;
  std::vector<float> av = RandomFloats(m * k, 11), bv = RandomFloats(k * n, 12);
  Tensor a = Tensor::FromVector(av, {m, k}, DType::kFloat32, "BEAMT:1");
  Tensor b = Tensor::FromVector(bv, {k, n}, DType::kFloat32, "BEAMT:1");
  const int64_t searches = GetExecTotals().searches;
  // A matmul (vectorizable over its columns) and column sums (a reduce over axis 0).
  auto c = a.Matmul(b).ToFloats();
  auto s = a.Sum({0}).ToFloats();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_GE(GetExecTotals().searches - searches, 2);
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      double ref = 0;
      for (int64_t p = 0; p < k; ++p) ref += static_cast<double>(av[i * k + p]) * bv[p * n + j];
      ASSERT_NEAR((*c)[i * n + j], ref, 1e-4) << i << "," << j;
    }
  }
  for (int64_t j = 0; j < k; ++j) {
    double ref = 0;
    for (int64_t i = 0; i < m; ++i) ref += av[i * k + j];
    ASSERT_NEAR((*s)[j], ref, 1e-4) << j;
  }
  EXPECT_EQ(device.faulty_compiler().failures.load(), 0);
}

TEST_F(BeamTest, CandidatesThatFailToCompileAreSkipped) {
  FaultyDevice& device = devices_.Add("BEAMT:2");
  auto ast = MatmulAst(device);
  const std::string heuristic = HeuristicSource(ast, device);
  device.faulty_compiler().fail = [heuristic](const std::string& source) { return source != heuristic; };
  auto result = BeamSearch(Kernel(ast, device.properties()), device, SmallSearch());
  device.faulty_compiler().fail = nullptr;
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_GT(result->compile_failures, 0);
  EXPECT_EQ(result->compile_failures, device.faulty_compiler().failures.load());
  EXPECT_EQ(result->actions, HeuristicActions(Kernel(ast, device.properties())));
  EXPECT_EQ(result->seconds, result->default_seconds);
}

TEST_F(BeamTest, CandidatesThatFailToLaunchAreSkipped) {
  FaultyDevice& device = devices_.Add("BEAMT:3");
  auto ast = MatmulAst(device);
  const std::string heuristic = HeuristicSource(ast, device);
  device.fail_launch = [heuristic](const std::string& source) { return source != heuristic; };
  auto result = BeamSearch(Kernel(ast, device.properties()), device, SmallSearch());
  device.fail_launch = nullptr;
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_GT(result->launch_failures, 0);
  EXPECT_EQ(result->actions, HeuristicActions(Kernel(ast, device.properties())));
}

// Slow candidates run once: over the time limit, or many times slower than the best.
TEST_F(BeamTest, SlowCandidatesAreStoppedAfterOneLaunch) {
  FaultyDevice& device = devices_.Add("BEAMT:4");
  auto ast = MatmulAst(device);
  const std::string heuristic = HeuristicSource(ast, device);
  device.slow = [heuristic](const std::string& source) { return source != heuristic; };
  device.delay = std::chrono::milliseconds(40);
  for (bool by_limit : {true, false}) {
    BeamOptions options = SmallSearch();
    options.candidate_time_limit_s = by_limit ? 0.02 : 1e9;
    options.early_stop_ratio = by_limit ? 1e9 : 3.0;
    const int launches = device.slow_launches.load();
    auto result = BeamSearch(Kernel(ast, device.properties()), device, options);
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    EXPECT_GT(result->too_slow, 0) << by_limit;
    EXPECT_EQ(device.slow_launches.load() - launches, result->too_slow) << by_limit;
    EXPECT_EQ(result->actions, HeuristicActions(Kernel(ast, device.properties()))) << by_limit;
  }
  device.slow = nullptr;
}

TEST_F(BeamTest, ASecondRunFindsTheResultOnDiskWithoutSearching) {
  FaultyDevice& device = devices_.Add("BEAMT:5");
  auto ast = MatmulAst(device);
  OptimizeOptions options;
  options.beam = 2;
  options.search = SmallSearch();
  SetOptimizeOptions(options);
  const ExecTotals before = GetExecTotals();
  Kernel first(ast, device.properties());
  OptimizeKernel(first, device);
  EXPECT_EQ(GetExecTotals().searches - before.searches, 1);
  BeamCache cache(device.compiler().cache_dir() + "/beam");
  const std::string key = BeamCacheKey(*ast, device, 2);
  ASSERT_TRUE(cache.Find(key).has_value()) << cache.PathOf(key);
  // Nothing is kept in memory: a fresh kernel (as in another process) reads the disk.
  Kernel second(ast, device.properties());
  OptimizeKernel(second, device);
  EXPECT_EQ(GetExecTotals().searches - before.searches, 1);
  EXPECT_EQ(GetExecTotals().search_cache_hits - before.search_cache_hits, 1);
  EXPECT_EQ(Source(second), Source(first));
}

TEST_F(BeamTest, CorruptCacheEntriesAreIgnoredWithAWarning) {
  FaultyDevice& device = devices_.Add("BEAMT:6");
  auto ast = MatmulAst(device);
  OptimizeOptions options;
  options.beam = 2;
  options.search = SmallSearch();
  SetOptimizeOptions(options);
  BeamCache cache(device.compiler().cache_dir() + "/beam");
  const std::string key = BeamCacheKey(*ast, device, 2);
  std::filesystem::create_directories(device.compiler().cache_dir() + "/beam");
  struct Case {
    std::string contents, warning;
  };
  const Case cases[] = {
      {"\x7f garbage \x01\x02", "corrupt BEAM cache entry"},
      {"petabox-beam 1\nkey " + key + "\n", "corrupt BEAM cache entry"},  // truncated
      {"petabox-beam 1\nkey " + key + "\nactions upcast:9:4\n", "ignoring BEAM cache entry"},  // no axis 9
  };
  for (const Case& c : cases) {
    std::ofstream(cache.PathOf(key), std::ios::binary | std::ios::trunc) << c.contents;
    const int64_t searches = GetExecTotals().searches;
    ::testing::internal::CaptureStderr();
    Kernel k(ast, device.properties());
    OptimizeKernel(k, device);
    std::string err = ::testing::internal::GetCapturedStderr();
    EXPECT_NE(err.find(c.warning), std::string::npos) << err;
    EXPECT_EQ(GetExecTotals().searches - searches, 1) << c.contents;
    EXPECT_TRUE(cache.Find(key).has_value()) << "the search's result replaces the bad entry";
  }
}

// The JIT replays what realization lowered: with BEAM on, the searched kernel. The
// heuristics' layout is made slow here, so the search must pick another one.
TEST_F(BeamTest, JitReplaysTheSearchedKernel) {
  FaultyDevice& device = devices_.Add("BEAMT:9");
  auto ast = MatmulAst(device);
  Kernel heuristic(ast, device.properties());
  ApplyHeuristics(heuristic);
  const std::string heuristic_name = heuristic.Name();
  device.slow = [heuristic_name](const std::string& source) { return source.find(heuristic_name) != std::string::npos; };
  OptimizeOptions options;
  options.beam = 2;
  options.search = SmallSearch();
  SetOptimizeOptions(options);
  Tensor b = Tensor::FromVector(RandomFloats(40 * 32, 2), {40, 32}, DType::kFloat32, "BEAMT:9");
  Jit jit([&](const std::vector<Tensor>& in) -> StatusOr<std::vector<Tensor>> {
    return std::vector<Tensor>{in[0].Matmul(b)};
  });
  std::vector<std::string> replayed;
  for (int call = 0; call < 3; ++call) {
    Tensor a = Tensor::FromVector(RandomFloats(24 * 40, 20 + call), {24, 40}, DType::kFloat32, "BEAMT:9");
    if (call == 2) SetKernelObserver([&](const KernelRecord& r) { replayed.push_back(r.name); });
    auto out = jit.Run({a});
    ASSERT_TRUE(out.ok()) << out.status().ToString();
  }
  SetKernelObserver(nullptr);
  device.slow = nullptr;
  ASSERT_TRUE(jit.captured());
  Kernel searched(ast, device.properties());
  OptimizeKernel(searched, device);  // the cached search result
  ASSERT_NE(searched.Name(), heuristic_name);
  EXPECT_NE(std::find(replayed.begin(), replayed.end(), searched.Name()), replayed.end()) << searched.Name();
  EXPECT_EQ(std::find(replayed.begin(), replayed.end(), heuristic_name), replayed.end());
}

// Runs `kernel` (a layout of `item`'s AST) on `device` and returns its output.
std::vector<float> RunLayout(const Kernel& kernel, const ScheduleItem& item, Device& device) {
  LinearKernel linear = Linearize(kernel);
  auto binary = device.compiler().Compile(Render(linear, *FindDialect(kernel.props().dialect)));
  EXPECT_TRUE(binary.ok()) << binary.status().ToString();
  if (!binary.ok()) return {};
  auto program = device.LoadProgram(*binary, linear.name);
  EXPECT_TRUE(program.ok()) << program.status().ToString();
  auto out = Buffer::Allocate(&device, DType::kFloat32, item.output->numel());
  EXPECT_TRUE(out.ok());
  std::vector<void*> args{(*out)->data()};
  for (const NodeRef& in : item.inputs) args.push_back(in->buffer()->data());
  EXPECT_TRUE((*program)->Launch(args, linear.dims).ok());
  std::vector<float> host(item.output->numel());
  EXPECT_TRUE((*out)->CopyOut(host.data(), host.size() * sizeof(float)).ok());
  return host;
}

// Whatever the search may pick is correct: random walks through the action space (the
// heuristics' layout and the plain one as starts) compute what the plain kernel computes,
// for a matmul, a 3x3 convolution and a sum over the outer axis.
TEST_F(BeamTest, RandomActionSequencesComputeThePlainKernelsResult) {
  FaultyDevice& device = devices_.Add("BEAMT:10");
  const std::string d = "BEAMT:10";
  Tensor a = Tensor::FromVector(RandomFloats(24 * 40, 31), {24, 40}, DType::kFloat32, d);
  Tensor b = Tensor::FromVector(RandomFloats(40 * 32, 32), {40, 32}, DType::kFloat32, d);
  Tensor img = Tensor::FromVector(RandomFloats(2 * 3 * 10 * 10, 33), {2, 3, 10, 10}, DType::kFloat32, d);
  Tensor w = Tensor::FromVector(RandomFloats(8 * 3 * 3 * 3, 34), {8, 3, 3, 3}, DType::kFloat32, d);
  std::mt19937 rng(35);
  for (const Tensor& t : {a.Matmul(b), img.Conv2d(w), a.Sum({0})}) {
    auto items = CreateSchedule({t.Contiguous().node()});
    ASSERT_TRUE(items.ok()) << items.status().ToString();
    const ScheduleItem& item = items->back();
    ASSERT_TRUE(Realize(item.inputs).ok());
    Kernel plain(item.ast, device.properties());
    plain.Normalize();
    const std::vector<float> expected = RunLayout(plain, item, device);
    for (int walk = 0; walk < 4; ++walk) {
      Kernel k(item.ast, device.properties());
      std::vector<Action> taken = walk == 0 ? HeuristicActions(k) : std::vector<Action>{};
      ASSERT_TRUE(ApplyActions(k, taken).ok());
      for (int step = 0; step < 3; ++step) {
        // Small expansions only: large ones are valid too but slow to compile in a test.
        std::vector<Action> menu;
        for (const Action& a : CandidateActions(k)) {
          Kernel next = k;
          if (ApplyAction(next, a).ok() && next.UpcastSize() <= std::max<int64_t>(64, k.UpcastSize())) menu.push_back(a);
        }
        if (menu.empty()) break;
        taken.push_back(menu[rng() % menu.size()]);
        ASSERT_TRUE(ApplyAction(k, taken.back()).ok()) << ToString(taken);
      }
      const std::vector<float> got = RunLayout(k, item, device);
      ASSERT_EQ(got.size(), expected.size());
      for (size_t i = 0; i < got.size(); ++i)
        ASSERT_NEAR(got[i], expected[i], 1e-4 * (1 + std::abs(expected[i]))) << ToString(taken) << " at " << i;
    }
  }
}

TEST_F(BeamTest, CacheKeysSeparateCompilersAndWidthsButNotDeviceIndexes) {
  FaultyDevice& device = devices_.Add("BEAMT:7");
  FaultyDevice& other = devices_.Add("BEAMT:8");
  auto ast = MatmulAst(device);
  KernelAst elsewhere = *ast;
  elsewhere.device = "BEAMT:8";
  EXPECT_EQ(BeamCacheKey(*ast, device, 2), BeamCacheKey(elsewhere, other, 2));
  EXPECT_NE(BeamCacheKey(*ast, device, 2), BeamCacheKey(*ast, device, 4));
  Device* cpu = *DeviceRegistry::Global().Get("CPU:0");  // another kind, another compiler version
  EXPECT_NE(BeamCacheKey(*ast, device, 2), BeamCacheKey(*ast, *cpu, 2));
  KernelAst doubled = *ast;
  doubled.full_shape[0] *= 2;
  EXPECT_NE(BeamCacheKey(*ast, device, 2), BeamCacheKey(doubled, device, 2));
}

}  // namespace
}  // namespace petabox
