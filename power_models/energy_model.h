// Energy of a simulated run (docs/energy-model.md, "Energy accounting"):
// the simulator's events (sim::Stats) priced with a technology file's
// per-event energies, each domain's dynamic energy scaled with the voltage
// of the operating point the events ran at, leakage integrated over each
// domain's time at each point, the DVFS transitions, and the off-chip DRAM
// (reads, writes, activates, refreshes, background power).
//
// The components are the area model's (power_models/area_model.h), so the
// energy of a component and its area line up, plus two that have no area
// on the chip: the DVFS transitions and the DRAM.
#pragma once

#include <array>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hw/hw_config.h"
#include "power_models/area_model.h"
#include "power_models/tech.h"
#include "sim/stats.h"

namespace clonesim::power {

struct ComponentEnergy {
  std::string key, label;
  std::string domain;     // "compute", "memory", "always_on", or "dram" (off-chip, not scaled)
  double dynamic_j = 0;
  double leakage_j = 0;
  double total_j() const { return dynamic_j + leakage_j; }
};

struct PointEnergy {
  double volts = 0, mhz = 0;
  double time_s = 0;
  double dynamic_j = 0, leakage_j = 0;
};

struct DomainEnergy {
  std::string domain;
  std::vector<PointEnergy> points;  // per operating point
  double transition_j = 0;
  double transition_s = 0;              // time changing point (leakage at the domain's highest voltage)
  double dynamic_j = 0, leakage_j = 0;  // over the points and transitions
};

struct DramEnergyBreakdown {
  double read_j = 0, write_j = 0, act_pre_j = 0, refresh_j = 0, background_j = 0;
  double total_j() const { return read_j + write_j + act_pre_j + refresh_j + background_j; }
};

struct EnergyReport {
  std::string hw_name, tech_name;
  double time_s = 0;
  std::vector<ComponentEnergy> components;  // the area model's, then "dvfs_transitions", "dram"
  std::vector<DomainEnergy> domains;        // compute, memory, always_on
  DramEnergyBreakdown dram;
  double ops = 0;        // 2 x MACs
  double area_mm2 = 0;   // the area model's total
  double total_j() const;
  double avg_power_w() const { return time_s > 0 ? total_j() / time_s : 0; }
  double tops_per_w() const { return total_j() > 0 ? ops / total_j() / 1e12 : 0; }
  const ComponentEnergy& component(const std::string& key) const;  // throws Error if absent
};

// Throws clonesim::Error when the statistics do not say at which point the
// events ran (a domain changed point but `activity` is empty) or do not
// match the design point.
EnergyReport energy_report(const sim::Stats& stats, const hw::HwConfig& hw, const Tech& tech,
                           const AreaBreakdown& area);

// The energy of one slice of a run (a region or a power sample), priced as a
// run of its own: its dynamic energy at the points its events ran at, the
// leakage over its time, the transitions begun in it, the DRAM's work and
// background power over its time.  The slices of a run add up to the run.
EnergyReport slice_energy(const sim::Stats& run, const sim::Slice& s, const hw::HwConfig& hw, const Tech& tech,
                          const AreaBreakdown& area);

// Per region: [{"name", "start_s", "time_s", "instructions", "macs", "energy_j",
// "dynamic_j", "leakage_j", "dram_j", "avg_power_w", "domains": {compute:
// {"energy_j", "time_s_at_point": [...]}, ...}}].
nlohmann::json regions_json(const sim::Stats& run, const hw::HwConfig& hw, const Tech& tech,
                            const AreaBreakdown& area);
// Power over time: {"interval_s", "t_s": [start of each sample], "watts":
// {"compute": [...], "memory": [...], "always_on": [...], "dram": [...],
// "total": [...]}} (a domain's includes its transitions; the last sample may
// be shorter).  Null when the run was not sampled.
nlohmann::json power_json(const sim::Stats& run, const hw::HwConfig& hw, const Tech& tech, const AreaBreakdown& area);

// The power the chip and its DRAM draw while idle (leakage of every
// component at its domain's voltage, DRAM background), with each domain at
// `point[d]` (W).
EnergyReport idle_report(const hw::HwConfig& hw, const Tech& tech, const AreaBreakdown& area,
                         const std::array<uint32_t, hw::kNumDomains>& point);  // of one idle second
inline double idle_power_w(const hw::HwConfig& hw, const Tech& tech, const AreaBreakdown& area,
                           const std::array<uint32_t, hw::kNumDomains>& point) {
  return idle_report(hw, tech, area, point).total_j();
}

nlohmann::json energy_json(const EnergyReport& e);
std::string energy_table(const EnergyReport& e);

}  // namespace clonesim::power
