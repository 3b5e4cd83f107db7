#include "bench/synthetic_programs.h"

#include <cstdio>

namespace clonesim::bench {

std::string tiled_gemm(const hw::HwConfig& hw, unsigned m, unsigned k_tiles, unsigned n_blocks, bool int4) {
  const unsigned R = hw.mxu.rows, C = hw.mxu.cols;
  const uint64_t wtile = (uint64_t(R) * C * (int4 ? 4 : 8) + 7) / 8;
  const uint64_t chunk = wtile * k_tiles;                   // weights of one column block
  const uint64_t bank = hw.scratchpad.bank_bytes();
  const uint64_t wbuf[2] = {0, bank};                       // banks 0 and 1
  const uint64_t act = 2 * bank;                            // banks 2.. hold A (m x K)
  const uint64_t K = uint64_t(k_tiles) * R;
  const uint64_t abank = hw.accumulator.bank_bytes();
  const uint64_t cbuf[2] = {0, hw.accumulator.banks > 1 ? abank : abank / 2};
  const uint64_t crow = 4 * C;
  std::string p;
  char buf[400];
  p += "; tiled GEMM, double-buffered weights and results\n";
  // Activations go to every tile at once (a broadcast load signals s9 in each).
  snprintf(buf, sizeof buf, "load tile=all dram=0x%llx sram=0x%llx rows=%u bytes=%llu dstride=%llu sstride=%llu signal=s9\n",
           0x40000000ULL, (unsigned long long)act, m, (unsigned long long)K, (unsigned long long)K,
           (unsigned long long)K);
  p += buf;
  for (unsigned nb = 0; nb < n_blocks; ++nb) {
    const unsigned t = nb % hw.tiles;
    const unsigned local = nb / hw.tiles;  // block index within this tile
    const int b = local % 2;
    const uint64_t wdram = uint64_t(nb) * chunk;
    snprintf(buf, sizeof buf, "load tile=%u dram=0x%llx sram=0x%llx bytes=%llu signal=s%d%s\n", t,
             (unsigned long long)wdram, (unsigned long long)wbuf[b], (unsigned long long)chunk, 1 + b,
             local >= 2 ? (b ? " wait=s4" : " wait=s3") : "");
    p += buf;
    for (unsigned kt = 0; kt < k_tiles; ++kt) {
      std::string w, s;
      if (kt == 0) {
        w = " wait=s" + std::to_string(1 + b);
        if (local == 0) w += ",s9";
        else if (local >= 2) w += ",s" + std::to_string(7 + b);
      }
      if (kt + 1 == k_tiles) s = " signal=s" + std::to_string(3 + b) + ",s" + std::to_string(5 + b);
      snprintf(buf, sizeof buf,
               "matmul tile=%u act=0x%llx wgt=0x%llx acc=0x%llx m=%u k=%u n=%u wtype=%s accum=%d astride=%llu cstride=%llu%s%s\n",
               t, (unsigned long long)(act + kt * R), (unsigned long long)(wbuf[b] + kt * wtile),
               (unsigned long long)cbuf[b], m, R, C, int4 ? "int4" : "int8", kt > 0, (unsigned long long)K,
               (unsigned long long)crow, w.c_str(), s.c_str());
      p += buf;
    }
    snprintf(buf, sizeof buf,
             "store tile=%u dram=0x%llx sram=0x%llx space=acc rows=%u bytes=%llu dstride=%llu sstride=%llu wait=s%d signal=s%d\n",
             t, (unsigned long long)(0x80000000ULL + uint64_t(nb) * m * crow), (unsigned long long)cbuf[b], m,
             (unsigned long long)crow, (unsigned long long)crow, (unsigned long long)crow, 5 + b, 7 + b);
    p += buf;
  }
  p += "halt\n";
  return p;
}

std::string dram_stream(const hw::HwConfig& hw, unsigned loads, unsigned bytes) {
  std::string p = "; DRAM-bound stream: back-to-back loads into alternating banks\n";
  char buf[200];
  const uint64_t bank = hw.scratchpad.bank_bytes();
  for (unsigned i = 0; i < loads; ++i) {
    snprintf(buf, sizeof buf, "load dram=0x%llx sram=0x%llx bytes=%u\n", (unsigned long long)(uint64_t(i) * bytes),
             (unsigned long long)((i % 2) * bank), bytes);
    p += buf;
  }
  p += "halt\n";
  return p;
}

}  // namespace clonesim::bench
