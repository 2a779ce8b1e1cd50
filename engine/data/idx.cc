#include "engine/data/idx.h"

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "engine/data/file_io.h"

namespace petabox::data {
namespace {

constexpr size_t kHeaderBytes = 4;

bool KnownType(uint8_t code) {
  switch (static_cast<IdxType>(code)) {
    case IdxType::kUInt8: case IdxType::kInt8: case IdxType::kInt16:
    case IdxType::kInt32: case IdxType::kFloat32: case IdxType::kFloat64:
      return true;
  }
  return false;
}

const char* TypeName(IdxType type) {
  switch (type) {
    case IdxType::kUInt8: return "uint8";
    case IdxType::kInt8: return "int8";
    case IdxType::kInt16: return "int16";
    case IdxType::kInt32: return "int32";
    case IdxType::kFloat32: return "float32";
    case IdxType::kFloat64: return "float64";
  }
  return "?";
}

uint32_t ReadBigEndian32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

std::string Hex(const uint8_t* p, size_t n) {
  std::string s = "0x";
  char buf[3];
  for (size_t i = 0; i < n; ++i) {
    std::snprintf(buf, sizeof(buf), "%02x", p[i]);
    s += buf;
  }
  return s;
}

// Parses the magic and dims; on success `*data_offset` is where the elements start.
Status ParseHeader(const std::vector<uint8_t>& bytes, const std::string& path, IdxArray* out, size_t* data_offset) {
  if (bytes.size() < kHeaderBytes) {
    return InvalidArgument(path + ": truncated: " + std::to_string(bytes.size()) + " bytes, shorter than the 4-byte IDX magic");
  }
  const uint8_t* p = bytes.data();
  if (p[0] != 0 || p[1] != 0 || !KnownType(p[2]) || p[3] == 0) {
    return InvalidArgument(path + ": bad magic " + Hex(p, 4) +
                           ": not an IDX file (expected 00 00, a type code 08/09/0b/0c/0d/0e, and a dim count >= 1)");
  }
  out->type = static_cast<IdxType>(p[2]);
  const size_t ndims = p[3];
  *data_offset = kHeaderBytes + 4 * ndims;
  if (bytes.size() < *data_offset) {
    return InvalidArgument(path + ": truncated: the header declares " + std::to_string(ndims) +
                           " dims but the file ends after " + std::to_string(bytes.size()) + " bytes");
  }
  out->dims.clear();
  for (size_t d = 0; d < ndims; ++d) out->dims.push_back(ReadBigEndian32(p + kHeaderBytes + 4 * d));
  return Status::Ok();
}

// Copies the big-endian elements after the header into host byte order.
void CopyElements(const uint8_t* src, int64_t count, int item, std::vector<uint8_t>* dst) {
  dst->resize(static_cast<size_t>(count) * item);
  if (item == 1 || std::endian::native == std::endian::big) {
    std::memcpy(dst->data(), src, dst->size());
    return;
  }
  for (int64_t i = 0; i < count; ++i) {
    for (int b = 0; b < item; ++b) (*dst)[i * item + b] = src[i * item + (item - 1 - b)];
  }
}

std::string Describe(const IdxArray& a) { return ShapeToString(a.dims) + " " + TypeName(a.type); }

StatusOr<std::vector<int32_t>> ToLabels(const IdxArray& labels, const std::string& path, int num_classes) {
  if (labels.dims.size() != 1 || labels.type == IdxType::kFloat32 || labels.type == IdxType::kFloat64) {
    return InvalidArgument(path + ": labels must be a 1-D integer array, got " + Describe(labels));
  }
  std::vector<int32_t> out(labels.dims[0]);
  for (int64_t i = 0; i < labels.dims[0]; ++i) {
    double v = labels.At(i);
    if (v < 0 || (num_classes > 0 && v >= num_classes)) {
      return InvalidArgument(path + ": label " + std::to_string(static_cast<int64_t>(v)) + " at index " +
                             std::to_string(i) + " is outside [0, " + std::to_string(num_classes) + ")");
    }
    out[i] = static_cast<int32_t>(v);
  }
  return out;
}

Shape FeatureShape(const Shape& dims) {
  Shape shape(dims.begin() + 1, dims.end());
  if (shape.size() == 2) shape.insert(shape.begin(), 1);  // (H, W) -> one channel
  return shape;
}

std::shared_ptr<const Dataset> MakeDataset(IdxArray images, std::vector<int32_t> labels, int num_classes) {
  Shape shape = FeatureShape(images.dims);
  if (images.type == IdxType::kUInt8) {
    return std::make_shared<ByteDataset>(std::move(shape), num_classes, std::move(images.data), std::move(labels));
  }
  std::vector<float> features(Product(images.dims));
  for (size_t i = 0; i < features.size(); ++i) features[i] = static_cast<float>(images.At(i));
  return std::make_shared<FloatDataset>(std::move(shape), num_classes, std::move(features), std::move(labels));
}

// The path with ".gz" when that file exists, else the plain path when it exists.
StatusOr<std::string> FindFile(const std::string& dir, const std::string& name) {
  std::string plain = (std::filesystem::path(dir) / name).string();
  std::error_code ec;
  if (std::filesystem::exists(plain + ".gz", ec)) return plain + ".gz";
  if (std::filesystem::exists(plain, ec)) return plain;
  return NotFound("neither " + plain + ".gz nor " + plain + " exists");
}

}  // namespace

int IdxItemSize(IdxType type) {
  switch (type) {
    case IdxType::kUInt8: case IdxType::kInt8: return 1;
    case IdxType::kInt16: return 2;
    case IdxType::kInt32: case IdxType::kFloat32: return 4;
    case IdxType::kFloat64: return 8;
  }
  return 1;
}

double IdxArray::At(int64_t i) const {
  const uint8_t* p = data.data() + i * IdxItemSize(type);
  switch (type) {
    case IdxType::kUInt8: return *p;
    case IdxType::kInt8: return static_cast<int8_t>(*p);
    case IdxType::kInt16: { int16_t v; std::memcpy(&v, p, 2); return v; }
    case IdxType::kInt32: { int32_t v; std::memcpy(&v, p, 4); return v; }
    case IdxType::kFloat32: { float v; std::memcpy(&v, p, 4); return v; }
    case IdxType::kFloat64: { double v; std::memcpy(&v, p, 8); return v; }
  }
  return 0;
}

bool GzipSupported() { return HaveZlib(); }

StatusOr<IdxArray> ReadIdxFile(const std::string& path) {
  PB_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, ReadFileBytes(path));
  IdxArray array;
  size_t offset = 0;
  PB_RETURN_IF_ERROR(ParseHeader(bytes, path, &array, &offset));
  const int64_t count = Product(array.dims);
  const int item = IdxItemSize(array.type);
  const uint64_t expected = static_cast<uint64_t>(count) * item;
  const uint64_t have = bytes.size() - offset;
  if (have != expected) {
    return InvalidArgument(path + ": " + (have < expected ? "truncated" : "trailing bytes") + ": the header declares " +
                           Describe(array) + " = " + std::to_string(expected) + " data bytes, the file has " +
                           std::to_string(have));
  }
  CopyElements(bytes.data() + offset, count, item, &array.data);
  return array;
}

Status WriteIdxFile(const std::string& path, const IdxArray& array, bool gzip) {
  const int item = IdxItemSize(array.type);
  if (array.dims.empty() || array.dims.size() > 255 ||
      static_cast<int64_t>(array.data.size()) != Product(array.dims) * item) {
    return InvalidArgument(path + ": IdxArray " + Describe(array) + " has " + std::to_string(array.data.size()) +
                           " data bytes, which does not match its dims");
  }
  std::vector<uint8_t> bytes = {0, 0, static_cast<uint8_t>(array.type), static_cast<uint8_t>(array.dims.size())};
  for (int64_t d : array.dims) {
    uint32_t v = static_cast<uint32_t>(d);
    for (int shift = 24; shift >= 0; shift -= 8) bytes.push_back(static_cast<uint8_t>(v >> shift));
  }
  const size_t header = bytes.size();
  bytes.resize(header + array.data.size());
  std::vector<uint8_t> big;
  CopyElements(array.data.data(), Product(array.dims), item, &big);  // the swap is its own inverse
  std::memcpy(bytes.data() + header, big.data(), big.size());
  return WriteFileBytes(path, bytes, gzip);
}

StatusOr<std::shared_ptr<const Dataset>> LoadIdxDataset(const std::string& images_path,
                                                        const std::string& labels_path, int num_classes) {
  PB_ASSIGN_OR_RETURN(IdxArray images, ReadIdxFile(images_path));
  PB_ASSIGN_OR_RETURN(IdxArray labels_array, ReadIdxFile(labels_path));
  if (images.dims.size() < 2) {
    return InvalidArgument(images_path + ": images must have at least 2 dims (count, features...), got " +
                           Describe(images));
  }
  PB_ASSIGN_OR_RETURN(std::vector<int32_t> labels, ToLabels(labels_array, labels_path, num_classes));
  if (static_cast<int64_t>(labels.size()) != images.dims[0]) {
    return InvalidArgument("count mismatch: " + images_path + " holds " + std::to_string(images.dims[0]) +
                           " images but " + labels_path + " holds " + std::to_string(labels.size()) + " labels");
  }
  if (num_classes <= 0) {
    num_classes = 1;
    for (int32_t label : labels) num_classes = std::max(num_classes, label + 1);
  }
  return MakeDataset(std::move(images), std::move(labels), num_classes);
}

StatusOr<std::shared_ptr<const Dataset>> LoadMnistFamily(const std::string& dir, Split split) {
  const std::string prefix = split == Split::kTrain ? "train" : "t10k";
  PB_ASSIGN_OR_RETURN(std::string images, FindFile(dir, prefix + "-images-idx3-ubyte"));
  PB_ASSIGN_OR_RETURN(std::string labels, FindFile(dir, prefix + "-labels-idx1-ubyte"));
  return LoadIdxDataset(images, labels, /*num_classes=*/10);
}

}  // namespace petabox::data
