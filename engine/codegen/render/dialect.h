// A C-style dialect as data: the one renderer (cstyle.h) prints C, CUDA or HIP from it.
// Formats use {0} {1} {2} for operands and {name}-style keys documented per field.
#pragma once

#include <array>
#include <string>

#include "engine/dtype.h"
#include "engine/ops.h"

namespace petabox {

struct TypeSyntax {
  const char* storage;  // element type in buffers
  const char* compute;  // type of values in registers
  const char* load;     // storage -> compute, "{0}" is the loaded element
  const char* store;    // compute -> storage
};

struct Dialect {
  std::string name;
  std::string prelude;           // helpers at the top of every source
  std::string signature;         // {name} {params}: the kernel function's header
  std::string buffer_param;      // {i} {type} {const}: buffer i as a kernel parameter ("" = none)
  std::string buffer_decl;       // {i} {type} {const}: binds buffer i inside the kernel ("" = none)
  std::string parallel_loop;     // {var} {end}: opens the device-parallel index range
  std::string parallel_close;    // closes it
  std::string serial_loop;       // {var} {begin} {end}
  std::string define;            // {var} {value}: an index variable derived from another
  std::string inf, nan;          // float literals
  std::string shared;            // {type} {var} {size}: declares block-shared memory ("" = none)
  std::string barrier;           // synchronizes the threads of a block
  std::string index_type;        // type of loop variables
  std::array<TypeSyntax, 7> types;       // by DType
  std::array<const char*, kNumOps> alu;  // by Op; {T} is the result's compute type
  std::string vector_typedef;    // {vtype} {scalar} {bytes} {align}
  std::string vector_type;       // {scalar} {n}
  std::string vector_load;       // {vtype} {buf} {index}
  std::string gather;            // {vtype} {elems}
  std::string lane;              // {src} {lane}
};

// The ALU formats every C-style dialect shares; `bitcast` is the one that differs.
std::array<const char*, kNumOps> CStyleAlu(const char* bitcast);
// What the CUDA and HIP dialects share: one thread per global index, kernels as
// `extern "C" __global__` functions taking their buffers as parameters, block-shared
// memory, half types stored as 16-bit and computed in float. Name, prelude and the float
// literals are each dialect's own.
Dialect GpuDialectBase();

// The CPU dialect: GNU C11 with vector extensions, compiled by the system C compiler.
const Dialect& CDialect();
// The CUDA dialect: CUDA C++ compiled by NVRTC.
const Dialect& CudaDialect();
// The HIP dialect: HIP C++ compiled by hiprtc (AMD GPUs).
const Dialect& HipDialect();
// Looks a dialect up by DeviceProperties::dialect.
const Dialect* FindDialect(const std::string& name);

}  // namespace petabox
