// EventWriter: how a worker reports: petabox.v1.WorkerEvent messages (proto/petabox/v1/
// worker.proto documents each event and field), written as they happen and flushed one by
// one. Two renderings of the same messages:
//   kProto: length-delimited binary (a varint size, then the message), for petaboxd on the
//           worker's events pipe (`--events /dev/fd/3 --events-format proto`);
//   kJson:  one line of proto3 JSON per event (ToJsonLine), for people and scripts
//           (`--events FILE|-`, the default format).
//
// Thread-compatible: one thread writes events.
#pragma once

#include <cstdio>
#include <memory>
#include <string>

#include <google/protobuf/message.h>

#include "engine/util/status.h"
#include "petabox/v1/worker.pb.h"

namespace petabox::worker {

enum class EventFormat { kJson, kProto };

// "json" or "proto"; InvalidArgument otherwise.
StatusOr<EventFormat> ParseEventFormat(const std::string& name);

// `message` as proto3 JSON on one line, without a newline: proto field names, fields at
// their defaults included, int64 as strings, NaN and infinities as "NaN", "Infinity".
std::string ToJsonLine(const google::protobuf::Message& message);

class EventWriter {
 public:
  // Writes to `out`, which it does not own (stderr, stdout).
  explicit EventWriter(std::FILE* out, EventFormat format = EventFormat::kJson) : out_(out), format_(format) {}
  ~EventWriter();
  EventWriter(const EventWriter&) = delete;
  EventWriter& operator=(const EventWriter&) = delete;

  // "-" writes to stdout, "" to stderr, anything else to that file (created or truncated;
  // /dev/fd/N for an inherited descriptor). Unavailable when the file cannot be opened.
  static StatusOr<std::unique_ptr<EventWriter>> Open(const std::string& target, EventFormat format);

  // Sets event.time to now, writes the event and flushes. A write that fails (the reader
  // went away) is dropped: the worker goes on to checkpoint and exit.
  void Emit(v1::WorkerEvent event);

 private:
  std::FILE* out_;
  EventFormat format_;
  bool owned_ = false;
};

}  // namespace petabox::worker
