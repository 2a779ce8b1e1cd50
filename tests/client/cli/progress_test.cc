#include "client/cli/progress.h"

#include <gtest/gtest.h>

#include "client/cli/table.h"

namespace petabox::cli {
namespace {

v1::JobProgress Progress(int64_t step, int64_t total, double eta) {
  v1::JobProgress progress;
  progress.set_epoch(2);
  progress.set_step(step);
  progress.set_total_steps(total);
  progress.set_loss(0.43214);
  progress.set_samples_per_second(5123.4);
  progress.set_eta_seconds(eta);
  return progress;
}

TEST(Progress, Bar) {
  EXPECT_EQ(RenderBar(0, 12), "[>         ]");
  EXPECT_EQ(RenderBar(0.5, 12), "[=====>    ]");
  EXPECT_EQ(RenderBar(1, 12), "[==========]");
  EXPECT_EQ(RenderBar(7, 6), "[====]");
  EXPECT_EQ(RenderBar(-1, 6), "[>   ]");
}

TEST(Progress, WideLineHasEverything) {
  std::string line = RenderProgressLine(Progress(1234, 4690, 192), 120);
  EXPECT_EQ(line.find("epoch 2  step 1234/4690 ["), 0u) << line;
  EXPECT_NE(line.find("]  26%  loss 0.4321  5,123 samples/s  ETA 3m12s"), std::string::npos) << line;
  EXPECT_LE(DisplayWidth(line), 119u);
}

TEST(Progress, LineNeverReachesTheWidth) {
  for (int width : {20, 40, 60, 80, 100, 200}) {
    std::string line = RenderProgressLine(Progress(1234, 4690, 192), width);
    EXPECT_LE(DisplayWidth(line), static_cast<size_t>(width - 1)) << width << ": " << line;
  }
}

TEST(Progress, NarrowLineDropsTheBar) {
  std::string line = RenderProgressLine(Progress(1234, 4690, 192), 80);
  EXPECT_EQ(line.find('['), std::string::npos) << line;
  EXPECT_EQ(line, "epoch 2  step 1234/4690  26%  loss 0.4321  5,123 samples/s  ETA 3m12s");
}

TEST(Progress, UnknownTotalAndEta) {
  std::string line = RenderProgressLine(Progress(10, 0, 0), 120);
  EXPECT_EQ(line, "epoch 2  step 10  loss 0.4321  5,123 samples/s  ETA --");
  EXPECT_NE(RenderProgressLine(Progress(4690, 4690, 0), 120).find("100%"), std::string::npos);
  EXPECT_NE(RenderProgressLine(Progress(4690, 4690, 0), 120).find("ETA 0s"), std::string::npos);
}

TEST(Progress, Record) {
  EXPECT_EQ(RenderProgressRecord(Progress(1234, 4690, 3725)),
            "progress epoch 2 step 1234/4690 loss 0.4321 samples/s 5,123 eta 1h02m");
}

// float16's loss scaling shows only where it says something (a scale other than 1, steps
// skipped); float32 and bfloat16 progress reports scale 1 and no skips.
TEST(Progress, LossScaleAndSkippedSteps) {
  v1::JobProgress p = Progress(1234, 4690, 3725);
  p.set_loss_scale(1);
  EXPECT_EQ(RenderProgressRecord(p), "progress epoch 2 step 1234/4690 loss 0.4321 samples/s 5,123 eta 1h02m");
  p.set_loss_scale(32768);
  p.set_skipped_steps(3);
  EXPECT_EQ(RenderProgressRecord(p),
            "progress epoch 2 step 1234/4690 loss 0.4321 samples/s 5,123 scale 32,768 skipped 3 eta 1h02m");
  const std::string line = RenderProgressLine(p, 160);
  EXPECT_NE(line.find("  scale 32,768  skipped 3  ETA 1h02m"), std::string::npos) << line;
}

TEST(Progress, StateChangeEvalCheckpoint) {
  v1::StateChange change;
  change.set_state(v1::Job::RUNNING);
  change.add_devices("CUDA:0");
  change.add_devices("CUDA:1");
  EXPECT_EQ(RenderStateChange(change), "state RUNNING on CUDA:0,CUDA:1");
  v1::StateChange failed;
  failed.set_state(v1::Job::FAILED);
  failed.set_reason("loss became NaN at step 12");
  EXPECT_EQ(RenderStateChange(failed), "state FAILED: loss became NaN at step 12");

  v1::EvalResult eval;
  eval.set_epoch(1);
  eval.set_step(469);
  eval.set_test_accuracy(0.86123);
  eval.set_test_loss(0.39121);
  eval.set_examples(10000);
  EXPECT_EQ(RenderEval(eval), "eval epoch 1 step 469: test accuracy 86.12%, test loss 0.3912 (10000 examples)");

  v1::CheckpointSaved saved;
  saved.set_epoch(1);
  saved.set_step(469);
  EXPECT_EQ(RenderCheckpointSaved(saved), "checkpoint saved at epoch 1 step 469");
}

TEST(Progress, ResultAndEnd) {
  v1::JobResult result;
  result.set_steps(938);
  result.set_epochs(2);
  result.set_final_loss(0.29012);
  result.set_test_accuracy(0.881);
  result.set_test_loss(0.33121);
  result.set_train_samples_per_second(12345.2);
  result.set_seconds(83);
  const std::string text =
      "test accuracy 88.10%, test loss 0.3312, final loss 0.2901, 12,345 samples/s, time 1m23s (938 steps, 2 epochs)";
  EXPECT_EQ(RenderResult(result), text);
  EXPECT_EQ(RenderJobEnd("jobs/j-1", v1::Job::SUCCEEDED, "", &result), "jobs/j-1 SUCCEEDED: " + text);
  EXPECT_EQ(RenderJobEnd("jobs/j-1", v1::Job::FAILED, "out of memory", nullptr), "jobs/j-1 FAILED: out of memory");
  EXPECT_EQ(RenderJobEnd("jobs/j-1", v1::Job::CANCELLED, "", nullptr), "jobs/j-1 CANCELLED");
}

}  // namespace
}  // namespace petabox::cli
