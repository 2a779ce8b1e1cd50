#include "engine/realize.h"

#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>

#include "devices/registry.h"
#include "engine/codegen/kernel.h"
#include "engine/codegen/linearize.h"
#include "engine/codegen/opt/heuristic.h"
#include "engine/codegen/render/cstyle.h"
#include "engine/exec_stats.h"

namespace petabox {
namespace {

struct CompiledKernel {
  std::unique_ptr<Program> program;
  LinearKernel linear;
};

// Compiled programs, found by kernel AST (so a repeated kernel skips lowering) and by
// source (so equal sources share one program). A kernel is compiled and loaded once per process.
class ProgramCache {
 public:
  CompiledKernel* Find(const std::string& ast_key) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = by_ast_.find(ast_key);
    return it == by_ast_.end() ? nullptr : it->second;
  }

  StatusOr<CompiledKernel*> Add(const std::string& ast_key, Device* device, LinearKernel linear,
                                const std::string& source) {
    std::string key = device->properties().name + "\n" + source;
    std::lock_guard<std::mutex> lock(mu_);
    auto it = by_source_.find(key);
    if (it == by_source_.end()) {
      PB_ASSIGN_OR_RETURN(std::string binary, device->compiler().Compile(source));
      PB_ASSIGN_OR_RETURN(auto program, device->LoadProgram(binary, linear.name));
      auto ck = std::make_unique<CompiledKernel>(CompiledKernel{std::move(program), std::move(linear)});
      it = by_source_.emplace(key, std::move(ck)).first;
    }
    by_ast_[ast_key] = it->second.get();
    return it->second.get();
  }

 private:
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<CompiledKernel>> by_source_;  // GUARDED_BY(mu_)
  std::map<std::string, CompiledKernel*> by_ast_;                     // GUARDED_BY(mu_)
};

ProgramCache& Programs() {
  static ProgramCache* cache = new ProgramCache();
  return *cache;
}

// A structural key for a kernel AST: equal keys lower to the same code.
void AppendKey(const KRef& k, std::string& key) {
  char value[32];
  std::snprintf(value, sizeof(value), "%a", k->value);
  key += "(" + std::to_string(static_cast<int>(k->kind)) + " " + Name(k->op) + " " + Name(k->dtype) + " " +
         std::to_string(k->buf) + " " + value;
  if (k->kind == KKind::kLoad || k->kind == KKind::kConst) key += " " + k->st.ToString();
  for (const KRef& s : k->srcs) AppendKey(s, key);
  key += ")";
}

std::string AstKey(const KernelAst& ast) {
  std::string key = ast.device + ShapeToString(ast.full_shape) + ast.out_st.ToString();
  for (bool r : ast.reduce_axes) key += r ? "r" : "g";
  for (DType d : ast.buf_dtypes) key += Name(d);
  AppendKey(ast.root, key);
  return key;
}

thread_local std::vector<CapturedOp>* capture_log = nullptr;

void Capture(CapturedOp op) {
  if (capture_log) capture_log->push_back(std::move(op));
}

struct Lowered {
  LinearKernel linear;
  std::string source;
};

StatusOr<Lowered> Lower(const KernelAst& ast, Device* device) {
  const Dialect* dialect = FindDialect(device->properties().dialect);
  if (!dialect) return Unimplemented("no renderer dialect '" + device->properties().dialect + "'");
  Kernel kernel(std::make_shared<KernelAst>(ast), device->properties());
  ApplyHeuristics(kernel);
  Lowered out{Linearize(kernel), ""};
  out.source = Render(out.linear, *dialect);
  if (DebugLevel() >= 4) std::fprintf(stderr, "%s\n", out.source.c_str());
  return out;
}

StatusOr<std::shared_ptr<Buffer>> OutputBuffer(const ScheduleItem& item, Device* device) {
  if (item.assign_target) return item.assign_target->buffer();
  return Buffer::Allocate(device, item.output->dtype, item.output->numel());
}

Status RunKernel(const ScheduleItem& item) {
  PB_ASSIGN_OR_RETURN(Device * device, DeviceRegistry::Global().Get(item.ast->device));
  if (item.output->numel() == 0) {  // nothing to compute (and a zero-sized GPU grid is invalid)
    PB_ASSIGN_OR_RETURN(std::shared_ptr<Buffer> out, OutputBuffer(item, device));
    item.output->SetRealized(std::move(out));
    return Status::Ok();
  }
  std::string ast_key = AstKey(*item.ast);
  CompiledKernel* ck = Programs().Find(ast_key);
  if (!ck) {
    PB_ASSIGN_OR_RETURN(Lowered lowered, Lower(*item.ast, device));
    PB_ASSIGN_OR_RETURN(ck, Programs().Add(ast_key, device, std::move(lowered.linear), lowered.source));
  }
  const LaunchDims& dims = ck->linear.dims;
  PB_ASSIGN_OR_RETURN(std::shared_ptr<Buffer> out, OutputBuffer(item, device));
  CapturedOp op{CapturedOp::Kind::kKernel, ck->program.get(), dims, {out}, ck->linear.name,
                device->properties().name, ck->linear.flops, static_cast<int64_t>(out->bytes())};
  for (const NodeRef& in : item.inputs) {
    std::shared_ptr<Buffer> b = in->buffer();
    if (!b) return Internal("kernel input was not realized: " + GraphToString(in));
    op.buffers.push_back(b);
    op.bytes += static_cast<int64_t>(b->bytes());
  }
  op.dims.cost = op.flops + op.bytes;
  PB_RETURN_IF_ERROR(Replay(op, op.buffers));
  if (item.assign_target) out->BumpVersion();
  Capture(std::move(op));
  item.output->SetRealized(std::move(out));
  return Status::Ok();
}

Status RunCopy(const ScheduleItem& item) {
  std::shared_ptr<Buffer> src = item.inputs[0]->buffer();
  PB_ASSIGN_OR_RETURN(Device * device, DeviceRegistry::Global().Get(item.output->device));
  PB_ASSIGN_OR_RETURN(std::shared_ptr<Buffer> dst, Buffer::Allocate(device, item.output->dtype, item.output->numel()));
  CapturedOp op{CapturedOp::Kind::kCopy, nullptr, {}, {dst, src}, "copy", device->properties().name, 0,
                static_cast<int64_t>(src->bytes())};
  PB_RETURN_IF_ERROR(Replay(op, op.buffers));
  Capture(std::move(op));
  item.output->SetRealized(std::move(dst));
  return Status::Ok();
}

Status RunEmpty(const ScheduleItem& item) {
  PB_ASSIGN_OR_RETURN(Device * device, DeviceRegistry::Global().Get(item.output->device));
  PB_ASSIGN_OR_RETURN(std::shared_ptr<Buffer> b, Buffer::Allocate(device, item.output->dtype, item.output->numel()));
  item.output->SetRealized(std::move(b));
  return Status::Ok();
}

}  // namespace

Status Realize(const std::vector<NodeRef>& roots) {
  PB_ASSIGN_OR_RETURN(std::vector<ScheduleItem> items, CreateSchedule(roots));
  for (const ScheduleItem& item : items) {
    switch (item.kind) {
      case ScheduleItem::Kind::kKernel: PB_RETURN_IF_ERROR(RunKernel(item)); break;
      case ScheduleItem::Kind::kCopy: PB_RETURN_IF_ERROR(RunCopy(item)); break;
      case ScheduleItem::Kind::kEmpty: PB_RETURN_IF_ERROR(RunEmpty(item)); break;
    }
  }
  return Status::Ok();
}

CaptureScope::CaptureScope(std::vector<CapturedOp>* log) : previous_(capture_log) { capture_log = log; }
CaptureScope::~CaptureScope() { capture_log = previous_; }

Status Replay(const CapturedOp& op, const std::vector<std::shared_ptr<Buffer>>& buffers) {
  if (op.kind == CapturedOp::Kind::kCopy) {
    std::vector<uint8_t> staging(buffers[1]->bytes());
    PB_RETURN_IF_ERROR(buffers[1]->CopyOut(staging.data(), staging.size()));
    return buffers[0]->CopyIn(staging.data(), staging.size());
  }
  std::vector<void*> args;
  for (const auto& b : buffers) args.push_back(b->data());
  PB_ASSIGN_OR_RETURN(double seconds, op.program->Launch(args, op.dims));
  RecordKernel({op.name, op.device, seconds, op.flops, op.bytes});
  return Status::Ok();
}

StatusOr<std::string> KernelSource(const KernelAst& ast) {
  PB_ASSIGN_OR_RETURN(Device * device, DeviceRegistry::Global().Get(ast.device));
  PB_ASSIGN_OR_RETURN(Lowered lowered, Lower(ast, device));
  return lowered.source;
}

}  // namespace petabox
