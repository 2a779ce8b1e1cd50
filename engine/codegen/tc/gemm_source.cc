#include "engine/codegen/tc/gemm_source.h"

#include <algorithm>
#include <limits>

#include "engine/codegen/render/cstyle.h"

namespace petabox {
namespace {

int64_t CeilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

int64_t Tiles(const GemmPlan& p, const GemmTiles& t) { return CeilDiv(p.m, t.bm) * CeilDiv(p.n, t.bn) * p.batch; }

// 32-bit index arithmetic (much cheaper than 64-bit on GPUs) when every index fits.
bool Fits32(const GemmPlan& p) {
  constexpr int64_t kMax = std::numeric_limits<int32_t>::max() / 2;
  return p.max_index < kMax && p.m + 256 < kMax && p.n + 256 < kMax && p.k + 64 < kMax && p.batch < kMax;
}

std::string Lambda(const std::string& name, const char* ret, const std::string& row, const std::string& index_type,
                   const std::string& body) {
  const std::string& I = index_type;
  return "  auto " + name + " = [&](" + I + " gb, " + I + " " + row + ", " + I + " gk) -> " + ret + " { return " + body +
         "; };\n";
}

std::string OperandLambdas(const char* name, const GemmOperand& op, const char* row, const std::string& I) {
  return Lambda(std::string(name) + "_idx", I.c_str(), row, I, sym::Render(op.index)) +
         Lambda(std::string(name) + "_ok", "bool", row, I, sym::Render(op.valid));
}

int LayoutCode(GemmLayout l) {
  switch (l) {
    case GemmLayout::kGeneric: return 0;
    case GemmLayout::kKContiguous: return 1;
    case GemmLayout::kMnContiguous: return 2;
    case GemmLayout::kGenericMn: return 3;
  }
  return 0;
}

}  // namespace

std::string GemmTiles::ToString() const {
  return std::to_string(bm) + "x" + std::to_string(bn) + "x" + std::to_string(bk) + " warps " + std::to_string(warps_m) +
         "x" + std::to_string(warps_n) + " stages " + std::to_string(stages);
}

GemmTiles ChooseTiles(const GemmPlan& plan, int compute_units, const TensorCoreDialect& tc) {
  const int64_t units = compute_units > 0 ? compute_units : 1;
  if (plan.a.dtype == DType::kFloat32) {
    GemmTiles simt{128, 128, 8, 2, 4, 2};
    return Tiles(plan, simt) >= units ? simt : GemmTiles{64, 64, 8, 1, 2, 2};
  }
  GemmTiles big{128, 256, 32, 2, 4, 3};
  GemmTiles medium{128, 128, 32, 2, 4, 4};
  GemmTiles small{64, 64, 32, 2, 2, 3};
  for (GemmTiles* t : {&big, &medium, &small}) t->stages = std::min(t->stages, tc.max_stages);
  if (big.SharedBytes(plan.a.dtype) <= tc.max_shared_bytes && Tiles(plan, big) >= 4 * units) return big;
  if (Tiles(plan, medium) >= units) return medium;
  return small;
}

GemmKernel RenderGemm(const GemmPlan& plan, const GemmTiles& t, const Dialect& dialect, const TensorCoreDialect& tc) {
  const std::string I = Fits32(plan) ? "int" : "int64_t";
  std::string params;
  for (size_t b = 0; b < plan.buf_dtypes.size(); ++b) {
    params += (b ? ", " : "") + Format(dialect.buffer_param, {{"i", std::to_string(b)},
                                                             {"const", b == 0 ? "" : "const "},
                                                             {"type", dialect.types[static_cast<int>(plan.buf_dtypes[b])].storage}});
  }
  const int threads = t.Threads(tc.warp_size);
  std::string body = OperandLambdas("a", plan.a, "gm", I) + OperandLambdas("b", plan.b, "gn", I);
  const std::string store =
      Format(dialect.types[static_cast<int>(plan.out_dtype)].store, {{"0", plan.epilogue}});
  body += "  auto epi = [&](" + I + " gb, " + I + " gm, " + I + " gn, float acc) { data0[" + sym::Render(plan.out_index) +
          "] = " + store + "; };\n";
  const bool simt = plan.a.dtype == DType::kFloat32;
  body += "  " + Format(simt ? tc.simt_call : tc.call, {{"BM", std::to_string(t.bm)}, {"BN", std::to_string(t.bn)}, {"BK", std::to_string(t.bk)},
                                  {"WARPS_M", std::to_string(t.warps_m)}, {"WARPS_N", std::to_string(t.warps_n)},
                                  {"STAGES", std::to_string(t.stages)}, {"LA", std::to_string(LayoutCode(plan.a.layout))},
                                  {"LB", std::to_string(LayoutCode(plan.b.layout))},
                                  {"F16", plan.a.dtype == DType::kFloat16 ? "true" : "false"}, {"I", I}});
  body += "(data" + std::to_string(plan.a.buf) + ", a_idx, a_ok, data" + std::to_string(plan.b.buf) +
          ", b_idx, b_ok, epi, (" + I + ")" + std::to_string(plan.m) + ", (" + I + ")" + std::to_string(plan.n) + ", (" +
          I + ")" + std::to_string(plan.k) + ");\n";

  GemmKernel out;
  LinearKernel& k = out.linear;
  k.name = (simt ? "sgemm_" : "mma_") + plan.name;
  k.buf_dtypes = plan.buf_dtypes;
  k.dims.global = {CeilDiv(plan.m, t.bm) * CeilDiv(plan.n, t.bn) * threads, plan.batch, 1};
  k.dims.local = {threads, 1, 1};
  k.dims.shared_bytes = t.SharedBytes(plan.a.dtype);
  k.flops = 2 * plan.batch * plan.m * plan.n * plan.k;
  out.source = dialect.prelude + tc.intrinsics + tc.machinery +
               Format(tc.signature, {{"threads", std::to_string(threads)}, {"name", k.name}, {"params", params}}) +
               " {\n" + body + "}\n";
  return out;
}

}  // namespace petabox
