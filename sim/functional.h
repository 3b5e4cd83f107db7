// The data semantics of every instruction (docs/isa.md, docs/numerics.md),
// applied atomically when the instruction completes.  Timing lives in
// timing.h; this file only moves and computes data.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "hw/hw_config.h"
#include "isa/isa.h"
#include "sim/memory.h"

namespace clonesim::sim {

using Lut = std::array<int16_t, isa::kLutEntries>;

// `in` is resolved (counts and DRAM address final) and checked against the
// design point.  `tiles` lists the tiles the instruction acts on.
void exec_load(const isa::Instruction& in, const SparseMemory& dram, std::vector<TileMemory*> tiles);
void exec_store(const isa::Instruction& in, SparseMemory& dram, const TileMemory& tile);
// A matmul of any K x N: its array tiles one after the other, in the MXU's
// order (sim/timing.h for_each_mxu_tile), on tile-major packed weights.
void exec_matmul(const hw::HwConfig& hw, const isa::Instruction& in, TileMemory& tile);
void exec_vector(const isa::Instruction& in, TileMemory& tile, std::array<Lut, isa::kNumLuts>& luts);

}  // namespace clonesim::sim
