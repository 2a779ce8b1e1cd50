#include "daemon/supervisor/event_reader.h"

namespace petabox::daemon {
namespace {

// A size varint of more than 5 bytes is above any limit a uint32 can express.
constexpr size_t kMaxSizeBytes = 5;

enum class Varint { kComplete, kIncomplete, kTooLong };

// Decodes the varint at data[0..n): its value and length.
Varint DecodeSize(const char* data, size_t n, uint64_t* value, size_t* length) {
  *value = 0;
  for (size_t i = 0; i < n && i < kMaxSizeBytes; ++i) {
    const auto byte = static_cast<uint8_t>(data[i]);
    *value |= static_cast<uint64_t>(byte & 0x7f) << (7 * i);
    if ((byte & 0x80) == 0) {
      *length = i + 1;
      return Varint::kComplete;
    }
  }
  return n >= kMaxSizeBytes ? Varint::kTooLong : Varint::kIncomplete;
}

}  // namespace

Status WorkerEventReader::Error(const std::string& what) {
  error_ = DataLoss("worker protocol error: event " + std::to_string(events_ + 1) + " (at byte " +
                    std::to_string(offset_ + static_cast<int64_t>(consumed_)) + "): " + what);
  return error_;
}

StatusOr<bool> WorkerEventReader::Next(v1::WorkerEvent* event) {
  const char* at = buffer_.data() + consumed_;
  const size_t available = buffer_.size() - consumed_;
  uint64_t size = 0;
  size_t size_bytes = 0;
  switch (DecodeSize(at, available, &size, &size_bytes)) {
    case Varint::kIncomplete:
      return false;
    case Varint::kTooLong:
      return Error("the size prefix is longer than " + std::to_string(kMaxSizeBytes) + " bytes");
    case Varint::kComplete:
      break;
  }
  if (size > max_event_bytes_) {
    return Error("an event of " + std::to_string(size) + " bytes is larger than the limit of " +
                 std::to_string(max_event_bytes_));
  }
  if (available - size_bytes < size) return false;
  if (!event->ParseFromArray(at + size_bytes, static_cast<int>(size))) {
    return Error(std::to_string(size) + " bytes that are not a petabox.v1.WorkerEvent");
  }
  if (event->event_case() == v1::WorkerEvent::EVENT_NOT_SET) return Error("a WorkerEvent with no event set");
  consumed_ += size_bytes + size;
  ++events_;
  return true;
}

Status WorkerEventReader::Feed(std::string_view bytes, std::vector<v1::WorkerEvent>* events) {
  if (!error_.ok()) return error_;
  buffer_.append(bytes.data(), bytes.size());
  while (true) {
    v1::WorkerEvent event;
    StatusOr<bool> next = Next(&event);
    if (!next.ok()) return next.status();
    if (!*next) break;
    events->push_back(std::move(event));
  }
  // Drop what was decoded, so the buffer holds at most one partial event.
  buffer_.erase(0, consumed_);
  offset_ += static_cast<int64_t>(consumed_);
  consumed_ = 0;
  return Status::Ok();
}

Status WorkerEventReader::Finish() {
  if (!error_.ok()) return error_;
  if (buffered() == 0) return Status::Ok();
  uint64_t size = 0;
  size_t size_bytes = 0;
  const bool has_size = DecodeSize(buffer_.data() + consumed_, buffered(), &size, &size_bytes) == Varint::kComplete;
  return Error(has_size ? "the stream ended after " + std::to_string(buffered() - size_bytes) + " of the event's " +
                              std::to_string(size) + " bytes"
                        : "the stream ended inside the event's size prefix");
}

}  // namespace petabox::daemon
