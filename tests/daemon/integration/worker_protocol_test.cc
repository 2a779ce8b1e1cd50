// The worker protocol against a real petaboxd: a worker whose events are malformed or cut
// short fails its job with a reason that names the protocol error, and the daemon goes on
// (the next job, run by the real worker, succeeds). The "worker" is a shell script that
// misbehaves on fd 3 when the job's name says so and runs petabox-worker otherwise.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "tests/daemon/integration/daemon_harness.h"

namespace petabox::daemon::testing {
namespace {

using v1::Job;

// The fake worker; it finds the job's name in its typed spec (--spec-proto FILE).
std::string WriteFakeWorker(const std::string& dir) {
  const std::string path = dir + "/fake-worker.sh";
  std::ofstream(path) << "#!/bin/sh\n"
                         "spec=''; prev=''\n"
                         "for a in \"$@\"; do [ \"$prev\" = --spec-proto ] && spec=$a; prev=$a; done\n"
                         "has() { grep -q \"$1\" \"$spec\"; }\n"
                         // Not a varint a size can be: more than 5 bytes with the high bit.
                         "if has garbage-events; then printf '\\377\\377\\377\\377\\377\\377\\377' >&3; sleep 60; fi\n"
                         // A size of 10 bytes, then 3, then the end of the stream.
                         "if has truncated-events; then printf '\\012\\003ab' >&3; exit 0; fi\n"
                         // A size of 2^28 bytes (above the 1 MiB limit).
                         "if has oversized-events; then printf '\\200\\200\\200\\200\\001' >&3; sleep 60; fi\n"
                         // A size of 4, then bytes with the invalid wire type 7.
                         "if has unparsable-events; then printf '\\004\\017\\001\\002\\003' >&3; sleep 60; fi\n"
                         "exec " PETABOX_WORKER_BINARY " \"$@\"\n";
  ::chmod(path.c_str(), 0755);
  return path;
}

std::string Named(const std::string& spec, const std::string& name) {
  std::string out = spec;
  out.replace(out.find("short-mlp"), 9, name);
  return out;
}

struct BadStream {
  const char* name;
  const char* reason;  // part of the failure reason
};

TEST(WorkerProtocolTest, MalformedEventStreamsFailTheJobAndTheDaemonGoesOn) {
  DaemonHarness daemon;
  daemon.set_worker_binary(WriteFakeWorker(std::filesystem::path(daemon.dataset_dir()).parent_path().string()));
  daemon.Start();
  const BadStream cases[] = {
      {"garbage-events", "the size prefix is longer than 5 bytes"},
      {"truncated-events", "the stream ended after 3 of the event's 10 bytes"},
      {"oversized-events", "an event of 268435456 bytes is larger than the limit of 1048576"},
      {"unparsable-events", "4 bytes that are not a petabox.v1.WorkerEvent"},
  };
  for (const BadStream& c : cases) {
    const Job job = daemon.Submit(Named(ShortJobSpec(daemon.dataset_dir(), 20, 0, "max_restarts: 3\n"), c.name));
    const Job failed = daemon.WaitForState(job.name(), Job::FAILED, std::chrono::seconds(60));
    EXPECT_NE(failed.failure_reason().find("worker protocol error: event 1 (at byte 0): "), std::string::npos)
        << c.name << ": " << failed.failure_reason();
    EXPECT_NE(failed.failure_reason().find(c.reason), std::string::npos) << c.name << ": " << failed.failure_reason();
    EXPECT_EQ(failed.restarts(), 0) << c.name << ": a broken protocol is not retried";
  }
  // The daemon goes on: a job with the real worker succeeds.
  const Job good = daemon.Submit(ShortJobSpec(daemon.dataset_dir(), 20));
  const Job done = daemon.WaitForState(good.name(), Job::SUCCEEDED);
  EXPECT_EQ(done.result().steps(), 20);
  EXPECT_EQ(done.progress().step(), 20);
}

}  // namespace
}  // namespace petabox::daemon::testing
