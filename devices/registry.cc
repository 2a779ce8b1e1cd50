#include "devices/registry.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <limits>
#include <thread>
#include <utility>

namespace petabox {
namespace {

// A device name split into an upper-case kind and an index.
struct DeviceName {
  std::string kind;
  int index = 0;
};

bool IsAsciiAlnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }
bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }

bool AllOf(std::string_view text, bool (*predicate)(char)) {
  for (char c : text) {
    if (!predicate(c)) return false;
  }
  return true;
}

// Parses "<kind>" or "<kind>:<index>"; the kind is letters and digits starting with a
// letter, the index decimal digits. Indices too large for an int become INT_MAX (so they
// are reported as out of range, not malformed).
StatusOr<DeviceName> ParseDeviceName(std::string_view name) {
  const size_t colon = name.find(':');
  std::string_view kind = name.substr(0, colon);
  if (kind.empty() || !std::isalpha(static_cast<unsigned char>(kind[0])) ||
      !AllOf(kind, IsAsciiAlnum)) {
    return InvalidArgument("malformed device name '" + std::string(name) +
                           "' (expected KIND or KIND:INDEX, e.g. CPU:0)");
  }
  DeviceName parsed;
  for (char c : kind) parsed.kind.push_back(static_cast<char>(std::toupper(c)));
  if (colon == std::string_view::npos) return parsed;
  std::string_view digits = name.substr(colon + 1);
  if (digits.empty() || !AllOf(digits, IsAsciiDigit)) {
    return InvalidArgument("malformed device index in '" + std::string(name) +
                           "' (expected KIND:INDEX, e.g. CPU:0)");
  }
  auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), parsed.index);
  if (error == std::errc::result_out_of_range) parsed.index = std::numeric_limits<int>::max();
  return parsed;
}

int ResolveThreads(int requested) {
  if (requested > 0) return requested;
  return std::max(1u, std::thread::hardware_concurrency());
}

}  // namespace

DeviceRegistry::DeviceRegistry(RegistryOptions options) : options_(std::move(options)) {}

// Devices hold shared_ptrs to the pool and compiler, so member order needs no care.
DeviceRegistry::~DeviceRegistry() = default;

DeviceRegistry& DeviceRegistry::Global() {
  // Deliberately leaked: devices (and the pool's threads) must outlive any static
  // destructor that may still use them at exit.
  static DeviceRegistry* const registry = new DeviceRegistry(RegistryOptions{});
  return *registry;
}

StatusOr<Device*> DeviceRegistry::Get(std::string_view name) {
  PB_ASSIGN_OR_RETURN(DeviceName parsed, ParseDeviceName(name));
  if (parsed.kind == "CPU" && parsed.index >= 0 && parsed.index < kNumVirtualCpus) {
    return GetCpu(parsed.index);
  }
  if (parsed.kind == "TRACE" && parsed.index == 0) return GetTrace();
  if (parsed.kind == "CUDA") return GetCuda(parsed.index);
  if (parsed.kind == "HIP") return GetHip(parsed.index);
  return NotFound("unknown device '" + parsed.kind + ":" + std::to_string(parsed.index) +
                  "' (available: " + AvailableSummary() + ")");
}

Device* DeviceRegistry::GetCpu(int index) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (cpus_[index] != nullptr) return cpus_[index].get();
  if (cpu_pool_ == nullptr) {
    cpu_pool_ = std::make_shared<ThreadPool>(ResolveThreads(options_.cpu_threads));
    cpu_compiler_ = std::make_shared<CpuCompiler>(options_.compiler);
  }
  cpus_[index] = std::make_unique<CpuDevice>(index, cpu_pool_, cpu_compiler_,
                                             options_.cpu_memory_limit_bytes);
  return cpus_[index].get();
}

Device* DeviceRegistry::GetTrace() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (trace_ != nullptr) return trace_.get();
  if (cpu_pool_ == nullptr) {
    cpu_pool_ = std::make_shared<ThreadPool>(ResolveThreads(options_.cpu_threads));
    cpu_compiler_ = std::make_shared<CpuCompiler>(options_.compiler);
  }
  trace_ = std::make_unique<TraceDevice>(cpu_pool_, cpu_compiler_);
  return trace_.get();
}

std::vector<std::string> DeviceRegistry::Available() const {
  std::vector<std::string> names;
  for (int i = 0; i < kNumVirtualCpus; ++i) names.push_back("CPU:" + std::to_string(i));
  for (int i = 0; i < Cuda().count; ++i) names.push_back("CUDA:" + std::to_string(i));
  for (int i = 0; i < Hip().count; ++i) names.push_back("HIP:" + std::to_string(i));
  return names;
}

// "CPU:0..CPU:7, CUDA:0..CUDA:1, HIP:0..HIP:5": one range per kind that has devices.
std::string DeviceRegistry::AvailableSummary() const {
  std::string summary = "CPU:0..CPU:" + std::to_string(kNumVirtualCpus - 1);
  if (Cuda().count > 0) summary += ", CUDA:0..CUDA:" + std::to_string(Cuda().count - 1);
  if (Hip().count > 0) summary += ", HIP:0..HIP:" + std::to_string(Hip().count - 1);
  return summary;
}

std::string DeviceRegistry::DefaultDevice() const {
  if (Cuda().count > 0) return "CUDA:0";
  return Hip().count > 0 ? "HIP:0" : "CPU:0";
}

// --- CUDA ---

const DeviceRegistry::CudaProbe& DeviceRegistry::Cuda() const {
  std::call_once(cuda_probe_once_, [this] {
    if (!options_.enable_gpus) {
      cuda_probe_.why_none = "GPUs disabled by RegistryOptions::enable_gpus";
      return;
    }
    StatusOr<const CudaApi*> api = LoadCudaApi();
    if (!api.ok()) {
      cuda_probe_.why_none = api.status().message();
      return;
    }
    int count = 0;
    if (Status s = CudaCheck((*api)->cuDeviceGetCount(&count), "cuDeviceGetCount"); !s.ok()) {
      cuda_probe_.why_none = s.message();
      return;
    }
    if (count <= 0) cuda_probe_.why_none = "the CUDA driver reports no devices";
    cuda_probe_.api = *api;
    cuda_probe_.count = std::max(count, 0);
  });
  return cuda_probe_;
}

StatusOr<Device*> DeviceRegistry::GetCuda(int index) {
  const CudaProbe& cuda = Cuda();
  if (index < 0 || index >= cuda.count) {
    std::string message = "unknown device 'CUDA:" + std::to_string(index) +
                          "' (available: " + AvailableSummary();
    if (cuda.count == 0) message += "; no CUDA devices: " + cuda.why_none;
    return NotFound(message + ")");
  }
  std::lock_guard<std::mutex> lock(mutex_);
  if (cudas_.empty()) cudas_.resize(static_cast<size_t>(cuda.count));
  if (cudas_[index] != nullptr) return cudas_[index].get();
  CudaDeviceOptions device_options = options_.cuda;
  if (device_options.compiler.cache_dir.empty()) {
    device_options.compiler.cache_dir = options_.compiler.cache_dir;
  }
  // A failure (e.g. the GPU is held in exclusive mode by another process) is returned and
  // not remembered: the next Get tries again.
  PB_ASSIGN_OR_RETURN(cudas_[index], CudaDevice::Create(cuda.api, index, device_options));
  return cudas_[index].get();
}

// --- HIP ---

const DeviceRegistry::HipProbe& DeviceRegistry::Hip() const {
  std::call_once(hip_probe_once_, [this] {
    if (!options_.enable_gpus) {
      hip_probe_.why_none = "GPUs disabled by RegistryOptions::enable_gpus";
      return;
    }
    StatusOr<const HipApi*> api = LoadHipApi();
    if (!api.ok()) {
      hip_probe_.why_none = api.status().message();
      return;
    }
    int count = 0;
    if (Status s = HipCheck((*api)->hipGetDeviceCount(&count), "hipGetDeviceCount"); !s.ok()) {
      hip_probe_.why_none = s.message();
      return;
    }
    if (count <= 0) hip_probe_.why_none = "the HIP runtime reports no devices";
    hip_probe_.api = *api;
    hip_probe_.count = std::max(count, 0);
  });
  return hip_probe_;
}

StatusOr<Device*> DeviceRegistry::GetHip(int index) {
  const HipProbe& hip = Hip();
  if (index < 0 || index >= hip.count) {
    std::string message = "unknown device 'HIP:" + std::to_string(index) +
                          "' (available: " + AvailableSummary();
    if (hip.count == 0) message += "; no HIP devices: " + hip.why_none;
    return NotFound(message + ")");
  }
  std::lock_guard<std::mutex> lock(mutex_);
  if (hips_.empty()) hips_.resize(static_cast<size_t>(hip.count));
  if (hips_[index] != nullptr) return hips_[index].get();
  HipDeviceOptions device_options = options_.hip;
  if (device_options.compiler.cache_dir.empty()) {
    device_options.compiler.cache_dir = options_.compiler.cache_dir;
  }
  // A failure is returned and not remembered: the next Get tries again.
  PB_ASSIGN_OR_RETURN(hips_[index], HipDevice::Create(hip.api, index, device_options));
  return hips_[index].get();
}

}  // namespace petabox
