// A kernel loaded into a GPU's context.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "devices/device.h"
#include "devices/gpu/gpu_context.h"

namespace petabox {

// The grid and block of a launch.
struct GpuLaunchGeometry {
  std::array<unsigned, 3> grid{1, 1, 1};   // blocks per dimension: ceil(global / local)
  std::array<unsigned, 3> block{1, 1, 1};  // threads per block: local
  bool empty = false;                      // some global size is 0: nothing to run
};

// Converts engine launch dims to a GPU's. InvalidArgument for a local size below 1, a
// negative global size, or a grid or block dimension that does not fit an unsigned int.
// The driver checks the device's own limits (threads per block, grid y/z) at launch.
StatusOr<GpuLaunchGeometry> ToLaunchGeometry(const LaunchDims& dims);

// A module with one resolved kernel, plus the two events that time its launches. Launch
// may be called from one thread at a time (the Program contract); the program keeps its
// device's context alive itself.
class GpuProgram : public Program {
 public:
  // Loads `image` (as GpuCompiler returns it: CUBIN, PTX or an AMDGPU code object) and
  // resolves `function_name`. InvalidArgument (naming the function) when the driver
  // rejects the image (invalid, PTX it cannot compile, no code for this GPU); NotFound
  // naming the function when the module has no such kernel; other driver errors as
  // GpuApi::Check maps them.
  static StatusOr<std::unique_ptr<GpuProgram>> Load(std::shared_ptr<GpuContext> context,
                                                    const std::string& image,
                                                    const std::string& function_name);
  ~GpuProgram() override;

  // Launches the kernel with `args` (device pointers, in parameter order) on the device's
  // stream, waits for it, and returns its time between two events in seconds. Errors of
  // the launch and of the kernel itself (e.g. an illegal address) come back as Status.
  // After a faulting kernel a CUDA context is unusable for the rest of the process: every
  // later call on the device fails with the same error.
  StatusOr<double> Launch(const std::vector<void*>& args, const LaunchDims& dims) override;

  const std::string& function_name() const { return function_name_; }

 private:
  GpuProgram(std::shared_ptr<GpuContext> context, std::string function_name);
  Status Init(const std::string& image);

  const std::shared_ptr<GpuContext> context_;
  const GpuApi& api_;
  const std::string function_name_;
  GpuModule module_ = nullptr;
  GpuFunction function_ = nullptr;
  GpuEvent start_ = nullptr;
  GpuEvent stop_ = nullptr;
  int64_t shared_limit_ = 48 * 1024;  // dynamic shared memory the kernel is opted in to
};

}  // namespace petabox
