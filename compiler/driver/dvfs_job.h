// DVFS governors on simulated programs (docs/energy-model.md, "Governors"):
// a program's per-region profile at each operating point of one domain,
// measured on the SystemC model; the governor problem it makes; and a
// schedule run through the simulator, either as `dvfs` instructions in the
// program (offline) or decided at run time by the online governor in the
// DVFS manager (sim::RuntimeGovernor).  Every simulation runs in a child
// process (simulate_in_child).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hw/hw_config.h"
#include "isa/program.h"
#include "power_models/governor.h"
#include "sim/accelerator.h"

namespace clonesim::compiler {

// What one simulated program measured: the whole and each region.
struct MeasuredRun {
  double time_s = 0;
  double energy_j = 0;   // chip and DRAM
  double dram_j = 0;     // the DRAM's part
  double ops = 0;        // 2 x MACs
  std::vector<std::string> region;
  std::vector<double> region_start_s, region_time_s, region_energy_j;
  nlohmann::json dvfs_changes;  // as the run JSON's
  double chip_j() const { return energy_j - dram_j; }
};

// Simulates `p` on `hw` (timing mode with opt's context registers) and reads
// back its energy and regions.  Throws clonesim::Error when the program has
// no regions or the design point's node has no technology file.
// The first region must begin at the program's first instruction.
MeasuredRun measure(const hw::HwConfig& hw, const isa::Program& p, const sim::Options& opt, const std::string& what);

// The profile of `p` in domain `d`: per point, the program run with the
// domain at that point throughout (`free`) and with a change to that point
// at every region's start (`switched`: what a change costs each region,
// the pipeline's drain included).
struct DvfsProfile {
  hw::Domain domain = hw::Domain::Compute;
  std::vector<MeasuredRun> free, switched;  // [point]
  std::vector<double> idle_power_w;         // [point], the others at their initial points
  double idle_dram_w = 0;                   // the DRAM's part of it (background, the same at every point)
  double transition_s = 0, transition_j = 0;
};
DvfsProfile profile_dvfs(const hw::HwConfig& hw, const isa::Program& p, const sim::Options& opt, hw::Domain d,
                         bool switched = true);

// The governor problem of a profile: a layer per region (free costs), the
// change before region i to point b costing switched[b] - free[b] of that
// region (at least the transition), idling at the profile's idle powers.
power::GovernorProblem governor_problem(const DvfsProfile& prof, double deadline_s, size_t initial);
// The profile's layers (the online governor's prediction).
std::vector<power::LayerCost> layer_costs(const DvfsProfile& prof);

// `p` with the schedule's points as dvfs instructions (with_dvfs), simulated
// from `initial`.
MeasuredRun run_schedule(const hw::HwConfig& hw, const isa::Program& p, const sim::Options& opt, hw::Domain d,
                         const std::vector<size_t>& point, size_t initial, const std::string& what);
// `p` with the online governor deciding each region's point at run time
// from `predicted` and the deadline of `problem`.
MeasuredRun run_online(const hw::HwConfig& hw, const isa::Program& p, const sim::Options& opt, hw::Domain d,
                       const power::GovernorProblem& problem, const std::vector<power::LayerCost>& predicted,
                       std::vector<size_t>* chosen, const std::string& what);

}  // namespace clonesim::compiler
