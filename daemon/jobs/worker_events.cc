#include "daemon/jobs/worker_events.h"

#include <google/protobuf/util/json_util.h>

namespace petabox::daemon {

double WorkerEvent::Number(const std::string& key) const {
  auto it = fields.fields().find(key);
  return it != fields.fields().end() && it->second.has_number_value() ? it->second.number_value() : 0;
}

std::string WorkerEvent::String(const std::string& key) const {
  auto it = fields.fields().find(key);
  return it != fields.fields().end() && it->second.has_string_value() ? it->second.string_value() : "";
}

StatusOr<WorkerEvent> ParseWorkerEvent(const std::string& line) {
  WorkerEvent event;
  auto status = google::protobuf::util::JsonStringToMessage(line, &event.fields);
  if (!status.ok()) return InvalidArgument("worker event is not a JSON object: " + std::string(status.message()));
  event.type = event.String("event");
  if (event.type.empty()) return InvalidArgument("worker event has no \"event\" field: " + line);
  return event;
}

v1::JobProgress ToProgress(const WorkerEvent& e) {
  v1::JobProgress p;
  p.set_step(static_cast<int64_t>(e.Number("step")));
  p.set_total_steps(static_cast<int64_t>(e.Number("total_steps")));
  p.set_epoch(static_cast<int64_t>(e.Number("epoch")));
  p.set_loss(e.Number("loss"));
  p.set_samples_per_second(e.Number("samples_per_second"));
  p.set_achieved_flops_per_second(e.Number("achieved_flops_per_second"));
  p.set_eta_seconds(e.Number("eta_seconds"));
  p.set_learning_rate(e.Number("lr"));
  return p;
}

v1::EvalResult ToEval(const WorkerEvent& e) {
  v1::EvalResult r;
  r.set_step(static_cast<int64_t>(e.Number("step")));
  r.set_epoch(static_cast<int64_t>(e.Number("epoch")));
  r.set_test_accuracy(e.Number("test_accuracy"));
  r.set_test_loss(e.Number("test_loss"));
  r.set_examples(static_cast<int64_t>(e.Number("examples")));
  return r;
}

v1::JobResult ToResult(const WorkerEvent& e) {
  v1::JobResult r;
  r.set_steps(static_cast<int64_t>(e.Number("steps")));
  r.set_epochs(e.Number("epochs"));
  r.set_final_loss(e.Number("final_loss"));
  r.set_test_accuracy(e.Number("test_accuracy"));
  r.set_test_loss(e.Number("test_loss"));
  r.set_train_samples_per_second(e.Number("train_samples_per_second"));
  r.set_achieved_flops_per_second(e.Number("achieved_flops_per_second"));
  r.set_seconds(e.Number("seconds"));
  return r;
}

}  // namespace petabox::daemon
