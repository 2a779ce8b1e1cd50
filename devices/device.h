// The backend contract: one small interface per role (properties, allocator, compiler,
// program). A backend is a few short files implementing these; the engine only sees this.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/util/status.h"

namespace petabox {

// Launch geometry. On GPUs global/local are grid and block sizes. On the CPU only
// global[0] is used: the device splits [0, global[0]) into chunks over its thread pool and
// the kernel loops over the chunk it is given (see CpuProgram).
struct LaunchDims {
  std::array<int64_t, 3> global{1, 1, 1};
  std::array<int64_t, 3> local{1, 1, 1};
  // Dynamic shared memory per block in bytes (GPUs; the CPU ignores it). Above 48 KiB the
  // GPU backend opts the kernel in once, up to what the device allows.
  int64_t shared_bytes = 0;
  // Estimated operations + bytes of the launch (0 = unknown). The CPU runs cheap launches
  // on the calling thread: waking the pool costs more than they do.
  int64_t cost = 0;
};

// What the engine decides per device, answered by the device instead of by its name. Each
// field's default is what a GPU answers; a backend sets what differs.
struct DeviceCapabilities {
  // Kernels are host loops: a launch splits [0, global[0]) into chunks over threads and the
  // kernel loops over the chunk it is given, vectorizing with SIMD (see CpuProgram), instead
  // of one thread per global index with workgroups sharing memory. Codegen then opens the
  // global axes as loops and tiles for SIMD registers and caches instead of workgroups.
  bool loops_over_chunks = false;
  // The frontend copies operands into cache- and SIMD-friendly layouts before heavy reads:
  // a transposed matmul weight packed into contiguous rows, convolution windows
  // materialized once (im2col), convolution weights with output channels innermost. Pays
  // off in host memory with SIMD; a GPU reads the strided views directly. (Graph
  // instantiation makes the same matmul choice, engine/graph_ir/instantiate.h.)
  bool packs_operands_for_simd = false;
  // The frontend splits a large reduction into two kernels for parallelism, with a group
  // count that follows the number of outputs. False on the tracing device: a captured
  // graph's shapes must be a + b*N in the batch N (engine/graph_ir), which that count is not.
  bool splits_big_reductions = true;
  // Kernels load and store float16 / bfloat16 buffers (computing in float32), so the device
  // can train in that precision (engine/nn/mixed_precision.h). True by default: the C, CUDA
  // and HIP dialects convert both types in software or with the ISA's conversions; a
  // backend whose compiler or hardware cannot sets it false, and a job asking for that
  // precision then fails with an error naming the device.
  bool stores_float16 = true;
  bool stores_bfloat16 = true;
};

struct DeviceProperties {
  std::string name;          // canonical, e.g. "CPU:0", "CUDA:1": for messages and lookups
  std::string kind;          // "CPU", "CUDA", "HIP": for people and telemetry, not decisions
  std::string arch;          // compiler target, e.g. "native", "sm_90", "gfx1100"
  std::string dialect;       // renderer dialect: "c", "cuda", "hip"
  int64_t memory_bytes = 0;  // total memory the device may use (0 = unknown)
  int vector_bytes = 16;     // preferred SIMD width in bytes for register tiles
  int compute_units = 1;     // CPU threads, GPU SMs/CUs
  DeviceCapabilities capabilities;
};

// Device memory. Thread-safe.
class Allocator {
 public:
  virtual ~Allocator() = default;
  // Returns a buffer of at least `bytes` bytes; ResourceExhausted when the device is out
  // of memory (never a crash).
  virtual StatusOr<void*> Alloc(size_t bytes) = 0;
  virtual void Free(void* ptr, size_t bytes) = 0;
  virtual Status CopyIn(void* dst, const void* host_src, size_t bytes) = 0;
  virtual Status CopyOut(void* host_dst, const void* src, size_t bytes) = 0;
  // Bytes currently allocated by the engine on this device.
  virtual int64_t BytesInUse() const = 0;
};

// Turns kernel source into a binary. Implementations cache on disk keyed by a hash of
// source + target + flags, so a warm run compiles nothing. Thread-safe.
class Compiler {
 public:
  virtual ~Compiler() = default;
  // On failure returns InvalidArgument with the compiler's log.
  virtual StatusOr<std::string> Compile(const std::string& source) = 0;
  // How many compiler invocations (cache misses) and cache hits happened so far.
  virtual int64_t compiles() const = 0;
  virtual int64_t cache_hits() const = 0;
  // What turns source into code (compiler and version, target, flags): part of the key of
  // caches that depend on the generated code, such as BEAM search results. "" if unknown.
  virtual std::string version() const { return ""; }
  // The directory of this compiler's on-disk kernel cache, where the engine keeps its
  // per-kernel caches too (BEAM results under <cache_dir>/beam); "" for none.
  virtual std::string cache_dir() const { return ""; }
};

// A loaded kernel. Launch may be called from one thread at a time per device.
class Program {
 public:
  virtual ~Program() = default;
  // Runs the kernel over `args` (device pointers, in the kernel's parameter order) and
  // waits for it. Returns the kernel's run time in seconds.
  virtual StatusOr<double> Launch(const std::vector<void*>& args, const LaunchDims& dims) = 0;
};

class Device {
 public:
  virtual ~Device() = default;
  virtual const DeviceProperties& properties() const = 0;
  virtual Allocator& allocator() = 0;
  virtual Compiler& compiler() = 0;
  // Loads a binary from Compile() and resolves `function_name` in it.
  virtual StatusOr<std::unique_ptr<Program>> LoadProgram(const std::string& binary,
                                                         const std::string& function_name) = 0;
  // Waits for all work queued on the device.
  virtual Status Synchronize() = 0;

  // Copies `bytes` from `src` (memory of `src_device`) to `dst` (memory of this device) and
  // waits for it: a direct (peer) copy where the two devices can reach each other, else the
  // backend's own path through host memory. Unimplemented when this backend cannot copy
  // from src_device's kind at all; the caller then stages the bytes through the host with
  // CopyOut and CopyIn. May run on one thread while another launches Programs on this
  // device (a backend with queues uses a queue of its own for copies). Other errors as the
  // backend reports them.
  virtual Status CopyFromDevice(void* dst, Device& src_device, const void* src, size_t bytes) {
    (void)dst, (void)src, (void)bytes;
    return Unimplemented(properties().name + " cannot copy from " + src_device.properties().name + " directly");
  }

  // Whether kernels on this device can read `other`'s memory through pointers into it (peer
  // access over NVLink or PCIe; CPU devices all share host memory). Sets that access up the
  // first time it is asked for a peer (e.g. cuCtxEnablePeerAccess), so a true answer means
  // a Program launched here may take buffers of `other` as arguments. False when the
  // hardware or driver does not allow it, or setting it up failed. Thread-safe. Default:
  // only this device itself.
  virtual bool CanAccessPeer(Device& other) { return &other == this; }
};

// Where the engine gets devices by name: implemented by the program's device table
// (devices/registry.h) and installed by the program that assembles the engine
// (engine/device_source.h); tests may install their own. Thread-safe.
class DeviceSource {
 public:
  virtual ~DeviceSource() = default;
  // The device called `name` ("<kind>" or "<kind>:<index>"), alive as long as the source.
  // InvalidArgument for a malformed name; NotFound, saying what exists, for an unknown one.
  virtual StatusOr<Device*> Get(std::string_view name) = 0;
  // The name of the device used when none is named.
  virtual std::string DefaultDevice() const = 0;
};

}  // namespace petabox
