#include "daemon/worker/checkpoint.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <functional>

#include "engine/nn/layers.h"
#include "engine/nn/state_dict.h"

namespace petabox::worker {
namespace {

namespace fs = std::filesystem;

constexpr char kFormat[] = "petabox-checkpoint-1";
constexpr char kModelPrefix[] = "model.";
constexpr char kOptimizerPrefix[] = "optimizer.";

void Prefixed(const std::string& prefix, const nn::NamedTensorPtrs& from, nn::NamedTensors* to) {
  for (const auto& [name, t] : from) to->emplace_back(prefix + name, *t);
}

nn::Metadata ToMetadata(const CheckpointMeta& m) {
  nn::Metadata md = {
      {"format", kFormat},
      {"step", std::to_string(m.step)},
      {"epoch", std::to_string(m.loader.epoch)},
      {"loader.epoch", std::to_string(m.loader.epoch)},
      {"loader.batch", std::to_string(m.loader.batch)},
      {"rng_state", std::to_string(m.rng_state)},
      {"model", m.model},
      {"seed", std::to_string(m.seed)},
      {"global_batch_size", std::to_string(m.global_batch_size)},
  };
  for (const auto& [path, state] : m.module_rngs) md["rng." + path] = std::to_string(state);
  return md;
}

// Parses metadata[key] as an integer of type T into *out.
template <typename T>
Status ReadInt(const nn::Metadata& md, const std::string& key, const std::string& path, T* out) {
  auto it = md.find(key);
  if (it == md.end()) return InvalidArgument(path + ": checkpoint metadata lacks '" + key + "'");
  const std::string& s = it->second;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  if (ec != std::errc() || end != s.data() + s.size()) {
    return InvalidArgument(path + ": checkpoint metadata '" + key + "' is not an integer: '" + s + "'");
  }
  return Status::Ok();
}

StatusOr<CheckpointMeta> FromMetadata(const nn::Metadata& md, const std::string& path) {
  auto format = md.find("format");
  if (format == md.end() || format->second != kFormat) {
    return InvalidArgument(path + ": not a petabox training checkpoint (metadata 'format' is not '" + kFormat + "')");
  }
  CheckpointMeta m;
  PB_RETURN_IF_ERROR(ReadInt(md, "step", path, &m.step));
  PB_RETURN_IF_ERROR(ReadInt(md, "loader.epoch", path, &m.loader.epoch));
  PB_RETURN_IF_ERROR(ReadInt(md, "loader.batch", path, &m.loader.batch));
  PB_RETURN_IF_ERROR(ReadInt(md, "rng_state", path, &m.rng_state));
  PB_RETURN_IF_ERROR(ReadInt(md, "seed", path, &m.seed));
  PB_RETURN_IF_ERROR(ReadInt(md, "global_batch_size", path, &m.global_batch_size));
  m.model = md.count("model") ? md.at("model") : "";
  for (const auto& [key, value] : md) {
    if (key.rfind("rng.", 0) != 0) continue;
    uint64_t state = 0;
    PB_RETURN_IF_ERROR(ReadInt(md, key, path, &state));
    m.module_rngs[key.substr(4)] = state;
  }
  return m;
}

// The tensors whose names start with `prefix`, with the prefix removed.
nn::NamedTensors Strip(const nn::NamedTensors& all, const std::string& prefix) {
  nn::NamedTensors out;
  for (const auto& [name, t] : all)
    if (name.rfind(prefix, 0) == 0) out.emplace_back(name.substr(prefix.size()), t);
  return out;
}

void CollectRngs(nn::Module& m, const std::string& path, std::map<std::string, Rng*>* out) {
  if (auto* dropout = dynamic_cast<nn::Dropout*>(&m)) (*out)[path.empty() ? "." : path] = &dropout->rng();
  for (const auto& [name, child] : m.children()) CollectRngs(*child, path.empty() ? name : path + "." + name, out);
}

// The checkpoint file names (step-*.safetensors) in `dir`, in step order (names are
// zero-padded); empty when there are none or `dir` cannot be read.
std::vector<std::string> CheckpointNames(const std::string& dir) {
  std::error_code ec;
  std::vector<std::string> out;
  for (const fs::directory_entry& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("step-", 0) == 0 && name.size() > 12 && name.ends_with(".safetensors")) out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

std::string CheckpointPath(const std::string& dir, int64_t step) {
  char name[48];
  std::snprintf(name, sizeof(name), "step-%08lld.safetensors", static_cast<long long>(step));
  return (fs::path(dir) / name).string();
}

StatusOr<std::string> LatestCheckpoint(const std::string& dir) {
  std::vector<std::string> all = CheckpointNames(dir);
  if (all.empty()) return NotFound("no checkpoint (step-*.safetensors) in " + dir);
  return (fs::path(dir) / all.back()).string();
}

StatusOr<GoodCheckpoint> LatestGoodCheckpoint(const std::string& dir) {
  std::vector<std::string> all = CheckpointNames(dir);
  if (all.empty()) return NotFound("no checkpoint (step-*.safetensors) in " + dir);
  GoodCheckpoint out;
  for (auto it = all.rbegin(); it != all.rend(); ++it) {
    const std::string path = (fs::path(dir) / *it).string();
    Status verified = nn::VerifyTensorFile(path);
    if (verified.ok()) {
      out.path = path;
      return out;
    }
    out.skipped.push_back(verified.ToString());  // the message names the file
  }
  std::string why;
  for (const std::string& s : out.skipped) why += "; " + s;
  return DataLoss("no checkpoint in " + dir + " verifies" + why);
}

std::map<std::string, Rng*> ModuleRngs(nn::Module& model) {
  std::map<std::string, Rng*> out;
  CollectRngs(model, "", &out);
  return out;
}

Status SaveCheckpoint(const std::string& path, nn::Module& model, nn::Optimizer& optimizer,
                      const CheckpointMeta& meta) {
  std::error_code ec;
  const fs::path parent = fs::path(path).parent_path();
  if (!parent.empty()) fs::create_directories(parent, ec);
  if (ec) return Unavailable(path + ": cannot create the checkpoint directory: " + ec.message());
  nn::NamedTensors tensors;
  Prefixed(kModelPrefix, model.NamedState(), &tensors);
  Prefixed(kOptimizerPrefix, optimizer.NamedState(), &tensors);
  return nn::SaveTensorsWithChecksum(path, tensors, ToMetadata(meta));
}

StatusOr<CheckpointMeta> LoadCheckpoint(const std::string& path, nn::Module& model, nn::Optimizer& optimizer) {
  // LoadTensors verifies the data checksum when the file has one; checkpoints written
  // before checksums existed have none and still load.
  PB_ASSIGN_OR_RETURN(nn::TensorFile file, nn::LoadTensors(path));
  PB_ASSIGN_OR_RETURN(CheckpointMeta meta, FromMetadata(file.metadata, path));
  PB_RETURN_IF_ERROR(nn::AssignNamed(model.NamedState(), Strip(file.tensors, kModelPrefix), path + " (model)"));
  PB_RETURN_IF_ERROR(optimizer.LoadState(Strip(file.tensors, kOptimizerPrefix), path + " (optimizer)"));
  return meta;
}

}  // namespace petabox::worker
