// The IDX file format of the MNIST family (MNIST, Fashion-MNIST, KMNIST, EMNIST):
// a 4-byte magic (0x00 0x00, a type code, the number of dims), each dim as a big-endian
// uint32, then the elements in row-major order, big-endian. Files may be gzip-compressed
// (detected from the content, not the name); reading those needs zlib at build time.
//
// All functions are thread-safe (no shared state). Every error message names the file.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/data/dataset.h"
#include "engine/shape/view.h"
#include "engine/util/status.h"

namespace petabox::data {

// The element type codes of the IDX format.
enum class IdxType : uint8_t {
  kUInt8 = 0x08,
  kInt8 = 0x09,
  kInt16 = 0x0B,
  kInt32 = 0x0C,
  kFloat32 = 0x0D,
  kFloat64 = 0x0E,
};

// Bytes per element of `type`.
int IdxItemSize(IdxType type);

// An IDX file's content: the element type, the dims, and the elements in host byte order.
struct IdxArray {
  IdxType type = IdxType::kUInt8;
  Shape dims;
  std::vector<uint8_t> data;  // Product(dims) * IdxItemSize(type) bytes
  // Element i converted to double.
  double At(int64_t i) const;
};

// True when this build reads and writes gzip-compressed files (it was built with zlib).
bool GzipSupported();

// Reads and validates an IDX file (plain or gzip). NotFound when it cannot be opened;
// InvalidArgument naming the file for a bad magic, a truncated file, a compressed stream
// that is corrupt, or bytes after the last element; Unimplemented for a gzip file when
// the build has no zlib.
StatusOr<IdxArray> ReadIdxFile(const std::string& path);

// Writes `array` as an IDX file, gzip-compressed when `gzip` (Unimplemented without zlib).
// For tests and dataset conversion tools. InvalidArgument when the data size does not
// match the dims; Unavailable when the file cannot be written.
Status WriteIdxFile(const std::string& path, const IdxArray& array, bool gzip = false);

// Pairs an images file (N, ...) with a labels file (N) into a dataset. Images of shape
// (N, H, W) get the feature shape {1, H, W} (one channel); others keep dims[1:]. uint8
// images are kept as bytes, other types as floats. `num_classes` 0 means the largest
// label + 1. InvalidArgument naming the file when the counts differ, a label is negative
// or >= num_classes, or the labels are not 1-D integers.
StatusOr<std::shared_ptr<const Dataset>> LoadIdxDataset(const std::string& images_path,
                                                        const std::string& labels_path, int num_classes = 0);

// Where Debian's dataset-fashion-mnist package puts Fashion-MNIST.
inline constexpr char kFashionMnistDir[] = "/usr/share/datasets/fashion-mnist";

enum class Split { kTrain, kTest };

// The train or test split of an MNIST-family dataset (10 classes) in `dir`, from the
// files {train,t10k}-{images-idx3,labels-idx1}-ubyte, each with or without ".gz" (the
// compressed name is tried first). NotFound naming both candidate paths when neither exists.
StatusOr<std::shared_ptr<const Dataset>> LoadMnistFamily(const std::string& dir, Split split);

}  // namespace petabox::data
