// Exact cycle counts of every instruction class against the formulas of
// docs/timing.md, recomputed here by hand.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <random>

#include "dram/dram.h"
#include "sim_test_util.h"

using namespace clonesim;
using namespace clonesim::test;

namespace {
constexpr uint64_t kP400 = 2500;  // ps per cycle at 400 MHz

uint64_t latency_cycles(const sim::Accelerator& a, uint32_t index, uint64_t period) {
  const auto& r = retired(a, index);
  REQUIRE((r.done_ps - r.start_ps) % period == 0);
  return (r.done_ps - r.start_ps) / period;
}

std::string matmul(int m, int k, int n, const char* wtype, uint64_t act, uint64_t wgt, uint64_t acc, int astride,
                   int cstride, const char* extra = "") {
  char buf[256];
  snprintf(buf, sizeof buf, "matmul act=0x%llx wgt=0x%llx acc=0x%llx m=%d k=%d n=%d wtype=%s astride=%d cstride=%d %s\n",
           (unsigned long long)act, (unsigned long long)wgt, (unsigned long long)acc, m, k, n, wtype, astride,
           cstride, extra);
  return buf;
}
}  // namespace

TEST_CASE("matmul latency = preload + stream + R + C, over shapes and design points", "[timing][mxu]") {
  const hw::HwConfig small = single_clock(design(CLONESIM_SOURCE_DIR "/tests/data/hw/test-8x8.yaml"), 400);  // 8x8, LB_sp 8, LB_acc 32
  const hw::HwConfig clone = single_clock(design(CLONESIM_SOURCE_DIR "/tests/data/hw/test-16x16.yaml"), 400);  // 16x16, LB_sp 16, LB_acc 64
  REQUIRE(small.scratchpad.line_bytes() == 8);
  REQUIRE(small.accumulator.line_bytes() == 32);
  REQUIRE(clone.scratchpad.line_bytes() == 16);
  REQUIRE(clone.accumulator.line_bytes() == 64);
  struct Case {
    const hw::HwConfig* hw;
    std::string text;
    uint64_t expect;
  };
  const std::vector<Case> cases = {
      // preload lines(0,64,8)=8, stream 16*1, drain 8+8
      {&small, matmul(16, 8, 8, "int8", 0x8000, 0, 0, 8, 32), 8 + 16 + 16},
      // int4: 32 weight bytes -> 4 lines
      {&small, matmul(16, 8, 8, "int4", 0x8000, 0, 0, 8, 32), 4 + 16 + 16},
      // decode: M = 1
      {&small, matmul(1, 8, 8, "int8", 0x8000, 0, 0, 8, 32), 8 + 1 + 16},
      // partial tile: 15 weight bytes -> 2 lines
      {&small, matmul(5, 3, 5, "int8", 0x8000, 0, 0, 8, 32), 2 + 5 + 16},
      // unaligned rows at 0x8004, 0x8010, 0x801c touch 2, 1, 2 lines
      {&small, matmul(3, 8, 8, "int8", 0x8004, 0, 0, 12, 32), 8 + 5 + 16},
      // accumulator rows of 8 int32 = 32 bytes at stride 64, act rows 1 line
      {&small, matmul(4, 8, 8, "int8", 0x8000, 0, 0x10, 8, 64), 8 + 4 * 2 + 16},
      {&clone, matmul(64, 16, 16, "int8", 0x8000, 0, 0, 16, 64), 16 + 64 + 32},
      {&clone, matmul(64, 16, 16, "int4", 0x8000, 0, 0, 16, 64), 8 + 64 + 32},
      {&clone, matmul(1, 16, 16, "int4", 0x8000, 0, 0, 16, 64), 8 + 1 + 32},
  };
  Bench b;
  for (const auto& c : cases) b.add(*c.hw, c.text + "halt\n", {sim::Mode::Timing});
  b.run();
  for (size_t i = 0; i < cases.size(); ++i) {
    INFO("case " << i << ": " << cases[i].text);
    REQUIRE(b.accs[i]->error() == "");
    CHECK(latency_cycles(*b.accs[i], 0, kP400) == cases[i].expect);
    // dispatched at cycle 0, visible after 2 synchroniser edges
    CHECK(retired(*b.accs[i], 0).start_ps == 2 * kP400);
    // halt sees the completion 2 edges later
    CHECK(b.accs[i]->stats().cycles == 2 + cases[i].expect + 2);
  }
}

TEST_CASE("back-to-back matmuls overlap preload with stream, and a shared single-port bank serialises", "[timing][mxu]") {
  const hw::HwConfig small = single_clock(design(CLONESIM_SOURCE_DIR "/tests/data/hw/test-8x8.yaml"), 400);
  hw::HwConfig dual = small;
  dual.scratchpad.ports = 2;
  Bench b;
  // weights in bank 0, activations in bank 1: next preload overlaps the stream
  b.add(small, matmul(16, 8, 8, "int8", 0x8000, 0x0, 0, 8, 32) + matmul(16, 8, 8, "int8", 0x8000, 0x40, 0x400, 8, 32) + "halt\n");
  // activations of the first in bank 0 = weights of the second: wait for the stream
  b.add(small, matmul(16, 8, 8, "int8", 0x1000, 0x0, 0, 8, 32) + matmul(16, 8, 8, "int8", 0x8000, 0x40, 0x400, 8, 32) + "halt\n");
  // same with two ports: overlap again
  b.add(dual, matmul(16, 8, 8, "int8", 0x1000, 0x0, 0, 8, 32) + matmul(16, 8, 8, "int8", 0x8000, 0x40, 0x400, 8, 32) + "halt\n");
  b.run();
  const uint64_t s = 2 * kP400;
  for (auto& a : b.accs) {
    REQUIRE(a->error() == "");
    CHECK(retired(*a, 0).start_ps == s);
    CHECK(retired(*a, 0).done_ps == s + 40 * kP400);
  }
  // A2 = s+8, P2end = s+16, S2start = max(s+16, S1end = s+24), done = s+24+16+16
  CHECK(retired(*b.accs[0], 1).start_ps == s + 8 * kP400);
  CHECK(retired(*b.accs[0], 1).done_ps == s + 56 * kP400);
  // A2 = S1end = s+24, P2end = s+32, done = s+32+16+16
  CHECK(retired(*b.accs[1], 1).start_ps == s + 24 * kP400);
  CHECK(retired(*b.accs[1], 1).done_ps == s + 64 * kP400);
  CHECK(retired(*b.accs[2], 1).done_ps == s + 56 * kP400);
}

TEST_CASE("a matmul larger than the array runs its tiles through the pipeline, n-slice outer", "[timing][mxu]") {
  // test-8x8: R = C = 8, LB_sp 8 (scratchpad banks of 32 KiB, one port), LB_acc 32.
  // M = 3, K = 2R+3 = 19, N = C+5 = 13: k-slices 8, 8, 3; n-slices 8, 5.
  // Tiles (j, i): (0,0) 8x8, (0,1) 8x8, (0,2) 3x8, (1,0) 8x5, (1,1) 8x5, (1,2) 3x5.
  const hw::HwConfig small = single_clock(design(CLONESIM_SOURCE_DIR "/tests/data/hw/test-8x8.yaml"), 400);
  hw::HwConfig dual = small;
  dual.scratchpad.ports = 2;
  REQUIRE(small.scratchpad.bank_bytes() == 0x8000);
  Bench b;
  // A: int8, weights (bank 0) 64, 64, 24, 40, 40, 15 bytes at 0, 64, 128, 152,
  // 192, 232: preload 8, 8, 3, 5, 5, 2 lines; activations in bank 1 at stride
  // 24 (1 line per slice row), results at stride 64 (1 line per slice row):
  // stream 3 per tile.  Then a single-tile matmul (preload 8, stream 3).
  auto& a = b.add(small, matmul(3, 19, 13, "int8", 0x8000, 0x0, 0x0, 24, 64) +
                             matmul(3, 8, 8, "int8", 0x8000, 0x200, 0x400, 8, 32) + "halt\n");
  // B: int4 with accum=1: tiles of 32, 32, 12, 20, 20, 8 bytes at 0, 32, 64,
  // 76, 96, 116: preload 4, 4, 2, 3, 3, 2.
  auto& bb = b.add(small, matmul(3, 19, 13, "int4", 0x8000, 0x0, 0x0, 24, 64, "accum=1") + "halt\n");
  // C: as A with the activations in bank 0, the weights' bank: each tile's
  // preload waits for the previous tile's stream (single port), and so does
  // the next instruction (its weights are in bank 0 too).
  auto& c = b.add(small, matmul(3, 19, 13, "int8", 0x1000, 0x0, 0x0, 24, 64) +
                             matmul(3, 8, 8, "int8", 0x1000, 0x200, 0x400, 8, 32) + "halt\n");
  // D: C on two ports: no wait, as A.
  auto& d = b.add(dual, matmul(3, 19, 13, "int8", 0x1000, 0x0, 0x0, 24, 64) +
                            matmul(3, 8, 8, "int8", 0x1000, 0x200, 0x400, 8, 32) + "halt\n");
  // E: packed rows (astride 19, cstride 52): activation lines per row of the
  // k-slices 0, 1: 1, 2, 2; k-slice 2: 1, 1, 2; result lines of n-slice 0:
  // 1, 2, 2; n-slice 1: 1, 2, 1.  Every tile streams 5 cycles.
  auto& e = b.add(small, matmul(3, 19, 13, "int8", 0x8000, 0x0, 0x0, 19, 52) + "halt\n");
  // F: weights from 0x7fc0 span banks 0 and 1 (tile 0 in bank 0, the rest in
  // bank 1): the matmul holds bank 1 until it completes, so a vector operand
  // there waits for the completion (same preload lines as A: 8-byte aligned).
  auto& f = b.add(small, matmul(3, 19, 13, "int8", 0x10000, 0x7fc0, 0x0, 24, 64) +
                             "vadd dst=0x9100 a=0x9000 bmode=imm imm=1 len=8\nhalt\n");
  b.run();
  const uint64_t s = 2 * kP400;
  for (auto& x : b.accs) {
    REQUIRE(x->error() == "");
    CHECK(retired(*x, 0).start_ps == s);
  }
  // A: (A, Pend, Sstart, Send) per tile: (0,8,8,11) (8,16,16,19) (16,19,19,22)
  // (19,24,24,27) (24,29,29,32) (29,31,32,35); done 35 + 16.
  CHECK(latency_cycles(a, 0, kP400) == 51);
  // next instruction against the last tile: A = max(Pend 31, Sstart 32) = 32,
  // Pend 40, Sstart max(40, Send 35) = 40, Send 43, done 43 + 16
  CHECK(retired(a, 1).start_ps == s + 32 * kP400);
  CHECK(retired(a, 1).done_ps == s + 59 * kP400);
  CHECK(a.stats().events.macs_int8 == 3u * 19 * 13 + 3u * 8 * 8);
  CHECK(a.stats().events.mxu_weight_loads == 6 + 1);
  // B: (0,4,4,7) (4,8,8,11) (8,10,11,14) (11,14,14,17) (14,17,17,20) (17,19,20,23); done 23 + 16
  CHECK(latency_cycles(bb, 0, kP400) == 39);
  CHECK(bb.stats().events.macs_int4 == 3u * 19 * 13);
  // C: each tile accepted at the previous Send: (0,8,8,11) (11,19,19,22)
  // (22,25,25,28) (28,33,33,36) (36,41,41,44) (44,46,46,49); done 49 + 16;
  // the next matmul at Send 49: Pend 57, Send 60, done 76
  CHECK(latency_cycles(c, 0, kP400) == 65);
  CHECK(retired(c, 1).start_ps == s + 49 * kP400);
  CHECK(retired(c, 1).done_ps == s + 76 * kP400);
  CHECK(latency_cycles(d, 0, kP400) == 51);
  CHECK(retired(d, 1).start_ps == s + 32 * kP400);
  // E: (0,8,8,13) (8,16,16,21) (16,19,21,26) (21,26,26,31) (26,31,31,36) (31,33,36,41); done 41 + 16
  CHECK(latency_cycles(e, 0, kP400) == 57);
  // F: the vector op is visible at cycle 3 and waits for bank 1 until the matmul completes
  CHECK(latency_cycles(f, 0, kP400) == 51);
  CHECK(retired(f, 1).start_ps == retired(f, 0).done_ps);
}

TEST_CASE("mxu_tiles: visiting order, tile-major weight addresses, slices and latency terms", "[timing][mxu]") {
  const hw::HwConfig small = design(CLONESIM_SOURCE_DIR "/tests/data/hw/test-8x8.yaml");
  const isa::Instruction in =
      asm_program("matmul act=0x8000 wgt=0x0 acc=0x0 m=3 k=19 n=13 wtype=int4 accum=0 astride=24 cstride=64\n").code[0];
  const auto t = sim::mxu_tiles(small, in);
  REQUIRE(t.size() == 6);
  REQUIRE(sim::mxu_tile_count(small, in) == 6);
  const uint32_t k[6] = {8, 8, 3, 8, 8, 3}, n[6] = {8, 8, 8, 5, 5, 5};
  const uint64_t wgt[6] = {0, 32, 64, 76, 96, 116}, pre[6] = {4, 4, 2, 3, 3, 2};
  for (int x = 0; x < 6; ++x) {
    INFO("tile " << x);
    CHECK(t[x].index == uint32_t(x));
    CHECK(t[x].j == uint32_t(x / 3));
    CHECK(t[x].i == uint32_t(x % 3));
    CHECK(t[x].k == k[x]);
    CHECK(t[x].n == n[x]);
    CHECK(t[x].wgt == wgt[x]);
    CHECK(t[x].act == 0x8000u + 8 * (x % 3));
    CHECK(t[x].acc == 32u * (x / 3));
    CHECK(t[x].accumulate == (x % 3 != 0));
    CHECK(t[x].last == (x == 5));
    CHECK(t[x].t.preload == pre[x]);
    CHECK(t[x].t.stream == 3);
    CHECK(t[x].t.drain == 16);
  }
  // ceil(k_i * n_j / 2) summed: (19*13 + 1) / 2
  CHECK(sim::weight_bytes(small, in) == 124);
  CHECK(sim::mxu_latency_cycles(small, in) == 39);
  // odd array sizes: every full slice of an odd R (or C) is odd
  hw::HwConfig odd = small;
  odd.mxu.rows = 3;
  odd.mxu.cols = 5;
  for (int K : {1, 2, 3, 7, 9, 10})
    for (int N : {1, 4, 5, 6, 11, 15}) {
      uint64_t sum = 0;
      for (int j = 0; j * 5 < N; ++j)
        for (int i = 0; i * 3 < K; ++i) sum += (uint64_t(std::min(3, K - 3 * i)) * std::min(5, N - 5 * j) + 1) / 2;
      CHECK(sim::weight_bytes(odd, K, N, true) == sum);
      CHECK(sim::weight_bytes(odd, K, N, false) == uint64_t(K) * N);
    }
}

// The visitor computes a tile's line terms once per k-slice and n-slice when
// every row touches the same lines (one row, or whole-line strides); they
// must equal mxu_tile_timing's, tile by tile, and so must the banks.
TEST_CASE("for_each_mxu_tile: per-slice line terms equal mxu_tile_timing's, on random matmuls", "[timing][mxu]") {
  const hw::HwConfig small = design(CLONESIM_SOURCE_DIR "/tests/data/hw/test-8x8.yaml");
  std::mt19937_64 rng(11);
  const uint64_t lb = small.scratchpad.line_bytes(), la = small.accumulator.line_bytes();
  int uniform = 0;
  for (int r = 0; r < 300; ++r) {
    isa::Instruction in;
    in.op = isa::Opcode::Matmul;
    in[isa::Field::M] = int64_t(1 + rng() % 4);
    in[isa::Field::K] = int64_t(1 + rng() % 40);
    in[isa::Field::N] = int64_t(1 + rng() % 40);
    in[isa::Field::WType] = int64_t(rng() % 2);
    in[isa::Field::Act] = int64_t(0x8000 + rng() % 300);
    in[isa::Field::Wgt] = int64_t(rng() % 200);
    in[isa::Field::Acc] = int64_t(4 * (rng() % 100));
    const bool aligned = rng() % 2;
    in[isa::Field::AStride] = aligned ? int64_t(lb * (1 + rng() % 2)) : int64_t(in[isa::Field::K] + rng() % 9);
    in[isa::Field::CStride] = aligned ? int64_t(la * (1 + rng() % 3)) : int64_t(4 * in[isa::Field::N] + 4 * (rng() % 5));
    uniform += aligned || in[isa::Field::M] == 1;
    INFO("matmul " << r);
    sim::for_each_mxu_tile(small, in, [&](const sim::MxuTile& t) {
      const sim::MxuTiming want = sim::mxu_tile_timing(small, in, t);
      CHECK(t.t.preload == want.preload);
      CHECK(t.t.stream == want.stream);
      CHECK(t.t.drain == want.drain);
      CHECK(t.t.act_lines == want.act_lines);
      CHECK(t.t.acc_lines == want.acc_lines);
      CHECK(t.t.wgt_lines == want.wgt_lines);
      CHECK(t.act_mask ==
            sim::bank_mask(small.scratchpad, t.act, (in[isa::Field::M] - 1) * in[isa::Field::AStride] + t.k));
    });
  }
  CHECK(uniform > 100);
  CHECK(uniform < 300);
}

namespace {
// A random matmul with runs of identical tiles, bank and line edges: weights,
// activations and results near a bank boundary or aligned, row strides of
// whole lines or not.
isa::Instruction random_matmul(std::mt19937_64& rng, const hw::HwConfig& hw) {
  const uint64_t lb = hw.scratchpad.line_bytes(), la = hw.accumulator.line_bytes();
  const uint64_t sbb = hw.scratchpad.bank_bytes(), abb = hw.accumulator.bank_bytes();
  const uint64_t R = hw.mxu.rows, C = hw.mxu.cols;
  isa::Instruction in;
  in.op = isa::Opcode::Matmul;
  const int shape = int(rng() % 4);
  in[isa::Field::M] = int64_t(rng() % 3 == 0 ? 1 + rng() % 70 : 1 + rng() % 3);
  in[isa::Field::K] = int64_t(shape == 0 ? R * (1 + rng() % 20) : 1 + rng() % (20 * R));
  in[isa::Field::N] = int64_t(shape == 1 ? C * (1 + rng() % 20) : 1 + rng() % (20 * C));
  in[isa::Field::WType] = int64_t(rng() % 2);
  in[isa::Field::Accum] = int64_t(rng() % 2);
  const uint64_t wb = sim::weight_bytes(hw, in);
  switch (rng() % 3) {
    case 0: in[isa::Field::Wgt] = int64_t(lb * (rng() % 64)); break;
    case 1: in[isa::Field::Wgt] = int64_t(sbb - rng() % std::max<uint64_t>(wb, 1)); break;  // across a bank
    default: in[isa::Field::Wgt] = int64_t(rng() % 300); break;
  }
  const uint64_t ak = uint64_t(in[isa::Field::K]);
  switch (rng() % 3) {
    case 0: in[isa::Field::Act] = int64_t(2 * sbb + lb * (rng() % 64)); break;
    case 1: in[isa::Field::Act] = int64_t(3 * sbb - rng() % (ak + 2 * R)); break;
    default: in[isa::Field::Act] = int64_t(2 * sbb + rng() % 300); break;
  }
  const uint64_t cn = 4 * uint64_t(in[isa::Field::N]);
  in[isa::Field::Acc] = int64_t(rng() % 2 ? 4 * (rng() % 64) : abb - 4 * (rng() % (cn / 4 + C)));
  const bool aligned = rng() % 2;
  in[isa::Field::AStride] = aligned ? int64_t(lb * ((ak + lb - 1) / lb + rng() % 2)) : int64_t(ak + rng() % 9);
  in[isa::Field::CStride] = aligned ? int64_t(la * ((cn + la - 1) / la + rng() % 2)) : int64_t(cn + 4 * (rng() % 5));
  return in;
}

// Each tile's fields recomputed from its position alone (docs/timing.md, MXU).
sim::MxuTile tile_by_hand(const hw::HwConfig& hw, const isa::Instruction& in, uint64_t x, uint64_t wgt) {
  const uint64_t R = hw.mxu.rows, C = hw.mxu.cols, K = in[isa::Field::K], N = in[isa::Field::N];
  const uint64_t M = in[isa::Field::M], as = in[isa::Field::AStride], cs = in[isa::Field::CStride];
  const uint64_t kt = (K + R - 1) / R, nt = (N + C - 1) / C;
  sim::MxuTile t;
  t.index = uint32_t(x);
  t.i = uint32_t(x % kt);
  t.j = uint32_t(x / kt);
  t.k = uint32_t(std::min(R, K - t.i * R));
  t.n = uint32_t(std::min(C, N - t.j * C));
  t.wgt = wgt;
  t.wgt_bytes = in[isa::Field::WType] == 1 ? (uint64_t(t.k) * t.n + 1) / 2 : uint64_t(t.k) * t.n;
  t.act = uint64_t(in[isa::Field::Act]) + t.i * R;
  t.acc = uint64_t(in[isa::Field::Acc]) + 4 * t.j * C;
  t.accumulate = t.i > 0 || in[isa::Field::Accum] != 0;
  t.last = x + 1 == kt * nt;
  t.wgt_mask = sim::bank_mask(hw.scratchpad, t.wgt, t.wgt_bytes);
  t.act_mask = sim::bank_mask(hw.scratchpad, t.act, (M - 1) * as + t.k);
  const uint32_t lbs = hw.scratchpad.line_bytes(), lba = hw.accumulator.line_bytes();
  t.t.wgt_lines = t.t.preload = sim::lines_touched(t.wgt, t.wgt_bytes, lbs);
  for (uint64_t m = 0; m < M; ++m) {
    const uint64_t a = sim::lines_touched(t.act + m * as, t.k, lbs), c = sim::lines_touched(t.acc + m * cs, 4 * t.n, lba);
    t.t.stream += std::max(a, c);
    t.t.act_lines += a;
    t.t.acc_lines += c;
  }
  t.t.drain = R + C;
  return t;
}

// Per-tile pipeline times and per-bank line accesses, as the simulator counts them.
struct TileTimes {
  uint64_t a, p_end, s_start, s_end;
  bool operator==(const TileTimes& o) const {
    return a == o.a && p_end == o.p_end && s_start == o.s_start && s_end == o.s_end;
  }
};
struct LineStats {
  std::map<uint64_t, uint64_t> wgt, act, acc_w, acc_r;
  uint64_t tiles = 0;
  bool operator==(const LineStats& o) const {
    return wgt == o.wgt && act == o.act && acc_w == o.acc_w && acc_r == o.acc_r && tiles == o.tiles;
  }
};
uint64_t low_bank(uint64_t mask, uint64_t addr, uint64_t bb) { return mask ? uint64_t(__builtin_ctzll(mask)) : addr / bb; }
}  // namespace

// The tiles of a matmul, expanded from its runs of identical tiles, have the
// fields, bank masks and terms each tile has on its own.
TEST_CASE("for_each_mxu_tile_run: every tile of a run equals the tile computed alone, on random matmuls",
          "[timing][mxu]") {
  for (const char* f : {"test-8x8.yaml", "test-16x16.yaml"}) {
    const hw::HwConfig hw = design(std::string(CLONESIM_SOURCE_DIR "/tests/data/hw/") + f);
    std::mt19937_64 rng(23);
    uint64_t runs = 0, tiles = 0;
    for (int r = 0; r < 400; ++r) {
      const isa::Instruction in = random_matmul(rng, hw);
      INFO(f << " matmul " << r << ": " << isa::disassemble(in));
      uint64_t x = 0, wgt = in[isa::Field::Wgt];
      sim::for_each_mxu_tile_run(hw, in, [&](const sim::MxuTileRun& run) {
        REQUIRE(run.count >= 1);
        ++runs;
        uint64_t accumulating = 0;
        for (uint64_t q = 0; q < run.count; ++q, ++x) {
          const sim::MxuTile got = sim::mxu_run_tile(hw, run, q), want = tile_by_hand(hw, in, x, wgt);
          INFO("tile " << x << " (run tile " << q << " of " << run.count << ")");
          REQUIRE(got.index == want.index);
          REQUIRE(got.i == want.i);
          REQUIRE(got.j == want.j);
          REQUIRE(got.k == want.k);
          REQUIRE(got.n == want.n);
          REQUIRE(got.wgt == want.wgt);
          REQUIRE(got.wgt_bytes == want.wgt_bytes);
          REQUIRE(got.act == want.act);
          REQUIRE(got.acc == want.acc);
          REQUIRE(got.accumulate == want.accumulate);
          REQUIRE(got.last == want.last);
          REQUIRE(got.wgt_mask == want.wgt_mask);
          REQUIRE(got.act_mask == want.act_mask);
          REQUIRE(got.t.preload == want.t.preload);
          REQUIRE(got.t.stream == want.t.stream);
          REQUIRE(got.t.drain == want.t.drain);
          REQUIRE(got.t.wgt_lines == want.t.wgt_lines);
          REQUIRE(got.t.act_lines == want.t.act_lines);
          REQUIRE(got.t.acc_lines == want.t.acc_lines);
          const sim::MxuTiming alone = sim::mxu_tile_timing(hw, in, got);
          REQUIRE(alone.preload == want.t.preload);
          REQUIRE(alone.stream == want.t.stream);
          REQUIRE(alone.act_lines == want.t.act_lines);
          REQUIRE(alone.acc_lines == want.t.acc_lines);
          // the statistics' banks are the run's
          REQUIRE(low_bank(got.wgt_mask, got.wgt, hw.scratchpad.bank_bytes()) ==
                  low_bank(run.first.wgt_mask, run.first.wgt, hw.scratchpad.bank_bytes()));
          REQUIRE(low_bank(got.act_mask, got.act, hw.scratchpad.bank_bytes()) ==
                  low_bank(run.first.act_mask, run.first.act, hw.scratchpad.bank_bytes()));
          REQUIRE(got.acc / hw.accumulator.bank_bytes() == run.first.acc / hw.accumulator.bank_bytes());
          accumulating += got.accumulate;
          wgt += want.wgt_bytes;
        }
        REQUIRE(run.accumulating == accumulating);
      });
      REQUIRE(x == sim::mxu_tile_count(hw, in));
      REQUIRE(wgt - uint64_t(in[isa::Field::Wgt]) == sim::weight_bytes(hw, in));
      tiles += x;
    }
    CHECK(2 * tiles > 3 * runs);  // the runs do batch (random shapes and addresses often break them)
  }
}

// mxu_run_batched against mxu_run, tile by tile: every tile's accept, preload
// end, stream start and stream end, the completion, the pipeline left behind
// and the line accesses per bank, for random matmuls back to back, with one
// and two scratchpad ports.
TEST_CASE("mxu_run_batched: the same per-tile times, completion and statistics as mxu_run, on random matmuls",
          "[timing][mxu]") {
  for (const char* f : {"test-8x8.yaml", "test-16x16.yaml"})
    for (uint32_t ports : {1u, 2u}) {
      hw::HwConfig hw = design(std::string(CLONESIM_SOURCE_DIR "/tests/data/hw/") + f);
      hw.scratchpad.ports = ports;
      const uint64_t sbb = hw.scratchpad.bank_bytes(), abb = hw.accumulator.bank_bytes();
      std::mt19937_64 rng(ports * 7 + f[5]);
      sim::MxuPipe ref, bat;
      uint64_t t0 = 0, jumps = 0;
      for (int r = 0; r < 300; ++r) {
        const isa::Instruction in = random_matmul(rng, hw);
        INFO(f << " ports " << ports << " matmul " << r << ": " << isa::disassemble(in));
        const uint64_t P = 1 + rng() % 3000;
        // tile 0 at an edge that satisfies the accept rule, sometimes later
        const sim::MxuTile first = tile_by_hand(hw, in, 0, in[isa::Field::Wgt]);
        REQUIRE(sim::mxu_ready(hw, ref, first.wgt_mask) == sim::mxu_ready(hw, bat, first.wgt_mask));
        const uint64_t start = std::max(t0, sim::mxu_ready(hw, ref, first.wgt_mask)) + (rng() % 3 ? 0 : P * (rng() % 50));
        std::vector<TileTimes> want, got;
        LineStats ws, gs;
        const uint64_t done_ref = sim::mxu_run(hw, in, start, P, ref, [&](const sim::MxuTile& tl, uint64_t a) {
          want.push_back({a, ref.p_end, ref.s_start, ref.s_end});
          ws.wgt[low_bank(tl.wgt_mask, tl.wgt, sbb)] += tl.t.wgt_lines;
          ws.act[low_bank(tl.act_mask, tl.act, sbb)] += tl.t.act_lines;
          ws.acc_w[tl.acc / abb] += tl.t.acc_lines;
          if (tl.accumulate) ws.acc_r[tl.acc / abb] += tl.t.acc_lines;
          ++ws.tiles;
        });
        const uint64_t done_bat =
            sim::mxu_run_batched(hw, in, start, P, bat, [&](const sim::MxuTileRun& run, uint64_t a, uint64_t d) {
              const uint64_t n = run.count;
              if (n > 1) ++jumps;
              for (uint64_t q = 0; q < n; ++q) {
                const uint64_t back = (n - 1 - q) * d;
                got.push_back({a + q * d, bat.p_end - back, bat.s_start - back, bat.s_end - back});
              }
              const sim::MxuTile& tl = run.first;
              gs.wgt[low_bank(tl.wgt_mask, tl.wgt, sbb)] += n * tl.t.wgt_lines;
              gs.act[low_bank(tl.act_mask, tl.act, sbb)] += n * tl.t.act_lines;
              gs.acc_w[tl.acc / abb] += n * tl.t.acc_lines;
              if (run.accumulating) gs.acc_r[tl.acc / abb] += run.accumulating * tl.t.acc_lines;
              gs.tiles += n;
            });
        REQUIRE(got.size() == want.size());
        for (size_t q = 0; q < want.size(); ++q) {
          INFO("tile " << q);
          REQUIRE(got[q].a == want[q].a);
          REQUIRE(got[q].p_end == want[q].p_end);
          REQUIRE(got[q].s_start == want[q].s_start);
          REQUIRE(got[q].s_end == want[q].s_end);
        }
        REQUIRE(done_bat == done_ref);
        REQUIRE(bat.p_end == ref.p_end);
        REQUIRE(bat.s_start == ref.s_start);
        REQUIRE(bat.s_end == ref.s_end);
        REQUIRE(bat.act_mask == ref.act_mask);
        REQUIRE(gs == ws);
        REQUIRE(sim::mxu_latency_cycles(hw, in) == [&] {
          sim::MxuPipe idle;
          return sim::mxu_run(hw, in, 0, 1, idle, [](const sim::MxuTile&, uint64_t) {});
        }());
        // the next matmul may come at once or after a gap
        t0 = rng() % 2 ? 0 : done_ref + P * (rng() % 10);
      }
      CHECK(jumps > 50);
    }
}

// The divider the clocks and the DMA pipeline use instead of a division.
TEST_CASE("FastDiv: n / d exactly, for divisors and dividends over the whole 64-bit range", "[timing]") {
  std::mt19937_64 rng(5);
  std::vector<uint64_t> ds = {1, 2, 3, 5, 7, 10, 64, 1000, 1250, 1563, 2500, 3333, 1ull << 32, (1ull << 32) + 1,
                              (1ull << 63) - 1, 1ull << 63, (1ull << 63) + 1, ~0ull - 1, ~0ull};
  for (int k = 0; k < 300; ++k) ds.push_back(1 + (rng() >> (rng() % 64)));
  for (const uint64_t d : ds) {
    const sim::FastDiv div(d);
    INFO("d = " << d);
    REQUIRE(div.divisor() == d);
    std::vector<uint64_t> ns = {0, 1, d - 1, d, d + 1, 2 * d - 1, 2 * d, ~0ull, ~0ull - 1, ~0ull / d * d, ~0ull / d * d - 1};
    for (int k = 0; k < 2000; ++k) {
      const uint64_t n = rng() >> (rng() % 64);
      ns.push_back(n);
      ns.push_back(n / d * d);
      ns.push_back(n / d * d - 1);
    }
    for (const uint64_t n : ns) {
      INFO("n = " << n);
      REQUIRE(div(n) == n / d);
    }
  }
  // a clock's edges
  sim::DomainClock c;
  c.base = 7000;
  c.set_period(1250);
  CHECK(c.next_edge(0) == 7000);
  CHECK(c.next_edge(7000) == 7000);
  CHECK(c.next_edge(7001) == 8250);
  CHECK(c.next_edge(8250) == 8250);
  CHECK(c.edge_after(8250, 2) == 10750);
  CHECK(c.is_edge(9500));
  CHECK(!c.is_edge(9499));
  CHECK(!c.is_edge(5750));
}

TEST_CASE("vector latency = steps * conflict cycles + fixed, for every op class", "[timing][vxu]") {
  const hw::HwConfig small = single_clock(design(CLONESIM_SOURCE_DIR "/tests/data/hw/test-8x8.yaml"), 400);  // L=8, sp banks 32 KiB, acc banks 8 KiB
  hw::HwConfig dual = small;
  dual.scratchpad.ports = 2;
  const hw::HwConfig clone = single_clock(design(CLONESIM_SOURCE_DIR "/tests/data/hw/test-16x16.yaml"), 400);  // L=16
  REQUIRE(small.vxu.lanes == 8);
  REQUIRE(small.scratchpad.bank_bytes() == 0x8000);
  REQUIRE(small.accumulator.bank_bytes() == 0x2000);
  struct Case {
    const hw::HwConfig* hw;
    const char* text;
    uint64_t expect;
  };
  const std::vector<Case> cases = {
      {&small, "vadd dst=0x10000 a=0x0 b=0x8000 bmode=vec len=64", 8 * 1 + 2},            // three banks
      {&small, "vadd dst=0x10000 a=0x0 b=0x100 bmode=vec len=64", 8 * 2 + 2},             // a, b share bank 0
      {&small, "vsub dst=0x200 a=0x0 b=0x100 bmode=vec len=64", 8 * 3 + 2},               // all in bank 0
      {&dual, "vsub dst=0x200 a=0x0 b=0x100 bmode=vec len=64", 8 * 2 + 2},                // 2 ports: ceil(3/2)
      {&small, "vmax dst=0x10000 a=0x0 b=0x8000 bmode=vec len=61", 8 * 1 + 2},            // partial last step
      {&small, "vmul dst=0x0 dspace=sp a=0x0 aspace=acc b=0x1000 bspace=acc bmode=vec len=16", 2 * 2 + 3},
      {&small, "vredsum dst=0x0 dspace=acc a=0x0 len=64", 8 + 2 + 3 + 1},                 // log2(8)=3
      {&small, "vredmax dst=0x0 dspace=acc a=0x0 len=8", 1 + 2 + 3 + 1},
      {&small, "vrecip dst=0x2000 dspace=acc a=0x0 aspace=acc len=8 shift=16", 32 + 2},
      {&small, "vrsqrt dst=0x2000 dspace=acc a=0x0 aspace=acc len=16 shift=16", 2 * 32 + 2},
      {&small, "vadd dst=0x10000 a=0x0 b=0x8000 bmode=scalar len=64", 8 + 2 + 1},        // scalar fetch
      {&small, "vadd dst=0x10000 a=0x0 bmode=imm imm=3 len=64", 8 + 2},
      {&small, "lutld a=0x0 imm=0", 64 + 2},                                               // 512 B / 8 B lines
      {&small, "vlut dst=0x8000 a=0x0 imm=0 len=64", 8 + 2},
      {&small, "vrot dst=0x8000 a=0x0 imm=4 len=64", 8 + 2},
      // per-channel requant: table of 8-byte pairs, 8 lanes * 8 B = 2 acc lines per step in bank 1
      {&small, "vrequant dst=0x0 a=0x0 aspace=acc b=0x2000 bspace=acc bmode=vec imm2=16 len=16", 2 * 2 + 3},
      {&small, "vrequant dst=0x0 a=0x0 aspace=acc imm=1000 shift=10 len=16", 2 * 1 + 3},
      {&small, "vclamp dst=0x8000 a=0x0 imm=-5 imm2=5 len=9", 2 * 1 + 2},
      {&clone, "vadd dst=0x10000 a=0x0 b=0x8000 bmode=vec len=100", 7 + 2},                // L=16
      {&clone, "vredmax dst=0x0 dspace=acc a=0x0 len=256", 16 + 2 + 4 + 1},
  };
  Bench b;
  for (const auto& c : cases) b.add(*c.hw, std::string(c.text) + "\nhalt\n", {sim::Mode::Timing});
  b.run();
  for (size_t i = 0; i < cases.size(); ++i) {
    INFO("case " << i << ": " << cases[i].text);
    REQUIRE(b.accs[i]->error() == "");
    CHECK(latency_cycles(*b.accs[i], 0, kP400) == cases[i].expect);
  }
}

namespace {
// docs/timing.md, DMA load: issue_i = max(issue_{i-1} + P, free_{i-O}); data
// written in order, one line per cycle.
uint64_t reference_load(const hw::HwConfig& hw, uint64_t s, uint64_t dram_addr, uint64_t sram, uint64_t rows,
                        uint64_t bytes, uint64_t dstride, uint64_t sstride, uint64_t P) {
  dram::DramModel d(hw.dram);
  const uint64_t burst = hw.dma.burst_bytes, O = hw.dma.outstanding, lb = hw.scratchpad.line_bytes();
  std::vector<uint64_t> freed;
  uint64_t issue = s, w = s;
  for (uint64_t r = 0; r < rows; ++r) {
    uint64_t a = dram_addr + r * dstride, sa = sram + r * sstride, left = bytes;
    while (left) {
      const uint64_t n = std::min(left, burst - a % burst);
      const size_t i = freed.size();
      if (i >= O) issue = std::max(issue, freed[i - O]);
      const uint64_t done = d.access(a, uint32_t(n), false, issue).done_ps;
      const uint64_t c = (done + P - 1) / P * P;
      const uint64_t lines = (sa + n - 1) / lb - sa / lb + 1;
      w = std::max(w, c) + lines * P;
      freed.push_back(w);
      issue += P;
      a += n;
      sa += n;
      left -= n;
    }
  }
  return w;
}

uint64_t reference_store(const hw::HwConfig& hw, uint64_t s, uint64_t dram_addr, uint64_t sram, uint64_t bytes,
                         uint64_t P) {
  dram::DramModel d(hw.dram);
  const uint64_t burst = hw.dma.burst_bytes, O = hw.dma.outstanding, lb = hw.scratchpad.line_bytes();
  std::vector<uint64_t> freed;
  uint64_t read_end = s, issue_prev = 0, done = s;
  uint64_t a = dram_addr, sa = sram, left = bytes;
  bool first = true;
  while (left) {
    const uint64_t n = std::min(left, burst - a % burst);
    const size_t i = freed.size();
    uint64_t rs = read_end;
    if (i >= O) rs = std::max(rs, freed[i - O]);
    read_end = rs + ((sa + n - 1) / lb - sa / lb + 1) * P;
    const uint64_t issue = first ? std::max(read_end, s) : std::max(read_end, issue_prev + P);
    first = false;
    const uint64_t c = (d.access(a, uint32_t(n), true, issue).done_ps + P - 1) / P * P;
    freed.push_back(c);
    done = std::max(done, c);
    issue_prev = issue;
    a += n;
    sa += n;
    left -= n;
  }
  return done;
}
}  // namespace

TEST_CASE("DMA load and store follow the request pipeline recurrence", "[timing][dma]") {
  const hw::HwConfig small = single_clock(design(CLONESIM_SOURCE_DIR "/tests/data/hw/test-8x8.yaml"), 400);
  hw::HwConfig one_out = small;
  one_out.dma.outstanding = 1;
  Bench b;
  b.add(small, "load dram=0x0 sram=0x0 bytes=64\nhalt\n");
  b.add(small, "load dram=0x40 sram=0x0 bytes=4096\nhalt\n");
  b.add(small, "load dram=0x1234 sram=0x10 rows=4 bytes=200 dstride=1000 sstride=256\nhalt\n");
  b.add(one_out, "load dram=0x0 sram=0x0 bytes=4096\nhalt\n");
  b.add(small, "store dram=0x10000 sram=0x0 bytes=1024\nhalt\n");
  b.run();
  for (auto& a : b.accs) REQUIRE(a->error() == "");
  const uint64_t s = 2 * kP400;
  CHECK(retired(*b.accs[0], 0).start_ps == s);
  CHECK(retired(*b.accs[0], 0).done_ps == reference_load(small, s, 0x0, 0, 1, 64, 0, 0, kP400));
  CHECK(retired(*b.accs[1], 0).done_ps == reference_load(small, s, 0x40, 0, 1, 4096, 0, 0, kP400));
  CHECK(retired(*b.accs[2], 0).done_ps == reference_load(small, s, 0x1234, 0x10, 4, 200, 1000, 256, kP400));
  CHECK(retired(*b.accs[3], 0).done_ps == reference_load(one_out, s, 0x0, 0, 1, 4096, 0, 0, kP400));
  CHECK(retired(*b.accs[4], 0).done_ps == reference_store(small, s, 0x10000, 0, 1024, kP400));
  // One outstanding request serialises the DRAM latency: strictly slower.
  CHECK(retired(*b.accs[3], 0).done_ps > retired(*b.accs[1], 0).done_ps);
  // 4 rows of 200 bytes from 0x1234 in 64-byte bursts: each row is split at
  // 64-byte DRAM boundaries -> 4 requests per row.
  CHECK(b.accs[2]->stats().events.dma_requests == 16);
  CHECK(b.accs[1]->stats().events.dma_requests == 64);
  CHECK(b.accs[1]->stats().dram_total.read_bytes == 4096);
  CHECK(b.accs[4]->stats().dram_total.write_bytes == 1024);
  // SRAM writes: 4096 bytes / 8-byte lines into bank 0
  CHECK(b.accs[1]->stats().sram[0][0][0].writes == 512);
  CHECK(b.accs[4]->stats().sram[0][0][0].reads == 128);
}

TEST_CASE("a unit waits for the SRAM bank another unit holds (bank stall exact)", "[timing][bank]") {
  const hw::HwConfig small = single_clock(design(CLONESIM_SOURCE_DIR "/tests/data/hw/test-8x8.yaml"), 400);
  hw::HwConfig dual = small;
  dual.scratchpad.ports = 2;
  const char* prog =
      "load dram=0x0 sram=0x0 bytes=4096\n"
      "vadd dst=0x10000 a=0x100 b=0x8000 bmode=vec len=64\n"
      "halt\n";
  Bench b;
  b.add(small, prog);
  b.add(dual, prog);
  b.run();
  for (auto& a : b.accs) REQUIRE(a->error() == "");
  const auto& load = retired(*b.accs[0], 0);
  const auto& vadd = retired(*b.accs[0], 1);
  // vadd dispatched at cycle 1, visible at cycle 3, waits for bank 0 until the load completes
  CHECK(vadd.start_ps == load.done_ps);
  const int v = unit_index(*b.accs[0], "vector[0]");
  CHECK(b.accs[0]->stats().units[v].stall_ps[int(sim::StallReason::Bank)] == load.done_ps - 3 * kP400);
  // with two ports both run at once
  CHECK(retired(*b.accs[1], 1).start_ps == 3 * kP400);
  CHECK(b.accs[1]->stats().units[v].stall_ps[int(sim::StallReason::Bank)] == 0);
}

TEST_CASE("semaphores order units, and crossing clock domains costs sync_cycles edges", "[timing][sync]") {
  // clone-28nm as shipped: compute 1000 MHz (1000 ps), memory 800 MHz (1250 ps), always-on 800 MHz
  const hw::HwConfig clone = design(CLONESIM_SOURCE_DIR "/tests/data/hw/test-16x16.yaml");
  REQUIRE(clone.domain(hw::Domain::Compute).points[clone.domain(hw::Domain::Compute).initial].period_ps == 1000);
  REQUIRE(clone.domain(hw::Domain::Memory).points[clone.domain(hw::Domain::Memory).initial].period_ps == 1250);
  REQUIRE(clone.controller.sync_cycles == 2);
  Bench b;
  auto& a = b.add(clone,
                  "load dram=0x0 sram=0x0 bytes=256 signal=s1\n"
                  "matmul act=0x8000 wgt=0x0 acc=0x0 m=1 k=16 n=16 astride=16 cstride=64 wait=s1 signal=s2\n"
                  "store dram=0x100000 sram=0x0 space=acc bytes=64 wait=s2\n"
                  "halt\n");
  b.run();
  REQUIRE(a.error() == "");
  const auto& ld = retired(a, 0);
  const auto& mm = retired(a, 1);
  const auto& st = retired(a, 2);
  // load: dispatched at 0, visible at the 2nd memory edge after 0
  CHECK(ld.start_ps == 2500);
  // matmul: the 2nd compute edge strictly after the load's completion
  CHECK(mm.start_ps == (ld.done_ps / 1000 + 1) * 1000 + 1000);
  CHECK(mm.done_ps - mm.start_ps == (16 + 1 + 32) * 1000);
  // store: the 2nd memory edge strictly after the matmul's completion
  CHECK(st.start_ps == (mm.done_ps / 1250 + 1) * 1250 + 1250);
  // halt: the 2nd always-on edge after the store completes
  CHECK(a.stats().time_ps == (st.done_ps / 1250 + 1) * 1250 + 1250);
  const int mx = unit_index(a, "matrix[0]");
  CHECK(a.stats().units[mx].stall_ps[int(sim::StallReason::Semaphore)] > 0);
}

TEST_CASE("DVFS: the transition stalls its domain for the documented time", "[timing][dvfs]") {
  const hw::HwConfig small = design(CLONESIM_SOURCE_DIR "/tests/data/hw/test-8x8.yaml");  // every domain 400 MHz; point 0 is 200 MHz
  const auto& c = small.domain(hw::Domain::Compute);
  REQUIRE(c.points[0].period_ps == 5000);
  REQUIRE(c.points[1].period_ps == 2500);
  REQUIRE(c.transition_ps == 200000);
  Bench b;
  auto& a = b.add(small,
                  "dvfs domain=compute point=0\n"
                  "vadd dst=0x10000 a=0x0 b=0x8000 bmode=vec len=64\n"
                  "halt\n",
                  {sim::Mode::Timing});
  b.run();
  REQUIRE(a.error() == "");
  // transition [0, 200 ns); the controller waits for it, dispatches the vadd
  // at 200000, which is visible 2 compute edges later (5000 ps each)
  const auto& v = retired(a, 1);
  CHECK(v.start_ps == 210000);
  CHECK(v.done_ps - v.start_ps == 10 * 5000);
  // halt sees it 2 always-on edges later
  CHECK(a.stats().time_ps == 260000 + 2 * 2500);
  const auto& ds = a.stats().domains[int(hw::Domain::Compute)];
  CHECK(ds.transitions == 1);
  CHECK(ds.transition_ps == 200000);
  CHECK(ds.time_ps_at_point[0] == 265000 - 200000);
  CHECK(ds.time_ps_at_point[1] == 0);
  // compute cycles: 40 during the transition at the new period, 13 after
  CHECK(a.stats().cycles == 40 + 13);
  REQUIRE(a.dvfs_changes().size() == 1);
  CHECK(a.dvfs_changes()[0].end_ps == 200000);
}

TEST_CASE("a full unit queue stalls dispatch (queue_full), halt drains", "[timing][controller]") {
  const hw::HwConfig small = single_clock(design(CLONESIM_SOURCE_DIR "/tests/data/hw/test-8x8.yaml"), 400);
  REQUIRE(small.controller.queue_depth == 4);
  std::string prog;
  for (int i = 0; i < 10; ++i) prog += "vadd dst=0x10000 a=0x0 b=0x8000 bmode=vec len=8\n";  // 3 cycles each
  prog += "halt\n";
  Bench b;
  auto& a = b.add(small, prog, {sim::Mode::Timing});
  b.run();
  REQUIRE(a.error() == "");
  // VXU: starts at 2, 10 x 3 cycles, done at 32; halt at 34.
  CHECK(a.stats().cycles == 34);
  for (uint32_t i = 0; i < 10; ++i) CHECK(retired(a, i).start_ps == (2 + 3 * i) * kP400);
  const auto& ctrl = a.stats().units[unit_index(a, "control")];
  // dispatch stalls on [5,7), [8,10), [11,13), [14,16), [17,19): the queue
  // frees a slot 2 cycles after each pop
  CHECK(ctrl.stall_ps[int(sim::StallReason::QueueFull)] == 10 * kP400);
  CHECK(ctrl.stall_ps[int(sim::StallReason::Drain)] == 14 * kP400);
}

TEST_CASE("functional and timing-only modes give identical cycles", "[timing][modes]") {
  const hw::HwConfig clone = design(CLONESIM_SOURCE_DIR "/tests/data/hw/test-16x16.yaml");
  const char* prog =
      "load dram=0x0 sram=0x0 rows=16 bytes=256 dstride=4096 sstride=256 tile=all signal=s1\n"
      "load dram=0x100000 sram=0x8000 rows=16 bytes=16 dstride=16 sstride=16 tile=all signal=s2\n"
      "matmul act=0x8000 wgt=0x0 acc=0x0 m=16 k=16 n=16 astride=16 cstride=64 tile=all wait=s1,s2 signal=s3\n"
      "vrequant dst=0x10000 a=0x0 aspace=acc imm=12345 shift=20 len=256 tile=all wait=s3 signal=s4\n"
      "store dram=0x200000 sram=0x10000 bytes=256 tile=1 wait=s4\n"
      "halt\n";
  Bench b;
  auto& f = b.add(clone, prog, {sim::Mode::Functional});
  auto& t = b.add(clone, prog, {sim::Mode::Timing});
  b.run();
  REQUIRE(f.error() == "");
  REQUIRE(t.error() == "");
  CHECK(f.stats().cycles == t.stats().cycles);
  CHECK(f.stats().time_ps == t.stats().time_ps);
  REQUIRE(f.retirements().size() == t.retirements().size());
  for (size_t i = 0; i < f.retirements().size(); ++i) {
    CHECK(f.retirements()[i].index == t.retirements()[i].index);
    CHECK(f.retirements()[i].done_ps == t.retirements()[i].done_ps);
  }
  CHECK(f.stats().events.macs_int8 == 2 * 16 * 16 * 16);
}

TEST_CASE("DMA channels: a waiting transfer of one tile does not block another tile's", "[timing][dma]") {
  hw::HwConfig one = single_clock(design(CLONESIM_SOURCE_DIR "/tests/data/hw/test-16x16.yaml"), 400);
  one.dma.channels = 1;
  hw::HwConfig two = one;
  two.dma.channels = 2;
  // tile 0's second load waits for a vector op that runs late; tile 1's load comes after it
  const char* prog =
      "vrecip dst=0x0 dspace=acc a=0x0 aspace=acc len=64 shift=8 tile=0 signal=s1\n"
      "load dram=0x0 sram=0x0 bytes=256 tile=0 wait=s1\n"
      "load dram=0x1000 sram=0x0 bytes=256 tile=1\n"
      "halt\n";
  Bench b;
  auto& a1 = b.add(one, prog, {sim::Mode::Timing});
  auto& a2 = b.add(two, prog, {sim::Mode::Timing});
  b.run();
  REQUIRE(a1.error() == "");
  REQUIRE(a2.error() == "");
  // vrecip: 64 elements / 16 lanes = 4 steps of 32 cycles + 2, from cycle 2
  CHECK(retired(a1, 0).done_ps == (2 + 4 * 32 + 2) * 2500);
  // one channel: tile 1's load sits behind tile 0's in the single load queue
  CHECK(retired(a1, 2).start_ps >= retired(a1, 1).done_ps);
  // two channels: tile 1's load (channel 1) starts as soon as it is visible:
  // dispatched at cycle 2, visible 2 cycles later
  CHECK(retired(a2, 2).start_ps == 4 * 2500);
  CHECK(a2.stats().units[unit_index(a2, "load[1]")].instructions == 1);
  CHECK(a2.stats().units[unit_index(a2, "load[0]")].stall_ps[int(sim::StallReason::Semaphore)] > 0);
  CHECK(a2.stats().cycles < a1.stats().cycles);
}

TEST_CASE("control instructions take one always-on cycle; DMA recurrence on a second design point", "[timing][controller][dma]") {
  const hw::HwConfig big = single_clock(design(CLONESIM_SOURCE_DIR "/tests/data/hw/test-16x16.yaml"), 400);
  REQUIRE(big.dma.burst_bytes == 64);
  REQUIRE(big.scratchpad.line_bytes() == 16);
  Bench b;
  // five control instructions, then a vadd: dispatched at cycle 5, visible at 7
  auto& c = b.add(big,
                  "nop\nctx.set reg=c1 value=5\nctx.add reg=c2 src=c1 value=1\nctx.mul reg=c3 src=c2 value=2\nnop\n"
                  "vadd dst=0x10000 a=0x0 b=0x8000 bmode=vec len=16\nhalt\n",
                  {sim::Mode::Timing});
  auto& l = b.add(big, "load dram=0x2340 sram=0x20 rows=3 bytes=300 dstride=4096 sstride=512\nhalt\n");
  auto& s = b.add(big, "store dram=0x80 sram=0x40 bytes=700\nhalt\n");
  b.run();
  REQUIRE(c.error() == "");
  REQUIRE(l.error() == "");
  REQUIRE(s.error() == "");
  CHECK(retired(c, 5).start_ps == 7 * kP400);
  CHECK(retired(c, 5).done_ps == (7 + 1 + 2) * kP400);  // one 16-lane step + 2
  CHECK(c.stats().cycles == 10 + 2);
  CHECK(retired(l, 0).done_ps == reference_load(big, 2 * kP400, 0x2340, 0x20, 3, 300, 4096, 512, kP400));
  CHECK(retired(s, 0).done_ps == reference_store(big, 2 * kP400, 0x80, 0x40, 700, kP400));
}

namespace {
// M x N int32 results of an int8 matmul on tile-major weights (docs/isa.md,
// matmul): the R x C array tiles of the K x N weights, n-slice outer.
std::vector<int32_t> reference_matmul(const std::vector<uint8_t>& sp, uint64_t act, uint64_t wgt, int M, int K, int N,
                                      int astride, int R, int C) {
  std::vector<int32_t> out(size_t(M) * N, 0);
  uint64_t off = wgt;
  for (int j = 0; j * C < N; ++j) {
    const int nj = std::min(C, N - j * C);
    for (int i = 0; i * R < K; ++i) {
      const int ki = std::min(R, K - i * R);
      for (int m = 0; m < M; ++m)
        for (int n = 0; n < nj; ++n)
          for (int k = 0; k < ki; ++k)
            out[size_t(m) * N + j * C + n] +=
                int8_t(sp[act + uint64_t(m) * astride + i * R + k]) * int8_t(sp[off + uint64_t(k) * nj + n]);
      off += uint64_t(ki) * nj;
    }
  }
  return out;
}
}  // namespace

TEST_CASE("cnt_alt: a matmul whose k comes from a context register equals the immediate k, cycles and results",
          "[timing][mxu][ctx]") {
  // test-8x8: M = 3, K = 19 = 2R+3, N = 13 = C+5, six array tiles: latency 51
  // (worked out in "a matmul larger than the array ..." above).  A control
  // instruction first (ctx.set or nop): the matmul is dispatched at cycle 1
  // and visible at 3.
  const hw::HwConfig small = single_clock(design(CLONESIM_SOURCE_DIR "/tests/data/hw/test-8x8.yaml"), 400);
  sim::Options host;
  host.ctx[5] = 19;  // k set by the host
  sim::Options host_timing = host;
  host_timing.mode = sim::Mode::Timing;
  const std::string from_reg = "ctx.set reg=c2 value=19\n" +
                               matmul(3, 0, 13, "int8", 0x8000, 0x0, 0x0, 24, 64, "cnt_alt=c2") + "halt\n";
  const std::string from_host = "nop\n" + matmul(3, 0, 13, "int8", 0x8000, 0x0, 0x0, 24, 64, "cnt_alt=c5") + "halt\n";
  const std::string imm = "nop\n" + matmul(3, 19, 13, "int8", 0x8000, 0x0, 0x0, 24, 64) + "halt\n";
  // k = 8 from a register: one k-slice, a shorter matmul than k = 19
  const std::string from_reg8 = "ctx.set reg=c2 value=8\n" +
                                matmul(3, 1234, 13, "int8", 0x8000, 0x0, 0x0, 24, 64, "cnt_alt=c2") + "halt\n";
  const std::string imm8 = "nop\n" + matmul(3, 8, 13, "int8", 0x8000, 0x0, 0x0, 24, 64) + "halt\n";
  Bench b;
  auto& r = b.add(small, from_reg);
  auto& h = b.add(small, from_host, host);
  auto& i = b.add(small, imm);
  auto& rt = b.add(small, from_reg, {sim::Mode::Timing});
  auto& ht = b.add(small, from_host, host_timing);
  auto& r8 = b.add(small, from_reg8);
  auto& i8 = b.add(small, imm8);
  std::mt19937 rng(7);
  std::vector<uint8_t> data(0x8000 + 3 * 24);
  for (auto& x : data) x = uint8_t(rng());
  for (auto& a : b.accs)  // memories exist in functional mode only
    if (!a->tile(0).sp.empty()) std::copy(data.begin(), data.end(), a->tile(0).sp.begin());
  b.run();
  for (auto& a : b.accs) REQUIRE(a->error() == "");
  const uint64_t s = 3 * kP400;
  for (sim::Accelerator* a : {&r, &h, &i, &rt, &ht}) {
    CHECK(retired(*a, 1).start_ps == s);
    CHECK(latency_cycles(*a, 1, kP400) == 51);
    CHECK(a->stats().cycles == 1 + 2 + 51 + 2);
    CHECK(a->stats().events.macs_int8 == 3u * 19 * 13);
    CHECK(a->stats().events.mxu_weight_loads == 6);
  }
  // the results: 3 rows of 13 int32 at stride 64, as the formula gives them
  const std::vector<int32_t> want = reference_matmul(data, 0x8000, 0x0, 3, 19, 13, 24, 8, 8);
  const std::vector<int32_t> want8 = reference_matmul(data, 0x8000, 0x0, 3, 8, 13, 24, 8, 8);
  CHECK(want != want8);
  for (int m = 0; m < 3; ++m)
    for (int n = 0; n < 13; ++n) {
      INFO("m " << m << " n " << n);
      const uint64_t at = uint64_t(m) * 64 + 4 * n;
      CHECK(r.tile(0).acc_at(at) == want[m * 13 + n]);
      CHECK(h.tile(0).acc_at(at) == want[m * 13 + n]);
      CHECK(i.tile(0).acc_at(at) == want[m * 13 + n]);
      CHECK(r8.tile(0).acc_at(at) == want8[m * 13 + n]);
      CHECK(i8.tile(0).acc_at(at) == want8[m * 13 + n]);
    }
  // k = 8: tiles (0,0) 8x8 and (1,0) 8x5, preload 8 and 5 lines, stream 3 each:
  // (0,8,8,11) (8,13,13,16); done 16 + 16
  CHECK(latency_cycles(r8, 1, kP400) == 32);
  CHECK(latency_cycles(i8, 1, kP400) == 32);
  CHECK(r8.stats().cycles == i8.stats().cycles);
  CHECK(r8.stats().events.macs_int8 == 3u * 8 * 13);
}

TEST_CASE("cnt_alt: a load or store whose byte count comes from a context register equals the immediate one",
          "[timing][dma][ctx]") {
  const hw::HwConfig small = single_clock(design(CLONESIM_SOURCE_DIR "/tests/data/hw/test-8x8.yaml"), 400);
  const char* ld_reg = "ctx.set reg=c3 value=200\n"
                       "load dram=0x1234 sram=0x10 rows=4 dstride=1000 sstride=256 cnt_alt=c3\nhalt\n";
  const char* ld_imm = "nop\nload dram=0x1234 sram=0x10 rows=4 bytes=200 dstride=1000 sstride=256\nhalt\n";
  // bytes from c4 (the immediate 5 is ignored)
  const char* st_reg = "ctx.mul reg=c4 src=c1 value=256\nstore dram=0x10000 sram=0x0 bytes=5 cnt_alt=c4\nhalt\n";
  const char* st_imm = "nop\nstore dram=0x10000 sram=0x0 bytes=1024\nhalt\n";
  sim::Options four;
  four.ctx[1] = 4;  // c4 = 4 * 256 = 1024
  sim::Options four_timing = four;
  four_timing.mode = sim::Mode::Timing;
  Bench b;
  auto& lr = b.add(small, ld_reg);
  auto& li = b.add(small, ld_imm);
  auto& lt = b.add(small, ld_reg, {sim::Mode::Timing});
  auto& sr = b.add(small, st_reg, four);
  auto& si = b.add(small, st_imm, four);
  auto& st = b.add(small, st_reg, four_timing);
  std::vector<uint8_t> img(5000);
  for (size_t k = 0; k < img.size(); ++k) img[k] = uint8_t(k * 7 + 3);
  for (sim::Accelerator* a : {&lr, &li, &lt}) a->dram().write(0x1234, img.data(), img.size());
  for (sim::Accelerator* a : {&sr, &si}) std::copy(img.begin(), img.begin() + 2048, a->tile(0).sp.begin());
  b.run();
  for (auto& a : b.accs) REQUIRE(a->error() == "");
  const uint64_t s = 3 * kP400;  // after one control instruction
  const uint64_t ld_done = reference_load(small, s, 0x1234, 0x10, 4, 200, 1000, 256, kP400);
  const uint64_t st_done = reference_store(small, s, 0x10000, 0, 1024, kP400);
  for (sim::Accelerator* a : {&lr, &li, &lt}) {
    CHECK(retired(*a, 1).start_ps == s);
    CHECK(retired(*a, 1).done_ps == ld_done);
    CHECK(a->stats().events.dma_requests == 16);  // 4 rows of 200 bytes from 0x1234: 4 requests per row
    CHECK(a->stats().dram_total.read_bytes == 800);
  }
  CHECK(lr.stats().cycles == li.stats().cycles);
  for (sim::Accelerator* a : {&lr, &li})
    for (uint64_t row = 0; row < 4; ++row) {
      for (uint64_t k = 0; k < 200; ++k) CHECK(a->tile(0).sp[0x10 + row * 256 + k] == img[row * 1000 + k]);
      CHECK(a->tile(0).sp[0x10 + row * 256 + 200] == 0);  // exactly 200 bytes per row
    }
  for (sim::Accelerator* a : {&sr, &si, &st}) {
    CHECK(retired(*a, 1).start_ps == s);
    CHECK(retired(*a, 1).done_ps == st_done);
    CHECK(a->stats().dram_total.write_bytes == 1024);
  }
  CHECK(sr.stats().cycles == si.stats().cycles);
  for (sim::Accelerator* a : {&sr, &si}) {
    std::vector<uint8_t> out(1100);
    a->dram().read(0x10000, out.data(), out.size());
    for (size_t k = 0; k < 1024; ++k) CHECK(out[k] == img[k]);
    for (size_t k = 1024; k < out.size(); ++k) CHECK(out[k] == 0);
  }
}
