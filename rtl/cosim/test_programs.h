// Programs for the co-simulation regression, written for any design point
// (addresses and sizes follow its SRAM geometry and array size).
#pragma once

#include <cstdint>
#include <string>

#include "hw/hw_config.h"

namespace clonesim::cosim {

// A transformer layer in miniature on tile 0 (and a broadcast to every
// tile): RMSNorm, Q/K/V projections as tiled matmuls with requantisation,
// RoPE, a KV-cache append at the position in context register c1 (its byte
// count from a context register, cnt_alt), attention scores, softmax (max,
// subtract, exp LUT, sum, reciprocal, scale) and the weighted sum (its
// contraction depth from a context register), then the output store, and an FFN step of two matmuls larger
// than the array (K > R and N > C, int8 then int4 accumulating).
std::string transformer_layer(const hw::HwConfig& hw);

// DRAM-bound: long 1D and 2D loads and stores, strided rows that miss the
// row buffer, reads after writes.
std::string dram_bound(const hw::HwConfig& hw);

// Bank-conflict-heavy: vector operands sharing banks, matmul weights and
// activations in one bank, DMA transfers into banks the vector and matrix
// units are using (timing conflicts, no data races).
std::string bank_conflicts(const hw::HwConfig& hw);

// "transformer", "dram", "banks" or "random:SEED".  Throws on an unknown kind.
std::string generate(const hw::HwConfig& hw, const std::string& kind);

}  // namespace clonesim::cosim
