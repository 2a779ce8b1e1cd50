// The status page in a real browser: headless Chromium (Debian's `chromium`, installed by
// deploy/install-deps.sh) loads petaboxd's page while a job trains; its scripts fetch
// /api/box and render a row per device with a non-zero FLOP/s. A screenshot is kept as a
// test artifact: <build dir>/test-artifacts/status_page.png.
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>
#include <thread>

#include "tests/daemon/integration/daemon_harness.h"
#include "tests/daemon/integration/http_harness.h"

namespace petabox::daemon::testing {
namespace {

namespace fs = std::filesystem;
using v1::Job;

// <build dir>/test-artifacts (PETABOXD_BINARY is <build dir>/bin/petaboxd).
std::string ArtifactsDir() {
  const fs::path dir = fs::path(PETABOXD_BINARY).parent_path().parent_path() / "test-artifacts";
  fs::create_directories(dir);
  return dir.string();
}

// Runs headless Chromium on `url` with `args` (--dump-dom, --screenshot=...), its own
// fresh profile, and a 45 s limit; returns its stdout.
std::string RunChromium(const std::string& url, const std::vector<std::string>& args, const std::string& work) {
  const std::string profile = work + "/profile-" + std::to_string(::getpid()) + "-" + std::to_string(std::rand());
  std::vector<std::string> argv = {"chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                                   "--no-first-run", "--disable-background-networking", "--disable-component-update",
                                   "--disable-sync", "--user-data-dir=" + profile, "--window-size=1200,900",
                                   "--virtual-time-budget=5000"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back(url);
  const std::string out = work + "/chromium.out";
  {
    ChildProcess chromium(argv, work + "/chromium.log", out);
    EXPECT_EQ(chromium.Wait(std::chrono::seconds(45)), 0) << "chromium failed or timed out:\n"
                                                          << ReadFile(work + "/chromium.log");
  }
  std::error_code ec;
  fs::remove_all(profile, ec);
  return ReadFile(out);
}

TEST(DaemonStatusPageTest, ChromiumRendersDevicesWithFlops) {
  ASSERT_TRUE(InPath("chromium")) << "chromium (Debian package) is missing: run deploy/install-deps.sh";
  DaemonHarness daemon("devices: [CPU:0, CPU:1]\ntelemetry: {interval_seconds: 1}\n");
  daemon.ServeHttp();
  daemon.Start();
  // No checkpoints while the page looks: a sample interval spent writing one has no FLOPs.
  const Job job = daemon.Submit(ShortJobSpec(daemon.dataset_dir(), 1000000, 1000000));
  daemon.WaitFor(job.name(), [](const Job& j) { return j.state() == Job::RUNNING && j.progress().step() > 0; },
                 std::chrono::seconds(60));
  // The page gets what /api/box has: wait until that shows the job's FLOP/s.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  static const std::regex flops("\"name\":\"CPU:0\"[^}]*\"flops_per_second\":([0-9.e+]+)");
  std::smatch m;
  std::string box;
  while (std::chrono::steady_clock::now() < deadline) {
    box = HttpGet(daemon.http_port(), "/api/box").body;
    if (std::regex_search(box, m, flops) && std::stod(m[1]) > 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_TRUE(std::regex_search(box, m, flops) && std::stod(m[1]) > 0) << box;

  char tmpl[] = "/tmp/petabox-chromium-XXXXXX";
  const std::string work = ::mkdtemp(tmpl);
  const std::string url = "http://127.0.0.1:" + std::to_string(daemon.http_port()) + "/";
  // A row per device; the job's device shows a non-zero FLOP/s, in the data and as text.
  // The page shows the last sample's FLOP/s: on a busy test machine one interval can pass
  // without the worker getting the CPU, so the page gets three tries.
  static const std::regex row("<tr class=\"device\" data-device=\"(CPU:[01])\" data-flops=\"([^\"]*)\">(.*?)</tr>");
  std::map<std::string, std::pair<double, std::string>> rows;
  std::string dom;
  for (int attempt = 0; attempt < 3 && !(rows.count("CPU:0") && rows["CPU:0"].first > 0); ++attempt) {
    dom = RunChromium(url, {"--dump-dom"}, work);
    rows.clear();
    for (auto it = std::sregex_iterator(dom.begin(), dom.end(), row); it != std::sregex_iterator(); ++it) {
      const std::string value = (*it)[2];
      rows[(*it)[1]] = {value.empty() ? 0 : std::stod(value), (*it)[3]};
    }
  }
  ASSERT_EQ(rows.size(), 2u) << dom;
  EXPECT_GT(rows["CPU:0"].first, 0) << rows["CPU:0"].second;
  EXPECT_TRUE(std::regex_search(rows["CPU:0"].second, std::regex("[1-9][0-9.]* [kMGTP]?FLOP/s"))) << rows["CPU:0"].second;
  EXPECT_NE(rows["CPU:0"].second.find(job.name().substr(5)), std::string::npos);  // the holder's id
  EXPECT_NE(rows["CPU:1"].second.find("idle"), std::string::npos);
  EXPECT_NE(dom.find("data-job=\"" + job.name() + "\""), std::string::npos);  // the job list
  EXPECT_NE(dom.find("<canvas data-series=\"flops_per_second\""), std::string::npos);

  const std::string shot = ArtifactsDir() + "/status_page.png";
  std::error_code ec;
  fs::remove(shot, ec);
  RunChromium(url, {"--screenshot=" + shot}, work);
  const std::string png = ReadFile(shot);
  ASSERT_GT(png.size(), 1000u) << "no screenshot at " << shot;
  EXPECT_EQ(png.substr(1, 3), "PNG");
  std::fprintf(stderr, "status page screenshot: %s\n", shot.c_str());

  v1::CancelJobRequest cancel;
  cancel.set_name(job.name());
  Job cancelled;
  EXPECT_TRUE(daemon.jobs().CancelJob(daemon.Context().get(), cancel, &cancelled).ok());
  daemon.WaitForState(job.name(), Job::CANCELLED, std::chrono::seconds(60));
  fs::remove_all(work, ec);
}

}  // namespace
}  // namespace petabox::daemon::testing
