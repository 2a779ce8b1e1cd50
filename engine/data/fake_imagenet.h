// A CI-sized ImageNet: writes an ImageNet-layout JPEG tree (engine/data/image_folder.h)
// from an MNIST-family dataset (Fashion-MNIST, which Debian ships): each 28x28 grey image
// upscaled (bilinear) to a random width and height in [min_size, max_size] and coloured
// with a random dark background and bright foreground colour per image, so colour says
// nothing about the class. train/ takes the first examples of each class of the training
// split, val/ of the test split. The same options write the same files.
// Used by the tests of the JPEG path and by `petabox-bench make-imagenet`.
// Thread-safe (no shared state).
#pragma once

#include <cstdint>
#include <string>

#include "engine/data/idx.h"
#include "engine/util/status.h"

namespace petabox::data {

struct FakeImageNetOptions {
  // The MNIST-family dataset the images come from.
  std::string source = kFashionMnistDir;
  // Images per class in train/ and in val/ (each >= 0; at most what the split has).
  int64_t train_per_class = 20;
  int64_t val_per_class = 5;
  // Range of the output width and height, drawn independently per image (1 <= min <= max).
  int min_size = 64;
  int max_size = 256;
  // When both are > 0, every image is width x height instead (e.g. 500x375, ImageNet's
  // median size, for the loader benchmark).
  int width = 0;
  int height = 0;
  // JPEG quality, 1..100.
  int quality = 90;
  // Fixes the sizes and colours.
  uint64_t seed = 0;
};

// Class directory names, label order: "00_tshirt" ... "09_ankle_boot".
const char* FakeImageNetClass(int label);

// Writes the tree under `root` (created; existing files of the same names are replaced).
// InvalidArgument for bad options; the source's errors when it cannot be read; Unavailable
// when a file cannot be written; Unimplemented without libjpeg-turbo.
Status WriteFakeImageNet(const std::string& root, const FakeImageNetOptions& options);

}  // namespace petabox::data
