// Integer semantics shared bit-exactly by the golden interpreter, the SystemC
// model and the RTL (docs/numerics.md).  Pure functions, no state.
#pragma once

#include <cstdint>

namespace clonesim::num {

constexpr int64_t kInt8Min = -128, kInt8Max = 127;
constexpr int64_t kInt32Min = -2147483648LL, kInt32Max = 2147483647LL;

inline int64_t sat8(int64_t x) { return x < kInt8Min ? kInt8Min : (x > kInt8Max ? kInt8Max : x); }
inline int64_t sat32(int64_t x) { return x < kInt32Min ? kInt32Min : (x > kInt32Max ? kInt32Max : x); }
// Saturate to int8 (scratchpad destination) or int32 (accumulator destination).
inline int64_t sat_to(bool to_int32, int64_t x) { return to_int32 ? sat32(x) : sat8(x); }

// Rounding arithmetic right shift: round half up (towards +inf at .5).
// rshr(x, 0) = x; rshr(x, s) = (x + 2^(s-1)) >> s, arithmetic, s <= 63,
// computed exactly (the addition has a 65-bit result).
int64_t rshr(int64_t x, unsigned s);

// Left shift saturating to int64.
int64_t shl_sat(int64_t x, unsigned s);

// Signed 4-bit nibble: low nibble of byte b when high == false.
inline int64_t int4_at(uint8_t b, bool high) {
  int v = high ? (b >> 4) : (b & 0xF);
  return v >= 8 ? v - 16 : v;
}

// floor(sqrt(x)) for any uint64.
uint64_t isqrt(uint64_t x);
// Reciprocal: x <= 0 -> INT32_MAX, else floor((2^s + floor(x/2)) / x), s <= 62.
int64_t recip(int64_t x, unsigned s);
// Reciprocal square root: x <= 0 -> INT32_MAX, else isqrt(floor(2^(2s) / x)), s <= 31.
int64_t rsqrt(int64_t x, unsigned s);

// Requantization: rshr(x * m, s) (then saturated by the caller's destination).
inline int64_t requant(int64_t x, int64_t m, unsigned s) { return rshr(x * m, s); }

}  // namespace clonesim::num
