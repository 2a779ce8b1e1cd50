// A kernel loaded into a CUDA context.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "devices/cuda/cuda_context.h"
#include "devices/device.h"

namespace petabox {

// The grid and block of a launch.
struct CudaLaunchGeometry {
  std::array<unsigned, 3> grid{1, 1, 1};   // blocks per dimension: ceil(global / local)
  std::array<unsigned, 3> block{1, 1, 1};  // threads per block: local
  bool empty = false;                      // some global size is 0: nothing to run
};

// Converts engine launch dims to CUDA's. InvalidArgument for a local size below 1, a
// negative global size, or a grid or block dimension that does not fit CUDA's unsigned
// int. The driver checks the device's own limits (threads per block, grid y/z) at launch.
StatusOr<CudaLaunchGeometry> ToLaunchGeometry(const LaunchDims& dims);

// A module with one resolved kernel, plus the two events that time its launches. Launch
// may be called from one thread at a time (the Program contract); the program must not
// outlive its device's registry, but keeps the context alive itself.
class CudaProgram : public Program {
 public:
  // Loads `image` (CUBIN or PTX, as CudaCompiler returns) and resolves `function_name`.
  // InvalidArgument (naming the function) when the driver rejects the image as invalid,
  // as PTX it cannot compile or as having no code for this GPU; NotFound naming the
  // function when the module has no such kernel; other driver errors as CudaCheck maps
  // them.
  static StatusOr<std::unique_ptr<CudaProgram>> Load(std::shared_ptr<CudaContext> context,
                                                     const std::string& image,
                                                     const std::string& function_name);
  ~CudaProgram() override;

  // Launches the kernel with `args` (device pointers, in parameter order) on the device's
  // stream, waits for it, and returns its time between two events in seconds. Errors of
  // the launch and of the kernel itself (e.g. an illegal address) come back as Status.
  // After a faulting kernel the CUDA context is unusable for the rest of the process:
  // every later call on the device fails with the same error.
  StatusOr<double> Launch(const std::vector<void*>& args, const LaunchDims& dims) override;

  const std::string& function_name() const { return function_name_; }

 private:
  CudaProgram(std::shared_ptr<CudaContext> context, std::string function_name);
  Status Init(const std::string& image);
  Status LaunchError(CUresult r, const CudaLaunchGeometry& geometry) const;

  const std::shared_ptr<CudaContext> context_;
  const std::string function_name_;
  CUmodule module_ = nullptr;
  CUfunction function_ = nullptr;
  CUevent start_ = nullptr;
  CUevent stop_ = nullptr;
};

}  // namespace petabox
