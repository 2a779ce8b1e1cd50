// DataLoader: shuffling is a seeded permutation per epoch, batching and normalisation,
// resuming from a position, and prefetching yields exactly the synchronous stream.
#include "engine/data/loader.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

namespace petabox::data {
namespace {

// n examples of 2 features {i, -i}; label i % 3. Feature 0 identifies the example.
std::shared_ptr<const Dataset> Numbered(int64_t n) {
  std::vector<float> features;
  std::vector<int32_t> labels;
  for (int64_t i = 0; i < n; ++i) {
    features.push_back(static_cast<float>(i));
    features.push_back(static_cast<float>(-i));
    labels.push_back(static_cast<int32_t>(i % 3));
  }
  return std::make_shared<FloatDataset>(Shape{2}, 3, std::move(features), std::move(labels));
}

LoaderOptions Raw(int64_t batch_size, int prefetch = 0) {
  LoaderOptions o;
  o.batch_size = batch_size;
  o.scale = 1.0f;
  o.seed = 7;
  o.prefetch = prefetch;
  return o;
}

std::unique_ptr<DataLoader> Make(std::shared_ptr<const Dataset> ds, LoaderOptions o, LoaderPosition at = {}) {
  StatusOr<std::unique_ptr<DataLoader>> loader = DataLoader::Create(std::move(ds), std::move(o), at);
  EXPECT_TRUE(loader.ok()) << loader.status().ToString();
  return loader.ok() ? std::move(loader).value() : nullptr;
}

// The example ids of the next `count` batches.
std::vector<std::vector<int64_t>> Take(DataLoader& loader, int count) {
  std::vector<std::vector<int64_t>> out;
  for (int b = 0; b < count; ++b) {
    StatusOr<Batch> batch = loader.Next();
    EXPECT_TRUE(batch.ok()) << batch.status().ToString();
    if (!batch.ok()) break;
    std::vector<int64_t> ids;
    for (int64_t i = 0; i < batch->size(); ++i) ids.push_back(static_cast<int64_t>(batch->features[2 * i]));
    out.push_back(ids);
  }
  return out;
}

TEST(EpochOrder, IsASeededPermutation) {
  std::vector<int64_t> a = EpochOrder(1000, 1, 0, true);
  std::vector<int64_t> sorted = a;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < 1000; ++i) ASSERT_EQ(sorted[i], i);
  EXPECT_EQ(a, EpochOrder(1000, 1, 0, true));
  EXPECT_NE(a, EpochOrder(1000, 1, 1, true));
  EXPECT_NE(a, EpochOrder(1000, 2, 0, true));
  EXPECT_NE(a, sorted);
  EXPECT_EQ(EpochOrder(5, 1, 3, false), (std::vector<int64_t>{0, 1, 2, 3, 4}));
}

TEST(DataLoader, EachEpochVisitsEveryExampleOnce) {
  auto loader = Make(Numbered(10), Raw(4));
  ASSERT_NE(loader, nullptr);
  EXPECT_EQ(loader->batches_per_epoch(), 3);
  auto epoch0 = Take(*loader, 3);
  EXPECT_EQ(epoch0[2].size(), 2u);  // 10 = 4 + 4 + 2
  std::set<int64_t> seen;
  for (auto& b : epoch0) seen.insert(b.begin(), b.end());
  EXPECT_EQ(seen.size(), 10u);
  EXPECT_EQ(loader->position(), (LoaderPosition{1, 0}));
  auto epoch1 = Take(*loader, 3);
  EXPECT_NE(epoch0, epoch1);  // a new order
}

TEST(DataLoader, DropLastKeepsBatchesFull) {
  LoaderOptions o = Raw(4);
  o.drop_last = true;
  auto loader = Make(Numbered(10), o);
  ASSERT_NE(loader, nullptr);
  EXPECT_EQ(loader->batches_per_epoch(), 2);
  for (auto& b : Take(*loader, 5)) EXPECT_EQ(b.size(), 4u);
}

TEST(DataLoader, LabelsShapeAndNormalisation) {
  LoaderOptions o = Raw(3);
  o.shuffle = false;
  o.scale = 0.5f;
  o.mean = {1.0f};
  o.std = {2.0f};
  auto loader = Make(Numbered(5), o);
  ASSERT_NE(loader, nullptr);
  StatusOr<Batch> b = loader->Next();
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->shape, (Shape{3, 2}));
  EXPECT_EQ(b->labels, (std::vector<int32_t>{0, 1, 2}));
  // example 2: (2 * 0.5 - 1) / 2 = 0 and (-2 * 0.5 - 1) / 2 = -1
  EXPECT_FLOAT_EQ(b->features[4], 0.0f);
  EXPECT_FLOAT_EQ(b->features[5], -1.0f);
}

TEST(DataLoader, SameSeedSameStream) {
  auto a = Make(Numbered(50), Raw(8));
  auto b = Make(Numbered(50), Raw(8));
  EXPECT_EQ(Take(*a, 20), Take(*b, 20));
}

TEST(DataLoader, ResumesExactlyWhereItStood) {
  auto whole = Make(Numbered(23), Raw(5));
  auto all = Take(*whole, 12);  // 5 batches per epoch: crosses two epoch boundaries
  for (int k : {0, 3, 5, 7}) {
    LoaderPosition at{k / 5, k % 5};
    auto resumed = Make(Numbered(23), Raw(5), at);
    auto rest = Take(*resumed, 12 - k);
    EXPECT_EQ(rest, std::vector<std::vector<int64_t>>(all.begin() + k, all.end())) << "resumed at batch " << k;
  }
  auto seeking = Make(Numbered(23), Raw(5, /*prefetch=*/2));
  Take(*seeking, 9);
  ASSERT_TRUE(seeking->Seek({0, 4}).ok());
  EXPECT_EQ(Take(*seeking, 3), std::vector<std::vector<int64_t>>(all.begin() + 4, all.begin() + 7));
  ASSERT_TRUE(seeking->Seek({1, 5}).ok());  // the end of epoch 1 = the start of epoch 2
  EXPECT_EQ(seeking->position(), (LoaderPosition{2, 0}));
  EXPECT_EQ(Take(*seeking, 1)[0], all[10]);
}

TEST(DataLoader, PrefetchYieldsTheSameBatches) {
  for (int depth : {1, 3}) {
    auto sync = Make(Numbered(37), Raw(6, 0));
    auto async = Make(Numbered(37), Raw(6, depth));
    EXPECT_EQ(Take(*sync, 25), Take(*async, 25)) << "prefetch " << depth;
  }
}

TEST(DataLoader, DestroyWhilePrefetching) {
  auto loader = Make(Numbered(100), Raw(10, 4));
  Take(*loader, 1);
  loader.reset();  // joins the prefetch thread blocked on a full queue
}

TEST(DataLoader, RejectsBadOptionsAndPositions) {
  LoaderOptions o = Raw(0);
  EXPECT_EQ(DataLoader::Create(Numbered(5), o).status().code(), StatusCode::kInvalidArgument);
  o = Raw(2);
  o.mean = {1, 2, 3};
  EXPECT_NE(DataLoader::Create(Numbered(5), o).status().message().find("LoaderOptions.mean"), std::string::npos);
  o = Raw(2);
  o.std = {0};
  EXPECT_FALSE(DataLoader::Create(Numbered(5), o).ok());
  EXPECT_FALSE(DataLoader::Create(Numbered(5), Raw(2), {0, 4}).ok());  // 3 batches per epoch
  EXPECT_FALSE(DataLoader::Create(Numbered(5), Raw(2), {-1, 0}).ok());
  EXPECT_FALSE(DataLoader::Create(Numbered(0), Raw(2)).ok());
}

TEST(DataLoader, SubsetServesTheFirstExamples) {
  auto sub = Subset(Numbered(20), 6);
  EXPECT_EQ(sub->size(), 6);
  LoaderOptions o = Raw(6);
  auto loader = Make(sub, o);
  ASSERT_NE(loader, nullptr);
  auto batch = Take(*loader, 1)[0];
  std::sort(batch.begin(), batch.end());
  EXPECT_EQ(batch, (std::vector<int64_t>{0, 1, 2, 3, 4, 5}));
}

}  // namespace
}  // namespace petabox::data
