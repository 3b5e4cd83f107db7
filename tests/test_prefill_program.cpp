// Prefill programs on the SystemC model, bit for bit against the golden
// interpreter: the program for a prompt runs on its DRAM image (weights,
// tables, RoPE tables, embedding) with an empty KV cache, and the int32
// logits of the last token and every byte of every layer's KV cache (the
// decode program's layout) must equal GoldenModel::prefill's.  A decode
// program continuing from that cache is covered by the decode tests
// (tests/test_decode_program.cpp), which start from GoldenModel's cache: one
// SystemC kernel per process keeps the two runs apart, so the hand-over is
// checked as "the prefill's cache equals GoldenModel's", byte for byte.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <random>
#include <set>

#include "common/error.h"
#include "golden/golden_model.h"
#include "lower/decode_program.h"
#include "lower/prefill_program.h"
#include "model/model.h"
#include "sim/stats.h"
#include "sim_test_util.h"
#include "test_util.h"
#include "model/compress.h"
#include "weights/prune.h"
#include "weights/quantize.h"

using namespace clonesim;
using namespace clonesim::compiler;

namespace {

constexpr uint64_t kWeightSeed = 2024, kPromptSeed = 7;

struct Model {
  ModelWeights w;
  golden::QuantModel qm;
};

Model make_from(ModelWeights w, const std::string& recipe) {
  Model m;
  m.w = std::move(w);
  const QuantRecipe r = parse_recipe(recipe);
  const QuantizedWeights q = quantize(m.w, r);
  const golden::Calibration cal = golden::calibrate(m.w, golden::calibration_tokens(m.w.cfg));
  m.qm = golden::plan_quant_model(m.w, q, r, cal);
  return m;
}

Model make(const ModelConfig& cfg, const std::string& recipe) { return make_from(random_weights(cfg, kWeightSeed), recipe); }

std::vector<int64_t> prompt(const ModelConfig& cfg, int n) {
  std::mt19937_64 rng(kPromptSeed);
  std::vector<int64_t> t(static_cast<size_t>(n));
  for (auto& v : t) v = int64_t(rng() % uint64_t(cfg.vocab));
  return t;
}

ModelConfig tiny() { return load_model_or_named("tiny"); }

// Within each phase (between barriers: control nops waiting on s16), every
// semaphore (per tile for 1..15) is signalled exactly as often as it is
// waited on, by one unit only (docs/compiler.md, "Semaphores: one consuming
// unit each"), and no wait needs a signal of a later instruction.
std::vector<std::string> check_balanced(const isa::Program& prog, const hw::HwConfig& hw) {
  std::map<std::string, std::pair<int64_t, int64_t>> sems;  // signals, waits
  std::map<std::string, std::set<std::string>> units;        // the units that wait on it
  std::vector<std::string> problems;
  unsigned phase = 0;
  for (size_t i = 0; i < prog.code.size(); ++i) {
    const isa::Instruction& in = prog.code[i];
    const isa::Unit u = isa::unit_of(in.op);
    if (u == isa::Unit::Control && (in.wait[0] == 16 || in.wait[1] == 16)) ++phase;
    std::vector<unsigned> tiles;
    if (in.tile == isa::kAllTiles)
      for (unsigned t = 0; t < hw.tiles; ++t) tiles.push_back(t);
    else
      tiles.push_back(in.tile);
    const bool per_copy = u == isa::Unit::Matrix || u == isa::Unit::Vector;
    for (unsigned t : tiles) {
      const std::string unit = test::queue_of(in, t, hw);
      auto name = [&](unsigned id) {
        return id < 16 ? "s" + std::to_string(id) + "@" + std::to_string(t) + " in phase " + std::to_string(phase)
                       : "s" + std::to_string(id);
      };
      for (int k = 0; k < 2; ++k) {
        const unsigned w = in.wait[size_t(k)];
        if (!w || (w >= 16 && !per_copy && t != tiles.front())) continue;
        units[name(w)].insert(unit);
        auto& s = sems[name(w)];
        if (++s.second > s.first && problems.size() < 20)
          problems.push_back("instruction " + std::to_string(i) + ": waits on " + name(w) + " before it is signalled");
      }
      for (int k = 0; k < 2; ++k) {
        const unsigned g = in.signal[size_t(k)];
        if (!g || (g >= 16 && !per_copy && t != tiles.front())) continue;
        ++sems[name(g)].first;
      }
    }
  }
  for (const auto& [n, us] : units)
    if (us.size() > 1) problems.push_back(n + ": waited on by " + std::to_string(us.size()) + " units");
  for (const auto& [n, s] : sems)
    if (s.first != s.second) problems.push_back(n + ": " + std::to_string(s.first) + " signals, " + std::to_string(s.second) + " waits");
  return problems;
}

struct Result {
  uint64_t cycles = 0;
  size_t instructions = 0;
};

Result run_prefill(const hw::HwConfig& hw, const Model& m, const std::string& what, int n,
                   const PrefillOptions& opt = {}) {
  const ModelConfig& cfg = m.qm.cfg;
  const auto toks = prompt(cfg, n);
  const PrefillProgram p = build_prefill_program(m.qm, hw, toks, opt);
  {
    const auto problems = check_balanced(p.program, hw);
    for (const auto& pr : problems) UNSCOPED_INFO(pr);
    CHECK(problems.empty());
  }
  CHECK(p.tokens == uint64_t(n));
  sim::Accelerator a("acc", hw, p.program, sim::Options{});
  for (const DramChunk& c : p.image) a.dram().write(c.addr, c.bytes.data(), c.bytes.size());
  sc_core::sc_start();
  INFO(a.error());
  if (!a.finished()) std::ofstream("/tmp/prefill_program.s") << p.listing;
  REQUIRE(a.finished());

  golden::GoldenModel g(m.qm);
  const std::vector<int32_t> want = g.prefill(toks);
  std::vector<int32_t> got(want.size());
  a.dram().read(p.logits, got.data(), 4 * got.size());
  size_t diff = 0;
  for (size_t i = 0; i < want.size(); ++i) diff += got[i] != want[i];
  INFO(diff << " of " << want.size() << " logits differ");
  CHECK(got == want);
  // every byte of every layer's KV cache (positions 0..n-1)
  for (size_t l = 0; l < m.qm.layers.size(); ++l) {
    const uint64_t kvh = uint64_t(m.qm.layers[l].dims.kv_heads), hd = uint64_t(cfg.head_dim);
    std::vector<int8_t> k(uint64_t(n) * kvh * hd), v(k.size());
    for (uint64_t pos = 0; pos < uint64_t(n); ++pos)
      for (uint64_t j = 0; j < kvh; ++j)
        for (uint64_t e = 0; e < hd; ++e) {
          a.dram().read(k_cache_addr(p, l, pos, j, e), &k[(pos * kvh + j) * hd + e], 1);
          a.dram().read(v_cache_addr(hw, p, l, pos, j, e), &v[(pos * kvh + j) * hd + e], 1);
        }
    INFO("layer " << l);
    CHECK(k == g.k_cache(l));
    CHECK(v == g.v_cache(l));
  }
  // The hand-over to decode: the decode program at position n lays out its KV
  // cache as the prefill did (the same shape per layer), and the prefill's
  // whole cache regions are byte for byte the image a decode run starts from
  // (kv_cache_image of GoldenModel's cache, as tests/test_decode_program.cpp feeds it).
  if (int64_t(n) < m.qm.position_limit) {
    const DecodeProgram dp = build_decode_program(m.qm, hw, uint64_t(n));
    for (size_t l = 0; l < m.qm.layers.size(); ++l) {
      const DecodeAttentionShape &da = dp.layers[l].attn, &pa = p.layers[l].attn;
      CHECK((da.q_heads == pa.q_heads && da.kv_heads == pa.kv_heads && da.hd == pa.hd && da.max_pos == pa.max_pos));
      const auto img = kv_cache_image(hw, dp, l, g.k_cache(l), g.v_cache(l), uint64_t(n));
      REQUIRE(img.size() == 2);
      for (int c = 0; c < 2; ++c) {
        std::vector<uint8_t> got(img[size_t(c)].bytes.size());
        a.dram().read(c == 0 ? p.layers[l].k_cache : p.layers[l].v_cache, got.data(), got.size());
        INFO("layer " << l << (c == 0 ? " K" : " V") << " cache region");
        CHECK(got == img[size_t(c)].bytes);
      }
    }
  }
  const Result r{a.stats().cycles, p.program.code.size()};
  std::printf("prefill %s, %s, %d tokens: %zu instructions, %llu cycles\n", hw.name.c_str(), what.c_str(), n,
              r.instructions, (unsigned long long)r.cycles);
  return r;
}


}  // namespace

TEST_CASE("prefill program: tiny W8A8 on clone-28nm, 10 tokens: logits and KV cache bit-exact", "[prefill][sim]") {
  run_prefill(test::design("clone-28nm"), make(tiny(), "W8A8"), "tiny W8A8", 10);
}

TEST_CASE("prefill program: tiny W4A8-g32 on clone-28nm, 12 tokens", "[prefill][sim]") {
  run_prefill(test::design("clone-28nm"), make(tiny(), "W4A8-g32"), "tiny W4A8-g32", 12);
}

TEST_CASE("prefill program: tiny W8A8 on edge-small (one tile, 8x8)", "[prefill][sim]") {
  run_prefill(test::design("edge-small"), make(tiny(), "W8A8"), "tiny W8A8", 9);
}

TEST_CASE("prefill program: tiny W4A8-g32 on edge-small", "[prefill][sim]") {
  run_prefill(test::design("edge-small"), make(tiny(), "W4A8-g32"), "tiny W4A8-g32", 11);
}

TEST_CASE("prefill program: tiny W8A8 on four tiles of 8x8", "[prefill][sim]") {
  run_prefill(test::design(std::string(CLONESIM_SOURCE_DIR) + "/tests/data/hw/cosim-4x8.yaml"), make(tiny(), "W8A8"),
              "tiny W8A8", 10);
}

TEST_CASE("prefill program: row blocks of 4 rows and norms in pieces of 16 (W4A8-g32)", "[prefill][sim]") {
  PrefillOptions o;
  o.max_row_block = 4;
  o.max_norm_piece = 16;
  run_prefill(test::design("clone-28nm"), make(tiny(), "W4A8-g32"), "tiny W4A8-g32, blocks of 4, pieces of 16", 10, o);
}

TEST_CASE("prefill program: row blocks of 3 rows and norms in pieces (W8A8, edge-small)", "[prefill][sim]") {
  PrefillOptions o;
  o.max_row_block = 3;
  o.max_norm_piece = 32;
  run_prefill(test::design("edge-small"), make(tiny(), "W8A8"), "tiny W8A8, blocks of 3, pieces of 32", 8, o);
}

TEST_CASE("prefill program: pruned tiny (ratio file: half of layer 0's heads, FFN 96 / 64)", "[prefill][sim]") {
  const ModelConfig full = tiny();
  const ModelConfig pc = apply_pruning(full, parse_prune_spec("heads: [0.5, 0.0]\nffn: [0.25, 0.5]\n", "r.yaml"));
  REQUIRE(pc.layer[0].q_heads == 2);
  const ModelWeights w = prune_weights(random_weights(full, kWeightSeed), pc);
  run_prefill(test::design("clone-28nm"), make_from(w, "W4A8-g32"), "pruned tiny W4A8-g32", 10);
}

TEST_CASE("prefill program: one token (the prompt's only row)", "[prefill][sim]") {
  run_prefill(test::design("clone-28nm"), make(tiny(), "W8A8"), "tiny W8A8", 1);
}

TEST_CASE("prefill program: errors name the model, the design point, the kernel and the buffer", "[prefill]") {
  const Model m = make(tiny(), "W8A8");
  hw::HwConfig small = test::design("clone-28nm");
  small.name = "clone-28nm-small-acc";
  small.accumulator.depth = 2;  // 2 banks of 128 bytes
  const std::string e = test::error_of([&] { build_prefill_program(m.qm, small, prompt(tiny(), 8)); });
  INFO(e);
  CHECK(e.find('\n') == std::string::npos);
  CHECK(e.rfind("prefill program for tiny on clone-28nm-small-acc: ", 0) == 0);
  CHECK(e.find("accumulator") != std::string::npos);
  CHECK(e.find(" needs ") != std::string::npos);
  ModelConfig c = tiny();
  c.sliding_window = 4;
  const Model w = make(c, "W8A8");
  CHECK(test::error_of([&] { build_prefill_program(w.qm, test::design("clone-28nm"), prompt(c, 8)); }) ==
        "prefill program for tiny on clone-28nm: sliding window 4: a prompt of 8 tokens needs it, the prefill attends "
        "to every position");
  CHECK(test::error_of([&] { build_prefill_program(m.qm, test::design("clone-28nm"), std::vector<int64_t>(129, 1)); }) ==
        "prefill program for tiny on clone-28nm: 129 tokens: beyond max_positions 128");
}

TEST_CASE("prefill program: plan, map and listing, and a shapes-only model gives the same program", "[prefill]") {
  const Model m = make(tiny(), "W4A8-g32");
  const hw::HwConfig hw = test::design("clone-28nm");
  const auto toks = prompt(tiny(), 10);
  const PrefillProgram p = build_prefill_program(m.qm, hw, toks);
  INFO(p.plan);
  CHECK(p.plan.find("rows in blocks of 10") != std::string::npos);
  CHECK(p.map.to_string().find("layers.1.K cache") != std::string::npos);
  CHECK(isa::assemble(p.listing, "prefill.s").code == p.program.code);
  {  // without a listing (joined from per-phase pieces): the same program; beyond the listing limit: a
     // listing without comments, which still re-assembles to the program
    PrefillOptions none;
    none.listing = false;
    const PrefillProgram q = build_prefill_program(m.qm, hw, toks, none);
    CHECK(q.listing.empty());
    CHECK(q.program.code == p.program.code);
    PrefillOptions bare;
    bare.listing_limit = 10;
    const PrefillProgram r = build_prefill_program(m.qm, hw, toks, bare);
    CHECK(r.listing.find("    ; ") == std::string::npos);
    CHECK(isa::assemble(r.listing, "prefill.s").code == p.program.code);
  }
  for (const DramChunk& c : p.image) {
    bool inside = false;
    for (const Region& r : p.map.regions()) inside |= c.addr >= r.addr && c.addr + c.bytes.size() <= r.addr + r.bytes;
    INFO(c.name);
    CHECK(inside);
  }
  const golden::QuantModel shapes = golden::plan_quant_shapes(tiny(), parse_recipe("W4A8-g32"));
  const PrefillProgram sh = build_prefill_program(shapes, hw, toks);
  CHECK(sh.timing_only);
  CHECK(sh.image.empty());
  CHECK(sh.map.to_string() == p.map.to_string());
  REQUIRE(sh.program.code.size() == p.program.code.size());
  for (size_t i = 0; i < sh.program.code.size(); ++i) {
    isa::Instruction a = sh.program.code[i], b = p.program.code[i];
    for (const isa::Field f : {isa::Field::Shift, isa::Field::Imm, isa::Field::Imm2}) a[f] = b[f] = 0;
    INFO("instruction " << i);
    REQUIRE(a == b);
  }
}

namespace {

// A shapes-only Llama-2-7B (W4A8-g128) prefill of n tokens on clone-28nm in
// timing mode; `layers` > 0 keeps only that many layers.
void llama_timing(int n, int layers) {
  ModelConfig cfg = load_model_or_named("llama-2-7b");
  if (layers > 0) {
    cfg.layers = layers;
    cfg.layer.resize(size_t(layers));
  }
  const golden::QuantModel shapes = golden::plan_quant_shapes(cfg, parse_recipe("W4A8-g128"));
  const hw::HwConfig hw = test::design("clone-28nm");
  const auto t0 = std::chrono::steady_clock::now();
  PrefillOptions po;
  po.listing = false;  // a timing run: no listing, and the program moved into the simulator (one copy)
  PrefillProgram p = build_prefill_program(shapes, hw, std::vector<int64_t>(size_t(n), 1), po);
  const double build_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("%s", p.plan.c_str());
  const size_t instructions = p.program.code.size();
  sim::Options o;
  o.mode = sim::Mode::Timing;
  sim::Accelerator a("acc", hw, std::move(p.program), o);
  const auto t1 = std::chrono::steady_clock::now();
  sc_core::sc_start();
  const double sim_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
  INFO(a.error());
  REQUIRE(a.finished());
  const sim::Stats& s = a.stats();
  const double macs = double(s.events.macs_int8 + s.events.macs_int4);
  const double peak = double(hw.tiles) * hw.mxu.rows * hw.mxu.cols;
  double mxu_busy = 0;
  for (const auto& u : s.units)
    if (u.name.rfind("matrix", 0) == 0) mxu_busy += double(u.busy_cycles);
  std::printf("llama-2-7b W4A8-g128, %d layer(s), %d tokens on clone-28nm: %zu instructions, build %.1f s, "
              "simulation %.1f s, %llu cycles, MXU utilisation %.1f%% (MACs / (cycles x %g)), matrix units busy "
              "%.1f%%\n%s\n",
              layers > 0 ? layers : int(cfg.layers), n, instructions, build_s, sim_s,
              (unsigned long long)s.cycles, 100.0 * macs / (double(s.cycles) * peak), peak,
              100.0 * mxu_busy / (double(s.cycles) * hw.tiles), sim::summary(s, hw).c_str());
  CHECK(macs > 0);
}

}  // namespace

TEST_CASE("prefill program: shapes-only Llama-2-7B W4A8-g128, 32 tokens, one layer, timing mode", "[prefill][sim][big]") {
  llama_timing(32, 1);
}

TEST_CASE("prefill program: Llama-2-7B W4A8-g128, 512 tokens, two layers (report)", "[.report]") { llama_timing(512, 2); }

TEST_CASE("prefill program: Llama-2-7B W4A8-g128, 64 tokens, all 32 layers (report)", "[.report]") { llama_timing(64, 0); }

TEST_CASE("prefill program: a scratchpad of 8 KiB, per-channel K in chunks chained with accum (W8A8)", "[prefill][sim]") {
  hw::HwConfig hw = test::design("clone-28nm");
  hw.name = "clone-28nm-8k-sp";
  hw.scratchpad.depth = 16;  // 8 banks of 1 KiB: weight buffers of 1 KiB, K of 64 and 128 in chunks of 16 (blocks of 32 columns)
  const Model m = make(tiny(), "W8A8");
  const PrefillProgram p = build_prefill_program(m.qm, hw, prompt(tiny(), 6));
  INFO(p.plan);
  CHECK(p.plan.find("K chunks of 16 rows") != std::string::npos);
  run_prefill(hw, m, "tiny W8A8, K in chunks", 6);
}

TEST_CASE("prefill program: Llama-2-7B W4A8-g128, 512 tokens, one layer (report)", "[.report]") { llama_timing(512, 1); }
