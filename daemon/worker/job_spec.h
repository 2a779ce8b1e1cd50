// JobSpec: what a training job runs, as written in a job's YAML file
// (configs/jobs/*.yaml has examples). A plain value; every field has a comment and a
// default, and a YAML file only names the fields it changes.
//
// ParseJobSpec/LoadJobSpec validate the whole spec: unknown keys, wrong types and bad
// values are InvalidArgument with the key path and the reason ("optimizer.lr: must be
// > 0, got -1 (line 6, column 7)"); YAML syntax errors give the line and column.
//
// A spec is parsed and validated once, where its YAML enters: in the CLI before it is sent
// (`petabox submit`), in petaboxd at CreateJob (the daemon cannot trust the client; it
// then stores the typed form, proto/petabox/v1/job_spec.proto, and hands that to the
// worker), or in `petabox-worker --job SPEC.yaml` by hand. Code past that edge (the
// runner) takes a validated JobSpec and checks nothing again.
// Thread-safe (no shared state).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "engine/util/status.h"

namespace petabox::worker {

struct DatasetSpec {
  // Which kind of dataset: "fashion-mnist" (the MNIST family's IDX files), "npy": the
  // arrays train_x/train_y/test_x/test_y.npy (engine/data/npy.h; `petabox upload` of .npy
  // files or of an image folder), or "imagenet": a JPEG tree train/<class>/*.JPEG and
  // val/<class>/*.JPEG (engine/data/image_folder.h) with MLPerf ResNet-50's preprocessing
  // (engine/data/image_transform.h) and a model for RGB images (resnet8-rgb, resnet50);
  // npy and imagenet need `source` or `dir`. npy: uint8 features are scaled to [0, 1];
  // float32 ones are used as they are. imagenet: uint8 images, normalised in the model.
  std::string name = "fashion-mnist";
  // Directory with its files; empty means `source`, or else the Debian package's location
  // (/usr/share/datasets/fashion-mnist).
  std::string dir;
  // A dataset uploaded to petaboxd ("datasets/NAME"); the daemon resolves it to a directory
  // (petabox-worker --dataset-dir). Empty: none.
  std::string source;
  // Train / evaluate on only the first N examples of the split; 0 means all. For quick
  // runs and tests.
  // (imagenet: that many files evenly spaced over the folder, so every class stays.)
  int64_t train_limit = 0;
  int64_t test_limit = 0;
  // imagenet only: side in pixels of the training crop and of the evaluation centre crop
  // (taken after resizing the short side to image_size * 256 / 224); in [8, 1024].
  int64_t image_size = 224;
  // imagenet only: threads decoding and augmenting JPEGs; 0: one per core.
  int64_t decode_threads = 0;
};

struct OptimizerSpec {
  // "sgd", "adam", "adamw" or "lars".
  std::string name = "adam";
  // Peak learning rate (the schedule scales it); > 0.
  double lr = 1e-3;
  // SGD / LARS momentum, in [0, 1).
  double momentum = 0.0;
  // Nesterov momentum (SGD only; needs momentum > 0).
  bool nesterov = false;
  // L2 penalty (sgd, adam, lars) or decoupled decay (adamw); >= 0.
  double weight_decay = 0.0;
  // Adam / AdamW moment decay rates, each in [0, 1).
  std::array<double, 2> betas = {0.9, 0.999};
  // Adam / AdamW denominator term; > 0.
  double eps = 1e-8;
  // LARS trust coefficient (eta); > 0.
  double trust_coefficient = 0.001;
};

struct ScheduleSpec {
  // "constant", "warmup_poly" (linear warmup, then polynomial decay to end_lr, as MLPerf's
  // LARS) or "warmup_cosine" (linear warmup, then cosine decay to end_lr).
  std::string name = "constant";
  // Warmup length in steps, or in epochs (converted with the steps per epoch). At most one
  // of the two may be non-zero; both >= 0. Ignored by "constant".
  int64_t warmup_steps = 0;
  double warmup_epochs = 0;
  // Exponent of the polynomial decay; > 0.
  double power = 2.0;
  // Learning rate at the last step of the decay; >= 0 and <= optimizer.lr.
  double end_lr = 0.0;
};

struct CheckpointSpec {
  // Save a checkpoint every N steps; 0 saves only when preempted (SIGTERM) and at the end.
  int64_t interval_steps = 0;
  // Directory for checkpoint files (created when missing); empty disables checkpoints
  // (a preempted job then stops without one). petaboxd sets it to the job's own directory;
  // petabox-worker refuses interval_steps > 0 without a directory.
  std::string dir;
};

struct EvalSpec {
  // Evaluate on the test split every N steps; 0: not by steps.
  int64_t interval_steps = 0;
  // Evaluate at the end of every epoch. The job always evaluates once when it finishes.
  bool per_epoch = true;
};

struct JobSpec {
  // A label for logs and events; free text.
  std::string name;
  // Model from the zoo (nn::MakeModel): "mlp" (784-512-10), "cnn" or "resnet8" for 1x28x28
  // images; "resnet8-rgb" or "resnet50" for RGB images (dataset imagenet, any size); or
  // "graph": the training graph in `graph`.
  std::string model = "mlp";
  // With model "graph" (and only then): a training graph file (proto/petabox/v1/graph.proto;
  // `petabox export` writes one), relative to the worker's working directory. Its input
  // "input" takes the dataset's examples, "label" their classes; it trains its output
  // "loss" (label_smoothing must be 0: the loss is the graph's) and evaluates "logits".
  // petaboxd keeps the graph uploaded with the job in the job's directory (--graph).
  std::string graph;
  DatasetSpec dataset;
  // Passes over the training set; >= 1.
  int64_t epochs = 1;
  // Examples per optimizer step, summed over all devices; >= 1.
  int64_t global_batch_size = 128;
  OptimizerSpec optimizer;
  ScheduleSpec schedule;
  // Training precision: "float32", or "bfloat16" / "float16": mixed precision with float32
  // master weights, float16 with dynamic loss scaling (engine/nn/mixed_precision.h). 16-bit
  // needs a zoo model and devices that can do it.
  std::string precision = "float32";
  // Seeds the model's initialisation and the data order.
  uint64_t seed = 0;
  CheckpointSpec checkpoint;
  EvalSpec eval;
  // Devices to train on, by registry name ("CPU:0", "CUDA:1"); each must exist. Empty
  // means the engine's default device. With several, training is data-parallel
  // (engine/nn/data_parallel.h): the weights are replicated on every device, each global
  // batch is split across them (global_batch_size must be at least the device count), and
  // the gradients are all-reduced; the result equals one-device training on the same global
  // batch, and checkpoints hold one copy of the weights, as a one-device job's do.
  // petaboxd ignores the names: it assigns free devices (petabox-worker --devices) and
  // counts them for device_count.
  std::vector<std::string> devices;
  // Data-parallel BatchNorm: false normalizes with the statistics of each device's part of
  // the batch (PyTorch DDP's default; each device keeps its own running statistics and
  // checkpoints hold the first device's); true with the statistics of the whole global
  // batch (an all-reduce per BatchNorm layer per step), as one-device training does.
  // No effect on one device, or on models without BatchNorm.
  bool sync_batchnorm = false;
  // Devices the job asks petaboxd for; 0 means the length of `devices`, or 1 when that is
  // empty. See DeviceCount().
  int64_t device_count = 0;
  // Times petaboxd restarts the job from its last checkpoint after the worker crashed;
  // >= 0.
  int64_t max_restarts = 0;
  // Cross-entropy label smoothing, in [0, 1).
  double label_smoothing = 0.0;
  // Stop after this many steps in total even if epochs remain; 0: no limit.
  int64_t max_steps = 0;
  // BEAM kernel search width for this job's kernels (engine/codegen/opt/optimize.h), in
  // [0, 64]: the worker searches each new kernel's layout, timing candidates on the job's
  // devices, and caches the result beside the compiled kernels; 0 leaves the engine's
  // default (the heuristics, or the worker's PETABOX_BEAM).
  int64_t beam = 0;
};

// The number of devices `spec` asks for (device_count, else devices.size(), else 1).
int64_t DeviceCount(const JobSpec& spec);

struct SpecParseOptions {
  // Whether every name in `devices` must be a device of this process's registry. The CLI
  // parses specs for a daemon on another machine: false (then only duplicates are refused;
  // the daemon checks the names against its own devices).
  bool check_devices = true;
  // Changes applied after reading and before the checks (petabox-worker's command-line
  // overrides), so the spec that runs is validated once. Empty: none.
  std::function<void(JobSpec&)> amend;
};

// Parses and validates a spec from YAML text. `source` names it in messages (a path or
// "<string>"). InvalidArgument for syntax errors, unknown keys, wrong types, bad values
// and devices that do not exist; FailedPrecondition for a precision a device cannot do.
StatusOr<JobSpec> ParseJobSpec(const std::string& yaml, const std::string& source = "<string>",
                               const SpecParseOptions& options = {});

// Reads `path` and parses it (ParseJobSpec). NotFound when it cannot be read.
StatusOr<JobSpec> LoadJobSpec(const std::string& path, const SpecParseOptions& options = {});

// Checks a spec built in code, as ParseJobSpec does after parsing.
Status ValidateJobSpec(const JobSpec& spec);

}  // namespace petabox::worker
