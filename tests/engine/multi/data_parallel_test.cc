// Data-parallel training on the virtual CPU devices: 1, 2, 3 and 6 devices give the weights
// one-device training gives on the same global batch (uneven parts included); replicas
// stay identical; synchronized BatchNorm equals one-device BatchNorm; JIT replays equal
// eager steps; setup errors.
#include "engine/nn/data_parallel.h"

#include <gtest/gtest.h>

#include <memory>

#include "engine/multi.h"
#include "engine/nn/layers.h"
#include "engine/nn/optim/adam.h"
#include "engine/nn/optim/sgd.h"
#include "engine/nn/train_step.h"
#include "tests/engine/multi/multi_test_util.h"

namespace petabox::nn {
namespace {

using multitest::CpuDevices;
using multitest::MaxDiff;
using multitest::Read;

constexpr int64_t kClasses = 3;

// (N, 1, 4, 4) -> kClasses; with_bn adds a convolution and a BatchNorm2d.
std::unique_ptr<Module> Model(bool with_bn) {
  Rng rng(7);
  auto m = std::make_unique<Sequential>();
  if (with_bn) {
    m->Emplace<Conv2d>(1, 2, 3, rng, Conv2dOptions{.padding = 1});
    m->Emplace<BatchNorm2d>(2);
    m->Emplace<ReLU>();
  }
  m->Emplace<Flatten>();
  m->Emplace<Linear>(with_bn ? 32 : 16, 6, rng);
  m->Emplace<ReLU>();
  m->Emplace<Linear>(6, kClasses, rng);
  return m;
}

Tensor Images(int64_t batch, uint64_t seed) { return Tensor::Randn({batch, 1, 4, 4}, seed); }

Tensor Labels(int64_t batch, uint64_t seed) {
  Rng rng(seed);
  std::vector<float> v(static_cast<size_t>(batch));
  for (float& x : v) x = static_cast<float>(rng.NextU64() % kClasses);
  return Tensor::FromVector(v, {batch}, DType::kInt32);
}

std::vector<float> Weights(Module& m) {
  std::vector<float> all;
  for (auto& [name, t] : m.NamedState()) {
    std::vector<float> v = Read(*t);
    all.insert(all.end(), v.begin(), v.end());
  }
  return all;
}

enum class Opt { kSgd, kAdam };

std::unique_ptr<Optimizer> MakeOpt(Module& m, Opt kind) {
  if (kind == Opt::kSgd) return std::make_unique<Sgd>(m.NamedParameters(), SgdOptions{.lr = 0.1, .momentum = 0.9});
  return std::make_unique<Adam>(m.NamedParameters(), AdamOptions{.lr = 0.01});
}

// Replicas of Model() on `devices`, with optimizers and a DataParallelStep over them.
struct DpTrainer {
  DpTrainer(const std::vector<std::string>& devices, Opt opt, bool with_bn, DataParallelOptions options) {
    for (const std::string& d : devices) {
      replicas.push_back(Model(with_bn));
      EXPECT_TRUE(MoveToDevice(*replicas.back(), d).ok());
      optimizers.push_back(MakeOpt(*replicas.back(), opt));
    }
    std::vector<Module*> r;
    std::vector<Optimizer*> o;
    for (size_t i = 0; i < replicas.size(); ++i) r.push_back(replicas[i].get()), o.push_back(optimizers[i].get());
    auto created = DataParallelStep::Create(r, o, options);
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    if (created.ok()) step = std::move(*created);
  }
  // One step on the global batch, split as MultiTensor::Shard splits it.
  double Run(const Tensor& images, const Tensor& labels, int64_t i) {
    MultiTensor x = MultiTensor::Shard(images, step->devices(), 0), y = MultiTensor::Shard(labels, step->devices(), 0);
    StatusOr<double> loss = step->Run(x.shards(), y.shards(), i);
    EXPECT_TRUE(loss.ok()) << loss.status().ToString();
    return loss.ok() ? *loss : NAN;
  }
  std::vector<std::unique_ptr<Module>> replicas;
  std::vector<std::unique_ptr<Optimizer>> optimizers;
  std::unique_ptr<DataParallelStep> step;
};

// Trains `steps` steps of `batch` on one device (TrainStep) and on `devices`; compares the
// losses and the weights, and checks that every replica holds the same weights.
void ExpectMatchesOneDevice(const std::vector<std::string>& devices, Opt opt, bool with_bn, int64_t batch,
                            DataParallelOptions options = {}) {
  std::unique_ptr<Module> single = Model(with_bn);
  std::unique_ptr<Optimizer> single_opt = MakeOpt(*single, opt);
  TrainStep reference(*single, *single_opt);
  DpTrainer dp(devices, opt, with_bn, options);
  ASSERT_TRUE(dp.step);
  for (int64_t i = 0; i < 4; ++i) {
    Tensor images = Images(batch, 100 + i), labels = Labels(batch, 200 + i);
    StatusOr<double> want = reference.Run(images, labels, i);
    ASSERT_TRUE(want.ok()) << want.status().ToString();
    EXPECT_NEAR(dp.Run(images, labels, i), *want, 1e-5) << devices.size() << " devices, step " << i;
  }
  std::vector<float> want = Weights(*single), first = Weights(*dp.replicas[0]);
  EXPECT_LE(MaxDiff(first, want), 2e-5) << devices.size() << " devices";
  for (size_t r = 1; r < dp.replicas.size(); ++r) {
    std::vector<float> other = Weights(*dp.replicas[r]);
    if (with_bn && !options.sync_batchnorm) {
      // Running statistics are per device; the parameters are the same everywhere.
      EXPECT_EQ(Read(dp.replicas[r]->NamedParameters()[0].second->Detach()),
                Read(dp.replicas[0]->NamedParameters()[0].second->Detach()));
    } else {
      EXPECT_EQ(other, first) << "replica " << r << " drifted from replica 0";
    }
  }
  EXPECT_TRUE(dp.step->captured());
}

TEST(DataParallelTest, MatchesOneDeviceOn1236Devices) {
  for (int n : {1, 2, 3, 6}) ExpectMatchesOneDevice(CpuDevices(n), Opt::kSgd, false, 12);
}

TEST(DataParallelTest, UnevenPartsAndAdam) {
  ExpectMatchesOneDevice(CpuDevices(3), Opt::kAdam, false, 13);  // parts of 5, 4, 4
}

TEST(DataParallelTest, SmallBucketsAndRingAllReduce) {
  DataParallelOptions options;
  options.bucket_bytes = 64;  // one bucket per gradient
  options.allreduce.algorithm = AllReduceOptions::Algorithm::kRing;
  ExpectMatchesOneDevice(CpuDevices(2), Opt::kSgd, false, 12, options);
}

TEST(DataParallelTest, SynchronizedBatchNormMatchesOneDevice) {
  DataParallelOptions options;
  options.sync_batchnorm = true;
  ExpectMatchesOneDevice(CpuDevices(3), Opt::kSgd, true, 12, options);
}

TEST(DataParallelTest, PerDeviceBatchNormKeepsParametersInStep) {
  DpTrainer dp(CpuDevices(2), Opt::kSgd, true, {});
  ASSERT_TRUE(dp.step);
  for (int64_t i = 0; i < 3; ++i) EXPECT_TRUE(std::isfinite(dp.Run(Images(8, i), Labels(8, i), i)));
  for (size_t p = 0; p < dp.replicas[0]->NamedParameters().size(); ++p) {
    EXPECT_EQ(Read(dp.replicas[1]->NamedParameters()[p].second->Detach()),
              Read(dp.replicas[0]->NamedParameters()[p].second->Detach()));
  }
  // Each device normalized with its own half of the batch: the running means differ.
  auto* bn0 = dynamic_cast<BatchNorm2d*>(&(*static_cast<Sequential*>(dp.replicas[0].get()))[1]);
  auto* bn1 = dynamic_cast<BatchNorm2d*>(&(*static_cast<Sequential*>(dp.replicas[1].get()))[1]);
  ASSERT_TRUE(bn0 && bn1);
  EXPECT_NE(Read(bn0->running_mean()), Read(bn1->running_mean()));
}

TEST(DataParallelTest, JitAndEagerAgree) {
  DataParallelOptions eager_options;
  eager_options.use_jit = false;
  DpTrainer jit(CpuDevices(2), Opt::kAdam, false, {}), eager(CpuDevices(2), Opt::kAdam, false, eager_options);
  for (int64_t i = 0; i < 4; ++i) {
    Tensor images = Images(10, 300 + i), labels = Labels(10, 400 + i);
    EXPECT_NEAR(jit.Run(images, labels, i), eager.Run(images, labels, i), 1e-6);
  }
  EXPECT_LE(MaxDiff(Weights(*jit.replicas[1]), Weights(*eager.replicas[1])), 1e-6);
  EXPECT_GT(jit.step->captured_ops(), 0u);
  EXPECT_FALSE(eager.step->captured());
}

TEST(DataParallelTest, StateCopiesAndErrors) {
  auto a = Model(false), b = Model(false);
  ASSERT_TRUE(MoveToDevice(*a, "CPU:0").ok());  // whatever the default device is
  ASSERT_TRUE(MoveToDevice(*b, "CPU:1").ok());
  Sgd oa(a->NamedParameters(), {}), ob(b->NamedParameters(), {});
  EXPECT_EQ(DataParallelStep::Create({a.get(), b.get()}, {&oa}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(DataParallelStep::Create({a.get(), a.get()}, {&oa, &oa}).status().code(), StatusCode::kInvalidArgument);
  auto other = Model(true);
  Sgd oo(other->NamedParameters(), {});
  EXPECT_EQ(DataParallelStep::Create({a.get(), other.get()}, {&oa, &oo}).status().code(), StatusCode::kInvalidArgument);
  auto created = DataParallelStep::Create({a.get(), b.get()}, {&oa, &ob});
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ((*created)->devices(), (std::vector<std::string>{"CPU:0", "CPU:1"}));
  Tensor x = Images(4, 1), y = Labels(4, 1);
  EXPECT_EQ((*created)->Run({x}, {y}, 0).status().code(), StatusCode::kInvalidArgument);      // one part
  EXPECT_EQ((*created)->Run({x, x}, {y, y}, 0).status().code(), StatusCode::kInvalidArgument);  // both on CPU:0
  EXPECT_EQ(SplitBatch(13, 3), (std::vector<int64_t>{5, 4, 4}));
  // Copying state makes replicas equal again.
  auto c = Model(false);
  ASSERT_TRUE(AssignInPlace(c->NamedParameters()[0].second, Tensor::Zeros({6, 16})).ok());
  ASSERT_TRUE(CopyModuleState(*a, *c).ok());
  EXPECT_EQ(Weights(*c), Weights(*a));
}

}  // namespace
}  // namespace petabox::nn
