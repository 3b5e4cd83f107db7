#include "weights/model_weights.h"

#include <algorithm>
#include <cmath>
#include <random>

#include "common/error.h"

namespace clonesim::compiler {

Tensor::Tensor(std::vector<int64_t> s) : shape(std::move(s)) {
  data.assign(size_t(numel()), 0.0f);
}

int64_t Tensor::numel() const {
  if (shape.empty()) return 0;
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string shape_str(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

std::vector<LayerDims> layer_dims(const ModelConfig& cfg) {
  if (!cfg.layer.empty()) return cfg.layer;
  std::vector<LayerDims> dims(size_t(cfg.layers > 0 ? cfg.layers : 0));
  for (size_t i = 0; i < dims.size(); ++i) {
    dims[i].q_heads = cfg.heads;
    dims[i].kv_heads = cfg.kv_heads;
    dims[i].ffn = cfg.intermediate;
    dims[i].source_layer = int64_t(i);
  }
  return dims;
}

int64_t rotary_dims(const ModelConfig& cfg) {
  return cfg.rotary_dim > 0 ? cfg.rotary_dim : cfg.head_dim;
}

namespace {

[[noreturn]] void config_error(const ModelConfig& cfg, const std::string& key, const std::string& msg) {
  const std::string file = !cfg.source.empty() ? cfg.source : (!cfg.name.empty() ? cfg.name : "<config>");
  throw Error(where(file, 0, key) + ": " + msg);
}

std::string n2s(int64_t v) { return std::to_string(v); }

}  // namespace

void check_weights_config(const ModelConfig& cfg) {
  const auto positive = [&](const char* key, int64_t v) {
    if (v <= 0) config_error(cfg, key, "expected a positive value, got " + n2s(v));
  };
  positive("vocab", cfg.vocab);
  positive("hidden", cfg.hidden);
  positive("intermediate", cfg.intermediate);
  positive("layers", cfg.layers);
  positive("heads", cfg.heads);
  positive("kv_heads", cfg.kv_heads);
  positive("head_dim", cfg.head_dim);
  if (cfg.heads % cfg.kv_heads != 0)
    config_error(cfg, "kv_heads", "heads " + n2s(cfg.heads) + " is not a multiple of kv_heads " + n2s(cfg.kv_heads));
  if (cfg.pos == PosKind::Learned) positive("max_positions", cfg.max_positions);
  if (cfg.pos == PosKind::Rotary) {
    const int64_t rd = rotary_dims(cfg);
    if (rd % 2 != 0 || rd > cfg.head_dim || cfg.rotary_dim < 0)
      config_error(cfg, "rotary_dim",
                   "expected an even value <= head_dim " + n2s(cfg.head_dim) + ", got " + n2s(cfg.rotary_dim));
    if (!(cfg.rope_theta > 0)) config_error(cfg, "rope_theta", "expected a positive value");
  }
  if (!(cfg.norm_eps >= 0)) config_error(cfg, "norm_eps", "expected a value >= 0");
  if (!cfg.layer.empty() && int64_t(cfg.layer.size()) > cfg.layers)
    config_error(cfg, "layer", n2s(int64_t(cfg.layer.size())) + " entries for a model of " + n2s(cfg.layers) +
                                   " layers");
  const int64_t group = cfg.heads / cfg.kv_heads;
  int64_t prev_source = -1;
  const std::vector<LayerDims> dims = layer_dims(cfg);
  for (size_t i = 0; i < dims.size(); ++i) {
    const LayerDims& d = dims[i];
    const std::string k = "layer[" + std::to_string(i) + "].";
    if (d.kv_heads <= 0 || d.kv_heads > cfg.kv_heads)
      config_error(cfg, k + "kv_heads", "expected 1.." + n2s(cfg.kv_heads) + ", got " + n2s(d.kv_heads));
    if (d.q_heads <= 0 || d.q_heads % d.kv_heads != 0 || d.q_heads / d.kv_heads > group)
      config_error(cfg, k + "q_heads",
                   "expected a multiple of kv_heads " + n2s(d.kv_heads) + " with at most " + n2s(group) +
                       " query heads per kv head, got " + n2s(d.q_heads));
    if (d.ffn <= 0 || d.ffn > cfg.intermediate)
      config_error(cfg, k + "ffn", "expected 1.." + n2s(cfg.intermediate) + ", got " + n2s(d.ffn));
    if (d.source_layer <= prev_source || d.source_layer >= cfg.layers)
      config_error(cfg, k + "source_layer",
                   "expected " + n2s(prev_source + 1) + ".." + n2s(cfg.layers - 1) + " (increasing), got " +
                       n2s(d.source_layer));
    prev_source = d.source_layer;
  }
}

std::vector<NamedShape> expected_tensors(const ModelConfig& cfg) {
  std::vector<NamedShape> out;
  const bool ln = cfg.norm == NormKind::LayerNorm;
  const int64_t h = cfg.hidden, hd = cfg.head_dim;
  out.push_back({"embed", {cfg.vocab, h}});
  if (cfg.pos == PosKind::Learned) out.push_back({"pos_embed", {cfg.max_positions, h}});
  const std::vector<LayerDims> dims = layer_dims(cfg);
  for (size_t i = 0; i < dims.size(); ++i) {
    const std::string p = "layers." + std::to_string(i) + ".";
    const LayerDims& d = dims[i];
    const auto norm = [&](const std::string& n) {
      out.push_back({p + n + ".w", {h}});
      if (ln) out.push_back({p + n + ".b", {h}});
    };
    const auto linear = [&](const std::string& n, int64_t k, int64_t nn, bool bias) {
      out.push_back({p + n + ".w", {k, nn}});
      if (bias) out.push_back({p + n + ".b", {nn}});
    };
    norm("attn_norm");
    linear("q", h, d.q_heads * hd, cfg.qkv_bias);
    linear("k", h, d.kv_heads * hd, cfg.qkv_bias);
    linear("v", h, d.kv_heads * hd, cfg.qkv_bias);
    linear("o", d.q_heads * hd, h, cfg.out_bias);
    if (!cfg.parallel_block) norm("ffn_norm");
    if (cfg.gated_ffn) {
      linear("gate", h, d.ffn, cfg.mlp_bias);
      linear("up", h, d.ffn, cfg.mlp_bias);
      linear("down", d.ffn, h, cfg.mlp_bias);
    } else {
      linear("fc1", h, d.ffn, cfg.mlp_bias);
      linear("fc2", d.ffn, h, cfg.mlp_bias);
    }
  }
  if (cfg.final_norm) {
    out.push_back({"final_norm.w", {h}});
    if (ln) out.push_back({"final_norm.b", {h}});
  }
  if (!cfg.tied_embeddings) out.push_back({"lm_head.w", {h, cfg.vocab}});
  if (cfg.lm_head_bias) out.push_back({"lm_head.b", {cfg.vocab}});
  return out;
}

namespace {

// The tensor of `w` a canonical name refers to (nullptr for an unknown name).
template <class W, class T>
T* tensor_by_name(W& w, const std::string& name) {
  if (name == "embed") return &w.embed;
  if (name == "pos_embed") return &w.pos_embed;
  if (name == "final_norm.w") return &w.final_norm.w;
  if (name == "final_norm.b") return &w.final_norm.b;
  if (name == "lm_head.w") return &w.lm_head.w;
  if (name == "lm_head.b") return &w.lm_head.b;
  if (name.compare(0, 7, "layers.") != 0) return nullptr;
  const size_t dot = name.find('.', 7);
  const size_t i = size_t(std::stoul(name.substr(7, dot - 7)));
  if (i >= w.layers.size()) return nullptr;
  auto& l = w.layers[i];
  const std::string rest = name.substr(dot + 1);
  const size_t d2 = rest.rfind('.');
  const std::string part = rest.substr(0, d2);
  const bool bias = rest.substr(d2 + 1) == "b";
  const auto pick = [&](auto& x) -> T* { return bias ? &x.b : &x.w; };
  if (part == "attn_norm") return pick(l.attn_norm);
  if (part == "ffn_norm") return pick(l.ffn_norm);
  if (part == "q") return pick(l.q);
  if (part == "k") return pick(l.k);
  if (part == "v") return pick(l.v);
  if (part == "o") return pick(l.o);
  if (part == "gate") return pick(l.gate);
  if (part == "up") return pick(l.up);
  if (part == "down") return pick(l.down);
  if (part == "fc1") return pick(l.fc1);
  if (part == "fc2") return pick(l.fc2);
  return nullptr;
}

}  // namespace

void for_each_tensor(ModelWeights& w, const std::function<void(const std::string&, Tensor&)>& fn) {
  for (const NamedShape& ns : expected_tensors(w.cfg)) {
    Tensor* t = tensor_by_name<ModelWeights, Tensor>(w, ns.name);
    if (t && !t->empty()) fn(ns.name, *t);
  }
}

void for_each_tensor(const ModelWeights& w,
                     const std::function<void(const std::string&, const Tensor&)>& fn) {
  for (const NamedShape& ns : expected_tensors(w.cfg)) {
    const Tensor* t = tensor_by_name<const ModelWeights, const Tensor>(w, ns.name);
    if (t && !t->empty()) fn(ns.name, *t);
  }
}

void check_weights(const ModelWeights& w) {
  check_weights_config(w.cfg);
  const std::string who = "weights of " + (w.cfg.name.empty() ? std::string("<model>") : w.cfg.name);
  if (w.layers.size() != layer_dims(w.cfg).size())
    throw Error(where(who, 0, "layers") + ": expected " + std::to_string(layer_dims(w.cfg).size()) + ", got " +
                std::to_string(w.layers.size()));
  std::vector<std::string> expected;
  for (const NamedShape& ns : expected_tensors(w.cfg)) {
    const Tensor* t = tensor_by_name<const ModelWeights, const Tensor>(w, ns.name);
    if (t->shape != ns.shape || t->data.size() != size_t(t->numel()))
      throw Error(where(who, 0, ns.name) + ": expected shape " + shape_str(ns.shape) + ", got " +
                  (t->empty() ? std::string("none") : shape_str(t->shape)));
    expected.push_back(ns.name);
  }
  // Every other tensor slot must be empty.
  std::vector<std::string> slots = {"embed", "pos_embed", "final_norm.w", "final_norm.b", "lm_head.w", "lm_head.b"};
  for (size_t i = 0; i < w.layers.size(); ++i)
    for (const char* part : {"attn_norm", "q", "k", "v", "o", "ffn_norm", "gate", "up", "down", "fc1", "fc2"})
      for (const char* wb : {".w", ".b"}) slots.push_back("layers." + std::to_string(i) + "." + part + wb);
  for (const std::string& name : slots) {
    const Tensor* t = tensor_by_name<const ModelWeights, const Tensor>(w, name);
    if (!t->empty() && std::find(expected.begin(), expected.end(), name) == expected.end())
      throw Error(where(who, 0, name) + ": unexpected tensor of shape " + shape_str(t->shape) + " for this config");
  }
}

std::vector<NamedLinear> linears(const ModelWeights& w) {
  std::vector<NamedLinear> out;
  for (size_t i = 0; i < w.layers.size(); ++i) {
    const std::string p = "layers." + std::to_string(i) + ".";
    const LayerWeights& l = w.layers[i];
    out.push_back({p + "q", &l.q});
    out.push_back({p + "k", &l.k});
    out.push_back({p + "v", &l.v});
    out.push_back({p + "o", &l.o});
    if (w.cfg.gated_ffn) {
      out.push_back({p + "gate", &l.gate});
      out.push_back({p + "up", &l.up});
      out.push_back({p + "down", &l.down});
    } else {
      out.push_back({p + "fc1", &l.fc1});
      out.push_back({p + "fc2", &l.fc2});
    }
  }
  if (!w.lm_head.w.empty()) out.push_back({"lm_head", &w.lm_head});
  return out;
}

Tensor lm_head_matrix(const ModelWeights& w) {
  if (!w.lm_head.w.empty()) return w.lm_head.w;
  const int64_t vocab = w.embed.rows(), h = w.embed.cols();
  Tensor t({h, vocab});
  for (int64_t v = 0; v < vocab; ++v)
    for (int64_t k = 0; k < h; ++k) t.at(k, v) = w.embed.at(v, k);
  return t;
}

uint64_t fnv1a64(const std::string& s) {
  uint64_t x = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) {
    x ^= c;
    x *= 0x100000001b3ULL;
  }
  return x;
}

double irwin_hall_normal(const uint64_t draws[6]) {
  int64_t sum = 0;
  for (int i = 0; i < 6; ++i) sum += int64_t(draws[i] & 0xffffffffULL) + int64_t(draws[i] >> 32);
  sum -= int64_t(6) << 32;                      // |sum| < 2^35: exact in a double
  return double(sum) * (1.0 / 4294967296.0);    // * 2^-32, exact
}

namespace {

// Fills t with mean + stddev * N(0,1) from the tensor's own stream.
void fill_normal(Tensor& t, uint64_t seed, const std::string& name, double mean, double stddev) {
  std::mt19937_64 rng(seed ^ fnv1a64(name));
  uint64_t d[6];
  for (float& x : t.data) {
    for (uint64_t& di : d) di = rng();
    x = float(mean + stddev * irwin_hall_normal(d));
  }
}

}  // namespace

ModelWeights random_weights(const ModelConfig& cfg, uint64_t seed) {
  check_weights_config(cfg);
  ModelWeights w;
  w.cfg = cfg;
  w.layers.resize(layer_dims(cfg).size());
  const double inv_sqrt_h = 1.0 / std::sqrt(double(cfg.hidden));
  for (const NamedShape& ns : expected_tensors(cfg)) {
    Tensor* t = tensor_by_name<ModelWeights, Tensor>(w, ns.name);
    *t = Tensor(ns.shape);
    const std::string& n = ns.name;
    const bool bias = n.size() > 2 && n.compare(n.size() - 2, 2, ".b") == 0;
    const bool norm = n.find("norm.") != std::string::npos;
    if (n == "embed" || n == "pos_embed") {
      fill_normal(*t, seed, n, 0.0, inv_sqrt_h);
    } else if (norm && !bias) {
      fill_normal(*t, seed, n, cfg.norm_plus_one ? 0.0 : 1.0, 0.1);
    } else if (bias) {
      fill_normal(*t, seed, n, 0.0, 0.1);
    } else {  // a linear weight, K x N
      fill_normal(*t, seed, n, 0.0, 1.0 / std::sqrt(double(ns.shape[0])));
    }
  }
  return w;
}

}  // namespace clonesim::compiler
