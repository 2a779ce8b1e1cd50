// Compile-time check that the entry points the CUDA loader binds into the GPU table
// (devices/gpu/cuda_api.cc into devices/gpu/gpu_api.h and cuda_api.h) and the NVML
// declarations of devices/telemetry/nvml_api.h match NVIDIA's headers. It is not part of
// the build (this project builds without CUDA headers); run it by hand on a machine that
// has them:
//
//   g++ -std=c++20 -fsyntax-only -DPETABOX_CUDA_ABI_CHECK -I. -I/usr/local/cuda/include \
//       tests/devices/gpu/cuda_abi_check.cpp
//
// Table fields are compared for ABI compatibility (abi_compatible.h); NVML's declarations,
// which take cuda.h's types under PETABOX_CUDA_ABI_CHECK, exactly. (CUDA 13's cuda.h
// #defines cuEventElapsedTime to cuEventElapsedTime_v2, same prototype; the backend
// resolves the plain symbol, which drivers keep exporting.)
#include <cuda.h>
#include <nvrtc.h>

#include <cstddef>
#include <type_traits>

#include "devices/gpu/cuda_api.h"
#include "devices/telemetry/nvml_api.h"
#include "tests/devices/gpu/abi_compatible.h"

// PB_SAME(Table, member, symbol): the table's pointer type is that of &::symbol.
#define PB_SAME(Table, member, symbol)                                                  \
  static_assert(std::is_same_v<decltype(petabox::Table::member), decltype(&::symbol)>, \
                #Table "::" #member " does not match the header's " #symbol)

PB_ABI(CudaApi, init, cuInit);
PB_ABI(CudaApi, driver_version, cuDriverGetVersion);
PB_ABI(CudaApi, cuGetErrorName, cuGetErrorName);
PB_ABI(CudaApi, cuGetErrorString, cuGetErrorString);
PB_ABI(CudaApi, device_count, cuDeviceGetCount);
PB_ABI(CudaApi, device_get, cuDeviceGet);
PB_ABI(CudaApi, device_name, cuDeviceGetName);
PB_ABI(CudaApi, device_attribute, cuDeviceGetAttribute);
PB_ABI(CudaApi, pci_bus_id, cuDeviceGetPCIBusId);
PB_ABI(CudaApi, total_mem, cuDeviceTotalMem_v2);
PB_ABI(CudaApi, can_access_peer, cuDeviceCanAccessPeer);
PB_ABI(CudaApi, cuDevicePrimaryCtxRetain, cuDevicePrimaryCtxRetain);
PB_ABI(CudaApi, cuDevicePrimaryCtxRelease_v2, cuDevicePrimaryCtxRelease_v2);
PB_ABI(CudaApi, cuCtxSetCurrent, cuCtxSetCurrent);
PB_ABI(CudaApi, cuCtxEnablePeerAccess, cuCtxEnablePeerAccess);
PB_ABI(CudaApi, mem_get_info, cuMemGetInfo_v2);
PB_ABI(CudaApi, mem_alloc, cuMemAlloc_v2);
PB_ABI(CudaApi, mem_free, cuMemFree_v2);
PB_ABI(CudaApi, host_alloc, cuMemHostAlloc);
PB_ABI(CudaApi, host_free, cuMemFreeHost);
PB_ABI(CudaApi, memcpy_htod_async, cuMemcpyHtoDAsync_v2);
PB_ABI(CudaApi, memcpy_dtoh_async, cuMemcpyDtoHAsync_v2);
PB_ABI(CudaApi, memcpy_dtod_async, cuMemcpyDtoDAsync_v2);
PB_ABI(CudaApi, cuMemcpyPeerAsync, cuMemcpyPeerAsync);
PB_ABI(CudaApi, stream_create, cuStreamCreate);
PB_ABI(CudaApi, stream_destroy, cuStreamDestroy_v2);
PB_ABI(CudaApi, stream_synchronize, cuStreamSynchronize);
PB_ABI(CudaApi, event_create, cuEventCreate);
PB_ABI(CudaApi, event_destroy, cuEventDestroy_v2);
PB_ABI(CudaApi, event_record, cuEventRecord);
PB_ABI(CudaApi, event_elapsed, cuEventElapsedTime);
PB_ABI(CudaApi, module_load, cuModuleLoadData);
PB_ABI(CudaApi, module_unload, cuModuleUnload);
PB_ABI(CudaApi, module_function, cuModuleGetFunction);
PB_ABI(CudaApi, launch_kernel, cuLaunchKernel);
PB_ABI(CudaApi, func_set_attribute, cuFuncSetAttribute);
static_assert(CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES == 8);

PB_ABI(CudaApi, rtc_error_string, nvrtcGetErrorString);
PB_ABI(CudaApi, rtc_version, nvrtcVersion);
PB_ABI(CudaApi, rtc_create_program, nvrtcCreateProgram);
PB_ABI(CudaApi, rtc_destroy_program, nvrtcDestroyProgram);
PB_ABI(CudaApi, rtc_compile_program, nvrtcCompileProgram);
PB_ABI(CudaApi, rtc_log_size, nvrtcGetProgramLogSize);
PB_ABI(CudaApi, rtc_log, nvrtcGetProgramLog);
PB_ABI(CudaApi, rtc_ptx_size, nvrtcGetPTXSize);
PB_ABI(CudaApi, rtc_ptx, nvrtcGetPTX);
PB_ABI(CudaApi, rtc_code_size, nvrtcGetCUBINSize);
PB_ABI(CudaApi, rtc_code, nvrtcGetCUBIN);
PB_ABI(CudaApi, nvrtcGetNumSupportedArchs, nvrtcGetNumSupportedArchs);
PB_ABI(CudaApi, nvrtcGetSupportedArchs, nvrtcGetSupportedArchs);

PB_SAME(NvmlApi, nvmlInit_v2, nvmlInit_v2);
PB_SAME(NvmlApi, nvmlShutdown, nvmlShutdown);
PB_SAME(NvmlApi, nvmlErrorString, nvmlErrorString);
PB_SAME(NvmlApi, nvmlDeviceGetHandleByIndex_v2, nvmlDeviceGetHandleByIndex_v2);
PB_SAME(NvmlApi, nvmlDeviceGetHandleByPciBusId_v2, nvmlDeviceGetHandleByPciBusId_v2);
PB_SAME(NvmlApi, nvmlDeviceGetPowerUsage, nvmlDeviceGetPowerUsage);
PB_SAME(NvmlApi, nvmlDeviceGetTotalEnergyConsumption, nvmlDeviceGetTotalEnergyConsumption);
PB_SAME(NvmlApi, nvmlDeviceGetUtilizationRates, nvmlDeviceGetUtilizationRates);
PB_SAME(NvmlApi, nvmlDeviceGetMemoryInfo, nvmlDeviceGetMemoryInfo);
PB_SAME(NvmlApi, nvmlDeviceGetTemperature, nvmlDeviceGetTemperature);
PB_SAME(NvmlApi, nvmlDeviceGetClockInfo, nvmlDeviceGetClockInfo);

// The neutral types: enums as int, 64-bit device pointers, struct layouts.
static_assert(sizeof(::CUresult) == sizeof(int) && sizeof(::CUdevice_attribute) == sizeof(int));
static_assert(sizeof(::CUdevice) == sizeof(int));
static_assert(std::is_same_v<::CUdeviceptr, unsigned long long> && sizeof(::CUdeviceptr) == sizeof(void*));
static_assert(sizeof(::nvrtcResult) == sizeof(int) && sizeof(::nvmlReturn_t) == sizeof(int));
static_assert(sizeof(::nvmlTemperatureSensors_t) == sizeof(int));
static_assert(sizeof(::nvmlClockType_t) == sizeof(int));
static_assert(sizeof(::nvmlMemory_t) == 24 && offsetof(::nvmlMemory_t, total) == 0 &&
              offsetof(::nvmlMemory_t, free) == 8 && offsetof(::nvmlMemory_t, used) == 16);
static_assert(sizeof(::nvmlUtilization_t) == 8 && offsetof(::nvmlUtilization_t, gpu) == 0 &&
              offsetof(::nvmlUtilization_t, memory) == 4);

// Constants.
static_assert(petabox::kCudaSuccess == CUDA_SUCCESS);
static_assert(petabox::kCudaErrorInvalidValue == CUDA_ERROR_INVALID_VALUE);
static_assert(petabox::kCudaErrorOutOfMemory == CUDA_ERROR_OUT_OF_MEMORY);
static_assert(petabox::kCudaErrorNotInitialized == CUDA_ERROR_NOT_INITIALIZED);
static_assert(petabox::kCudaErrorDeinitialized == CUDA_ERROR_DEINITIALIZED);
static_assert(petabox::kCudaErrorStubLibrary == CUDA_ERROR_STUB_LIBRARY);
static_assert(petabox::kCudaErrorDeviceUnavailable == CUDA_ERROR_DEVICE_UNAVAILABLE);
static_assert(petabox::kCudaErrorSystemDriverMismatch == CUDA_ERROR_SYSTEM_DRIVER_MISMATCH);
static_assert(petabox::kCudaErrorNoDevice == CUDA_ERROR_NO_DEVICE);
static_assert(petabox::kCudaErrorInvalidDevice == CUDA_ERROR_INVALID_DEVICE);
static_assert(petabox::kCudaErrorInvalidImage == CUDA_ERROR_INVALID_IMAGE);
static_assert(petabox::kCudaErrorNoBinaryForGpu == CUDA_ERROR_NO_BINARY_FOR_GPU);
static_assert(petabox::kCudaErrorInvalidPtx == CUDA_ERROR_INVALID_PTX);
static_assert(petabox::kCudaErrorUnsupportedPtxVersion == CUDA_ERROR_UNSUPPORTED_PTX_VERSION);
static_assert(petabox::kCudaErrorNotFound == CUDA_ERROR_NOT_FOUND);
static_assert(petabox::kCudaErrorPeerAccessAlreadyEnabled ==
              CUDA_ERROR_PEER_ACCESS_ALREADY_ENABLED);
static_assert(petabox::kCuDeviceAttributeWarpSize == CU_DEVICE_ATTRIBUTE_WARP_SIZE);
static_assert(petabox::kCuDeviceAttributeMultiprocessorCount ==
              CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
static_assert(petabox::kCuDeviceAttributeComputeCapabilityMajor ==
              CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
static_assert(petabox::kCuDeviceAttributeComputeCapabilityMinor ==
              CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
static_assert(petabox::kCuStreamNonBlocking == CU_STREAM_NON_BLOCKING);
static_assert(petabox::kCuEventDefault == CU_EVENT_DEFAULT);
static_assert(petabox::kNvrtcSuccess == NVRTC_SUCCESS);
static_assert(petabox::kNvrtcErrorOutOfMemory == NVRTC_ERROR_OUT_OF_MEMORY);
static_assert(petabox::kNvrtcErrorInvalidInput == NVRTC_ERROR_INVALID_INPUT);
static_assert(petabox::kNvrtcErrorInvalidOption == NVRTC_ERROR_INVALID_OPTION);
static_assert(petabox::kNvrtcErrorCompilation == NVRTC_ERROR_COMPILATION);
static_assert(petabox::kNvrtcErrorBuiltinOperationFailure ==
              NVRTC_ERROR_BUILTIN_OPERATION_FAILURE);
static_assert(petabox::kNvmlSuccess == NVML_SUCCESS);
static_assert(petabox::kNvmlTemperatureGpu == NVML_TEMPERATURE_GPU);
static_assert(petabox::kNvmlClockSm == NVML_CLOCK_SM);
static_assert(petabox::kNvmlClockMem == NVML_CLOCK_MEM);
static_assert(NVML_ERROR_INVALID_ARGUMENT == 2 && NVML_ERROR_NOT_FOUND == 6);  // nvml_telemetry.cc

int main() { return 0; }
