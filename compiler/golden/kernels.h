// The integer kernels of a quantized decoder layer: the arithmetic the
// generated programs perform, written once as plain C++ on the primitives of
// lib/numerics.  The golden interpreter runs a model with these; the codegen
// (compiler/lower) emits, for each kernel, the instruction sequence named in
// its comment, in the same order, so that both give the same bits.
// docs/compiler.md ("Numerics") explains the choices.
#pragma once

#include <cstdint>
#include <vector>

namespace clonesim::compiler::golden {

// A real scale r as a fixed-point multiplier and shift: r ~= m / 2^s, with
// |m| < 2^bits (31: an int32) and s in 0..63 as large as possible (most
// precision).  Throws when r is not finite or round(|r|) >= 2^bits; r == 0
// gives {0, 0}.
struct FixedPoint {
  int64_t m = 0;
  unsigned s = 0;
};
FixedPoint fixed_point(double r, unsigned bits = 31);

// ---- matrix products --------------------------------------------------------
// acc[m][n] = sum_{k in [k0, k0+kn)} x[m][k] * w[k][n], int32 two's-complement
// wrap (the matrix unit).  x is M x K (row stride K), w is K x N (row stride N).
std::vector<int32_t> matmul_i32(const std::vector<int8_t>& x, const std::vector<int8_t>& w, int64_t M, int64_t K,
                                int64_t N, int64_t k0, int64_t kn);

// Per-channel linear layer to int8:  y[m][n] = sat8(rshr(acc[m][n] * mult[n], shift[n]))
// Codegen: matmul (K slices chained with accum=1), then vrequant bmode=vec with
// the (mult, shift) table; shift clamped to 0..63 as the hardware does.
std::vector<int8_t> linear_per_channel(const std::vector<int8_t>& x, const std::vector<int8_t>& w, int64_t M,
                                       int64_t K, int64_t N, const std::vector<int32_t>& mult,
                                       const std::vector<int32_t>& shift);

// Group-wise linear layer to int32 T (K groups of `group`, the last may be shorter):
//   P_g = sat32(rshr(acc_g * mult[g][n], a))        (vmul, b = the group's multipliers)
//   T = P_0;  T = sat32(T + P_g) for g = 1, 2, ...  (vadd, in group order)
//   T = sat32(T + bias[n])  when bias is not empty  (vadd)
// mult is G x N row-major.
std::vector<int32_t> linear_grouped(const std::vector<int8_t>& x, const std::vector<int8_t>& w, int64_t M, int64_t K,
                                    int64_t N, int64_t group, const std::vector<int32_t>& mult, unsigned a,
                                    const std::vector<int32_t>& bias);

// ---- element-wise ------------------------------------------------------------
// int32 -> int8: sat8(rshr(t, b))                      (vmov acc -> sp)
std::vector<int8_t> narrow(const std::vector<int32_t>& t, unsigned b);
// Residual add: r = sat32(r + t)                        (vadd acc)
void residual_add(std::vector<int32_t>& r, const std::vector<int32_t>& t);

// ---- RMSNorm of one int32 row (the residual stream) to int8 ------------------
// With x the int32 row of d elements:
//   q = sat32(rshr(x * x, sq_shift))                 vmul    x, x         -> acc
//   S = sat32(rshr(sum q, sum_shift))                vredsum q            -> acc scalar
//   S = sat32(S + eps)                               vadd    S, imm eps
//   r = sat32(rsqrt(S, rs_shift))                    vrsqrt  S            -> acc scalar
//   u = sat32(rshr(x * r, u_shift))                  vmul    x, scalar r  -> acc
//   y = sat8(rshr(u * gamma, out_shift))             vmul    u, gamma     -> sp
// The mean's 1/d is a constant factor of 1/rms: it is folded into gamma, so S
// keeps every bit the sum has above sum_shift.
struct RmsNormParams {
  unsigned sq_shift = 0, sum_shift = 0, rs_shift = 0, u_shift = 0, out_shift = 0;
  int32_t eps = 0;
  std::vector<int32_t> gamma;  // d multipliers (int32, in the accumulator)
};
std::vector<int8_t> rmsnorm(const std::vector<int32_t>& x, const RmsNormParams& p);

// Plans RMSNorm for a residual of real scale s_x whose elements satisfy
// |x| <= x_max (integer), output scale s_y and weights g (real; the caller
// passes 1 + w for Gemma): no intermediate saturates for any such row.
// Precision: with x_max <= 46340 (x*x fits int32, sq_shift = 0) a row of rms
// r_int keeps about log2(r_int^2 * d / 2^sum_shift) / 2 bits in 1/rms.
RmsNormParams plan_rmsnorm(const std::vector<double>& g, double eps, double s_x, double s_y, int64_t x_max);

// ---- attention of one query row over n positions ----------------------------
// Softmax with deferred normalisation: the probabilities stay relative to the
// row's maximum (int8, 127 = the maximum), so a flat distribution over a long
// context loses nothing; the sum divides the value product afterwards.
//   mx = max s                                    vredmax  s                 -> acc scalar
//   d  = sat8(rshr(s - mx, d_shift))              vsub     s, scalar mx       -> sp
//   e  = sat8(EXP[d + 128])                       vlut     d, exp table       -> sp
//   S  = sum e                                    vredsum  e                 -> acc scalar
//   iS = sat32(recip(S, recip_shift))             vrecip   S                 -> acc scalar
//   o  = e . V  (int32, 1 x n times n x hd)       matmul   act e, weights V  -> acc
//   y  = sat8(rshr(o * iS, recip_shift))          vmul     o, scalar iS      -> sp
// The output has the values' scale (a convex combination of them).
struct SoftmaxParams {
  unsigned d_shift = 0;      // scores (int32, scale s_s) to LUT steps of s_s * 2^d_shift
  unsigned recip_shift = 0;  // iS = 2^recip_shift / S
  std::vector<int16_t> exp_table;  // 256 entries: round(127 * exp((j - 128) * step)), j = 0..255
};
// Plans the table for scores of real scale s_s: the LUT step is s_s * 2^d_shift,
// the power of two closest to `step` (default 1/16: the table spans e^-8).
SoftmaxParams plan_softmax(double s_s, double step = 1.0 / 16);
// One row: scores s (n int32), values v (n x hd int8, row-major).
std::vector<int8_t> attention_row(const std::vector<int32_t>& s, const std::vector<int8_t>& v, int64_t hd,
                                  const SoftmaxParams& p);

// ---- look-up-table activation (SiLU, GELU, ReLU, exp) -------------------------
// y = sat8(LUT[sat8(x) + 128])                         vlut x -> sp
// Table of f for input scale s_in and output scale s_out.
std::vector<int16_t> activation_table(double (*f)(double), double s_in, double s_out);
std::vector<int8_t> lut(const std::vector<int8_t>& x, const std::vector<int16_t>& table);

// ---- element-wise product of two int8 vectors to int8 ------------------------
// y = sat8(rshr(a * b, shift))                         vmul a, b -> sp
std::vector<int8_t> mul8(const std::vector<int8_t>& a, const std::vector<int8_t>& b, unsigned shift);

// ---- rotary embedding of heads of `hd` (rotary over all of hd) ---------------
//   c = x * COS          (int32, Q14 tables)            vmul  x, cos  -> acc
//   r = vrot(x, hd / 2)                                 vrot  x       -> sp
//   t = r * SIN                                         vmul  r, sin  -> acc
//   y = sat8(rshr(c + t, 14))                           vadd  c, t    -> sp, shift 14
// cos/sin are per element of the row (the tables repeat per head).
std::vector<int8_t> rope(const std::vector<int8_t>& x, int64_t hd, const std::vector<int32_t>& cos_q14,
                         const std::vector<int32_t>& sin_q14);
// The Q14 tables of position `pos` for `heads` heads of `hd` (rotate-half pairs
// (i, i + hd/2) share the angle pos * theta^(-2i/hd)).
void rope_tables(int64_t pos, int64_t heads, int64_t hd, double theta, std::vector<int32_t>& cos_q14,
                 std::vector<int32_t>& sin_q14);

// ==== Kernels added for the golden interpreter (compiler/golden/golden_model.h) ====

// ---- per-channel linear layer to int32 T --------------------------------------
//   acc = sum_k x[m][k] w[k][n]                      matmul (K slices chained with accum=1)
//   T = sat32(rshr(acc * mult[n], shift[n]))         vrequant bmode=vec, table (mult, shift), dspace=acc
//   T = sat32(T + bias[n])  when bias is not empty   vadd T, bias (acc)
// shift clamped to 0..63 as the hardware's table does.  T is then either the
// output (residual units, logits) or narrowed with `narrow`.
std::vector<int32_t> linear_per_channel_wide(const std::vector<int8_t>& x, const std::vector<int8_t>& w, int64_t M,
                                             int64_t K, int64_t N, const std::vector<int32_t>& mult,
                                             const std::vector<int32_t>& shift, const std::vector<int32_t>& bias);

// ---- per-tensor requantisation int32 -> int8 ---------------------------------
// y = sat8(rshr(x * m, s))                            vrequant bmode=0 (imm m, shift s), acc -> sp
std::vector<int8_t> requant8(const std::vector<int32_t>& x, int32_t m, unsigned s);

// ---- widening an int8 row into the residual stream (embedding lookup) ---------
// x = sat32(rshr(e * mult, shift))                    vmul e (sp), scalar mult (acc) -> acc, shift
// mult is the row's (token's) multiplier, read from a per-row table.
std::vector<int32_t> widen(const std::vector<int8_t>& e, int32_t mult, unsigned shift);

// ---- LayerNorm of one int32 row to int8 ---------------------------------------
// With x the int32 row of d elements:
//   S1 = sat32(rshr(sum x, sum_shift))               vredsum x            -> acc scalar
//   mu = sat32(rshr(S1 * inv_d, inv_d_shift))        vmul    S1, imm inv_d -> acc scalar
//   c  = sat32(x - mu)                               vsub    x, scalar mu -> acc
// then RMSNorm's steps on c (rms: sq_shift .. u_shift, gamma), except that the
// gamma product stays in the accumulator with beta_shift extra bits:
//   v  = sat32(rshr(u * gamma, rms.out_shift))       vmul    u, gamma     -> acc
//   w  = sat32(v + beta)                             vadd    v, beta      -> acc
//   y  = sat8(rshr(w, beta_shift))                   vmov    w            -> sp, shift beta_shift
struct LayerNormParams {
  unsigned sum_shift = 0;
  int32_t inv_d = 0;  // fixed-point 2^sum_shift / d
  unsigned inv_d_shift = 0;
  RmsNormParams rms;           // planned for c, output unit s_y / 2^beta_shift
  std::vector<int32_t> beta;   // d, units of s_y / 2^beta_shift
  unsigned beta_shift = 0;
};
std::vector<int8_t> layernorm(const std::vector<int32_t>& x, const LayerNormParams& p);
// Plans LayerNorm for a residual of real scale s_x with |x| <= x_max, output
// scale s_y, weights g and biases b (real; b may be empty): |c| <= 2 x_max is
// planned for (the mean lies within the row's range), beta_shift = 8.
LayerNormParams plan_layernorm(const std::vector<double>& g, const std::vector<double>& b, double eps, double s_x,
                               double s_y, int64_t x_max);

// ---- softmax parameters for long rows --------------------------------------------
// plan_softmax(s_s, step) with the largest reciprocal shift that keeps
// iS = recip(S, recip_shift) below 2^31 for every S >= 127 (the row maximum
// alone contributes EXP[128] = 127): recip_shift = 37, so 1/S keeps at least
// 17 bits up to S = 4095 * 127.  The attention_row product o * iS stays below
// 128 * 2^37 (|o| <= 128 S).
SoftmaxParams plan_softmax_wide(double s_s, double step = 1.0 / 16);

// ---- LUT activation into the accumulator (int16 precision) --------------------
// y = LUT[sat8(x) + 128]                              vlut x -> acc (the int16 entry, no int8 saturation)
std::vector<int32_t> lut_wide(const std::vector<int8_t>& x, const std::vector<int16_t>& table);
// ---- product of an int32 and an int8 vector to int8 ---------------------------
// y = sat8(rshr(a * b, shift))                        vmul a (acc), b (sp) -> sp
std::vector<int8_t> mul_wide(const std::vector<int32_t>& a, const std::vector<int8_t>& b, unsigned shift);

// ---- rotary embedding on the first rd dims of each head (partial rotary) -------
// Heads of hd; pairs (i, i + rd/2), i < rd/2, rotate; dims rd..hd-1 pass through.
//   c = x * COS                                  vmul  x, cos -> acc      (COS = 2^14 on pass-through dims)
//   r = vrot(x[head, 0:rd], rd / 2)              vrot  per head, len rd -> sp
//   t = r * SIN                                  vmul  r, sin -> acc      (SIN = 0 on pass-through dims)
//   y = sat8(rshr(c + t, 14))                    vadd  c, t -> sp, shift 14
// With rd == hd this is `rope` bit for bit.
std::vector<int8_t> rope_partial(const std::vector<int8_t>& x, int64_t hd, int64_t rd,
                                 const std::vector<int32_t>& cos_q14, const std::vector<int32_t>& sin_q14);
// The Q14 tables of position `pos` for ONE head of hd with rd rotated dims:
// angle pos * theta^(-2i/rd) for i < rd/2 (dims i and i + rd/2), cos 2^14 and
// sin 0 for dims >= rd.  With rd == hd: rope_tables(pos, 1, hd, theta, ..).
void rope_tables_partial(int64_t pos, int64_t hd, int64_t rd, double theta, std::vector<int32_t>& cos_q14,
                         std::vector<int32_t>& sin_q14);

}  // namespace clonesim::compiler::golden
