// Every unit's latency formula, in one place (docs/timing.md gives the same
// formulas in prose).  The SystemC model calls these; the RTL generator and
// the compiler's cost model use them too.  Functions take the design point
// and a resolved instruction (count field -- or with cnt_alt the alternate
// count, matmul k or load/store bytes -- and DRAM address already taken from
// the context registers).
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "dram/dram.h"
#include "hw/hw_config.h"
#include "isa/isa.h"
#include "sim/clock.h"

namespace clonesim::sim {

// Lines of `line_bytes` touched by [addr, addr + bytes); bytes >= 1.
inline uint64_t lines_touched(uint64_t addr, uint64_t bytes, uint32_t line_bytes) {
  return (addr + bytes - 1) / line_bytes - addr / line_bytes + 1;
}
// Banks touched by [addr, addr + bytes) as a bit mask (bank i -> bit i).
uint64_t bank_mask(const hw::SramConfig& s, uint64_t addr, uint64_t bytes);
const hw::SramConfig& space_config(const hw::HwConfig& hw, int space);

// SRAM line accesses of one instruction, per bank, for the statistics.
struct SramAccess {
  int space;      // isa::Space
  uint32_t bank;
  uint64_t reads;
  uint64_t writes;
};

// ---- DMA -------------------------------------------------------------------
// One DMA request: at most dma.burst_bytes, never crossing a burst-aligned
// DRAM boundary.
struct DmaRequest {
  uint64_t dram;
  uint64_t sram;
  uint32_t bytes;
};
// Visit the requests of a load/store in issue order (row by row): each is at
// most dma.burst_bytes and never crosses a burst-aligned DRAM boundary.
template <typename F>
inline void for_each_dma_request(const hw::HwConfig& hw, const isa::Instruction& in, F&& f) {
  const uint64_t burst = hw.dma.burst_bytes;
  const uint64_t rows = in[isa::Field::Rows], bytes = in[isa::Field::Bytes];
  for (uint64_t r = 0; r < rows; ++r) {
    uint64_t d = in[isa::Field::Dram] + r * in[isa::Field::DStride];
    uint64_t s = in[isa::Field::Sram] + r * in[isa::Field::SStride];
    for (uint64_t left = bytes; left > 0;) {
      const uint64_t room = burst - (d & (burst - 1));
      const uint32_t n = static_cast<uint32_t>(room < left ? room : left);
      f(DmaRequest{d, s, n});
      d += n;
      s += n;
      left -= n;
    }
  }
}

struct DmaOutcome {
  uint64_t done_ps = 0;
  uint64_t requests = 0;
  uint64_t bytes = 0;
  uint64_t sram_lines = 0;  // line accesses in one target tile
};
// The DMA engine's request pipeline, started at edge `start_ps` of the memory
// domain clock `clk`.  Serves every request through `dram`.  Per-bank line
// counts are added to `bank_lines` (indexed by bank) when non-null.
DmaOutcome dma_timing(const hw::HwConfig& hw, const isa::Instruction& in, uint64_t start_ps,
                      const DomainClock& clk, dram::DramModel& dram, uint64_t* bank_lines);

// ---- MXU -------------------------------------------------------------------
// One matmul covers a K x N weight block of any size (K, N <= 4095): the MXU
// splits it into array tiles of kt = ceil(K/R) k-slices and nt = ceil(N/C)
// n-slices, visits them n-slice outer, k-slice inner, and runs each through
// its pipeline as if it were a single-tile matmul (docs/timing.md, MXU).
// The weights are tile-major: the tiles' packed weights follow each other
// from `wgt` in visiting order, each starting on a byte boundary.

// The latency terms and SRAM line accesses of one array tile.
struct MxuTiming {
  uint64_t preload = 0;  // cycles to fill the shadow weight registers
  uint64_t stream = 0;   // cycles to stream the M activation rows
  uint64_t drain = 0;    // fill + drain of the array after the last row: R + C
  uint64_t act_lines = 0, wgt_lines = 0, acc_lines = 0;  // SRAM line accesses
};

// One array tile (j, i) of a matmul, with everything the pipeline needs.
struct MxuTile {
  uint32_t index = 0;        // position in the visiting order (j * kt + i)
  uint32_t i = 0, j = 0;     // k-slice, n-slice
  uint32_t k = 0, n = 0;     // k_i = min(R, K - i*R) rows, n_j = min(C, N - j*C) columns
  uint64_t wgt = 0;          // scratchpad address of the tile's packed k x n weights
  uint64_t wgt_bytes = 0;    // ceil(k*n*bits/8)
  uint64_t act = 0;          // act + i*R: activation row m is k bytes at act + m*astride
  uint64_t acc = 0;          // acc + 4*j*C: result row m is n int32 at acc + m*cstride
  bool accumulate = false;   // the instruction's accum for i = 0, always for i > 0
  bool last = false;         // the instruction's last tile
  uint64_t wgt_mask = 0;     // scratchpad banks of the tile's weights
  uint64_t act_mask = 0;     // scratchpad banks of its activation slice (all M rows)
  MxuTiming t;               // preload, stream, drain and line counts of this tile
};

// Bytes of one packed k x n weight tile: ceil(k*n*bits/8).
inline uint64_t tile_weight_bytes(uint64_t k, uint64_t n, bool int4) { return int4 ? (k * n + 1) / 2 : k * n; }
// The whole tile-major weight extent of a matmul: the sum of its tiles' bytes.
uint64_t weight_bytes(const hw::HwConfig& hw, const isa::Instruction& in);
uint64_t weight_bytes(const hw::HwConfig& hw, uint64_t K, uint64_t N, bool int4);
// ceil(K/R) * ceil(N/C).
uint64_t mxu_tile_count(const hw::HwConfig& hw, const isa::Instruction& in);
// preload, stream and drain of `tile` of `in` (today's single-tile formulas on
// the tile's own addresses).
MxuTiming mxu_tile_timing(const hw::HwConfig& hw, const isa::Instruction& in, const MxuTile& tile);

// Visit the tiles of a resolved matmul in order: f(const MxuTile&).
template <typename F>
inline void for_each_mxu_tile(const hw::HwConfig& hw, const isa::Instruction& in, F&& f) {
  const uint64_t R = hw.mxu.rows, C = hw.mxu.cols;
  const uint64_t M = in[isa::Field::M], K = in[isa::Field::K], N = in[isa::Field::N];
  const bool int4 = in[isa::Field::WType] == 1;
  const uint64_t act = in[isa::Field::Act], acc = in[isa::Field::Acc], as = in[isa::Field::AStride];
  const uint64_t kt = (K + R - 1) / R, nt = (N + C - 1) / C;
  const uint32_t lbs = hw.scratchpad.line_bytes(), lba = hw.accumulator.line_bytes();
  // With one row, or row strides of whole lines, every row of a tile touches
  // the same lines: mxu_tile_timing's closed form, its k-slice terms computed
  // once per k-slice and its n-slice terms once per n-slice (the same values).
  const bool uniform = M == 1 || (as % lbs == 0 && uint64_t(in[isa::Field::CStride]) % lba == 0);
  std::vector<uint64_t> slice_lines, slice_mask;  // per k-slice: activation lines per row, banks
  if (uniform) {
    slice_lines.resize(kt);
    slice_mask.resize(kt);
    for (uint64_t i = 0; i < kt; ++i) {
      const uint64_t k = std::min(R, K - i * R);
      slice_lines[i] = lines_touched(act + i * R, k, lbs);
      slice_mask[i] = bank_mask(hw.scratchpad, act + i * R, (M - 1) * as + k);
    }
  }
  MxuTile tl;
  uint64_t wgt = in[isa::Field::Wgt];
  // the weight tiles are contiguous: their bank changes rarely
  const uint64_t bb = hw.scratchpad.bank_bytes();
  uint64_t wbank_lo = 1, wbank_hi = 0, wbank_mask = 0;  // [lo, hi) lies in one bank, of mask wbank_mask
  for (uint64_t j = 0; j < nt; ++j) {
    const uint64_t n = std::min(C, N - j * C);
    const uint64_t c_lines = uniform ? lines_touched(acc + 4 * j * C, 4 * n, lba) : 0;
    for (uint64_t i = 0; i < kt; ++i) {
      tl.i = static_cast<uint32_t>(i);
      tl.j = static_cast<uint32_t>(j);
      tl.k = static_cast<uint32_t>(std::min(R, K - i * R));
      tl.n = static_cast<uint32_t>(n);
      tl.wgt = wgt;
      tl.wgt_bytes = tile_weight_bytes(tl.k, tl.n, int4);
      tl.act = act + i * R;
      tl.acc = acc + 4 * j * C;
      tl.accumulate = i > 0 || in[isa::Field::Accum] != 0;
      tl.last = i + 1 == kt && j + 1 == nt;
      if (tl.wgt >= wbank_lo && tl.wgt + tl.wgt_bytes <= wbank_hi) {
        tl.wgt_mask = wbank_mask;
      } else {
        tl.wgt_mask = bank_mask(hw.scratchpad, tl.wgt, tl.wgt_bytes);
        wbank_lo = tl.wgt / bb * bb;
        wbank_hi = wbank_lo + bb;
        wbank_mask = tl.wgt / bb < 64 ? uint64_t(1) << (tl.wgt / bb) : 0;
      }
      if (uniform) {
        tl.act_mask = slice_mask[i];
        tl.t.wgt_lines = tl.t.preload = lines_touched(tl.wgt, tl.wgt_bytes, lbs);
        tl.t.stream = M * std::max(slice_lines[i], c_lines);
        tl.t.act_lines = M * slice_lines[i];
        tl.t.acc_lines = M * c_lines;
        tl.t.drain = R + C;
      } else {
        tl.act_mask = bank_mask(hw.scratchpad, tl.act, (M - 1) * as + tl.k);
        tl.t = mxu_tile_timing(hw, in, tl);
      }
      f(static_cast<const MxuTile&>(tl));
      ++tl.index;
      wgt += tl.wgt_bytes;
    }
  }
}
// The same as a list (for a cost model; the simulator uses the visitor).
std::vector<MxuTile> mxu_tiles(const hw::HwConfig& hw, const isa::Instruction& in);

// The MXU pipeline after the last accepted tile (times in ps).
struct MxuPipe {
  uint64_t p_end = 0;     // its preload ends (the preload stage frees)
  uint64_t s_start = 0;   // it moves to the stream stage (its shadow registers free)
  uint64_t s_end = 0;     // its stream ends
  uint64_t act_mask = 0;  // scratchpad banks its activation slice reads
};
// The accept rule: a tile whose weights lie in scratchpad banks `wgt_mask` may
// be accepted at an edge at or after the returned time: the preload stage is
// free (p_end), the shadow registers are free (s_start), and with a one-port
// scratchpad, weights sharing a bank with the last tile's activation stream
// wait for that stream to end (s_end).
inline uint64_t mxu_ready(const hw::HwConfig& hw, const MxuPipe& p, uint64_t wgt_mask) {
  uint64_t r = std::max(p.p_end, p.s_start);
  if (hw.scratchpad.ports == 1 && (wgt_mask & p.act_mask)) r = std::max(r, p.s_end);
  return r;
}
// Accept `tile` at edge `a` of a clock of period `P`: Pend = a + preload*P,
// Sstart = max(Pend, previous Send), Send = Sstart + stream*P.
inline void mxu_accept(MxuPipe& p, const MxuTile& tile, uint64_t a, uint64_t P) {
  p.p_end = a + tile.t.preload * P;
  p.s_start = std::max(p.p_end, p.s_end);
  p.s_end = p.s_start + tile.t.stream * P;
  p.act_mask = tile.act_mask;
}
// Run every tile of `in` through the pipeline: tile 0 is accepted at `start`
// (an edge that satisfies the accept rule, with the instruction's semaphores
// and banks available), each later tile at the first edge the accept rule
// allows against the one before, with no gap.  Calls f(tile, accept time) per
// tile, leaves `pipe` as the last tile left it and returns the completion
// time: the last tile's Send + drain*P.
template <typename F>
inline uint64_t mxu_run(const hw::HwConfig& hw, const isa::Instruction& in, uint64_t start, uint64_t P, MxuPipe& pipe,
                        F&& f) {
  uint64_t drain = 0;
  for_each_mxu_tile(hw, in, [&](const MxuTile& tl) {
    const uint64_t a = tl.index == 0 ? start : mxu_ready(hw, pipe, tl.wgt_mask);
    mxu_accept(pipe, tl, a, P);
    drain = tl.t.drain;
    f(tl, a);
  });
  return pipe.s_end + drain * P;
}
// The latency of `in` alone on an idle MXU, in cycles (accept to completion).
uint64_t mxu_latency_cycles(const hw::HwConfig& hw, const isa::Instruction& in);

// ---- VXU -------------------------------------------------------------------
struct VxuTiming {
  uint64_t steps = 0;        // ceil(n / lanes) (lutld: lines of the table)
  uint64_t step_cycles = 0;  // cycles per step after bank conflicts (>= 1)
  uint64_t fixed = 0;        // pipeline depth, scalar fetch, reduction tree
  uint64_t total() const { return steps * step_cycles + fixed; }
};
VxuTiming vxu_timing(const hw::HwConfig& hw, const isa::Instruction& in);
// The SRAM line accesses a vector instruction makes (for statistics).
void vxu_accesses(const hw::HwConfig& hw, const isa::Instruction& in, std::vector<SramAccess>& out);

constexpr uint64_t kSfuCycles = 32;  // vrecip / vrsqrt: cycles per step of the iterative unit

// ---- Design-point checks ---------------------------------------------------
// Empty when the resolved instruction can run on this design point, else the
// problem ("sram range [a, b) exceeds the scratchpad (N bytes)").
std::string check_against(const hw::HwConfig& hw, const isa::Instruction& in);

}  // namespace clonesim::sim
