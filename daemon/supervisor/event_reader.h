// WorkerEventReader: petaboxd's side of the worker protocol (proto/petabox/v1/worker.proto):
// turns the bytes read from a worker's events pipe, in pieces of any size, into
// petabox.v1.WorkerEvent messages. Each event on the wire is its size as a base-128 varint,
// then that many bytes of the serialized message. A piece may end anywhere (inside the
// size or the message): the rest is kept until the next piece.
//
// Protocol errors are DataLoss "worker protocol error: ..." naming the event (1-based) and
// its byte offset in the stream: a size above the limit (or a size varint longer than 5
// bytes), a message that does not parse, a message with no event set, and (Finish) a
// stream that ends inside an event. After an error the stream cannot be resynchronized:
// every later call returns the same error.
//
// Thread-compatible: one reader per stream, used by one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/util/status.h"
#include "petabox/v1/worker.pb.h"

namespace petabox::daemon {

class WorkerEventReader {
 public:
  // Events are small (the largest, a usage report, is a few hundred bytes per device).
  static constexpr size_t kMaxEventBytes = size_t{1} << 20;

  explicit WorkerEventReader(size_t max_event_bytes = kMaxEventBytes) : max_event_bytes_(max_event_bytes) {}

  // Appends `bytes` to what is buffered and moves every complete event to *events, in
  // order. On a protocol error, the events before it are still delivered.
  Status Feed(std::string_view bytes, std::vector<v1::WorkerEvent>* events);
  // The stream ended (EOF): OK when it ended between events; DataLoss when it ended inside
  // one (the size, or fewer bytes than the size said), or after an earlier error.
  Status Finish();

  // Bytes received and not yet part of a delivered event.
  size_t buffered() const { return buffer_.size() - consumed_; }
  // Events delivered so far.
  int64_t events() const { return events_; }

 private:
  // Decodes the event at consumed_ into *event; false when it is not all there yet.
  StatusOr<bool> Next(v1::WorkerEvent* event);
  Status Error(const std::string& what);

  const size_t max_event_bytes_;
  std::string buffer_;
  size_t consumed_ = 0;  // bytes of buffer_ already decoded
  int64_t offset_ = 0;   // stream offset of buffer_[0]
  int64_t events_ = 0;
  Status error_;
};

}  // namespace petabox::daemon
