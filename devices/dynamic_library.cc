#include "devices/dynamic_library.h"

#include <utility>

namespace petabox {
namespace {

std::string DlErrorText() {
  const char* error = ::dlerror();
  return error == nullptr ? "unknown error" : error;
}

std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& name : names) out += (out.empty() ? "" : ", ") + name;
  return out;
}

}  // namespace

StatusOr<OpenedLibrary> OpenFirstLibrary(const std::vector<std::string>& names) {
  std::string last_error = "no library names given";
  for (const std::string& name : names) {
    DlHandle handle(::dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL));
    if (handle != nullptr) return OpenedLibrary{std::move(handle), name};
    last_error = DlErrorText();
  }
  if (names.size() == 1) return Unavailable(names[0] + " not found: " + last_error);
  return Unavailable((names.empty() ? std::string("library") : names[0]) +
                     " not found (tried " + JoinNames(names) + "): " + last_error);
}

Status SymbolLoader::Finish(const std::string& library) const {
  if (missing_.empty()) return Status::Ok();
  return Unavailable(library + " lacks required symbols: " + JoinNames(missing_));
}

}  // namespace petabox
