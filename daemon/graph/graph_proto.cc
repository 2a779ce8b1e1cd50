#include "daemon/graph/graph_proto.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/graph_ir/resolve.h"

namespace petabox::graph {
namespace {

// Indexed by engine DType; the proto's values are these + 1.
constexpr v1::GraphDType kDTypes[] = {v1::DTYPE_BOOL,    v1::DTYPE_UINT8,    v1::DTYPE_INT32,  v1::DTYPE_INT64,
                                      v1::DTYPE_FLOAT16, v1::DTYPE_BFLOAT16, v1::DTYPE_FLOAT32};

// The engine op of each proto op (index: proto value); LEAF maps to kBuffer.
constexpr Op kOps[] = {
    Op::kBuffer,  // OP_UNSPECIFIED: rejected below
    Op::kExp2,   Op::kLog2,      Op::kSin,    Op::kSqrt,    Op::kRecip,  Op::kNeg,    Op::kCast,   Op::kBitcast,
    Op::kAdd,    Op::kMul,       Op::kMax,    Op::kMod,     Op::kIdiv,   Op::kCmpLt,  Op::kCmpNe,  Op::kXor,
    Op::kAnd,    Op::kOr,        Op::kWhere,  Op::kReduceSum, Op::kReduceMax, Op::kReshape, Op::kPermute,
    Op::kExpand, Op::kPad,       Op::kShrink, Op::kFlip,    Op::kDetach, Op::kConst,  Op::kContiguous, Op::kBuffer,
};
constexpr int kNumProtoOps = sizeof(kOps) / sizeof(kOps[0]);

v1::GraphNode::Op ProtoOp(const IrNode& n) {
  if (n.op == Op::kBuffer) return v1::GraphNode::LEAF;
  for (int i = 1; i < kNumProtoOps - 1; ++i)
    if (kOps[i] == n.op) return static_cast<v1::GraphNode::Op>(i);
  return v1::GraphNode::OP_UNSPECIFIED;  // EMPTY, COPY, ASSIGN: not in graphs
}

v1::GraphDType ProtoDType(DType d) { return kDTypes[static_cast<int>(d)]; }

StatusOr<DType> FromProtoDType(int d, const std::string& where) {
  if (d < 1 || d > 7) return InvalidArgument("graph " + where + ": unknown dtype " + std::to_string(d));
  return static_cast<DType>(d - 1);
}

void DimToProto(const Dim& d, v1::Dim* out) {
  out->set_fixed(d.fixed);
  out->set_per_sample(d.per_sample);
}
Dim DimFromProto(const v1::Dim& d) { return Dim{d.fixed(), d.per_sample()}; }

void TensorToProto(const IrTensor& t, v1::GraphTensor* out) {
  out->set_name(t.name);
  out->set_dtype(ProtoDType(t.dtype));
  for (int64_t s : t.shape) out->add_shape(s);
  if (!t.data.empty() || t.init.kind == Initializer::Kind::kNone) {
    out->set_data(t.data);
  } else {
    out->mutable_init()->set_kind(static_cast<v1::Initializer::Kind>(t.init.kind));
    out->mutable_init()->set_a(t.init.a);
    out->mutable_init()->set_b(t.init.b);
  }
  if (t.update >= 0) out->set_update_node(static_cast<uint32_t>(t.update));
}

StatusOr<IrTensor> TensorFromProto(const v1::GraphTensor& p, const std::string& kind) {
  IrTensor t;
  t.name = p.name();
  PB_ASSIGN_OR_RETURN(t.dtype, FromProtoDType(p.dtype(), kind + " '" + p.name() + "'"));
  t.shape.assign(p.shape().begin(), p.shape().end());
  t.data = p.data();
  if (p.has_init() && p.data().empty()) {
    if (p.init().kind() < 1 || p.init().kind() > 3)
      return InvalidArgument("graph " + kind + " '" + p.name() + "': unknown initializer kind " + std::to_string(p.init().kind()));
    t.init = {static_cast<Initializer::Kind>(p.init().kind()), p.init().a(), p.init().b()};
  } else if (p.has_init()) {
    return InvalidArgument("graph " + kind + " '" + p.name() + "': both values and an initializer");
  }
  if (p.has_update_node()) t.update = p.update_node();
  return t;
}

void NodeToProto(const IrNode& n, v1::GraphNode* out) {
  out->set_op(ProtoOp(n));
  out->set_dtype(ProtoDType(n.dtype));
  for (const Dim& d : n.shape) DimToProto(d, out->add_shape());
  for (uint32_t s : n.srcs) out->add_srcs(s);
  for (int a : n.axes) out->add_axes(a);
  for (const DimRange& r : n.ranges) {
    v1::DimRange* pr = out->add_ranges();
    DimToProto(r.begin, pr->mutable_begin());
    DimToProto(r.end, pr->mutable_end());
  }
  if (n.op == Op::kConst) {
    v1::Scalar* v = out->mutable_value();
    v->set_num_fixed(n.value.num_fixed);
    v->set_num_per_sample(n.value.num_per_sample);
    v->set_den_fixed(n.value.den_fixed);
    v->set_den_per_sample(n.value.den_per_sample);
  }
  if (n.op == Op::kBuffer) {
    out->set_leaf(static_cast<v1::GraphNode::LeafKind>(n.leaf));
    out->set_leaf_index(n.leaf_index);
  }
}

StatusOr<IrNode> NodeFromProto(const v1::GraphNode& p, size_t i) {
  const std::string where = "node " + std::to_string(i);
  IrNode n;
  if (p.op() < 1 || p.op() >= kNumProtoOps) return InvalidArgument("graph " + where + ": unknown op " + std::to_string(p.op()));
  n.op = kOps[p.op()];
  PB_ASSIGN_OR_RETURN(n.dtype, FromProtoDType(p.dtype(), where + " (" + v1::GraphNode::Op_Name(p.op()) + ")"));
  for (const v1::Dim& d : p.shape()) n.shape.push_back(DimFromProto(d));
  n.srcs.assign(p.srcs().begin(), p.srcs().end());
  n.axes.assign(p.axes().begin(), p.axes().end());
  for (const v1::DimRange& r : p.ranges()) n.ranges.push_back({DimFromProto(r.begin()), DimFromProto(r.end())});
  if (n.op == Op::kConst) {
    const v1::Scalar& v = p.value();
    const bool plain = v.den_fixed() == 0 && v.den_per_sample() == 0 && v.num_per_sample() == 0;
    n.value = {v.num_fixed(), v.num_per_sample(), plain ? 1 : v.den_fixed(), v.den_per_sample()};
  }
  if (n.op == Op::kBuffer) {
    if (p.leaf() < 1 || p.leaf() > 4) return InvalidArgument("graph " + where + " (LEAF): unknown leaf kind " + std::to_string(p.leaf()));
    n.leaf = static_cast<LeafKind>(p.leaf());
    n.leaf_index = p.leaf_index();
  }
  return n;
}

}  // namespace

void ToProto(const GraphIr& g, v1::Graph* out) {
  out->Clear();
  out->set_version(g.version);
  out->set_producer(g.producer);
  for (const IrInput& in : g.inputs) {
    v1::GraphInput* p = out->add_inputs();
    p->set_name(in.name);
    p->set_dtype(ProtoDType(in.dtype));
    for (int64_t s : in.sample_shape) p->add_sample_shape(s);
  }
  for (const IrTensor& t : g.parameters) TensorToProto(t, out->add_parameters());
  for (const IrTensor& t : g.state) TensorToProto(t, out->add_state());
  for (const IrTensor& t : g.constants) TensorToProto(t, out->add_constants());
  for (const IrNode& n : g.nodes) NodeToProto(n, out->add_nodes());
  for (const IrOutput& o : g.outputs) {
    v1::GraphOutput* p = out->add_outputs();
    p->set_name(o.name);
    p->set_node(o.node);
  }
}

StatusOr<GraphIr> FromProto(const v1::Graph& p) {
  GraphIr g;
  g.version = p.version();
  g.producer = p.producer();
  for (const v1::GraphInput& in : p.inputs()) {
    IrInput i;
    i.name = in.name();
    PB_ASSIGN_OR_RETURN(i.dtype, FromProtoDType(in.dtype(), "input '" + in.name() + "'"));
    i.sample_shape.assign(in.sample_shape().begin(), in.sample_shape().end());
    g.inputs.push_back(std::move(i));
  }
  for (const v1::GraphTensor& t : p.parameters()) {
    PB_ASSIGN_OR_RETURN(IrTensor x, TensorFromProto(t, "parameter"));
    g.parameters.push_back(std::move(x));
  }
  for (const v1::GraphTensor& t : p.state()) {
    PB_ASSIGN_OR_RETURN(IrTensor x, TensorFromProto(t, "state"));
    g.state.push_back(std::move(x));
  }
  for (const v1::GraphTensor& t : p.constants()) {
    PB_ASSIGN_OR_RETURN(IrTensor x, TensorFromProto(t, "constant"));
    g.constants.push_back(std::move(x));
  }
  g.nodes.reserve(p.nodes_size());
  for (int i = 0; i < p.nodes_size(); ++i) {
    PB_ASSIGN_OR_RETURN(IrNode n, NodeFromProto(p.nodes(i), i));
    g.nodes.push_back(std::move(n));
  }
  for (const v1::GraphOutput& o : p.outputs()) g.outputs.push_back({o.name(), o.node()});
  return g;
}

StatusOr<GraphIr> ParseGraph(std::string_view bytes) {
  v1::Graph proto;
  if (bytes.size() > INT32_MAX || !proto.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    return InvalidArgument("graph: not a serialized petabox.v1.Graph (" + std::to_string(bytes.size()) + " bytes)");
  PB_ASSIGN_OR_RETURN(GraphIr g, FromProto(proto));
  PB_RETURN_IF_ERROR(Validate(g));
  return g;
}

std::string SerializeGraph(const GraphIr& g) {
  v1::Graph proto;
  ToProto(g, &proto);
  return proto.SerializeAsString();
}

StatusOr<GraphIr> ReadGraphFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("graph file '" + path + "' cannot be opened");
  std::ostringstream bytes;
  bytes << in.rdbuf();
  StatusOr<GraphIr> g = ParseGraph(bytes.str());
  if (!g.ok()) return Status(g.status().code(), path + ": " + std::string(g.status().message()));
  return g;
}

Status WriteGraphFile(const std::string& path, const GraphIr& g) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    const std::string bytes = SerializeGraph(g);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out.flush()) return Internal("cannot write graph file '" + tmp + "'");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return Internal("cannot rename '" + tmp + "' to '" + path + "': " + ec.message());
  return Status::Ok();
}

}  // namespace petabox::graph
