#include "rtl/cosim/test_programs.h"

#include <cstdarg>
#include <cstdio>

#include "common/error.h"
#include "common/strf.h"
#include "rtl/cosim/random_program.h"
#include "sim/timing.h"

namespace clonesim::cosim {

namespace {

struct Emitter {
  std::string text;
  void operator()(const char* fmt, ...) __attribute__((format(printf, 2, 3))) {
    va_list ap;
    va_start(ap, fmt);
    text += vstrf(fmt, ap);
    va_end(ap);
    text += '\n';
  }
};

using ull = unsigned long long;

}  // namespace

std::string transformer_layer(const hw::HwConfig& hw) {
  Emitter e;
  const unsigned R = hw.mxu.rows, C = hw.mxu.cols, L = hw.vxu.lanes;
  const ull spb = hw.scratchpad.bank_bytes(), accb = hw.accumulator.bank_bytes();
  const unsigned nsp = hw.scratchpad.banks, nacc = hw.accumulator.banks;
  // model: T tokens of width H = C (one output tile), head dim H
  const unsigned T = 8, H = C;
  const unsigned K = R < H ? R : H;  // reduction tile
  const unsigned kt = (H + K - 1) / K;
  // region i: bank i mod banks, and a distinct slice of that bank when there
  // are fewer banks than regions (8 scratchpad regions, 2 accumulator regions)
  auto sp = [&](unsigned i, ull off) {
    const unsigned per = (8 + nsp - 1) / nsp;
    return ull(i % nsp) * spb + ull(i / nsp) * (spb / per) + off;
  };
  auto acc = [&](unsigned i, ull off) {
    const unsigned per = (2 + nacc - 1) / nacc;
    return ull(i % nacc) * accb + ull(i / nacc) * (accb / per) + off;
  };
  const ull X = sp(0, 0), G = sp(1, 0), XN = sp(2, 0), W = sp(3, 0), Q = sp(4, 0), KK = sp(5, 0), V = sp(6, 0);
  const ull TAB = sp(7, 0);
  const ull ACC0 = acc(0, 0), ACC1 = acc(1, 0);
  const ull row = ((H + L - 1) / L) * L;  // row pitch in the scratchpad, a lane multiple
  // the FFN step at the end: two matmuls larger than the array (K > R, N > C)
  // on the output X viewed as T/2 rows of two tokens, into their own
  // accumulator region; weights tile-major after Wq|Wk|Wv
  const unsigned MF = T / 2, KF1 = 2 * H - 1, KF2 = 2 * H, NF = H + H / 2;
  const bool f4 = hw.mxu.supports(hw::WeightType::Int4), f8 = hw.mxu.supports(hw::WeightType::Int8);
  const ull WF1 = W + 3ull * kt * K * H, wf1 = sim::weight_bytes(hw, KF1, NF, !f8);
  const ull WF2 = WF1 + wf1, wf2 = sim::weight_bytes(hw, KF2, NF, f4);
  const ull ACCF = ACC0 + 4ull * T * 4 * H;  // past the projections and the RoPE scratch
  e("; a transformer layer in miniature: T=%u tokens, width H=%u, on %s", T, H, hw.name.c_str());
  e("ctx.set reg=c2 value=%llu", ull(T) * H);  // bytes of K rows per position
  e("ctx.set reg=c4 value=%u", T < R ? T : R);   // contraction depth of the value product
  // inputs: X, gamma, weights Wq|Wk|Wv (kt x 1 tiles each, packed), exp LUT, cos/sin
  e("load dram=0x0 sram=0x%llx rows=%u bytes=%u dstride=%u sstride=%llu signal=s1", X, T, H, H, row);
  e("load dram=0x1000 sram=0x%llx bytes=%u signal=s2", G, H);
  e("load dram=0x2000 sram=0x%llx bytes=%llu signal=s3", W, 3ull * kt * K * H + wf1 + wf2);
  e("load dram=0x8000 sram=0x%llx bytes=%llu signal=s4", TAB, 512 + 2 * T * row);
  // RMSNorm per token
  for (unsigned t = 0; t < T; ++t) {
    const char* w = t == 0 ? " wait=s1,s2" : "";
    e("vmul dst=0x%llx dspace=acc a=0x%llx b=0x%llx bmode=vec len=%u%s", ACC0, X + t * row, X + t * row, H, w);
    e("vredsum dst=0x%llx dspace=acc a=0x%llx aspace=acc len=%u", ACC1, ACC0, H);
    e("vshr dst=0x%llx dspace=acc a=0x%llx aspace=acc len=1 shift=4", ACC1, ACC1);
    e("vrsqrt dst=0x%llx dspace=acc a=0x%llx aspace=acc len=1 shift=15", ACC1 + 64, ACC1);
    e("vmul dst=0x%llx dspace=acc a=0x%llx b=0x%llx bspace=acc bmode=scalar len=%u", ACC0, X + t * row, ACC1 + 64, H);
    e("vmul dst=0x%llx a=0x%llx aspace=acc b=0x%llx bmode=vec len=%u shift=16%s", XN + t * row, ACC0, G, H,
      t + 1 == T ? " signal=s5" : "");
  }
  // projections Q, K, V: XN (T x H) x W (H x H), accumulate over k tiles, requantise
  const ull outs[3] = {Q, KK, V};
  for (int p = 0; p < 3; ++p) {
    // each projection accumulates in its own region: the vector unit may still
    // be requantising the previous one
    const ull accp = ACC0 + ull(p) * T * 4 * H;
    for (unsigned k = 0; k < kt; ++k) {
      const unsigned kk = (k + 1) * K <= H ? K : H - k * K;
      std::string w = (p == 0 && k == 0) ? " wait=s3,s5" : "";
      std::string s = (k + 1 == kt) ? " signal=s6" : "";
      e("matmul act=0x%llx wgt=0x%llx acc=0x%llx m=%u k=%u n=%u accum=%d astride=%llu cstride=%u%s%s", XN + k * K,
        W + (ull(p) * kt + k) * K * H, accp, T, kk, H, k > 0, row, 4 * H, w.c_str(), s.c_str());
    }
    // K is stored (s7) and read by the scores (global s16); V is stored (s8)
    e("vrequant dst=0x%llx a=0x%llx aspace=acc imm=1518500250 shift=%u len=%u wait=s6%s", outs[p], accp, 40,
      T * H, p == 1 ? " signal=s7,s16" : (p == 2 ? " signal=s8" : ""));
  }
  // RoPE on Q (half H/2 if it fits the lanes, else neighbours)
  const unsigned h = (H / 2) % L == 0 || L % H == 0 ? H / 2 : 1;
  const ull ACCR = ACC0 + 3ull * T * 4 * H;  // RoPE scratch, past the projections
  e("vmul dst=0x%llx dspace=acc a=0x%llx b=0x%llx bmode=vec len=%u wait=s4", ACC1, Q, TAB + 512, T * H);
  e("vrot dst=0x%llx a=0x%llx imm=%u len=%u", XN, Q, h, T * H);
  e("vmul dst=0x%llx dspace=acc a=0x%llx b=0x%llx bmode=vec len=%u", ACCR, XN, TAB + 512 + T * row, T * H);
  e("vadd dst=0x%llx dspace=acc a=0x%llx aspace=acc b=0x%llx bspace=acc bmode=vec len=%u", ACCR, ACCR, ACC1, T * H);
  e("vrequant dst=0x%llx a=0x%llx aspace=acc imm=1 shift=7 len=%u signal=s17", Q, ACCR, T * H);
  // KV-cache append at position c1 (c2 bytes per position: the K store's
  // byte count from the register, cnt_alt)
  e("ctx.mul reg=c3 src=c1 value=%llu", ull(T) * H);
  e("store dram=0x100000 sram=0x%llx bytes=0 cnt_alt=c2 addr=c3 wait=s7", KK);
  e("store dram=0x200000 sram=0x%llx bytes=%u addr=c3 wait=s8 signal=s9", V, T * H);
  // scores S = Q x K (K rows as the weight tile), softmax per row
  for (unsigned k = 0; k < kt; ++k) {
    const unsigned kk = (k + 1) * K <= H ? K : H - k * K;
    e("matmul act=0x%llx wgt=0x%llx acc=0x%llx m=%u k=%u n=%u accum=%d astride=%llu cstride=%u%s%s", Q + k * K,
      KK + k * K * T, ACC0, T, kk, T, k > 0, row, 4 * H, k == 0 ? " wait=s16,s17" : "",
      k + 1 == kt ? " signal=s10" : "");
  }
  e("lutld a=0x%llx imm=1", TAB);
  for (unsigned t = 0; t < T; ++t) {
    const ull srow = ACC0 + t * 4 * H;
    e("vredmax dst=0x%llx dspace=acc a=0x%llx aspace=acc len=%u%s", ACC1, srow, T, t == 0 ? " wait=s10" : "");
    e("vsub dst=0x%llx dspace=acc a=0x%llx aspace=acc b=0x%llx bspace=acc bmode=scalar len=%u shift=6", srow, srow,
      ACC1, T);
    e("vlut dst=0x%llx dspace=acc a=0x%llx aspace=acc imm=1 len=%u", srow, srow, T);
    // the sum is the reciprocal's streamed operand: keep it line-aligned
    e("vredsum dst=0x%llx dspace=acc a=0x%llx aspace=acc len=%u", ACC1 + 128, srow, T);
    e("vrecip dst=0x%llx dspace=acc a=0x%llx aspace=acc len=1 shift=24", ACC1 + 64, ACC1 + 128);
    e("vmul dst=0x%llx a=0x%llx aspace=acc b=0x%llx bspace=acc bmode=scalar len=%u shift=18%s", XN + t * row, srow,
      ACC1 + 64, T, t + 1 == T ? " signal=s11" : "");
  }
  // O = P x V, its contraction depth from c4 (cnt_alt)
  e("matmul act=0x%llx wgt=0x%llx acc=0x%llx m=%u k=0 cnt_alt=c4 n=%u astride=%llu cstride=%u wait=s11,s9 signal=s12",
    XN, V, ACC0, T, H, row, 4 * H);
  e("vrequant dst=0x%llx a=0x%llx aspace=acc imm=1 shift=12 len=%u wait=s12 signal=s13,s15", X, ACC0, T * H);
  e("store dram=0x300000 sram=0x%llx rows=%u bytes=%u dstride=%u sstride=%llu wait=s13", X, T, H, H, row);
  // FFN: (T/2 x 2H-1) x (2H-1 x 3H/2), then accumulate a (T/2 x 2H) x (2H x 3H/2) in int4
  e("matmul act=0x%llx wgt=0x%llx acc=0x%llx m=%u k=%u n=%u wtype=%s astride=%llu cstride=%u wait=s15", X, WF1, ACCF,
    MF, KF1, NF, f8 ? "int8" : "int4", 2 * row, 4 * NF);
  e("matmul act=0x%llx wgt=0x%llx acc=0x%llx m=%u k=%u n=%u wtype=%s accum=1 astride=%llu cstride=%u signal=s18", X,
    WF2, ACCF, MF, KF2, NF, f4 ? "int4" : "int8", 2 * row, 4 * NF);
  e("store dram=0x380000 sram=0x%llx space=acc rows=%u bytes=%u dstride=%u sstride=%u wait=s18", ACCF, MF, 4 * NF,
    4 * NF, 4 * NF);
  // the same normalisation on every tile at once
  e("load tile=all dram=0x0 sram=0x%llx bytes=%u signal=s14", sp(1, 0x1000), H);
  e("vmul tile=all dst=0x%llx dspace=acc a=0x%llx b=0x%llx bmode=vec len=%u wait=s14", acc(1, 0x400), sp(1, 0x1000),
    sp(1, 0x1000), H);
  e("halt");
  return e.text;
}

std::string dram_bound(const hw::HwConfig& hw) {
  Emitter e;
  const ull spb = hw.scratchpad.bank_bytes();
  const unsigned nsp = hw.scratchpad.banks;
  const ull half = spb / 2;
  e("; DRAM-bound: long transfers, strided rows, reads after writes (%s)", hw.name.c_str());
  for (int i = 0; i < 6; ++i)
    e("load dram=0x%llx sram=0x%llx bytes=%llu%s", ull(i) * half, ull(i % nsp) * spb, half, i == 5 ? " signal=s1" : "");
  // rows 4 KiB apart: every row opens a new DRAM row
  e("load dram=0x10000 sram=0x%llx rows=32 bytes=%u dstride=4096 sstride=%u signal=s2", ull(1 % nsp) * spb + half,
    hw.dma.burst_bytes / 2 + 16, hw.dma.burst_bytes);
  e("store dram=0x400000 sram=0x0 bytes=%llu wait=s1 signal=s3", half);
  e("store dram=0x500000 sram=0x%llx rows=16 bytes=200 dstride=8192 sstride=256 wait=s2", ull(1 % nsp) * spb + half);
  // read back what was just written
  e("load dram=0x400000 sram=0x%llx bytes=%llu wait=s3", ull(2 % nsp) * spb + half, half);
  e("load tile=all dram=0x600000 sram=0x%llx space=acc bytes=%llu", ull(0), ull(hw.accumulator.bank_bytes()));
  e("halt");
  return e.text;
}

std::string bank_conflicts(const hw::HwConfig& hw) {
  Emitter e;
  const ull spb = hw.scratchpad.bank_bytes(), accb = hw.accumulator.bank_bytes();
  const unsigned nacc = hw.accumulator.banks, L = hw.vxu.lanes, R = hw.mxu.rows, C = hw.mxu.cols;
  const unsigned n = 8 * L;
  e("; bank conflicts: shared banks within and between units (%s)", hw.name.c_str());
  e("load dram=0x0 sram=0x0 bytes=%llu signal=s1,s3", spb / 4);
  // all three operands in bank 0 (within the instruction)
  e("vadd dst=0x%x a=0x0 b=0x%x bmode=vec len=%u wait=s1", 2 * n, n, n);
  e("vmul dst=0x%x a=0x0 b=0x%x bmode=vec len=%u shift=2", 3 * n, n, n);
  // the load into bank 0 holds it while the vector unit wants it (between units)
  e("load dram=0x10000 sram=0x%llx bytes=%llu", spb / 2, spb / 4);
  e("vsub dst=0x%x a=0x0 b=0x%x bmode=vec len=%u", 4 * n, n, n);
  // matmul weights and activations in bank 0, two in a row (preload waits for the stream)
  e("matmul act=0x%x wgt=0x100 acc=0x0 m=16 k=%u n=%u astride=%u cstride=%u wait=s3", 8 * n, R, C, R, 4 * C);
  e("matmul act=0x%x wgt=0x%x acc=0x%llx m=16 k=%u n=%u astride=%u cstride=%u", 8 * n, 0x100 + R * C,
    (ull(1 % nacc)) * accb, R, C, R, 4 * C);
  // accumulator traffic in one bank from the vector unit and the matrix unit
  e("vadd dst=0x%llx dspace=acc a=0x%llx aspace=acc bmode=imm imm=5 len=%u", ull(0x800), ull(0x800), n);
  e("matmul act=0x%llx wgt=0x%llx acc=0x%x m=8 k=%u n=%u astride=%u cstride=%u signal=s2", spb, spb + 0x400, 0x200, R,
    C, R, 4 * C);
  e("store dram=0x40000 sram=0x0 space=acc bytes=%u wait=s2", 4 * C * 8);
  e("halt");
  return e.text;
}

std::string generate(const hw::HwConfig& hw, const std::string& kind) {
  if (kind == "transformer") return transformer_layer(hw);
  if (kind == "dram") return dram_bound(hw);
  if (kind == "banks") return bank_conflicts(hw);
  if (kind.rfind("random:", 0) == 0) return random_program(hw, std::stoull(kind.substr(7)));
  throw Error("unknown program kind '" + kind + "' (expected transformer, dram, banks or random:SEED)");
}

}  // namespace clonesim::cosim
