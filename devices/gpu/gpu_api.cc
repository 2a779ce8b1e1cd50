#include "devices/gpu/gpu_api.h"

#include <cstring>
#include <utility>

namespace petabox {
namespace {

StatusCode MapCode(std::span<const GpuErrorClass> classes, int code) {
  for (const GpuErrorClass& entry : classes) {
    if (entry.code == code) return entry.status;
  }
  return StatusCode::kInternal;
}

}  // namespace

const char* GpuApi::RtcErrorName(RtcResult r) const {
  return rtc_error_string != nullptr ? rtc_error_string(r) : nullptr;
}

Status GpuApi::Check(GpuResult r, const char* what) const {
  if (r == codes.success) return Status::Ok();
  const char* name = ErrorName(r);
  const char* text = ErrorText(r);
  std::string message = std::string(what) + ": " + (name ? name : kind + " error") + " (" +
                        std::to_string(r) + ")";
  // Runtimes describe codes they do not know with their name again; say it once.
  if (text != nullptr && (name == nullptr || std::strcmp(text, name) != 0)) {
    message += std::string(": ") + text;
  }
  return Status(MapCode(error_classes, r), std::move(message));
}

Status GpuApi::RtcCheck(RtcResult r, const char* what) const {
  if (r == codes.success) return Status::Ok();
  const char* name = RtcErrorName(r);
  return Status(MapCode(rtc_error_classes, r), std::string(what) + ": " +
                                                   (name ? name : rtc_name + " error") + " (" +
                                                   std::to_string(r) + ")");
}

void RequireRtc(SymbolLoader& loader, const char* const (&symbols)[7], GpuApi* api) {
  loader.Require(symbols[0], &api->rtc_error_string);
  loader.Require(symbols[1], &api->rtc_version);
  loader.Require(symbols[2], &api->rtc_create_program);
  loader.Require(symbols[3], &api->rtc_destroy_program);
  loader.Require(symbols[4], &api->rtc_compile_program);
  loader.Require(symbols[5], &api->rtc_log_size);
  loader.Require(symbols[6], &api->rtc_log);
}

void ClearRtc(GpuApi* api, std::string reason) {
  api->rtc_error_string = nullptr;
  api->rtc_version = nullptr;
  api->rtc_create_program = nullptr;
  api->rtc_destroy_program = nullptr;
  api->rtc_compile_program = nullptr;
  api->rtc_log_size = nullptr;
  api->rtc_log = nullptr;
  api->rtc_code_size = nullptr;
  api->rtc_code = nullptr;
  api->rtc_ptx_size = nullptr;
  api->rtc_ptx = nullptr;
  api->rtc_handle.reset();
  api->rtc_library.clear();
  api->rtc_error = std::move(reason);
}

void FinishRtc(const Status& resolved, std::string library, GpuApi* api) {
  if (!resolved.ok()) return ClearRtc(api, resolved.message());
  api->rtc_library = std::move(library);
  if (api->rtc_version(&api->rtc_major, &api->rtc_minor) != api->codes.success) {
    ClearRtc(api, api->rtc_library + ": " + api->rtc_name + " version query failed");
  }
}

}  // namespace petabox
