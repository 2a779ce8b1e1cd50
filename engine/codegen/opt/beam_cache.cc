#include "engine/codegen/opt/beam_cache.h"

#include <cstdio>
#include <sstream>

#include "devices/binary_cache.h"
#include "engine/codegen/ast_key.h"
#include "engine/util/sha256.h"

namespace petabox {
namespace {

// Bump when the meaning of actions changes: old entries then miss instead of misleading.
constexpr char kFormat[] = "petabox-beam 1";

// The value of line "<name> <value>"; nullopt without such a line.
std::optional<std::string> Field(const std::string& text, const std::string& name) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(name + " ", 0) == 0) return line.substr(name.size() + 1);
  return std::nullopt;
}

}  // namespace

std::string BeamCacheKey(const KernelAst& ast, Device& device, int width) {
  KernelAst any_index = ast;
  any_index.device = "";
  Sha256 hash;
  for (const std::string& part : {std::string(kFormat), AstKey(any_index), device.properties().kind,
                                  device.properties().arch, device.compiler().version(), std::to_string(width)}) {
    hash.Update(part);
    hash.Update(std::string_view("\0", 1));  // ("a", "bc") and ("ab", "c") differ
  }
  return hash.HexDigest();
}

std::optional<std::vector<Action>> BeamCache::Find(const std::string& key) const {
  if (dir_.empty()) return std::nullopt;
  std::optional<std::string> text = ReadCacheEntry(PathOf(key));
  if (!text) return std::nullopt;
  std::optional<std::string> listed = Field(*text, "actions");
  StatusOr<std::vector<Action>> actions = ParseActions(listed.value_or(""));
  if (text->rfind(std::string(kFormat) + "\n", 0) != 0 || Field(*text, "key") != key || !listed || !actions.ok()) {
    std::fprintf(stderr, "petabox: warning: ignoring corrupt BEAM cache entry %s\n", PathOf(key).c_str());
    return std::nullopt;
  }
  return *actions;
}

void BeamCache::Store(const std::string& key, const std::vector<Action>& actions, double seconds,
                      double default_seconds) const {
  if (dir_.empty()) return;
  char times[96];
  std::snprintf(times, sizeof(times), "seconds %.9g\ndefault_seconds %.9g\n", seconds, default_seconds);
  StoreCacheEntry(dir_, PathOf(key), std::string(kFormat) + "\nkey " + key + "\nactions " + ToString(actions) + "\n" + times);
}

}  // namespace petabox
