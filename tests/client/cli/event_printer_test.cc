#include "client/cli/event_printer.h"

#include <gtest/gtest.h>

#include <sstream>

namespace petabox::cli {
namespace {

v1::JobEvent ProgressEvent(int64_t sequence, int64_t step) {
  v1::JobEvent event;
  event.set_sequence(sequence);
  event.mutable_progress()->set_step(step);
  event.mutable_progress()->set_total_steps(10);
  event.mutable_progress()->set_loss(1);
  return event;
}

v1::JobEvent StateEvent(int64_t sequence, v1::Job::State state) {
  v1::JobEvent event;
  event.set_sequence(sequence);
  event.mutable_state_change()->set_state(state);
  return event;
}

v1::JobEvent LogEvent(int64_t sequence) {
  v1::JobEvent event;
  event.set_sequence(sequence);
  event.mutable_log()->set_text("worker says hi");
  return event;
}

TEST(EventPrinter, LinesModeOneLinePerEvent) {
  std::ostringstream out, err;
  EventPrinter printer(out, err, OutputMode::kLines, 80);
  printer.Print(StateEvent(1, v1::Job::RUNNING));
  printer.Print(ProgressEvent(2, 5));
  printer.Print(LogEvent(3));
  printer.Note("reconnecting");
  printer.Finish();
  EXPECT_EQ(out.str(),
            "state RUNNING\n"
            "progress epoch 0 step 5/10 loss 1 samples/s 0.0 eta --\n");
  EXPECT_EQ(err.str(), "petabox: reconnecting\n");
}

TEST(EventPrinter, LiveModeRedrawsInPlace) {
  std::ostringstream out, err;
  EventPrinter printer(out, err, OutputMode::kLive, 60);
  printer.Print(ProgressEvent(1, 1));
  printer.Print(ProgressEvent(2, 2));
  const std::string line1 = "epoch 0  step 1/10  10%  loss 1  0.0 samples/s  ETA --";
  const std::string line2 = "epoch 0  step 2/10  20%  loss 1  0.0 samples/s  ETA --";
  printer.Print(StateEvent(4, v1::Job::RUNNING));
  printer.Print(StateEvent(5, v1::Job::SUCCEEDED));
  printer.Finish();
  // Other lines go above the live line; the job's end leaves the last progress line in place.
  EXPECT_EQ(out.str(), "\r\033[K" + line1 + "\r\033[K" + line2 + "\r\033[Kstate RUNNING\n" + line2 + "\n" +
                           "\r\033[Kstate SUCCEEDED\n");
}

TEST(EventPrinter, LiveModeNoteClearsAndRedraws) {
  std::ostringstream out, err;
  EventPrinter printer(out, err, OutputMode::kLive, 60);
  printer.Print(ProgressEvent(1, 1));
  printer.Note("stream broke");
  const std::string line = "epoch 0  step 1/10  10%  loss 1  0.0 samples/s  ETA --";
  EXPECT_EQ(out.str(), "\r\033[K" + line + "\r\033[K" + line);
  EXPECT_EQ(err.str(), "petabox: stream broke\n");
}

TEST(EventPrinter, JsonModeEveryEvent) {
  std::ostringstream out, err;
  EventPrinter printer(out, err, OutputMode::kJson, 80);
  printer.Print(LogEvent(7));
  std::string json = out.str();
  EXPECT_EQ(json.back(), '\n');
  EXPECT_NE(json.find("\"sequence\":\"7\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"log\":{\"text\":\"worker says hi\"}"), std::string::npos) << json;
}

}  // namespace
}  // namespace petabox::cli
