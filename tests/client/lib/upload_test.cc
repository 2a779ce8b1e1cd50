#include "client/lib/upload.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "engine/util/sha256.h"

namespace petabox::client {
namespace {

namespace fs = std::filesystem;

class UploadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("petabox-upload-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "data" / "nested");
    Write("data/b.bin", std::string(10, 'b'));
    Write("data/a.bin", "alpha");
    Write("data/c.bin", "");
    Write("data/nested/skipped.bin", "not uploaded");
  }
  void TearDown() override { fs::remove_all(dir_); }

  void Write(const std::string& name, const std::string& bytes) {
    std::ofstream(dir_ / name, std::ios::binary) << bytes;
  }

  // Every chunk of the plan, in order.
  std::vector<std::string> Chunks(const UploadPlan& plan, size_t chunk_bytes) {
    std::vector<std::string> chunks;
    Status status = ForEachUploadChunk(plan, chunk_bytes, [&](std::string_view chunk) {
      chunks.emplace_back(chunk);
      return Status::Ok();
    });
    EXPECT_TRUE(status.ok()) << status.ToString();
    return chunks;
  }

  fs::path dir_;
};

TEST_F(UploadTest, HeaderListsRegularFilesSortedWithSizesAndSha256) {
  StatusOr<UploadPlan> plan = PlanUpload((dir_ / "data").string(), "my-set");
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  const v1::UploadDatasetRequest& header = plan->header;
  EXPECT_EQ(header.name(), "datasets/my-set");
  EXPECT_TRUE(header.data().empty());
  ASSERT_EQ(header.files_size(), 3);
  EXPECT_EQ(header.files(0).path(), "a.bin");
  EXPECT_EQ(header.files(0).size_bytes(), 5);
  EXPECT_EQ(header.files(0).sha256(), Sha256Hex("alpha"));
  EXPECT_EQ(header.files(1).path(), "b.bin");
  EXPECT_EQ(header.files(1).sha256(), Sha256Hex(std::string(10, 'b')));
  EXPECT_EQ(header.files(2).path(), "c.bin");
  EXPECT_EQ(header.files(2).size_bytes(), 0);
  EXPECT_EQ(header.files(2).sha256(), Sha256Hex(""));
  EXPECT_EQ(plan->total_bytes, 15);
}

TEST_F(UploadTest, ChunksConcatenateFilesInOrderAcrossBoundaries) {
  StatusOr<UploadPlan> plan = PlanUpload((dir_ / "data").string(), "my-set");
  ASSERT_TRUE(plan.ok());
  std::vector<std::string> chunks = Chunks(*plan, 4);
  ASSERT_EQ(chunks.size(), 4u);
  EXPECT_EQ(chunks[0], "alph");
  EXPECT_EQ(chunks[1], "abbb");
  EXPECT_EQ(chunks[2], "bbbb");
  EXPECT_EQ(chunks[3], "bbb");
}

TEST_F(UploadTest, DefaultChunksAreOneMebibyte) {
  Write("big.bin", std::string(kUploadChunkBytes * 2 + 5, 'x'));
  StatusOr<UploadPlan> plan = PlanUpload((dir_ / "big.bin").string(), "big");
  ASSERT_TRUE(plan.ok());
  ASSERT_EQ(plan->header.files_size(), 1);
  EXPECT_EQ(plan->header.files(0).path(), "big.bin");
  std::vector<std::string> chunks = Chunks(*plan, kUploadChunkBytes);
  ASSERT_EQ(chunks.size(), 3u);
  EXPECT_EQ(chunks[0].size(), kUploadChunkBytes);
  EXPECT_EQ(chunks[1].size(), kUploadChunkBytes);
  EXPECT_EQ(chunks[2].size(), 5u);
  EXPECT_EQ(kUploadChunkBytes, 1u << 20);
}

TEST_F(UploadTest, FileChangedAfterPlanning) {
  StatusOr<UploadPlan> plan = PlanUpload((dir_ / "data").string(), "my-set");
  ASSERT_TRUE(plan.ok());
  Write("data/a.bin", "alphabet");
  Status status = ForEachUploadChunk(*plan, 4, [](std::string_view) { return Status::Ok(); });
  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition);
  Write("data/a.bin", "al");
  status = ForEachUploadChunk(*plan, 4, [](std::string_view) { return Status::Ok(); });
  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition);
}

TEST_F(UploadTest, CallbackErrorStops) {
  StatusOr<UploadPlan> plan = PlanUpload((dir_ / "data").string(), "my-set");
  ASSERT_TRUE(plan.ok());
  int calls = 0;
  Status status = ForEachUploadChunk(*plan, 4, [&](std::string_view) {
    ++calls;
    return Unavailable("closed");
  });
  EXPECT_EQ(status.code(), StatusCode::kUnavailable);
  EXPECT_EQ(calls, 1);
}

TEST_F(UploadTest, BadInputs) {
  EXPECT_EQ(PlanUpload((dir_ / "missing").string(), "x").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(PlanUpload((dir_ / "data" / "nested" / "..").string(), "Bad Name").status().code(),
            StatusCode::kInvalidArgument);
  fs::create_directories(dir_ / "empty");
  EXPECT_EQ(PlanUpload((dir_ / "empty").string(), "x").status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace petabox::client
