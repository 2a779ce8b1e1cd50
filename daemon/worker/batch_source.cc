#include "daemon/worker/batch_source.h"

#include <utility>

namespace petabox::worker {
namespace {

class DataLoaderSource : public BatchSource {
 public:
  explicit DataLoaderSource(std::unique_ptr<data::DataLoader> loader) : loader_(std::move(loader)) {}
  int64_t batches_per_epoch() const override { return loader_->batches_per_epoch(); }
  int64_t examples() const override { return loader_->dataset().size(); }
  data::LoaderPosition position() const override { return loader_->position(); }
  Status Seek(data::LoaderPosition position) override { return loader_->Seek(position); }
  StatusOr<HostBatch> Next() override {
    PB_ASSIGN_OR_RETURN(data::Batch batch, loader_->Next());
    HostBatch out;
    out.position = batch.position;
    out.shape = std::move(batch.shape);
    out.dtype = DType::kFloat32;
    out.floats = std::move(batch.features);
    out.labels = std::move(batch.labels);
    return out;
  }

 private:
  std::unique_ptr<data::DataLoader> loader_;
};

class JpegLoaderSource : public BatchSource {
 public:
  explicit JpegLoaderSource(std::unique_ptr<data::JpegLoader> loader) : loader_(std::move(loader)) {}
  int64_t batches_per_epoch() const override { return loader_->batches_per_epoch(); }
  int64_t examples() const override { return loader_->folder().size(); }
  data::LoaderPosition position() const override { return loader_->position(); }
  Status Seek(data::LoaderPosition position) override { return loader_->Seek(position); }
  StatusOr<HostBatch> Next() override {
    PB_ASSIGN_OR_RETURN(data::ImageBatch batch, loader_->Next());
    HostBatch out;
    out.position = batch.position;
    out.shape = std::move(batch.shape);
    out.dtype = DType::kUInt8;
    out.bytes = std::move(batch.pixels);
    out.labels = std::move(batch.labels);
    return out;
  }

 private:
  std::unique_ptr<data::JpegLoader> loader_;
};

}  // namespace

int64_t HostBatch::example_bytes() const {
  if (size() == 0) return 0;
  const int64_t total = dtype == DType::kUInt8 ? static_cast<int64_t>(bytes.size())
                                               : static_cast<int64_t>(floats.size() * sizeof(float));
  return total / size();
}

std::unique_ptr<BatchSource> FromDataLoader(std::unique_ptr<data::DataLoader> loader) {
  return std::make_unique<DataLoaderSource>(std::move(loader));
}

std::unique_ptr<BatchSource> FromJpegLoader(std::unique_ptr<data::JpegLoader> loader) {
  return std::make_unique<JpegLoaderSource>(std::move(loader));
}

}  // namespace petabox::worker
