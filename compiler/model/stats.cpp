// Parameter and byte counts after pruning and quantisation (docs/models.md
// "Byte counts").  The same tensors as build_graph creates, counted here
// without building the graph.
#include "model/compress.h"

namespace clonesim::compiler {

int64_t scale_count(int64_t k, int64_t n, const QuantRecipe& recipe) {
  const int64_t groups = recipe.group > 0 ? (k + recipe.group - 1) / recipe.group : 1;
  return n * groups;
}

namespace {

int64_t data_bytes(int64_t k, int64_t n, const QuantRecipe& recipe) {
  const int64_t e = k * n;
  return recipe.weights == WeightType::Int4 ? (e + 1) / 2 : e;
}

// Accumulates one part's parameters and bytes.
struct Tally {
  const QuantRecipe& recipe;
  int64_t params = 0, bytes = 0, scales = 0;

  void matrix(int64_t k, int64_t n) {
    params += k * n;
    const int64_t sb = scale_count(k, n, recipe) * kScaleBytes;
    bytes += data_bytes(k, n, recipe) + sb;
    scales += sb;
  }
  void bias(int64_t n) {
    params += n;
    bytes += n * kBiasBytes;
  }
  void norm(int64_t h, NormKind kind) {
    const int64_t p = kind == NormKind::LayerNorm ? 2 * h : h;  // weight (+ bias)
    params += p;
    bytes += p * kNormBytes;
  }
};

}  // namespace

int64_t matrix_bytes(int64_t k, int64_t n, const QuantRecipe& recipe) {
  return data_bytes(k, n, recipe) + scale_count(k, n, recipe) * kScaleBytes;
}

ModelStats model_stats(const ModelConfig& c, const QuantRecipe& recipe) {
  ModelStats s;
  const int64_t h = c.hidden;

  Tally emb{recipe};
  emb.matrix(h, c.vocab);  // the [vocab, hidden] table: K = hidden, one scale row per token
  if (c.pos == PosKind::Learned) {
    Tally pos{recipe};
    pos.matrix(h, c.max_positions + c.learned_pos_offset);
    s.position_params = pos.params;
    emb.params += pos.params;
    emb.bytes += pos.bytes;
    emb.scales += pos.scales;
  }
  s.embedding_params = emb.params;
  s.embedding_bytes = emb.bytes;
  s.scale_bytes += emb.scales;

  const int64_t kv_elem = recipe.kv_int8 ? 1 : 2;
  for (const LayerDims& d : c.layer) {
    Tally t{recipe};
    const int64_t qd = d.q_heads * c.head_dim, kvd = d.kv_heads * c.head_dim, f = d.ffn;
    t.norm(h, c.norm);
    if (!c.parallel_block) t.norm(h, c.norm);
    t.matrix(h, qd);
    t.matrix(h, kvd);
    t.matrix(h, kvd);
    if (c.qkv_bias) {
      t.bias(qd);
      t.bias(kvd);
      t.bias(kvd);
    }
    t.matrix(qd, h);
    if (c.out_bias) t.bias(h);
    if (c.gated_ffn) {
      t.matrix(h, f);  // gate
      t.matrix(h, f);  // up
      t.matrix(f, h);  // down
      if (c.mlp_bias) {
        t.bias(f);
        t.bias(f);
        t.bias(h);
      }
    } else {
      t.matrix(h, f);  // fc1
      t.matrix(f, h);  // fc2
      if (c.mlp_bias) {
        t.bias(f);
        t.bias(h);
      }
    }
    LayerStats ls;
    ls.source_layer = d.source_layer;
    ls.params = t.params;
    ls.weight_bytes = t.bytes;
    ls.kv_bytes_per_token = 2 * kvd * kv_elem;
    s.layers.push_back(ls);
    s.layer_params += t.params;
    s.layer_bytes += t.bytes;
    s.scale_bytes += t.scales;
    s.kv_bytes_per_token += ls.kv_bytes_per_token;
  }

  if (c.final_norm) {
    Tally t{recipe};
    t.norm(h, c.norm);
    s.final_norm_params = t.params;
    s.final_norm_bytes = t.bytes;
  }

  Tally head{recipe};
  if (!c.tied_embeddings) head.matrix(h, c.vocab);
  if (c.lm_head_bias) head.bias(c.vocab);
  s.lm_head_params = head.params;
  s.lm_head_bytes = head.bytes;
  s.scale_bytes += head.scales;

  s.total_params = s.embedding_params + s.layer_params + s.final_norm_params + s.lm_head_params;
  s.weight_bytes = s.embedding_bytes + s.layer_bytes + s.final_norm_bytes + s.lm_head_bytes;
  return s;
}

}  // namespace clonesim::compiler
