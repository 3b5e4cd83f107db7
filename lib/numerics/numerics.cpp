#include "numerics/numerics.h"

#include <limits>

namespace clonesim::num {

int64_t rshr(int64_t x, unsigned s) {
  if (s == 0) return x;
  if (s > 63) s = 63;
  // Exact: the rounding add is done in 65+ bits, so it never overflows.
  const __int128 sum = static_cast<__int128>(x) + (static_cast<__int128>(1) << (s - 1));
  return static_cast<int64_t>(sum >> s);
}

int64_t shl_sat(int64_t x, unsigned s) {
  if (x == 0) return 0;
  if (s >= 63) return x > 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
  const int64_t lim = std::numeric_limits<int64_t>::max() >> s;
  if (x > lim) return std::numeric_limits<int64_t>::max();
  if (x < -lim - 1) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(static_cast<uint64_t>(x) << s);
}

uint64_t isqrt(uint64_t x) {
  // Bit-by-bit (restoring) square root: the algorithm the RTL implements.
  uint64_t res = 0;
  uint64_t bit = uint64_t(1) << 62;
  while (bit > x) bit >>= 2;
  while (bit != 0) {
    if (x >= res + bit) {
      x -= res + bit;
      res = (res >> 1) + bit;
    } else {
      res >>= 1;
    }
    bit >>= 2;
  }
  return res;
}

int64_t recip(int64_t x, unsigned s) {
  if (x <= 0) return kInt32Max;
  if (s > 62) s = 62;
  const uint64_t num = (uint64_t(1) << s) + uint64_t(x) / 2;
  return static_cast<int64_t>(num / uint64_t(x));
}

int64_t rsqrt(int64_t x, unsigned s) {
  if (x <= 0) return kInt32Max;
  if (s > 31) s = 31;
  const uint64_t q = (uint64_t(1) << (2 * s)) / uint64_t(x);
  return static_cast<int64_t>(isqrt(q));
}

}  // namespace clonesim::num
