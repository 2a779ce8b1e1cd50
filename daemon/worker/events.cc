#include "daemon/worker/events.h"

#include <cerrno>
#include <chrono>
#include <cstring>

#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/util/delimited_message_util.h>
#include <google/protobuf/util/json_util.h>

namespace petabox::worker {

StatusOr<EventFormat> ParseEventFormat(const std::string& name) {
  if (name == "json") return EventFormat::kJson;
  if (name == "proto") return EventFormat::kProto;
  return InvalidArgument("--events-format: 'json' or 'proto', got '" + name + "'");
}

std::string ToJsonLine(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string json;
  // Fails only for messages with Any fields of unknown types; these have none.
  (void)google::protobuf::util::MessageToJsonString(message, &json, options);
  return json;
}

EventWriter::~EventWriter() {
  if (owned_) std::fclose(out_);
}

StatusOr<std::unique_ptr<EventWriter>> EventWriter::Open(const std::string& target, EventFormat format) {
  if (target.empty()) return std::make_unique<EventWriter>(stderr, format);
  if (target == "-") return std::make_unique<EventWriter>(stdout, format);
  std::FILE* f = std::fopen(target.c_str(), format == EventFormat::kProto ? "wb" : "w");
  if (!f) return Unavailable(target + ": cannot open the events file: " + std::strerror(errno));
  auto writer = std::make_unique<EventWriter>(f, format);
  writer->owned_ = true;
  return writer;
}

void EventWriter::Emit(v1::WorkerEvent event) {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(now);
  event.mutable_time()->set_seconds(seconds.count());
  event.mutable_time()->set_nanos(static_cast<int32_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(now - seconds).count()));
  std::string bytes;
  if (format_ == EventFormat::kProto) {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::util::SerializeDelimitedToZeroCopyStream(event, &stream);
  } else {
    bytes = ToJsonLine(event) + "\n";
  }
  std::fwrite(bytes.data(), 1, bytes.size(), out_);
  std::fflush(out_);
}

}  // namespace petabox::worker
