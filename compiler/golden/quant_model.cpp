#include "golden/quant_model.h"

#include <algorithm>
#include <cmath>
#include <random>

#include "common/error.h"
#include "common/strf.h"
#include "weights/float_model.h"

namespace clonesim::compiler::golden {

namespace {

const double kInt32Lim = 2147483648.0;  // 2^31: multipliers stay below it

std::string model_name(const ModelConfig& cfg) { return cfg.name.empty() ? "<model>" : cfg.name; }

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Adds the derived activation range layers.i.act: max |act(gate)| (gated FFN)
// or max |act(fc1)|.
class CalibrationRecorder : public AbsMaxRecorder {
 public:
  CalibrationRecorder(Activation act, bool gated) : act_(act), suffix_(gated ? ".gate" : ".fc1") {}
  void record(const std::string& name, const double* values, size_t count) override {
    AbsMaxRecorder::record(name, values, count);
    if (!ends_with(name, suffix_)) return;
    std::vector<double> a(values, values + count);
    for (double& v : a) v = activation(act_, v);
    AbsMaxRecorder::record(name.substr(0, name.size() - suffix_.size()) + ".act", a.data(), a.size());
  }

 private:
  Activation act_;
  std::string suffix_;
};

// int8 scale of a calibrated tensor: absmax / 127 (an all-zero tensor: 1/127).
double act_scale(double absmax) { return absmax > 0 ? absmax / 127.0 : 1.0 / 127.0; }

// The largest shift e <= 63 with round(rmax * 2^e) < 2^31.
unsigned max_shift(double rmax, const std::string& what) {
  if (!std::isfinite(rmax) || std::nearbyint(rmax) >= kInt32Lim)
    throw Error(what + ": scale ratio " + strf("%g", rmax) + " does not fit a 31-bit multiplier");
  int e = 63;
  while (e > 0 && std::nearbyint(std::ldexp(rmax, e)) >= kInt32Lim) --e;
  return unsigned(e);
}

double relu(double x) { return x > 0 ? x : 0.0; }
double (*act_fn(Activation a))(double) {
  switch (a) {
    case Activation::Silu: return &silu;
    case Activation::Gelu: return &gelu;
    case Activation::GeluTanh: return &gelu_tanh;
    case Activation::Relu: return &relu;
  }
  return &relu;
}

// The scale of group g (0 for per channel), column c; 0 when every weight of
// it is 0 (the quantiser gives such groups scale 1: it must not set the shift).
double weight_scale(const QuantTensor& qt, int64_t g, int64_t c) {
  const int64_t r0 = g * qt.group, r1 = std::min(qt.k, r0 + qt.group);
  for (int64_t r = r0; r < r1; ++r)
    if (qt.at(r, c) != 0) return double(qt.scale[size_t(g * qt.n + c)]);
  return 0.0;
}

QLinear plan_linear(const QuantTensor& qt, const Tensor* bias, double s_x, double s_y, bool to_int8,
                    const QuantRecipe& recipe) {
  QLinear l;
  l.name = qt.name;
  l.k = qt.k;
  l.n = qt.n;
  l.type = qt.type;
  l.w = qt.q;
  l.to_int8 = to_int8;
  l.s_x = s_x;
  l.s_y = s_y;
  const bool has_bias = bias && !bias->empty();
  if (recipe.group == 0) {
    l.group = 0;
    l.b = (to_int8 && has_bias) ? kLinearFracBits : 0;
    l.mult.resize(size_t(l.n));
    l.shift.resize(size_t(l.n));
    for (int64_t c = 0; c < l.n; ++c) {
      const double r = s_x * weight_scale(qt, 0, c) / s_y * std::ldexp(1.0, int(l.b));
      if (!std::isfinite(r) || std::nearbyint(r) >= kInt32Lim)
        throw Error(qt.name + ": scale ratio " + strf("%g", r) + " does not fit a 31-bit multiplier");
      const FixedPoint f = fixed_point(r);
      l.mult[size_t(c)] = int32_t(f.m);
      l.shift[size_t(c)] = int32_t(f.s);
    }
  } else {
    l.group = qt.group;
    std::vector<double> r(qt.scale.size());
    double rmax = 0;
    for (int64_t g = 0; g < qt.groups(); ++g)
      for (int64_t c = 0; c < l.n; ++c) {
        const size_t i = size_t(g * l.n + c);
        r[i] = s_x * weight_scale(qt, g, c) / s_y;
        rmax = std::max(rmax, r[i]);
      }
    const unsigned e = max_shift(rmax, qt.name);
    l.b = to_int8 ? std::min(kLinearFracBits, e) : 0;
    l.a = e - l.b;
    l.mult.resize(r.size());
    for (size_t i = 0; i < r.size(); ++i) l.mult[i] = int32_t(std::nearbyint(std::ldexp(r[i], int(e))));
  }
  if (has_bias) {
    l.bias.resize(size_t(l.n));
    for (int64_t c = 0; c < l.n; ++c)
      l.bias[size_t(c)] = int32_t(std::clamp(std::nearbyint(double(bias->data[size_t(c)]) / s_y *
                                                            std::ldexp(1.0, int(l.b))),
                                             -kInt32Lim, kInt32Lim - 1));
  }
  return l;
}

QNorm plan_norm(const Norm& n, const ModelConfig& cfg, double s_res, double s_out) {
  QNorm q;
  q.kind = cfg.norm;
  q.scale = s_out;
  std::vector<double> g(n.w.data.size()), b;
  for (size_t i = 0; i < g.size(); ++i) g[i] = cfg.norm_plus_one ? 1.0 + double(n.w.data[i]) : double(n.w.data[i]);
  if (cfg.norm == NormKind::RmsNorm) {
    q.rms = plan_rmsnorm(g, cfg.norm_eps, s_res, s_out, kResidualMax);
  } else {
    for (float v : n.b.data) b.push_back(double(v));
    q.ln = plan_layernorm(g, b, cfg.norm_eps, s_res, s_out, kResidualMax);
  }
  return q;
}

// Rows of a table (rows x cols) as int8 with one scale per row, and the
// per-row multipliers into residual units: mult[r] / 2^shift = scale_r * factor / s_res.
void plan_rows(const Tensor& t, double factor, double s_res, const std::string& what, std::vector<int8_t>& q,
               std::vector<int32_t>& mult, unsigned& shift) {
  const int64_t rows = t.rows(), cols = t.cols();
  q.assign(size_t(rows * cols), 0);
  std::vector<double> r(size_t(rows), 0.0);
  double rmax = 0;
  for (int64_t i = 0; i < rows; ++i) {
    double amax = 0;
    for (int64_t j = 0; j < cols; ++j) amax = std::max(amax, std::fabs(double(t.at(i, j))));
    if (amax == 0) continue;  // q = 0, multiplier 0
    const double s = amax / 127.0;
    for (int64_t j = 0; j < cols; ++j)
      q[size_t(i * cols + j)] = int8_t(std::clamp(std::round(double(t.at(i, j)) / s), -127.0, 127.0));
    r[size_t(i)] = s * factor / s_res;
    rmax = std::max(rmax, r[size_t(i)]);
  }
  shift = max_shift(rmax, what);
  mult.resize(size_t(rows));
  for (int64_t i = 0; i < rows; ++i) mult[size_t(i)] = int32_t(std::nearbyint(std::ldexp(r[size_t(i)], int(shift))));
}

}  // namespace

std::vector<int64_t> calibration_tokens(const ModelConfig& cfg, uint64_t seed, int64_t length) {
  if (cfg.vocab < 1) throw Error(model_name(cfg) + ": calibration: vocab is empty");
  const int64_t n = std::min(length, cfg.max_positions);
  std::mt19937_64 rng(seed);
  std::vector<int64_t> t(size_t(std::max<int64_t>(n, 0)));
  for (int64_t& v : t) v = int64_t(rng() % uint64_t(cfg.vocab));
  return t;
}

double Calibration::get(const std::string& name) const {
  const auto it = absmax.find(name);
  if (it == absmax.end()) throw Error("calibration: no range recorded for " + name);
  return it->second;
}

Calibration calibrate(const ModelWeights& w, const std::vector<int64_t>& tokens) {
  if (tokens.empty()) throw Error(model_name(w.cfg) + ": calibration: the prompt is empty");
  FloatModel fm(w);
  CalibrationRecorder rec(w.cfg.act, w.cfg.gated_ffn);
  fm.set_recorder(&rec);
  fm.prefill(tokens);
  Calibration c;
  c.tokens = tokens;
  c.absmax = std::move(rec.absmax);
  return c;
}

QuantModel plan_quant_model(const ModelWeights& w, const QuantizedWeights& qw, const QuantRecipe& recipe,
                            const Calibration& cal) {
  const ModelConfig& cfg = w.cfg;
  const std::string name = model_name(cfg);
  check_weights(w);
  if (cfg.post_norm)
    throw Error(name + ": post_norm: unsupported by the golden interpreter: norms after the residual adds "
                       "(OPT do_layer_norm_before: false)");
  if (qw.recipe.weights != recipe.weights || qw.recipe.group != recipe.group)
    throw Error(name + ": recipe " + recipe.name + " differs from the quantised weights' " + qw.recipe.name);
  const std::vector<LayerDims> dims = layer_dims(cfg);

  QuantModel m;
  m.cfg = cfg;
  m.recipe = recipe;
  m.position_limit = cfg.max_positions;

  // The residual stream's scale: every point the float reference records.
  double rmax = cal.get("embed");
  for (size_t i = 0; i < dims.size(); ++i) {
    const std::string p = "layers." + std::to_string(i) + ".";
    if (!cfg.parallel_block) rmax = std::max(rmax, cal.get(p + "resid_attn"));
    rmax = std::max(rmax, cal.get(p + "resid"));
  }
  if (!(rmax > 0)) rmax = 1;
  m.s_res = rmax * kResidualHeadroom / double(kResidualMax);
  m.res_max = kResidualMax;

  // Embedding (and learned positions): per-row int8, widened into residual units.
  const double escale = cfg.embed_scale ? std::sqrt(double(cfg.hidden)) : 1.0;
  plan_rows(w.embed, escale, m.s_res, name + ": embed", m.embed, m.embed_mult, m.embed_shift);
  if (cfg.pos == PosKind::Learned)
    plan_rows(w.pos_embed, 1.0, m.s_res, name + ": pos_embed", m.pos_embed, m.pos_mult, m.pos_shift);

  // RoPE tables.
  if (cfg.pos == PosKind::Rotary) {
    m.rotary_dim = rotary_dims(cfg);
    m.rope_theta = cfg.rope_theta;
    std::vector<int32_t> c, s;
    for (int64_t p = 0; p < m.position_limit; ++p) {
      rope_tables_partial(p, cfg.head_dim, m.rotary_dim, cfg.rope_theta, c, s);
      m.rope_cos.insert(m.rope_cos.end(), c.begin(), c.end());
      m.rope_sin.insert(m.rope_sin.end(), s.begin(), s.end());
    }
  }

  const QuantRecipe& r = recipe;
  for (size_t i = 0; i < dims.size(); ++i) {
    const std::string p = "layers." + std::to_string(i) + ".";
    const LayerWeights& lw = w.layers[i];
    QLayer L;
    L.dims = dims[i];
    const double s_an = act_scale(cal.get(p + "attn_norm"));
    L.attn_norm = plan_norm(lw.attn_norm, cfg, m.s_res, s_an);

    const bool rot = cfg.pos == PosKind::Rotary;
    L.s_q = act_scale(std::max(cal.get(p + "q"), rot ? cal.get(p + "q_rot") : 0.0));
    L.s_k = act_scale(std::max(cal.get(p + "k"), rot ? cal.get(p + "k_rot") : 0.0));
    L.s_v = act_scale(cal.get(p + "v"));
    // A row of the attention output is a convex combination of value rows, so
    // v's scale never saturates it; a calibrated range of its own would
    // (early positions average over few rows, and position 0 is v itself).
    L.s_attn = L.s_v;
    L.q = plan_linear(qw.get(p + "q"), &lw.q.b, s_an, L.s_q, true, r);
    L.k = plan_linear(qw.get(p + "k"), &lw.k.b, s_an, L.s_k, true, r);
    L.v = plan_linear(qw.get(p + "v"), &lw.v.b, s_an, L.s_v, true, r);
    const double s_s = L.s_q * L.s_k / std::sqrt(double(cfg.head_dim));
    L.softmax = plan_softmax_wide(s_s);
    L.o = plan_linear(qw.get(p + "o"), &lw.o.b, L.s_attn, m.s_res, false, r);

    double s_in = s_an;  // the FFN's input
    if (!cfg.parallel_block) {
      s_in = act_scale(cal.get(p + "ffn_norm"));
      L.ffn_norm = plan_norm(lw.ffn_norm, cfg, m.s_res, s_in);
    }
    const auto f = act_fn(cfg.act);
    if (cfg.gated_ffn) {
      const double s_g = act_scale(cal.get(p + "gate")), s_u = act_scale(cal.get(p + "up"));
      L.gate = plan_linear(qw.get(p + "gate"), &lw.gate.b, s_in, s_g, true, r);
      L.up = plan_linear(qw.get(p + "up"), &lw.up.b, s_in, s_u, true, r);
      // int16 table at s_act with s_act * s_u * 2^P = s_prod exactly, P the
      // largest for which every entry (max |f| over the table's inputs) fits int16.
      L.s_prod = act_scale(cal.get(p + "ffn_act"));
      double fmax = 0;
      for (int j = 0; j < 256; ++j) fmax = std::max(fmax, std::fabs(f(double(j - 128) * s_g)));
      const double lim = L.s_prod * 32767.0 / (s_u * std::max(fmax, 1e-300));
      L.product_shift = lim < 2 ? 0 : unsigned(std::min(62.0, std::floor(std::log2(lim))));
      L.s_act = L.s_prod / (s_u * std::ldexp(1.0, int(L.product_shift)));
      L.act_table = activation_table(f, s_g, L.s_act);
      L.down = plan_linear(qw.get(p + "down"), &lw.down.b, L.s_prod, m.s_res, false, r);
    } else {
      const double s_f = act_scale(cal.get(p + "fc1"));
      L.fc1 = plan_linear(qw.get(p + "fc1"), &lw.fc1.b, s_in, s_f, true, r);
      L.s_act = act_scale(cal.get(p + "act"));
      L.act_table = activation_table(f, s_f, L.s_act);
      L.fc2 = plan_linear(qw.get(p + "fc2"), &lw.fc2.b, L.s_act, m.s_res, false, r);
    }
    m.layers.push_back(std::move(L));
  }

  if (cfg.final_norm) {
    m.final_norm = plan_norm(w.final_norm, cfg, m.s_res, act_scale(cal.get("final_norm")));
  } else {  // the last residual narrowed by one per-tensor vrequant
    const std::string last = dims.empty() ? "embed" : "layers." + std::to_string(dims.size() - 1) + ".resid";
    m.final_norm.scale = act_scale(cal.get(last));
    const FixedPoint fp = fixed_point(m.s_res / m.final_norm.scale);
    m.final_mult = int32_t(fp.m);
    m.final_shift = fp.s;
  }
  const double lmax = cal.get("logits");
  m.s_logits = (lmax > 0 ? lmax : 1.0) / std::ldexp(1.0, kLogitBits);
  m.lm_head = plan_linear(qw.get("lm_head"), &w.lm_head.b, m.final_norm.scale, m.s_logits, false, r);
  return m;
}

namespace {

// A linear's shape and form for plan_quant_shapes: group-wise shifts as for a
// ratio of 2^-10 (a + b = 40: a typical split), per-channel tables empty.
QLinear shape_linear(const std::string& name, int64_t k, int64_t n, bool bias, bool to_int8,
                     const QuantRecipe& recipe) {
  QLinear l;
  l.name = name;
  l.k = k;
  l.n = n;
  l.type = recipe.weights;
  l.group = recipe.group;
  l.to_int8 = to_int8;
  l.s_x = l.s_y = 1;
  if (recipe.group == 0) {
    l.b = (to_int8 && bias) ? kLinearFracBits : 0;
  } else {
    const unsigned e = 40;
    l.b = to_int8 ? kLinearFracBits : 0;
    l.a = e - l.b;
  }
  if (bias) l.bias.assign(size_t(n), 0);
  return l;
}

QNorm shape_norm(const ModelConfig& cfg, double s_res, double s_out) {
  QNorm q;
  q.kind = cfg.norm;
  q.scale = s_out;
  const std::vector<double> g(size_t(cfg.hidden), 1.0);
  if (cfg.norm == NormKind::RmsNorm) q.rms = plan_rmsnorm(g, cfg.norm_eps, s_res, s_out, kResidualMax);
  else q.ln = plan_layernorm(g, std::vector<double>(g.size(), 0.0), cfg.norm_eps, s_res, s_out, kResidualMax);
  return q;
}

}  // namespace

QuantModel plan_quant_shapes(const ModelConfig& cfg, const QuantRecipe& recipe) {
  const std::string name = model_name(cfg);
  if (cfg.post_norm)
    throw Error(name + ": post_norm: unsupported by the golden interpreter: norms after the residual adds "
                       "(OPT do_layer_norm_before: false)");
  const std::vector<LayerDims> dims = layer_dims(cfg);
  // Representative real scales: a residual of absmax 16, int8 activations of absmax 4.
  const double s_a = act_scale(4.0);
  QuantModel m;
  m.cfg = cfg;
  m.recipe = recipe;
  m.shapes_only = true;
  m.position_limit = cfg.max_positions;
  m.s_res = 16.0 * kResidualHeadroom / double(kResidualMax);
  m.embed_shift = 16;
  if (cfg.pos == PosKind::Learned) m.pos_shift = 16;
  if (cfg.pos == PosKind::Rotary) {
    m.rotary_dim = rotary_dims(cfg);
    m.rope_theta = cfg.rope_theta;
  }
  const int64_t H = cfg.hidden, hd = cfg.head_dim;
  const auto f = act_fn(cfg.act);
  for (const LayerDims& d : dims) {
    const std::string p = "layers." + std::to_string(m.layers.size()) + ".";
    QLayer L;
    L.dims = d;
    L.attn_norm = shape_norm(cfg, m.s_res, s_a);
    L.s_q = L.s_k = L.s_v = L.s_attn = s_a;
    L.q = shape_linear(p + "q", H, d.q_heads * hd, cfg.qkv_bias, true, recipe);
    L.k = shape_linear(p + "k", H, d.kv_heads * hd, cfg.qkv_bias, true, recipe);
    L.v = shape_linear(p + "v", H, d.kv_heads * hd, cfg.qkv_bias, true, recipe);
    L.softmax = plan_softmax_wide(s_a * s_a / std::sqrt(double(hd)));
    L.o = shape_linear(p + "o", d.q_heads * hd, H, cfg.out_bias, false, recipe);
    if (!cfg.parallel_block) L.ffn_norm = shape_norm(cfg, m.s_res, s_a);
    if (cfg.gated_ffn) {
      L.gate = shape_linear(p + "gate", H, d.ffn, cfg.mlp_bias, true, recipe);
      L.up = shape_linear(p + "up", H, d.ffn, cfg.mlp_bias, true, recipe);
      L.s_prod = s_a;
      L.product_shift = 8;
      L.s_act = L.s_prod / (s_a * std::ldexp(1.0, int(L.product_shift)));
      L.act_table = activation_table(f, s_a, L.s_act);
      L.down = shape_linear(p + "down", d.ffn, H, cfg.mlp_bias, false, recipe);
    } else {
      L.fc1 = shape_linear(p + "fc1", H, d.ffn, cfg.mlp_bias, true, recipe);
      L.s_act = s_a;
      L.act_table = activation_table(f, s_a, L.s_act);
      L.fc2 = shape_linear(p + "fc2", d.ffn, H, cfg.mlp_bias, false, recipe);
    }
    m.layers.push_back(std::move(L));
  }
  if (cfg.final_norm) {
    m.final_norm = shape_norm(cfg, m.s_res, s_a);
  } else {
    m.final_norm.scale = s_a;
    const FixedPoint fp = fixed_point(m.s_res / s_a);
    m.final_mult = int32_t(fp.m);
    m.final_shift = fp.s;
  }
  m.s_logits = 1.0 / std::ldexp(1.0, kLogitBits);
  m.lm_head = shape_linear("lm_head", H, cfg.vocab, cfg.lm_head_bias, false, recipe);
  return m;
}

}  // namespace clonesim::compiler::golden
