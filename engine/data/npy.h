// NumPy .npy files (format versions 1-3): a magic "\x93NUMPY", a version, a header length,
// then a Python dict literal {'descr': '<f4', 'fortran_order': False, 'shape': (N, ...)}
// and the elements in C order. Read: little-endian or single-byte bool, uint8, int8, int32,
// int64, float32, float64; written: uint8, int32, float32. And datasets made of .npy files,
// the format uploaded datasets use (`petabox upload`):
//
//   train_x.npy  (N, ...) uint8 (pixels 0..255) or float32 features
//   train_y.npy  (N,)     integer class indices >= 0
//   test_x.npy, test_y.npy  the same for the test split
//   classes.txt  optional: one class name per line (the number of classes)
//
// Thread-safe (no shared state). Every error message names the file.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/data/dataset.h"
#include "engine/data/idx.h"
#include "engine/shape/view.h"
#include "engine/util/status.h"

namespace petabox::data {

enum class NpyType : uint8_t { kBool, kUInt8, kInt8, kInt32, kInt64, kFloat32, kFloat64 };

struct NpyArray {
  NpyType type = NpyType::kUInt8;
  Shape shape;
  std::vector<uint8_t> data;  // Product(shape) elements in C order, host (little-endian) order
  double At(int64_t i) const;
};

// InvalidArgument for a malformed file (bad magic or header, big-endian or Fortran order,
// an unsupported dtype, fewer bytes than the shape needs); NotFound when it cannot be read.
StatusOr<NpyArray> ReadNpy(const std::string& path);
// Writes a version 1.0 file (kUInt8, kInt32 or kFloat32); Internal when it cannot write.
Status WriteNpy(const std::string& path, const NpyArray& array);

// The train or test split of a .npy dataset in `dir` (layout above): uint8 features as a
// ByteDataset, float32 as a FloatDataset. InvalidArgument naming the file when the arrays
// disagree in length, a label is negative or >= the classes listed in classes.txt, or a
// dtype is not allowed.
StatusOr<std::shared_ptr<const Dataset>> LoadNpyDataset(const std::string& dir, Split split);

// True when `dir` holds train_x.npy (a .npy dataset rather than an IDX one).
bool IsNpyDataset(const std::string& dir);

}  // namespace petabox::data
