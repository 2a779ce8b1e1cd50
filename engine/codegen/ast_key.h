// A structural key of a kernel AST: equal keys lower to the same code on the same device.
// Used to find compiled programs (engine/realize.cc) and searched layouts (opt/beam_cache.h).
#pragma once

#include <string>

#include "engine/schedule/kernel_ast.h"

namespace petabox {

// The key: device, shape, output view, reduce axes, buffer dtypes and every node of the
// AST with its view. Deterministic across processes (doubles printed exactly, as %a).
std::string AstKey(const KernelAst& ast);

}  // namespace petabox
