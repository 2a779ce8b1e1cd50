// The CI-sized ImageNet generator: the tree it writes scans as ImageNet (10 classes, the
// counts asked), its JPEGs decode at sizes in range, its pixels are the Fashion-MNIST
// example upscaled (correlation with a bilinear upscale), and the same seed writes the
// same bytes.
#include "engine/data/fake_imagenet.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "engine/data/dataset.h"
#include "engine/data/image_folder.h"
#include "engine/data/image_ops.h"
#include "engine/data/jpeg.h"

namespace petabox::data {
namespace {

namespace fs = std::filesystem;

std::vector<uint8_t> ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

class FakeImageNetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!HaveJpeg()) GTEST_SKIP() << "built without libjpeg-turbo";
    if (!fs::exists(std::string(kFashionMnistDir) + "/train-images-idx3-ubyte.gz")) {
      GTEST_SKIP() << "dataset-fashion-mnist is not installed";
    }
    root_ = (fs::path(::testing::TempDir()) / ("fake-imagenet-" + std::to_string(getpid()))).string();
    fs::remove_all(root_);
  }
  void TearDown() override { fs::remove_all(root_); }
  std::string root_;
};

TEST_F(FakeImageNetTest, WritesAnImageNetTreeOfUpscaledFashionMnist) {
  FakeImageNetOptions o;
  o.train_per_class = 3;
  o.val_per_class = 2;
  o.min_size = 40;
  o.max_size = 90;
  ASSERT_TRUE(WriteFakeImageNet(root_, o).ok());
  StatusOr<ImageFolder> train = ScanImageNet(root_, Split::kTrain);
  StatusOr<ImageFolder> val = ScanImageNet(root_, Split::kTest);
  ASSERT_TRUE(train.ok() && val.ok());
  EXPECT_EQ(train->classes.size(), 10u);
  EXPECT_EQ(train->classes[9], "09_ankle_boot");
  EXPECT_EQ(train->size(), 30);
  EXPECT_EQ(val->size(), 20);

  // The first training file is Fashion-MNIST's training example 0 (an ankle boot).
  StatusOr<std::shared_ptr<const Dataset>> source = LoadMnistFamily(kFashionMnistDir, Split::kTrain);
  ASSERT_TRUE(source.ok());
  StatusOr<Example> first = (*source)->Get(0);
  ASSERT_TRUE(first.ok());
  const std::string path = root_ + "/train/" + FakeImageNetClass(first->label) + "/train_00000.JPEG";
  StatusOr<Image> image = DecodeJpeg(ReadAll(path));
  ASSERT_TRUE(image.ok()) << path << ": " << image.status().message();
  EXPECT_GE(image->width, 40);
  EXPECT_LE(image->height, 90);
  // Its luminance correlates strongly with the example upscaled independently.
  Image grey{28, 28, 1, {}};
  for (float v : first->features) grey.pixels.push_back(static_cast<uint8_t>(v));
  std::vector<uint8_t> up(static_cast<size_t>(image->width) * image->height);
  ResizeCrop(grey, {0, 0, 28, 28}, image->width, image->height, false, up.data());
  double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
  const double n = static_cast<double>(up.size());
  for (size_t i = 0; i < up.size(); ++i) {
    const double a = up[i];
    const double b = (image->pixels[3 * i] + image->pixels[3 * i + 1] + image->pixels[3 * i + 2]) / 3.0;
    sa += a, sb += b, saa += a * a, sbb += b * b, sab += a * b;
  }
  const double corr = (sab - sa * sb / n) / std::sqrt((saa - sa * sa / n) * (sbb - sb * sb / n));
  EXPECT_GT(corr, 0.95);
}

TEST_F(FakeImageNetTest, TheSameSeedWritesTheSameFiles) {
  FakeImageNetOptions o;
  o.train_per_class = 1;
  o.val_per_class = 1;
  ASSERT_TRUE(WriteFakeImageNet(root_ + "/a", o).ok());
  ASSERT_TRUE(WriteFakeImageNet(root_ + "/b", o).ok());
  o.seed = 1;
  ASSERT_TRUE(WriteFakeImageNet(root_ + "/c", o).ok());
  StatusOr<ImageFolder> a = ScanImageNet(root_ + "/a", Split::kTrain);
  ASSERT_TRUE(a.ok());
  const std::string rel = a->files[0].substr((root_ + "/a").size());
  EXPECT_EQ(ReadAll(root_ + "/a" + rel), ReadAll(root_ + "/b" + rel));
  EXPECT_NE(ReadAll(root_ + "/a" + rel), ReadAll(root_ + "/c" + rel));
}

TEST_F(FakeImageNetTest, BadOptionsAreRefused) {
  FakeImageNetOptions o;
  o.min_size = 50;
  o.max_size = 40;
  EXPECT_EQ(WriteFakeImageNet(root_, o).code(), StatusCode::kInvalidArgument);
  // The test split has 1000 examples per class (tiny images keep the attempt quick).
  Status s = WriteFakeImageNet(
      root_, FakeImageNetOptions{.train_per_class = 0, .val_per_class = 2000, .min_size = 4, .max_size = 4});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("has only 1000"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace petabox::data
