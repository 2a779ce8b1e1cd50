// Rendering of a job's events as text: the live progress line, one-line records, state
// changes, evaluations and the final result. Pure functions of their inputs.
#pragma once

#include <string>

#include "petabox/v1/job.pb.h"

namespace petabox::cli {

// "[=========>          ]": `width` columns in all, filled by `fraction` (clamped to 0..1).
std::string RenderBar(double fraction, int width);

// The live line redrawn on a terminal, at most width - 1 columns (so that it never wraps):
// "epoch 2  step 1234/4690 [=====>     ]  26%  loss 0.4321  5,123 samples/s  ETA 3m12s".
// The bar shrinks, then goes, when the width is short; the rest is cut at the width.
std::string RenderProgressLine(const v1::JobProgress& progress, int width);

// Progress as plain fields: "epoch 2 step 1234/4690 loss 0.4321 samples/s 5,123 eta 3m12s".
std::string RenderProgressFields(const v1::JobProgress& progress);
// One progress event as a line for logs and pipes: "progress " + RenderProgressFields.
std::string RenderProgressRecord(const v1::JobProgress& progress);

// "state RUNNING on CUDA:0,CUDA:1", "state FAILED: out of memory".
std::string RenderStateChange(const v1::StateChange& change);

// "eval epoch 1 step 469: test accuracy 86.12%, test loss 0.3912 (10000 examples)".
std::string RenderEval(const v1::EvalResult& eval);

// "checkpoint saved at epoch 1 step 469".
std::string RenderCheckpointSaved(const v1::CheckpointSaved& checkpoint);

// "test accuracy 88.10%, test loss 0.3312, final loss 0.2901, 12,345 samples/s, time 1m23s
// (938 steps, 2 epochs)".
std::string RenderResult(const v1::JobResult& result);

}  // namespace petabox::cli

namespace petabox::cli {

// The last line of a watch: "jobs/j-1 SUCCEEDED: test accuracy 88.10%, ...",
// "jobs/j-1 FAILED: out of memory on CUDA:0", "jobs/j-1 CANCELLED".
std::string RenderJobEnd(const std::string& name, v1::Job::State state, const std::string& reason,
                         const v1::JobResult* result);

}  // namespace petabox::cli
