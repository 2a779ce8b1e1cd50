// DataLoader: turns a Dataset into an endless, resumable stream of normalised host batches
// for training (the caller makes Tensors of them with Tensor::FromData).
//
// The order of epoch e is a permutation determined only by (seed, e), so a loader that
// Seeks to (epoch, batch) yields exactly the batches an uninterrupted loader would have
// yielded from there; that position is what a checkpoint stores. Batches may be prepared
// ahead on one background thread (a bounded queue); the stream is the same either way.
//
// Threading: one thread calls the DataLoader's methods; the loader owns its prefetch thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <thread>
#include <vector>

#include "engine/data/dataset.h"
#include "engine/util/thread_annotations.h"
#include "engine/util/status.h"

namespace petabox::data {

struct LoaderOptions {
  // Examples per batch (>= 1).
  int64_t batch_size = 32;
  // Visit the examples in a fresh random order each epoch; false: in index order.
  bool shuffle = true;
  // Seed of the shuffling; with the epoch number it fixes the epoch's order.
  uint64_t seed = 0;
  // Drop each epoch's last batch when it has fewer than batch_size examples (so every
  // batch has the same shape). Ignored when the dataset is smaller than one batch.
  bool drop_last = false;
  // Features become (x * scale - mean[c]) / std[c], c the channel (the first feature dim).
  // The default maps 8-bit pixels to [0, 1].
  float scale = 1.0f / 255.0f;
  // Per-channel mean and standard deviation after scaling: empty (0 and 1), one value
  // for all channels, or one per channel.
  std::vector<float> mean;
  std::vector<float> std;
  // Batches prepared ahead on a background thread; 0 gathers on the caller's thread.
  int prefetch = 2;
};

// Where a loader stands: the batch Next() returns next.
struct LoaderPosition {
  int64_t epoch = 0;
  int64_t batch = 0;  // in [0, batches_per_epoch)
  bool operator==(const LoaderPosition&) const = default;
};

// One batch on the host.
struct Batch {
  LoaderPosition position;       // which batch this is
  Shape shape;                   // {examples, feature_shape...}
  std::vector<float> features;   // row-major, normalised
  std::vector<int32_t> labels;   // one per example
  int64_t size() const { return static_cast<int64_t>(labels.size()); }
};

// The examples of one epoch, in the order the loader visits them: a permutation of
// [0, dataset_size) fixed by (seed, epoch), or the identity when !shuffle.
std::vector<int64_t> EpochOrder(int64_t dataset_size, uint64_t seed, int64_t epoch, bool shuffle);

class DataLoader {
 public:
  // A loader positioned at `start`. InvalidArgument for an empty dataset, batch_size < 1,
  // mean/std sizes that match neither 1 nor the channel count, a std of 0, or a bad start.
  static StatusOr<std::unique_ptr<DataLoader>> Create(std::shared_ptr<const Dataset> dataset,
                                                      LoaderOptions options, LoaderPosition start = {});
  ~DataLoader();  // stops the prefetch thread
  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;

  // Batches in one epoch.
  int64_t batches_per_epoch() const { return batches_per_epoch_; }
  const Dataset& dataset() const { return *dataset_; }
  // The position of the batch the next Next() returns.
  LoaderPosition position() const { return position_; }

  // Continues the stream at `position`. InvalidArgument when epoch < 0 or batch is not
  // in [0, batches_per_epoch()]; batch == batches_per_epoch() means the next epoch's start.
  Status Seek(LoaderPosition position);

  // The batch at position(), then advances; after an epoch's last batch comes batch 0 of
  // the next epoch. Fails only when the dataset's Gather fails.
  StatusOr<Batch> Next() EXCLUDES(mu_);

 private:
  class Maker;  // builds the batch at a position; caches the current epoch's order

  DataLoader(std::shared_ptr<const Dataset> dataset, LoaderOptions options, int64_t batches_per_epoch);
  // Waits for the prefetch thread's next batch and takes it from the queue.
  StatusOr<Batch> TakeQueued() EXCLUDES(mu_);
  void StartPrefetch() EXCLUDES(mu_);

  void StopPrefetch() EXCLUDES(mu_);
  void PrefetchLoop(LoaderPosition from) EXCLUDES(mu_);
  LoaderPosition Following(LoaderPosition p) const;

  const std::shared_ptr<const Dataset> dataset_;
  const LoaderOptions options_;
  const int64_t batches_per_epoch_;
  std::unique_ptr<Maker> maker_;  // used by the prefetch thread while it runs, else by the caller
  LoaderPosition position_;

  Mutex mu_;
  std::condition_variable changed_;
  std::deque<StatusOr<Batch>> queue_ GUARDED_BY(mu_);
  bool stop_ GUARDED_BY(mu_) = false;

  std::thread prefetcher_;
};

}  // namespace petabox::data
