// JPEG decoding and encoding through libjpeg-turbo's TurboJPEG API, for image datasets
// (engine/data/imagenet.h) and the generator of test trees. Optional: a build without
// libjpeg-turbo (PETABOX_HAVE_TURBOJPEG unset: the engine-only build on a GPU machine)
// compiles, and every call fails with Unimplemented "built without libjpeg-turbo".
//
// Thread-safe: each thread uses TurboJPEG handles of its own.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "engine/util/status.h"

namespace petabox::data {

// An 8-bit image, rows top to bottom, channels interleaved (RGB when channels == 3).
struct Image {
  int width = 0;
  int height = 0;
  int channels = 3;
  std::vector<uint8_t> pixels;  // height * width * channels bytes
  uint8_t At(int y, int x, int c) const { return pixels[(static_cast<size_t>(y) * width + x) * channels + c]; }
};

struct JpegSize {
  int width = 0;
  int height = 0;
};

// True when the build links libjpeg-turbo.
bool HaveJpeg();

// The image's size from its header. InvalidArgument when `bytes` is not a JPEG (the
// library's reason in the message); Unimplemented without libjpeg-turbo.
StatusOr<JpegSize> ReadJpegSize(std::span<const uint8_t> bytes);

// The size DecodeJpeg gives for an image of `size`: the smallest of libjpeg-turbo's DCT
// scaling factors (1/8 .. 1) that keeps it at least min_width x min_height, or full size
// when none is smaller (0, 0: the smallest, 1/8). Decoding at 1/2 is about 3x cheaper than
// at full size.
JpegSize ScaledJpegSize(JpegSize size, int min_width, int min_height);

// Decodes to RGB at ScaledJpegSize(size, min_width, min_height) (0, 0: full size).
// InvalidArgument for data that is not a JPEG, a truncated or corrupt one (libjpeg-turbo's
// warnings count as errors: a damaged image is not training data), or a colour space
// TurboJPEG cannot turn into RGB; Unimplemented without libjpeg-turbo.
StatusOr<Image> DecodeJpeg(std::span<const uint8_t> bytes, int min_width = 0, int min_height = 0);
// The same into *image, reusing its pixel buffer (no allocation, and no page faults, once
// it is large enough: the loader's threads decode into one image each).
Status DecodeJpegInto(std::span<const uint8_t> bytes, int min_width, int min_height, Image* image);

// Encodes an RGB (channels 3) or grey (channels 1) image with 4:2:0 chroma subsampling.
// InvalidArgument for an empty image, another channel count or quality outside [1, 100].
StatusOr<std::vector<uint8_t>> EncodeJpeg(const Image& image, int quality = 90);

}  // namespace petabox::data
