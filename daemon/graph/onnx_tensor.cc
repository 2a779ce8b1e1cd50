#include "daemon/graph/onnx_tensor.h"

#include <cstring>

namespace petabox::graph::onnx_internal {
namespace {

constexpr int64_t kMaxValues = int64_t{1} << 30;

Status Bad(const onnx::TensorProto& t, const std::string& what) {
  return InvalidArgument("ONNX tensor '" + t.name() + "': " + what);
}

// Element i of the typed field that holds `dtype` when raw_data is empty.
double TypedValue(const onnx::TensorProto& t, DType dtype, int i) {
  switch (dtype) {
    case DType::kFloat32: return t.float_data(i);
    case DType::kInt64: return static_cast<double>(t.int64_data(i));
    default: return t.int32_data(i);  // int32, bool, uint8 (ONNX stores them widened)
  }
}
int TypedCount(const onnx::TensorProto& t, DType dtype) {
  switch (dtype) {
    case DType::kFloat32: return t.float_data_size();
    case DType::kInt64: return t.int64_data_size();
    default: return t.int32_data_size();
  }
}

// Element i of little-endian raw data.
double RawValue(const std::string& raw, DType dtype, int64_t i) {
  const char* p = raw.data() + i * ItemSize(dtype);
  switch (dtype) {
    case DType::kFloat32: { float v; std::memcpy(&v, p, 4); return v; }
    case DType::kInt32: { int32_t v; std::memcpy(&v, p, 4); return v; }
    case DType::kInt64: { int64_t v; std::memcpy(&v, p, 8); return static_cast<double>(v); }
    default: return static_cast<uint8_t>(*p);  // bool, uint8
  }
}
int64_t RawInt64(const std::string& raw, int64_t i) {
  int64_t v;
  std::memcpy(&v, raw.data() + 8 * i, 8);
  return v;
}

}  // namespace

StatusOr<DType> EngineDType(int onnx_type) {
  switch (onnx_type) {
    case onnx::TensorProto::FLOAT: return DType::kFloat32;
    case onnx::TensorProto::INT64: return DType::kInt64;
    case onnx::TensorProto::INT32: return DType::kInt32;
    case onnx::TensorProto::BOOL: return DType::kBool;
    case onnx::TensorProto::UINT8: return DType::kUInt8;
    default: {
      const std::string name = onnx::TensorProto::DataType_IsValid(onnx_type)
                                   ? onnx::TensorProto::DataType_Name(static_cast<onnx::TensorProto::DataType>(onnx_type))
                                   : std::to_string(onnx_type);
      return InvalidArgument("data type " + name + " is not supported (float32, int32, int64, bool, uint8)");
    }
  }
}

StatusOr<HostTensor> ReadTensor(const onnx::TensorProto& t) {
  HostTensor h;
  h.shape.assign(t.dims().begin(), t.dims().end());
  int64_t n = 1;
  for (int64_t d : h.shape) {
    if (d < 0 || d > kMaxValues) return Bad(t, "bad dimension " + std::to_string(d));
    n = d == 0 ? 0 : n * d;
    if (n > kMaxValues) return Bad(t, "too large");
  }
  if (t.data_location() == onnx::TensorProto::EXTERNAL)
    return Bad(t, "external data is not supported (save the model in one file)");
  StatusOr<DType> dtype = EngineDType(t.data_type());
  if (!dtype.ok()) return Bad(t, dtype.status().message());
  h.dtype = *dtype;
  const std::string& raw = t.raw_data();
  const bool use_raw = !raw.empty() || TypedCount(t, h.dtype) == 0;
  if (use_raw && raw.size() != static_cast<size_t>(n) * ItemSize(h.dtype))
    return Bad(t, std::to_string(raw.size()) + " bytes of data for " + std::to_string(n) + " values");
  if (!use_raw && TypedCount(t, h.dtype) != n) return Bad(t, "wrong value count");
  for (int64_t i = 0; i < n; ++i) {
    if (h.dtype == DType::kInt64) {
      h.ints.push_back(use_raw ? RawInt64(raw, i) : t.int64_data(static_cast<int>(i)));
      continue;
    }
    const double v = use_raw ? RawValue(raw, h.dtype, i) : TypedValue(t, h.dtype, static_cast<int>(i));
    if (h.IsInts()) h.ints.push_back(static_cast<int64_t>(v));
    else h.values.push_back(h.dtype == DType::kBool ? (v != 0) : v);
  }
  return h;
}

Tensor ToTensor(const HostTensor& h, const std::string& device) {
  if ((h.IsInts() ? h.ints.size() : h.values.size()) != static_cast<size_t>(Product(h.shape)))
    return Tensor::Error(InvalidArgument("ONNX tensor: value count does not match shape " + ShapeToString(h.shape)));
  std::vector<char> bytes(static_cast<size_t>(Product(h.shape)) * ItemSize(h.dtype));
  for (int64_t i = 0; i < Product(h.shape); ++i) {
    const double v = h.IsInts() ? static_cast<double>(h.ints[i]) : h.values[i];
    WriteElement(bytes.data(), h.dtype, i, v);
  }
  return Tensor::FromData(bytes.data(), h.shape, h.dtype, device);
}

}  // namespace petabox::graph::onnx_internal
