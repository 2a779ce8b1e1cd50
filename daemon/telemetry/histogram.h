// BucketHistogram: counts of observations per bucket, as a Prometheus histogram exposes
// them, kept as a plain value (daemon/metrics turns it into the exposition format).
//
// Thread-compatible value type.
#pragma once

#include <cstdint>
#include <vector>

namespace petabox::daemon {

struct BucketHistogram {
  // Increasing upper bounds; a last bucket (+Inf) is implied.
  std::vector<double> bounds;
  // Observations per bucket (not cumulative), bounds.size() + 1 entries: bucket i holds
  // values <= bounds[i] and > bounds[i - 1].
  std::vector<uint64_t> counts;
  double sum = 0;

  BucketHistogram() = default;
  explicit BucketHistogram(std::vector<double> upper_bounds)
      : bounds(std::move(upper_bounds)), counts(bounds.size() + 1, 0) {}

  void Observe(double value);
  // Adds per-bucket counts (same bucket layout; extra entries are ignored) and their sum.
  void Add(const std::vector<uint64_t>& bucket_counts, double value_sum);
  uint64_t count() const;
};

}  // namespace petabox::daemon
