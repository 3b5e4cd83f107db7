// Every unit's latency formula, in one place (docs/timing.md gives the same
// formulas in prose).  The SystemC model calls these; the RTL generator and
// the compiler's cost model use them too.  Functions take the design point
// and a resolved instruction (count field and DRAM address already taken from
// the context registers).
#pragma once

#include <cstdint>
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
struct MxuTiming {
  uint64_t preload = 0;  // cycles to fill the shadow weight registers
  uint64_t stream = 0;   // cycles to stream the M activation rows
  uint64_t drain = 0;    // fill + drain of the array after the last row: R + C
  uint64_t act_lines = 0, wgt_lines = 0, acc_lines = 0;  // SRAM line accesses
};
MxuTiming mxu_timing(const hw::HwConfig& hw, const isa::Instruction& in);
uint64_t weight_bytes(const isa::Instruction& in);  // ceil(K*N*bits/8)

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
