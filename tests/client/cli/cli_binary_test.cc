// The built `petabox` binary: help, usage errors, and whole commands against a fake daemon.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/util/sha256.h"
#include "tests/client/fake_daemon.h"

namespace petabox::cli {
namespace {

namespace fs = std::filesystem;

struct CliRun {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

class CliBinaryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    home_ = fs::temp_directory_path() /
            ("petabox-cli-" + std::to_string(getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(home_);
    fs::create_directories(home_);
  }
  void TearDown() override { fs::remove_all(home_); }

  // Runs petabox with `args` in an environment of only HOME (the temp dir) and `env`;
  // killed after 60 s so that a hanging command fails its test instead of the suite.
  CliRun Petabox(const std::string& args, const std::string& env = "") {
    const std::string err_path = (home_ / "stderr").string();
    const std::string command = "timeout 60 env -i HOME=" + home_.string() + " " + env + " " + PETABOX_CLI_BINARY + " " + args +
                                " 2>" + err_path;
    CliRun run;
    FILE* pipe = popen(command.c_str(), "r");
    if (pipe == nullptr) return run;
    char buffer[4096];
    size_t n;
    while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) run.out.append(buffer, n);
    int status = pclose(pipe);
    run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    std::ifstream in(err_path);
    std::stringstream err;
    err << in.rdbuf();
    run.err = err.str();
    return run;
  }

  std::string Server() { return "--server " + daemon_.address() + " "; }

  fs::path home_;
  testing::FakeDaemon daemon_;
};

TEST_F(CliBinaryTest, HelpListsCommandsAndExitCodes) {
  CliRun run = Petabox("--help");
  EXPECT_EQ(run.exit_code, 0);
  for (const char* text : {"submit", "jobs", "status", "watch", "logs", "cancel", "upload", "datasets", "box",
                           "checkpoint", "--server", "--token", "--data-dir", "--tls-ca", "--json", "Exit codes:",
                           "4  the job ended FAILED or CANCELLED"}) {
    EXPECT_NE(run.out.find(text), std::string::npos) << text;
  }
  EXPECT_EQ(Petabox("submit --help").exit_code, 0);
}

TEST_F(CliBinaryTest, UsageErrorsExitTwo) {
  EXPECT_EQ(Petabox("").exit_code, 2);
  EXPECT_EQ(Petabox("jobs --bogus").exit_code, 2);
  EXPECT_EQ(Petabox("nosuchcommand").exit_code, 2);
  EXPECT_EQ(Petabox("status").exit_code, 2);
  CliRun bad_file = Petabox("submit /nonexistent/spec.yaml");
  EXPECT_EQ(bad_file.exit_code, 2);
  EXPECT_NE(bad_file.err.find("petabox: cannot read job spec /nonexistent/spec.yaml"), std::string::npos);
  EXPECT_EQ(Petabox("status 'jobs/../x'").exit_code, 2);
  EXPECT_EQ(Petabox("jobs --state bogus").exit_code, 2);
}

TEST_F(CliBinaryTest, BadConfigFileIsAUsageError) {
  fs::create_directories(home_ / ".config/petabox");
  std::ofstream(home_ / ".config/petabox/cli.yaml") << "sever: x\n";
  CliRun run = Petabox("box");
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("unknown key 'sever'"), std::string::npos) << run.err;
}

TEST_F(CliBinaryTest, ServerErrorsExitThreeWithTheCode) {
  daemon_.script().token = "right";
  CliRun run = Petabox(Server() + "--token wrong status j-1");
  EXPECT_EQ(run.exit_code, 3);
  EXPECT_NE(run.err.find("petabox: UNAUTHENTICATED: missing or wrong token (using --token)"), std::string::npos)
      << run.err;
  CliRun missing = Petabox(Server() + "--token right status j-1");
  EXPECT_EQ(missing.exit_code, 3);
  EXPECT_NE(missing.err.find("petabox: NOT_FOUND: no job jobs/j-1"), std::string::npos) << missing.err;
}

TEST_F(CliBinaryTest, TokenFromEnvironmentAndOwnerFile) {
  daemon_.script().token = "owner-token";
  EXPECT_EQ(Petabox(Server() + "box", "PETABOX_TOKEN=owner-token").exit_code, 0);
  // The fake listens on 127.0.0.1: the default data dir's owner token is used.
  fs::create_directories(home_ / ".local/share/petabox");
  std::ofstream(home_ / ".local/share/petabox/owner.token") << "owner-token\n";
  CliRun run = Petabox(Server() + "box");
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(daemon_.record().authorization.back(), "Bearer owner-token");
}

TEST_F(CliBinaryTest, SubmitPrintsTheName) {
  std::ofstream(home_ / "spec.yaml") << "name: x\nepochs: 1\n";
  CliRun run = Petabox(Server() + "submit " + (home_ / "spec.yaml").string() + " --priority 5");
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "jobs/j-000000000001\n");
  CliRun json = Petabox(Server() + "--json submit " + (home_ / "spec.yaml").string());
  EXPECT_NE(json.out.find("\"name\":\"jobs/j-000000000001\""), std::string::npos) << json.out;
  EXPECT_NE(json.out.find("\"state\":\"QUEUED\""), std::string::npos) << json.out;
}

TEST_F(CliBinaryTest, JobsFollowsPages) {
  for (const char* name : {"jobs/j-1", "jobs/j-2", "jobs/j-3"}) {
    v1::Job& job = daemon_.script().jobs[name];
    job.set_name(name);
    job.set_state(v1::Job::RUNNING);
  }
  CliRun run = Petabox(Server() + "jobs");
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out.find("NAME "), 0u);
  for (const char* name : {"jobs/j-1 ", "jobs/j-2 ", "jobs/j-3 "}) EXPECT_NE(run.out.find(name), std::string::npos);
  EXPECT_EQ(daemon_.record().page_tokens, (std::vector<std::string>{"", "1", "2"}));
  CliRun limited = Petabox(Server() + "jobs --limit 2 --json");
  EXPECT_NE(limited.out.find("jobs/j-2"), std::string::npos);
  EXPECT_EQ(limited.out.find("jobs/j-3"), std::string::npos);
}

TEST_F(CliBinaryTest, WatchExitCodeFollowsTheJob) {
  daemon_.script().events.push_back(testing::Event(1));
  daemon_.script().events.back().mutable_state_change()->set_state(v1::Job::FAILED);
  daemon_.script().events.back().mutable_state_change()->set_reason("loss became NaN");
  CliRun run = Petabox(Server() + "watch j-1");
  EXPECT_EQ(run.exit_code, 4) << run.err;
  EXPECT_EQ(run.out, "state FAILED: loss became NaN\njobs/j-1 FAILED: loss became NaN\n");
}

TEST_F(CliBinaryTest, LogsPrintsEveryPage) {
  daemon_.script().logs = {"one", "two", "three"};
  CliRun run = Petabox(Server() + "logs jobs/j-1");
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "one\ntwo\nthree\n");
}

TEST_F(CliBinaryTest, LogsFollowEndsWithTheJob) {
  daemon_.script().logs = {"a"};
  daemon_.script().jobs["jobs/j-1"].set_state(v1::Job::SUCCEEDED);
  CliRun run = Petabox(Server() + "--json logs -f j-1");
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "{\"line\":1,\"text\":\"a\"}\n");
}

TEST_F(CliBinaryTest, CheckpointVerified) {
  daemon_.script().checkpoint = "weights!";
  daemon_.script().checkpoint_sha256 = Sha256Hex("weights!");
  const std::string out = (home_ / "model.ckpt").string();
  CliRun run = Petabox(Server() + "checkpoint j-1 -o " + out);
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_TRUE(fs::exists(out));
  EXPECT_FALSE(fs::exists(out + ".partial"));
  EXPECT_EQ(fs::file_size(out), 8u);
}

TEST_F(CliBinaryTest, CheckpointMismatchRemovesTheFile) {
  daemon_.script().checkpoint = "weights!";
  daemon_.script().checkpoint_sha256 = Sha256Hex("other");
  const std::string out = (home_ / "model.ckpt").string();
  CliRun run = Petabox(Server() + "checkpoint j-1 -o " + out);
  EXPECT_EQ(run.exit_code, 3);
  EXPECT_NE(run.err.find("sha256 mismatch"), std::string::npos) << run.err;
  EXPECT_FALSE(fs::exists(out));
  EXPECT_FALSE(fs::exists(out + ".partial"));
}

TEST_F(CliBinaryTest, UploadAndBox) {
  fs::create_directories(home_ / "set");
  std::ofstream(home_ / "set" / "a.bin") << "abc";
  CliRun run = Petabox(Server() + "upload " + (home_ / "set").string() + " --name my-set");
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "datasets/my-set: 1 files, 3 B\n");
  EXPECT_EQ(daemon_.record().upload_data, "abc");
  daemon_.script().box.set_daemon_version("9.9");
  CliRun box = Petabox(Server() + "box --json");
  EXPECT_EQ(box.exit_code, 0);
  EXPECT_NE(box.out.find("\"daemon_version\":\"9.9\""), std::string::npos) << box.out;
}

}  // namespace
}  // namespace petabox::cli
