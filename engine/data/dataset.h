// Datasets: random access to labelled examples held on the host, for classification.
//
// A Dataset hands out raw features as floats (for image data, the pixel values 0..255)
// and an int label per example; scaling and normalisation belong to the DataLoader
// (engine/data/loader.h). Implementations are immutable after construction, so every
// method may be called from any thread at the same time (the loader's prefetch thread
// gathers batches while the training thread reads the dataset's size).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "engine/shape/view.h"
#include "engine/util/status.h"

namespace petabox::data {

// One example: the features in row-major order of Dataset::feature_shape(), and its class.
struct Example {
  std::vector<float> features;
  int32_t label = 0;
};

class Dataset {
 public:
  virtual ~Dataset() = default;

  // Number of examples.
  virtual int64_t size() const = 0;
  // Shape of one example's features, e.g. {1, 28, 28} for a grey image.
  virtual const Shape& feature_shape() const = 0;
  // Labels lie in [0, num_classes).
  virtual int num_classes() const = 0;

  // Writes the features of examples `indices` (each in [0, size())) one after another into
  // `features` (indices.size() * FeatureSize() floats) and their labels into `labels`
  // (indices.size() ints). InvalidArgument for an index out of range or a wrong span size.
  virtual Status Gather(std::span<const int64_t> indices, std::span<float> features,
                        std::span<int32_t> labels) const = 0;

  // Floats per example: the product of feature_shape().
  int64_t FeatureSize() const { return Product(feature_shape()); }
  // Example i; InvalidArgument when i is out of range.
  StatusOr<Example> Get(int64_t i) const;
};

// A dataset of 8-bit features (pixels) kept in memory as bytes, a quarter the size of
// floats; the IDX reader produces one. Thread-safe (immutable).
class ByteDataset : public Dataset {
 public:
  // `features` holds labels.size() examples of Product(feature_shape) bytes each; every
  // label lies in [0, num_classes). Callers validate (LoadIdxDataset does); asserts only.
  ByteDataset(Shape feature_shape, int num_classes, std::vector<uint8_t> features, std::vector<int32_t> labels);

  int64_t size() const override { return static_cast<int64_t>(labels_.size()); }
  const Shape& feature_shape() const override { return feature_shape_; }
  int num_classes() const override { return num_classes_; }
  Status Gather(std::span<const int64_t> indices, std::span<float> features,
                std::span<int32_t> labels) const override;

 private:
  const Shape feature_shape_;
  const int num_classes_;
  const std::vector<uint8_t> features_;
  const std::vector<int32_t> labels_;
};

// A dataset of float features kept in memory (synthetic data in tests, small inputs).
// Thread-safe (immutable).
class FloatDataset : public Dataset {
 public:
  // Same contract as ByteDataset, with float features.
  FloatDataset(Shape feature_shape, int num_classes, std::vector<float> features, std::vector<int32_t> labels);

  int64_t size() const override { return static_cast<int64_t>(labels_.size()); }
  const Shape& feature_shape() const override { return feature_shape_; }
  int num_classes() const override { return num_classes_; }
  Status Gather(std::span<const int64_t> indices, std::span<float> features,
                std::span<int32_t> labels) const override;

 private:
  const Shape feature_shape_;
  const int num_classes_;
  const std::vector<float> features_;
  const std::vector<int32_t> labels_;
};

// The first `count` examples of `base` (all of them when count >= base->size()), sharing
// base's storage. For quick runs on a slice of a dataset. Thread-safe.
std::shared_ptr<const Dataset> Subset(std::shared_ptr<const Dataset> base, int64_t count);

}  // namespace petabox::data
