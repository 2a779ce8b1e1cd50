#include "daemon/worker/job_spec.h"

#include <algorithm>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "daemon/worker/yaml_reader.h"
#include "devices/registry.h"
#include "engine/nn/mixed_precision.h"

namespace petabox::worker {
namespace {

// ---- reading: one function per mapping, keys in the order of the structs.

void ReadDataset(YamlMapReader& r, DatasetSpec* d) {
  r.Read("name", &d->name);
  r.Read("dir", &d->dir);
  r.Read("source", &d->source);
  r.Read("train_limit", &d->train_limit);
  r.Read("test_limit", &d->test_limit);
  r.Read("image_size", &d->image_size);
  r.Read("decode_threads", &d->decode_threads);
}

void ReadOptimizer(YamlMapReader& r, OptimizerSpec* o) {
  r.Read("name", &o->name);
  r.Read("lr", &o->lr);
  r.Read("momentum", &o->momentum);
  r.Read("nesterov", &o->nesterov);
  r.Read("weight_decay", &o->weight_decay);
  r.Read("betas", &o->betas);
  r.Read("eps", &o->eps);
  r.Read("trust_coefficient", &o->trust_coefficient);
}

void ReadSchedule(YamlMapReader& r, ScheduleSpec* s) {
  r.Read("name", &s->name);
  r.Read("warmup_steps", &s->warmup_steps);
  r.Read("warmup_epochs", &s->warmup_epochs);
  r.Read("power", &s->power);
  r.Read("end_lr", &s->end_lr);
}

void ReadJob(YamlMapReader& r, JobSpec* j) {
  r.Read("name", &j->name);
  r.Read("model", &j->model);
  r.Read("graph", &j->graph);
  r.ReadMap("dataset", [j](YamlMapReader& m) { ReadDataset(m, &j->dataset); });
  r.Read("epochs", &j->epochs);
  r.Read("global_batch_size", &j->global_batch_size);
  r.ReadMap("optimizer", [j](YamlMapReader& m) { ReadOptimizer(m, &j->optimizer); });
  r.ReadMap("schedule", [j](YamlMapReader& m) { ReadSchedule(m, &j->schedule); });
  r.Read("precision", &j->precision);
  r.Read("seed", &j->seed);
  r.ReadMap("checkpoint", [j](YamlMapReader& m) {
    m.Read("interval_steps", &j->checkpoint.interval_steps);
    m.Read("dir", &j->checkpoint.dir);
  });
  r.ReadMap("eval", [j](YamlMapReader& m) {
    m.Read("interval_steps", &j->eval.interval_steps);
    m.Read("per_epoch", &j->eval.per_epoch);
  });
  r.Read("devices", &j->devices);
  r.Read("sync_batchnorm", &j->sync_batchnorm);
  r.Read("device_count", &j->device_count);
  r.Read("max_restarts", &j->max_restarts);
  r.Read("label_smoothing", &j->label_smoothing);
  r.Read("max_steps", &j->max_steps);
  r.Read("beam", &j->beam);
}

// ---- validation: the first violated rule, as (key path, reason).

struct SpecError {
  std::string key;
  std::string reason;
  StatusCode code = StatusCode::kInvalidArgument;
};

std::string Num(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

class Checker {
 public:
  void Require(bool ok, const std::string& key, const std::string& reason,
               StatusCode code = StatusCode::kInvalidArgument) {
    if (!ok && !error) error = SpecError{key, reason, code};
  }
  void Positive(double v, const std::string& key) { Require(v > 0, key, "must be > 0, got " + Num(v)); }
  void NonNegative(double v, const std::string& key) { Require(v >= 0, key, "must be >= 0, got " + Num(v)); }
  void AtLeastOne(int64_t v, const std::string& key) { Require(v >= 1, key, "must be >= 1, got " + Num(v)); }
  void Fraction(double v, const std::string& key) {
    Require(v >= 0 && v < 1, key, "must be in [0, 1), got " + Num(v));
  }
  void OneOf(const std::string& v, const std::vector<std::string>& allowed, const std::string& key) {
    std::string list;
    for (const std::string& a : allowed) list += (list.empty() ? "" : ", ") + a;
    Require(std::find(allowed.begin(), allowed.end(), v) != allowed.end(), key,
            "must be one of " + list + ", got '" + v + "'");
  }
  std::optional<SpecError> error;
};

void CheckOptimizer(const OptimizerSpec& o, Checker* c) {
  c->OneOf(o.name, {"sgd", "adam", "adamw", "lars"}, "optimizer.name");
  c->Positive(o.lr, "optimizer.lr");
  c->Fraction(o.momentum, "optimizer.momentum");
  c->Require(!o.nesterov || (o.name == "sgd" && o.momentum > 0), "optimizer.nesterov",
             "needs optimizer.name sgd and optimizer.momentum > 0");
  c->NonNegative(o.weight_decay, "optimizer.weight_decay");
  c->Fraction(o.betas[0], "optimizer.betas[0]");
  c->Fraction(o.betas[1], "optimizer.betas[1]");
  c->Positive(o.eps, "optimizer.eps");
  c->Positive(o.trust_coefficient, "optimizer.trust_coefficient");
}

void CheckSchedule(const ScheduleSpec& s, double lr, Checker* c) {
  c->OneOf(s.name, {"constant", "warmup_poly", "warmup_cosine"}, "schedule.name");
  c->NonNegative(static_cast<double>(s.warmup_steps), "schedule.warmup_steps");
  c->NonNegative(s.warmup_epochs, "schedule.warmup_epochs");
  c->Require(s.warmup_steps == 0 || s.warmup_epochs == 0, "schedule.warmup_epochs",
             "give warmup_steps or warmup_epochs, not both");
  c->Positive(s.power, "schedule.power");
  c->NonNegative(s.end_lr, "schedule.end_lr");
  c->Require(s.end_lr <= lr, "schedule.end_lr", "must be <= optimizer.lr (" + Num(lr) + "), got " + Num(s.end_lr));
}

// A known precision; 16-bit ones need a zoo model (a training graph's ops run in the types
// the graph gives them) and, when the devices are known, devices that can do them.
void CheckPrecision(const JobSpec& j, bool check_devices, Checker* c) {
  c->OneOf(j.precision, {"float32", "bfloat16", "float16"}, "precision");
  StatusOr<nn::Precision> precision = nn::ParsePrecision(j.precision);
  if (!precision.ok() || *precision == nn::Precision::kFloat32) return;
  c->Require(j.model != "graph", "precision",
             j.precision + " needs a zoo model (mlp, cnn, resnet8): a training graph runs in the types it was "
             "exported with; use float32 with model: graph");
  if (!check_devices) return;
  DeviceRegistry& registry = DeviceRegistry::Global();
  std::vector<std::string> devices = j.devices;
  if (devices.empty()) devices.push_back(registry.DefaultDevice());
  for (const std::string& name : devices) {
    StatusOr<Device*> device = registry.Get(name);
    if (!device.ok()) return;  // CheckDevices names it
    Status s = nn::CheckPrecisionSupported(*precision, (*device)->properties());
    c->Require(s.ok(), "precision", s.message(), s.code());
  }
}

// With `check_devices`, every name must be a device here; duplicates are refused either way
// (by canonical name when the devices are known, else as written).
void CheckDevices(const std::vector<std::string>& devices, bool check_devices, Checker* c) {
  std::set<std::string> seen;
  for (size_t i = 0; i < devices.size(); ++i) {
    const std::string key = "devices[" + std::to_string(i) + "]";
    if (!check_devices) {
      c->Require(seen.insert(devices[i]).second, key, "'" + devices[i] + "' is listed twice");
      continue;
    }
    StatusOr<Device*> device = DeviceRegistry::Global().Get(devices[i]);
    c->Require(device.ok(), key, device.ok() ? "" : device.status().message());
    if (!device.ok()) return;
    c->Require(seen.insert((*device)->properties().name).second, key, "'" + devices[i] + "' is listed twice");
  }
}

// Zoo models that take RGB images (3 channels, any size): the imagenet dataset's.
bool IsRgbModel(const std::string& model) { return model == "resnet8-rgb" || model == "resnet50"; }

void CheckDataset(const JobSpec& j, Checker* c) {
  const DatasetSpec& d = j.dataset;
  c->OneOf(d.name, {"fashion-mnist", "npy", "imagenet"}, "dataset.name");
  c->Require((d.name != "npy" && d.name != "imagenet") || !d.dir.empty() || !d.source.empty(), "dataset.source",
             "dataset '" + d.name + "' needs an uploaded dataset (source: datasets/NAME) or a dir");
  c->NonNegative(static_cast<double>(d.train_limit), "dataset.train_limit");
  c->NonNegative(static_cast<double>(d.test_limit), "dataset.test_limit");
  c->Require(d.image_size >= 8 && d.image_size <= 1024, "dataset.image_size",
             "must be in [8, 1024], got " + std::to_string(d.image_size));
  c->NonNegative(static_cast<double>(d.decode_threads), "dataset.decode_threads");
  const bool images = d.name == "imagenet";
  if (j.model == "graph") {
    c->Require(!images, "model", "model 'graph' cannot train on dataset imagenet yet (use resnet8-rgb or resnet50)");
  } else if (images) {
    c->Require(IsRgbModel(j.model), "model",
               "dataset imagenet needs a model for RGB images (resnet8-rgb, resnet50), got '" + j.model + "'");
  } else {
    c->Require(!IsRgbModel(j.model), "model",
               "model '" + j.model + "' takes RGB images: use it with dataset.name imagenet");
  }
}

std::optional<SpecError> Check(const JobSpec& j, bool check_devices) {
  Checker c;
  c.OneOf(j.model, {"mlp", "cnn", "resnet8", "resnet8-rgb", "resnet50", "graph"}, "model");
  const bool graph = j.model == "graph";
  c.Require(!graph || !j.graph.empty(), "graph", "model 'graph' needs the graph file (graph: FILE)");
  c.Require(graph || j.graph.empty(), "graph", "is only read with model: graph (model is '" + j.model + "')");
  c.Require(!graph || j.label_smoothing == 0, "label_smoothing",
            "must be 0 with model: graph (the loss is the graph's; export it with label smoothing instead)");
  CheckDataset(j, &c);
  c.AtLeastOne(j.epochs, "epochs");
  c.AtLeastOne(j.global_batch_size, "global_batch_size");
  CheckOptimizer(j.optimizer, &c);
  CheckSchedule(j.schedule, j.optimizer.lr, &c);
  c.NonNegative(static_cast<double>(j.checkpoint.interval_steps), "checkpoint.interval_steps");
  c.NonNegative(static_cast<double>(j.eval.interval_steps), "eval.interval_steps");
  CheckDevices(j.devices, check_devices, &c);
  CheckPrecision(j, check_devices, &c);
  c.NonNegative(static_cast<double>(j.device_count), "device_count");
  c.Require(j.device_count == 0 || j.devices.empty() || j.device_count == static_cast<int64_t>(j.devices.size()),
            "device_count", "must match the length of devices when both are given");
  c.Require(j.global_batch_size >= DeviceCount(j), "global_batch_size",
            "must be at least the number of devices (" + std::to_string(DeviceCount(j)) +
                ": every device trains on a part of each batch), got " + std::to_string(j.global_batch_size));
  c.NonNegative(static_cast<double>(j.max_restarts), "max_restarts");
  c.Require(j.dataset.source.empty() || j.dataset.source.rfind("datasets/", 0) == 0, "dataset.source",
            "must be 'datasets/NAME', got '" + j.dataset.source + "'");
  c.Fraction(j.label_smoothing, "label_smoothing");
  c.NonNegative(static_cast<double>(j.max_steps), "max_steps");
  c.Require(j.beam >= 0 && j.beam <= 64, "beam", "must be in [0, 64], got " + std::to_string(j.beam));
  return c.error;
}

Status ToStatus(const SpecError& e, const std::string& source, const KeyLocations* locations) {
  std::string where;
  if (locations) {
    auto it = locations->find(e.key);
    if (it != locations->end() && !it->second.empty()) where = " " + it->second;
  }
  return Status(e.code, source + ": " + e.key + ": " + e.reason + where);
}

}  // namespace

int64_t DeviceCount(const JobSpec& spec) {
  if (spec.device_count > 0) return spec.device_count;
  return spec.devices.empty() ? 1 : static_cast<int64_t>(spec.devices.size());
}

Status ValidateJobSpec(const JobSpec& spec) {
  std::optional<SpecError> error = Check(spec, /*check_devices=*/true);
  return error ? ToStatus(*error, "job spec", nullptr) : Status::Ok();
}

StatusOr<JobSpec> ParseJobSpec(const std::string& yaml, const std::string& source, const SpecParseOptions& options) {
  PB_ASSIGN_OR_RETURN(std::unique_ptr<YAML::Node> root, ParseYaml(yaml, source));
  KeyLocations locations;
  JobSpec spec;
  YamlMapReader reader(*root, "", &locations);
  ReadJob(reader, &spec);
  if (Status s = reader.Finish(); !s.ok()) return Status(s.code(), source + ": " + s.message());
  if (options.amend) options.amend(spec);
  if (std::optional<SpecError> error = Check(spec, options.check_devices)) return ToStatus(*error, source, &locations);
  return spec;
}

StatusOr<JobSpec> LoadJobSpec(const std::string& path, const SpecParseOptions& options) {
  std::ifstream in(path);
  if (!in) return NotFound(path + ": cannot read the job spec");
  std::stringstream text;
  text << in.rdbuf();
  return ParseJobSpec(text.str(), path, options);
}

}  // namespace petabox::worker
