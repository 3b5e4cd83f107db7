// A linear layer for one token (decode, M = 1) across the tiles: the output
// columns are split between the tiles; each tile streams its weight blocks
// from DRAM through two scratchpad buffers while the matrix unit works on the
// other, and the vector unit rescales block b while the matrix unit runs
// block b + 1 (docs/compiler.md, "Tiling and mapping").
//
// The rescaling follows the golden kernel of the layer's form
// (compiler/golden/kernels.h) instruction by instruction:
//   per channel, int8 out, no bias, b = 0   linear_per_channel: vrequant acc -> sp
//   per channel otherwise                   linear_per_channel_wide: vrequant acc -> acc
//                                           [vadd bias] [narrow: vmov acc -> sp, shift b]
//   group-wise                              linear_grouped: per K-group matmul, vmul by the
//                                           group's multipliers (shift a), vadd into T in
//                                           group order [vadd bias] [narrow]
// A T output (wide: residual units, logits) stays in the accumulator.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "golden/quant_model.h"
#include "hw/hw_config.h"
#include "lower/layout.h"
#include "lower/program_builder.h"

namespace clonesim::compiler {

// How a layer's int32 products become its output (golden::QLinear's form).
struct LinearForm {
  uint64_t group = 0;  // 0: one scale per output channel; else K rows per group (the last may be shorter)
  unsigned a = 0;      // group-wise: rounding shift of every group's vmul
  unsigned b = 0;      // fraction bits of T below the int8 output's LSB (narrowing shift)
  bool bias = false;   // an int32 bias in units of T, added before narrowing
  bool wide = false;   // the output is T itself (int32, accumulator), not int8
  // golden::linear_per_channel: one vrequant straight to int8.
  bool plain() const { return group == 0 && !bias && b == 0 && !wide; }
};

// The form of a quantized layer (group, shifts, bias, wide output).
LinearForm linear_form(const golden::QLinear& l);

// One unit of the weight stream: the K-group `group` (rows k0 .. k0+kn) of
// column block `block` (n columns from the tile's column c) of one tile.  A
// per-channel layer whose K does not fit one step has K chunks instead of
// groups (`group` numbers them): the vector unit adds their partial sums.
struct LinearStep {
  unsigned tile = 0;
  uint64_t block = 0, group = 0, groups = 1;  // groups: K-groups or K chunks of this block
  uint64_t k0 = 0, kn = 0;                     // weight rows
  uint64_t c = 0, n = 0;                       // first column within the tile's columns, column count
  uint64_t w_off = 0, w_bytes = 0;             // in the layer's weight image
  uint64_t t_off = 0, t_bytes = 0;             // in the layer's table image
};

struct DecodeLinearPlan {
  uint64_t K = 0, N = 0;
  bool int4 = false;
  LinearForm form;
  std::vector<uint64_t> col0, cols;  // per tile: first column and column count (0 = tile unused)
  uint64_t nc = 0;                   // columns per block (the last block of a tile may have fewer)
  uint64_t krows = 0;                // weight rows per step (a group, K, or a K chunk)
  uint64_t buffer_bytes = 0;         // scratchpad bytes of one weight buffer (the largest step's image)
  std::vector<LinearStep> steps;     // tile by tile, block by block, group by group (the image order)
  std::string why;                   // what was chosen and why, for the listing

  unsigned tiles_used() const;
  uint64_t most_cols() const;        // the largest column count of a tile
  uint64_t blocks(unsigned tile) const { return cols[tile] == 0 ? 0 : (cols[tile] + nc - 1) / nc; }
  uint64_t block_cols(unsigned tile, uint64_t b) const;
  uint64_t groups() const;           // K-groups of multipliers (1 per channel)
  uint64_t chunks() const;           // steps per block (K-groups, or K chunks per channel)
  // Byte offset of (tile, block) in the DRAM weight image, and the image size.
  uint64_t image_offset(const hw::HwConfig& hw, unsigned tile, uint64_t b) const;
  uint64_t image_bytes(const hw::HwConfig& hw) const;
  uint64_t table_bytes() const;      // of the table image (decode_linear_table)
  uint64_t max_step_table_bytes() const;
};

// Columns go to tiles in multiples of the vector lanes (N must be one);
// a step's weights are at most `max_buffer` scratchpad bytes and a block at
// most `max_cols` columns.  Per channel, a K beyond 4095 rows or beyond the
// buffer (for one lane group of columns) is split into chunks of a multiple
// of the array rows.  Throws clonesim::Error when the layer cannot be mapped
// (K beyond 131071, a group beyond 4095 rows, N not a multiple of the lanes,
// one step not fitting the buffer).
DecodeLinearPlan plan_decode_linear(const hw::HwConfig& hw, uint64_t K, uint64_t N, bool int4, uint64_t max_buffer,
                                    const LinearForm& form = {}, uint64_t max_cols = 4095);

// The DRAM image of the weights (w: K x N row-major int8, int4 values in -8..7)
// in the plan's step order: each step's K-group x block columns, tile-major.
std::vector<uint8_t> decode_linear_weights(const hw::HwConfig& hw, const DecodeLinearPlan& p, const int8_t* w);
// The per-column (multiplier, shift) table of a per-channel layer without bias,
// columns in order (the table image of a plain layer).
std::vector<uint8_t> requant_table(const std::vector<int32_t>& mult, const std::vector<int32_t>& shift);
// The table image of any form, in the plan's step order; per step:
//   per channel: n (multiplier, shift) int32 pairs [then n int32 biases]
//   group-wise:  the group's n int32 multipliers [then, on the last group, n biases]
// mult / shift / bias as golden::QLinear (grouped mult: G x N; shift empty).
std::vector<uint8_t> decode_linear_table(const DecodeLinearPlan& p, const std::vector<int32_t>& mult,
                                         const std::vector<int32_t>& shift, const std::vector<int32_t>& bias);

// The weight stream of a program: the scratchpad weight buffers, result and
// table buffers and the semaphores that pace them, shared by every decode
// linear layer so that one layer's first blocks load while the previous
// layer's last blocks are still in the matrix unit.  Step numbers run on
// across layers, per tile: step g uses buffers g % 2.
//   load W_g      waits sAf (g >= 2)          signals sW
//   load T_g      waits sTf (g >= 2)          signals sT
//   matmul g      waits sW [, x_ready]        signals sM
//   vector ops g  the first waits sM, sT; the last signals sAf, sTf
// The weight load of step g waits for step g - 2's last vector op, which
// itself waited for its matmul: so both the weight buffer and the result
// buffer of g % 2 are free, and a layer's first matmul is left a wait for its
// input.  The semaphores belong to the stream for the whole program (the
// last two steps' frees stay unconsumed when it halts).
struct WeightStream {
  uint64_t buffer_bytes = 0;          // of each scratchpad weight buffer
  uint64_t max_cols = 0;              // largest block (columns) the result/table buffers hold
  uint64_t table_bytes = 0;           // of each table buffer
  uint64_t wbuf[2] = {0, 0};          // scratchpad weight buffers
  uint64_t abuf[2] = {0, 0};          // accumulator result buffers (4 * max_cols each)
  uint64_t tbuf[2] = {0, 0};          // accumulator table buffers (with table_pairs: two steps' tables each)
  bool table_pairs = false;           // steps 2k, 2k+1 of a layer load their tables with one 2D load
  uint64_t table_half = 0;            // with table_pairs: the offset of an odd step's table in its buffer
  uint64_t tw = 0;                    // accumulator T of one block, for int8 outputs through T (0: none)
  uint64_t pbuf = 0;                  // accumulator partial sums of a block's K chunks (0: none)
  unsigned sW = 0, sT = 0, sM = 0, sAf = 0, sTf = 0;  // tile-local semaphores
  std::vector<uint64_t> next;         // per tile: the number of the next step
};

// Allocates the stream's buffers (weight buffers in the two emptiest
// scratchpad banks) and five tile-local semaphores.  table_bytes: of each
// table buffer (0: 8 * max_cols, a per-channel table); t_scratch: allocate
// `tw` for layers narrowing T to int8; k_partial: `pbuf` for layers in K chunks.
//
// table_pairs: the table buffers hold two steps' tables each, and two steps
// of one layer (an even step g and g + 1, with tables of one size) load
// theirs with one 2D load, halving the table transfers (every DMA transfer
// pays a DRAM latency).  Step g's table is in slot g % 4, so its load waits
// for `table free` of step g - 4 (g - 3 too for a pair) and the program ends
// with four of those signals unconsumed instead of two.
WeightStream make_weight_stream(const hw::HwConfig& hw, uint64_t buffer_bytes, uint64_t max_cols, SramArena& sp,
                                SramArena& acc, SemPool& sems, uint64_t table_bytes = 0, bool t_scratch = false,
                                bool k_partial = false, bool table_pairs = false);
// The accumulator address of step g's table.
uint64_t stream_table_addr(const WeightStream& ws, uint64_t g);

// Addresses of one layer: the same SRAM addresses on every tile.
struct DecodeLinearIO {
  uint64_t x_sp = 0;                  // the K int8 inputs, in every used tile's scratchpad
  uint64_t w_dram = 0, tab_dram = 0;  // decode_linear_weights / table images
  bool store = true;                  // store the outputs to y_dram (else they stay in SRAM)
  uint64_t y_dram = 0;                // the N outputs (int8, or int32 T when wide)
  uint64_t y_sp = 0;                  // int8 outputs of the tile (most_cols bytes)
  uint64_t y_acc = 0;                 // wide: T of the tile (4 * most_cols bytes)
  uint64_t add_acc = 0;               // wide, not 0: each block's T (in the stream's T scratch) is added
                                      // into these int32 instead (golden::residual_add, vadd; the tile's
                                      // columns of the residual stream), so no T of the tile is kept
  unsigned x_ready = 0;               // tile-local semaphore signalled once per used tile when x is in place (0: none)
  unsigned tile_done = 0;             // tile-local semaphore for the tile's output store (consumed here)
  unsigned chain = 0;                 // global semaphore chaining the tiles' stores (consumed here)
  unsigned done = 0;                  // global semaphore signalled once when all of y is in DRAM (0: none)
  size_t prefetched = 0;              // steps per tile whose loads emit_decode_linear_prefetch emitted
  bool join_by_controller = false;    // emit_joined_stores(..., by_controller)
};

// Emits one layer on the stream: the steps, then (io.store) per tile a
// one-element vmov after the last vector op that signals io.tile_done, and
// the tiles' output stores joined through io.chain (emit_joined_stores).
// Without io.store the outputs stay in y_sp / y_acc and the caller's next
// vector instructions on each tile follow the layer's (the vector unit is in
// order).
void emit_decode_linear(ProgramBuilder& b, const hw::HwConfig& hw, const DecodeLinearPlan& p,
                        const DecodeLinearIO& io, WeightStream& ws, const std::string& name);

// The weight and table loads of the layer's first `steps` steps on each tile
// (at most 2: later steps wait for frees of this layer's own steps), emitted
// ahead of the layer, e.g. before the loads of the kernel between it and the
// previous layer, which wait for data in DRAM and would hold them up in the
// load queue.  The previous layer must be emitted already (these loads wait
// for its last steps' frees).  Returns the count to put in io.prefetched.
size_t emit_decode_linear_prefetch(ProgramBuilder& b, const DecodeLinearPlan& p, const DecodeLinearIO& io,
                                   const WeightStream& ws, const std::string& name, size_t steps = 2);

// Steps without weights.  A vector kernel that reads a table per piece of
// columns (a norm's gamma, in pieces) rides the stream as steps of their own:
// step g loads its table into stream_table_addr(g), waiting (g >= 2) for both
// frees of step g - 2 (it has no weight load to take the other; with table
// pairs, `table free` of step g - 4), and signals sT; the
// kernel's first vector instruction of the step waits sT, its last signals
// both frees (emit_stream_vector).  The caller numbers the steps from
// ws.next[tile] and advances ws.next after the kernel.
Ins stream_table_load(const WeightStream& ws, unsigned tile, uint64_t g, uint64_t dram, uint64_t bytes);
// Emits the vector instructions of one table step: the first waits for its
// table, the last frees the step's buffers.
void emit_stream_vector(ProgramBuilder& b, const WeightStream& ws, std::vector<Ins> ops,
                        const std::vector<std::string>& notes);

// Stores of several tiles' outputs joined into one `done` signal.  Each store
// waits its tile's `tile_done`.  With two stores the second also waits for
// the first (one consumer of `chain`, so the signal cannot be taken by another
// queue); with more, each signals `chain` and control nops (consumed in
// program order by the one controller) count them, the last signalling
// `done`.  done = 0: nothing is signalled at the end.  by_controller: the nops
// count the stores whatever their number (a program whose other joins have
// more than two stores keeps `chain`'s one consumer, the controller).
void emit_joined_stores(ProgramBuilder& b, std::vector<Ins> stores, unsigned tile_done, unsigned chain, unsigned done,
                        const std::string& name, bool by_controller = false);

}  // namespace clonesim::compiler
