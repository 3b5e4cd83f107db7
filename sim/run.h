// Run one program on one design point in this process: elaborates an
// Accelerator, runs the SystemC kernel to the end, returns what it measured.
// One SystemC kernel per process: call this at most once per process.
#pragma once

#include <functional>
#include <string>

#include "sim/accelerator.h"

namespace clonesim::sim {

// Throws clonesim::Error if the run fails (a malformed program on this design
// point, a deadlock).  `setup` runs after elaboration, before the simulation;
// `inspect` runs after it, with the final memories.
void run_program(const hw::HwConfig& hw, const isa::Program& program, const Options& opt,
                 const std::function<void(Accelerator&)>& setup,
                 const std::function<void(const Accelerator&)>& inspect);

}  // namespace clonesim::sim
