#include "engine/data/npy.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace petabox::data {
namespace {

constexpr char kMagic[] = "\x93NUMPY";

struct TypeInfo {
  NpyType type;
  const char* descr;  // without the byte-order character
  int size;
};
constexpr TypeInfo kTypes[] = {{NpyType::kBool, "b1", 1},    {NpyType::kUInt8, "u1", 1},  {NpyType::kInt8, "i1", 1},
                               {NpyType::kInt32, "i4", 4},   {NpyType::kInt64, "i8", 8},  {NpyType::kFloat32, "f4", 4},
                               {NpyType::kFloat64, "f8", 8}};

const TypeInfo& Info(NpyType t) { return kTypes[static_cast<int>(t)]; }

// The quoted value after 'key': in the header dict.
StatusOr<std::string> DictValue(const std::string& header, const std::string& key, const std::string& path) {
  const size_t k = header.find("'" + key + "'");
  if (k == std::string::npos) return InvalidArgument(path + ": .npy header has no '" + key + "'");
  size_t v = header.find(':', k);
  if (v == std::string::npos) return InvalidArgument(path + ": malformed .npy header");
  ++v;
  while (v < header.size() && header[v] == ' ') ++v;
  size_t end = v;
  if (v < header.size() && (header[v] == '\'' || header[v] == '"')) {
    end = header.find(header[v], v + 1);
    if (end == std::string::npos) return InvalidArgument(path + ": malformed .npy header");
    return header.substr(v + 1, end - v - 1);
  }
  if (v < header.size() && header[v] == '(') {
    end = header.find(')', v);
    if (end == std::string::npos) return InvalidArgument(path + ": malformed .npy header");
    return header.substr(v, end - v + 1);
  }
  while (end < header.size() && header[end] != ',' && header[end] != '}') ++end;
  return header.substr(v, end - v);
}

StatusOr<Shape> ParseShape(const std::string& tuple, const std::string& path) {
  Shape shape;
  std::string digits;
  for (char c : tuple.substr(1)) {
    if (c >= '0' && c <= '9') {
      digits += c;
      if (digits.size() > 12) return InvalidArgument(path + ": .npy dimension too large");
    } else if (c == ',' || c == ')') {
      if (!digits.empty()) shape.push_back(std::stoll(digits));
      digits.clear();
    } else if (c != ' ' && c != 'L') {
      return InvalidArgument(path + ": malformed .npy shape " + tuple);
    }
  }
  return shape;
}

StatusOr<NpyType> ParseDescr(const std::string& descr, const std::string& path) {
  if (descr.size() == 3 && (descr[0] == '<' || descr[0] == '|' || descr[0] == '=')) {
    for (const TypeInfo& t : kTypes)
      if (descr.substr(1) == t.descr && (t.size == 1 || descr[0] != '|')) return t.type;
  }
  return InvalidArgument(path + ": .npy dtype '" + descr +
                         "' is not supported (little-endian bool, uint8, int8, int32, int64, float32, float64)");
}

}  // namespace

double NpyArray::At(int64_t i) const {
  const uint8_t* p = data.data() + i * Info(type).size;
  switch (type) {
    case NpyType::kBool: case NpyType::kUInt8: return *p;
    case NpyType::kInt8: return static_cast<int8_t>(*p);
    case NpyType::kInt32: { int32_t v; std::memcpy(&v, p, 4); return v; }
    case NpyType::kInt64: { int64_t v; std::memcpy(&v, p, 8); return static_cast<double>(v); }
    case NpyType::kFloat32: { float v; std::memcpy(&v, p, 4); return v; }
    default: { double v; std::memcpy(&v, p, 8); return v; }
  }
}

StatusOr<NpyArray> ReadNpy(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound(path + ": cannot be read");
  char magic[8];
  if (!in.read(magic, 8) || std::memcmp(magic, kMagic, 6) != 0) return InvalidArgument(path + ": not a .npy file");
  const int major = static_cast<uint8_t>(magic[6]);
  uint32_t header_len = 0;
  uint8_t len[4] = {0, 0, 0, 0};
  if (major == 1) {
    if (!in.read(reinterpret_cast<char*>(len), 2)) return InvalidArgument(path + ": truncated .npy header");
    header_len = len[0] | (len[1] << 8);
  } else if (major == 2 || major == 3) {
    if (!in.read(reinterpret_cast<char*>(len), 4)) return InvalidArgument(path + ": truncated .npy header");
    header_len = len[0] | (len[1] << 8) | (len[2] << 16) | (static_cast<uint32_t>(len[3]) << 24);
  } else {
    return InvalidArgument(path + ": .npy format version " + std::to_string(major) + " is not supported");
  }
  if (header_len > (1u << 20)) return InvalidArgument(path + ": .npy header too long");
  std::string header(header_len, '\0');
  if (!in.read(header.data(), header_len)) return InvalidArgument(path + ": truncated .npy header");
  NpyArray a;
  PB_ASSIGN_OR_RETURN(std::string descr, DictValue(header, "descr", path));
  PB_ASSIGN_OR_RETURN(a.type, ParseDescr(descr, path));
  PB_ASSIGN_OR_RETURN(std::string fortran, DictValue(header, "fortran_order", path));
  if (fortran.find("True") != std::string::npos) return InvalidArgument(path + ": Fortran-order .npy arrays are not supported");
  PB_ASSIGN_OR_RETURN(std::string shape, DictValue(header, "shape", path));
  PB_ASSIGN_OR_RETURN(a.shape, ParseShape(shape, path));
  int64_t n = 1;
  for (int64_t d : a.shape)
    if (__builtin_mul_overflow(n, d, &n) || n > (int64_t{1} << 36)) return InvalidArgument(path + ": .npy array too large");
  a.data.resize(static_cast<size_t>(n) * Info(a.type).size);
  if (!in.read(reinterpret_cast<char*>(a.data.data()), static_cast<std::streamsize>(a.data.size())))
    return InvalidArgument(path + ": " + std::to_string(in.gcount()) + " bytes of data, " +
                           std::to_string(a.data.size()) + " expected for shape " + ShapeToString(a.shape));
  return a;
}

Status WriteNpy(const std::string& path, const NpyArray& a) {
  if (a.type != NpyType::kUInt8 && a.type != NpyType::kInt32 && a.type != NpyType::kFloat32)
    return InvalidArgument(path + ": only uint8, int32 and float32 arrays are written");
  std::string shape = "(";  // a Python tuple: (), (5,), (5, 3)
  for (size_t i = 0; i < a.shape.size(); ++i) shape += (i ? ", " : "") + std::to_string(a.shape[i]);
  shape += a.shape.size() == 1 ? ",)" : ")";
  std::string header = std::string("{'descr': '") + (a.type == NpyType::kUInt8 ? "|" : "<") + Info(a.type).descr +
                       "', 'fortran_order': False, 'shape': " + shape + ", }";
  const size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(kMagic, 6);
  out.put(1).put(0);
  out.put(static_cast<char>(header.size() & 0xff)).put(static_cast<char>(header.size() >> 8));
  out << header;
  out.write(reinterpret_cast<const char*>(a.data.data()), static_cast<std::streamsize>(a.data.size()));
  if (!out.flush()) return Internal(path + ": cannot be written");
  return Status::Ok();
}

bool IsNpyDataset(const std::string& dir) { return std::filesystem::exists(dir + "/train_x.npy"); }

StatusOr<std::shared_ptr<const Dataset>> LoadNpyDataset(const std::string& dir, Split split) {
  const std::string prefix = dir + (split == Split::kTrain ? "/train_" : "/test_");
  PB_ASSIGN_OR_RETURN(NpyArray x, ReadNpy(prefix + "x.npy"));
  PB_ASSIGN_OR_RETURN(NpyArray y, ReadNpy(prefix + "y.npy"));
  if (x.shape.empty() || y.shape.size() != 1 || x.shape[0] != y.shape[0])
    return InvalidArgument(prefix + "x.npy " + ShapeToString(x.shape) + " and " + prefix + "y.npy " +
                           ShapeToString(y.shape) + " do not match: expected (N, ...) features and (N,) labels");
  if (y.type == NpyType::kFloat32 || y.type == NpyType::kFloat64 || y.type == NpyType::kBool)
    return InvalidArgument(prefix + "y.npy: labels must be integers");
  int num_classes = 0;
  std::ifstream classes(dir + "/classes.txt");
  for (std::string line; std::getline(classes, line);) num_classes += !line.empty();
  std::vector<int32_t> labels(static_cast<size_t>(y.shape[0]));
  int max_label = -1;
  for (int64_t i = 0; i < y.shape[0]; ++i) {
    const double v = y.At(i);
    if (v < 0 || v > (1 << 24) || (num_classes > 0 && v >= num_classes)) {
      const std::string listed = num_classes ? " (classes.txt lists " + std::to_string(num_classes) + ")" : "";
      return InvalidArgument(prefix + "y.npy: label " + std::to_string(static_cast<int64_t>(v)) + " at " +
                             std::to_string(i) + " is out of range" + listed);
    }
    labels[i] = static_cast<int32_t>(v);
    max_label = std::max(max_label, labels[i]);
  }
  if (num_classes == 0) num_classes = max_label + 1;
  const Shape feature_shape(x.shape.begin() + 1, x.shape.end());
  if (x.type == NpyType::kUInt8) {
    return std::shared_ptr<const Dataset>(
        std::make_shared<ByteDataset>(feature_shape, num_classes, std::move(x.data), std::move(labels)));
  }
  if (x.type != NpyType::kFloat32)
    return InvalidArgument(prefix + "x.npy: features must be uint8 or float32");
  std::vector<float> features(x.data.size() / 4);
  std::memcpy(features.data(), x.data.data(), x.data.size());
  return std::shared_ptr<const Dataset>(
      std::make_shared<FloatDataset>(feature_shape, num_classes, std::move(features), std::move(labels)));
}

}  // namespace petabox::data
