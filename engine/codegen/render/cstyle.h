// The one C-style renderer: LinearKernel + Dialect -> kernel source text.
#pragma once

#include <string>

#include "engine/codegen/render/dialect.h"
#include "engine/codegen/uops.h"

namespace petabox {

std::string Render(const LinearKernel& kernel, const Dialect& dialect);
// Replaces each "{key}" in fmt by its value (other braces are left alone).
std::string Format(std::string fmt, const std::vector<std::pair<std::string, std::string>>& values);

}  // namespace petabox
