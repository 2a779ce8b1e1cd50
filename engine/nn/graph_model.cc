#include "engine/nn/graph_model.h"

#include <set>

#include "engine/autograd.h"
#include "engine/device_source.h"
#include "engine/graph_ir/capture.h"
#include "engine/graph_ir/instantiate.h"

namespace petabox::nn {
namespace {

using graph::Initializer;
using graph::IrTensor;

// A realized tensor holding the declaration's values or its initializer's draw.
Tensor MakeTensor(const IrTensor& t, Rng& rng, const std::string& device) {
  if (!t.data.empty() || t.init.kind == Initializer::Kind::kNone) return Tensor::FromData(t.data.data(), t.shape, t.dtype, device);
  std::vector<float> v(static_cast<size_t>(Product(t.shape)));
  for (float& x : v) {
    switch (t.init.kind) {
      case Initializer::Kind::kConstant: x = static_cast<float>(t.init.a); break;
      case Initializer::Kind::kUniform: x = static_cast<float>(t.init.a + (t.init.b - t.init.a) * rng.Uniform()); break;
      default: x = static_cast<float>(t.init.a + t.init.b * rng.Normal()); break;
    }
  }
  return Tensor::FromVector(v, t.shape, t.dtype, device);
}

}  // namespace

GraphModel::GraphModel(std::shared_ptr<const graph::GraphIr> graph) : graph_(std::move(graph)) {}

StatusOr<std::unique_ptr<GraphModel>> GraphModel::Create(std::shared_ptr<const graph::GraphIr> graph, Rng& rng,
                                                         const std::string& device) {
  if (graph == nullptr) return InvalidArgument("GraphModel: no graph");
  PB_RETURN_IF_ERROR(graph::Validate(*graph));
  std::unique_ptr<GraphModel> model(new GraphModel(std::move(graph)));
  PB_RETURN_IF_ERROR(model->CreateTensors(rng, device));
  return model;
}

Status GraphModel::CreateTensors(Rng& rng, const std::string& device) {
  const graph::GraphIr& g = *graph_;
  params_.reserve(g.parameters.size());
  state_.reserve(g.state.size());
  for (const IrTensor& t : g.parameters) {
    params_.push_back(MakeTensor(t, rng, device));
    if (!params_.back().ok()) return params_.back().status();
    params_.back().RequiresGrad();
  }
  for (const IrTensor& t : g.state) {
    state_.push_back(MakeTensor(t, rng, device));
    if (!state_.back().ok()) return state_.back().status();
  }
  for (size_t i = 0; i < params_.size(); ++i) RegisterParameter(g.parameters[i].name, &params_[i]);
  for (size_t i = 0; i < state_.size(); ++i) RegisterBuffer(g.state[i].name, &state_[i]);
  return Status::Ok();
}

StatusOr<std::vector<NodeRef>> GraphModel::ConstantsOn(const std::string& device) {
  auto it = constants_.find(device);
  if (it == constants_.end()) {
    std::vector<Tensor> uploaded;
    Rng unused(0);  // constants always carry their values
    for (const IrTensor& c : graph_->constants) {
      uploaded.push_back(MakeTensor(c, unused, device));
      if (!uploaded.back().ok()) return uploaded.back().status();
    }
    it = constants_.emplace(device, std::move(uploaded)).first;
  }
  std::vector<NodeRef> nodes;
  for (const Tensor& t : it->second) nodes.push_back(t.node());
  return nodes;
}

StatusOr<std::vector<NodeRef>> GraphModel::Build(const std::vector<uint32_t>& roots,
                                                 const std::map<std::string, Tensor>& inputs) {
  const graph::GraphIr& g = *graph_;
  graph::Leaves leaves;
  leaves.inputs.resize(g.inputs.size());
  int64_t batch = -1;
  for (const auto& [name, t] : inputs) {
    if (!t.ok()) return t.status();
    const int index = g.FindInput(name);
    if (index < 0) return InvalidArgument("graph has no input named '" + name + "'");
    if (t.ndim() < 1) return InvalidArgument("graph input '" + name + "': a scalar has no batch dimension");
    if (batch < 0) batch = t.shape()[0], leaves.device = t.device();
    leaves.inputs[index] = t.node();
  }
  if (batch < 0) return InvalidArgument("graph: no inputs given");
  for (const Tensor& p : params_) leaves.parameters.push_back(p.node());
  for (const Tensor& s : state_) leaves.state.push_back(s.node());
  PB_ASSIGN_OR_RETURN(leaves.constants, ConstantsOn(leaves.device));
  auto it = resolved_.find(batch);
  if (it == resolved_.end()) {
    PB_ASSIGN_OR_RETURN(graph::ResolvedGraph r, graph::Resolve(g, batch));
    it = resolved_.emplace(batch, std::move(r)).first;
  }
  graph::InstantiateOptions options;
  // As the frontend does (engine/tensor_nn.cc PackForMatmul).
  options.pack_transposed_weights = CapabilitiesOf(leaves.device).packs_operands_for_simd;
  PB_ASSIGN_OR_RETURN(std::vector<NodeRef> nodes, graph::Instantiate(g, it->second, leaves, roots, options));
  if (NoGradGuard::Active())
    for (NodeRef& n : nodes) n = MakeNode(Op::kDetach, n->dtype, n->shape, n->device, {n});
  return nodes;
}

Tensor GraphModel::Output(const char* name, const std::map<std::string, Tensor>& inputs) {
  StatusOr<std::vector<Tensor>> out = Outputs({name}, inputs);
  if (!out.ok()) return Tensor::Error(out.status());
  return (*out)[0];
}

StatusOr<std::vector<Tensor>> GraphModel::Outputs(const std::vector<std::string>& names,
                                                  const std::map<std::string, Tensor>& inputs) {
  std::vector<uint32_t> roots;
  for (const std::string& name : names) {
    const int o = graph_->FindOutput(name);
    if (o < 0) return InvalidArgument("graph has no output named '" + name + "'");
    roots.push_back(graph_->outputs[o].node);
  }
  PB_ASSIGN_OR_RETURN(std::vector<NodeRef> nodes, Build(roots, inputs));
  return std::vector<Tensor>(nodes.begin(), nodes.end());
}

Tensor GraphModel::Forward(const Tensor& x) {
  return Output(training() ? graph::kTrainLogitsOutput : graph::kLogitsOutput, {{graph::kInputName, x}});
}

Tensor GraphModel::TrainingLoss(const Tensor& x, const Tensor& labels, double label_smoothing) {
  if (label_smoothing != 0)
    return Tensor::Error(InvalidArgument("a graph model's loss is the graph's: label_smoothing must be 0 (set it when exporting)"));
  const graph::GraphIr& g = *graph_;
  const int label = g.FindInput(graph::kLabelName);
  std::map<std::string, Tensor> inputs = {{graph::kInputName, x}};
  if (label >= 0) inputs[graph::kLabelName] = labels.ok() ? labels.Cast(g.inputs[label].dtype) : labels;
  std::vector<uint32_t> roots = {g.outputs[g.FindOutput(graph::kLossOutput)].node};
  std::vector<size_t> updated;
  for (size_t s = 0; s < g.state.size(); ++s) {
    if (g.state[s].update < 0) continue;
    roots.push_back(static_cast<uint32_t>(g.state[s].update));
    updated.push_back(s);
  }
  StatusOr<std::vector<NodeRef>> nodes = Build(roots, inputs);
  if (!nodes.ok()) return Tensor::Error(nodes.status());
  // The new state is computed now and written in place (the loss's graph does not read it).
  for (size_t k = 0; k < updated.size(); ++k) {
    Tensor r = state_[updated[k]].Assign(Tensor((*nodes)[k + 1]));
    if (!r.ok()) return r;
  }
  return Tensor((*nodes)[0]);
}

StatusOr<graph::GraphIr> ExportClassifier(Module& model, const std::vector<int64_t>& sample_shape,
                                          const ExportOptions& options) {
  graph::CaptureSpec spec;
  spec.inputs = {{graph::kInputName, sample_shape, DType::kFloat32}, {graph::kLabelName, {}, DType::kInt32}};
  std::set<const Tensor*> trainable;
  for (const auto& [name, t] : model.NamedParameters()) {
    spec.parameters.push_back({name, *t});
    trainable.insert(t);
  }
  for (const auto& [name, t] : model.NamedState())
    if (!trainable.count(t)) spec.state.push_back({name, *t});
  if (spec.parameters.empty()) return InvalidArgument("export: the model has no parameters");
  spec.device = spec.parameters[0].second.device();
  spec.batch_sizes = options.batch_sizes;
  spec.producer = options.producer;
  const bool was_training = model.training();
  spec.build = [&](const std::vector<Tensor>& in) -> StatusOr<graph::NamedTensors> {
    model.Eval();
    Tensor logits = model(in[0]);
    model.Train();
    Tensor train_logits = model(in[0]);
    Tensor loss = train_logits.CrossEntropy(in[1], options.label_smoothing);
    return graph::NamedTensors{{graph::kLossOutput, loss}, {graph::kTrainLogitsOutput, train_logits},
                               {graph::kLogitsOutput, logits}};
  };
  StatusOr<graph::GraphIr> g = graph::CaptureGraph(spec);
  model.Train(was_training);
  return g;
}

}  // namespace petabox::nn
