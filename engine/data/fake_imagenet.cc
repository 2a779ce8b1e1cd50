#include "engine/data/fake_imagenet.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <vector>

#include "engine/data/dataset.h"
#include "engine/data/image_ops.h"
#include "engine/data/jpeg.h"
#include "engine/random.h"

namespace petabox::data {
namespace {

constexpr int kClasses = 10;
constexpr const char* kClassNames[kClasses] = {"00_tshirt", "01_trouser", "02_pullover", "03_dress", "04_coat",
                                               "05_sandal", "06_shirt",   "07_sneaker",  "08_bag",   "09_ankle_boot"};

Status CheckOptions(const FakeImageNetOptions& o) {
  if (o.train_per_class < 0 || o.val_per_class < 0) return InvalidArgument("fake ImageNet: per-class counts must be >= 0");
  if (o.min_size < 1 || o.max_size < o.min_size) {
    return InvalidArgument("fake ImageNet: sizes need 1 <= min_size <= max_size, got " + std::to_string(o.min_size) +
                           " and " + std::to_string(o.max_size));
  }
  if (o.quality < 1 || o.quality > 100) return InvalidArgument("fake ImageNet: quality must be in [1, 100]");
  return Status::Ok();
}

// The grey 28x28 example upscaled to a random size and coloured.
Image Colourise(const Example& example, const Shape& shape, const FakeImageNetOptions& o, Rng& rng) {
  Image grey{static_cast<int>(shape[2]), static_cast<int>(shape[1]), 1, {}};
  for (float v : example.features) grey.pixels.push_back(static_cast<uint8_t>(v));
  const int span = o.max_size - o.min_size + 1;
  int width = o.min_size + static_cast<int>(rng.NextU64() % span);
  int height = o.min_size + static_cast<int>(rng.NextU64() % span);
  if (o.width > 0 && o.height > 0) width = o.width, height = o.height;
  std::vector<uint8_t> big(static_cast<size_t>(width) * height);
  ResizeCrop(grey, {0, 0, static_cast<double>(grey.width), static_cast<double>(grey.height)}, width, height, false,
             big.data());
  float background[3], foreground[3];
  for (int c = 0; c < 3; ++c) {
    background[c] = rng.Uniform() * 70;
    foreground[c] = 150 + rng.Uniform() * 105;
  }
  Image rgb{width, height, 3, {}};
  rgb.pixels.reserve(big.size() * 3);
  for (uint8_t g : big) {
    for (int c = 0; c < 3; ++c) rgb.pixels.push_back(static_cast<uint8_t>(background[c] + (foreground[c] - background[c]) * g / 255.0f));
  }
  return rgb;
}

Status WriteBytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out.flush()) return Unavailable(path + ": cannot write");
  return Status::Ok();
}

// Writes the first `per_class` examples of every class of `split` to root/<name>/<class>/.
Status WriteSplit(const std::string& root, const char* name, Split split, int64_t per_class,
                  const FakeImageNetOptions& o, Rng& rng) {
  PB_ASSIGN_OR_RETURN(std::shared_ptr<const Dataset> source, LoadMnistFamily(o.source, split));
  std::error_code ec;
  for (int c = 0; c < kClasses; ++c) {
    std::filesystem::create_directories(root + "/" + name + "/" + kClassNames[c], ec);
    if (ec) return Unavailable(root + "/" + name + "/" + kClassNames[c] + ": cannot create (" + ec.message() + ")");
  }
  std::vector<int64_t> written(kClasses, 0);
  int64_t total = 0;
  for (int64_t i = 0; i < source->size() && total < per_class * kClasses; ++i) {
    PB_ASSIGN_OR_RETURN(Example example, source->Get(i));
    if (example.label < 0 || example.label >= kClasses || written[example.label] >= per_class) continue;
    const Image image = Colourise(example, source->feature_shape(), o, rng);
    PB_ASSIGN_OR_RETURN(std::vector<uint8_t> jpeg, EncodeJpeg(image, o.quality));
    char file[64];
    std::snprintf(file, sizeof(file), "%s_%05lld.JPEG", name, static_cast<long long>(i));
    PB_RETURN_IF_ERROR(WriteBytes(root + "/" + name + "/" + kClassNames[example.label] + "/" + file, jpeg));
    ++written[example.label];
    ++total;
  }
  for (int c = 0; c < kClasses; ++c) {
    if (written[c] < per_class) {
      return InvalidArgument(o.source + ": class " + std::to_string(c) + " has only " + std::to_string(written[c]) +
                             " examples in the " + name + " split, " + std::to_string(per_class) + " asked");
    }
  }
  return Status::Ok();
}

}  // namespace

const char* FakeImageNetClass(int label) { return label >= 0 && label < kClasses ? kClassNames[label] : ""; }

Status WriteFakeImageNet(const std::string& root, const FakeImageNetOptions& options) {
  PB_RETURN_IF_ERROR(CheckOptions(options));
  if (!HaveJpeg()) return Unimplemented("fake ImageNet: built without libjpeg-turbo (install libturbojpeg0-dev)");
  Rng rng(options.seed);
  PB_RETURN_IF_ERROR(WriteSplit(root, "train", Split::kTrain, options.train_per_class, options, rng));
  return WriteSplit(root, "val", Split::kTest, options.val_per_class, options, rng);
}

}  // namespace petabox::data
