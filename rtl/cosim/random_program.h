// Seeded random programs for the co-simulation regression and the model's own
// tests.  A program is `epochs` epochs, each closed by a draining barrier
// (`dvfs domain=compute point=<initial>`), then `halt`.  Within an epoch it
// mixes independent vector ops, matmuls and loads with producer -> consumer
// chains ordered by semaphores (load -> vector/matmul -> store, matmul ->
// vrequant -> store, broadcast loads, fan-out, DRAM read-back, ...), plus
// nop, ctx.* and count/address registers (the count field and, with
// cnt_alt, matmul k and load/store bytes).
//
// Every program is legal on `hw` (each instruction passes
// sim::check_against, and it cannot deadlock) and race-free: two
// instructions that may run at the same time never touch overlapping bytes
// where one writes, unless a semaphore (or the in-order vector / matrix unit
// of a tile) orders them.  Bank conflicts between units are deliberate.
//
// Loads read DRAM in [0, 0x100000); stores write fresh, disjoint areas from
// 0x1000000 up.  The output depends only on `hw` and `seed`.
#pragma once

#include <cstdint>
#include <string>

#include "hw/hw_config.h"

namespace clonesim::cosim {

// Assembly text (assemble with isa::assemble(text, name)).
std::string random_program(const hw::HwConfig& hw, uint64_t seed, unsigned epochs = 6);

}  // namespace clonesim::cosim
