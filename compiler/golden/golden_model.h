// The golden interpreter: runs a QuantModel (golden/quant_model.h) token by
// token or as a prefill block, with the integer kernels of golden/kernels.h
// only -- no floating point anywhere in a run -- keeping an int8 KV cache per
// layer.  The programs the code generator emits must produce the same bits:
// every logit, every cache byte.  docs/compiler.md "The golden interpreter".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "golden/quant_model.h"

namespace clonesim::compiler::golden {

// Receives every named intermediate tensor of a run (rows of the current
// block, row-major) with the real scale of one unit, for debugging and for
// measuring the error against the float reference.  Names as FloatModel's
// recorder: embed, layers.i.attn_norm, .q, .k, .v, .q_rot, .k_rot (rotary
// models), .attn, .attn_out (T in residual units), .resid_attn (sequential
// blocks), .ffn_norm, .gate, .up, .fc1, .ffn_act (the down/fc2 input),
// .ffn_out, .resid, final_norm, logits.  The scale is planning data carried
// along; the run itself never computes with it.
class GoldenRecorder {
 public:
  virtual ~GoldenRecorder() = default;
  virtual void record(const std::string& name, const std::vector<int32_t>& values, double scale) = 0;
};

class GoldenModel {
 public:
  // Keeps a reference: the QuantModel must outlive the interpreter.
  explicit GoldenModel(const QuantModel& m);
  GoldenModel(QuantModel&&) = delete;

  // Empties the KV cache.
  void reset();
  // Positions held by the KV cache (the position the next token gets).
  int64_t position() const { return pos_; }

  // Appends the tokens at positions position().. as one block and returns the
  // int32 logits of the last one (vocab; real value = logit * m.s_logits).
  std::vector<int32_t> prefill(const std::vector<int64_t>& tokens);
  // The same, returning the logits of every token (tokens.size() x vocab).
  std::vector<std::vector<int32_t>> prefill_all(const std::vector<int64_t>& tokens);
  // Appends one token and returns its logits.
  std::vector<int32_t> decode(int64_t token);

  // The int8 cache of kept layer `layer`: position p, KV head j, element e at
  // [(p * kv_heads + j) * head_dim + e]; k after RoPE (scale s_k), v (s_v).
  const std::vector<int8_t>& k_cache(size_t layer) const { return k_[layer]; }
  const std::vector<int8_t>& v_cache(size_t layer) const { return v_[layer]; }

  void set_recorder(GoldenRecorder* r) { rec_ = r; }

 private:
  using I8 = std::vector<int8_t>;
  using I32 = std::vector<int32_t>;
  std::vector<I32> run(const std::vector<int64_t>& tokens, bool all);
  I8 norm(const I32& x, int64_t M, const QNorm& n) const;
  I8 linear8(const I8& x, int64_t M, const QLinear& l) const;
  I32 linear32(const I8& x, int64_t M, const QLinear& l) const;
  I8 rope_rows(const I8& x, int64_t M, int64_t heads, int64_t p0) const;
  I8 attention(size_t layer, const I8& q, int64_t M, int64_t p0) const;
  I32 ffn(size_t layer, const I8& x, int64_t M);
  template <class T>
  void rec(const std::string& name, const std::vector<T>& v, double scale);

  const QuantModel& m_;
  const ModelConfig& cfg_;
  int64_t pos_ = 0;
  std::vector<I8> k_, v_;
  GoldenRecorder* rec_ = nullptr;
};

}  // namespace clonesim::compiler::golden
