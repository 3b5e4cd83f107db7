// The float reference: hand-computed tiny models, RoPE pairing, GQA mapping,
// the parallel block, KV-cache consistency per family and the activation recorder.
#include <catch2/catch.hpp>

#include <cmath>
#include <set>

#include "weights/float_model.h"
#include "weights_test_util.h"

using namespace clonesim::compiler;
using namespace wtest;

namespace {

Tensor t1(const std::vector<float>& v) {
  Tensor t({int64_t(v.size())});
  t.data = v;
  return t;
}

Tensor t2(int64_t k, int64_t n, const std::vector<float>& v) {
  Tensor t({k, n});
  t.data = v;
  return t;
}

// Keeps the last vector recorded under each name.
struct LastRecorder : ActivationRecorder {
  std::map<std::string, std::vector<double>> last;
  void record(const std::string& name, const double* v, size_t n) override { last[name].assign(v, v + n); }
};

ModelConfig hand_cfg(Family f) {
  ModelConfig c;
  c.name = "hand";
  c.family = f;
  c.vocab = 2;
  c.hidden = 2;
  c.intermediate = 1;
  c.layers = 1;
  c.heads = 1;
  c.kv_heads = 1;
  c.head_dim = 2;
  c.max_positions = 2;
  c.rotary_dim = 2;
  c.norm_eps = 0;
  uniform_layers(c);
  return c;
}

double max_abs_diff(const std::vector<std::vector<double>>& a, const std::vector<std::vector<double>>& b) {
  double d = 0;
  for (size_t i = 0; i < a.size(); ++i)
    for (size_t j = 0; j < a[i].size(); ++j) d = std::max(d, std::fabs(a[i][j] - b[i][j]));
  return d;
}

}  // namespace

TEST_CASE("Activations", "[float]") {
  CHECK(silu(1.0) == Approx(0.7310585786300049).epsilon(1e-14));
  CHECK(silu(-2.0) == Approx(-0.2384058440442351).epsilon(1e-14));
  CHECK(gelu(1.0) == Approx(0.8413447460685429).epsilon(1e-14));
  CHECK(gelu(-0.5) == Approx(-0.15426876936299347).epsilon(1e-13));
  CHECK(gelu_tanh(1.0) == Approx(0.8411919906082768).epsilon(1e-14));
  CHECK(activation(Activation::Relu, -3.0) == 0.0);
  CHECK(activation(Activation::Relu, 3.0) == 3.0);
}

TEST_CASE("Hand-computed Llama-style model: RMSNorm, RoPE, gated SiLU, tied head", "[float]") {
  ModelConfig c = hand_cfg(Family::Llama);
  c.tied_embeddings = true;
  ModelWeights w;
  w.cfg = c;
  w.embed = t2(2, 2, {1, 1, 2, -1});
  w.layers.resize(1);
  LayerWeights& l = w.layers[0];
  l.attn_norm.w = t1({1, 1});
  l.ffn_norm.w = t1({1, 1});
  l.q.w = l.k.w = l.v.w = l.o.w = t2(2, 2, {1, 0, 0, 1});
  l.gate.w = t2(2, 1, {1, 0});
  l.up.w = t2(2, 1, {0, 1});
  l.down.w = t2(1, 2, {1, 1});
  w.final_norm.w = t1({1, 1});
  FloatModel m(w);

  // Position 0, token 0: x = [1, 1] is its own RMS-normalised value; attention
  // over one position returns v; the FFN adds silu(1) * 1 to both; the final
  // norm gives [1, 1]; tied logits = [1, 1] . embed rows.
  const std::vector<double> l0 = m.decode(0);
  CHECK(l0[0] == Approx(2.0).epsilon(1e-14));
  CHECK(l0[1] == Approx(1.0).epsilon(1e-14));

  // Position 1, token 1: x = [2, -1].
  const std::vector<double> l1 = m.decode(1);
  const double r = std::sqrt(2.5), n0 = 2 / r, n1 = -1 / r;
  const double c1 = std::cos(1.0), s1 = std::sin(1.0);  // angle = position * theta^0
  const double q0 = n0 * c1 - n1 * s1, q1 = n1 * c1 + n0 * s1;  // rotate_half pair (0, 1)
  const double sc0 = (q0 + q1) / std::sqrt(2.0);           // against k of position 0: [1, 1]
  const double sc1 = (q0 * q0 + q1 * q1) / std::sqrt(2.0); // against itself
  const double p0 = std::exp(sc0) / (std::exp(sc0) + std::exp(sc1)), p1 = 1 - p0;
  const double h0 = 2 + p0 * 1 + p1 * n0, h1 = -1 + p0 * 1 + p1 * n1;  // v is not rotated
  const double rh = std::sqrt((h0 * h0 + h1 * h1) / 2);
  const double g = (h0 / rh) / (1 + std::exp(-h0 / rh)) * (h1 / rh);
  const double x0 = h0 + g, x1 = h1 + g, rx = std::sqrt((x0 * x0 + x1 * x1) / 2);
  CHECK(l1[0] == Approx((x0 + x1) / rx).epsilon(1e-12));
  CHECK(l1[1] == Approx((2 * x0 - x1) / rx).epsilon(1e-12));
  CHECK(m.position() == 2);
  CHECK(m.k_cache(0).size() == 4);
  CHECK(m.k_cache(0)[2] == Approx(q0).epsilon(1e-14));  // the cache holds k after RoPE
  CHECK(m.v_cache(0)[2] == Approx(n0).epsilon(1e-14));
}

TEST_CASE("Hand-computed OPT-style model: LayerNorm, learned positions, GELU fc1/fc2, biases", "[float]") {
  ModelConfig c = hand_cfg(Family::Opt);
  c.norm = NormKind::LayerNorm;
  c.pos = PosKind::Learned;
  c.act = Activation::Gelu;
  c.gated_ffn = false;
  c.qkv_bias = c.out_bias = c.mlp_bias = c.lm_head_bias = true;
  ModelWeights w;
  w.cfg = c;
  w.embed = t2(2, 2, {1, 3, 0, -2});
  w.pos_embed = t2(2, 2, {0, 0, 1, 1});
  w.layers.resize(1);
  LayerWeights& l = w.layers[0];
  l.attn_norm = {t1({1, 2}), t1({0.5f, 0})};
  l.ffn_norm = {t1({1, 1}), t1({0, 0})};
  l.q = {t2(2, 2, {1, 0, 0, 1}), t1({0, 0})};
  l.k = l.q;
  l.v = {t2(2, 2, {1, 0, 0, 1}), t1({1, 0})};
  l.o = {t2(2, 2, {1, 0, 0, 1}), t1({0, 0.25f})};
  l.fc1 = {t2(2, 1, {-1, 1}), t1({0})};
  l.fc2 = {t2(1, 2, {1, -1}), t1({0, 0})};
  w.final_norm = {t1({1, 1}), t1({0, 0})};
  w.lm_head = {t2(2, 2, {1, 0, 0, 1}), t1({0.1f, -0.1f})};
  FloatModel m(w);
  LastRecorder rec;
  m.set_recorder(&rec);

  // A LayerNorm of two values is [-1, 1] or [1, -1] (eps 0): the sign of x0 - x1.
  const auto ln2 = [](double a, double b) { return a > b ? 1.0 : -1.0; };
  // Position 0: x = [1, 3]; normed [-1, 1] * [1, 2] + [0.5, 0] = [-0.5, 2]; v = [0.5, 2];
  // o = v + [0, 0.25]; h = [1.5, 5.25]; FFN: normed [-1, 1], fc1 = 2, fc2 -> [g, -g].
  const std::vector<double> l0 = m.decode(0);
  CHECK(rec.last["embed"] == std::vector<double>{1, 3});
  CHECK(rec.last["layers.0.attn_norm"] == std::vector<double>{-0.5, 2});
  const double g = gelu(2.0);
  const double s = ln2(1.5 + g, 5.25 - g);
  CHECK(l0[0] == Approx(s + double(0.1f)).epsilon(1e-14));
  CHECK(l0[1] == Approx(-s - double(0.1f)).epsilon(1e-14));
  CHECK(rec.last["layers.0.ffn_act"][0] == Approx(g).epsilon(1e-15));

  // Position 1: x = [0, -2] + [1, 1] = [1, -1]; normed [1.5, -2]; q = k = [1.5, -2], v = [2.5, -2].
  const std::vector<double> l1 = m.decode(1);
  CHECK(rec.last["embed"] == std::vector<double>{1, -1});
  const double sc0 = (1.5 * -0.5 + -2 * 2) / std::sqrt(2.0), sc1 = (1.5 * 1.5 + 4) / std::sqrt(2.0);
  const double p0 = 1 / (1 + std::exp(sc1 - sc0)), p1 = 1 - p0;
  const double h0 = 1 + p0 * 0.5 + p1 * 2.5, h1 = -1 + p0 * 2 + p1 * -2 + 0.25;
  const double b = ln2(h0, h1);                       // normed [b, -b]
  const double f = gelu(-b + -b);                     // fc1 = -1 * b + 1 * -b
  const double fs = ln2(h0 + f, h1 - f);
  CHECK(rec.last["layers.0.scores"][0] == Approx(sc0).epsilon(1e-14));
  CHECK(rec.last["layers.0.attn"][0] == Approx(p0 * 0.5 + p1 * 2.5).epsilon(1e-14));
  CHECK(l1[0] == Approx(fs + double(0.1f)).epsilon(1e-14));
  CHECK(l1[1] == Approx(-fs - double(0.1f)).epsilon(1e-14));
  CHECK(error_of([&] { m.decode(0); }) == "hand: position: 2 is beyond max_positions 2");
}

TEST_CASE("Parallel block (phi): attention and FFN read the same normed input", "[float]") {
  ModelConfig c = hand_cfg(Family::Phi);
  c.norm = NormKind::LayerNorm;
  c.act = Activation::GeluTanh;
  c.gated_ffn = false;
  c.parallel_block = true;
  c.final_norm = false;
  ModelWeights w;
  w.cfg = c;
  w.embed = t2(2, 2, {1, 3, 0, 0});
  w.layers.resize(1);
  LayerWeights& l = w.layers[0];
  l.attn_norm = {t1({1, 1}), t1({0, 0})};
  l.q.w = l.k.w = l.v.w = t2(2, 2, {1, 0, 0, 1});
  l.o.w = t2(2, 2, {-3, 0, 0, -3});
  l.fc1.w = t2(2, 1, {-1, 1});
  l.fc2.w = t2(1, 2, {1, -1});
  w.lm_head.w = t2(2, 2, {1, 0, 0, 1});
  // x = [1, 3], n = [-1, 1]; attention = v = n, o = -3n = [3, -3];
  // parallel: FFN(n): fc1 = 2 -> out = x + o + [g, -g] with g = gelu_tanh(2).
  const double g = gelu_tanh(2.0);
  {
    FloatModel m(w);
    const std::vector<double> y = m.decode(0);
    CHECK(y[0] == Approx(4 + g).epsilon(1e-14));
    CHECK(y[1] == Approx(-g).epsilon(1e-14));
  }
  // Sequential, same weights plus a unit post-attention norm: h = x + o = [4, 0],
  // FFN(norm(h) = [1, -1]): fc1 = -2.
  ModelWeights sq = w;
  sq.cfg.parallel_block = false;
  sq.layers[0].ffn_norm = {t1({1, 1}), t1({0, 0})};
  FloatModel m(sq);
  const std::vector<double> y = m.decode(0);
  const double gs = gelu_tanh(-2.0);
  CHECK(y[0] == Approx(4 + gs).epsilon(1e-14));
  CHECK(y[1] == Approx(-gs).epsilon(1e-14));
}

TEST_CASE("Gemma: embeddings times sqrt(hidden), RMSNorm by (1 + w)", "[float]") {
  ModelConfig c = hand_cfg(Family::Gemma);
  c.embed_scale = true;
  c.norm_plus_one = true;
  c.tied_embeddings = true;
  c.act = Activation::GeluTanh;
  ModelWeights w = random_weights(c, 3);
  w.embed = t2(2, 2, {3, 1, 0, 1});
  w.layers[0].attn_norm.w = t1({0.5f, -0.5f});
  FloatModel m(w);
  LastRecorder rec;
  m.set_recorder(&rec);
  m.decode(0);
  const double e0 = 3 * std::sqrt(2.0), e1 = std::sqrt(2.0), r = std::sqrt((e0 * e0 + e1 * e1) / 2);
  CHECK(rec.last["embed"][0] == Approx(e0).epsilon(1e-15));
  CHECK(rec.last["layers.0.attn_norm"][0] == Approx(e0 / r * 1.5).epsilon(1e-14));
  CHECK(rec.last["layers.0.attn_norm"][1] == Approx(e1 / r * 0.5).epsilon(1e-14));
}

TEST_CASE("RoPE pairs (i, i + rotary_dim/2) of each head, angles position * theta^(-2i/rotary_dim)", "[float]") {
  for (int64_t rd : {int64_t(4), int64_t(2)}) {
    INFO("rotary_dim " << rd);
    ModelConfig c = llama_cfg();
    c.rotary_dim = rd;
    c.rope_theta = 100.0;
    const ModelWeights w = random_weights(c, 8);
    FloatModel m(w);
    LastRecorder rec;
    m.set_recorder(&rec);
    m.prefill({3, 1, 4, 1});  // the last is position 3
    const std::vector<double>& q = rec.last["layers.1.q"];
    const std::vector<double>& qr = rec.last["layers.1.q_rot"];
    const std::vector<double>& k = rec.last["layers.1.k"];
    const std::vector<double>& kr = rec.last["layers.1.k_rot"];
    const int64_t half = rd / 2;
    for (int64_t h = 0; h < 4; ++h) {
      const int64_t b = h * 4;
      for (int64_t i = 0; i < half; ++i) {
        const double a = 3.0 * std::pow(100.0, -2.0 * double(i) / double(rd));
        CHECK(qr[size_t(b + i)] == Approx(q[size_t(b + i)] * std::cos(a) - q[size_t(b + i + half)] * std::sin(a)));
        CHECK(qr[size_t(b + i + half)] ==
              Approx(q[size_t(b + i + half)] * std::cos(a) + q[size_t(b + i)] * std::sin(a)));
        if (h < 2)
          CHECK(kr[size_t(b + i)] == Approx(k[size_t(b + i)] * std::cos(a) - k[size_t(b + i + half)] * std::sin(a)));
      }
      for (int64_t i = rd; i < 4; ++i) CHECK(qr[size_t(b + i)] == q[size_t(b + i)]);  // beyond rotary_dim: untouched
    }
  }
}

TEST_CASE("GQA: q head h reads kv head h / (q_heads / kv_heads)", "[float]") {
  ModelConfig c = llama_cfg();  // 4 q heads on 2 kv heads
  c.layer[1] = {2, 2, 24, 1};   // and one q head per kv head in layer 1 (pruned within groups)
  const ModelWeights w = random_weights(c, 5);
  FloatModel m(w);
  LastRecorder rec;
  m.set_recorder(&rec);
  m.decode(7);  // one position: each head's attention output is its kv head's v
  for (int layer = 0; layer < 2; ++layer) {
    const std::string p = "layers." + std::to_string(layer) + ".";
    const std::vector<double>& att = rec.last[p + "attn"];
    const std::vector<double>& v = rec.last[p + "v"];
    const int64_t qh = layer == 0 ? 4 : 2, per = qh / 2;
    REQUIRE(att.size() == size_t(qh * 4));
    for (int64_t h = 0; h < qh; ++h)
      for (int64_t e = 0; e < 4; ++e) CHECK(att[size_t(h * 4 + e)] == Approx(v[size_t((h / per) * 4 + e)]));
  }
}

TEST_CASE("KV cache: decode after prefill equals prefill of the longer sequence", "[float]") {
  const std::vector<int64_t> toks = {3, 14, 15, 9, 2, 6, 5, 3, 5, 8};
  for (const ModelConfig& cfg : {llama_cfg(), qwen2_cfg(), gemma_cfg(), opt_cfg(), gpt2_cfg(), phi_cfg()}) {
    INFO(cfg.name);
    const ModelWeights w = random_weights(cfg, 17);
    FloatModel whole(w), split(w);
    const std::vector<std::vector<double>> all = whole.prefill(toks);
    std::vector<std::vector<double>> parts = split.prefill({toks.begin(), toks.begin() + 6});
    for (size_t i = 6; i < toks.size(); ++i) parts.push_back(split.decode(toks[i]));
    REQUIRE(parts.size() == all.size());
    CHECK(max_abs_diff(all, parts) <= 1e-12);
    CHECK(split.position() == int64_t(toks.size()));
    for (size_t layer = 0; layer < w.layers.size(); ++layer) {
      CHECK(whole.k_cache(layer) == split.k_cache(layer));
      CHECK(whole.v_cache(layer) == split.v_cache(layer));
    }
    // The logits depend on the position and the prefix, and reset() starts over.
    CHECK(max_abs_diff({all[1]}, {all[2]}) > 1e-6);
    split.reset();
    CHECK(split.position() == 0);
    CHECK(max_abs_diff(split.prefill({toks.begin(), toks.begin() + 3}), {all.begin(), all.begin() + 3}) == 0);
    // Logits stay well-behaved with the generator's scales.
    double amax = 0;
    for (const auto& row : all)
      for (double v : row) amax = std::max(amax, std::fabs(v));
    CHECK(amax > 0.1);
    CHECK(amax < 50);
  }
}

TEST_CASE("The recorder: every named activation, absmax over positions", "[float]") {
  const ModelWeights w = random_weights(llama_cfg(), 2);
  FloatModel m(w);
  AbsMaxRecorder rec;
  m.set_recorder(&rec);
  m.prefill({1, 2, 3});
  std::set<std::string> names;
  for (const auto& kv : rec.absmax) {
    names.insert(kv.first);
    CHECK(kv.second > 0);
  }
  std::set<std::string> expect = {"embed", "final_norm", "logits"};
  for (const char* n : {"attn_norm", "q", "k", "v", "q_rot", "k_rot", "scores", "attn", "attn_out", "resid_attn",
                        "ffn_norm", "gate", "up", "ffn_act", "ffn_out", "resid"})
    for (int i = 0; i < 2; ++i) expect.insert("layers." + std::to_string(i) + "." + n);
  CHECK(names == expect);

  // absmax is the maximum over all positions of what was recorded.
  LastRecorder last;
  FloatModel m2(w);
  m2.set_recorder(&last);
  double mx = 0;
  for (int64_t t : {1, 2, 3}) {
    m2.decode(t);
    for (double v : last.last["layers.1.resid"]) mx = std::max(mx, std::fabs(v));
  }
  CHECK(rec.absmax["layers.1.resid"] == mx);

  const ModelWeights pw = random_weights(phi_cfg(), 2);
  FloatModel pm(pw);
  AbsMaxRecorder prec;
  pm.set_recorder(&prec);
  pm.decode(4);
  CHECK(prec.absmax.count("layers.0.fc1") == 1);
  CHECK(prec.absmax.count("layers.0.ffn_norm") == 0);
  CHECK(prec.absmax.count("layers.0.resid_attn") == 0);
  CHECK(prec.absmax.count("layers.0.gate") == 0);

  CHECK(error_of([&] { m.decode(37); }) == "tiny-llama: token: 37 is outside 0..36");
  CHECK(error_of([&] { m.decode(-1); }) == "tiny-llama: token: -1 is outside 0..36");
}
