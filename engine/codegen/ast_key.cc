#include "engine/codegen/ast_key.h"

#include <cstdio>

namespace petabox {
namespace {

void AppendKey(const KRef& k, std::string& key) {
  char value[32];
  std::snprintf(value, sizeof(value), "%a", k->value);
  key += "(" + std::to_string(static_cast<int>(k->kind)) + " " + Name(k->op) + " " + Name(k->dtype) + " " +
         std::to_string(k->buf) + " " + value;
  if (k->kind == KKind::kLoad || k->kind == KKind::kConst) key += " " + k->st.ToString();
  for (const KRef& s : k->srcs) AppendKey(s, key);
  key += ")";
}

}  // namespace

std::string AstKey(const KernelAst& ast) {
  std::string key = ast.device + ShapeToString(ast.full_shape) + ast.out_st.ToString();
  for (bool r : ast.reduce_axes) key += r ? "r" : "g";
  for (DType d : ast.buf_dtypes) key += Name(d);
  AppendKey(ast.root, key);
  return key;
}

}  // namespace petabox
