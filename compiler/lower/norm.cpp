#include "lower/norm.h"

#include <algorithm>
#include <cmath>

#include "common/error.h"
#include "common/strf.h"
#include "isa/isa.h"

namespace clonesim::compiler {

using isa::Field;
using isa::Opcode;
namespace {
constexpr int SP = isa::kScratchpad, ACC = isa::kAccumulator;

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
  b.emit(vec(Opcode::VMul, t, buf.sq, ACC, x, ACC, d, x, ACC, isa::kBVector).set(Field::Shift, p.sq_shift)
             .wait(wait_first),
         name + ": x.x");
  b.emit(vec(Opcode::VRedSum, t, S, ACC, buf.sq, ACC, d).set(Field::Shift, p.sum_shift), "sum");
  b.emit(vimm(Opcode::VAdd, t, S, S, 1, p.eps), "+ eps");
  b.emit(vec(Opcode::VRsqrt, t, R, ACC, S, ACC, 1).set(Field::Shift, p.rs_shift), "1 / rms");
  b.emit(vec(Opcode::VMul, t, buf.u, ACC, x, ACC, d, R, ACC, isa::kBScalar).set(Field::Shift, p.u_shift),
         "x / rms");
}
}  // namespace

void emit_rmsnorm(ProgramBuilder& b, unsigned tile, const golden::RmsNormParams& p, uint64_t x_acc, uint64_t y_sp,
                  const NormBuffers& buf, const NormSync& sync, const std::string& name) {
  if (buf.layernorm || p.gamma.size() != buf.d) throw Error(name + ": RMSNorm buffers do not match the parameters");
  const uint64_t d = buf.d;
  emit_rms_core(b, tile, p, x_acc, d, buf, sync.wait_x, name + " (rmsnorm)");
  b.emit(vec(Opcode::VMul, tile, y_sp, SP, buf.u, ACC, d, buf.params, ACC, isa::kBVector).set(Field::Shift, p.out_shift)
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
  b.emit(vec(Opcode::VSub, tile, buf.c, ACC, x_acc, ACC, d, MU, ACC, isa::kBScalar), "centre");
  emit_rms_core(b, tile, p.rms, buf.c, d, buf, 0, name + " centred row");
  b.emit(vec(Opcode::VMul, tile, buf.u, ACC, buf.u, ACC, d, buf.params, ACC, isa::kBVector)
             .set(Field::Shift, p.rms.out_shift)
             .wait(sync.wait_params),
         "gamma");
  b.emit(vec(Opcode::VAdd, tile, buf.u, ACC, buf.u, ACC, d, buf.params + 4 * d, ACC, isa::kBVector), "+ beta");
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

namespace clonesim::compiler {

namespace {
using ull = unsigned long long;
constexpr int kSP = isa::kScratchpad, kACC = isa::kAccumulator;

Ins vv(Opcode op, unsigned t, uint64_t dst, int dspace, uint64_t a, uint64_t len, uint64_t bb, int bmode) {
  return vec(op, t, dst, dspace, a, kACC, len)
      .set(Field::B, int64_t(bb)).set(Field::BSpace, kACC).set(Field::BMode, bmode);
}
Ins vi(Opcode op, unsigned t, uint64_t dst, uint64_t a, uint64_t len, int64_t imm) {
  return vec(op, t, dst, kACC, a, kACC, len).set(Field::BMode, isa::kBImm).set(Field::Imm, imm);
}
}  // namespace

SlicedNormBuffers place_sliced_norm(const hw::HwConfig& hw, uint64_t d, bool layernorm, uint64_t piece, unsigned tiles,
                                    SramArena& acc, const std::string& kernel, uint64_t a_at, uint64_t b_at) {
  SlicedNormBuffers b;
  b.d = d;
  b.layernorm = layernorm;
  b.piece = piece;
  b.tiles = std::max(1u, tiles);
  b.slot = std::min<uint64_t>(uint64_t(hw.vxu.lanes) * 4, hw.accumulator.line_bytes());
  if (piece == 0 || piece % hw.vxu.lanes) throw Error(kernel + ": pieces must be a multiple of the lanes");
  b.a = a_at ? a_at : acc.alloc(4 * piece, 0, kernel + ": a piece of the row (squares, then the normalised piece)");
  b.b = b_at ? b_at : acc.alloc(4 * piece, 0, kernel + ": a piece's high parts");
  const uint64_t g = b.tiles > 1 ? (4 * b.tiles + b.slot - 1) / b.slot * b.slot : 0;
  b.scal = acc.alloc(8 * b.slot + 2 * g, b.slot, kernel + ": scalars and the tiles' partial sums");
  b.gather_h = b.tiles > 1 ? b.scal + 8 * b.slot : b.own_h();
  b.gather_l = b.tiles > 1 ? b.gather_h + g : b.own_l();
  return b;
}

uint64_t sliced_norm_table_bytes(bool layernorm, uint64_t n) { return (layernorm ? 8 : 4) * n; }

std::vector<uint8_t> sliced_norm_table(const golden::QNorm& q, uint64_t c, uint64_t n) {
  std::vector<uint8_t> out;
  const bool ln = q.kind == NormKind::LayerNorm;
  const std::vector<int32_t>& g = ln ? q.ln.rms.gamma : q.rms.gamma;
  for (uint64_t i = c; i < c + n; ++i) put32(out, g.at(i));
  if (ln)
    for (uint64_t i = c; i < c + n; ++i) put32(out, q.ln.beta.at(i));
  return out;
}

unsigned norm_sum_shift(const golden::QNorm& q, NormSum kind) {
  if (kind == NormSum::X) return q.ln.sum_shift;
  return q.kind == NormKind::LayerNorm ? q.ln.rms.sum_shift : q.rms.sum_shift;
}

void emit_norm_partial_sums(ProgramBuilder& b, unsigned t, const golden::QNorm& q, NormSum kind, uint64_t x_acc,
                            uint64_t n, const SlicedNormBuffers& buf, unsigned wait, unsigned signal,
                            const std::string& name) {
  const bool ln = q.kind == NormKind::LayerNorm;
  if ((kind != NormSum::Squares) != ln) throw Error(name + ": the sum does not match the norm");
  const unsigned s = norm_sum_shift(q, kind);
  const unsigned sq = ln ? q.ln.rms.sq_shift : q.rms.sq_shift;
  // the low parts of a slice sum below 2^31 (each below 2^s)
  if (s > 0 && (s >= 31 || double(n) * std::ldexp(1.0, int(s)) >= 2147483648.0))
    throw Error(strf("%s: %llu columns with sum shift %u: the low parts' sum would not fit int32", name.c_str(),
                     (ull)n, s));
  const char* what = kind == NormSum::X ? "sum x" : (kind == NormSum::Squares ? "sum x.x" : "sum c.c");
  std::vector<Ins> ops;
  std::vector<std::string> notes;
  auto add = [&](const Ins& i, const std::string& note) {
    ops.push_back(i);
    notes.push_back(note);
  };
  for (uint64_t c = 0; c < n; c += buf.piece) {
    const uint64_t m = std::min(buf.piece, n - c), x = x_acc + 4 * c;
    const bool first = c == 0;
    uint64_t v = x;  // the values summed
    if (kind == NormSum::CentredSquares) {
      add(vv(Opcode::VSub, t, buf.a, kACC, x, m, buf.mean(), isa::kBScalar), strf("%s: c = x - mean", what));
      add(vv(Opcode::VMul, t, buf.a, kACC, buf.a, m, buf.a, isa::kBVector).set(Field::Shift, sq), "c.c");
      v = buf.a;
    } else if (kind == NormSum::Squares) {
      add(vv(Opcode::VMul, t, buf.a, kACC, x, m, x, isa::kBVector).set(Field::Shift, sq), strf("%s: x.x", what));
      v = buf.a;
    }
    const uint64_t dh = first ? buf.own_h() : buf.piece_h(), dl = first ? buf.own_l() : buf.piece_l();
    if (s == 0) {
      add(vec(Opcode::VRedSum, t, dh, kACC, v, kACC, m), strf("%s columns %llu..: H", what, (ull)c));
    } else {
      add(vi(Opcode::VSub, t, buf.b, v, m, int64_t(1) << (s - 1)).set(Field::Shift, s),
          strf("%s columns %llu..: high parts floor(v / 2^%u)", what, (ull)c, s));
      add(vec(Opcode::VRedSum, t, dh, kACC, buf.b, kACC, m), "H");
      add(vec(Opcode::VShl, t, buf.b, kACC, buf.b, kACC, m).set(Field::Shift, s), "high parts x 2^s");
      add(vv(Opcode::VSub, t, buf.a, kACC, v, m, buf.b, isa::kBVector), "low parts");
      add(vec(Opcode::VRedSum, t, dl, kACC, buf.a, kACC, m), "L");
    }
    if (!first) {
      add(vv(Opcode::VAdd, t, buf.own_h(), kACC, buf.own_h(), 1, buf.piece_h(), isa::kBVector), "H += piece");
      if (s) add(vv(Opcode::VAdd, t, buf.own_l(), kACC, buf.own_l(), 1, buf.piece_l(), isa::kBVector), "L += piece");
    }
  }
  ops.front().wait(wait);
  ops.back().signal(signal);
  for (size_t i = 0; i < ops.size(); ++i) b.emit(ops[i], i == 0 ? name + ": " + notes[i] : notes[i]);
}

void emit_norm_combine(ProgramBuilder& b, unsigned t, const golden::QNorm& q, NormSum kind,
                       const SlicedNormBuffers& buf, unsigned wait, const std::string& name) {
  const unsigned s = norm_sum_shift(q, kind);
  const uint64_t S = buf.sum();
  b.emit(vec(Opcode::VRedSum, t, S, kACC, buf.gather_h, kACC, buf.tiles).wait(wait),
         strf("%s: the tiles' H", name.c_str()));
  if (s) {
    b.emit(vec(Opcode::VRedSum, t, buf.low(), kACC, buf.gather_l, kACC, buf.tiles).set(Field::Shift, s),
           strf("the tiles' L, rounded by 2^%u", s));
    b.emit(vv(Opcode::VAdd, t, S, kACC, S, 1, buf.low(), isa::kBVector), "S = H + rshr(L)");
  }
  if (kind == NormSum::X) {
    b.emit(vi(Opcode::VMul, t, buf.mean(), S, 1, q.ln.inv_d).set(Field::Shift, q.ln.inv_d_shift), "mean = S / d");
    return;
  }
  const golden::RmsNormParams& p = q.kind == NormKind::LayerNorm ? q.ln.rms : q.rms;
  b.emit(vi(Opcode::VAdd, t, S, S, 1, p.eps), "+ eps");
  b.emit(vec(Opcode::VRsqrt, t, buf.rs(), kACC, S, kACC, 1).set(Field::Shift, p.rs_shift), "1 / rms");
}

std::vector<Ins> norm_piece_ops(unsigned t, const golden::QNorm& q, uint64_t x, uint64_t m, uint64_t y_sp,
                                uint64_t table, const SlicedNormBuffers& buf) {
  std::vector<Ins> ops;
  if (q.kind == NormKind::LayerNorm) {
    const golden::LayerNormParams& p = q.ln;
    ops.push_back(vv(Opcode::VSub, t, buf.a, kACC, x, m, buf.mean(), isa::kBScalar));
    ops.push_back(vv(Opcode::VMul, t, buf.a, kACC, buf.a, m, buf.rs(), isa::kBScalar).set(Field::Shift, p.rms.u_shift));
    ops.push_back(vv(Opcode::VMul, t, buf.a, kACC, buf.a, m, table, isa::kBVector).set(Field::Shift, p.rms.out_shift));
    ops.push_back(vv(Opcode::VAdd, t, buf.a, kACC, buf.a, m, table + 4 * m, isa::kBVector));
    ops.push_back(vec(Opcode::VMov, t, y_sp, kSP, buf.a, kACC, m).set(Field::Shift, p.beta_shift));
  } else {
    const golden::RmsNormParams& p = q.rms;
    ops.push_back(vv(Opcode::VMul, t, buf.a, kACC, x, m, buf.rs(), isa::kBScalar).set(Field::Shift, p.u_shift));
    ops.push_back(vv(Opcode::VMul, t, y_sp, kSP, buf.a, m, table, isa::kBVector).set(Field::Shift, p.out_shift));
  }
  return ops;
}

}  // namespace clonesim::compiler
