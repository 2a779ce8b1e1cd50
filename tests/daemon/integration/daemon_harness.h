// A real petaboxd for integration tests: started as a child process on a free loopback
// port with a fresh data directory and a small config, driven through the generated gRPC
// stubs with the owner token the daemon wrote. Its stderr goes to DATA_DIR/petaboxd.log
// (printed when a test fails).
#pragma once

#include <gtest/gtest.h>
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "petabox/v1/box.grpc.pb.h"
#include "petabox/v1/dataset.grpc.pb.h"
#include "petabox/v1/job.grpc.pb.h"

namespace petabox::daemon::testing {

// A loopback port nobody listens on right now.
int FreePort();

// A spec for a short MLP job on the synthetic dataset in `dataset_dir`: `steps` steps of
// batch 32, progress every 10 steps, a checkpoint every `checkpoint_every` steps (0: the
// daemon's default).
std::string ShortJobSpec(const std::string& dataset_dir, int steps, int checkpoint_every = 0,
                         const std::string& extra = "");

class DaemonHarness {
 public:
  // `config_extra`: YAML lines appended to the test config (devices, limits, ...).
  explicit DaemonHarness(std::string config_extra = "");
  ~DaemonHarness();

  // Starts petaboxd and waits until it serves (health SERVING); fails the test otherwise.
  void Start();
  // Starts petaboxd with `extra_args` and waits for it to exit (at most 30 s); returns the
  // exit code (-1 on timeout). For configurations it must refuse.
  int StartExpectingExit(const std::vector<std::string>& extra_args = {});
  // Credentials for the test's channel (default: insecure). Set before Start.
  void set_credentials(std::shared_ptr<grpc::ChannelCredentials> c) { credentials_ = std::move(c); }
  // The worker executable the config names (default: the built petabox-worker). Set before
  // Start.
  void set_worker_binary(std::string path) { worker_binary_ = std::move(path); }
  // The address to connect to ("127.0.0.1:PORT" unless set before Start).
  void set_address(std::string address) { address_ = std::move(address); }
  // SIGTERM and wait for exit; returns the exit status (as from waitpid).
  int Stop();
  // SIGKILL, no drain.
  void Kill9();
  bool running() const { return pid_ > 0; }

  const std::string& data_dir() const { return data_dir_; }
  const std::string& dataset_dir() const { return dataset_dir_; }
  const std::string& address() const { return address_; }
  const std::string& token() const { return token_; }
  // Before Start: serve HTTP (/metrics, the status page) on a free loopback port.
  void ServeHttp();
  // The HTTP port (0 when not serving HTTP).
  int http_port() const { return http_port_; }
  std::string Log() const;

  // A client context carrying the owner token (or `token` when given), 30 s deadline.
  std::unique_ptr<grpc::ClientContext> Context(const std::string& token = "") const;
  v1::JobService::Stub& jobs() { return *jobs_; }
  v1::DatasetService::Stub& datasets() { return *datasets_; }
  v1::BoxService::Stub& box() { return *box_; }

  // CreateJob with `spec`; fails the test on error.
  v1::Job Submit(const std::string& spec, int priority = 0, const std::string& request_id = "");
  v1::Job Get(const std::string& name);
  // Polls GetJob until `pred` holds (fails the test after `timeout`).
  v1::Job WaitFor(const std::string& name, const std::function<bool(const v1::Job&)>& pred,
                  std::chrono::seconds timeout = std::chrono::seconds(120));
  v1::Job WaitForState(const std::string& name, v1::Job::State state,
                       std::chrono::seconds timeout = std::chrono::seconds(120));
  // All events of a job through WatchJob until the stream ends; *status gets its status.
  std::vector<v1::JobEvent> Watch(const std::string& name, int64_t after, grpc::Status* status);
  // The pid of the job's worker (from /proc: a petabox-worker whose argv names the job).
  pid_t WorkerPid(const std::string& job_name) const;

 private:
  void Connect();
  std::string WriteConfig();
  void Spawn(const std::string& config, const std::vector<std::string>& extra_args);
  std::string config_extra_;
  std::shared_ptr<grpc::ChannelCredentials> credentials_ = grpc::InsecureChannelCredentials();
  std::string data_dir_, dataset_dir_, address_, token_;
  std::string worker_binary_ = PETABOX_WORKER_BINARY;
  pid_t pid_ = -1;
  int http_port_ = 0;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::JobService::Stub> jobs_;
  std::unique_ptr<v1::DatasetService::Stub> datasets_;
  std::unique_ptr<v1::BoxService::Stub> box_;
};

}  // namespace petabox::daemon::testing
