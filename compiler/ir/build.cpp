// build_graph: the decoder of a ModelConfig as graph IR for one phase.
// Tensor and op names follow the unpruned model's layer numbering
// ("layers.<source_layer>.q_proj"), so a dropped layer leaves a gap.
#include <cmath>
#include <string>

#include "common/error.h"
#include "common/yaml_strict.h"
#include "ir/graph.h"
#include "model/model.h"

namespace clonesim::compiler::ir {

namespace {

class Builder {
 public:
  Builder(const ModelConfig& cfg, const QuantRecipe& recipe, const Phase& phase)
      : c_(cfg), r_(recipe), p_(phase) {
    g_.model = cfg.name;
    g_.recipe = recipe;
    g_.phase = phase;
    wtype_ = recipe.weights == WeightType::Int4 ? DType::Int4 : DType::Int8;
    kvtype_ = recipe.kv_int8 ? DType::Int8 : DType::Int16;
  }

  Graph build() {
    const int64_t t = p_.tokens, h = c_.hidden;
    const TensorId tokens = tensor("tokens", {t}, DType::Int32, Role::Input);

    // Embedding: the [vocab, hidden] table, K = hidden for its scales (the
    // same tensor serves as the tied LM head).
    const TensorId table = tensor("embed.weight", {c_.vocab, h}, wtype_, Role::Weight);
    const TensorId table_scale = tensor("embed.scale", scale_shape(h, c_.vocab), DType::Int32, Role::Scale);
    TensorId x = act("embed.out", {t, h});
    Op& e = op(OpKind::Embedding, "embed", {tokens, table, table_scale}, {x});
    if (c_.embed_scale) e.attrs.push_back({"embed_scale", std::sqrt(double(h))});

    if (c_.pos == PosKind::Learned) {
      const int64_t rows = c_.max_positions + c_.learned_pos_offset;
      const TensorId pt = tensor("pos_embed.weight", {rows, h}, wtype_, Role::Weight);
      const TensorId ps = tensor("pos_embed.scale", scale_shape(h, rows), DType::Int32, Role::Scale);
      const TensorId pos = act("pos_embed.out", {t, h});
      op(OpKind::PosEmbedding, "pos_embed", {pt, ps}, {pos},
         {{"start", p_.start}, {"offset", c_.learned_pos_offset}});
      const TensorId sum = act("embed.sum", {t, h});
      op(OpKind::Add, "embed.add_pos", {x, pos}, {sum});
      x = sum;
    }

    for (const LayerDims& d : c_.layer) x = layer(d, x);

    int64_t rows = t;
    if (p_.kind == Phase::Kind::Prefill && !p_.all_logits && t > 1) {
      const TensorId last = act("last", {1, h});
      op(OpKind::TakeLast, "take_last", {x}, {last});
      x = last;
      rows = 1;
    }
    if (c_.final_norm) x = norm("final_norm", x, rows);

    const TensorId logits = tensor("logits", {rows, c_.vocab}, DType::Int32, Role::Output);
    if (c_.tied_embeddings) {
      std::vector<TensorId> in = {x, table, table_scale};
      if (c_.lm_head_bias) in.push_back(tensor("lm_head.bias", {c_.vocab}, DType::Int32, Role::Bias));
      Op& o = op(OpKind::Linear, "lm_head", in, {logits}, {{"transposed", int64_t(1)}});
      if (r_.group) o.attrs.push_back({"group", r_.group});
    } else {
      linear_into("lm_head", x, h, c_.vocab, c_.lm_head_bias, logits);
    }
    return std::move(g_);
  }

 private:
  const ModelConfig& c_;
  const QuantRecipe& r_;
  const Phase& p_;
  Graph g_;
  DType wtype_, kvtype_;

  TensorId tensor(const std::string& name, std::vector<int64_t> shape, DType dt, Role role) {
    return g_.add_tensor(Tensor{name, std::move(shape), dt, role});
  }
  TensorId act(const std::string& name, std::vector<int64_t> shape, DType dt = DType::Int8) {
    return tensor(name, std::move(shape), dt, Role::Activation);
  }
  Op& op(OpKind kind, const std::string& name, std::vector<TensorId> in, std::vector<TensorId> out,
         std::vector<Attr> attrs = {}) {
    g_.ops.push_back(Op{kind, name, std::move(in), std::move(out), std::move(attrs)});
    return g_.ops.back();
  }
  std::vector<int64_t> scale_shape(int64_t k, int64_t n) const {
    if (r_.group > 0) return {(k + r_.group - 1) / r_.group, n};
    return {n};
  }

  // `prefix`.weight [k, n], .scale, optional .bias; output into `out`.
  void linear_into(const std::string& prefix, TensorId x, int64_t k, int64_t n, bool bias, TensorId out) {
    std::vector<TensorId> in = {x, tensor(prefix + ".weight", {k, n}, wtype_, Role::Weight),
                                tensor(prefix + ".scale", scale_shape(k, n), DType::Int32, Role::Scale)};
    if (bias) in.push_back(tensor(prefix + ".bias", {n}, DType::Int32, Role::Bias));
    Op& o = op(OpKind::Linear, prefix, in, {out});
    if (r_.group) o.attrs.push_back({"group", r_.group});
  }
  TensorId linear(const std::string& prefix, const std::string& out_name, TensorId x, int64_t k,
                  int64_t n, bool bias) {
    const int64_t rows = g_.tensor(x).shape[0];
    const TensorId out = act(out_name, {rows, n});
    linear_into(prefix, x, k, n, bias, out);
    return out;
  }

  TensorId norm(const std::string& prefix, TensorId x, int64_t rows) {
    const int64_t h = c_.hidden;
    const TensorId y = act(prefix + ".out", {rows, h});
    const TensorId w = tensor(prefix + ".weight", {h}, DType::Int16, Role::NormParam);
    if (c_.norm == NormKind::RmsNorm) {
      op(OpKind::RmsNorm, prefix, {x, w}, {y},
         {{"eps", c_.norm_eps}, {"plus_one", int64_t(c_.norm_plus_one)}});
    } else {
      const TensorId b = tensor(prefix + ".bias", {h}, DType::Int16, Role::NormParam);
      op(OpKind::LayerNorm, prefix, {x, w, b}, {y},
         {{"eps", c_.norm_eps}, {"plus_one", int64_t(c_.norm_plus_one)}});
    }
    return y;
  }

  TensorId add(const std::string& name, TensorId a, TensorId b) {
    const TensorId y = act(name, g_.tensor(a).shape);
    op(OpKind::Add, name, {a, b}, {y});
    return y;
  }

  TensorId rope(const std::string& name, TensorId x, int64_t heads) {
    const TensorId y = act(name, g_.tensor(x).shape);
    op(OpKind::Rope, name, {x}, {y},
       {{"heads", heads},
        {"head_dim", c_.head_dim},
        {"rotary_dim", c_.rotary_dim},
        {"theta", c_.rope_theta},
        {"start", p_.start},
        {"style", std::string("half")}});
    return y;
  }

  TensorId ffn(const std::string& l, TensorId x, int64_t f) {
    const int64_t t = g_.tensor(x).shape[0], h = c_.hidden;
    const std::string fn = to_string(c_.act);
    if (c_.gated_ffn) {
      const TensorId gate = linear(l + ".gate_proj", l + ".gate", x, h, f, c_.mlp_bias);
      const TensorId up = linear(l + ".up_proj", l + ".up", x, h, f, c_.mlp_bias);
      const TensorId a = act(l + ".gate_act", {t, f});
      op(OpKind::Activation, l + ".act", {gate}, {a}, {{"fn", fn}});
      const TensorId m = act(l + ".ffn_mul", {t, f});
      op(OpKind::Mul, l + ".mul", {a, up}, {m});
      return linear(l + ".down_proj", l + ".ffn_out", m, f, h, c_.mlp_bias);
    }
    const TensorId u = linear(l + ".fc1", l + ".fc1_out", x, h, f, c_.mlp_bias);
    const TensorId a = act(l + ".fc1_act", {t, f});
    op(OpKind::Activation, l + ".act", {u}, {a}, {{"fn", fn}});
    return linear(l + ".fc2", l + ".ffn_out", a, f, h, c_.mlp_bias);
  }

  TensorId layer(const LayerDims& d, TensorId x) {
    const std::string l = "layers." + std::to_string(d.source_layer);
    const int64_t t = p_.tokens, h = c_.hidden, hd = c_.head_dim;
    const int64_t qd = d.q_heads * hd, kvd = d.kv_heads * hd;

    const TensorId attn_in = c_.post_norm ? x : norm(l + ".attn_norm", x, t);
    TensorId q = linear(l + ".q_proj", l + ".q", attn_in, h, qd, c_.qkv_bias);
    TensorId k = linear(l + ".k_proj", l + ".k", attn_in, h, kvd, c_.qkv_bias);
    const TensorId v = linear(l + ".v_proj", l + ".v", attn_in, h, kvd, c_.qkv_bias);
    if (c_.pos == PosKind::Rotary) {
      q = rope(l + ".q_rope", q, d.q_heads);
      k = rope(l + ".k_rope", k, d.kv_heads);
    }

    // The cache holds every position; attention reads positions
    // begin .. context-1 (begin > 0 only with a sliding window).
    const int64_t ctx = p_.context();
    int64_t begin = 0;
    if (c_.sliding_window > 0 && p_.start - c_.sliding_window + 1 > 0)
      begin = p_.start - c_.sliding_window + 1;
    const int64_t span = ctx - begin;
    const TensorId kc = tensor(l + ".k_cache", {c_.max_positions, d.kv_heads, hd}, kvtype_, Role::KvCache);
    const TensorId vc = tensor(l + ".v_cache", {c_.max_positions, d.kv_heads, hd}, kvtype_, Role::KvCache);
    const TensorId kctx = act(l + ".k_ctx", {span, d.kv_heads, hd}, kvtype_);
    const TensorId vctx = act(l + ".v_ctx", {span, d.kv_heads, hd}, kvtype_);
    op(OpKind::KvAppend, l + ".k_append", {k, kc}, {kctx}, {{"start", p_.start}, {"begin", begin}});
    op(OpKind::KvAppend, l + ".v_append", {v, vc}, {vctx}, {{"start", p_.start}, {"begin", begin}});

    const TensorId scores = act(l + ".scores", {d.q_heads, t, span}, DType::Int32);
    op(OpKind::AttnScores, l + ".scores", {q, kctx}, {scores},
       {{"heads", d.q_heads},
        {"kv_heads", d.kv_heads},
        {"head_dim", hd},
        {"scale", 1.0 / std::sqrt(double(hd))},
        {"q_start", p_.start},
        {"k_start", begin},
        {"causal", int64_t(1)},
        {"window", c_.sliding_window}});
    const TensorId probs = act(l + ".probs", {d.q_heads, t, span});
    op(OpKind::Softmax, l + ".softmax", {scores}, {probs});
    const TensorId attn = act(l + ".attn", {t, qd});
    op(OpKind::AttnContext, l + ".context", {probs, vctx}, {attn},
       {{"heads", d.q_heads}, {"kv_heads", d.kv_heads}});
    const TensorId attn_out = linear(l + ".o_proj", l + ".attn_out", attn, qd, h, c_.out_bias);

    if (c_.parallel_block) {
      // Attention and FFN both read the normed input; both add to x.
      const TensorId ffn_out = ffn(l, attn_in, d.ffn);
      const TensorId mid = add(l + ".add_attn", x, attn_out);
      return add(l + ".add_ffn", mid, ffn_out);
    }
    TensorId mid = add(l + ".add_attn", x, attn_out);
    if (c_.post_norm) mid = norm(l + ".attn_norm", mid, t);
    const TensorId ffn_in = c_.post_norm ? mid : norm(l + ".ffn_norm", mid, t);
    const TensorId ffn_out = ffn(l, ffn_in, d.ffn);
    TensorId out = add(l + ".add_ffn", mid, ffn_out);
    if (c_.post_norm) out = norm(l + ".ffn_norm", out, t);
    return out;
  }
};

}  // namespace

Graph build_graph(const ModelConfig& cfg, const QuantRecipe& recipe, const Phase& phase) {
  validate_model(cfg);
  const std::string who = "graph " + cfg.name + ": phase";
  if (phase.tokens < 1)
    throw Error(who + ": expected at least 1 token, got " + std::to_string(phase.tokens));
  if (phase.start < 0)
    throw Error(who + ": expected a start position >= 0, got " + std::to_string(phase.start));
  if (phase.kind == Phase::Kind::Decode && phase.tokens != 1)
    throw Error(who + ": expected 1 token for a decode step, got " + std::to_string(phase.tokens));
  if (phase.context() > cfg.max_positions)
    throw Error(who + ": expected positions within max_positions (" +
                std::to_string(cfg.max_positions) + "), got up to position " +
                std::to_string(phase.context() - 1));
  if (recipe.group < 0)
    throw Error("recipe " + recipe.name + ": group: expected >= 0, got " + std::to_string(recipe.group));
  Graph g = Builder(cfg, recipe, phase).build();
  verify(g);
  return g;
}

}  // namespace clonesim::compiler::ir
