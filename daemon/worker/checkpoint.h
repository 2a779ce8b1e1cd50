// Training checkpoints: one safetensors file (engine/nn/state_dict.h, written atomically)
// holding the model's state as "model.<name>", the optimizer's as "optimizer.<name>", and
// the scalars needed to continue exactly (step, epoch, data-loader position, generator
// states, and what must match on resume) as string metadata.
//
// Files are named step-<8-digit step>.safetensors in the job's checkpoint directory.
// Thread-compatible.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "engine/data/loader.h"
#include "engine/nn/module.h"
#include "engine/nn/optim/optimizer.h"

namespace petabox::worker {

struct CheckpointMeta {
  // Optimizer steps applied.
  int64_t step = 0;
  // The data loader's position: the batch the next step trains on (its epoch is the
  // current epoch).
  data::LoaderPosition loader;
  // State of the runner's generator, and of every module that owns one (Dropout), by
  // module path ("3" for the fourth layer of a Sequential).
  uint64_t rng_state = 0;
  std::map<std::string, uint64_t> module_rngs;
  // What a resumed job must match, or its data order and shapes would differ.
  std::string model;
  uint64_t seed = 0;
  int64_t global_batch_size = 0;
};

// dir/step-00000042.safetensors.
std::string CheckpointPath(const std::string& dir, int64_t step);

// The checkpoint with the highest step in `dir`; NotFound when there is none.
StatusOr<std::string> LatestCheckpoint(const std::string& dir);

// The checkpoint to resume from: the highest step in `dir` whose file verifies
// (nn::VerifyTensorFile: its data checksum, its layout), and the newer ones skipped, each
// as "FILE: why". NotFound when `dir` holds no checkpoint; DataLoss naming every file and
// its error when none verifies.
struct GoodCheckpoint {
  std::string path;
  std::vector<std::string> skipped;
};
StatusOr<GoodCheckpoint> LatestGoodCheckpoint(const std::string& dir);

// Writes model + optimizer state + meta to `path` atomically (creating its directory),
// with a SHA-256 of the tensor data in the metadata (nn::kDataSha256Key). Errors name the path.
Status SaveCheckpoint(const std::string& path, nn::Module& model, nn::Optimizer& optimizer,
                      const CheckpointMeta& meta);

// Restores model and optimizer state from `path` and returns its meta. NotFound when the
// file is missing; DataLoss naming the path when its bytes do not match its checksum
// (checkpoints of earlier versions have none and load unchecked); InvalidArgument naming
// the path when it is not a checkpoint, its
// metadata is malformed, or its keys or shapes do not match the model or the optimizer
// (the model is checked, and left untouched on a mismatch, before the optimizer).
StatusOr<CheckpointMeta> LoadCheckpoint(const std::string& path, nn::Module& model, nn::Optimizer& optimizer);

// The generators of the modules under `model` that own one (Dropout), by module path.
std::map<std::string, Rng*> ModuleRngs(nn::Module& model);

}  // namespace petabox::worker
