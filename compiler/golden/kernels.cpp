#include "golden/kernels.h"

#include <algorithm>
#include <climits>
#include <cmath>

#include "common/error.h"
#include "common/strf.h"
#include "numerics/numerics.h"

namespace clonesim::compiler::golden {

using num::rshr;
using num::sat32;
using num::sat8;

FixedPoint fixed_point(double r, unsigned bits) {
  const double lim = std::ldexp(1.0, int(bits));  // |m| < 2^bits
  if (!std::isfinite(r) || std::fabs(std::nearbyint(r)) >= lim)
    throw Error(strf("fixed_point: scale %g does not fit a multiplier below 2^%u", r, bits));
  if (r == 0) return {};
  // largest s <= 63 with |round(r * 2^s)| < lim
  int s = 63;
  while (s > 0 && std::fabs(std::nearbyint(std::ldexp(r, s))) >= lim) --s;
  return {int64_t(std::llround(std::ldexp(r, s))), unsigned(s)};
}

std::vector<int32_t> matmul_i32(const std::vector<int8_t>& x, const std::vector<int8_t>& w, int64_t M, int64_t K,
                                int64_t N, int64_t k0, int64_t kn) {
  std::vector<int32_t> acc(size_t(M * N), 0);
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      uint32_t s = 0;  // wraps like the array's 32-bit adders
      for (int64_t k = k0; k < k0 + kn; ++k) s += uint32_t(int32_t(x[size_t(m * K + k)]) * w[size_t(k * N + n)]);
      acc[size_t(m * N + n)] = int32_t(s);
    }
  return acc;
}

std::vector<int8_t> linear_per_channel(const std::vector<int8_t>& x, const std::vector<int8_t>& w, int64_t M,
                                       int64_t K, int64_t N, const std::vector<int32_t>& mult,
                                       const std::vector<int32_t>& shift) {
  const std::vector<int32_t> acc = matmul_i32(x, w, M, K, N, 0, K);
  std::vector<int8_t> y(size_t(M * N));
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      const int64_t s = std::clamp<int64_t>(shift[size_t(n)], 0, 63);
      y[size_t(m * N + n)] = int8_t(sat8(rshr(int64_t(acc[size_t(m * N + n)]) * mult[size_t(n)], unsigned(s))));
    }
  return y;
}

std::vector<int32_t> linear_grouped(const std::vector<int8_t>& x, const std::vector<int8_t>& w, int64_t M, int64_t K,
                                    int64_t N, int64_t group, const std::vector<int32_t>& mult, unsigned a,
                                    const std::vector<int32_t>& bias) {
  std::vector<int32_t> t(size_t(M * N), 0);
  for (int64_t g = 0, k0 = 0; k0 < K; ++g, k0 += group) {
    const std::vector<int32_t> acc = matmul_i32(x, w, M, K, N, k0, std::min(group, K - k0));
    for (int64_t m = 0; m < M; ++m)
      for (int64_t n = 0; n < N; ++n) {
        const size_t i = size_t(m * N + n);
        const int64_t p = sat32(rshr(int64_t(acc[i]) * mult[size_t(g * N + n)], a));
        t[i] = int32_t(g == 0 ? p : sat32(int64_t(t[i]) + p));
      }
  }
  if (!bias.empty())
    for (int64_t m = 0; m < M; ++m)
      for (int64_t n = 0; n < N; ++n) {
        const size_t i = size_t(m * N + n);
        t[i] = int32_t(sat32(int64_t(t[i]) + bias[size_t(n)]));
      }
  return t;
}

std::vector<int8_t> narrow(const std::vector<int32_t>& t, unsigned b) {
  std::vector<int8_t> y(t.size());
  for (size_t i = 0; i < t.size(); ++i) y[i] = int8_t(sat8(rshr(t[i], b)));
  return y;
}

void residual_add(std::vector<int32_t>& r, const std::vector<int32_t>& t) {
  for (size_t i = 0; i < r.size(); ++i) r[i] = int32_t(sat32(int64_t(r[i]) + t[i]));
}

std::vector<int8_t> rmsnorm(const std::vector<int32_t>& x, const RmsNormParams& p) {
  int64_t sum = 0;  // the reduction is exact in 64 bits
  for (int32_t v : x) sum += sat32(rshr(int64_t(v) * v, p.sq_shift));
  int64_t S = sat32(rshr(sum, p.sum_shift));
  S = sat32(S + p.eps);
  const int64_t r = sat32(num::rsqrt(S, p.rs_shift));
  std::vector<int8_t> y(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    const int64_t u = sat32(rshr(int64_t(x[i]) * r, p.u_shift));
    y[i] = int8_t(sat8(rshr(u * p.gamma[i], p.out_shift)));
  }
  return y;
}

namespace {
unsigned ceil_log2(double v) { return v <= 1 ? 0 : unsigned(std::ceil(std::log2(v))); }
}  // namespace

RmsNormParams plan_rmsnorm(const std::vector<double>& g, double eps, double s_x, double s_y, int64_t x_max) {
  const size_t d = g.size();
  if (d == 0 || s_x <= 0 || s_y <= 0 || x_max < 1) throw Error("plan_rmsnorm: empty row or non-positive scale");
  RmsNormParams p;
  const double kMax = 2147483647.0;
  // x*x of the largest element fits int32 after sq_shift; the sum of d of
  // them after sum_shift.
  const double qmax = double(x_max) * double(x_max);
  p.sq_shift = ceil_log2(qmax / kMax);
  const double qmax_s = std::ldexp(qmax, -int(p.sq_shift)) + 1;
  p.sum_shift = ceil_log2(double(d) * qmax_s / kMax);
  const unsigned e = p.sq_shift + p.sum_shift;  // S = sum(x^2) / 2^e, x in units of s_x
  p.eps = int32_t(std::min(kMax, std::nearbyint(eps * double(d) / (s_x * s_x) / std::ldexp(1.0, int(e)))));
  p.rs_shift = 30;  // r = 2^30 / sqrt(S) <= 2^30 for every S >= 1
  // x * r = 2^(30 + e/2) * x / (rms_int * sqrt(d)) and |x| / rms_int <= sqrt(d)
  p.u_shift = ceil_log2(std::ldexp(std::pow(2.0, double(e) / 2.0), int(p.rs_shift)) / kMax);
  // the real value of u is x / rms * 2^(u_shift - rs_shift - e/2) / sqrt(d)
  const double unit =
      std::ldexp(1.0, int(p.u_shift) - int(p.rs_shift)) / std::pow(2.0, double(e) / 2.0) * std::sqrt(double(d));
  double gmax = 0;
  for (double v : g) gmax = std::max(gmax, std::fabs(v * unit / s_y));
  // u * gamma < 2^62: gamma < 2^31 suffices
  p.out_shift = 0;
  while (p.out_shift < 62 && gmax * std::ldexp(1.0, int(p.out_shift) + 1) < kMax) ++p.out_shift;
  p.gamma.resize(d);
  for (size_t i = 0; i < d; ++i)
    p.gamma[i] = int32_t(std::llround(g[i] * unit / s_y * std::ldexp(1.0, int(p.out_shift))));
  return p;
}

SoftmaxParams plan_softmax(double s_s, double step) {
  if (!(s_s > 0) || !(step > 0)) throw Error("plan_softmax: scales must be positive");
  SoftmaxParams p;
  // LUT step s_s * 2^d_shift: the power of two closest to step / s_s (>= 1)
  const double ratio = step / s_s;
  p.d_shift = ratio <= 1 ? 0 : unsigned(std::min(63.0, std::nearbyint(std::log2(ratio))));
  const double lut_step = s_s * std::ldexp(1.0, int(p.d_shift));
  p.exp_table.resize(256);
  for (int j = 0; j < 256; ++j) {
    const double v = 127.0 * std::exp(double(j - 128) * lut_step);
    p.exp_table[size_t(j)] = int16_t(std::min(127.0, std::nearbyint(v)));  // entries > 128 are never used
  }
  // iS = 2^recip_shift / S with S <= n * 127; o = e . V <= 127 * 128 * n:
  // o * iS <= 2^recip_shift * 128, far inside int64 for recip_shift <= 48.
  p.recip_shift = 24;
  return p;
}

std::vector<int8_t> attention_row(const std::vector<int32_t>& s, const std::vector<int8_t>& v, int64_t hd,
                                  const SoftmaxParams& p) {
  const size_t n = s.size();
  int64_t mx = INT64_MIN;
  for (int32_t x : s) mx = std::max<int64_t>(mx, x);
  std::vector<int8_t> e(n);
  int64_t S = 0;
  for (size_t i = 0; i < n; ++i) {
    const int64_t d = sat8(rshr(int64_t(s[i]) - mx, p.d_shift));
    e[i] = int8_t(sat8(p.exp_table[size_t(d + 128)]));
    S += e[i];
  }
  S = sat32(S);
  const int64_t iS = sat32(num::recip(S, p.recip_shift));
  std::vector<int8_t> y(static_cast<size_t>(hd));
  for (int64_t j = 0; j < hd; ++j) {
    uint32_t o = 0;  // the matrix unit's int32 wrap (cannot overflow for n <= 4095)
    for (size_t i = 0; i < n; ++i) o += uint32_t(int32_t(e[i]) * v[i * size_t(hd) + size_t(j)]);
    y[size_t(j)] = int8_t(sat8(rshr(int64_t(int32_t(o)) * iS, p.recip_shift)));
  }
  return y;
}

std::vector<int16_t> activation_table(double (*f)(double), double s_in, double s_out) {
  std::vector<int16_t> t(256);
  for (int j = 0; j < 256; ++j)
    t[size_t(j)] = int16_t(std::clamp(std::nearbyint(f(double(j - 128) * s_in) / s_out), -32768.0, 32767.0));
  return t;
}

std::vector<int8_t> lut(const std::vector<int8_t>& x, const std::vector<int16_t>& table) {
  std::vector<int8_t> y(x.size());
  for (size_t i = 0; i < x.size(); ++i) y[i] = int8_t(sat8(table[size_t(int(x[i]) + 128)]));
  return y;
}

std::vector<int8_t> mul8(const std::vector<int8_t>& a, const std::vector<int8_t>& b, unsigned shift) {
  std::vector<int8_t> y(a.size());
  for (size_t i = 0; i < a.size(); ++i) y[i] = int8_t(sat8(rshr(int64_t(a[i]) * b[i], shift)));
  return y;
}

std::vector<int8_t> rope(const std::vector<int8_t>& x, int64_t hd, const std::vector<int32_t>& cos_q14,
                         const std::vector<int32_t>& sin_q14) {
  const size_t n = x.size(), h = size_t(hd / 2);
  std::vector<int8_t> y(n);
  for (size_t i = 0; i < n; ++i) {
    const size_t j = i % size_t(hd);
    const int64_t r = sat8(j < h ? -int64_t(x[i + h]) : int64_t(x[i - h]));  // vrot into the scratchpad
    const int64_t c = sat32(int64_t(x[i]) * cos_q14[i]);
    const int64_t t = sat32(r * sin_q14[i]);
    y[i] = int8_t(sat8(rshr(c + t, 14)));
  }
  return y;
}

void rope_tables(int64_t pos, int64_t heads, int64_t hd, double theta, std::vector<int32_t>& cos_q14,
                 std::vector<int32_t>& sin_q14) {
  cos_q14.assign(size_t(heads * hd), 0);
  sin_q14.assign(size_t(heads * hd), 0);
  const int64_t h = hd / 2;
  for (int64_t hh = 0; hh < heads; ++hh)
    for (int64_t j = 0; j < hd; ++j) {
      const int64_t i = j % h;
      const double ang = double(pos) * std::pow(theta, -2.0 * double(i) / double(hd));
      cos_q14[size_t(hh * hd + j)] = int32_t(std::llround(std::cos(ang) * 16384.0));
      sin_q14[size_t(hh * hd + j)] = int32_t(std::llround(std::sin(ang) * 16384.0));
    }
}

// ==== Kernels added for the golden interpreter ====

std::vector<int32_t> linear_per_channel_wide(const std::vector<int8_t>& x, const std::vector<int8_t>& w, int64_t M,
                                             int64_t K, int64_t N, const std::vector<int32_t>& mult,
                                             const std::vector<int32_t>& shift, const std::vector<int32_t>& bias) {
  std::vector<int32_t> t = matmul_i32(x, w, M, K, N, 0, K);
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      const size_t i = size_t(m * N + n);
      const int64_t s = std::clamp<int64_t>(shift[size_t(n)], 0, 63);
      int64_t v = sat32(rshr(int64_t(t[i]) * mult[size_t(n)], unsigned(s)));
      if (!bias.empty()) v = sat32(v + bias[size_t(n)]);
      t[i] = int32_t(v);
    }
  return t;
}

std::vector<int8_t> requant8(const std::vector<int32_t>& x, int32_t m, unsigned s) {
  std::vector<int8_t> y(x.size());
  for (size_t i = 0; i < x.size(); ++i) y[i] = int8_t(sat8(rshr(int64_t(x[i]) * m, s)));
  return y;
}

std::vector<int32_t> widen(const std::vector<int8_t>& e, int32_t mult, unsigned shift) {
  std::vector<int32_t> x(e.size());
  for (size_t i = 0; i < e.size(); ++i) x[i] = int32_t(sat32(rshr(int64_t(e[i]) * mult, shift)));
  return x;
}

std::vector<int8_t> layernorm(const std::vector<int32_t>& x, const LayerNormParams& p) {
  int64_t sum = 0;  // exact in 64 bits
  for (int32_t v : x) sum += v;
  const int64_t S1 = sat32(rshr(sum, p.sum_shift));
  const int64_t mu = sat32(rshr(S1 * p.inv_d, p.inv_d_shift));
  std::vector<int64_t> c(x.size());
  for (size_t i = 0; i < x.size(); ++i) c[i] = sat32(int64_t(x[i]) - mu);
  const RmsNormParams& r = p.rms;
  int64_t sq = 0;
  for (int64_t v : c) sq += sat32(rshr(v * v, r.sq_shift));
  int64_t S = sat32(rshr(sq, r.sum_shift));
  S = sat32(S + r.eps);
  const int64_t rs = sat32(num::rsqrt(S, r.rs_shift));
  std::vector<int8_t> y(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    const int64_t u = sat32(rshr(c[i] * rs, r.u_shift));
    const int64_t v = sat32(rshr(u * r.gamma[i], r.out_shift));
    const int64_t w = sat32(v + p.beta[i]);
    y[i] = int8_t(sat8(rshr(w, p.beta_shift)));
  }
  return y;
}

LayerNormParams plan_layernorm(const std::vector<double>& g, const std::vector<double>& b, double eps, double s_x,
                               double s_y, int64_t x_max) {
  const size_t d = g.size();
  if (d == 0 || s_x <= 0 || s_y <= 0 || x_max < 1) throw Error("plan_layernorm: empty row or non-positive scale");
  if (!b.empty() && b.size() != d) throw Error("plan_layernorm: bias and weight sizes differ");
  LayerNormParams p;
  const double kMax = 2147483647.0;
  p.sum_shift = ceil_log2(double(d) * double(x_max) / kMax);
  const FixedPoint inv = fixed_point(std::ldexp(1.0, int(p.sum_shift)) / double(d));
  p.inv_d = int32_t(inv.m);
  p.inv_d_shift = inv.s;
  p.beta_shift = 8;
  const double unit = s_y / std::ldexp(1.0, int(p.beta_shift));  // of v, w
  p.rms = plan_rmsnorm(g, eps, s_x, unit, 2 * x_max);
  p.beta.assign(d, 0);
  for (size_t i = 0; i < b.size(); ++i) p.beta[i] = int32_t(std::clamp(std::nearbyint(b[i] / unit), -kMax, kMax));
  return p;
}

SoftmaxParams plan_softmax_wide(double s_s, double step) {
  SoftmaxParams p = plan_softmax(s_s, step);
  p.recip_shift = 37;  // 2^37 / 127 + 1/2 < 2^31
  return p;
}

std::vector<int32_t> lut_wide(const std::vector<int8_t>& x, const std::vector<int16_t>& table) {
  std::vector<int32_t> y(x.size());
  for (size_t i = 0; i < x.size(); ++i) y[i] = table[size_t(int(x[i]) + 128)];
  return y;
}

std::vector<int8_t> mul_wide(const std::vector<int32_t>& a, const std::vector<int8_t>& b, unsigned shift) {
  std::vector<int8_t> y(a.size());
  for (size_t i = 0; i < a.size(); ++i) y[i] = int8_t(sat8(rshr(int64_t(a[i]) * b[i], shift)));
  return y;
}

std::vector<int8_t> rope_partial(const std::vector<int8_t>& x, int64_t hd, int64_t rd,
                                 const std::vector<int32_t>& cos_q14, const std::vector<int32_t>& sin_q14) {
  const size_t n = x.size(), h = size_t(rd / 2);
  std::vector<int8_t> y(n);
  for (size_t i = 0; i < n; ++i) {
    const size_t j = i % size_t(hd);
    int64_t r = 0;  // pass-through dims: SIN is 0, whatever r holds
    if (j < size_t(rd)) r = sat8(j < h ? -int64_t(x[i + h]) : int64_t(x[i - h]));  // vrot, per head
    const int64_t c = sat32(int64_t(x[i]) * cos_q14[i]);
    const int64_t t = sat32(r * sin_q14[i]);
    y[i] = int8_t(sat8(rshr(c + t, 14)));
  }
  return y;
}

void rope_tables_partial(int64_t pos, int64_t hd, int64_t rd, double theta, std::vector<int32_t>& cos_q14,
                         std::vector<int32_t>& sin_q14) {
  cos_q14.assign(size_t(hd), 16384);
  sin_q14.assign(size_t(hd), 0);
  const int64_t h = rd / 2;
  for (int64_t j = 0; j < rd; ++j) {
    const int64_t i = j % h;
    const double ang = double(pos) * std::pow(theta, -2.0 * double(i) / double(rd));
    cos_q14[size_t(j)] = int32_t(std::llround(std::cos(ang) * 16384.0));
    sin_q14[size_t(j)] = int32_t(std::llround(std::sin(ang) * 16384.0));
  }
}

}  // namespace clonesim::compiler::golden
