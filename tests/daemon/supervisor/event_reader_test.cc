// WorkerEventReader: the worker protocol's framing as the daemon reads it: events split at
// every byte, several in one read, the size limit, and each kind of broken stream.
#include "daemon/supervisor/event_reader.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/util/delimited_message_util.h>

namespace petabox::daemon {
namespace {

std::string Delimited(const v1::WorkerEvent& event) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream out(&bytes);
    google::protobuf::util::SerializeDelimitedToZeroCopyStream(event, &out);
  }
  return bytes;
}

v1::WorkerEvent Progress(int64_t step) {
  v1::WorkerEvent e;
  e.mutable_progress()->set_step(step);
  e.mutable_progress()->set_loss(0.5);
  e.mutable_time()->set_seconds(1700000000 + step);
  return e;
}

v1::WorkerEvent Log(const std::string& text) {
  v1::WorkerEvent e;
  e.mutable_log()->set_text(text);
  return e;
}

bool Contains(const Status& s, const std::string& part) { return s.message().find(part) != std::string::npos; }

TEST(WorkerEventReaderTest, SeveralEventsInOneRead) {
  const std::string stream = Delimited(Progress(1)) + Delimited(Log("hi")) + Delimited(Progress(2));
  WorkerEventReader reader;
  std::vector<v1::WorkerEvent> events;
  ASSERT_TRUE(reader.Feed(stream, &events).ok());
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].progress().step(), 1);
  EXPECT_EQ(events[1].log().text(), "hi");
  EXPECT_EQ(events[2].progress().step(), 2);
  EXPECT_EQ(events[2].time().seconds(), 1700000002);
  EXPECT_EQ(reader.buffered(), 0u);
  EXPECT_EQ(reader.events(), 3);
  EXPECT_TRUE(reader.Finish().ok());
}

// Split the stream at every byte (inside a size prefix and inside a message, a 2-byte
// varint included): the same events come out, each once, in order.
TEST(WorkerEventReaderTest, SplitsAtEveryByte) {
  const std::string long_text(200, 'z');  // a size of 2 varint bytes
  const std::string stream = Delimited(Progress(7)) + Delimited(Log(long_text)) + Delimited(Progress(8));
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    WorkerEventReader reader;
    std::vector<v1::WorkerEvent> events;
    ASSERT_TRUE(reader.Feed(stream.substr(0, cut), &events).ok()) << cut;
    ASSERT_TRUE(reader.Feed(stream.substr(cut), &events).ok()) << cut;
    ASSERT_EQ(events.size(), 3u) << cut;
    EXPECT_EQ(events[1].log().text(), long_text);
    EXPECT_EQ(events[2].progress().step(), 8);
    EXPECT_TRUE(reader.Finish().ok());
  }
  // One byte at a time.
  WorkerEventReader reader;
  std::vector<v1::WorkerEvent> events;
  for (char c : stream) ASSERT_TRUE(reader.Feed(std::string(1, c), &events).ok());
  EXPECT_EQ(events.size(), 3u);
}

TEST(WorkerEventReaderTest, SizeAboveTheLimitFailsBeforeTheBytesArrive) {
  WorkerEventReader reader(/*max_event_bytes=*/64);
  std::vector<v1::WorkerEvent> events;
  ASSERT_TRUE(reader.Feed(Delimited(Log("fits")), &events).ok());
  Status s = reader.Feed(Delimited(Log(std::string(100, 'x'))).substr(0, 3), &events);
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_TRUE(Contains(s, "worker protocol error: event 2 (at byte 9): an event of 104 bytes is larger than the "
                          "limit of 64"))
      << s.ToString();
  EXPECT_EQ(events.size(), 1u);
  // Sticky: the stream cannot be resynchronized.
  EXPECT_EQ(reader.Feed(Delimited(Log("more")), &events).message(), s.message());
  EXPECT_EQ(reader.Finish().message(), s.message());
  EXPECT_EQ(events.size(), 1u);
}

TEST(WorkerEventReaderTest, DefaultLimitIsOneMebibyte) {
  WorkerEventReader reader;
  std::vector<v1::WorkerEvent> events;
  // varint 0x80 0x80 0x80 0x01 = 2^21 bytes.
  Status s = reader.Feed(std::string("\x80\x80\x80\x01", 4), &events);
  EXPECT_TRUE(Contains(s, "an event of 2097152 bytes is larger than the limit of 1048576")) << s.ToString();
}

TEST(WorkerEventReaderTest, OverlongSizePrefix) {
  WorkerEventReader reader;
  std::vector<v1::WorkerEvent> events;
  Status s = reader.Feed(std::string(6, '\xff'), &events);
  EXPECT_TRUE(Contains(s, "the size prefix is longer than 5 bytes")) << s.ToString();
}

TEST(WorkerEventReaderTest, UnparsableBytesAfterAValidPrefix) {
  WorkerEventReader reader;
  std::vector<v1::WorkerEvent> events;
  // Size 4, then a tag with the invalid wire type 7.
  Status s = reader.Feed(Delimited(Progress(1)) + std::string("\x04\x0f\x01\x02\x03", 5), &events);
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_TRUE(Contains(s, "event 2")) << s.ToString();
  EXPECT_TRUE(Contains(s, "4 bytes that are not a petabox.v1.WorkerEvent")) << s.ToString();
  EXPECT_EQ(events.size(), 1u);
}

TEST(WorkerEventReaderTest, EventWithNothingSet) {
  WorkerEventReader reader;
  std::vector<v1::WorkerEvent> events;
  v1::WorkerEvent only_time;
  only_time.mutable_time()->set_seconds(5);
  EXPECT_TRUE(Contains(reader.Feed(Delimited(only_time), &events), "a WorkerEvent with no event set"));
  WorkerEventReader empty;
  EXPECT_TRUE(Contains(empty.Feed(std::string(1, '\0'), &events), "no event set"));
}

TEST(WorkerEventReaderTest, StreamEndingInsideAnEvent) {
  const std::string event = Delimited(Log("a log line"));
  {
    WorkerEventReader reader;
    std::vector<v1::WorkerEvent> events;
    ASSERT_TRUE(reader.Feed(Delimited(Progress(1)) + event.substr(0, event.size() - 4), &events).ok());
    EXPECT_EQ(events.size(), 1u);
    EXPECT_GT(reader.buffered(), 0u);
    Status s = reader.Finish();
    EXPECT_EQ(s.code(), StatusCode::kDataLoss);
    EXPECT_TRUE(Contains(s, "event 2")) << s.ToString();
    EXPECT_TRUE(Contains(s, "the stream ended after 10 of the event's 14 bytes")) << s.ToString();
  }
  {
    WorkerEventReader reader;
    std::vector<v1::WorkerEvent> events;
    ASSERT_TRUE(reader.Feed(std::string("\x80", 1), &events).ok());  // half a size varint
    EXPECT_TRUE(Contains(reader.Finish(), "the stream ended inside the event's size prefix"));
  }
}

}  // namespace
}  // namespace petabox::daemon
