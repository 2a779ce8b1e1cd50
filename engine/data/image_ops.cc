#include "engine/data/image_ops.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <vector>

namespace petabox::data {
namespace {

// Where one output coordinate samples the source: the lower neighbour and the weight of
// the upper one.
struct Tap {
  int lo = 0;
  int hi = 0;
  float frac = 0;
};

// Taps for `out` output pixels over [start, start + length) of a source axis of `size`.
std::vector<Tap> Taps(double start, double length, int out, int size) {
  std::vector<Tap> taps(out);
  const double step = length / out;
  for (int i = 0; i < out; ++i) {
    const double s = std::clamp(start + (i + 0.5) * step - 0.5, 0.0, static_cast<double>(size - 1));
    const int lo = static_cast<int>(s);
    taps[i] = {lo, std::min(lo + 1, size - 1), static_cast<float>(s - lo)};
  }
  return taps;
}

// Python's round() (half to even), which torchvision's crop arithmetic uses.
int RoundHalfEven(double v) { return static_cast<int>(std::nearbyint(v)); }

uint8_t ToByte(float v) { return static_cast<uint8_t>(std::clamp(v + 0.5f, 0.0f, 255.0f)); }

// Blends source rows `top` and `bottom` by `fy` into `row` (n values): the vertical pass,
// over contiguous memory so the compiler vectorizes it.
void BlendRows(const uint8_t* top, const uint8_t* bottom, float fy, size_t n, float* row) {
  for (size_t i = 0; i < n; ++i) row[i] = top[i] + (bottom[i] - top[i]) * fy;
}

// The horizontal pass: output pixel i blends the row's columns of tap i (mirrored: of tap
// n - 1 - i). `row` starts at source column `first`.
void ResampleRow(const float* row, int first, const std::vector<Tap>& xs, int channels, bool flip, uint8_t* out) {
  const int n = static_cast<int>(xs.size());
  for (int i = 0; i < n; ++i) {
    const Tap& t = xs[flip ? n - 1 - i : i];
    const float* a = row + (t.lo - first) * channels;
    const float* b = row + (t.hi - first) * channels;
    for (int ch = 0; ch < channels; ++ch) out[i * channels + ch] = ToByte(a[ch] + (b[ch] - a[ch]) * t.frac);
  }
}

}  // namespace

// Separable: each output row first blends its two source rows over the columns the
// horizontal taps read, then resamples that row (the loader spends much of its time here).
void ResizeCrop(const Image& src, const CropBox& box, int out_width, int out_height, bool flip, uint8_t* dst) {
  assert(out_width >= 1 && out_height >= 1 && src.width >= 1 && src.height >= 1);
  const std::vector<Tap> xs = Taps(box.x, box.width, out_width, src.width);
  const std::vector<Tap> ys = Taps(box.y, box.height, out_height, src.height);
  const int first = xs.front().lo;  // taps are monotone
  const size_t span = static_cast<size_t>(xs.back().hi - first + 1) * src.channels;
  thread_local std::vector<float> row;
  row.resize(span);
  const size_t row_bytes = static_cast<size_t>(src.width) * src.channels;
  const uint8_t* base = src.pixels.data() + static_cast<size_t>(first) * src.channels;
  for (int y = 0; y < out_height; ++y) {
    BlendRows(base + ys[y].lo * row_bytes, base + ys[y].hi * row_bytes, ys[y].frac, span, row.data());
    ResampleRow(row.data(), first, xs, src.channels, flip, dst + static_cast<size_t>(y) * out_width * src.channels);
  }
}

double UniformDouble(Rng& rng, double lo, double hi) {
  const double u = static_cast<double>(rng.NextU64() >> 11) * 0x1.0p-53;
  return lo + (hi - lo) * u;
}

CropBox RandomResizedCropBox(int width, int height, Rng& rng, double scale_min, double scale_max, double ratio_min,
                             double ratio_max) {
  const double area = static_cast<double>(width) * height;
  const double log_lo = std::log(ratio_min), log_hi = std::log(ratio_max);
  for (int attempt = 0; attempt < 10; ++attempt) {
    const double target = area * UniformDouble(rng, scale_min, scale_max);
    const double ratio = std::exp(UniformDouble(rng, log_lo, log_hi));
    const int w = RoundHalfEven(std::sqrt(target * ratio));
    const int h = RoundHalfEven(std::sqrt(target / ratio));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      const int top = static_cast<int>(rng.NextU64() % static_cast<uint64_t>(height - h + 1));
      const int left = static_cast<int>(rng.NextU64() % static_cast<uint64_t>(width - w + 1));
      return {static_cast<double>(left), static_cast<double>(top), static_cast<double>(w), static_cast<double>(h)};
    }
  }
  // Fallback: the whole image, cut to the nearest allowed aspect ratio, centred.
  const double in_ratio = static_cast<double>(width) / height;
  int w = width, h = height;
  if (in_ratio < ratio_min) {
    h = RoundHalfEven(w / ratio_min);
  } else if (in_ratio > ratio_max) {
    w = RoundHalfEven(h * ratio_max);
  }
  return {static_cast<double>((width - w) / 2), static_cast<double>((height - h) / 2), static_cast<double>(w),
          static_cast<double>(h)};
}

CropBox CenterCropBox(int width, int height, int resize_size, int crop_size) {
  // torchvision Resize(int): the short side becomes resize_size, the long one
  // int(resize_size * long / short).
  int rw = resize_size, rh = resize_size;
  if (width < height) {
    rh = static_cast<int>(static_cast<int64_t>(resize_size) * height / width);
  } else {
    rw = static_cast<int>(static_cast<int64_t>(resize_size) * width / height);
  }
  // CenterCrop: top-left at round((resized - crop) / 2), in resized pixels.
  const int left = RoundHalfEven((rw - crop_size) / 2.0);
  const int top = RoundHalfEven((rh - crop_size) / 2.0);
  const double sx = static_cast<double>(width) / rw, sy = static_cast<double>(height) / rh;
  return {left * sx, top * sy, crop_size * sx, crop_size * sy};
}

}  // namespace petabox::data
