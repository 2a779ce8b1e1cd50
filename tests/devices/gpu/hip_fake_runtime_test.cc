// The GPU backend (devices/gpu) on AMD's table against a simulated runtime: a HipApi whose
// entry points keep "device memory" in host memory, record launches and compile by echoing
// the source. No AMD GPU exists where this project is tested, so this is how GpuDevice,
// GpuAllocator, GpuProgram and GpuCompiler run their real code paths over HIP (device
// selection, caching, OOM, staged copies, argument marshalling, module errors, the
// code-object cache). It checks the backend's use of the API, not the API itself: see
// hip_runtime_test.cc for the real library and devices/gpu/README.md for what has run on
// AMD hardware (nothing yet).
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "devices/gpu/gpu_device.h"
#include "devices/gpu/gpu_program.h"
#include "devices/gpu/hip_api.h"

namespace petabox {
namespace {

// The simulated runtime's state; one test at a time uses it (gtest runs tests serially).
struct FakeRuntime {
  size_t capacity = size_t{1} << 30;  // "device memory" the fake hands out
  size_t in_use = 0;
  std::map<void*, size_t> blocks;
  int device_count = 2;
  int current = -1;
  int set_device_calls = 0;
  int mallocs = 0, frees = 0, host_mallocs = 0, copies = 0;
  bool r0600 = true;
  std::string arch_name = "gfx1100";
  // The last launch.
  std::array<unsigned, 6> geometry{};
  size_t kernel_params = 0;  // how many parameters the launched kernel has
  std::vector<void*> launch_args;
  int launch_device = -1;
  // The last hiprtc compile.
  std::vector<std::string> compile_options;
  int hiprtc_compiles = 0;
};
FakeRuntime* g_fake = nullptr;

int ihip_stream_storage[8];  // stream i is &ihip_stream_storage[i]

GpuResult FakeMalloc(void** ptr, size_t bytes) {
  if (g_fake->in_use + bytes > g_fake->capacity) return kHipErrorOutOfMemory;
  *ptr = ::operator new(bytes);
  g_fake->blocks[*ptr] = bytes;
  g_fake->in_use += bytes;
  ++g_fake->mallocs;
  return kHipSuccess;
}

GpuResult FakeFree(void* ptr) {
  auto it = g_fake->blocks.find(ptr);
  if (it == g_fake->blocks.end()) return kHipErrorInvalidValue;
  g_fake->in_use -= it->second;
  g_fake->blocks.erase(it);
  ::operator delete(ptr);
  ++g_fake->frees;
  return kHipSuccess;
}

GpuResult FakeCopy(void* dst, const void* src, size_t bytes) {
  std::memcpy(dst, src, bytes);
  ++g_fake->copies;
  return kHipSuccess;
}

void FillProperties(void* props, int device) {
  const size_t offset = g_fake->r0600 ? kHipPropsR0600ArchOffset : kHipPropsR0000ArchOffset;
  char* bytes = static_cast<char*>(props);
  std::strcpy(bytes, "Fake Radeon RX 7900 XTX");
  std::strcpy(bytes + offset, g_fake->arch_name.c_str());
}

// A code object of the fake: "FAKECO" followed by the source it was compiled from.
constexpr char kMagic[] = "FAKECO";

void InstallRuntime(HipApi* api) {
  api->init = [](unsigned) -> GpuResult { return kHipSuccess; };
  api->hipGetErrorName = [](GpuResult e) -> const char* {
    return e == kHipErrorOutOfMemory ? "hipErrorOutOfMemory" : "hipErrorFake";
  };
  api->hipGetErrorString = [](GpuResult) -> const char* { return "fake runtime error"; };
  api->device_count = [](int* n) -> GpuResult { *n = g_fake->device_count; return kHipSuccess; };
  api->hipSetDevice = [](int d) -> GpuResult {
    if (d < 0 || d >= g_fake->device_count) return kHipErrorInvalidDevice;
    g_fake->current = d;
    ++g_fake->set_device_calls;
    return kHipSuccess;
  };
  api->device_get = [](int* h, int ordinal) -> GpuResult { *h = ordinal; return kHipSuccess; };
  api->device_name = [](char* name, int n, int) -> GpuResult {
    std::strncpy(name, "Fake Radeon RX 7900 XTX", static_cast<size_t>(n));
    return kHipSuccess;
  };
  api->total_mem = [](size_t* bytes, int) -> GpuResult {
    *bytes = size_t{24} << 30;
    return kHipSuccess;
  };
  api->device_attribute = [](int* v, int a, int) -> GpuResult {
    if (a == kHipDeviceAttributeMultiprocessorCount) *v = 96;
    else if (a == kHipDeviceAttributeWarpSize) *v = 32;
    else return kHipErrorInvalidValue;
    return kHipSuccess;
  };
  api->pci_bus_id = [](char* id, int n, int d) -> GpuResult {
    std::snprintf(id, static_cast<size_t>(n), "0000:%02x:00.0", 3 + d);
    return kHipSuccess;
  };
  api->hipGetDeviceProperties = [](void* props, int d) -> GpuResult {
    FillProperties(props, d);
    return kHipSuccess;
  };
  api->props_r0600 = g_fake->r0600;
  api->can_access_peer = [](int* can, int, int) -> GpuResult { *can = 1; return kHipSuccess; };
  api->hipDeviceEnablePeerAccess = [](int, unsigned) -> GpuResult { return kHipSuccess; };
  api->mem_get_info = [](size_t* free_bytes, size_t* total) -> GpuResult {
    *free_bytes = g_fake->capacity - g_fake->in_use;
    *total = g_fake->capacity;
    return kHipSuccess;
  };
  api->mem_alloc = FakeMalloc;
  api->mem_free = FakeFree;
  api->host_alloc = [](void** ptr, size_t bytes, unsigned) -> GpuResult {
    *ptr = ::operator new(bytes);
    ++g_fake->host_mallocs;
    return kHipSuccess;
  };
  api->host_free = [](void* ptr) -> GpuResult { ::operator delete(ptr); return kHipSuccess; };
  api->memcpy_htod_async = [](GpuDevicePtr d, const void* s, size_t n, GpuStream) { return FakeCopy(d, s, n); };
  api->memcpy_dtoh_async = [](void* d, GpuDevicePtr s, size_t n, GpuStream) { return FakeCopy(d, s, n); };
  api->memcpy_dtod_async = [](GpuDevicePtr d, GpuDevicePtr s, size_t n, GpuStream) {
    return FakeCopy(d, s, n);
  };
  api->hipMemcpyPeerAsync = [](void* d, int, void* s, int, size_t n, GpuStream) {
    return FakeCopy(d, s, n);
  };
  api->stream_create = [](GpuStream* s, unsigned flags) -> GpuResult {
    if (flags != kHipStreamNonBlocking) return kHipErrorInvalidValue;
    *s = reinterpret_cast<GpuStream>(&ihip_stream_storage[g_fake->current]);
    return kHipSuccess;
  };
  api->stream_destroy = [](GpuStream) -> GpuResult { return kHipSuccess; };
  api->stream_synchronize = [](GpuStream) -> GpuResult { return kHipSuccess; };
  api->event_create = [](GpuEvent* e, unsigned) -> GpuResult {
    *e = reinterpret_cast<GpuEvent>(new int(0));
    return kHipSuccess;
  };
  api->event_destroy = [](GpuEvent e) -> GpuResult {
    delete reinterpret_cast<int*>(e);
    return kHipSuccess;
  };
  api->event_record = [](GpuEvent, GpuStream) -> GpuResult { return kHipSuccess; };
  api->event_elapsed = [](float* ms, GpuEvent, GpuEvent) -> GpuResult {
    *ms = 1.5f;
    return kHipSuccess;
  };
  api->module_load = [](GpuModule* m, const void* image) -> GpuResult {
    if (std::strncmp(static_cast<const char*>(image), kMagic, 6) != 0) return kHipErrorInvalidImage;
    *m = reinterpret_cast<GpuModule>(new std::string(static_cast<const char*>(image)));
    return kHipSuccess;
  };
  api->module_unload = [](GpuModule m) -> GpuResult {
    delete reinterpret_cast<std::string*>(m);
    return kHipSuccess;
  };
  api->module_function = [](GpuFunction* f, GpuModule m, const char* name) -> GpuResult {
    const std::string& code = *reinterpret_cast<std::string*>(m);
    if (code.find(std::string(" ") + name + "(") == std::string::npos) return kHipErrorNotFound;
    *f = reinterpret_cast<GpuFunction>(m);
    return kHipSuccess;
  };
  api->launch_kernel = [](GpuFunction, unsigned gx, unsigned gy, unsigned gz, unsigned bx,
                                  unsigned by, unsigned bz, unsigned shared, GpuStream stream,
                                  void** params, void** extra) -> GpuResult {
    if (shared != 0 || extra != nullptr) return kHipErrorInvalidValue;
    if (bx * by * bz > 1024) return kHipErrorInvalidValue;  // the device's block limit
    g_fake->geometry = {gx, gy, gz, bx, by, bz};
    g_fake->launch_device = static_cast<int>(reinterpret_cast<int*>(stream) - ihip_stream_storage);
    g_fake->launch_args.clear();
    // params[i] points at the i-th argument's value, a device pointer. (The real runtime
    // knows the count from the code object's metadata.)
    for (size_t i = 0; i < g_fake->kernel_params; ++i) {
      g_fake->launch_args.push_back(*static_cast<void**>(params[i]));
    }
    return kHipSuccess;
  };
}

void InstallHiprtc(HipApi* api) {
  api->rtc_library = "fake hiprtc";
  api->rtc_major = 6;
  api->rtc_error_string = [](RtcResult) -> const char* { return "HIPRTC_FAKE_ERROR"; };
  api->rtc_version = [](int* major, int* minor) -> RtcResult { *major = 6; *minor = 0; return 0; };
  api->rtc_create_program = [](RtcProgram* p, const char* source, const char*, int,
                                const char* const*, const char* const*) -> RtcResult {
    *p = reinterpret_cast<RtcProgram>(new std::string(source));
    return kHiprtcSuccess;
  };
  api->rtc_destroy_program = [](RtcProgram* p) -> RtcResult {
    delete reinterpret_cast<std::string*>(*p);
    return kHiprtcSuccess;
  };
  api->rtc_compile_program = [](RtcProgram p, int n, const char* const* options) -> RtcResult {
    ++g_fake->hiprtc_compiles;
    g_fake->compile_options.assign(options, options + n);
    const std::string& source = *reinterpret_cast<std::string*>(p);
    return source.find("#error") != std::string::npos ? kHiprtcErrorCompilation : kHiprtcSuccess;
  };
  api->rtc_log_size = [](RtcProgram p, size_t* size) -> RtcResult {
    *size = sizeof("k.hip:1:2: error: fake");  // counts the NUL, as hiprtc does
    return kHiprtcSuccess;
  };
  api->rtc_log = [](RtcProgram, char* log) -> RtcResult {
    std::strcpy(log, "k.hip:1:2: error: fake");
    return kHiprtcSuccess;
  };
  api->rtc_code_size = [](RtcProgram p, size_t* size) -> RtcResult {
    *size = 6 + reinterpret_cast<std::string*>(p)->size() + 1;
    return kHiprtcSuccess;
  };
  api->rtc_code = [](RtcProgram p, char* code) -> RtcResult {
    std::strcpy(code, (kMagic + *reinterpret_cast<std::string*>(p)).c_str());
    return kHiprtcSuccess;
  };
}

class HipFakeRuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    g_fake = &fake_;
    InstallRuntime(&api_);
    InstallHiprtc(&api_);
    options_.compiler.cache_dir = ::testing::TempDir() + "/petabox-hip-fake-" +
                                  ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::error_code ignored;
    std::filesystem::remove_all(options_.compiler.cache_dir, ignored);
  }
  void TearDown() override { g_fake = nullptr; }

  std::unique_ptr<GpuDevice> Open(int ordinal) {
    api_.props_r0600 = fake_.r0600;
    StatusOr<std::unique_ptr<GpuDevice>> device = GpuDevice::Create(&api_, ordinal, options_);
    EXPECT_TRUE(device.ok()) << device.status().ToString();
    return device.ok() ? std::move(device).value() : nullptr;
  }

  FakeRuntime fake_;
  HipApi api_;
  GpuDeviceOptions options_;
};

TEST_F(HipFakeRuntimeTest, PropertiesComeFromTheRuntime) {
  std::unique_ptr<GpuDevice> device = Open(1);
  ASSERT_NE(device, nullptr);
  const DeviceProperties& p = device->properties();
  EXPECT_EQ(p.name, "HIP:1");
  EXPECT_EQ(p.kind, "HIP");
  EXPECT_EQ(p.arch, "gfx1100");
  EXPECT_EQ(p.dialect, "hip");
  EXPECT_EQ(p.memory_bytes, int64_t{24} << 30);
  EXPECT_EQ(p.compute_units, 96);
  EXPECT_EQ(device->model_name(), "Fake Radeon RX 7900 XTX");
  EXPECT_EQ(device->pci_bus_id(), "0000:04:00.0");
  EXPECT_EQ(device->warp_size(), 32);
  EXPECT_EQ(device->gpu_compiler().target().arch, "gfx1100");
}

TEST_F(HipFakeRuntimeTest, Rocm5PropertiesLayoutAndTargetFeatures) {
  fake_.r0600 = false;
  fake_.arch_name = "gfx90a:sramecc+:xnack-";
  std::unique_ptr<GpuDevice> device = Open(0);
  ASSERT_NE(device, nullptr);
  EXPECT_EQ(device->properties().arch, "gfx90a");
  EXPECT_EQ(device->arch_name(), "gfx90a:sramecc+:xnack-");
}

TEST_F(HipFakeRuntimeTest, UnknownPropertiesLayoutFailsTheDeviceNotTheProcess) {
  fake_.arch_name = "not-a-target";
  api_.props_r0600 = true;
  StatusOr<std::unique_ptr<GpuDevice>> device = GpuDevice::Create(&api_, 0, options_);
  ASSERT_FALSE(device.ok());
  EXPECT_EQ(device.status().code(), StatusCode::kInternal);
}

TEST_F(HipFakeRuntimeTest, MissingOrdinalIsTheRuntimesError) {
  StatusOr<std::unique_ptr<GpuDevice>> device = GpuDevice::Create(&api_, 5, options_);
  ASSERT_FALSE(device.ok());
  EXPECT_EQ(device.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(device.status().message(), "hipSetDevice: hipErrorFake (101): fake runtime error");
}

TEST_F(HipFakeRuntimeTest, FreedBlocksAreReusedAndReleased) {
  std::unique_ptr<GpuDevice> device = Open(0);
  ASSERT_NE(device, nullptr);
  GpuAllocator& allocator = device->gpu_allocator();
  StatusOr<void*> a = allocator.Alloc(1000);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(allocator.BytesInUse(), 1024);
  allocator.Free(*a, 1000);
  EXPECT_EQ(allocator.BytesCached(), 1024);
  StatusOr<void*> b = allocator.Alloc(1010);  // same block size: from the cache
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(*b, *a);
  EXPECT_EQ(fake_.mallocs, 1);
  allocator.Free(*b, 1010);
  ASSERT_TRUE(allocator.ReleaseCache().ok());
  EXPECT_EQ(fake_.frees, 1);
  EXPECT_EQ(fake_.in_use, 0u);
}

TEST_F(HipFakeRuntimeTest, OutOfMemoryReleasesTheCacheThenIsResourceExhausted) {
  fake_.capacity = 8 << 20;
  std::unique_ptr<GpuDevice> device = Open(0);
  ASSERT_NE(device, nullptr);
  GpuAllocator& allocator = device->gpu_allocator();
  StatusOr<void*> cached = allocator.Alloc(6 << 20);
  ASSERT_TRUE(cached.ok());
  allocator.Free(*cached, 6 << 20);
  // 4 MiB fits only once the cached 6 MiB block is given back.
  StatusOr<void*> fits = allocator.Alloc(4 << 20);
  ASSERT_TRUE(fits.ok()) << fits.status().ToString();
  EXPECT_EQ(allocator.BytesCached(), 0);
  StatusOr<void*> too_big = allocator.Alloc(6 << 20);
  ASSERT_FALSE(too_big.ok());
  EXPECT_EQ(too_big.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(too_big.status().message(),
            "HIP:0 out of memory: requested 6291456 bytes (free 4194304 of 8388608)");
  allocator.Free(*fits, 4 << 20);
}

TEST_F(HipFakeRuntimeTest, CopiesRoundTripThroughPinnedStagingInChunks) {
  options_.allocator.max_staging_bytes = 1 << 20;
  std::unique_ptr<GpuDevice> device = Open(0);
  ASSERT_NE(device, nullptr);
  const size_t n = (5 << 20) / 2 + 17;  // 2.5 MiB and change: three 1 MiB chunks
  std::vector<char> in(n), out(n, 0);
  for (size_t i = 0; i < n; ++i) in[i] = static_cast<char>(i * 7 + 3);
  StatusOr<void*> buffer = device->allocator().Alloc(n);
  ASSERT_TRUE(buffer.ok());
  ASSERT_TRUE(device->allocator().CopyIn(*buffer, in.data(), n).ok());
  ASSERT_TRUE(device->allocator().CopyOut(out.data(), *buffer, n).ok());
  EXPECT_EQ(in, out);
  EXPECT_EQ(fake_.host_mallocs, 1);
  EXPECT_EQ(device->gpu_allocator().staging_bytes(), size_t{1} << 20);
  EXPECT_EQ(fake_.copies, 6);
  device->allocator().Free(*buffer, n);
}

TEST_F(HipFakeRuntimeTest, WithoutPinnedMemoryCopiesArePageable) {
  api_.host_alloc = nullptr;  // a runtime that dropped the deprecated entry points
  api_.host_free = nullptr;
  std::unique_ptr<GpuDevice> device = Open(0);
  ASSERT_NE(device, nullptr);
  std::vector<float> in = {1, 2, 3}, out(3);
  StatusOr<void*> buffer = device->allocator().Alloc(12);
  ASSERT_TRUE(buffer.ok());
  ASSERT_TRUE(device->allocator().CopyIn(*buffer, in.data(), 12).ok());
  ASSERT_TRUE(device->allocator().CopyOut(out.data(), *buffer, 12).ok());
  EXPECT_EQ(in, out);
  EXPECT_EQ(device->gpu_allocator().staging_bytes(), 0u);
  device->allocator().Free(*buffer, 12);
}

TEST_F(HipFakeRuntimeTest, DeviceToDeviceWithinAndAcrossDevices) {
  std::unique_ptr<GpuDevice> d0 = Open(0), d1 = Open(1);
  ASSERT_NE(d0, nullptr);
  ASSERT_NE(d1, nullptr);
  std::vector<int> in = {4, 5, 6, 7}, out(4);
  void* a = *d0->allocator().Alloc(16);
  void* b = *d0->allocator().Alloc(16);
  void* c = *d1->allocator().Alloc(16);
  ASSERT_TRUE(d0->allocator().CopyIn(a, in.data(), 16).ok());
  ASSERT_TRUE(CopyDeviceToDevice(*d0, b, *d0, a, 16).ok());
  ASSERT_TRUE(CopyDeviceToDevice(*d1, c, *d0, b, 16).ok());
  ASSERT_TRUE(d1->allocator().CopyOut(out.data(), c, 16).ok());
  EXPECT_EQ(in, out);
  d0->allocator().Free(a, 16);
  d0->allocator().Free(b, 16);
  d1->allocator().Free(c, 16);
}

TEST_F(HipFakeRuntimeTest, CompilesOnceThenHitsTheDiskCache) {
  std::unique_ptr<GpuDevice> device = Open(0);
  ASSERT_NE(device, nullptr);
  const std::string source = "extern \"C\" __global__ void k(float* data0) {}";
  StatusOr<std::string> first = device->compiler().Compile(source);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(fake_.compile_options, (std::vector<std::string>{"--offload-arch=gfx1100", "-O3"}));
  // A second device of the same arch (a fresh compiler) finds the file.
  std::unique_ptr<GpuDevice> other = Open(1);
  StatusOr<std::string> second = other->compiler().Compile(source);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*first, *second);
  EXPECT_EQ(fake_.hiprtc_compiles, 1);
  EXPECT_EQ(device->compiler().compiles(), 1);
  EXPECT_EQ(other->compiler().cache_hits(), 1);
}

TEST_F(HipFakeRuntimeTest, CompileErrorsCarryTheLogAndSource) {
  std::unique_ptr<GpuDevice> device = Open(0);
  ASSERT_NE(device, nullptr);
  StatusOr<std::string> code = device->compiler().Compile("#error broken\n");
  ASSERT_FALSE(code.ok());
  EXPECT_EQ(code.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(code.status().message(),
            "hiprtc failed for gfx1100: k.hip:1:2: error: fake\n--- source ---\n#error broken\n");
}

TEST_F(HipFakeRuntimeTest, LaunchPassesDevicePointersAndGeometry) {
  std::unique_ptr<GpuDevice> device = Open(1);
  ASSERT_NE(device, nullptr);
  StatusOr<std::string> code =
      device->compiler().Compile("extern \"C\" __global__ void add(float* a, const float* b) {}");
  ASSERT_TRUE(code.ok());
  StatusOr<std::unique_ptr<Program>> program = device->LoadProgram(*code, "add");
  ASSERT_TRUE(program.ok()) << program.status().ToString();
  void* a = *device->allocator().Alloc(4000);
  void* b = *device->allocator().Alloc(4000);
  LaunchDims dims;
  dims.global = {1000, 1, 1};
  dims.local = {256, 1, 1};
  fake_.kernel_params = 2;
  StatusOr<double> seconds = (*program)->Launch({a, b}, dims);
  ASSERT_TRUE(seconds.ok()) << seconds.status().ToString();
  EXPECT_DOUBLE_EQ(*seconds, 1.5e-3);
  EXPECT_EQ(fake_.geometry, (std::array<unsigned, 6>{4, 1, 1, 256, 1, 1}));
  EXPECT_EQ(fake_.launch_args, (std::vector<void*>{a, b}));
  EXPECT_EQ(fake_.launch_device, 1);
  // The runtime's refusal (a block too large) comes back naming the kernel and geometry.
  dims.global = {2048, 1, 1};
  dims.local = {2048, 1, 1};
  StatusOr<double> refused = (*program)->Launch({a, b}, dims);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().message(),
            "launch_kernel 'add' (grid 1x1x1, block 2048x1x1): hipErrorFake (1): fake "
            "runtime error");
  device->allocator().Free(a, 4000);
  device->allocator().Free(b, 4000);
}

TEST_F(HipFakeRuntimeTest, ModuleErrorsNameTheKernel) {
  std::unique_ptr<GpuDevice> device = Open(0);
  ASSERT_NE(device, nullptr);
  StatusOr<std::unique_ptr<Program>> bad_image = device->LoadProgram("\x7f" "ELF garbage", "k");
  ASSERT_FALSE(bad_image.ok());
  EXPECT_EQ(bad_image.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad_image.status().message().find("module_load (kernel 'k')"), std::string::npos);
  StatusOr<std::unique_ptr<Program>> missing =
      device->LoadProgram(std::string(kMagic) + "void other(", "k");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message().rfind("kernel function 'k' not found in HIP module", 0), 0u);
  EXPECT_EQ(device->LoadProgram("", "k").status().code(), StatusCode::kInvalidArgument);
}

TEST_F(HipFakeRuntimeTest, EveryEntryPointSelectsTheDeviceFirst) {
  std::unique_ptr<GpuDevice> d0 = Open(0), d1 = Open(1);
  ASSERT_NE(d0, nullptr);
  ASSERT_NE(d1, nullptr);
  StatusOr<void*> p = d0->allocator().Alloc(64);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(fake_.current, 0);
  ASSERT_TRUE(d1->Synchronize().ok());
  EXPECT_EQ(fake_.current, 1);
  std::vector<char> host(64);
  ASSERT_TRUE(d0->allocator().CopyOut(host.data(), *p, 64).ok());
  EXPECT_EQ(fake_.current, 0);
  d0->allocator().Free(*p, 64);
}

}  // namespace
}  // namespace petabox
