// Neural-network ops composed from primitives: matmul is a broadcast MUL + SUM; conv2d and
// pooling are sliding-window views (zero-copy) + MUL/SUM or MAX.
#include <cmath>

#include "engine/autocast.h"
#include "engine/device_source.h"
#include "engine/schedule/schedule.h"
#include "engine/tensor.h"
#include "engine/tensor_internal.h"

namespace petabox {
namespace {

using Pair = std::pair<int64_t, int64_t>;

std::string PairStr(Pair p) { return "(" + std::to_string(p.first) + ", " + std::to_string(p.second) + ")"; }

// True when b's rows are contiguous in memory (stride 1 along its last axis), so the matmul
// kernel reads them as whole vectors.
bool RowsContiguous(const Tensor& b) {
  const ShapeTracker st = ViewFromBase(b.node().get());
  if (st.views().size() != 1 || st.HasMask()) return false;
  return b.shape().back() == 1 || st.views()[0].strides.back() == 1;
}

// The right-hand operand as the CPU matmul kernel wants it: rows contiguous (a transposed
// weight, as Linear's x @ W^T has, would turn every vector load into a gather), and rows not
// a multiple of 4 KiB apart (walking down a column would then hit one cache set over and
// over: 4K aliasing). A packed copy, rows padded by 64 bytes as BLAS libraries pack panels,
// fixes both; it is O(k*m) against the O(n*k*m) product, so it is only made for big operands.
Tensor PackForMatmul(const Tensor& b, int64_t n) {
  int64_t k = b.shape()[b.ndim() - 2], m = b.shape().back();
  bool aliased = m * ItemSize(b.dtype()) % 4096 == 0;
  if (!CapabilitiesOf(b.device()).packs_operands_for_simd || n < 16 || k * m < 4096 || (!aliased && RowsContiguous(b))) return b;
  if (!aliased) return b.Contiguous();
  int64_t pad = 64 / ItemSize(b.dtype());
  std::vector<Range> pads(b.ndim(), {0, 0}), keep;
  pads.back() = {0, pad};
  for (int64_t d : b.shape()) keep.push_back({0, d});
  return b.Pad(pads).Contiguous().Shrink(keep);
}

}  // namespace

Tensor Tensor::Matmul(const Tensor& o) const {
  if (Status s = FirstError({this, &o}); !s.ok()) return Error(s);
  if (ndim() == 0 || o.ndim() == 0)
    return Error(InvalidArgument("matmul: scalar operand " + ShapeToString(shape()) + " @ " + ShapeToString(o.shape())));
  if (device() != o.device())
    return Error(InvalidArgument("matmul: operands on different devices " + device() + " and " + o.device()));
  if (AutocastGuard::Active()) {  // 16-bit operands (float32 accumulation): engine/autocast.h
    Tensor a16 = AutocastLow(*this), b16 = AutocastLow(o);
    if (a16.dtype() != dtype() || b16.dtype() != o.dtype()) return a16.Matmul(b16);
  }
  Tensor a = ndim() == 1 ? Unsqueeze(0) : *this;
  Tensor b = o.ndim() == 1 ? o.Unsqueeze(1) : o;
  int64_t k = a.shape().back(), kb = b.shape()[b.ndim() - 2];
  if (k != kb) {
    return Error(InvalidArgument("matmul: " + ShapeToString(shape()) + " @ " + ShapeToString(o.shape()) +
                                 ": inner dimensions " + std::to_string(k) + " and " + std::to_string(kb) + " differ"));
  }
  // a: (..., n, 1, k), b^T: (..., 1, m, k); the product summed over k.
  Tensor bt = PackForMatmul(b, a.shape()[a.ndim() - 2]).Transpose(-1, -2).Unsqueeze(-3);
  Tensor prod = a.Unsqueeze(-2).Mul(bt);
  if (!prod.ok()) {
    return Error(InvalidArgument("matmul: batch dimensions of " + ShapeToString(shape()) + " and " +
                                 ShapeToString(o.shape()) + " cannot be broadcast"));
  }
  Tensor r = prod.Sum({-1});
  if (ndim() == 1) r = r.Squeeze(-2);
  if (o.ndim() == 1) r = r.Squeeze(-1);
  return r;
}

namespace {

// Shapes and ranges for the last-axis window code: the leading dims stay as they are.
struct Lead {
  Shape dims;
  Shape With(std::initializer_list<int64_t> tail) const {
    Shape s = dims;
    s.insert(s.end(), tail);
    return s;
  }
  std::vector<Range> Keep(std::initializer_list<Range> tail) const {
    std::vector<Range> r;
    for (int64_t v : dims) r.push_back({0, v});
    r.insert(r.end(), tail);
    return r;
  }
  std::vector<Range> Pad(std::initializer_list<Range> tail) const {
    std::vector<Range> r(dims.size(), {0, 0});
    r.insert(r.end(), tail);
    return r;
  }
};

// Windows of size k, stride s, dilation d over the last axis: (..., i) -> (..., o, k).
Tensor Pool1d(const Tensor& x, int64_t k, int64_t s, int64_t d) {
  int64_t i = x.shape().back();
  int64_t o = (i - d * (k - 1) - 1) / s + 1;
  Lead lead{Shape(x.shape().begin(), x.shape().end() - 1)};
  if (k <= s && d == 1) {  // windows do not overlap: a reshape picks them out
    Tensor t = o * s <= i ? x.Shrink(lead.Keep({{0, o * s}})) : x.Pad(lead.Pad({{0, o * s - i}}));
    return t.Reshape(lead.With({o, s})).Shrink(lead.Keep({{0, o}, {0, k}}));
  }
  // Overlapping windows: tile the row e times and cut rows of length i+d, so row kk starts
  // kk*d later; then every s-th column of the first o*s is a window position.
  int64_t e = (k * (i + d) + i - 1) / i;
  Tensor t = x.Reshape(lead.With({1, i})).Expand(lead.With({e, i})).Reshape(lead.With({e * i}));
  t = t.Shrink(lead.Keep({{0, k * (i + d)}})).Reshape(lead.With({k, i + d}));
  if (o * s > i + d) t = t.Pad(lead.Pad({{0, 0}, {0, o * s - i - d}}));
  t = t.Shrink(lead.Keep({{0, k}, {0, o * s}})).Reshape(lead.With({k, o, s}));
  t = t.Shrink(lead.Keep({{0, k}, {0, o}, {0, 1}})).Reshape(lead.With({k, o}));
  int nd = x.ndim();
  return t.Transpose(nd - 1, nd);  // (..., o, k)
}

// The axes 0..n-3 followed by `tail`.
std::vector<int> LeadingThen(int n, std::initializer_list<int> tail) {
  std::vector<int> order;
  for (int a = 0; a < n - 2; ++a) order.push_back(a);
  order.insert(order.end(), tail);
  return order;
}

// (before, after) pads for the last two axes of an ndim-dim tensor.
std::vector<Range> PadLastTwo(int ndim, Pair padding) {
  std::vector<Range> pads(ndim, {0, 0});
  pads[ndim - 2] = {padding.first, padding.first};
  pads[ndim - 1] = {padding.second, padding.second};
  return pads;
}

}  // namespace

// Sliding windows over the last two axes: (..., H, W) -> (..., OH, OW, KH, KW), zero-copy.
Tensor Tensor::Pool(Pair kernel, Pair stride, Pair dilation, const char* name) const {
  if (!ok()) return *this;
  if (ndim() < 2) return Error(InvalidArgument(std::string(name) + ": input " + ShapeToString(shape()) + " needs >= 2 dims"));
  int64_t h = shape()[ndim() - 2], w = shape()[ndim() - 1];
  if (kernel.first < 1 || kernel.second < 1 || stride.first < 1 || stride.second < 1 || dilation.first < 1 ||
      dilation.second < 1 || h < dilation.first * (kernel.first - 1) + 1 || w < dilation.second * (kernel.second - 1) + 1) {
    return Error(InvalidArgument(std::string(name) + ": kernel " + PairStr(kernel) + " with stride " + PairStr(stride) +
                                 " and dilation " + PairStr(dilation) + " does not fit input " + ShapeToString(shape())));
  }
  int n = ndim();
  Tensor tw = Pool1d(*this, kernel.second, stride.second, dilation.second);  // (..., H, OW, KW)
  Tensor th = Pool1d(tw.Permute(LeadingThen(n, {n - 1, n, n - 2})), kernel.first, stride.first,
                     dilation.first);                                          // (..., OW, KW, OH, KH)
  return th.Permute(LeadingThen(n, {n, n - 2, n + 1, n - 1}));                 // (..., OH, OW, KH, KW)
}

Tensor Tensor::Conv2d(const Tensor& weight, const Tensor& bias, Pair stride, Pair padding, Pair dilation,
                      int64_t groups) const {
  if (Status s = FirstError({this, &weight}); !s.ok()) return Error(s);
  if (ndim() != 4 || weight.ndim() != 4 || groups < 1 || shape()[1] % groups || weight.shape()[0] % groups ||
      shape()[1] / groups != weight.shape()[1]) {
    return Error(InvalidArgument("conv2d: input " + ShapeToString(shape()) + " and weight " +
                                 ShapeToString(weight.shape()) + " do not match (groups=" + std::to_string(groups) +
                                 "; expected input (N, C, H, W) and weight (O, C/groups, KH, KW))"));
  }
  if (padding.first < 0 || padding.second < 0)
    return Error(InvalidArgument("conv2d: negative padding " + PairStr(padding)));
  if (AutocastGuard::Active()) {  // 16-bit operands (float32 accumulation): engine/autocast.h
    Tensor x16 = AutocastLow(*this), w16 = AutocastLow(weight);
    if (x16.dtype() != dtype() || w16.dtype() != weight.dtype())
      return x16.Conv2d(w16, AutocastLow(bias), stride, padding, dilation, groups);
  }
  int64_t n = shape()[0], cin = weight.shape()[1], cout = weight.shape()[0];
  int64_t kh = weight.shape()[2], kw = weight.shape()[3], rcout = cout / groups;
  // The padded input is materialized once: the conv's inner loop then reads it without
  // masks, which lets the compiler vectorize it (an O(input) copy against O(input*k*k*cout)).
  Tensor x = Pad(PadLastTwo(4, padding));
  if (padding.first || padding.second) x = x.Contiguous();
  x = x.Pool({kh, kw}, stride, dilation, "conv2d");  // (N, C, OH, OW, KH, KW)
  if (!x.ok()) return x;
  bool cpu = CapabilitiesOf(device()).packs_operands_for_simd;
  // On the CPU (devices that pack operands for SIMD) the windows are materialized once (im2col), laid out (N, OH, OW, C, KH, KW):
  // the forward and the weight gradient then read contiguous patches as vectors instead of
  // windowed views; the copy is O(input*KH*KW) against the conv's O(input*KH*KW*Cout).
  if (cpu && kh * kw > 1) x = x.Permute({0, 2, 3, 1, 4, 5}).Contiguous().Permute({0, 3, 1, 2, 4, 5});
  int64_t oh = x.shape()[2], ow = x.shape()[3];
  // (N, G, 1, OH, OW, Cin, KH, KW) * (1, G, rcout, 1, 1, Cin, KH, KW), summed over the last three.
  x = x.Reshape({n, groups, cin, oh, ow, kh, kw}).Permute({0, 1, 3, 4, 2, 5, 6}).Unsqueeze(2);
  // On the CPU the (small) weight is packed with output channels innermost, so the kernel
  // can use them as its vector lanes.
  Tensor packed = weight;
  if (cpu && rcout % 16 == 0) packed = weight.Permute({1, 2, 3, 0}).Contiguous().Permute({3, 0, 1, 2});
  Tensor w = packed.Reshape({1, groups, rcout, 1, 1, cin, kh, kw});
  Tensor out = x.Mul(w).Sum({-1, -2, -3}).Reshape({n, cout, oh, ow});
  if (!bias.ok() && bias.status().code() == StatusCode::kFailedPrecondition && !bias.node()) return out;
  if (!bias.ok()) return bias;
  if (bias.shape() != Shape{cout})
    return Error(InvalidArgument("conv2d: bias " + ShapeToString(bias.shape()) + " does not match " +
                                 std::to_string(cout) + " output channels"));
  return out.Add(bias.Reshape({1, cout, 1, 1}));
}

Tensor Tensor::MaxPool2d(Pair kernel, Pair stride, Pair padding) const {
  if (stride.first == 0) stride = kernel;
  if (!ok()) return *this;
  if (ndim() < 2) return Error(InvalidArgument("max_pool2d: input " + ShapeToString(shape()) + " needs >= 2 dims"));
  double lowest = IsFloat(dtype()) ? -INFINITY : -2147483648.0;
  return Pad(PadLastTwo(ndim(), padding), lowest).Pool(kernel, stride, {1, 1}, "max_pool2d").Max({-1, -2});
}

Tensor Tensor::AvgPool2d(Pair kernel, Pair stride, Pair padding) const {
  if (stride.first == 0) stride = kernel;
  if (!ok()) return *this;
  if (ndim() < 2) return Error(InvalidArgument("avg_pool2d: input " + ShapeToString(shape()) + " needs >= 2 dims"));
  return Pad(PadLastTwo(ndim(), padding)).Pool(kernel, stride, {1, 1}, "avg_pool2d").Mean({-1, -2});
}

Tensor Tensor::Softmax(int axis) const {
  Tensor x = IsFloat(dtype()) ? AutocastWide(*this) : Cast(DType::kFloat32);
  Tensor e = x.Sub(x.Max({axis}, true)).Exp();
  return e.Div(e.Sum({axis}, true));
}

Tensor Tensor::LogSoftmax(int axis) const {
  Tensor x = IsFloat(dtype()) ? AutocastWide(*this) : Cast(DType::kFloat32);
  Tensor m = x.Sub(x.Max({axis}, true));
  return m.Sub(m.Exp().Sum({axis}, true).Log());
}

Tensor Tensor::CrossEntropy(const Tensor& targets, double label_smoothing) const {
  if (Status s = FirstError({this, &targets}); !s.ok()) return Error(s);
  if (ndim() != 2 || targets.ndim() != 1 || targets.shape()[0] != shape()[0] || IsFloat(targets.dtype())) {
    return Error(InvalidArgument("cross_entropy: logits " + ShapeToString(shape()) + " and targets " +
                                 ShapeToString(targets.shape()) + " (" + Name(targets.dtype()) +
                                 ") do not match; expected (N, C) logits and (N,) integer class indices"));
  }
  int64_t c = shape()[1];
  Tensor classes = Arange(0, static_cast<double>(c), 1, DType::kInt32, device()).Reshape({1, c});
  Tensor onehot = targets.Cast(DType::kInt32).Reshape({-1, 1}).Eq(classes).Cast(DType::kFloat32);
  Tensor smoothed = onehot.Mul(1 - label_smoothing).Add(label_smoothing / static_cast<double>(c));
  return LogSoftmax(1).Mul(smoothed).Sum({1}).Mean().Neg();
}

}  // namespace petabox
