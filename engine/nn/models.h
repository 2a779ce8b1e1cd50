// A small model zoo, built from the nn layers with PyTorch's default initialisation.
//   "mlp": Flatten, Linear(784, 512), ReLU, Linear(512, 10)             input (N, 1, 28, 28)
//   "cnn": Conv2d(1, 32, 5, pad 2), ReLU, MaxPool2d(2), Conv2d(32, 64, 5, pad 2), ReLU,
//          MaxPool2d(2), Flatten, Linear(3136, 1024), ReLU, Linear(1024, 10)   input (N, 1, 28, 28)
//   "resnet8": Conv2d(1, 16, 3, pad 1), BatchNorm2d, ReLU, three ResNet basic blocks (16, 32
//          stride 2, 64 stride 2; each two 3x3 conv-BN with a skip), global average pool,
//          Linear(64, 10)                                                input (N, 1, 28, 28)
//   "resnet8-rgb": resnet8 with 3 input channels; any image size (the pool is global),
//          e.g. the CI-sized ImageNet trees (engine/data/fake_imagenet.h)   input (N, 3, 32, 32)
//   "resnet50": torchvision's ResNet-50 v1.5 (bottlenecks [3, 4, 6, 3], stride on the 3x3
//          conv), 1000 classes                                           input (N, 3, 224, 224)
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/nn/module.h"
#include "engine/random.h"

namespace petabox::nn {

// The names MakeModel knows, sorted.
std::vector<std::string> ModelNames();

// The number of classes (outputs) of the model; InvalidArgument for an unknown name.
StatusOr<int64_t> ModelClasses(const std::string& name);

// A freshly initialised model (parameters drawn from `rng`). InvalidArgument listing the
// known names for an unknown one.
StatusOr<std::unique_ptr<Module>> MakeModel(const std::string& name, Rng& rng);

// The shape of one example the model takes ({1, 28, 28}, {3, 224, 224}); InvalidArgument
// for an unknown name.
StatusOr<std::vector<int64_t>> ModelSampleShape(const std::string& name);

}  // namespace petabox::nn
