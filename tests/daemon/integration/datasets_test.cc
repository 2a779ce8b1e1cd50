// DatasetService against a real petaboxd: an upload that a job then trains on, a corrupted
// upload that leaves nothing behind, the size limit, and delete while in use.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "engine/util/sha256.h"
#include "tests/daemon/integration/daemon_harness.h"

namespace petabox::daemon::testing {
namespace {

namespace fs = std::filesystem;
using v1::Job;

struct File {
  std::string name, bytes;
};

std::vector<File> ReadDir(const std::string& dir) {
  std::vector<File> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    std::ifstream in(entry.path(), std::ios::binary);
    files.push_back({entry.path().filename().string(), std::string(std::istreambuf_iterator<char>(in), {})});
  }
  return files;
}

// Uploads `files` in 64 KiB chunks; `corrupt` flips one byte of the data sent.
grpc::Status Upload(DaemonHarness& daemon, const std::string& name, const std::vector<File>& files, bool corrupt,
                    v1::Dataset* out) {
  auto context = daemon.Context();
  auto writer = daemon.datasets().UploadDataset(context.get(), out);
  v1::UploadDatasetRequest header;
  header.set_name(name);
  std::string all;
  for (const File& f : files) {
    v1::DatasetFile* file = header.add_files();
    file->set_path(f.name);
    file->set_size_bytes(f.bytes.size());
    file->set_sha256(Sha256Hex(f.bytes));
    all += f.bytes;
  }
  if (corrupt) all[all.size() / 2] ^= 0x5a;
  writer->Write(header);
  for (size_t at = 0; at < all.size(); at += 65536) {
    v1::UploadDatasetRequest chunk;
    chunk.set_data(all.substr(at, 65536));
    if (!writer->Write(chunk)) break;
  }
  writer->WritesDone();
  return writer->Finish();
}

TEST(DaemonDatasetsTest, UploadedDatasetTrainsAndIsProtectedWhileInUse) {
  DaemonHarness daemon("devices: [CPU:0]\n");
  daemon.Start();
  v1::Dataset dataset;
  ASSERT_TRUE(Upload(daemon, "synthetic", ReadDir(daemon.dataset_dir()), false, &dataset).ok());
  EXPECT_EQ(dataset.name(), "datasets/synthetic");
  EXPECT_EQ(dataset.files_size(), 4);
  v1::ListDatasetsResponse list;
  ASSERT_TRUE(daemon.datasets().ListDatasets(daemon.Context().get(), {}, &list).ok());
  ASSERT_EQ(list.datasets_size(), 1);
  // Taken names are refused.
  v1::Dataset again;
  EXPECT_EQ(Upload(daemon, "synthetic", ReadDir(daemon.dataset_dir()), false, &again).error_code(),
            grpc::StatusCode::ALREADY_EXISTS);

  const std::string spec = "name: on-upload\nmodel: mlp\ndataset: {source: datasets/synthetic}\n"
                           "epochs: 100000\nmax_steps: 1000000\nglobal_batch_size: 32\noptimizer: {name: sgd, lr: 0.05}\n";
  const Job job = daemon.Submit(spec);
  daemon.WaitFor(job.name(), [](const Job& j) { return j.progress().step() > 0; });
  v1::DeleteDatasetRequest del;
  del.set_name("datasets/synthetic");
  v1::DeleteDatasetResponse deleted;
  EXPECT_EQ(daemon.datasets().DeleteDataset(daemon.Context().get(), del, &deleted).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  v1::CancelJobRequest cancel;
  cancel.set_name(job.name());
  Job reply;
  ASSERT_TRUE(daemon.jobs().CancelJob(daemon.Context().get(), cancel, &reply).ok());
  daemon.WaitForState(job.name(), Job::CANCELLED, std::chrono::seconds(30));
  EXPECT_TRUE(daemon.datasets().DeleteDataset(daemon.Context().get(), del, &deleted).ok());
  EXPECT_FALSE(fs::exists(daemon.data_dir() + "/datasets/synthetic"));
}

TEST(DaemonDatasetsTest, CorruptedUploadIsRejectedAndLeavesNothing) {
  DaemonHarness daemon("devices: [CPU:0]\n");
  daemon.Start();
  v1::Dataset dataset;
  grpc::Status status = Upload(daemon, "broken", ReadDir(daemon.dataset_dir()), true, &dataset);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DATA_LOSS) << status.error_message();
  v1::ListDatasetsResponse list;
  ASSERT_TRUE(daemon.datasets().ListDatasets(daemon.Context().get(), {}, &list).ok());
  EXPECT_EQ(list.datasets_size(), 0);
  int entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(daemon.data_dir() + "/datasets")) ++entries;
  EXPECT_EQ(entries, 0);
}

TEST(DaemonDatasetsTest, UploadOverTheLimitIsResourceExhausted) {
  DaemonHarness daemon("devices: [CPU:0]\nlimits: {max_dataset_bytes: 1000}\n");
  daemon.Start();
  v1::Dataset dataset;
  grpc::Status status = Upload(daemon, "big", {{"a.bin", std::string(5000, 'x')}}, false, &dataset);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << status.error_message();
}

}  // namespace
}  // namespace petabox::daemon::testing
