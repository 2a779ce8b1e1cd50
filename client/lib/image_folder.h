// Image folders (the ImageNet layout) as .npy datasets (engine/data/npy.h), so that
// `petabox upload` sends what the worker reads:
//
//   DIR/train/CLASS/IMAGE   DIR/val/CLASS/IMAGE   (or DIR/test/CLASS/IMAGE)
//
// Classes are the train/ subfolders, sorted by name (label = index); val/ (or test/) may
// hold a subset of them. Images (PNG, JPEG, BMP, GIF, PNM, TGA, decoded by stb_image) must
// all have one size and channel count; they become uint8 (N, C, H, W) arrays with int32
// labels, plus classes.txt. Everything is decoded in memory: for datasets that fit in RAM.
//
// Thread-safe (no shared state).
#pragma once

#include <string>

#include "engine/util/status.h"

namespace petabox::client {

// True when `dir` has the layout above (a train/ subfolder holding folders).
bool IsImageFolder(const std::string& dir);

// Writes train_x.npy, train_y.npy, test_x.npy, test_y.npy and classes.txt into `out_dir`
// (created). InvalidArgument naming the file for an image that cannot be decoded, has
// another size or channel count than the first, a file that is not an image, a val/test
// class that train/ lacks, or a split with no images.
Status ConvertImageFolder(const std::string& dir, const std::string& out_dir);

}  // namespace petabox::client
