// Validation of hand-made graphs: a valid one resolves at any batch size; each kind of
// malformed graph is rejected with an InvalidArgument that names what is wrong.
#include "engine/graph_ir/resolve.h"

#include <gtest/gtest.h>

#include <cctype>
#include <functional>
#include <string>
#include <vector>

namespace petabox::graph {
namespace {

IrNode Leaf(LeafKind kind, uint32_t index, DimShape shape) {
  IrNode n;
  n.op = Op::kBuffer;
  n.leaf = kind;
  n.leaf_index = index;
  n.shape = std::move(shape);
  return n;
}

IrNode OpNode(Op op, DimShape shape, std::vector<uint32_t> srcs) {
  IrNode n;
  n.op = op;
  n.shape = std::move(shape);
  n.srcs = std::move(srcs);
  return n;
}

constexpr Dim kN{0, 1};
Dim Fixed(int64_t v) { return Dim{v, 0}; }

// loss = sum(input * w): input (N, 3), w (3).
GraphIr ValidGraph() {
  GraphIr g;
  g.inputs = {{"input", DType::kFloat32, {3}}};
  IrTensor w;
  w.name = "w";
  w.shape = {3};
  w.data.assign(12, '\0');
  g.parameters = {w};
  g.nodes = {
      Leaf(LeafKind::kInput, 0, {kN, Fixed(3)}),
      Leaf(LeafKind::kParameter, 0, {Fixed(3)}),
      OpNode(Op::kReshape, {Fixed(1), Fixed(3)}, {1}),
      OpNode(Op::kExpand, {kN, Fixed(3)}, {2}),
      OpNode(Op::kMul, {kN, Fixed(3)}, {0, 3}),
      OpNode(Op::kReduceSum, {Fixed(1), Fixed(1)}, {4}),
      OpNode(Op::kReshape, {}, {5}),
  };
  g.nodes[5].axes = {0, 1};
  g.outputs = {{"loss", 6}};
  return g;
}

TEST(ResolveTest, ValidGraphResolvesAtAnyBatchSize) {
  GraphIr g = ValidGraph();
  ASSERT_TRUE(Validate(g).ok()) << Validate(g).ToString();
  StatusOr<ResolvedGraph> r = Resolve(g, 64);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->nodes[4].shape, (Shape{64, 3}));
  EXPECT_EQ(r->nodes[6].shape, Shape{});
  EXPECT_FALSE(Resolve(g, 0).ok());
}

struct Malformed {
  const char* what;
  std::function<void(GraphIr&)> mutate;
  const char* message;  // a part of the expected error
};

class MalformedGraphTest : public ::testing::TestWithParam<Malformed> {};

TEST_P(MalformedGraphTest, RejectedWithASpecificError) {
  GraphIr g = ValidGraph();
  GetParam().mutate(g);
  Status s = Validate(g);
  ASSERT_FALSE(s.ok()) << GetParam().what;
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find(GetParam().message), std::string::npos) << GetParam().what << ": " << s.message();
}

const Malformed kMalformed[] = {
    {"unknown op", [](GraphIr& g) { g.nodes[4].op = static_cast<Op>(200); }, "node 4 (op 200): unknown op 200"},
    {"unknown dtype", [](GraphIr& g) { g.nodes[4].dtype = static_cast<DType>(99); }, "node 4 (MUL): unknown dtype"},
    {"dtype mismatch", [](GraphIr& g) { g.nodes[4].dtype = DType::kInt32; }, "node 4 (MUL): dtype: sources float32 and float32, output int32"},
    {"shape mismatch", [](GraphIr& g) { g.nodes[4].shape[1] = Fixed(4); }, "node 4 (MUL): declared shape"},
    {"bad reshape", [](GraphIr& g) { g.nodes[2].shape = {Fixed(2), Fixed(2)}; }, "node 2 (RESHAPE): cannot reshape (3,) to (2, 2)"},
    {"bad expand", [](GraphIr& g) { g.nodes[3].shape = {kN, Fixed(4)}; }, "node 3 (EXPAND): cannot expand"},
    {"dangling source", [](GraphIr& g) { g.nodes[4].srcs = {0, 99}; }, "node 4 (MUL): source 99 is not an earlier node (dangling reference"},
    {"cycle", [](GraphIr& g) { g.nodes[2].srcs = {5}; }, "node 2 (RESHAPE): source 5 is not an earlier node (a cycle"},
    {"self loop", [](GraphIr& g) { g.nodes[4].srcs = {0, 4}; }, "node 4 (MUL): source 4 is not an earlier node (a cycle"},
    {"arity", [](GraphIr& g) { g.nodes[4].srcs = {0}; }, "node 4 (MUL): 1 sources, MUL takes 2"},
    {"op not allowed", [](GraphIr& g) { g.nodes[4].op = Op::kCopy; g.nodes[4].srcs = {0}; }, "node 4 (COPY): op COPY is not allowed"},
    {"bad axes", [](GraphIr& g) { g.nodes[5].axes = {0, 0}; }, "node 5 (SUM): axis 0 is out of range or repeated"},
    {"axis out of range", [](GraphIr& g) { g.nodes[5].axes = {7}; }, "node 5 (SUM): axis 7"},
    {"leaf index", [](GraphIr& g) { g.nodes[1].leaf_index = 5; }, "node 1 (PARAMETER): refers to leaf 5, which does not exist"},
    {"leaf shape", [](GraphIr& g) { g.nodes[1].shape = {Fixed(4)}; }, "node 1 (PARAMETER): declared float32(4,) but the leaf is float32(3,)"},
    {"absurd dimension", [](GraphIr& g) { g.nodes[3].shape[1] = Fixed(int64_t{1} << 40); }, "node 3 (EXPAND): a dimension is out of range"},
    {"absurd tensor", [](GraphIr& g) { g.parameters[0].shape = {int64_t{1} << 40}; }, "parameter 'w': shape (1099511627776,) is negative or too large"},
    {"absurd elements", [](GraphIr& g) { g.nodes[3].shape = {Fixed(int64_t{1} << 30), Fixed(int64_t{1} << 30)}; }, "node 3 (EXPAND): shape (1073741824, 1073741824) has too many elements"},
    {"negative dimension", [](GraphIr& g) { g.nodes[3].shape[0] = Dim{-5, 1}; }, "node 3 (EXPAND): dimension -4 at batch size 1 is out of range"},
    {"values size", [](GraphIr& g) { g.parameters[0].data = "abc"; }, "parameter 'w': 3 bytes of values, 12 expected"},
    {"int parameter", [](GraphIr& g) { g.parameters[0].dtype = DType::kInt32; }, "parameter 'w': int32 is not a float dtype"},
    {"duplicate name", [](GraphIr& g) { g.state = {g.parameters[0]}; }, "the name 'w' is used twice"},
    {"no loss", [](GraphIr& g) { g.outputs[0].name = "out"; }, "no output named 'loss'"},
    {"loss not scalar", [](GraphIr& g) { g.outputs[0].node = 4; }, "output 'loss': must be a float scalar"},
    {"dangling output", [](GraphIr& g) { g.outputs[0].node = 70; }, "output 'loss': node 70 does not exist"},
    {"version", [](GraphIr& g) { g.version = 2; }, "version 2 is not supported"},
    {"no nodes", [](GraphIr& g) { g.nodes.clear(); }, "graph: no nodes"},
    {"const not scalar", [](GraphIr& g) { g.nodes[2] = OpNode(Op::kConst, {Fixed(1), Fixed(3)}, {}); }, "node 2 (CONST): CONST must be a scalar"},
    {"const zero denominator", [](GraphIr& g) {
       IrNode last = g.nodes[6];
       g.nodes.push_back(last);  // node 7 is the old node 6; node 6 becomes a CONST
       g.nodes[6] = OpNode(Op::kConst, {}, {});
       g.nodes[6].value = {1, 0, 0, 0};
       g.outputs[0].node = 6;
     }, "node 6 (CONST): constant with a zero denominator"},
    {"shrink out of range", [](GraphIr& g) {
       g.nodes[3] = OpNode(Op::kShrink, {Fixed(1), Fixed(3)}, {2});
       g.nodes[3].ranges = {{Fixed(0), Fixed(1)}, {Fixed(0), Fixed(4)}};
       g.nodes[3].shape = {Fixed(1), Fixed(4)};
     }, "node 3 (SHRINK): range (0, 4) does not fit dimension 1 of (1, 3)"},
    {"state update shape", [](GraphIr& g) {
       IrTensor s = g.parameters[0];
       s.name = "running";
       s.update = 4;
       g.state = {s};
     }, "state 'running': update node 4 (MUL) is float32(1, 3)"},
    {"too deep", [](GraphIr& g) {
       g.nodes.resize(6);
       for (int i = 0; i < 20001; ++i) g.nodes.push_back(OpNode(Op::kNeg, {Fixed(1), Fixed(1)}, {static_cast<uint32_t>(g.nodes.size() - 1)}));
       g.nodes.push_back(OpNode(Op::kReshape, {}, {static_cast<uint32_t>(g.nodes.size() - 1)}));
       g.outputs[0].node = static_cast<uint32_t>(g.nodes.size() - 1);
     }, "the graph is deeper than 20000 nodes"},
};

INSTANTIATE_TEST_SUITE_P(All, MalformedGraphTest, ::testing::ValuesIn(kMalformed),
                         [](const ::testing::TestParamInfo<Malformed>& info) {
                           std::string name = info.param.what;
                           for (char& c : name) c = std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
                           return name;
                         });

}  // namespace
}  // namespace petabox::graph
