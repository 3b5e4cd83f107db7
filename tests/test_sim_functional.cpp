// Functional results of the SystemC model equal plain C++ references, bit for bit.
#include <catch2/catch.hpp>

#include <cstring>
#include <random>

#include "numerics/numerics.h"
#include "sim_test_util.h"

using namespace clonesim;
using namespace clonesim::test;

namespace {

// A tiled GEMM program: C[M x N] = A[M x K] * W[K x N] on an R x C array,
// with A and packed weight tiles loaded from DRAM and C stored back.
struct Gemm {
  int M, K, N;
  bool int4;
  std::vector<int8_t> A, W;  // W row-major K x N (int4 values in -8..7)
  uint64_t a_dram = 0x0, w_dram = 0x10000, c_dram = 0x40000;

  std::vector<int32_t> reference() const {
    std::vector<int32_t> C(M * N, 0);
    for (int m = 0; m < M; ++m)
      for (int n = 0; n < N; ++n) {
        int32_t s = 0;
        for (int k = 0; k < K; ++k) s += int32_t(A[m * K + k]) * W[k * N + n];
        C[m * N + n] = s;
      }
    return C;
  }

  // DRAM image of the packed weight tiles in the MXU's order (n-slice outer,
  // k-slice inner), each tile padded to a multiple of `pad` bytes (1: the
  // tile-major layout of one matmul over the whole block).
  std::vector<uint8_t> packed_weights(int R, int Cc, std::vector<uint64_t>& offsets, size_t pad = 64) const {
    std::vector<uint8_t> out;
    for (int nt = 0; nt < (N + Cc - 1) / Cc; ++nt)
      for (int kt = 0; kt < (K + R - 1) / R; ++kt) {
        const int k0 = kt * R, n0 = nt * Cc, kk = std::min(R, K - k0), nn = std::min(Cc, N - n0);
        offsets.push_back(out.size());
        std::vector<uint8_t> tile;
        for (int k = 0; k < kk; ++k)
          for (int n = 0; n < nn; ++n) {
            const int8_t v = W[(k0 + k) * N + n0 + n];
            const size_t i = size_t(k) * nn + n;
            if (int4) {
              if (i / 2 >= tile.size()) tile.push_back(0);
              tile[i / 2] |= uint8_t((v & 0xF) << (i % 2 ? 4 : 0));
            } else {
              tile.push_back(uint8_t(v));
            }
          }
        out.insert(out.end(), tile.begin(), tile.end());
        while (out.size() % pad) out.push_back(0);  // e.g. keep tiles burst-aligned
      }
    return out;
  }

  std::string program(const hw::HwConfig& hw, const std::vector<uint64_t>& offsets, uint64_t wbytes) const {
    const int R = hw.mxu.rows, Cc = hw.mxu.cols;
    const uint64_t act = 0x8000, wsp = 0x0;
    std::string p;
    char buf[320];
    snprintf(buf, sizeof buf, "load dram=0x%llx sram=0x%llx rows=%d bytes=%d dstride=%d sstride=%d signal=s1\n",
             (unsigned long long)a_dram, (unsigned long long)act, M, K, K, K);
    p += buf;
    snprintf(buf, sizeof buf, "load dram=0x%llx sram=0x%llx bytes=%llu signal=s2\n", (unsigned long long)w_dram,
             (unsigned long long)wsp, (unsigned long long)wbytes);
    p += buf;
    int t = 0;
    const int kts = (K + R - 1) / R, nts = (N + Cc - 1) / Cc;
    for (int nt = 0; nt < nts; ++nt)
      for (int kt = 0; kt < kts; ++kt, ++t) {
        const int k0 = kt * R, n0 = nt * Cc, kk = std::min(R, K - k0), nn = std::min(Cc, N - n0);
        const bool first = t == 0, last = t == kts * nts - 1;
        snprintf(buf, sizeof buf,
                 "matmul act=0x%llx wgt=0x%llx acc=0x%x m=%d k=%d n=%d wtype=%s accum=%d astride=%d cstride=%d%s%s\n",
                 (unsigned long long)(act + k0), (unsigned long long)(wsp + offsets[t]), 4 * n0, M, kk, nn,
                 int4 ? "int4" : "int8", kt > 0 ? 1 : 0, K, 4 * N, first ? " wait=s1,s2" : "",
                 last ? " signal=s3" : "");
        p += buf;
      }
    snprintf(buf, sizeof buf, "store dram=0x%llx sram=0x0 space=acc rows=%d bytes=%d dstride=%d sstride=%d wait=s3\nhalt\n",
             (unsigned long long)c_dram, M, 4 * N, 4 * N, 4 * N);
    p += buf;
    return p;
  }
};

Gemm random_gemm(int M, int K, int N, bool int4, unsigned seed) {
  std::mt19937 rng(seed);
  Gemm g{M, K, N, int4, {}, {}};
  std::uniform_int_distribution<int> a(-128, 127), w(int4 ? -8 : -128, int4 ? 7 : 127);
  for (int i = 0; i < M * K; ++i) g.A.push_back(int8_t(a(rng)));
  for (int i = 0; i < K * N; ++i) g.W.push_back(int8_t(w(rng)));
  // saturating corners: extreme rows
  for (int k = 0; k < K; ++k) g.A[k] = -128;
  return g;
}

}  // namespace

TEST_CASE("tiled GEMM through DMA equals the C++ reference (int8 and int4, 2 design points)", "[functional][mxu]") {
  struct Run {
    hw::HwConfig hw;
    Gemm g;
    sim::Accelerator* acc = nullptr;
  };
  std::vector<Run> runs = {
      {design(CLONESIM_SOURCE_DIR "/tests/data/hw/test-8x8.yaml"), random_gemm(12, 20, 16, false, 1)},
      {design(CLONESIM_SOURCE_DIR "/tests/data/hw/test-8x8.yaml"), random_gemm(12, 20, 16, true, 2)},
      {design(CLONESIM_SOURCE_DIR "/tests/data/hw/test-16x16.yaml"), random_gemm(33, 40, 20, false, 3)},
      {design(CLONESIM_SOURCE_DIR "/tests/data/hw/test-16x16.yaml"), random_gemm(1, 48, 32, true, 4)},
  };
  Bench b;
  for (auto& r : runs) {
    std::vector<uint64_t> offsets;
    const auto wimg = r.g.packed_weights(r.hw.mxu.rows, r.hw.mxu.cols, offsets);
    r.acc = &b.add(r.hw, r.g.program(r.hw, offsets, wimg.size()));
    r.acc->dram().write(r.g.a_dram, r.g.A.data(), r.g.A.size());
    r.acc->dram().write(r.g.w_dram, wimg.data(), wimg.size());
  }
  b.run();
  for (auto& r : runs) {
    REQUIRE(r.acc->error() == "");
    const auto ref = r.g.reference();
    std::vector<int32_t> got(ref.size());
    r.acc->dram().read(r.g.c_dram, got.data(), got.size() * 4);
    CHECK(got == ref);
    CHECK(r.acc->stats().events.macs_int8 + r.acc->stats().events.macs_int4 == uint64_t(r.g.M) * r.g.K * r.g.N);
  }
}

TEST_CASE("one matmul over a K x N block larger than the array equals the C++ reference", "[functional][mxu]") {
  // Tile-major packed weights (no padding), activations at a row stride of
  // astride, results at cstride; with accum=1 the accumulator starts from a
  // loaded image and the reference adds to it.
  struct Run {
    hw::HwConfig hw;
    Gemm g;
    bool accum;
    int astride, cstride;
    std::vector<int32_t> init;
    sim::Accelerator* acc = nullptr;
  };
  const auto h8 = design(CLONESIM_SOURCE_DIR "/tests/data/hw/test-8x8.yaml");
  const auto h16 = design(CLONESIM_SOURCE_DIR "/tests/data/hw/test-16x16.yaml");
  std::vector<Run> runs = {
      // K = 2R+3, N = C+5, M = 3, int8 and int4, accum 0 and 1
      {h8, random_gemm(3, 19, 13, false, 11), false, 19, 52, {}},
      {h8, random_gemm(3, 19, 13, true, 12), false, 24, 64, {}},
      {h8, random_gemm(3, 19, 13, false, 13), true, 21, 56, {}},
      {h8, random_gemm(3, 19, 13, true, 14), true, 19, 52, {}},
      // exact multiples, a single k-slice with several n-slices and the reverse
      {h8, random_gemm(5, 16, 24, true, 15), true, 16, 96, {}},
      {h8, random_gemm(2, 5, 21, false, 16), false, 5, 84, {}},
      {h8, random_gemm(4, 33, 7, true, 17), false, 40, 32, {}},
      {h16, random_gemm(7, 100, 37, false, 18), true, 100, 160, {}},
      {h16, random_gemm(1, 130, 70, true, 19), false, 144, 320, {}},
  };
  Bench b;
  for (auto& r : runs) {
    const Gemm& g = r.g;
    std::vector<uint64_t> offsets;
    const auto wimg = g.packed_weights(r.hw.mxu.rows, r.hw.mxu.cols, offsets, 1);
    const isa::Instruction probe = asm_program("matmul act=0 wgt=0 acc=0 m=1 k=" + std::to_string(g.K) + " n=" +
                                               std::to_string(g.N) + (g.int4 ? " wtype=int4" : "") + "\n").code[0];
    REQUIRE(sim::weight_bytes(r.hw, probe) == wimg.size());
    std::mt19937 rng(unsigned(g.K * 31 + g.N));
    for (int i = 0; i < g.M * g.N; ++i) r.init.push_back(int32_t(rng()));
    const uint64_t act = 0x8000, wsp = 0x100, init_dram = 0x30000;
    char buf[400];
    std::string p;
    // activations row by row at astride; the accumulator image at cstride
    snprintf(buf, sizeof buf, "load dram=0x%llx sram=0x%llx rows=%d bytes=%d dstride=%d sstride=%d signal=s1\n",
             (unsigned long long)g.a_dram, (unsigned long long)act, g.M, g.K, g.K, r.astride);
    p += buf;
    snprintf(buf, sizeof buf, "load dram=0x%llx sram=0x0 space=acc rows=%d bytes=%d dstride=%d sstride=%d signal=s3\n",
             (unsigned long long)init_dram, g.M, 4 * g.N, 4 * g.N, r.cstride);
    p += buf;
    snprintf(buf, sizeof buf, "load dram=0x%llx sram=0x%llx bytes=%zu wait=s3 signal=s2\n", (unsigned long long)g.w_dram,
             (unsigned long long)wsp, wimg.size());
    p += buf;
    snprintf(buf, sizeof buf,
             "matmul act=0x%llx wgt=0x%llx acc=0x0 m=%d k=%d n=%d wtype=%s accum=%d astride=%d cstride=%d "
             "wait=s1,s2 signal=s4\n",
             (unsigned long long)act, (unsigned long long)wsp, g.M, g.K, g.N, g.int4 ? "int4" : "int8", r.accum ? 1 : 0,
             r.astride, r.cstride);
    p += buf;
    snprintf(buf, sizeof buf, "store dram=0x%llx sram=0x0 space=acc rows=%d bytes=%d dstride=%d sstride=%d wait=s4\nhalt\n",
             (unsigned long long)g.c_dram, g.M, 4 * g.N, 4 * g.N, r.cstride);
    p += buf;
    r.acc = &b.add(r.hw, p);
    r.acc->dram().write(g.a_dram, g.A.data(), g.A.size());
    r.acc->dram().write(g.w_dram, wimg.data(), wimg.size());
    r.acc->dram().write(init_dram, r.init.data(), r.init.size() * 4);
  }
  b.run();
  for (auto& r : runs) {
    INFO("M=" << r.g.M << " K=" << r.g.K << " N=" << r.g.N << " int4=" << r.g.int4 << " accum=" << r.accum);
    REQUIRE(r.acc->error() == "");
    auto ref = r.g.reference();
    if (r.accum)
      for (size_t i = 0; i < ref.size(); ++i) ref[i] = int32_t(uint32_t(ref[i]) + uint32_t(r.init[i]));
    std::vector<int32_t> got(ref.size());
    r.acc->dram().read(r.g.c_dram, got.data(), got.size() * 4);
    CHECK(got == ref);
    const uint64_t R = r.hw.mxu.rows, C = r.hw.mxu.cols;
    CHECK(r.acc->stats().events.mxu_weight_loads == (r.g.K + R - 1) / R * ((r.g.N + C - 1) / C));
    CHECK(r.acc->stats().events.macs_int8 + r.acc->stats().events.macs_int4 == uint64_t(r.g.M) * r.g.K * r.g.N);
  }
}

namespace {
int64_t sat(bool d32, int64_t v) { return num::sat_to(d32, v); }
}  // namespace

TEST_CASE("every vector op equals the C++ reference, saturation included", "[functional][vxu]") {
  const hw::HwConfig hw = single_clock(design(CLONESIM_SOURCE_DIR "/tests/data/hw/test-8x8.yaml"), 400);
  const int n = 40;
  std::mt19937 rng(7);
  // int8 sources in scratchpad banks 0 (a) and 1 (b); int32 sources in
  // accumulator bank 0 (a) and 1 (b), full range
  std::vector<int8_t> a8(n), b8(n);
  std::vector<int32_t> a32(n), b32(n);
  for (int i = 0; i < n; ++i) {
    a8[i] = int8_t(rng());
    b8[i] = int8_t(rng());
    a32[i] = int32_t(rng());
    b32[i] = int32_t(rng()) >> (i % 20);
  }
  a32[0] = INT32_MAX;
  b32[0] = INT32_MAX;  // overflow of a + b saturates
  a32[1] = INT32_MIN;
  a32[2] = 0;
  a32[3] = -5;
  a32[4] = 1;
  // per-channel requant table: 8 channels of (multiplier, shift)
  std::vector<int32_t> table;
  for (int c = 0; c < 8; ++c) {
    table.push_back(int32_t(1000 + 977 * c));
    table.push_back(10 + c);
  }
  std::vector<int16_t> lut(256);
  for (int i = 0; i < 256; ++i) lut[i] = int16_t((i - 128) * 300 + 7);

  struct Op {
    std::string text;
    bool d32;
    std::function<std::vector<int64_t>()> ref;
  };
  auto elementwise = [&](auto f, bool src32) {
    std::vector<int64_t> r;
    for (int i = 0; i < n; ++i) r.push_back(f(src32 ? a32[i] : a8[i], src32 ? b32[i] : b8[i], i));
    return r;
  };
  const std::vector<Op> ops = {
      {"vadd dst=0x10000 a=0x0 b=0x8000 bmode=vec len=40", false,
       [&] { return elementwise([](int64_t x, int64_t y, int) { return sat(false, x + y); }, false); }},
      {"vadd dst=0x0 dspace=acc a=0x0 aspace=acc b=0x2000 bspace=acc bmode=vec len=40 shift=1", true,
       [&] { return elementwise([](int64_t x, int64_t y, int) { return sat(true, num::rshr(x + y, 1)); }, true); }},
      {"vsub dst=0x10000 a=0x0 b=0x8000 bmode=vec len=40", false,
       [&] { return elementwise([](int64_t x, int64_t y, int) { return sat(false, x - y); }, false); }},
      {"vmul dst=0x10000 a=0x0 b=0x8000 bmode=vec len=40 shift=3", false,
       [&] { return elementwise([](int64_t x, int64_t y, int) { return sat(false, num::rshr(x * y, 3)); }, false); }},
      {"vmul dst=0x0 dspace=acc a=0x0 aspace=acc b=0x2000 bspace=acc bmode=vec len=40 shift=7", true,
       [&] { return elementwise([](int64_t x, int64_t y, int) { return sat(true, num::rshr(x * y, 7)); }, true); }},
      {"vmax dst=0x10000 a=0x0 b=0x8000 bmode=vec len=40", false,
       [&] { return elementwise([](int64_t x, int64_t y, int) { return std::max(x, y); }, false); }},
      {"vmin dst=0x10000 a=0x0 bmode=imm imm=-3 len=40", false,
       [&] { return elementwise([](int64_t x, int64_t, int) { return std::min<int64_t>(x, -3); }, false); }},
      {"vadd dst=0x10000 a=0x0 b=0x8005 bmode=scalar len=40", false,
       [&] { return elementwise([&](int64_t x, int64_t, int) { return sat(false, x + b8[5]); }, false); }},
      {"vshl dst=0x10000 a=0x0 len=40 shift=2", false,
       [&] { return elementwise([](int64_t x, int64_t, int) { return sat(false, x * 4); }, false); }},
      {"vshr dst=0x0 dspace=acc a=0x0 aspace=acc len=40 shift=5", true,
       [&] { return elementwise([](int64_t x, int64_t, int) { return num::rshr(x, 5); }, true); }},
      {"vclamp dst=0x10000 a=0x0 imm=-20 imm2=50 len=40", false,
       [&] { return elementwise([](int64_t x, int64_t, int) { return std::min<int64_t>(std::max<int64_t>(x, -20), 50); }, false); }},
      {"vmov dst=0x10000 a=0x0 aspace=acc len=40 shift=24", false,
       [&] { return elementwise([](int64_t x, int64_t, int) { return sat(false, num::rshr(x, 24)); }, true); }},
      {"vrequant dst=0x10000 a=0x0 aspace=acc imm=1518500250 shift=40 len=40", false,
       [&] { return elementwise([](int64_t x, int64_t, int) { return sat(false, num::rshr(x * 1518500250LL, 40)); }, true); }},
      {"vrequant dst=0x10000 a=0x0 aspace=acc b=0x2000 bspace=acc bmode=vec imm2=8 len=40", false,
       [&] {
         return elementwise([&](int64_t x, int64_t, int i) {
           return sat(false, num::rshr(x * table[2 * (i % 8)], unsigned(table[2 * (i % 8) + 1])));
         }, true);
       }},
      {"lutld a=0x18000 imm=2\nvlut dst=0x0 dspace=acc a=0x0 imm=2 len=40", true,
       [&] { return elementwise([&](int64_t x, int64_t, int) { return int64_t(lut[x + 128]); }, false); }},
      {"vrecip dst=0x0 dspace=acc a=0x0 aspace=acc len=40 shift=40", true,
       [&] { return elementwise([](int64_t x, int64_t, int) { return sat(true, num::recip(x, 40)); }, true); }},
      {"vrsqrt dst=0x0 dspace=acc a=0x0 aspace=acc len=40 shift=30", true,
       [&] { return elementwise([](int64_t x, int64_t, int) { return sat(true, num::rsqrt(x, 30)); }, true); }},
      {"vrot dst=0x10000 a=0x0 imm=4 len=40", false,
       [&] {
         std::vector<int64_t> r;
         for (int i = 0; i < n; ++i) {
           const int j = i % 8;
           r.push_back(sat(false, j < 4 ? -int64_t(a8[i + 4]) : a8[i - 4]));
         }
         return r;
       }},
      {"vredsum dst=0x40 dspace=acc a=0x0 aspace=acc len=40 shift=2", true,
       [&] {
         int64_t s = 0;
         for (int i = 0; i < n; ++i) s += a32[i];
         return std::vector<int64_t>{sat(true, num::rshr(s, 2))};
       }},
      {"vredmax dst=0x40 dspace=acc a=0x0 len=40", true,
       [&] { return std::vector<int64_t>{*std::max_element(a8.begin(), a8.end())}; }},
  };
  Bench b;
  for (const auto& op : ops) {
    auto& acc = b.add(hw, op.text + "\nhalt\n");
    auto& t = acc.tile(0);
    std::memcpy(&t.sp[0x0], a8.data(), n);
    std::memcpy(&t.sp[0x8000], b8.data(), n);
    std::memcpy(&t.acc[0x0], a32.data(), 4 * n);
    if (op.text.find("imm2=8") != std::string::npos) std::memcpy(&t.acc[0x2000], table.data(), 4 * table.size());
    else std::memcpy(&t.acc[0x2000], b32.data(), 4 * n);
    std::memcpy(&t.sp[0x18000], lut.data(), 512);
  }
  b.run();
  for (size_t i = 0; i < ops.size(); ++i) {
    INFO(ops[i].text);
    REQUIRE(b.accs[i]->error() == "");
    const auto want = ops[i].ref();
    const auto& t = b.accs[i]->tile(0);
    const bool red = ops[i].text.find("vred") == 0;
    const uint64_t dst = red ? 0x40 : (ops[i].d32 ? 0x0 : 0x10000);
    std::vector<int64_t> got;
    for (size_t k = 0; k < want.size(); ++k)
      got.push_back(ops[i].d32 ? int64_t(t.acc_at(dst + 4 * k)) : int64_t(int8_t(t.sp[dst + k])));
    CHECK(got == want);
  }
}

TEST_CASE("2D DMA load/store and broadcast give a bit-exact memory image", "[functional][dma]") {
  const hw::HwConfig clone = design(CLONESIM_SOURCE_DIR "/tests/data/hw/test-16x16.yaml");  // 2 tiles
  Bench b;
  auto& a = b.add(clone,
                  "load dram=0x1000 sram=0x100 rows=5 bytes=48 dstride=100 sstride=64 tile=all signal=s1\n"
                  "store dram=0x90000 sram=0x100 rows=5 bytes=48 dstride=48 sstride=64 tile=1 wait=s1\n"
                  "halt\n");
  std::vector<uint8_t> src(600);
  for (size_t i = 0; i < src.size(); ++i) src[i] = uint8_t(i * 37 + 11);
  a.dram().write(0x1000, src.data(), src.size());
  b.run();
  REQUIRE(a.error() == "");
  for (unsigned t = 0; t < 2; ++t)
    for (int r = 0; r < 5; ++r)
      for (int i = 0; i < 48; ++i) CHECK(a.tile(t).sp[0x100 + r * 64 + i] == src[r * 100 + i]);
  std::vector<uint8_t> out(5 * 48);
  a.dram().read(0x90000, out.data(), out.size());
  for (int r = 0; r < 5; ++r)
    for (int i = 0; i < 48; ++i) CHECK(out[r * 48 + i] == src[r * 100 + i]);
  // bytes outside the rows are untouched
  CHECK(a.tile(0).sp[0x100 + 48] == 0);
}
