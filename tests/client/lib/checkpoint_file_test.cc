#include "client/lib/checkpoint_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace petabox::client {
namespace {

namespace fs = std::filesystem;

class CheckpointFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("petabox-ckpt-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "model.ckpt").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  static v1::CheckpointChunk Chunk(const std::string& data, int64_t step) {
    v1::CheckpointChunk chunk;
    chunk.set_data(data);
    chunk.set_step(step);
    return chunk;
  }
  static v1::CheckpointChunk Last(const std::string& data, const std::string& sha, int64_t total) {
    v1::CheckpointChunk chunk = Chunk(data, 9);
    chunk.set_sha256(sha);
    chunk.set_total_bytes(total);
    return chunk;
  }

  fs::path dir_;
  std::string path_;
};

TEST_F(CheckpointFileTest, VerifiedDownloadIsRenamedIntoPlace) {
  auto file = CheckpointFile::Create(path_);
  ASSERT_TRUE(file.ok());
  EXPECT_TRUE(fs::exists(path_ + ".partial"));
  ASSERT_TRUE((*file)->Add(Chunk("hello ", 9)).ok());
  ASSERT_TRUE((*file)->Add(Last("world", Sha256Hex("hello world"), 11)).ok());
  ASSERT_TRUE((*file)->Verify().ok());
  StatusOr<CheckpointSummary> summary = (*file)->Commit();
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_EQ(summary->bytes, 11);
  EXPECT_EQ(summary->step, 9);
  EXPECT_EQ(summary->sha256, Sha256Hex("hello world"));
  file->reset();
  EXPECT_FALSE(fs::exists(path_ + ".partial"));
  std::ifstream in(path_);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), "hello world");
}

TEST_F(CheckpointFileTest, ShaMismatchFailsAndRemovesThePartialFile) {
  auto file = CheckpointFile::Create(path_);
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Add(Last("hello world", Sha256Hex("something else"), 11)).ok());
  Status verified = (*file)->Verify();
  EXPECT_FALSE(verified.ok());
  EXPECT_EQ(verified.code(), StatusCode::kDataLoss);
  EXPECT_NE(verified.message().find("sha256 mismatch"), std::string::npos);
  file->reset();
  EXPECT_FALSE(fs::exists(path_ + ".partial"));
  EXPECT_FALSE(fs::exists(path_));
}

TEST_F(CheckpointFileTest, SizeMismatchFails) {
  auto file = CheckpointFile::Create(path_);
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Add(Last("hello", Sha256Hex("hello"), 6)).ok());
  Status verified = (*file)->Verify();
  EXPECT_FALSE(verified.ok());
  EXPECT_NE(verified.message().find("size mismatch"), std::string::npos);
}

TEST_F(CheckpointFileTest, StreamWithoutChecksumIsIncomplete) {
  auto file = CheckpointFile::Create(path_);
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Add(Chunk("partial", 1)).ok());
  EXPECT_EQ((*file)->Verify().code(), StatusCode::kFailedPrecondition);
}

TEST_F(CheckpointFileTest, UnwritableDestination) {
  auto file = CheckpointFile::Create((dir_ / "no" / "such" / "dir" / "x.ckpt").string());
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace petabox::client
