#include "engine/codegen/tc/tc_dialect.h"

#include <cstdlib>
#include <string>

namespace petabox {

bool TensorCoresEnabled() {
  // PETABOX_TENSOR_CORES=1 (a debug knob) turns the tensor-core path on. It stays off by
  // default until the GPU suite (tests/engine/codegen/tc/gemm_gpu_test.cc) has passed on a
  // real sm_80+ card: so far these kernels have run only in the CPU emulation of the tests.
  static const bool enabled = [] {
    const char* v = std::getenv("PETABOX_TENSOR_CORES");
    return v && std::string(v) == "1";
  }();
  return enabled;
}

const TensorCoreDialect* FindTensorCoreDialect(const DeviceProperties& props) {
  if (props.dialect == "cuda" && props.arch.rfind("sm_", 0) == 0 && std::atoi(props.arch.c_str() + 3) >= 80)
    return &CudaMmaSync();
  if (props.dialect == "hip" && props.arch.rfind("gfx11", 0) == 0) return &HipWmma();
  return nullptr;
}

}  // namespace petabox
