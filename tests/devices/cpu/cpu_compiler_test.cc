#include "devices/cpu/cpu_compiler.h"

#include <stdlib.h>

#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace petabox {
namespace {

constexpr char kKernel[] =
    "#include <stdint.h>\n"
    "void add_one(void* const* a, int64_t b, int64_t e) {\n"
    "  float* o = a[0];\n"
    "  for (int64_t i = b; i < e; i++) o[i] += 1.0f;\n"
    "}\n";

// Gives each test a fresh, private cache directory.
class CpuCompilerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "/petabox-compiler-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    cache_dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(cache_dir_); }

  CpuCompilerOptions Options() const {
    CpuCompilerOptions options;
    options.cache_dir = cache_dir_;
    return options;
  }

  // Names of the files in the kernel directory.
  std::vector<std::string> KernelFiles() const {
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(cache_dir_ + "/kernels")) {
      names.push_back(entry.path().filename().string());
    }
    return names;
  }

  std::string cache_dir_;
};

TEST_F(CpuCompilerTest, CompilesToSharedObjectInCache) {
  CpuCompiler compiler(Options());
  StatusOr<std::string> path = compiler.Compile(kKernel);
  ASSERT_TRUE(path.ok()) << path.status().ToString();
  EXPECT_TRUE(std::filesystem::exists(*path));
  EXPECT_EQ(std::filesystem::path(*path).parent_path(), cache_dir_ + "/kernels");
  EXPECT_EQ(std::filesystem::path(*path).extension(), ".so");
  EXPECT_EQ(compiler.compiles(), 1);
  EXPECT_EQ(compiler.cache_hits(), 0);
  // No temporaries are left behind: only <key>.so.
  EXPECT_EQ(KernelFiles(), std::vector<std::string>{std::filesystem::path(*path).filename()});
}

TEST_F(CpuCompilerTest, SecondCompileIsCacheHit) {
  CpuCompiler compiler(Options());
  StatusOr<std::string> first = compiler.Compile(kKernel);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  StatusOr<std::string> second = compiler.Compile(kKernel);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(*first, *second);
  EXPECT_EQ(compiler.compiles(), 1);
  EXPECT_EQ(compiler.cache_hits(), 1);

  // A new compiler on the same directory (a warm restart) compiles nothing either.
  CpuCompiler restarted(Options());
  ASSERT_TRUE(restarted.Compile(kKernel).ok());
  EXPECT_EQ(restarted.compiles(), 0);
  EXPECT_EQ(restarted.cache_hits(), 1);
}

TEST_F(CpuCompilerTest, FlagsArePartOfTheKey) {
  CpuCompiler fast(Options());
  CpuCompilerOptions slow_options = Options();
  slow_options.flags = {"-O0", "-fPIC", "-shared"};
  CpuCompiler slow(slow_options);
  StatusOr<std::string> a = fast.Compile(kKernel);
  StatusOr<std::string> b = slow.Compile(kKernel);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(*a, *b);
  EXPECT_EQ(slow.compiles(), 1);
}

TEST_F(CpuCompilerTest, SyntaxErrorIsInvalidArgumentWithLog) {
  CpuCompiler compiler(Options());
  const std::string source = "void broken(void) { int x = ; }\n";
  StatusOr<std::string> path = compiler.Compile(source);
  ASSERT_FALSE(path.ok());
  EXPECT_EQ(path.status().code(), StatusCode::kInvalidArgument);
  const std::string& message = path.status().message();
  EXPECT_EQ(message.rfind("C compiler failed (exit ", 0), 0u) << message;
  EXPECT_NE(message.find("error"), std::string::npos) << message;
  EXPECT_NE(message.find("--- source ---\n" + source), std::string::npos) << message;
  EXPECT_TRUE(KernelFiles().empty());
}

TEST_F(CpuCompilerTest, MissingCompilerIsUnavailable) {
  CpuCompilerOptions options = Options();
  options.cc = "/nonexistent/petabox-cc";
  CpuCompiler compiler(options);
  StatusOr<std::string> path = compiler.Compile(kKernel);
  ASSERT_FALSE(path.ok());
  EXPECT_EQ(path.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(path.status().message().find("/nonexistent/petabox-cc"), std::string::npos);
}

TEST_F(CpuCompilerTest, ConcurrentCompilesOfOneSourceAgree) {
  CpuCompiler compiler(Options());
  std::vector<StatusOr<std::string>> results(8, StatusOr<std::string>(Internal("unset")));
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] { results[i] = compiler.Compile(kKernel); });
  }
  for (std::thread& thread : threads) thread.join();
  for (const StatusOr<std::string>& result : results) {
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    EXPECT_EQ(*result, *results[0]);
  }
  EXPECT_EQ(compiler.compiles() + compiler.cache_hits(), 8);
  EXPECT_EQ(KernelFiles().size(), 1u);
}

TEST(DefaultCacheDirTest, PrefersPetaboxCacheDir) {
  const char* saved = ::getenv("PETABOX_CACHE_DIR");
  std::string saved_value = saved ? saved : "";
  ::setenv("PETABOX_CACHE_DIR", "/some/where", 1);
  EXPECT_EQ(DefaultCacheDir(), "/some/where");
  CpuCompiler compiler;
  EXPECT_EQ(compiler.kernel_dir(), "/some/where/kernels");
  if (saved) {
    ::setenv("PETABOX_CACHE_DIR", saved_value.c_str(), 1);
  } else {
    ::unsetenv("PETABOX_CACHE_DIR");
  }
}

}  // namespace
}  // namespace petabox
