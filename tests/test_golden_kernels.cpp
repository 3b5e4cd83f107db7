// The integer kernels of the golden interpreter: hand-computed values and the
// error against the float operation they stand for.
#include <catch2/catch.hpp>

#include <cmath>
#include <random>

#include "common/error.h"
#include "golden/kernels.h"

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
