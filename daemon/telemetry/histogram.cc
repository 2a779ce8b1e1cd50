#include "daemon/telemetry/histogram.h"

#include <algorithm>

namespace petabox::daemon {

void BucketHistogram::Observe(double value) {
  const auto it = std::lower_bound(bounds.begin(), bounds.end(), value);
  ++counts[it - bounds.begin()];
  sum += value;
}

void BucketHistogram::Add(const std::vector<uint64_t>& bucket_counts, double value_sum) {
  for (size_t i = 0; i < counts.size() && i < bucket_counts.size(); ++i) counts[i] += bucket_counts[i];
  sum += value_sum;
}

uint64_t BucketHistogram::count() const {
  uint64_t n = 0;
  for (uint64_t c : counts) n += c;
  return n;
}

}  // namespace petabox::daemon
