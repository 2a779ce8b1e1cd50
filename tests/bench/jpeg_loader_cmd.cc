#include "tests/bench/jpeg_loader_cmd.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <vector>

#include "engine/data/fake_imagenet.h"
#include "engine/data/jpeg.h"
#include "engine/data/jpeg_loader.h"
#include "tests/bench/peer_runner.h"

namespace petabox::bench {
namespace {

constexpr double kTargetImagesPerSecond = 6300;  // MLPerf Training v4.0, tinybox, 6 GPUs

struct Case {
  std::string name;
  std::string dir;
};

struct Settings {
  int64_t size = 224;
  int64_t threads = 1;
  int64_t repeat = 2;
};

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Seconds for the engine's loader to deliver `repeat` epochs of the tree's train/ split.
StatusOr<std::pair<double, int64_t>> TimeEngine(const std::string& dir, const Settings& s) {
  PB_ASSIGN_OR_RETURN(data::ImageFolder scanned, data::ScanImageNet(dir, data::Split::kTrain));
  auto folder = std::make_shared<const data::ImageFolder>(std::move(scanned));
  data::JpegLoaderOptions o;
  o.batch_size = 32;
  o.transform.size = static_cast<int>(s.size);
  o.threads = static_cast<int>(s.threads);
  o.prefetch = 4;
  {  // warm-up: the page cache and the threads' TurboJPEG handles
    data::JpegLoaderOptions warm = o;
    PB_ASSIGN_OR_RETURN(std::unique_ptr<data::JpegLoader> loader, data::JpegLoader::Create(folder, warm));
    PB_RETURN_IF_ERROR(loader->Next().status());
  }
  PB_ASSIGN_OR_RETURN(std::unique_ptr<data::JpegLoader> loader, data::JpegLoader::Create(folder, o));
  const double start = Now();
  int64_t images = 0;
  for (int64_t b = 0; b < loader->batches_per_epoch() * s.repeat; ++b) {
    PB_ASSIGN_OR_RETURN(data::ImageBatch batch, loader->Next());
    images += batch.size();
  }
  return std::make_pair(Now() - start, images);
}

int RunCase(const Case& c, const Settings& s) {
  StatusOr<std::pair<double, int64_t>> engine = TimeEngine(c.dir, s);
  if (!engine.ok()) {
    std::fprintf(stderr, "petabox-bench jpeg-loader: engine failed: %s\n", engine.status().ToString().c_str());
    return 1;
  }
  const double engine_rate = engine->second / engine->first / static_cast<double>(s.threads);
  PeerResult peer = RunPeerScript("jpeg_peer.py", "torchvision",
                                  {"--dir", c.dir, "--size", std::to_string(s.size), "--threads",
                                   std::to_string(s.threads), "--repeat", std::to_string(s.repeat)});
  std::optional<double> peer_rate = PeerNumber(peer, "images_per_second");
  if (peer_rate && peer.available()) *peer_rate /= static_cast<double>(s.threads);
  else peer_rate.reset();
  std::optional<double> ratio;
  if (peer_rate && *peer_rate > 0) ratio = engine_rate / *peer_rate;
  const double cores = kTargetImagesPerSecond / engine_rate;
  std::printf("jpeg-loader %s: %lld images at %lld px, %lld thread(s)\n", c.name.c_str(),
              static_cast<long long>(engine->second), static_cast<long long>(s.size), static_cast<long long>(s.threads));
  std::printf("  engine (libjpeg-turbo)  %8.1f images/s per core\n", engine_rate);
  if (peer_rate) {
    std::printf("  torchvision + PIL       %8.1f images/s per core (torchvision %s, PIL %s)\n", *peer_rate,
                PeerString(peer, "torchvision").value_or("?").c_str(), PeerString(peer, "pil").value_or("?").c_str());
    std::printf("  ratio                   %8.2fx\n", *ratio);
  } else {
    std::printf("  torchvision + PIL       unavailable: %s\n", peer.reason.c_str());
  }
  std::printf("  cores to feed %.0f images/s at the engine's rate: %.1f\n", kTargetImagesPerSecond, cores);
  std::printf("{\"op\":\"jpeg-loader\",\"case\":%s,\"size\":%lld,\"threads\":%lld,\"images\":%lld,"
              "\"engine_images_per_second_per_core\":%s,\"peer\":\"torchvision-pil\","
              "\"peer_images_per_second_per_core\":%s,\"ratio\":%s,\"ratio_error\":%s,\"cores_for_6300\":%s}\n",
              Quote(c.name).c_str(), static_cast<long long>(s.size), static_cast<long long>(s.threads),
              static_cast<long long>(engine->second), Num(engine_rate).c_str(), Num(peer_rate).c_str(),
              Num(ratio).c_str(), ratio ? "null" : Quote(peer.reason).c_str(), Num(cores).c_str());
  return 0;
}

// Writes the two generated trees under `root`.
StatusOr<std::vector<Case>> GenerateCases(const std::string& root, int64_t per_class) {
  data::FakeImageNetOptions mixed;
  mixed.train_per_class = per_class;
  mixed.val_per_class = 0;
  PB_RETURN_IF_ERROR(data::WriteFakeImageNet(root + "/mixed", mixed));
  data::FakeImageNetOptions median = mixed;
  median.width = 500;
  median.height = 375;
  PB_RETURN_IF_ERROR(data::WriteFakeImageNet(root + "/500x375", median));
  return std::vector<Case>{{"mixed 64..256 px", root + "/mixed"}, {"500x375", root + "/500x375"}};
}

}  // namespace

std::string JpegUnavailable(const std::string& source) {
  if (!data::HaveJpeg()) return "built without libjpeg-turbo (install libturbojpeg0-dev)";
  std::error_code ec;
  if (!source.empty() && !std::filesystem::is_directory(source, ec)) {
    return source + " is missing (install dataset-fashion-mnist)";
  }
  return "";
}

int JpegLoaderCommand(Flags& flags, std::string* usage_error) {
  Settings s;
  const std::string dir = flags.count("--dir") ? flags["--dir"] : "";
  flags.erase("--dir");
  std::optional<int64_t> size = IntFlag(flags, "--size", s.size), threads = IntFlag(flags, "--threads", s.threads);
  std::optional<int64_t> repeat = IntFlag(flags, "--repeat", s.repeat), per_class = IntFlag(flags, "--per-class", 32);
  if (!size || !threads || !repeat || !per_class) {
    *usage_error = "jpeg-loader: --size, --threads, --repeat and --per-class must be positive integers";
  } else if (!flags.empty()) {
    *usage_error = "unknown flag " + flags.begin()->first;
  }
  if (!usage_error->empty()) return 2;
  s = {*size, *threads, *repeat};
  if (std::string why = JpegUnavailable(dir.empty() ? data::kFashionMnistDir : ""); !why.empty()) {
    std::printf("petabox-bench jpeg-loader: skipped: %s\n", why.c_str());
    return kJpegSkipped;
  }
  std::vector<Case> cases = {{"tree", dir}};
  std::string temp;
  if (dir.empty()) {
    temp = (std::filesystem::temp_directory_path() / ("petabox-jpeg-bench-" + std::to_string(getpid()))).string();
    StatusOr<std::vector<Case>> generated = GenerateCases(temp, *per_class);
    if (!generated.ok()) {
      std::fprintf(stderr, "petabox-bench jpeg-loader: %s\n", generated.status().ToString().c_str());
      std::filesystem::remove_all(temp);
      return 1;
    }
    cases = *generated;
  }
  int rc = 0;
  for (const Case& c : cases) rc = std::max(rc, RunCase(c, s));
  if (!temp.empty()) std::filesystem::remove_all(temp);
  return rc;
}

}  // namespace petabox::bench
