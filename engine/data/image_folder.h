// Image folders in the ImageNet layout: ROOT/train/<class>/*.JPEG and ROOT/val/<class>/*.JPEG.
// Classes are the sub-directories, sorted by name: the i-th is label i. Files whose name
// ends in .jpeg or .jpg (any case) are the examples, sorted by name within a class; other
// files and hidden entries are ignored. Nothing is decoded here (engine/data/jpeg_loader.h
// does that, skipping files that turn out not to be JPEGs).
// Thread-safe (no shared state); an ImageFolder is an immutable value.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/data/idx.h"
#include "engine/util/status.h"

namespace petabox::data {

struct ImageFolder {
  std::string dir;                   // the split's directory (ROOT/train)
  std::vector<std::string> classes;  // class directory names, sorted; label = index
  std::vector<std::string> files;    // full paths, by class then by name
  std::vector<int32_t> labels;       // one per file
  int64_t size() const { return static_cast<int64_t>(files.size()); }
};

// The examples in `dir`/<class>/. NotFound when `dir` is not a directory; InvalidArgument
// when it has no class directory or no image file at all. Messages name the directory.
StatusOr<ImageFolder> ScanImageFolder(const std::string& dir);

// The train (ROOT/train) or evaluation (ROOT/val) split of an ImageNet-layout tree. The
// val split must have the train split's class directories (labels are matched by name);
// InvalidArgument naming the first class that differs.
StatusOr<ImageFolder> ScanImageNet(const std::string& root, Split split);

// True when `root` has a train/ directory (an ImageNet-layout tree).
bool IsImageNetTree(const std::string& root);

}  // namespace petabox::data
