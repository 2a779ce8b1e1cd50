// Image operations of the JPEG loader (engine/data/jpeg_loader.h): bilinear resampling of
// a crop, and the crop boxes of torchvision's RandomResizedCrop and of the evaluation
// transform (resize the short side, then centre-crop), as MLPerf's ResNet-50 reference uses.
// Pure functions; thread-safe.
#pragma once

#include <cstdint>

#include "engine/data/jpeg.h"
#include "engine/random.h"

namespace petabox::data {

// A region of an image in pixels; x, y is its top-left corner. Fractional values are
// allowed (a box mapped onto an image decoded at reduced scale).
struct CropBox {
  double x = 0;
  double y = 0;
  double width = 0;
  double height = 0;
  bool operator==(const CropBox&) const = default;
};

// Writes `box` of `src` resampled to out_width x out_height into `dst` (interleaved, the
// source's channels), mirrored left-right when `flip`. Bilinear with half-pixel centres
// (PyTorch's interpolate(align_corners=False), without antialiasing): output pixel (x, y)
// samples the source at (box.x + (x + 0.5) * box.width / out_width - 0.5, likewise y),
// clamped to the image. The box must lie within the image and the sizes be >= 1.
void ResizeCrop(const Image& src, const CropBox& box, int out_width, int out_height, bool flip, uint8_t* dst);

// torchvision's RandomResizedCrop.get_params for an image of width x height: up to 10
// draws of an area fraction in [scale_min, scale_max] and a log-uniform aspect ratio in
// [ratio_min, ratio_max] whose integer box fits, at a uniform position; else the largest
// centred box with the ratio clamped to the range.
CropBox RandomResizedCropBox(int width, int height, Rng& rng, double scale_min = 0.08, double scale_max = 1.0,
                             double ratio_min = 3.0 / 4.0, double ratio_max = 4.0 / 3.0);

// The source box of torchvision's Resize(resize_size) (the short side to resize_size, the
// long side scaled and truncated) followed by CenterCrop(crop_size), so that ResizeCrop of
// it to crop_size x crop_size gives the same pixels as the two steps with bilinear resizing.
CropBox CenterCropBox(int width, int height, int resize_size, int crop_size);

// A uniform double in [lo, hi) from 53 random bits.
double UniformDouble(Rng& rng, double lo, double hi);

}  // namespace petabox::data
