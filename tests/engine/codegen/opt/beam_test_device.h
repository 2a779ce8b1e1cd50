// A CPU device for BEAM tests whose compiler can be told to fail on chosen sources and whose
// programs can be told to be slow or to fail, so the search's skipping is observable; and a
// DeviceSource holding such devices by name (they live as long as the process: the
// engine's program cache may hold their programs). Each device compiles into its own cache
// directory, so BEAM results of one test never reach another.
#pragma once

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "devices/cpu/cpu_device.h"
#include "engine/device_source.h"

namespace petabox::beamtest {

using SourcePredicate = std::function<bool(const std::string& source)>;

class FaultyCompiler : public Compiler {
 public:
  explicit FaultyCompiler(std::shared_ptr<CpuCompiler> inner) : inner_(std::move(inner)) {}
  StatusOr<std::string> Compile(const std::string& source) override {
    if (fail && fail(source)) {
      failures.fetch_add(1);
      return InvalidArgument("injected compile failure");
    }
    PB_ASSIGN_OR_RETURN(std::string binary, inner_->Compile(source));
    std::lock_guard<std::mutex> lock(mu_);
    sources_[binary] = source;
    return binary;
  }
  int64_t compiles() const override { return inner_->compiles(); }
  int64_t cache_hits() const override { return inner_->cache_hits(); }
  std::string version() const override { return inner_->version() + " faulty"; }
  std::string cache_dir() const override { return inner_->cache_dir(); }
  std::string SourceOf(const std::string& binary) {
    std::lock_guard<std::mutex> lock(mu_);
    return sources_[binary];
  }

  SourcePredicate fail;  // set before a search; read from the compiler threads
  std::atomic<int> failures{0};

 private:
  std::shared_ptr<CpuCompiler> inner_;
  std::mutex mu_;
  std::map<std::string, std::string> sources_;  // binary -> source
};

// Runs the inner program; a slow one then sleeps `delay` and reports it, a failing one errs.
class FaultyProgram : public Program {
 public:
  FaultyProgram(std::unique_ptr<Program> inner, bool slow, bool fail, std::chrono::milliseconds delay,
                std::atomic<int>* slow_launches)
      : inner_(std::move(inner)), slow_(slow), fail_(fail), delay_(delay), slow_launches_(slow_launches) {}
  StatusOr<double> Launch(const std::vector<void*>& args, const LaunchDims& dims) override {
    if (fail_) return Internal("injected launch failure");
    PB_ASSIGN_OR_RETURN(double seconds, inner_->Launch(args, dims));
    if (!slow_) return seconds;
    slow_launches_->fetch_add(1);
    std::this_thread::sleep_for(delay_);
    return seconds + std::chrono::duration<double>(delay_).count();
  }

 private:
  std::unique_ptr<Program> inner_;
  bool slow_, fail_;
  std::chrono::milliseconds delay_;
  std::atomic<int>* slow_launches_;
};

class FaultyDevice : public CpuDevice {
 public:
  FaultyDevice(const std::string& name, const std::string& cache_dir)
      : CpuDevice(0, Pool(), std::make_shared<CpuCompiler>(Options(cache_dir))),
        properties_(CpuDevice::properties()),
        compiler_(std::make_shared<CpuCompiler>(Options(cache_dir))) {
    properties_.name = name;
    properties_.kind = "BEAMTEST";
  }
  const DeviceProperties& properties() const override { return properties_; }
  Compiler& compiler() override { return compiler_; }
  StatusOr<std::unique_ptr<Program>> LoadProgram(const std::string& binary, const std::string& name) override {
    const std::string source = compiler_.SourceOf(binary);
    PB_ASSIGN_OR_RETURN(std::unique_ptr<Program> inner, CpuDevice::LoadProgram(binary, name));
    return std::unique_ptr<Program>(std::make_unique<FaultyProgram>(
        std::move(inner), slow && slow(source), fail_launch && fail_launch(source), delay, &slow_launches));
  }
  FaultyCompiler& faulty_compiler() { return compiler_; }

  SourcePredicate slow, fail_launch;  // set before a search
  std::chrono::milliseconds delay{30};
  std::atomic<int> slow_launches{0};

 private:
  static std::shared_ptr<ThreadPool> Pool() {
    static auto pool = std::make_shared<ThreadPool>(2);
    return pool;
  }
  static CpuCompilerOptions Options(const std::string& cache_dir) {
    CpuCompilerOptions options;
    options.cache_dir = cache_dir;
    return options;
  }

  DeviceProperties properties_;
  FaultyCompiler compiler_;
};

// Removes the devices' cache directories when the process exits.
struct TempDirs {
  std::vector<std::string> paths;
  ~TempDirs() {
    std::error_code ec;
    for (const std::string& p : paths) std::filesystem::remove_all(p, ec);
  }
};

// Devices by name, each with a fresh cache directory under the system temp dir.
class FaultyDevices : public DeviceSource {
 public:
  // The device `name`, created on first use.
  FaultyDevice& Add(const std::string& name) {
    static auto* all = new std::map<std::string, std::unique_ptr<FaultyDevice>>();
    static TempDirs dirs;
    std::unique_ptr<FaultyDevice>& d = (*all)[name];
    if (!d) {
      std::string tmpl = (std::filesystem::temp_directory_path() / "petabox-beam-XXXXXX").string();
      const char* dir = ::mkdtemp(tmpl.data());
      dirs.paths.push_back(dir ? dir : tmpl);
      d = std::make_unique<FaultyDevice>(name, dirs.paths.back());
    }
    devices_[name] = d.get();
    return *d;
  }
  StatusOr<Device*> Get(std::string_view name) override {
    auto it = devices_.find(std::string(name));
    if (it == devices_.end()) return NotFound("no test device '" + std::string(name) + "'");
    return static_cast<Device*>(it->second);
  }
  std::string DefaultDevice() const override { return devices_.empty() ? "" : devices_.begin()->first; }

 private:
  std::map<std::string, FaultyDevice*> devices_;
};

}  // namespace petabox::beamtest
