#include "engine/nn/models.h"

#include <functional>

#include "engine/nn/layers.h"

namespace petabox::nn {
namespace {

std::unique_ptr<Module> Mlp(Rng& rng) {
  auto m = std::make_unique<Sequential>();
  m->Emplace<Flatten>();
  m->Emplace<Linear>(784, 512, rng);
  m->Emplace<ReLU>();
  m->Emplace<Linear>(512, 10, rng);
  return m;
}

std::unique_ptr<Module> Cnn(Rng& rng) {
  auto m = std::make_unique<Sequential>();
  m->Emplace<Conv2d>(1, 32, 5, rng, Conv2dOptions{.padding = 2});
  m->Emplace<ReLU>();
  m->Emplace<MaxPool2d>(2);
  m->Emplace<Conv2d>(32, 64, 5, rng, Conv2dOptions{.padding = 2});
  m->Emplace<ReLU>();
  m->Emplace<MaxPool2d>(2);
  m->Emplace<Flatten>();
  m->Emplace<Linear>(3136, 1024, rng);
  m->Emplace<ReLU>();
  m->Emplace<Linear>(1024, 10, rng);
  return m;
}

struct ModelEntry {
  const char* name;
  std::unique_ptr<Module> (*make)(Rng&);
};
// Sorted by name.
constexpr ModelEntry kModels[] = {{"cnn", Cnn}, {"mlp", Mlp}};

}  // namespace

std::vector<std::string> ModelNames() {
  std::vector<std::string> out;
  for (const ModelEntry& e : kModels) out.push_back(e.name);
  return out;
}

StatusOr<std::unique_ptr<Module>> MakeModel(const std::string& name, Rng& rng) {
  for (const ModelEntry& e : kModels)
    if (name == e.name) return e.make(rng);
  std::string known;
  for (const ModelEntry& e : kModels) known += std::string(known.empty() ? "" : ", ") + e.name;
  return InvalidArgument("unknown model '" + name + "' (known models: " + known + ")");
}

}  // namespace petabox::nn
