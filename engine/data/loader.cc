#include "engine/data/loader.h"

#include <algorithm>
#include <utility>

#include "engine/random.h"

namespace petabox::data {
namespace {

// Decorrelates (seed, epoch) pairs into one Rng seed (splitmix-style mixing).
uint64_t EpochSeed(uint64_t seed, int64_t epoch) {
  Rng mix(seed ^ (0x9e3779b97f4a7c15ULL * (static_cast<uint64_t>(epoch) + 1)));
  return mix.NextU64();
}

int64_t Channels(const Dataset& dataset) {
  const Shape& shape = dataset.feature_shape();
  return shape.empty() ? 1 : shape[0];
}

Status CheckPerChannel(const std::vector<float>& values, int64_t channels, const char* name) {
  if (values.empty() || values.size() == 1 || static_cast<int64_t>(values.size()) == channels) return Status::Ok();
  return InvalidArgument(std::string("LoaderOptions.") + name + ": needs 1 or " + std::to_string(channels) +
                         " values (one per channel), got " + std::to_string(values.size()));
}

Status CheckOptions(const Dataset& dataset, const LoaderOptions& options) {
  if (dataset.size() < 1) return InvalidArgument("DataLoader: the dataset is empty");
  if (options.batch_size < 1) {
    return InvalidArgument("LoaderOptions.batch_size: must be >= 1, got " + std::to_string(options.batch_size));
  }
  PB_RETURN_IF_ERROR(CheckPerChannel(options.mean, Channels(dataset), "mean"));
  PB_RETURN_IF_ERROR(CheckPerChannel(options.std, Channels(dataset), "std"));
  for (float s : options.std) {
    if (!(s != 0)) return InvalidArgument("LoaderOptions.std: must not be 0");
  }
  return Status::Ok();
}

// Value of `values` for channel c, or `fallback` when empty.
float PerChannel(const std::vector<float>& values, int64_t c, float fallback) {
  if (values.empty()) return fallback;
  return values.size() == 1 ? values[0] : values[c];
}

}  // namespace

std::vector<int64_t> EpochOrder(int64_t dataset_size, uint64_t seed, int64_t epoch, bool shuffle) {
  std::vector<int64_t> order(dataset_size);
  for (int64_t i = 0; i < dataset_size; ++i) order[i] = i;
  if (!shuffle) return order;
  Rng rng(EpochSeed(seed, epoch));
  for (int64_t i = dataset_size - 1; i > 0; --i) {  // Fisher-Yates
    int64_t j = static_cast<int64_t>(rng.NextU64() % static_cast<uint64_t>(i + 1));
    std::swap(order[i], order[j]);
  }
  return order;
}

// Builds batches; keeps the order of the epoch it last served. Used by one thread at a time.
class DataLoader::Maker {
 public:
  Maker(const Dataset& dataset, const LoaderOptions& options) : dataset_(dataset), options_(options) {}

  StatusOr<Batch> Make(LoaderPosition position) {
    if (position.epoch != order_epoch_) {
      order_ = EpochOrder(dataset_.size(), options_.seed, position.epoch, options_.shuffle);
      order_epoch_ = position.epoch;
    }
    const int64_t begin = position.batch * options_.batch_size;
    const int64_t end = std::min(begin + options_.batch_size, dataset_.size());
    Batch batch;
    batch.position = position;
    batch.shape = dataset_.feature_shape();
    batch.shape.insert(batch.shape.begin(), end - begin);
    batch.features.resize((end - begin) * dataset_.FeatureSize());
    batch.labels.resize(end - begin);
    std::span<const int64_t> indices(order_.data() + begin, end - begin);
    PB_RETURN_IF_ERROR(dataset_.Gather(indices, batch.features, batch.labels));
    Normalize(&batch.features);
    return batch;
  }

 private:
  void Normalize(std::vector<float>* features) const {
    const int64_t channels = Channels(dataset_);
    const int64_t per_channel = dataset_.FeatureSize() / channels;
    const int64_t examples = static_cast<int64_t>(features->size()) / dataset_.FeatureSize();
    float* x = features->data();
    for (int64_t e = 0; e < examples; ++e) {
      for (int64_t c = 0; c < channels; ++c) {
        const float mean = PerChannel(options_.mean, c, 0.0f);
        const float inv_std = 1.0f / PerChannel(options_.std, c, 1.0f);
        for (int64_t i = 0; i < per_channel; ++i, ++x) *x = (*x * options_.scale - mean) * inv_std;
      }
    }
  }

  const Dataset& dataset_;
  const LoaderOptions& options_;
  int64_t order_epoch_ = -1;
  std::vector<int64_t> order_;
};

StatusOr<std::unique_ptr<DataLoader>> DataLoader::Create(std::shared_ptr<const Dataset> dataset,
                                                         LoaderOptions options, LoaderPosition start) {
  if (!dataset) return InvalidArgument("DataLoader: no dataset");
  PB_RETURN_IF_ERROR(CheckOptions(*dataset, options));
  const int64_t n = dataset->size();
  const int64_t batches = options.drop_last && n >= options.batch_size
                              ? n / options.batch_size
                              : (n + options.batch_size - 1) / options.batch_size;
  std::unique_ptr<DataLoader> loader(new DataLoader(std::move(dataset), std::move(options), batches));
  PB_RETURN_IF_ERROR(loader->Seek(start));
  return loader;
}

DataLoader::DataLoader(std::shared_ptr<const Dataset> dataset, LoaderOptions options, int64_t batches_per_epoch)
    : dataset_(std::move(dataset)), options_(std::move(options)), batches_per_epoch_(batches_per_epoch) {
  maker_ = std::make_unique<Maker>(*dataset_, options_);
}

DataLoader::~DataLoader() { StopPrefetch(); }

LoaderPosition DataLoader::Following(LoaderPosition p) const {
  if (++p.batch >= batches_per_epoch_) return {p.epoch + 1, 0};
  return p;
}

Status DataLoader::Seek(LoaderPosition position) {
  if (position.epoch < 0 || position.batch < 0 || position.batch > batches_per_epoch_) {
    return InvalidArgument("DataLoader::Seek: position (epoch " + std::to_string(position.epoch) + ", batch " +
                           std::to_string(position.batch) + ") is outside an epoch of " +
                           std::to_string(batches_per_epoch_) + " batches");
  }
  if (position.batch == batches_per_epoch_) position = {position.epoch + 1, 0};
  StopPrefetch();
  position_ = position;
  StartPrefetch();
  return Status::Ok();
}

StatusOr<Batch> DataLoader::Next() {
  if (options_.prefetch <= 0) {
    StatusOr<Batch> batch = maker_->Make(position_);
    if (batch.ok()) position_ = Following(position_);
    return batch;
  }
  StatusOr<Batch> batch = TakeQueued();
  if (batch.ok()) {
    position_ = Following(position_);
  } else {
    StopPrefetch();  // the thread ended at the error; the next call retries this position
    StartPrefetch();
  }
  return batch;
}

StatusOr<Batch> DataLoader::TakeQueued() {
  MutexLock lock(mu_);
  while (queue_.empty()) lock.Wait(changed_);
  StatusOr<Batch> batch = std::move(queue_.front());
  queue_.pop_front();
  changed_.notify_all();
  return batch;
}

void DataLoader::StartPrefetch() {
  if (options_.prefetch <= 0) return;
  {
    MutexLock lock(mu_);  // no prefetch thread runs yet: the lock is for the analysis
    stop_ = false;
  }
  prefetcher_ = std::thread([this, from = position_] { PrefetchLoop(from); });
}

void DataLoader::StopPrefetch() {
  if (!prefetcher_.joinable()) return;
  {
    MutexLock lock(mu_);
    stop_ = true;
  }
  changed_.notify_all();
  prefetcher_.join();
  MutexLock lock(mu_);
  queue_.clear();
}

// Fills the queue up to options_.prefetch batches ahead; stops after an error (the
// consumer sees it) or when asked to.
void DataLoader::PrefetchLoop(LoaderPosition from) {
  for (LoaderPosition p = from;; p = Following(p)) {
    {
      MutexLock lock(mu_);
      while (!stop_ && static_cast<int>(queue_.size()) >= options_.prefetch) lock.Wait(changed_);
      if (stop_) return;
    }
    StatusOr<Batch> batch = maker_->Make(p);
    const bool failed = !batch.ok();
    {
      MutexLock lock(mu_);
      queue_.push_back
(std::move(batch));
    }
    changed_.notify_all();
    if (failed) return;
  }
}

}  // namespace petabox::data
