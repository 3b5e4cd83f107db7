// A linear layer for one token (decode, M = 1) across the tiles: the output
// columns are split between the tiles; each tile streams its weight blocks
// from DRAM through two scratchpad buffers while the matrix unit works on the
// other, and the vector unit requantises block b while the matrix unit runs
// block b + 1 (docs/compiler.md, "Tiling and mapping").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hw/hw_config.h"
#include "lower/layout.h"
#include "lower/program_builder.h"

namespace clonesim::compiler {

struct DecodeLinearPlan {
  uint64_t K = 0, N = 0;
  bool int4 = false;
  std::vector<uint64_t> col0, cols;  // per tile: first column and column count (0 = tile unused)
  uint64_t nc = 0;                   // columns per block (the last block of a tile may have fewer)
  uint64_t buffer_bytes = 0;         // scratchpad bytes of one weight buffer (the largest block image)
  std::string why;                   // what was chosen and why, for the listing

  unsigned tiles_used() const;
  uint64_t blocks(unsigned tile) const { return cols[tile] == 0 ? 0 : (cols[tile] + nc - 1) / nc; }
  uint64_t block_cols(unsigned tile, uint64_t b) const;
  // Byte offset of (tile, block) in the DRAM weight image, and the image size.
  uint64_t image_offset(const hw::HwConfig& hw, unsigned tile, uint64_t b) const;
  uint64_t image_bytes(const hw::HwConfig& hw) const;
};

// Columns go to tiles in multiples of the vector lanes (N must be one);
// a block is at most `max_buffer` scratchpad bytes.  Throws clonesim::Error
// when the layer cannot be mapped (K > 4095, N not a multiple of the lanes,
// one block column not fitting the buffer).
DecodeLinearPlan plan_decode_linear(const hw::HwConfig& hw, uint64_t K, uint64_t N, bool int4, uint64_t max_buffer);

// The DRAM image of the weights (w: K x N row-major int8, int4 values in -8..7)
// in the plan's block order, and the per-column (multiplier, shift) table.
std::vector<uint8_t> decode_linear_weights(const hw::HwConfig& hw, const DecodeLinearPlan& p, const int8_t* w);
std::vector<uint8_t> requant_table(const std::vector<int32_t>& mult, const std::vector<int32_t>& shift);

// Addresses the layer uses: the same SRAM addresses on every tile.
struct DecodeLinearIO {
  uint64_t x_sp = 0;                  // the K int8 inputs, in every used tile's scratchpad
  uint64_t w_dram = 0, tab_dram = 0;  // decode_linear_weights / requant_table images
  uint64_t y_dram = 0;                // the N int8 outputs
  uint64_t wbuf[2] = {0, 0};          // scratchpad weight buffers (buffer_bytes each)
  uint64_t abuf[2] = {0, 0};          // accumulator result buffers (4 * nc each)
  uint64_t tbuf[2] = {0, 0};          // accumulator requant tables (8 * nc each)
  uint64_t y_sp = 0;                  // scratchpad outputs of the tile (max cols bytes)
  unsigned x_ready = 0;               // tile-local semaphore signalled once when x is in place (0: none)
  unsigned done = 0;                  // global semaphore signalled once when all of y is in DRAM
};

// Allocates the buffers of `p` in the arenas (weight buffers in different
// scratchpad banks when there are two) and fills the SRAM fields of `io`.
void place_decode_linear(const DecodeLinearPlan& p, SramArena& sp, SramArena& acc, DecodeLinearIO& io);

// Emits the layer.  Uses seven tile-local semaphores and one global one from
// `sems`; every semaphore it signals is consumed within the layer, except
// io.done (signalled once for the caller).
void emit_decode_linear(ProgramBuilder& b, const hw::HwConfig& hw, const DecodeLinearPlan& p,
                        const DecodeLinearIO& io, SemPool& sems, const std::string& name);

}  // namespace clonesim::compiler
