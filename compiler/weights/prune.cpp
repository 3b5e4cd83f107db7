#include "weights/prune.h"

#include <algorithm>
#include <numeric>

#include "common/error.h"

namespace clonesim::compiler {

namespace {

double sq(float x) { return double(x) * double(x); }

// Sum of squares of columns [c0, c1) of a K x N tensor (and of a bias's entries).
double col_energy(const Linear& l, int64_t c0, int64_t c1) {
  double s = 0;
  if (l.w.empty()) return s;
  for (int64_t r = 0; r < l.w.rows(); ++r)
    for (int64_t c = c0; c < c1; ++c) s += sq(l.w.at(r, c));
  if (!l.b.empty())
    for (int64_t c = c0; c < c1; ++c) s += sq(l.b.data[size_t(c)]);
  return s;
}

// Sum of squares of rows [r0, r1) of a K x N tensor.
double row_energy(const Tensor& w, int64_t r0, int64_t r1) {
  double s = 0;
  for (int64_t r = r0; r < r1; ++r)
    for (int64_t c = 0; c < w.cols(); ++c) s += sq(w.at(r, c));
  return s;
}

// The `keep` indices of largest score, ties to the lower index, ascending.
std::vector<int64_t> top_k(const std::vector<double>& score, int64_t keep) {
  std::vector<int64_t> idx(score.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(), [&](int64_t a, int64_t b) { return score[size_t(a)] > score[size_t(b)]; });
  idx.resize(size_t(keep));
  std::sort(idx.begin(), idx.end());
  return idx;
}

// Expands kept blocks (block indices of width `width`) into element indices.
std::vector<int64_t> expand(const std::vector<int64_t>& blocks, int64_t width) {
  std::vector<int64_t> out;
  for (int64_t b : blocks)
    for (int64_t i = 0; i < width; ++i) out.push_back(b * width + i);
  return out;
}

Tensor gather_cols(const Tensor& t, const std::vector<int64_t>& cols) {
  if (t.empty()) return t;
  if (t.shape.size() == 1) {
    Tensor o({int64_t(cols.size())});
    for (size_t i = 0; i < cols.size(); ++i) o.data[i] = t.data[size_t(cols[i])];
    return o;
  }
  Tensor o({t.rows(), int64_t(cols.size())});
  for (int64_t r = 0; r < t.rows(); ++r)
    for (size_t i = 0; i < cols.size(); ++i) o.at(r, int64_t(i)) = t.at(r, cols[i]);
  return o;
}

Tensor gather_rows(const Tensor& t, const std::vector<int64_t>& rows) {
  Tensor o({int64_t(rows.size()), t.cols()});
  for (size_t i = 0; i < rows.size(); ++i)
    std::copy_n(t.data.begin() + rows[i] * t.cols(), t.cols(), o.data.begin() + int64_t(i) * t.cols());
  return o;
}

Linear keep_cols(const Linear& l, const std::vector<int64_t>& cols) {
  return Linear{gather_cols(l.w, cols), gather_cols(l.b, cols)};
}

Linear keep_rows(const Linear& l, const std::vector<int64_t>& rows) {
  if (l.w.empty()) return l;
  return Linear{gather_rows(l.w, rows), l.b};
}

}  // namespace

HeadSelection select_heads(const LayerWeights& full, int64_t head_dim, int64_t heads, int64_t kv_heads,
                           int64_t q_keep, int64_t kv_keep) {
  const int64_t g = heads / kv_heads, r = q_keep / kv_keep;
  std::vector<double> qs(size_t(heads), 0.0), gs(size_t(kv_heads), 0.0);
  for (int64_t h = 0; h < heads; ++h)
    qs[size_t(h)] = col_energy(full.q, h * head_dim, (h + 1) * head_dim) +
                    row_energy(full.o.w, h * head_dim, (h + 1) * head_dim);
  for (int64_t j = 0; j < kv_heads; ++j) {
    double s = col_energy(full.k, j * head_dim, (j + 1) * head_dim) +
               col_energy(full.v, j * head_dim, (j + 1) * head_dim);
    for (int64_t h = j * g; h < (j + 1) * g; ++h) s += qs[size_t(h)];
    gs[size_t(j)] = s;
  }
  HeadSelection sel;
  sel.kv_heads = top_k(gs, kv_keep);
  for (int64_t j : sel.kv_heads) {
    const std::vector<double> in_group(qs.begin() + j * g, qs.begin() + (j + 1) * g);
    for (int64_t h : top_k(in_group, r)) sel.q_heads.push_back(j * g + h);
  }
  return sel;
}

std::vector<int64_t> select_ffn_channels(const LayerWeights& full, bool gated, int64_t keep) {
  const Linear& in1 = gated ? full.gate : full.fc1;
  const Linear& out = gated ? full.down : full.fc2;
  const int64_t n = in1.w.cols();
  std::vector<double> score(size_t(n), 0.0);
  for (int64_t c = 0; c < n; ++c) {
    score[size_t(c)] = col_energy(in1, c, c + 1) + row_energy(out.w, c, c + 1);
    if (gated) score[size_t(c)] += col_energy(full.up, c, c + 1);
  }
  return top_k(score, keep);
}

LayerWeights prune_layer(const LayerWeights& full, const ModelConfig& cfg, const LayerDims& keep) {
  LayerWeights l = full;
  const int64_t hd = cfg.head_dim;
  if (keep.q_heads != cfg.heads || keep.kv_heads != cfg.kv_heads) {
    const HeadSelection sel = select_heads(full, hd, cfg.heads, cfg.kv_heads, keep.q_heads, keep.kv_heads);
    const std::vector<int64_t> qc = expand(sel.q_heads, hd), kvc = expand(sel.kv_heads, hd);
    l.q = keep_cols(full.q, qc);
    l.k = keep_cols(full.k, kvc);
    l.v = keep_cols(full.v, kvc);
    l.o = keep_rows(full.o, qc);
  }
  if (keep.ffn != cfg.intermediate) {
    const std::vector<int64_t> ch = select_ffn_channels(full, cfg.gated_ffn, keep.ffn);
    if (cfg.gated_ffn) {
      l.gate = keep_cols(full.gate, ch);
      l.up = keep_cols(full.up, ch);
      l.down = keep_rows(full.down, ch);
    } else {
      l.fc1 = keep_cols(full.fc1, ch);
      l.fc2 = keep_rows(full.fc2, ch);
    }
  }
  return l;
}

ModelWeights prune_weights(const ModelWeights& full, const ModelConfig& cfg) {
  check_weights_config(cfg);
  const std::vector<LayerDims> fd = layer_dims(full.cfg);
  bool unpruned = int64_t(full.layers.size()) == cfg.layers && int64_t(fd.size()) == cfg.layers;
  for (size_t i = 0; unpruned && i < fd.size(); ++i)
    unpruned = fd[i].q_heads == cfg.heads && fd[i].kv_heads == cfg.kv_heads && fd[i].ffn == cfg.intermediate &&
               fd[i].source_layer == int64_t(i);
  if (!unpruned || full.cfg.hidden != cfg.hidden || full.cfg.head_dim != cfg.head_dim)
    throw Error(where(cfg.source.empty() ? cfg.name : cfg.source, 0, "layer") +
                ": prune_weights needs the unpruned weights of the same model");
  ModelWeights w = full;
  w.cfg = cfg;
  w.layers.clear();
  for (const LayerDims& d : layer_dims(cfg))
    w.layers.push_back(prune_layer(full.layers[size_t(d.source_layer)], cfg, d));
  return w;
}

}  // namespace clonesim::compiler
