// Copies and peer access between the virtual CPU devices (one host memory), and the default
// answers of the Device contract for kinds a backend cannot reach.
#include <gtest/gtest.h>

#include <vector>

#include "devices/registry.h"

namespace petabox {
namespace {

RegistryOptions CpuOnly() {
  RegistryOptions o;
  o.enable_gpus = false;
  return o;
}

TEST(CpuPeerTest, CopyFromAnotherCpuDevice) {
  DeviceRegistry registry(CpuOnly());
  Device* d0 = *registry.Get("CPU:0");
  Device* d1 = *registry.Get("CPU:1");
  std::vector<float> in = {1.5f, -2.0f, 3.25f, 4.0f}, out(4);
  void* a = *d0->allocator().Alloc(16);
  void* b = *d1->allocator().Alloc(16);
  ASSERT_TRUE(d0->allocator().CopyIn(a, in.data(), 16).ok());
  ASSERT_TRUE(d1->CopyFromDevice(b, *d0, a, 16).ok());
  ASSERT_TRUE(d1->allocator().CopyOut(out.data(), b, 16).ok());
  EXPECT_EQ(out, in);
  EXPECT_TRUE(d1->CopyFromDevice(b, *d0, a, 0).ok());
  d0->allocator().Free(a, 16);
  d1->allocator().Free(b, 16);
}

TEST(CpuPeerTest, CpuDevicesReachEachOther) {
  DeviceRegistry registry(CpuOnly());
  Device* d0 = *registry.Get("CPU:0");
  Device* d5 = *registry.Get("CPU:5");
  EXPECT_TRUE(d0->CanAccessPeer(*d5));
  EXPECT_TRUE(d5->CanAccessPeer(*d0));
  EXPECT_TRUE(d0->CanAccessPeer(*d0));
}

// A device of a kind the CPU backend does not know: the contract's defaults.
class OtherDevice : public Device {
 public:
  OtherDevice() { props_.name = "OTHER:0"; props_.kind = "OTHER"; }
  const DeviceProperties& properties() const override { return props_; }
  Allocator& allocator() override { return *static_cast<Allocator*>(nullptr); }
  Compiler& compiler() override { return *static_cast<Compiler*>(nullptr); }
  StatusOr<std::unique_ptr<Program>> LoadProgram(const std::string&, const std::string&) override {
    return Unimplemented("no programs");
  }
  Status Synchronize() override { return Status::Ok(); }

 private:
  DeviceProperties props_;
};

TEST(CpuPeerTest, OtherKindsAreUnimplementedAndUnreachable) {
  DeviceRegistry registry(CpuOnly());
  Device* cpu = *registry.Get("CPU:0");
  OtherDevice other;
  char byte = 0;
  EXPECT_EQ(cpu->CopyFromDevice(&byte, other, &byte, 1).code(), StatusCode::kUnimplemented);
  EXPECT_EQ(other.CopyFromDevice(&byte, *cpu, &byte, 1).code(), StatusCode::kUnimplemented);
  EXPECT_FALSE(cpu->CanAccessPeer(other));
  EXPECT_FALSE(other.CanAccessPeer(*cpu));
  EXPECT_TRUE(other.CanAccessPeer(other));
}

}  // namespace
}  // namespace petabox
