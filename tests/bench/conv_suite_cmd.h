// petabox-bench conv2d --resnet50: representative convolution layers of ResNet-50 (v1.5,
// as torchvision builds it) on the engine, each against a peer on the same device
// (PyTorch/cuDNN on a CUDA device via tests/bench/torch_gpu_peer.py, NumPy on a CPU one).
//
//   petabox-bench conv2d --resnet50 [--batch 32] [--dtype float32] [--iters 5] [--device NAME]
//
// Layers (NCHW input at --batch, no bias): the 7x7/2 stem; 3x3 64->64 @56; 1x1 256->64 @56;
// 3x3/2 128->128 @56; 3x3 128->128 @28; the 1x1/2 256->512 downsample @56; 3x3 256->256 @14;
// 3x3 512->512 @7. GFLOP/s use the nominal 2*B*Cout*OH*OW*Cin*KH*KW.
#pragma once

#include <string>

#include "tests/bench/bench_util.h"

namespace petabox::bench {

// Runs every layer with the flags after "conv2d" (--resnet50 among them), prints a report
// and a JSON line per layer, and returns the exit status: 0 when every layer ran and was
// right (also when the peer is unavailable), 1 when the engine failed or was wrong on any.
// On a usage error returns 2 with *usage_error set.
int ConvSuiteCommand(Flags flags, std::string* usage_error);

}  // namespace petabox::bench
