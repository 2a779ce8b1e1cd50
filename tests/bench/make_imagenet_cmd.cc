#include "tests/bench/make_imagenet_cmd.h"

#include <cstdio>
#include <cstdlib>

#include "engine/data/fake_imagenet.h"
#include "tests/bench/jpeg_loader_cmd.h"

namespace petabox::bench {

int MakeImageNetCommand(Flags& flags, std::string* usage_error) {
  data::FakeImageNetOptions o;
  auto take = [&](const char* name, int64_t fallback) { return IntFlag(flags, name, fallback); };
  const std::string dir = flags.count("--dir") ? flags["--dir"] : "";
  flags.erase("--dir");
  if (flags.count("--source")) o.source = flags["--source"];
  flags.erase("--source");
  std::optional<int64_t> train = take("--per-class", o.train_per_class), val = take("--val-per-class", o.val_per_class);
  std::optional<int64_t> min_size = take("--min-size", o.min_size), max_size = take("--max-size", o.max_size);
  std::optional<int64_t> quality = take("--quality", o.quality);
  // The seed may be 0, which IntFlag (positive integers) refuses.
  const std::string seed_text = flags.count("--seed") ? flags["--seed"] : "0";
  flags.erase("--seed");
  char* end = nullptr;
  const unsigned long long seed = std::strtoull(seed_text.c_str(), &end, 10);
  if (dir.empty()) {
    *usage_error = "make-imagenet needs --dir DIR";
  } else if (!train || !val || !min_size || !max_size || !quality || *end != '\0') {
    *usage_error = "make-imagenet: counts, sizes and quality must be positive integers, the seed an integer >= 0";
  } else if (!flags.empty()) {
    *usage_error = "unknown flag " + flags.begin()->first;
  }
  if (!usage_error->empty()) return 2;
  o.train_per_class = *train;
  o.val_per_class = *val;
  o.min_size = static_cast<int>(*min_size);
  o.max_size = static_cast<int>(*max_size);
  o.quality = static_cast<int>(*quality);
  o.seed = seed;
  if (std::string why = JpegUnavailable(o.source); !why.empty()) {
    std::printf("petabox-bench make-imagenet: skipped: %s\n", why.c_str());
    return kJpegSkipped;
  }
  if (Status s = data::WriteFakeImageNet(dir, o); !s.ok()) {
    std::fprintf(stderr, "petabox-bench make-imagenet: %s\n", s.ToString().c_str());
    return 1;
  }
  std::printf("{\"op\":\"make-imagenet\",\"dir\":%s,\"classes\":10,\"train_files\":%lld,\"val_files\":%lld}\n",
              Quote(dir).c_str(), static_cast<long long>(o.train_per_class * 10),
              static_cast<long long>(o.val_per_class * 10));
  return 0;
}

}  // namespace petabox::bench
