// The quantized model: calibration of static int8 activation scales on the
// float reference, and the plan that turns float weights, their quantisation
// and the calibrated ranges into every integer parameter the kernels
// (golden/kernels.h) need.  Floats live here only; the golden interpreter
// (golden/golden_model.h) runs a QuantModel with integers alone, and the code
// generator emits the same kernels with the same parameters.
// docs/compiler.md ("Numerics", "The golden interpreter") explains the choices.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "golden/kernels.h"
#include "model/model_config.h"
#include "weights/model_weights.h"
#include "weights/quantize.h"

namespace clonesim::compiler::golden {

// ---- calibration ----------------------------------------------------------------

// The default calibration prompt: `length` tokens (64, at most max_positions)
// drawn as std::mt19937_64(seed)() % vocab, seed 1 by default.
constexpr int64_t kCalibrationLength = 64;
std::vector<int64_t> calibration_tokens(const ModelConfig& cfg, uint64_t seed = 1,
                                        int64_t length = kCalibrationLength);

// Max |value| of every activation of the float reference over a prompt: the
// FloatModel recorder's names (embed, layers.i.attn_norm, .q, .k, .v, .q_rot,
// .k_rot, .attn, .resid_attn, .ffn_norm, .gate, .up, .fc1, .ffn_act, .resid,
// final_norm, logits, ...) plus the derived layers.i.act: max |act(gate)|
// (gated FFN) or max |act(fc1)|.
struct Calibration {
  std::vector<int64_t> tokens;
  std::map<std::string, double> absmax;
  // absmax of `name`; an Error naming it when the prompt never produced it.
  double get(const std::string& name) const;
};
// Runs FloatModel(w) on the tokens (one prefill).  Pass the unquantized
// weights (the usual choice) or fake_quantized ones.
Calibration calibrate(const ModelWeights& w, const std::vector<int64_t>& tokens);

// ---- the quantized model ----------------------------------------------------------

// Residual stream: int32 with one real scale per model, chosen so that the
// calibrated absmax of the stream maps to kResidualMax / kResidualHeadroom
// (23000): x*x of every element up to kResidualMax fits int32 (RMSNorm with
// sq_shift 0), with 2x headroom over calibration.
constexpr int64_t kResidualMax = 46000;
constexpr double kResidualHeadroom = 2.0;
// T of a linear layer that is narrowed to int8 carries kLinearFracBits extra
// bits (b) below the output's LSB: 127 * 2^16 leaves 2^8 headroom in int32.
constexpr unsigned kLinearFracBits = 16;
// Logits: the calibrated absmax maps to 2^kLogitBits (2^11 headroom in int32).
constexpr int kLogitBits = 20;

// One linear layer: x (int8, scale s_x) times W (K x N) to T (int32), where T
// is the output in units of s_y / 2^b; int8 outputs are then narrowed by b.
//   per channel (group == 0):  T = sat32(rshr(acc * mult[n], shift[n])) (+ bias)
//     -- no bias, b == 0 and an int8 output: one vrequant straight to int8
//        (linear_per_channel); else linear_per_channel_wide, then narrow.
//   grouped:  linear_grouped with mult (G x N) and shift a (+ bias), then narrow.
// mult[n] / 2^shift[n] = s_x s_w[n] / s_y * 2^b (fixed_point: 31 bits, shift <= 63);
// mult[g][n] = round(s_x s_w[g][n] / s_y * 2^(a+b)) with a + b the largest
// (<= 63) for which every multiplier fits 31 bits (b reduced below its target
// only when that sum is smaller).
struct QLinear {
  std::string name;             // canonical: "layers.0.q", ..., "lm_head"
  int64_t k = 0, n = 0;
  WeightType type = WeightType::Int8;
  int64_t group = 0;            // 0: per channel; else K rows per group (the last may be shorter)
  std::vector<int8_t> w;        // K x N row-major, one value per element (int4: -8..7, unpacked)
  std::vector<int32_t> mult;    // per channel: N; grouped: G x N
  std::vector<int32_t> shift;   // per channel: N (the vrequant table's shifts); grouped: empty
  unsigned a = 0;               // grouped: rounding shift of every group's vmul
  unsigned b = 0;               // fraction bits of T below the output's LSB (narrowing shift)
  std::vector<int32_t> bias;    // N, units of T; empty: none
  bool to_int8 = true;          // false: T is the output (residual units, logits)
  double s_x = 0, s_y = 0;      // real scales of the input and the output (planning record)

  int64_t groups() const { return group > 0 ? (k + group - 1) / group : 1; }
};

// A norm of the residual stream to int8 (scale `scale`).
struct QNorm {
  NormKind kind = NormKind::RmsNorm;
  RmsNormParams rms;            // RMSNorm (gamma folds 1/sqrt(d), Gemma's 1 + w, 1/scale)
  LayerNormParams ln;           // LayerNorm
  double scale = 0;             // real scale of the int8 output
};

struct QLayer {
  LayerDims dims;
  QNorm attn_norm, ffn_norm;    // ffn_norm unused under a parallel block
  QLinear q, k, v, o;           // q, k, v to int8; o to T in residual units
  QLinear gate, up, down;       // gated FFN (gate, up to int8; down to residual units)
  QLinear fc1, fc2;             // plain FFN (fc1 to int8; fc2 to residual units)
  double s_q = 0, s_k = 0, s_v = 0;  // q and k before and after RoPE share a scale; the KV cache holds k, v
  double s_attn = 0;            // attention output (the o projection's input): s_v, see below
  SoftmaxParams softmax;        // scores of scale s_q s_k / sqrt(head_dim): plan_softmax_wide
  // FFN activation.  Gated: a = LUT (int16 entries, scale s_act) into the
  // accumulator, m = sat8(rshr(a * up, product_shift)) at scale s_prod =
  // s_act * s_up * 2^product_shift.  Plain: int8 LUT of act(fc1) at s_act.
  std::vector<int16_t> act_table;
  double s_act = 0;
  unsigned product_shift = 0;
  double s_prod = 0;
};

struct QuantModel {
  ModelConfig cfg;              // the (pruned) config
  QuantRecipe recipe;
  int64_t position_limit = 0;   // positions the tables cover (cfg.max_positions)

  double s_res = 0;             // residual stream scale
  int64_t res_max = kResidualMax;

  // Embedding: int8 rows with a per-row scale; row t widens into the residual
  // with widen(row, embed_mult[t], embed_shift) (Gemma's sqrt(hidden) folded).
  std::vector<int8_t> embed;    // vocab x hidden
  std::vector<int32_t> embed_mult;
  unsigned embed_shift = 0;
  // Learned positions (opt, gpt2): the same form, added to the embedding (vadd).
  std::vector<int8_t> pos_embed;  // position_limit x hidden
  std::vector<int32_t> pos_mult;
  unsigned pos_shift = 0;

  // RoPE: Q14 cos/sin of one head per position (position_limit x head_dim),
  // repeated over the heads of a row; rotary_dim rotated dims, the rest pass.
  int64_t rotary_dim = 0;
  double rope_theta = 0;
  std::vector<int32_t> rope_cos, rope_sin;

  std::vector<QLayer> layers;

  // Final norm to int8 (cfg.final_norm), else a per-tensor vrequant of the
  // residual (final_mult, final_shift) to int8 of scale final_norm.scale.
  QNorm final_norm;
  int32_t final_mult = 0;
  unsigned final_shift = 0;
  QLinear lm_head;              // to int32 logits (T) of scale s_logits
  double s_logits = 0;

  // Planned from the config alone (plan_quant_shapes): every shape, form and
  // shift a program needs, but no weights, embedding or RoPE tables.
  bool shapes_only = false;
};

// Plans the integer model.  `q` is quantize(w, recipe); `cal` comes from
// calibrate().  Unsupported models (post-norm blocks) throw a one-line Error
// naming the feature.
QuantModel plan_quant_model(const ModelWeights& w, const QuantizedWeights& q, const QuantRecipe& recipe,
                            const Calibration& cal);

// The integer model's shapes and forms without weights, for programs that
// only run in timing mode (a Llama-2-7B decode step compiles in seconds
// without 7 GB of random weights): every linear has its k, n, type, group,
// shifts a and b, output form and bias (zeros when the config has biases);
// norms, softmax and activation tables are planned for representative scales
// (they set shifts, never the instruction stream's shape or timing).  `w`,
// `mult`, `shift`, the embedding and the RoPE tables are empty.
QuantModel plan_quant_shapes(const ModelConfig& cfg, const QuantRecipe& recipe);

}  // namespace clonesim::compiler::golden
