#include "driver/dvfs_job.h"

#include <algorithm>
#include <memory>

#include "common/error.h"
#include "common/strf.h"
#include "driver/run_job.h"
#include "lower/dvfs_program.h"
#include "power_models/area_model.h"
#include "power_models/energy_model.h"
#include "power_models/tech.h"

namespace clonesim::compiler {

namespace {

hw::HwConfig at_point(hw::HwConfig hw, hw::Domain d, size_t q) {
  hw.domains[size_t(d)].initial = static_cast<uint32_t>(q);
  return hw;
}

}  // namespace

MeasuredRun measure(const hw::HwConfig& hw, const isa::Program& p, const sim::Options& opt, const std::string& what) {
  if (p.regions.empty() || p.regions[0].first != 0)
    throw Error(what + ": the program has no regions, or its first does not begin at its first instruction");
  sim::Options so = opt;
  so.mode = sim::Mode::Timing;
  so.sample_ps = 0;
  const nlohmann::json s = simulate_in_child(hw, p, {}, so, what).stats;
  if (!s.contains("energy") || !s.contains("regions"))
    throw Error(what + ": no energy (no technology file for " + std::to_string(hw.technology_nm) + " nm)");
  MeasuredRun m;
  m.time_s = s.at("time_s").get<double>();
  m.energy_j = s.at("energy").at("energy_j").get<double>();
  m.dram_j = s.at("energy").at("components").at("dram").at("energy_j").get<double>();
  m.ops = s.at("energy").at("ops").get<double>();
  for (const nlohmann::json& r : s.at("regions")) {
    m.region.push_back(r.at("name").get<std::string>());
    m.region_start_s.push_back(r.at("start_s").get<double>());
    m.region_time_s.push_back(r.at("time_s").get<double>());
    m.region_energy_j.push_back(r.at("energy_j").get<double>());
  }
  m.dvfs_changes = s.value("dvfs_changes", nlohmann::json::array());
  return m;
}

DvfsProfile profile_dvfs(const hw::HwConfig& hw, const isa::Program& p, const sim::Options& opt, hw::Domain d,
                         bool switched) {
  DvfsProfile prof;
  prof.domain = d;
  const hw::DomainConfig& dc = hw.domain(d);
  const power::Tech tech = power::load_tech_or_named(power::default_tech_name(hw.technology_nm));
  const power::AreaBreakdown area = power::area_model(hw, tech);
  std::array<uint32_t, hw::kNumDomains> idle{};
  for (int k = 0; k < hw::kNumDomains; ++k) idle[size_t(k)] = hw.domains[size_t(k)].initial;
  for (size_t q = 0; q < dc.points.size(); ++q) {
    const hw::HwConfig hq = at_point(hw, d, q);
    const std::string at = strf("%s at %s point %zu (%.0f MHz)", p.source.c_str(), hw::to_string(d), q, dc.points[q].mhz);
    prof.free.push_back(measure(hq, p, opt, at));
    if (switched) {
      const std::vector<uint32_t> same(p.regions.size(), static_cast<uint32_t>(q));
      prof.switched.push_back(measure(hq, with_dvfs(p, hq, d, same, uint32_t(q), true), opt, at + ", changes at every region"));
    }
    idle[size_t(d)] = static_cast<uint32_t>(q);
    const power::EnergyReport ir = power::idle_report(hw, tech, area, idle);
    prof.idle_power_w.push_back(ir.total_j());
    prof.idle_dram_w = ir.dram.total_j();
  }
  prof.transition_s = double(dc.transition_ps) * 1e-12;
  prof.transition_j = dc.transition_nj * 1e-9;
  return prof;
}

std::vector<power::LayerCost> layer_costs(const DvfsProfile& prof) {
  const size_t P = prof.free.size(), R = P ? prof.free[0].region.size() : 0;
  std::vector<power::LayerCost> out(R);
  for (size_t r = 0; r < R; ++r)
    for (size_t q = 0; q < P; ++q) {
      out[r].time_s.push_back(prof.free[q].region_time_s.at(r));
      out[r].energy_j.push_back(prof.free[q].region_energy_j.at(r));
    }
  return out;
}

power::GovernorProblem governor_problem(const DvfsProfile& prof, double deadline_s, size_t initial) {
  power::GovernorProblem g;
  g.layers = layer_costs(prof);
  g.initial = initial;
  g.deadline_s = deadline_s;
  g.idle_power_w = prof.idle_power_w;
  const double ts = prof.transition_s, tj = prof.transition_j;
  g.switch_cost = [ts, tj](size_t, size_t) { return power::SwitchCost{ts, tj}; };
  if (!prof.switched.empty()) {
    // what a change before region i costs it at its new point b, measured
    const DvfsProfile* pr = &prof;
    g.layer_switch_cost = [pr, ts, tj](size_t i, size_t, size_t b) {
      const double dt = pr->switched[b].region_time_s.at(i) - pr->free[b].region_time_s.at(i);
      const double de = pr->switched[b].region_energy_j.at(i) - pr->free[b].region_energy_j.at(i);
      return power::SwitchCost{std::max(dt, ts), std::max(de, tj)};
    };
  }
  return g;
}

MeasuredRun run_schedule(const hw::HwConfig& hw, const isa::Program& p, const sim::Options& opt, hw::Domain d,
                         const std::vector<size_t>& point, size_t initial, const std::string& what) {
  const std::vector<uint32_t> pts(point.begin(), point.end());
  return measure(at_point(hw, d, initial), with_dvfs(p, hw, d, pts, uint32_t(initial)), opt, what);
}

MeasuredRun run_online(const hw::HwConfig& hw, const isa::Program& p, const sim::Options& opt, hw::Domain d,
                       const power::GovernorProblem& problem, const std::vector<power::LayerCost>& predicted,
                       std::vector<size_t>* chosen, const std::string& what) {
  if (predicted.size() != p.regions.size())
    throw Error(strf("%s: a prediction of %zu regions for a program of %zu", what.c_str(), predicted.size(),
                     p.regions.size()));
  // the governor runs in the simulation's process; its choices come back in the DVFS log
  auto g = std::make_shared<power::OnlineGovernor>(problem, predicted);
  sim::Options so = opt;
  so.governor.domain = d;
  so.governor.decide = [g](size_t r, uint64_t now_ps) { return int(g->decide(r, double(now_ps) * 1e-12)); };
  MeasuredRun m = measure(at_point(hw, d, problem.initial), p, so, what);
  if (chosen) {
    // each region's point: the last change begun at or before its start
    chosen->assign(m.region_start_s.size(), problem.initial);
    const std::vector<double>& start = m.region_start_s;
    size_t cur = problem.initial, k = 0;
    const nlohmann::json& ch = m.dvfs_changes;
    for (size_t r = 0; r < start.size(); ++r) {
      while (k < ch.size() && ch[k].at("start_s").get<double>() <= start[r]) cur = ch[k++].at("point").get<size_t>();
      (*chosen)[r] = cur;
    }
  }
  return m;
}

}  // namespace clonesim::compiler
