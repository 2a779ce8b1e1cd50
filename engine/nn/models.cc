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

// ResNet's basic block: conv3x3-BN-ReLU-conv3x3-BN plus the input (through a 1x1
// conv-BN when the shape changes), then ReLU. Convolutions as torchvision's: no bias,
// He-normal (fan_out) weights.
class BasicBlock : public Module {
 public:
  BasicBlock(int64_t in, int64_t out, int64_t stride, Rng& rng) {
    Conv2dOptions o{.stride = stride, .padding = 1, .bias = false, .init = Init::kKaimingNormalFanOut};
    main_.Emplace<Conv2d>(in, out, 3, rng, o);
    main_.Emplace<BatchNorm2d>(out);
    main_.Emplace<ReLU>();
    main_.Emplace<Conv2d>(out, out, 3, rng, Conv2dOptions{.padding = 1, .bias = false, .init = Init::kKaimingNormalFanOut});
    main_.Emplace<BatchNorm2d>(out);
    RegisterModule("main", &main_);
    if (stride != 1 || in != out) {
      shortcut_.Emplace<Conv2d>(in, out, 1, rng,
                                Conv2dOptions{.stride = stride, .bias = false, .init = Init::kKaimingNormalFanOut});
      shortcut_.Emplace<BatchNorm2d>(out);
      RegisterModule("shortcut", &shortcut_);
    }
  }
  Tensor Forward(const Tensor& x) override {
    Tensor skip = shortcut_.size() ? shortcut_(x) : x;
    return main_(x).Add(skip).Relu();
  }

 private:
  Sequential main_, shortcut_;
};

// Mean over the spatial axes: (N, C, H, W) -> (N, C).
class GlobalAvgPool : public Module {
 public:
  Tensor Forward(const Tensor& x) override { return x.Mean({2, 3}); }
};

std::unique_ptr<Module> ResNet8Of(int64_t in_channels, Rng& rng) {
  auto m = std::make_unique<Sequential>();
  m->Emplace<Conv2d>(in_channels, 16, 3, rng, Conv2dOptions{.padding = 1, .bias = false, .init = Init::kKaimingNormalFanOut});
  m->Emplace<BatchNorm2d>(16);
  m->Emplace<ReLU>();
  m->Emplace<BasicBlock>(16, 16, 1, rng);
  m->Emplace<BasicBlock>(16, 32, 2, rng);
  m->Emplace<BasicBlock>(32, 64, 2, rng);
  m->Emplace<GlobalAvgPool>();
  m->Emplace<Linear>(64, 10, rng);
  return m;
}

std::unique_ptr<Module> ResNet8(Rng& rng) { return ResNet8Of(1, rng); }
std::unique_ptr<Module> ResNet8Rgb(Rng& rng) { return ResNet8Of(3, rng); }

// ResNet-50 v1.5's bottleneck block (torchvision): 1x1 reduce, 3x3 (carrying the stride),
// 1x1 expand to 4x, each conv-BN, plus the input (through a strided 1x1 conv-BN when the
// shape changes), then ReLU.
class Bottleneck : public Module {
 public:
  Bottleneck(int64_t in, int64_t width, int64_t stride, Rng& rng) {
    const Init init = Init::kKaimingNormalFanOut;
    main_.Emplace<Conv2d>(in, width, 1, rng, Conv2dOptions{.bias = false, .init = init});
    main_.Emplace<BatchNorm2d>(width);
    main_.Emplace<ReLU>();
    main_.Emplace<Conv2d>(width, width, 3, rng, Conv2dOptions{.stride = stride, .padding = 1, .bias = false, .init = init});
    main_.Emplace<BatchNorm2d>(width);
    main_.Emplace<ReLU>();
    main_.Emplace<Conv2d>(width, width * 4, 1, rng, Conv2dOptions{.bias = false, .init = init});
    main_.Emplace<BatchNorm2d>(width * 4);
    RegisterModule("main", &main_);
    if (stride != 1 || in != width * 4) {
      shortcut_.Emplace<Conv2d>(in, width * 4, 1, rng, Conv2dOptions{.stride = stride, .bias = false, .init = init});
      shortcut_.Emplace<BatchNorm2d>(width * 4);
      RegisterModule("shortcut", &shortcut_);
    }
  }
  Tensor Forward(const Tensor& x) override {
    Tensor skip = shortcut_.size() ? shortcut_(x) : x;
    return main_(x).Add(skip).Relu();
  }

 private:
  Sequential main_, shortcut_;
};

std::unique_ptr<Module> ResNet50(Rng& rng) {
  auto m = std::make_unique<Sequential>();
  m->Emplace<Conv2d>(3, 64, 7, rng,
                     Conv2dOptions{.stride = 2, .padding = 3, .bias = false, .init = Init::kKaimingNormalFanOut});
  m->Emplace<BatchNorm2d>(64);
  m->Emplace<ReLU>();
  m->Emplace<MaxPool2d>(3, 2, 1);
  int64_t in = 64;
  const int64_t blocks[] = {3, 4, 6, 3};
  for (int stage = 0; stage < 4; ++stage) {
    const int64_t width = int64_t{64} << stage;
    for (int64_t b = 0; b < blocks[stage]; ++b) {
      m->Emplace<Bottleneck>(in, width, b == 0 && stage > 0 ? 2 : 1, rng);
      in = width * 4;
    }
  }
  m->Emplace<GlobalAvgPool>();
  m->Emplace<Linear>(2048, 1000, rng);
  return m;
}

struct ModelEntry {
  const char* name;
  std::unique_ptr<Module> (*make)(Rng&);
  std::vector<int64_t> (*sample_shape)();
  int64_t classes;
};
std::vector<int64_t> Grey28() { return {1, 28, 28}; }
std::vector<int64_t> Rgb32() { return {3, 32, 32}; }
std::vector<int64_t> Rgb224() { return {3, 224, 224}; }
// Sorted by name.
const ModelEntry kModels[] = {{"cnn", Cnn, Grey28, 10},
                              {"mlp", Mlp, Grey28, 10},
                              {"resnet50", ResNet50, Rgb224, 1000},
                              {"resnet8", ResNet8, Grey28, 10},
                              {"resnet8-rgb", ResNet8Rgb, Rgb32, 10}};

Status UnknownModel(const std::string& name) {
  std::string known;
  for (const ModelEntry& e : kModels) known += std::string(known.empty() ? "" : ", ") + e.name;
  return InvalidArgument("unknown model '" + name + "' (known models: " + known + ")");
}

}  // namespace

std::vector<std::string> ModelNames() {
  std::vector<std::string> out;
  for (const ModelEntry& e : kModels) out.push_back(e.name);
  return out;
}

StatusOr<std::vector<int64_t>> ModelSampleShape(const std::string& name) {
  for (const ModelEntry& e : kModels)
    if (name == e.name) return e.sample_shape();
  return UnknownModel(name);
}

StatusOr<int64_t> ModelClasses(const std::string& name) {
  for (const ModelEntry& e : kModels)
    if (name == e.name) return e.classes;
  return UnknownModel(name);
}

StatusOr<std::unique_ptr<Module>> MakeModel(const std::string& name, Rng& rng) {
  for (const ModelEntry& e : kModels)
    if (name == e.name) return e.make(rng);
  return UnknownModel(name);
}

}  // namespace petabox::nn
