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

}  // namespace clonesim::compiler
