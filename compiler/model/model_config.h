// A decoder-only language model's architecture, as the compiler needs it: the
// shared contract between model import (Hugging Face config.json, the YAML
// model format), the compression passes, the graph IR, weights, the float
// reference and the lowering.  docs/models.md documents every field.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace clonesim::compiler {

enum class Family { Llama, Mistral, Qwen2, Gemma, Opt, Gpt2, Phi, Custom };
enum class Activation { Silu, Gelu, GeluTanh, Relu };
enum class NormKind { RmsNorm, LayerNorm };
enum class PosKind { Rotary, Learned };

// One decoder layer's (possibly pruned) dimensions.
struct LayerDims {
  int64_t q_heads = 0;   // attention (query) heads kept
  int64_t kv_heads = 0;  // key/value heads kept (q_heads is a multiple: whole GQA groups are pruned)
  int64_t ffn = 0;       // FFN intermediate channels kept
  int64_t source_layer = 0;  // index of this layer in the unpruned model (layer dropping keeps gaps)
};

struct ModelConfig {
  std::string name;       // e.g. "llama-2-7b"
  std::string source;     // file it was read from ("" for built-in)
  Family family = Family::Custom;

  int64_t vocab = 0;
  int64_t hidden = 0;          // d_model
  int64_t intermediate = 0;    // FFN width before pruning
  int64_t layers = 0;          // before layer dropping
  int64_t heads = 0;           // query heads before pruning
  int64_t kv_heads = 0;        // == heads for MHA, 1 for MQA
  int64_t head_dim = 0;        // usually hidden / heads (Gemma: 256 with hidden 2048)
  int64_t max_positions = 0;

  Activation act = Activation::Silu;
  bool gated_ffn = true;       // gate/up/down (llama) vs fc1/fc2 (opt, gpt2, phi)
  NormKind norm = NormKind::RmsNorm;
  double norm_eps = 1e-5;
  bool norm_plus_one = false;  // Gemma: RMSNorm scales by (1 + w)
  bool qkv_bias = false;       // bias on q/k/v projections
  bool out_bias = false;       // bias on the attention output projection
  bool mlp_bias = false;       // bias on FFN projections
  bool lm_head_bias = false;
  PosKind pos = PosKind::Rotary;
  double rope_theta = 10000.0;
  int64_t rotary_dim = 0;      // rotated dims per head (phi: partial_rotary_factor * head_dim); == head_dim otherwise
  bool tied_embeddings = false;
  bool parallel_block = false; // attention and FFN read the same normed input (phi, gpt-j)
  bool final_norm = true;
  bool embed_scale = false;    // Gemma: embeddings multiplied by sqrt(hidden)
  int64_t learned_pos_offset = 0;  // learned positions: table row of position 0 (OPT: 2); the table has max_positions + offset rows
  int64_t sliding_window = 0;  // attention sees the last `sliding_window` positions only (Mistral); 0 = all
  bool post_norm = false;      // norm after each residual add instead of before the sublayer (OPT do_layer_norm_before: false)

  // Per-layer dimensions after pruning/dropping; filled uniformly by import.
  std::vector<LayerDims> layer;
};

enum class WeightType { Int8, Int4 };

// A quantisation recipe (W8A8, W4A8): int8 activations always.
struct QuantRecipe {
  std::string name = "W8A8";
  WeightType weights = WeightType::Int8;
  int64_t group = 0;          // 0 = one scale per output channel; else K-group size (e.g. 128)
  bool kv_int8 = true;        // INT8 KV cache
};

}  // namespace clonesim::compiler
