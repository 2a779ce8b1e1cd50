#include "client/lib/graph_export.h"

#include "client/lib/job_client.h"
#include "daemon/graph/graph_proto.h"
#include "devices/cpu/trace_device.h"
#include "engine/nn/data_parallel.h"
#include "engine/nn/graph_model.h"
#include "engine/nn/models.h"

namespace petabox::client {

Status ExportGraph(const graph::CaptureSpec& spec, const std::string& path) {
  PB_ASSIGN_OR_RETURN(graph::GraphIr g, graph::CaptureGraph(spec));
  return graph::WriteGraphFile(path, g);
}

StatusOr<graph::GraphIr> ExportZooModel(const std::string& model, uint64_t seed, const std::vector<int64_t>& sample_shape,
                                        double label_smoothing) {
  Rng rng(seed);
  PB_ASSIGN_OR_RETURN(std::unique_ptr<nn::Module> m, nn::MakeModel(model, rng));
  PB_RETURN_IF_ERROR(nn::MoveToDevice(*m, TraceDevice::kName));
  nn::ExportOptions options;
  options.label_smoothing = label_smoothing;
  options.producer = "petabox export --model " + model + " --seed " + std::to_string(seed);
  return nn::ExportClassifier(*m, sample_shape, options);
}

StatusOr<v1::Job> SubmitGraphJob(const Connection& connection, const std::string& spec_yaml,
                                 const graph::GraphIr& graph, const std::string& request_id) {
  v1::Job job;
  job.set_spec_yaml(spec_yaml);
  job.set_graph(graph::SerializeGraph(graph));
  return JobClient(connection).CreateJob(job, request_id);
}

}  // namespace petabox::client
