#include "daemon/worker/job_spec_proto.h"

#include <cstdio>
#include <fstream>
#include <sstream>

namespace petabox::worker {
namespace {

void DatasetToProto(const DatasetSpec& d, v1::JobSpec::Dataset* p) {
  p->set_name(d.name);
  p->set_dir(d.dir);
  p->set_source(d.source);
  p->set_train_limit(d.train_limit);
  p->set_test_limit(d.test_limit);
  p->set_image_size(d.image_size);
  p->set_decode_threads(d.decode_threads);
}

void OptimizerToProto(const OptimizerSpec& o, v1::JobSpec::Optimizer* p) {
  p->set_name(o.name);
  p->set_lr(o.lr);
  p->set_momentum(o.momentum);
  p->set_nesterov(o.nesterov);
  p->set_weight_decay(o.weight_decay);
  p->set_beta1(o.betas[0]);
  p->set_beta2(o.betas[1]);
  p->set_eps(o.eps);
  p->set_trust_coefficient(o.trust_coefficient);
}

void ScheduleToProto(const ScheduleSpec& s, v1::JobSpec::Schedule* p) {
  p->set_name(s.name);
  p->set_warmup_steps(s.warmup_steps);
  p->set_warmup_epochs(s.warmup_epochs);
  p->set_power(s.power);
  p->set_end_lr(s.end_lr);
}

void DatasetFromProto(const v1::JobSpec::Dataset& p, DatasetSpec* d) {
  if (p.has_name()) d->name = p.name();
  if (p.has_dir()) d->dir = p.dir();
  if (p.has_source()) d->source = p.source();
  if (p.has_train_limit()) d->train_limit = p.train_limit();
  if (p.has_test_limit()) d->test_limit = p.test_limit();
  if (p.has_image_size()) d->image_size = p.image_size();
  if (p.has_decode_threads()) d->decode_threads = p.decode_threads();
}

void OptimizerFromProto(const v1::JobSpec::Optimizer& p, OptimizerSpec* o) {
  if (p.has_name()) o->name = p.name();
  if (p.has_lr()) o->lr = p.lr();
  if (p.has_momentum()) o->momentum = p.momentum();
  if (p.has_nesterov()) o->nesterov = p.nesterov();
  if (p.has_weight_decay()) o->weight_decay = p.weight_decay();
  if (p.has_beta1()) o->betas[0] = p.beta1();
  if (p.has_beta2()) o->betas[1] = p.beta2();
  if (p.has_eps()) o->eps = p.eps();
  if (p.has_trust_coefficient()) o->trust_coefficient = p.trust_coefficient();
}

void ScheduleFromProto(const v1::JobSpec::Schedule& p, ScheduleSpec* s) {
  if (p.has_name()) s->name = p.name();
  if (p.has_warmup_steps()) s->warmup_steps = p.warmup_steps();
  if (p.has_warmup_epochs()) s->warmup_epochs = p.warmup_epochs();
  if (p.has_power()) s->power = p.power();
  if (p.has_end_lr()) s->end_lr = p.end_lr();
}

}  // namespace

v1::JobSpec JobSpecToProto(const JobSpec& j) {
  v1::JobSpec p;
  p.set_name(j.name);
  p.set_model(j.model);
  p.set_graph(j.graph);
  DatasetToProto(j.dataset, p.mutable_dataset());
  p.set_epochs(j.epochs);
  p.set_global_batch_size(j.global_batch_size);
  OptimizerToProto(j.optimizer, p.mutable_optimizer());
  ScheduleToProto(j.schedule, p.mutable_schedule());
  p.set_precision(j.precision);
  p.set_seed(j.seed);
  p.mutable_checkpoint()->set_interval_steps(j.checkpoint.interval_steps);
  p.mutable_checkpoint()->set_dir(j.checkpoint.dir);
  p.mutable_eval()->set_interval_steps(j.eval.interval_steps);
  p.mutable_eval()->set_per_epoch(j.eval.per_epoch);
  for (const std::string& d : j.devices) p.add_devices(d);
  p.set_sync_batchnorm(j.sync_batchnorm);
  p.set_device_count(j.device_count);
  p.set_max_restarts(j.max_restarts);
  p.set_label_smoothing(j.label_smoothing);
  p.set_max_steps(j.max_steps);
  p.set_beam(j.beam);
  return p;
}

JobSpec JobSpecFromProto(const v1::JobSpec& p) {
  JobSpec j;
  if (p.has_name()) j.name = p.name();
  if (p.has_model()) j.model = p.model();
  if (p.has_graph()) j.graph = p.graph();
  DatasetFromProto(p.dataset(), &j.dataset);
  if (p.has_epochs()) j.epochs = p.epochs();
  if (p.has_global_batch_size()) j.global_batch_size = p.global_batch_size();
  OptimizerFromProto(p.optimizer(), &j.optimizer);
  ScheduleFromProto(p.schedule(), &j.schedule);
  if (p.has_precision()) j.precision = p.precision();
  if (p.has_seed()) j.seed = p.seed();
  if (p.checkpoint().has_interval_steps()) j.checkpoint.interval_steps = p.checkpoint().interval_steps();
  if (p.checkpoint().has_dir()) j.checkpoint.dir = p.checkpoint().dir();
  if (p.eval().has_interval_steps()) j.eval.interval_steps = p.eval().interval_steps();
  if (p.eval().has_per_epoch()) j.eval.per_epoch = p.eval().per_epoch();
  j.devices.assign(p.devices().begin(), p.devices().end());
  if (p.has_sync_batchnorm()) j.sync_batchnorm = p.sync_batchnorm();
  if (p.has_device_count()) j.device_count = p.device_count();
  if (p.has_max_restarts()) j.max_restarts = p.max_restarts();
  if (p.has_label_smoothing()) j.label_smoothing = p.label_smoothing();
  if (p.has_max_steps()) j.max_steps = p.max_steps();
  if (p.has_beam()) j.beam = p.beam();
  return j;
}

Status WriteJobSpecFile(const std::string& path, const JobSpec& spec) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out || !JobSpecToProto(spec).SerializeToOstream(&out) || !out.flush()) {
      return Unavailable("cannot write " + tmp);
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) return Unavailable("cannot write " + path);
  return Status::Ok();
}

StatusOr<JobSpec> ReadJobSpecFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound(path + ": cannot read the job spec");
  v1::JobSpec proto;
  if (!proto.ParseFromIstream(&in)) return InvalidArgument(path + ": not a petabox.v1.JobSpec");
  return JobSpecFromProto(proto);
}

}  // namespace petabox::worker
