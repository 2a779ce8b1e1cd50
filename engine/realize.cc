#include "engine/realize.h"

#include <chrono>
#include <cstdio>
#include <map>

#include "engine/device_source.h"
#include "engine/codegen/ast_key.h"
#include "engine/codegen/kernel.h"
#include "engine/codegen/linearize.h"
#include "engine/codegen/opt/optimize.h"
#include "engine/codegen/render/cstyle.h"
#include "engine/codegen/tc/gemm_source.h"
#include "engine/exec_stats.h"
#include "engine/multi_exec.h"
#include "engine/util/thread_annotations.h"

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
  CompiledKernel* Find(const std::string& ast_key) EXCLUDES(mu_) {
    MutexLock lock(mu_);
    auto it = by_ast_.find(ast_key);
    return it == by_ast_.end() ? nullptr : it->second;
  }

  StatusOr<CompiledKernel*> Add(const std::string& ast_key, Device* device, LinearKernel linear,
                                const std::string& source) EXCLUDES(mu_) {
    std::string key = device->properties().name + "\n" + source;
    MutexLock lock(mu_);
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
  Mutex mu_;
  std::map<std::string, std::unique_ptr<CompiledKernel>> by_source_ GUARDED_BY(mu_);
  std::map<std::string, CompiledKernel*> by_ast_ GUARDED_BY(mu_);

};

ProgramCache& Programs() {
  static ProgramCache* cache = new ProgramCache();
  return *cache;
}

thread_local std::vector<CapturedOp>* capture_log = nullptr;

void Capture(CapturedOp op) {
  if (capture_log) capture_log->push_back(std::move(op));
}

struct Lowered {
  LinearKernel linear;
  std::string source;
  bool tensor_cores = false;  // a tensor-core GEMM (engine/codegen/tc)
};

// A matrix product the device's tensor cores can run becomes a tiled tensor-core kernel.
std::optional<Lowered> LowerToTensorCores(const Kernel& normalized, const Dialect& dialect,
                                          const TensorCoreDialect& tc) {
  std::optional<GemmPlan> plan = MatchGemm(normalized, dialect);
  if (!plan) return std::nullopt;
  GemmTiles tiles = ChooseTiles(*plan, normalized.props().compute_units, tc);
  GemmKernel gemm = RenderGemm(*plan, tiles, dialect, tc);
  return Lowered{std::move(gemm.linear), std::move(gemm.source), true};
}

StatusOr<Lowered> Lower(const KernelAst& ast, Device* device, bool tensor_cores = true) {
  const Dialect* dialect = FindDialect(device->properties().dialect);
  if (!dialect) return Unimplemented("no renderer dialect '" + device->properties().dialect + "'");
  Kernel kernel(std::make_shared<KernelAst>(ast), device->properties());
  const TensorCoreDialect* tc_dialect =
      tensor_cores && TensorCoresEnabled() ? FindTensorCoreDialect(device->properties()) : nullptr;
  if (tc_dialect) {  // off by default: most lowerings never copy the kernel
    Kernel normalized = kernel;
    normalized.Normalize();
    if (std::optional<Lowered> tc = LowerToTensorCores(normalized, *dialect, *tc_dialect)) {
      if (DebugLevel() >= 4) std::fprintf(stderr, "%s\n", tc->source.c_str());
      return std::move(*tc);
    }
  }
  OptimizeKernel(kernel, *device);
  Lowered out{Linearize(kernel), ""};
  out.source = Render(out.linear, *dialect);
  if (DebugLevel() >= 4) std::fprintf(stderr, "%s\n", out.source.c_str());
  return out;
}

// Lowers and compiles a kernel. A tensor-core kernel the device's compiler or driver refuses
// is replaced by the ordinary kernel, with a warning: a faster path must never cost a job.
StatusOr<CompiledKernel*> Compile(const std::string& ast_key, const KernelAst& ast, Device* device) {
  PB_ASSIGN_OR_RETURN(Lowered lowered, Lower(ast, device));
  const bool tensor_cores = lowered.tensor_cores;
  const std::string name = lowered.linear.name;
  StatusOr<CompiledKernel*> ck = Programs().Add(ast_key, device, std::move(lowered.linear), lowered.source);
  if (ck.ok() || !tensor_cores) return ck;
  std::fprintf(stderr, "petabox: warning: tensor-core kernel %s failed on %s (%s); using the CUDA-core kernel\n",
               name.c_str(), device->properties().name.c_str(), ck.status().ToString().substr(0, 2000).c_str());
  PB_ASSIGN_OR_RETURN(lowered, Lower(ast, device, /*tensor_cores=*/false));
  return Programs().Add(ast_key, device, std::move(lowered.linear), lowered.source);
}

StatusOr<std::shared_ptr<Buffer>> OutputBuffer(const ScheduleItem& item, Device* device) {
  if (item.assign_target) return item.assign_target->buffer();
  return Buffer::Allocate(device, item.output->dtype, item.output->numel());
}

// Compiles (or finds) the kernel, allocates its output and appends the launch to `ops`. The
// output node is marked realized now: later items of the schedule look up its buffer.
Status PrepareKernel(const ScheduleItem& item, std::vector<CapturedOp>* ops) {
  PB_ASSIGN_OR_RETURN(Device * device, GetDevice(item.ast->device));
  if (item.output->numel() == 0) {  // nothing to compute (and a zero-sized GPU grid is invalid)
    PB_ASSIGN_OR_RETURN(std::shared_ptr<Buffer> out, OutputBuffer(item, device));
    item.output->SetRealized(std::move(out));
    return Status::Ok();
  }
  std::string ast_key = AstKey(*item.ast);
  CompiledKernel* ck = Programs().Find(ast_key);
  if (!ck) {
    PB_ASSIGN_OR_RETURN(ck, Compile(ast_key, *item.ast, device));
  }
  const LaunchDims& dims = ck->linear.dims;
  PB_ASSIGN_OR_RETURN(std::shared_ptr<Buffer> out, OutputBuffer(item, device));
  CapturedOp op{CapturedOp::Kind::kKernel, ck->program.get(), dims, {out}, 0, 0, ck->linear.name,
                device->properties().name, ck->linear.flops, static_cast<int64_t>(out->bytes())};
  for (const NodeRef& in : item.inputs) {
    std::shared_ptr<Buffer> b = in->buffer();
    if (!b) return Internal("kernel input was not realized: " + GraphToString(in));
    if (b->device() != device && !device->CanAccessPeer(*b->device()))  // a peer read (engine/multi_peer.h)
      return Internal(device->properties().name + " cannot read a buffer of " + b->device()->properties().name);
    op.buffers.push_back(b);
    op.bytes += static_cast<int64_t>(b->bytes());
  }
  op.dims.cost = op.flops + op.bytes;
  if (item.assign_target) out->BumpVersion();  // the contents change when the op runs
  ops->push_back(std::move(op));
  item.output->SetRealized(std::move(out));
  return Status::Ok();
}

Status PrepareCopy(const ScheduleItem& item, std::vector<CapturedOp>* ops) {
  std::shared_ptr<Buffer> src = item.inputs[0]->buffer();
  if (!src) return Internal("copy source was not realized: " + GraphToString(item.inputs[0]));
  PB_ASSIGN_OR_RETURN(Device * device, GetDevice(item.output->device));
  std::shared_ptr<Buffer> dst;
  int64_t dst_offset = 0, bytes = 0;
  if (item.into_output) {  // a part of a concatenation, into the buffer allocated for it
    dst = item.output->buffer();
    if (!dst) return Internal("concatenation was not allocated: " + GraphToString(item.output));
    dst_offset = item.dst_offset * ItemSize(dst->dtype());
    bytes = item.count * ItemSize(dst->dtype());
  } else {
    PB_ASSIGN_OR_RETURN(dst, Buffer::Allocate(device, item.output->dtype, item.output->numel()));
    bytes = static_cast<int64_t>(dst->bytes());
  }
  const int64_t offset = item.copy_offset * ItemSize(src->dtype());
  if (offset < 0 || offset + bytes > static_cast<int64_t>(src->bytes()) || dst_offset < 0 ||
      dst_offset + bytes > static_cast<int64_t>(dst->bytes()))
    return Internal("copy of " + std::to_string(bytes) + " bytes from offset " + std::to_string(offset) + " of " +
                    std::to_string(src->bytes()) + " to offset " + std::to_string(dst_offset) + " of " +
                    std::to_string(dst->bytes()));
  ops->push_back(CapturedOp{CapturedOp::Kind::kCopy, nullptr, {}, {dst, src}, offset, dst_offset, "copy",
                            device->properties().name, 0, bytes});
  if (!item.into_output) item.output->SetRealized(std::move(dst));
  return Status::Ok();
}

Status PrepareEmpty(const ScheduleItem& item) {
  PB_ASSIGN_OR_RETURN(Device * device, GetDevice(item.output->device));
  PB_ASSIGN_OR_RETURN(std::shared_ptr<Buffer> b, Buffer::Allocate(device, item.output->dtype, item.output->numel()));
  item.output->SetRealized(std::move(b));
  return Status::Ok();
}

Status Prepare(const std::vector<ScheduleItem>& items, std::vector<CapturedOp>* ops) {
  for (const ScheduleItem& item : items) {
    switch (item.kind) {
      case ScheduleItem::Kind::kKernel: PB_RETURN_IF_ERROR(PrepareKernel(item, ops)); break;
      case ScheduleItem::Kind::kCopy: PB_RETURN_IF_ERROR(PrepareCopy(item, ops)); break;
      case ScheduleItem::Kind::kEmpty: PB_RETURN_IF_ERROR(PrepareEmpty(item)); break;
    }
  }
  return Status::Ok();
}

// `bytes` bytes from src at src_offset to dst at dst_offset: device to device where the
// destination's backend can reach the source, else staged through host memory.
Status CopyBuffer(Buffer& dst, int64_t dst_offset, const Buffer& src, int64_t src_offset, int64_t bytes) {
  if (bytes == 0) return Status::Ok();
  void* to = static_cast<char*>(dst.data()) + dst_offset;
  const void* from = static_cast<const char*>(src.data()) + src_offset;
  const size_t n = static_cast<size_t>(bytes);
  Status direct = dst.device()->CopyFromDevice(to, *src.device(), from, n);
  if (direct.code() != StatusCode::kUnimplemented) return direct;
  std::vector<uint8_t> staging(n);
  PB_RETURN_IF_ERROR(src.device()->allocator().CopyOut(staging.data(), from, n));
  return dst.device()->allocator().CopyIn(to, staging.data(), n);
}

}  // namespace

Status Realize(const std::vector<NodeRef>& roots) {
  PB_ASSIGN_OR_RETURN(std::vector<ScheduleItem> items, CreateSchedule(roots));
  std::vector<CapturedOp> ops;
  Status s = Prepare(items, &ops);
  if (s.ok()) s = ExecuteOps(ops);
  if (!s.ok()) {
    for (const ScheduleItem& item : items) item.output->SetRealized(nullptr);
    return s;
  }
  for (CapturedOp& op : ops) Capture(std::move(op));
  return Status::Ok();
}

CaptureScope::CaptureScope(std::vector<CapturedOp>* log) : previous_(capture_log) { capture_log = log; }
CaptureScope::~CaptureScope() { capture_log = previous_; }

Status Replay(const CapturedOp& op, const std::vector<std::shared_ptr<Buffer>>& buffers) {
  if (op.kind == CapturedOp::Kind::kCopy) {
    if (DebugLevel() < 2) return CopyBuffer(*buffers[0], op.dst_offset, *buffers[1], op.src_offset, op.bytes);
    auto start = std::chrono::steady_clock::now();
    Status s = CopyBuffer(*buffers[0], op.dst_offset, *buffers[1], op.src_offset, op.bytes);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::fprintf(stderr, "%-7s copy from %-29s %10.2f us %29.2f GB/s\n", op.device.c_str(),
                 buffers[1]->device()->properties().name.c_str(), seconds * 1e6, op.bytes / seconds * 1e-9);
    return s;
  }
  std::vector<void*> args;
  for (const auto& b : buffers) args.push_back(b->data());
  PB_ASSIGN_OR_RETURN(double seconds, op.program->Launch(args, op.dims));
  RecordKernel({op.name, op.device, seconds, op.flops, op.bytes});
  return Status::Ok();
}

StatusOr<std::string> KernelSource(const KernelAst& ast) {
  PB_ASSIGN_OR_RETURN(Device * device, GetDevice(ast.device));
  PB_ASSIGN_OR_RETURN(Lowered lowered, Lower(ast, device));
  return lowered.source;
}

}  // namespace petabox
