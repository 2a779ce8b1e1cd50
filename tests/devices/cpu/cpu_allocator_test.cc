#include "devices/cpu/cpu_allocator.h"

#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include <gtest/gtest.h>

namespace petabox {
namespace {

TEST(CpuAllocatorTest, AllocationsAreAlignedAndCounted) {
  CpuAllocator allocator("CPU:0", 0);
  StatusOr<void*> a = allocator.Alloc(100);
  StatusOr<void*> b = allocator.Alloc(0);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(reinterpret_cast<uintptr_t>(*a) % CpuAllocator::kAlignment, 0u);
  EXPECT_EQ(allocator.BytesInUse(), 100);
  allocator.Free(*a, 100);
  allocator.Free(*b, 0);
  EXPECT_EQ(allocator.BytesInUse(), 0);
}

TEST(CpuAllocatorTest, CopyRoundTrips) {
  CpuAllocator allocator("CPU:0", 0);
  std::vector<float> in = {1.5f, -2.0f, 3.25f}, out(3);
  StatusOr<void*> buffer = allocator.Alloc(sizeof(float) * 3);
  ASSERT_TRUE(buffer.ok());
  ASSERT_TRUE(allocator.CopyIn(*buffer, in.data(), sizeof(float) * 3).ok());
  ASSERT_TRUE(allocator.CopyOut(out.data(), *buffer, sizeof(float) * 3).ok());
  EXPECT_EQ(in, out);
  allocator.Free(*buffer, sizeof(float) * 3);
}

TEST(CpuAllocatorTest, LimitReturnsResourceExhausted) {
  CpuAllocator allocator("CPU:0", 1024);
  StatusOr<void*> a = allocator.Alloc(512);
  ASSERT_TRUE(a.ok());
  StatusOr<void*> b = allocator.Alloc(600);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(b.status().message(),
            "CPU:0 out of memory: requested 600 bytes, in use 512 of limit 1024");
  EXPECT_EQ(allocator.BytesInUse(), 512);
  StatusOr<void*> c = allocator.Alloc(512);  // exactly up to the limit is fine
  ASSERT_TRUE(c.ok());
  allocator.Free(*a, 512);
  allocator.Free(*c, 512);
  EXPECT_EQ(allocator.BytesInUse(), 0);
}

TEST(CpuAllocatorTest, FailedHostAllocationIsResourceExhausted) {
  CpuAllocator allocator("CPU:0", 0);
  StatusOr<void*> huge = allocator.Alloc(size_t{1} << 62);
  ASSERT_FALSE(huge.ok());
  EXPECT_EQ(huge.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(huge.status().message().find("CPU:0 out of memory"), std::string::npos);
  EXPECT_EQ(allocator.BytesInUse(), 0);
}

}  // namespace
}  // namespace petabox
