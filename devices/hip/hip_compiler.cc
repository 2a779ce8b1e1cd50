#include "devices/hip/hip_compiler.h"

#include <fcntl.h>
#include <unistd.h>

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

std::string ResolveCacheDir(const std::string& cache_dir) {
  return (cache_dir.empty() ? DefaultCacheDir() : cache_dir) + "/hip";
}

// Destroys a hiprtc program when it goes out of scope.
class ProgramGuard {
 public:
  ProgramGuard(const HipApi& api, HiprtcProgram program) : api_(api), program_(program) {}
  ~ProgramGuard() { api_.hiprtcDestroyProgram(&program_); }
  ProgramGuard(const ProgramGuard&) = delete;
  ProgramGuard& operator=(const ProgramGuard&) = delete;

 private:
  const HipApi& api_;
  HiprtcProgram program_;
};

std::string ProgramLog(const HipApi& api, HiprtcProgram program) {
  size_t size = 0;
  if (api.hiprtcGetProgramLogSize(program, &size) != kHiprtcSuccess || size == 0) return "";
  std::string log(size, '\0');
  if (api.hiprtcGetProgramLog(program, log.data()) != kHiprtcSuccess) return "";
  while (!log.empty() && log.back() == '\0') log.pop_back();  // the size may count a NUL
  return log;
}

StatusOr<std::string> ProgramCode(const HipApi& api, HiprtcProgram program) {
  size_t size = 0;
  PB_RETURN_IF_ERROR(
      HiprtcCheckWith(&api, api.hiprtcGetCodeSize(program, &size), "hiprtcGetCodeSize"));
  if (size == 0) return Internal("hiprtc produced an empty code object");
  std::string code(size, '\0');
  PB_RETURN_IF_ERROR(HiprtcCheckWith(&api, api.hiprtcGetCode(program, code.data()), "hiprtcGetCode"));
  return code;
}

}  // namespace

std::vector<std::string> HiprtcOptions(const std::string& arch, const HipCompilerOptions& options) {
  std::vector<std::string> flags = {"--offload-arch=" + arch, "-O3"};
  if (options.fast_math) flags.push_back("-ffast-math");
  flags.insert(flags.end(), options.extra_flags.begin(), options.extra_flags.end());
  return flags;
}

HipCompiler::HipCompiler(const HipApi* api, std::string arch, HipCompilerOptions options)
    : api_(api),
      arch_(std::move(arch)),
      hiprtc_options_(HiprtcOptions(arch_, options)),
      kernel_dir_(ResolveCacheDir(options.cache_dir)) {}

std::string HipCompiler::CachePath(const std::string& source) const {
  // NUL separators keep ("a", "bc") and ("ab", "c") from hashing alike. The hiprtc
  // library and version are part of the key: another ROCm may generate different code.
  Sha256 hash;
  hash.Update("hiprtc ");
  hash.Update(std::to_string(api_->hiprtc_major) + "." + std::to_string(api_->hiprtc_minor) +
              " " + api_->hiprtc_library);
  for (const std::string& flag : hiprtc_options_) {
    hash.Update(std::string_view("\0", 1));
    hash.Update(flag);
  }
  hash.Update(std::string_view("\0\0", 2));
  hash.Update(source);
  return kernel_dir_ + "/" + hash.HexDigest() + ".hsaco";
}

StatusOr<std::string> HipCompiler::Compile(const std::string& source) {
  if (!api_->has_hiprtc()) {
    return Unavailable("cannot compile HIP kernels: hiprtc unavailable: " + api_->hiprtc_error);
  }
  const std::string path = CachePath(source);
  if (std::optional<std::string> cached = ReadCacheEntry(path)) {
    cache_hits_.fetch_add(1);
    return std::move(*cached);
  }
  compiles_.fetch_add(1);
  PB_ASSIGN_OR_RETURN(std::string code, RunHiprtc(source));
  StoreCacheEntry(kernel_dir_, path, code);
  return code;
}

StatusOr<std::string> HipCompiler::RunHiprtc(const std::string& source) const {
  const HipApi& api = *api_;
  HiprtcProgram program = nullptr;
  PB_RETURN_IF_ERROR(HiprtcCheckWith(&api,
                                     api.hiprtcCreateProgram(&program, source.c_str(),
                                                             "petabox_kernel.hip", 0, nullptr,
                                                             nullptr),
                                     "hiprtcCreateProgram"));
  ProgramGuard guard(api, program);
  std::vector<const char*> options;
  for (const std::string& flag : hiprtc_options_) options.push_back(flag.c_str());
  HiprtcResult r =
      api.hiprtcCompileProgram(program, static_cast<int>(options.size()), options.data());
  if (r == kHiprtcErrorCompilation) {
    return InvalidArgument("hiprtc failed for " + arch_ + ": " + ProgramLog(api, program) +
                           "\n--- source ---\n" + source);
  }
  if (Status status = HiprtcCheckWith(&api, r, "hiprtcCompileProgram"); !status.ok()) {
    return Status(status.code(), status.message() + ": " + ProgramLog(api, program));
  }
  return ProgramCode(api, program);
}

}  // namespace petabox
