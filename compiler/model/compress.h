// Compression passes on a ModelConfig: structured pruning from a ratio file
// (the form CLONE's search produces) and the parameter / byte counts after
// pruning and quantisation.  docs/models.md gives the ratio-file format, the
// rounding rules and the byte-count rules.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/model_config.h"

namespace clonesim::compiler {

// --- structured pruning ------------------------------------------------------

constexpr int64_t kDefaultFfnGranularity = 16;

// A parsed ratio file.  Ratios are indexed by source layer (the unpruned
// model's layer index) and are fractions removed, 0 <= r < 1.
struct PruneSpec {
  std::string source;                // file name, for messages
  std::vector<double> heads;         // per layer; empty: heads not pruned
  std::vector<double> ffn;           // per layer; empty: FFN not pruned
  std::vector<int64_t> drop;         // source layers removed entirely
  int64_t ffn_granularity = kDefaultFfnGranularity;

  // Where each list sits in the file (for count / index errors found when the
  // spec meets a model): key as written ("layers", "heads", "ffn", "drop").
  std::string heads_key, ffn_key;
  int heads_line = 0, ffn_line = 0, drop_line = 0;
  std::vector<int> drop_lines;       // line of each drop entry
};

PruneSpec parse_prune_spec(const std::string& yaml_text, const std::string& source);
PruneSpec load_prune_spec(const std::string& path);

// The rounding rules, exposed for tests and for CLONE's search.
// Query heads kept for a layer with `heads` query / `kv_heads` KV heads when
// the fraction `ratio` is removed: whole KV groups under GQA (kv_heads kept =
// round(kv_heads * (1 - ratio)), at least 1, times the group size), single
// heads under MHA and MQA (round(heads * (1 - ratio)), at least 1).  Ties
// round towards keeping more.  Returns {q_heads, kv_heads}.
struct HeadsKept {
  int64_t q_heads, kv_heads;
};
HeadsKept prune_heads(int64_t heads, int64_t kv_heads, double ratio);
// FFN channels kept: `intermediate` when ratio == 0 or intermediate <
// granularity; else the multiple of `granularity` nearest to
// intermediate * (1 - ratio) (ties up), at least `granularity`, at most the
// largest multiple of `granularity` <= intermediate.
int64_t prune_ffn(int64_t intermediate, double ratio, int64_t granularity);

// Apply a ratio file.  Ratios are relative to the unpruned dimensions
// (cfg.heads, cfg.kv_heads, cfg.intermediate); layers already dropped in cfg
// stay dropped.  A list whose length is not cfg.layers, a drop index out of
// range, or dropping every layer is an Error naming the file, line and key.
ModelConfig apply_pruning(const ModelConfig& cfg, const PruneSpec& spec);
ModelConfig prune_model(const ModelConfig& cfg, const std::string& ratio_file);

// --- parameter and byte counts -----------------------------------------------

// Byte rules (docs/models.md "Byte counts"): weight matrices (projections,
// FFN, LM head, token and position embeddings) in the recipe's weight type,
// int4 packed two per byte (rounded up per tensor); one int32 scale
// (requantisation multiplier) per output channel per K-group; biases int32;
// norm weights and biases int16; KV cache int8 (kv_int8) or int16.
constexpr int64_t kScaleBytes = 4;
constexpr int64_t kBiasBytes = 4;
constexpr int64_t kNormBytes = 2;

struct LayerStats {
  int64_t source_layer = 0;
  int64_t params = 0;
  int64_t weight_bytes = 0;
  int64_t kv_bytes_per_token = 0;
};

struct ModelStats {
  int64_t embedding_params = 0;   // token embedding (+ learned positions)
  int64_t position_params = 0;    // learned position table (included in embedding_params)
  int64_t layer_params = 0;       // all kept layers
  int64_t final_norm_params = 0;
  int64_t lm_head_params = 0;     // 0 when tied (counted in embedding_params), + bias
  int64_t total_params = 0;

  int64_t embedding_bytes = 0;    // includes scales (and positions)
  int64_t layer_bytes = 0;
  int64_t final_norm_bytes = 0;
  int64_t lm_head_bytes = 0;      // 0 when tied
  int64_t weight_bytes = 0;       // total
  int64_t scale_bytes = 0;        // of weight_bytes: the scales alone

  int64_t kv_bytes_per_token = 0; // K and V of every kept layer, one position

  std::vector<LayerStats> layers;
};

ModelStats model_stats(const ModelConfig& cfg, const QuantRecipe& recipe);

// Bytes of one K x N weight matrix under `recipe` (data + scales).
int64_t matrix_bytes(int64_t k, int64_t n, const QuantRecipe& recipe);
// Scale entries of one K x N matrix: n * (group ? ceil(k / group) : 1).
int64_t scale_count(int64_t k, int64_t n, const QuantRecipe& recipe);

}  // namespace clonesim::compiler
