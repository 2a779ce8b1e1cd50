// IDX reader: round trips (plain and gzip), big-endian layout, and every validation error
// naming the file. Files are written by the tests into a fresh temporary directory.
#include "engine/data/idx.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "engine/data/file_io.h"

namespace petabox::data {
namespace {

namespace fs = std::filesystem;

::testing::AssertionResult Contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << text << "' does not contain '" << part << "'";
}

class IdxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ("idx_test_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  // uint8 images (n, 3, 2) with pixel = 10 * i + j, and labels i % 4.
  static IdxArray Images(int64_t n) {
    IdxArray a{IdxType::kUInt8, {n, 3, 2}, {}};
    for (int64_t i = 0; i < n; ++i)
      for (int j = 0; j < 6; ++j) a.data.push_back(static_cast<uint8_t>(10 * i + j));
    return a;
  }
  static IdxArray Labels(int64_t n) {
    IdxArray a{IdxType::kUInt8, {n}, {}};
    for (int64_t i = 0; i < n; ++i) a.data.push_back(static_cast<uint8_t>(i % 4));
    return a;
  }
  void WriteRaw(const std::string& name, const std::vector<uint8_t>& bytes) {
    ASSERT_TRUE(WriteFileBytes(Path(name), bytes, /*gzip=*/false).ok());
  }
  static std::vector<uint8_t> ReadRaw(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
  }

  fs::path dir_;
};

TEST_F(IdxTest, PlainRoundTrip) {
  ASSERT_TRUE(WriteIdxFile(Path("a.idx"), Images(5)).ok());
  StatusOr<IdxArray> read = ReadIdxFile(Path("a.idx"));
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->type, IdxType::kUInt8);
  EXPECT_EQ(read->dims, (Shape{5, 3, 2}));
  EXPECT_EQ(read->data, Images(5).data);
}

TEST_F(IdxTest, GzipRoundTrip) {
  if (!GzipSupported()) GTEST_SKIP() << "built without zlib";
  ASSERT_TRUE(WriteIdxFile(Path("a.idx.gz"), Images(7), /*gzip=*/true).ok());
  std::vector<uint8_t> raw = ReadRaw(Path("a.idx.gz"));
  ASSERT_GE(raw.size(), 2u);
  EXPECT_EQ(raw[0], 0x1f);  // really compressed
  StatusOr<IdxArray> read = ReadIdxFile(Path("a.idx.gz"));
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->dims, (Shape{7, 3, 2}));
  EXPECT_EQ(read->data, Images(7).data);
}

TEST_F(IdxTest, GzipWithoutZlibIsUnimplemented) {
  if (GzipSupported()) GTEST_SKIP() << "built with zlib";
  WriteRaw("a.gz", {0x1f, 0x8b, 8, 0});
  StatusOr<IdxArray> read = ReadIdxFile(Path("a.gz"));
  EXPECT_EQ(read.status().code(), StatusCode::kUnimplemented);
  EXPECT_TRUE(Contains(read.status().message(), "zlib"));
}

TEST_F(IdxTest, MultiByteElementsAreBigEndianOnDisk) {
  IdxArray a{IdxType::kInt32, {2}, {}};
  a.data.resize(8);
  const int32_t values[2] = {0x01020304, -2};
  std::memcpy(a.data.data(), values, 8);
  ASSERT_TRUE(WriteIdxFile(Path("i.idx"), a).ok());
  std::vector<uint8_t> raw = ReadRaw(Path("i.idx"));
  const std::vector<uint8_t> expected = {0, 0, 0x0c, 1, 0, 0, 0, 2, 1, 2, 3, 4, 0xff, 0xff, 0xff, 0xfe};
  EXPECT_EQ(raw, expected);
  StatusOr<IdxArray> read = ReadIdxFile(Path("i.idx"));
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->At(0), 0x01020304);
  EXPECT_EQ(read->At(1), -2);
}

TEST_F(IdxTest, BadMagicNamesTheFile) {
  WriteRaw("bad", {'P', 'K', 3, 4, 0, 0, 0, 1, 0});
  StatusOr<IdxArray> read = ReadIdxFile(Path("bad"));
  EXPECT_EQ(read.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(read.status().message(), Path("bad")));
  EXPECT_TRUE(Contains(read.status().message(), "bad magic"));
}

TEST_F(IdxTest, UnknownTypeCodeIsBadMagic) {
  WriteRaw("bad", {0, 0, 0x07, 1, 0, 0, 0, 1, 0});
  EXPECT_TRUE(Contains(ReadIdxFile(Path("bad")).status().message(), "bad magic"));
}

TEST_F(IdxTest, TruncatedDataNamesTheFile) {
  WriteRaw("short", {0, 0, 0x08, 2, 0, 0, 0, 10, 0, 0, 0, 4, 1, 2, 3});
  StatusOr<IdxArray> read = ReadIdxFile(Path("short"));
  EXPECT_EQ(read.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(read.status().message(), Path("short")));
  EXPECT_TRUE(Contains(read.status().message(), "truncated"));
  EXPECT_TRUE(Contains(read.status().message(), "40 data bytes"));
}

TEST_F(IdxTest, TruncatedHeader) {
  WriteRaw("short", {0, 0, 0x08, 3, 0, 0, 0, 10});
  EXPECT_TRUE(Contains(ReadIdxFile(Path("short")).status().message(), "truncated"));
  WriteRaw("tiny", {0, 0});
  EXPECT_TRUE(Contains(ReadIdxFile(Path("tiny")).status().message(), "truncated"));
}

TEST_F(IdxTest, TrailingBytes) {
  WriteRaw("long", {0, 0, 0x08, 1, 0, 0, 0, 2, 7, 8, 9});
  EXPECT_TRUE(Contains(ReadIdxFile(Path("long")).status().message(), "trailing bytes"));
}

TEST_F(IdxTest, TruncatedGzipStream) {
  if (!GzipSupported()) GTEST_SKIP() << "built without zlib";
  ASSERT_TRUE(WriteIdxFile(Path("a.gz"), Images(50), /*gzip=*/true).ok());
  std::vector<uint8_t> raw = ReadRaw(Path("a.gz"));
  raw.resize(raw.size() / 2);
  WriteRaw("cut.gz", raw);
  StatusOr<IdxArray> read = ReadIdxFile(Path("cut.gz"));
  EXPECT_EQ(read.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(read.status().message(), Path("cut.gz")));
}

TEST_F(IdxTest, MissingFileIsNotFound) {
  StatusOr<IdxArray> read = ReadIdxFile(Path("nope"));
  EXPECT_EQ(read.status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(Contains(read.status().message(), Path("nope")));
}

TEST_F(IdxTest, DatasetFromImagesAndLabels) {
  ASSERT_TRUE(WriteIdxFile(Path("img"), Images(5)).ok());
  ASSERT_TRUE(WriteIdxFile(Path("lab"), Labels(5)).ok());
  StatusOr<std::shared_ptr<const Dataset>> ds = LoadIdxDataset(Path("img"), Path("lab"));
  ASSERT_TRUE(ds.ok()) << ds.status().ToString();
  EXPECT_EQ((*ds)->size(), 5);
  EXPECT_EQ((*ds)->feature_shape(), (Shape{1, 3, 2}));
  EXPECT_EQ((*ds)->num_classes(), 4);
  StatusOr<Example> e = (*ds)->Get(3);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->features, (std::vector<float>{30, 31, 32, 33, 34, 35}));
  EXPECT_EQ(e->label, 3);
  EXPECT_EQ((*ds)->Get(5).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(IdxTest, CountMismatchNamesBothFiles) {
  ASSERT_TRUE(WriteIdxFile(Path("img"), Images(5)).ok());
  ASSERT_TRUE(WriteIdxFile(Path("lab"), Labels(4)).ok());
  Status s = LoadIdxDataset(Path("img"), Path("lab")).status();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(s.message(), "count mismatch"));
  EXPECT_TRUE(Contains(s.message(), Path("img")));
  EXPECT_TRUE(Contains(s.message(), Path("lab")));
}

TEST_F(IdxTest, LabelOutOfRangeNamesTheFile) {
  ASSERT_TRUE(WriteIdxFile(Path("img"), Images(5)).ok());
  ASSERT_TRUE(WriteIdxFile(Path("lab"), Labels(5)).ok());
  Status s = LoadIdxDataset(Path("img"), Path("lab"), /*num_classes=*/3).status();
  EXPECT_TRUE(Contains(s.message(), Path("lab")));
  EXPECT_TRUE(Contains(s.message(), "label 3 at index 3"));
}

TEST_F(IdxTest, MnistFamilyPrefersGzipAndFallsBackToPlain) {
  ASSERT_TRUE(WriteIdxFile(Path("t10k-images-idx3-ubyte"), Images(3)).ok());
  ASSERT_TRUE(WriteIdxFile(Path("t10k-labels-idx1-ubyte"), Labels(3)).ok());
  StatusOr<std::shared_ptr<const Dataset>> test = LoadMnistFamily(dir_.string(), Split::kTest);
  ASSERT_TRUE(test.ok()) << test.status().ToString();
  EXPECT_EQ((*test)->size(), 3);
  EXPECT_EQ((*test)->num_classes(), 10);
  Status missing = LoadMnistFamily(dir_.string(), Split::kTrain).status();
  EXPECT_EQ(missing.code(), StatusCode::kNotFound);
  EXPECT_TRUE(Contains(missing.message(), "train-images-idx3-ubyte.gz"));
}

TEST(FashionMnist, TestSplitWhenInstalled) {
  if (!fs::exists(std::string(kFashionMnistDir) + "/t10k-labels-idx1-ubyte.gz") || !GzipSupported()) {
    GTEST_SKIP() << "dataset-fashion-mnist is not installed (or no zlib)";
  }
  StatusOr<std::shared_ptr<const Dataset>> test = LoadMnistFamily(kFashionMnistDir, Split::kTest);
  ASSERT_TRUE(test.ok()) << test.status().ToString();
  EXPECT_EQ((*test)->size(), 10000);
  EXPECT_EQ((*test)->feature_shape(), (Shape{1, 28, 28}));
  EXPECT_EQ((*test)->num_classes(), 10);
}

}  // namespace
}  // namespace petabox::data
