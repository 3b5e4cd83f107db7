// Whole decode steps of the tiny model on the SystemC model, bit for bit
// against the golden interpreter: a golden prefill fills the KV cache, the
// cache goes into the DRAM image with the weights, tables and the rest, the
// decode program for the next position runs, and its int32 logits and the
// KV-cache row it appends must equal GoldenModel::decode's.  Several steps in
// a row are one program of consecutive steps (each generated for its
// position), the KV cache carried in DRAM from one step to the next.
#include <catch2/catch.hpp>

#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <algorithm>
#include <random>

#include "common/error.h"
#include "common/strf.h"
#include "golden/golden_model.h"
#include "lower/decode_program.h"
#include "model/model.h"
#include "sim/stats.h"
#include "sim_test_util.h"
#include "test_util.h"
#include "weights/quantize.h"

using namespace clonesim;
using namespace clonesim::compiler;

namespace {

constexpr uint64_t kWeightSeed = 2024, kPromptSeed = 99;

struct Model {
  ModelWeights w;
  golden::QuantModel qm;
};

Model make(const ModelConfig& cfg, const std::string& recipe) {
  Model m;
  m.w = random_weights(cfg, kWeightSeed);
  const QuantRecipe r = parse_recipe(recipe);
  const QuantizedWeights q = quantize(m.w, r);
  const golden::Calibration cal = golden::calibrate(m.w, golden::calibration_tokens(cfg));
  m.qm = golden::plan_quant_model(m.w, q, r, cal);
  return m;
}

std::vector<int64_t> prompt(const ModelConfig& cfg, int n) {
  std::mt19937_64 rng(kPromptSeed);
  std::vector<int64_t> t(static_cast<size_t>(n));
  for (auto& v : t) v = int64_t(rng() % uint64_t(cfg.vocab));
  return t;
}


// The synchronisation rules of docs/compiler.md ("Semaphores: one consuming
// unit each"), checked on a program: every semaphore (per tile for 1..15) is
// waited on by one unit, or by several only when each signal names it once
// per waiting unit; every wait is covered by signals of earlier instructions
// (so no queue can block on a later one); at the end every signal is
// consumed except the weight stream's last frees (two semaphores, two
// signals each, on every tile the stream used; four of `table free` when the
// tables load in pairs).  Returns the problems.
std::vector<std::string> check_semaphores(const isa::Program& prog, const hw::HwConfig& hw) {
  struct Sem {
    std::set<std::string> units;
    int64_t signals = 0, waits = 0;
    bool single_signal = false;  // some instruction signals it only once
  };
  std::map<std::string, Sem> sems;
  std::vector<std::string> problems;
  for (size_t i = 0; i < prog.code.size(); ++i) {
    const isa::Instruction& in = prog.code[i];
    const isa::Unit u = isa::unit_of(in.op);
    std::vector<unsigned> tiles;
    if (in.tile == isa::kAllTiles)
      for (unsigned t = 0; t < hw.tiles; ++t) tiles.push_back(t);
    else
      tiles.push_back(in.tile);
    const bool per_copy = u == isa::Unit::Matrix || u == isa::Unit::Vector;  // a copy per tile, globals per copy
    for (unsigned t : tiles) {
      const std::string unit = test::queue_of(in, t, hw);
      auto name = [&](unsigned id) { return id < 16 ? "s" + std::to_string(id) + "@" + std::to_string(t) : "s" + std::to_string(id); };
      for (int k = 0; k < 2; ++k) {
        const unsigned w = in.wait[size_t(k)];
        if (!w || (w >= 16 && !per_copy && t != tiles.front())) continue;
        Sem& s = sems[name(w)];
        s.units.insert(unit);
        ++s.waits;
        if (s.waits > s.signals)
          problems.push_back("instruction " + std::to_string(i) + ": waits on " + name(w) +
                             " more often than earlier instructions signal it");
      }
      for (int k = 0; k < 2; ++k) {
        const unsigned g = in.signal[size_t(k)];
        if (!g || (g >= 16 && !per_copy && t != tiles.front())) continue;
        Sem& s = sems[name(g)];
        ++s.signals;
        if (in.signal[size_t(1 - k)] != g) s.single_signal = true;
      }
    }
  }
  std::set<std::string> leftover_ids;
  for (const auto& [n, s] : sems) {
    if (s.units.size() > 1 && s.single_signal) {
      std::string us;
      for (const auto& u : s.units) us += " [" + u + "]";
      problems.push_back(n + ": waited on by several units:" + us);
    }
    if (s.signals != s.waits) {
      leftover_ids.insert(n.substr(0, n.find('@')));
      if ((s.signals - s.waits != 2 && s.signals - s.waits != 4) || n.find('@') == std::string::npos)
        problems.push_back(n + ": " + std::to_string(s.signals) + " signals, " + std::to_string(s.waits) + " waits");
    }
  }
  if (leftover_ids.size() > 2) problems.push_back("more than the stream's two free semaphores are left signalled");
  return problems;
}

struct Result {
  uint64_t cycles = 0;
  size_t instructions = 0;
};

// A golden prefill of `prefill` tokens, then `steps` decode steps on the
// SystemC model (one program; with one step the token comes from c1).
// `given`: a one-step program built before (for another position of its range).
Result run_decode(const hw::HwConfig& hw, const ModelConfig& cfg, const std::string& recipe, int prefill,
                  int steps, const DecodeProgram* given = nullptr) {
  const Model m = make(cfg, recipe);
  const auto toks = prompt(cfg, prefill + steps);
  golden::GoldenModel g(m.qm);
  g.prefill(std::vector<int64_t>(toks.begin(), toks.begin() + prefill));
  std::vector<DecodeStep> st;
  for (int s = 0; s < steps; ++s) st.push_back({uint64_t(prefill + s), steps == 1 ? -1 : toks[size_t(prefill + s)]});
  const DecodeProgram p = given ? *given : build_decode_program(m.qm, hw, st);
  {
    const auto problems = check_semaphores(p.program, hw);
    for (const auto& pr : problems) UNSCOPED_INFO(pr);
    CHECK(problems.empty());
  }
  sim::Options opt;
  opt.ctx = decode_context(p, uint64_t(prefill), toks[size_t(prefill)]);
  sim::Accelerator a("acc", hw, p.program, opt);
  for (const DramChunk& c : p.image) a.dram().write(c.addr, c.bytes.data(), c.bytes.size());
  for (size_t l = 0; l < m.qm.layers.size(); ++l)
    for (const DramChunk& c : kv_cache_image(hw, p, l, g.k_cache(l), g.v_cache(l), uint64_t(prefill)))
      a.dram().write(c.addr, c.bytes.data(), c.bytes.size());
  sc_core::sc_start();
  INFO(a.error());
  if (!a.finished()) std::ofstream("/tmp/decode_program.s") << p.listing;
  REQUIRE(a.finished());

  for (int s = 0; s < steps; ++s) {
    INFO("step " << s << " at position " << prefill + s);
    const std::vector<int32_t> want = g.decode(toks[size_t(prefill + s)]);
    std::vector<int32_t> got(want.size());
    a.dram().read(p.logits[size_t(s)], got.data(), 4 * got.size());
    size_t diff = 0;
    for (size_t i = 0; i < want.size(); ++i) diff += got[i] != want[i];
    INFO(diff << " of " << want.size() << " logits differ");
    CHECK(got == want);
    // the KV-cache row the step appended
    const uint64_t pos = uint64_t(prefill + s);
    for (size_t l = 0; l < m.qm.layers.size(); ++l) {
      const uint64_t kvh = uint64_t(m.qm.layers[l].dims.kv_heads), hd = uint64_t(cfg.head_dim);
      std::vector<int8_t> k(kvh * hd), v(kvh * hd);
      for (uint64_t j = 0; j < kvh; ++j)
        for (uint64_t e = 0; e < hd; ++e) {
          a.dram().read(k_cache_addr(p, l, pos, j, e), &k[j * hd + e], 1);
          a.dram().read(v_cache_addr(hw, p, l, pos, j, e), &v[j * hd + e], 1);
        }
      const auto& gk = g.k_cache(l);
      const auto& gv = g.v_cache(l);
      INFO("layer " << l);
      CHECK(k == std::vector<int8_t>(gk.begin() + long(pos * kvh * hd), gk.begin() + long((pos + 1) * kvh * hd)));
      CHECK(v == std::vector<int8_t>(gv.begin() + long(pos * kvh * hd), gv.begin() + long((pos + 1) * kvh * hd)));
    }
  }
  const Result r{a.stats().cycles, p.program.code.size()};
  std::printf("%s, %s, %d step(s) after %d tokens: %zu instructions, %llu cycles\n", hw.name.c_str(), recipe.c_str(),
              steps, prefill, r.instructions, (unsigned long long)r.cycles);
  return r;
}

ModelConfig tiny() { return load_model_or_named("tiny"); }


}  // namespace

TEST_CASE("decode program: tiny W8A8 on clone-28nm, bit-exact logits and KV row", "[decode][sim]") {
  run_decode(test::design("clone-28nm"), tiny(), "W8A8", 5, 1);
}

TEST_CASE("decode program: tiny W4A8 group-wise (32) on clone-28nm", "[decode][sim]") {
  run_decode(test::design("clone-28nm"), tiny(), "W4A8-g32", 5, 1);
}

TEST_CASE("decode program: tiny W8A8 on edge-small (one tile, 8x8)", "[decode][sim]") {
  run_decode(test::design("edge-small"), tiny(), "W8A8", 5, 1);
}

TEST_CASE("decode program: tiny W4A8-g32 on edge-small", "[decode][sim]") {
  run_decode(test::design("edge-small"), tiny(), "W4A8-g32", 3, 1);
}

TEST_CASE("decode program: tiny W8A8 on four tiles of 8x8", "[decode][sim]") {
  run_decode(test::design(std::string(CLONESIM_SOURCE_DIR) + "/tests/data/hw/cosim-4x8.yaml"), tiny(), "W8A8", 5, 1);
}

TEST_CASE("decode program: four steps in a row, the KV cache carried in DRAM", "[decode][sim]") {
  run_decode(test::design("clone-28nm"), tiny(), "W8A8", 4, 4);
}

TEST_CASE("decode program: three steps in a row on edge-small, W4A8-g32", "[decode][sim]") {
  run_decode(test::design("edge-small"), tiny(), "W4A8-g32", 2, 3);
}

TEST_CASE("decode program: the first position (empty KV cache)", "[decode][sim]") {
  run_decode(test::design("clone-28nm"), tiny(), "W8A8", 0, 2);
}

namespace {

// tiny with LayerNorm, biases on every linear and the LM head, a plain GELU FFN
ModelConfig tiny_layernorm_bias() {
  ModelConfig c = tiny();
  c.name = "tiny-ln-bias";
  c.family = Family::Custom;
  c.norm = NormKind::LayerNorm;
  c.qkv_bias = c.out_bias = c.mlp_bias = c.lm_head_bias = true;
  c.gated_ffn = false;
  c.act = Activation::Gelu;
  return c;
}

// Gemma-like: MQA, head_dim 32 (heads x head_dim != hidden), embedding scale,
// (1 + w) norms, tanh GELU, tied LM head, theta 1e6 for the RoPE tables
ModelConfig gemma_like() {
  ModelConfig c = tiny();
  c.name = "gemma-like";
  c.family = Family::Gemma;
  c.kv_heads = 1;
  c.head_dim = 32;
  c.rotary_dim = 32;
  c.act = Activation::GeluTanh;
  c.norm_plus_one = true;
  c.norm_eps = 1e-6;
  c.embed_scale = true;
  c.tied_embeddings = true;
  c.rope_theta = 1000000.0;
  fill_uniform_layers(c);
  return c;
}

}  // namespace

TEST_CASE("decode program: LayerNorm, biases everywhere, plain GELU FFN (tiny-sized)", "[decode][sim]") {
  run_decode(test::design("clone-28nm"), tiny_layernorm_bias(), "W8A8", 5, 1);
}

TEST_CASE("decode program: LayerNorm and biases, group-wise int4", "[decode][sim]") {
  run_decode(test::design("clone-28nm"), tiny_layernorm_bias(), "W4A8-g32", 5, 1);
}

TEST_CASE("decode program: Gemma-like (MQA, head_dim 32, embedding scale, tied head)", "[decode][sim]") {
  run_decode(test::design("clone-28nm"), gemma_like(), "W8A8", 5, 1);
}

TEST_CASE("decode program: an LM head wider than the accumulator, in chunks (vocab 2048 on edge-small)",
          "[decode][sim]") {
  ModelConfig c = tiny();
  c.vocab = 2048;  // 2048 int32 logits on one tile: 8 KiB, chunks of 128 columns (a 32nd of 16 KiB)
  run_decode(test::design("edge-small"), c, "W8A8", 5, 1);
}

TEST_CASE("decode program: LM head chunks on two tiles (vocab 8192 on clone-28nm)", "[decode][sim]") {
  ModelConfig c = tiny();
  c.vocab = 8192;  // 4096 columns per tile, chunks of 256 per tile
  run_decode(test::design("clone-28nm"), c, "W4A8-g32", 3, 1);
}

TEST_CASE("decode program: a design point too small for a kernel's buffers gives a one-line error", "[decode]") {
  const Model m = make(tiny(), "W8A8");
  hw::HwConfig small = test::design("clone-28nm");
  small.name = "clone-28nm-small-acc";
  small.accumulator.depth = 16;  // 2 banks of 1 KiB
  const std::string e = test::error_of([&] { build_decode_program(m.qm, small, 5); });
  INFO(e);
  CHECK(e.find('\n') == std::string::npos);
  CHECK(e.rfind("decode program for tiny on clone-28nm-small-acc: accumulator: ", 0) == 0);
  CHECK(e.find(" needs ") != std::string::npos);
  // a kernel and its buffer are named ("kernel: buffer needs N bytes")
  CHECK(e.find(": ", std::string("decode program for tiny on clone-28nm-small-acc: accumulator: ").size()) !=
        std::string::npos);
}

TEST_CASE("decode program: unsupported features are named", "[decode]") {
  ModelConfig c = tiny();
  c.sliding_window = 4;
  const Model m = make(c, "W8A8");
  const std::string e = test::error_of([&] { build_decode_program(m.qm, test::design("clone-28nm"), 5); });
  CHECK(e == "decode program for tiny on clone-28nm: sliding window 4: position 5 needs it, the decode attention "
             "attends to every position");
  const std::string e2 = test::error_of([&] { build_decode_program(m.qm, test::design("clone-28nm"), 128); });
  CHECK(e2 == "decode program for tiny on clone-28nm: position 128 is beyond max_positions 128");
}

TEST_CASE("decode program: memory map, plan and listing", "[decode]") {
  const Model m = make(tiny(), "W8A8");
  const hw::HwConfig hw = test::design("clone-28nm");
  const DecodeProgram p = build_decode_program(m.qm, hw, 5);
  const std::string map = p.map.to_string();
  INFO(map << p.plan);
  // the weights first, in the order the stream consumes them
  REQUIRE(p.map.regions().size() > 4);
  CHECK(p.map.regions()[0].name == "layers.0.q weights");
  CHECK(p.map.regions()[1].name == "layers.0.k weights");
  CHECK(map.find("layers.1.K cache") != std::string::npos);
  // tiny's 128 positions are one KV block: the program serves them all
  CHECK(p.first_pos == 0);
  CHECK(p.last_pos == 127);
  CHECK(map.find("RoPE cos, positions 0..127") != std::string::npos);
  CHECK(p.plan.find("layers.0.gate: decode linear 64x128 int8 per channel") != std::string::npos);
  CHECK(p.plan.find("residual stream") != std::string::npos);
  // every image chunk lies inside its region
  for (const DramChunk& c : p.image) {
    bool inside = false;
    for (const Region& r : p.map.regions()) inside |= c.addr >= r.addr && c.addr + c.bytes.size() <= r.addr + r.bytes;
    INFO(c.name);
    CHECK(inside);
  }
  // the listing re-assembles to the program
  CHECK(isa::assemble(p.listing, "decode.s").code == p.program.code);
  // a vocabulary whose logits do not fit the accumulator: the LM head in chunks
  ModelConfig c = tiny();
  c.vocab = 2048;
  const Model wide = make(c, "W8A8");
  const std::string m2 = build_decode_program(wide.qm, test::design("edge-small"), 5).map.to_string();
  INFO(m2);
  CHECK(m2.find("lm_head[0:128] weights") != std::string::npos);
  CHECK(m2.find("lm_head[1920:2048] table") != std::string::npos);
}

// A shapes-only model (no weights) gives the program of the real one: the
// same instructions but for the shifts, which the planner draws from scales.
TEST_CASE("decode program: a shapes-only model gives the same instruction stream and memory map", "[decode]") {
  for (const std::string recipe : {"W8A8", "W4A8-g32"})
    for (const std::string point : {"clone-28nm", "edge-small"}) {
      INFO(recipe << " on " << point);
      const Model m = make(tiny(), recipe);
      const golden::QuantModel shapes = golden::plan_quant_shapes(tiny(), parse_recipe(recipe));
      CHECK(shapes.shapes_only);
      CHECK(shapes.layers[0].q.w.empty());
      const hw::HwConfig hw = test::design(point);
      const DecodeProgram real = build_decode_program(m.qm, hw, 5), sh = build_decode_program(shapes, hw, 5);
      CHECK_FALSE(real.timing_only);
      CHECK(sh.timing_only);
      CHECK(sh.image.empty());
      CHECK(sh.map.to_string() == real.map.to_string());
      REQUIRE(sh.program.code.size() == real.program.code.size());
      size_t differ = 0;
      for (size_t i = 0; i < sh.program.code.size(); ++i) {
        isa::Instruction a = sh.program.code[i], b = real.program.code[i];
        differ += a != b;
        // every field but shifts and immediates (multipliers) agrees
        for (const isa::Field f : {isa::Field::Shift, isa::Field::Imm, isa::Field::Imm2}) a[f] = b[f] = 0;
        INFO("instruction " << i);
        REQUIRE(a == b);
      }
      CHECK(differ < sh.program.code.size() / 4);
    }
}

// Prints the plan, the memory map and the listing of tiny's decode step on
// clone-28nm (hidden: run it by name).
TEST_CASE("decode program: print tiny on clone-28nm", "[.report]") {
  const Model m = make(tiny(), "W8A8");
  const DecodeProgram p = build_decode_program(m.qm, test::design("clone-28nm"), 5);
  std::printf("%s\nDRAM map:\n%s\n%s", p.plan.c_str(), p.map.to_string().c_str(), p.listing.c_str());
  // and its run (the KV cache left empty: the timing does not depend on it)
  const hw::HwConfig hw = test::design("clone-28nm");
  sim::Options o;
  o.ctx = decode_context(p, 5, 0);
  sim::Accelerator a("acc", hw, p.program, o);
  for (const DramChunk& c : p.image) a.dram().write(c.addr, c.bytes.data(), c.bytes.size());
  sc_core::sc_start();
  REQUIRE(a.finished());
  std::printf("%s\n", sim::summary(a.stats(), hw).c_str());
}

TEST_CASE("decode program: vicuna-68m W8A8 on clone-28nm (K in chunks, the LM head in 63 chunks)",
          "[decode][sim][big]") {
  run_decode(test::design("clone-28nm"), load_model_or_named("vicuna-68m"), "W8A8", 3, 1);
}


// ---- Fitting the design point: the residual stream in column slices, norms
// in pieces, the attention in blocks of positions ---------------------------

namespace {

// clone-28nm with an accumulator of 2 banks x 24 lines x 64 B = 3 KiB (a
// tenth of its 32 KiB).  Before the residual stream was split into the
// tiles' columns, tiny at position 127 did not fit it on one or two tiles
// (every tile held the whole residual, the norm's squares and gamma, and the
// scores of all 128 positions).
hw::HwConfig small_acc(unsigned tiles) {
  hw::HwConfig h = test::design("clone-28nm");
  h.name = "clone-28nm-acc3k-" + std::to_string(tiles) + "t";
  h.tiles = tiles;
  h.accumulator.depth = 24;
  return h;
}

// The program at `pos` has its attention in blocks of 16 positions (scores as
// int8 digits) and its norms in pieces (on `pieces` or more per tile).
void check_fitted_plan(const ModelConfig& cfg, const hw::HwConfig& hw, uint64_t pos) {
  const Model m = make(cfg, "W8A8");
  const DecodeProgram p = build_decode_program(m.qm, hw, pos);
  const uint64_t blocks = (pos + 16) / 16;
  INFO(p.plan);
  CHECK(p.listing.find(strf("%llu block(s) of up to 16 positions", (unsigned long long)blocks)) != std::string::npos);
  CHECK(p.listing.find("digit 2 = q2") != std::string::npos);
  CHECK(p.plan.find("residual stream: the tile's columns") != std::string::npos);
}

}  // namespace

TEST_CASE("decode program: a 3 KiB accumulator on one tile (tiny at position 127), bit-exact", "[decode][sim]") {
  const hw::HwConfig hw = small_acc(1);
  check_fitted_plan(tiny(), hw, 127);
  run_decode(hw, tiny(), "W8A8", 127, 1);
}

// One program serves every position of its range: the position (c4) and the
// token (c1) are the host's; the rows of the last KV block, the append
// offsets and the RoPE row follow from c4.  Built from any position of the
// range it is the same program, and it runs each bit for bit (one SystemC
// run per test case).
TEST_CASE("decode program: one program serves every position with as many KV blocks", "[decode]") {
  const hw::HwConfig hw = small_acc(2);
  const Model m = make(tiny(), "W8A8");
  const DecodeProgram p = build_decode_program(m.qm, hw, 40);  // blocks of 16: positions 32..47 have 3
  CHECK(p.first_pos == 32);
  CHECK(p.last_pos == 47);
  CHECK(p.listing.find("3 block(s) of up to 16 positions") != std::string::npos);
  for (const uint64_t pos : {32, 47}) {
    const DecodeProgram o = build_decode_program(m.qm, hw, pos);
    CHECK(o.program.code == p.program.code);
    CHECK(o.image.size() == p.image.size());
    for (size_t i = 0; i < std::min(o.image.size(), p.image.size()); ++i) CHECK(o.image[i].bytes == p.image[i].bytes);
  }
  CHECK(build_decode_program(m.qm, hw, 48).first_pos == 48);
  CHECK(build_decode_program(m.qm, hw, 31).last_pos == 31);
  CHECK(test::error_of([&] { decode_context(p, 48, 0); }) ==
        "decode program for positions 32..47: position 48 is outside them");
  CHECK(test::error_of([&] { decode_context(p, 31, 0); }) ==
        "decode program for positions 32..47: position 31 is outside them");
  const auto c = decode_context(p, 40, 7);
  CHECK(c[p.token_reg] == 7);
  CHECK(c[p.pos_reg] == 40);
  // one block (clone-28nm): positions 0..127
  const DecodeProgram q = build_decode_program(m.qm, test::design("clone-28nm"), 64);
  CHECK(q.first_pos == 0);
  CHECK(q.last_pos == 127);
}

namespace {
void run_at(const hw::HwConfig& hw, uint64_t built_at, int pos) {
  const DecodeProgram p = build_decode_program(make(tiny(), "W8A8").qm, hw, built_at);
  run_decode(hw, tiny(), "W8A8", pos, 1, &p);
}
}  // namespace

TEST_CASE("decode program: built at position 40, run at 32 (the last block's first row)", "[decode][sim]") {
  run_at(small_acc(2), 40, 32);
}
TEST_CASE("decode program: built at position 40, run at 33", "[decode][sim]") { run_at(small_acc(2), 40, 33); }
TEST_CASE("decode program: built at position 40, run at 47 (a full last block)", "[decode][sim]") {
  run_at(small_acc(2), 40, 47);
}
TEST_CASE("decode program: built at position 64 on clone-28nm, run at 0", "[decode][sim]") {
  run_at(test::design("clone-28nm"), 64, 0);
}
TEST_CASE("decode program: built at position 64 on clone-28nm, run at 127", "[decode][sim]") {
  run_at(test::design("clone-28nm"), 64, 127);
}

TEST_CASE("decode program: only the first step takes its token from the host", "[decode]") {
  const Model m = make(tiny(), "W8A8");
  CHECK(test::error_of([&] { build_decode_program(m.qm, test::design("clone-28nm"), {{5, 1}, {6, -1}}); }) ==
        "decode program for tiny on clone-28nm: decode steps after the first take their token from the program "
        "(ctx.set), not the host");
}

TEST_CASE("decode program: a 3 KiB accumulator on two tiles, W4A8-g32, two steps in a row", "[decode][sim]") {
  const hw::HwConfig hw = small_acc(2);
  check_fitted_plan(tiny(), hw, 127);
  run_decode(hw, tiny(), "W4A8-g32", 126, 2);
}

TEST_CASE("decode program: a 3 KiB accumulator on four tiles, LayerNorm and biases", "[decode][sim]") {
  run_decode(small_acc(4), tiny_layernorm_bias(), "W8A8", 100, 1);
}

TEST_CASE("decode program: a wider tiny (hidden 256) on a 3 KiB accumulator: norms in several pieces per tile",
          "[decode][sim]") {
  ModelConfig c = tiny();
  c.name = "tiny-256";
  c.hidden = 256;
  c.intermediate = 512;
  c.head_dim = 64;
  c.rotary_dim = 64;
  c.layer.clear();
  for (int64_t i = 0; i < c.layers; ++i) c.layer.push_back({c.heads, c.kv_heads, c.intermediate, i});
  hw::HwConfig hw = small_acc(2);
  hw.accumulator.depth = 48;  // 6 KiB: 128 residual columns per tile in pieces of 64
  const Model m = make(c, "W8A8");
  const DecodeProgram p = build_decode_program(m.qm, hw, 60);
  INFO(p.plan);
  CHECK(p.listing.find("rmsnorm: a piece") == std::string::npos);  // (a buffer name, not in the listing)
  CHECK(p.listing.find("layers.0.attn_norm tile 1 piece 1") != std::string::npos);
  run_decode(hw, c, "W8A8", 60, 1);
}

// Shapes-only programs (no weights: timing mode only) of TinyLlama-1.1B and
// Llama-2-7B, W4A8-g128, at positions 511 and 2047 on clone-28nm.
TEST_CASE("decode program: TinyLlama-1.1B and Llama-2-7B W4A8-g128 build on clone-28nm at positions 511 and 2047",
          "[decode]") {
  const hw::HwConfig hw = test::design("clone-28nm");
  for (const std::string name : {"tinyllama-1.1b", "llama-2-7b"})
    for (const uint64_t pos : {511, 2047}) {
      const ModelConfig cfg = load_model_or_named(name);
      const golden::QuantModel qm = golden::plan_quant_shapes(cfg, parse_recipe("W4A8-g128"));
      const auto t0 = std::chrono::steady_clock::now();
      const DecodeProgram p = build_decode_program(qm, hw, pos);
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      INFO(name << " at " << pos);
      CHECK(p.timing_only);
      CHECK(p.image.empty());
      CHECK(p.layers.size() == size_t(cfg.layers));
      CHECK(p.steps.at(0).pos == pos);
      CHECK(p.map.to_string().find("layers." + std::to_string(cfg.layers - 1) + ".V cache") != std::string::npos);
      // the attention streams the cache in blocks of a scratchpad bank of
      // keys: 512 positions of TinyLlama's head dim 64 (one block at 511: a
      // query head group shares its KV head's loads), 256 of Llama's 128
      const uint64_t B = 32768 / uint64_t(cfg.head_dim), n = pos + 1;
      CHECK(p.listing.find(strf("%llu block(s) of up to %llu positions", (unsigned long long)((n + B - 1) / B),
                                (unsigned long long)std::min(B, n))) != std::string::npos);
      const auto problems = check_semaphores(p.program, hw);
      for (size_t i = 0; i < problems.size() && i < 10; ++i) UNSCOPED_INFO(problems[i]);
      CHECK(problems.empty());
      std::printf("%s W4A8-g128 at position %llu: %zu instructions, built in %.2f s\n", name.c_str(),
                  (unsigned long long)pos, p.program.code.size(), secs);
    }
}

// One Llama-2-7B W4A8-g128 decode step at position 511 (context 512) on
// clone-28nm in timing mode: its time against the DRAM roofline (the weight
// images with their tables, and the KV cache, at peak bandwidth).
TEST_CASE("decode program: Llama-2-7B W4A8-g128 decode step at position 511, timing mode", "[decode][sim][big]") {
  const hw::HwConfig hw = test::design("clone-28nm");
  const ModelConfig cfg = load_model_or_named("llama-2-7b");
  const uint64_t pos = 511;
  const auto t0 = std::chrono::steady_clock::now();
  const std::clock_t c0 = std::clock();
  const golden::QuantModel qm = golden::plan_quant_shapes(cfg, parse_recipe("W4A8-g128"));
  const DecodeProgram p = build_decode_program(qm, hw, pos);
  const auto t1 = std::chrono::steady_clock::now();
  const std::clock_t c1 = std::clock();
  sim::Options opt;
  opt.mode = sim::Mode::Timing;
  opt.ctx = decode_context(p, pos, 0);
  sim::Accelerator a("acc", hw, p.program, opt);
  sc_core::sc_start();
  const auto t2 = std::chrono::steady_clock::now();
  const std::clock_t c2 = std::clock();
  INFO(a.error());
  REQUIRE(a.finished());
  uint64_t weight_bytes = 0;
  for (const Region& r : p.map.regions())
    if (r.name.size() > 8 && (r.name.rfind(" weights") == r.name.size() - 8 || r.name.rfind(" table") == r.name.size() - 6))
      weight_bytes += r.bytes;
  const uint64_t kv_bytes = uint64_t(cfg.layers) * 2 * uint64_t(cfg.kv_heads) * uint64_t(cfg.head_dim) * (pos + 1);
  const sim::Stats& st = a.stats();
  const double secs = double(st.time_ps) * 1e-12;
  const double roofline = double(weight_bytes + kv_bytes) / (hw.dram.peak_gbps() * 1e9);
  const double fraction = roofline / secs;
  std::printf("llama-2-7b W4A8-g128 at position %llu: %zu instructions, %llu cycles (%.2f ms), weights and tables "
              "%.3f GB, KV %.3f GB, roofline %.2f ms: %.1f%% of the DRAM roofline; build %.2f s (CPU %.2f s), "
              "timing simulation %.2f s (CPU %.2f s)\n",
              (unsigned long long)pos, p.program.code.size(), (unsigned long long)st.cycles, secs * 1e3,
              weight_bytes * 1e-9, kv_bytes * 1e-9, roofline * 1e3, 100 * fraction,
              std::chrono::duration<double>(t1 - t0).count(), double(c1 - c0) / CLOCKS_PER_SEC,
              std::chrono::duration<double>(t2 - t1).count(), double(c2 - c1) / CLOCKS_PER_SEC);
  std::printf("%s\n", sim::summary(st, hw).c_str());
  CHECK(weight_bytes > 3400000000ull);  // 6.5e9 int4 weights, the group multipliers, the LM head
  CHECK(fraction > 0.85);               // the project's target for this step
  CHECK(fraction < 1.0);
}

// Where a Llama-2-7B step's DRAM idles (hidden: run it by name): the gaps
// between DMA transfers, by the section of the transfer after the gap.
TEST_CASE("decode program: Llama-2-7B DRAM gaps by kernel", "[.gaps]") {
  const hw::HwConfig hw = test::design("clone-28nm");
  const ModelConfig cfg = load_model_or_named(std::getenv("MODEL") ? std::getenv("MODEL") : "llama-2-7b");
  const uint64_t pos = std::getenv("POS") ? std::stoull(std::getenv("POS")) : 511;
  const golden::QuantModel qm = golden::plan_quant_shapes(cfg, parse_recipe(std::getenv("RECIPE") ? std::getenv("RECIPE") : "W4A8-g128"));
  const DecodeProgram p = build_decode_program(qm, hw, pos);
  std::vector<std::string> section(p.program.code.size());
  {
    std::istringstream in(p.listing);
    std::string line, cur;
    size_t i = 0;
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      if (line[0] == ';') {
        cur = line.substr(2);
        for (char& c : cur) if (c >= '0' && c <= '9') c = '#';
        cur = cur.substr(0, 60);
        continue;
      }
      if (i < section.size()) section[i++] = cur;
    }
  }
  sim::Options opt;
  opt.mode = sim::Mode::Timing;
  opt.ctx = decode_context(p, pos, 0);
  sim::Accelerator a("acc", hw, p.program, opt);
  sc_core::sc_start();
  REQUIRE(a.finished());
  std::vector<sim::Retirement> dma;
  for (const sim::Retirement& r : a.retirements()) {
    const auto u = isa::unit_of(p.program.code[r.index].op);
    if (u == isa::Unit::Load || u == isa::Unit::Store) dma.push_back(r);
  }
  std::sort(dma.begin(), dma.end(), [](const auto& x, const auto& y) { return x.start_ps < y.start_ps; });
  std::map<std::string, std::pair<double, int>> gaps;
  uint64_t end = 0, idle = 0;
  for (const auto& r : dma) {
    if (r.start_ps > end + 200000) {  // > 200 ns
      auto& g = gaps[section[r.index]];
      g.first += double(r.start_ps - end) * 1e-6;
      g.second += 1;
      idle += r.start_ps - end;
    }
    end = std::max(end, r.done_ps);
  }
  uint64_t wb = 0;
  for (const Region& r : p.map.regions())
    if (r.name.size() > 8 && (r.name.rfind(" weights") == r.name.size() - 8 || r.name.rfind(" table") == r.name.size() - 6))
      wb += r.bytes;
  const double kv = double(cfg.layers) * 2 * double(cfg.kv_heads) * double(cfg.head_dim) * double(pos + 1);
  std::printf("total %.3f ms, DMA idle gaps > 200 ns: %.3f ms; weights and tables %.3f GB, KV %.3f GB: %.1f%% of the "
              "DRAM roofline\n",
              a.stats().time_ps * 1e-9, idle * 1e-9, wb * 1e-9, kv * 1e-9,
              100 * (double(wb) + kv) / (hw.dram.peak_gbps() * 1e9) / (a.stats().time_ps * 1e-12));
  std::vector<std::pair<double, std::string>> v;
  for (const auto& [k, g] : gaps) v.push_back({g.first, k + " (" + std::to_string(g.second) + ")"});
  std::sort(v.rbegin(), v.rend());
  for (size_t i = 0; i < v.size() && i < 25; ++i) std::printf("%9.1f us  %s\n", v[i].first, v[i].second.c_str());
}

// The shipped large models on clone-28nm (hidden: run it by name): build
// time, instructions, the weight stream and the accumulator use.
TEST_CASE("decode program: large models on clone-28nm, report", "[.models]") {
  const hw::HwConfig hw = test::design("clone-28nm");
  for (const std::string name : {"tinyllama-1.1b", "llama-2-7b", "llama-2-13b", "vicuna-7b"})
    for (const std::string recipe : {"W8A8", "W4A8-g128"})
      for (const uint64_t pos : {511, 2047, 4095}) {
        const ModelConfig cfg = load_model_or_named(name);
        if (int64_t(pos) >= cfg.max_positions) continue;
        const std::clock_t c0 = std::clock();
        const golden::QuantModel qm = golden::plan_quant_shapes(cfg, parse_recipe(recipe));
        const DecodeProgram p = build_decode_program(qm, hw, pos);
        const double secs = double(std::clock() - c0) / CLOCKS_PER_SEC;
        auto line = [&](const std::string& key) {
          const auto i = p.plan.find(key);
          return i == std::string::npos ? std::string() : p.plan.substr(i, p.plan.find('\n', i) - i);
        };
        std::printf("%s %s at %llu: %.2f s CPU, %zu instructions; %s;%s\n", name.c_str(), recipe.c_str(),
                    (unsigned long long)pos, secs, p.program.code.size(), line("weight stream:").c_str(),
                    line("  accumulator: ").c_str());
      }
}
