// Helpers for the worker tests: a small synthetic dataset in Fashion-MNIST's file layout,
// temporary directories, and substring checks.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "engine/data/idx.h"
#include "engine/random.h"

namespace petabox::worker::testutil {

inline ::testing::AssertionResult Contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << text << "' does not contain '" << part << "'";
}

// A fresh directory under the test temp dir, named after the running test.
inline std::string FreshDir(const std::string& tag) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) /
                              (std::string("pbw_") + info->test_suite_name() + "_" + info->name() + "_" + tag);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

// Writes {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz] with `train` and `test` 28x28
// images: label c is a bright band at rows 2c+4..2c+5 over dim noise, easy to learn.
inline void WriteSyntheticMnist(const std::string& dir, int64_t train, int64_t test) {
  Rng rng(123);
  auto write = [&](const std::string& prefix, int64_t n) {
    data::IdxArray images{data::IdxType::kUInt8, {n, 28, 28}, {}};
    data::IdxArray labels{data::IdxType::kUInt8, {n}, {}};
    for (int64_t i = 0; i < n; ++i) {
      const int label = static_cast<int>(rng.NextU64() % 10);
      labels.data.push_back(static_cast<uint8_t>(label));
      for (int r = 0; r < 28; ++r)
        for (int c = 0; c < 28; ++c) {
          const bool band = r == 2 * label + 4 || r == 2 * label + 5;
          images.data.push_back(band ? 255 : static_cast<uint8_t>(rng.NextU64() % 60));
        }
    }
    const bool gz = data::GzipSupported();
    const std::string ext = gz ? ".gz" : "";
    ASSERT_TRUE(data::WriteIdxFile(dir + "/" + prefix + "-images-idx3-ubyte" + ext, images, gz).ok());
    ASSERT_TRUE(data::WriteIdxFile(dir + "/" + prefix + "-labels-idx1-ubyte" + ext, labels, gz).ok());
  };
  write("train", train);
  write("t10k", test);
}

}  // namespace petabox::worker::testutil
