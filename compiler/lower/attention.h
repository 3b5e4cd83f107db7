// Attention of one token (decode) on one tile: RoPE of q and k, the KV-cache
// append, scores, softmax with deferred normalisation, and the value product,
// with the integer kernels of compiler/golden/kernels.h (rope, attention_row)
// step by step.  The KV cache streams through two scratchpad buffers in blocks
// of positions, so any position up to the cache's capacity fits the tile; the
// scores of a block are kept as three int8 digit planes when a head has more
// than one block (docs/compiler.md, "Decode attention").  The KV position p
// comes from context register c4 (kPosReg) at run time: one program serves
// every position with the same number of KV blocks (the compile-time `pos`
// picks them), the rows of the last block, the sums' lengths and the DRAM
// addresses of the append and the RoPE row taken from context registers.
#pragma once

#include <cstdint>
#include <string>

#include "hw/hw_config.h"
#include "lower/layout.h"
#include "lower/program_builder.h"

namespace clonesim::compiler {

// The context register that holds the token's KV position p (set by the host
// or a ctx.set before the attention).  The attention sets c1..c3 and c5..c7
// itself (rows of the last KV block, its key and value bytes, p + 1, the
// append offsets, the RoPE row offset): they are scratch from its first
// instruction on.
constexpr unsigned kPosReg = 4;

struct DecodeAttentionShape {
  uint64_t q_heads = 0, kv_heads = 0, hd = 0;  // hd: head dim (rotary over all of it), a multiple of the array width
  uint64_t max_pos = 0;                        // KV-cache capacity (positions)
  uint64_t pos = 0;                            // the largest position p served (attends to 0..p): any p
                                               // with as many KV blocks runs the same code
  unsigned d_shift = 0, recip_shift = 0;       // golden::SoftmaxParams
  unsigned lut = 0;                            // LUT id for the exp table
  uint64_t block = 0;                          // positions per KV block (0: the largest the SRAM budget allows)
};

// DRAM layout of one layer's KV cache:
//   K: [kv_head][max_pos][hd] int8 (one row per position)
//   V: [kv_head][hd / C][max_pos][C] int8 (column blocks of the array width C:
//      block j of positions 0..n-1 is the tile-major n x C weight image)
uint64_t k_cache_bytes(const DecodeAttentionShape& s);
uint64_t v_cache_bytes(const DecodeAttentionShape& s);
uint64_t v_cache_offset(const hw::HwConfig& hw, const DecodeAttentionShape& s, uint64_t kv_head, uint64_t pos,
                        uint64_t dim);

struct DecodeAttentionIO {
  uint64_t q_dram = 0, k_dram = 0, v_dram = 0;  // this token's projections (int8)
  uint64_t cos_dram = 0, sin_dram = 0;          // Q14 int32 tables of one head (hd each), one row per position
  uint64_t rope_first = 0;                      //   from this position on (row p - rope_first is read)
  uint64_t exp_dram = 0;                        // 256 int16 entries
  uint64_t kc_dram = 0, vc_dram = 0;            // the layer's KV cache
  uint64_t out_dram = 0;                        // q_heads * hd int8
  unsigned in_ready = 0;                        // global semaphore: the projections are in DRAM (consumed here)
  unsigned tile_done = 0;                       // tile-local: the output is complete (signalled by the vector
                                                // unit, consumed by the output store; the same one as the
                                                // linear layers', see docs/compiler.md "Semaphores")
  unsigned done = 0;                            // global semaphore signalled when out is in DRAM
  unsigned chain = 0;                           // global: chains the tiles' output stores (several tiles)
  bool join_by_controller = false;              // emit_joined_stores(..., by_controller)
};

// SRAM buffers of the attention on one tile.
struct DecodeAttentionBuffers {
  uint64_t q = 0, k = 0, v = 0, r = 0, qr = 0, y = 0, e = 0, d = 0, lut = 0;  // scratchpad
  uint64_t kv[2] = {0, 0};            // scratchpad: the KV block buffers (block * hd bytes each)
  uint64_t planes[3] = {0, 0, 0};     // scratchpad: a head's scores as int8 digits (0: every head is one block)
  uint64_t cos = 0, sin = 0, c = 0, t = 0, o = 0, scal = 0;          // accumulator
  uint64_t ring[2] = {0, 0};          // accumulator: the scores of a block (4 * block bytes each)
  uint64_t x1 = 0, x2 = 0;            // accumulator: digit scratch (c and t of RoPE share them)
  uint64_t x_bytes = 0;               // of x1 and x2 each
  uint64_t slot = 64;                 // bytes between the scalars at scal
  uint64_t block = 0;                 // positions per KV block
  uint64_t positions = 0;             // the most positions (pos + 1) the buffers hold
};
// `s.pos` is the largest position the buffers must serve.  The positions
// with `nb` KV blocks are (nb - 1) * block .. nb * block - 1.
DecodeAttentionBuffers place_decode_attention(const hw::HwConfig& hw, const DecodeAttentionShape& s, SramArena& sp,
                                              SramArena& acc);

// Eight tile-local semaphores (`o` is `sc`) of the attention (balanced within the layer, so
// every layer reuses them; each has its consumers in one unit).
struct AttentionSems {
  unsigned in = 0;       // loads -> vector: the attention's inputs (in order: one load queue)
  unsigned kv = 0;       // load -> matrix: a KV block is in its buffer
  unsigned kn = 0;       // vector -> store: k after RoPE (and v) ready to append
  unsigned sc = 0;       // matrix -> vector: a block's scores
  unsigned sc_free = 0;  // vector -> matrix: a score buffer is read
  unsigned e = 0;        // vector -> matrix: the probabilities of a head
  unsigned o = 0;        // matrix -> vector: the value product of a head (the same as sc: in order with it)
  unsigned free = 0;     // matrix -> load: a KV block buffer is read
  unsigned app = 0;      // store -> load: the new k, v rows are in the cache (the last block may be read)
};
AttentionSems make_attention_sems(SemPool& sems);

// On one tile.
void emit_decode_attention(ProgramBuilder& b, const hw::HwConfig& hw, const DecodeAttentionShape& s,
                           const DecodeAttentionIO& io, const DecodeAttentionBuffers& buf, const AttentionSems& sem,
                           unsigned tile, const std::string& name);
// On tiles 0 .. tiles-1: tile t takes whole KV heads (as even a share as
// possible) with their query heads; the inputs come to every tile with
// broadcast loads (a tile without heads takes their signals), each tile
// appends its KV heads' rows and stores its heads' output, the stores joined
// into io.done through io.chain.  The tiles' instructions are interleaved
// block by block so that they run side by side.
void emit_decode_attention_tiles(ProgramBuilder& b, const hw::HwConfig& hw, const DecodeAttentionShape& s,
                                 const DecodeAttentionIO& io, const DecodeAttentionBuffers& buf,
                                 const AttentionSems& sem, unsigned tiles, const std::string& name);

}  // namespace clonesim::compiler
