// Machine-readable progress of a worker: one JSON object per line ("JSON lines"), each with
// "event" first ("progress", "eval", "checkpoint", "preempted", "done", "error") and "time"
// (Unix seconds). The daemon reads them from the worker's pipe; each line is flushed as it
// is written. Field sets per event are listed in daemon/worker/runner.h.
//
// Thread-compatible: one thread writes events.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include "engine/util/status.h"

namespace petabox::worker {

// A flat JSON object built field by field, in insertion order. Non-finite doubles are
// written as null (JSON has no NaN).
class JsonObject {
 public:
  JsonObject& Add(const std::string& key, const std::string& value);
  JsonObject& Add(const std::string& key, const char* value) { return Add(key, std::string(value)); }
  JsonObject& Add(const std::string& key, int64_t value);
  JsonObject& Add(const std::string& key, int value) { return Add(key, static_cast<int64_t>(value)); }
  JsonObject& Add(const std::string& key, double value);
  JsonObject& Add(const std::string& key, bool value);
  JsonObject& AddNull(const std::string& key);
  // A double with a fixed number of decimals (timestamps).
  JsonObject& AddFixed(const std::string& key, double value, int decimals);
  // Appends the fields of `other` after this object's fields.
  JsonObject& Merge(const JsonObject& other);
  // "{...}" on one line.
  std::string ToString() const;

 private:
  JsonObject& Raw(const std::string& key, const std::string& json);
  std::string body_;  // "\"k\":v,\"k2\":v2"
};

// `s` as a JSON string literal.
std::string JsonQuote(const std::string& s);

class EventWriter {
 public:
  // Writes to `out`, which it does not own (stderr, stdout).
  explicit EventWriter(std::FILE* out) : out_(out) {}
  ~EventWriter();
  EventWriter(const EventWriter&) = delete;
  EventWriter& operator=(const EventWriter&) = delete;

  // "-" writes to stdout, "" to stderr, anything else to that file (created or truncated).
  // Unavailable when the file cannot be opened.
  static StatusOr<std::unique_ptr<EventWriter>> Open(const std::string& target);

  // Writes {"event": event, "time": now, ...fields} and a newline, and flushes.
  void Emit(const std::string& event, const JsonObject& fields = JsonObject());

 private:
  std::FILE* out_;
  bool owned_ = false;
};

}  // namespace petabox::worker
