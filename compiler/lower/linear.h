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

// The weight stream of a program: the scratchpad weight buffers, result and
// table buffers and the semaphores that pace them, shared by every decode
// linear layer so that one layer's first blocks load while the previous
// layer's last blocks are still in the matrix unit.  Block numbers run on
// across layers, per tile: block g uses buffers g % 2.
//   load W_g   waits sAf (g >= 2)          signals sW
//   load T_g   waits sTf (g >= 2)          signals sT
//   matmul g   waits sW [, x_ready]        signals sM
//   vrequant g waits sM, sT                signals sAf, sTf
// The weight load of block g waits for block g - 2's vrequant, which itself
// waited for its matmul: so both the weight buffer and the result buffer of
// g % 2 are free, and a layer's first matmul is left a wait for its input.
// The semaphores belong to the stream for the whole program (the last two
// blocks' frees stay unconsumed when it halts).
struct WeightStream {
  uint64_t buffer_bytes = 0;          // of each scratchpad weight buffer
  uint64_t max_cols = 0;              // largest block (columns) the result/table buffers hold
  uint64_t wbuf[2] = {0, 0};          // scratchpad weight buffers
  uint64_t abuf[2] = {0, 0};          // accumulator result buffers (4 * max_cols each)
  uint64_t tbuf[2] = {0, 0};          // accumulator requant tables (8 * max_cols each)
  unsigned sW = 0, sT = 0, sM = 0, sAf = 0, sTf = 0;  // tile-local semaphores
  std::vector<uint64_t> next;         // per tile: the number of the next block
};

// Allocates the stream's buffers (weight buffers in the two emptiest
// scratchpad banks) and five tile-local semaphores.
WeightStream make_weight_stream(const hw::HwConfig& hw, uint64_t buffer_bytes, uint64_t max_cols, SramArena& sp,
                                SramArena& acc, SemPool& sems);

// Addresses of one layer: the same SRAM addresses on every tile.
struct DecodeLinearIO {
  uint64_t x_sp = 0;                  // the K int8 inputs, in every used tile's scratchpad
  uint64_t w_dram = 0, tab_dram = 0;  // decode_linear_weights / requant_table images
  uint64_t y_dram = 0;                // the N int8 outputs
  uint64_t y_sp = 0;                  // scratchpad outputs of the tile (max cols bytes)
  unsigned x_ready = 0;               // tile-local semaphore signalled once per tile when x is in place (0: none)
  unsigned tile_done = 0;             // tile-local semaphore for the tile's output store (consumed here)
  unsigned chain = 0;                 // global semaphore chaining the tiles' stores (consumed here)
  unsigned done = 0;                  // global semaphore signalled once when all of y is in DRAM
};

// Emits one layer on the stream: the blocks, then per tile a one-element
// vmov after the last vrequant that signals io.tile_done, and the tiles'
// output stores joined through io.chain (two tiles: the second store waits
// for the first; more: control nops), signalling io.done once for the caller.
void emit_decode_linear(ProgramBuilder& b, const hw::HwConfig& hw, const DecodeLinearPlan& p,
                        const DecodeLinearIO& io, WeightStream& ws, const std::string& name);

}  // namespace clonesim::compiler
