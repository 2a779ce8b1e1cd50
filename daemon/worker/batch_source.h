// BatchSource: the runner's view of its data: host batches in the form the model takes,
// from either loader: float features (engine/data/loader.h: Fashion-MNIST, .npy) or uint8
// NHWC images (engine/data/jpeg_loader.h: ImageNet-layout JPEG folders). Positions are the
// loaders' (epoch, batch), what checkpoints store.
// Threading: one thread uses a source (the loaders own their threads).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "engine/data/jpeg_loader.h"
#include "engine/data/loader.h"
#include "engine/dtype.h"

namespace petabox::worker {

// One batch on the host: `shape` {n, ...} of `dtype` (float32 features or uint8 images).
struct HostBatch {
  data::LoaderPosition position;
  Shape shape;
  DType dtype = DType::kFloat32;
  std::vector<float> floats;    // when dtype is float32
  std::vector<uint8_t> bytes;   // when dtype is uint8
  std::vector<int32_t> labels;
  int64_t size() const { return static_cast<int64_t>(labels.size()); }
  const void* data() const { return dtype == DType::kUInt8 ? static_cast<const void*>(bytes.data()) : floats.data(); }
  // Bytes of one example.
  int64_t example_bytes() const;
};

class BatchSource {
 public:
  virtual ~BatchSource() = default;
  virtual int64_t batches_per_epoch() const = 0;
  // Examples in one epoch (the dataset's size).
  virtual int64_t examples() const = 0;
  virtual data::LoaderPosition position() const = 0;
  virtual Status Seek(data::LoaderPosition position) = 0;
  virtual StatusOr<HostBatch> Next() = 0;
};

std::unique_ptr<BatchSource> FromDataLoader(std::unique_ptr<data::DataLoader> loader);
std::unique_ptr<BatchSource> FromJpegLoader(std::unique_ptr<data::JpegLoader> loader);

}  // namespace petabox::worker
