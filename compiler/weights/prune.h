// Structured pruning of float weights to a config's per-layer dims
// (docs/weights.md, "Pruning"): whole KV groups, then q heads within a kept
// group, then FFN channels, each by the L2 norm of the weights that belong to
// it; dropped layers by source_layer.
#pragma once

#include <cstdint>
#include <vector>

#include "model/model_config.h"
#include "weights/model_weights.h"

namespace clonesim::compiler {

// Kept heads of one unpruned layer, ascending original indices.  KV groups:
// the kv_keep groups of largest score, where a group's score is the sum of
// squares of its k and v columns (and biases) and of all its q heads' q
// columns (and biases) and o rows.  Within a kept group, the q_keep / kv_keep
// q heads of largest score (q columns, biases, o rows).  Ties go to the lower
// index.
struct HeadSelection {
  std::vector<int64_t> q_heads, kv_heads;
};
HeadSelection select_heads(const LayerWeights& full, int64_t head_dim, int64_t heads, int64_t kv_heads,
                           int64_t q_keep, int64_t kv_keep);

// Kept FFN channels (ascending): the `keep` channels of largest sum of squares
// over their gate and up (or fc1) columns and biases and their down (or fc2)
// row; ties to the lower index.
std::vector<int64_t> select_ffn_channels(const LayerWeights& full, bool gated, int64_t keep);

// An unpruned layer cut to `keep` (its q_heads, kv_heads, ffn) by the rules above.
LayerWeights prune_layer(const LayerWeights& full, const ModelConfig& cfg, const LayerDims& keep);

// Unpruned weights (full.cfg has every layer at the unpruned dims) cut to a
// pruned config of the same model: layer i is full layer cfg.layer[i].source_layer.
ModelWeights prune_weights(const ModelWeights& full, const ModelConfig& cfg);

}  // namespace clonesim::compiler
