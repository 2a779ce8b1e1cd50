// safetensors files: round trips of every dtype, the exact bytes of a tiny file written by
// hand from the spec, validation of corrupted files, atomic writes, and module state dicts.
#include "engine/nn/state_dict.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "engine/nn/layers.h"
#include "engine/util/sha256.h"
#include "tests/engine/nn/nn_test_util.h"

namespace petabox::nn {
namespace {

using nntest::Host;
using nntest::TempDir;

// The tensor's raw bytes (exact for every dtype, int64 beyond 2^53 included).
std::string RawOf(const Tensor& t) {
  if (t.numel() == 0) return "";
  Tensor c = t.Contiguous();
  EXPECT_TRUE(c.Realize().ok());
  std::string out(static_cast<size_t>(t.numel()) * ItemSize(t.dtype()), '\0');
  EXPECT_TRUE(c.node()->buffer()->CopyOut(out.data(), out.size()).ok());
  return out;
}

template <typename T>
Tensor FromValues(const std::vector<T>& v, const Shape& shape, DType dtype) {
  return Tensor::FromData(v.data(), shape, dtype);
}

void WriteBytes(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string LengthPrefix(uint64_t n) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xFF);
  return out;
}

// A file with header `json` (not padded) followed by `data_bytes` zero bytes.
std::string FileWith(const std::string& json, size_t data_bytes) {
  return LengthPrefix(json.size()) + json + std::string(data_bytes, '\0');
}

// ---------------------------------------------------------------- round trips

TEST(StateDictTest, RoundTripEveryDtype) {
  std::vector<uint16_t> halves{FloatToHalf(1.5f), FloatToHalf(-65504.f), FloatToHalf(0.000061035f)};
  std::vector<uint16_t> bhalves{FloatToBFloat16(3.0e38f), FloatToBFloat16(-1.25f)};
  NamedTensors tensors = {
      {"f32", FromValues<float>({1.5f, -2.25f, 3.4e38f, 1e-45f, 0.0f, -0.0f}, {2, 3}, DType::kFloat32)},
      {"f16", FromValues(halves, {3}, DType::kFloat16)},
      {"bf16", FromValues(bhalves, {2, 1}, DType::kBFloat16)},
      {"i32", FromValues<int32_t>({INT32_MIN, -1, INT32_MAX}, {3}, DType::kInt32)},
      {"i64", FromValues<int64_t>({INT64_MIN, 9007199254740993LL, INT64_MAX}, {3}, DType::kInt64)},
      {"u8", FromValues<uint8_t>({0, 127, 255, 3}, {2, 2}, DType::kUInt8)},
      {"bool", FromValues<uint8_t>({1, 0, 1}, {3}, DType::kBool)},
      {"scalar", FromValues<float>({7.0f}, {}, DType::kFloat32)},
      {"empty", Tensor::Zeros({0, 4})},
      {"view", Tensor::Arange(0, 6).Reshape({2, 3}).Transpose()},  // a strided view: saved as its values
  };
  Metadata meta = {{"step", "1200"}, {"note", "quote \" backslash \\ newline \n tab \t é"}};
  TempDir dir;
  std::string path = dir.File("all.safetensors");
  Status saved = SaveTensors(path, tensors, meta);
  ASSERT_TRUE(saved.ok()) << saved.ToString();
  StatusOr<TensorFile> back = LoadTensors(path);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->metadata, meta);
  ASSERT_EQ(back->tensors.size(), tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    const auto& [name, t] = tensors[i];
    EXPECT_EQ(back->tensors[i].first, name) << "load keeps the header order";
    EXPECT_EQ(back->tensors[i].second.dtype(), t.dtype()) << name;
    EXPECT_EQ(back->tensors[i].second.shape(), t.shape()) << name;
    EXPECT_EQ(RawOf(back->tensors[i].second), RawOf(t)) << name;
  }
  StatusOr<std::string> bytes = SerializeTensors(tensors, meta);
  ASSERT_TRUE(bytes.ok());
  std::ifstream f(path, std::ios::binary);
  std::string file((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  EXPECT_EQ(*bytes, file) << "the file holds exactly SerializeTensors' bytes";
  EXPECT_EQ(Host(back->tensors.back().second), (std::vector<double>{0, 3, 1, 4, 2, 5}));
}

// The spec's layout, written out by hand: 8-byte little-endian length, the JSON header
// padded with spaces to a multiple of 8, then the raw little-endian data.
TEST(StateDictTest, BytesMatchHandWrittenFile) {
  std::string header = R"({"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                       R"("b":{"dtype":"U8","shape":[3],"data_offsets":[8,11]}})"
                       "      ";  // 138 bytes + 6 spaces = 144
  std::string expected = std::string("\x90\0\0\0\0\0\0\0", 8) + header +
                         std::string("\x00\x00\x80\x3f\x00\x00\x00\xc0", 8) +  // 1.0f, -2.0f
                         std::string("\x01\x02\x03", 3);
  NamedTensors tensors = {{"a", Tensor::FromVector({1, -2}, {2})},
                          {"b", FromValues<uint8_t>({1, 2, 3}, {3}, DType::kUInt8)}};
  StatusOr<std::string> bytes = SerializeTensors(tensors, {{"format", "pt"}});
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  EXPECT_EQ(*bytes, expected);
}

TEST(StateDictTest, ReadsFilesFromOtherWriters) {
  // Whitespace, reordered keys and fields, data laid out in another order than the header,
  // an empty tensor, no metadata (as other writers may produce).
  std::string json = R"( { "z" : { "shape" : [ ] , "data_offsets" : [ 4 , 8 ], "dtype" : "I32" } ,
      "e" : {"dtype":"F32","shape":[0,3],"data_offsets":[8,8]}, "y": {"dtype":"BOOL","shape":[2,2],
      "data_offsets":[0,4], "extra": "ignored"} } )";
  std::string data = std::string("\x01\x00\x00\x01", 4) + std::string("\xff\xff\xff\x7f", 4);
  StatusOr<TensorFile> f = ParseTensors(LengthPrefix(json.size()) + json + data, "hand.safetensors");
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  ASSERT_EQ(f->tensors.size(), 3u);
  EXPECT_EQ(f->tensors[0].first, "z");
  EXPECT_EQ(f->tensors[0].second.shape(), Shape{});
  EXPECT_EQ(Host(f->tensors[0].second), std::vector<double>{2147483647.0});
  EXPECT_EQ(f->tensors[1].second.shape(), (Shape{0, 3}));
  EXPECT_EQ(Host(f->tensors[2].second), (std::vector<double>{1, 0, 0, 1}));
  EXPECT_TRUE(f->metadata.empty());
}

// ---------------------------------------------------------------- corrupted files

struct Corrupt {
  const char* name;
  std::string bytes;
  std::vector<std::string> message_has;  // besides the file name
};

TEST(StateDictTest, CorruptedFilesAreClearErrors) {
  std::string valid = *SerializeTensors({{"w", Tensor::FromVector({1, 2, 3, 4}, {2, 2})}});
  const std::string f32 = R"("dtype":"F32","shape":[2])";
  std::vector<Corrupt> cases = {
      {"short", std::string("\x10\0\0", 3), {"truncated", "3 bytes"}},
      {"header_past_end", LengthPrefix(1000) + "{}", {"truncated", "header length 1000"}},
      {"huge_header", LengthPrefix(uint64_t{1} << 40) + "{}", {"exceeds the limit"}},
      {"data_truncated", valid.substr(0, valid.size() - 3), {"'w'", "out of range"}},
      {"bad_json", FileWith(R"({"w":{"dtype":"F32",}})", 0), {"JSON syntax error at byte"}},
      {"truncated_json", FileWith(R"({"w":{"dtype":"F32")", 0), {"bad header", "JSON syntax error at byte"}},
      {"not_utf8_json", FileWith("{\"w\xff\":{}}", 0), {"bad header", "UTF-8"}},
      {"deep_json", FileWith(std::string(100, '[') + std::string(100, ']'), 0), {"bad header", "nesting deeper"}},
      {"not_object", FileWith("[1,2]", 0), {"not a JSON object"}},
      {"duplicate_key", FileWith(R"({"w":{)" + f32 + R"(,"data_offsets":[0,8]},"w":{}})", 8), {"duplicate key"}},
      {"offsets_out_of_range",
       FileWith(R"({"w":{)" + f32 + R"(,"data_offsets":[0,16]}})", 8),
       {"'w'", "out of range", "8 bytes"}},
      {"offsets_reversed", FileWith(R"({"w":{)" + f32 + R"(,"data_offsets":[8,0]}})", 8), {"'w'", "out of range"}},
      {"overlap",
       FileWith(R"({"a":{)" + f32 + R"(,"data_offsets":[0,8]},"b":{)" + f32 + R"(,"data_offsets":[4,12]}})", 12),
       {"'a'", "'b'", "overlap"}},
      {"hole", FileWith(R"({"a":{)" + f32 + R"(,"data_offsets":[4,12]}})", 12), {"hole", "'a'"}},
      {"trailing", FileWith(R"({"a":{)" + f32 + R"(,"data_offsets":[0,8]}})", 10), {"2 bytes after"}},
      {"unknown_dtype", FileWith(R"({"w":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}})", 8), {"'w'", "F64"}},
      {"size_mismatch",
       FileWith(R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8),
       {"'w'", "needs 12 bytes", "span 8"}},
      {"negative_shape", FileWith(R"({"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", 8), {"'w'", "shape"}},
      {"missing_offsets", FileWith(R"({"w":{"dtype":"F32","shape":[2]}})", 8), {"'w'", "data_offsets"}},
      {"metadata_not_strings", FileWith(R"({"__metadata__":{"step":3}})", 0), {"metadata key 'step'"}},
  };
  TempDir dir;
  for (const Corrupt& c : cases) {
    std::string path = dir.File(std::string(c.name) + ".safetensors");
    WriteBytes(path, c.bytes);
    StatusOr<TensorFile> f = LoadTensors(path);
    ASSERT_FALSE(f.ok()) << c.name;
    EXPECT_EQ(f.status().code(), StatusCode::kInvalidArgument) << c.name;
    const std::string& msg = f.status().message();
    EXPECT_NE(msg.find(path), std::string::npos) << c.name << ": " << msg;
    for (const std::string& part : c.message_has) EXPECT_NE(msg.find(part), std::string::npos) << c.name << ": " << msg;
  }
  StatusOr<TensorFile> missing = LoadTensors(dir.File("nope.safetensors"));
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
}

std::string ReadBytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

// The offset of the data section (after the 8-byte length and the header).
size_t DataStart(const std::string& bytes) {
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[i])) << (8 * i);
  return 8 + static_cast<size_t>(n);
}

TEST(StateDictTest, ChecksummedFilesDetectDamagedData) {
  TempDir dir;
  std::vector<float> values(4096);
  for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<float>(i);
  NamedTensors tensors = {{"w", Tensor::FromVector(values, {64, 64})}, {"b", Tensor::FromVector({1, 2}, {2})}};
  const std::string path = dir.File("good.safetensors");
  ASSERT_TRUE(SaveTensorsWithChecksum(path, tensors, {{"step", "3"}}).ok());
  StatusOr<TensorFile> good = LoadTensors(path);
  ASSERT_TRUE(good.ok()) << good.status().ToString();
  EXPECT_EQ(good->metadata.at("step"), "3");
  const std::string bytes = ReadBytes(path);
  const size_t data = DataStart(bytes);
  EXPECT_EQ(good->metadata.at(kDataSha256Key), Sha256Hex(std::string_view(bytes).substr(data)));
  EXPECT_TRUE(VerifyTensorFile(path).ok());

  std::string flipped = bytes;  // header intact, bytes in the middle of the data changed
  for (size_t i = data + 100; i < data + 200; ++i) flipped[i] = static_cast<char>(~flipped[i]);
  std::string truncated = bytes.substr(0, bytes.size() - 100);
  for (const auto& [name, damaged] : {std::pair{"flipped", flipped}, std::pair{"truncated", truncated}}) {
    const std::string bad = dir.File(std::string(name) + ".safetensors");
    WriteBytes(bad, damaged);
    StatusOr<TensorFile> f = LoadTensors(bad);
    ASSERT_FALSE(f.ok()) << name;
    EXPECT_EQ(f.status().code(), StatusCode::kDataLoss) << name;
    EXPECT_NE(f.status().message().find(bad), std::string::npos) << f.status().message();
    EXPECT_NE(f.status().message().find("checksum mismatch"), std::string::npos) << f.status().message();
    EXPECT_EQ(VerifyTensorFile(bad).code(), StatusCode::kDataLoss) << name;
  }
  EXPECT_EQ(VerifyTensorFile(dir.File("nope.safetensors")).code(), StatusCode::kNotFound);
}

// Files without a checksum (earlier versions, other writers) still load; damage to their
// data cannot be detected.
TEST(StateDictTest, FilesWithoutAChecksumStillLoad) {
  TempDir dir;
  const std::string path = dir.File("plain.safetensors");
  ASSERT_TRUE(SaveTensors(path, {{"w", Tensor::FromVector({1, 2, 3, 4}, {2, 2})}}, {{"step", "3"}}).ok());
  StatusOr<TensorFile> f = LoadTensors(path);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->metadata.count(kDataSha256Key), 0u);
  EXPECT_TRUE(VerifyTensorFile(path).ok());
}

TEST(StateDictTest, BadNamesAndErrorTensorsAreRejected) {
  Tensor t = Tensor::Zeros({1});
  EXPECT_FALSE(SerializeTensors({{"a", t}, {"a", t}}).ok());
  EXPECT_FALSE(SerializeTensors({{"__metadata__", t}}).ok());
  EXPECT_FALSE(SerializeTensors({{"", t}}).ok());
  // The header is JSON, which holds only UTF-8: such names and metadata would not read back.
  StatusOr<std::string> latin1 = SerializeTensors({{"caf\xe9", t}});
  ASSERT_FALSE(latin1.ok());
  EXPECT_NE(latin1.status().message().find("not UTF-8"), std::string::npos) << latin1.status().ToString();
  EXPECT_EQ(SerializeTensors({{"w", t}}, {{"note", "caf\xe9"}}).status().code(), StatusCode::kInvalidArgument);
  StatusOr<std::string> bad = SerializeTensors({{"broken", Tensor::Zeros({2}).Reshape({3})}});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("'broken'"), std::string::npos) << bad.status().ToString();
}

// ---------------------------------------------------------------- atomic writes

TEST(StateDictTest, SaveReplacesAtomicallyAndLeavesNoTemporaries) {
  TempDir dir;
  std::string path = dir.File("ckpt.safetensors");
  ASSERT_TRUE(SaveTensors(path, {{"x", Tensor::FromVector({1}, {1})}}).ok());
  ASSERT_TRUE(SaveTensors(path, {{"x", Tensor::FromVector({2, 3}, {2})}}).ok());
  // A failed save leaves the previous file as it was.
  EXPECT_FALSE(SaveTensors(path, {{"x", Tensor::Zeros({2}).Reshape({5})}}).ok());
  StatusOr<TensorFile> f = LoadTensors(path);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(Host(f->tensors[0].second), (std::vector<double>{2, 3}));
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) ++files, (void)e;
  EXPECT_EQ(files, 1) << "no temporary file is left behind";
  Status s = SaveTensors(dir.File("no/such/dir/x.safetensors"), {{"x", Tensor::Zeros({1})}});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("no/such/dir"), std::string::npos) << s.ToString();
}

// ---------------------------------------------------------------- modules

TEST(StateDictTest, LoadStateDictChecksKeysAndShapes) {
  Rng rng(1);
  TempDir dir;
  std::string path = dir.File("lin.safetensors");
  Linear small(4, 3, rng);
  ASSERT_TRUE(SaveStateDict(small, path).ok());
  Linear wide(5, 3, rng);
  Status s = LoadStateDict(wide, path);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  for (const char* part : {"'weight'", "(3, 4)", "(3, 5)", "lin.safetensors"})
    EXPECT_NE(s.message().find(part), std::string::npos) << part << " in " << s.message();
  Linear no_bias(4, 3, rng, /*bias=*/false);
  s = LoadStateDict(no_bias, path);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("unexpected keys: bias"), std::string::npos) << s.message();
  BatchNorm2d bn(3);
  s = LoadStateDict(bn, path);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("missing keys: running_mean, running_var"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("key 'weight': shape (3, 4)"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("but (3,) expected"), std::string::npos) << s.message();
  EXPECT_EQ(Host(bn.running_var()), std::vector<double>(3, 1.0)) << "a failed load writes nothing";
}

TEST(StateDictTest, SaveThenLoadGivesIdenticalOutputs) {
  Rng rng_a(2), rng_b(3);
  auto make = [](Rng& rng) {
    auto m = std::make_unique<Sequential>();
    m->Emplace<Conv2d>(2, 4, 3, rng, Conv2dOptions{.padding = 1});
    m->Emplace<BatchNorm2d>(4);
    m->Emplace<ReLU>();
    m->Emplace<Flatten>();
    m->Emplace<Linear>(4 * 5 * 5, 3, rng);
    return m;
  };
  auto a = make(rng_a), b = make(rng_b);
  Tensor x = Tensor::Randn({2, 2, 5, 5}, 4);
  ASSERT_TRUE((*a)(x).Realize().ok());  // a training step moves the running statistics
  a->Eval();
  b->Eval();
  std::vector<double> want = Host((*a)(x));
  ASSERT_NE(Host((*b)(x)), want);
  TempDir dir;
  std::string path = dir.File("model.safetensors");
  ASSERT_TRUE(SaveStateDict(*a, path, {{"epoch", "3"}}).ok());
  Status s = LoadStateDict(*b, path);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(Host((*b)(x)), want);
  for (auto& [name, t] : b->NamedParameters()) EXPECT_TRUE(t->requires_grad()) << name << " stays a parameter";
}

}  // namespace
}  // namespace petabox::nn
