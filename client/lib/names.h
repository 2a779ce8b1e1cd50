// Resource names as the API spells them: "jobs/{job}" and "datasets/{dataset}". The CLI
// accepts the short forms too ("j-0123456789ab", "fashion-mnist").
//
// Thread-safe (pure functions).
#pragma once

#include <string>
#include <string_view>

#include "engine/util/status.h"

namespace petabox::client {

// "j-abc" and "jobs/j-abc" both give "jobs/j-abc". InvalidArgument for an empty id or one
// with characters other than letters, digits, '-' and '_' (the daemon decides whether the
// job exists: NOT_FOUND).
StatusOr<std::string> NormalizeJobName(std::string_view name);

// "jobs/j-abc" -> "j-abc"; other strings unchanged.
std::string ShortJobName(std::string_view name);

// "mnist" and "datasets/mnist" both give "datasets/mnist". InvalidArgument unless the id is
// 1..63 lowercase letters, digits and '-', starting with a letter (the daemon's rule).
StatusOr<std::string> NormalizeDatasetName(std::string_view name);

}  // namespace petabox::client
