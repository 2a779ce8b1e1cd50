#include "daemon/jobs/worker_events.h"

namespace petabox::daemon {

v1::JobProgress ToProgress(const v1::WorkerProgress& e) {
  v1::JobProgress p;
  p.set_step(e.step());
  p.set_total_steps(e.total_steps());
  p.set_epoch(e.epoch());
  p.set_loss(e.loss());
  p.set_samples_per_second(e.samples_per_second());
  p.set_achieved_flops_per_second(e.achieved_flops_per_second());
  p.set_eta_seconds(e.eta_seconds());
  p.set_learning_rate(e.learning_rate());
  p.set_loss_scale(e.loss_scale());
  p.set_skipped_steps(e.skipped_steps());
  return p;
}

v1::EvalResult ToEval(const v1::WorkerEval& e) {
  v1::EvalResult r;
  r.set_step(e.step());
  r.set_epoch(e.epoch());
  r.set_test_accuracy(e.test_accuracy());
  r.set_test_loss(e.test_loss());
  r.set_examples(e.examples());
  return r;
}

v1::CheckpointSaved ToCheckpointSaved(const v1::WorkerCheckpoint& e) {
  v1::CheckpointSaved c;
  c.set_step(e.step());
  c.set_epoch(e.epoch());
  return c;
}

v1::JobResult ToResult(const v1::RunSummary& e) {
  v1::JobResult r;
  r.set_steps(e.steps());
  r.set_epochs(e.epochs());
  r.set_final_loss(e.final_loss());
  r.set_test_accuracy(e.test_accuracy());
  r.set_test_loss(e.test_loss());
  r.set_train_samples_per_second(e.train_samples_per_second());
  r.set_achieved_flops_per_second(e.achieved_flops_per_second());
  r.set_seconds(e.seconds());
  return r;
}

}  // namespace petabox::daemon
