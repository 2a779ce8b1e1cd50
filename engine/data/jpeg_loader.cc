#include "engine/data/jpeg_loader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "engine/data/jpeg.h"

namespace petabox::data {
namespace {

// The augmentation seed of image `index` in `epoch`: independent of which thread decodes
// it and of what was decoded before (splitmix-style mixing of the three).
uint64_t ImageSeed(uint64_t seed, int64_t epoch, int64_t index) {
  Rng by_epoch(seed ^ (0x9e3779b97f4a7c15ULL * (static_cast<uint64_t>(epoch) + 1)));
  Rng by_image(by_epoch.NextU64() ^ (0xbf58476d1ce4e5b9ULL * (static_cast<uint64_t>(index) + 1)));
  return by_image.NextU64();
}

// Reads `path` into *bytes (reused between files: one buffer per thread).
Status ReadWholeFile(const std::string& path, std::vector<uint8_t>* bytes) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return NotFound(path + ": cannot open (" + std::strerror(errno) + ")");
  struct stat st;
  Status status;
  if (fstat(fd, &st) != 0) {
    status = NotFound(path + ": cannot stat");
  } else {
    bytes->resize(static_cast<size_t>(st.st_size));
    size_t done = 0;
    while (done < bytes->size()) {
      const ssize_t n = read(fd, bytes->data() + done, bytes->size() - done);
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
    bytes->resize(done);  // a file that shrank reads short; the decoder will say so
  }
  close(fd);
  return status;
}

Status CheckOptions(const ImageFolder& folder, const JpegLoaderOptions& o) {
  auto bad = [](const std::string& what) { return InvalidArgument("JpegLoaderOptions." + what); };
  if (folder.size() < 1) return InvalidArgument("JpegLoader: " + folder.dir + " has no images");
  if (o.batch_size < 1) return bad("batch_size: must be >= 1, got " + std::to_string(o.batch_size));
  if (o.transform.size < 1) return bad("transform.size: must be >= 1, got " + std::to_string(o.transform.size));
  if (!o.transform.train && o.transform.resize_size < o.transform.size) {
    return bad("transform.resize_size: must be >= size (" + std::to_string(o.transform.size) + "), got " +
               std::to_string(o.transform.resize_size));
  }
  if (o.threads < 0) return bad("threads: must be >= 0, got " + std::to_string(o.threads));
  if (o.threads > 0 && o.prefetch < 1) return bad("prefetch: must be >= 1, got " + std::to_string(o.prefetch));
  if (!HaveJpeg()) return Unimplemented("JPEG datasets: built without libjpeg-turbo (install libturbojpeg0-dev)");
  return Status::Ok();
}

}  // namespace

// A batch being assembled: threads claim slots (next_slot) and count them done; the
// pixels of different slots are disjoint, so they are written without the lock.
struct JpegLoader::Pending {
  LoaderPosition position;
  std::shared_ptr<const std::vector<int64_t>> order;
  int64_t begin = 0;  // index into *order of slot 0
  ImageBatch batch;
  int64_t next_slot = 0;  // guarded by the loader's mu_
  int64_t done = 0;       // guarded by the loader's mu_
  Status error;           // guarded by the loader's mu_
};

StatusOr<std::unique_ptr<JpegLoader>> JpegLoader::Create(std::shared_ptr<const ImageFolder> folder,
                                                         JpegLoaderOptions options, LoaderPosition start) {
  if (!folder) return InvalidArgument("JpegLoader: no folder");
  PB_RETURN_IF_ERROR(CheckOptions(*folder, options));
  const int64_t n = folder->size();
  const int64_t batches = options.drop_last && n >= options.batch_size
                              ? n / options.batch_size
                              : (n + options.batch_size - 1) / options.batch_size;
  std::unique_ptr<JpegLoader> loader(new JpegLoader(std::move(folder), std::move(options), batches));
  PB_RETURN_IF_ERROR(loader->Seek(start));
  return loader;
}

JpegLoader::JpegLoader(std::shared_ptr<const ImageFolder> folder, JpegLoaderOptions options, int64_t batches_per_epoch)
    : folder_(std::move(folder)), options_(std::move(options)), batches_per_epoch_(batches_per_epoch) {}

JpegLoader::~JpegLoader() { Stop(); }

LoaderPosition JpegLoader::Following(LoaderPosition p) const {
  if (++p.batch >= batches_per_epoch_) return {p.epoch + 1, 0};
  return p;
}

std::shared_ptr<const std::vector<int64_t>> JpegLoader::Order(int64_t epoch) {
  MutexLock lock(order_mu_);
  if (epoch != order_epoch_) {
    order_ = std::make_shared<const std::vector<int64_t>>(
        EpochOrder(folder_->size(), options_.seed, epoch, options_.shuffle));
    order_epoch_ = epoch;
  }
  return order_;
}

std::unique_ptr<JpegLoader::Pending> JpegLoader::NewPending(LoaderPosition p) {
  auto pending = std::make_unique<Pending>();
  pending->position = p;
  pending->order = Order(p.epoch);
  pending->begin = p.batch * options_.batch_size;
  const int64_t n = std::min(options_.batch_size, folder_->size() - pending->begin);
  const int64_t side = options_.transform.size;
  pending->batch.position = p;
  pending->batch.shape = {n, side, side, 3};
  pending->batch.pixels.resize(static_cast<size_t>(n * side * side * 3));
  pending->batch.labels.resize(n);
  return pending;
}

bool JpegLoader::KnownBad(int64_t index) const {
  MutexLock lock(bad_mu_);
  return bad_.count(index) > 0;
}

void JpegLoader::MarkBad(int64_t index, const Status& why) {
  MutexLock lock(bad_mu_);
  if (!bad_.insert(index).second || options_.log == nullptr) return;
  std::fprintf(options_.log, "warning: skipping %s: %s (%zu damaged files so far)\n", folder_->files[index].c_str(),
               why.message().c_str(), bad_.size());
  std::fflush(options_.log);
}

int64_t JpegLoader::skipped_files() const {
  MutexLock lock(bad_mu_);
  return static_cast<int64_t>(bad_.size());
}

Status JpegLoader::FillSlot(Pending& pending, int64_t slot) {
  const std::vector<int64_t>& order = *pending.order;
  const int64_t n = static_cast<int64_t>(order.size());
  const int64_t side = options_.transform.size;
  uint8_t* out = pending.batch.pixels.data() + slot * side * side * 3;
  for (int64_t k = 0; k < n; ++k) {
    const int64_t index = order[(pending.begin + slot + k) % n];
    if (KnownBad(index)) continue;
    thread_local std::vector<uint8_t> bytes;
    Status s = ReadWholeFile(folder_->files[index], &bytes);
    Rng rng(ImageSeed(options_.seed, pending.position.epoch, index));
    if (s.ok()) s = TransformJpeg(bytes, options_.transform, rng, out);
    if (s.ok()) {
      pending.batch.labels[slot] = folder_->labels[index];
      return s;
    }
    if (s.code() == StatusCode::kUnimplemented) return s;
    MarkBad(index, s);
  }
  return InvalidArgument(folder_->dir + ": none of its " + std::to_string(n) + " files is a decodable JPEG");
}

Status JpegLoader::Seek(LoaderPosition position) {
  if (position.epoch < 0 || position.batch < 0 || position.batch > batches_per_epoch_) {
    return InvalidArgument("JpegLoader::Seek: position (epoch " + std::to_string(position.epoch) + ", batch " +
                           std::to_string(position.batch) + ") is outside an epoch of " +
                           std::to_string(batches_per_epoch_) + " batches");
  }
  if (position.batch == batches_per_epoch_) position = {position.epoch + 1, 0};
  Stop();
  position_ = position;
  Start();
  return Status::Ok();
}

StatusOr<ImageBatch> JpegLoader::Next() {
  if (options_.threads == 0) {
    std::unique_ptr<Pending> pending = NewPending(position_);
    for (int64_t slot = 0; slot < pending->batch.size(); ++slot) PB_RETURN_IF_ERROR(FillSlot(*pending, slot));
    position_ = Following(position_);
    return std::move(pending->batch);
  }
  std::unique_ptr<Pending> front;
  {
    MutexLock lock(mu_);
    while (queue_.empty() || queue_.front()->done < queue_.front()->batch.size()) lock.Wait(changed_);
    front = std::move(queue_.front());
    queue_.pop_front();
  }
  changed_.notify_all();
  if (!front->error.ok()) {
    Stop();  // the queued batches would fail alike; the next call retries this position
    Start();
    return front->error;
  }
  position_ = Following(position_);
  return std::move(front->batch);
}

void JpegLoader::Start() {
  if (options_.threads == 0) return;
  {
    MutexLock lock(mu_);
    stop_ = false;
    next_to_queue_ = position_;
  }
  for (int i = 0; i < options_.threads; ++i) threads_.emplace_back([this] { WorkerLoop(); });
}

void JpegLoader::Stop() {
  {
    MutexLock lock(mu_);
    stop_ = true;
  }
  changed_.notify_all();
  for (std::thread& t : threads_) t.join();
  threads_.clear();
  MutexLock lock(mu_);
  queue_.clear();
}

JpegLoader::Pending* JpegLoader::OpenBatch() {
  for (const std::unique_ptr<Pending>& p : queue_) {
    if (p->next_slot < p->batch.size()) return p.get();
  }
  if (static_cast<int>(queue_.size()) >= options_.prefetch) return nullptr;
  queue_.push_back(NewPending(next_to_queue_));
  next_to_queue_ = Following(next_to_queue_);
  return queue_.back().get();
}

// Claims one slot at a time, oldest batch first, and decodes it outside the lock.
void JpegLoader::WorkerLoop() {
  for (;;) {
    Pending* pending = nullptr;
    int64_t slot = 0;
    {
      MutexLock lock(mu_);
      while (!stop_ && (pending = OpenBatch()) == nullptr) lock.Wait(changed_);
      if (stop_) return;
      slot = pending->next_slot++;
    }
    Status s = FillSlot(*pending, slot);
    bool complete = false;
    {
      MutexLock lock(mu_);
      if (!s.ok() && pending->error.ok()) pending->error = s;
      complete = ++pending->done == pending->batch.size();
    }
    if (complete) changed_.notify_all();
  }
}

}  // namespace petabox::data
