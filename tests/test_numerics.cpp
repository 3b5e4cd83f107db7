// The integer primitives of docs/numerics.md against hand-computed values.
#include <catch2/catch.hpp>

#include <cmath>
#include <random>

#include "numerics/numerics.h"

using namespace clonesim::num;

TEST_CASE("rshr rounds half up, arithmetic", "[numerics]") {
  CHECK(rshr(5, 0) == 5);
  CHECK(rshr(5, 1) == 3);    // 2.5 -> 3
  CHECK(rshr(-5, 1) == -2);  // -2.5 -> -2 (half up)
  CHECK(rshr(7, 2) == 2);    // 1.75 -> 2
  CHECK(rshr(6, 2) == 2);    // 1.5 -> 2
  CHECK(rshr(-6, 2) == -1);  // -1.5 -> -1
  CHECK(rshr(-7, 2) == -2);  // -1.75 -> -2
  CHECK(rshr(INT64_MAX, 1) == (int64_t(1) << 62));  // the rounding add saturates
  CHECK(rshr(INT64_MIN, 63) == -1);
}

TEST_CASE("saturation to int8 and int32", "[numerics]") {
  CHECK(sat8(127) == 127);
  CHECK(sat8(128) == 127);
  CHECK(sat8(-129) == -128);
  CHECK(sat32(int64_t(1) << 40) == kInt32Max);
  CHECK(sat32(-(int64_t(1) << 40)) == kInt32Min);
  CHECK(sat_to(false, 300) == 127);
  CHECK(sat_to(true, 300) == 300);
  CHECK(shl_sat(3, 2) == 12);
  CHECK(shl_sat(int64_t(1) << 62, 2) == INT64_MAX);
  CHECK(shl_sat(-(int64_t(1) << 62), 2) == INT64_MIN);
}

TEST_CASE("int4 nibbles are sign-extended, low nibble first", "[numerics]") {
  CHECK(int4_at(0x7F, false) == -1);  // 0xF
  CHECK(int4_at(0x7F, true) == 7);
  CHECK(int4_at(0x80, true) == -8);
  CHECK(int4_at(0x08, false) == -8);
}

TEST_CASE("isqrt is floor(sqrt(x)) exactly", "[numerics]") {
  for (uint64_t x = 0; x < 100000; ++x) {
    const uint64_t r = isqrt(x);
    REQUIRE(r * r <= x);
    REQUIRE((r + 1) * (r + 1) > x);
  }
  std::mt19937_64 rng(3);
  for (int i = 0; i < 100000; ++i) {
    const uint64_t x = rng() >> (rng() % 64);
    const unsigned __int128 r = isqrt(x);
    REQUIRE(r * r <= x);
    REQUIRE((r + 1) * (r + 1) > x);
  }
  CHECK(isqrt(UINT64_MAX) == 4294967295ull);
}

TEST_CASE("recip and rsqrt follow their integer definitions", "[numerics]") {
  CHECK(recip(3, 16) == (65536 + 1) / 3);  // 21845
  CHECK(recip(2, 0) == 1);                 // (1 + 1) / 2
  CHECK(recip(0, 10) == kInt32Max);
  CHECK(recip(-4, 10) == kInt32Max);
  CHECK(recip(1, 40) == int64_t(1) << 40);  // the caller saturates to its destination
  CHECK(rsqrt(4, 15) == 16384);             // 2^15 / 2
  CHECK(rsqrt(2, 15) == 23170);             // floor(32768 / 1.41421356)
  CHECK(rsqrt(0, 15) == kInt32Max);
  // Against long double within the floor: rsqrt(x, s) = floor(2^s / sqrt(x)) up to
  // the floor taken inside (floor(2^2s/x) is exact in the identity).
  std::mt19937 rng(5);
  for (int i = 0; i < 20000; ++i) {
    const int64_t x = 1 + (rng() % 100000000);
    const long double want = std::floor(std::ldexp(1.0L, 20) / std::sqrt((long double)x));
    CHECK(std::llabs(rsqrt(x, 20) - (long long)want) <= 1);
  }
  CHECK(requant(1000, 3, 2) == 750);
  CHECK(requant(-1001, 3, 2) == -751);  // -750.75 -> -751
}
