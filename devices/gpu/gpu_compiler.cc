#include "devices/gpu/gpu_compiler.h"

#include <optional>
#include <string_view>
#include <utility>

#include "devices/binary_cache.h"
#include "devices/cpu/cpu_compiler.h"
#include "engine/util/sha256.h"

namespace petabox {
namespace {

// Destroys an RTC program when it goes out of scope.
class ProgramGuard {
 public:
  ProgramGuard(const GpuApi& api, RtcProgram program) : api_(api), program_(program) {}
  ~ProgramGuard() { api_.rtc_destroy_program(&program_); }
  ProgramGuard(const ProgramGuard&) = delete;
  ProgramGuard& operator=(const ProgramGuard&) = delete;

 private:
  const GpuApi& api_;
  RtcProgram program_;
};

std::string ProgramLog(const GpuApi& api, RtcProgram program) {
  size_t size = 0;
  if (api.rtc_log_size(program, &size) != api.codes.success || size == 0) return "";
  std::string log(size, '\0');
  if (api.rtc_log(program, log.data()) != api.codes.success) return "";
  while (!log.empty() && log.back() == '\0') log.pop_back();  // the size counts the NUL
  return log;
}

// The machine code or PTX of a compiled program. PTX keeps its terminating NUL:
// module_load reads PTX as a C string.
StatusOr<std::string> ProgramImage(const GpuApi& api, RtcProgram program, bool machine_code) {
  size_t size = 0;
  auto get_size = machine_code ? api.rtc_code_size : api.rtc_ptx_size;
  auto get = machine_code ? api.rtc_code : api.rtc_ptx;
  PB_RETURN_IF_ERROR(api.RtcCheck(get_size(program, &size), "rtc code size"));
  if (size == 0) return Internal(api.rtc_name + " produced an empty binary");
  std::string image(size, '\0');
  PB_RETURN_IF_ERROR(api.RtcCheck(get(program, image.data()), "rtc code"));
  return image;
}

}  // namespace

GpuCompiler::GpuCompiler(const GpuApi* api, const std::string& arch, GpuCompilerOptions options)
    : api_(api),
      target_(api->CompileTarget(arch, options)),
      kernel_dir_((options.cache_dir.empty() ? DefaultCacheDir() : options.cache_dir) + "/" +
                  api->cache_subdir) {}

std::string GpuCompiler::CachePath(const std::string& source) const {
  // NUL separators keep ("a", "bc") and ("ab", "c") from hashing alike. The RTC library and
  // version are part of the key: another one may generate different code.
  Sha256 hash;
  hash.Update(api_->rtc_name + " " + std::to_string(api_->rtc_major) + "." +
              std::to_string(api_->rtc_minor) + " " + api_->rtc_library);
  for (const std::string& flag : target_.options) {
    hash.Update(std::string_view("\0", 1));
    hash.Update(flag);
  }
  hash.Update(std::string_view("\0\0", 2));
  hash.Update(source);
  return kernel_dir_ + "/" + hash.HexDigest() + api_->cache_suffix;
}

std::string GpuCompiler::version() const {
  std::string id = api_->rtc_name + " " + std::to_string(api_->rtc_major) + "." + std::to_string(api_->rtc_minor) +
                   " " + api_->rtc_library;
  for (const std::string& flag : target_.options) id += " " + flag;
  return id;
}

StatusOr<std::string> GpuCompiler::Compile(const std::string& source) {
  if (!api_->has_rtc()) {
    return Unavailable("cannot compile " + api_->kind + " kernels: " + api_->rtc_name +
                       " unavailable: " + api_->rtc_error);
  }
  const std::string path = CachePath(source);
  if (std::optional<std::string> cached = ReadCacheEntry(path)) {
    cache_hits_.fetch_add(1);
    return std::move(*cached);
  }
  compiles_.fetch_add(1);
  PB_ASSIGN_OR_RETURN(std::string image, RunRtc(source));
  StoreCacheEntry(kernel_dir_, path, image);
  return image;
}

StatusOr<std::string> GpuCompiler::RunRtc(const std::string& source) const {
  const GpuApi& api = *api_;
  RtcProgram program = nullptr;
  PB_RETURN_IF_ERROR(api.RtcCheck(api.rtc_create_program(&program, source.c_str(),
                                                         api.source_name.c_str(), 0, nullptr, nullptr),
                                  "rtc create program"));
  ProgramGuard guard(api, program);
  std::vector<const char*> options;
  for (const std::string& flag : target_.options) options.push_back(flag.c_str());
  RtcResult r = api.rtc_compile_program(program, static_cast<int>(options.size()), options.data());
  if (r == api.codes.rtc_compilation) {
    return InvalidArgument(api.rtc_name + " failed for " + target_.arch + ": " +
                           ProgramLog(api, program) + "\n--- source ---\n" + source);
  }
  if (Status status = api.RtcCheck(r, "rtc compile program"); !status.ok()) {
    return Status(status.code(), status.message() + ": " + ProgramLog(api, program));
  }
  return ProgramImage(api, program, target_.machine_code);
}

}  // namespace petabox
