// petabox-bench make-imagenet: writes a CI-sized ImageNet-layout JPEG tree from
// Fashion-MNIST (engine/data/fake_imagenet.h), for the JPEG loader's tests and benchmark
// and for trying an `imagenet` job without ImageNet.
//
//   petabox-bench make-imagenet --dir DIR [--per-class 20] [--val-per-class 5]
//                               [--min-size 64] [--max-size 256] [--quality 90] [--seed 0]
//                               [--source /usr/share/datasets/fashion-mnist]
//
// Prints one JSON line: the directory and the number of files written per split.
#pragma once

#include <string>

#include "tests/bench/bench_util.h"

namespace petabox::bench {

// Runs the subcommand on `flags` (consumed). Returns the exit status; sets *usage_error
// (and returns 2) for a bad or unknown flag.
int MakeImageNetCommand(Flags& flags, std::string* usage_error);

}  // namespace petabox::bench
