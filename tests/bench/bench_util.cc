#include "tests/bench/bench_util.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace petabox::bench {

std::optional<int64_t> IntFlag(Flags& flags, const std::string& name, std::optional<int64_t> fallback) {
  auto it = flags.find(name);
  if (it == flags.end()) return fallback;
  char* end = nullptr;
  long long v = std::strtoll(it->second.c_str(), &end, 10);
  flags.erase(it);
  if (*end != '\0' || v <= 0) return std::nullopt;
  return v;
}

std::string Num(std::optional<double> v) {
  if (!v || !std::isfinite(*v)) return "null";
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.6g", *v);
  return buf;
}

std::string Quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) >= 0x20) out += c;
  }
  return out + "\"";
}

}  // namespace petabox::bench
