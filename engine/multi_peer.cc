#include "engine/multi_peer.h"

#include <map>
#include <utility>

#include "engine/device_source.h"
#include "engine/util/thread_annotations.h"

namespace petabox {
namespace {

// KernelsCanRead's answers by (reader, owner); never destroyed.
struct PeerAnswers {
  Mutex mu;
  std::map<std::pair<std::string, std::string>, bool> answers GUARDED_BY(mu);
};

}  // namespace

bool KernelsCanRead(const std::string& reader, const std::string& owner) {
  if (reader == owner) return true;
  static PeerAnswers* cache = new PeerAnswers();
  MutexLock lock(cache->mu);
  auto key = std::make_pair(reader, owner);
  if (auto it = cache->answers.find(key); it != cache->answers.end()) return it->second;
  StatusOr<Device*> r = GetDevice(reader), o = GetDevice(owner);
  const bool can = r.ok() && o.ok() && (*r)->CanAccessPeer(**o);
  cache->answers[key] = can;
  return can;
}


}  // namespace petabox
