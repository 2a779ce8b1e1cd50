// Training graphs from client code: tensors built with the engine's frontend (on the
// tracing device TRACE:0, no GPU needed) captured as a graph (engine/graph_ir/capture.h),
// then written to a file or sent to petaboxd with a job. Thread-compatible.
#pragma once

#include <string>

#include "client/lib/connection.h"
#include "engine/graph_ir/capture.h"
#include "engine/nn/module.h"
#include "petabox/v1/job.pb.h"

namespace petabox::client {

// Captures `spec` and writes the graph to `path` (graph::WriteGraphFile). Errors: the
// capture's (InvalidArgument naming the node) and the file's.
Status ExportGraph(const graph::CaptureSpec& spec, const std::string& path);

// A zoo model (nn::MakeModel, initialised from `seed` exactly as a job with that seed
// initialises it) captured on TRACE:0 as a classifier graph (nn::ExportClassifier) for
// examples of `sample_shape`.
StatusOr<graph::GraphIr> ExportZooModel(const std::string& model, uint64_t seed, const std::vector<int64_t>& sample_shape,
                                        double label_smoothing = 0);

// Creates a job that trains `graph`: `spec_yaml` must say `model: graph` (and name a graph
// file, which the daemon replaces by the one sent). The daemon's errors as CreateJob
// reports them (INVALID_ARGUMENT naming the graph's node at fault).
StatusOr<v1::Job> SubmitGraphJob(const Connection& connection, const std::string& spec_yaml,
                                 const graph::GraphIr& graph, const std::string& request_id = "");

}  // namespace petabox::client
