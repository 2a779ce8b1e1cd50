#include "engine/codegen/render/cstyle.h"

#include <cmath>
#include <cstdio>
#include <set>

namespace petabox {

std::string Format(std::string fmt, const std::vector<std::pair<std::string, std::string>>& values) {
  for (const auto& [key, value] : values) {
    std::string token = "{" + key + "}";
    for (size_t pos = fmt.find(token); pos != std::string::npos; pos = fmt.find(token, pos + value.size()))
      fmt.replace(pos, token.size(), value);
  }
  return fmt;
}

namespace {

class Renderer {
 public:
  Renderer(const LinearKernel& k, const Dialect& d) : k_(k), d_(d) {}
  std::string Run();

 private:
  const TypeSyntax& Types(DType t) const { return d_.types[static_cast<int>(t)]; }
  std::string TypeOf(const UOp& u);
  std::string Literal(DType dtype, double v) const;
  std::string Expr(int id, const UOp& u);
  void Line(const std::string& s) { body_ += std::string(2 * depth_, ' ') + s + "\n"; }

  const LinearKernel& k_;
  const Dialect& d_;
  std::vector<std::string> names_;
  std::set<std::string> vector_types_;
  std::string body_;
  std::string header_vectors_;  // typedefs of the vector types used
  int depth_ = 1;
};

std::string Renderer::TypeOf(const UOp& u) {
  std::string scalar = Types(u.dtype).compute;
  if (u.vcount == 1) return scalar;
  std::string vtype = Format(d_.vector_type, {{"scalar", scalar}, {"n", std::to_string(u.vcount)}});
  if (vector_types_.insert(vtype).second) {
    int item = scalar == "double" || scalar == "int64_t" ? 8 : 4;
    header_vectors_ += Format(d_.vector_typedef, {{"vtype", vtype}, {"scalar", scalar},
                                                  {"bytes", std::to_string(item * u.vcount)},
                                                  {"align", std::to_string(item)}});
  }
  return vtype;
}

std::string Renderer::Literal(DType dtype, double v) const {
  if (IsFloat(dtype)) {
    if (std::isnan(v)) return d_.nan;
    if (std::isinf(v)) return v > 0 ? d_.inf : "(-" + d_.inf + ")";
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%af", static_cast<float>(v));
    return v < 0 ? std::string("(") + buf + ")" : buf;
  }
  if (dtype == DType::kBool) return v != 0 ? "1" : "0";
  std::string s = std::to_string(static_cast<int64_t>(v));
  if (dtype == DType::kInt64) return "((int64_t)" + s + "LL)";
  return "((" + std::string(Types(dtype).compute) + ")" + s + ")";
}

std::string Renderer::Expr(int id, const UOp& u) {
  std::vector<std::pair<std::string, std::string>> ops;
  for (size_t i = 0; i < u.srcs.size(); ++i) ops.emplace_back(std::to_string(i), names_[u.srcs[i]]);
  switch (u.kind) {
    case UOpKind::kConst: return Literal(u.dtype, u.value);
    case UOpKind::kIndex: return u.index;
    case UOpKind::kLoad: {
      std::string load;
      if (u.vcount > 1) {
        load = Format(d_.vector_load, {{"vtype", TypeOf(u)}, {"buf", std::to_string(u.buf)}, {"index", u.index}});
      } else {
        load = Format(Types(u.dtype).load, {{"0", "data" + std::to_string(u.buf) + "[" + u.index + "]"}});
      }
      if (u.valid.empty()) return load;
      std::string zero = u.vcount > 1 ? "((" + TypeOf(u) + "){0})" : Literal(u.dtype, 0);
      return "(" + u.valid + " ? " + load + " : " + zero + ")";
    }
    case UOpKind::kAlu: {
      ops.emplace_back("T", Types(u.dtype).compute);
      return Format(d_.alu[static_cast<int>(u.op)], ops);
    }
    case UOpKind::kGather: {
      std::string elems;
      for (size_t i = 0; i < u.srcs.size(); ++i) elems += (i ? "," : "") + names_[u.srcs[i]];
      return Format(d_.gather, {{"vtype", TypeOf(u)}, {"elems", elems}});
    }
    case UOpKind::kLane: return Format(d_.lane, {{"src", names_[u.srcs[0]]}, {"lane", std::to_string(u.lane)}});
    case UOpKind::kSharedLoad: return u.var + "[" + u.index + "]";
    default: return "";
  }
}

std::string Renderer::Run() {
  names_.resize(k_.uops.size());
  for (size_t i = 0; i < k_.uops.size(); ++i) {
    const UOp& u = k_.uops[i];
    int id = static_cast<int>(i);
    switch (u.kind) {
      case UOpKind::kLoopBegin:
        Line(Format(u.parallel ? d_.parallel_loop : d_.serial_loop,
                    {{"var", u.var}, {"begin", std::to_string(u.begin)}, {"end", std::to_string(u.end)}}));
        ++depth_;
        break;
      case UOpKind::kLoopEnd:
        --depth_;
        Line(u.parallel ? d_.parallel_close : "}");
        break;
      case UOpKind::kDefine:
        Line(Format(d_.define, {{"var", u.var}, {"value", u.index}}));
        break;
      case UOpKind::kShared:
        Line(Format(d_.shared, {{"type", Types(u.dtype).compute}, {"var", u.var}, {"size", std::to_string(u.end)}}));
        break;
      case UOpKind::kSharedStore:
        Line(u.var + "[" + u.index + "] = " + names_[u.srcs[0]] + ";");
        break;
      case UOpKind::kBarrier:
        Line(d_.barrier);
        break;
      case UOpKind::kIf:
        Line("if (" + u.index + ") {");
        ++depth_;
        break;
      case UOpKind::kStore: {
        std::string v = Format(Types(u.dtype).store, {{"0", names_[u.srcs[0]]}});
        Line("data0[" + u.index + "] = " + v + ";");
        break;
      }
      case UOpKind::kAccDefine: {
        names_[i] = "acc" + std::to_string(id);
        std::string init = Literal(u.dtype, u.value);
        if (u.vcount > 1) init = "((" + TypeOf(u) + "){0}) + " + init;
        Line(TypeOf(u) + " " + names_[i] + " = " + init + ";");
        break;
      }
      case UOpKind::kAccUpdate: {
        const std::string& acc = names_[u.srcs[0]];
        std::string v = Format(d_.alu[static_cast<int>(u.op)], {{"0", acc}, {"1", names_[u.srcs[1]]}});
        Line(acc + " = " + v + ";");
        break;
      }
      default: {
        names_[i] = "v" + std::to_string(id);
        std::string e = Expr(id, u);
        Line(TypeOf(u) + " " + names_[i] + " = " + e + ";");
      }
    }
  }
  std::string params, decls;
  for (size_t b = 0; b < k_.buf_dtypes.size(); ++b) {
    std::vector<std::pair<std::string, std::string>> v{
        {"i", std::to_string(b)}, {"const", b == 0 ? "" : "const "}, {"type", Types(k_.buf_dtypes[b]).storage}};
    if (!d_.buffer_param.empty()) params += (b ? ", " : "") + Format(d_.buffer_param, v);
    if (!d_.buffer_decl.empty()) decls += Format(d_.buffer_decl, v) + "\n";
  }
  std::string src = d_.prelude + header_vectors_;
  src += Format(d_.signature, {{"name", k_.name}, {"params", params}}) + " {\n" + decls;
  return src + body_ + "}\n";
}

}  // namespace

std::string Render(const LinearKernel& kernel, const Dialect& dialect) { return Renderer(kernel, dialect).Run(); }

}  // namespace petabox
