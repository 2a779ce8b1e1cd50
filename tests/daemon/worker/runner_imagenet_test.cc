// Runner on dataset imagenet: a CI-sized ImageNet-layout JPEG tree (engine/data/
// fake_imagenet.h) trains resnet8-rgb through the JPEG loader to an evaluation accuracy
// well above chance; a resumed run matches an uninterrupted one; damaged files are skipped
// and reported; a tree with more classes than the model has outputs is refused.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "daemon/worker/checkpoint.h"
#include "daemon/worker/runner.h"
#include "engine/data/fake_imagenet.h"
#include "engine/data/jpeg.h"
#include "tests/daemon/worker/test_util.h"

namespace petabox::worker {
namespace {

using testutil::Contains;

// The tree is written once for the suite (a second or so).
std::string* tree = nullptr;

class RunnerImageNetTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!data::HaveJpeg() || !std::filesystem::exists(std::string(data::kFashionMnistDir))) return;
    // One tree per process: ctest runs each test of the suite as its own process, in parallel.
    tree = new std::string(
        (std::filesystem::path(::testing::TempDir()) / ("pbw_fake_imagenet-" + std::to_string(getpid()))).string());
    std::filesystem::remove_all(*tree);
    data::FakeImageNetOptions o;
    o.train_per_class = 32;
    o.val_per_class = 10;
    o.min_size = 36;
    o.max_size = 72;
    Status s = data::WriteFakeImageNet(*tree, o);
    if (!s.ok()) {
      ADD_FAILURE() << s.ToString();
      delete tree;
      tree = nullptr;
    }
  }
  static void TearDownTestSuite() {
    if (tree) std::filesystem::remove_all(*tree);
    delete tree;
    tree = nullptr;
  }
  void SetUp() override {
    if (!data::HaveJpeg()) GTEST_SKIP() << "built without libjpeg-turbo";
    if (tree == nullptr) GTEST_SKIP() << "dataset-fashion-mnist is not installed (the tree is made from it)";
    log_ = open_memstream(&log_buf_, &log_size_);
    events_ = std::make_unique<EventWriter>(log_);
  }
  void TearDown() override {
    events_.reset();
    if (log_) std::fclose(log_);
    std::free(log_buf_);
  }
  std::string Log() {
    std::fflush(log_);
    return std::string(log_buf_, log_size_);
  }

  // resnet8-rgb on 32x32 crops, 10 steps of 32 per epoch, 4 epochs (~10 s on 2 cores).
  static JobSpec Spec() {
    JobSpec spec;
    spec.model = "resnet8-rgb";
    spec.dataset.name = "imagenet";
    spec.dataset.dir = *tree;
    spec.dataset.image_size = 32;
    spec.dataset.decode_threads = 2;
    spec.global_batch_size = 32;
    spec.epochs = 4;
    spec.optimizer.lr = 3e-3;
    spec.seed = 3;
    return spec;
  }
  StatusOr<RunResult> Train(const JobSpec& spec, RunnerOptions options = {}, std::vector<float>* weights = nullptr) {
    options.log = log_;
    StatusOr<std::unique_ptr<Runner>> runner = Runner::Create(spec, options, events_.get());
    if (!runner.ok()) return runner.status();
    StatusOr<RunResult> result = (*runner)->Run();
    if (weights) {
      for (auto& [name, t] : (*runner)->model().NamedState()) {
        StatusOr<std::vector<float>> v = t->ToFloats();
        if (v.ok()) weights->insert(weights->end(), v->begin(), v->end());
      }
    }
    return result;
  }

  std::FILE* log_ = nullptr;
  char* log_buf_ = nullptr;
  size_t log_size_ = 0;
  std::unique_ptr<EventWriter> events_;  // into the log too
};

TEST_F(RunnerImageNetTest, TrainsAboveChanceOnAJpegTree) {
  ASSERT_TRUE(ValidateJobSpec(Spec()).ok());
  StatusOr<RunResult> result = Train(Spec());
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->steps, 40);
  // 10 classes: chance is 0.1, and 0.25 of 100 examples is 5 standard deviations above it
  // (this run reaches 0.38; the crops are as small as 8% of an upscaled 28x28 image).
  EXPECT_GE(result->test_accuracy, 0.25) << Log();
  EXPECT_TRUE(Contains(Log(), "eval at step 40: test accuracy"));
}

TEST_F(RunnerImageNetTest, ResumeReproducesAnUninterruptedRun) {
  JobSpec spec = Spec();
  spec.max_steps = 6;
  std::vector<float> uninterrupted;
  ASSERT_TRUE(Train(spec, {}, &uninterrupted).ok());
  JobSpec first = spec;
  first.max_steps = 3;
  first.checkpoint.dir = testutil::FreshDir("ckpt");
  StatusOr<RunResult> part = Train(first);
  ASSERT_TRUE(part.ok()) << part.status().ToString();
  RunnerOptions resume;
  resume.resume_from = part->checkpoint;
  std::vector<float> resumed;
  StatusOr<RunResult> rest = Train(spec, resume, &resumed);
  ASSERT_TRUE(rest.ok()) << rest.status().ToString();
  ASSERT_EQ(resumed.size(), uninterrupted.size());
  float worst = 0;
  for (size_t i = 0; i < resumed.size(); ++i) worst = std::max(worst, std::fabs(resumed[i] - uninterrupted[i]));
  EXPECT_LE(worst, 1e-5f);
}

// (The loader's own tests cover damaged training files; here the evaluation, which visits
// every file of val/, meets one.)
TEST_F(RunnerImageNetTest, DamagedFilesAreSkippedAndReported) {
  const std::string dir = testutil::FreshDir("tree");
  std::filesystem::copy(*tree, dir, std::filesystem::copy_options::recursive);
  // A text file in place of a JPEG (the same count, so the evaluation's batch shape and its
  // compiled kernels stay those of the other tests).
  const std::string class_dir = dir + "/val/" + data::FakeImageNetClass(3);
  const std::string text_file = std::filesystem::directory_iterator(class_dir)->path().string();
  std::ofstream(text_file, std::ios::trunc) << "not a JPEG\n";
  JobSpec spec = Spec();
  spec.dataset.dir = dir;
  spec.max_steps = 2;
  StatusOr<RunResult> result = Train(spec);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_TRUE(Contains(Log(), "warning: skipping " + text_file));
}

TEST_F(RunnerImageNetTest, MoreClassesThanTheModelHasOutputsIsRefused) {
  const std::string dir = testutil::FreshDir("eleven");
  for (int c = 0; c < 11; ++c) {
    for (const char* split : {"train", "val"}) {
      const std::string class_dir = dir + "/" + split + "/c" + std::to_string(10 + c);
      std::filesystem::create_directories(class_dir);
      std::ofstream(class_dir + "/a.JPEG") << "x";
    }
  }
  JobSpec spec = Spec();
  spec.dataset.dir = dir;
  Status s = Runner::Create(spec, {}, events_.get()).status();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(s.message(), "11 classes, more than model 'resnet8-rgb' has outputs (10)")) << s.message();
  spec.dataset.dir = dir + "/missing";
  EXPECT_EQ(Runner::Create(spec, {}, events_.get()).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace petabox::worker
