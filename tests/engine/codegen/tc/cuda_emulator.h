// A host emulation of the CUDA (and HIP) the tensor-core GEMM kernels use, so the generated kernels
// run on a CPU: the text below is put in front of a kernel rendered without the CUDA
// prelude and intrinsics, and the whole is compiled with the system C++ compiler.
//
// Each GPU thread of a block is a std::thread; blocks run one after another. __syncthreads
// is a barrier over the block; the warp-collective instructions (ldmatrix, mma.sync)
// exchange their operands through per-warp slots between two warp barriers and compute what
// the PTX ISA specifies for each lane (fragment layouts of mma.m16n8k16 with .bf16/.f16
// inputs and .f32 accumulators; ldmatrix .x4 with and without .trans). cp.async copies are
// queued per thread and land only when a cp.async.wait_group retires their group, so a
// kernel that reads a stage before waiting for it reads stale data here too.
#pragma once

namespace petabox {

constexpr const char* kCudaEmulator = R"EMU(
#include <array>
#include <barrier>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>
#define __global__
#define __device__
#define __forceinline__ inline
#define __launch_bounds__(n)
#define __shared__
#define __align__(n) __attribute__((aligned(n)))
using std::min;
struct pb_dim3 { unsigned x = 0, y = 0, z = 0; };
thread_local pb_dim3 threadIdx, blockIdx;
inline float __uint_as_float(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
inline float __int_as_float(int32_t i) { float f; memcpy(&f, &i, 4); return f; }
inline uint32_t __float_as_uint(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
inline float pb_h2f(uint16_t h) { _Float16 x; memcpy(&x, &h, 2); return (float)x; }
inline uint16_t pb_f2h(float f) { _Float16 x = (_Float16)f; uint16_t h; memcpy(&h, &x, 2); return h; }
inline float pb_bf2f(uint16_t b) { return __uint_as_float(((uint32_t)b) << 16); }
inline uint16_t pb_f2bf(float x) {
  uint32_t u = __float_as_uint(x);
  if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40);
  u += 0x7fffu + ((u >> 16) & 1); return (uint16_t)(u >> 16);
}
template <class T, class S> inline T pb_bitcast(S s) { T t; memcpy(&t, &s, sizeof(T)); return t; }

struct alignas(16) uint4 { uint32_t x, y, z, w; };
struct alignas(16) float4 { float x, y, z, w; };
inline float4 make_float4(float x, float y, float z, float w) { return {x, y, z, w}; }
struct PbWarp {
  std::barrier<> bar{32};
  std::array<const void*, 32> addr{};
  std::array<std::array<uint32_t, 4>, 32> a{};
  std::array<std::array<uint32_t, 2>, 32> b{};
  std::array<std::array<uint16_t, 16>, 32> wa{}, wb{};
};
struct PbBlock {
  explicit PbBlock(int threads) : bar(threads) { for (int w = 0; w < threads / 32; ++w) warps.emplace_back(new PbWarp); }
  std::barrier<> bar;
  std::vector<std::unique_ptr<PbWarp>> warps;
};
inline PbBlock* pb_block = nullptr;
alignas(128) inline uint16_t pb_smem[1 << 17];
alignas(128) inline float pb_smem_f[1 << 16];  // the float32 kernels' name for it
inline long pb_smem_bytes = 0;  // the launch's dynamic shared memory

// What the hardware would fault on (or silently mis-read): misaligned 16-byte accesses and
// shared memory past the launch's allotment.
inline void pb_check_shared(const void* p, int bytes) {
  const char* c = (const char*)p;
  if ((uintptr_t)c % 16 != 0 || c < (const char*)pb_smem || c + bytes > (const char*)pb_smem + pb_smem_bytes) {
    fprintf(stderr, "bad shared address %p (offset %ld, limit %ld)\n", p, (long)(c - (const char*)pb_smem), pb_smem_bytes);
    abort();
  }
}

inline void __syncthreads() { pb_block->bar.arrive_and_wait(); }
inline PbWarp& pb_warp() { return *pb_block->warps[threadIdx.x / 32]; }
inline int pb_lane() { return threadIdx.x % 32; }

struct PbCopy { void* dst; const void* src; bool valid; };
thread_local std::vector<std::vector<PbCopy>> pb_groups;
thread_local std::vector<PbCopy> pb_open;
inline void pb_cp16(void* dst, const void* src, bool valid) {
  pb_check_shared(dst, 16);
  if (valid && (uintptr_t)src % 16 != 0) { fprintf(stderr, "cp.async from misaligned %p\n", src); abort(); }
  pb_open.push_back({dst, src, valid});
}
inline void pb_commit() { pb_groups.push_back(pb_open); pb_open.clear(); }
template <int N> inline void pb_wait() {
  while ((int)pb_groups.size() > N) {
    for (const PbCopy& c : pb_groups.front()) {
      if (c.valid) memcpy(c.dst, c.src, 16); else memset(c.dst, 0, 16);
    }
    pb_groups.erase(pb_groups.begin());
  }
}

// ldmatrix.m8n8.x4(.trans).b16: lanes 8i..8i+7 give the row addresses of matrix i.
inline void pb_ldm_any(uint32_t* r, const void* p, bool trans) {
  PbWarp& w = pb_warp();
  const int lane = pb_lane();
  pb_check_shared(p, 16);
  w.addr[lane] = p;
  w.bar.arrive_and_wait();
  for (int i = 0; i < 4; ++i) {
    uint16_t lo, hi;
    if (!trans) {
      const uint16_t* row = (const uint16_t*)w.addr[8 * i + lane / 4];
      lo = row[(lane % 4) * 2], hi = row[(lane % 4) * 2 + 1];
    } else {
      lo = ((const uint16_t*)w.addr[8 * i + (lane % 4) * 2])[lane / 4];
      hi = ((const uint16_t*)w.addr[8 * i + (lane % 4) * 2 + 1])[lane / 4];
    }
    r[i] = lo | ((uint32_t)hi << 16);
  }
  w.bar.arrive_and_wait();
}
inline void pb_ldm(unsigned* r, const void* p) { pb_ldm_any(r, p, false); }
inline void pb_ldm_t(unsigned* r, const void* p) { pb_ldm_any(r, p, true); }

// mma.sync.m16n8k16.row.col.f32.{bf16,f16}: lane = 4 * group + t.
template <bool F16> inline void pb_mma(float* c, const unsigned* a, const unsigned* b) {
  PbWarp& w = pb_warp();
  const int lane = pb_lane();
  memcpy(w.a[lane].data(), a, 16);
  memcpy(w.b[lane].data(), b, 8);
  w.bar.arrive_and_wait();
  float A[16][16], B[16][8];
  for (int l = 0; l < 32; ++l) {
    const int g = l / 4, t = l % 4;
    for (int h = 0; h < 2; ++h) {
      for (int reg = 0; reg < 4; ++reg) {
        uint16_t v = (uint16_t)(w.a[l][reg] >> (16 * h));
        A[g + (reg & 1) * 8][t * 2 + h + (reg >> 1) * 8] = F16 ? pb_h2f(v) : pb_bf2f(v);
      }
      for (int reg = 0; reg < 2; ++reg) {
        uint16_t v = (uint16_t)(w.b[l][reg] >> (16 * h));
        B[t * 2 + h + reg * 8][g] = F16 ? pb_h2f(v) : pb_bf2f(v);
      }
    }
  }
  w.bar.arrive_and_wait();
  const int g = lane / 4, t = lane % 4;
  for (int e = 0; e < 4; ++e) {
    const int row = g + (e >> 1) * 8, col = t * 2 + (e & 1);
    float s = c[e];
    for (int k = 0; k < 16; ++k) s += A[row][k] * B[k][col];
    c[e] = s;
  }
}

// RDNA3 v_wmma_f32_16x16x16_{f16,bf16} (wave32): lane l gives row l%16 of A and column l%16
// of B (16 values of K each; lanes 16-31 must repeat lanes 0-15) and holds D[2e + l/16][l%16].
template <bool F16> inline void pb_wmma(float* c, const uint16_t* a, const uint16_t* b) {
  PbWarp& w = pb_warp();
  const int lane = pb_lane();
  memcpy(w.wa[lane].data(), a, 32);
  memcpy(w.wb[lane].data(), b, 32);
  w.bar.arrive_and_wait();
  float A[16][16], B[16][16];
  for (int l = 0; l < 16; ++l) {
    if (w.wa[l] != w.wa[l + 16] || w.wb[l] != w.wb[l + 16]) { fprintf(stderr, "wmma: lanes %d and %d differ\n", l, l + 16); abort(); }
    for (int k = 0; k < 16; ++k) {
      A[l][k] = F16 ? pb_h2f(w.wa[l][k]) : pb_bf2f(w.wa[l][k]);
      B[k][l] = F16 ? pb_h2f(w.wb[l][k]) : pb_bf2f(w.wb[l][k]);
    }
  }
  w.bar.arrive_and_wait();
  for (int e = 0; e < 8; ++e) {
    const int row = 2 * e + lane / 16, col = lane % 16;
    float s = c[e];
    for (int k = 0; k < 16; ++k) s += A[row][k] * B[k][col];
    c[e] = s;
  }
}

// Runs kernel() as a grid of grid_x x grid_y blocks of `threads` threads.
template <class F> void pb_launch(int grid_x, int grid_y, int threads, long shared_bytes, F kernel) {
  pb_smem_bytes = shared_bytes;
  for (int by = 0; by < grid_y; ++by)
    for (int bx = 0; bx < grid_x; ++bx) {
      PbBlock block(threads);
      pb_block = &block;
      std::vector<std::thread> ts;
      for (int t = 0; t < threads; ++t)
        ts.emplace_back([&, t] {
          threadIdx.x = t;
          blockIdx.x = bx, blockIdx.y = by;
          pb_groups.clear();
          pb_open.clear();
          kernel();
        });
      for (std::thread& t : ts) t.join();
    }
}
)EMU";

}  // namespace petabox
