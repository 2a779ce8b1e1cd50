#include "engine/data/jpeg.h"

#include <memory>
#include <string>

#if defined(PETABOX_HAVE_TURBOJPEG)
#include <turbojpeg.h>
#endif

namespace petabox::data {

#if defined(PETABOX_HAVE_TURBOJPEG)
namespace {

struct TjDeleter {
  void operator()(void* handle) const { tjDestroy(handle); }
};
using TjHandle = std::unique_ptr<void, TjDeleter>;

// One decompressor and one compressor per thread: creating a handle allocates, and a
// loader decodes millions of images on a few threads.
TjHandle& DecompressorSlot() {
  thread_local TjHandle handle(tjInitDecompress());
  return handle;
}

tjhandle Compressor() {
  thread_local TjHandle handle(tjInitCompress());
  return handle.get();
}

// The handle's error as InvalidArgument. The decompressor is replaced: after a failed
// decode libjpeg-turbo 2.1 can report a stale header for the next, foreign, input.
Status DecodeError(const char* what) {
  TjHandle& slot = DecompressorSlot();
  Status error = InvalidArgument(std::string(what) + ": " + tjGetErrorStr2(slot.get()));
  slot.reset(tjInitDecompress());
  return error;
}

}  // namespace

bool HaveJpeg() { return true; }

StatusOr<JpegSize> ReadJpegSize(std::span<const uint8_t> bytes) {
  tjhandle tj = DecompressorSlot().get();
  if (tj == nullptr) return Internal("cannot create a TurboJPEG decompressor");
  int width = 0, height = 0, subsampling = 0, colorspace = 0;
  if (tjDecompressHeader3(tj, bytes.data(), bytes.size(), &width, &height, &subsampling, &colorspace) != 0) {
    return DecodeError("not a JPEG");
  }
  return JpegSize{width, height};
}

JpegSize ScaledJpegSize(JpegSize size, int min_width, int min_height) {
  int count = 0;
  const tjscalingfactor* factors = tjGetScalingFactors(&count);
  JpegSize best = size;
  for (int i = 0; i < count; ++i) {
    const JpegSize s{TJSCALED(size.width, factors[i]), TJSCALED(size.height, factors[i])};
    if (s.width >= min_width && s.height >= min_height && s.width < best.width) best = s;
  }
  return best;
}

Status DecodeJpegInto(std::span<const uint8_t> bytes, int min_width, int min_height, Image* image) {
  PB_ASSIGN_OR_RETURN(JpegSize full, ReadJpegSize(bytes));
  const JpegSize size = min_width <= 0 && min_height <= 0 ? full : ScaledJpegSize(full, min_width, min_height);
  image->width = size.width;
  image->height = size.height;
  image->channels = 3;
  image->pixels.resize(static_cast<size_t>(size.width) * size.height * 3);
  tjhandle tj = DecompressorSlot().get();
  if (tjDecompress2(tj, bytes.data(), bytes.size(), image->pixels.data(), size.width, 0, size.height, TJPF_RGB,
                    TJFLAG_STOPONWARNING) != 0) {
    return DecodeError("corrupt JPEG");
  }
  return Status::Ok();
}

StatusOr<Image> DecodeJpeg(std::span<const uint8_t> bytes, int min_width, int min_height) {
  Image image;
  PB_RETURN_IF_ERROR(DecodeJpegInto(bytes, min_width, min_height, &image));
  return image;
}

StatusOr<std::vector<uint8_t>> EncodeJpeg(const Image& image, int quality) {
  if (image.width < 1 || image.height < 1 || (image.channels != 1 && image.channels != 3) ||
      image.pixels.size() != static_cast<size_t>(image.width) * image.height * image.channels) {
    return InvalidArgument("EncodeJpeg: needs a non-empty grey or RGB image with width * height * channels bytes");
  }
  if (quality < 1 || quality > 100) return InvalidArgument("EncodeJpeg: quality must be in [1, 100]");
  tjhandle tj = Compressor();
  if (tj == nullptr) return Internal("cannot create a TurboJPEG compressor");
  unsigned char* out = nullptr;
  unsigned long out_size = 0;
  const bool grey = image.channels == 1;
  const int rc = tjCompress2(tj, image.pixels.data(), image.width, 0, image.height, grey ? TJPF_GRAY : TJPF_RGB, &out,
                             &out_size, grey ? TJSAMP_GRAY : TJSAMP_420, quality, 0);
  std::unique_ptr<unsigned char, decltype(&tjFree)> owned(out, tjFree);
  if (rc != 0) return Internal(std::string("EncodeJpeg: ") + tjGetErrorStr2(tj));
  return std::vector<uint8_t>(out, out + out_size);
}

#else  // no libjpeg-turbo

namespace {
Status NoJpeg() { return Unimplemented("JPEG datasets: built without libjpeg-turbo (install libturbojpeg0-dev)"); }
}  // namespace

bool HaveJpeg() { return false; }
StatusOr<JpegSize> ReadJpegSize(std::span<const uint8_t>) { return NoJpeg(); }
JpegSize ScaledJpegSize(JpegSize size, int, int) { return size; }
StatusOr<Image> DecodeJpeg(std::span<const uint8_t>, int, int) { return NoJpeg(); }
Status DecodeJpegInto(std::span<const uint8_t>, int, int, Image*) { return NoJpeg(); }
StatusOr<std::vector<uint8_t>> EncodeJpeg(const Image&, int) { return NoJpeg(); }

#endif

}  // namespace petabox::data
