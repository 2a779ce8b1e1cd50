// ImageNet-layout folders: classes sorted into labels, .jpeg/.jpg in any case, other files
// ignored, and missing or mismatched trees refused by name.
#include "engine/data/image_folder.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace petabox::data {
namespace {

namespace fs = std::filesystem;

class ImageFolderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = (fs::path(::testing::TempDir()) / ("image-folder-" + std::to_string(getpid()))).string();
    fs::remove_all(root_);
  }
  void TearDown() override { fs::remove_all(root_); }
  void Touch(const std::string& rel) {
    fs::create_directories(fs::path(root_ + "/" + rel).parent_path());
    std::ofstream(root_ + "/" + rel) << "x";
  }
  std::string root_;
};

TEST_F(ImageFolderTest, ClassesSortedByNameAreTheLabels) {
  Touch("train/zebra/b.JPEG");
  Touch("train/zebra/a.jpg");
  Touch("train/ant/x.Jpeg");
  Touch("train/ant/notes.txt");
  Touch("train/ant/.hidden.JPEG");
  Touch("train/mole/y.JPG");
  StatusOr<ImageFolder> folder = ScanImageNet(root_, Split::kTrain);
  ASSERT_TRUE(folder.ok()) << folder.status().message();
  EXPECT_EQ(folder->classes, (std::vector<std::string>{"ant", "mole", "zebra"}));
  ASSERT_EQ(folder->size(), 4);
  EXPECT_EQ(folder->files[0], root_ + "/train/ant/x.Jpeg");
  EXPECT_EQ(folder->files[2], root_ + "/train/zebra/a.jpg");
  EXPECT_EQ(folder->labels, (std::vector<int32_t>{0, 1, 2, 2}));
  EXPECT_TRUE(IsImageNetTree(root_));
}

TEST_F(ImageFolderTest, ValMustHaveTrainsClasses) {
  Touch("train/ant/a.JPEG");
  Touch("train/bee/a.JPEG");
  Touch("val/ant/v.JPEG");
  Touch("val/bee/v.JPEG");
  StatusOr<ImageFolder> val = ScanImageNet(root_, Split::kTest);
  ASSERT_TRUE(val.ok()) << val.status().message();
  EXPECT_EQ(val->labels, (std::vector<int32_t>{0, 1}));
  Touch("val/cat/v.JPEG");
  StatusOr<ImageFolder> mismatched = ScanImageNet(root_, Split::kTest);
  ASSERT_FALSE(mismatched.ok());
  EXPECT_EQ(mismatched.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(mismatched.status().message().find("'cat' in val"), std::string::npos) << mismatched.status().message();
}

TEST_F(ImageFolderTest, MissingAndEmptyTreesAreRefused) {
  StatusOr<ImageFolder> missing = ScanImageNet(root_, Split::kTrain);
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(IsImageNetTree(root_));
  fs::create_directories(root_ + "/train");
  StatusOr<ImageFolder> no_classes = ScanImageNet(root_, Split::kTrain);
  EXPECT_EQ(no_classes.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(no_classes.status().message().find("no class directories"), std::string::npos);
  Touch("train/ant/readme.txt");
  StatusOr<ImageFolder> no_images = ScanImageNet(root_, Split::kTrain);
  EXPECT_EQ(no_images.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(no_images.status().message().find("no .JPEG"), std::string::npos);
}

}  // namespace
}  // namespace petabox::data
