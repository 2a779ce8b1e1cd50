#include "client/lib/names.h"

#include <gtest/gtest.h>

namespace petabox::client {
namespace {

TEST(Names, JobShortAndLongForms) {
  EXPECT_EQ(*NormalizeJobName("j-0123456789ab"), "jobs/j-0123456789ab");
  EXPECT_EQ(*NormalizeJobName("jobs/j-0123456789ab"), "jobs/j-0123456789ab");
  EXPECT_EQ(ShortJobName("jobs/j-1"), "j-1");
  EXPECT_EQ(ShortJobName("j-1"), "j-1");
}

TEST(Names, BadJobNames) {
  for (const char* name : {"", "jobs/", "jobs/j-1/x", "j 1", "datasets/x", "../j-1"}) {
    StatusOr<std::string> normalized = NormalizeJobName(name);
    EXPECT_FALSE(normalized.ok()) << name;
    if (!normalized.ok()) {
      EXPECT_EQ(normalized.status().code(), StatusCode::kInvalidArgument);
    }
  }
}

TEST(Names, Datasets) {
  EXPECT_EQ(*NormalizeDatasetName("fashion-mnist"), "datasets/fashion-mnist");
  EXPECT_EQ(*NormalizeDatasetName("datasets/a1"), "datasets/a1");
  EXPECT_TRUE(NormalizeDatasetName(std::string(63, 'a')).ok());
  for (const std::string& name : {std::string(""), std::string("1abc"), std::string("Abc"), std::string("a_b"),
                                   std::string(64, 'a'), std::string("datasets/")}) {
    EXPECT_FALSE(NormalizeDatasetName(name).ok()) << name;
  }
}

}  // namespace
}  // namespace petabox::client
