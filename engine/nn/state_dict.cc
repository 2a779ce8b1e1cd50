// Module state <-> named tensors: name matching and shape checks before any write.
#include "engine/nn/state_dict.h"

#include <unordered_map>

namespace petabox::nn {
namespace {

std::string JoinKeys(const std::vector<std::string>& keys) {
  std::string out;
  for (size_t i = 0; i < keys.size() && i < 20; ++i) out += (i ? ", " : "") + keys[i];
  if (keys.size() > 20) out += ", ... (" + std::to_string(keys.size()) + " in all)";
  return out;
}

}  // namespace

Status AssignNamed(const NamedTensorPtrs& targets, const NamedTensors& values, const std::string& source) {
  std::unordered_map<std::string, const Tensor*> by_name;
  for (const auto& [name, t] : values) by_name[name] = &t;
  std::vector<std::string> missing, unexpected, mismatched;
  std::unordered_map<std::string, bool> wanted;
  for (const auto& [name, target] : targets) {
    wanted[name] = true;
    auto it = by_name.find(name);
    if (it == by_name.end()) {
      missing.push_back(name);
    } else if (it->second->shape() != target->shape()) {
      mismatched.push_back("key '" + name + "': shape " + ShapeToString(it->second->shape()) + " in " + source +
                           " but " + ShapeToString(target->shape()) + " expected");
    }
  }
  for (const auto& [name, t] : values)
    if (!wanted.count(name)) unexpected.push_back(name);
  if (!missing.empty() || !unexpected.empty() || !mismatched.empty()) {
    std::string msg = source + ": state does not match";
    if (!missing.empty()) msg += "; missing keys: " + JoinKeys(missing);
    if (!unexpected.empty()) msg += "; unexpected keys: " + JoinKeys(unexpected);
    if (!mismatched.empty()) msg += "; " + JoinKeys(mismatched);
    return InvalidArgument(msg);
  }
  for (const auto& [name, target] : targets) {
    const Tensor& v = *by_name[name];
    Status s = AssignInPlace(target, v.device() == target->device() ? v : v.To(target->device()));
    if (!s.ok()) return Status(s.code(), source + ": key '" + name + "': " + s.message());
  }
  return Status::Ok();
}

NamedTensors StateDict(Module& module) {
  NamedTensors out;
  for (auto& [name, t] : module.NamedState()) out.emplace_back(name, *t);
  return out;
}

Status SaveStateDict(Module& module, const std::string& path, const Metadata& metadata) {
  return SaveTensors(path, StateDict(module), metadata);
}

Status LoadStateDict(Module& module, const std::string& path) {
  PB_ASSIGN_OR_RETURN(TensorFile file, LoadTensors(path));
  return AssignNamed(module.NamedState(), file.tensors, path);
}

}  // namespace petabox::nn
