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

}  // namespace clonesim::compiler::golden
