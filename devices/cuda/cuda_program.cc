#include "devices/cuda/cuda_program.h"

#include <limits>
#include <utility>

namespace petabox {
namespace {

std::string Triple(const std::array<unsigned, 3>& v) {
  return std::to_string(v[0]) + "x" + std::to_string(v[1]) + "x" + std::to_string(v[2]);
}

}  // namespace

StatusOr<CudaLaunchGeometry> ToLaunchGeometry(const LaunchDims& dims) {
  constexpr int64_t kMax = std::numeric_limits<unsigned>::max();
  CudaLaunchGeometry geometry;
  for (int i = 0; i < 3; ++i) {
    const int64_t global = dims.global[i];
    const int64_t local = dims.local[i];
    if (local < 1 || global < 0 || local > kMax) {
      return InvalidArgument("bad CUDA launch dims in dimension " + std::to_string(i) +
                             ": global " + std::to_string(global) + ", local " +
                             std::to_string(local));
    }
    const int64_t blocks = global / local + (global % local != 0 ? 1 : 0);
    if (blocks > kMax) {
      return InvalidArgument("CUDA grid too large in dimension " + std::to_string(i) + ": " +
                             std::to_string(blocks) + " blocks");
    }
    if (global == 0) geometry.empty = true;
    geometry.grid[i] = static_cast<unsigned>(blocks);
    geometry.block[i] = static_cast<unsigned>(local);
  }
  return geometry;
}

CudaProgram::CudaProgram(std::shared_ptr<CudaContext> context, std::string function_name)
    : context_(std::move(context)), function_name_(std::move(function_name)) {}

StatusOr<std::unique_ptr<CudaProgram>> CudaProgram::Load(std::shared_ptr<CudaContext> context,
                                                         const std::string& image,
                                                         const std::string& function_name) {
  // The destructor releases whatever Init created before failing.
  std::unique_ptr<CudaProgram> program(new CudaProgram(std::move(context), function_name));
  PB_RETURN_IF_ERROR(program->Init(image));
  return program;
}

Status CudaProgram::Init(const std::string& image) {
  const CudaApi& api = context_->api();
  PB_RETURN_IF_ERROR(context_->MakeCurrent());
  if (image.empty()) {
    return InvalidArgument("empty CUDA image for kernel '" + function_name_ + "'");
  }
  const std::string load_what = "cuModuleLoadData (kernel '" + function_name_ + "')";
  PB_RETURN_IF_ERROR(CudaCheck(api.cuModuleLoadData(&module_, image.data()), load_what.c_str()));
  CUresult r = api.cuModuleGetFunction(&function_, module_, function_name_.c_str());
  if (r != kCudaSuccess) {
    const std::string what = "kernel function '" + function_name_ + "' not found in CUDA module";
    Status status = CudaCheck(r, what.c_str());
    return r == kCudaErrorNotFound ? NotFound(status.message()) : status;
  }
  PB_RETURN_IF_ERROR(CudaCheck(api.cuEventCreate(&start_, kCuEventDefault), "cuEventCreate"));
  return CudaCheck(api.cuEventCreate(&stop_, kCuEventDefault), "cuEventCreate");
}

CudaProgram::~CudaProgram() {
  const CudaApi& api = context_->api();
  if (!context_->MakeCurrent().ok()) return;
  if (start_ != nullptr) api.cuEventDestroy_v2(start_);
  if (stop_ != nullptr) api.cuEventDestroy_v2(stop_);
  if (module_ != nullptr) api.cuModuleUnload(module_);
}

Status CudaProgram::LaunchError(CUresult r, const CudaLaunchGeometry& geometry) const {
  const std::string what = "cuLaunchKernel '" + function_name_ + "' (grid " +
                           Triple(geometry.grid) + ", block " + Triple(geometry.block) + ")";
  return CudaCheck(r, what.c_str());
}

StatusOr<double> CudaProgram::Launch(const std::vector<void*>& args, const LaunchDims& dims) {
  PB_ASSIGN_OR_RETURN(CudaLaunchGeometry geometry, ToLaunchGeometry(dims));
  if (geometry.empty) return 0.0;
  PB_RETURN_IF_ERROR(context_->MakeCurrent());
  const CudaApi& api = context_->api();
  const CUstream stream = context_->stream();
  // cuLaunchKernel takes, per parameter, a pointer to its value: here each value is a
  // device pointer.
  std::vector<CUdeviceptr> pointers(args.size());
  std::vector<void*> params(args.size());
  for (size_t i = 0; i < args.size(); ++i) {
    pointers[i] = reinterpret_cast<CUdeviceptr>(args[i]);
    params[i] = &pointers[i];
  }
  PB_RETURN_IF_ERROR(CudaCheck(api.cuEventRecord(start_, stream), "cuEventRecord"));
  CUresult r = api.cuLaunchKernel(function_, geometry.grid[0], geometry.grid[1], geometry.grid[2],
                                  geometry.block[0], geometry.block[1], geometry.block[2], 0,
                                  stream, params.empty() ? nullptr : params.data(), nullptr);
  if (r != kCudaSuccess) return LaunchError(r, geometry);
  PB_RETURN_IF_ERROR(CudaCheck(api.cuEventRecord(stop_, stream), "cuEventRecord"));
  const std::string what = "kernel '" + function_name_ + "' failed (cuStreamSynchronize)";
  PB_RETURN_IF_ERROR(CudaCheck(api.cuStreamSynchronize(stream), what.c_str()));
  float milliseconds = 0;
  PB_RETURN_IF_ERROR(
      CudaCheck(api.cuEventElapsedTime(&milliseconds, start_, stop_), "cuEventElapsedTime"));
  return static_cast<double>(milliseconds) * 1e-3;
}

}  // namespace petabox
