// Norms of the residual stream (int32, accumulator) to int8 (scratchpad) on
// one tile, instruction by instruction as golden::rmsnorm, golden::layernorm
// and golden::requant8 (compiler/golden/kernels.h; docs/compiler.md,
// "Numerics").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "golden/kernels.h"
#include "golden/quant_model.h"
#include "hw/hw_config.h"
#include "lower/layout.h"
#include "lower/program_builder.h"

namespace clonesim::compiler {

// Accumulator buffers of a norm of d elements.
struct NormBuffers {
  uint64_t d = 0;
  bool layernorm = false;
  uint64_t c = 0;       // LayerNorm: the centred row (d int32)
  uint64_t sq = 0;      // the squares (d int32)
  uint64_t u = 0;       // x / rms (LayerNorm: then the gamma product and beta, in place): the squares' buffer
  uint64_t params = 0;  // gamma (d int32) [then beta (d int32)]: the norm_params_image
  uint64_t scal = 0;    // three scalars, `slot` bytes apart (each a vector operand: lane-aligned)
  uint64_t slot = 0;
};
// Allocates the buffers; an Error names `kernel` and the buffer that does not fit.
NormBuffers place_norm(const hw::HwConfig& hw, uint64_t d, bool layernorm, SramArena& acc, const std::string& kernel);

// The parameters a norm loads into `params`: gamma, then (LayerNorm) beta, int32 little-endian.
uint64_t norm_params_bytes(uint64_t d, bool layernorm);
std::vector<uint8_t> norm_params_image(const golden::QNorm& n);

struct NormSync {
  unsigned wait_x = 0;       // tile-local, before the first instruction (the row is in place)
  unsigned wait_params = 0;  // tile-local, before the first use of gamma (the parameters are loaded)
  unsigned signal = 0;       // tile-local, signalled by the last instruction (the int8 row is in place)
};

//   vmul x.x (shift sq_shift) -> vredsum (shift sum_shift) -> vadd imm eps ->
//   vrsqrt (shift 30) -> vmul x by the scalar (shift u_shift) -> vmul by gamma -> sp
void emit_rmsnorm(ProgramBuilder& b, unsigned tile, const golden::RmsNormParams& p, uint64_t x_acc, uint64_t y_sp,
                  const NormBuffers& buf, const NormSync& sync, const std::string& name);
//   vredsum x -> vmul imm 1/d -> vsub the scalar mean -> RMSNorm's steps on the
//   centred row, the gamma product to acc -> vadd beta -> vmov acc -> sp (shift 8)
void emit_layernorm(ProgramBuilder& b, unsigned tile, const golden::LayerNormParams& p, uint64_t x_acc, uint64_t y_sp,
                    const NormBuffers& buf, const NormSync& sync, const std::string& name);
// Either, as the QNorm says.
void emit_norm(ProgramBuilder& b, unsigned tile, const golden::QNorm& n, uint64_t x_acc, uint64_t y_sp,
               const NormBuffers& buf, const NormSync& sync, const std::string& name);
// No final norm: vrequant bmode=0 (imm m, shift s) acc -> sp.  (sync.wait_params unused.)
void emit_requant8(ProgramBuilder& b, unsigned tile, uint64_t d, int32_t m, unsigned s, uint64_t x_acc, uint64_t y_sp,
                   const NormSync& sync, const std::string& name);

// ---- A norm of a row split across tiles (the decode program) -----------------
// Tile t holds columns [c0_t, c0_t + n_t) of the int32 row (its slice of the
// residual stream) and computes them in pieces of `piece` columns.  The sums a
// norm needs (LayerNorm: of x, then of the centred squares; RMSNorm: of the
// squares) are reduced per tile as an exact pair (H, L) with
//   sum over the slice of v = H * 2^s + L,   H = sum floor(v / 2^s),  L = sum (v mod 2^s)
// (s the golden kernel's sum shift: v = H-part * 2^s + L-part element by
// element, by vsub imm 2^(s-1) with shift s, vshl and vsub).  The tiles' pairs
// meet (through DRAM, see the decode program) and every tile finishes
//   S = sat32(sum_t H_t + rshr(sum_t L_t, s))   vredsum H; vredsum L (shift s); vadd
// which equals golden's sat32(rshr(sum v, s)): sum v = (sum H) 2^s + sum L,
// and rshr(a 2^s + l, s) = a + rshr(l, s).  For the squares (v >= 0) this holds
// for every row (a saturated partial H only occurs when the total saturates
// too); for LayerNorm's sum of x it holds whenever no partial H leaves int32,
// which the plan guarantees for rows within its range (|x| <= x_max).  With
// s = 0 there is no L.  Then each tile normalises its own columns, piece by
// piece, reading gamma (and beta) of the piece from a table (the weight
// stream's table buffer) into the int8 output at its columns.
struct SlicedNormBuffers {
  uint64_t d = 0;          // row length
  bool layernorm = false;
  uint64_t piece = 0;      // columns per piece (a multiple of the lanes)
  unsigned tiles = 1;      // tiles holding columns (the partial sums that meet)
  uint64_t a = 0, b = 0;   // accumulator: two pieces of int32 (4 * piece bytes each)
  uint64_t scal = 0, slot = 0;  // lane-aligned scalar slots, `slot` bytes apart (below)
  // scalar slots: own H, own L (adjacent: one 2D store), piece H, piece L,
  // S, the rounded low part, 1/rms, the mean; then the tiles' H (gather_h)
  // and L (gather_l), tiles int32 each (with one tile: own H and own L)
  uint64_t own_h() const { return scal; }
  uint64_t own_l() const { return scal + slot; }
  uint64_t piece_h() const { return scal + 2 * slot; }
  uint64_t piece_l() const { return scal + 3 * slot; }
  uint64_t sum() const { return scal + 4 * slot; }
  uint64_t low() const { return scal + 5 * slot; }
  uint64_t rs() const { return scal + 6 * slot; }
  uint64_t mean() const { return scal + 7 * slot; }
  uint64_t gather_h = 0, gather_l = 0;
  uint64_t gather_stride() const { return gather_l - gather_h; }
};
// Allocates the buffers; an Error names `kernel` and the buffer that does not
// fit.  a_at / b_at (not 0): the two pieces use these buffers of another
// kernel (at least 4 * piece bytes each, lane-aligned, in one bank).
SlicedNormBuffers place_sliced_norm(const hw::HwConfig& hw, uint64_t d, bool layernorm, uint64_t piece, unsigned tiles,
                                    SramArena& acc, const std::string& kernel, uint64_t a_at = 0, uint64_t b_at = 0);

// Table bytes of the pieces of columns [c, c + n): gamma (RMSNorm), or gamma
// then beta (LayerNorm), int32.
uint64_t sliced_norm_table_bytes(bool layernorm, uint64_t n);
// The table image of one piece: gamma[c .. c+n) [then beta[c .. c+n)], int32 little-endian.
std::vector<uint8_t> sliced_norm_table(const golden::QNorm& q, uint64_t c, uint64_t n);

// The sums of one tile's slice (n columns of x at x_acc), piece by piece, into
// own H / own L.  kind: the sum of x (LayerNorm's first pass, shift
// ln.sum_shift); the squares of x (RMSNorm, rms.sq_shift, rms.sum_shift); the
// squares of x - mean (LayerNorm's second pass; the mean in its slot).  The
// first instruction waits `wait`, the last signals `signal`.
enum class NormSum { X, Squares, CentredSquares };
unsigned norm_sum_shift(const golden::QNorm& q, NormSum kind);
void emit_norm_partial_sums(ProgramBuilder& b, unsigned tile, const golden::QNorm& q, NormSum kind, uint64_t x_acc,
                            uint64_t n, const SlicedNormBuffers& buf, unsigned wait, unsigned signal,
                            const std::string& name);
// Every tile: the tiles' pairs (in gather H / gather L) to the finished sum:
// LayerNorm's first pass -> the mean; the squares -> + eps -> 1/rms.  The
// first instruction waits `wait` (twice when wait2).
void emit_norm_combine(ProgramBuilder& b, unsigned tile, const golden::QNorm& q, NormSum kind,
                       const SlicedNormBuffers& buf, unsigned wait, const std::string& name);
// The vector instructions normalising one piece (m columns of x at x_acc) into
// y_sp (int8) with its gamma [beta] at `table` (acc): golden::rmsnorm's or
// golden::layernorm's last steps.
std::vector<Ins> norm_piece_ops(unsigned tile, const golden::QNorm& q, uint64_t x_acc, uint64_t m, uint64_t y_sp,
                                uint64_t table, const SlicedNormBuffers& buf);

}  // namespace clonesim::compiler
