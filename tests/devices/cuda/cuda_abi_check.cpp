// Compile-time check that the driver API, NVRTC and NVML declarations of
// devices/cuda/cuda_api.h and devices/telemetry/nvml_api.h match NVIDIA's headers. It is
// not part of the build (this project builds without CUDA headers); run it by hand on a
// machine that has them:
//
//   g++ -std=c++20 -fsyntax-only -DPETABOX_CUDA_ABI_CHECK -I. -I/usr/local/cuda/include \
//       tests/devices/cuda/cuda_abi_check.cpp
//
// With PETABOX_CUDA_ABI_CHECK the two headers take their types from cuda.h, nvrtc.h and
// nvml.h, so every function pointer is compared with the real prototype exactly; the
// stand-in types used in normal builds are checked by size, layout and value below.
// (CUDA 13's cuda.h #defines cuEventElapsedTime to cuEventElapsedTime_v2, same prototype;
// the backend resolves the plain symbol, which drivers keep exporting.)
#include <cstddef>
#include <type_traits>

#include "devices/cuda/cuda_api.h"
#include "devices/telemetry/nvml_api.h"

// PB_SAME(Table, member, symbol): the table's pointer type is that of &::symbol.
#define PB_SAME(Table, member, symbol)                                                  \
  static_assert(std::is_same_v<decltype(petabox::Table::member), decltype(&::symbol)>, \
                #Table "::" #member " does not match the header's " #symbol)

PB_SAME(CudaApi, cuInit, cuInit);
PB_SAME(CudaApi, cuDriverGetVersion, cuDriverGetVersion);
PB_SAME(CudaApi, cuGetErrorName, cuGetErrorName);
PB_SAME(CudaApi, cuGetErrorString, cuGetErrorString);
PB_SAME(CudaApi, cuDeviceGetCount, cuDeviceGetCount);
PB_SAME(CudaApi, cuDeviceGet, cuDeviceGet);
PB_SAME(CudaApi, cuDeviceGetName, cuDeviceGetName);
PB_SAME(CudaApi, cuDeviceGetAttribute, cuDeviceGetAttribute);
PB_SAME(CudaApi, cuDeviceGetPCIBusId, cuDeviceGetPCIBusId);
PB_SAME(CudaApi, cuDeviceTotalMem_v2, cuDeviceTotalMem_v2);
PB_SAME(CudaApi, cuDeviceCanAccessPeer, cuDeviceCanAccessPeer);
PB_SAME(CudaApi, cuDevicePrimaryCtxRetain, cuDevicePrimaryCtxRetain);
PB_SAME(CudaApi, cuDevicePrimaryCtxRelease_v2, cuDevicePrimaryCtxRelease_v2);
PB_SAME(CudaApi, cuCtxSetCurrent, cuCtxSetCurrent);
PB_SAME(CudaApi, cuCtxEnablePeerAccess, cuCtxEnablePeerAccess);
PB_SAME(CudaApi, cuMemGetInfo_v2, cuMemGetInfo_v2);
PB_SAME(CudaApi, cuMemAlloc_v2, cuMemAlloc_v2);
PB_SAME(CudaApi, cuMemFree_v2, cuMemFree_v2);
PB_SAME(CudaApi, cuMemAllocHost_v2, cuMemAllocHost_v2);
PB_SAME(CudaApi, cuMemFreeHost, cuMemFreeHost);
PB_SAME(CudaApi, cuMemcpyHtoDAsync_v2, cuMemcpyHtoDAsync_v2);
PB_SAME(CudaApi, cuMemcpyDtoHAsync_v2, cuMemcpyDtoHAsync_v2);
PB_SAME(CudaApi, cuMemcpyDtoDAsync_v2, cuMemcpyDtoDAsync_v2);
PB_SAME(CudaApi, cuMemcpyPeerAsync, cuMemcpyPeerAsync);
PB_SAME(CudaApi, cuStreamCreate, cuStreamCreate);
PB_SAME(CudaApi, cuStreamDestroy_v2, cuStreamDestroy_v2);
PB_SAME(CudaApi, cuStreamSynchronize, cuStreamSynchronize);
PB_SAME(CudaApi, cuEventCreate, cuEventCreate);
PB_SAME(CudaApi, cuEventDestroy_v2, cuEventDestroy_v2);
PB_SAME(CudaApi, cuEventRecord, cuEventRecord);
PB_SAME(CudaApi, cuEventElapsedTime, cuEventElapsedTime);
PB_SAME(CudaApi, cuModuleLoadData, cuModuleLoadData);
PB_SAME(CudaApi, cuModuleUnload, cuModuleUnload);
PB_SAME(CudaApi, cuModuleGetFunction, cuModuleGetFunction);
PB_SAME(CudaApi, cuLaunchKernel, cuLaunchKernel);

PB_SAME(CudaApi, nvrtcGetErrorString, nvrtcGetErrorString);
PB_SAME(CudaApi, nvrtcVersion, nvrtcVersion);
PB_SAME(CudaApi, nvrtcCreateProgram, nvrtcCreateProgram);
PB_SAME(CudaApi, nvrtcDestroyProgram, nvrtcDestroyProgram);
PB_SAME(CudaApi, nvrtcCompileProgram, nvrtcCompileProgram);
PB_SAME(CudaApi, nvrtcGetProgramLogSize, nvrtcGetProgramLogSize);
PB_SAME(CudaApi, nvrtcGetProgramLog, nvrtcGetProgramLog);
PB_SAME(CudaApi, nvrtcGetPTXSize, nvrtcGetPTXSize);
PB_SAME(CudaApi, nvrtcGetPTX, nvrtcGetPTX);
PB_SAME(CudaApi, nvrtcGetCUBINSize, nvrtcGetCUBINSize);
PB_SAME(CudaApi, nvrtcGetCUBIN, nvrtcGetCUBIN);
PB_SAME(CudaApi, nvrtcGetNumSupportedArchs, nvrtcGetNumSupportedArchs);
PB_SAME(CudaApi, nvrtcGetSupportedArchs, nvrtcGetSupportedArchs);

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

// The stand-ins of normal builds: enums as int, 64-bit device pointers, struct layouts.
static_assert(sizeof(::CUresult) == sizeof(int) && sizeof(::CUdevice_attribute) == sizeof(int));
static_assert(sizeof(::CUdevice) == sizeof(int));
static_assert(std::is_same_v<::CUdeviceptr, unsigned long long>);
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
