// Generated code on the SystemC model: the bits match the golden kernels.
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <memory>
#include <random>

#include "golden/kernels.h"
#include "lower/attention.h"
#include "lower/embedding.h"
#include "lower/ffn.h"
#include "lower/norm.h"
#include "lower/residual.h"
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
                          uint64_t seed, uint64_t block = 0) {
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
  s.block = block;
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
  io.rope_first = pos;  // the tables hold position pos only
  SramArena spa(hw.scratchpad, "scratchpad"), acc(hw.accumulator, "accumulator");
  const DecodeAttentionBuffers buf = place_decode_attention(hw, s, spa, acc);
  if (block) CHECK(buf.block == block);
  SemPool sems;
  const AttentionSems sem = make_attention_sems(sems);
  io.in_ready = sems.global("inputs");
  io.tile_done = sems.local("tile done");
  io.done = sems.global("done");
  ProgramBuilder b("decode-attention");
  b.emit(Ins(isa::Opcode::Nop).signal(io.in_ready), "the projections are in DRAM");
  emit_decode_attention(b, hw, s, io, buf, sem, 0, "attn");
  b.emit(Ins(isa::Opcode::Halt).wait(io.done));

  sim::Options opt;
  opt.ctx[kPosReg] = int64_t(pos);
  sim::Accelerator a("acc", hw, b.program(), opt);
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

// Positions in blocks of 16 (the scores of a head kept as int8 digits, the
// keys and values streamed block by block): 41 positions in three blocks, the
// last one short.
TEST_CASE("decode attention in blocks of positions, MHA, head dim 64", "[lower][sim]") {
  run_decode_attention(test::design("clone-28nm"), 2, 2, 64, 40, 14, 16);
}

TEST_CASE("decode attention in blocks of positions, GQA (each query head streams its KV head)", "[lower][sim]") {
  run_decode_attention(test::design("clone-28nm"), 4, 2, 16, 47, 15, 16);
}

// ---- the forms of a decode linear layer: per channel to T (wide), with bias,
// narrowed to int8; group-wise (the last group shorter) -------------------------

namespace {

std::vector<uint8_t> le32(const std::vector<int32_t>& v) {
  std::vector<uint8_t> out(4 * v.size());
  for (size_t i = 0; i < v.size(); ++i)
    for (int k = 0; k < 4; ++k) out[4 * i + size_t(k)] = uint8_t(uint32_t(v[i]) >> (8 * k));
  return out;
}

std::vector<int32_t> read32(const sim::Accelerator& a, uint64_t addr, size_t n) {
  std::vector<int32_t> v(n);
  a.dram().read(addr, v.data(), 4 * n);
  return v;
}

std::vector<int8_t> read8(const sim::Accelerator& a, uint64_t addr, size_t n) {
  std::vector<int8_t> v(n);
  a.dram().read(addr, v.data(), n);
  return v;
}

// One layer of the given form on the design point's tiles, against
// golden::linear_per_channel_wide / linear_grouped (then golden::narrow for
// int8 outputs).
DecodeLinearPlan run_linear_form(const hw::HwConfig& hw, uint64_t K, uint64_t N, bool int4, const LinearForm& f,
                                 uint64_t max_buffer, uint64_t seed, uint64_t max_cols = 4095) {
  std::mt19937_64 rng(seed);
  std::vector<int8_t> x(K), w(K * N);
  for (auto& v : x) v = int8_t(int64_t(rng() % 255) - 127);
  for (auto& v : w) v = int4 ? int8_t(int64_t(rng() % 16) - 8) : int8_t(int64_t(rng() % 255) - 127);
  const uint64_t G = f.group ? (K + f.group - 1) / f.group : 1;
  std::vector<int32_t> mult, shift, bias;
  for (uint64_t i = 0; i < G * N; ++i) mult.push_back(int32_t(1000 + rng() % 30000));
  if (!f.group)
    for (uint64_t n = 0; n < N; ++n) shift.push_back(int32_t((int4 ? 10 : 14) + rng() % 4));
  if (f.bias)
    for (uint64_t n = 0; n < N; ++n) bias.push_back(int32_t(int64_t(rng() % 200001) - 100000));
  const DecodeLinearPlan p = plan_decode_linear(hw, K, N, int4, max_buffer, f, max_cols);

  DramMap dram;
  SramArena sp(hw.scratchpad, "scratchpad"), acc(hw.accumulator, "accumulator");
  SemPool sems;
  WeightStream ws = make_weight_stream(hw, p.buffer_bytes, p.nc, sp, acc, sems, p.max_step_table_bytes(),
                                       !f.plain() && !f.wide, f.group == 0 && p.chunks() > 1);
  DecodeLinearIO io;
  io.x_ready = sems.local("x");
  io.tile_done = sems.local("tile done");
  io.chain = sems.global("chain");
  io.done = sems.global("done");
  const uint64_t x_dram = dram.alloc("x", K);
  io.x_sp = sp.alloc(K, 0, "x");
  io.w_dram = dram.alloc("weights", p.image_bytes(hw));
  io.tab_dram = dram.alloc("tables", p.table_bytes());
  io.y_dram = dram.alloc("y", (f.wide ? 4 : 1) * N);
  if (f.wide) io.y_acc = acc.alloc(4 * p.most_cols(), 0, "T");
  else io.y_sp = sp.alloc(p.most_cols(), 0, "y");
  ProgramBuilder b("linear-form");
  b.emit(load(0, x_dram, io.x_sp, isa::kScratchpad, K).all_tiles().signal(io.x_ready), "x to every tile");
  emit_decode_linear(b, hw, p, io, ws, "fc");
  b.emit(Ins(isa::Opcode::Halt).wait(io.done));

  sim::Accelerator a("acc", hw, b.program(), sim::Options{});
  a.dram().write(x_dram, x.data(), K);
  const auto wimg = decode_linear_weights(hw, p, w.data());
  const auto tab = decode_linear_table(p, mult, shift, bias);
  a.dram().write(io.w_dram, wimg.data(), wimg.size());
  a.dram().write(io.tab_dram, tab.data(), tab.size());
  sc_core::sc_start();
  INFO(a.error());
  REQUIRE(a.finished());
  const std::vector<int32_t> T =
      f.group ? golden::linear_grouped(x, w, 1, int64_t(K), int64_t(N), int64_t(f.group), mult, f.a, bias)
              : golden::linear_per_channel_wide(x, w, 1, int64_t(K), int64_t(N), mult, shift, bias);
  if (f.wide) {
    CHECK(read32(a, io.y_dram, N) == T);
  } else {
    const auto want = golden::narrow(T, f.b);
    int distinct = 0;  // the test means something only if the outputs vary
    for (auto v : want) distinct += v != want[0];
    CHECK(distinct > 0);
    CHECK(read8(a, io.y_dram, N) == want);
  }
  return p;
}

}  // namespace

TEST_CASE("decode linear to T (per channel, residual units), two tiles, two blocks each", "[lower][sim]") {
  LinearForm f;
  f.wide = true;
  const auto p = run_linear_form(test::design("clone-28nm"), 64, 128, false, f, 2048, 21);
  CHECK(p.blocks(0) == 2);
}

TEST_CASE("decode linear per channel with bias, narrowed to int8 (b = 16)", "[lower][sim]") {
  LinearForm f;
  f.bias = true;
  f.b = 16;
  run_linear_form(test::design("clone-28nm"), 48, 64, false, f, 768, 22);
}

TEST_CASE("decode linear group-wise int4 to T, groups of 24 (the last of 8), several blocks", "[lower][sim]") {
  LinearForm f;
  f.group = 24;
  f.a = 14;
  f.wide = true;
  f.bias = true;
  const auto p = run_linear_form(test::design("clone-28nm"), 56, 96, true, f, 256, 23);
  CHECK(p.groups() == 3);
  CHECK(p.steps.back().kn == 8);
  CHECK(p.blocks(0) > 1);
}

TEST_CASE("decode linear group-wise int4 narrowed to int8 on one 8x8 tile", "[lower][sim]") {
  LinearForm f;
  f.group = 32;
  f.a = 4;
  f.b = 16;
  const auto p = run_linear_form(test::design("edge-small"), 64, 32, true, f, 128, 24);
  CHECK(p.groups() == 2);
}

TEST_CASE("decode linear per channel in K chunks (the buffer holds 32 rows), plain int8", "[lower][sim]") {
  const auto p = run_linear_form(test::design("clone-28nm"), 96, 64, false, LinearForm{}, 512, 25);
  CHECK(p.krows == 32);
  CHECK(p.chunks() == 3);
}

TEST_CASE("decode linear per channel in K chunks, with bias, narrowed", "[lower][sim]") {
  LinearForm f;
  f.bias = true;
  f.b = 16;
  const auto p = run_linear_form(test::design("edge-small"), 80, 32, false, f, 256, 26);
  CHECK(p.chunks() == 3);  // 32 + 32 + 16 rows
}

TEST_CASE("decode linear to T with K = 4200 (beyond one matmul): chunks of 2048 rows", "[lower][sim]") {
  LinearForm f;
  f.wide = true;
  const auto p = run_linear_form(test::design("clone-28nm"), 4200, 32, false, f, 32768, 27);
  CHECK(p.krows == 2048);
  CHECK(p.chunks() == 3);
}

// ---- norms, embedding, residual add, FFN activation ---------------------------

namespace {

// A one-tile kernel harness: inputs in DRAM loaded into SRAM (each load
// signals `in`), the kernel, its outputs stored back (after `out`).
struct Harness {
  hw::HwConfig hw;
  DramMap dram;
  SramArena sp, acc;
  SemPool sems;
  ProgramBuilder b;
  std::vector<std::pair<uint64_t, std::vector<uint8_t>>> chunks;
  unsigned in, out, done;
  explicit Harness(const hw::HwConfig& h)
      : hw(h), sp(h.scratchpad, "scratchpad"), acc(h.accumulator, "accumulator"), b("kernel") {
    in = sems.local("in");
    out = sems.local("out");
    done = sems.global("done");
  }
  uint64_t put(const std::string& name, std::vector<uint8_t> bytes) {
    const uint64_t a = dram.alloc(name, bytes.size());
    chunks.emplace_back(a, std::move(bytes));
    return a;
  }
  // DRAM -> SRAM, signalling `in`
  void load_in(unsigned tile, uint64_t dram_addr, uint64_t sram, int space, uint64_t bytes) {
    b.emit(load(tile, dram_addr, sram, space, bytes).signal(in));
  }
  uint64_t store_out(unsigned tile, uint64_t sram, int space, uint64_t bytes) {
    const uint64_t a = dram.alloc("out", bytes);
    b.emit(store(tile, a, sram, space, bytes).wait(out).signal(done));
    return a;
  }
  std::unique_ptr<sim::Accelerator> run(sim::Options opt = {}) {
    b.emit(Ins(isa::Opcode::Halt).wait(done));
    auto a = std::make_unique<sim::Accelerator>("acc", hw, b.program(), opt);
    for (const auto& c : chunks) a->dram().write(c.first, c.second.data(), c.second.size());
    sc_core::sc_start();
    return a;
  }
};

std::vector<uint8_t> bytes8(const std::vector<int8_t>& v) { return std::vector<uint8_t>(v.begin(), v.end()); }

// A residual row: most elements moderate, a few near the planned maximum.
std::vector<int32_t> residual_row(std::mt19937_64& rng, size_t d, int64_t amp) {
  std::vector<int32_t> x(d);
  for (auto& v : x) v = int32_t(int64_t(rng() % uint64_t(2 * amp + 1)) - amp);
  x[3] = int32_t(golden::kResidualMax);
  x[d - 2] = -int32_t(golden::kResidualMax) + 7;
  return x;
}

std::vector<double> gains(std::mt19937_64& rng, size_t d) {
  std::vector<double> g(d);
  for (auto& v : g) v = 0.5 + double(rng() % 1000) / 1000.0;
  return g;
}

void run_norm(const hw::HwConfig& hw, bool layernorm, uint64_t seed) {
  std::mt19937_64 rng(seed);
  const size_t d = 64;
  const auto x = residual_row(rng, d, 9000);
  golden::QNorm n;
  n.kind = layernorm ? NormKind::LayerNorm : NormKind::RmsNorm;
  const double s_x = 0.001, s_y = 0.03;
  if (layernorm) {
    std::vector<double> beta(d);
    for (auto& v : beta) v = (double(rng() % 1000) - 500.0) / 500.0;
    n.ln = golden::plan_layernorm(gains(rng, d), beta, 1e-5, s_x, s_y, golden::kResidualMax);
  } else {
    n.rms = golden::plan_rmsnorm(gains(rng, d), 1e-5, s_x, s_y, golden::kResidualMax);
  }
  Harness h(hw);
  const uint64_t xd = h.put("x", le32(x)), pd = h.put("params", norm_params_image(n));
  const uint64_t xa = h.acc.alloc(4 * d, 0, "x"), ys = h.sp.alloc(d, 0, "y");
  const NormBuffers buf = place_norm(hw, d, layernorm, h.acc, "norm");
  h.load_in(1, xd, xa, isa::kAccumulator, 4 * d);
  h.load_in(1, pd, buf.params, isa::kAccumulator, norm_params_bytes(d, layernorm));
  emit_norm(h.b, 1, n, xa, ys, buf, {h.in, h.in, h.out}, "norm");
  const uint64_t yd = h.store_out(1, ys, isa::kScratchpad, d);
  const auto a = h.run();
  INFO(a->error());
  REQUIRE(a->finished());
  const auto want = layernorm ? golden::layernorm(x, n.ln) : golden::rmsnorm(x, n.rms);
  int distinct = 0;
  for (auto v : want) distinct += v != want[0];
  CHECK(distinct > 10);
  CHECK(read8(*a, yd, d) == want);
}

}  // namespace

TEST_CASE("RMSNorm of a residual row on tile 1, against golden::rmsnorm", "[lower][sim]") {
  run_norm(test::design("clone-28nm"), false, 31);
}

TEST_CASE("LayerNorm of a residual row (beta, centred row to |c| <= 92000), against golden::layernorm",
          "[lower][sim]") {
  run_norm(test::design("clone-28nm"), true, 32);
}

TEST_CASE("final requant without a norm, against golden::requant8", "[lower][sim]") {
  std::mt19937_64 rng(33);
  const size_t d = 64;
  const auto x = residual_row(rng, d, 30000);
  const golden::FixedPoint fp = golden::fixed_point(0.0031);
  Harness h(test::design("edge-small"));
  const uint64_t xd = h.put("x", le32(x));
  const uint64_t xa = h.acc.alloc(4 * d, 0, "x"), ys = h.sp.alloc(d, 0, "y");
  h.load_in(0, xd, xa, isa::kAccumulator, 4 * d);
  emit_requant8(h.b, 0, d, int32_t(fp.m), fp.s, xa, ys, {h.in, 0, h.out}, "final");
  const uint64_t yd = h.store_out(0, ys, isa::kScratchpad, d);
  const auto a = h.run();
  REQUIRE(a->finished());
  CHECK(read8(*a, yd, d) == golden::requant8(x, int32_t(fp.m), fp.s));
}

TEST_CASE("embedding row of a token chosen by context registers, with a learned position, against golden::widen",
          "[lower][sim]") {
  std::mt19937_64 rng(34);
  const uint64_t V = 10, d = 32, token = 7, pos = 3;
  std::vector<int8_t> rows(V * d), prow(5 * d);
  for (auto& v : rows) v = int8_t(int64_t(rng() % 255) - 127);
  for (auto& v : prow) v = int8_t(int64_t(rng() % 255) - 127);
  std::vector<int32_t> mult(V), pmult(5);
  for (auto& v : mult) v = int32_t(rng() % 2000000000);
  for (auto& v : pmult) v = int32_t(rng() % 2000000000);
  const unsigned shift = 20, pshift = 22;
  Harness h(test::design("clone-28nm"));
  EmbeddingIO io;
  io.d = d;
  io.rows_dram = h.put("rows", bytes8(rows));
  io.mult_dram = h.put("mults", le32(mult));
  io.row_reg = 2;
  io.mult_reg = 3;
  io.shift = shift;
  io.learned = true;
  const uint64_t prd = h.put("position rows", bytes8(prow)), pmd = h.put("position mults", le32(pmult));
  io.pos_row_dram = prd + pos * d;
  io.pos_mult_dram = pmd + 4 * pos;
  io.pos_shift = pshift;
  const EmbeddingBuffers buf = place_embedding(h.hw, d, true, h.sp, h.acc, "embedding");
  const uint64_t xa = h.acc.alloc(4 * d, 0, "x");
  h.b.emit(Ins(isa::Opcode::CtxMul).set(isa::Field::Reg, 2).set(isa::Field::Src, 1).set(isa::Field::Value, int64_t(d)));
  h.b.emit(Ins(isa::Opcode::CtxMul).set(isa::Field::Reg, 3).set(isa::Field::Src, 1).set(isa::Field::Value, 4));
  emit_embedding(h.b, isa::kAllTiles, io, buf, xa, h.in, "embedding");  // on both tiles
  h.b.emit(vec(isa::Opcode::VMov, 1, xa, isa::kAccumulator, xa, isa::kAccumulator, 1).signal(h.out));
  const uint64_t xd = h.store_out(1, xa, isa::kAccumulator, 4 * d);
  sim::Options opt;
  opt.ctx[1] = int64_t(token);
  const auto a = h.run(opt);
  INFO(a->error());
  REQUIRE(a->finished());
  auto want = golden::widen(std::vector<int8_t>(rows.begin() + long(token * d), rows.begin() + long((token + 1) * d)),
                            mult[token], shift);
  golden::residual_add(want, golden::widen(std::vector<int8_t>(prow.begin() + long(pos * d),
                                                               prow.begin() + long((pos + 1) * d)),
                                           pmult[pos], pshift));
  CHECK(read32(*a, xd, d) == want);
}

TEST_CASE("residual add saturates as golden::residual_add", "[lower][sim]") {
  std::mt19937_64 rng(35);
  const size_t d = 48;
  std::vector<int32_t> r(d), t(d);
  for (size_t i = 0; i < d; ++i) {
    r[i] = int32_t(int64_t(rng() % 2000001) - 1000000);
    t[i] = int32_t(int64_t(rng() % 2000001) - 1000000);
  }
  r[0] = INT32_MAX - 5;
  t[0] = 100;
  r[1] = INT32_MIN + 5;
  t[1] = -100;
  Harness h(test::design("edge-small"));
  const uint64_t rd = h.put("r", le32(r)), td = h.put("t", le32(t));
  const uint64_t ra = h.acc.alloc(4 * d, 0, "r"), ta = h.acc.alloc(4 * d, 0, "t");
  h.load_in(0, rd, ra, isa::kAccumulator, 4 * d);
  h.load_in(0, td, ta, isa::kAccumulator, 4 * d);
  // the first load's signal, then the add waits for the second
  h.b.emit(vec(isa::Opcode::VMov, 0, ta, isa::kAccumulator, ta, isa::kAccumulator, 1).wait(h.in));
  emit_residual_add(h.b, 0, ra, ta, d, h.in, h.out, "o");
  const uint64_t od = h.store_out(0, ra, isa::kAccumulator, 4 * d);
  const auto a = h.run();
  REQUIRE(a->finished());
  golden::residual_add(r, t);
  CHECK(read32(*a, od, d) == r);
}

namespace {

void run_ffn_activation(const hw::HwConfig& hw, bool gated, uint64_t seed) {
  std::mt19937_64 rng(seed);
  const size_t n = 64;
  std::vector<int8_t> g(n), u(n);
  for (auto& v : g) v = int8_t(int64_t(rng() % 256) - 128);
  for (auto& v : u) v = int8_t(int64_t(rng() % 256) - 128);
  const double s_g = 0.05, s_prod = 0.02, s_u = 0.03;
  double (*silu)(double) = [](double x) { return x / (1 + std::exp(-x)); };
  const unsigned P = 9;
  const double s_act = gated ? s_prod / (s_u * std::ldexp(1.0, int(P))) : 0.05;
  const auto table = golden::activation_table(silu, s_g, s_act);
  Harness h(hw);
  const uint64_t gd = h.put("gate", bytes8(g)), ud = h.put("up", bytes8(u)), td = h.put("table", lut_image(table));
  const uint64_t gs = h.sp.alloc(n, 0, "gate"), us = h.sp.alloc(n, 0, "up"), ts = h.sp.alloc(512, 0, "table");
  const uint64_t ys = h.sp.alloc(n, 0, "y"), aa = h.acc.alloc(4 * n, 0, "a");
  h.load_in(0, td, ts, isa::kScratchpad, 512);
  h.load_in(0, gd, gs, isa::kScratchpad, n);
  h.load_in(0, ud, us, isa::kScratchpad, n);
  emit_lut_load(h.b, 0, ts, 1, h.in, "ffn");
  h.b.emit(vec(isa::Opcode::VMov, 0, gs, isa::kScratchpad, gs, isa::kScratchpad, 1).wait(h.in));  // gate loaded
  if (gated) emit_gated_product(h.b, 0, n, gs, us, aa, ys, 1, P, h.in, h.out, "ffn");
  else emit_lut_activation(h.b, 0, n, gs, ys, 1, h.in, h.out, "ffn");
  const uint64_t yd = h.store_out(0, ys, isa::kScratchpad, n);
  const auto a = h.run();
  INFO(a->error());
  REQUIRE(a->finished());
  const auto want = gated ? golden::mul_wide(golden::lut_wide(g, table), u, P) : golden::lut(g, table);
  int distinct = 0;
  for (auto v : want) distinct += v != want[0];
  CHECK(distinct > 10);
  CHECK(read8(*a, yd, n) == want);
}

}  // namespace

TEST_CASE("gated FFN product: int16 LUT into the accumulator times up, against golden::lut_wide and mul_wide",
          "[lower][sim]") {
  run_ffn_activation(test::design("clone-28nm"), true, 36);
}

TEST_CASE("plain FFN activation: int8 LUT, against golden::lut", "[lower][sim]") {
  run_ffn_activation(test::design("edge-small"), false, 37);
}
