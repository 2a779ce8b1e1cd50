// JpegLoader: batch shapes and labels, the evaluation transform against a full-size
// decode, the same batches for any thread count and after a Seek (resume), augmentation
// that changes between epochs, and damaged files (a truncated JPEG, a text file named
// .JPEG) skipped, counted and reported instead of failing the stream.
#include "engine/data/jpeg_loader.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "engine/data/jpeg.h"

namespace petabox::data {
namespace {

namespace fs = std::filesystem;
constexpr char kNoJpeg[] = "built without libjpeg-turbo";

// A smooth image whose colour depends on the class, with a per-image pattern.
Image ClassImage(int label, int index, int width, int height) {
  Image image{width, height, 3, {}};
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) {
      const float wave = 40 * std::sin(0.07f * x + index) * std::cos(0.05f * y);
      image.pixels.push_back(static_cast<uint8_t>(60 + 60 * label + wave));
      image.pixels.push_back(static_cast<uint8_t>(120 + wave));
      image.pixels.push_back(static_cast<uint8_t>(200 - 50 * label - wave));
    }
  return image;
}

class JpegLoaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!HaveJpeg()) GTEST_SKIP() << kNoJpeg;
    root_ = (fs::path(::testing::TempDir()) / ("jpeg-loader-" + std::to_string(getpid()))).string();
    fs::remove_all(root_);
    for (int label = 0; label < 3; ++label)
      for (int i = 0; i < 5; ++i) WriteImage(label, i, 40 + 13 * i, 90 - 7 * i);
  }
  void TearDown() override { fs::remove_all(root_); }

  std::string ImagePath(int label, int i) const {
    return root_ + "/train/class" + std::to_string(label) + "/img" + std::to_string(i) + ".JPEG";
  }
  void WriteImage(int label, int i, int w, int h) {
    fs::create_directories(root_ + "/train/class" + std::to_string(label));
    StatusOr<std::vector<uint8_t>> bytes = EncodeJpeg(ClassImage(label, i, w, h), 92);
    ASSERT_TRUE(bytes.ok());
    std::ofstream(ImagePath(label, i), std::ios::binary).write(reinterpret_cast<const char*>(bytes->data()), bytes->size());
  }
  std::shared_ptr<const ImageFolder> Folder() {
    StatusOr<ImageFolder> folder = ScanImageNet(root_, Split::kTrain);
    EXPECT_TRUE(folder.ok()) << folder.status().message();
    return std::make_shared<const ImageFolder>(std::move(*folder));
  }
  static JpegLoaderOptions Options(int threads, bool train = true) {
    JpegLoaderOptions o;
    o.batch_size = 4;
    o.transform = {.size = 24, .resize_size = 28, .train = train};
    o.shuffle = train;
    o.seed = 17;
    o.threads = threads;
    o.prefetch = 3;
    o.log = nullptr;
    return o;
  }
  static std::vector<ImageBatch> Take(JpegLoader& loader, int n) {
    std::vector<ImageBatch> out;
    for (int i = 0; i < n; ++i) {
      StatusOr<ImageBatch> b = loader.Next();
      EXPECT_TRUE(b.ok()) << b.status().message();
      if (b.ok()) out.push_back(std::move(*b));
    }
    return out;
  }
  std::string root_;
};

TEST_F(JpegLoaderTest, EvaluationBatchesAreTheCentreCropsInFolderOrder) {
  StatusOr<std::unique_ptr<JpegLoader>> loader = JpegLoader::Create(Folder(), Options(2, /*train=*/false));
  ASSERT_TRUE(loader.ok()) << loader.status().message();
  EXPECT_EQ((*loader)->batches_per_epoch(), 4);  // 15 images, batches of 4, the last of 3
  std::vector<ImageBatch> batches = Take(**loader, 4);
  ASSERT_EQ(batches.size(), 4u);
  EXPECT_EQ(batches[0].shape, (Shape{4, 24, 24, 3}));
  EXPECT_EQ(batches[3].shape, (Shape{3, 24, 24, 3}));
  EXPECT_EQ(batches[1].labels, (std::vector<int32_t>{0, 1, 1, 1}));
  // Example 6 (class 1, image 1): the loader's crop is resize + centre crop of the
  // decoded image (decoded at 5/8 scale here, so close to, not equal to, full size).
  std::ifstream in(ImagePath(1, 1), std::ios::binary);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  StatusOr<Image> full = DecodeJpeg(bytes);
  ASSERT_TRUE(full.ok());
  std::vector<uint8_t> want(24 * 24 * 3);
  ResizeCrop(*full, CenterCropBox(full->width, full->height, 28, 24), 24, 24, false, want.data());
  double diff = 0;
  for (size_t i = 0; i < want.size(); ++i) diff += std::abs(batches[1].pixels[2 * want.size() + i] - want[i]);
  EXPECT_LT(diff / want.size(), 3.0);
  EXPECT_GT(diff, 0) << "expected a reduced-scale decode";
}

TEST_F(JpegLoaderTest, ReducedScaleDecodeStaysCloseToFullSize) {
  WriteImage(0, 9, 800, 600);  // 1/8 scale still covers a 37-pixel resize
  std::ifstream in(ImagePath(0, 9), std::ios::binary);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Rng unused(0);
  std::vector<uint8_t> got(32 * 32 * 3), want(32 * 32 * 3);
  ASSERT_TRUE(TransformJpeg(bytes, {.size = 32, .resize_size = 37, .train = false}, unused, got.data()).ok());
  StatusOr<Image> full = DecodeJpeg(bytes);
  ASSERT_TRUE(full.ok());
  ResizeCrop(*full, CenterCropBox(800, 600, 37, 32), 32, 32, false, want.data());
  double diff = 0;
  for (size_t i = 0; i < got.size(); ++i) diff += std::abs(got[i] - want[i]);
  EXPECT_LT(diff / got.size(), 4.0);
}

TEST_F(JpegLoaderTest, SameSeedSameBatchesWhateverTheThreadCount) {
  std::vector<std::vector<ImageBatch>> runs;
  for (int threads : {0, 1, 3}) {
    StatusOr<std::unique_ptr<JpegLoader>> loader = JpegLoader::Create(Folder(), Options(threads));
    ASSERT_TRUE(loader.ok()) << loader.status().message();
    runs.push_back(Take(**loader, 9));  // over two epochs
  }
  for (size_t r = 1; r < runs.size(); ++r) {
    for (size_t b = 0; b < runs[0].size(); ++b) {
      EXPECT_EQ(runs[r][b].position, runs[0][b].position);
      EXPECT_EQ(runs[r][b].labels, runs[0][b].labels) << "run " << r << " batch " << b;
      EXPECT_EQ(runs[r][b].pixels, runs[0][b].pixels) << "run " << r << " batch " << b;
    }
  }
  JpegLoaderOptions other = Options(2);
  other.seed = 18;
  StatusOr<std::unique_ptr<JpegLoader>> loader = JpegLoader::Create(Folder(), other);
  ASSERT_TRUE(loader.ok());
  EXPECT_NE(Take(**loader, 1)[0].pixels, runs[0][0].pixels);
}

TEST_F(JpegLoaderTest, SeekingToAPositionResumesTheStream) {
  StatusOr<std::unique_ptr<JpegLoader>> straight = JpegLoader::Create(Folder(), Options(2));
  ASSERT_TRUE(straight.ok());
  std::vector<ImageBatch> all = Take(**straight, 7);
  StatusOr<std::unique_ptr<JpegLoader>> resumed = JpegLoader::Create(Folder(), Options(3), all[5].position);
  ASSERT_TRUE(resumed.ok());
  EXPECT_EQ((*resumed)->position(), (LoaderPosition{1, 1}));
  std::vector<ImageBatch> rest = Take(**resumed, 2);
  EXPECT_EQ(rest[0].pixels, all[5].pixels);
  EXPECT_EQ(rest[1].pixels, all[6].pixels);
  ASSERT_TRUE((*straight)->Seek({0, 2}).ok());
  EXPECT_EQ(Take(**straight, 1)[0].pixels, all[2].pixels);
}

TEST_F(JpegLoaderTest, AugmentationDiffersBetweenEpochsAndFlipsSometimes) {
  JpegLoaderOptions o = Options(2);
  o.shuffle = false;  // the same files at the same places in every epoch
  StatusOr<std::unique_ptr<JpegLoader>> loader = JpegLoader::Create(Folder(), o);
  ASSERT_TRUE(loader.ok());
  std::vector<ImageBatch> batches = Take(**loader, 8);
  for (int b = 0; b < 4; ++b) {
    EXPECT_EQ(batches[b].labels, batches[b + 4].labels);
    EXPECT_NE(batches[b].pixels, batches[b + 4].pixels) << "batch " << b;
  }
}

TEST_F(JpegLoaderTest, DamagedFilesAreSkippedCountedAndReported) {
  // A truncated JPEG and a text file named .JPEG, in class 2.
  std::ifstream in(ImagePath(2, 0), std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::ofstream(ImagePath(2, 0), std::ios::binary | std::ios::trunc).write(bytes.data(), bytes.size() / 2);
  std::ofstream(ImagePath(2, 1), std::ios::trunc) << "not an image\n";
  const std::string log_path = root_ + "/warnings.txt";
  std::FILE* log = std::fopen(log_path.c_str(), "w");
  ASSERT_NE(log, nullptr);
  JpegLoaderOptions o = Options(3);
  o.log = log;
  StatusOr<std::unique_ptr<JpegLoader>> loader = JpegLoader::Create(Folder(), o);
  ASSERT_TRUE(loader.ok());
  std::vector<ImageBatch> batches = Take(**loader, 8);  // two epochs
  std::fclose(log);
  ASSERT_EQ(batches.size(), 8u);
  EXPECT_EQ(batches[0].size(), 4);
  EXPECT_EQ((*loader)->skipped_files(), 2);
  // Every epoch still has 15 examples; the 2 damaged slots hold substitutes, so class 2
  // (3 good images) appears 3 to 5 times.
  int64_t examples = 0, class2 = 0;
  for (int b = 0; b < 4; ++b) {
    examples += batches[b].size();
    for (int32_t l : batches[b].labels) class2 += l == 2;
  }
  EXPECT_EQ(examples, 15);
  EXPECT_GE(class2, 3);
  EXPECT_LE(class2, 5);
  std::ifstream warnings(log_path);
  std::string text((std::istreambuf_iterator<char>(warnings)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("skipping " + ImagePath(2, 0)), std::string::npos) << text;
  EXPECT_NE(text.find("skipping " + ImagePath(2, 1)), std::string::npos) << text;
  EXPECT_EQ(text.find("img2.JPEG"), std::string::npos) << "only damaged files are reported";
}

TEST_F(JpegLoaderTest, AFolderWithoutOneDecodableFileFailsTheBatchNotTheProcess) {
  for (int label = 0; label < 3; ++label)
    for (int i = 0; i < 5; ++i) std::ofstream(ImagePath(label, i), std::ios::trunc) << "text";
  StatusOr<std::unique_ptr<JpegLoader>> loader = JpegLoader::Create(Folder(), Options(2));
  ASSERT_TRUE(loader.ok());
  StatusOr<ImageBatch> batch = (*loader)->Next();
  ASSERT_FALSE(batch.ok());
  EXPECT_EQ(batch.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(batch.status().message().find("none of its 15 files"), std::string::npos) << batch.status().message();
  EXPECT_EQ((*loader)->skipped_files(), 15);
}

TEST_F(JpegLoaderTest, BadOptionsAreRefusedByName) {
  auto error = [&](JpegLoaderOptions o) {
    StatusOr<std::unique_ptr<JpegLoader>> l = JpegLoader::Create(Folder(), o);
    return l.ok() ? std::string("ok") : l.status().message();
  };
  JpegLoaderOptions o = Options(1);
  o.batch_size = 0;
  EXPECT_NE(error(o).find("batch_size"), std::string::npos);
  o = Options(1, /*train=*/false);
  o.transform.resize_size = 10;
  EXPECT_NE(error(o).find("resize_size"), std::string::npos);
  o = Options(2);
  o.prefetch = 0;
  EXPECT_NE(error(o).find("prefetch"), std::string::npos);
  StatusOr<std::unique_ptr<JpegLoader>> l = JpegLoader::Create(Folder(), Options(1));
  ASSERT_TRUE(l.ok());
  EXPECT_EQ((*l)->Seek({0, 9}).code(), StatusCode::kInvalidArgument);
}

TEST(JpegLoaderWithoutJpegTest, CreateSaysBuiltWithoutLibjpegTurbo) {
  if (HaveJpeg()) GTEST_SKIP() << "this build has libjpeg-turbo";
  auto folder = std::make_shared<ImageFolder>();
  folder->dir = "x";
  folder->files = {"x/a/1.JPEG"};
  folder->labels = {0};
  StatusOr<std::unique_ptr<JpegLoader>> loader = JpegLoader::Create(folder, {});
  ASSERT_FALSE(loader.ok());
  EXPECT_NE(loader.status().message().find(kNoJpeg), std::string::npos);
}

}  // namespace
}  // namespace petabox::data
