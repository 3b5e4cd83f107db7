#include "weights/float_model.h"

#include <algorithm>
#include <cmath>

#include "common/error.h"

namespace clonesim::compiler {

void AbsMaxRecorder::record(const std::string& name, const double* values, size_t count) {
  double m = 0;
  for (size_t i = 0; i < count; ++i) m = std::max(m, std::fabs(values[i]));
  auto it = absmax.find(name);
  if (it == absmax.end())
    absmax.emplace(name, m);
  else
    it->second = std::max(it->second, m);
}

double silu(double x) { return x / (1.0 + std::exp(-x)); }
double gelu(double x) { return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0))); }
double gelu_tanh(double x) {
  const double c = std::sqrt(2.0 / 3.14159265358979323846);
  return 0.5 * x * (1.0 + std::tanh(c * (x + 0.044715 * x * x * x)));
}
double activation(Activation a, double x) {
  switch (a) {
    case Activation::Silu: return silu(x);
    case Activation::Gelu: return gelu(x);
    case Activation::GeluTanh: return gelu_tanh(x);
    case Activation::Relu: return x > 0 ? x : 0.0;
  }
  return x;
}

FloatModel::FloatModel(const ModelWeights& w) : w_(w), cfg_(w.cfg), dims_(layer_dims(w.cfg)) {
  check_weights(w);
  if (cfg_.pos == PosKind::Rotary) {
    const int64_t rd = rotary_dims(cfg_);
    for (int64_t i = 0; i < rd / 2; ++i) inv_freq_.push_back(std::pow(cfg_.rope_theta, -2.0 * double(i) / double(rd)));
  }
  reset();
}

void FloatModel::reset() {
  pos_ = 0;
  k_.assign(dims_.size(), {});
  v_.assign(dims_.size(), {});
}

std::vector<std::vector<double>> FloatModel::prefill(const std::vector<int64_t>& tokens) {
  std::vector<std::vector<double>> out;
  out.reserve(tokens.size());
  for (int64_t t : tokens) out.push_back(step(t));
  return out;
}

std::vector<double> FloatModel::decode(int64_t token) { return step(token); }

void FloatModel::rec(const std::string& name, const Vec& v) {
  if (rec_) rec_->record(name, v.data(), v.size());
}

void FloatModel::rec(size_t layer, const char* name, const Vec& v) {
  if (rec_) rec_->record("layers." + std::to_string(layer) + "." + name, v.data(), v.size());
}

FloatModel::Vec FloatModel::norm(const Vec& x, const Norm& n) const {
  const size_t h = x.size();
  Vec y(h);
  if (cfg_.norm == NormKind::RmsNorm) {
    double ss = 0;
    for (double v : x) ss += v * v;
    const double r = 1.0 / std::sqrt(ss / double(h) + cfg_.norm_eps);
    for (size_t i = 0; i < h; ++i) y[i] = x[i] * r * (cfg_.norm_plus_one ? 1.0 + n.w.data[i] : double(n.w.data[i]));
  } else {
    double mean = 0;
    for (double v : x) mean += v;
    mean /= double(h);
    double var = 0;
    for (double v : x) var += (v - mean) * (v - mean);
    const double r = 1.0 / std::sqrt(var / double(h) + cfg_.norm_eps);
    for (size_t i = 0; i < h; ++i)
      y[i] = (x[i] - mean) * r * double(n.w.data[i]) + (n.b.empty() ? 0.0 : double(n.b.data[i]));
  }
  return y;
}

FloatModel::Vec FloatModel::linear(const Vec& x, const Linear& l) const {
  const int64_t k = l.w.rows(), n = l.w.cols();
  Vec y(size_t(n), 0.0);
  for (int64_t r = 0; r < k; ++r) {
    const double xr = x[size_t(r)];
    const float* row = l.w.data.data() + r * n;
    for (int64_t c = 0; c < n; ++c) y[size_t(c)] += xr * double(row[c]);
  }
  if (!l.b.empty())
    for (int64_t c = 0; c < n; ++c) y[size_t(c)] += double(l.b.data[size_t(c)]);
  return y;
}

// HF rotate_half: pairs (i, i + rd/2) of the first rd dims of every head.
void FloatModel::rope(Vec& x, int64_t heads, int64_t pos) const {
  const int64_t hd = cfg_.head_dim, half = int64_t(inv_freq_.size());
  for (int64_t h = 0; h < heads; ++h) {
    double* p = x.data() + h * hd;
    for (int64_t i = 0; i < half; ++i) {
      const double a = double(pos) * inv_freq_[size_t(i)], c = std::cos(a), s = std::sin(a);
      const double x0 = p[i], x1 = p[i + half];
      p[i] = x0 * c - x1 * s;
      p[i + half] = x1 * c + x0 * s;
    }
  }
}

FloatModel::Vec FloatModel::ffn(size_t i, const Vec& x) {
  const LayerWeights& l = w_.layers[i];
  Vec m;
  if (cfg_.gated_ffn) {
    const Vec g = linear(x, l.gate), u = linear(x, l.up);
    rec(i, "gate", g);
    rec(i, "up", u);
    m.resize(g.size());
    for (size_t j = 0; j < g.size(); ++j) m[j] = activation(cfg_.act, g[j]) * u[j];
  } else {
    m = linear(x, l.fc1);
    rec(i, "fc1", m);
    for (double& v : m) v = activation(cfg_.act, v);
  }
  rec(i, "ffn_act", m);
  Vec out = linear(m, cfg_.gated_ffn ? l.down : l.fc2);
  rec(i, "ffn_out", out);
  return out;
}

FloatModel::Vec FloatModel::step(int64_t token) {
  const int64_t h = cfg_.hidden, hd = cfg_.head_dim;
  const std::string model = cfg_.name.empty() ? "<model>" : cfg_.name;
  if (token < 0 || token >= cfg_.vocab)
    throw Error(where(model, 0, "token") + ": " + std::to_string(token) + " is outside 0.." +
                std::to_string(cfg_.vocab - 1));
  if (cfg_.pos == PosKind::Learned && pos_ >= cfg_.max_positions)
    throw Error(where(model, 0, "position") + ": " + std::to_string(pos_) + " is beyond max_positions " +
                std::to_string(cfg_.max_positions));

  Vec x(static_cast<size_t>(h));
  const double escale = cfg_.embed_scale ? std::sqrt(double(h)) : 1.0;
  for (int64_t j = 0; j < h; ++j) {
    x[size_t(j)] = double(w_.embed.at(token, j)) * escale;
    if (cfg_.pos == PosKind::Learned) x[size_t(j)] += double(w_.pos_embed.at(pos_, j));
  }
  rec("embed", x);

  const double inv_sqrt_hd = 1.0 / std::sqrt(double(hd));
  for (size_t i = 0; i < dims_.size(); ++i) {
    const LayerWeights& l = w_.layers[i];
    const int64_t qh = dims_[i].q_heads, kvh = dims_[i].kv_heads, per_kv = qh / kvh;
    const Vec a = norm(x, l.attn_norm);
    rec(i, "attn_norm", a);
    Vec q = linear(a, l.q), k = linear(a, l.k);
    const Vec v = linear(a, l.v);
    rec(i, "q", q);
    rec(i, "k", k);
    rec(i, "v", v);
    if (cfg_.pos == PosKind::Rotary) {
      rope(q, qh, pos_);
      rope(k, kvh, pos_);
      rec(i, "q_rot", q);
      rec(i, "k_rot", k);
    }
    k_[i].insert(k_[i].end(), k.begin(), k.end());
    v_[i].insert(v_[i].end(), v.begin(), v.end());

    const int64_t len = pos_ + 1, kvn = kvh * hd;
    Vec att(size_t(qh * hd), 0.0), scores_all;
    Vec s(static_cast<size_t>(len));
    for (int64_t hq = 0; hq < qh; ++hq) {
      const int64_t j = hq / per_kv;
      const double* qp = q.data() + hq * hd;
      double mx = -INFINITY;
      for (int64_t t = 0; t < len; ++t) {
        const double* kp = k_[i].data() + t * kvn + j * hd;
        double d = 0;
        for (int64_t e = 0; e < hd; ++e) d += qp[e] * kp[e];
        s[size_t(t)] = d * inv_sqrt_hd;
        mx = std::max(mx, s[size_t(t)]);
      }
      if (rec_) scores_all.insert(scores_all.end(), s.begin(), s.end());
      double sum = 0;
      for (double& e : s) sum += (e = std::exp(e - mx));
      double* op = att.data() + hq * hd;
      for (int64_t t = 0; t < len; ++t) {
        const double p = s[size_t(t)] / sum;
        const double* vp = v_[i].data() + t * kvn + j * hd;
        for (int64_t e = 0; e < hd; ++e) op[e] += p * vp[e];
      }
    }
    rec(i, "scores", scores_all);
    rec(i, "attn", att);
    const Vec o = linear(att, l.o);
    rec(i, "attn_out", o);

    if (cfg_.parallel_block) {
      const Vec f = ffn(i, a);
      for (int64_t j = 0; j < h; ++j) x[size_t(j)] += o[size_t(j)] + f[size_t(j)];
    } else {
      for (int64_t j = 0; j < h; ++j) x[size_t(j)] += o[size_t(j)];
      rec(i, "resid_attn", x);
      const Vec b = norm(x, l.ffn_norm);
      rec(i, "ffn_norm", b);
      const Vec f = ffn(i, b);
      for (int64_t j = 0; j < h; ++j) x[size_t(j)] += f[size_t(j)];
    }
    rec(i, "resid", x);
  }
  ++pos_;

  if (cfg_.final_norm) {
    x = norm(x, w_.final_norm);
    rec("final_norm", x);
  }
  Vec logits;
  if (!w_.lm_head.w.empty()) {
    logits = linear(x, w_.lm_head);
  } else {  // tied: the embedding rows
    logits.assign(size_t(cfg_.vocab), 0.0);
    for (int64_t t = 0; t < cfg_.vocab; ++t) {
      double d = 0;
      for (int64_t j = 0; j < h; ++j) d += x[size_t(j)] * double(w_.embed.at(t, j));
      logits[size_t(t)] = d + (w_.lm_head.b.empty() ? 0.0 : double(w_.lm_head.b.data[size_t(t)]));
    }
  }
  rec("logits", logits);
  return logits;
}

}  // namespace clonesim::compiler
