// Weight quantisation (docs/weights.md, "Quantisation"): symmetric, no zero
// point.  int8 values are -127..127, int4 values -7..7 (symmetric: -8 is never
// produced, though the int4 layout can hold it).  One scale per output channel
// (recipe group 0) or per (K-group, output channel); a group's scale is
// float(absmax / qmax) and q = clamp(round(w / scale), -qmax, qmax), rounding
// half away from zero; an all-zero group has scale 1 and q = 0.  So
// |w - q * scale| <= scale / 2 for every weight.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/model_config.h"
#include "weights/model_weights.h"

namespace clonesim::compiler {

// 127 (Int8) or 7 (Int4).
int64_t qmax(WeightType t);

// One quantised K x N weight.
struct QuantTensor {
  std::string name;                 // canonical linear name: "layers.0.q", ..., "lm_head"
  WeightType type = WeightType::Int8;
  int64_t k = 0, n = 0;
  int64_t group = 0;                // K rows per scale group; == k for one scale per output channel
  std::vector<int8_t> q;            // k x n row-major, one value per element (unpacked)
  std::vector<float> scale;         // groups() x n row-major: scale of rows [g*group, (g+1)*group), column c

  int64_t groups() const { return group > 0 ? (k + group - 1) / group : 0; }
  int8_t at(int64_t r, int64_t c) const { return q[size_t(r * n + c)]; }
  float scale_at(int64_t r, int64_t c) const { return scale[size_t((r / group) * n + c)]; }
  // Bytes of the values in the accelerator's layout: k*n (int8), ceil(k*n / 2) (int4).
  int64_t weight_bytes() const;
  // Bytes of the scales stored as fp32: 4 * groups() * n.
  int64_t scale_bytes() const { return 4 * groups() * n; }
  // The values in the accelerator's layout (docs/isa.md, matmul): k x n
  // row-major, element k*n+c; int8 one byte each, int4 packed by pack_int4.
  std::vector<uint8_t> packed() const;
};

// Quantises a K x N tensor.  group 0 (or >= K) = one scale per output
// channel; otherwise K-groups of `group` rows (the last may be shorter).
QuantTensor quantize_tensor(const std::string& name, const Tensor& w, WeightType type, int64_t group);

// q * scale, K x N.
Tensor dequantize(const QuantTensor& qt);

// int4 packing, the accelerator's layout: two per byte, low nibble first
// (element 2j in bits 3..0 of byte j, element 2j+1 in bits 7..4); an odd count
// leaves the last high nibble 0.  Values must be -8..7.
int64_t int4_bytes(int64_t count);
std::vector<uint8_t> pack_int4(const int8_t* values, size_t count);
inline std::vector<uint8_t> pack_int4(const std::vector<int8_t>& v) { return pack_int4(v.data(), v.size()); }
// Sign-extended values back (count of them).
std::vector<int8_t> unpack_int4(const uint8_t* bytes, size_t count);

struct QuantizedWeights {
  QuantRecipe recipe;
  std::vector<QuantTensor> tensors;  // every linear in linears() order, then "lm_head"

  const QuantTensor& get(const std::string& name) const;  // throws clonesim::Error when absent
  int64_t weight_bytes() const;   // sum over tensors
  int64_t scale_bytes() const;
};

// Quantises every linear of the model by the recipe, and the LM head (the
// embedding transposed when tied).  Embedding and position tables, norms and
// biases stay float.
QuantizedWeights quantize(const ModelWeights& w, const QuantRecipe& recipe);

// The weights with every linear and the LM head replaced by their dequantised
// values (a tied LM head becomes an untied one: the embedding lookup stays
// float, as in the compiled model): run FloatModel on it to measure the
// weight quantisation error alone.
ModelWeights fake_quantized(const ModelWeights& w, const QuantizedWeights& q);

}  // namespace clonesim::compiler
