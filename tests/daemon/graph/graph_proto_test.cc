// Graphs through the wire format: an exported zoo model survives proto and file round
// trips unchanged, and bytes that are not a valid graph get specific errors.
#include "daemon/graph/graph_proto.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>

#include "engine/nn/data_parallel.h"
#include "engine/nn/graph_model.h"
#include "engine/nn/models.h"

namespace petabox::graph {
namespace {

GraphIr ExportedCnn() {
  Rng rng(3);
  StatusOr<std::unique_ptr<nn::Module>> m = nn::MakeModel("resnet8", rng);
  EXPECT_TRUE(m.ok());
  EXPECT_TRUE(nn::MoveToDevice(**m, "TRACE:0").ok());
  StatusOr<GraphIr> g = nn::ExportClassifier(**m, {1, 28, 28});
  EXPECT_TRUE(g.ok()) << g.status().ToString();
  return g.ok() ? *g : GraphIr();
}

TEST(GraphProtoTest, RoundTripIsExact) {
  GraphIr g = ExportedCnn();
  const std::string bytes = SerializeGraph(g);
  StatusOr<GraphIr> back = ParseGraph(bytes);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(SerializeGraph(*back), bytes);
  EXPECT_EQ(back->nodes.size(), g.nodes.size());
  EXPECT_EQ(back->state.size(), g.state.size());
  const std::string path = std::filesystem::temp_directory_path() / ("pbgraph-" + std::to_string(getpid()) + ".pbgraph");
  ASSERT_TRUE(WriteGraphFile(path, g).ok());
  StatusOr<GraphIr> file = ReadGraphFile(path);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(SerializeGraph(*file), bytes);
  std::filesystem::remove(path);
}

TEST(GraphProtoTest, ErrorsNameWhatIsWrong) {
  EXPECT_NE(ParseGraph("\xff\xff\xff garbage").status().message().find("not a serialized petabox.v1.Graph"), std::string::npos);
  EXPECT_EQ(ReadGraphFile("/nonexistent/x.pbgraph").status().code(), StatusCode::kNotFound);
  v1::Graph p;
  ToProto(ExportedCnn(), &p);
  v1::Graph bad_op = p;
  bad_op.mutable_nodes(7)->set_op(static_cast<v1::GraphNode::Op>(77));
  EXPECT_EQ(ParseGraph(bad_op.SerializeAsString()).status().message(), "graph node 7: unknown op 77");
  v1::Graph bad_dtype = p;
  bad_dtype.mutable_parameters(0)->set_dtype(static_cast<v1::GraphDType>(42));
  EXPECT_NE(ParseGraph(bad_dtype.SerializeAsString()).status().message().find("unknown dtype 42"), std::string::npos);
  v1::Graph dangling = p;
  dangling.mutable_nodes(9)->set_srcs(0, 1000000);
  EXPECT_NE(ParseGraph(dangling.SerializeAsString()).status().message().find("graph node 9"), std::string::npos);
  v1::Graph both = p;
  both.mutable_parameters(0)->mutable_init()->set_kind(v1::Initializer::UNIFORM);
  EXPECT_NE(ParseGraph(both.SerializeAsString()).status().message().find("both values and an initializer"), std::string::npos);
}

TEST(GraphProtoTest, InitializersDrawFromTheSeed) {
  GraphIr g = ExportedCnn();
  for (IrTensor& t : g.parameters) t.data.clear(), t.init = {Initializer::Kind::kUniform, -0.1, 0.1};
  StatusOr<GraphIr> back = ParseGraph(SerializeGraph(g));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  Rng a(5), b(5);
  auto m1 = nn::GraphModel::Create(std::make_shared<const GraphIr>(*back), a, "TRACE:0");
  auto m2 = nn::GraphModel::Create(std::make_shared<const GraphIr>(*back), b, "TRACE:0");
  ASSERT_TRUE(m1.ok() && m2.ok());
  auto p1 = (*m1)->NamedParameters()[0].second->ToFloats(), p2 = (*m2)->NamedParameters()[0].second->ToFloats();
  ASSERT_TRUE(p1.ok() && p2.ok());
  EXPECT_EQ(*p1, *p2);
  for (float v : *p1) EXPECT_TRUE(v >= -0.1f && v <= 0.1f);
}

}  // namespace
}  // namespace petabox::graph
