#include "devices/cuda/cuda_compiler.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>

#include "devices/cpu/cpu_compiler.h"
#include "devices/binary_cache.h"
#include "engine/util/sha256.h"

namespace petabox {
namespace {

// The archs NVRTC can target, or empty when it cannot say (before 11.2, or no NVRTC).
std::vector<int> SupportedArchs(const CudaApi& api) {
  if (api.nvrtcGetNumSupportedArchs == nullptr || api.nvrtcGetSupportedArchs == nullptr) return {};
  int count = 0;
  if (api.nvrtcGetNumSupportedArchs(&count) != kNvrtcSuccess || count <= 0) return {};
  std::vector<int> archs(static_cast<size_t>(count));
  if (api.nvrtcGetSupportedArchs(archs.data()) != kNvrtcSuccess) return {};
  return archs;
}

NvrtcTarget TargetFor(const CudaApi* api, int sm) {
  if (api == nullptr || !api->has_nvrtc()) return SelectNvrtcTarget(sm, {}, false);
  return SelectNvrtcTarget(sm, SupportedArchs(*api), api->has_cubin());
}

std::string ResolveCacheDir(const std::string& cache_dir) {
  return (cache_dir.empty() ? DefaultCacheDir() : cache_dir) + "/cuda";
}

// Destroys an NVRTC program when it goes out of scope.
class ProgramGuard {
 public:
  ProgramGuard(const CudaApi& api, nvrtcProgram program) : api_(api), program_(program) {}
  ~ProgramGuard() { api_.nvrtcDestroyProgram(&program_); }
  ProgramGuard(const ProgramGuard&) = delete;
  ProgramGuard& operator=(const ProgramGuard&) = delete;

 private:
  const CudaApi& api_;
  nvrtcProgram program_;
};

std::string ProgramLog(const CudaApi& api, nvrtcProgram program) {
  size_t size = 0;
  if (api.nvrtcGetProgramLogSize(program, &size) != kNvrtcSuccess || size <= 1) return "";
  std::string log(size, '\0');
  if (api.nvrtcGetProgramLog(program, log.data()) != kNvrtcSuccess) return "";
  log.resize(size - 1);  // the size counts the terminating NUL
  return log;
}

// The CUBIN or PTX of a compiled program. PTX keeps its terminating NUL: cuModuleLoadData
// reads PTX as a C string.
StatusOr<std::string> ProgramImage(const CudaApi& api, nvrtcProgram program, bool cubin) {
  size_t size = 0;
  PB_RETURN_IF_ERROR(NvrtcCheck(cubin ? api.nvrtcGetCUBINSize(program, &size)
                                      : api.nvrtcGetPTXSize(program, &size),
                                cubin ? "nvrtcGetCUBINSize" : "nvrtcGetPTXSize"));
  std::string image(size, '\0');
  PB_RETURN_IF_ERROR(NvrtcCheck(
      cubin ? api.nvrtcGetCUBIN(program, image.data()) : api.nvrtcGetPTX(program, image.data()),
      cubin ? "nvrtcGetCUBIN" : "nvrtcGetPTX"));
  return image;
}

}  // namespace

NvrtcTarget SelectNvrtcTarget(int sm, const std::vector<int>& supported, bool can_emit_cubin) {
  const bool knows_sm =
      supported.empty() || std::find(supported.begin(), supported.end(), sm) != supported.end();
  if (knows_sm) {
    return NvrtcTarget{(can_emit_cubin ? "sm_" : "compute_") + std::to_string(sm), can_emit_cubin};
  }
  // A device newer than NVRTC: PTX for the newest arch NVRTC knows runs on it after JIT.
  int best = 0;
  for (int arch : supported) {
    if (arch <= sm) best = std::max(best, arch);
  }
  // A device older than anything NVRTC supports: ask for its own arch, so NVRTC's error
  // names the problem.
  if (best == 0) best = sm;
  return NvrtcTarget{"compute_" + std::to_string(best), false};
}

std::vector<std::string> NvrtcOptions(const NvrtcTarget& target,
                                      const CudaCompilerOptions& options) {
  std::vector<std::string> flags = {"--gpu-architecture=" + target.arch, "-default-device",
                                    "--std=c++17"};
  if (options.fast_math) flags.push_back("--use_fast_math");
  flags.insert(flags.end(), options.extra_flags.begin(), options.extra_flags.end());
  return flags;
}

CudaCompiler::CudaCompiler(const CudaApi* api, int sm, CudaCompilerOptions options)
    : api_(api),
      target_(TargetFor(api, sm)),
      nvrtc_options_(NvrtcOptions(target_, options)),
      kernel_dir_(ResolveCacheDir(options.cache_dir)) {}

std::string CudaCompiler::CachePath(const std::string& source) const {
  // NUL separators keep ("a", "bc") and ("ab", "c") from hashing alike. The NVRTC version
  // is part of the key: another NVRTC may generate different code for the same options.
  Sha256 hash;
  hash.Update("nvrtc ");
  hash.Update(std::to_string(api_->nvrtc_major) + "." + std::to_string(api_->nvrtc_minor));
  for (const std::string& flag : nvrtc_options_) {
    hash.Update(std::string_view("\0", 1));
    hash.Update(flag);
  }
  hash.Update(std::string_view("\0\0", 2));
  hash.Update(source);
  return kernel_dir_ + "/" + hash.HexDigest() + ".bin";
}

StatusOr<std::string> CudaCompiler::Compile(const std::string& source) {
  if (!api_->has_nvrtc()) {
    return Unavailable("cannot compile CUDA kernels: NVRTC unavailable: " + api_->nvrtc_error);
  }
  const std::string path = CachePath(source);
  if (std::optional<std::string> cached = ReadCacheEntry(path)) {
    cache_hits_.fetch_add(1);
    return std::move(*cached);
  }
  compiles_.fetch_add(1);
  PB_ASSIGN_OR_RETURN(std::string image, RunNvrtc(source));
  StoreCacheEntry(kernel_dir_, path, image);
  return image;
}

StatusOr<std::string> CudaCompiler::RunNvrtc(const std::string& source) const {
  const CudaApi& api = *api_;
  nvrtcProgram program = nullptr;
  PB_RETURN_IF_ERROR(NvrtcCheck(api.nvrtcCreateProgram(&program, source.c_str(),
                                                       "petabox_kernel.cu", 0, nullptr, nullptr),
                                "nvrtcCreateProgram"));
  ProgramGuard guard(api, program);
  std::vector<const char*> options;
  for (const std::string& flag : nvrtc_options_) options.push_back(flag.c_str());
  nvrtcResult r =
      api.nvrtcCompileProgram(program, static_cast<int>(options.size()), options.data());
  if (r == kNvrtcErrorCompilation) {
    return InvalidArgument("NVRTC failed: " + ProgramLog(api, program) + "\n--- source ---\n" +
                           source);
  }
  if (Status status = NvrtcCheck(r, "nvrtcCompileProgram"); !status.ok()) {
    return Status(status.code(), status.message() + ": " + ProgramLog(api, program));
  }
  return ProgramImage(api, program, target_.cubin);
}


}  // namespace petabox
