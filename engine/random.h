// Seeded, platform-independent random numbers for tensor initialisation (host side).
// The state is a plain value so it can be checkpointed and restored.
#pragma once

#include <cstdint>

namespace petabox {

class Rng {
 public:
  explicit Rng(uint64_t seed = 0) : state_(seed) {}
  uint64_t NextU64();           // splitmix64
  float Uniform();              // [0, 1), 24 random bits
  float Normal();               // standard normal (Box-Muller)
  uint64_t state() const { return state_; }
  void set_state(uint64_t s) { state_ = s; }

 private:
  uint64_t state_;
};

}  // namespace petabox
