// The residual add of a sublayer's output T (int32, residual units) into the
// residual stream, on one tile's columns: golden::residual_add,
//   r = sat32(r + t)                                   vadd r, t (acc, acc) -> acc
#pragma once

#include <cstdint>
#include <string>

#include "lower/program_builder.h"

namespace clonesim::compiler {

void emit_residual_add(ProgramBuilder& b, unsigned tile, uint64_t r_acc, uint64_t t_acc, uint64_t n, unsigned wait,
                       unsigned signal, const std::string& name);

}  // namespace clonesim::compiler
