// Every unit's latency formula, in one place (docs/timing.md gives the same
// formulas in prose).  The SystemC model calls these; the RTL generator and
// the compiler's cost model use them too.  Functions take the design point
// and a resolved instruction (count field -- or with cnt_alt the alternate
// count, matmul k or load/store bytes -- and DRAM address already taken from
// the context registers).
#pragma once

#include <algorithm>
#include <cstdint>
#include <numeric>
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
// The same with a divider by line_bytes made once.
inline uint64_t lines_touched(uint64_t addr, uint64_t bytes, const FastDiv& line_bytes) {
  return line_bytes(addr + bytes - 1) - line_bytes(addr) + 1;
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

// True when lines_touched(a + r*step, bytes, lb) is the same for every r >= 0:
// the offsets (a + r*step) mod lb all lie in {a mod g + m*g} with
// g = gcd(step, lb), and lines_touched grows with the offset, so it is enough
// that the lowest and the highest such offset touch as many lines.
inline bool lines_touched_constant(uint64_t a, uint64_t step, uint64_t bytes, uint32_t lb) {
  const uint64_t g = std::gcd(step, uint64_t(lb)), lo = a % g;
  return lines_touched(lo, bytes, lb) == lines_touched(lb - g + lo, bytes, lb);
}

// A run of array tiles: `count` consecutive tiles in visiting order that are
// identical in everything the pipeline sees -- k, n, weight bytes, the
// latency terms and line counts (t), the weight and activation bank masks --
// and whose statistics go to the same banks (the same result bank).  Tile r
// of the run is the tile r places after `first`: its k-slice and n-slice
// follow from the visiting order (kt k-slices per n-slice), its weights are
// r * wgt_bytes further, its activation slice and result columns those of
// its slices, and it accumulates when i > 0 or the instruction's accum is set.
// The instruction's last tile is always a run of its own.
struct MxuTileRun {
  MxuTile first;
  uint64_t count = 1;
  uint64_t kt = 1;            // k-slices per n-slice
  bool accum = false;         // the instruction's accum flag
  uint64_t accumulating = 0;  // tiles of the run that accumulate
};
// How many of the `count` tiles from visiting position x accumulate: all but
// those with i == 0 (x a multiple of kt) when the accum flag is clear.
inline uint64_t mxu_accumulating(bool accum, uint64_t x, uint64_t count, uint64_t kt) {
  return accum ? count : count - ((x + count - 1) / kt - (x + kt - 1) / kt + 1);
}
// Tile r (r < run.count) of a run.
inline MxuTile mxu_run_tile(const hw::HwConfig& hw, const MxuTileRun& run, uint64_t r) {
  MxuTile t = run.first;
  if (r == 0) return t;
  const uint64_t x = t.i + r;  // k-slices after the start of the first tile's n-slice
  const uint64_t i = x % run.kt, j = t.j + x / run.kt;
  t.index += static_cast<uint32_t>(r);
  t.act += (i - t.i) * hw.mxu.rows;  // (unsigned wrap-around when i < t.i cancels out)
  t.acc += 4 * (j - t.j) * hw.mxu.cols;
  t.i = static_cast<uint32_t>(i);
  t.j = static_cast<uint32_t>(j);
  t.wgt += r * t.wgt_bytes;
  t.accumulate = i > 0 || run.accum;
  return t;
}
// The `n` tiles of a run from its tile r, as a run.
inline MxuTileRun mxu_subrun(const hw::HwConfig& hw, const MxuTileRun& run, uint64_t r, uint64_t n) {
  MxuTileRun s = run;
  s.first = mxu_run_tile(hw, run, r);
  s.count = n;
  s.accumulating = mxu_accumulating(run.accum, s.first.index, n, run.kt);
  return s;
}

// Visit the tiles of a resolved matmul in order, as runs of identical tiles:
// f(const MxuTileRun&).  A run's first tile has its terms computed as for a
// lone tile; the run only grows over tiles whose terms provably equal them.
template <typename F>
inline void for_each_mxu_tile_run(const hw::HwConfig& hw, const isa::Instruction& in, F&& f) {
  const uint64_t R = hw.mxu.rows, C = hw.mxu.cols;
  const uint64_t M = in[isa::Field::M], K = in[isa::Field::K], N = in[isa::Field::N];
  const bool int4 = in[isa::Field::WType] == 1;
  const uint64_t act = in[isa::Field::Act], acc = in[isa::Field::Acc], as = in[isa::Field::AStride];
  const uint64_t kt = (K + R - 1) / R, nt = (N + C - 1) / C, total = kt * nt;
  const uint32_t lbs = hw.scratchpad.line_bytes(), lba = hw.accumulator.line_bytes();
  // With one row, or row strides of whole lines, every row of a tile touches
  // the same lines: mxu_tile_timing's closed form, with the row count M
  // factored out.  Otherwise each tile is computed by mxu_tile_timing, alone.
  const bool uniform = M == 1 || (as % lbs == 0 && uint64_t(in[isa::Field::CStride]) % lba == 0);
  const uint64_t sbb = hw.scratchpad.bank_bytes(), abb = hw.accumulator.bank_bytes();
  const uint64_t act_rows = (M - 1) * as;  // an activation slice spans act_rows + k bytes
  MxuTileRun run;
  run.kt = kt;
  run.accum = in[isa::Field::Accum] != 0;
  MxuTile& tl = run.first;
  uint64_t wgt = in[isa::Field::Wgt];
  for (uint64_t x = 0; x < total;) {
    const uint64_t j = x / kt, i = x % kt;
    tl.index = static_cast<uint32_t>(x);
    tl.i = static_cast<uint32_t>(i);
    tl.j = static_cast<uint32_t>(j);
    tl.k = static_cast<uint32_t>(std::min(R, K - i * R));
    tl.n = static_cast<uint32_t>(std::min(C, N - j * C));
    tl.wgt = wgt;
    tl.wgt_bytes = tile_weight_bytes(tl.k, tl.n, int4);
    tl.act = act + i * R;
    tl.acc = acc + 4 * j * C;
    tl.accumulate = i > 0 || run.accum;
    tl.last = x + 1 == total;
    tl.wgt_mask = bank_mask(hw.scratchpad, tl.wgt, tl.wgt_bytes);
    tl.act_mask = bank_mask(hw.scratchpad, tl.act, act_rows + tl.k);
    run.count = 1;
    if (uniform) {
      const uint64_t a_lines = lines_touched(tl.act, tl.k, lbs), c_lines = lines_touched(tl.acc, 4 * tl.n, lba);
      tl.t.wgt_lines = tl.t.preload = lines_touched(tl.wgt, tl.wgt_bytes, lbs);
      tl.t.stream = M * std::max(a_lines, c_lines);
      tl.t.act_lines = M * a_lines;
      tl.t.acc_lines = M * c_lines;
      tl.t.drain = R + C;
      // The tiles after this one are identical to it while they have full
      // k-slices (as this one) and its n, are not the last, keep their
      // weights in this tile's one bank, their activation slices in this
      // slice's one bank and their result rows' starts in this tile's
      // accumulator bank, and touch as many lines (lines_touched_constant:
      // the line counts, and so the stream, are then equal).
      const uint64_t wbank = tl.wgt / sbb, abank = tl.act / sbb;
      if (tl.k == R && !tl.last && wbank == (tl.wgt + tl.wgt_bytes - 1) / sbb &&
          abank == (tl.act + act_rows + R - 1) / sbb && lines_touched_constant(tl.wgt, tl.wgt_bytes, tl.wgt_bytes, lbs) &&
          lines_touched_constant(tl.act, R, R, lbs)) {
        // this n-slice's full k-slices
        uint64_t end = j * kt + K / R;
        // later n-slices: all k-slices full and the same n; every k-slice's
        // activations in this bank; every n-slice the same result lines
        // and its start in this tile's accumulator bank
        if (K % R == 0 && tl.n == C && act / sbb == abank && (act + act_rows + K - 1) / sbb == abank &&
            lines_touched_constant(tl.acc, 4 * C, 4 * C, lba)) {
          const uint64_t aend = (tl.acc / abb + 1) * abb;  // slices j' with acc + 4*j'*C < aend
          const uint64_t jend = std::min(N / C, (aend - acc + 4 * C - 1) / (4 * C));
          end = std::max(end, jend * kt);
        } else {
          // the rest of this n-slice: activation slices up to the bank's end
          end = std::min(end, x + ((abank + 1) * sbb - (tl.act + act_rows + R)) / R + 1);
        }
        end = std::min(end, total - 1);
        // weights: wgt + r*wgt_bytes + wgt_bytes <= the bank's end
        end = std::min(end, x + ((wbank + 1) * sbb - tl.wgt) / tl.wgt_bytes);
        run.count = end > x ? end - x : 1;
      }
    } else {
      tl.t = mxu_tile_timing(hw, in, tl);
    }
    run.accumulating = mxu_accumulating(run.accum, x, run.count, kt);
    f(static_cast<const MxuTileRun&>(run));
    x += run.count;
    wgt += run.count * tl.wgt_bytes;
  }
}
// Visit the tiles of a resolved matmul in order, one by one: f(const MxuTile&).
template <typename F>
inline void for_each_mxu_tile(const hw::HwConfig& hw, const isa::Instruction& in, F&& f) {
  for_each_mxu_tile_run(hw, in, [&](const MxuTileRun& run) {
    for (uint64_t r = 0; r < run.count; ++r) f(static_cast<const MxuTile&>(mxu_run_tile(hw, run, r)));
  });
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
// mxu_run, a run of identical tiles at a time, with the same result.  Accepting
// a tile other than an instruction's first is a map G on the pipeline state
// (mxu_ready, then mxu_accept) built from max and + only, so it commutes with
// a shift of every time by d: G(S + d) = G(S) + d.  Once a tile has moved the
// state by a uniform d (its p_end, s_start and s_end all by d, its activation
// banks unchanged), a following tile with the same preload, stream and banks
// moves it by d again, and so does every further one: the rest of the run
// advances by d per tile without visiting the tiles.  (In steady state d is
// max(preload, stream)*P, or (preload + stream)*P when a one-port weight bank
// is read by the previous stream; it is taken from the state, not assumed.)
// Calls f(run, a, d) per part of a run: its tile r is accepted at a + r*d,
// and its state after tile r is the state `pipe` holds on the call minus
// (run.count - 1 - r)*d.  Leaves `pipe` as mxu_run does and returns the same
// completion time.
template <typename F>
inline uint64_t mxu_run_batched(const hw::HwConfig& hw, const isa::Instruction& in, uint64_t start, uint64_t P,
                                MxuPipe& pipe, F&& f) {
  uint64_t drain = 0, a_last = 0;
  MxuPipe before;            // the state before the last accepted tile
  bool shifted = false;      // the last tile was accepted by G (not an instruction's first)
  MxuTile last;              // the last accepted tile's terms
  for_each_mxu_tile_run(hw, in, [&](const MxuTileRun& run) {
    const MxuTile& first = run.first;
    drain = first.t.drain;
    for (uint64_t r = 0; r < run.count;) {
      const uint64_t d = pipe.s_start - before.s_start;
      if (shifted && last.t.preload == first.t.preload && last.t.stream == first.t.stream &&
          last.wgt_mask == first.wgt_mask && last.act_mask == first.act_mask && before.act_mask == pipe.act_mask &&
          pipe.p_end - before.p_end == d && pipe.s_end - before.s_end == d) {
        const uint64_t n = run.count - r;
        const MxuTileRun rest = r ? mxu_subrun(hw, run, r, n) : run;
        const uint64_t a = a_last + d;
        before = pipe;
        before.p_end += (n - 1) * d;
        before.s_start += (n - 1) * d;
        before.s_end += (n - 1) * d;
        pipe.p_end = before.p_end + d;
        pipe.s_start = before.s_start + d;
        pipe.s_end = before.s_end + d;
        a_last = a + (n - 1) * d;
        f(rest, a, d);
        break;
      }
      const MxuTileRun one = run.count == 1 ? run : mxu_subrun(hw, run, r, 1);
      const MxuTile& tl = one.first;
      const uint64_t a = tl.index == 0 ? start : mxu_ready(hw, pipe, tl.wgt_mask);
      before = pipe;
      mxu_accept(pipe, tl, a, P);
      a_last = a;
      shifted = tl.index != 0;
      last = tl;
      f(one, a, uint64_t(0));
      ++r;
    }
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
