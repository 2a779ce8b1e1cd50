#include "devices/gpu/gpu_program.h"

#include <limits>
#include <utility>

namespace petabox {
namespace {

std::string Triple(const std::array<unsigned, 3>& v) {
  return std::to_string(v[0]) + "x" + std::to_string(v[1]) + "x" + std::to_string(v[2]);
}

}  // namespace

StatusOr<GpuLaunchGeometry> ToLaunchGeometry(const LaunchDims& dims) {
  constexpr int64_t kMax = std::numeric_limits<unsigned>::max();
  GpuLaunchGeometry geometry;
  for (int i = 0; i < 3; ++i) {
    const int64_t global = dims.global[i];
    const int64_t local = dims.local[i];
    if (local < 1 || global < 0 || local > kMax) {
      return InvalidArgument("bad GPU launch dims in dimension " + std::to_string(i) +
                             ": global " + std::to_string(global) + ", local " +
                             std::to_string(local));
    }
    const int64_t blocks = global / local + (global % local != 0 ? 1 : 0);
    if (blocks > kMax) {
      return InvalidArgument("GPU grid too large in dimension " + std::to_string(i) + ": " +
                             std::to_string(blocks) + " blocks");
    }
    if (global == 0) geometry.empty = true;
    geometry.grid[i] = static_cast<unsigned>(blocks);
    geometry.block[i] = static_cast<unsigned>(local);
  }
  return geometry;
}

GpuProgram::GpuProgram(std::shared_ptr<GpuContext> context, std::string function_name)
    : context_(std::move(context)), api_(context_->api()), function_name_(std::move(function_name)) {}

StatusOr<std::unique_ptr<GpuProgram>> GpuProgram::Load(std::shared_ptr<GpuContext> context,
                                                       const std::string& image,
                                                       const std::string& function_name) {
  // The destructor releases whatever Init created before failing.
  std::unique_ptr<GpuProgram> program(new GpuProgram(std::move(context), function_name));
  PB_RETURN_IF_ERROR(program->Init(image));
  return program;
}

Status GpuProgram::Init(const std::string& image) {
  PB_RETURN_IF_ERROR(context_->MakeCurrent());
  if (image.empty()) {
    return InvalidArgument("empty " + api_.kind + " image for kernel '" + function_name_ + "'");
  }
  const std::string load_what = "module_load (kernel '" + function_name_ + "')";
  PB_RETURN_IF_ERROR(api_.Check(api_.module_load(&module_, image.data()), load_what.c_str()));
  GpuResult r = api_.module_function(&function_, module_, function_name_.c_str());
  if (r != api_.codes.success) {
    const std::string what = "kernel function '" + function_name_ + "' not found in " + api_.kind + " module";
    Status status = api_.Check(r, what.c_str());
    const bool missing = r == api_.codes.not_found || r == api_.codes.function_missing;
    return missing ? NotFound(status.message()) : status;
  }
  PB_RETURN_IF_ERROR(api_.Check(api_.event_create(&start_, api_.event_default), "event_create"));
  return api_.Check(api_.event_create(&stop_, api_.event_default), "event_create");
}

GpuProgram::~GpuProgram() {
  if (!context_->MakeCurrent().ok()) return;
  if (start_ != nullptr) api_.event_destroy(start_);
  if (stop_ != nullptr) api_.event_destroy(stop_);
  if (module_ != nullptr) api_.module_unload(module_);
}

StatusOr<double> GpuProgram::Launch(const std::vector<void*>& args, const LaunchDims& dims) {
  PB_ASSIGN_OR_RETURN(GpuLaunchGeometry g, ToLaunchGeometry(dims));
  if (g.empty) return 0.0;
  PB_RETURN_IF_ERROR(context_->MakeCurrent());
  if (dims.shared_bytes > shared_limit_ && api_.func_set_attribute != nullptr) {
    const std::string what = "func_set_attribute '" + function_name_ + "' (" + std::to_string(dims.shared_bytes) +
                             " bytes of shared memory)";
    PB_RETURN_IF_ERROR(api_.Check(api_.func_set_attribute(function_, api_.attribute_max_dynamic_shared,
                                                          static_cast<int>(dims.shared_bytes)), what.c_str()));
    shared_limit_ = dims.shared_bytes;
  }
  const GpuStream stream = context_->stream();
  // launch_kernel takes, per parameter, a pointer to its value: here each value is a
  // device pointer.
  std::vector<GpuDevicePtr> pointers(args);
  std::vector<void*> params(args.size());
  for (size_t i = 0; i < args.size(); ++i) params[i] = &pointers[i];
  PB_RETURN_IF_ERROR(api_.Check(api_.event_record(start_, stream), "event_record"));
  GpuResult r = api_.launch_kernel(function_, g.grid[0], g.grid[1], g.grid[2], g.block[0],
                                   g.block[1], g.block[2], static_cast<unsigned>(dims.shared_bytes), stream,
                                   params.empty() ? nullptr : params.data(), nullptr);
  if (r != api_.codes.success) {
    const std::string what = "launch_kernel '" + function_name_ + "' (grid " + Triple(g.grid) +
                             ", block " + Triple(g.block) + ")";
    return api_.Check(r, what.c_str());
  }
  PB_RETURN_IF_ERROR(api_.Check(api_.event_record(stop_, stream), "event_record"));
  const std::string what = "kernel '" + function_name_ + "' failed (stream_synchronize)";
  PB_RETURN_IF_ERROR(api_.Check(api_.stream_synchronize(stream), what.c_str()));
  float milliseconds = 0;
  PB_RETURN_IF_ERROR(api_.Check(api_.event_elapsed(&milliseconds, start_, stop_), "event_elapsed"));
  return static_cast<double>(milliseconds) * 1e-3;
}

}  // namespace petabox
