// Perfetto / Chrome trace-event JSON timeline: one track per unit, one slice
// per executed instruction, DVFS transitions and frequency counters per domain.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "sim/accelerator.h"

namespace clonesim::sim {

nlohmann::json chrome_trace(const Accelerator& acc, const isa::Program& program);

}  // namespace clonesim::sim
