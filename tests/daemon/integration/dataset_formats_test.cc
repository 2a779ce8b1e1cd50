// Datasets from clients through a real petaboxd: an image folder (ImageNet layout, here
// PGM images) and NumPy .npy arrays uploaded with `petabox upload`, then trained by jobs
// that reference them by name (dataset: {name: npy, source: datasets/NAME}).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

#include "engine/data/npy.h"
#include "tests/daemon/integration/daemon_harness.h"

namespace petabox::daemon::testing {
namespace {

namespace fs = std::filesystem;
using v1::Job;

struct CliResult {
  int code = -1;
  std::string out;
};

CliResult Cli(const DaemonHarness& daemon, const std::string& args) {
  CliResult r;
  const std::string cmd = std::string(PETABOX_CLI_BINARY) + " --server " + daemon.address() + " --token " +
                          daemon.token() + " " + args + " 2>&1";
  FILE* pipe = ::popen(cmd.c_str(), "r");
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) r.out.append(buffer, n);
  const int status = ::pclose(pipe);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// A 28x28 grey image of class `label` (0..3): a bright 10x10 square in one quadrant, noise.
std::vector<uint8_t> Picture(int label, std::mt19937& rng) {
  std::vector<uint8_t> p(28 * 28);
  for (uint8_t& v : p) v = static_cast<uint8_t>(rng() % 60);
  const int y0 = (label / 2) * 14 + 2, x0 = (label % 2) * 14 + 2;
  for (int y = y0; y < y0 + 10; ++y)
    for (int x = x0; x < x0 + 10; ++x) p[y * 28 + x] = static_cast<uint8_t>(200 + rng() % 55);
  return p;
}

std::string JobSpecFor(const std::string& dataset) {
  return "name: uploaded\nmodel: mlp\ndataset: {name: npy, source: datasets/" + dataset + "}\n"
         "epochs: 100\nmax_steps: 40\nglobal_batch_size: 16\noptimizer: {name: sgd, lr: 0.05}\nseed: 3\n"
         "eval: {per_epoch: false}\n";
}

v1::JobResult Train(DaemonHarness& daemon, const std::string& dataset) {
  const Job job = daemon.Submit(JobSpecFor(dataset));
  const Job done = daemon.WaitFor(job.name(), [](const Job& j) { return j.state() >= Job::CANCELLED; },
                                  std::chrono::seconds(300));
  EXPECT_EQ(done.state(), Job::SUCCEEDED) << done.failure_reason();
  return done.result();
}

TEST(DatasetFormatsTest, ImageFolderUploadTrains) {
  DaemonHarness daemon("devices: [CPU:0]\n");
  daemon.Start();
  const fs::path root = fs::path(daemon.data_dir()).parent_path() / "images";
  std::mt19937 rng(1);
  const char* classes[] = {"a-top-left", "b-top-right", "c-bottom-left", "d-bottom-right"};
  for (const char* split : {"train", "val"}) {
    for (int label = 0; label < 4; ++label) {
      fs::create_directories(root / split / classes[label]);
      for (int i = 0; i < (split == std::string("train") ? 40 : 10); ++i) {
        std::ofstream out(root / split / classes[label] / (std::to_string(i) + ".pgm"), std::ios::binary);
        const std::vector<uint8_t> p = Picture(label, rng);
        out << "P5\n28 28\n255\n";
        out.write(reinterpret_cast<const char*>(p.data()), static_cast<std::streamsize>(p.size()));
      }
    }
  }
  CliResult upload = Cli(daemon, "upload " + root.string() + " --name shapes");
  ASSERT_EQ(upload.code, 0) << upload.out;
  EXPECT_NE(upload.out.find("datasets/shapes: 5 files"), std::string::npos) << upload.out;  // 4 arrays + classes.txt
  const v1::JobResult result = Train(daemon, "shapes");
  EXPECT_GT(result.test_accuracy(), 0.9);  // the squares are easy to tell apart
  // An image of another size is refused before anything is sent.
  std::ofstream(root / "train" / classes[0] / "odd.pgm", std::ios::binary) << "P5\n3 3\n255\n" << std::string(9, 'x');
  CliResult odd = Cli(daemon, "upload " + root.string() + " --name odd");
  EXPECT_EQ(odd.code, 2) << odd.out;
  EXPECT_NE(odd.out.find("odd.pgm: 3x3 with 1 channels"), std::string::npos) << odd.out;
}

TEST(DatasetFormatsTest, NpyUploadTrains) {
  DaemonHarness daemon("devices: [CPU:0]\n");
  daemon.Start();
  const fs::path dir = fs::path(daemon.data_dir()).parent_path() / "arrays";
  fs::create_directories(dir);
  std::mt19937 rng(2);
  for (const char* split : {"train", "test"}) {
    const int n = split == std::string("train") ? 160 : 40;
    data::NpyArray x, y;
    x.type = data::NpyType::kFloat32;  // already scaled: the worker uses float32 as it is
    x.shape = {n, 1, 28, 28};
    y.type = data::NpyType::kInt32;
    y.shape = {n};
    for (int i = 0; i < n; ++i) {
      const int32_t label = i % 4;
      for (uint8_t v : Picture(label, rng)) {
        const float f = v / 255.0f;
        x.data.insert(x.data.end(), reinterpret_cast<const uint8_t*>(&f), reinterpret_cast<const uint8_t*>(&f) + 4);
      }
      y.data.insert(y.data.end(), reinterpret_cast<const uint8_t*>(&label), reinterpret_cast<const uint8_t*>(&label) + 4);
    }
    ASSERT_TRUE(data::WriteNpy((dir / (std::string(split) + "_x.npy")).string(), x).ok());
    ASSERT_TRUE(data::WriteNpy((dir / (std::string(split) + "_y.npy")).string(), y).ok());
  }
  CliResult upload = Cli(daemon, "upload " + dir.string() + " --name arrays");
  ASSERT_EQ(upload.code, 0) << upload.out;
  EXPECT_GT(Train(daemon, "arrays").test_accuracy(), 0.9);
  // A spec naming the npy format without a dataset to read is refused at submit.
  v1::CreateJobRequest request;
  request.mutable_job()->set_spec_yaml("name: x\nmodel: mlp\ndataset: {name: npy}\n");
  Job job;
  grpc::Status s = daemon.jobs().CreateJob(daemon.Context().get(), request, &job);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("dataset 'npy' needs an uploaded dataset"), std::string::npos) << s.error_message();
}

}  // namespace
}  // namespace petabox::daemon::testing
