// Dataset uploads: a good upload lands in root/{id} with the right bytes; every broken
// upload (bad checksum, short, too long, too large, bad names, abandoned) leaves nothing.
#include "daemon/store/dataset_files.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#include "engine/util/sha256.h"
#include "tests/daemon/store/test_util.h"

namespace petabox::daemon {
namespace {

namespace fs = std::filesystem;
using testutil::Contains;

struct TestFile {
  std::string path;
  std::string data;
};

v1::UploadDatasetRequest Header(const std::string& name, const std::vector<TestFile>& files) {
  v1::UploadDatasetRequest header;
  header.set_name(name);
  for (const TestFile& file : files) {
    v1::DatasetFile* entry = header.add_files();
    entry->set_path(file.path);
    entry->set_size_bytes(static_cast<int64_t>(file.data.size()));
    entry->set_sha256(Sha256Hex(file.data));
  }
  return header;
}

std::string Concat(const std::vector<TestFile>& files) {
  std::string all;
  for (const TestFile& file : files) all += file.data;
  return all;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

class DatasetFilesTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_FALSE(dir_.path().empty()); }

  // Names in the root directory (datasets and leftover temporary directories).
  std::vector<std::string> Entries() const {
    std::vector<std::string> names;
    std::error_code ec;
    for (const fs::directory_entry& entry : fs::directory_iterator(root_, ec)) {
      names.push_back(entry.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  std::unique_ptr<DatasetUpload> Begin(const v1::UploadDatasetRequest& header, int64_t max_bytes = 1 << 24) {
    StatusOr<std::unique_ptr<DatasetUpload>> upload = DatasetUpload::Begin(root_, header, max_bytes);
    EXPECT_TRUE(upload.ok()) << upload.status().ToString();
    return upload.ok() ? std::move(upload).value() : nullptr;
  }

  // Writes `bytes` in chunks of `chunk` bytes; the first error, if any.
  static Status WriteChunks(DatasetUpload& upload, const std::string& bytes, size_t chunk) {
    for (size_t at = 0; at < bytes.size(); at += chunk) PB_RETURN_IF_ERROR(upload.Write(bytes.substr(at, chunk)));
    return Status::Ok();
  }

  std::vector<TestFile> SampleFiles() const {
    return {{"train-images.bin", testutil::RandomBytes(70000, 1)},
            {"empty.txt", ""},
            {"labels.bin", testutil::RandomBytes(1000, 2)},
            {"z", testutil::RandomBytes(1, 3)}};
  }

  testutil::TempDir dir_;
  std::string root_ = dir_.path() + "/datasets";
};

TEST_F(DatasetFilesTest, GoodUploadCommits) {
  std::vector<TestFile> files = SampleFiles();
  std::unique_ptr<DatasetUpload> upload = Begin(Header("datasets/fashion-small", files));
  ASSERT_NE(upload, nullptr);
  // Odd-sized chunks that straddle file boundaries.
  ASSERT_TRUE(WriteChunks(*upload, Concat(files), 4099).ok());
  StatusOr<v1::Dataset> dataset = upload->Commit();
  ASSERT_TRUE(dataset.ok()) << dataset.status().ToString();

  EXPECT_EQ(dataset->name(), "datasets/fashion-small");
  EXPECT_EQ(dataset->total_bytes(), 71001);
  ASSERT_EQ(dataset->files_size(), 4);
  for (size_t i = 0; i < files.size(); ++i) {
    EXPECT_EQ(dataset->files(i).path(), files[i].path);
    EXPECT_EQ(dataset->files(i).sha256(), Sha256Hex(files[i].data));
    EXPECT_EQ(ReadFile(root_ + "/fashion-small/" + files[i].path), files[i].data) << files[i].path;
  }
  EXPECT_EQ(Entries(), std::vector<std::string>{"fashion-small"});
  upload.reset();  // a committed upload stays
  EXPECT_EQ(Entries(), std::vector<std::string>{"fashion-small"});
}

TEST_F(DatasetFilesTest, BareIdAndUppercaseChecksumAreAccepted) {
  std::vector<TestFile> files = {{"a.bin", testutil::RandomBytes(100, 4)}};
  v1::UploadDatasetRequest header = Header("mnist", files);
  std::string upper = header.files(0).sha256();
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  header.mutable_files(0)->set_sha256(upper);
  std::unique_ptr<DatasetUpload> upload = Begin(header);
  ASSERT_NE(upload, nullptr);
  ASSERT_TRUE(upload->Write(files[0].data).ok());
  StatusOr<v1::Dataset> dataset = upload->Commit();
  ASSERT_TRUE(dataset.ok()) << dataset.status().ToString();
  EXPECT_EQ(dataset->name(), "datasets/mnist");
  EXPECT_EQ(dataset->files(0).sha256(), Sha256Hex(files[0].data));
}

TEST_F(DatasetFilesTest, CorruptedChunkIsDataLossNamingTheFile) {
  std::vector<TestFile> files = SampleFiles();
  std::unique_ptr<DatasetUpload> upload = Begin(Header("corrupt", files));
  ASSERT_NE(upload, nullptr);
  std::string bytes = Concat(files);
  bytes[70000 + 500] ^= 0x40;  // inside labels.bin
  ASSERT_TRUE(WriteChunks(*upload, bytes, 8192).ok());
  StatusOr<v1::Dataset> dataset = upload->Commit();
  EXPECT_EQ(dataset.status().code(), StatusCode::kDataLoss);
  EXPECT_TRUE(Contains(dataset.status().message(), "labels.bin"));
  EXPECT_TRUE(Entries().empty());
  EXPECT_EQ(upload->Commit().status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(DatasetFilesTest, ShortUploadIsDataLossNamingTheFile) {
  std::vector<TestFile> files = SampleFiles();
  std::unique_ptr<DatasetUpload> upload = Begin(Header("short", files));
  ASSERT_NE(upload, nullptr);
  ASSERT_TRUE(upload->Write(Concat(files).substr(0, 70100)).ok());
  StatusOr<v1::Dataset> dataset = upload->Commit();
  EXPECT_EQ(dataset.status().code(), StatusCode::kDataLoss);
  EXPECT_TRUE(Contains(dataset.status().message(), "labels.bin"));
  EXPECT_TRUE(Entries().empty());
}

TEST_F(DatasetFilesTest, TooManyBytesIsInvalidArgument) {
  std::vector<TestFile> files = SampleFiles();
  std::unique_ptr<DatasetUpload> upload = Begin(Header("long", files));
  ASSERT_NE(upload, nullptr);
  Status written = WriteChunks(*upload, Concat(files) + "x", 10000);
  EXPECT_EQ(written.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Entries().empty());
  EXPECT_EQ(upload->Write("x").code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(upload->Commit().status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(DatasetFilesTest, OverMaxBytesIsResourceExhausted) {
  std::vector<TestFile> files = SampleFiles();
  StatusOr<std::unique_ptr<DatasetUpload>> upload = DatasetUpload::Begin(root_, Header("big", files), 71000);
  EXPECT_EQ(upload.status().code(), StatusCode::kResourceExhausted);
  EXPECT_TRUE(Contains(upload.status().message(), "71000"));
  EXPECT_TRUE(Entries().empty());
  EXPECT_TRUE(DatasetUpload::Begin(root_, Header("big", files), 71001).ok());
}

TEST_F(DatasetFilesTest, BadIdsAreInvalidArgument) {
  std::vector<TestFile> files = {{"a", "abc"}};
  for (const std::string& name :
       std::vector<std::string>{"", "datasets/", "Mnist", "1abc", "-abc", "a_b", "a.b", "../x", "datasets/../x", "a/b",
                                "datasets/a/b", std::string(64, 'a')}) {
    StatusOr<std::unique_ptr<DatasetUpload>> upload = DatasetUpload::Begin(root_, Header(name, files), 1000);
    EXPECT_EQ(upload.status().code(), StatusCode::kInvalidArgument) << name;
  }
  EXPECT_TRUE(DatasetUpload::Begin(root_, Header(std::string(63, 'a'), files), 1000).ok());
  EXPECT_TRUE(ValidateDatasetId("fashion-mnist-2").ok());
  EXPECT_EQ(ValidateDatasetId("a b").code(), StatusCode::kInvalidArgument);
}

TEST_F(DatasetFilesTest, BadFilesAreInvalidArgument) {
  auto begin = [&](const v1::UploadDatasetRequest& header) {
    return DatasetUpload::Begin(root_, header, 1000).status();
  };
  for (const std::string& path :
       std::vector<std::string>{"../x", "a/b", "/abs", "", ".", "..", std::string(256, 'f')}) {
    Status status = begin(Header("ds", {{"ok", "1"}, {path, "2"}}));
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << path;
  }
  Status duplicate = begin(Header("ds", {{"a", "1"}, {"b", "2"}, {"a", "3"}}));
  EXPECT_EQ(duplicate.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(duplicate.message(), "\"a\""));
  EXPECT_EQ(begin(Header("ds", {})).code(), StatusCode::kInvalidArgument);

  v1::UploadDatasetRequest header = Header("ds", {{"a", "1"}});
  header.mutable_files(0)->set_sha256("xyz");
  EXPECT_EQ(begin(header).code(), StatusCode::kInvalidArgument);
  header.mutable_files(0)->set_sha256(std::string(64, 'g'));
  EXPECT_EQ(begin(header).code(), StatusCode::kInvalidArgument);
  header = Header("ds", {{"a", "1"}});
  header.mutable_files(0)->set_size_bytes(-1);
  EXPECT_EQ(begin(header).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Entries().empty());
}

TEST_F(DatasetFilesTest, DestroyedWithoutCommitLeavesNothing) {
  std::vector<TestFile> files = SampleFiles();
  std::unique_ptr<DatasetUpload> upload = Begin(Header("abandoned", files));
  ASSERT_NE(upload, nullptr);
  ASSERT_TRUE(upload->Write(Concat(files).substr(0, 70500)).ok());
  EXPECT_EQ(Entries().size(), 1u);  // the temporary directory
  upload.reset();
  EXPECT_TRUE(Entries().empty());

  // Fully written but never committed.
  upload = Begin(Header("abandoned", files));
  ASSERT_NE(upload, nullptr);
  ASSERT_TRUE(upload->Write(Concat(files)).ok());
  upload.reset();
  EXPECT_TRUE(Entries().empty());
}

TEST_F(DatasetFilesTest, ExistingNameIsAlreadyExists) {
  std::vector<TestFile> files = {{"a.bin", testutil::RandomBytes(64, 5)}};
  std::unique_ptr<DatasetUpload> first = Begin(Header("taken", files));
  std::unique_ptr<DatasetUpload> second = Begin(Header("taken", {{"b.bin", "other"}}));
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  ASSERT_TRUE(first->Write(files[0].data).ok());
  ASSERT_TRUE(first->Commit().ok());

  // Begun before the first committed: the rename finds the name taken.
  ASSERT_TRUE(second->Write("other").ok());
  EXPECT_EQ(second->Commit().status().code(), StatusCode::kAlreadyExists);
  // Begun after: refused at once.
  StatusOr<std::unique_ptr<DatasetUpload>> third = DatasetUpload::Begin(root_, Header("taken", files), 1000);
  EXPECT_EQ(third.status().code(), StatusCode::kAlreadyExists);

  EXPECT_EQ(Entries(), std::vector<std::string>{"taken"});
  EXPECT_EQ(ReadFile(root_ + "/taken/a.bin"), files[0].data);
  EXPECT_FALSE(fs::exists(root_ + "/taken/b.bin"));
}

TEST_F(DatasetFilesTest, RemoveDatasetFiles) {
  std::vector<TestFile> files = SampleFiles();
  std::unique_ptr<DatasetUpload> upload = Begin(Header("gone", files));
  ASSERT_NE(upload, nullptr);
  ASSERT_TRUE(upload->Write(Concat(files)).ok());
  ASSERT_TRUE(upload->Commit().ok());

  ASSERT_TRUE(RemoveDatasetFiles(root_, "gone").ok());
  EXPECT_TRUE(Entries().empty());
  EXPECT_EQ(RemoveDatasetFiles(root_, "gone").code(), StatusCode::kNotFound);
  EXPECT_EQ(RemoveDatasetFiles(root_, "..").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(RemoveDatasetFiles(root_, "").code(), StatusCode::kInvalidArgument);
}

TEST_F(DatasetFilesTest, RemoveStaleUploadsKeepsDatasets) {
  std::vector<TestFile> files = {{"a.bin", testutil::RandomBytes(10, 6)}};
  std::unique_ptr<DatasetUpload> upload = Begin(Header("kept", files));
  ASSERT_NE(upload, nullptr);
  ASSERT_TRUE(upload->Write(files[0].data).ok());
  ASSERT_TRUE(upload->Commit().ok());
  // What a crash mid-upload and mid-delete leave behind.
  fs::create_directories(root_ + "/.upload-abc123/sub");
  std::ofstream(root_ + "/.upload-abc123/sub/f") << "partial";
  fs::create_directories(root_ + "/.delete-xyz789");

  RemoveStaleUploads(root_);
  EXPECT_EQ(Entries(), std::vector<std::string>{"kept"});
  EXPECT_EQ(ReadFile(root_ + "/kept/a.bin"), files[0].data);
  RemoveStaleUploads(dir_.path() + "/missing");  // no root yet: nothing to do
}

}  // namespace
}  // namespace petabox::daemon
