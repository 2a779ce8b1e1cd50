#include "client/lib/image_folder.h"

#include <stb/stb_image.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <vector>

#include "engine/data/npy.h"

namespace petabox::client {
namespace {

namespace fs = std::filesystem;

const std::set<std::string> kImageExtensions = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".pgm", ".ppm", ".pnm", ".tga"};

struct Split {
  data::NpyArray x, y;
  int width = 0, height = 0, channels = 0;
};

std::vector<fs::path> SortedEntries(const fs::path& dir, bool directories) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(dir, ec)) {
    if (e.path().filename().string().rfind('.', 0) == 0) continue;  // hidden files
    if (e.is_directory() == directories) out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Decodes one image and appends it (channel-first) to the split.
Status AddImage(const fs::path& file, int label, Split* s) {
  std::string ext = file.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  if (!kImageExtensions.count(ext)) return InvalidArgument(file.string() + ": not an image file (" + ext + ")");
  int w = 0, h = 0, c = 0;
  std::unique_ptr<stbi_uc, void (*)(void*)> pixels(stbi_load(file.c_str(), &w, &h, &c, 0), stbi_image_free);
  if (!pixels) return InvalidArgument(file.string() + ": cannot be decoded (" + stbi_failure_reason() + ")");
  if (s->width == 0) s->width = w, s->height = h, s->channels = c;
  if (w != s->width || h != s->height || c != s->channels) {
    return InvalidArgument(file.string() + ": " + std::to_string(w) + "x" + std::to_string(h) + " with " +
                           std::to_string(c) + " channels; the other images are " + std::to_string(s->width) + "x" +
                           std::to_string(s->height) + " with " + std::to_string(s->channels) +
                           " (resize them to one size first)");
  }
  const size_t at = s->x.data.size();
  s->x.data.resize(at + static_cast<size_t>(w) * h * c);
  for (int ch = 0; ch < c; ++ch)
    for (int i = 0; i < w * h; ++i) s->x.data[at + static_cast<size_t>(ch) * w * h + i] = pixels.get()[i * c + ch];
  const int32_t l = label;
  const uint8_t* b = reinterpret_cast<const uint8_t*>(&l);
  s->y.data.insert(s->y.data.end(), b, b + 4);
  return Status::Ok();
}

StatusOr<Split> ReadSplit(const fs::path& dir, const std::map<std::string, int>& classes) {
  Split s;
  s.y.type = data::NpyType::kInt32;
  for (const fs::path& class_dir : SortedEntries(dir, true)) {
    auto it = classes.find(class_dir.filename().string());
    if (it == classes.end()) return InvalidArgument(class_dir.string() + ": class '" + class_dir.filename().string() + "' is not in train/");
    for (const fs::path& file : SortedEntries(class_dir, false)) PB_RETURN_IF_ERROR(AddImage(file, it->second, &s));
  }
  const int64_t n = static_cast<int64_t>(s.y.data.size() / 4);
  if (n == 0) return InvalidArgument(dir.string() + ": no images");
  s.x.shape = {n, s.channels, s.height, s.width};
  s.y.shape = {n};
  return s;
}

}  // namespace

bool IsImageFolder(const std::string& dir) {
  std::error_code ec;
  return fs::is_directory(fs::path(dir) / "train", ec) && !SortedEntries(fs::path(dir) / "train", true).empty();
}

Status ConvertImageFolder(const std::string& dir, const std::string& out_dir) {
  const fs::path root(dir);
  if (!IsImageFolder(dir)) return InvalidArgument(dir + ": not an image folder (expected train/CLASS/IMAGE files)");
  fs::path test = root / "val";
  if (!fs::is_directory(test)) test = root / "test";
  if (!fs::is_directory(test)) return InvalidArgument(dir + ": no val/ or test/ folder (the evaluation split)");
  std::map<std::string, int> classes;
  std::string names;
  for (const fs::path& c : SortedEntries(root / "train", true)) {
    classes[c.filename().string()] = static_cast<int>(classes.size());
    names += c.filename().string() + "\n";
  }
  PB_ASSIGN_OR_RETURN(Split train, ReadSplit(root / "train", classes));
  PB_ASSIGN_OR_RETURN(Split eval, ReadSplit(test, classes));
  if (eval.x.shape != Shape({eval.x.shape[0], train.channels, train.height, train.width}))
    return InvalidArgument(test.string() + ": images differ in size from train/'s");
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec) return Internal("cannot create " + out_dir + ": " + ec.message());
  PB_RETURN_IF_ERROR(data::WriteNpy(out_dir + "/train_x.npy", train.x));
  PB_RETURN_IF_ERROR(data::WriteNpy(out_dir + "/train_y.npy", train.y));
  PB_RETURN_IF_ERROR(data::WriteNpy(out_dir + "/test_x.npy", eval.x));
  PB_RETURN_IF_ERROR(data::WriteNpy(out_dir + "/test_y.npy", eval.y));
  std::ofstream(out_dir + "/classes.txt") << names;
  return Status::Ok();
}

}  // namespace petabox::client
