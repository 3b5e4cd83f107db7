// Float weights of a decoder-only model in the compiler's layout
// (docs/weights.md).  Every linear weight is K x N row-major (in x out), i.e.
// transposed from Hugging Face's [out, in]; q heads are contiguous head_dim
// blocks along N, k/v likewise with kv_heads.  Shapes follow the per-layer
// (pruned) dims of the config.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "model/model_config.h"

namespace clonesim::compiler {

// A dense float tensor, row-major.  An empty shape means "absent".
struct Tensor {
  std::vector<int64_t> shape;
  std::vector<float> data;

  Tensor() = default;
  explicit Tensor(std::vector<int64_t> s);  // zero-filled
  bool empty() const { return shape.empty(); }
  int64_t numel() const;
  int64_t rows() const { return shape.empty() ? 0 : shape[0]; }
  int64_t cols() const { return shape.size() < 2 ? 1 : shape[1]; }
  float& at(int64_t r, int64_t c) { return data[size_t(r * shape[1] + c)]; }
  float at(int64_t r, int64_t c) const { return data[size_t(r * shape[1] + c)]; }
};

// "[a, b]"
std::string shape_str(const std::vector<int64_t>& shape);

// y = x W + b: w is K x N, b is [N] or absent.
struct Linear {
  Tensor w, b;
};

// RMSNorm (weight) or LayerNorm (weight, bias).
struct Norm {
  Tensor w, b;
};

struct LayerWeights {
  Norm attn_norm;            // input norm (the only one under a parallel block)
  Linear q, k, v, o;         // q: hidden x q_heads*head_dim, o: q_heads*head_dim x hidden
  Norm ffn_norm;             // absent under a parallel block
  Linear gate, up, down;     // gated FFN: hidden x ffn, hidden x ffn, ffn x hidden
  Linear fc1, fc2;           // ungated FFN: hidden x ffn, ffn x hidden
};

struct ModelWeights {
  ModelConfig cfg;           // the (pruned) config the weights follow
  Tensor embed;              // vocab x hidden (a lookup table, not a linear)
  Tensor pos_embed;          // max_positions x hidden (PosKind::Learned), position p in row p
  std::vector<LayerWeights> layers;  // one per cfg.layer entry
  Norm final_norm;           // absent when !cfg.final_norm
  Linear lm_head;            // hidden x vocab; w absent when tied (use embed transposed); b per lm_head_bias
};

// The per-layer dims: cfg.layer, or (when it is empty) cfg.layers unpruned
// layers with source_layer = i.
std::vector<LayerDims> layer_dims(const ModelConfig& cfg);

// Rotated dims per head: cfg.rotary_dim, or head_dim when it is 0.
int64_t rotary_dims(const ModelConfig& cfg);

// Checks what the weights and the float reference rely on: positive dims,
// q_heads a multiple of kv_heads, kept dims within the unpruned ones, every
// q head of a kept group mapping to its kv head, rotary_dim even and <= head_dim,
// source_layer in range and increasing.  Throws a one-line clonesim::Error
// naming the config (source file, else name) and the key.
void check_weights_config(const ModelConfig& cfg);

// The expected shape of every tensor of a model (absent tensors are not listed),
// by canonical name: "embed", "pos_embed", "layers.{i}.attn_norm.w", "layers.{i}.q.w",
// "layers.{i}.q.b", ..., "final_norm.w", "lm_head.w", "lm_head.b".
struct NamedShape {
  std::string name;
  std::vector<int64_t> shape;
};
std::vector<NamedShape> expected_tensors(const ModelConfig& cfg);

// Checks that w holds exactly the tensors of expected_tensors(w.cfg) with
// their shapes (and that the config passes check_weights_config); throws a
// one-line clonesim::Error "weights of NAME: TENSOR: expected shape [..], got [..]".
void check_weights(const ModelWeights& w);

// Visits every present tensor with its canonical name, in the order of
// expected_tensors().
void for_each_tensor(ModelWeights& w, const std::function<void(const std::string&, Tensor&)>& fn);
void for_each_tensor(const ModelWeights& w,
                     const std::function<void(const std::string&, const Tensor&)>& fn);

// Every linear of the model by canonical name ("layers.{i}.q", ..., "lm_head";
// a tied LM head is not listed: it is the embedding), in a fixed order.
struct NamedLinear {
  std::string name;
  const Linear* linear;
};
std::vector<NamedLinear> linears(const ModelWeights& w);

// The LM head as a K x N (hidden x vocab) tensor: lm_head.w, or the embedding
// transposed when tied.
Tensor lm_head_matrix(const ModelWeights& w);

// Deterministic random weights (docs/weights.md, "The generator"): each tensor
// draws from its own std::mt19937_64 seeded with seed ^ fnv1a64(canonical name);
// a standard normal is the sum of 12 uniforms (the two 32-bit halves of six
// 64-bit draws, each / 2^32) minus 6 (Irwin-Hall), in exact integer
// arithmetic: no libm call, so the result is bit-identical on every machine.  Scales: linear weights N(0, 1/K),
// embeddings and learned positions N(0, 1/hidden), biases N(0, 0.1^2), norm
// weights 1 + N(0, 0.1^2) (stored w ~ N(0, 0.1^2) under norm_plus_one), LayerNorm
// biases N(0, 0.1^2).
ModelWeights random_weights(const ModelConfig& cfg, uint64_t seed);

// The generator's parts, public so tests can recompute them independently.
uint64_t fnv1a64(const std::string& s);
// One standard normal from six consecutive draws: (sum of the twelve 32-bit
// halves - 6 * 2^32) / 2^32.
double irwin_hall_normal(const uint64_t draws[6]);

}  // namespace clonesim::compiler
