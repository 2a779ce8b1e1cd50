// Optimization actions: what each does to the layout, which ones are refused and why, and
// that the heuristics' choice is an action list reproducing their kernels exactly.
#include "engine/codegen/opt/action.h"

#include <gtest/gtest.h>

#include "engine/codegen/linearize.h"
#include "engine/codegen/opt/heuristic.h"
#include "engine/codegen/render/cstyle.h"
#include "engine/codegen/render/dialect.h"
#include "engine/schedule/schedule.h"
#include "engine/tensor.h"

namespace petabox {
namespace {

// The AST of the last kernel computing `t` (on the CPU).
std::shared_ptr<const KernelAst> AstOf(const Tensor& t) {
  auto items = CreateSchedule({t.Contiguous().node()});
  EXPECT_TRUE(items.ok()) << items.status().ToString();
  return items->back().ast;
}

Tensor CpuRand(const Shape& shape, uint64_t seed) {
  Rng rng(seed);
  return Tensor::Rand(shape, rng, DType::kFloat32, "CPU");
}

DeviceProperties CpuProps() {
  DeviceProperties p;
  p.name = "CPU:0";
  p.kind = "CPU";
  p.dialect = "c";
  p.vector_bytes = 32;
  p.capabilities.loops_over_chunks = true;
  return p;
}

DeviceProperties GpuProps() {
  DeviceProperties p;
  p.name = "CUDA:0";
  p.kind = "CUDA";
  p.dialect = "cuda";
  return p;
}

// A normalized 32x48 @ 48x40 matmul: axes (32 global, 40 global, 48 reduce).
Kernel Matmul(const DeviceProperties& props) {
  Kernel k(AstOf(CpuRand({32, 48}, 1).Matmul(CpuRand({48, 40}, 2))), props);
  k.Normalize();
  return k;
}

std::string Layout(const Kernel& k) {
  std::string s;
  for (size_t i = 0; i < k.shape().size(); ++i)
    s += std::to_string(k.shape()[i]) + "ggrud"[static_cast<int>(k.kinds()[i])] + (static_cast<int>(i) == k.vector_axis() ? "v" : "") + " ";
  return s;
}

std::string Source(const Kernel& k) { return Render(Linearize(k), *FindDialect(k.props().dialect)); }

TEST(ActionTest, NormalizedMatmulHasTwoGlobalAxesAndOneReduce) {
  EXPECT_EQ(Layout(Matmul(CpuProps())), "32g 40g 48r ");
}

TEST(ActionTest, ValidActionsSplitAndMarkAxes) {
  Kernel k = Matmul(CpuProps());
  ASSERT_TRUE(ApplyAction(k, {ActionKind::kUpcast, 0, 4}).ok());
  EXPECT_EQ(Layout(k), "8g 40g 48r 4u ");
  ASSERT_TRUE(ApplyAction(k, {ActionKind::kVectorize, 1, 8}).ok());
  EXPECT_EQ(Layout(k), "8g 5g 48r 4u 8uv ");
  ASSERT_TRUE(ApplyAction(k, {ActionKind::kUnroll, 2, 4}).ok());
  EXPECT_EQ(Layout(k), "8g 5g 12r 4u 8uv 4d ");
  ASSERT_TRUE(ApplyAction(k, {ActionKind::kLoopOrder, 1, 0}).ok());
  EXPECT_EQ(Layout(k), "5g 8g 12r 4u 8uv 4d ");
}

TEST(ActionTest, VectorizingAReduceAxisMakesUnrolledLanes) {
  Kernel k = Matmul(CpuProps());
  ASSERT_TRUE(ApplyAction(k, {ActionKind::kVectorize, 2, 8}).ok());
  EXPECT_EQ(Layout(k), "32g 40g 6r 8dv ");
}

TEST(ActionTest, InvalidActionsAreRefusedWithAReasonAndChangeNothing) {
  struct Case {
    Action action;
    const char* reason;
  };
  const Case cases[] = {
      {{ActionKind::kUpcast, 3, 4}, "axis out of range"},
      {{ActionKind::kUpcast, -1, 4}, "axis out of range"},
      {{ActionKind::kUpcast, 0, 5}, "does not divide"},
      {{ActionKind::kUpcast, 0, 1}, "does not divide"},
      {{ActionKind::kUpcast, 2, 4}, "not a global axis"},
      {{ActionKind::kUnroll, 0, 4}, "not a reduce axis"},
      {{ActionKind::kVectorize, 1, 6}, "power of two"},
      {{ActionKind::kVectorize, 1, 32}, "power of two"},
      {{ActionKind::kGroup, 2, 16}, "no block-shared memory"},
      {{ActionKind::kLoopOrder, 0, 0}, "another global position"},
      {{ActionKind::kLoopOrder, 2, 0}, "another global position"},
  };
  for (const Case& c : cases) {
    Kernel k = Matmul(CpuProps());
    Status s = ApplyAction(k, c.action);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << ToString(c.action);
    EXPECT_NE(s.message().find(c.reason), std::string::npos) << ToString(c.action) << ": " << s.message();
    EXPECT_EQ(Layout(k), "32g 40g 48r ") << ToString(c.action);
  }
}

TEST(ActionTest, ASecondVectorAndOversizedTilesAreRefused) {
  Kernel k = Matmul(CpuProps());
  ASSERT_TRUE(ApplyAction(k, {ActionKind::kVectorize, 1, 8}).ok());
  EXPECT_NE(ApplyAction(k, {ActionKind::kVectorize, 0, 8}).message().find("already vectorized"), std::string::npos);
  ASSERT_TRUE(ApplyAction(k, {ActionKind::kUpcast, 0, 32}).ok());  // 8 * 32 = 256 elements
  ASSERT_TRUE(ApplyAction(k, {ActionKind::kUnroll, 2, 4}).ok());   // 1024
  EXPECT_NE(ApplyAction(k, {ActionKind::kUnroll, 2, 2}).message().find("exceed"), std::string::npos);
}

TEST(ActionTest, GpuGroupsButDoesNotVectorize) {
  Kernel k = Matmul(GpuProps());
  EXPECT_NE(ApplyAction(k, {ActionKind::kVectorize, 1, 8}).message().find("no vector types"), std::string::npos);
  ASSERT_TRUE(ApplyAction(k, {ActionKind::kGroup, 2, 16}).ok());
  EXPECT_EQ(Layout(k), "32g 40g 16g 3r ");  // g for global and group alike
  EXPECT_EQ(k.kinds()[2], AxisKind::kGroup);
  // One accumulator per thread: no register tile once grouped, and one group only.
  EXPECT_NE(ApplyAction(k, {ActionKind::kUpcast, 0, 4}).message().find("grouped"), std::string::npos);
  EXPECT_FALSE(ApplyAction(k, {ActionKind::kGroup, 3, 3}).ok());
}

TEST(ActionTest, VectorizeNeedsAFloatSum) {
  Tensor x = CpuRand({16, 64}, 3);
  Kernel k(AstOf(x.Max({1})), CpuProps());
  k.Normalize();
  EXPECT_NE(ApplyAction(k, {ActionKind::kVectorize, 1, 8}).message().find("float32 sums"), std::string::npos);
}

TEST(ActionTest, ActionListsRoundTripThroughText) {
  std::vector<Action> actions = {{ActionKind::kVectorize, 1, 8}, {ActionKind::kUpcast, 0, 4},
                                 {ActionKind::kUnroll, 2, 16}, {ActionKind::kGroup, 2, 256},
                                 {ActionKind::kLoopOrder, 1, 0}};
  std::string text = ToString(actions);
  EXPECT_EQ(text, "vectorize:1:8,upcast:0:4,unroll:2:16,group:2:256,looporder:1:0");
  auto parsed = ParseActions(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(*parsed, actions);
  EXPECT_TRUE(ParseActions("")->empty());
  for (const char* bad : {"upcast", "upcast:1", "bogus:1:2", "upcast:x:2", "upcast:1:2x", "upcast:1:", ",upcast:1:2"})
    EXPECT_EQ(ParseActions(bad).status().code(), StatusCode::kInvalidArgument) << bad;
}

// The heuristics are an action list: replaying it gives exactly their kernel, on the CPU
// and on a GPU dialect, for a matmul, a convolution, a reduction and an elementwise op.
TEST(ActionTest, HeuristicActionsReproduceTheHeuristicsKernel) {
  Tensor img = CpuRand({2, 3, 10, 10}, 4), w = CpuRand({8, 3, 3, 3}, 5);
  std::vector<std::shared_ptr<const KernelAst>> asts = {
      AstOf(CpuRand({32, 48}, 1).Matmul(CpuRand({48, 40}, 2))), AstOf(img.Conv2d(w)),
      AstOf(CpuRand({300, 70}, 6).Sum({0})), AstOf(CpuRand({300, 7000}, 7).Sum({1})),
      AstOf(CpuRand({30, 70}, 8) * 2.0 + 1.0)};
  for (const DeviceProperties& props : {CpuProps(), GpuProps()}) {
    for (const auto& ast : asts) {
      Kernel by_heuristics(ast, props), by_actions(ast, props);
      ApplyHeuristics(by_heuristics);
      std::vector<Action> actions = HeuristicActions(by_actions);
      ASSERT_TRUE(ApplyActions(by_actions, actions).ok()) << ToString(actions);
      EXPECT_EQ(Source(by_actions), Source(by_heuristics)) << props.dialect << " " << ToString(actions);
    }
  }
}

TEST(ActionTest, CandidateActionsAreAllValid) {
  for (const DeviceProperties& props : {CpuProps(), GpuProps()}) {
    Kernel k = Matmul(props);
    std::vector<Action> menu = CandidateActions(k);
    EXPECT_GE(menu.size(), 8u) << props.dialect;
    for (const Action& a : menu) {
      Kernel copy = k;
      EXPECT_TRUE(ApplyAction(copy, a).ok()) << ToString(a);
    }
  }
}

}  // namespace
}  // namespace petabox
