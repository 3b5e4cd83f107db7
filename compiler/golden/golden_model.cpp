#include "golden/golden_model.h"

#include <algorithm>

#include "common/error.h"

namespace clonesim::compiler::golden {

GoldenModel::GoldenModel(const QuantModel& m) : m_(m), cfg_(m.cfg) {
  if (m.layers.size() != layer_dims(cfg_).size())
    throw Error((cfg_.name.empty() ? std::string("<model>") : cfg_.name) +
                ": golden model: the QuantModel's layers do not match its config");
  reset();
}

void GoldenModel::reset() {
  pos_ = 0;
  k_.assign(m_.layers.size(), {});
  v_.assign(m_.layers.size(), {});
}

template <class T>
void GoldenModel::rec(const std::string& name, const std::vector<T>& v, double scale) {
  if (rec_) rec_->record(name, std::vector<int32_t>(v.begin(), v.end()), scale);
}

std::vector<int32_t> GoldenModel::prefill(const std::vector<int64_t>& tokens) {
  std::vector<I32> out = run(tokens, false);
  return out.empty() ? I32{} : std::move(out.back());
}

std::vector<std::vector<int32_t>> GoldenModel::prefill_all(const std::vector<int64_t>& tokens) {
  return run(tokens, true);
}

std::vector<int32_t> GoldenModel::decode(int64_t token) { return run({token}, false).back(); }

GoldenModel::I8 GoldenModel::norm(const I32& x, int64_t M, const QNorm& n) const {
  const size_t H = size_t(cfg_.hidden);
  I8 y(size_t(M) * H);
  for (int64_t r = 0; r < M; ++r) {
    const I32 row(x.begin() + long(size_t(r) * H), x.begin() + long(size_t(r + 1) * H));
    const I8 o = n.kind == NormKind::RmsNorm ? rmsnorm(row, n.rms) : layernorm(row, n.ln);
    std::copy(o.begin(), o.end(), y.begin() + long(size_t(r) * H));
  }
  return y;
}

GoldenModel::I32 GoldenModel::linear32(const I8& x, int64_t M, const QLinear& l) const {
  if (l.group == 0) return linear_per_channel_wide(x, l.w, M, l.k, l.n, l.mult, l.shift, l.bias);
  return linear_grouped(x, l.w, M, l.k, l.n, l.group, l.mult, l.a, l.bias);
}

GoldenModel::I8 GoldenModel::linear8(const I8& x, int64_t M, const QLinear& l) const {
  if (l.group == 0 && l.bias.empty() && l.b == 0) return linear_per_channel(x, l.w, M, l.k, l.n, l.mult, l.shift);
  return narrow(linear32(x, M, l), l.b);
}

GoldenModel::I8 GoldenModel::rope_rows(const I8& x, int64_t M, int64_t heads, int64_t p0) const {
  const int64_t hd = cfg_.head_dim, rd = m_.rotary_dim, w = heads * hd;
  I8 y(x.size());
  std::vector<int32_t> c(static_cast<size_t>(w)), s(static_cast<size_t>(w));
  for (int64_t r = 0; r < M; ++r) {
    const size_t t0 = size_t((p0 + r) * hd);  // this position's row of the tables
    for (int64_t h = 0; h < heads; ++h)
      for (int64_t e = 0; e < hd; ++e) {
        c[size_t(h * hd + e)] = m_.rope_cos[t0 + size_t(e)];
        s[size_t(h * hd + e)] = m_.rope_sin[t0 + size_t(e)];
      }
    const I8 row(x.begin() + long(r * w), x.begin() + long((r + 1) * w));
    const I8 o = rd == hd ? rope(row, hd, c, s) : rope_partial(row, hd, rd, c, s);
    std::copy(o.begin(), o.end(), y.begin() + long(r * w));
  }
  return y;
}

// Query row r (position p0 + r), head h: scores over the cached keys of KV
// head h / (q_heads / kv_heads) at positions begin..p (causal, sliding window),
// then the attention row.
GoldenModel::I8 GoldenModel::attention(size_t i, const I8& q, int64_t M, int64_t p0) const {
  const QLayer& L = m_.layers[i];
  const int64_t hd = cfg_.head_dim, qh = L.dims.q_heads, kvh = L.dims.kv_heads, per_kv = qh / kvh;
  const int64_t W = cfg_.sliding_window;
  I8 out(size_t(M * qh * hd));
  for (int64_t r = 0; r < M; ++r) {
    const int64_t p = p0 + r, begin = W > 0 ? std::max<int64_t>(0, p - W + 1) : 0, n = p - begin + 1;
    for (int64_t h = 0; h < qh; ++h) {
      const int64_t j = h / per_kv;
      I8 keys(size_t(n * hd)), vals(size_t(n * hd));
      for (int64_t t = 0; t < n; ++t) {
        const size_t src = size_t(((begin + t) * kvh + j) * hd);
        std::copy_n(k_[i].begin() + long(src), hd, keys.begin() + long(t * hd));
        std::copy_n(v_[i].begin() + long(src), hd, vals.begin() + long(t * hd));
      }
      const I8 qv(q.begin() + long((r * qh + h) * hd), q.begin() + long((r * qh + h + 1) * hd));
      // keys as the activations (n x hd), the query as an hd x 1 weight
      const I32 s = matmul_i32(keys, qv, n, hd, 1, 0, hd);
      const I8 o = attention_row(s, vals, hd, L.softmax);
      std::copy(o.begin(), o.end(), out.begin() + long((r * qh + h) * hd));
    }
  }
  return out;
}

GoldenModel::I32 GoldenModel::ffn(size_t i, const I8& x, int64_t M) {
  const QLayer& L = m_.layers[i];
  const std::string p = "layers." + std::to_string(i) + ".";
  I32 f;
  if (cfg_.gated_ffn) {
    const I8 g = linear8(x, M, L.gate), u = linear8(x, M, L.up);
    rec(p + "gate", g, L.gate.s_y);
    rec(p + "up", u, L.up.s_y);
    const I8 prod = mul_wide(lut_wide(g, L.act_table), u, L.product_shift);
    rec(p + "ffn_act", prod, L.s_prod);
    f = linear32(prod, M, L.down);
  } else {
    const I8 h = linear8(x, M, L.fc1);
    rec(p + "fc1", h, L.fc1.s_y);
    const I8 a = lut(h, L.act_table);
    rec(p + "ffn_act", a, L.s_act);
    f = linear32(a, M, L.fc2);
  }
  rec(p + "ffn_out", f, m_.s_res);
  return f;
}

std::vector<std::vector<int32_t>> GoldenModel::run(const std::vector<int64_t>& tokens, bool all) {
  const std::string model = cfg_.name.empty() ? "<model>" : cfg_.name;
  const int64_t M = int64_t(tokens.size()), H = cfg_.hidden, p0 = pos_;
  if (M == 0) return {};
  for (int64_t t : tokens)
    if (t < 0 || t >= cfg_.vocab)
      throw Error(where(model, 0, "token") + ": " + std::to_string(t) + " is outside 0.." +
                  std::to_string(cfg_.vocab - 1));
  if (p0 + M > m_.position_limit)
    throw Error(where(model, 0, "position") + ": " + std::to_string(p0 + M - 1) + " is beyond max_positions " +
                std::to_string(m_.position_limit));

  // Embedding (+ learned position) rows widened into the residual stream.
  I32 x(size_t(M * H));
  for (int64_t r = 0; r < M; ++r) {
    const int64_t t = tokens[size_t(r)];
    I32 e = widen(I8(m_.embed.begin() + long(t * H), m_.embed.begin() + long((t + 1) * H)),
                  m_.embed_mult[size_t(t)], m_.embed_shift);
    if (cfg_.pos == PosKind::Learned) {
      const int64_t p = p0 + r;
      residual_add(e, widen(I8(m_.pos_embed.begin() + long(p * H), m_.pos_embed.begin() + long((p + 1) * H)),
                            m_.pos_mult[size_t(p)], m_.pos_shift));
    }
    std::copy(e.begin(), e.end(), x.begin() + long(r * H));
  }
  rec("embed", x, m_.s_res);

  for (size_t i = 0; i < m_.layers.size(); ++i) {
    const QLayer& L = m_.layers[i];
    const std::string p = "layers." + std::to_string(i) + ".";
    const I8 a = norm(x, M, L.attn_norm);
    rec(p + "attn_norm", a, L.attn_norm.scale);
    I8 q = linear8(a, M, L.q), k = linear8(a, M, L.k);
    const I8 v = linear8(a, M, L.v);
    rec(p + "q", q, L.s_q);
    rec(p + "k", k, L.s_k);
    rec(p + "v", v, L.s_v);
    if (cfg_.pos == PosKind::Rotary) {
      q = rope_rows(q, M, L.dims.q_heads, p0);
      k = rope_rows(k, M, L.dims.kv_heads, p0);
      rec(p + "q_rot", q, L.s_q);
      rec(p + "k_rot", k, L.s_k);
    }
    k_[i].insert(k_[i].end(), k.begin(), k.end());
    v_[i].insert(v_[i].end(), v.begin(), v.end());
    const I8 att = attention(i, q, M, p0);
    rec(p + "attn", att, L.s_attn);
    const I32 o = linear32(att, M, L.o);
    rec(p + "attn_out", o, m_.s_res);
    if (cfg_.parallel_block) {
      const I32 f = ffn(i, a, M);
      residual_add(x, o);
      residual_add(x, f);
    } else {
      residual_add(x, o);
      rec(p + "resid_attn", x, m_.s_res);
      const I8 b = norm(x, M, L.ffn_norm);
      rec(p + "ffn_norm", b, L.ffn_norm.scale);
      residual_add(x, ffn(i, b, M));
    }
    rec(p + "resid", x, m_.s_res);
  }
  pos_ += M;

  // Final norm and LM head on the rows asked for.
  const int64_t r0 = all ? 0 : M - 1, R = M - r0;
  const I32 xr(x.begin() + long(r0 * H), x.end());
  const I8 y = cfg_.final_norm ? norm(xr, R, m_.final_norm) : requant8(xr, m_.final_mult, m_.final_shift);
  rec("final_norm", y, m_.final_norm.scale);
  const I32 logits = linear32(y, R, m_.lm_head);
  rec("logits", logits, m_.s_logits);
  const int64_t V = cfg_.vocab;
  std::vector<I32> out(static_cast<size_t>(R));
  for (int64_t r = 0; r < R; ++r) out[size_t(r)].assign(logits.begin() + long(r * V), logits.begin() + long((r + 1) * V));
  return out;
}

}  // namespace clonesim::compiler::golden
