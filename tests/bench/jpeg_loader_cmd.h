// petabox-bench jpeg-loader: images per second per core of the JPEG loader
// (engine/data/jpeg_loader.h: libjpeg-turbo decode at reduced scale, MLPerf's training
// crop and flip, uint8 output) against torchvision + PIL (tests/bench/jpeg_peer.py) on the
// same files in the same run.
//
//   petabox-bench jpeg-loader [--dir DIR] [--size 224] [--threads 1] [--per-class 32] [--repeat 2]
//
// Without --dir it generates two trees from Fashion-MNIST (engine/data/fake_imagenet.h) in
// a temporary directory and measures both: "mixed" (64..256 px a side) and "500x375"
// (ImageNet's median size), --per-class images per class each. With --dir it measures that
// tree's train/ split. The engine runs --threads decoding threads (its rate is divided by
// them: per core), the peer one process with torch.set_num_threads(--threads); both pass
// over every file --repeat times after a warm-up. Prints a report and a JSON line per
// case, with the ratio and how many cores at the engine's per-core rate feed 6,300 images/s
// (the MLPerf v4.0 tinybox run's rate).
#pragma once

#include <string>

#include "tests/bench/bench_util.h"

namespace petabox::bench {

// Exit status of the JPEG subcommands when they cannot run here: a build without
// libjpeg-turbo, or no Fashion-MNIST to generate a tree from (ctest reports it skipped).
inline constexpr int kJpegSkipped = 77;

// The reason the JPEG subcommands cannot run here ("" when they can), given the dataset the
// trees are generated from ("" when none is needed).
std::string JpegUnavailable(const std::string& source);

// Runs the subcommand on `flags` (consumed). Returns the exit status (1 when the engine's
// loader fails, kJpegSkipped when JpegUnavailable); sets *usage_error (and returns 2) for a
// bad or unknown flag.
int JpegLoaderCommand(Flags& flags, std::string* usage_error);

}  // namespace petabox::bench
