#include "lower/norm.h"

#include <algorithm>

#include "common/error.h"
#include "common/strf.h"
#include "isa/isa.h"

namespace clonesim::compiler {

using isa::Field;
using isa::Opcode;
namespace {
constexpr int SP = isa::kScratchpad, ACC = isa::kAccumulator;

void put32(std::vector<uint8_t>& out, int32_t v) {
  for (int k = 0; k < 4; ++k) out.push_back(uint8_t(uint32_t(v) >> (8 * k)));
}

Ins vb(Opcode op, unsigned t, uint64_t dst, int dspace, uint64_t a, int aspace, uint64_t len, uint64_t bb, int bspace,
       int bmode) {
  return vec(op, t, dst, dspace, a, aspace, len)
      .set(Field::B, int64_t(bb)).set(Field::BSpace, bspace).set(Field::BMode, bmode);
}
Ins vimm(Opcode op, unsigned t, uint64_t dst, uint64_t a, uint64_t len, int64_t imm) {
  return vec(op, t, dst, ACC, a, ACC, len).set(Field::BMode, isa::kBImm).set(Field::Imm, imm);
}
}  // namespace

NormBuffers place_norm(const hw::HwConfig& hw, uint64_t d, bool layernorm, SramArena& acc, const std::string& kernel) {
  NormBuffers b;
  b.d = d;
  b.layernorm = layernorm;
  b.slot = std::min<uint64_t>(uint64_t(hw.vxu.lanes) * 4, hw.accumulator.line_bytes());
  if (layernorm) b.c = acc.alloc(4 * d, 0, kernel + ": centred row");
  b.sq = acc.alloc(4 * d, 0, kernel + ": squares, then the normalised row");
  b.u = b.sq;  // the squares are summed before x / rms is written
  b.params = acc.alloc(norm_params_bytes(d, layernorm), 0, kernel + (layernorm ? ": gamma and beta" : ": gamma"));
  b.scal = acc.alloc(3 * b.slot, b.slot, kernel + ": scalars");
  return b;
}

uint64_t norm_params_bytes(uint64_t d, bool layernorm) { return (layernorm ? 8 : 4) * d; }

std::vector<uint8_t> norm_params_image(const golden::QNorm& n) {
  std::vector<uint8_t> out;
  const bool ln = n.kind == NormKind::LayerNorm;
  for (int32_t g : ln ? n.ln.rms.gamma : n.rms.gamma) put32(out, g);
  if (ln)
    for (int32_t v : n.ln.beta) put32(out, v);
  return out;
}

namespace {
// RMSNorm's steps on the int32 row at `x` (acc) up to u; returns nothing.
void emit_rms_core(ProgramBuilder& b, unsigned t, const golden::RmsNormParams& p, uint64_t x, uint64_t d,
                   const NormBuffers& buf, unsigned wait_first, const std::string& name) {
  const uint64_t S = buf.scal, R = buf.scal + 2 * buf.slot;
  b.emit(vb(Opcode::VMul, t, buf.sq, ACC, x, ACC, d, x, ACC, isa::kBVector).set(Field::Shift, p.sq_shift)
             .wait(wait_first),
         name + ": x.x");
  b.emit(vec(Opcode::VRedSum, t, S, ACC, buf.sq, ACC, d).set(Field::Shift, p.sum_shift), "sum");
  b.emit(vimm(Opcode::VAdd, t, S, S, 1, p.eps), "+ eps");
  b.emit(vec(Opcode::VRsqrt, t, R, ACC, S, ACC, 1).set(Field::Shift, p.rs_shift), "1 / rms");
  b.emit(vb(Opcode::VMul, t, buf.u, ACC, x, ACC, d, R, ACC, isa::kBScalar).set(Field::Shift, p.u_shift),
         "x / rms");
}
}  // namespace

void emit_rmsnorm(ProgramBuilder& b, unsigned tile, const golden::RmsNormParams& p, uint64_t x_acc, uint64_t y_sp,
                  const NormBuffers& buf, const NormSync& sync, const std::string& name) {
  if (buf.layernorm || p.gamma.size() != buf.d) throw Error(name + ": RMSNorm buffers do not match the parameters");
  const uint64_t d = buf.d;
  emit_rms_core(b, tile, p, x_acc, d, buf, sync.wait_x, name + " (rmsnorm)");
  b.emit(vb(Opcode::VMul, tile, y_sp, SP, buf.u, ACC, d, buf.params, ACC, isa::kBVector).set(Field::Shift, p.out_shift)
             .wait(sync.wait_params)
             .signal(sync.signal),
         "gamma, to int8");
}

void emit_layernorm(ProgramBuilder& b, unsigned tile, const golden::LayerNormParams& p, uint64_t x_acc, uint64_t y_sp,
                    const NormBuffers& buf, const NormSync& sync, const std::string& name) {
  if (!buf.layernorm || p.rms.gamma.size() != buf.d) throw Error(name + ": LayerNorm buffers do not match the parameters");
  const uint64_t d = buf.d, S1 = buf.scal, MU = buf.scal + buf.slot;
  b.emit(vec(Opcode::VRedSum, tile, S1, ACC, x_acc, ACC, d).set(Field::Shift, p.sum_shift).wait(sync.wait_x),
         name + " (layernorm): sum x");
  b.emit(vimm(Opcode::VMul, tile, MU, S1, 1, p.inv_d).set(Field::Shift, p.inv_d_shift), "mean = sum / d");
  b.emit(vb(Opcode::VSub, tile, buf.c, ACC, x_acc, ACC, d, MU, ACC, isa::kBScalar), "centre");
  emit_rms_core(b, tile, p.rms, buf.c, d, buf, 0, name + " centred row");
  b.emit(vb(Opcode::VMul, tile, buf.u, ACC, buf.u, ACC, d, buf.params, ACC, isa::kBVector)
             .set(Field::Shift, p.rms.out_shift)
             .wait(sync.wait_params),
         "gamma");
  b.emit(vb(Opcode::VAdd, tile, buf.u, ACC, buf.u, ACC, d, buf.params + 4 * d, ACC, isa::kBVector), "+ beta");
  b.emit(vec(Opcode::VMov, tile, y_sp, SP, buf.u, ACC, d).set(Field::Shift, p.beta_shift).signal(sync.signal),
         "to int8");
}

void emit_norm(ProgramBuilder& b, unsigned tile, const golden::QNorm& n, uint64_t x_acc, uint64_t y_sp,
               const NormBuffers& buf, const NormSync& sync, const std::string& name) {
  if (n.kind == NormKind::LayerNorm) emit_layernorm(b, tile, n.ln, x_acc, y_sp, buf, sync, name);
  else emit_rmsnorm(b, tile, n.rms, x_acc, y_sp, buf, sync, name);
}

void emit_requant8(ProgramBuilder& b, unsigned tile, uint64_t d, int32_t m, unsigned s, uint64_t x_acc, uint64_t y_sp,
                   const NormSync& sync, const std::string& name) {
  b.emit(vec(Opcode::VRequant, tile, y_sp, SP, x_acc, ACC, d)
             .set(Field::Imm, m)
             .set(Field::Shift, s)
             .wait(sync.wait_x)
             .signal(sync.signal),
         name + ": requant to int8");
}

}  // namespace clonesim::compiler
