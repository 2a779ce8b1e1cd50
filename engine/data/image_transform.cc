#include "engine/data/image_transform.h"

#include <cmath>

#include "engine/data/jpeg.h"

namespace petabox::data {

int DefaultResizeSize(int size) { return static_cast<int>(std::lround(size * 256.0 / 224.0)); }

Status TransformJpeg(std::span<const uint8_t> bytes, const ImageTransform& t, Rng& rng, uint8_t* out) {
  PB_ASSIGN_OR_RETURN(JpegSize full, ReadJpegSize(bytes));
  if (full.width < 1 || full.height < 1) return InvalidArgument("JPEG of size 0");
  CropBox box = t.train ? RandomResizedCropBox(full.width, full.height, rng)
                        : CenterCropBox(full.width, full.height, t.resize_size, t.size);
  const bool flip = t.train && rng.Uniform() < 0.5f;
  // The smallest decode whose crop still has `size` pixels a side (no upsampling that
  // full-size decoding would have avoided).
  const int min_width = static_cast<int>(std::ceil(t.size * full.width / box.width - 1e-9));
  const int min_height = static_cast<int>(std::ceil(t.size * full.height / box.height - 1e-9));
  // One decode buffer per thread: a fresh 500x375 image would be a new mmap and ~140
  // page faults per image.
  thread_local Image image;
  PB_RETURN_IF_ERROR(DecodeJpegInto(bytes, min_width, min_height, &image));
  if (image.width != full.width || image.height != full.height) {
    const double sx = static_cast<double>(image.width) / full.width;
    const double sy = static_cast<double>(image.height) / full.height;
    box = {box.x * sx, box.y * sy, box.width * sx, box.height * sy};
  }
  ResizeCrop(image, box, t.size, t.size, flip, out);
  return Status::Ok();
}

}  // namespace petabox::data
