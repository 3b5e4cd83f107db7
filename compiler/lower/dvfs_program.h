// DVFS schedules into programs: a `dvfs` instruction at the start of each
// region (isa::Region) whose operating point differs from the one before, so
// that a governor's per-layer schedule runs through the simulator and the
// RTL like any other program (docs/energy-model.md, "Governors").
#pragma once

#include <cstdint>
#include <vector>

#include "hw/hw_config.h"
#include "isa/program.h"

namespace clonesim::compiler {

// `p` with domain `d` set to point[r] from region r on: a `dvfs` before the
// first instruction of each region whose point differs from the previous
// region's (from `initial` for the first), and that region's `first` moved
// onto it.  With `every`, a `dvfs` at every region's start, even to the same
// point (profiling what a change costs a region).  Throws clonesim::Error
// (one line) when point.size() differs from the number of regions or a point
// is not one of the domain's.
isa::Program with_dvfs(const isa::Program& p, const hw::HwConfig& hw, hw::Domain d, const std::vector<uint32_t>& point,
                       uint32_t initial, bool every = false);

}  // namespace clonesim::compiler
