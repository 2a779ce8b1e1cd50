// Runner: trains on a small synthetic dataset in Fashion-MNIST's layout; resuming from a
// checkpoint reproduces an uninterrupted run; divergence and bad setups fail clearly.
#include "daemon/worker/runner.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

#include "daemon/worker/checkpoint.h"
#include "engine/codegen/opt/optimize.h"
#include "engine/nn/state_dict.h"
#include "tests/daemon/worker/test_util.h"

namespace petabox::worker {
namespace {

using testutil::Contains;

// Collects events in memory.
class MemoryEvents {
 public:
  MemoryEvents() : file_(open_memstream(&buf_, &size_)), writer_(file_) {}
  ~MemoryEvents() {
    std::fclose(file_);
    std::free(buf_);
  }
  EventWriter* writer() { return &writer_; }
  std::string text() {
    std::fflush(file_);
    return std::string(buf_, size_);
  }

 private:
  char* buf_ = nullptr;
  size_t size_ = 0;
  std::FILE* file_;
  EventWriter writer_;
};

class RunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_dir_ = testutil::FreshDir("data");
    testutil::WriteSyntheticMnist(data_dir_, /*train=*/96, /*test=*/40);
  }

  // An MLP job on the synthetic data: 3 steps of 32 per epoch.
  JobSpec Spec() const {
    JobSpec spec;
    spec.model = "mlp";
    spec.dataset.dir = data_dir_;
    spec.global_batch_size = 32;
    spec.epochs = 3;
    spec.seed = 5;
    return spec;
  }

  StatusOr<RunResult> Train(const JobSpec& spec, RunnerOptions options = {}, std::vector<float>* weights = nullptr) {
    StatusOr<std::unique_ptr<Runner>> runner = Runner::Create(spec, options, events_.writer());
    if (!runner.ok()) return runner.status();
    StatusOr<RunResult> result = (*runner)->Run();
    if (weights) *weights = Weights((*runner)->model());
    return result;
  }

  static std::vector<float> Weights(nn::Module& model) {
    std::vector<float> all;
    for (auto& [name, t] : model.NamedState()) {
      StatusOr<std::vector<float>> v = t->ToFloats();
      EXPECT_TRUE(v.ok()) << name;
      if (v.ok()) all.insert(all.end(), v->begin(), v->end());
    }
    return all;
  }

  static void ExpectClose(const std::vector<float>& a, const std::vector<float>& b) {
    ASSERT_EQ(a.size(), b.size());
    float worst = 0;
    for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::fabs(a[i] - b[i]));
    EXPECT_LE(worst, 1e-5f);
  }

  std::string data_dir_;
  MemoryEvents events_;
};

TEST_F(RunnerTest, TrainsEvaluatesAndReports) {
  RunnerOptions options;
  options.progress_interval_steps = 2;
  StatusOr<RunResult> result = Train(Spec(), options);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->steps, 9);
  EXPECT_DOUBLE_EQ(result->epochs, 3.0);
  EXPECT_FALSE(result->preempted);
  EXPECT_TRUE(std::isfinite(result->final_loss));
  EXPECT_GE(result->test_accuracy, 0.6);  // an easy task: bands at a row per class
  EXPECT_GT(result->train_samples_per_second, 0);
  EXPECT_GT(result->achieved_flops_per_second, 0);
  const std::string events = events_.text();
  EXPECT_TRUE(Contains(events, "{\"progress\":{"));
  EXPECT_TRUE(Contains(events, "\"achieved_flops_per_second\":"));
  EXPECT_TRUE(Contains(events, "\"eta_seconds\":"));
  EXPECT_TRUE(Contains(events, "{\"eval\":{"));
  EXPECT_TRUE(Contains(events, "{\"done\":{"));
  EXPECT_TRUE(Contains(events, "\"time\":\""));
  const std::string summary = ToJsonLine(Summary(*result));
  for (const char* key : {"\"test_accuracy\":", "\"train_samples_per_second\":", "\"epochs\":3", "\"steps\":\"9\""})
    EXPECT_TRUE(Contains(summary, key));
}

TEST_F(RunnerTest, ResumeReproducesAnUninterruptedRun) {
  JobSpec spec = Spec();
  spec.max_steps = 7;  // crosses two epoch boundaries
  std::vector<float> uninterrupted;
  ASSERT_TRUE(Train(spec, {}, &uninterrupted).ok());

  JobSpec first = spec;
  first.max_steps = 4;
  first.checkpoint.dir = testutil::FreshDir("ckpt");
  StatusOr<RunResult> part = Train(first);
  ASSERT_TRUE(part.ok()) << part.status().ToString();
  EXPECT_EQ(part->checkpoint, CheckpointPath(first.checkpoint.dir, 4));

  RunnerOptions resume;
  resume.resume_from = part->checkpoint;
  std::vector<float> resumed;
  StatusOr<RunResult> rest = Train(spec, resume, &resumed);
  ASSERT_TRUE(rest.ok()) << rest.status().ToString();
  EXPECT_EQ(rest->steps, 7);
  ExpectClose(uninterrupted, resumed);
  EXPECT_TRUE(Contains(events_.text(), "{\"resumed\":{"));
}

// Overwrites `bytes` bytes in the middle of the file with their complement.
void FlipMiddle(const std::string& path, size_t bytes) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(0, std::ios::end);
  const size_t size = static_cast<size_t>(f.tellg());
  ASSERT_GT(size, 2 * bytes);
  std::string chunk(bytes, '\0');
  f.seekg(static_cast<std::streamoff>(size / 2));
  f.read(chunk.data(), static_cast<std::streamsize>(bytes));
  for (char& c : chunk) c = static_cast<char>(~c);
  f.seekp(static_cast<std::streamoff>(size / 2));
  f.write(chunk.data(), static_cast<std::streamsize>(bytes));
}

// Issue 18: a checkpoint damaged after it was written (header intact) is refused on load,
// and resuming picks the newest one that verifies, giving an uninterrupted run's result.
TEST_F(RunnerTest, ResumeSkipsADamagedCheckpoint) {
  JobSpec spec = Spec();
  spec.max_steps = 7;
  std::vector<float> uninterrupted;
  ASSERT_TRUE(Train(spec, {}, &uninterrupted).ok());

  JobSpec first = spec;
  first.max_steps = 4;
  first.checkpoint.dir = testutil::FreshDir("ckpt");
  first.checkpoint.interval_steps = 2;
  ASSERT_TRUE(Train(first).ok());
  const std::string newest = CheckpointPath(first.checkpoint.dir, 4);
  FlipMiddle(newest, 4096);

  RunnerOptions damaged;
  damaged.resume_from = newest;
  Status refused = Runner::Create(spec, damaged, events_.writer()).status();
  EXPECT_EQ(refused.code(), StatusCode::kDataLoss) << refused.ToString();
  EXPECT_TRUE(Contains(refused.message(), newest)) << refused.ToString();

  StatusOr<GoodCheckpoint> good = LatestGoodCheckpoint(first.checkpoint.dir);
  ASSERT_TRUE(good.ok()) << good.status().ToString();
  EXPECT_EQ(good->path, CheckpointPath(first.checkpoint.dir, 2));
  ASSERT_EQ(good->skipped.size(), 1u);
  EXPECT_TRUE(Contains(good->skipped[0], newest) && Contains(good->skipped[0], "checksum mismatch")) << good->skipped[0];

  RunnerOptions resume;
  resume.resume_from = good->path;
  std::vector<float> resumed;
  StatusOr<RunResult> rest = Train(spec, resume, &resumed);
  ASSERT_TRUE(rest.ok()) << rest.status().ToString();
  EXPECT_EQ(rest->steps, 7);
  ExpectClose(uninterrupted, resumed);
  EXPECT_TRUE(Contains(events_.text(), "{\"resumed\":{\"step\":\"2\"")) << events_.text();

  FlipMiddle(good->path, 4096);  // none verifies now: an error naming both files
  StatusOr<GoodCheckpoint> none = LatestGoodCheckpoint(first.checkpoint.dir);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), StatusCode::kDataLoss);
  EXPECT_TRUE(Contains(none.status().message(), newest) && Contains(none.status().message(), good->path));
  EXPECT_EQ(LatestGoodCheckpoint(testutil::FreshDir("empty")).status().code(), StatusCode::kNotFound);
}

// Checkpoints written before checksums existed (no nn::kDataSha256Key) still resume.
TEST_F(RunnerTest, ResumesFromACheckpointWithoutAChecksum) {
  JobSpec first = Spec();
  first.max_steps = 4;
  first.checkpoint.dir = testutil::FreshDir("ckpt");
  StatusOr<RunResult> part = Train(first);
  ASSERT_TRUE(part.ok()) << part.status().ToString();
  StatusOr<nn::TensorFile> file = nn::LoadTensors(part->checkpoint);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  ASSERT_EQ(file->metadata.erase(nn::kDataSha256Key), 1u);
  ASSERT_TRUE(nn::SaveTensors(part->checkpoint, file->tensors, file->metadata).ok());

  JobSpec spec = Spec();
  spec.max_steps = 7;
  RunnerOptions resume;
  resume.resume_from = part->checkpoint;
  StatusOr<RunResult> rest = Train(spec, resume);
  ASSERT_TRUE(rest.ok()) << rest.status().ToString();
  EXPECT_EQ(rest->steps, 7);
}

// A spec's `beam` becomes the engine's BEAM width in the worker (the search itself is
// tested in tests/engine/codegen/opt/).
TEST_F(RunnerTest, SpecBeamSetsTheEnginesSearchWidth) {
  const OptimizeOptions saved = GetOptimizeOptions();
  OptimizeOptions off = saved;
  off.beam = 0;
  SetOptimizeOptions(off);
  JobSpec spec = Spec();
  StatusOr<std::unique_ptr<Runner>> plain = Runner::Create(spec, {}, events_.writer());
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_EQ(GetOptimizeOptions().beam, 0);
  spec.beam = 3;
  StatusOr<std::unique_ptr<Runner>> searching = Runner::Create(spec, {}, events_.writer());
  ASSERT_TRUE(searching.ok()) << searching.status().ToString();
  EXPECT_EQ(GetOptimizeOptions().beam, 3);
  SetOptimizeOptions(saved);
}

TEST_F(RunnerTest, JitAndEagerStepsAgree) {
  JobSpec spec = Spec();
  spec.max_steps = 4;
  spec.optimizer.name = "sgd";
  spec.optimizer.lr = 0.05;
  spec.optimizer.momentum = 0.9;
  std::vector<float> jit, eager;
  ASSERT_TRUE(Train(spec, {}, &jit).ok());
  RunnerOptions no_jit;
  no_jit.use_jit = false;
  ASSERT_TRUE(Train(spec, no_jit, &eager).ok());
  ExpectClose(jit, eager);
}

TEST_F(RunnerTest, StopRequestCheckpointsAndStops) {
  JobSpec spec = Spec();
  spec.checkpoint.dir = testutil::FreshDir("ckpt");
  std::atomic<bool> stop{true};
  RunnerOptions options;
  options.stop_requested = &stop;
  StatusOr<RunResult> result = Train(spec, options);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_TRUE(result->preempted);
  EXPECT_EQ(result->steps, 0);
  EXPECT_TRUE(std::filesystem::exists(CheckpointPath(spec.checkpoint.dir, 0)));
  EXPECT_TRUE(Contains(events_.text(), "{\"preempted\":{"));
  EXPECT_FALSE(Contains(events_.text(), "{\"done\":{"));
}

TEST_F(RunnerTest, DivergenceStopsWithAClearError) {
  JobSpec spec = Spec();
  spec.optimizer.name = "sgd";
  spec.optimizer.lr = 1e30;
  StatusOr<RunResult> result = Train(spec);
  ASSERT_FALSE(result.ok());
  EXPECT_TRUE(Contains(result.status().message(), "training diverged: the loss is")) << result.status().ToString();
  EXPECT_TRUE(Contains(result.status().message(), "lower optimizer.lr"));
}

TEST_F(RunnerTest, ResumeRefusesACheckpointOfAnotherJob) {
  JobSpec spec = Spec();
  spec.max_steps = 1;
  spec.checkpoint.dir = testutil::FreshDir("ckpt");
  StatusOr<RunResult> part = Train(spec);
  ASSERT_TRUE(part.ok()) << part.status().ToString();
  spec.seed = 6;
  RunnerOptions resume;
  resume.resume_from = part->checkpoint;
  Status s = Runner::Create(spec, resume, events_.writer()).status();
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Contains(s.message(), "seed 5, this job has 6"));
}

TEST_F(RunnerTest, SetupErrors) {
  JobSpec spec = Spec();
  spec.devices = {"CPU:0", "CPU:1", "CPU:2"};
  spec.global_batch_size = 2;  // fewer examples than devices
  // Checked where the spec comes in (ParseJobSpec / ValidateJobSpec), not again by the runner.
  Status few = ValidateJobSpec(spec);
  EXPECT_EQ(few.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(few.message(), "global_batch_size: must be at least the number of devices (3")) << few.ToString();
  spec = Spec();
  spec.dataset.dir = data_dir_ + "/missing";
  Status s = Runner::Create(spec, {}, events_.writer()).status();
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_TRUE(Contains(s.message(), "train-images-idx3-ubyte"));
  RunnerOptions resume;
  resume.resume_from = data_dir_ + "/nope.safetensors";
  EXPECT_FALSE(Runner::Create(Spec(), resume, events_.writer()).ok());
}

TEST_F(RunnerTest, TrainsOnANamedDevice) {
  JobSpec spec = Spec();
  spec.devices = {"cpu:1"};
  spec.max_steps = 2;
  StatusOr<RunResult> result = Train(spec);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->steps, 2);
}

// Data-parallel jobs on the virtual CPU devices train the weights a one-device job trains
// on the same global batches (32 = 16+16, 11+11+10, 6+6+5+5+5+5).
TEST_F(RunnerTest, DataParallelMatchesOneDevice) {
  JobSpec spec = Spec();
  spec.max_steps = 4;
  spec.optimizer.name = "sgd";
  spec.optimizer.lr = 0.05;
  spec.optimizer.momentum = 0.9;
  std::vector<float> single;
  StatusOr<RunResult> one = Train(spec, {}, &single);
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  for (int n : {2, 3, 6}) {
    JobSpec multi = spec;
    multi.devices.clear();
    for (int d = 0; d < n; ++d) multi.devices.push_back("CPU:" + std::to_string(d));
    std::vector<float> weights;
    StatusOr<std::unique_ptr<Runner>> runner = Runner::Create(multi, {}, events_.writer());
    ASSERT_TRUE(runner.ok()) << runner.status().ToString();
    StatusOr<RunResult> result = (*runner)->Run();
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    EXPECT_EQ(result->steps, 4);
    EXPECT_NEAR(result->final_loss, one->final_loss, 1e-5) << n << " devices";
    EXPECT_NEAR(result->test_accuracy, one->test_accuracy, 1e-9) << n << " devices";
    ExpectClose(Weights((*runner)->model()), single);
    ASSERT_EQ((*runner)->devices().size(), static_cast<size_t>(n));
    EXPECT_EQ(Weights((*runner)->replica(n - 1)), Weights((*runner)->model())) << "replicas drifted";
  }
  EXPECT_TRUE(Contains(events_.text(), "\"devices\":[\"CPU:0\",\"CPU:1\",\"CPU:2\"]"));
}

// A data-parallel job's checkpoint is a one-device checkpoint: a one-device job resumes
// from it (and a data-parallel job from a one-device one) and ends where an uninterrupted
// run ends.
TEST_F(RunnerTest, DataParallelCheckpointsAreOneDeviceCheckpoints) {
  JobSpec spec = Spec();
  spec.max_steps = 5;
  spec.optimizer.name = "sgd";
  spec.optimizer.lr = 0.05;
  spec.optimizer.momentum = 0.9;
  std::vector<float> uninterrupted;
  ASSERT_TRUE(Train(spec, {}, &uninterrupted).ok());

  JobSpec first = spec;
  first.max_steps = 2;
  first.devices = {"CPU:1", "CPU:2"};
  first.checkpoint.dir = testutil::FreshDir("ckpt");
  StatusOr<RunResult> part = Train(first);
  ASSERT_TRUE(part.ok()) << part.status().ToString();
  RunnerOptions resume;
  resume.resume_from = part->checkpoint;
  std::vector<float> resumed;
  StatusOr<RunResult> rest = Train(spec, resume, &resumed);  // one device from here
  ASSERT_TRUE(rest.ok()) << rest.status().ToString();
  EXPECT_EQ(rest->steps, 5);
  ExpectClose(uninterrupted, resumed);

  JobSpec single_first = spec;
  single_first.max_steps = 3;
  single_first.checkpoint.dir = testutil::FreshDir("ckpt1");
  StatusOr<RunResult> single_part = Train(single_first);
  ASSERT_TRUE(single_part.ok()) << single_part.status().ToString();
  JobSpec multi_rest = spec;
  multi_rest.devices = {"CPU:0", "CPU:3", "CPU:4"};
  RunnerOptions resume_multi;
  resume_multi.resume_from = single_part->checkpoint;
  std::vector<float> multi_resumed;
  StatusOr<RunResult> multi = Train(multi_rest, resume_multi, &multi_resumed);
  ASSERT_TRUE(multi.ok()) << multi.status().ToString();
  ExpectClose(uninterrupted, multi_resumed);
}

}  // namespace
}  // namespace petabox::worker

namespace petabox::worker {
namespace {

// Issue 15: mixed precision through the job spec.

class RunnerPrecisionTest : public RunnerTest {};

// The float16 and bfloat16 runs of the Fashion-MNIST MLP reach the float32 run's test
// accuracy within 0.5 points (same seed, a 2560-image subset for one epoch, 2000 test images).
TEST_F(RunnerPrecisionTest, SixteenBitRunsReachFloat32AccuracyOnFashionMnist) {
  if (!std::filesystem::exists(std::string(data::kFashionMnistDir) + "/train-images-idx3-ubyte.gz") ||
      !data::GzipSupported()) {
    GTEST_SKIP() << "dataset-fashion-mnist is not installed at " << data::kFashionMnistDir << " (or no zlib)";
  }
  JobSpec spec = Spec();
  spec.dataset.dir = data::kFashionMnistDir;
  spec.dataset.train_limit = 2560;
  spec.dataset.test_limit = 2000;
  spec.global_batch_size = 64;
  spec.epochs = 1;
  std::map<std::string, double> accuracy;
  for (const char* precision : {"float32", "bfloat16", "float16"}) {
    spec.precision = precision;
    StatusOr<RunResult> result = Train(spec);
    ASSERT_TRUE(result.ok()) << precision << ": " << result.status().ToString();
    accuracy[precision] = result->test_accuracy;
    std::printf("[ precision ] %-8s test accuracy %.4f  final loss %.4f  %.0f samples/s\n", precision,
                result->test_accuracy, result->final_loss, result->train_samples_per_second);
  }
  EXPECT_GT(accuracy["float32"], 0.7) << "the float32 baseline must learn";
  EXPECT_NEAR(accuracy["bfloat16"], accuracy["float32"], 0.005);
  EXPECT_NEAR(accuracy["float16"], accuracy["float32"], 0.005);
}

TEST_F(RunnerPrecisionTest, ProgressReportsTheLossScale) {
  RunnerOptions options;
  options.progress_interval_steps = 1;
  JobSpec spec = Spec();
  spec.precision = "float16";
  StatusOr<RunResult> result = Train(spec, options);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_GE(result->test_accuracy, 0.6);
  EXPECT_TRUE(Contains(events_.text(), "\"loss_scale\":65536"));
  EXPECT_TRUE(Contains(events_.text(), "\"skipped_steps\":\"0\""));
  EXPECT_FALSE(Contains(events_.text(), "\"skipped_steps\":\"1\"")) << "no step overflowed";
  spec.precision = "bfloat16";
  ASSERT_TRUE(Train(spec, options).ok());
  EXPECT_TRUE(Contains(events_.text(), "\"loss_scale\":1"));
}

// With a learning rate that blows the weights up, every float16 step overflows: each is
// skipped and reported, and the run stops with a clear error once 40 did so in a row.
TEST_F(RunnerPrecisionTest, Float16StepsThatKeepOverflowingStopTheRun) {
  RunnerOptions options;
  options.progress_interval_steps = 1;
  JobSpec spec = Spec();
  spec.precision = "float16";
  spec.epochs = 20;  // 60 steps
  spec.optimizer.name = "sgd";
  spec.optimizer.lr = 1e30;
  StatusOr<RunResult> result = Train(spec, options);
  ASSERT_FALSE(result.ok());
  EXPECT_TRUE(Contains(result.status().message(), "40 steps in a row overflowed in float16")) << result.status().ToString();
  // Each skipped step is reported (the 40th fails the run before its report).
  EXPECT_TRUE(Contains(events_.text(), "\"skipped_steps\":\"2\""));
  EXPECT_TRUE(Contains(events_.text(), "\"skipped_steps\":\"39\""));
  EXPECT_TRUE(Contains(events_.text(), "\"loss_scale\":16384"));
}

// Data-parallel float16: one loss scale, every replica skipping the same steps.
TEST_F(RunnerPrecisionTest, DataParallelFloat16Trains) {
  JobSpec spec = Spec();
  spec.precision = "float16";
  spec.devices = {"CPU:0", "CPU:1"};
  StatusOr<RunResult> result = Train(spec);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->steps, 9);
  EXPECT_GE(result->test_accuracy, 0.6);
}

// Checkpoints hold the float32 master weights whatever the precision, and a run resumes
// from one in any precision.
TEST_F(RunnerPrecisionTest, CheckpointsStayFloat32AndResumeInAnyPrecision) {
  const std::pair<const char*, const char*> cases[] = {{"bfloat16", "float32"}, {"float32", "float16"},
                                                       {"float16", "bfloat16"}};
  for (const auto& [saved_in, resumed_in] : cases) {
    SCOPED_TRACE(std::string(saved_in) + " -> " + resumed_in);
    JobSpec first = Spec();
    first.precision = saved_in;
    first.max_steps = 4;
    first.checkpoint.dir = testutil::FreshDir(std::string("ckpt_") + saved_in);
    StatusOr<RunResult> part = Train(first);
    ASSERT_TRUE(part.ok()) << part.status().ToString();
    StatusOr<nn::TensorFile> file = nn::LoadTensors(part->checkpoint);
    ASSERT_TRUE(file.ok()) << file.status().ToString();
    for (const auto& [name, t] : file->tensors)
      if (IsFloat(t.dtype())) EXPECT_EQ(t.dtype(), DType::kFloat32) << name;
    JobSpec rest = Spec();
    rest.precision = resumed_in;
    rest.max_steps = 7;
    RunnerOptions resume;
    resume.resume_from = part->checkpoint;
    std::vector<float> weights;
    StatusOr<RunResult> done = Train(rest, resume, &weights);
    ASSERT_TRUE(done.ok()) << done.status().ToString();
    EXPECT_EQ(done->steps, 7);
    EXPECT_TRUE(std::isfinite(done->final_loss));
    EXPECT_GE(done->test_accuracy, 0.6);
  }
}

}  // namespace
}  // namespace petabox::worker
