#include "devices/registry.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <limits>
#include <thread>
#include <utility>

#include "devices/gpu/cuda_api.h"
#include "devices/gpu/hip_api.h"

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

std::vector<GpuVendorProbe> DefaultGpuVendors() {
  return {{"CUDA", LoadCudaApi}, {"HIP", LoadHipApi}};
}

DeviceRegistry::DeviceRegistry(RegistryOptions options) : options_(std::move(options)) {
  for (const GpuVendorProbe& probe : options_.gpu_vendors) {
    gpus_.push_back(std::make_unique<GpuVendor>());
    gpus_.back()->probe = probe;
  }
}

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
  for (const std::unique_ptr<GpuVendor>& vendor : gpus_) {
    if (vendor->probe.kind == parsed.kind) return GetGpu(*vendor, parsed.index);
  }
  return NotFound("unknown device '" + parsed.kind + ":" + std::to_string(parsed.index) +
                  "' (available: " + AvailableSummary() + ")");
}

void DeviceRegistry::EnsureCpuShared() {
  if (cpu_pool_ != nullptr) return;
  cpu_pool_ = std::make_shared<ThreadPool>(ResolveThreads(options_.cpu_threads));
  cpu_compiler_ = std::make_shared<CpuCompiler>(options_.compiler);
}

Device* DeviceRegistry::GetCpu(int index) {
  MutexLock lock(mutex_);
  if (cpus_[index] != nullptr) return cpus_[index].get();
  EnsureCpuShared();
  cpus_[index] = std::make_unique<CpuDevice>(index, cpu_pool_, cpu_compiler_,
                                             options_.cpu_memory_limit_bytes);
  return cpus_[index].get();
}

Device* DeviceRegistry::GetTrace() {
  MutexLock lock(mutex_);
  if (trace_ != nullptr) return trace_.get();
  EnsureCpuShared();
  trace_ = std::make_unique<TraceDevice>(cpu_pool_, cpu_compiler_);
  return trace_.get();
}

std::vector<std::string> DeviceRegistry::Available() const {
  std::vector<std::string> names;
  for (int i = 0; i < kNumVirtualCpus; ++i) names.push_back("CPU:" + std::to_string(i));
  for (const std::unique_ptr<GpuVendor>& vendor : gpus_) {
    for (int i = 0; i < Probed(*vendor).count; ++i) {
      names.push_back(vendor->probe.kind + ":" + std::to_string(i));
    }
  }
  return names;
}

// "CPU:0..CPU:7, CUDA:0..CUDA:1, HIP:0..HIP:5": one range per kind that has devices.
std::string DeviceRegistry::AvailableSummary() const {
  std::string summary = "CPU:0..CPU:" + std::to_string(kNumVirtualCpus - 1);
  for (const std::unique_ptr<GpuVendor>& vendor : gpus_) {
    const std::string& kind = vendor->probe.kind;
    const int count = Probed(*vendor).count;
    if (count > 0) summary += ", " + kind + ":0.." + kind + ":" + std::to_string(count - 1);
  }
  return summary;
}

std::string DeviceRegistry::DefaultDevice() const {
  for (const std::unique_ptr<GpuVendor>& vendor : gpus_) {
    if (Probed(*vendor).count > 0) return vendor->probe.kind + ":0";
  }
  return "CPU:0";
}

DeviceRegistry::GpuVendor& DeviceRegistry::Probed(GpuVendor& vendor) const {
  std::call_once(vendor.once, [&] {
    if (!options_.enable_gpus) {
      vendor.why_none = "GPUs disabled by RegistryOptions::enable_gpus";
      return;
    }
    StatusOr<const GpuApi*> api = vendor.probe.load();
    if (!api.ok()) {
      vendor.why_none = api.status().message();
      return;
    }
    int count = 0;
    if (Status s = (*api)->Check((*api)->device_count(&count), "device_count"); !s.ok()) {
      vendor.why_none = s.message();
      return;
    }
    if (count <= 0) vendor.why_none = "the " + vendor.probe.kind + " driver reports no devices";
    vendor.api = *api;
    vendor.count = std::max(count, 0);
  });
  return vendor;
}

StatusOr<Device*> DeviceRegistry::GetGpu(GpuVendor& vendor, int index) {
  const std::string& kind = vendor.probe.kind;
  if (index < 0 || index >= Probed(vendor).count) {
    std::string message = "unknown device '" + kind + ":" + std::to_string(index) +
                          "' (available: " + AvailableSummary();
    if (vendor.count == 0) message += "; no " + kind + " devices: " + vendor.why_none;
    return NotFound(message + ")");
  }
  MutexLock lock(mutex_);
  if (vendor.devices.empty()) vendor.devices.resize(static_cast<size_t>(vendor.count));
  if (vendor.devices[index] != nullptr) return vendor.devices[index].get();
  GpuDeviceOptions device_options = options_.gpu;
  if (device_options.compiler.cache_dir.empty()) {
    device_options.compiler.cache_dir = options_.compiler.cache_dir;
  }
  // A failure (e.g. the GPU is held in exclusive mode by another process) is returned and
  // not remembered: the next Get tries again.
  PB_ASSIGN_OR_RETURN(vendor.devices[index], GpuDevice::Create(vendor.api, index, device_options));
  return vendor.devices[index].get();
}

}  // namespace petabox
