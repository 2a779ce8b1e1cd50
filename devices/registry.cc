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

std::vector<std::string> DeviceRegistry::Available() const {
  std::vector<std::string> names;
  for (int i = 0; i < kNumVirtualCpus; ++i) names.push_back("CPU:" + std::to_string(i));
  return names;
}

// "CPU:0..CPU:7": one range per kind (one kind so far).
std::string DeviceRegistry::AvailableSummary() const {
  return "CPU:0..CPU:" + std::to_string(kNumVirtualCpus - 1);
}

std::string DeviceRegistry::DefaultDevice() const { return "CPU:0"; }

}  // namespace petabox
