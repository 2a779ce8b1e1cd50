// Helpers shared by the nn tests: host copies of tensors, elementwise comparison of host
// vectors, and a per-test temporary directory. Test-only.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "engine/tensor.h"
#include "tests/engine/tensor/reference.h"

namespace petabox::nn::nntest {

using testref::HostArray;

// The tensor's values (fails the test on an error).
inline std::vector<double> Host(const Tensor& t) {
  StatusOr<std::vector<double>> v = t.ToDoubles();
  EXPECT_TRUE(v.ok()) << v.status().ToString();
  return v.ok() ? *v : std::vector<double>();
}

inline HostArray HostOf(const Tensor& t) { return HostArray{t.shape(), Host(t)}; }

inline void ExpectNear(const std::vector<double>& got, const std::vector<double>& want, double atol, double rtol,
                       const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  int bad = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    if (std::fabs(got[i] - want[i]) > atol + rtol * std::fabs(want[i])) {
      if (++bad <= 3) ADD_FAILURE() << what << "[" << i << "]: got " << got[i] << ", want " << want[i];
    }
  }
  EXPECT_EQ(bad, 0) << what << ": " << bad << " of " << got.size() << " elements differ";
}

// A fresh directory under the system temp dir, removed at destruction.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "petabox-nn-XXXXXX").string();
    const char* p = mkdtemp(tmpl.data());
    EXPECT_NE(p, nullptr) << "mkdtemp failed";
    path_ = p ? p : tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string File(const std::string& name) const { return path_ + "/" + name; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace petabox::nn::nntest
