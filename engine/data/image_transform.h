// One example of the JPEG loader: decode (at reduced DCT scale where the crop allows) and
// MLPerf ResNet-50's reference preprocessing, to `size` x `size` RGB bytes (HWC).
//   training:   torchvision RandomResizedCrop(size, scale (0.08, 1), ratio (3/4, 4/3)),
//               then RandomHorizontalFlip(0.5)
//   evaluation: Resize(resize_size) (short side), then CenterCrop(size)
// Resizing is bilinear (engine/data/image_ops.h). Normalisation (mean, std) is not done
// here: the model does it on the device. Thread-safe (no shared state).
#pragma once

#include <cstdint>
#include <span>

#include "engine/data/image_ops.h"
#include "engine/random.h"
#include "engine/util/status.h"

namespace petabox::data {

struct ImageTransform {
  // Output side in pixels (>= 1).
  int size = 224;
  // Evaluation: the short side before the centre crop (>= size); MLPerf: 256 for 224.
  int resize_size = 256;
  // Random-resized crop and flip (training); false: resize and centre crop.
  bool train = true;
};

// The evaluation resize for `size`: size * 256 / 224 rounded (256 for 224, 37 for 32).
int DefaultResizeSize(int size);

// Decodes the JPEG `bytes` and writes size * size * 3 bytes to `out`; `rng` draws the
// crop and the flip (training only). InvalidArgument when the bytes are not a decodable
// JPEG; Unimplemented without libjpeg-turbo.
Status TransformJpeg(std::span<const uint8_t> bytes, const ImageTransform& transform, Rng& rng, uint8_t* out);

}  // namespace petabox::data
