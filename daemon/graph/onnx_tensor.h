// ONNX TensorProtos on the host: initializers, Constant values and the input_*.pb /
// output_*.pb files of ONNX test data sets. Internal to daemon/graph. Thread-compatible.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/dtype.h"
#include "engine/tensor.h"
#include "onnx/onnx.pb.h"

namespace petabox::graph::onnx_internal {

// A tensor's values on the host: integers (int32, int64) in `ints`, everything else
// (float32, bool, uint8) in `values`.
struct HostTensor {
  Shape shape;
  DType dtype = DType::kFloat32;
  std::vector<double> values;
  std::vector<int64_t> ints;
  bool IsInts() const { return dtype == DType::kInt32 || dtype == DType::kInt64; }
};

// The engine type of an ONNX element type (TensorProto::DataType). InvalidArgument naming
// the type for those the engine lacks (float64, strings, ...).
StatusOr<DType> EngineDType(int onnx_type);

// The values of `t`. InvalidArgument naming the tensor for an unsupported type, external
// data, a bad dimension, more than 2^30 values, or a value count that does not match.
StatusOr<HostTensor> ReadTensor(const onnx::TensorProto& t);

// `h` as an engine tensor of its dtype on `device`.
Tensor ToTensor(const HostTensor& h, const std::string& device);

}  // namespace petabox::graph::onnx_internal
