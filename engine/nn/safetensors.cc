// The safetensors format: header building and validation, tensor bytes, atomic files.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>
#include <set>

#include "engine/nn/json.h"
#include "engine/nn/state_dict.h"
#include "engine/util/sha256.h"

namespace petabox::nn {

static_assert(std::endian::native == std::endian::little, "safetensors data is little-endian; add byte swapping");

namespace {

struct DTypeName {
  DType dtype;
  const char* name;
};
constexpr DTypeName kDTypeNames[] = {
    {DType::kFloat32, "F32"}, {DType::kFloat16, "F16"}, {DType::kBFloat16, "BF16"}, {DType::kInt32, "I32"},
    {DType::kInt64, "I64"},   {DType::kUInt8, "U8"},    {DType::kBool, "BOOL"},
};

// ---------------------------------------------------------------- writing

Status CheckNames(const NamedTensors& tensors, const Metadata& metadata) {
  std::set<std::string> seen;
  for (const auto& [name, t] : tensors) {
    if (name.empty() || name == "__metadata__")
      return InvalidArgument("safetensors: invalid tensor name " + json::Quote(name));
    // The header is JSON, which holds only UTF-8 text: another name would not read back.
    if (!json::IsUtf8(name)) return InvalidArgument("safetensors: tensor name " + json::Quote(name) + " is not UTF-8");
    if (!seen.insert(name).second) return InvalidArgument("safetensors: duplicate tensor name '" + name + "'");
    if (!t.ok()) return Status(t.status().code(), "safetensors: tensor '" + name + "': " + t.status().message());
  }
  for (const auto& [k, v] : metadata) {
    if (!json::IsUtf8(k) || !json::IsUtf8(v))
      return InvalidArgument("safetensors: metadata " + json::Quote(k) + " is not UTF-8 text");
  }
  return Status::Ok();
}

// The 8-byte length, then the JSON header padded with spaces so the data starts 8-aligned.
std::string Header(const NamedTensors& tensors, const Metadata& metadata) {
  json::Json header = json::Json::object();
  if (!metadata.empty()) {
    json::Json& m = header["__metadata__"] = json::Json::object();
    for (const auto& [k, v] : metadata) m[k] = v;
  }
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    uint64_t bytes = static_cast<uint64_t>(t.numel()) * ItemSize(t.dtype());
    header[name] = {{"dtype", SafetensorsDTypeName(t.dtype())},
                    {"shape", t.shape()},
                    {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string h = json::Dump(header);
  h.append((8 - h.size() % 8) % 8, ' ');
  std::string out(8, '\0');
  uint64_t n = h.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xFF);
  return out + h;
}

// The tensor's elements as contiguous host bytes.
StatusOr<std::string> RawBytes(const std::string& name, const Tensor& t) {
  if (t.numel() == 0) return std::string();  // nothing to compute (and no kernel to launch)
  Tensor c = t;
  const Node* base = Base(c.node().get());
  if (base != c.node().get() || base->op == Op::kConst || !c.node()->buffer()) c = t.Contiguous();
  if (Status s = c.Realize(); !s.ok()) return Status(s.code(), "safetensors: tensor '" + name + "': " + s.message());
  std::string out(static_cast<size_t>(t.numel()) * ItemSize(t.dtype()), '\0');
  PB_RETURN_IF_ERROR(c.node()->buffer()->CopyOut(out.data(), out.size()));
  return out;
}

std::string ErrnoText() { return std::strerror(errno); }

// Runs `write` on a temporary file beside `path`, then fsync + rename + directory fsync.
Status WriteAtomically(const std::string& path, const std::function<Status(int fd)>& write) {
  static std::atomic<uint64_t> counter{0};
  std::string tmp = path + ".tmp." + std::to_string(getpid()) + "." + std::to_string(counter++);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Unavailable("cannot create " + tmp + ": " + ErrnoText());
  Status s = write(fd);
  if (s.ok() && ::fsync(fd) != 0) s = Unavailable("fsync " + tmp + ": " + ErrnoText());
  if (::close(fd) != 0 && s.ok()) s = Unavailable("close " + tmp + ": " + ErrnoText());
  if (s.ok() && std::rename(tmp.c_str(), path.c_str()) != 0)
    s = Unavailable("rename " + tmp + " to " + path + ": " + ErrnoText());
  if (!s.ok()) {
    ::unlink(tmp.c_str());
    return s;
  }
  size_t slash = path.find_last_of('/');
  std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {  // makes the rename durable; not all filesystems allow it, so failure is not fatal
    ::fsync(dfd);
    ::close(dfd);
  }
  return Status::Ok();
}

Status WriteAll(int fd, std::string_view bytes, const std::string& path) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Unavailable("write " + path + ": " + ErrnoText());
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

// ---------------------------------------------------------------- reading

struct Entry {
  std::string name;
  DType dtype;
  Shape shape;
  uint64_t begin = 0, end = 0;
};

Status ParseMetadata(const json::Json& v, const std::string& source, Metadata* out) {
  if (!v.is_object())
    return InvalidArgument(source + ": \"__metadata__\" is a " + v.type_name() + ", expected an object");
  for (const auto& [k, s] : v.items()) {
    if (!s.is_string())
      return InvalidArgument(source + ": metadata key '" + k + "' holds a " + s.type_name() + ", expected a string");
    (*out)[k] = s.get<std::string>();
  }
  return Status::Ok();
}

const json::Json* Field(const json::Json& v, const char* key) {
  auto it = v.find(key);
  return it == v.end() ? nullptr : &*it;
}

// Reads a JSON array of non-negative integers.
bool IntArray(const json::Json* v, std::vector<int64_t>* out) {
  if (!v || !v->is_array()) return false;
  for (const json::Json& e : *v) {
    std::optional<int64_t> i = json::AsNonNegativeInt(e);
    if (!i) return false;
    out->push_back(*i);
  }
  return true;
}

Status ParseEntry(const std::string& name, const json::Json& v, const std::string& source, uint64_t data_size,
                  Entry* e) {
  std::string where = source + ": tensor '" + name + "': ";
  if (!v.is_object()) return InvalidArgument(where + "entry is a " + v.type_name() + ", expected an object");
  e->name = name;
  const json::Json* dtype = Field(v, "dtype");
  if (!dtype || !dtype->is_string()) return InvalidArgument(where + "missing string field \"dtype\"");
  const std::string& dtype_name = dtype->get_ref<const std::string&>();
  StatusOr<DType> d = ParseSafetensorsDType(dtype_name);
  if (!d.ok()) return InvalidArgument(where + d.status().message());
  e->dtype = *d;
  if (!IntArray(Field(v, "shape"), &e->shape))
    return InvalidArgument(where + "\"shape\" must be an array of non-negative integers");
  std::vector<int64_t> offsets;
  if (!IntArray(Field(v, "data_offsets"), &offsets) || offsets.size() != 2)
    return InvalidArgument(where + "\"data_offsets\" must be [begin, end] with non-negative integers");
  e->begin = static_cast<uint64_t>(offsets[0]);
  e->end = static_cast<uint64_t>(offsets[1]);
  if (e->begin > e->end || e->end > data_size) {
    return InvalidArgument(where + "data_offsets [" + std::to_string(e->begin) + ", " + std::to_string(e->end) +
                           "] are out of range: the data section holds " + std::to_string(data_size) + " bytes");
  }
  uint64_t bytes = static_cast<uint64_t>(ItemSize(e->dtype));
  for (int64_t s : e->shape) {
    if (s != 0 && bytes > (uint64_t{1} << 62) / static_cast<uint64_t>(s))
      return InvalidArgument(where + "shape is too large");
    bytes *= static_cast<uint64_t>(s);
  }
  if (bytes != e->end - e->begin) {
    return InvalidArgument(where + "shape " + ShapeToString(e->shape) + " of " + dtype_name + " needs " +
                           std::to_string(bytes) + " bytes but data_offsets span " + std::to_string(e->end - e->begin));
  }
  return Status::Ok();
}

// The entries, sorted by offset, must tile [0, data_size) exactly (the format forbids holes).
Status CheckLayout(std::vector<const Entry*> entries, const std::string& source, uint64_t data_size) {
  std::sort(entries.begin(), entries.end(), [](const Entry* a, const Entry* b) {
    return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
  });
  uint64_t at = 0;
  const Entry* prev = nullptr;
  for (const Entry* e : entries) {
    if (e->begin < at) {
      return InvalidArgument(source + ": tensors '" + prev->name + "' and '" + e->name + "' overlap (data_offsets [" +
                             std::to_string(prev->begin) + ", " + std::to_string(prev->end) + "] and [" +
                             std::to_string(e->begin) + ", " + std::to_string(e->end) + "])");
    }
    if (e->begin > at)
      return InvalidArgument(source + ": hole in the data section before tensor '" + e->name + "' (bytes " +
                             std::to_string(at) + " to " + std::to_string(e->begin) + " belong to no tensor)");
    at = e->end;
    prev = e;
  }
  if (at != data_size)
    return InvalidArgument(source + ": " + std::to_string(data_size - at) +
                           " bytes after the last tensor's data belong to no tensor");
  return Status::Ok();
}

StatusOr<std::string> ReadFile(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f)
    return errno == ENOENT ? NotFound(path + ": no such file")
                           : Unavailable("cannot open " + path + ": " + ErrnoText());
  std::string out;
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) out.append(buf, n);
  bool failed = std::ferror(f);
  std::fclose(f);
  if (failed) return Unavailable("read " + path + ": " + ErrnoText());
  return out;
}

}  // namespace

const char* SafetensorsDTypeName(DType dtype) {
  for (const DTypeName& d : kDTypeNames)
    if (d.dtype == dtype) return d.name;
  return "?";
}

StatusOr<DType> ParseSafetensorsDType(std::string_view name) {
  for (const DTypeName& d : kDTypeNames)
    if (name == d.name) return d.dtype;
  return InvalidArgument("unsupported dtype \"" + std::string(name) +
                         "\" (supported: F32, F16, BF16, I32, I64, U8, BOOL)");
}

StatusOr<std::string> SerializeTensors(const NamedTensors& tensors, const Metadata& metadata) {
  PB_RETURN_IF_ERROR(CheckNames(tensors, metadata));
  std::string out = Header(tensors, metadata);
  for (const auto& [name, t] : tensors) {
    PB_ASSIGN_OR_RETURN(std::string raw, RawBytes(name, t));
    out += raw;
  }
  return out;
}

Status SaveTensors(const std::string& path, const NamedTensors& tensors, const Metadata& metadata) {
  PB_RETURN_IF_ERROR(CheckNames(tensors, metadata));
  Status s = WriteAtomically(path, [&](int fd) -> Status {
    PB_RETURN_IF_ERROR(WriteAll(fd, Header(tensors, metadata), path));
    for (const auto& [name, t] : tensors) {  // one tensor on the host at a time
      PB_ASSIGN_OR_RETURN(std::string raw, RawBytes(name, t));
      PB_RETURN_IF_ERROR(WriteAll(fd, raw, path));
    }
    return Status::Ok();
  });
  if (!s.ok() && s.message().find(path) == std::string::npos) return Status(s.code(), path + ": " + s.message());
  return s;
}

Status SaveTensorsWithChecksum(const std::string& path, const NamedTensors& tensors, const Metadata& metadata) {
  Metadata with_sum = metadata;
  with_sum[kDataSha256Key] = std::string(64, '0');  // placeholder: a digest has the same length
  PB_RETURN_IF_ERROR(CheckNames(tensors, with_sum));
  Status s = WriteAtomically(path, [&](int fd) -> Status {
    PB_RETURN_IF_ERROR(WriteAll(fd, Header(tensors, with_sum), path));
    Sha256 hash;
    for (const auto& [name, t] : tensors) {  // one tensor on the host at a time
      PB_ASSIGN_OR_RETURN(std::string raw, RawBytes(name, t));
      hash.Update(raw);
      PB_RETURN_IF_ERROR(WriteAll(fd, raw, path));
    }
    with_sum[kDataSha256Key] = hash.HexDigest();
    if (::lseek(fd, 0, SEEK_SET) != 0) return Unavailable("seek " + path + ": " + ErrnoText());
    return WriteAll(fd, Header(tensors, with_sum), path);  // same length, so it overwrites the placeholder exactly
  });
  if (!s.ok() && s.message().find(path) == std::string::npos) return Status(s.code(), path + ": " + s.message());
  return s;
}

namespace {

// A validated file: its metadata, its entries, and its data section (a view into the bytes).
struct Layout {
  Metadata metadata;
  std::vector<Entry> entries;
  std::string_view data;
};

// DataLoss when the metadata records a data checksum that `data` does not match.
Status CheckDataSum(const Metadata& metadata, std::string_view data, const std::string& source) {
  auto it = metadata.find(kDataSha256Key);
  if (it == metadata.end()) return Status::Ok();  // written without one (earlier versions, other writers)
  const std::string actual = Sha256Hex(data);
  if (actual == it->second) return Status::Ok();
  return DataLoss(source + ": checksum mismatch: the data section (" + std::to_string(data.size()) +
                  " bytes) has sha256 " + actual + " but the header records " + it->second +
                  "; the file is corrupt or truncated");
}

StatusOr<Layout> ParseLayout(std::string_view bytes, const std::string& source) {
  if (bytes.size() < 8) {
    return InvalidArgument(source + ": truncated: " + std::to_string(bytes.size()) +
                           " bytes, too short for the 8-byte header length");
  }
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[i])) << (8 * i);
  if (n > kMaxSafetensorsHeader)
    return InvalidArgument(source + ": header length " + std::to_string(n) + " exceeds the limit of " +
                           std::to_string(kMaxSafetensorsHeader));
  if (n > bytes.size() - 8) {
    return InvalidArgument(source + ": truncated: header length " + std::to_string(n) + " but only " +
                           std::to_string(bytes.size() - 8) + " bytes follow");
  }
  StatusOr<json::Json> header = json::Parse(bytes.substr(8, n));
  if (!header.ok()) return InvalidArgument(source + ": bad header: " + header.status().message());
  if (!header->is_object()) return InvalidArgument(source + ": header is not a JSON object");
  Layout out;
  out.data = bytes.substr(8 + n);
  if (const json::Json* md = Field(*header, "__metadata__")) PB_RETURN_IF_ERROR(ParseMetadata(*md, source, &out.metadata));
  PB_RETURN_IF_ERROR(CheckDataSum(out.metadata, out.data, source));  // before the offsets: truncation is DataLoss
  out.entries.reserve(header->size());
  for (const auto& [name, v] : header->items()) {
    if (name == "__metadata__") continue;
    out.entries.emplace_back();
    PB_RETURN_IF_ERROR(ParseEntry(name, v, source, out.data.size(), &out.entries.back()));
  }
  std::vector<const Entry*> ptrs;
  for (const Entry& e : out.entries) ptrs.push_back(&e);
  PB_RETURN_IF_ERROR(CheckLayout(ptrs, source, out.data.size()));
  return out;
}

}  // namespace

StatusOr<TensorFile> ParseTensors(std::string_view bytes, const std::string& source, const std::string& device) {
  PB_ASSIGN_OR_RETURN(Layout layout, ParseLayout(bytes, source));
  const std::string_view data = layout.data;
  TensorFile out;
  out.metadata = std::move(layout.metadata);
  for (const Entry& e : layout.entries) {
    Tensor t = Tensor::FromData(data.data() + e.begin, e.shape, e.dtype, device);
    if (!t.ok()) return Status(t.status().code(), source + ": tensor '" + e.name + "': " + t.status().message());
    out.tensors.emplace_back(e.name, std::move(t));
  }
  return out;
}

StatusOr<TensorFile> LoadTensors(const std::string& path, const std::string& device) {
  PB_ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
  return ParseTensors(bytes, path, device);
}

Status VerifyTensorFile(const std::string& path) {
  PB_ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
  return ParseLayout(bytes, path).status();
}

}  // namespace petabox::nn
