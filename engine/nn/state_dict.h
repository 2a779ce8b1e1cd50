// Saving and loading named tensors in the safetensors format
// (https://huggingface.co/docs/safetensors): an 8-byte little-endian header length N, an
// N-byte JSON header {"__metadata__": {string: string}, name: {"dtype": "F32", "shape":
// [...], "data_offsets": [begin, end]}, ...} padded with spaces to a multiple of 8, then the
// raw little-endian data; offsets are relative to the end of the header and cover the data
// exactly, without holes or overlaps.
//
// Files are written atomically: a temporary file beside the target is written, fsynced and
// renamed over it (and the directory fsynced), so a crash leaves the old file or the new
// one, never half a file. Every error names the file (and the tensor or key concerned).
// Thread-compatible: concurrent saves to one path are not supported.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/nn/module.h"
#include "engine/tensor.h"

namespace petabox::nn {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;
using Metadata = std::map<std::string, std::string>;

// The content of a safetensors file: tensors in header order, and the string metadata.
struct TensorFile {
  NamedTensors tensors;
  Metadata metadata;
};

// Largest header accepted on load (as the reference implementation: 100 MB).
constexpr uint64_t kMaxSafetensorsHeader = 100'000'000;

// safetensors dtype names: F32, F16, BF16, I32, I64, U8, BOOL.
const char* SafetensorsDTypeName(DType dtype);
StatusOr<DType> ParseSafetensorsDType(std::string_view name);

// The whole file as bytes (tensors are realized and copied to the host). Names must be
// unique, non-empty and not "__metadata__"; a tensor carrying an error fails the call.
// Tensor data is laid out in the given order; the header lists tensors in that order.
StatusOr<std::string> SerializeTensors(const NamedTensors& tensors, const Metadata& metadata = {});
// Parses and validates file bytes (header length bounds, JSON syntax, known dtypes,
// shape * itemsize == byte count, offsets inside the data without holes or overlaps) and
// uploads the tensors to `device` ("" = default). `source` names the bytes in errors.
StatusOr<TensorFile> ParseTensors(std::string_view bytes, const std::string& source = "<memory>",
                                  const std::string& device = "");

// SerializeTensors / ParseTensors to and from a file (written atomically).
Status SaveTensors(const std::string& path, const NamedTensors& tensors, const Metadata& metadata = {});
StatusOr<TensorFile> LoadTensors(const std::string& path, const std::string& device = "");

// Metadata key holding the lowercase hex SHA-256 of the data section (the bytes after the
// header). When a file carries it, ParseTensors/LoadTensors/VerifyTensorFile check it
// first and fail with DataLoss naming the source on a mismatch (flipped bytes, a
// truncated or extended file). Files without it (other writers, checkpoints of earlier
// versions) are read as before.
inline constexpr char kDataSha256Key[] = "petabox.data_sha256";

// SaveTensors, adding kDataSha256Key over the data written (computed while streaming).
Status SaveTensorsWithChecksum(const std::string& path, const NamedTensors& tensors, const Metadata& metadata = {});

// Checks the file at `path` as LoadTensors would (header, layout, checksum when present)
// without building tensors. NotFound when missing; DataLoss on a checksum mismatch;
// InvalidArgument for a malformed file. Errors name the path.
Status VerifyTensorFile(const std::string& path);

// Copies `values` into `targets` in place (Assign; dtypes are converted). Every target name
// must be present with an equal shape and there must be no other names; otherwise nothing
// is written and the error (from `source`) lists the missing and unexpected keys, or names
// the key with both shapes.
Status AssignNamed(const NamedTensorPtrs& targets, const NamedTensors& values, const std::string& source);

// A module's NamedState() as tensor handles (they share the module's values).
NamedTensors StateDict(Module& module);
// SaveTensors(path, StateDict(module), metadata).
Status SaveStateDict(Module& module, const std::string& path, const Metadata& metadata = {});
// Loads a file written by SaveStateDict (or PyTorch's safetensors) into the module, with
// AssignNamed's checks.
Status LoadStateDict(Module& module, const std::string& path);

}  // namespace petabox::nn
