#include "lower/weight_image.h"

#include <algorithm>

#include "common/error.h"
#include "common/strf.h"

namespace clonesim::compiler {

namespace {
uint64_t tile_bytes(uint64_t k, uint64_t n, bool int4) { return int4 ? (k * n + 1) / 2 : k * n; }
}  // namespace

uint64_t weight_image_bytes(uint64_t K, uint64_t N, uint64_t R, uint64_t C, bool int4) {
  uint64_t total = 0;
  for (uint64_t n0 = 0; n0 < N; n0 += C)
    for (uint64_t k0 = 0; k0 < K; k0 += R) total += tile_bytes(std::min(R, K - k0), std::min(C, N - n0), int4);
  return total;
}

std::vector<uint8_t> weight_image(const int8_t* w, uint64_t ld, uint64_t K, uint64_t N, uint64_t R, uint64_t C,
                                  bool int4) {
  std::vector<uint8_t> out;
  out.reserve(weight_image_bytes(K, N, R, C, int4));
  for (uint64_t n0 = 0; n0 < N; n0 += C) {
    const uint64_t nj = std::min(C, N - n0);
    for (uint64_t k0 = 0; k0 < K; k0 += R) {
      const uint64_t ki = std::min(R, K - k0);
      const size_t base = out.size();
      out.resize(base + tile_bytes(ki, nj, int4), 0);
      for (uint64_t k = 0; k < ki; ++k)
        for (uint64_t n = 0; n < nj; ++n) {
          const int8_t v = w[(k0 + k) * ld + n0 + n];
          const uint64_t e = k * nj + n;  // element number in the tile
          if (!int4) {
            out[base + e] = static_cast<uint8_t>(v);
            continue;
          }
          if (v < -8 || v > 7)
            throw Error(strf("int4 weight (%llu, %llu) = %d: expected -8..7", (unsigned long long)(k0 + k),
                             (unsigned long long)(n0 + n), int(v)));
          out[base + e / 2] |= static_cast<uint8_t>((v & 0xF) << (4 * (e % 2)));
        }
    }
  }
  return out;
}

}  // namespace clonesim::compiler
