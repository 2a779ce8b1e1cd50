// The training graph on the wire and on disk: conversion between petabox.v1.Graph
// (proto/petabox/v1/graph.proto) and the engine's graph::GraphIr, and graph files (one
// serialized Graph). Used by petabox-worker (loading a job's graph), the CLI (export,
// submit) and the daemon. Thread-safe (no shared state).
#pragma once

#include <string>
#include <string_view>

#include "engine/graph_ir/graph_ir.h"
#include "engine/util/status.h"
#include "petabox/v1/graph.pb.h"

namespace petabox::graph {

// Field-for-field copy into the proto (`out` is overwritten).
void ToProto(const GraphIr& g, v1::Graph* out);
// Field-for-field copy from the proto; InvalidArgument naming the node or tensor for an
// enum value this build does not know. Does not validate (see ParseGraph).
StatusOr<GraphIr> FromProto(const v1::Graph& proto);

// Parses a serialized Graph and validates it (graph::Validate): InvalidArgument for bytes
// that are not a Graph, and for every error Validate reports.
StatusOr<GraphIr> ParseGraph(std::string_view bytes);
std::string SerializeGraph(const GraphIr& g);

// Graph files. Reading: NotFound for a missing file, then ParseGraph's errors prefixed
// with the path. Writing: to path.tmp, then renamed into place.
StatusOr<GraphIr> ReadGraphFile(const std::string& path);
Status WriteGraphFile(const std::string& path, const GraphIr& g);

}  // namespace petabox::graph
