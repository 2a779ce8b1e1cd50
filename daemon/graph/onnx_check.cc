#include "daemon/graph/onnx_check.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <vector>

#include "daemon/graph/onnx_evaluate.h"
#include "daemon/graph/onnx_tensor.h"
#include "engine/random.h"

namespace petabox::graph {
namespace {

using onnx_internal::HostTensor;

// Random inputs stay small: a symbolic dimension is 1, and no input exceeds this.
constexpr int64_t kMaxRandomValues = int64_t{1} << 24;

StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("'" + path + "' cannot be opened");
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (!in.good() && !in.eof()) return NotFound("'" + path + "' cannot be read");
  return bytes.str();
}

StatusOr<HostTensor> ReadTensorFile(const std::string& path) {
  PB_ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
  onnx::TensorProto proto;
  if (bytes.size() > INT32_MAX || !proto.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    return InvalidArgument("'" + path + "' is not an onnx.TensorProto");
  StatusOr<HostTensor> h = onnx_internal::ReadTensor(proto);
  if (!h.ok()) return InvalidArgument(path + ": " + h.status().message());
  return h;
}

// <dir>/<prefix>_0.pb, <prefix>_1.pb, ... while they exist.
StatusOr<std::vector<HostTensor>> ReadTensorFiles(const std::string& dir, const std::string& prefix) {
  std::vector<HostTensor> out;
  for (int i = 0;; ++i) {
    const std::string path = dir + "/" + prefix + "_" + std::to_string(i) + ".pb";
    if (!std::filesystem::exists(path)) return out;
    PB_ASSIGN_OR_RETURN(HostTensor h, ReadTensorFile(path));
    out.push_back(std::move(h));
  }
}

StatusOr<Tensor> RandomInput(const OnnxValueInfo& info, Rng& rng, const std::string& device) {
  Shape shape;
  for (int64_t d : info.shape) shape.push_back(d < 0 ? 1 : d);
  if (Product(shape) > kMaxRandomValues)
    return InvalidArgument("ONNX input '" + info.name + "' of shape " + ShapeToString(shape) + " is too large to fill");
  if (info.dtype == DType::kFloat32) return Tensor::Randn(shape, rng, DType::kFloat32, device);
  // Integers and booleans: small non-negative values, valid as indices of most axes.
  return Tensor::Rand(shape, rng, DType::kFloat32, device).Mul(2).Cast(info.dtype);
}

// The largest |got - want| (same shapes); *within is false when any value is out of
// tolerance.
double Compare(const std::vector<double>& got, const HostTensor& want, const OnnxCheckOptions& o,
                         bool* within) {
  double max_err = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const double w = want.IsInts() ? static_cast<double>(want.ints[i]) : want.values[i];
    const double g = got[i];
    if (std::isnan(w) || std::isnan(g)) {
      if (std::isnan(w) != std::isnan(g)) *within = false, max_err = INFINITY;
      continue;
    }
    if (w == g) continue;  // infinities of the same sign
    const double err = std::fabs(g - w);
    max_err = std::max(max_err, err);
    if (!(err <= o.atol + o.rtol * std::fabs(w))) *within = false;
  }
  return max_err;
}

OnnxCheckResult Refused(OnnxCheckResult r, const Status& s, std::string op = "") {
  r.verdict = OnnxVerdict::kRefused;
  r.message = s.message();
  r.op = std::move(op);
  return r;
}
OnnxCheckResult Failed(OnnxCheckResult r, const std::string& message) {
  r.verdict = OnnxVerdict::kFail;
  r.message = message;
  return r;
}

StatusOr<std::vector<Tensor>> Inputs(const OnnxEvaluator& e, const OnnxCheckOptions& o,
                                     std::vector<HostTensor>* expected) {
  std::vector<Tensor> inputs;
  if (o.data_dir.empty()) {
    Rng rng(o.seed);
    for (const OnnxValueInfo& info : e.inputs()) {
      PB_ASSIGN_OR_RETURN(Tensor t, RandomInput(info, rng, o.device));
      inputs.push_back(t);
    }
    return inputs;
  }
  PB_ASSIGN_OR_RETURN(std::vector<HostTensor> in, ReadTensorFiles(o.data_dir, "input"));
  PB_ASSIGN_OR_RETURN(*expected, ReadTensorFiles(o.data_dir, "output"));
  if (in.size() != e.inputs().size() || expected->size() != e.outputs().size()) {
    return InvalidArgument("the data set has " + std::to_string(in.size()) + " inputs and " +
                           std::to_string(expected->size()) + " outputs; the model takes " +
                           std::to_string(e.inputs().size()) + " and gives " + std::to_string(e.outputs().size()));
  }
  for (const HostTensor& h : in) inputs.push_back(onnx_internal::ToTensor(h, o.device));
  return inputs;
}

}  // namespace

OnnxCheckResult CheckOnnxModel(const std::string& model_path, const OnnxCheckOptions& options) {
  OnnxCheckResult r;
  r.model = model_path;
  StatusOr<std::string> bytes = ReadFile(model_path);
  if (!bytes.ok()) return Refused(r, bytes.status());
  StatusOr<std::unique_ptr<OnnxEvaluator>> e = OnnxEvaluator::Create(*bytes, options.device);
  if (!e.ok()) return Refused(r, e.status());
  std::vector<HostTensor> expected;
  StatusOr<std::vector<Tensor>> inputs = Inputs(**e, options, &expected);
  if (!inputs.ok()) return Refused(r, inputs.status());
  std::string op;
  StatusOr<std::vector<Tensor>> outputs = (*e)->Evaluate(*inputs, &op);
  if (!outputs.ok()) return Refused(r, outputs.status(), op);
  r.verdict = OnnxVerdict::kPass;
  r.compared = !options.data_dir.empty();
  bool within = true;
  for (size_t i = 0; i < outputs->size(); ++i) {
    const std::string& name = (*e)->outputs()[i].name;
    StatusOr<std::vector<double>> got = (*outputs)[i].ToDoubles();
    if (!got.ok()) return Failed(r, "computing output '" + name + "': " + got.status().message());
    if (!r.compared) continue;
    if ((*outputs)[i].shape() != expected[i].shape) {
      return Failed(r, "output '" + name + "' is " + ShapeToString((*outputs)[i].shape()) + ", expected " +
                           ShapeToString(expected[i].shape));
    }
    r.max_abs_error = std::max(r.max_abs_error, Compare(*got, expected[i], options, &within));
    if (!within) return Failed(r, "output '" + name + "' differs from the data set's beyond tolerance");
  }
  r.message = r.compared ? "outputs match" : "ran on seeded random inputs (no data set; outputs not compared)";
  return r;
}

std::string OnnxCheckJson(const OnnxCheckResult& r) {
  auto quote = [](const std::string& s) {
    std::string q = "\"";
    for (unsigned char c : s) {
      if (c == '"' || c == '\\') q += '\\', q += static_cast<char>(c);
      else if (c < 0x20) {
        char buf[8];
        std::snprintf(buf, sizeof(buf), "\\u%04x", c);
        q += buf;
      } else {
        q += static_cast<char>(c);
      }
    }
    return q + "\"";
  };
  const char* verdict = r.verdict == OnnxVerdict::kPass ? "pass" : r.verdict == OnnxVerdict::kFail ? "fail" : "refused";
  std::ostringstream out;
  out.precision(6);
  out << "{\"model\":" << quote(r.model) << ",\"result\":\"" << verdict << "\",\"compared\":"
      << (r.compared ? "true" : "false") << ",\"max_abs_error\":";
  if (r.compared && std::isfinite(r.max_abs_error)) out << r.max_abs_error;
  else out << "null";
  out << ",\"operator\":" << (r.op.empty() ? "null" : quote(r.op)) << ",\"message\":" << quote(r.message) << "}";
  return out.str();
}

}  // namespace petabox::graph
