// The embedding lookup of one token into the residual stream, as
// golden::widen (and, with learned positions, the position row widened and
// added as GoldenModel does): the token's int8 row and its multiplier are
// loaded from tables in DRAM at addresses offset by context registers, so one
// program serves every token.
//   x = sat32(rshr(e * mult[token], shift))       vmul e (sp), scalar mult (acc) -> acc
//   [p = sat32(rshr(pe * pmult[pos], pos_shift))  vmul pe (sp), scalar pmult (acc) -> acc
//    x = sat32(x + p)                             vadd x, p]
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hw/hw_config.h"
#include "lower/layout.h"
#include "lower/program_builder.h"

namespace clonesim::compiler {

struct EmbeddingIO {
  uint64_t d = 0;                   // row length (hidden)
  uint64_t rows_dram = 0;           // vocab x d int8 rows
  uint64_t mult_dram = 0;           // vocab int32 multipliers
  unsigned row_reg = 0;             // context register holding token * d (0: rows_dram is the row itself)
  unsigned mult_reg = 0;            // context register holding token * 4 (0: mult_dram is the multiplier itself)
  unsigned shift = 0;
  bool learned = false;             // learned positions
  uint64_t pos_row_dram = 0, pos_mult_dram = 0;  // the position's row and multiplier
  unsigned pos_shift = 0;
};

struct EmbeddingBuffers {
  uint64_t e = 0, pe = 0;           // scratchpad rows
  uint64_t m = 0, pm = 0;           // accumulator scalars
  uint64_t p = 0;                   // accumulator: the widened position row
};
EmbeddingBuffers place_embedding(const hw::HwConfig& hw, uint64_t d, bool learned, SramArena& sp, SramArena& acc,
                                 const std::string& kernel);

// The loads (on `tile`, which may be isa::kAllTiles: a broadcast; each signals
// `in`, consumed by the vector unit here) and the widening into x (acc, d int32).
void emit_embedding(ProgramBuilder& b, unsigned tile, const EmbeddingIO& io, const EmbeddingBuffers& buf,
                    uint64_t x_acc, unsigned in, const std::string& name);

}  // namespace clonesim::compiler
