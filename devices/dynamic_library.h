// dlopen/dlsym with RAII handles: how vendor runtimes (libcuda, NVRTC, libamdhip64, hiprtc,
// NVML, ROCm SMI) are loaded at run time, so one binary runs with or without them. Shared
// by devices/gpu and devices/telemetry.
#pragma once

#include <dlfcn.h>

#include <memory>
#include <string>
#include <vector>

#include "engine/util/status.h"

namespace petabox {

struct DlCloser {
  void operator()(void* handle) const {
    if (handle != nullptr) ::dlclose(handle);
  }
};
// An open shared library; closed (dlclose) when the handle is destroyed.
using DlHandle = std::unique_ptr<void, DlCloser>;

// A library that loaded, and the name it loaded under.
struct OpenedLibrary {
  DlHandle handle;
  std::string name;
};

// Opens the first of `names` (each a file name searched by the dynamic loader, or a path)
// that loads, with RTLD_NOW | RTLD_LOCAL. Unavailable("<names[0]> not found: <dlerror>")
// when none does; with several names the message lists them all and the last dlerror.
StatusOr<OpenedLibrary> OpenFirstLibrary(const std::vector<std::string>& names);

// Resolves `name` in `handle` into `*fn`. Returns false (and sets *fn to null) when the
// symbol is absent.
template <typename Fn>
bool LoadSymbol(void* handle, const char* name, Fn* fn) {
  void* symbol = ::dlsym(handle, name);
  *fn = reinterpret_cast<Fn>(symbol);
  return symbol != nullptr;
}

// Resolves every symbol of a required set, collecting the names of the absent ones, so a
// loader reports all of them at once.
class SymbolLoader {
 public:
  explicit SymbolLoader(void* handle) : handle_(handle) {}
  template <typename Fn>
  void Require(const char* name, Fn* fn) {
    if (!LoadSymbol(handle_, name, fn)) missing_.push_back(name);
  }
  // OK when every Require()d symbol was found, else Unavailable naming `library` and the
  // missing symbols.
  Status Finish(const std::string& library) const;

 private:
  void* handle_;
  std::vector<std::string> missing_;
};

}  // namespace petabox
