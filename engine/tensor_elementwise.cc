// Elementwise ops: primitives with broadcasting and promotion, and the math composed from them.
#include <cmath>

#include "engine/tensor.h"
#include "engine/tensor_internal.h"

namespace petabox {
namespace {

constexpr double kLog2E = 1.4426950408889634;
constexpr double kLn2 = 0.6931471805599453;

}  // namespace

Tensor Broadcast(const Tensor& t, const Shape& shape, const char* op) {
  if (!t.ok() || t.shape() == shape) return t;
  Shape padded(shape.size() - t.shape().size(), 1);
  padded.insert(padded.end(), t.shape().begin(), t.shape().end());
  return t.Reshape(padded).Expand(shape);
}

Tensor Tensor::Scalar(double v) const {
  if (!ok()) return *this;
  DType dt = dtype();
  if (!IsFloat(dt) && v != std::trunc(v)) dt = DType::kFloat32;
  if (dt == DType::kBool && v != 0 && v != 1) dt = DType::kInt32;
  return MakeOp(Op::kConst, dt, {}, device(), {}, v);
}

Tensor Tensor::Unary(Op op) const {
  if (!ok()) return *this;
  if (op == Op::kExp2 || op == Op::kLog2 || op == Op::kSin || op == Op::kSqrt || op == Op::kRecip) {
    if (!IsFloat(dtype())) return Cast(DType::kFloat32).Unary(op);
  }
  return MakeOp(op, dtype(), shape(), device(), {node_});
}

Tensor Tensor::Binary(Op op, const Tensor& o, const char* name) const {
  if (Status s = FirstError({this, &o}); !s.ok()) return Error(s);
  if (device() != o.device()) {
    return Error(InvalidArgument(std::string(name) + ": tensors on different devices " + device() + " and " +
                                 o.device() + "; move one with To()"));
  }
  auto shape = BroadcastShapes(this->shape(), o.shape(), name);
  if (!shape.ok()) return Error(shape.status());
  // A Python-style scalar constant adopts the other operand's dtype when that loses nothing.
  DType dt = Promote(dtype(), o.dtype());
  bool weak_a = node_->op == Op::kConst, weak_b = o.node_->op == Op::kConst;
  if (weak_b && !weak_a && (IsFloat(dtype()) || !IsFloat(o.dtype()))) dt = dtype();
  if (weak_a && !weak_b && (IsFloat(o.dtype()) || !IsFloat(dtype()))) dt = o.dtype();
  Tensor a = Broadcast(dtype() == dt ? *this : Cast(dt), *shape, name);
  Tensor b = Broadcast(o.dtype() == dt ? o : o.Cast(dt), *shape, name);
  DType out = IsComparison(op) ? DType::kBool : dt;
  return MakeOp(op, out, *shape, device(), {a.node_, b.node_});
}

Tensor Tensor::Cast(DType dtype) const {
  if (!ok() || dtype == this->dtype()) return *this;
  return MakeOp(Op::kCast, dtype, shape(), device(), {node_}, dtype);
}

Tensor Tensor::Add(const Tensor& o) const { return Binary(Op::kAdd, o, "add"); }
Tensor Tensor::Mul(const Tensor& o) const { return Binary(Op::kMul, o, "mul"); }
Tensor Tensor::Sub(const Tensor& o) const {
  if (!o.ok()) return o;
  return Add(o.Neg());
}
Tensor Tensor::Div(const Tensor& o) const {
  if (Status s = FirstError({this, &o}); !s.ok()) return Error(s);
  if (!IsFloat(dtype()) && !IsFloat(o.dtype())) return Binary(Op::kIdiv, o, "div");
  return Mul(o.Reciprocal());
}
Tensor Tensor::Maximum(const Tensor& o) const { return Binary(Op::kMax, o, "maximum"); }
Tensor Tensor::Minimum(const Tensor& o) const { return Neg().Maximum(o.Neg()).Neg(); }

Tensor Tensor::Neg() const {
  if (dtype() == DType::kBool) return LogicalNot();
  return Unary(Op::kNeg);
}
Tensor Tensor::Reciprocal() const { return Unary(Op::kRecip); }
Tensor Tensor::Exp2() const { return Unary(Op::kExp2); }
Tensor Tensor::Log2() const { return Unary(Op::kLog2); }
Tensor Tensor::Sqrt() const { return Unary(Op::kSqrt); }
Tensor Tensor::Sin() const { return Unary(Op::kSin); }
Tensor Tensor::Exp() const { return (IsFloat(dtype()) ? *this : Cast(DType::kFloat32)).Mul(kLog2E).Exp2(); }
Tensor Tensor::Log() const { return Log2().Mul(kLn2); }
Tensor Tensor::Rsqrt() const { return Sqrt().Reciprocal(); }
Tensor Tensor::Cos() const { return (IsFloat(dtype()) ? *this : Cast(DType::kFloat32)).Add(M_PI / 2).Sin(); }
Tensor Tensor::Abs() const { return Maximum(Neg()); }
Tensor Tensor::Relu() const { return Maximum(Scalar(0)); }
Tensor Tensor::Sigmoid() const {
  Tensor x = IsFloat(dtype()) ? *this : Cast(DType::kFloat32);
  return x.Neg().Exp().Add(1).Reciprocal();
}
Tensor Tensor::Tanh() const { return Mul(2).Sigmoid().Mul(2).Sub(1); }
Tensor Tensor::Gelu() const {
  Tensor x = IsFloat(dtype()) ? *this : Cast(DType::kFloat32);
  Tensor inner = x.Add(x.Mul(x).Mul(x).Mul(0.044715)).Mul(std::sqrt(2.0 / M_PI));
  return x.Mul(0.5).Mul(inner.Tanh().Add(1));
}

Tensor Tensor::Pow(double v) const {
  if (v == 2) return Mul(*this);
  if (v == 1) return *this;
  if (v == 0.5) return Sqrt();
  if (v == -1) return Reciprocal();
  return Pow(Scalar(v));
}

Tensor Tensor::Pow(const Tensor& o) const {
  if (Status s = FirstError({this, &o}); !s.ok()) return Error(s);
  Tensor base = IsFloat(dtype()) ? *this : Cast(DType::kFloat32);
  Tensor e = o.dtype() == base.dtype() ? o : o.Cast(base.dtype());
  // |x|^y, then the sign: negative bases give -r for odd integer y, NaN for non-integer y.
  Tensor r = base.Abs().Log2().Mul(e).Exp2();
  Tensor e_int = e.Cast(DType::kInt32);
  Tensor is_int = e_int.Cast(base.dtype()).Eq(e);
  Tensor odd = e_int.Binary(Op::kMod, e_int.Scalar(2), "pow").Ne(e_int.Scalar(0));
  Tensor neg_r = Where(odd, r.Neg(), r);
  Tensor nan = base.Scalar(NAN);
  Tensor neg_case = Where(is_int, neg_r, nan);
  return Where(base.Lt(base.Scalar(0)), neg_case, r);
}

Tensor Tensor::Lt(const Tensor& o) const { return Binary(Op::kCmpLt, o, "lt"); }
Tensor Tensor::Gt(const Tensor& o) const { return o.Binary(Op::kCmpLt, *this, "gt"); }
Tensor Tensor::Le(const Tensor& o) const { return Gt(o).LogicalNot(); }
Tensor Tensor::Ge(const Tensor& o) const { return Lt(o).LogicalNot(); }
Tensor Tensor::Ne(const Tensor& o) const { return Binary(Op::kCmpNe, o, "ne"); }
Tensor Tensor::Eq(const Tensor& o) const { return Ne(o).LogicalNot(); }
Tensor Tensor::LogicalNot() const {
  Tensor b = Cast(DType::kBool);
  if (!b.ok()) return b;
  return b.Binary(Op::kCmpNe, MakeOp(Op::kConst, DType::kBool, {}, device(), {}, 1.0), "not");
}

Tensor Tensor::Where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  if (Status s = FirstError({&cond, &a, &b}); !s.ok()) return Error(s);
  auto ab = BroadcastShapes(a.shape(), b.shape(), "where");
  if (!ab.ok()) return Error(ab.status());
  auto shape = BroadcastShapes(cond.shape(), *ab, "where");
  if (!shape.ok()) return Error(shape.status());
  if (cond.device() != a.device() || a.device() != b.device())
    return Error(InvalidArgument("where: tensors on different devices"));
  DType dt = Promote(a.dtype(), b.dtype());
  if (a.node_->op == Op::kConst && b.node_->op != Op::kConst && (IsFloat(b.dtype()) || !IsFloat(a.dtype()))) dt = b.dtype();
  if (b.node_->op == Op::kConst && a.node_->op != Op::kConst && (IsFloat(a.dtype()) || !IsFloat(b.dtype()))) dt = a.dtype();
  Tensor c = Broadcast(cond.Cast(DType::kBool), *shape, "where");
  Tensor x = Broadcast(a.Cast(dt), *shape, "where");
  Tensor y = Broadcast(b.Cast(dt), *shape, "where");
  return MakeOp(Op::kWhere, dt, *shape, a.device(), {c.node_, x.node_, y.node_});
}

Tensor Tensor::Clip(double lo, double hi) const {
  if (lo > hi) return Error(InvalidArgument("clip: lower bound " + std::to_string(lo) + " above upper bound " +
                                            std::to_string(hi)));
  return Maximum(Scalar(lo)).Minimum(Scalar(hi));
}

}  // namespace petabox
