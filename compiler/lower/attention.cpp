#include "lower/attention.h"

#include <algorithm>

#include "common/error.h"
#include "common/strf.h"
#include "isa/isa.h"

namespace clonesim::compiler {

using isa::Field;
using isa::Opcode;
constexpr int SP = isa::kScratchpad, ACC = isa::kAccumulator;

uint64_t k_cache_bytes(const DecodeAttentionShape& s) { return s.kv_heads * s.max_pos * s.hd; }
uint64_t v_cache_bytes(const DecodeAttentionShape& s) { return s.kv_heads * s.max_pos * s.hd; }

uint64_t v_cache_offset(const hw::HwConfig& hw, const DecodeAttentionShape& s, uint64_t kv_head, uint64_t pos,
                        uint64_t dim) {
  const uint64_t C = hw.mxu.cols;
  return ((kv_head * (s.hd / C) + dim / C) * s.max_pos + pos) * C + dim % C;
}

DecodeAttentionBuffers place_decode_attention(const hw::HwConfig& hw, const DecodeAttentionShape& s, SramArena& sp,
                                              SramArena& acc) {
  const uint64_t C = hw.mxu.cols, n = s.pos + 1, qw = s.q_heads * s.hd, kw = s.kv_heads * s.hd;
  if (s.hd % C || s.hd % 2 || s.hd % hw.vxu.lanes)
    throw Error(strf("attention: head dim %llu must be a multiple of the array width %llu and the %u lanes",
                     (unsigned long long)s.hd, (unsigned long long)C, hw.vxu.lanes));
  DecodeAttentionBuffers b;
  b.q = sp.alloc(qw, 0, "attention: q");
  b.k = sp.alloc(kw, 0, "attention: k");
  b.v = sp.alloc(kw, 0, "attention: v");
  b.r = sp.alloc(qw, 0, "attention: rotated half");
  b.qr = sp.alloc(qw, 0, "attention: q after RoPE");
  b.y = sp.alloc(qw, 0, "attention: attention output");
  b.e = sp.alloc(n, 0, "attention: probabilities");
  b.d = sp.alloc(n, 0, "attention: score differences");
  b.lut = sp.alloc(512, 0, "attention: exp table");
  b.kreg_stride = (n * s.hd + sp.line_bytes() - 1) / sp.line_bytes() * sp.line_bytes();
  b.vreg_stride = b.kreg_stride;
  b.kreg = sp.alloc(s.kv_heads * b.kreg_stride, 0, "attention: keys");
  b.vreg = sp.alloc(s.kv_heads * b.vreg_stride, 0, "attention: values");
  // RoPE runs head by head: the tables of one head, the products of one head
  b.cos = acc.alloc(4 * s.hd, 0, "attention: cos");
  b.sin = acc.alloc(4 * s.hd, 0, "attention: sin");
  b.c = acc.alloc(4 * s.hd, 0, "attention: x cos");
  b.t = acc.alloc(4 * s.hd, 0, "attention: rot(x) sin");
  b.s = acc.alloc(4 * n, 0, "attention: scores");
  b.o = acc.alloc(4 * s.hd, 0, "attention: value product");
  b.slot = std::min<uint64_t>(uint64_t(hw.vxu.lanes) * 4, hw.accumulator.line_bytes());
  b.scal = acc.alloc(3 * b.slot, b.slot, "attention: max, sum, reciprocal (each a vector operand: lane-aligned)");
  return b;
}

AttentionSems make_attention_sems(SemPool& sems) {
  AttentionSems a;
  a.in = sems.local("attention inputs");
  a.kv = sems.local("KV cache loaded");
  a.kn = sems.local("new k, v in place");
  a.sc = sems.local("scores");
  a.sc_free = sems.local("scores read");
  a.e = sems.local("probabilities");
  a.o = sems.local("value product");
  a.o_free = sems.local("value product read");
  return a;
}

namespace {

// The RoPE steps of golden::rope on `len` elements (heads of hd) from `x`
// (sp) to `dst` (sp, may be x): the rotation of the whole row, then head by
// head the products with the one head's tables (element-wise, so the same
// bits as the row at once).  wait_a/wait_b: before the first step (x, cos);
// wait_c: before the first use of sin.
void emit_rope(ProgramBuilder& b, unsigned tile, uint64_t x, uint64_t dst, uint64_t len, uint64_t hd,
               const DecodeAttentionBuffers& buf, unsigned wait_a, unsigned wait_b, unsigned wait_c,
               const std::string& what) {
  for (uint64_t h = 0; h * hd < len; ++h) {
    b.emit(vec(Opcode::VMul, tile, buf.c, ACC, x + h * hd, SP, hd)
               .set(Field::B, int64_t(buf.cos)).set(Field::BSpace, ACC).set(Field::BMode, isa::kBVector)
               .wait(h == 0 ? wait_a : 0).wait(h == 0 ? wait_b : 0),
           h == 0 ? what + " RoPE: x cos" : strf("head %llu", (unsigned long long)h));
    if (h == 0)
      b.emit(vec(Opcode::VRot, tile, buf.r, SP, x, SP, len).set(Field::Imm, int64_t(hd / 2)), "rotate half");
    b.emit(vec(Opcode::VMul, tile, buf.t, ACC, buf.r + h * hd, SP, hd)
               .set(Field::B, int64_t(buf.sin)).set(Field::BSpace, ACC).set(Field::BMode, isa::kBVector)
               .wait(h == 0 ? wait_c : 0),
           "rot(x) sin");
    b.emit(vec(Opcode::VAdd, tile, dst + h * hd, SP, buf.c, ACC, hd)
               .set(Field::B, int64_t(buf.t)).set(Field::BSpace, ACC).set(Field::BMode, isa::kBVector)
               .set(Field::Shift, 14),
           "sum, Q14 to int8");
  }
}

}  // namespace

void emit_decode_attention(ProgramBuilder& b, const hw::HwConfig& hw, const DecodeAttentionShape& s,
                           const DecodeAttentionIO& io, const DecodeAttentionBuffers& buf, const AttentionSems& sem,
                           unsigned t, const std::string& name) {
  const uint64_t C = hw.mxu.cols, n = s.pos + 1, p = s.pos, qw = s.q_heads * s.hd, kw = s.kv_heads * s.hd;
  const uint64_t group = s.q_heads / s.kv_heads, blocks = s.hd / C;
  b.section(strf("%s: decode attention at position %llu, %llu query heads over %llu KV heads of %llu", name.c_str(),
                 (unsigned long long)p, (unsigned long long)s.q_heads, (unsigned long long)s.kv_heads,
                 (unsigned long long)s.hd));
  // ---- inputs, in the order the vector unit consumes them (one queue: they
  // complete in this order, so the k-th signal of `in` means the first k loaded)
  b.emit(load(t, io.exp_dram, buf.lut, SP, 512).wait(io.in_ready).signal(sem.in), "exp table");
  b.emit(load(t, io.q_dram, buf.q, SP, qw).signal(sem.in), "q");
  b.emit(load(t, io.cos_dram, buf.cos, ACC, 4 * s.hd).signal(sem.in), "cos of position p (one head)");
  b.emit(load(t, io.sin_dram, buf.sin, ACC, 4 * s.hd).signal(sem.in), "sin of position p (one head)");
  b.emit(load(t, io.k_dram, buf.k, SP, kw).signal(sem.in), "k");
  b.emit(load(t, io.v_dram, buf.v, SP, kw).signal(sem.in), "v");
  // the cached positions 0..p-1 (the last of these loads signals `kv` once)
  if (p > 0) {
    for (uint64_t kh = 0; kh < s.kv_heads; ++kh) {
      b.emit(load(t, io.kc_dram + kh * s.max_pos * s.hd, buf.kreg + kh * buf.kreg_stride, SP, p * s.hd),
             strf("keys of KV head %llu, positions 0..%llu", (unsigned long long)kh, (unsigned long long)(p - 1)));
      const bool last = kh + 1 == s.kv_heads;
      b.emit(load(t, io.vc_dram + v_cache_offset(hw, s, kh, 0, 0), buf.vreg + kh * buf.vreg_stride, SP, p * C,
                  blocks, s.max_pos * C, n * C)
                 .signal(last ? sem.kv : 0),
             "values (column blocks)");
    }
  }
  // ---- vector unit: exp table, RoPE of q, RoPE of k into the key rows, v into
  // the value blocks
  b.emit(vec(Opcode::LutLoad, t, 0, SP, buf.lut, SP, 256).set(Field::Imm, s.lut).wait(sem.in), "exp table to LUT");
  // `in` counts the loads above in order: exp table, q, cos, sin, k, v
  emit_rope(b, t, buf.q, buf.qr, qw, s.hd, buf, sem.in, sem.in, sem.in, "q");
  emit_rope(b, t, buf.k, buf.k, kw, s.hd, buf, sem.in, 0, 0, "k");  // in place: vrot writes r, not k
  for (uint64_t kh = 0; kh < s.kv_heads; ++kh)
    b.emit(vec(Opcode::VMov, t, buf.kreg + kh * buf.kreg_stride + p * s.hd, SP, buf.k + kh * s.hd, SP, s.hd),
           "new key row");
  for (uint64_t kh = 0; kh < s.kv_heads; ++kh)
    for (uint64_t j = 0; j < blocks; ++j) {
      const bool first = kh == 0 && j == 0, last = kh + 1 == s.kv_heads && j + 1 == blocks;
      Ins v = vec(Opcode::VMov, t, buf.vreg + kh * buf.vreg_stride + j * n * C + p * C, SP, buf.v + kh * s.hd + j * C,
                  SP, C)
                  .wait(first ? sem.in : 0);
      if (last) v.signal(sem.kn).signal(sem.kn);
      b.emit(v, "new value chunk");
    }
  // ---- KV append to DRAM: the new rows (k after RoPE), after the vector unit
  b.emit(store(t, io.kc_dram + p * s.hd, buf.kreg + p * s.hd, SP, s.hd, s.kv_heads, s.max_pos * s.hd,
               buf.kreg_stride)
             .wait(sem.kn),
         "append keys");
  b.emit(store(t, io.vc_dram + v_cache_offset(hw, s, 0, p, 0), buf.v, SP, C, s.kv_heads * blocks, s.max_pos * C, C),
         "append values");
  // ---- per query head: scores, softmax, value product, output
  const uint64_t mx = buf.scal, sum = buf.scal + buf.slot, inv = buf.scal + 2 * buf.slot;
  for (uint64_t h = 0; h < s.q_heads; ++h) {
    const uint64_t kh = h / group;
    Ins sc = matmul(t, buf.kreg + kh * buf.kreg_stride, buf.qr + h * s.hd, buf.s, n, s.hd, 1, false, false, s.hd, 4)
                 .signal(sem.sc);
    if (h == 0) sc.wait(p > 0 ? sem.kv : 0).wait(sem.kn);
    else sc.wait(sem.sc_free);
    b.emit(sc, strf("head %llu scores", (unsigned long long)h));
    b.emit(vec(Opcode::VRedMax, t, mx, ACC, buf.s, ACC, n).wait(sem.sc), "max");
    b.emit(vec(Opcode::VSub, t, buf.d, SP, buf.s, ACC, n)
               .set(Field::B, int64_t(mx)).set(Field::BSpace, ACC).set(Field::BMode, isa::kBScalar)
               .set(Field::Shift, s.d_shift)
               .signal(h + 1 < s.q_heads ? sem.sc_free : 0),
           "score - max, to LUT steps");
    b.emit(vec(Opcode::VLut, t, buf.e, SP, buf.d, SP, n).set(Field::Imm, s.lut).signal(sem.e), "exp");
    b.emit(vec(Opcode::VRedSum, t, sum, ACC, buf.e, SP, n), "sum");
    b.emit(vec(Opcode::VRecip, t, inv, ACC, sum, ACC, 1).set(Field::Shift, s.recip_shift), "1 / sum");
    for (uint64_t j = 0; j < blocks; ++j) {
      Ins m = matmul(t, buf.e, buf.vreg + kh * buf.vreg_stride + j * n * C, buf.o + 4 * j * C, 1, n, C, false, false,
                     n, 4 * C);
      if (j == 0) m.wait(sem.e).wait(h > 0 ? sem.o_free : 0);
      if (j + 1 == blocks) m.signal(sem.o);
      b.emit(m, j == 0 ? "probabilities x values" : "");
    }
    b.emit(vec(Opcode::VMul, t, buf.y + h * s.hd, SP, buf.o, ACC, s.hd)
               .set(Field::B, int64_t(inv)).set(Field::BSpace, ACC).set(Field::BMode, isa::kBScalar)
               .set(Field::Shift, s.recip_shift)
               .wait(sem.o)
               .signal(h + 1 < s.q_heads ? sem.o_free : io.tile_done),
           "normalise");
  }
  b.emit(store(t, io.out_dram, buf.y, SP, qw).wait(io.tile_done).signal(io.done), name + " output");
}

}  // namespace clonesim::compiler
