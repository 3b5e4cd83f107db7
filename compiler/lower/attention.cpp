#include "lower/attention.h"

#include <algorithm>
#include <map>
#include <tuple>
#include <vector>

#include "common/error.h"
#include "common/strf.h"
#include "isa/isa.h"
#include "lower/linear.h"

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
  using ull = unsigned long long;
  const uint64_t L = hw.vxu.lanes, n = s.pos + 1, qw = s.q_heads * s.hd, kw = s.kv_heads * s.hd;
  if (s.hd % hw.mxu.cols || s.hd % 2 || s.hd % L)
    throw Error(strf("attention: head dim %llu must be a multiple of the array width %llu and the %u lanes",
                     (ull)s.hd, (ull)hw.mxu.cols, hw.vxu.lanes));
  DecodeAttentionBuffers b;
  // Positions per KV block: a block's keys (or values) fill at most a
  // scratchpad bank or an eighth of the scratchpad, its scores at most a
  // 128th of the accumulator (two such buffers and the digit scratch: 3/64).
  uint64_t blk = s.block;
  if (blk == 0) {
    const uint64_t by_sp = std::min(sp.bank_bytes(), hw.scratchpad.total_bytes() / 8) / s.hd;
    const uint64_t by_acc = hw.accumulator.total_bytes() / 128 / 4 * 4;
    blk = std::max(L, std::min(by_sp, by_acc) / L * L);
  }
  if (blk % L) throw Error(strf("attention: blocks of %llu positions must be a multiple of the %u lanes", (ull)blk, hw.vxu.lanes));
  blk = std::min(blk, (n + L - 1) / L * L);  // one block when every position fits
  b.block = blk;
  b.positions = n;
  const bool blocked = n > blk;
  if (blocked && s.hd > 496)
    throw Error(strf("attention: head dim %llu: a score's three int8 digits need head dim <= 496", (ull)s.hd));
  // the KV block buffers first: the largest, each in a bank of its own when it can
  b.kv[0] = sp.alloc(blk * s.hd, 0, "attention: KV block buffer 0");
  b.kv[1] = sp.alloc(blk * s.hd, 0, "attention: KV block buffer 1");
  b.q = sp.alloc(qw, 0, "attention: q");
  b.k = sp.alloc(kw, 0, "attention: k");
  b.v = sp.alloc(kw, 0, "attention: v");
  b.r = sp.alloc(qw, 0, "attention: rotated half");
  b.qr = sp.alloc(qw, 0, "attention: q after RoPE");
  b.y = sp.alloc(qw, 0, "attention: attention output");
  b.e = sp.alloc(n, 0, "attention: probabilities");
  b.d = sp.alloc(blk, 0, "attention: score differences of a block");
  if (blocked)
    for (int i = 0; i < 3; ++i) b.planes[i] = sp.alloc(n, 0, strf("attention: scores, int8 digit %d", i));
  b.lut = sp.alloc(512, 0, "attention: exp table");
  // RoPE runs head by head: the tables of one head, the products of one head
  b.cos = acc.alloc(4 * s.hd, 0, "attention: cos");
  b.sin = acc.alloc(4 * s.hd, 0, "attention: sin");
  b.ring[0] = acc.alloc(4 * blk, 0, "attention: scores of a block, buffer 0");
  b.ring[1] = acc.alloc(4 * blk, 0, "attention: scores of a block, buffer 1");
  const uint64_t xb = std::max(4 * s.hd, blocked ? 4 * blk : 0);
  b.x1 = acc.alloc(xb, 0, "attention: x cos; a block's digits");
  b.x2 = acc.alloc(xb, 0, "attention: rot(x) sin; a block's digits");
  b.x_bytes = xb;
  b.c = b.x1;  // RoPE is over before the first digit
  b.t = b.x2;
  b.o = acc.alloc(4 * s.hd, 0, "attention: value product");
  b.slot = std::min<uint64_t>(uint64_t(hw.vxu.lanes) * 4, hw.accumulator.line_bytes());
  b.scal = acc.alloc(4 * b.slot, b.slot, "attention: max, sum, reciprocal, a block's max (lane-aligned)");
  return b;
}

AttentionSems make_attention_sems(SemPool& sems) {
  AttentionSems a;
  a.in = sems.local("attention inputs");
  a.kv = sems.local("KV block loaded");
  a.kn = sems.local("new k, v ready to append");
  a.sc = sems.local("scores");
  a.sc_free = sems.local("scores read");
  a.e = sems.local("probabilities");
  // The value product shares the scores' semaphore: the matrix unit signals
  // a head's score blocks and value products in exactly the order the vector
  // unit waits for them (block 0, 1, the previous head's value product, the
  // other blocks; see attention_on_tile), so one counter serves both.
  a.o = a.sc;
  a.free = sems.local("KV block buffer read");
  a.app = sems.local("new k, v rows in the cache");
  return a;
}

namespace {

using ull = unsigned long long;

// One tile's instructions, each tagged with a slot number; the tiles'
// sequences are merged slot by slot (tile 0's slot k, tile 1's slot k, ...),
// which keeps each tile's order and lets the tiles run side by side.
struct Seq {
  struct Item {
    uint64_t slot;
    bool is_section;
    Ins ins;
    std::string text;
  };
  std::vector<Item> items;
  uint64_t slot = 0;
  void emit(const Ins& i, const std::string& c = "") { items.push_back({slot, false, i, c}); }
  void section(const std::string& t) { items.push_back({slot, true, Ins(Opcode::Nop), t}); }
};

// The RoPE steps of golden::rope on `len` elements (heads of hd) from `x`
// (sp) to `dst` (sp, may be x): the rotation of the whole row, then head by
// head the products with the one head's tables (element-wise, so the same
// bits as the row at once).  wait_a/wait_b: before the first step (x, cos);
// wait_c: before the first use of sin.
void emit_rope(Seq& b, unsigned tile, uint64_t x, uint64_t dst, uint64_t len, uint64_t hd,
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

// Context registers of the attention (kPosReg = c4 holds p): set in
// emit_attention before the tiles' code.
constexpr unsigned kRegM = 1,     // rows of the last KV block: p + 1 - (nb - 1) * block
    kRegKB = 2,                   // its key bytes (rows * hd)
    kRegVB = 3,                   // its value bytes per column block (rows * C)
    kRegRope = 5,                 // the RoPE row's offset (the input loads), then
    kRegN = 5,                    //   p + 1 (the positions)
    kRegKA = 6,                   // p * hd: the key append's offset
    kRegVA = 7;                   // p * C: the value append's offset

// The attention of the query heads of KV heads [kv0, kv1) on tile t, after
// its six input signals of `in` (exp table, q, cos, sin, k, v).  The new key
// and value (after RoPE) are appended to the cache first; every position,
// p's included, then streams from the cache in blocks of B, the last block's
// rows (1..B) from kRegM.
void attention_on_tile(Seq& b, const hw::HwConfig& hw, const DecodeAttentionShape& s, const DecodeAttentionIO& io,
                       const DecodeAttentionBuffers& buf, const AttentionSems& sem, unsigned t, uint64_t kv0,
                       uint64_t kv1, const std::string& name) {
  const uint64_t C = hw.mxu.cols, hd = s.hd;
  const uint64_t group = s.q_heads / s.kv_heads, cb = hd / C, B = buf.block;
  const uint64_t h0 = kv0 * group, h1 = kv1 * group;
  const uint64_t nb = (s.pos + 1 + B - 1) / B, last = nb - 1;
  const bool blocked = nb > 1;
  // a vector instruction over the rows of block j (the last one's from kRegM)
  auto rows = [&](Ins x, uint64_t j) { return j == last ? x.cnt(kRegM) : x; };
  auto len_of = [&](uint64_t j) { return j == last ? uint64_t(0) : B; };
  auto span = [&](uint64_t j) {
    return j == last ? strf("positions %llu..p", (ull)(j * B)) : strf("positions %llu..%llu", (ull)(j * B), (ull)(j * B + B - 1));
  };
  // ---- vector unit: exp table, RoPE of the tile's q heads and k heads (in place)
  b.emit(vec(Opcode::LutLoad, t, 0, SP, buf.lut, SP, 256).set(Field::Imm, s.lut).wait(sem.in),
         strf("tile %u: exp table to LUT", t));
  // `in` counts the loads in order: exp table, q, cos, sin, k, v
  emit_rope(b, t, buf.q + h0 * hd, buf.qr + h0 * hd, (h1 - h0) * hd, hd, buf, sem.in, sem.in, sem.in, "q");
  emit_rope(b, t, buf.k + kv0 * hd, buf.k + kv0 * hd, (kv1 - kv0) * hd, hd, buf, sem.in, 0, 0, "k");
  // for the append store and the matrix unit (the new rows, q after RoPE)
  b.emit(vec(Opcode::VMov, t, buf.v, SP, buf.v, SP, 1).wait(sem.in).signal(sem.kn).signal(sem.kn),
         "v is in place too");
  // ---- KV append to DRAM: the tile's KV heads' new rows (k after RoPE) at
  // position p; the value append (after the key append in the one store
  // queue, so it completes later) lets the last block's loads go
  b.emit(store(t, io.kc_dram + kv0 * s.max_pos * hd, buf.k + kv0 * hd, SP, hd, kv1 - kv0, s.max_pos * hd, hd)
             .addr(kRegKA)
             .wait(sem.kn),
         "append keys at position p");
  b.emit(store(t, io.vc_dram + v_cache_offset(hw, s, kv0, 0, 0), buf.v + kv0 * hd, SP, C, (kv1 - kv0) * cb,
               s.max_pos * C, C)
             .addr(kRegVA)
             .signal(sem.app),
         "append values at position p");
  // ---- the cache blocks in the order the matrix unit reads them: per KV
  // head its keys and values when a head is one block (its query heads share
  // them); else per query head its key blocks and values, pipelined: the
  // first two key blocks of head u, the value blocks of head u - 1 (whose
  // probabilities the vector unit makes meanwhile), the rest of u's keys
  struct Blk {
    bool values;
    uint64_t kh, j;
  };
  std::vector<Blk> blocks;
  std::map<std::tuple<bool, uint64_t, uint64_t>, size_t> index;  // (values, unit, j) -> block
  auto add = [&](bool values, uint64_t unit, uint64_t kh, uint64_t j) {
    if (j >= nb) return;
    index[{values, unit, j}] = blocks.size();
    blocks.push_back({values, kh, j});
  };
  if (!blocked) {
    for (uint64_t kh = kv0; kh < kv1; ++kh) {
      add(false, kh - kv0, kh, 0);
      add(true, kh - kv0, kh, 0);
    }
  } else {
    const uint64_t U = h1 - h0;
    for (uint64_t u = 0; u <= U; ++u) {
      if (u < U) add(false, u, (h0 + u) / group, 0), add(false, u, (h0 + u) / group, 1);
      if (u > 0)
        for (uint64_t j = 0; j < nb; ++j) add(true, u - 1, (h0 + u - 1) / group, j);
      if (u < U)
        for (uint64_t j = 2; j < nb; ++j) add(false, u, (h0 + u) / group, j);
    }
  }
  const size_t total = blocks.size();
  size_t loaded = 0;
  bool appended = false;  // the first load of a last block waits for the append
  auto emit_load = [&]() {
    const size_t i = loaded++;
    const Blk& k = blocks[i];
    const bool lastb = k.j == last;
    // values: cb column blocks of the block's rows, each B * C bytes apart
    // in the buffer (the tile-major weight image when the block is full)
    Ins ld = k.values ? load(t, io.vc_dram + v_cache_offset(hw, s, k.kh, k.j * B, 0), buf.kv[i % 2], SP,
                             lastb ? 0 : B * C, cb, s.max_pos * C, B * C)
                      : load(t, io.kc_dram + (k.kh * s.max_pos + k.j * B) * hd, buf.kv[i % 2], SP, lastb ? 0 : B * hd);
    if (lastb) ld.cnt_alt(k.values ? kRegVB : kRegKB);
    const bool wait_app = lastb && !appended;
    appended |= lastb;
    b.emit(ld.wait(i >= 2 ? sem.free : 0).wait(wait_app ? sem.app : 0).signal(sem.kv),
           strf("%s of KV head %llu, %s", k.values ? "values (column blocks)" : "keys", (ull)k.kh, span(k.j).c_str()));
  };
  // the index of a block in `blocks`: `unit` is the KV head (one block per
  // head) or the query head (blocked) relative to the tile's first
  auto block_of = [&](bool values, uint64_t unit, uint64_t j) -> size_t {
    const auto it = index.find({values, unit, j});
    return it == index.end() ? total : it->second;
  };
  // after the last reader of block i, its buffer takes block i + 2
  auto after_last_reader = [&](size_t i) {
    if (i + 2 < total) emit_load();
  };
  auto frees = [&](size_t i) { return i + 2 < total ? sem.free : 0u; };
  if (total > 0) emit_load();
  if (total > 1) emit_load();
  // ---- per query head: scores, softmax, value product, output
  const uint64_t mx = buf.scal, sum = buf.scal + buf.slot, inv = buf.scal + 2 * buf.slot, bmx = buf.scal + 3 * buf.slot;
  const uint64_t total_r = (h1 - h0) * nb;  // score blocks of the tile
  uint64_t r = 0;                            // the next score block
  bool first_matmul = true;                  // waits for q after RoPE
  // The scores of block j of head h into the next score buffer (from the
  // buffer of block i); `wait_kv`: the block's first reader.
  auto score = [&](uint64_t h, uint64_t j, size_t i, bool wait_kv, bool last_reader) {
    const uint64_t ring = buf.ring[r % 2];
    const unsigned sc_free = r >= 2 ? sem.sc_free : 0;
    Ins mm = matmul(t, buf.kv[i % 2], buf.qr + h * hd, ring, len_of(j), hd, 1, false, false, hd, 4);
    if (j == last) mm.cnt(kRegM);
    b.emit(mm.wait(wait_kv ? sem.kv : 0)
               .wait(first_matmul ? sem.kn : sc_free)
               .signal(sem.sc)
               .signal(last_reader ? frees(i) : 0),
           strf("head %llu scores, %s", (ull)h, span(j).c_str()));
    first_matmul = false;
    if (last_reader) after_last_reader(i);
    ++r;
  };
  // The value product of block j into o; the last block's column blocks one
  // matmul each (its rows, the contraction, from kRegM).
  auto values = [&](uint64_t j, size_t i, bool wait_kv, bool last_reader) {
    const unsigned e = j == 0 ? sem.e : 0, kv = wait_kv ? sem.kv : 0, fr = last_reader ? frees(i) : 0;
    const std::string what = "probabilities x values, " + span(j);
    if (j != last) {
      b.emit(matmul(t, buf.e + j * B, buf.kv[i % 2], buf.o, 1, B, hd, false, j > 0, B, 4 * hd)
                 .wait(e).wait(kv).signal(fr),
             what);
    } else {
      for (uint64_t c = 0; c < cb; ++c)
        b.emit(matmul(t, buf.e + j * B, buf.kv[i % 2] + c * B * C, buf.o + 4 * c * C, 1, 0, C, false, j > 0, B, 4 * hd)
                   .cnt_alt(kRegM)
                   .wait(c == 0 ? e : 0).wait(c == 0 ? kv : 0)
                   .signal(c + 1 == cb ? sem.o : 0).signal(c + 1 == cb ? fr : 0),
               c == 0 ? what + (cb > 1 ? strf(", column block 0 of %llu", (ull)cb) : "") : "");
    }
    if (last_reader) after_last_reader(i);
  };
  auto normalise = [&](uint64_t h) {
    b.emit(vec(Opcode::VMul, t, buf.y + h * hd, SP, buf.o, ACC, hd)
               .set(Field::B, int64_t(inv)).set(Field::BSpace, ACC).set(Field::BMode, isa::kBScalar)
               .set(Field::Shift, s.recip_shift)
               .wait(sem.o)
               .signal(h + 1 == h1 ? io.tile_done : 0),
           "normalise");
  };
  auto sums = [&]() {
    b.emit(vec(Opcode::VRedSum, t, sum, ACC, buf.e, SP, 0).cnt(blocked ? kRegN : kRegM), "sum over p + 1 positions");
    b.emit(vec(Opcode::VRecip, t, inv, ACC, sum, ACC, 1).set(Field::Shift, s.recip_shift), "1 / sum");
  };
  if (!blocked) {
    for (uint64_t kh = kv0; kh < kv1; ++kh) {
      const size_t ik = block_of(false, kh - kv0, 0), iv = block_of(true, kh - kv0, 0);
      for (uint64_t g = 0; g < group; ++g) {
        const uint64_t h = kh * group + g;
        const bool first = g == 0, lastg = g + 1 == group;
        const uint64_t ring = buf.ring[r % 2], rr = r;
        ++b.slot;
        b.section(strf("%s tile %u: head %llu", name.c_str(), t, (ull)h));
        score(h, 0, ik, first, lastg);
        b.emit(rows(vec(Opcode::VRedMax, t, mx, ACC, ring, ACC, 0).wait(sem.sc), 0), "max");
        b.emit(rows(vec(Opcode::VSub, t, buf.d, SP, ring, ACC, 0)
                        .set(Field::B, int64_t(mx)).set(Field::BSpace, ACC).set(Field::BMode, isa::kBScalar)
                        .set(Field::Shift, s.d_shift)
                        .signal(rr + 2 < total_r ? sem.sc_free : 0),
                    0),
               "score - max, to LUT steps");
        b.emit(rows(vec(Opcode::VLut, t, buf.e, SP, buf.d, SP, 0).set(Field::Imm, s.lut).signal(sem.e), 0), "exp");
        sums();
        values(0, iv, first, lastg);
        normalise(h);
      }
    }
  } else {
    const uint64_t* P = buf.planes;
    std::vector<uint64_t> r0(h1 - h0);  // each head's first score block
    // pass 1 of block j: the running max, the scores to three int8 digits:
    // s = d2 2^16 + d1 2^8 + d0 with d0 = s - 2^8 rshr(s, 8), d1 likewise of
    // rshr(s, 8), d2 = rshr(rshr(s, 8), 8); each digit lies in -128..127
    // while |s| <= head_dim * 2^14 (head_dim <= 496)
    auto pass1 = [&](uint64_t h, uint64_t j) {
      const uint64_t m = len_of(j), r_j = r0[h - h0] + j, ring_j = buf.ring[r_j % 2], o = j * B;
      ++b.slot;
      if (j == 0) {
        b.emit(rows(vec(Opcode::VRedMax, t, mx, ACC, ring_j, ACC, m).wait(sem.sc), j),
               strf("head %llu block 0: max", (ull)h));
      } else {
        b.emit(rows(vec(Opcode::VRedMax, t, bmx, ACC, ring_j, ACC, m).wait(sem.sc), j),
               strf("head %llu block %llu: max", (ull)h, (ull)j));
        b.emit(vec(Opcode::VMax, t, mx, ACC, mx, ACC, 1)
                   .set(Field::B, int64_t(bmx)).set(Field::BSpace, ACC).set(Field::BMode, isa::kBVector),
               "running max");
      }
      b.emit(rows(vec(Opcode::VMov, t, buf.x1, ACC, ring_j, ACC, m).set(Field::Shift, 8), j), "q1 = rshr(s, 8)");
      b.emit(rows(vec(Opcode::VShl, t, buf.x2, ACC, buf.x1, ACC, m).set(Field::Shift, 8), j), "q1 2^8");
      b.emit(rows(vec(Opcode::VSub, t, P[0] + o, SP, ring_j, ACC, m)
                      .set(Field::B, int64_t(buf.x2)).set(Field::BSpace, ACC).set(Field::BMode, isa::kBVector),
                  j),
             "digit 0 = s - q1 2^8");
      b.emit(rows(vec(Opcode::VMov, t, buf.x2, ACC, buf.x1, ACC, m).set(Field::Shift, 8), j), "q2 = rshr(q1, 8)");
      b.emit(rows(vec(Opcode::VShl, t, ring_j, ACC, buf.x2, ACC, m).set(Field::Shift, 8), j), "q2 2^8");
      b.emit(rows(vec(Opcode::VSub, t, P[1] + o, SP, buf.x1, ACC, m)
                      .set(Field::B, int64_t(ring_j)).set(Field::BSpace, ACC).set(Field::BMode, isa::kBVector)
                      .signal(r_j + 2 < total_r ? sem.sc_free : 0),
                  j),
             "digit 1 = q1 - q2 2^8");
      b.emit(rows(vec(Opcode::VMov, t, P[2] + o, SP, buf.x2, ACC, m), j), "digit 2 = q2");
    };
    // pass 2: every block's scores back from the digits, to LUT steps and exp
    auto pass2 = [&](uint64_t h) {
      ++b.slot;
      for (uint64_t j = 0; j < nb; ++j) {
        const uint64_t m = len_of(j), o = j * B;
        b.emit(rows(vec(Opcode::VMul, t, buf.x1, ACC, P[2] + o, SP, m).set(Field::BMode, isa::kBImm).set(Field::Imm, 256),
                    j),
               strf("head %llu block %llu: s = (d2 2^8 + d1) 2^8 + d0", (ull)h, (ull)j));
        b.emit(rows(vec(Opcode::VAdd, t, buf.x1, ACC, buf.x1, ACC, m)
                        .set(Field::B, int64_t(P[1] + o)).set(Field::BSpace, SP).set(Field::BMode, isa::kBVector),
                    j));
        b.emit(rows(vec(Opcode::VShl, t, buf.x1, ACC, buf.x1, ACC, m).set(Field::Shift, 8), j));
        b.emit(rows(vec(Opcode::VAdd, t, buf.x1, ACC, buf.x1, ACC, m)
                        .set(Field::B, int64_t(P[0] + o)).set(Field::BSpace, SP).set(Field::BMode, isa::kBVector),
                    j));
        b.emit(rows(vec(Opcode::VSub, t, buf.d, SP, buf.x1, ACC, m)
                        .set(Field::B, int64_t(mx)).set(Field::BSpace, ACC).set(Field::BMode, isa::kBScalar)
                        .set(Field::Shift, s.d_shift),
                    j),
               "score - max, to LUT steps");
        b.emit(rows(vec(Opcode::VLut, t, buf.e + o, SP, buf.d, SP, m).set(Field::Imm, s.lut)
                        .signal(j + 1 == nb ? sem.e : 0),
                    j),
               "exp");
      }
      sums();
    };
    auto value_blocks = [&](uint64_t h) {
      for (uint64_t j = 0; j < nb; ++j) {
        ++b.slot;
        values(j, block_of(true, h - h0, j), true, true);
      }
    };
    // Heads pipelined: the matrix unit runs head h's first key blocks while
    // the vector unit rebuilds head h - 1's scores (pass 2), then h - 1's
    // value blocks, then the rest of h's keys; the vector unit: pass 2 of
    // h - 1, pass 1 of h's blocks 0 and 1, the normalising of h - 1, pass 1
    // of the rest.  (Each head's matrix work that reads e or o follows the
    // vector work that last used them: see docs/compiler.md.)
    const uint64_t U = h1 - h0;
    for (uint64_t u = 0; u <= U; ++u) {
      const uint64_t h = h0 + u;
      if (u < U) {
        ++b.slot;
        b.section(strf("%s tile %u: head %llu, %llu blocks of %llu positions", name.c_str(), t, (ull)h, (ull)nb,
                       (ull)B));
        r0[u] = r;
        score(h, 0, block_of(false, u, 0), true, true);
        score(h, 1, block_of(false, u, 1), true, true);
      }
      if (u > 0) pass2(h - 1);
      if (u < U) pass1(h, 0);
      if (u > 0) value_blocks(h - 1);
      if (u < U && nb > 2) score(h, 2, block_of(false, u, 2), true, true);
      if (u < U) pass1(h, 1);
      if (u > 0) normalise(h - 1);
      if (u < U)
        for (uint64_t j = 2; j < nb; ++j) {
          if (j + 1 < nb) score(h, j + 1, block_of(false, u, j + 1), true, true);
          pass1(h, j);
        }
    }
  }
  ++b.slot;
}

void emit_attention(ProgramBuilder& b, const hw::HwConfig& hw, const DecodeAttentionShape& s,
                    const DecodeAttentionIO& io, const DecodeAttentionBuffers& buf, const AttentionSems& sem,
                    unsigned first_tile, unsigned tiles, const std::string& name) {
  const uint64_t n = s.pos + 1, qw = s.q_heads * s.hd, kw = s.kv_heads * s.hd, hd = s.hd;
  const uint64_t nb = (n + buf.block - 1) / buf.block;
  if (n > buf.positions || (nb > 1 && buf.planes[0] == 0))
    throw Error(strf("%s: position %llu is beyond the %llu positions its buffers were placed for", name.c_str(),
                     (ull)s.pos, (ull)buf.positions));
  if (s.q_heads % s.kv_heads) throw Error(name + ": query heads must be a multiple of the KV heads");
  const uint64_t group = s.q_heads / s.kv_heads;
  const unsigned T = unsigned(std::min<uint64_t>(tiles, s.kv_heads));
  const uint64_t B = buf.block, C = hw.mxu.cols;
  b.section(strf("%s: decode attention at a position p in %llu..%llu (c%u), %llu query heads over %llu KV heads of "
                 "%llu on %u tile(s), %llu block(s) of up to %llu positions",
                 name.c_str(), (ull)((nb - 1) * B), (ull)(nb * B - 1), kPosReg, (ull)s.q_heads, (ull)s.kv_heads,
                 (ull)hd, T, (ull)nb, (ull)B));
  auto ctx = [&](isa::Opcode op, unsigned reg, unsigned src, int64_t value, const std::string& what) {
    b.emit(Ins(op).set(Field::Reg, reg).set(Field::Src, src).set(Field::Value, value), what);
  };
  ctx(Opcode::CtxMul, kRegRope, kPosReg, int64_t(4 * hd), "p * 4 head_dim: the RoPE tables' row");
  if (io.rope_first)
    ctx(Opcode::CtxAdd, kRegRope, kRegRope, -int64_t(4 * hd * io.rope_first),
        strf("(tables from position %llu)", (ull)io.rope_first));
  // ---- inputs, in the order the vector units consume them (one queue: they
  // complete in this order, so the k-th signal of `in` means the first k
  // loaded); to every tile when several share the heads
  const unsigned lt = tiles > 1 ? isa::kAllTiles : first_tile;
  b.emit(load(lt, io.exp_dram, buf.lut, SP, 512).wait(io.in_ready).signal(sem.in), "exp table");
  b.emit(load(lt, io.q_dram, buf.q, SP, qw).signal(sem.in), "q");
  b.emit(load(lt, io.cos_dram, buf.cos, ACC, 4 * hd).addr(kRegRope).signal(sem.in), "cos of position p (one head)");
  b.emit(load(lt, io.sin_dram, buf.sin, ACC, 4 * hd).addr(kRegRope).signal(sem.in), "sin of position p (one head)");
  b.emit(load(lt, io.k_dram, buf.k, SP, kw).signal(sem.in), "k");
  b.emit(load(lt, io.v_dram, buf.v, SP, kw).signal(sem.in), "v");
  ctx(Opcode::CtxAdd, kRegM, kPosReg, 1 - int64_t((nb - 1) * B), "rows of the last KV block: p + 1 - (blocks - 1) * block");
  ctx(Opcode::CtxMul, kRegKB, kRegM, int64_t(hd), "its key bytes");
  ctx(Opcode::CtxMul, kRegVB, kRegM, int64_t(C), "its value bytes per column block");
  ctx(Opcode::CtxAdd, kRegN, kPosReg, 1, "p + 1 positions");
  ctx(Opcode::CtxMul, kRegKA, kPosReg, int64_t(hd), "p * head_dim: the key append's offset");
  ctx(Opcode::CtxMul, kRegVA, kPosReg, int64_t(C), "p * C: the value append's offset");
  for (unsigned t = T; t < tiles; ++t)
    for (int k = 0; k < 3; ++k)
      b.emit(vec(Opcode::VMov, first_tile + t, buf.v, SP, buf.v, SP, 1).wait(sem.in).wait(sem.in),
             k ? "" : strf("tile %u: no heads, takes the inputs' signals", first_tile + t));
  std::vector<Seq> seqs(T);
  std::vector<Ins> stores;
  for (unsigned t = 0; t < T; ++t) {
    const uint64_t kv0 = s.kv_heads * t / T, kv1 = s.kv_heads * (t + 1) / T;
    attention_on_tile(seqs[t], hw, s, io, buf, sem, first_tile + t, kv0, kv1, name);
    stores.push_back(store(first_tile + t, io.out_dram + kv0 * group * hd, buf.y + kv0 * group * hd, SP,
                           (kv1 - kv0) * group * hd));
  }
  // merge slot by slot
  std::vector<size_t> at(T, 0);
  for (bool more = true; more;) {
    more = false;
    uint64_t slot = UINT64_MAX;
    for (unsigned t = 0; t < T; ++t)
      if (at[t] < seqs[t].items.size()) slot = std::min(slot, seqs[t].items[at[t]].slot);
    for (unsigned t = 0; t < T; ++t)
      for (; at[t] < seqs[t].items.size() && seqs[t].items[at[t]].slot == slot; ++at[t]) {
        const Seq::Item& it = seqs[t].items[at[t]];
        if (it.is_section) b.section(it.text);
        else b.emit(it.ins, it.text);
      }
    for (unsigned t = 0; t < T; ++t) more |= at[t] < seqs[t].items.size();
  }
  emit_joined_stores(b, std::move(stores), io.tile_done, io.chain, io.done, name + " output", io.join_by_controller);
}

}  // namespace

void emit_decode_attention(ProgramBuilder& b, const hw::HwConfig& hw, const DecodeAttentionShape& s,
                           const DecodeAttentionIO& io, const DecodeAttentionBuffers& buf, const AttentionSems& sem,
                           unsigned tile, const std::string& name) {
  emit_attention(b, hw, s, io, buf, sem, tile, 1, name);
}

void emit_decode_attention_tiles(ProgramBuilder& b, const hw::HwConfig& hw, const DecodeAttentionShape& s,
                                 const DecodeAttentionIO& io, const DecodeAttentionBuffers& buf,
                                 const AttentionSems& sem, unsigned tiles, const std::string& name) {
  emit_attention(b, hw, s, io, buf, sem, 0, tiles, name);
}

}  // namespace clonesim::compiler
