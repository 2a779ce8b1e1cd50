#include "devices/hip/hip_program.h"

#include <limits>
#include <utility>

namespace petabox {
namespace {

std::string Triple(const std::array<unsigned, 3>& v) {
  return std::to_string(v[0]) + "x" + std::to_string(v[1]) + "x" + std::to_string(v[2]);
}

}  // namespace

StatusOr<HipLaunchGeometry> ToHipLaunchGeometry(const LaunchDims& dims) {
  constexpr int64_t kMax = std::numeric_limits<unsigned>::max();
  HipLaunchGeometry geometry;
  for (int i = 0; i < 3; ++i) {
    const int64_t global = dims.global[i];
    const int64_t local = dims.local[i];
    if (local < 1 || global < 0 || local > kMax) {
      return InvalidArgument("bad HIP launch dims in dimension " + std::to_string(i) +
                             ": global " + std::to_string(global) + ", local " +
                             std::to_string(local));
    }
    const int64_t blocks = global / local + (global % local != 0 ? 1 : 0);
    if (blocks > kMax) {
      return InvalidArgument("HIP grid too large in dimension " + std::to_string(i) + ": " +
                             std::to_string(blocks) + " blocks");
    }
    if (global == 0) geometry.empty = true;
    geometry.grid[i] = static_cast<unsigned>(blocks);
    geometry.block[i] = static_cast<unsigned>(local);
  }
  return geometry;
}

HipProgram::HipProgram(std::shared_ptr<HipContext> context, std::string function_name)
    : context_(std::move(context)), function_name_(std::move(function_name)) {}

StatusOr<std::unique_ptr<HipProgram>> HipProgram::Load(std::shared_ptr<HipContext> context,
                                                       const std::string& code_object,
                                                       const std::string& function_name) {
  // The destructor releases whatever Init created before failing.
  std::unique_ptr<HipProgram> program(new HipProgram(std::move(context), function_name));
  PB_RETURN_IF_ERROR(program->Init(code_object));
  return program;
}

Status HipProgram::Init(const std::string& code_object) {
  const HipApi& api = context_->api();
  PB_RETURN_IF_ERROR(context_->MakeCurrent());
  if (code_object.empty()) {
    return InvalidArgument("empty HIP code object for kernel '" + function_name_ + "'");
  }
  const std::string load_what = "hipModuleLoadData (kernel '" + function_name_ + "')";
  PB_RETURN_IF_ERROR(
      HipCheckWith(&api, api.hipModuleLoadData(&module_, code_object.data()), load_what.c_str()));
  HipError r = api.hipModuleGetFunction(&function_, module_, function_name_.c_str());
  if (r != kHipSuccess) {
    const std::string what = "kernel function '" + function_name_ + "' not found in HIP module";
    Status status = HipCheckWith(&api, r, what.c_str());
    // Runtimes answer a missing name with hipErrorNotFound or hipErrorInvalidDeviceFunction.
    const bool missing = r == kHipErrorNotFound || r == kHipErrorInvalidDeviceFunction;
    return missing ? NotFound(status.message()) : status;
  }
  PB_RETURN_IF_ERROR(HipCheckWith(&api, api.hipEventCreateWithFlags(&start_, kHipEventDefault),
                                  "hipEventCreateWithFlags"));
  return HipCheckWith(&api, api.hipEventCreateWithFlags(&stop_, kHipEventDefault),
                      "hipEventCreateWithFlags");
}

HipProgram::~HipProgram() {
  const HipApi& api = context_->api();
  if (!context_->MakeCurrent().ok()) return;
  if (start_ != nullptr) api.hipEventDestroy(start_);
  if (stop_ != nullptr) api.hipEventDestroy(stop_);
  if (module_ != nullptr) api.hipModuleUnload(module_);
}

Status HipProgram::LaunchError(HipError r, const HipLaunchGeometry& geometry) const {
  const std::string what = "hipModuleLaunchKernel '" + function_name_ + "' (grid " +
                           Triple(geometry.grid) + ", block " + Triple(geometry.block) + ")";
  return HipCheckWith(&context_->api(), r, what.c_str());
}

StatusOr<double> HipProgram::Launch(const std::vector<void*>& args, const LaunchDims& dims) {
  PB_ASSIGN_OR_RETURN(HipLaunchGeometry geometry, ToHipLaunchGeometry(dims));
  if (geometry.empty) return 0.0;
  PB_RETURN_IF_ERROR(context_->MakeCurrent());
  const HipApi& api = context_->api();
  const HipStream stream = context_->stream();
  // hipModuleLaunchKernel takes, per parameter, a pointer to its value: here each value
  // is a device pointer.
  std::vector<void*> pointers(args);
  std::vector<void*> params(args.size());
  for (size_t i = 0; i < args.size(); ++i) params[i] = &pointers[i];
  PB_RETURN_IF_ERROR(HipCheckWith(&api, api.hipEventRecord(start_, stream), "hipEventRecord"));
  HipError r = api.hipModuleLaunchKernel(function_, geometry.grid[0], geometry.grid[1],
                                         geometry.grid[2], geometry.block[0], geometry.block[1],
                                         geometry.block[2], 0, stream,
                                         params.empty() ? nullptr : params.data(), nullptr);
  if (r != kHipSuccess) return LaunchError(r, geometry);
  PB_RETURN_IF_ERROR(HipCheckWith(&api, api.hipEventRecord(stop_, stream), "hipEventRecord"));
  const std::string what = "kernel '" + function_name_ + "' failed (hipStreamSynchronize)";
  PB_RETURN_IF_ERROR(HipCheckWith(&api, api.hipStreamSynchronize(stream), what.c_str()));
  float milliseconds = 0;
  PB_RETURN_IF_ERROR(HipCheckWith(&api, api.hipEventElapsedTime(&milliseconds, start_, stop_),
                                  "hipEventElapsedTime"));
  return static_cast<double>(milliseconds) * 1e-3;
}

}  // namespace petabox
