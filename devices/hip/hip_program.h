// A kernel loaded into a HIP device.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "devices/device.h"
#include "devices/hip/hip_context.h"

namespace petabox {

// The grid and block of a launch.
struct HipLaunchGeometry {
  std::array<unsigned, 3> grid{1, 1, 1};   // blocks per dimension: ceil(global / local)
  std::array<unsigned, 3> block{1, 1, 1};  // threads per block: local
  bool empty = false;                      // some global size is 0: nothing to run
};

// Converts engine launch dims to HIP's. InvalidArgument for a local size below 1, a
// negative global size, or a grid or block dimension that does not fit HIP's unsigned
// int. The runtime checks the device's own limits (threads per block) at launch.
StatusOr<HipLaunchGeometry> ToHipLaunchGeometry(const LaunchDims& dims);

// A module with one resolved kernel, plus the two events that time its launches. Launch
// may be called from one thread at a time (the Program contract); the program keeps its
// device's stream alive itself.
class HipProgram : public Program {
 public:
  // Loads `code_object` (as HipCompiler returns it) and resolves `function_name`.
  // InvalidArgument (naming the function) when the runtime rejects the code object (e.g.
  // built for another gfx target); NotFound naming the function when the module has no
  // such kernel; other runtime errors as HipCheck maps them.
  static StatusOr<std::unique_ptr<HipProgram>> Load(std::shared_ptr<HipContext> context,
                                                    const std::string& code_object,
                                                    const std::string& function_name);
  ~HipProgram() override;

  // Launches the kernel with `args` (device pointers, in parameter order) on the device's
  // stream, waits for it, and returns its time between two events in seconds. Errors of
  // the launch and of the kernel itself (e.g. a memory fault) come back as Status.
  StatusOr<double> Launch(const std::vector<void*>& args, const LaunchDims& dims) override;

  const std::string& function_name() const { return function_name_; }

 private:
  HipProgram(std::shared_ptr<HipContext> context, std::string function_name);
  Status Init(const std::string& code_object);
  Status LaunchError(HipError r, const HipLaunchGeometry& geometry) const;

  const std::shared_ptr<HipContext> context_;
  const std::string function_name_;
  HipModule module_ = nullptr;
  HipFunction function_ = nullptr;
  HipEvent start_ = nullptr;
  HipEvent stop_ = nullptr;
};

}  // namespace petabox
