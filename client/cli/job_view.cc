#include "client/cli/job_view.h"

#include <cctype>

#include "client/cli/format.h"
#include "client/cli/progress.h"

namespace petabox::cli {
namespace {

std::string Join(const google::protobuf::RepeatedPtrField<std::string>& items) {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : ",") + item;
  return out;
}

std::string StepCell(const v1::JobProgress& progress) {
  if (progress.total_steps() > 0) return std::to_string(progress.step()) + "/" + std::to_string(progress.total_steps());
  return progress.step() > 0 ? std::to_string(progress.step()) : "-";
}

// "2026-11-22T10:00:00Z (5m ago)".
std::string When(const google::protobuf::Timestamp& time, const google::protobuf::Timestamp& now) {
  if (time.seconds() == 0 && time.nanos() == 0) return "-";
  return FormatTimestamp(time) + " (" + FormatAge(time, now) + " ago)";
}

void Field(std::string* out, const std::string& label, const std::string& value) {
  std::string padded = label + ":";
  padded.resize(14, ' ');
  *out += padded + value + "\n";
}

}  // namespace

Table JobsTable(const std::vector<v1::Job>& jobs, const google::protobuf::Timestamp& now) {
  Table table({"NAME", "STATE", "DISPLAY NAME", "DEVICES", "STEP/TOTAL", "LOSS", "AGE"});
  table.AlignRight(4);
  table.AlignRight(5);
  table.AlignRight(6);
  for (const v1::Job& job : jobs) {
    const v1::JobProgress& progress = job.progress();
    std::string devices = job.devices_size() > 0 ? Join(job.devices()) : std::to_string(job.device_count());
    table.AddRow({job.name(), JobStateName(job.state()), job.display_name(), devices, StepCell(progress),
                  progress.step() > 0 ? FormatLoss(progress.loss()) : "-", FormatAge(job.create_time(), now)});
  }
  return table;
}

std::string RenderJobDetails(const v1::Job& job, const google::protobuf::Timestamp& now) {
  std::string out;
  Field(&out, "Name", job.name());
  Field(&out, "Display name", job.display_name());
  Field(&out, "State", JobStateName(job.state()));
  if (!job.failure_reason().empty()) Field(&out, "Reason", job.failure_reason());
  Field(&out, "Priority", std::to_string(job.priority()));
  std::string devices = std::to_string(job.device_count()) + " asked";
  if (job.devices_size() > 0) devices = Join(job.devices()) + " (" + devices + ")";
  Field(&out, "Devices", devices);
  Field(&out, "Created", When(job.create_time(), now));
  Field(&out, "Started", When(job.start_time(), now));
  Field(&out, "Ended", When(job.end_time(), now));
  Field(&out, "Restarts", std::to_string(job.restarts()) + " of " + std::to_string(job.max_restarts()));
  if (job.has_progress() && job.progress().step() > 0) {
    Field(&out, "Progress", RenderProgressFields(job.progress()));
  }
  if (job.has_result()) Field(&out, "Result", RenderResult(job.result()));
  Field(&out, "Checkpoint", job.has_checkpoint() ? "yes (petabox checkpoint " + job.name() + " -o FILE)" : "none");
  return out;
}

StatusOr<std::vector<v1::Job::State>> ParseJobStates(const std::vector<std::string>& names) {
  std::vector<v1::Job::State> states;
  for (const std::string& name : names) {
    std::string upper;
    for (char c : name) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    v1::Job::State state;
    if (upper == "STATE_UNSPECIFIED" || !v1::Job::State_Parse(upper, &state)) {
      return InvalidArgument("unknown job state '" + name +
                             "' (one of: queued, starting, running, cancelling, cancelled, succeeded, failed)");
    }
    states.push_back(state);
  }
  return states;
}

}  // namespace petabox::cli
