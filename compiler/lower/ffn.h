// The FFN's activation between its linear layers, on one tile's columns
// (docs/compiler.md, "Numerics"):
//   gated:  a = LUT[gate]  (int16 entries into the accumulator)   vlut gate (sp) -> acc     golden::lut_wide
//           y = sat8(rshr(a * up, P))                             vmul a (acc), up (sp) -> sp golden::mul_wide
//   plain:  y = sat8(LUT[x])                                      vlut x (sp) -> sp          golden::lut
// The table is loaded into a LUT with lutld from the scratchpad.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "lower/program_builder.h"

namespace clonesim::compiler {

// 256 int16 entries, little-endian: the scratchpad image lutld reads.
std::vector<uint8_t> lut_image(const std::vector<int16_t>& table);

// lutld of the 512-byte table at table_sp into LUT `lut`.
void emit_lut_load(ProgramBuilder& b, unsigned tile, uint64_t table_sp, unsigned lut, unsigned wait,
                   const std::string& name);
// The gated product of n columns: gate_sp, up_sp (int8) -> y_sp (int8), through a_acc (n int32).
void emit_gated_product(ProgramBuilder& b, unsigned tile, uint64_t n, uint64_t gate_sp, uint64_t up_sp,
                        uint64_t a_acc, uint64_t y_sp, unsigned lut, unsigned shift, unsigned wait, unsigned signal,
                        const std::string& name);
// The plain activation of n columns: x_sp -> y_sp (int8).
void emit_lut_activation(ProgramBuilder& b, unsigned tile, uint64_t n, uint64_t x_sp, uint64_t y_sp, unsigned lut,
                         unsigned wait, unsigned signal, const std::string& name);

}  // namespace clonesim::compiler
