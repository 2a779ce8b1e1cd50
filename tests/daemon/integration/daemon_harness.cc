#include "tests/daemon/integration/daemon_harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "grpc/health/v1/health.grpc.pb.h"

#include "tests/daemon/worker/test_util.h"

namespace petabox::daemon::testing {

namespace fs = std::filesystem;

int FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::string ShortJobSpec(const std::string& dataset_dir, int steps, int checkpoint_every, const std::string& extra) {
  std::ostringstream s;
  s << "name: short-mlp\nmodel: mlp\n"
    << "dataset: {name: fashion-mnist, dir: " << dataset_dir << "}\n"
    << "epochs: 1000\nmax_steps: " << steps << "\nglobal_batch_size: 32\n"
    << "optimizer: {name: sgd, lr: 0.05}\nseed: 7\neval: {per_epoch: false}\n";
  if (checkpoint_every > 0) s << "checkpoint: {interval_steps: " << checkpoint_every << "}\n";
  s << extra;
  return s.str();
}

DaemonHarness::DaemonHarness(std::string config_extra) : config_extra_(std::move(config_extra)) {
  char tmpl[] = "/tmp/petaboxd-test-XXXXXX";
  const std::string root = ::mkdtemp(tmpl);
  data_dir_ = root + "/data";
  dataset_dir_ = root + "/mnist";
  fs::create_directories(dataset_dir_);
  worker::testutil::WriteSyntheticMnist(dataset_dir_, 1024, 200);
}

DaemonHarness::~DaemonHarness() {
  if (pid_ > 0) Kill9();
  if (::testing::Test::HasFailure()) std::fprintf(stderr, "---- petaboxd log ----\n%s\n", Log().c_str());
  std::error_code ec;
  fs::remove_all(fs::path(data_dir_).parent_path(), ec);
}

std::string DaemonHarness::Log() const {
  std::ifstream in(fs::path(data_dir_).parent_path() / "petaboxd.log");
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void DaemonHarness::ServeHttp() {
  if (http_port_ == 0) http_port_ = FreePort();
}

std::string DaemonHarness::WriteConfig() {
  if (address_.empty()) address_ = "127.0.0.1:" + std::to_string(FreePort());
  const std::string config = fs::path(data_dir_).parent_path() / "petaboxd.yaml";
  std::ofstream out(config);
  const std::string http = http_port_ > 0 ? "127.0.0.1:" + std::to_string(http_port_) : "";
  out << "listen: " << address_ << "\nhttp_listen: \"" << http << "\"\ndata_dir: " << data_dir_ << "\n"
      << "dataset_dirs: [" << fs::path(data_dir_).parent_path().string() << "]\n"
      << "workers: {binary: " << worker_binary_ << ", stop_grace_seconds: 10}\n"
      << config_extra_;
  return config;
}

void DaemonHarness::Spawn(const std::string& config, const std::vector<std::string>& extra_args) {
  const std::string log = fs::path(data_dir_).parent_path() / "petaboxd.log";
  std::vector<std::string> args = {"petaboxd", "--config", config};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  pid_ = ::fork();
  if (pid_ == 0) {
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    ::dup2(fd, 2);
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(PETABOXD_BINARY, argv.data());
    ::_exit(127);
  }
}

int DaemonHarness::StartExpectingExit(const std::vector<std::string>& extra_args) {
  Spawn(WriteConfig(), extra_args);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return -1;
}

void DaemonHarness::Start() {
  Spawn(WriteConfig(), {});
  // Wait for the token file and the health service.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      FAIL() << "petaboxd exited at start:\n" << Log();
    }
    std::ifstream in(data_dir_ + "/owner.token");
    if (in >> token_) {
      Connect();
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
      grpc::health::v1::HealthCheckRequest request;
      grpc::health::v1::HealthCheckResponse response;
      auto stub = grpc::health::v1::Health::NewStub(channel_);
      if (stub->Check(&context, request, &response).ok() &&
          response.status() == grpc::health::v1::HealthCheckResponse::SERVING) {
        return;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  FAIL() << "petaboxd did not start serving within 30 s:\n" << Log();
}

void DaemonHarness::Connect() {
  grpc::ChannelArguments args;
  args.SetSslTargetNameOverride("localhost");
  channel_ = grpc::CreateCustomChannel(address_, credentials_, args);
  jobs_ = v1::JobService::NewStub(channel_);
  datasets_ = v1::DatasetService::NewStub(channel_);
  box_ = v1::BoxService::NewStub(channel_);
}

int DaemonHarness::Stop() {
  int status = 0;
  ::kill(pid_, SIGTERM);
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  return status;
}

void DaemonHarness::Kill9() {
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

std::unique_ptr<grpc::ClientContext> DaemonHarness::Context(const std::string& token) const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->AddMetadata("authorization", "Bearer " + (token.empty() ? token_ : token));
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  return context;
}

v1::Job DaemonHarness::Submit(const std::string& spec, int priority, const std::string& request_id) {
  v1::CreateJobRequest request;
  request.mutable_job()->set_spec_yaml(spec);
  request.mutable_job()->set_priority(priority);
  request.set_request_id(request_id);
  v1::Job job;
  grpc::Status status = jobs_->CreateJob(Context().get(), request, &job);
  EXPECT_TRUE(status.ok()) << status.error_code() << ": " << status.error_message();
  return job;
}

v1::Job DaemonHarness::Get(const std::string& name) {
  v1::GetJobRequest request;
  request.set_name(name);
  v1::Job job;
  grpc::Status status = jobs_->GetJob(Context().get(), request, &job);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return job;
}

v1::Job DaemonHarness::WaitFor(const std::string& name, const std::function<bool(const v1::Job&)>& pred,
                               std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  v1::Job job;
  while (std::chrono::steady_clock::now() < deadline) {
    job = Get(name);
    if (pred(job)) return job;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ADD_FAILURE() << "timed out waiting on " << name << "; last: " << job.ShortDebugString();
  return job;
}

v1::Job DaemonHarness::WaitForState(const std::string& name, v1::Job::State state, std::chrono::seconds timeout) {
  return WaitFor(name, [state](const v1::Job& j) { return j.state() == state; }, timeout);
}

std::vector<v1::JobEvent> DaemonHarness::Watch(const std::string& name, int64_t after, grpc::Status* status) {
  v1::WatchJobRequest request;
  request.set_name(name);
  request.set_after_sequence(after);
  auto context = Context();
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(180));
  auto reader = jobs_->WatchJob(context.get(), request);
  std::vector<v1::JobEvent> events;
  v1::JobEvent event;
  while (reader->Read(&event)) events.push_back(event);
  *status = reader->Finish();
  return events;
}

pid_t DaemonHarness::WorkerPid(const std::string& job_name) const {
  const std::string id = job_name.substr(job_name.find('/') + 1);
  for (const auto& entry : fs::directory_iterator("/proc")) {
    std::ifstream in(entry.path() / "cmdline");
    std::string cmdline(std::istreambuf_iterator<char>(in), {});
    if (cmdline.find("petabox-worker") != std::string::npos && cmdline.find("/" + id + "/") != std::string::npos) {
      return std::atoi(entry.path().filename().c_str());
    }
  }
  return -1;
}

}  // namespace petabox::daemon::testing
