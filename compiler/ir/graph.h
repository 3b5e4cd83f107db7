// The graph IR: the decoder of a (pruned, quantised) model for one phase --
// a prefill of N tokens or one decode step at KV position p -- as tensors
// (name, shape, dtype, role) and ops (kind, inputs, outputs, attributes) in
// execution order.  docs/models.md "Graph IR" lists the ops, their operands,
// shapes and attributes.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "model/model_config.h"

namespace clonesim::compiler::ir {

enum class DType { F32, F16, Int32, Int16, Int8, Int4 };
const char* to_string(DType t);
int dtype_bits(DType t);

// What a tensor is: graph input, a stored parameter (weight matrix, its
// scales, a bias, a norm weight/bias), the KV cache (state kept between
// phases), an intermediate value, or the graph's output.
enum class Role { Input, Weight, Scale, Bias, NormParam, KvCache, Activation, Output };
const char* to_string(Role r);

struct Tensor {
  std::string name;
  std::vector<int64_t> shape;
  DType dtype = DType::Int8;
  Role role = Role::Activation;

  int64_t elements() const;
  // Stored bytes: int4 packed two per byte, rounded up.
  int64_t bytes() const;
  // Parameters (weight matrices, biases and norm weights; not scales).
  bool is_param() const { return role == Role::Weight || role == Role::Bias || role == Role::NormParam; }
  bool is_stored() const { return is_param() || role == Role::Scale; }
};

using TensorId = int32_t;

enum class OpKind {
  Embedding,     // (tokens, table, table_scale) -> x
  PosEmbedding,  // (table, table_scale) -> positions' rows
  Add,           // (a, b) -> a + b
  Mul,           // (a, b) -> a * b (elementwise)
  RmsNorm,       // (x, weight) -> y
  LayerNorm,     // (x, weight, bias) -> y
  Linear,        // (x, weight, scale[, bias]) -> x @ weight (+ bias)
  Rope,          // (x) -> x rotated
  KvAppend,      // (new, cache) -> the cache rows attended to, after the write
  AttnScores,    // (q, k_ctx) -> masked, scaled q.k per head
  Softmax,       // (scores) -> probabilities along the last axis
  AttnContext,   // (probs, v_ctx) -> per-head weighted sums of v
  Activation,    // (x) -> fn(x)
  TakeLast,      // (x) -> the last row
};
const char* to_string(OpKind k);

using AttrValue = std::variant<int64_t, double, std::string>;
struct Attr {
  std::string name;
  AttrValue value;
};

struct Op {
  OpKind kind = OpKind::Add;
  std::string name;  // unique, e.g. "layers.3.q_proj"
  std::vector<TensorId> inputs;
  std::vector<TensorId> outputs;
  std::vector<Attr> attrs;

  bool has(const std::string& attr) const;
  // The attribute's value; an Error when absent or of another type.
  int64_t attr_int(const std::string& attr) const;
  double attr_real(const std::string& attr) const;
  const std::string& attr_str(const std::string& attr) const;
};

// What the graph computes: `tokens` new tokens at positions start ..
// start + tokens - 1, with `start` positions already in the KV cache.
struct Phase {
  enum class Kind { Prefill, Decode };
  Kind kind = Kind::Prefill;
  int64_t tokens = 1;
  int64_t start = 0;
  bool all_logits = false;  // prefill: logits for every token (else the last only)

  // N tokens at positions 0..N-1.
  static Phase prefill(int64_t n, bool all_logits = false);
  // One token at KV position p: written at p, attends to 0..p.
  static Phase decode(int64_t position);
  int64_t context() const { return start + tokens; }  // positions in the cache afterwards
};

struct Graph {
  std::string model;
  Phase phase;
  QuantRecipe recipe;
  std::vector<Tensor> tensors;
  std::vector<Op> ops;  // in execution order

  TensorId add_tensor(Tensor t);  // an Error on a duplicate name
  TensorId find(const std::string& name) const;  // -1 when absent
  const Tensor& tensor(TensorId id) const;
  const Tensor& tensor(const std::string& name) const;  // an Error when absent
  const Op* find_op(const std::string& name) const;     // nullptr when absent
  const Op& op(const std::string& name) const;          // an Error when absent

  // Totals over the stored tensors: parameters (elements of weights, biases
  // and norm parameters) and bytes (those plus the scales) -- the same figures
  // as model_stats() -- and the KV cache's bytes.
  int64_t param_count() const;
  int64_t weight_bytes() const;
  int64_t kv_cache_bytes() const;
};

// The decoder graph of `cfg` (its per-layer dims in cfg.layer: pruned heads
// and FFN channels, dropped layers) under `recipe` for `phase`.  An Error
// when the phase does not fit max_positions or the model is inconsistent.
Graph build_graph(const ModelConfig& cfg, const QuantRecipe& recipe, const Phase& phase);

// Structural checks: operand ids in range, every activation produced once
// before it is read, op names unique, the operand counts and shapes each op
// kind requires.  Throws an Error naming the op.
void verify(const Graph& g);

std::string shape_string(const std::vector<int64_t>& shape);  // "[16,4096]"
// One header line, one line per op ("out:int8[16,4096] = linear(x:int8[16,4096], ...) {group=128}"),
// one totals line.
std::string to_string(const Graph& g);

}  // namespace clonesim::compiler::ir
