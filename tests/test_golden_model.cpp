// The golden interpreter: calibration, the quantized model's plan (every
// parameter within the ISA's ranges), the integer run against the float
// reference (on the same quantised weights, and on the unquantised model),
// integer determinism (decode == a longer prefill, bit for bit), pruned
// models, every supported family, the sliding window and the rejected inputs.
//
// Error bounds (docs/compiler.md, "The golden interpreter"): a prefill of 16
// tokens then 8 decode steps; per position the relative L2 error of the
// dequantised logits vector, its mean over the 24 positions, top-1 agreement,
// and top-1 agreement at every "clear" position (the float's top-1 leads the
// runner-up by more than 3x the RMS logit error).  The error and top-1 bounds
// sit just above the worst figures over weight seeds 1..10 (the hidden
// [.report] cases print them), so they do not depend on the seed the tests
// happen to use; clear-position agreement held at all but 5 of 4613
// clear positions over those seeds, and at all of them at the tests' seed.
#include <catch2/catch.hpp>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdio>
#include <random>

#include "common/error.h"
#include "golden/golden_model.h"
#include "model/compress.h"
#include "model/model.h"
#include "weights/float_model.h"
#include "weights/prune.h"
#include "weights/quantize.h"
#include "weights_test_util.h"

using namespace clonesim;
using namespace clonesim::compiler;
using namespace clonesim::compiler::golden;
using namespace wtest;

namespace {

constexpr uint64_t kWeightSeed = 2024;
constexpr uint64_t kPromptSeed = 99;
constexpr int kPrefill = 16, kDecode = 8;

// Two-layer models of the tiny size (hidden 64, heads of 16) for each family.
ModelConfig base_cfg(const std::string& name, Family f) {
  ModelConfig c = load_model_or_named("tiny");
  c.name = name;
  c.family = f;
  return c;
}

ModelConfig qwen2_like() {  // GQA 4 on 2, q/k/v biases, theta 1e6
  ModelConfig c = base_cfg("qwen2-like", Family::Qwen2);
  c.qkv_bias = true;
  c.rope_theta = 1000000.0;
  return c;
}

ModelConfig gemma_like() {  // MQA, head_dim 32 (heads * head_dim != hidden), embed scale, (1 + w), GeGLU, tied
  ModelConfig c = base_cfg("gemma-like", Family::Gemma);
  c.kv_heads = 1;
  c.head_dim = 32;
  c.rotary_dim = 32;
  c.act = Activation::GeluTanh;
  c.norm_plus_one = true;
  c.norm_eps = 1e-6;
  c.embed_scale = true;
  c.tied_embeddings = true;
  fill_uniform_layers(c);
  return c;
}

ModelConfig opt_like() {  // LayerNorm, learned positions, ReLU fc1/fc2, biases everywhere, tied
  ModelConfig c = base_cfg("opt-like", Family::Opt);
  c.kv_heads = 4;
  c.act = Activation::Relu;
  c.gated_ffn = false;
  c.norm = NormKind::LayerNorm;
  c.qkv_bias = c.out_bias = c.mlp_bias = true;
  c.pos = PosKind::Learned;
  c.rotary_dim = 0;
  c.tied_embeddings = true;
  fill_uniform_layers(c);
  return c;
}

ModelConfig gpt2_like() {  // as OPT with exact GELU
  ModelConfig c = opt_like();
  c.name = "gpt2-like";
  c.family = Family::Gpt2;
  c.act = Activation::Gelu;
  return c;
}

ModelConfig phi_like() {  // parallel block, LayerNorm, partial rotary (8 of 16), tanh GELU, biases, LM head bias
  ModelConfig c = base_cfg("phi-like", Family::Phi);
  c.kv_heads = 4;
  c.act = Activation::GeluTanh;
  c.gated_ffn = false;
  c.norm = NormKind::LayerNorm;
  c.qkv_bias = c.out_bias = c.mlp_bias = c.lm_head_bias = true;
  c.rotary_dim = 8;
  c.parallel_block = true;
  fill_uniform_layers(c);
  return c;
}

ModelConfig tinyllama_pruned() {
  // Two of the 22 layers (source layers 0 and 3), a quarter of layer 3's KV
  // groups and 3/4 of the FFN pruned away, the vocabulary cut to 2048 so the
  // test stays small.  Random weights follow the pruned dims directly (the
  // pruning selection itself is tested on tiny).
  ModelConfig t = load_model_or_named("tinyllama-1.1b");
  t.vocab = 2048;
  std::string heads = "heads: [", ffn = "ffn: [", drop = "drop: [";
  for (int i = 0; i < 22; ++i) {
    heads += std::string(i ? ", " : "") + (i == 3 ? "0.25" : "0.0");
    ffn += std::string(i ? ", " : "") + "0.75";
    if (i != 0 && i != 3) drop += std::string(drop.size() > 7 ? ", " : "") + std::to_string(i);
  }
  const ModelConfig pc = apply_pruning(t, parse_prune_spec(heads + "]\n" + ffn + "]\n" + drop + "]\n", "r.yaml"));
  REQUIRE(pc.layer.size() == 2);
  REQUIRE(pc.layer[0].q_heads == 32);
  REQUIRE(pc.layer[0].kv_heads == 4);
  REQUIRE(pc.layer[1].source_layer == 3);
  REQUIRE(pc.layer[1].kv_heads == 3);
  REQUIRE(pc.layer[1].q_heads == 24);
  REQUIRE(pc.layer[1].ffn == 1408);
  return pc;
}

struct Setup {
  ModelWeights w, fq;  // float weights and their fake-quantised copy
  QuantizedWeights q;
  Calibration cal;
  QuantModel qm;
};

Setup make_from(ModelWeights w, const std::string& recipe) {
  Setup s;
  s.w = std::move(w);
  const QuantRecipe r = parse_recipe(recipe);
  s.q = quantize(s.w, r);
  s.fq = fake_quantized(s.w, s.q);
  s.cal = calibrate(s.w, calibration_tokens(s.w.cfg));
  s.qm = plan_quant_model(s.w, s.q, r, s.cal);
  return s;
}

Setup make(const ModelConfig& cfg, const std::string& recipe, uint64_t seed = kWeightSeed) {
  return make_from(random_weights(cfg, seed), recipe);
}

std::vector<int64_t> prompt(const ModelConfig& cfg, int n, uint64_t seed = kPromptSeed) {
  std::mt19937_64 rng(seed);
  std::vector<int64_t> t(static_cast<size_t>(n));
  for (auto& v : t) v = int64_t(rng() % uint64_t(cfg.vocab));
  return t;
}

// Logits of a prefill of kPrefill tokens then kDecode decode steps.
std::vector<std::vector<int32_t>> golden_run(const QuantModel& qm, const std::vector<int64_t>& toks) {
  GoldenModel g(qm);
  auto out = g.prefill_all(std::vector<int64_t>(toks.begin(), toks.begin() + kPrefill));
  for (size_t i = kPrefill; i < toks.size(); ++i) out.push_back(g.decode(toks[i]));
  return out;
}

std::vector<std::vector<double>> float_run(const ModelWeights& w, const std::vector<int64_t>& toks) {
  FloatModel f(w);
  auto out = f.prefill(std::vector<int64_t>(toks.begin(), toks.begin() + kPrefill));
  for (size_t i = kPrefill; i < toks.size(); ++i) out.push_back(f.decode(toks[i]));
  return out;
}

struct Errors {
  double worst_rel = 0, mean_rel = 0;  // relative L2 error of the logits vector
  int top1 = 0, positions = 0;
  int clear = 0, clear_top1 = 0;  // positions whose float top-1 leads by > 3x the RMS logit error; agreement there
};

Errors compare(const std::vector<std::vector<int32_t>>& g, double scale, const std::vector<std::vector<double>>& f) {
  Errors e;
  for (size_t p = 0; p < f.size(); ++p) {
    double num = 0, den = 0;
    size_t ag = 0, af = 0;
    for (size_t j = 0; j < f[p].size(); ++j) {
      const double d = double(g[p][j]) * scale - f[p][j];
      num += d * d;
      den += f[p][j] * f[p][j];
      if (g[p][j] > g[p][ag]) ag = j;
      if (f[p][j] > f[p][af]) af = j;
    }
    double second = -1e300;
    for (size_t j = 0; j < f[p].size(); ++j)
      if (j != af) second = std::max(second, f[p][j]);
    if (f[p][af] - second > 3 * std::sqrt(num / double(f[p].size()))) {
      ++e.clear;
      e.clear_top1 += ag == af;
    }
    const double rel = std::sqrt(num / den);
    e.worst_rel = std::max(e.worst_rel, rel);
    e.mean_rel += rel / double(f.size());
    e.top1 += ag == af;
    ++e.positions;
  }
  return e;
}

struct Measured {
  Errors vs_fq, vs_float;  // against FloatModel on the fake-quantised weights / on the float weights
};

Measured measure(const Setup& s) {
  const auto toks = prompt(s.w.cfg, kPrefill + kDecode);
  const auto g = golden_run(s.qm, toks);
  return {compare(g, s.qm.s_logits, float_run(s.fq, toks)), compare(g, s.qm.s_logits, float_run(s.w, toks))};
}

struct Bound {
  double worst, mean;
  int top1;
};

void check_bound(const Errors& e, const Bound& b) {
  INFO("relative L2 error: worst " << 100 * e.worst_rel << "%, mean " << 100 * e.mean_rel << "%; top-1 " << e.top1
                                   << "/" << e.positions << ", at clear positions " << e.clear_top1 << "/" << e.clear);
  CHECK(e.positions == kPrefill + kDecode);
  CHECK(e.worst_rel <= b.worst);
  CHECK(e.mean_rel <= b.mean);
  CHECK(e.top1 >= b.top1);
  CHECK(e.clear_top1 == e.clear);
}

// W8A8 and W4A8 against the float model on the same quantised weights: the
// integer arithmetic's own error (int8 activations, LUTs, fixed point).
// Worst over seeds 1..10 and every family: 22.2% / 10.0% / 15 of 24.
const Bound kVsQuantized{0.25, 0.11, 15};
// W8A8 against the unquantised float model: almost all of it is the above.
// Worst over the seeds: 20.2% / 10.0% / 17 of 24.
const Bound kW8VsFloat{0.25, 0.11, 15};
// W4A8 against the unquantised float model: int4 weights of random N(0, 1/K)
// matrices carry about 10% RMS error (tiny: 9.6% at group 32), which
// dominates.  Worst over the seeds: 89.8% / 40.4% / 8 of 24.
const Bound kW4VsFloat{0.95, 0.45, 6};

void print(const char* what, const Measured& m) {
  std::printf("%-30s vs fake-quant: worst %5.2f%% mean %5.2f%% top1 %2d/%d (clear %d/%d) | vs float: worst %5.2f%% "
              "mean %5.2f%% top1 %2d/%d (clear %d/%d)\n",
              what, 100 * m.vs_fq.worst_rel, 100 * m.vs_fq.mean_rel, m.vs_fq.top1, m.vs_fq.positions,
              m.vs_fq.clear_top1, m.vs_fq.clear, 100 * m.vs_float.worst_rel, 100 * m.vs_float.mean_rel,
              m.vs_float.top1, m.vs_float.positions, m.vs_float.clear_top1, m.vs_float.clear);
}

// Every parameter of the plan within the ranges of the instruction that uses it.
void check_isa_ranges(const QuantModel& m) {
  const auto linear = [](const QLinear& l) {
    INFO(l.name);
    if (l.k == 0) return;  // absent (the other FFN form)
    REQUIRE(l.w.size() == size_t(l.k * l.n));
    const int lim = l.type == WeightType::Int8 ? 127 : 7;
    CHECK(std::count_if(l.w.begin(), l.w.end(), [&](int8_t v) { return v < -lim || v > lim; }) == 0);
    if (l.group == 0) {
      REQUIRE(l.mult.size() == size_t(l.n));
      REQUIRE(l.shift.size() == size_t(l.n));
      CHECK(std::count_if(l.shift.begin(), l.shift.end(), [](int32_t s) { return s < 0 || s > 63; }) == 0);
    } else {
      REQUIRE(l.mult.size() == size_t(l.groups() * l.n));
      REQUIRE(l.a + l.b <= 63);
    }
    CHECK(std::count_if(l.mult.begin(), l.mult.end(), [](int32_t v) { return v < 0; }) == 0);
    REQUIRE(l.b <= 63);
    REQUIRE((l.bias.empty() || l.bias.size() == size_t(l.n)));
    REQUIRE((l.to_int8 || l.b == 0));
  };
  const auto rms = [&](const RmsNormParams& p) {
    REQUIRE(p.gamma.size() == size_t(m.cfg.hidden));
    REQUIRE((p.sq_shift <= 63 && p.sum_shift <= 63 && p.u_shift <= 63 && p.out_shift <= 63));
    REQUIRE(p.rs_shift <= 31);  // vrsqrt
    REQUIRE(p.eps >= 0);
  };
  const auto norm = [&](const QNorm& n) {
    if (n.kind == NormKind::RmsNorm) {
      rms(n.rms);
    } else {
      rms(n.ln.rms);
      REQUIRE((n.ln.sum_shift <= 63 && n.ln.inv_d_shift <= 63 && n.ln.beta_shift <= 63));
      REQUIRE(n.ln.beta.size() == size_t(m.cfg.hidden));
    }
    REQUIRE(n.scale > 0);
  };
  REQUIRE(m.embed.size() == size_t(m.cfg.vocab * m.cfg.hidden));
  REQUIRE(m.embed_mult.size() == size_t(m.cfg.vocab));
  REQUIRE(m.embed_shift <= 63);
  CHECK(std::count(m.embed.begin(), m.embed.end(), int8_t(-128)) == 0);
  if (m.cfg.pos == PosKind::Rotary) {
    REQUIRE(m.rope_cos.size() == size_t(m.position_limit * m.cfg.head_dim));
    size_t bad = 0;
    for (size_t i = 0; i < m.rope_cos.size(); ++i) bad += std::abs(m.rope_cos[i]) > 16384 || std::abs(m.rope_sin[i]) > 16384;
    CHECK(bad == 0);
  } else {
    REQUIRE(m.pos_embed.size() == size_t(m.position_limit * m.cfg.hidden));
    REQUIRE(m.pos_shift <= 63);
  }
  for (const QLayer& L : m.layers) {
    norm(L.attn_norm);
    if (!m.cfg.parallel_block) norm(L.ffn_norm);
    for (const QLinear* l : {&L.q, &L.k, &L.v, &L.o, &L.gate, &L.up, &L.down, &L.fc1, &L.fc2}) linear(*l);
    REQUIRE((L.q.to_int8 && L.k.to_int8 && L.v.to_int8 && !L.o.to_int8));
    REQUIRE(L.s_attn == L.s_v);
    REQUIRE(L.softmax.d_shift <= 63);
    REQUIRE(L.softmax.recip_shift <= 62);  // vrecip
    REQUIRE(L.softmax.exp_table.size() == 256);
    CHECK(std::count_if(L.softmax.exp_table.begin(), L.softmax.exp_table.end(),
                        [](int16_t e) { return e < 0 || e > 127; }) == 0);
    REQUIRE(L.act_table.size() == 256);
    REQUIRE(L.product_shift <= 63);
  }
  if (m.cfg.final_norm) norm(m.final_norm);
  linear(m.lm_head);
  REQUIRE(!m.lm_head.to_int8);
}

// Keeps the last block recorded under each name; the largest |value| of each.
struct MaxRecorder : GoldenRecorder {
  std::map<std::string, std::vector<int32_t>> last;
  std::map<std::string, int64_t> maxabs;
  void record(const std::string& name, const std::vector<int32_t>& v, double) override {
    last[name] = v;
    int64_t& m = maxabs[name];
    for (int32_t x : v) m = std::max<int64_t>(m, std::abs(int64_t(x)));
  }
};

}  // namespace

TEST_CASE("Calibration: a deterministic prompt; every quantised activation recorded", "[golden]") {
  const ModelConfig tiny = load_model_or_named("tiny");
  const auto t = calibration_tokens(tiny);
  REQUIRE(t.size() == size_t(kCalibrationLength));
  CHECK(t == calibration_tokens(tiny, 1));
  CHECK(t != calibration_tokens(tiny, 2));
  std::mt19937_64 rng(1);
  CHECK(t[0] == int64_t(rng() % 256));
  for (int64_t v : t) CHECK((v >= 0 && v < 256));
  ModelConfig small = tiny;
  small.max_positions = 10;
  CHECK(calibration_tokens(small).size() == 10);  // at most max_positions

  const ModelWeights w = random_weights(tiny, kWeightSeed);
  const Calibration c = calibrate(w, t);
  CHECK(c.tokens == t);
  for (const char* n : {"embed", "final_norm", "logits"}) CHECK(c.get(n) > 0);
  for (int i = 0; i < 2; ++i)
    for (const char* n : {"attn_norm", "q", "k", "v", "q_rot", "k_rot", "attn", "resid_attn", "ffn_norm", "gate",
                          "up", "act", "ffn_act", "resid"})
      CHECK(c.get("layers." + std::to_string(i) + "." + n) > 0);
  // act is max |silu(gate)|: at most max |gate|
  CHECK(c.get("layers.0.act") <= c.get("layers.0.gate"));
  REQUIRE_THROWS_WITH(c.get("layers.9.q"), "calibration: no range recorded for layers.9.q");
  REQUIRE_THROWS_WITH(calibrate(w, {}), "tiny: calibration: the prompt is empty");
}

TEST_CASE("QuantModel: scales from calibration, parameters within the ISA's ranges", "[golden]") {
  const ModelConfig tiny = load_model_or_named("tiny");
  for (const char* r : {"W8A8", "W4A8-g32", "W4A8-g48", "W8A8-g128"}) {
    INFO(r);
    const Setup s = make(tiny, r);
    check_isa_ranges(s.qm);
    const QuantModel& m = s.qm;
    // residual: the calibrated absmax maps to 46000 / 2
    double rmax = s.cal.get("embed");
    for (int i = 0; i < 2; ++i) {
      rmax = std::max(rmax, s.cal.get("layers." + std::to_string(i) + ".resid"));
      rmax = std::max(rmax, s.cal.get("layers." + std::to_string(i) + ".resid_attn"));
    }
    CHECK(rmax / m.s_res == Approx(23000.0));
    CHECK(m.layers[0].s_q == Approx(std::max(s.cal.get("layers.0.q"), s.cal.get("layers.0.q_rot")) / 127));
    CHECK(m.layers[1].s_v == Approx(s.cal.get("layers.1.v") / 127));
    CHECK(m.s_logits == Approx(s.cal.get("logits") / 1048576.0));
    // the gated product: s_act * s_up * 2^P = s_prod, table entries within int16
    const QLayer& L = m.layers[0];
    CHECK(L.s_act * L.up.s_y * std::ldexp(1.0, int(L.product_shift)) == Approx(L.s_prod));
    CHECK(L.s_prod == Approx(s.cal.get("layers.0.ffn_act") / 127));
    // linears: int8 outputs, T in residual units for o/down, logits for the head
    CHECK(L.q.s_x == L.attn_norm.scale);
    CHECK(L.o.s_y == m.s_res);
    CHECK(L.down.s_y == m.s_res);
    CHECK(L.down.s_x == L.s_prod);
    CHECK(m.lm_head.s_y == m.s_logits);
    const bool grouped = std::string(r) != "W8A8";
    CHECK(L.q.group == (grouped ? (std::string(r) == "W8A8-g128" ? 64 : std::stoi(std::string(r).substr(6))) : 0));
    if (grouped) {
      // the largest group multiplier uses the 31 bits
      int32_t mx = 0;
      for (int32_t v : L.down.mult) mx = std::max(mx, v);
      CHECK(mx >= (1 << 30));
      CHECK(L.q.b == kLinearFracBits);
      CHECK(L.down.groups() == (std::string(r) == "W4A8-g48" ? 3 : std::string(r) == "W4A8-g32" ? 4 : 1));
    } else {
      CHECK(L.q.b == 0);  // no bias: one vrequant straight to int8
    }
    // On the calibration prompt itself nothing saturates: the residual stays
    // within 46000 (x*x fits int32), T and logits far inside int32.
    GoldenModel g(m);
    MaxRecorder rec;
    g.set_recorder(&rec);
    g.prefill(s.cal.tokens);
    for (int i = 0; i < 2; ++i) {
      const std::string p = "layers." + std::to_string(i) + ".";
      CHECK(rec.maxabs[p + "resid"] <= kResidualMax);
      CHECK(rec.maxabs[p + "resid_attn"] <= kResidualMax);
      CHECK(rec.maxabs[p + "ffn_out"] < (int64_t(1) << 24));
    }
    CHECK(rec.maxabs["logits"] < (int64_t(1) << 22));
  }
}

TEST_CASE("Golden model: tiny W8A8 per channel against the float reference", "[golden]") {
  const Measured m = measure(make(load_model_or_named("tiny"), "W8A8"));
  check_bound(m.vs_fq, kVsQuantized);
  check_bound(m.vs_float, kW8VsFloat);
}

TEST_CASE("Golden model: tiny W4A8 group-wise (32, 48 not dividing K, 128 >= K) against the float reference",
          "[golden]") {
  for (const char* r : {"W4A8-g32", "W4A8-g48", "W4A8-g128", "W8A8-g32"}) {
    INFO(r);
    const Measured m = measure(make(load_model_or_named("tiny"), r));
    check_bound(m.vs_fq, kVsQuantized);
    check_bound(m.vs_float, r[1] == '4' ? kW4VsFloat : kW8VsFloat);
  }
}

TEST_CASE("Golden model: decode after prefill is a longer prefill, bit for bit (logits and KV cache)", "[golden]") {
  for (const ModelConfig& c : {load_model_or_named("tiny"), opt_like(), phi_like()})
    for (const char* r : {"W8A8", "W4A8-g48"}) {
      INFO(c.name << " " << r);
      const Setup s = make(c, r);
      const auto toks = prompt(c, 24);
      GoldenModel whole(s.qm), steps(s.qm), chunks(s.qm);
      const auto all = whole.prefill_all(toks);
      REQUIRE(all.size() == 24);
      // 16 + 8 decode steps
      auto a = steps.prefill_all(std::vector<int64_t>(toks.begin(), toks.begin() + 16));
      for (size_t i = 16; i < 24; ++i) a.push_back(steps.decode(toks[i]));
      // 5 + 11 (last logits only) + 8
      std::vector<std::vector<int32_t>> b = chunks.prefill_all(std::vector<int64_t>(toks.begin(), toks.begin() + 5));
      const auto last = chunks.prefill(std::vector<int64_t>(toks.begin() + 5, toks.begin() + 16));
      const auto tail = chunks.prefill_all(std::vector<int64_t>(toks.begin() + 16, toks.end()));
      CHECK(a == all);
      CHECK(last == all[15]);
      CHECK(tail == std::vector<std::vector<int32_t>>(all.begin() + 16, all.end()));
      CHECK(b[4] == all[4]);
      CHECK(whole.position() == 24);
      CHECK(chunks.position() == 24);
      for (size_t l = 0; l < 2; ++l) {
        const size_t bytes = size_t(24 * s.qm.layers[l].dims.kv_heads * c.head_dim);
        CHECK(whole.k_cache(l).size() == bytes);
        CHECK(whole.k_cache(l) == steps.k_cache(l));
        CHECK(whole.v_cache(l) == steps.v_cache(l));
        CHECK(whole.k_cache(l) == chunks.k_cache(l));
        CHECK(whole.v_cache(l) == chunks.v_cache(l));
      }
      // reset starts over
      whole.reset();
      CHECK(whole.position() == 0);
      CHECK(whole.k_cache(0).empty());
      CHECK(whole.prefill(std::vector<int64_t>(toks.begin(), toks.begin() + 3)) == all[2]);
    }
}

TEST_CASE("Golden model: the KV cache holds k after RoPE and v, as int8 of the planned scales", "[golden]") {
  const Setup s = make(load_model_or_named("tiny"), "W8A8");
  const auto toks = prompt(s.w.cfg, 6);
  GoldenModel g(s.qm);
  MaxRecorder rec;
  g.set_recorder(&rec);
  FloatModel f(s.fq);
  for (int64_t t : toks) {
    g.decode(t);
    f.decode(t);
  }
  // the last position's rows are the recorded k_rot / v of that step
  const size_t row = size_t(2 * 16);
  const std::vector<int8_t>& kc = g.k_cache(1);
  REQUIRE(kc.size() == 6 * row);
  CHECK(std::vector<int32_t>(kc.end() - long(row), kc.end()) == rec.last["layers.1.k_rot"]);
  const std::vector<int8_t>& vc = g.v_cache(0);
  CHECK(std::vector<int32_t>(vc.end() - long(row), vc.end()) == rec.last["layers.0.v"]);
  // dequantised, layer 0's cache follows the float reference's (few LSB)
  double worst = 0;
  for (size_t i = 0; i < g.k_cache(0).size(); ++i) {
    worst = std::max(worst, std::fabs(g.k_cache(0)[i] * s.qm.layers[0].s_k - f.k_cache(0)[i]) / s.qm.layers[0].s_k);
    worst = std::max(worst, std::fabs(g.v_cache(0)[i] * s.qm.layers[0].s_v - f.v_cache(0)[i]) / s.qm.layers[0].s_v);
  }
  CHECK(worst <= 6.0);  // LSB of the cache
}

TEST_CASE("Golden model: pruned tiny (ratio file; a dropped layer)", "[golden][prune]") {
  const ModelConfig tiny = load_model_or_named("tiny");
  const ModelWeights full = random_weights(tiny, kWeightSeed);
  const ModelConfig pc = apply_pruning(tiny, parse_prune_spec("heads: [0.5, 0.0]\nffn: [0.25, 0.5]\n", "r.yaml"));
  REQUIRE(pc.layer[0].q_heads == 2);
  REQUIRE(pc.layer[0].kv_heads == 1);
  REQUIRE(pc.layer[0].ffn == 96);
  REQUIRE(pc.layer[1].ffn == 64);
  for (const char* r : {"W8A8", "W4A8-g32"}) {
    INFO(r);
    const Setup s = make_from(prune_weights(full, pc), r);
    check_isa_ranges(s.qm);
    CHECK(s.qm.layers[0].q.n == 32);
    CHECK(s.qm.layers[0].k.n == 16);
    CHECK(s.qm.layers[0].down.k == 96);
    CHECK(s.qm.layers[1].gate.n == 64);
    const Measured m = measure(s);
    check_bound(m.vs_fq, kVsQuantized);
    check_bound(m.vs_float, r[1] == '4' ? kW4VsFloat : kW8VsFloat);
    GoldenModel g(s.qm);
    g.prefill(prompt(pc, 5));
    CHECK(g.k_cache(0).size() == size_t(5 * 1 * 16));  // one KV head kept in layer 0
    CHECK(g.k_cache(1).size() == size_t(5 * 2 * 16));
  }
  const ModelConfig dc = apply_pruning(tiny, parse_prune_spec("drop: [0]\n", "r.yaml"));
  const Setup d = make_from(prune_weights(full, dc), "W8A8");
  REQUIRE(d.qm.layers.size() == 1);
  check_bound(measure(d).vs_fq, kVsQuantized);
}

TEST_CASE("Golden model: qwen2-like (GQA, q/k/v bias) and gemma-like (MQA, embed scale, 1 + w, GeGLU, tied)",
          "[golden]") {
  for (const ModelConfig& c : {qwen2_like(), gemma_like()})
    for (const char* r : {"W8A8", "W4A8-g32"}) {
      INFO(c.name << " " << r);
      const Setup s = make(c, r);
      check_isa_ranges(s.qm);
      const Measured m = measure(s);
      check_bound(m.vs_fq, kVsQuantized);
      check_bound(m.vs_float, r[1] == '4' ? kW4VsFloat : kW8VsFloat);
    }
  // the q/k/v biases are in T units (s_y / 2^16) and the per-channel path keeps T
  const Setup q = make(qwen2_like(), "W8A8");
  const QLinear& l = q.qm.layers[0].k;
  REQUIRE(l.bias.size() == 32);
  CHECK(l.b == kLinearFracBits);
  CHECK(l.bias[3] == std::lround(double(q.w.layers[0].k.b.data[3]) / l.s_y * 65536.0));
  // Gemma: the sqrt(hidden) embedding scale is in the row multipliers
  const Setup g = make(gemma_like(), "W8A8");
  const double amax0 = [&] {
    double a = 0;
    for (int j = 0; j < 64; ++j) a = std::max(a, std::fabs(double(g.w.embed.at(0, j))));
    return a;
  }();
  CHECK(double(g.qm.embed_mult[0]) / std::ldexp(1.0, int(g.qm.embed_shift)) ==
        Approx(amax0 / 127 * 8.0 / g.qm.s_res).epsilon(1e-6));
  CHECK(g.qm.layers[0].k.n == 32);  // one KV head of 32
}

TEST_CASE("Golden model: opt-, gpt2- and phi-like (LayerNorm, learned positions, plain FFN, parallel block, "
          "partial rotary)",
          "[golden]") {
  for (const ModelConfig& c : {opt_like(), gpt2_like(), phi_like()})
    for (const char* r : {"W8A8", "W4A8-g32"}) {
      INFO(c.name << " " << r);
      const Setup s = make(c, r);
      check_isa_ranges(s.qm);
      const Measured m = measure(s);
      check_bound(m.vs_fq, kVsQuantized);
      check_bound(m.vs_float, r[1] == '4' ? kW4VsFloat : kW8VsFloat);
    }
  // phi: dims 8..15 of every head pass RoPE unchanged
  const Setup p = make(phi_like(), "W8A8");
  GoldenModel g(p.qm);
  MaxRecorder rec;
  g.set_recorder(&rec);
  g.prefill(prompt(p.w.cfg, 7));
  const auto& q = rec.last["layers.0.q"];
  const auto& qr = rec.last["layers.0.q_rot"];
  int moved = 0;
  for (size_t i = 0; i < q.size(); ++i) {
    if (i % 16 >= 8) REQUIRE(q[i] == qr[i]);
    else moved += q[i] != qr[i];
  }
  CHECK(moved > 0);
}

TEST_CASE("Golden model: sliding window", "[golden]") {
  ModelConfig c = base_cfg("mistral-like", Family::Mistral);
  const Setup s = make(c, "W8A8");
  const auto toks = prompt(c, 24);
  const auto full = GoldenModel(s.qm).prefill_all(toks);
  // a window covering the whole prompt changes nothing
  QuantModel wide = s.qm;
  wide.cfg.sliding_window = 24;
  CHECK(GoldenModel(wide).prefill_all(toks) == full);
  // window 4: positions 0..3 see everything; later ones do not
  QuantModel w4 = s.qm;
  w4.cfg.sliding_window = 4;
  GoldenModel g4(w4);
  const auto win = g4.prefill_all(std::vector<int64_t>(toks.begin(), toks.begin() + 16));
  for (int p = 0; p < 4; ++p) CHECK(win[size_t(p)] == full[size_t(p)]);
  int differ = 0;
  for (int p = 4; p < 16; ++p) differ += win[size_t(p)] != full[size_t(p)];
  CHECK(differ == 12);
  // and decode keeps the window: the same as the windowed prefill
  GoldenModel g4b(w4);
  auto steps = g4b.prefill_all(std::vector<int64_t>(toks.begin(), toks.begin() + 9));
  for (size_t i = 9; i < 16; ++i) steps.push_back(g4b.decode(toks[i]));
  CHECK(steps == win);
  // window 1: every query head's attention output is its KV head's own value row
  QuantModel w1 = s.qm;
  w1.cfg.sliding_window = 1;
  GoldenModel g1(w1);
  MaxRecorder rec;
  g1.set_recorder(&rec);
  g1.prefill(std::vector<int64_t>(toks.begin(), toks.begin() + 5));
  for (const char* layer : {"layers.0.", "layers.1."}) {
    const auto& att = rec.last[std::string(layer) + "attn"];  // 5 x 4 heads x 16
    const auto& v = rec.last[std::string(layer) + "v"];       // 5 x 2 heads x 16
    for (int r = 0; r < 5; ++r)
      for (int h = 0; h < 4; ++h)
        for (int e = 0; e < 16; ++e) REQUIRE(att[size_t((r * 4 + h) * 16 + e)] == v[size_t((r * 2 + h / 2) * 16 + e)]);
  }
}

TEST_CASE("Golden model: rejected features and bad input, one line each", "[golden]") {
  ModelConfig post = opt_like();
  post.post_norm = true;
  const ModelWeights pw = random_weights(post, 1);
  const QuantizedWeights pq = quantize(pw, parse_recipe("W8A8"));
  const Calibration pc = calibrate(pw, calibration_tokens(post));
  REQUIRE_THROWS_WITH(plan_quant_model(pw, pq, parse_recipe("W8A8"), pc),
                      "opt-like: post_norm: unsupported by the golden interpreter: norms after the residual adds "
                      "(OPT do_layer_norm_before: false)");

  const ModelConfig tiny = load_model_or_named("tiny");
  const ModelWeights w = random_weights(tiny, 1);
  const QuantizedWeights q = quantize(w, parse_recipe("W4A8-g32"));
  const Calibration cal = calibrate(w, calibration_tokens(tiny));
  REQUIRE_THROWS_WITH(plan_quant_model(w, q, parse_recipe("W8A8"), cal),
                      "tiny: recipe W8A8 differs from the quantised weights' W4A8-g32");
  const QuantModel m = plan_quant_model(w, q, parse_recipe("W4A8-g32"), cal);
  GoldenModel g(m);
  REQUIRE_THROWS_WITH(g.decode(256), "tiny: token: 256 is outside 0..255");
  REQUIRE_THROWS_WITH(g.prefill({1, -1}), "tiny: token: -1 is outside 0..255");
  CHECK(g.position() == 0);  // nothing ran
  g.prefill(std::vector<int64_t>(127, 3));
  g.decode(5);
  REQUIRE_THROWS_WITH(g.decode(5), "tiny: position: 128 is beyond max_positions 128");
  CHECK(g.prefill({}).empty());
}

TEST_CASE("Golden model: vicuna-68m (shipped, 32000 vocab) W8A8", "[golden][big]") {
  const Setup s = make(load_model_or_named("vicuna-68m"), "W8A8");
  check_isa_ranges(s.qm);
  const Measured m = measure(s);
  check_bound(m.vs_fq, kVsQuantized);
  check_bound(m.vs_float, kW8VsFloat);
}

TEST_CASE("Golden model: TinyLlama's attention (32 q heads on 4 KV heads of 64) W4A8-g128, pruned", "[golden][big]") {
  const ModelConfig pc = tinyllama_pruned();
  const Setup s = make(pc, "W4A8-g128");
  check_isa_ranges(s.qm);
  CHECK(s.qm.layers[0].q.groups() == 16);
  const Measured m = measure(s);
  check_bound(m.vs_fq, kVsQuantized);
  check_bound(m.vs_float, kW4VsFloat);
}

// ---- hidden: the figures docs/compiler.md quotes -------------------------------

TEST_CASE("Golden model: error figures, weight seed 2024 (printed)", "[golden][.report]") {
  const ModelConfig tiny = load_model_or_named("tiny");
  for (const ModelConfig& c : {tiny, qwen2_like(), gemma_like(), opt_like(), gpt2_like(), phi_like()})
    for (const char* r : {"W8A8", "W4A8-g32", "W4A8-g48", "W4A8-g128"}) print((c.name + " " + r).c_str(), measure(make(c, r)));
}

TEST_CASE("Golden model: error figures, worst over weight seeds 1..10 (printed)", "[golden][.report]") {
  const ModelConfig tiny = load_model_or_named("tiny");
  for (const ModelConfig& c : {tiny, qwen2_like(), gemma_like(), opt_like(), gpt2_like(), phi_like()})
    for (const char* r : {"W8A8", "W4A8-g32", "W4A8-g48"}) {
      Measured worst;
      worst.vs_fq.top1 = worst.vs_float.top1 = 99;
      double avg_fq = 0, avg_f = 0;
      for (uint64_t seed = 1; seed <= 10; ++seed) {
        const Measured m = measure(make(c, r, seed));
        for (auto [w, e] : {std::pair<Errors*, const Errors*>{&worst.vs_fq, &m.vs_fq}, {&worst.vs_float, &m.vs_float}}) {
          w->worst_rel = std::max(w->worst_rel, e->worst_rel);
          w->mean_rel = std::max(w->mean_rel, e->mean_rel);
          w->top1 = std::min(w->top1, e->top1);
          w->clear += e->clear;  // summed over the seeds
          w->clear_top1 += e->clear_top1;
          w->positions = e->positions;
        }
        avg_fq += m.vs_fq.mean_rel / 10;
        avg_f += m.vs_float.mean_rel / 10;
      }
      print((c.name + " " + r).c_str(), worst);
      std::printf("    mean error averaged over the seeds: vs fake-quant %.2f%%, vs float %.2f%%\n", 100 * avg_fq,
                  100 * avg_f);
    }
}

TEST_CASE("Golden model: error figures of vicuna-68m and the pruned TinyLlama (printed)", "[golden][.report]") {
  print("vicuna-68m W8A8", measure(make(load_model_or_named("vicuna-68m"), "W8A8")));
  print("tinyllama-pruned W4A8-g128", measure(make(tinyllama_pruned(), "W4A8-g128")));
  print("tinyllama-pruned W8A8", measure(make(tinyllama_pruned(), "W8A8")));
}

TEST_CASE("Golden model: per-tensor error of tiny W8A8 (printed)", "[golden][.report]") {
  struct FRec : ActivationRecorder {
    std::map<std::string, std::vector<std::vector<double>>> v;
    void record(const std::string& n, const double* x, size_t c) override { v[n].emplace_back(x, x + c); }
  };
  struct GRec : GoldenRecorder {
    std::map<std::string, std::vector<std::vector<double>>> v;
    void record(const std::string& n, const std::vector<int32_t>& x, double s) override {
      std::vector<double> d(x.size());
      for (size_t i = 0; i < x.size(); ++i) d[i] = x[i] * s;
      v[n].push_back(d);
    }
  };
  const ModelConfig tiny = load_model_or_named("tiny");
  const Setup s = make(tiny, "W8A8");
  FloatModel f(s.fq);
  FRec fr;
  f.set_recorder(&fr);
  GoldenModel g(s.qm);
  GRec gr;
  g.set_recorder(&gr);
  for (int64_t t : prompt(tiny, 24)) {  // one token at a time: one record per position on both sides
    f.decode(t);
    g.decode(t);
  }
  for (const auto& [name, gv] : gr.v) {
    const auto& fv = fr.v[name];
    double worst = 0, mean = 0;
    for (size_t p = 0; p < gv.size(); ++p) {
      double num = 0, den = 0;
      for (size_t j = 0; j < gv[p].size(); ++j) {
        num += (gv[p][j] - fv[p][j]) * (gv[p][j] - fv[p][j]);
        den += fv[p][j] * fv[p][j];
      }
      worst = std::max(worst, std::sqrt(num / den));
      mean += std::sqrt(num / den) / double(gv.size());
    }
    std::printf("%-22s relative L2 error: mean %5.2f%% worst %5.2f%%\n", name.c_str(), 100 * mean, 100 * worst);
  }
}
