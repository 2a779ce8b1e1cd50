// Compile-time check that the entry points the HIP loader binds into the GPU table
// (devices/gpu/hip_api.cc into devices/gpu/gpu_api.h and hip_api.h) match AMD's headers.
// It is not part of the build (this project builds without ROCm headers); hip_abi_test.cc
// runs it where the headers are installed (Debian 12's libamdhip64-dev, ROCm 5.2, in CI),
// and by hand:
//
//   g++ -std=c++20 -fsyntax-only -D__HIP_PLATFORM_AMD__ -DPETABOX_HIP_ABI_CHECK -I. \
//       [-I/opt/rocm/include] tests/devices/gpu/hip_abi_check.cpp
//
// Table fields are compared for ABI compatibility (abi_compatible.h). The real headers come
// first, so a name they #define (ROCm 6 maps hipGetDeviceProperties to ...R0600) is
// renamed alike in the table and in the check.
#include <hip/hip_runtime_api.h>
#include <hip/hiprtc.h>

#include <cstddef>
#include <type_traits>

#include "devices/gpu/hip_api.h"
#include "tests/devices/gpu/abi_compatible.h"

PB_ABI(HipApi, init, hipInit);
PB_ABI(HipApi, driver_version, hipDriverGetVersion);
PB_ABI(HipApi, hipRuntimeGetVersion, hipRuntimeGetVersion);
PB_ABI(HipApi, hipGetErrorName, hipGetErrorName);
PB_ABI(HipApi, hipGetErrorString, hipGetErrorString);
PB_ABI(HipApi, device_count, hipGetDeviceCount);
PB_ABI(HipApi, hipSetDevice, hipSetDevice);
PB_ABI(HipApi, device_get, hipDeviceGet);
PB_ABI(HipApi, device_name, hipDeviceGetName);
PB_ABI(HipApi, total_mem, hipDeviceTotalMem);
PB_ABI(HipApi, device_attribute, hipDeviceGetAttribute);
PB_ABI(HipApi, pci_bus_id, hipDeviceGetPCIBusId);
PB_ABI(HipApi, can_access_peer, hipDeviceCanAccessPeer);
PB_ABI(HipApi, hipDeviceEnablePeerAccess, hipDeviceEnablePeerAccess);
PB_ABI(HipApi, mem_get_info, hipMemGetInfo);
PB_ABI_AS(HipApi, mem_alloc, hipMalloc, hipError_t (*)(void**, size_t));
PB_ABI(HipApi, mem_free, hipFree);
PB_ABI_AS(HipApi, host_alloc, hipHostMalloc, hipError_t (*)(void**, size_t, unsigned int));
PB_ABI(HipApi, host_free, hipHostFree);
PB_ABI(HipApi, memcpy_htod_async, hipMemcpyHtoDAsync);
PB_ABI(HipApi, memcpy_dtoh_async, hipMemcpyDtoHAsync);
PB_ABI(HipApi, memcpy_dtod_async, hipMemcpyDtoDAsync);
PB_ABI(HipApi, hipMemcpyPeerAsync, hipMemcpyPeerAsync);
PB_ABI(HipApi, stream_create, hipStreamCreateWithFlags);
PB_ABI(HipApi, stream_destroy, hipStreamDestroy);
PB_ABI(HipApi, stream_synchronize, hipStreamSynchronize);
PB_ABI(HipApi, event_create, hipEventCreateWithFlags);
PB_ABI(HipApi, event_destroy, hipEventDestroy);
PB_ABI(HipApi, event_record, hipEventRecord);
PB_ABI(HipApi, event_elapsed, hipEventElapsedTime);
PB_ABI(HipApi, module_load, hipModuleLoadData);
PB_ABI(HipApi, module_unload, hipModuleUnload);
PB_ABI(HipApi, module_function, hipModuleGetFunction);
PB_ABI(HipApi, launch_kernel, hipModuleLaunchKernel);

PB_ABI(HipApi, rtc_error_string, hiprtcGetErrorString);
PB_ABI(HipApi, rtc_version, hiprtcVersion);
PB_ABI(HipApi, rtc_create_program, hiprtcCreateProgram);
PB_ABI(HipApi, rtc_destroy_program, hiprtcDestroyProgram);
PB_ABI(HipApi, rtc_compile_program, hiprtcCompileProgram);
PB_ABI(HipApi, rtc_log_size, hiprtcGetProgramLogSize);
PB_ABI(HipApi, rtc_log, hiprtcGetProgramLog);
PB_ABI(HipApi, rtc_code_size, hiprtcGetCodeSize);
PB_ABI(HipApi, rtc_code, hiprtcGetCode);

// hipGetDeviceProperties is taken as (void*, int): the struct is read as bytes.
static_assert(std::is_same_v<decltype(&::hipGetDeviceProperties),
                             hipError_t (*)(hipDeviceProp_t*, int)>);
PB_ABI(HipApi, hipGetDeviceProperties, hipGetDeviceProperties);
// ROCm 6+ headers map hipDeviceProp_t to the R0600 layout, ROCm 5's is the older one.
#if HIP_VERSION_MAJOR >= 6
static_assert(offsetof(hipDeviceProp_t, gcnArchName) == petabox::kHipPropsR0600ArchOffset);
static_assert(sizeof(hipDeviceProp_t) == petabox::kHipPropsR0600Size);
static_assert(offsetof(hipDeviceProp_tR0000, gcnArchName) == petabox::kHipPropsR0000ArchOffset);
#else
static_assert(offsetof(hipDeviceProp_t, gcnArchName) == petabox::kHipPropsR0000ArchOffset);
static_assert(sizeof(hipDeviceProp_t) == petabox::kHipPropsR0000Size);
#endif
static_assert(sizeof(hipDeviceProp_t) <= petabox::kHipPropsBufferSize);

// The neutral types: enums passed as int, handles as pointers.
static_assert(sizeof(hipError_t) == sizeof(int) && sizeof(hipDeviceAttribute_t) == sizeof(int));
static_assert(sizeof(hiprtcResult) == sizeof(int) && std::is_same_v<hipDevice_t, int>);
static_assert(std::is_same_v<hipDeviceptr_t, void*>);
static_assert(std::is_pointer_v<hipStream_t> && std::is_pointer_v<hipEvent_t>);
static_assert(std::is_pointer_v<hipModule_t> && std::is_pointer_v<hipFunction_t>);
static_assert(std::is_pointer_v<hiprtcProgram>);

// Codes, attributes and flags.
static_assert(petabox::kHipSuccess == hipSuccess);
static_assert(petabox::kHipErrorInvalidValue == hipErrorInvalidValue);
static_assert(petabox::kHipErrorOutOfMemory == hipErrorOutOfMemory);
static_assert(petabox::kHipErrorNotInitialized == hipErrorNotInitialized);
static_assert(petabox::kHipErrorDeinitialized == hipErrorDeinitialized);
static_assert(petabox::kHipErrorInsufficientDriver == hipErrorInsufficientDriver);
static_assert(petabox::kHipErrorInvalidDeviceFunction == hipErrorInvalidDeviceFunction);
static_assert(petabox::kHipErrorNoDevice == hipErrorNoDevice);
static_assert(petabox::kHipErrorInvalidDevice == hipErrorInvalidDevice);
static_assert(petabox::kHipErrorInvalidImage == hipErrorInvalidImage);
static_assert(petabox::kHipErrorNoBinaryForGpu == hipErrorNoBinaryForGpu);
static_assert(petabox::kHipErrorInvalidKernelFile == hipErrorInvalidKernelFile);
static_assert(petabox::kHipErrorNotFound == hipErrorNotFound);
static_assert(petabox::kHipErrorPeerAccessAlreadyEnabled == hipErrorPeerAccessAlreadyEnabled);
static_assert(petabox::kHipDeviceAttributeMaxThreadsPerBlock == hipDeviceAttributeMaxThreadsPerBlock);
static_assert(petabox::kHipDeviceAttributeMultiprocessorCount == hipDeviceAttributeMultiprocessorCount);
static_assert(petabox::kHipDeviceAttributeWarpSize == hipDeviceAttributeWarpSize);
static_assert(petabox::kHipStreamNonBlocking == hipStreamNonBlocking);
static_assert(petabox::kHipEventDefault == hipEventDefault);
static_assert(petabox::kHipHostMallocDefault == hipHostMallocDefault);
static_assert(petabox::kHiprtcSuccess == HIPRTC_SUCCESS);
static_assert(petabox::kHiprtcErrorOutOfMemory == HIPRTC_ERROR_OUT_OF_MEMORY);
static_assert(petabox::kHiprtcErrorProgramCreationFailure == HIPRTC_ERROR_PROGRAM_CREATION_FAILURE);
static_assert(petabox::kHiprtcErrorInvalidInput == HIPRTC_ERROR_INVALID_INPUT);
static_assert(petabox::kHiprtcErrorInvalidProgram == HIPRTC_ERROR_INVALID_PROGRAM);
static_assert(petabox::kHiprtcErrorInvalidOption == HIPRTC_ERROR_INVALID_OPTION);
static_assert(petabox::kHiprtcErrorCompilation == HIPRTC_ERROR_COMPILATION);
static_assert(petabox::kHiprtcErrorBuiltinOperationFailure == HIPRTC_ERROR_BUILTIN_OPERATION_FAILURE);
