// .npy files and .npy datasets: write -> read round trips, NumPy's own header variants,
// datasets of uint8 and float32 features, and malformed files rejected by name.
#include "engine/data/npy.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>

namespace petabox::data {
namespace {

class NpyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (std::filesystem::temp_directory_path() / ("npy-test-" + std::to_string(getpid()))).string();
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string File(const std::string& name) const { return dir_ + "/" + name; }
  void WriteRaw(const std::string& name, const std::string& header, size_t data_bytes, int version = 1) {
    std::ofstream out(File(name), std::ios::binary);
    out.write("\x93NUMPY", 6);
    out.put(static_cast<char>(version)).put(0);
    out.put(static_cast<char>(header.size() & 0xff)).put(static_cast<char>(header.size() >> 8));
    if (version >= 2) out.put(0).put(0);
    out << header << std::string(data_bytes, '\1');
  }
  static NpyArray Array(NpyType type, Shape shape, std::vector<float> values) {
    NpyArray a;
    a.type = type;
    a.shape = std::move(shape);
    for (float v : values) {
      if (type == NpyType::kUInt8) a.data.push_back(static_cast<uint8_t>(v));
      else if (type == NpyType::kInt32) { int32_t i = static_cast<int32_t>(v); a.data.insert(a.data.end(), (uint8_t*)&i, (uint8_t*)&i + 4); }
      else a.data.insert(a.data.end(), (uint8_t*)&v, (uint8_t*)&v + 4);
    }
    return a;
  }
  std::string dir_;
};

TEST_F(NpyTest, WriteReadRoundTrip) {
  for (const NpyArray& a : {Array(NpyType::kUInt8, {2, 3}, {1, 2, 3, 4, 5, 255}), Array(NpyType::kInt32, {3}, {-1, 0, 7}),
                            Array(NpyType::kFloat32, {}, {2.5f}), Array(NpyType::kFloat32, {2, 1, 2}, {0.5f, -1, 3, 4})}) {
    ASSERT_TRUE(WriteNpy(File("a.npy"), a).ok());
    StatusOr<NpyArray> b = ReadNpy(File("a.npy"));
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    EXPECT_EQ(b->type, a.type);
    EXPECT_EQ(b->shape, a.shape);
    EXPECT_EQ(b->data, a.data);
    EXPECT_EQ(std::filesystem::file_size(File("a.npy")) % 64, a.data.size() % 64);  // header padded to 64
  }
}

TEST_F(NpyTest, ReadsNumpyHeaderVariants) {
  WriteRaw("v2.npy", "{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }\n", 24, 2);
  StatusOr<NpyArray> a = ReadNpy(File("v2.npy"));
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->type, NpyType::kInt64);
  EXPECT_EQ(a->shape, Shape{3});
  WriteRaw("f8.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }\n", 32);
  EXPECT_TRUE(ReadNpy(File("f8.npy")).ok());
}

TEST_F(NpyTest, MalformedFilesAreNamed) {
  struct Case {
    const char* header;
    size_t bytes;
    const char* message;
  };
  const Case cases[] = {
      {"{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", 8, "dtype '>f4' is not supported"},
      {"{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }", 16, "dtype '<c8' is not supported"},
      {"{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", 16, "Fortran-order"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", 8, "8 bytes of data, 16 expected"},
      {"{'descr': '<f4', 'fortran_order': False, }", 8, "has no 'shape'"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (x,), }", 8, "malformed .npy shape"},
  };
  for (const Case& c : cases) {
    WriteRaw("bad.npy", c.header, c.bytes);
    Status s = ReadNpy(File("bad.npy")).status();
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << c.header;
    EXPECT_NE(s.message().find(c.message), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("bad.npy"), std::string::npos) << s.message();
  }
  std::ofstream(File("text.npy")) << "not numpy";
  EXPECT_NE(ReadNpy(File("text.npy")).status().message().find("not a .npy file"), std::string::npos);
  EXPECT_EQ(ReadNpy(File("missing.npy")).status().code(), StatusCode::kNotFound);
}

TEST_F(NpyTest, DatasetsOfBytesAndFloats) {
  ASSERT_TRUE(WriteNpy(File("train_x.npy"), Array(NpyType::kUInt8, {3, 1, 2}, {0, 1, 2, 3, 4, 5})).ok());
  ASSERT_TRUE(WriteNpy(File("train_y.npy"), Array(NpyType::kInt32, {3}, {0, 2, 1})).ok());
  ASSERT_TRUE(WriteNpy(File("test_x.npy"), Array(NpyType::kFloat32, {2, 1, 2}, {0.5f, 1, 2, 3})).ok());
  ASSERT_TRUE(WriteNpy(File("test_y.npy"), Array(NpyType::kInt32, {2}, {1, 1})).ok());
  EXPECT_TRUE(IsNpyDataset(dir_));
  auto train = LoadNpyDataset(dir_, Split::kTrain);
  ASSERT_TRUE(train.ok()) << train.status().ToString();
  EXPECT_EQ((*train)->size(), 3);
  EXPECT_EQ((*train)->feature_shape(), (Shape{1, 2}));
  EXPECT_EQ((*train)->num_classes(), 3);
  StatusOr<Example> e = (*train)->Get(1);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->features, (std::vector<float>{2, 3}));
  EXPECT_EQ(e->label, 2);
  auto test = LoadNpyDataset(dir_, Split::kTest);
  ASSERT_TRUE(test.ok()) << test.status().ToString();
  EXPECT_EQ((*test)->Get(0)->features, (std::vector<float>{0.5f, 1}));
  // classes.txt sets the class count; labels past it are errors.
  std::ofstream(File("classes.txt")) << "a\nb\n";
  Status s = LoadNpyDataset(dir_, Split::kTrain).status();
  EXPECT_NE(s.message().find("train_y.npy: label 2 at 1 is out of range (classes.txt lists 2)"), std::string::npos)
      << s.message();
  ASSERT_TRUE(WriteNpy(File("test_y.npy"), Array(NpyType::kInt32, {3}, {1, 1, 1})).ok());
  s = LoadNpyDataset(dir_, Split::kTest).status();
  EXPECT_NE(s.message().find("do not match"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace petabox::data
