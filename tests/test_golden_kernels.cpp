// The integer kernels of the golden interpreter: hand-computed values and the
// error against the float operation they stand for.
#include <catch2/catch.hpp>

#include <algorithm>
#include <climits>
#include <cmath>
#include <random>

#include "common/error.h"
#include "golden/kernels.h"
#include "numerics/numerics.h"

using namespace clonesim;
using namespace clonesim::compiler::golden;

TEST_CASE("fixed_point: most precise multiplier below 2^bits", "[golden]") {
  FixedPoint f = fixed_point(0.75);  // s = 31: 1610612736 < 2^31; s = 32 would not fit
  CHECK(f.m == 1610612736);
  CHECK(f.s == 31);
  f = fixed_point(1.0 / 3.0, 15);  // s = 16: 21845.33 -> 21845 < 32768; s = 17: 43690.67 does not fit
  CHECK(f.m == 21845);
  CHECK(f.s == 16);
  f = fixed_point(-2.5, 7);  // s = 5: -80; s = 6: -160 does not fit 128
  CHECK(f.m == -80);
  CHECK(f.s == 5);
  f = fixed_point(3e-12);  // tiny: s capped at 63
  CHECK(f.s == 63);
  CHECK(f.m == std::llround(3e-12 * std::ldexp(1.0, 63)));
  CHECK(fixed_point(0.0).m == 0);
  REQUIRE_THROWS_WITH(fixed_point(300.0, 8), "fixed_point: scale 300 does not fit a multiplier below 2^8");
  REQUIRE_THROWS_WITH(fixed_point(NAN), "fixed_point: scale nan does not fit a multiplier below 2^31");
}

TEST_CASE("matmul_i32 and the per-channel linear layer, by hand", "[golden]") {
  // x: 2 x 3, w: 3 x 2
  const std::vector<int8_t> x = {1, -2, 3, 127, -128, 5};
  const std::vector<int8_t> w = {4, -1, 5, 2, -6, 7};
  const auto acc = matmul_i32(x, w, 2, 3, 2, 0, 3);
  // row 0: [1*4 - 2*5 + 3*-6, 1*-1 - 2*2 + 3*7] = [-24, 16]
  // row 1: [127*4 - 128*5 + 5*-6, -127 - 256 + 35] = [-162, -348]
  CHECK(acc == std::vector<int32_t>{-24, 16, -162, -348});
  CHECK(matmul_i32(x, w, 2, 3, 2, 1, 2) == std::vector<int32_t>{-28, 17, -670, -221});
  // y = sat8(rshr(acc * mult, shift)): channel 0 x3 >> 2, channel 1 x1 >> 0
  const auto y = linear_per_channel(x, w, 2, 3, 2, {3, 1}, {2, 0});
  // -24*3 = -72 >> 2 = -18; 16; -162*3 = -486 >> 2 = -121.5 -> -121 (half up); -348 -> -128
  CHECK(y == std::vector<int8_t>{-18, 16, -121, -128});
  // a shift outside 0..63 is clamped like the hardware's table
  CHECK(linear_per_channel(x, w, 2, 3, 2, {1, 1}, {-3, 99})[0] == -24);
}

TEST_CASE("grouped linear layer: per-group rescale, saturating sum in group order, bias", "[golden]") {
  // M = 1, K = 3 in groups of 2 (the last has 1), N = 2
  const std::vector<int8_t> x = {2, 3, -4};
  const std::vector<int8_t> w = {1, 2, 3, 4, 5, 6};  // rows k=0: (1,2), k=1: (3,4), k=2: (5,6)
  // group 0: acc = [2+9, 4+12] = [11, 16]; group 1: acc = [-20, -24]
  const std::vector<int32_t> mult = {10, 20, 3, 5};  // g0: (10, 20), g1: (3, 5)
  const auto t = linear_grouped(x, w, 1, 3, 2, 2, mult, 1, {});
  // P0 = rshr([110, 320], 1) = [55, 160]; P1 = rshr([-60, -120], 1) = [-30, -60]
  CHECK(t == std::vector<int32_t>{25, 100});
  CHECK(linear_grouped(x, w, 1, 3, 2, 2, mult, 1, {7, -1}) == std::vector<int32_t>{32, 99});
  // saturation happens per step: P0 saturates at INT32_MAX, then P1 is added
  const std::vector<int32_t> big = {2147483647, 1, 1, 1};
  const auto s = linear_grouped(x, w, 1, 3, 2, 2, big, 0, {});
  CHECK(s[0] == 2147483647 - 20);  // P0 = sat32(11 * (2^31-1)) = 2^31-1, then + P1 = -20
  CHECK(narrow({255, -300, 5}, 1) == std::vector<int8_t>{127, -128, 3});
  std::vector<int32_t> r = {2147483000, -5};
  residual_add(r, {1000, 7});
  CHECK(r == std::vector<int32_t>{2147483647, 2});
}

TEST_CASE("RMSNorm: integer kernel within 1 LSB of float on typical rows", "[golden]") {
  std::mt19937_64 rng(42);
  for (int d : {64, 768, 4096}) {
    std::vector<double> g(d);
    for (int i = 0; i < d; ++i) g[i] = 0.5 + double(rng() % 1000) / 1000.0;  // 0.5 .. 1.5
    const double s_x = 1.0 / 4096, s_y = 1.0 / 32;  // residual Q12, output int8 scale 1/32
    const int64_t x_max = 46000;  // calibrated: x*x fits int32
    const RmsNormParams p = plan_rmsnorm(g, 1e-5, s_x, s_y, x_max);
    int off_by_more = 0, worst = 0;
    for (int row = 0; row < 8; ++row) {
      std::vector<int32_t> x(d);
      const int amp = std::min(45000, 1 << (6 + row));  // rows from rms 37 to the maximum
      for (int i = 0; i < d; ++i) x[i] = int32_t(int64_t(rng() % (2 * amp + 1)) - amp);
      if (row == 7) x[3] = int32_t(x_max);  // an outlier at the planned maximum
      const auto y = rmsnorm(x, p);
      double ss = 0;
      for (int i = 0; i < d; ++i) ss += (x[i] * s_x) * (x[i] * s_x);
      const double rms = std::sqrt(ss / d + 1e-5);
      for (int i = 0; i < d; ++i) {
        const double ref = std::clamp(std::nearbyint(x[i] * s_x / rms * g[i] / s_y), -128.0, 127.0);
        const int err = int(std::fabs(ref - y[i]));
        worst = std::max(worst, err);
        if (err > 1) ++off_by_more;
      }
    }
    INFO("d = " << d);
    CHECK(worst <= 1);
    CHECK(off_by_more == 0);
  }
}

TEST_CASE("attention row: deferred-normalisation softmax against float", "[golden]") {
  std::mt19937_64 rng(7);
  const int64_t hd = 16;
  const double s_s = 1.0 / 64;  // score scale
  const SoftmaxParams p = plan_softmax(s_s);
  CHECK(p.d_shift == 2);  // (1/16) / (1/64) = 4 = 2^2
  CHECK(p.exp_table[128] == 127);
  CHECK(p.exp_table[0] == 0);  // 127 * e^-8 = 0.04
  for (int n : {1, 7, 100, 512}) {
    std::vector<int32_t> s(static_cast<size_t>(n));
    std::vector<int8_t> v(size_t(n * hd));
    for (auto& x : s) x = int32_t(int64_t(rng() % 600) - 300);  // scores within +-4.7
    for (auto& x : v) x = int8_t(int64_t(rng() % 255) - 127);
    const auto y = attention_row(s, v, hd, p);
    // float: softmax(s * s_s) . v
    double mx = -1e300;
    for (int32_t x : s) mx = std::max(mx, x * s_s);
    std::vector<double> w(static_cast<size_t>(n));
    double sum = 0;
    for (int i = 0; i < n; ++i) sum += (w[size_t(i)] = std::exp(s[size_t(i)] * s_s - mx));
    int worst = 0;
    for (int64_t j = 0; j < hd; ++j) {
      double o = 0;
      for (int i = 0; i < n; ++i) o += w[size_t(i)] / sum * v[size_t(i * hd + j)];
      worst = std::max(worst, int(std::fabs(std::nearbyint(o) - y[size_t(j)])));
    }
    INFO("n = " << n);
    CHECK(worst <= 3);  // int8 probabilities relative to the maximum: a few LSB of the output
  }
  // one position: the output is the value row itself (probability 1)
  const auto one = attention_row({12345}, {5, -7, 127, -128}, 4, p);
  CHECK(one == std::vector<int8_t>{5, -7, 127, -128});
}

TEST_CASE("LUT activation, int8 product, RoPE against float", "[golden]") {
  const auto silu = [](double x) { return x / (1 + std::exp(-x)); };
  const auto t = activation_table(+silu, 1.0 / 16, 1.0 / 32);
  CHECK(t[128] == 0);
  CHECK(t[128 + 16] == int16_t(std::nearbyint(silu(1.0) * 32)));  // x = 1: 23.39 -> 23
  CHECK(lut({0, 16, -128, 127}, t) == std::vector<int8_t>{0, 23, int8_t(std::nearbyint(silu(-8.0) * 32)), 127});
  CHECK(mul8({100, -100, 3}, {100, 100, -3}, 6) == std::vector<int8_t>{127, -128, 0});  // 156.25, -156.25, -9/64

  const int64_t heads = 2, hd = 8;
  std::vector<int32_t> c, s;
  rope_tables(3, heads, hd, 10000.0, c, s);
  CHECK(c[0] == int32_t(std::llround(std::cos(3.0) * 16384)));
  CHECK(c[4] == c[0]);  // pair (i, i + hd/2) shares the angle
  CHECK(s[1] == int32_t(std::llround(std::sin(3.0 * std::pow(10000.0, -2.0 / 8)) * 16384)));
  std::vector<int8_t> x = {10, -20, 30, -40, 50, -60, 70, -80, 1, 2, 3, 4, 5, 6, 7, 8};
  const auto y = rope(x, hd, c, s);
  for (int64_t hh = 0; hh < heads; ++hh)
    for (int64_t j = 0; j < hd; ++j) {
      const int64_t i = j % (hd / 2);
      const double ang = 3.0 * std::pow(10000.0, -2.0 * double(i) / double(hd));
      const double a = x[size_t(hh * hd + j)];
      const double partner = j < hd / 2 ? -double(x[size_t(hh * hd + j + hd / 2)]) : double(x[size_t(hh * hd + j - hd / 2)]);
      const double ref = a * std::cos(ang) + partner * std::sin(ang);
      CHECK(std::fabs(ref - y[size_t(hh * hd + j)]) <= 0.51);
    }
}

// ---- kernels added for the golden interpreter ---------------------------------

TEST_CASE("Per-channel linear layer to int32 T, by hand: saturation before the bias", "[golden]") {
  const std::vector<int8_t> x = {1, -2, 3, 127, -128, 5};
  const std::vector<int8_t> w = {4, -1, 5, 2, -6, 7};  // acc = [-24, 16, -162, -348] (above)
  // channel 0: x3 >> 2; channel 1: x2^30 saturates int32 before the bias is added
  const auto t = linear_per_channel_wide(x, w, 2, 3, 2, {3, 1 << 30}, {2, 0}, {5, -1});
  // -72 >> 2 = -18, + 5 = -13;  sat32(2^34) - 1;  -486 >> 2 = -121.5 -> -121, + 5 = -116;  sat32(-348 * 2^30) - 1 saturates again
  CHECK(t == std::vector<int32_t>{-13, 2147483646, -116, INT32_MIN});
  CHECK(linear_per_channel_wide(x, w, 2, 3, 2, {3, 1}, {2, 0}, {}) == std::vector<int32_t>{-18, 16, -121, -348});
  // narrowing T by 0 is the one-vrequant int8 layer, bit for bit
  std::mt19937_64 rng(3);
  std::vector<int8_t> xr(4 * 40), wr(40 * 24);
  for (auto& v : xr) v = int8_t(int(rng() % 256) - 128);
  for (auto& v : wr) v = int8_t(int(rng() % 15) - 7);
  std::vector<int32_t> mult(24), shift(24);
  for (int n = 0; n < 24; ++n) {
    mult[size_t(n)] = int32_t(rng() % (1u << 30));
    shift[size_t(n)] = int32_t(30 + rng() % 12);
  }
  CHECK(narrow(linear_per_channel_wide(xr, wr, 4, 40, 24, mult, shift, {}), 0) ==
        linear_per_channel(xr, wr, 4, 40, 24, mult, shift));
}

TEST_CASE("requant8 and widen, by hand", "[golden]") {
  // sat8(rshr(x * 3, 2)): 75, -75, 21/4 = 5.25 -> 5, 6/4 = 1.5 -> 2, -6/4 = -1.5 -> -1 (half up), saturation
  CHECK(requant8({100, -100, 7, 2, -2, 1 << 20}, 3, 2) == std::vector<int8_t>{75, -75, 5, 2, -1, 127});
  CHECK(requant8({-(1 << 20)}, 3, 2) == std::vector<int8_t>{-128});
  // sat32(rshr(e * mult, shift))
  CHECK(widen({-128, 127, 3}, 181, 0) == std::vector<int32_t>{-23168, 22987, 543});
  CHECK(widen({-128, 127, 3}, 181, 2) == std::vector<int32_t>{-5792, 5747, 136});  // 5746.75, 135.75 round up
  CHECK(widen({127, -128}, 1 << 30, 0) == std::vector<int32_t>{INT32_MAX, INT32_MIN});
}

TEST_CASE("LayerNorm: by hand, shift invariance, and within 1 LSB of float", "[golden]") {
  // d = 4, s_x = 1, s_y = 1/64, g = 1, b = 0, eps = 0: mean 25, c = (-15, -5, 5, 15),
  // std = sqrt(125) = 11.18, y = c / std * 64 = (-85.87, -28.62, 28.62, 85.87)
  const LayerNormParams p = plan_layernorm({1, 1, 1, 1}, {}, 0.0, 1.0, 1.0 / 64, 46000);
  CHECK(p.sum_shift == 0);
  CHECK(p.inv_d == 1 << 30);  // 1/4 = 2^30 / 2^32
  CHECK(p.inv_d_shift == 32);
  CHECK(p.beta_shift == 8);
  CHECK(p.rms.sq_shift == 2);  // planned for |c| <= 2 * 46000
  CHECK(layernorm({10, 20, 30, 40}, p) == std::vector<int8_t>{-86, -29, 29, 86});
  // the mean is subtracted exactly: an offset changes nothing
  CHECK(layernorm({10010, 10020, 10030, 10040}, p) == std::vector<int8_t>{-86, -29, 29, 86});
  // beta in units of s_y / 2^8: -85.87 + 32 = -53.87 -> -54, 85.87 - 16 = 69.87 -> 70
  const LayerNormParams pb = plan_layernorm({1, 1, 1, 1}, {0.5, 0, 0, -0.25}, 0.0, 1.0, 1.0 / 64, 46000);
  CHECK(pb.beta == std::vector<int32_t>{8192, 0, 0, -4096});
  CHECK(layernorm({10, 20, 30, 40}, pb) == std::vector<int8_t>{-54, -29, 29, 70});

  std::mt19937_64 rng(11);
  for (int d : {64, 768, 2560}) {
    std::vector<double> g(size_t(d), 0.0), b(size_t(d), 0.0);
    for (int i = 0; i < d; ++i) {
      g[size_t(i)] = 0.5 + double(rng() % 1000) / 1000.0;
      b[size_t(i)] = (double(rng() % 1000) - 500.0) / 2000.0;  // -0.25 .. 0.25
    }
    const double s_x = 1.0 / 4096, s_y = 1.0 / 32;
    const LayerNormParams q = plan_layernorm(g, b, 1e-5, s_x, s_y, 46000);
    int worst = 0;
    for (int row = 0; row < 8; ++row) {
      std::vector<int32_t> x(static_cast<size_t>(d));
      const int amp = std::min(20000, 1 << (6 + row)), off = int(rng() % 20001) - 10000;  // a mean to subtract
      for (auto& v : x) v = int32_t(int64_t(rng() % uint64_t(2 * amp + 1)) - amp + off);
      if (row == 7) x[5] = 46000;
      const auto y = layernorm(x, q);
      double mean = 0, var = 0;
      for (int32_t v : x) mean += v * s_x / d;
      for (int32_t v : x) var += (v * s_x - mean) * (v * s_x - mean) / d;
      for (int i = 0; i < d; ++i) {
        const double ref = (x[size_t(i)] * s_x - mean) / std::sqrt(var + 1e-5) * g[size_t(i)] + b[size_t(i)];
        worst = std::max(worst, int(std::fabs(std::clamp(std::nearbyint(ref / s_y), -128.0, 127.0) - y[size_t(i)])));
      }
    }
    INFO("d = " << d);
    CHECK(worst <= 1);
  }
}

TEST_CASE("Softmax for long rows: the wide reciprocal", "[golden]") {
  const SoftmaxParams p = plan_softmax_wide(1.0 / 64);
  const SoftmaxParams q = plan_softmax(1.0 / 64);
  CHECK(p.d_shift == q.d_shift);
  CHECK(p.exp_table == q.exp_table);
  CHECK(p.recip_shift == 37);
  CHECK(num::recip(127, 37) < (int64_t(1) << 31));  // the smallest S: the row maximum alone
  // a flat row of 4095 positions: every output is the mean of the values, within 1 LSB
  std::mt19937_64 rng(5);
  const int64_t n = 4095, hd = 8;
  std::vector<int8_t> v(size_t(n * hd));
  for (auto& x : v) x = int8_t(int(rng() % 255) - 127);
  const auto y = attention_row(std::vector<int32_t>(size_t(n), 77), v, hd, p);
  for (int64_t j = 0; j < hd; ++j) {
    double m = 0;
    for (int64_t i = 0; i < n; ++i) m += v[size_t(i * hd + j)] / double(n);
    CHECK(std::fabs(m - y[size_t(j)]) <= 1.0);
  }
  // one position is the value row itself
  CHECK(attention_row({-5}, {5, -7, 127, -128}, 4, p) == std::vector<int8_t>{5, -7, 127, -128});
}

TEST_CASE("Wide LUT and the int32 x int8 product, by hand", "[golden]") {
  std::vector<int16_t> t(256, 0);
  t[0] = -300;
  t[129] = 1000;
  t[255] = 32767;
  CHECK(lut_wide({-128, 1, 127, 0}, t) == std::vector<int32_t>{-300, 1000, 32767, 0});  // no int8 saturation
  CHECK(lut({-128, 1}, t) == std::vector<int8_t>{-128, 127});
  // sat8(rshr(a * b, 10)): 97.66 -> 98, -97.66 -> -98, -0.88 -> -1, saturation
  CHECK(mul_wide({1000, -1000, 300, 1 << 20}, {100, 100, -3, 127}, 10) == std::vector<int8_t>{98, -98, -1, 127});
}

TEST_CASE("Partial RoPE: pass-through dims exact, rotate-half on the first rd, == rope when rd == hd", "[golden]") {
  const int64_t hd = 8, rd = 4, heads = 2;
  std::vector<int32_t> c1, s1;
  rope_tables_partial(5, hd, rd, 10000.0, c1, s1);
  REQUIRE(c1.size() == size_t(hd));
  CHECK(c1[0] == int32_t(std::llround(std::cos(5.0) * 16384)));
  CHECK(s1[3] == int32_t(std::llround(std::sin(5.0 * std::pow(10000.0, -2.0 / 4)) * 16384)));  // i = 1 of rd = 4
  for (int64_t j = rd; j < hd; ++j) {
    CHECK(c1[size_t(j)] == 16384);
    CHECK(s1[size_t(j)] == 0);
  }
  std::vector<int32_t> c, s;
  for (int64_t h = 0; h < heads; ++h) {
    c.insert(c.end(), c1.begin(), c1.end());
    s.insert(s.end(), s1.begin(), s1.end());
  }
  const std::vector<int8_t> x = {10, -20, 30, -40, 50, -60, 127, -128, 1, 2, 3, 4, 5, 6, 7, 8};
  const auto y = rope_partial(x, hd, rd, c, s);
  for (int64_t h = 0; h < heads; ++h)
    for (int64_t j = 0; j < hd; ++j) {
      const size_t i = size_t(h * hd + j);
      if (j >= rd) {
        CHECK(y[i] == x[i]);
        continue;
      }
      const double ang = 5.0 * std::pow(10000.0, -2.0 * double(j % 2) / double(rd));
      const double partner = j < rd / 2 ? -double(x[i + 2]) : double(x[i - 2]);
      CHECK(std::fabs(x[i] * std::cos(ang) + partner * std::sin(ang) - y[i]) <= 0.51);
    }
  // rd == hd: the tables and the kernel are rope_tables / rope
  std::mt19937_64 rng(9);
  for (int64_t pos : {0, 1, 17, 100}) {
    std::vector<int32_t> ca, sa, cb, sb;
    rope_tables_partial(pos, 16, 16, 500000.0, ca, sa);
    rope_tables(pos, 1, 16, 500000.0, cb, sb);
    CHECK(ca == cb);
    CHECK(sa == sb);
    std::vector<int32_t> cc, ss;
    for (int h = 0; h < 3; ++h) {
      cc.insert(cc.end(), ca.begin(), ca.end());
      ss.insert(ss.end(), sa.begin(), sa.end());
    }
    std::vector<int8_t> xr(48);
    for (auto& v : xr) v = int8_t(int(rng() % 256) - 128);
    CHECK(rope_partial(xr, 16, 16, cc, ss) == rope(xr, 16, cc, ss));
  }
}
