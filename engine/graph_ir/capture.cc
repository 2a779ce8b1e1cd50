#include "engine/graph_ir/capture.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <set>
#include <unordered_map>

#include "engine/graph_ir/assign_capture.h"
#include "engine/graph_ir/resolve.h"

namespace petabox::graph {
namespace {

std::string Str(int64_t v) { return std::to_string(v); }

// One node of one trace, with concrete sizes.
struct TracedNode {
  Op op = Op::kConst;
  LeafKind leaf = LeafKind::kNone;
  uint32_t leaf_index = 0;
  DType dtype = DType::kFloat32;
  Shape shape;
  std::vector<uint32_t> srcs;
  std::vector<int> axes;
  std::vector<Range> ranges;
  double value = 0;
};

struct Trace {
  std::vector<TracedNode> nodes;
  std::vector<IrTensor> constants;
  std::vector<IrOutput> outputs;
  std::vector<int64_t> state_updates;  // per state tensor: node index or -1
};

StatusOr<std::string> ReadBytes(const Buffer& buffer) {
  std::string bytes(buffer.bytes(), '\0');
  PB_RETURN_IF_ERROR(buffer.CopyOut(bytes.data(), bytes.size()));
  return bytes;
}

// Walks one trace's graph (sources first, roots in order) into TracedNodes.
class TraceWalker {
 public:
  TraceWalker(const std::unordered_map<const Node*, uint32_t>& inputs,
              const std::unordered_map<const Buffer*, uint32_t>& params,
              const std::unordered_map<const Buffer*, uint32_t>& state, Trace* trace)
      : inputs_(inputs), params_(params), state_(state), trace_(trace) {}

  // The index of n's TracedNode, walking what it depends on first (iteratively: graphs
  // can be deep).
  StatusOr<uint32_t> Walk(const NodeRef& root) {
    std::vector<std::pair<const Node*, size_t>> stack;
    if (!index_.count(root.get())) stack.push_back({root.get(), 0});
    while (!stack.empty()) {
      auto& [n, next] = stack.back();
      if (next < n->srcs.size()) {
        const Node* s = n->srcs[next++].get();
        if (!index_.count(s)) stack.push_back({s, 0});
        continue;
      }
      const Node* done = n;
      stack.pop_back();
      if (index_.count(done)) continue;  // reached twice before it was emitted
      PB_RETURN_IF_ERROR(Emit(*done));
    }
    return index_.at(root.get());
  }

 private:
  Status Emit(const Node& n) {
    TracedNode t;
    t.op = n.op;
    t.dtype = n.dtype;
    t.shape = n.shape;
    for (const NodeRef& s : n.srcs) t.srcs.push_back(index_.at(s.get()));
    if (n.op == Op::kEmpty) {
      auto it = inputs_.find(&n);
      if (it == inputs_.end()) return InvalidArgument("capture: the graph reads an EMPTY tensor that is not one of its inputs");
      t.op = Op::kBuffer;
      t.leaf = LeafKind::kInput;
      t.leaf_index = it->second;
    } else if (n.op == Op::kBuffer) {
      PB_RETURN_IF_ERROR(EmitBuffer(n, &t));
    } else if (n.op == Op::kCopy || n.op == Op::kAssign) {
      return InvalidArgument(std::string("capture: the graph holds ") + Name(n.op) +
                             " (tensors on several devices, or an assignment outside the captured build)");
    } else if (auto* axes = std::get_if<std::vector<int>>(&n.arg)) {
      t.axes = *axes;
    } else if (auto* ranges = std::get_if<std::vector<Range>>(&n.arg)) {
      t.ranges = *ranges;
    } else if (auto* value = std::get_if<double>(&n.arg)) {
      t.value = *value;
    }
    index_[&n] = static_cast<uint32_t>(trace_->nodes.size());
    trace_->nodes.push_back(std::move(t));
    return Status::Ok();
  }

  Status EmitBuffer(const Node& n, TracedNode* t) {
    const Buffer* b = n.Arg<BufferArg>().buffer.get();
    t->op = Op::kBuffer;
    if (auto it = params_.find(b); it != params_.end()) {
      t->leaf = LeafKind::kParameter, t->leaf_index = it->second;
      return Status::Ok();
    }
    if (auto it = state_.find(b); it != state_.end()) {
      t->leaf = LeafKind::kState, t->leaf_index = it->second;
      return Status::Ok();
    }
    if (b->size() != n.numel()) return InvalidArgument("capture: a constant buffer's node has another size than its buffer");
    t->leaf = LeafKind::kConstant;
    auto [it, fresh] = constants_.try_emplace(&n, static_cast<uint32_t>(trace_->constants.size()));
    t->leaf_index = it->second;
    if (!fresh) return Status::Ok();
    IrTensor c;
    c.name = "constant" + Str(it->second);
    c.dtype = n.dtype;
    c.shape = n.shape;
    PB_ASSIGN_OR_RETURN(c.data, ReadBytes(*b));
    trace_->constants.push_back(std::move(c));
    return Status::Ok();
  }

  const std::unordered_map<const Node*, uint32_t>& inputs_;
  const std::unordered_map<const Buffer*, uint32_t>& params_;
  const std::unordered_map<const Buffer*, uint32_t>& state_;
  Trace* trace_;
  std::unordered_map<const Node*, uint32_t> index_;
  std::unordered_map<const Node*, uint32_t> constants_;
};

StatusOr<std::unordered_map<const Buffer*, uint32_t>> BufferIndex(const NamedTensors& tensors, const std::string& device,
                                                                   const char* kind) {
  std::unordered_map<const Buffer*, uint32_t> index;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const auto& [name, t] = tensors[i];
    if (!t.ok()) return InvalidArgument(std::string("capture: ") + kind + " '" + name + "': " + t.status().ToString());
    if (t.node()->op != Op::kBuffer)
      return InvalidArgument(std::string("capture: ") + kind + " '" + name + "' is not a realized tensor with a buffer of its own");
    if (t.device() != device)
      return InvalidArgument(std::string("capture: ") + kind + " '" + name + "' is on " + t.device() + ", not on " + device +
                             " (move the model there first)");
    index[t.node()->Arg<BufferArg>().buffer.get()] = static_cast<uint32_t>(i);
  }
  return index;
}

// One trace at batch size `batch`.
StatusOr<Trace> TraceAt(const CaptureSpec& spec, int64_t batch, const std::unordered_map<const Buffer*, uint32_t>& params,
                        const std::unordered_map<const Buffer*, uint32_t>& state) {
  std::vector<Tensor> inputs;
  std::unordered_map<const Node*, uint32_t> input_nodes;
  for (size_t i = 0; i < spec.inputs.size(); ++i) {
    Shape shape = {batch};
    shape.insert(shape.end(), spec.inputs[i].sample_shape.begin(), spec.inputs[i].sample_shape.end());
    inputs.push_back(Tensor::Empty(shape, spec.inputs[i].dtype, spec.device));
    if (!inputs.back().ok()) return inputs.back().status();
    input_nodes[inputs.back().node().get()] = static_cast<uint32_t>(i);
  }
  AssignCapture assigns;
  PB_ASSIGN_OR_RETURN(NamedTensors outputs, spec.build(inputs));
  Trace trace;
  TraceWalker walker(input_nodes, params, state, &trace);
  for (const auto& [name, t] : outputs) {
    if (!t.ok()) return InvalidArgument("capture: output '" + name + "': " + t.status().ToString());
    PB_ASSIGN_OR_RETURN(uint32_t node, walker.Walk(t.node()));
    trace.outputs.push_back({name, node});
  }
  trace.state_updates.assign(spec.state.size(), -1);
  for (const AssignCapture::Entry& e : assigns.entries()) {
    auto it = state.find(e.target->Arg<BufferArg>().buffer.get());
    if (it == state.end()) return InvalidArgument("capture: the build assigns to a tensor that is not named state");
    PB_ASSIGN_OR_RETURN(uint32_t node, walker.Walk(e.value));
    trace.state_updates[it->second] = node;  // the last assignment wins, as in place
  }
  return trace;
}

// ---------------------------------------------------------------- fitting

struct Fitter {
  const std::vector<int64_t>& batches;
  std::string where;  // "node 12 (RESHAPE)" for messages

  // values[k] at batches[k] as fixed + per_sample * N.
  StatusOr<Dim> FitDim(const std::vector<int64_t>& values, const std::string& what) const {
    const int64_t db = batches[1] - batches[0], dv = values[1] - values[0];
    Dim d;
    if (dv % db == 0) {
      d.per_sample = dv / db;
      d.fixed = values[0] - d.per_sample * batches[0];
      bool all = true;
      for (size_t k = 0; k < values.size(); ++k) all = all && d.At(batches[k]) == values[k];
      if (all) return d;
    }
    std::string seen;
    for (size_t k = 0; k < values.size(); ++k) seen += (k ? ", " : "") + Str(values[k]) + " at N=" + Str(batches[k]);
    return InvalidArgument("capture: " + where + ": " + what + " is not of the form a + b*N for batch size N (" + seen + ")");
  }

  static bool Close(double a, double b) {
    if (a == b) return true;
    return std::abs(a - b) <= 1e-9 * std::max(std::abs(a), std::abs(b));
  }
  static double Snap(double x, double scale) {
    if (std::abs(x) <= 1e-12 * scale) return 0;
    double r = std::round(x);
    return std::abs(x - r) <= 1e-9 * std::max(1.0, std::abs(x)) ? r : x;
  }
  bool Matches(const BatchScalar& s, const std::vector<double>& v) const {
    for (size_t k = 0; k < v.size(); ++k)
      if (!Close(s.At(batches[k]), v[k])) return false;
    return true;
  }

  // values[k] as c, c/N, c*N, p + q*N, or (p + q*N) / (r + N), checked against all traces.
  StatusOr<BatchScalar> FitScalar(const std::vector<double>& v) const {
    bool same = true;
    for (double x : v) same = same && std::memcmp(&x, &v[0], sizeof(double)) == 0;
    if (same) return BatchScalar{v[0], 0, 1, 0};
    bool finite = true;
    for (double x : v) finite = finite && std::isfinite(x);
    const auto n = [&](size_t k) { return static_cast<double>(batches[k]); };
    if (finite) {
      std::vector<BatchScalar> candidates = {
          {v[0] * n(0), 0, 0, 1},  // c / N
          {0, v[0] / n(0), 1, 0},  // c * N
      };
      const double q = (v[1] - v[0]) / (n(1) - n(0));
      candidates.push_back({v[0] - q * n(0), q, 1, 0});  // p + q*N
      // (p + q*N) / (r + N): p + q*N_k - v_k*r = v_k*N_k for k = 0..2, by Cramer's rule.
      double a[3][3], b[3];
      for (int k = 0; k < 3; ++k) a[k][0] = 1, a[k][1] = n(k), a[k][2] = -v[k], b[k] = v[k] * n(k);
      auto det = [](double m[3][3]) {
        return m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
               m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
      };
      const double d = det(a);
      if (d != 0) {
        double sol[3];
        for (int c = 0; c < 3; ++c) {
          double m[3][3];
          for (int r = 0; r < 3; ++r)
            for (int k = 0; k < 3; ++k) m[r][k] = k == c ? b[r] : a[r][k];
          sol[c] = det(m) / d;
        }
        const double scale = std::max({std::abs(sol[0]), std::abs(sol[1]), std::abs(sol[2]), 1.0});
        candidates.push_back({Snap(sol[0], scale), Snap(sol[1], scale), Snap(sol[2], scale), 1});
      }
      for (const BatchScalar& s : candidates)
        if (Matches(s, v)) return s;
    }
    std::string seen;
    for (size_t k = 0; k < v.size(); ++k) seen += (k ? ", " : "") + std::to_string(v[k]) + " at N=" + Str(batches[k]);
    return InvalidArgument("capture: " + where + ": the constant's value depends on the batch size in a way the graph " +
                           "cannot express (" + seen + ")");
  }
};

Status SameStructure(const TracedNode& a, const TracedNode& b, const std::string& where) {
  if (a.op != b.op || a.leaf != b.leaf || a.leaf_index != b.leaf_index || a.dtype != b.dtype || a.srcs != b.srcs ||
      a.axes != b.axes || a.shape.size() != b.shape.size() || a.ranges.size() != b.ranges.size()) {
    return InvalidArgument("capture: " + where +
                           ": the graph's structure differs between batch sizes (the model builds a different graph "
                           "for different batch sizes; it cannot be exported with a symbolic batch size)");
  }
  return Status::Ok();
}

StatusOr<IrNode> FitNode(const GraphIr& g, const std::vector<Trace>& traces, size_t i, const std::vector<int64_t>& batches) {
  const TracedNode& t0 = traces[0].nodes[i];
  IrNode n;
  n.op = t0.op;
  n.leaf = t0.leaf;
  n.leaf_index = t0.leaf_index;
  n.dtype = t0.dtype;
  n.srcs = t0.srcs;
  n.axes = t0.axes;
  std::string where = "node " + Str(i) + " (" + (t0.leaf != LeafKind::kNone ? "leaf" : Name(t0.op)) + ")";
  Fitter fit{batches, where};
  for (size_t k = 1; k < traces.size(); ++k) PB_RETURN_IF_ERROR(SameStructure(t0, traces[k].nodes[i], where));
  auto column = [&](auto get) {
    std::vector<int64_t> v;
    for (const Trace& t : traces) v.push_back(get(t.nodes[i]));
    return v;
  };
  for (size_t d = 0; d < t0.shape.size(); ++d) {
    PB_ASSIGN_OR_RETURN(Dim dim, fit.FitDim(column([&](const TracedNode& t) { return t.shape[d]; }), "dimension " + Str(d)));
    n.shape.push_back(dim);
  }
  for (size_t r = 0; r < t0.ranges.size(); ++r) {
    DimRange range;
    PB_ASSIGN_OR_RETURN(range.begin, fit.FitDim(column([&](const TracedNode& t) { return t.ranges[r].first; }), "a range"));
    PB_ASSIGN_OR_RETURN(range.end, fit.FitDim(column([&](const TracedNode& t) { return t.ranges[r].second; }), "a range"));
    n.ranges.push_back(range);
  }
  if (n.op == Op::kConst) {
    std::vector<double> values;
    for (const Trace& t : traces) values.push_back(t.nodes[i].value);
    PB_ASSIGN_OR_RETURN(n.value, fit.FitScalar(values));
  }
  return n;
}

Status CheckSpec(const CaptureSpec& spec) {
  std::set<int64_t> distinct(spec.batch_sizes.begin(), spec.batch_sizes.end());
  if (distinct.size() < 4 || spec.batch_sizes.size() != distinct.size() || *distinct.begin() < 2)
    return InvalidArgument("capture: batch_sizes must hold at least 4 distinct sizes, each >= 2");
  if (!spec.build) return InvalidArgument("capture: no build function");
  return Status::Ok();
}

StatusOr<IrTensor> DeclareTensor(const std::string& name, const Tensor& t) {
  IrTensor d;
  d.name = name;
  d.dtype = t.dtype();
  d.shape = t.shape();
  PB_ASSIGN_OR_RETURN(d.data, ReadBytes(*t.node()->Arg<BufferArg>().buffer));
  return d;
}

// The traces merged into one graph with symbolic sizes.
StatusOr<GraphIr> Merge(const CaptureSpec& spec, const std::vector<Trace>& traces) {
  GraphIr g;
  g.producer = spec.producer;
  for (const CaptureInput& in : spec.inputs) g.inputs.push_back({in.name, in.dtype, in.sample_shape});
  for (const auto& [name, t] : spec.parameters) {
    PB_ASSIGN_OR_RETURN(IrTensor d, DeclareTensor(name, t));
    g.parameters.push_back(std::move(d));
  }
  for (const auto& [name, t] : spec.state) {
    PB_ASSIGN_OR_RETURN(IrTensor d, DeclareTensor(name, t));
    g.state.push_back(std::move(d));
  }
  const Trace& t0 = traces[0];
  for (const Trace& t : traces) {
    if (t.nodes.size() != t0.nodes.size() || t.outputs.size() != t0.outputs.size() || t.state_updates != t0.state_updates ||
        t.constants.size() != t0.constants.size())
      return InvalidArgument("capture: the graph's structure differs between batch sizes (" + Str(t0.nodes.size()) +
                             " nodes at N=" + Str(spec.batch_sizes[0]) + ", " + Str(t.nodes.size()) + " at another size)");
    for (size_t o = 0; o < t.outputs.size(); ++o)
      if (t.outputs[o].name != t0.outputs[o].name || t.outputs[o].node != t0.outputs[o].node)
        return InvalidArgument("capture: output '" + t0.outputs[o].name + "' differs between batch sizes");
    for (size_t c = 0; c < t.constants.size(); ++c)
      if (t.constants[c].data != t0.constants[c].data || t.constants[c].shape != t0.constants[c].shape)
        return InvalidArgument("capture: constant tensor " + Str(c) + " " + ShapeToString(t0.constants[c].shape) +
                               " differs between batch sizes (its size or values depend on the batch, or it holds "
                               "random values drawn on the host, as Dropout's mask: not expressible in a graph)");
  }
  for (size_t i = 0; i < t0.nodes.size(); ++i) {
    PB_ASSIGN_OR_RETURN(IrNode n, FitNode(g, traces, i, spec.batch_sizes));
    g.nodes.push_back(std::move(n));
  }
  g.constants = t0.constants;
  g.outputs = t0.outputs;
  for (size_t s = 0; s < g.state.size(); ++s) g.state[s].update = t0.state_updates[s];
  return g;
}

}  // namespace

StatusOr<GraphIr> CaptureGraph(const CaptureSpec& spec) {
  PB_RETURN_IF_ERROR(CheckSpec(spec));
  PB_ASSIGN_OR_RETURN(auto params, BufferIndex(spec.parameters, spec.device, "parameter"));
  PB_ASSIGN_OR_RETURN(auto state, BufferIndex(spec.state, spec.device, "state"));
  std::vector<Trace> traces;
  for (int64_t batch : spec.batch_sizes) {
    PB_ASSIGN_OR_RETURN(Trace t, TraceAt(spec, batch, params, state));
    traces.push_back(std::move(t));
  }
  PB_ASSIGN_OR_RETURN(GraphIr g, Merge(spec, traces));
  PB_RETURN_IF_ERROR(Validate(g));
  return g;
}

}  // namespace petabox::graph
