#include "engine/data/dataset.h"

#include <cassert>
#include <utility>

namespace petabox::data {
namespace {

// Checks the spans' sizes and the indices' range before a Gather touches memory.
Status CheckGather(const Dataset& dataset, std::span<const int64_t> indices, std::span<float> features,
                   std::span<int32_t> labels) {
  const int64_t n = static_cast<int64_t>(indices.size());
  if (static_cast<int64_t>(features.size()) != n * dataset.FeatureSize() ||
      static_cast<int64_t>(labels.size()) != n) {
    return InvalidArgument("Dataset::Gather: " + std::to_string(n) + " indices need " +
                           std::to_string(n * dataset.FeatureSize()) + " feature floats and " + std::to_string(n) +
                           " labels, got " + std::to_string(features.size()) + " and " +
                           std::to_string(labels.size()));
  }
  for (int64_t index : indices) {
    if (index < 0 || index >= dataset.size()) {
      return InvalidArgument("Dataset::Gather: index " + std::to_string(index) + " out of range [0, " +
                             std::to_string(dataset.size()) + ")");
    }
  }
  return Status::Ok();
}

// Copies example rows of `row` elements from `src` to floats.
template <typename T>
void CopyRows(const std::vector<T>& src, int64_t row, std::span<const int64_t> indices, std::span<float> dst) {
  for (size_t i = 0; i < indices.size(); ++i) {
    const T* from = src.data() + indices[i] * row;
    float* to = dst.data() + static_cast<int64_t>(i) * row;
    for (int64_t j = 0; j < row; ++j) to[j] = static_cast<float>(from[j]);
  }
}

void CopyLabels(const std::vector<int32_t>& src, std::span<const int64_t> indices, std::span<int32_t> dst) {
  for (size_t i = 0; i < indices.size(); ++i) dst[i] = src[indices[i]];
}

// The first `count_` examples of another dataset.
class SubsetDataset : public Dataset {
 public:
  SubsetDataset(std::shared_ptr<const Dataset> base, int64_t count) : base_(std::move(base)), count_(count) {}
  int64_t size() const override { return count_; }
  const Shape& feature_shape() const override { return base_->feature_shape(); }
  int num_classes() const override { return base_->num_classes(); }
  Status Gather(std::span<const int64_t> indices, std::span<float> features,
                std::span<int32_t> labels) const override {
    PB_RETURN_IF_ERROR(CheckGather(*this, indices, features, labels));
    return base_->Gather(indices, features, labels);
  }

 private:
  const std::shared_ptr<const Dataset> base_;
  const int64_t count_;
};

}  // namespace

StatusOr<Example> Dataset::Get(int64_t i) const {
  Example example;
  example.features.resize(FeatureSize());
  const int64_t index[1] = {i};
  PB_RETURN_IF_ERROR(Gather(index, example.features, std::span<int32_t>(&example.label, 1)));
  return example;
}

ByteDataset::ByteDataset(Shape feature_shape, int num_classes, std::vector<uint8_t> features,
                         std::vector<int32_t> labels)
    : feature_shape_(std::move(feature_shape)),
      num_classes_(num_classes),
      features_(std::move(features)),
      labels_(std::move(labels)) {
  assert(static_cast<int64_t>(features_.size()) == size() * Product(feature_shape_));
}

Status ByteDataset::Gather(std::span<const int64_t> indices, std::span<float> features,
                           std::span<int32_t> labels) const {
  PB_RETURN_IF_ERROR(CheckGather(*this, indices, features, labels));
  CopyRows(features_, FeatureSize(), indices, features);
  CopyLabels(labels_, indices, labels);
  return Status::Ok();
}

FloatDataset::FloatDataset(Shape feature_shape, int num_classes, std::vector<float> features,
                           std::vector<int32_t> labels)
    : feature_shape_(std::move(feature_shape)),
      num_classes_(num_classes),
      features_(std::move(features)),
      labels_(std::move(labels)) {
  assert(static_cast<int64_t>(features_.size()) == size() * Product(feature_shape_));
}

Status FloatDataset::Gather(std::span<const int64_t> indices, std::span<float> features,
                            std::span<int32_t> labels) const {
  PB_RETURN_IF_ERROR(CheckGather(*this, indices, features, labels));
  CopyRows(features_, FeatureSize(), indices, features);
  CopyLabels(labels_, indices, labels);
  return Status::Ok();
}

std::shared_ptr<const Dataset> Subset(std::shared_ptr<const Dataset> base, int64_t count) {
  if (count >= base->size()) return base;
  return std::make_shared<SubsetDataset>(std::move(base), count < 0 ? 0 : count);
}

}  // namespace petabox::data
