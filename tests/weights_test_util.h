// Hand-built model configs and helpers shared by the compiler weights tests.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "model/model_config.h"
#include "test_util.h"
#include "weights/model_weights.h"

namespace wtest {

using namespace clonesim::compiler;

inline std::string tmp_path(const std::string& name) {
  return "/tmp/clonesim_weights_" + std::to_string(getpid()) + "_" + name;
}

using clonesim::test::error_of;

inline void uniform_layers(ModelConfig& c) {
  c.layer.clear();
  for (int64_t i = 0; i < c.layers; ++i) c.layer.push_back({c.heads, c.kv_heads, c.intermediate, i});
}

// Llama-style: RMSNorm, rotary, gated SiLU, GQA (4 q heads on 2 kv heads), untied head.
inline ModelConfig llama_cfg() {
  ModelConfig c;
  c.name = "tiny-llama";
  c.family = Family::Llama;
  c.vocab = 37;
  c.hidden = 16;
  c.intermediate = 24;
  c.layers = 2;
  c.heads = 4;
  c.kv_heads = 2;
  c.head_dim = 4;
  c.max_positions = 64;
  c.rotary_dim = 4;
  c.rope_theta = 10000.0;
  c.norm_eps = 1e-6;
  uniform_layers(c);
  return c;
}

inline ModelConfig qwen2_cfg() {
  ModelConfig c = llama_cfg();
  c.name = "tiny-qwen2";
  c.family = Family::Qwen2;
  c.qkv_bias = true;
  c.rope_theta = 1000000.0;
  return c;
}

inline ModelConfig gemma_cfg() {
  ModelConfig c = llama_cfg();
  c.name = "tiny-gemma";
  c.family = Family::Gemma;
  c.kv_heads = 1;
  c.head_dim = 8;  // heads * head_dim != hidden, as in Gemma
  c.rotary_dim = 8;
  c.act = Activation::GeluTanh;
  c.norm_plus_one = true;
  c.embed_scale = true;
  c.tied_embeddings = true;
  uniform_layers(c);
  return c;
}

// OPT-style: LayerNorm, learned positions (offset 2 in the file), ReLU fc1/fc2, biases, tied.
inline ModelConfig opt_cfg() {
  ModelConfig c;
  c.name = "tiny-opt";
  c.family = Family::Opt;
  c.vocab = 29;
  c.hidden = 12;
  c.intermediate = 20;
  c.layers = 2;
  c.heads = 3;
  c.kv_heads = 3;
  c.head_dim = 4;
  c.max_positions = 16;
  c.act = Activation::Relu;
  c.gated_ffn = false;
  c.norm = NormKind::LayerNorm;
  c.qkv_bias = c.out_bias = c.mlp_bias = true;
  c.pos = PosKind::Learned;
  c.rotary_dim = 0;
  c.tied_embeddings = true;
  uniform_layers(c);
  return c;
}

// GPT-2-style: as OPT with exact GELU, Conv1D layout and fused qkv.
inline ModelConfig gpt2_cfg() {
  ModelConfig c = opt_cfg();
  c.name = "tiny-gpt2";
  c.family = Family::Gpt2;
  c.act = Activation::Gelu;
  return c;
}

// Phi-style: parallel block, LayerNorm, partial rotary, tanh GELU fc1/fc2, biases, LM head bias.
inline ModelConfig phi_cfg() {
  ModelConfig c;
  c.name = "tiny-phi";
  c.family = Family::Phi;
  c.vocab = 31;
  c.hidden = 16;
  c.intermediate = 32;
  c.layers = 2;
  c.heads = 2;
  c.kv_heads = 2;
  c.head_dim = 8;
  c.max_positions = 64;
  c.act = Activation::GeluTanh;
  c.gated_ffn = false;
  c.norm = NormKind::LayerNorm;
  c.qkv_bias = c.out_bias = c.mlp_bias = c.lm_head_bias = true;
  c.rotary_dim = 4;
  c.parallel_block = true;
  uniform_layers(c);
  return c;
}

inline std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

inline void write_bytes(const std::string& path, const std::vector<uint8_t>& b) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
}

// A file of an 8-byte little-endian header length, the header text, then `data` bytes.
inline void write_raw(const std::string& path, const std::string& header, size_t data_bytes,
                      uint64_t header_len_override = ~uint64_t(0)) {
  std::vector<uint8_t> b(8);
  const uint64_t n = header_len_override != ~uint64_t(0) ? header_len_override : header.size();
  for (int i = 0; i < 8; ++i) b[size_t(i)] = uint8_t(n >> (8 * i));
  b.insert(b.end(), header.begin(), header.end());
  b.insert(b.end(), data_bytes, 0);
  write_bytes(path, b);
}

// Bitwise equality of two sets of weights (same tensors, shapes and float bits).
inline bool same_weights(const ModelWeights& a, const ModelWeights& b, std::string* diff = nullptr) {
  std::vector<std::pair<std::string, const Tensor*>> ta, tb;
  for_each_tensor(a, [&](const std::string& n, const Tensor& t) { ta.push_back({n, &t}); });
  for_each_tensor(b, [&](const std::string& n, const Tensor& t) { tb.push_back({n, &t}); });
  if (ta.size() != tb.size()) {
    if (diff) *diff = "tensor count " + std::to_string(ta.size()) + " vs " + std::to_string(tb.size());
    return false;
  }
  for (size_t i = 0; i < ta.size(); ++i)
    if (ta[i].first != tb[i].first || ta[i].second->shape != tb[i].second->shape ||
        ta[i].second->data.size() != tb[i].second->data.size() ||
        std::memcmp(ta[i].second->data.data(), tb[i].second->data.data(), ta[i].second->data.size() * 4) != 0) {
      if (diff) *diff = ta[i].first + " vs " + tb[i].first;
      return false;
    }
  return true;
}

}  // namespace wtest
