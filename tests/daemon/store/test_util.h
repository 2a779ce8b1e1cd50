// Helpers for the store tests: a temporary directory per test, seeded random bytes,
// substring checks, and the jobs, events and datasets the table tests store.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "engine/util/status.h"
#include "petabox/v1/dataset.pb.h"
#include "petabox/v1/job.pb.h"

namespace petabox::daemon::testutil {

// A fresh directory made with mkdtemp under /tmp; removed with everything in it on
// destruction.
class TempDir {
 public:
  TempDir() {
    std::string path = "/tmp/petabox-store-test-XXXXXX";
    if (::mkdtemp(path.data()) != nullptr) path_ = path;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  // "" when mkdtemp failed.
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// `n` pseudo-random bytes; the same seed gives the same bytes.
inline std::string RandomBytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string bytes(n, '\0');
  for (char& c : bytes) c = static_cast<char>(rng() & 0xff);
  return bytes;
}

inline ::testing::AssertionResult Contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << text << "' does not contain '" << part << "'";
}

// Job number `i`: "jobs/j-00000000000i" (hex), in `state`.
inline v1::Job MakeJob(int i, v1::Job::State state = v1::Job::QUEUED) {
  char name[32];
  std::snprintf(name, sizeof(name), "jobs/j-%012x", i);
  v1::Job job;
  job.set_name(name);
  job.set_spec_yaml("model: mlp\nepochs: " + std::to_string(i) + "\n");
  job.set_display_name("job " + std::to_string(i));
  job.set_device_count(1);
  job.set_state(state);
  job.mutable_create_time()->set_seconds(1700000000 + i);
  return job;
}

inline v1::JobEvent StateEvent(v1::Job::State state, const std::string& reason = "") {
  v1::JobEvent event;
  event.mutable_time()->set_seconds(1700000000);
  event.mutable_state_change()->set_state(state);
  event.mutable_state_change()->set_reason(reason);
  return event;
}

inline v1::JobEvent ProgressEvent(int64_t step) {
  v1::JobEvent event;
  event.mutable_progress()->set_step(step);
  event.mutable_progress()->set_loss(1.0 / static_cast<double>(step + 1));
  return event;
}

inline v1::Dataset MakeDataset(const std::string& id, int64_t bytes) {
  v1::Dataset dataset;
  dataset.set_name("datasets/" + id);
  v1::DatasetFile* file = dataset.add_files();
  file->set_path("train.bin");
  file->set_size_bytes(bytes);
  file->set_sha256(std::string(64, 'a'));
  dataset.set_total_bytes(bytes);
  return dataset;
}

// Protobuf equality by bytes: enough for messages without maps.
template <typename Message>
::testing::AssertionResult SameMessage(const Message& a, const Message& b) {
  if (a.SerializeAsString() == b.SerializeAsString()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << a.ShortDebugString() << " != " << b.ShortDebugString();
}

inline std::vector<std::string> Names(const std::vector<v1::Job>& jobs) {
  std::vector<std::string> names;
  for (const v1::Job& job : jobs) names.push_back(job.name());
  return names;
}

// Every page of `jobs`.ListJobs (a JobStore or JobTables) with `page_size` and `states`,
// concatenated; *pages counts the pages.
template <typename Jobs>
std::vector<v1::Job> ListAll(const Jobs& jobs, int page_size, const std::vector<v1::Job::State>& states, int* pages) {
  std::vector<v1::Job> all;
  std::string token;
  *pages = 0;
  do {
    auto page = jobs.ListJobs(page_size, token, states);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    if (!page.ok() || ++*pages > 100) break;
    EXPECT_LE(static_cast<int>(page->jobs.size()), page_size);
    all.insert(all.end(), page->jobs.begin(), page->jobs.end());
    token = page->next_page_token;
  } while (!token.empty());
  return all;
}

}  // namespace petabox::daemon::testutil
