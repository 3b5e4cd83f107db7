// DVFS governors on simulated programs (docs/energy-model.md, "Governors"):
// a program's per-region profile at each operating point of one domain,
// measured on the SystemC model; the governor problem it makes; and a
// schedule run through the simulator, either as `dvfs` instructions in the
// program (offline) or decided at run time by the online governor in the
// DVFS manager (sim::RuntimeGovernor).  Every simulation runs in a child
// process (simulate_in_child).
#pragma once

#include <memory>
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
// The offline optimum of `problem` as dvfs instructions in `p`, checked on
// the simulator: when the run ends after the deadline (the plan adds up
// measured regions; a change's drain is not quite additive), the deadline
// planned for is moved earlier by the overshoot and the schedule planned
// again, at most `tries` times.  The domain starts at problem.initial.
struct OfflinePlan {
  power::Schedule schedule;
  isa::Program program;
  MeasuredRun run;      // the last check
  unsigned replans = 0; // plans after the first
};
OfflinePlan plan_offline(const hw::HwConfig& hw, const isa::Program& p, const sim::Options& opt, hw::Domain d,
                         power::GovernorProblem problem, const std::string& what, unsigned tries = 4);

// `p` with the online governor deciding each region's point at run time
// from `predicted` and the deadline of `problem`.
MeasuredRun run_online(const hw::HwConfig& hw, const isa::Program& p, const sim::Options& opt, hw::Domain d,
                       const power::GovernorProblem& problem, const std::vector<power::LayerCost>& predicted,
                       std::vector<size_t>* chosen, const std::string& what);

// ---- A governor for every program of `clonesim run --governor`

enum class GovernorKind { None, Fixed, RaceToIdle, Offline, Online };

struct GovernorOptions {
  GovernorKind kind = GovernorKind::None;  // None: the design point's initial points, no profile
  hw::Domain domain = hw::Domain::Compute; // the governed domain; the others stay at their initial points
  size_t fixed_point = 0;                  // Fixed: the point every region runs at
  double slack = 1.2;                      // a phase's target: slack x its time at the domain's top point
  double ttft_target_s = 0;                // > 0: the prefill's target instead
  double tpot_target_s = 0;                // > 0: every decode step's target instead
};

// "none", "fixed:N", "race", "offline" or "online" (one-line Error naming
// `what` otherwise).  The point of fixed:N is checked by govern().
GovernorKind parse_governor(const std::string& spec, size_t* fixed_point, const std::string& what);
hw::Domain parse_domain(const std::string& name, const std::string& what);
const char* to_string(GovernorKind k);
// Throws a one-line clonesim::Error when `g` does not fit `hw` (fixed:N
// beyond the domain's points) or its slack is below 1.
void check_governor(const GovernorOptions& g, const hw::HwConfig& hw);

// A program ready to be simulated under its governor: the design point (the
// governed domain's initial point set), the program (the offline schedule
// as dvfs instructions) and the options (the online governor deciding at
// run time), with the plan.  Made by profiling the program at every point
// of the domain (profile_dvfs: 2 x points simulations, timing mode).
struct GovernedProgram {
  hw::HwConfig hw;
  isa::Program program;
  sim::Options opt;
  double target_s = 0;
  size_t top = 0;                              // the domain's fastest point
  std::vector<size_t> planned;                 // per region (the online governor: the fixed top, a fallback)
  std::shared_ptr<const DvfsProfile> profile;  // kept alive: the problem and the online governor refer to it
  std::shared_ptr<const power::GovernorProblem> problem;
  power::Schedule plan;                        // what the governor planned from the profile
  unsigned replans = 0;                        // offline: plans after the first (plan_offline)
};
// `target_s` > 0: the phase's target; else opt's slack x the time at the top point.
GovernedProgram govern(const hw::HwConfig& hw, const isa::Program& p, const sim::Options& opt,
                       const GovernorOptions& g, double target_s, const std::string& what);

// The "governor" object of a simulated phase (its stats as simulate_in_child
// returns them, with energy and dvfs_changes): name, domain, target_s,
// time_s, met, the points each region ran at, and the energy over the
// target window (the run, then idle at its last point until the target:
// window_energy_j, window_chip_energy_j) beside the fixed top point's
// (top_window_energy_j, top_window_chip_energy_j, from the profile).
nlohmann::json governed_phase_json(const GovernedProgram& gp, const GovernorOptions& g, const nlohmann::json& stats);

// Each region's point in a run: the last change of domain `d` begun at or
// before the region's start (`initial` before any).
std::vector<size_t> points_per_region(const std::vector<double>& region_start_s, const nlohmann::json& dvfs_changes,
                                      hw::Domain d, size_t initial);

}  // namespace clonesim::compiler
