#include "daemon/worker/events.h"

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>

#include "engine/nn/json.h"

namespace petabox::worker {

std::string JsonQuote(const std::string& s) { return nn::json::Quote(s); }

JsonObject& JsonObject::Raw(const std::string& key, const std::string& json) {
  if (!body_.empty()) body_ += ",";
  body_ += JsonQuote(key) + ":" + json;
  return *this;
}

JsonObject& JsonObject::Add(const std::string& key, const std::string& value) { return Raw(key, JsonQuote(value)); }
JsonObject& JsonObject::Add(const std::string& key, int64_t value) { return Raw(key, std::to_string(value)); }
JsonObject& JsonObject::Add(const std::string& key, bool value) { return Raw(key, value ? "true" : "false"); }
JsonObject& JsonObject::AddNull(const std::string& key) { return Raw(key, "null"); }

JsonObject& JsonObject::Add(const std::string& key, double value) {
  if (!std::isfinite(value)) return AddNull(key);
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.9g", value);
  return Raw(key, buf);
}

JsonObject& JsonObject::AddFixed(const std::string& key, double value, int decimals) {
  if (!std::isfinite(value)) return AddNull(key);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, value);
  return Raw(key, buf);
}

JsonObject& JsonObject::Merge(const JsonObject& other) {
  if (other.body_.empty()) return *this;
  if (!body_.empty()) body_ += ",";
  body_ += other.body_;
  return *this;
}

std::string JsonObject::ToString() const { return "{" + body_ + "}"; }

EventWriter::~EventWriter() {
  if (owned_) std::fclose(out_);
}

StatusOr<std::unique_ptr<EventWriter>> EventWriter::Open(const std::string& target) {
  if (target.empty()) return std::make_unique<EventWriter>(stderr);
  if (target == "-") return std::make_unique<EventWriter>(stdout);
  std::FILE* f = std::fopen(target.c_str(), "w");
  if (!f) return Unavailable(target + ": cannot open the events file: " + std::strerror(errno));
  auto writer = std::make_unique<EventWriter>(f);
  writer->owned_ = true;
  return writer;
}

void EventWriter::Emit(const std::string& event, const JsonObject& fields) {
  const double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  JsonObject line;
  line.Add("event", event).AddFixed("time", now, 3).Merge(fields);
  std::string text = line.ToString() + "\n";
  std::fwrite(text.data(), 1, text.size(), out_);
  std::fflush(out_);
}

}  // namespace petabox::worker
