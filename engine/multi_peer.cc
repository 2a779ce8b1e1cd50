#include "engine/multi_peer.h"

#include <map>
#include <mutex>
#include <utility>

#include "engine/device_source.h"

namespace petabox {

bool KernelsCanRead(const std::string& reader, const std::string& owner) {
  if (reader == owner) return true;
  static std::mutex* mu = new std::mutex();
  static auto* answers = new std::map<std::pair<std::string, std::string>, bool>();  // GUARDED_BY(*mu)
  std::lock_guard<std::mutex> lock(*mu);
  auto key = std::make_pair(reader, owner);
  if (auto it = answers->find(key); it != answers->end()) return it->second;
  StatusOr<Device*> r = GetDevice(reader), o = GetDevice(owner);
  const bool can = r.ok() && o.ok() && (*r)->CanAccessPeer(**o);
  (*answers)[key] = can;
  return can;
}

}  // namespace petabox
