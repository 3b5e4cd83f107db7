// The float reference (docs/weights.md, "Float reference"): a decoder forward
// pass in double precision over float weights, for every family, with a KV
// cache.  The compiled integer model is judged against it, and its recorder
// gives the activation ranges that calibrate static int8 scales.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "weights/model_weights.h"

namespace clonesim::compiler {

// Receives every named intermediate activation of every position, once per
// position, as it is computed.  Names (i = kept layer index 0..n-1):
//   embed                      token embedding (* sqrt(hidden), + position)
//   layers.i.attn_norm         input norm output (also the FFN input under a parallel block)
//   layers.i.q, .k, .v         projection outputs (with bias), before RoPE
//   layers.i.q_rot, .k_rot     after RoPE (rotary models only); k_rot (else k) and v are what the KV cache holds
//   layers.i.scores            scaled scores q.k / sqrt(head_dim) of every head over positions 0..p (causal)
//   layers.i.attn              softmax-weighted values, heads concatenated (the o projection's input)
//   layers.i.attn_out          o projection output (with bias)
//   layers.i.resid_attn        residual stream after attention (sequential blocks only)
//   layers.i.ffn_norm          post-attention norm output (sequential blocks only)
//   layers.i.gate, .up         gated FFN projections (with bias)
//   layers.i.fc1               ungated FFN first projection (with bias), before the activation
//   layers.i.ffn_act           act(gate) * up, or act(fc1): the down/fc2 input
//   layers.i.ffn_out           down/fc2 output (with bias)
//   layers.i.resid             residual stream after the layer
//   final_norm                 final norm output (when the model has one)
//   logits                     LM head output
class ActivationRecorder {
 public:
  virtual ~ActivationRecorder() = default;
  virtual void record(const std::string& name, const double* values, size_t count) = 0;
};

// Keeps max |value| per name over everything recorded.
class AbsMaxRecorder : public ActivationRecorder {
 public:
  void record(const std::string& name, const double* values, size_t count) override;
  std::map<std::string, double> absmax;
};

class FloatModel {
 public:
  // Keeps a reference: the weights must outlive the model.
  explicit FloatModel(const ModelWeights& w);
  FloatModel(ModelWeights&&) = delete;

  // Empties the KV cache.
  void reset();
  // Positions held by the KV cache (the position the next token gets).
  int64_t position() const { return pos_; }

  // Appends the tokens at positions position().. and returns the logits of
  // each of them (tokens.size() x vocab).
  std::vector<std::vector<double>> prefill(const std::vector<int64_t>& tokens);
  // Appends one token and returns its logits.
  std::vector<double> decode(int64_t token);

  void set_recorder(ActivationRecorder* r) { rec_ = r; }

  // The cached keys (after RoPE) / values of a layer: position p, kv head j,
  // element d at [p * kv_heads * head_dim + j * head_dim + d].
  const std::vector<double>& k_cache(size_t layer) const { return k_[layer]; }
  const std::vector<double>& v_cache(size_t layer) const { return v_[layer]; }

 private:
  using Vec = std::vector<double>;
  Vec step(int64_t token);
  Vec norm(const Vec& x, const Norm& n) const;
  Vec linear(const Vec& x, const Linear& l) const;
  Vec ffn(size_t layer, const Vec& x);
  void rope(Vec& x, int64_t heads, int64_t pos) const;
  void rec(const std::string& name, const Vec& v);
  void rec(size_t layer, const char* name, const Vec& v);

  const ModelWeights& w_;
  const ModelConfig& cfg_;
  std::vector<LayerDims> dims_;
  std::vector<double> inv_freq_;     // RoPE: theta^(-2i / rotary_dim), i < rotary_dim / 2
  int64_t pos_ = 0;
  std::vector<Vec> k_, v_;           // KV cache per layer
  ActivationRecorder* rec_ = nullptr;
};

// The activations of the float reference.
double silu(double x);
double gelu(double x);        // exact: 0.5 x (1 + erf(x / sqrt 2))
double gelu_tanh(double x);   // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
double activation(Activation a, double x);

}  // namespace clonesim::compiler
