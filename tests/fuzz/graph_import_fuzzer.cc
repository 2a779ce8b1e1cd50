// libFuzzer target over graph import: bytes -> petabox.v1.Graph -> GraphIr -> validation
// -> resolution at a few batch sizes -> the engine's lazy graph (leaves are EMPTY nodes on
// the tracing device, so nothing is allocated or computed). Whatever the bytes, import must
// return a Status: no crash, hang, leak or undefined behaviour (built with ASan + UBSan).
//
// Built with clang++ -fsanitize=fuzzer,address,undefined by tests/fuzz/CMakeLists.txt and
// run by ctest for a bounded time (graph_import_fuzz) over the seeds in corpus/.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "daemon/graph/graph_proto.h"
#include "engine/graph_ir/instantiate.h"
#include "engine/graph_ir/resolve.h"

namespace {

using namespace petabox;

// An EMPTY node standing for a leaf of this shape and dtype.
NodeRef Placeholder(DType dtype, const Shape& shape) {
  static int64_t next = 0;
  return MakeNode(Op::kEmpty, dtype, shape, "TRACE:0", {}, int64_t{next++});
}

void Exercise(const graph::GraphIr& g) {
  // Keep each run small: the fuzzer hunts for crashes, not for big graphs.
  graph::GraphLimits limits;
  limits.max_elements = int64_t{1} << 32;
  limits.max_batch = 64;
  for (int64_t batch : {1, 3, 64}) {
    StatusOr<graph::ResolvedGraph> r = graph::Resolve(g, batch, limits);
    if (!r.ok()) continue;
    graph::Leaves leaves;
    leaves.device = "TRACE:0";
    for (const graph::IrInput& in : g.inputs) {
      Shape shape = {batch};
      shape.insert(shape.end(), in.sample_shape.begin(), in.sample_shape.end());
      leaves.inputs.push_back(Placeholder(in.dtype, shape));
    }
    for (const graph::IrTensor& t : g.parameters) leaves.parameters.push_back(Placeholder(t.dtype, t.shape));
    for (const graph::IrTensor& t : g.state) leaves.state.push_back(Placeholder(t.dtype, t.shape));
    for (const graph::IrTensor& t : g.constants) leaves.constants.push_back(Placeholder(t.dtype, t.shape));
    std::vector<uint32_t> roots;
    for (const graph::IrOutput& o : g.outputs) roots.push_back(o.node);
    (void)graph::Instantiate(g, *r, leaves, roots);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  StatusOr<graph::GraphIr> g = graph::ParseGraph(std::string_view(reinterpret_cast<const char*>(data), size));
  if (g.ok()) Exercise(*g);
  return 0;
}
