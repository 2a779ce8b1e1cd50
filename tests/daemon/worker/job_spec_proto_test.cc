// The typed spec: every field survives JobSpec -> petabox.v1.JobSpec -> JobSpec and a file;
// fields a message lacks keep job_spec.h's defaults; a file that is not a spec is refused.
#include "daemon/worker/job_spec_proto.h"

#include <gtest/gtest.h>

#include <fstream>

#include "tests/daemon/worker/test_util.h"

namespace petabox::worker {
namespace {

JobSpec EveryFieldChanged() {
  StatusOr<JobSpec> spec = ParseJobSpec(R"(
name: all
model: cnn
dataset: {name: npy, dir: /d, source: datasets/x, train_limit: 10, test_limit: 5, image_size: 64, decode_threads: 3}
epochs: 3
global_batch_size: 64
optimizer: {name: sgd, lr: 0.5, momentum: 0.9, nesterov: true, weight_decay: 0.01, betas: [0.8, 0.99], eps: 1.0e-6,
            trust_coefficient: 0.002}
schedule: {name: warmup_poly, warmup_steps: 7, power: 1.5, end_lr: 0.01}
seed: 42
checkpoint: {interval_steps: 9, dir: /c}
eval: {interval_steps: 11, per_epoch: false}
devices: [CPU:0, CPU:1]
sync_batchnorm: true
max_restarts: 2
label_smoothing: 0.1
max_steps: 99
beam: 3
)");
  EXPECT_TRUE(spec.ok()) << spec.status().ToString();
  return spec.ok() ? *spec : JobSpec();
}

void ExpectSame(const JobSpec& a, const JobSpec& b) {
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.model, b.model);
  EXPECT_EQ(a.graph, b.graph);
  EXPECT_EQ(a.dataset.name, b.dataset.name);
  EXPECT_EQ(a.dataset.dir, b.dataset.dir);
  EXPECT_EQ(a.dataset.source, b.dataset.source);
  EXPECT_EQ(a.dataset.train_limit, b.dataset.train_limit);
  EXPECT_EQ(a.dataset.test_limit, b.dataset.test_limit);
  EXPECT_EQ(a.dataset.image_size, b.dataset.image_size);
  EXPECT_EQ(a.dataset.decode_threads, b.dataset.decode_threads);
  EXPECT_EQ(a.epochs, b.epochs);
  EXPECT_EQ(a.global_batch_size, b.global_batch_size);
  EXPECT_EQ(a.optimizer.name, b.optimizer.name);
  EXPECT_EQ(a.optimizer.lr, b.optimizer.lr);
  EXPECT_EQ(a.optimizer.momentum, b.optimizer.momentum);
  EXPECT_EQ(a.optimizer.nesterov, b.optimizer.nesterov);
  EXPECT_EQ(a.optimizer.weight_decay, b.optimizer.weight_decay);
  EXPECT_EQ(a.optimizer.betas, b.optimizer.betas);
  EXPECT_EQ(a.optimizer.eps, b.optimizer.eps);
  EXPECT_EQ(a.optimizer.trust_coefficient, b.optimizer.trust_coefficient);
  EXPECT_EQ(a.schedule.name, b.schedule.name);
  EXPECT_EQ(a.schedule.warmup_steps, b.schedule.warmup_steps);
  EXPECT_EQ(a.schedule.warmup_epochs, b.schedule.warmup_epochs);
  EXPECT_EQ(a.schedule.power, b.schedule.power);
  EXPECT_EQ(a.schedule.end_lr, b.schedule.end_lr);
  EXPECT_EQ(a.precision, b.precision);
  EXPECT_EQ(a.seed, b.seed);
  EXPECT_EQ(a.checkpoint.interval_steps, b.checkpoint.interval_steps);
  EXPECT_EQ(a.checkpoint.dir, b.checkpoint.dir);
  EXPECT_EQ(a.eval.interval_steps, b.eval.interval_steps);
  EXPECT_EQ(a.eval.per_epoch, b.eval.per_epoch);
  EXPECT_EQ(a.devices, b.devices);
  EXPECT_EQ(a.sync_batchnorm, b.sync_batchnorm);
  EXPECT_EQ(a.device_count, b.device_count);
  EXPECT_EQ(a.max_restarts, b.max_restarts);
  EXPECT_EQ(a.label_smoothing, b.label_smoothing);
  EXPECT_EQ(a.max_steps, b.max_steps);
  EXPECT_EQ(a.beam, b.beam);
}

TEST(JobSpecProto, EveryFieldRoundTrips) {
  const JobSpec spec = EveryFieldChanged();
  ExpectSame(JobSpecFromProto(JobSpecToProto(spec)), spec);
  ExpectSame(JobSpecFromProto(JobSpecToProto(JobSpec())), JobSpec());
  EXPECT_TRUE(JobSpecToProto(JobSpec()).optimizer().has_beta2());  // defaults are written too
}

TEST(JobSpecProto, AbsentFieldsKeepTheDefaults) {
  v1::JobSpec partial;
  partial.set_model("cnn");
  partial.mutable_optimizer()->set_lr(0.25);
  JobSpec expected;
  expected.model = "cnn";
  expected.optimizer.lr = 0.25;
  ExpectSame(JobSpecFromProto(partial), expected);
}

TEST(JobSpecProto, FileRoundTripAndBadFiles) {
  const std::string dir = testutil::FreshDir("spec-proto");
  const JobSpec spec = EveryFieldChanged();
  ASSERT_TRUE(WriteJobSpecFile(dir + "/spec.pb", spec).ok());
  StatusOr<JobSpec> read = ReadJobSpecFile(dir + "/spec.pb");
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  ExpectSame(*read, spec);
  EXPECT_EQ(ReadJobSpecFile(dir + "/missing.pb").status().code(), StatusCode::kNotFound);
  std::ofstream(dir + "/bad.pb") << "\xff\xff\xff not a spec";
  Status bad = ReadJobSpecFile(dir + "/bad.pb").status();
  EXPECT_EQ(bad.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.message().find("not a petabox.v1.JobSpec"), std::string::npos);
  EXPECT_EQ(WriteJobSpecFile(dir + "/no/such/dir/spec.pb", spec).code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace petabox::worker
