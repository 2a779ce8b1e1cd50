// Compile-time check that the HIP runtime and hiprtc declarations of devices/hip/hip_api.h
// match AMD's headers. It is not part of the build (this project builds without ROCm
// headers); hip_abi_test.cc runs it where the headers are installed (Debian 12's
// libamdhip64-dev, ROCm 5.2, in CI), and by hand:
//
//   g++ -std=c++20 -fsyntax-only -D__HIP_PLATFORM_AMD__ -DPETABOX_HIP_ABI_CHECK -I. \
//       [-I/opt/rocm/include] tests/devices/hip/hip_abi_check.cpp
//
// With PETABOX_HIP_ABI_CHECK hip_api.h takes its types from hip_runtime_api.h and
// hiprtc.h, so every function pointer is compared with the real prototype exactly; the
// stand-in types used in normal builds are checked by size and value below.
#include <cstddef>
#include <type_traits>

#include "devices/hip/hip_api.h"

// PB_SAME(member, symbol): the table's pointer type is that of &::symbol. The header
// overloads a few functions with C++ templates (hipMalloc, hipHostMalloc), so the check
// converts &::symbol to the table's exact type, which picks the one C declaration and
// compiles only when its prototype is exactly that type.
template <typename Fn>
constexpr bool Matches(Fn) { return true; }
#define PB_SAME(member, symbol)                                                              \
  static_assert(Matches<decltype(petabox::HipApi::member)>(                                  \
                    static_cast<decltype(petabox::HipApi::member)>(&::symbol)),              \
                "HipApi::" #member " does not match the header's " #symbol)

PB_SAME(hipInit, hipInit);
PB_SAME(hipDriverGetVersion, hipDriverGetVersion);
PB_SAME(hipRuntimeGetVersion, hipRuntimeGetVersion);
PB_SAME(hipGetErrorName, hipGetErrorName);
PB_SAME(hipGetErrorString, hipGetErrorString);
PB_SAME(hipGetDeviceCount, hipGetDeviceCount);
PB_SAME(hipSetDevice, hipSetDevice);
PB_SAME(hipDeviceGet, hipDeviceGet);
PB_SAME(hipDeviceGetName, hipDeviceGetName);
PB_SAME(hipDeviceTotalMem, hipDeviceTotalMem);
PB_SAME(hipDeviceGetAttribute, hipDeviceGetAttribute);
PB_SAME(hipDeviceGetPCIBusId, hipDeviceGetPCIBusId);
PB_SAME(hipDeviceCanAccessPeer, hipDeviceCanAccessPeer);
PB_SAME(hipDeviceEnablePeerAccess, hipDeviceEnablePeerAccess);
PB_SAME(hipMemGetInfo, hipMemGetInfo);
PB_SAME(hipMalloc, hipMalloc);
PB_SAME(hipFree, hipFree);
PB_SAME(hipHostMalloc, hipHostMalloc);
PB_SAME(hipHostFree, hipHostFree);
PB_SAME(hipMemcpyHtoDAsync, hipMemcpyHtoDAsync);
PB_SAME(hipMemcpyDtoHAsync, hipMemcpyDtoHAsync);
PB_SAME(hipMemcpyDtoDAsync, hipMemcpyDtoDAsync);
PB_SAME(hipMemcpyPeerAsync, hipMemcpyPeerAsync);
PB_SAME(hipStreamCreateWithFlags, hipStreamCreateWithFlags);
PB_SAME(hipStreamDestroy, hipStreamDestroy);
PB_SAME(hipStreamSynchronize, hipStreamSynchronize);
PB_SAME(hipEventCreateWithFlags, hipEventCreateWithFlags);
PB_SAME(hipEventDestroy, hipEventDestroy);
PB_SAME(hipEventRecord, hipEventRecord);
PB_SAME(hipEventElapsedTime, hipEventElapsedTime);
PB_SAME(hipModuleLoadData, hipModuleLoadData);
PB_SAME(hipModuleUnload, hipModuleUnload);
PB_SAME(hipModuleGetFunction, hipModuleGetFunction);
PB_SAME(hipModuleLaunchKernel, hipModuleLaunchKernel);

PB_SAME(hiprtcGetErrorString, hiprtcGetErrorString);
PB_SAME(hiprtcVersion, hiprtcVersion);
PB_SAME(hiprtcCreateProgram, hiprtcCreateProgram);
PB_SAME(hiprtcDestroyProgram, hiprtcDestroyProgram);
PB_SAME(hiprtcCompileProgram, hiprtcCompileProgram);
PB_SAME(hiprtcGetProgramLogSize, hiprtcGetProgramLogSize);
PB_SAME(hiprtcGetProgramLog, hiprtcGetProgramLog);
PB_SAME(hiprtcGetCodeSize, hiprtcGetCodeSize);
PB_SAME(hiprtcGetCode, hiprtcGetCode);

// hipGetDeviceProperties is taken as (void*, int): the struct is read as bytes.
static_assert(std::is_same_v<decltype(&::hipGetDeviceProperties),
                             hipError_t (*)(hipDeviceProp_t*, int)>);
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

// The stand-in types of normal builds: enums passed as int, handles as pointers.
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
