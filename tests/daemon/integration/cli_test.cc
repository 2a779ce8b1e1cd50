// The petabox CLI against a real petaboxd: submit --watch to the end, status/jobs/logs/box,
// cancel with the watch's exit code, upload and checkpoint download, and the exit codes for
// a wrong token and for usage errors; tenants and the audit log.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "tests/daemon/integration/daemon_harness.h"

namespace petabox::daemon::testing {
namespace {

struct Result {
  int code = -1;
  std::string out;  // stdout and stderr
};

// Runs `petabox --server ADDR --token TOKEN ARGS` (token "" omits it).
Result Cli(const DaemonHarness& daemon, const std::string& args, const std::string& token) {
  std::string cmd = std::string(PETABOX_CLI_BINARY) + " --server " + daemon.address();
  if (!token.empty()) cmd += " --token " + token;
  cmd += " " + args + " 2>&1";
  Result r;
  FILE* pipe = ::popen(cmd.c_str(), "r");
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) r.out.append(buffer, n);
  const int status = ::pclose(pipe);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

Result Cli(const DaemonHarness& daemon, const std::string& args) { return Cli(daemon, args, daemon.token()); }

std::string WriteSpec(const DaemonHarness& daemon, const std::string& text) {
  const std::string path = daemon.data_dir() + "/../spec-" + std::to_string(std::hash<std::string>{}(text)) + ".yaml";
  std::ofstream(path) << text;
  return path;
}

TEST(DaemonCliTest, SubmitWatchStatusLogsAndBox) {
  DaemonHarness daemon("devices: [CPU:0]\n");
  daemon.Start();
  const std::string spec = WriteSpec(daemon, ShortJobSpec(daemon.dataset_dir(), 30));
  Result submit = Cli(daemon, "submit --watch " + spec);
  EXPECT_EQ(submit.code, 0) << submit.out;
  EXPECT_NE(submit.out.find("SUCCEEDED"), std::string::npos) << submit.out;
  EXPECT_NE(submit.out.find("test accuracy"), std::string::npos) << submit.out;
  Result jobs = Cli(daemon, "jobs");
  EXPECT_EQ(jobs.code, 0) << jobs.out;
  EXPECT_NE(jobs.out.find("SUCCEEDED"), std::string::npos) << jobs.out;
  const size_t at = jobs.out.find("j-");
  ASSERT_NE(at, std::string::npos);
  const std::string id = jobs.out.substr(at, 14);
  Result status = Cli(daemon, "status " + id);
  EXPECT_EQ(status.code, 0) << status.out;
  EXPECT_NE(status.out.find("SUCCEEDED"), std::string::npos) << status.out;
  Result logs = Cli(daemon, "logs jobs/" + id);
  EXPECT_EQ(logs.code, 0) << logs.out;
  EXPECT_FALSE(logs.out.empty());
  Result box = Cli(daemon, "box");
  EXPECT_EQ(box.code, 0) << box.out;
  EXPECT_NE(box.out.find("CPU:0"), std::string::npos) << box.out;
  Result json = Cli(daemon, "--json status " + id);
  EXPECT_EQ(json.code, 0);
  EXPECT_NE(json.out.find("\"state\""), std::string::npos) << json.out;
  const std::string file = daemon.data_dir() + "/../downloaded.safetensors";
  Result checkpoint = Cli(daemon, "checkpoint " + id + " -o " + file);
  EXPECT_EQ(checkpoint.code, 0) << checkpoint.out;
  EXPECT_GT(std::filesystem::file_size(file), 1000u);
}

TEST(DaemonCliTest, CancelledJobMakesWatchExitFour) {
  DaemonHarness daemon("devices: [CPU:0]\n");
  daemon.Start();
  const v1::Job job = daemon.Submit(ShortJobSpec(daemon.dataset_dir(), 1000000));
  daemon.WaitForState(job.name(), v1::Job::RUNNING);
  Result cancel = Cli(daemon, "cancel " + job.name());
  EXPECT_EQ(cancel.code, 0) << cancel.out;
  Result watch = Cli(daemon, "watch " + job.name());
  EXPECT_EQ(watch.code, 4) << watch.out;
  EXPECT_NE(watch.out.find("CANCELLED"), std::string::npos) << watch.out;
}

TEST(DaemonCliTest, UploadThenDatasetsLists) {
  DaemonHarness daemon("devices: [CPU:0]\n");
  daemon.Start();
  Result upload = Cli(daemon, "upload " + daemon.dataset_dir() + " --name synthetic");
  EXPECT_EQ(upload.code, 0) << upload.out;
  Result list = Cli(daemon, "datasets");
  EXPECT_EQ(list.code, 0) << list.out;
  EXPECT_NE(list.out.find("synthetic"), std::string::npos) << list.out;
}

TEST(DaemonCliTest, ExitCodesForServerAndUsageErrors) {
  DaemonHarness daemon("devices: [CPU:0]\n");
  daemon.Start();
  Result wrong = Cli(daemon, "jobs", "wrong-token");
  EXPECT_EQ(wrong.code, 3) << wrong.out;
  EXPECT_NE(wrong.out.find("UNAUTHENTICATED"), std::string::npos) << wrong.out;
  Result missing = Cli(daemon, "status j-000000000000");
  EXPECT_EQ(missing.code, 3) << missing.out;
  EXPECT_NE(missing.out.find("NOT_FOUND"), std::string::npos) << missing.out;
  // An invalid spec is refused by the CLI before anything is sent (a usage error)...
  const std::string bad = WriteSpec(daemon, "model: mlp\noptimizer: {lr: -1}\n");
  Result invalid = Cli(daemon, "submit " + bad);
  EXPECT_EQ(invalid.code, 2) << invalid.out;
  EXPECT_NE(invalid.out.find("optimizer.lr"), std::string::npos) << invalid.out;
  // ...and what only the daemon can check (its devices) by the daemon (a server error).
  const std::string no_device = WriteSpec(daemon, "model: mlp\ndevices: [CUDA:7]\n");
  Result refused = Cli(daemon, "submit " + no_device);
  EXPECT_EQ(refused.code, 3) << refused.out;
  EXPECT_NE(refused.out.find("INVALID_ARGUMENT"), std::string::npos) << refused.out;
  EXPECT_NE(refused.out.find("devices[0]"), std::string::npos) << refused.out;
  EXPECT_EQ(Cli(daemon, "submit /no/such/spec.yaml").code, 2);
  EXPECT_EQ(Cli(daemon, "frobnicate").code, 2);
}

TEST(DaemonCliTest, TenantsCreateListRevokeAndAudit) {
  DaemonHarness daemon("devices: [CPU:0]\n");
  daemon.Start();
  Result created = Cli(daemon, "tenants create zed --max-devices 1 --max-queued 3 --max-job-seconds 60");
  ASSERT_EQ(created.code, 0) << created.out;
  const size_t at = created.out.find("pbt_");
  ASSERT_NE(at, std::string::npos) << created.out;
  const std::string token = created.out.substr(at, 68);
  Result list = Cli(daemon, "tenants list");
  EXPECT_EQ(list.code, 0) << list.out;
  EXPECT_NE(list.out.find("zed"), std::string::npos) << list.out;
  EXPECT_NE(list.out.find("active"), std::string::npos) << list.out;
  EXPECT_EQ(list.out.find(token), std::string::npos) << "the token is shown once";
  // The tenant's token works for its own calls and is refused the owner's.
  EXPECT_EQ(Cli(daemon, "jobs", token).code, 0);
  Result denied = Cli(daemon, "tenants list", token);
  EXPECT_EQ(denied.code, 3) << denied.out;
  EXPECT_NE(denied.out.find("PERMISSION_DENIED"), std::string::npos) << denied.out;
  EXPECT_EQ(Cli(daemon, "tenants create Bad-Name").code, 3);
  EXPECT_EQ(Cli(daemon, "tenants create neg --max-queued -1").code, 2);
  Result revoked = Cli(daemon, "tenants revoke zed");
  EXPECT_EQ(revoked.code, 0) << revoked.out;
  Result after = Cli(daemon, "jobs", token);
  EXPECT_EQ(after.code, 3) << after.out;
  EXPECT_NE(after.out.find("revoked"), std::string::npos) << after.out;
  Result audit = Cli(daemon, "audit");
  EXPECT_EQ(audit.code, 0) << audit.out;
  EXPECT_NE(audit.out.find("CreateTenant"), std::string::npos) << audit.out;
  EXPECT_NE(audit.out.find("INVALID_ARGUMENT"), std::string::npos) << audit.out;
  EXPECT_NE(audit.out.find("RevokeTenant"), std::string::npos) << audit.out;
}

}  // namespace
}  // namespace petabox::daemon::testing
