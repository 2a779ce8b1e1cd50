// JpegLoader: an endless, resumable stream of uint8 NHWC image batches from an ImageNet-
// layout folder (engine/data/image_folder.h), decoded and augmented on a pool of threads
// (engine/data/image_transform.h) ahead of the consumer. Normalisation is the model's, on
// the device.
//
// Determinism: epoch e visits the files in EpochOrder(size, seed, e, shuffle) (loader.h),
// and the augmentation of file i in epoch e draws from an Rng seeded by (seed, e, i) only,
// so the batches are the same whatever the thread count, and a loader that Seeks to
// (epoch, batch), the position a checkpoint stores, continues exactly as an uninterrupted
// one would.
//
// Damaged files: a file that cannot be read or decoded is skipped with a warning on
// `log` (once per file) and counted (skipped_files()); its slot takes the next file of
// the epoch's order that decodes, so batches keep their size. Only a folder where no file
// decodes is an error.
//
// Threading: one thread calls the JpegLoader's methods; the loader owns its decoding threads.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <memory>
#include <set>
#include <thread>
#include <vector>

#include "engine/data/image_folder.h"
#include "engine/data/image_transform.h"
#include "engine/data/loader.h"
#include "engine/util/thread_annotations.h"

namespace petabox::data {

struct JpegLoaderOptions {
  // Images per batch (>= 1).
  int64_t batch_size = 32;
  // Output side, the crop (training) and the resize (evaluation); transform.train picks
  // the preprocessing. See image_transform.h.
  ImageTransform transform;
  // A fresh random order each epoch; false: in folder order (evaluation).
  bool shuffle = true;
  // Fixes the order of every epoch and every image's augmentation.
  uint64_t seed = 0;
  // Drop each epoch's last, short batch (ignored when the folder is smaller than a batch).
  bool drop_last = false;
  // Decoding threads; 0 decodes on the caller's thread inside Next().
  int threads = 4;
  // Batches decoded ahead of the consumer (>= 1; used with threads > 0).
  int prefetch = 2;
  // Warnings about skipped files go here; null: none printed (they are still counted).
  std::FILE* log = stderr;
};

// One batch on the host: images {n, size, size, 3} uint8 RGB, row-major.
struct ImageBatch {
  LoaderPosition position;
  Shape shape;
  std::vector<uint8_t> pixels;
  std::vector<int32_t> labels;
  int64_t size() const { return static_cast<int64_t>(labels.size()); }
};

class JpegLoader {
 public:
  // A loader positioned at `start`. InvalidArgument for an empty folder, batch_size < 1,
  // size < 1, resize_size < size (evaluation), prefetch < 1 with threads, threads < 0, or a
  // bad start; Unimplemented when the build has no libjpeg-turbo.
  static StatusOr<std::unique_ptr<JpegLoader>> Create(std::shared_ptr<const ImageFolder> folder,
                                                      JpegLoaderOptions options, LoaderPosition start = {});
  ~JpegLoader();  // stops the decoding threads
  JpegLoader(const JpegLoader&) = delete;
  JpegLoader& operator=(const JpegLoader&) = delete;

  int64_t batches_per_epoch() const { return batches_per_epoch_; }
  const ImageFolder& folder() const { return *folder_; }
  // The position of the batch the next Next() returns.
  LoaderPosition position() const { return position_; }
  // Continues at `position`; as DataLoader::Seek.
  Status Seek(LoaderPosition position);
  // The batch at position(), then advances. Fails when no file of the folder decodes (the
  // next call retries).
  StatusOr<ImageBatch> Next();
  // Distinct files found unreadable or undecodable so far.
  int64_t skipped_files() const EXCLUDES(bad_mu_);

 private:
  struct Pending;  // a batch being assembled by the threads

  JpegLoader(std::shared_ptr<const ImageFolder> folder, JpegLoaderOptions options, int64_t batches_per_epoch);
  LoaderPosition Following(LoaderPosition p) const;
  std::unique_ptr<Pending> NewPending(LoaderPosition p) EXCLUDES(order_mu_);
  std::shared_ptr<const std::vector<int64_t>> Order(int64_t epoch) EXCLUDES(order_mu_);
  // Decodes the image of `slot` into the batch: the slot's file or, when it is damaged,
  // the next one in the epoch's order that decodes.
  Status FillSlot(Pending& pending, int64_t slot);
  bool KnownBad(int64_t index) const EXCLUDES(bad_mu_);
  void MarkBad(int64_t index, const Status& why) EXCLUDES(bad_mu_);
  void Start() EXCLUDES(mu_);
  void Stop() EXCLUDES(mu_);
  void WorkerLoop() EXCLUDES(mu_);
  // The first queued batch with an unassigned slot, queueing a new one when there is room.
  Pending* OpenBatch() REQUIRES(mu_);

  const std::shared_ptr<const ImageFolder> folder_;
  const JpegLoaderOptions options_;
  const int64_t batches_per_epoch_;
  LoaderPosition position_;

  Mutex mu_;
  std::condition_variable changed_;
  std::deque<std::unique_ptr<Pending>> queue_ GUARDED_BY(mu_);  // from position_ on
  LoaderPosition next_to_queue_ GUARDED_BY(mu_);
  bool stop_ GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;

  Mutex order_mu_;
  int64_t order_epoch_ GUARDED_BY(order_mu_) = -1;
  std::shared_ptr<const std::vector<int64_t>> order_ GUARDED_BY(order_mu_);

  mutable Mutex bad_mu_;
  std::set<int64_t> bad_ GUARDED_BY(bad_mu_);
};

}  // namespace petabox::data
