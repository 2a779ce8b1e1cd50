#include "client/cli/job_view.h"

#include <gtest/gtest.h>

namespace petabox::cli {
namespace {

google::protobuf::Timestamp At(int64_t seconds) {
  google::protobuf::Timestamp time;
  time.set_seconds(seconds);
  return time;
}

v1::Job RunningJob() {
  v1::Job job;
  job.set_name("jobs/j-0123456789ab");
  job.set_display_name("fashion-mnist-mlp");
  job.set_state(v1::Job::RUNNING);
  job.set_device_count(2);
  job.add_devices("CUDA:0");
  job.add_devices("CUDA:1");
  job.mutable_progress()->set_step(100);
  job.mutable_progress()->set_total_steps(938);
  job.mutable_progress()->set_loss(0.5);
  *job.mutable_create_time() = At(1000);
  return job;
}

TEST(JobView, Table) {
  v1::Job queued;
  queued.set_name("jobs/j-000000000002");
  queued.set_state(v1::Job::QUEUED);
  queued.set_display_name("big");
  queued.set_device_count(4);
  *queued.mutable_create_time() = At(1000 + 3600 * 5);
  std::string text = JobsTable({RunningJob(), queued}, At(1000 + 3600 * 5 + 30)).Render();
  EXPECT_EQ(text,
            "NAME                 STATE    DISPLAY NAME       DEVICES        STEP/TOTAL  LOSS  AGE\n"
            "jobs/j-0123456789ab  RUNNING  fashion-mnist-mlp  CUDA:0,CUDA:1     100/938   0.5   5h\n"
            "jobs/j-000000000002  QUEUED   big                4                       -     -  30s\n");
}

TEST(JobView, DetailsOfARunningJob) {
  std::string text = RenderJobDetails(RunningJob(), At(1060));
  EXPECT_NE(text.find("Name:         jobs/j-0123456789ab\n"), std::string::npos) << text;
  EXPECT_NE(text.find("State:        RUNNING\n"), std::string::npos);
  EXPECT_NE(text.find("Devices:      CUDA:0,CUDA:1 (2 asked)\n"), std::string::npos);
  EXPECT_NE(text.find("Created:      1970-01-01T00:16:40Z (1m ago)\n"), std::string::npos);
  EXPECT_NE(text.find("Started:      -\n"), std::string::npos);
  EXPECT_NE(text.find("Progress:     epoch 0 step 100/938 loss 0.5"), std::string::npos);
  EXPECT_NE(text.find("Checkpoint:   none\n"), std::string::npos);
  EXPECT_EQ(text.find("Reason:"), std::string::npos);
  EXPECT_EQ(text.find("Result:"), std::string::npos);
}

TEST(JobView, DetailsOfEndedJobs) {
  v1::Job failed = RunningJob();
  failed.set_state(v1::Job::FAILED);
  failed.set_failure_reason("CUDA out of memory");
  failed.set_has_checkpoint(true);
  std::string text = RenderJobDetails(failed, At(2000));
  EXPECT_NE(text.find("Reason:       CUDA out of memory\n"), std::string::npos) << text;
  EXPECT_NE(text.find("petabox checkpoint jobs/j-0123456789ab -o FILE"), std::string::npos);

  v1::Job done = RunningJob();
  done.set_state(v1::Job::SUCCEEDED);
  done.mutable_result()->set_test_accuracy(0.9);
  EXPECT_NE(RenderJobDetails(done, At(2000)).find("Result:       test accuracy 90.00%"), std::string::npos);
}

TEST(JobView, ParseStates) {
  StatusOr<std::vector<v1::Job::State>> states = ParseJobStates({"running", "QUEUED", "Failed"});
  ASSERT_TRUE(states.ok());
  EXPECT_EQ(*states, (std::vector<v1::Job::State>{v1::Job::RUNNING, v1::Job::QUEUED, v1::Job::FAILED}));
  EXPECT_TRUE(ParseJobStates({})->empty());
  EXPECT_FALSE(ParseJobStates({"done"}).ok());
  EXPECT_FALSE(ParseJobStates({"state_unspecified"}).ok());
}

}  // namespace
}  // namespace petabox::cli
