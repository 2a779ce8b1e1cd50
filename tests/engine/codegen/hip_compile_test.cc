// Compile check of the HIP dialect for AMD targets, with no AMD GPU: a representative set
// of kernels (elementwise, unary math, where/max/compares, casts, half and bfloat16 loads
// and stores, reduces (also split over a block through shared memory), matmul, conv,
// pooling, softmax, padded and flipped views, int64 constants) is scheduled from Tensor graphs and lowered exactly as a HIP device would
// lower it (Kernel with HIP DeviceProperties -> ApplyHeuristics -> Linearize -> Render),
// plus RDNA3 WMMA tensor-core GEMMs (engine/codegen/tc) for gfx1100,
// written to files, and compiled:
//   - for gfx1100 (RDNA3, RX 7900 XTX) with clang's HIP offload compiler and the ROCm
//     device libraries (Debian 12: clang-15, rocm-device-libs and libamdhip64-dev's
//     headers, installed by deploy/install-deps.sh), to a code object whose ELF header
//     names gfx1100;
//   - for gfx1030 (RDNA2) with the installed hiprtc through GpuCompiler, the path a HIP
//     device compiles with (Debian 12's hiprtc, ROCm 5.2, cannot target gfx1100).
// Each part is skipped, saying what is missing, where its toolchain is not installed.
// Nothing here runs a kernel: see devices/gpu/README.md for what has run on AMD hardware.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "devices/gpu/gpu_compiler.h"
#include "devices/gpu/hip_api.h"
#include "engine/codegen/kernel.h"
#include "engine/codegen/linearize.h"
#include "engine/codegen/opt/heuristic.h"
#include "engine/codegen/render/cstyle.h"
#include "engine/codegen/tc/gemm_source.h"
#include "engine/schedule/schedule.h"
#include "engine/tensor.h"

namespace petabox {
namespace {

namespace fs = std::filesystem;

struct NamedKernel {
  std::string name;    // the kernel function's name
  std::string label;   // the graph it came from
  std::string source;  // HIP dialect source, as hiprtc gets it
};

DeviceProperties HipProps(const std::string& arch) {
  DeviceProperties props;
  props.name = "HIP:0";
  props.kind = "HIP";
  props.arch = arch;
  props.dialect = "hip";
  props.memory_bytes = int64_t{24} << 30;
  props.vector_bytes = 16;
  props.compute_units = 96;
  return props;
}

// Every kernel of `t`'s schedule, lowered for a HIP device of `props`.
void RenderHip(const std::string& label, const Tensor& t, const DeviceProperties& props,
               std::vector<NamedKernel>* out) {
  ASSERT_TRUE(t.ok()) << label << ": " << t.status().ToString();
  StatusOr<std::vector<ScheduleItem>> items = CreateSchedule({t.Contiguous().node()});
  ASSERT_TRUE(items.ok()) << label << ": " << items.status().ToString();
  for (const ScheduleItem& item : *items) {
    if (item.kind != ScheduleItem::Kind::kKernel) continue;
    Kernel kernel(item.ast, props);
    ApplyHeuristics(kernel);
    LinearKernel linear = Linearize(kernel);
    out->push_back({linear.name, label, Render(linear, HipDialect())});
  }
}

Tensor Cpu(const Shape& shape, uint64_t seed, DType dtype = DType::kFloat32) {
  Rng rng(seed);
  return Tensor::Rand(shape, rng, dtype, "CPU");
}

// The representative set, deduplicated by source.
std::vector<NamedKernel> ConformanceKernels(const DeviceProperties& props) {
  Tensor a = Cpu({16, 33}, 1), b = Cpu({16, 33}, 2);
  Tensor h = Cpu({16, 33}, 3, DType::kFloat16), bf = Cpu({16, 33}, 4, DType::kBFloat16);
  Tensor i32 = Tensor::Arange(0, 48, 1, DType::kInt32, "CPU").Reshape({16, 3});
  Tensor x = Cpu({2, 4, 9, 9}, 5), w = Cpu({8, 4, 3, 3}, 6), bias = Cpu({8}, 7);
  std::vector<std::pair<std::string, Tensor>> graphs = {
      {"elementwise", a * b + 1.0},
      {"unary_math", a.Exp2() + b.Log2() * a.Sin() - b.Sqrt() + a.Reciprocal()},
      {"transcendental", a.Exp().Tanh() + b.Sigmoid() + a.Gelu()},
      {"where_max_compare", Tensor::Where(a.Lt(b), a.Maximum(b), b.Neg()) + a.Ne(b).Cast(DType::kFloat32)},
      {"half_load_store", (h * 2.0 + 1.0).Relu()},
      {"bfloat16_load_store", (bf * bf - 0.5).Abs()},
      {"casts", a.Cast(DType::kFloat16).Cast(DType::kBFloat16).Cast(DType::kInt32).Cast(DType::kUInt8)
                    .Cast(DType::kFloat32) + a.Gt(0.5).Cast(DType::kFloat32)},
      {"int32_arith", (i32 * i32 + 7).Maximum(i32.Flip({0}))},
      {"int64_constants", Tensor::Full({4, 5}, 3, DType::kInt64, "CPU") * Tensor::Arange(0, 5, 1, DType::kInt64, "CPU")},
      {"reduce_sum", a.Sum({1})},
      {"reduce_max", a.Max({0})},
      {"group_reduce_sum", Cpu({4, 4096}, 12).Sum({1})},  // few outputs: a block's threads
      {"group_reduce_max", Cpu({3, 1000}, 13).Max({1})},  // share the reduce (shared memory)
      {"half_reduce", h.Sum({1}).Cast(DType::kFloat16)},
      {"matmul", Cpu({64, 48}, 8).Matmul(Cpu({48, 32}, 9))},
      {"half_matmul", Cpu({32, 32}, 10, DType::kFloat16).Matmul(Cpu({32, 16}, 11, DType::kFloat16))},
      {"conv2d", x.Conv2d(w, bias, {1, 1}, {1, 1})},
      {"conv2d_strided", x.Conv2d(w, Tensor(), {2, 2}, {0, 0})},
      {"max_pool", x.MaxPool2d({2, 2})},
      {"softmax", a.Softmax(1)},
      {"pad_shrink_flip", a.Pad({{1, 2}, {0, 3}}).Flip({1}).Shrink({{0, 16}, {2, 30}}) + 1.0},
      {"argmax", a.Argmax(1)},
  };
  std::vector<NamedKernel> kernels;
  for (const auto& [label, t] : graphs) RenderHip(label, t, props, &kernels);
  std::vector<NamedKernel> unique;
  std::set<std::string> seen;
  for (NamedKernel& k : kernels) {
    if (seen.insert(k.source).second) unique.push_back(std::move(k));
  }
  return unique;
}

// RDNA3 WMMA GEMMs (engine/codegen/tc): 16-bit matmuls of each copy layout and a padded,
// strided convolution, rendered with each tile shape the heuristics pick.
std::vector<NamedKernel> TensorCoreKernels() {
  const DeviceProperties props = HipProps("gfx1100");
  const TensorCoreDialect* tc = FindTensorCoreDialect(props);
  EXPECT_EQ(tc, &HipWmma());
  Tensor a = Cpu({72, 40}, 21, DType::kBFloat16), b = Cpu({40, 136}, 22, DType::kBFloat16);
  Tensor h = Cpu({37, 29}, 23, DType::kFloat16), x = Cpu({2, 8, 11, 10}, 24, DType::kBFloat16);
  Tensor f = Cpu({24, 8, 3, 3}, 25, DType::kBFloat16), bias = Cpu({24}, 26, DType::kBFloat16);
  std::vector<std::pair<std::string, Tensor>> graphs = {
      {"wmma_nn", a.Matmul(b)}, {"wmma_nt", a.Matmul(a.Transpose())}, {"wmma_tn", a.Transpose().Matmul(a)},
      {"wmma_f16_odd", h.Matmul(h.Transpose())},
      {"wmma_conv_bias_relu", x.Conv2d(f, bias, {2, 2}, {1, 1}).Relu()}};
  std::vector<NamedKernel> out;
  for (const auto& [label, t] : graphs) {
    StatusOr<std::vector<ScheduleItem>> items = CreateSchedule({t.Contiguous().node()});
    EXPECT_TRUE(items.ok()) << label;
    for (const ScheduleItem& item : *items) {
      if (item.kind != ScheduleItem::Kind::kKernel) continue;
      Kernel kernel(item.ast, props);
      kernel.Normalize();
      std::optional<GemmPlan> plan = MatchGemm(kernel, HipDialect());
      if (!plan) continue;
      for (const GemmTiles& tiles : {GemmTiles{128, 256, 32, 2, 4, 1}, GemmTiles{64, 64, 32, 2, 2, 1}}) {
        GemmKernel k = RenderGemm(*plan, tiles, HipDialect(), *tc);
        out.push_back({k.linear.name, label + " " + tiles.ToString(), k.source});
      }
    }
  }
  EXPECT_EQ(out.size(), 2 * graphs.size()) << "every graph has one GEMM";
  return out;
}

// Runs `command` through the shell with output to `log`; returns the exit status and
// fills `output` with what it printed.
int RunLogged(const std::string& command, const std::string& log, std::string* output) {
  const int rc = std::system((command + " >'" + log + "' 2>&1").c_str());
  std::ifstream in(log);
  std::stringstream text;
  text << in.rdbuf();
  *output = text.str();
  return rc;
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream data;
  data << in.rdbuf();
  return data.str();
}

// EM_AMDGPU and EF_AMDGPU_MACH_* of LLVM's ELF.h.
constexpr uint16_t kEmAmdgpu = 224;
constexpr uint32_t kMachGfx1030 = 0x036;
constexpr uint32_t kMachGfx1100 = 0x041;

// Checks that `code` is an AMDGPU code object for `mach` that defines kernel `name`.
void ExpectCodeObject(const std::string& code, uint32_t mach, const std::string& name) {
  ASSERT_GE(code.size(), 64u) << name;
  ASSERT_EQ(code.compare(0, 4, "\x7f" "ELF"), 0) << name << ": not an ELF file";
  uint16_t machine = 0;
  uint32_t flags = 0;
  std::memcpy(&machine, code.data() + 18, 2);
  std::memcpy(&flags, code.data() + 48, 4);
  EXPECT_EQ(machine, kEmAmdgpu) << name;
  EXPECT_EQ(flags & 0xff, mach) << name;
  // Every AMDGPU kernel has a kernel descriptor symbol "<name>.kd".
  EXPECT_NE(code.find(name + ".kd"), std::string::npos) << name << ": no kernel descriptor";
}

// --- gfx1100 with clang ---

// A clang that compiles HIP for gfx1100, the ROCm root whose include/hip/hip_runtime.h
// it uses, and the device-library bitcode directory.
struct ClangHip {
  std::string clang, rocm_path, device_libs;
  std::string why_not;  // set when none was found
};

bool Exists(const fs::path& path) {
  std::error_code error;
  return fs::exists(path, error);
}

ClangHip FindClangHip(const std::string& scratch) {
  ClangHip found;
  for (const char* root : {"/opt/rocm", "/usr"}) {
    if (Exists(fs::path(root) / "include/hip/hip_runtime.h")) {
      found.rocm_path = root;
      break;
    }
  }
  for (const char* dir : {"/opt/rocm/amdgcn/bitcode", "/usr/lib/x86_64-linux-gnu/amdgcn/bitcode",
                          "/usr/lib/amdgcn/bitcode"}) {
    if (Exists(fs::path(dir) / "ocml.bc")) {
      found.device_libs = dir;
      break;
    }
  }
  const fs::path empty = fs::path(scratch) / "probe.hip";
  std::ofstream(empty) << "\n";
  std::string output;
  for (const char* clang : {"/opt/rocm/llvm/bin/clang++", "clang++-19", "clang++-18", "clang++-17",
                            "clang++-16", "clang++-15", "clang++"}) {
    const std::string probe = std::string(clang) + " -x hip --offload-arch=gfx1100 --cuda-device-only "
                              "-nogpuinc -nogpulib -fsyntax-only '" + empty.string() + "'";
    if (RunLogged(probe, scratch + "/probe.log", &output) == 0) {
      found.clang = clang;
      break;
    }
  }
  if (found.clang.empty()) found.why_not = "no clang that targets gfx1100 (clang >= 15: apt-get install clang-15)";
  else if (found.rocm_path.empty()) found.why_not = "no hip/hip_runtime.h (apt-get install libamdhip64-dev)";
  else if (found.device_libs.empty()) found.why_not = "no ROCm device libraries (apt-get install rocm-device-libs)";
  return found;
}

// The device libraries with oclc_isa_version_1100.bc. Debian 12's rocm-device-libs (ROCm
// 5.2) predates gfx11 and lacks that one file, which only defines the constant
// __oclc_ISA_version = 11000 (the other bitcode is target-independent and selects code by
// it); it is generated here, beside links to the rest. Returns the directory to use.
std::string DeviceLibsFor1100(const ClangHip& clang, const std::string& scratch, std::string* error) {
  if (Exists(fs::path(clang.device_libs) / "oclc_isa_version_1100.bc")) return clang.device_libs;
  const fs::path dir = fs::path(scratch) / "device-libs";
  fs::create_directories(dir);
  for (const fs::directory_entry& entry : fs::directory_iterator(clang.device_libs)) {
    const fs::path link = dir / entry.path().filename();
    std::error_code ignored;
    if (!fs::exists(link)) fs::create_symlink(entry.path(), link, ignored);
  }
  const fs::path ir = dir / "oclc_isa_version_1100.ll";
  std::ofstream(ir) << "target datalayout = \"e-p:64:64-p1:64:64-p2:32:32-p3:32:32-p4:64:64-p5:32:32-"
                       "p6:32:32-i64:64-v16:16-v24:32-v32:32-v48:64-v96:128-v192:256-v256:256-v512:512-"
                       "v1024:1024-v2048:2048-n32:64-S32-A5-G1-ni:7\"\n"
                       "target triple = \"amdgcn-amd-amdhsa\"\n"
                       "@__oclc_ISA_version = linkonce_odr protected local_unnamed_addr addrspace(4) "
                       "constant i32 11000, align 4\n";
  const std::string command = clang.clang + " --target=amdgcn-amd-amdhsa -nogpulib -x ir -c -emit-llvm '" +
                              ir.string() + "' -o '" + (dir / "oclc_isa_version_1100.bc").string() + "'";
  if (RunLogged(command, scratch + "/isa.log", error) != 0) return "";
  return dir.string();
}

TEST(HipCompileTest, ConformanceKernelsCompileForGfx1100WithClang) {
  const std::string scratch = ::testing::TempDir() + "/petabox-hip-gfx1100";
  std::error_code ignored;
  fs::remove_all(scratch, ignored);
  fs::create_directories(scratch);
  const ClangHip clang = FindClangHip(scratch);
  if (!clang.why_not.empty()) {
    GTEST_SKIP() << "no HIP toolchain for gfx1100: " << clang.why_not
                 << " (deploy/install-deps.sh installs Debian 12's)";
  }
  std::string error;
  const std::string device_libs = DeviceLibsFor1100(clang, scratch, &error);
  ASSERT_FALSE(device_libs.empty()) << "cannot generate oclc_isa_version_1100.bc: " << error;

  std::vector<NamedKernel> kernels = ConformanceKernels(HipProps("gfx1100"));
  ASSERT_GE(kernels.size(), 20u);
  for (NamedKernel& k : TensorCoreKernels()) kernels.push_back(std::move(k));
  const std::string flags = " -x hip --offload-arch=gfx1100 --cuda-device-only --no-gpu-bundle-output "
                            "-O3 -Wall -Wno-unused-variable --rocm-path=" + clang.rocm_path + " --rocm-device-lib-path=" +
                            device_libs + " -c ";
  int compiled = 0;
  for (size_t i = 0; i < kernels.size(); ++i) {
    const NamedKernel& k = kernels[i];
    const fs::path source = fs::path(scratch) / (std::to_string(i) + "_" + k.name + ".hip");
    const fs::path object = fs::path(source).replace_extension(".hsaco");
    // hiprtc has the HIP builtins without a header; clang needs the runtime header.
    std::ofstream(source) << "#include <hip/hip_runtime.h>\n" << k.source;
    std::string output;
    const std::string command = clang.clang + flags + "'" + source.string() + "' -o '" + object.string() + "'";
    const int rc = RunLogged(command, source.string() + ".log", &output);
    EXPECT_EQ(rc, 0) << k.label << " (" << k.name << "): " << command << "\n" << output << "\n" << k.source;
    // Warnings fail the check (-Wall less unused variables: the GPU linearizer defines
    // every global index, used or not).
    EXPECT_EQ(output.find("warning"), std::string::npos) << k.label << ": " << output;
    if (rc != 0) continue;
    ExpectCodeObject(ReadFile(object), kMachGfx1100, k.name);
    ++compiled;
  }
  std::printf("compiled %d of %zu HIP kernels for gfx1100 with %s --rocm-path=%s (device libs %s); "
              "sources and code objects in %s\n",
              compiled, kernels.size(), clang.clang.c_str(), clang.rocm_path.c_str(), device_libs.c_str(),
              scratch.c_str());
}

// --- gfx1030 with hiprtc ---

TEST(HipCompileTest, ConformanceKernelsCompileWithHiprtc) {
  StatusOr<std::unique_ptr<HipApi>> api = LoadHipLibrariesFrom(HipLibraryNames{});
  if (!api.ok()) GTEST_SKIP() << "no HIP runtime: " << api.status().message();
  if (!(*api)->has_rtc()) GTEST_SKIP() << "no hiprtc: " << (*api)->rtc_error;
  GpuCompilerOptions options;
  options.cache_dir = ::testing::TempDir() + "/petabox-hip-hiprtc-conformance";
  std::error_code ignored;
  fs::remove_all(options.cache_dir, ignored);
  GpuCompiler compiler(api->get(), "gfx1030", options);
  const std::vector<NamedKernel> kernels = ConformanceKernels(HipProps("gfx1030"));
  int compiled = 0;
  for (const NamedKernel& k : kernels) {
    StatusOr<std::string> code = compiler.Compile(k.source);
    EXPECT_TRUE(code.ok()) << k.label << ": " << code.status().ToString();
    if (!code.ok()) continue;
    ExpectCodeObject(*code, kMachGfx1030, k.name);
    ++compiled;
  }
  std::printf("compiled %d of %zu HIP kernels for gfx1030 with %s (hiprtc %d.%d)\n", compiled,
              kernels.size(), (*api)->rtc_library.c_str(), (*api)->rtc_major, (*api)->rtc_minor);
}

}  // namespace
}  // namespace petabox
