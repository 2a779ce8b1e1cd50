#include "engine/multi_allreduce.h"

#include <algorithm>
#include <set>

#include "engine/schedule/schedule.h"

namespace petabox {
namespace {

Tensor Combine(const Tensor& a, const Tensor& b, ReduceOp op) {
  return op == ReduceOp::kSum ? a.Add(b) : a.Maximum(b);
}

// True when t reads a whole buffer in order (no kernel is needed to give it one).
bool IsPlainBuffer(const Tensor& t) {
  const Node* base = Base(t.node().get());
  if (!base->buffer()) return false;
  ShapeTracker st = ViewFromBase(t.node().get());
  return st.views().size() == 1 && st.IsContiguous() && st.views()[0].offset == 0;
}

// The input flattened, in the reduce dtype, with a buffer of its own: slices of it are then
// copied from an offset, and every device combines values that are already rounded to
// memory (so the same kernel gives the same bits everywhere).
Tensor Flat(const Tensor& t, DType dtype) {
  Tensor f = t.Reshape({t.numel()});
  if (dtype != t.dtype()) f = f.Cast(dtype);
  return IsPlainBuffer(f) ? f : f.Contiguous();
}

Status Validate(const std::vector<Tensor>& inputs, const AllReduceOptions& options) {
  if (inputs.empty()) return InvalidArgument("all-reduce: no inputs");
  std::set<std::string> devices;
  for (const Tensor& t : inputs) {
    if (!t.ok()) return t.status();
    if (t.shape() != inputs[0].shape() || t.dtype() != inputs[0].dtype()) {
      return InvalidArgument("all-reduce: input " + std::string(Name(t.dtype())) + ShapeToString(t.shape()) +
                             " on " + t.device() + " differs from " + Name(inputs[0].dtype()) +
                             ShapeToString(inputs[0].shape()) + " on " + inputs[0].device());
    }
    if (!devices.insert(t.device()).second)
      return InvalidArgument("all-reduce: device " + t.device() + " holds two inputs");
  }
  if (options.reduce_dtype && !IsFloat(*options.reduce_dtype))
    return InvalidArgument(std::string("all-reduce: reduce dtype ") + Name(*options.reduce_dtype) + " is not a float type");
  return Status::Ok();
}

// Every device's flat value, combined in device order on every device.
std::vector<Tensor> Direct(const std::vector<Tensor>& flat, ReduceOp op) {
  const size_t n = flat.size();
  std::vector<Tensor> out(n);
  for (size_t r = 0; r < n; ++r) {
    Tensor acc;
    for (size_t i = 0; i < n; ++i) {
      Tensor v = i == r ? flat[i] : flat[i].To(flat[r].device());
      acc = i == 0 ? v : Combine(acc, v, op);
    }
    out[r] = acc;
  }
  return out;
}

struct Piece {
  int64_t begin, end;
  size_t chunk;   // the chunk it belongs to: reduced on (two-shot) or starting its round at (ring) device `chunk`
  int64_t index;  // its place within the chunk
};

// Chunk k of m elements over n devices is [m*k/n, m*(k+1)/n); each is cut into pieces of at
// most `piece` elements (empty chunks have no piece).
std::vector<Piece> Pieces(int64_t m, size_t n, int64_t piece) {
  std::vector<Piece> pieces;
  for (size_t k = 0; k < n; ++k) {
    const int64_t begin = m * static_cast<int64_t>(k) / static_cast<int64_t>(n);
    const int64_t end = m * static_cast<int64_t>(k + 1) / static_cast<int64_t>(n);
    if (end == begin) continue;
    const int64_t count = piece > 0 ? (end - begin + piece - 1) / piece : 1;
    for (int64_t p = 0; p < count; ++p)
      pieces.push_back({begin + (end - begin) * p / count, begin + (end - begin) * (p + 1) / count, k, p});
  }
  return pieces;
}

// Reduce-scatter and all-gather, each as one exchange per piece: a piece is reduced on the
// device of its chunk (in device order) and read from there by every device, so the
// gathering of one piece overlaps the reducing of the next.
std::vector<Tensor> TwoShot(const std::vector<Tensor>& flat, ReduceOp op, int64_t piece_elements) {
  const size_t n = flat.size();
  const int64_t m = flat[0].numel();
  const std::vector<Piece> pieces = Pieces(m, n, piece_elements);
  std::vector<Tensor> reduced;
  for (const Piece& pc : pieces) {
    const std::string& owner = flat[pc.chunk].device();
    Tensor acc;
    for (size_t i = 0; i < n; ++i) {
      Tensor part = flat[i].Shrink({{pc.begin, pc.end}});
      part = i == pc.chunk ? part : part.To(owner);
      acc = i == 0 ? part : Combine(acc, part, op);
    }
    // Its own buffer: read by every device, not recomputed in each one's concatenation.
    reduced.push_back(acc.Contiguous());
  }
  std::vector<Tensor> out(n);
  for (size_t r = 0; r < n; ++r) {
    // The concatenation (written in place by the scheduler: engine/schedule/concat.h) lists
    // the pieces by their place in the chunk, then by owner from device r on: every device
    // gathers the first pieces first, each from its neighbour first, so that at any time
    // each device is read by one other instead of all of them reading device 0.
    std::vector<size_t> order(pieces.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    auto rank = [&](size_t i) { return std::make_pair(pieces[i].index, (pieces[i].chunk + n - r) % n); };
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return rank(a) < rank(b); });
    Tensor sum;
    for (size_t i : order) {
      const Piece& pc = pieces[i];
      Tensor part = pc.chunk == r ? reduced[i] : reduced[i].To(flat[r].device());
      part = part.Pad({{pc.begin, m - pc.end}});
      sum = sum.node() ? sum.Add(part) : part;
    }
    out[r] = sum;
  }
  return out;
}

// Reduce-scatter then all-gather, one round per piece.
std::vector<Tensor> Ring(const std::vector<Tensor>& flat, ReduceOp op, int64_t piece_elements) {
  const size_t n = flat.size();
  std::vector<Piece> pieces = Pieces(flat[0].numel(), n, piece_elements);
  std::vector<std::vector<Tensor>> full(n, std::vector<Tensor>(pieces.size()));  // [device][piece]
  for (size_t p = 0; p < pieces.size(); ++p) {
    const Piece& pc = pieces[p];
    auto slice = [&](size_t d) { return flat[d].Shrink({{pc.begin, pc.end}}); };
    // Reduce-scatter: the piece starts at device `chunk` and collects every device's part.
    Tensor acc = slice(pc.chunk);
    size_t d = pc.chunk;
    for (size_t s = 1; s < n; ++s) {
      d = (pc.chunk + s) % n;
      acc = Combine(acc.To(flat[d].device()), slice(d), op);
    }
    // All-gather: the finished piece goes on round the ring (from a buffer of its own, not
    // recomputed by the concatenation on its device).
    full[d][p] = acc.Contiguous();
    for (size_t s = 1; s < n; ++s) {
      const size_t next = (d + 1) % n;
      full[next][p] = full[d][p].To(flat[next].device());
      d = next;
    }
  }
  std::vector<Tensor> out(n);
  for (size_t r = 0; r < n; ++r) out[r] = full[r].size() == 1 ? full[r][0] : Tensor::Cat(full[r], 0);
  return out;
}

}  // namespace

StatusOr<std::vector<Tensor>> AllReduce(const std::vector<Tensor>& inputs, const AllReduceOptions& options) {
  PB_RETURN_IF_ERROR(Validate(inputs, options));
  const Tensor& first = inputs[0];
  if (inputs.size() == 1 || first.numel() == 0) return inputs;
  const DType dtype = options.reduce_dtype.value_or(first.dtype());
  std::vector<Tensor> flat;
  for (const Tensor& t : inputs) flat.push_back(Flat(t, dtype));
  const int64_t bytes = first.numel() * ItemSize(first.dtype());
  AllReduceOptions::Algorithm algorithm = options.algorithm;
  if (algorithm == AllReduceOptions::Algorithm::kAuto) {
    // Two devices: direct moves no more than two-shot, in one exchange.
    algorithm = inputs.size() > 2 && bytes >= options.large_min_bytes ? AllReduceOptions::Algorithm::kTwoShot
                                                                      : AllReduceOptions::Algorithm::kDirect;
  }
  const int64_t piece = options.piece_bytes > 0 ? std::max<int64_t>(1, options.piece_bytes / ItemSize(dtype)) : 0;
  std::vector<Tensor> out;
  switch (algorithm) {
    case AllReduceOptions::Algorithm::kRing: out = Ring(flat, options.op, piece); break;
    case AllReduceOptions::Algorithm::kTwoShot: out = TwoShot(flat, options.op, piece); break;
    default: out = Direct(flat, options.op); break;
  }
  for (Tensor& t : out) {
    if (t.dtype() != first.dtype()) t = t.Cast(first.dtype());
    t = t.Reshape(first.shape());
    if (!t.ok()) return t.status();
  }
  return out;
}

double AllReduceBusBandwidth(int64_t bytes, int devices, double seconds) {
  if (devices < 1 || seconds <= 0) return 0;
  return static_cast<double>(bytes) / seconds * 2.0 * (devices - 1) / devices;
}

}  // namespace petabox
