// Job spec parsing: the example specs parse; every invalid case names the key path and
// the reason; syntax errors give line and column.
#include "daemon/worker/job_spec.h"

#include <gtest/gtest.h>

#include "tests/daemon/worker/test_util.h"

namespace petabox::worker {
namespace {

using testutil::Contains;

TEST(JobSpec, ExampleMlpSpecParses) {
  StatusOr<JobSpec> spec = LoadJobSpec(std::string(PETABOX_SOURCE_DIR) + "/configs/jobs/fashion-mnist-mlp.yaml");
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->model, "mlp");
  EXPECT_EQ(spec->epochs, 2);
  EXPECT_EQ(spec->global_batch_size, 128);
  EXPECT_EQ(spec->optimizer.name, "adam");
  EXPECT_DOUBLE_EQ(spec->optimizer.lr, 1e-3);
  EXPECT_TRUE(spec->devices.empty());
  EXPECT_EQ(DeviceCount(*spec), 1);
}

TEST(JobSpec, ExampleCnnSpecParses) {
  StatusOr<JobSpec> spec = LoadJobSpec(std::string(PETABOX_SOURCE_DIR) + "/configs/jobs/fashion-mnist-cnn.yaml");
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->model, "cnn");
  EXPECT_EQ(spec->epochs, 1);
}

TEST(JobSpec, EmptyDocumentGivesDefaults) {
  StatusOr<JobSpec> spec = ParseJobSpec("");
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->model, "mlp");
  EXPECT_EQ(spec->precision, "float32");
  EXPECT_TRUE(spec->devices.empty());
}

TEST(JobSpec, EveryKeyParses) {
  StatusOr<JobSpec> spec = ParseJobSpec(R"(
name: all
model: cnn
dataset: {name: fashion-mnist, dir: /tmp/x, train_limit: 100, test_limit: 10}
epochs: 3
global_batch_size: 64
optimizer: {name: sgd, lr: 0.1, momentum: 0.9, nesterov: true, weight_decay: 5.0e-4,
            betas: [0.8, 0.99], eps: 1.0e-6, trust_coefficient: 0.002}
schedule: {name: warmup_cosine, warmup_epochs: 0.5, power: 1, end_lr: 0.001}
precision: float32
seed: 42
checkpoint: {interval_steps: 100, dir: /tmp/ckpt}
eval: {interval_steps: 50, per_epoch: false}
devices: [CPU:0, CPU:1]
sync_batchnorm: true
label_smoothing: 0.1
max_steps: 7
beam: 4
)");
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->dataset.train_limit, 100);
  EXPECT_TRUE(spec->optimizer.nesterov);
  EXPECT_DOUBLE_EQ(spec->optimizer.betas[1], 0.99);
  EXPECT_DOUBLE_EQ(spec->schedule.warmup_epochs, 0.5);
  EXPECT_EQ(spec->seed, 42u);
  EXPECT_EQ(spec->checkpoint.dir, "/tmp/ckpt");
  EXPECT_FALSE(spec->eval.per_epoch);
  EXPECT_EQ(spec->devices.size(), 2u);
  EXPECT_TRUE(spec->sync_batchnorm);
  EXPECT_DOUBLE_EQ(spec->label_smoothing, 0.1);
  EXPECT_EQ(spec->max_steps, 7);
  EXPECT_EQ(spec->beam, 4);
}

TEST(JobSpec, ImageNetKeysParse) {
  StatusOr<JobSpec> spec = ParseJobSpec(R"(
model: resnet8-rgb
dataset: {name: imagenet, dir: /data/imagenet, image_size: 64, decode_threads: 6}
)");
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->dataset.name, "imagenet");
  EXPECT_EQ(spec->dataset.image_size, 64);
  EXPECT_EQ(spec->dataset.decode_threads, 6);
  StatusOr<JobSpec> defaults = ParseJobSpec("model: resnet50\ndataset: {name: imagenet, source: datasets/imagenet}\n");
  ASSERT_TRUE(defaults.ok()) << defaults.status().ToString();
  EXPECT_EQ(defaults->dataset.image_size, 224);
  EXPECT_EQ(defaults->dataset.decode_threads, 0);
}

struct BadCase {
  const char* yaml;
  const char* message;  // must appear in the error
  StatusCode code = StatusCode::kInvalidArgument;
};

TEST(JobSpec, SixteenBitPrecisionsAreAccepted) {
  for (const char* precision : {"bfloat16", "float16"}) {
    StatusOr<JobSpec> spec = ParseJobSpec(std::string("model: cnn\nprecision: ") + precision, "job.yaml");
    ASSERT_TRUE(spec.ok()) << spec.status().ToString();
    EXPECT_EQ(spec->precision, precision);
  }
}

TEST(JobSpec, InvalidSpecsNameTheKeyAndTheReason) {
  const BadCase cases[] = {
      {"optimizer: {lr: -1}", "optimizer.lr: must be > 0, got -1"},
      {"optimizer: {lr: abc}", "optimizer.lr: must be a finite number, got 'abc'"},
      {"optimizer: {lr: .nan}", "optimizer.lr: must be a finite number"},
      {"optimizer: {momentun: 0.9}", "optimizer.momentun: unknown key"},
      {"modle: mlp", "modle: unknown key (known keys: name, model,"},
      {"model: resnet", "model: must be one of mlp, cnn, resnet8, resnet8-rgb, resnet50, graph, got 'resnet'"},
      {"model: graph", "graph: model 'graph' needs the graph file (graph: FILE)"},
      {"graph: x.pbgraph", "graph: is only read with model: graph (model is 'mlp')"},
      {"epochs: 0", "epochs: must be >= 1, got 0"},
      {"epochs: 1.5", "epochs: must be an integer, got '1.5'"},
      {"global_batch_size: -3", "global_batch_size: must be >= 1, got -3"},
      {"precision: fp64", "precision: must be one of float32, bfloat16, float16, got 'fp64'"},
      {"precision: half", "precision: must be one of float32, bfloat16, float16, got 'half'"},
      {"model: graph\ngraph: x.pbgraph\nprecision: bfloat16", "precision: bfloat16 needs a zoo model (mlp, cnn, resnet8)"},
      {"devices: [GPU:7]", "devices[0]: "},
      {"devices: [CPU:0, cpu:0]", "devices[1]: 'cpu:0' is listed twice"},
      {"devices: CPU:0", "devices: must be a list of strings"},
      {"optimizer: {betas: [0.9]}", "optimizer.betas: must be a list of 2 numbers"},
      {"optimizer: {betas: [0.9, 1.5]}", "optimizer.betas[1]: must be in [0, 1), got 1.5"},
      {"optimizer: {betas: [0.9, x]}", "optimizer.betas[1]: must be a finite number, got 'x'"},
      {"optimizer: {name: sgd, nesterov: true}", "optimizer.nesterov: needs"},
      {"optimizer: {name: rmsprop}", "optimizer.name: must be one of sgd, adam, adamw, lars, got 'rmsprop'"},
      {"optimizer: {weight_decay: -0.1}", "optimizer.weight_decay: must be >= 0, got -0.1"},
      {"optimizer: 3", "optimizer: must be a mapping of keys to values, got '3'"},
      {"schedule: {name: linear}", "schedule.name: must be one of constant, warmup_poly, warmup_cosine"},
      {"schedule: {warmup_steps: 5, warmup_epochs: 1}", "schedule.warmup_epochs: give warmup_steps or"},
      {"schedule: {end_lr: 1}", "schedule.end_lr: must be <= optimizer.lr"},
      {"model: mlp\nmodel: cnn", "model: appears twice in the same mapping"},
      {"optimizer: {lr: 0.1, lr: 0.2}", "optimizer.lr: appears twice in the same mapping"},
      {"eval: {per_epoch: maybe}", "eval.per_epoch: must be true or false, got 'maybe'"},
      {"eval: {interval_steps: -2}", "eval.interval_steps: must be >= 0, got -2"},
      {"label_smoothing: 1", "label_smoothing: must be in [0, 1), got 1"},
      {"seed: -1", "seed: must be a non-negative integer, got '-1'"},
      {"dataset: {name: mnist}", "dataset.name: must be one of fashion-mnist, npy, imagenet, got 'mnist'"},
      {"model: resnet8-rgb\ndataset: {name: imagenet}",
       "dataset.source: dataset 'imagenet' needs an uploaded dataset (source: datasets/NAME) or a dir"},
      {"model: cnn\ndataset: {name: imagenet, dir: /d}",
       "model: dataset imagenet needs a model for RGB images (resnet8-rgb, resnet50), got 'cnn'"},
      {"model: resnet50", "model: model 'resnet50' takes RGB images: use it with dataset.name imagenet"},
      {"model: graph\ngraph: g.pb\ndataset: {name: imagenet, dir: /d}", "model: model 'graph' cannot train on dataset imagenet"},
      {"model: resnet8-rgb\ndataset: {name: imagenet, dir: /d, image_size: 4}",
       "dataset.image_size: must be in [8, 1024], got 4"},
      {"model: resnet8-rgb\ndataset: {name: imagenet, dir: /d, decode_threads: -1}",
       "dataset.decode_threads: must be >= 0, got -1"},
      {"dataset: {name: npy}", "dataset.source: dataset 'npy' needs an uploaded dataset (source: datasets/NAME) or a dir"},
      {"dataset: {extra: 1}", "dataset.extra: unknown key"},
      {"max_steps: -1", "max_steps: must be >= 0, got -1"},
      {"beam: -1", "beam: must be in [0, 64], got -1"},
      {"beam: 65", "beam: must be in [0, 64], got 65"},
      {"devices: [CPU:0, CPU:1, CPU:2]\nglobal_batch_size: 2",
       "global_batch_size: must be at least the number of devices (3: every device trains on a part of each batch), got 2"},
      {"device_count: 4\nglobal_batch_size: 3", "global_batch_size: must be at least the number of devices (4"},
      {"sync_batchnorm: 2", "sync_batchnorm: must be true or false, got '2'"},
  };
  for (const BadCase& c : cases) {
    StatusOr<JobSpec> spec = ParseJobSpec(c.yaml, "job.yaml");
    ASSERT_FALSE(spec.ok()) << c.yaml;
    EXPECT_EQ(spec.status().code(), c.code) << c.yaml << " -> " << spec.status().ToString();
    EXPECT_TRUE(Contains(spec.status().message(), std::string("job.yaml: ") + c.message)) << c.yaml;
  }
}

TEST(JobSpec, ValueErrorsGiveLineAndColumn) {
  Status s = ParseJobSpec("model: mlp\noptimizer:\n  name: adam\n  lr: -1\n").status();
  EXPECT_TRUE(Contains(s.message(), "optimizer.lr: must be > 0, got -1 (line 4, column 7)"));
  s = ParseJobSpec("model: mlp\nfoo: 1\n").status();
  EXPECT_TRUE(Contains(s.message(), "foo: unknown key")) << s.message();
  EXPECT_TRUE(Contains(s.message(), "(line 2, column 1)"));
}

TEST(JobSpec, SyntaxErrorsGiveLineAndColumn) {
  Status s = ParseJobSpec("model: mlp\noptimizer: {lr: 0.1\n", "bad.yaml").status();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(s.message(), "bad.yaml: YAML syntax error at line ")) << s.message();
  EXPECT_TRUE(Contains(s.message(), "column"));
  s = ParseJobSpec("model: mlp\n  epochs: 2\n").status();
  EXPECT_TRUE(Contains(s.message(), "YAML syntax error at line 2")) << s.message();
}

TEST(JobSpec, DocumentMustBeAMapping) {
  Status s = ParseJobSpec("- a\n- b\n").status();
  EXPECT_TRUE(Contains(s.message(), "<document>: must be a mapping")) << s.message();
}

TEST(JobSpec, MissingFileIsNotFound) {
  Status s = LoadJobSpec("/nonexistent/job.yaml").status();
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_TRUE(Contains(s.message(), "/nonexistent/job.yaml"));
}

TEST(JobSpec, ValidateChecksSpecsBuiltInCode) {
  JobSpec spec;
  EXPECT_TRUE(ValidateJobSpec(spec).ok());
  spec.optimizer.eps = 0;
  EXPECT_TRUE(Contains(ValidateJobSpec(spec).message(), "optimizer.eps: must be > 0, got 0"));
}

}  // namespace
}  // namespace petabox::worker
