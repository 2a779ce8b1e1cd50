#include "engine/graph.h"

#include <cstring>
#include <functional>
#include <unordered_map>
#include <unordered_set>

namespace petabox {
namespace {

size_t Mix(size_t h, size_t v) { return h ^ (v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2)); }

size_t HashArg(const NodeArg& arg) {
  size_t h = arg.index();
  std::visit([&](const auto& v) {
    using T = std::decay_t<decltype(v)>;
    if constexpr (std::is_same_v<T, Shape>) { for (int64_t x : v) h = Mix(h, std::hash<int64_t>()(x)); }
    else if constexpr (std::is_same_v<T, std::vector<int>>) { for (int x : v) h = Mix(h, std::hash<int>()(x)); }
    else if constexpr (std::is_same_v<T, std::vector<Range>>) {
      for (auto [a, b] : v) h = Mix(Mix(h, std::hash<int64_t>()(a)), std::hash<int64_t>()(b));
    }
    else if constexpr (std::is_same_v<T, double>) { h = Mix(h, std::hash<double>()(v)); }
    else if constexpr (std::is_same_v<T, DType>) { h = Mix(h, static_cast<size_t>(v)); }
    else if constexpr (std::is_same_v<T, int64_t>) { h = Mix(h, std::hash<int64_t>()(v)); }
    else if constexpr (std::is_same_v<T, BufferArg>) {
      h = Mix(Mix(h, std::hash<const void*>()(v.buffer.get())), std::hash<int64_t>()(v.version));
    }
  }, arg);
  return h;
}

bool SameNode(const Node& n, Op op, DType dtype, const Shape& shape, const std::string& device,
              const std::vector<NodeRef>& srcs, const NodeArg& arg) {
  if (n.op != op || n.dtype != dtype || n.shape != shape || n.device != device || n.srcs.size() != srcs.size())
    return false;
  for (size_t i = 0; i < srcs.size(); ++i)
    if (n.srcs[i].get() != srcs[i].get()) return false;
  if (n.arg.index() != arg.index()) return false;
  if (auto* d = std::get_if<double>(&arg)) {  // compare bits: NaN consts intern too
    double o = std::get<double>(n.arg);
    return std::memcmp(d, &o, sizeof(double)) == 0;
  }
  return n.arg == arg;
}

// The intern table: process-wide by nature (hash-consing is a property of the IR).
class InternTable {
 public:
  NodeRef Intern(Op op, DType dtype, Shape shape, std::string device, std::vector<NodeRef> srcs, NodeArg arg)
      EXCLUDES(mu_) {
    size_t h = Mix(Mix(static_cast<size_t>(op), static_cast<size_t>(dtype)), std::hash<std::string>()(device));
    for (int64_t s : shape) h = Mix(h, std::hash<int64_t>()(s));
    for (const NodeRef& s : srcs) h = Mix(h, s->hash);
    h = Mix(h, HashArg(arg));
    MutexLock lock(mu_);
    auto range = table_.equal_range(h);
    for (auto it = range.first; it != range.second; ++it) {
      if (NodeRef n = it->second.lock(); n && SameNode(*n, op, dtype, shape, device, srcs, arg)) return n;
    }
    auto node = std::make_shared<const Node>(op, dtype, std::move(shape), std::move(device), std::move(srcs),
                                             std::move(arg), h);
    table_.emplace(h, node);
    if (++inserts_ % 4096 == 0) Sweep();
    return node;
  }

 private:
  void Sweep() REQUIRES(mu_) {  // drop entries whose nodes died
    for (auto it = table_.begin(); it != table_.end();) it = it->second.expired() ? table_.erase(it) : std::next(it);
  }

  Mutex mu_;
  std::unordered_multimap<size_t, std::weak_ptr<const Node>> table_ GUARDED_BY(mu_);
  int64_t inserts_ GUARDED_BY(mu_) = 0;

};

InternTable& Table() {
  static InternTable* table = new InternTable();  // never destroyed: nodes may outlive main
  return *table;
}

}  // namespace

std::shared_ptr<Buffer> Node::realized() const {
  MutexLock lock(mu_);
  return realized_;
}

void Node::SetRealized(std::shared_ptr<Buffer> buffer) const {
  MutexLock lock(mu_);
  realized_ = std::move(buffer);
}

std::shared_ptr<Buffer> Node::buffer() const {
  if (op == Op::kBuffer) return Arg<BufferArg>().buffer;
  return realized();
}

NodeRef MakeNode(Op op, DType dtype, Shape shape, std::string device, std::vector<NodeRef> srcs, NodeArg arg) {
  return Table().Intern(op, dtype, std::move(shape), std::move(device), std::move(srcs), std::move(arg));
}

NodeRef MakeBufferNode(std::shared_ptr<Buffer> buffer, std::string device, Shape shape) {
  DType dtype = buffer->dtype();
  int64_t version = buffer->version();
  return MakeNode(Op::kBuffer, dtype, std::move(shape), std::move(device), {}, BufferArg{std::move(buffer), version});
}

const Node* Base(const Node* n) {
  while (IsMovement(n->op)) n = n->srcs[0].get();
  return n;
}

std::string GraphToString(const NodeRef& root) {
  std::unordered_map<const Node*, int> ids;
  std::string out;
  std::function<int(const Node*)> visit = [&](const Node* n) -> int {
    if (auto it = ids.find(n); it != ids.end()) return it->second;
    std::string srcs;
    for (const NodeRef& s : n->srcs) srcs += " %" + std::to_string(visit(s.get()));
    int id = static_cast<int>(ids.size());
    ids[n] = id;
    out += "%" + std::to_string(id) + " = " + Name(n->op) + " " + Name(n->dtype) + ShapeToString(n->shape) + srcs + "\n";
    return id;
  };
  visit(root.get());
  return out;
}

}  // namespace petabox
