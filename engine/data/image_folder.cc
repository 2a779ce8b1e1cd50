#include "engine/data/image_folder.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <system_error>

namespace petabox::data {
namespace {

namespace fs = std::filesystem;

bool IsJpegName(const std::string& name) {
  std::string lower = name;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  auto ends_with = [&](const std::string& suffix) {
    return lower.size() > suffix.size() && lower.compare(lower.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  return ends_with(".jpeg") || ends_with(".jpg");
}

// Sorted names of the entries of `dir` that are directories (want_dirs) or regular files.
StatusOr<std::vector<std::string>> ListEntries(const std::string& dir, bool want_dirs) {
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) return NotFound(dir + ": cannot list the directory (" + ec.message() + ")");
  std::vector<std::string> names;
  for (const fs::directory_entry& entry : it) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name[0] == '.') continue;
    const bool is_dir = entry.is_directory(ec);
    if (want_dirs ? is_dir : (!is_dir && IsJpegName(name))) names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

StatusOr<ImageFolder> ScanImageFolder(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return NotFound(dir + ": not a directory");
  ImageFolder folder;
  folder.dir = dir;
  PB_ASSIGN_OR_RETURN(folder.classes, ListEntries(dir, /*want_dirs=*/true));
  if (folder.classes.empty()) return InvalidArgument(dir + ": no class directories (expected " + dir + "/<class>/*.JPEG)");
  for (size_t label = 0; label < folder.classes.size(); ++label) {
    const std::string class_dir = dir + "/" + folder.classes[label];
    PB_ASSIGN_OR_RETURN(std::vector<std::string> files, ListEntries(class_dir, /*want_dirs=*/false));
    for (const std::string& f : files) {
      folder.files.push_back(class_dir + "/" + f);
      folder.labels.push_back(static_cast<int32_t>(label));
    }
  }
  if (folder.files.empty()) return InvalidArgument(dir + ": no .JPEG/.jpg files in its class directories");
  return folder;
}

StatusOr<ImageFolder> ScanImageNet(const std::string& root, Split split) {
  if (split == Split::kTrain) return ScanImageFolder(root + "/train");
  PB_ASSIGN_OR_RETURN(std::vector<std::string> train_classes, ListEntries(root + "/train", /*want_dirs=*/true));
  PB_ASSIGN_OR_RETURN(ImageFolder val, ScanImageFolder(root + "/val"));
  if (val.classes != train_classes) {
    size_t i = 0;
    while (i < val.classes.size() && i < train_classes.size() && val.classes[i] == train_classes[i]) ++i;
    const std::string theirs = i < val.classes.size() ? "'" + val.classes[i] + "'" : "none";
    const std::string ours = i < train_classes.size() ? "'" + train_classes[i] + "'" : "none";
    return InvalidArgument(root + "/val: its classes differ from train's: class " + std::to_string(i) + " is " +
                           theirs + " in val, " + ours + " in train");
  }
  return val;
}

bool IsImageNetTree(const std::string& root) {
  std::error_code ec;
  return fs::is_directory(root + "/train", ec);
}

}  // namespace petabox::data
