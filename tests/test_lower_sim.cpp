// Generated code on the SystemC model: the bits match the golden kernels.
#include <catch2/catch.hpp>

#include <fstream>
#include <random>

#include "golden/kernels.h"
#include "lower/attention.h"
#include "lower/layout.h"
#include "lower/linear.h"
#include "lower/program_builder.h"
#include "sim_test_util.h"

using namespace clonesim;
using namespace clonesim::compiler;

namespace {

// Decode linear layers chained y1 = requant(x W1), y2 = requant(y1 W2), ...
// on one weight stream, each checked bit for bit against
// golden::linear_per_channel.  dims = {K0, N0 (= K1), N1, ...}.
std::vector<DecodeLinearPlan> run_decode_chain(const hw::HwConfig& hw, const std::vector<uint64_t>& dims, bool int4,
                                               uint64_t max_buffer, uint64_t seed) {
  std::mt19937_64 rng(seed);
  const size_t layers = dims.size() - 1;
  std::vector<std::vector<int8_t>> w(layers);
  std::vector<std::vector<int32_t>> mult(layers), shift(layers);
  std::vector<int8_t> x(dims[0]);
  for (auto& v : x) v = int8_t(int64_t(rng() % 255) - 127);
  std::vector<DecodeLinearPlan> plans;
  uint64_t most_cols = 0, most_bytes = 0;
  for (size_t l = 0; l < layers; ++l) {
    const uint64_t K = dims[l], N = dims[l + 1];
    w[l].resize(K * N);
    for (auto& v : w[l]) v = int4 ? int8_t(int64_t(rng() % 16) - 8) : int8_t(int64_t(rng() % 255) - 127);
    for (uint64_t n = 0; n < N; ++n) {
      mult[l].push_back(int32_t(1000 + rng() % 30000));
      shift[l].push_back(int32_t(int4 ? 12 + rng() % 4 : 15 + rng() % 4));
    }
    plans.push_back(plan_decode_linear(hw, K, N, int4, max_buffer));
    most_cols = std::max(most_cols, plans.back().nc);
    most_bytes = std::max(most_bytes, plans.back().buffer_bytes);
  }
  DramMap dram;
  SramArena sp(hw.scratchpad, "scratchpad"), acc(hw.accumulator, "accumulator");
  SemPool sems;
  WeightStream ws = make_weight_stream(hw, most_bytes, most_cols, sp, acc, sems);
  const unsigned x_ready = sems.local("x"), tile_done = sems.local("tile done");
  const unsigned chain = sems.global("chain"), done = sems.global("done");
  std::vector<DecodeLinearIO> io(layers);
  std::vector<uint64_t> in_dram(layers + 1);
  in_dram[0] = dram.alloc("x", dims[0]);
  for (size_t l = 0; l < layers; ++l) {
    io[l].x_sp = sp.alloc(dims[l], 0, "input");
    io[l].w_dram = dram.alloc("weights", plans[l].image_bytes(hw));
    io[l].tab_dram = dram.alloc("requant table", 8 * dims[l + 1]);
    io[l].y_dram = in_dram[l + 1] = dram.alloc("y", dims[l + 1]);
    io[l].y_sp = sp.alloc(*std::max_element(plans[l].cols.begin(), plans[l].cols.end()), 0, "output");
    io[l].x_ready = x_ready;
    io[l].tile_done = tile_done;
    io[l].chain = chain;
    io[l].done = done;
  }
  ProgramBuilder b("decode-chain");
  for (size_t l = 0; l < layers; ++l) {
    // the input to every tile: x from the host, then the previous layer's output
    b.emit(load(0, in_dram[l], io[l].x_sp, isa::kScratchpad, dims[l]).all_tiles().wait(l ? done : 0).signal(x_ready),
           "input to every tile");
    emit_decode_linear(b, hw, plans[l], io[l], ws, "fc" + std::to_string(l));
  }
  b.emit(Ins(isa::Opcode::Halt).wait(done));

  sim::Accelerator a("acc", hw, b.program(), sim::Options{});
  a.dram().write(in_dram[0], x.data(), x.size());
  for (size_t l = 0; l < layers; ++l) {
    const auto wimg = decode_linear_weights(hw, plans[l], w[l].data());
    const auto tab = requant_table(mult[l], shift[l]);
    a.dram().write(io[l].w_dram, wimg.data(), wimg.size());
    a.dram().write(io[l].tab_dram, tab.data(), tab.size());
  }
  sc_core::sc_start();
  REQUIRE(a.finished());
  std::vector<int8_t> want = x;
  for (size_t l = 0; l < layers; ++l) {
    want = golden::linear_per_channel(want, w[l], 1, int64_t(dims[l]), int64_t(dims[l + 1]), mult[l], shift[l]);
    std::vector<int8_t> y(dims[l + 1]);
    a.dram().read(io[l].y_dram, y.data(), y.size());
    INFO("layer " << l);
    CHECK(y == want);
  }
  return plans;
}

}  // namespace

TEST_CASE("decode linear, int8, two tiles, four double-buffered blocks per tile", "[lower][sim]") {
  const auto p = run_decode_chain(test::design("clone-28nm"), {16, 128}, false, 256, 1);
  CHECK(p[0].tiles_used() == 2);
  CHECK(p[0].nc == 16);
  CHECK(p[0].blocks(0) == 4);
}

TEST_CASE("decode linear, int4, uneven column split", "[lower][sim]") {
  const auto p = run_decode_chain(test::design("clone-28nm"), {16, 48}, true, 128, 2);
  CHECK(p[0].cols[0] == 32);  // 3 lane groups: tile 0 gets 2, tile 1 gets 1
  CHECK(p[0].cols[1] == 16);
  CHECK(p[0].blocks(0) == 2);
  CHECK(p[0].blocks(1) == 1);
}

TEST_CASE("decode linear on four tiles: the outputs are joined before the next layer", "[lower][sim]") {
  // edge-large: 4 tiles of 32x32 MACs, 32 lanes: 32 -> 128 on four tiles,
  // whose outputs are joined by control nops before `done` (the halt waits on it)
  const auto p = run_decode_chain(test::design("edge-large"), {32, 128}, false, 1024, 4);
  CHECK(p[0].tiles_used() == 4);
}

TEST_CASE("decode linear chain: the weight stream runs across layers", "[lower][sim]") {
  // four one-block layers on tile 0: blocks 2 and 3 reuse the buffers of the
  // previous layers' blocks 0 and 1
  const auto p = run_decode_chain(test::design("clone-28nm"), {16, 16, 16, 16, 16}, false, 256, 3);
  CHECK(p[0].tiles_used() == 1);
  CHECK(p[3].blocks(0) == 1);
}

namespace {

// One token's attention at position p on tile 0 of `hw`, against the golden
// RoPE and attention row, with the KV-cache append checked in DRAM.
void run_decode_attention(const hw::HwConfig& hw, uint64_t qh, uint64_t kvh, uint64_t hd, uint64_t pos,
                          uint64_t seed) {
  std::mt19937_64 rng(seed);
  auto rnd8 = [&](size_t n, int amp) {
    std::vector<int8_t> v(n);
    for (auto& x : v) x = int8_t(int64_t(rng() % uint64_t(2 * amp + 1)) - amp);
    return v;
  };
  DecodeAttentionShape s;
  s.q_heads = qh;
  s.kv_heads = kvh;
  s.hd = hd;
  s.max_pos = 64;
  s.pos = pos;
  const golden::SoftmaxParams sp_params = golden::plan_softmax(1.0 / 256);
  s.d_shift = sp_params.d_shift;
  s.recip_shift = sp_params.recip_shift;
  s.lut = 2;
  const uint64_t qw = qh * hd, kw = kvh * hd, n = pos + 1;
  const auto q = rnd8(qw, 100), k = rnd8(kw, 100), v = rnd8(kw, 127);
  const auto kc = rnd8(k_cache_bytes(s), 90), vc = rnd8(v_cache_bytes(s), 127);
  std::vector<int32_t> cos, sin;
  golden::rope_tables(int64_t(pos), int64_t(qh), int64_t(hd), 10000.0, cos, sin);

  DramMap dram;
  DecodeAttentionIO io;
  io.q_dram = dram.alloc("q", qw);
  io.k_dram = dram.alloc("k", kw);
  io.v_dram = dram.alloc("v", kw);
  io.cos_dram = dram.alloc("cos", 4 * qw);
  io.sin_dram = dram.alloc("sin", 4 * qw);
  io.exp_dram = dram.alloc("exp table", 512);
  io.kc_dram = dram.alloc("K cache", kc.size());
  io.vc_dram = dram.alloc("V cache", vc.size());
  io.out_dram = dram.alloc("out", qw);
  SramArena spa(hw.scratchpad, "scratchpad"), acc(hw.accumulator, "accumulator");
  const DecodeAttentionBuffers buf = place_decode_attention(hw, s, spa, acc);
  SemPool sems;
  const AttentionSems sem = make_attention_sems(sems);
  io.in_ready = sems.global("inputs");
  io.tile_done = sems.local("tile done");
  io.done = sems.global("done");
  ProgramBuilder b("decode-attention");
  b.emit(Ins(isa::Opcode::Nop).signal(io.in_ready), "the projections are in DRAM");
  emit_decode_attention(b, hw, s, io, buf, sem, 0, "attn");
  b.emit(Ins(isa::Opcode::Halt).wait(io.done));

  sim::Accelerator a("acc", hw, b.program(), sim::Options{});
  auto put32 = [&](uint64_t addr, const std::vector<int32_t>& x) {
    std::vector<uint8_t> bytes(4 * x.size());
    for (size_t i = 0; i < x.size(); ++i)
      for (int j = 0; j < 4; ++j) bytes[4 * i + size_t(j)] = uint8_t(uint32_t(x[i]) >> (8 * j));
    a.dram().write(addr, bytes.data(), bytes.size());
  };
  a.dram().write(io.q_dram, q.data(), qw);
  a.dram().write(io.k_dram, k.data(), kw);
  a.dram().write(io.v_dram, v.data(), kw);
  put32(io.cos_dram, cos);
  put32(io.sin_dram, sin);
  std::vector<uint8_t> exp_bytes(512);
  for (int i = 0; i < 256; ++i) {
    exp_bytes[size_t(2 * i)] = uint8_t(uint16_t(sp_params.exp_table[size_t(i)]));
    exp_bytes[size_t(2 * i + 1)] = uint8_t(uint16_t(sp_params.exp_table[size_t(i)]) >> 8);
  }
  a.dram().write(io.exp_dram, exp_bytes.data(), 512);
  a.dram().write(io.kc_dram, kc.data(), kc.size());
  a.dram().write(io.vc_dram, vc.data(), vc.size());
  sc_core::sc_start();
  INFO(a.error());
  if (!a.finished()) std::ofstream("/tmp/attn.s") << b.listing();
  REQUIRE(a.finished());

  // golden
  const auto q_rot = golden::rope(q, int64_t(hd), cos, sin);
  const std::vector<int32_t> cos_k(cos.begin(), cos.begin() + int64_t(kw)), sin_k(sin.begin(), sin.begin() + int64_t(kw));
  const auto k_rot = golden::rope(k, int64_t(hd), cos_k, sin_k);
  std::vector<int8_t> want(qw);
  for (uint64_t h = 0; h < qh; ++h) {
    const uint64_t kh = h / (qh / kvh);
    std::vector<int32_t> sc(n);
    std::vector<int8_t> vrows(n * hd);
    for (uint64_t m = 0; m < n; ++m) {
      int32_t acc32 = 0;
      for (uint64_t d = 0; d < hd; ++d) {
        const int8_t key = m == pos ? k_rot[kh * hd + d] : kc[(kh * s.max_pos + m) * hd + d];
        acc32 += int32_t(key) * q_rot[h * hd + d];
        vrows[m * hd + d] = m == pos ? v[kh * hd + d] : vc[v_cache_offset(hw, s, kh, m, d)];
      }
      sc[m] = acc32;
    }
    const auto y = golden::attention_row(sc, vrows, int64_t(hd), sp_params);
    std::copy(y.begin(), y.end(), want.begin() + int64_t(h * hd));
  }
  std::vector<int8_t> out(qw);
  a.dram().read(io.out_dram, out.data(), qw);
  CHECK(out == want);
  // the KV append: row p of every KV head holds k after RoPE and v
  for (uint64_t kh = 0; kh < kvh; ++kh)
    for (uint64_t d = 0; d < hd; ++d) {
      int8_t kk = 0, vv = 0;
      a.dram().read(io.kc_dram + (kh * s.max_pos + pos) * hd + d, &kk, 1);
      a.dram().read(io.vc_dram + v_cache_offset(hw, s, kh, pos, d), &vv, 1);
      CHECK(kk == k_rot[kh * hd + d]);
      CHECK(vv == v[kh * hd + d]);
    }
}

}  // namespace

TEST_CASE("decode attention at position 0 (no cache to read)", "[lower][sim]") {
  run_decode_attention(test::design("clone-28nm"), 4, 2, 16, 0, 11);
}

TEST_CASE("decode attention at position 9, GQA 4 query heads over 2 KV heads", "[lower][sim]") {
  run_decode_attention(test::design("clone-28nm"), 4, 2, 16, 9, 12);
}

TEST_CASE("decode attention at position 15, MHA", "[lower][sim]") {
  run_decode_attention(test::design("clone-28nm"), 2, 2, 16, 15, 13);
}
