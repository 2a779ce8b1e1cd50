// Image folders converted to .npy datasets for upload: classes from train/'s folders,
// channel-first uint8 pixels, int32 labels, and images of another size named.
#include "client/lib/image_folder.h"

#include <gtest/gtest.h>
#include <stb/stb_image_write.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <vector>

#include "engine/data/npy.h"

namespace petabox::client {
namespace {

namespace fs = std::filesystem;

// A w x h RGB PNG whose pixel (x, y) is (value, x, y).
void WritePng(const fs::path& path, int w, int h, uint8_t value) {
  fs::create_directories(path.parent_path());
  std::vector<uint8_t> rgb;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) rgb.insert(rgb.end(), {value, static_cast<uint8_t>(x), static_cast<uint8_t>(y)});
  ASSERT_NE(stbi_write_png(path.c_str(), w, h, 3, rgb.data(), w * 3), 0);
}

class ImageFolderTest : public ::testing::Test {
 protected:
  void SetUp() override { root_ = fs::temp_directory_path() / ("imgfolder-" + std::to_string(getpid())); }
  void TearDown() override { fs::remove_all(root_); }
  fs::path root_;
};

TEST_F(ImageFolderTest, ConvertsToNpyArrays) {
  WritePng(root_ / "in/train/cat/1.png", 4, 3, 10);
  WritePng(root_ / "in/train/cat/2.png", 4, 3, 11);
  WritePng(root_ / "in/train/dog/1.png", 4, 3, 20);
  WritePng(root_ / "in/val/dog/1.png", 4, 3, 21);
  ASSERT_TRUE(IsImageFolder((root_ / "in").string()));
  Status s = ConvertImageFolder((root_ / "in").string(), (root_ / "out").string());
  ASSERT_TRUE(s.ok()) << s.ToString();
  auto x = data::ReadNpy((root_ / "out/train_x.npy").string());
  auto y = data::ReadNpy((root_ / "out/train_y.npy").string());
  ASSERT_TRUE(x.ok() && y.ok());
  EXPECT_EQ(x->shape, (Shape{3, 3, 3, 4}));  // N, C, H, W
  EXPECT_EQ(y->shape, Shape{3});
  EXPECT_EQ(y->At(0), 0);
  EXPECT_EQ(y->At(2), 1);
  EXPECT_EQ(x->At(0), 10);                   // image 0, channel 0 (red), (0, 0)
  EXPECT_EQ(x->At(12 + 1), 1);               // image 0, channel 1 (x), pixel (x=1, y=0)
  EXPECT_EQ(x->At(2 * 36 + 24 + 4 * 2 + 3), 2);  // image 2, channel 2 (y), pixel (x=3, y=2)
  auto test_y = data::ReadNpy((root_ / "out/test_y.npy").string());
  ASSERT_TRUE(test_y.ok());
  EXPECT_EQ(test_y->At(0), 1);  // dog
  std::ifstream classes(root_ / "out/classes.txt");
  std::string a, b;
  classes >> a >> b;
  EXPECT_EQ(a + "," + b, "cat,dog");
}

TEST_F(ImageFolderTest, ErrorsNameTheFile) {
  WritePng(root_ / "in/train/cat/1.png", 4, 3, 10);
  WritePng(root_ / "in/train/cat/2.png", 5, 3, 10);
  WritePng(root_ / "in/val/cat/1.png", 4, 3, 10);
  Status s = ConvertImageFolder((root_ / "in").string(), (root_ / "out").string());
  EXPECT_NE(s.message().find("2.png: 5x3 with 3 channels; the other images are 4x3"), std::string::npos) << s.message();
  fs::remove(root_ / "in/train/cat/2.png");
  std::ofstream(root_ / "in/train/cat/notes.txt") << "hi";
  s = ConvertImageFolder((root_ / "in").string(), (root_ / "out").string());
  EXPECT_NE(s.message().find("notes.txt: not an image file"), std::string::npos) << s.message();
  fs::remove(root_ / "in/train/cat/notes.txt");
  WritePng(root_ / "in/val/bird/1.png", 4, 3, 10);
  s = ConvertImageFolder((root_ / "in").string(), (root_ / "out").string());
  EXPECT_NE(s.message().find("class 'bird' is not in train/"), std::string::npos) << s.message();
  EXPECT_FALSE(IsImageFolder((root_ / "in/train").string()));
}

}  // namespace
}  // namespace petabox::client
