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

OfflinePlan plan_offline(const hw::HwConfig& hw, const isa::Program& p, const sim::Options& opt, hw::Domain d,
                         power::GovernorProblem problem, const std::string& what, unsigned tries) {
  const double target = problem.deadline_s;
  OfflinePlan out;
  for (unsigned k = 0;; ++k) {
    out.schedule = power::offline_optimum(problem);
    const std::vector<uint32_t> pts(out.schedule.point.begin(), out.schedule.point.end());
    out.program = with_dvfs(p, hw, d, pts, uint32_t(problem.initial));
    out.run = measure(at_point(hw, d, problem.initial), out.program, opt, what);
    out.replans = k;
    const double over = out.run.time_s - target;
    if (over <= 0 || !out.schedule.meets || k + 1 >= tries) break;
    problem.deadline_s -= over;  // plan for that much less
  }
  return out;
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
  if (chosen) *chosen = points_per_region(m.region_start_s, m.dvfs_changes, d, problem.initial);
  return m;
}

std::vector<size_t> points_per_region(const std::vector<double>& region_start_s, const nlohmann::json& dvfs_changes,
                                      hw::Domain d, size_t initial) {
  std::vector<size_t> out(region_start_s.size(), initial);
  size_t cur = initial, k = 0;
  const std::string dn = hw::to_string(d);
  for (size_t r = 0; r < region_start_s.size(); ++r) {
    for (; k < dvfs_changes.size() && dvfs_changes[k].at("start_s").get<double>() <= region_start_s[r]; ++k)
      if (dvfs_changes[k].at("domain").get<std::string>() == dn) cur = dvfs_changes[k].at("point").get<size_t>();
    out[r] = cur;
  }
  return out;
}

// ---- clonesim run --governor

const char* to_string(GovernorKind k) {
  switch (k) {
    case GovernorKind::None: return "none";
    case GovernorKind::Fixed: return "fixed";
    case GovernorKind::RaceToIdle: return "race";
    case GovernorKind::Offline: return "offline";
    case GovernorKind::Online: return "online";
  }
  return "?";
}

GovernorKind parse_governor(const std::string& spec, size_t* fixed_point, const std::string& what) {
  for (GovernorKind k : {GovernorKind::None, GovernorKind::RaceToIdle, GovernorKind::Offline, GovernorKind::Online})
    if (spec == to_string(k)) return k;
  if (spec.rfind("fixed:", 0) == 0) {
    const std::string n = spec.substr(6);
    if (!n.empty() && n.size() <= 3 && n.find_first_not_of("0123456789") == std::string::npos) {
      if (fixed_point) *fixed_point = std::stoul(n);
      return GovernorKind::Fixed;
    }
  }
  throw Error(what + ": expected none, fixed:POINT (an operating point's index), race, offline or online, got '" +
              spec + "'");
}

hw::Domain parse_domain(const std::string& name, const std::string& what) {
  for (hw::Domain d : {hw::Domain::Compute, hw::Domain::Memory, hw::Domain::AlwaysOn})
    if (name == hw::to_string(d)) return d;
  throw Error(what + ": expected compute, memory or always_on, got '" + name + "'");
}

void check_governor(const GovernorOptions& g, const hw::HwConfig& hw) {
  const size_t top = hw.domain(g.domain).points.size() - 1;
  if (g.kind == GovernorKind::Fixed && g.fixed_point > top)
    throw Error(strf("--governor fixed:%zu: the %s domain of %s has points 0..%zu", g.fixed_point,
                     hw::to_string(g.domain), hw.name.c_str(), top));
  if (!(g.slack >= 1)) throw Error(strf("--slack %g: expected a factor of at least 1", g.slack));
}

GovernedProgram govern(const hw::HwConfig& hw, const isa::Program& p, const sim::Options& opt,
                       const GovernorOptions& g, double target_s, const std::string& what) {
  if (g.kind == GovernorKind::None) throw Error(what + ": no governor to plan with");
  check_governor(g, hw);
  GovernedProgram gp;
  gp.top = hw.domain(g.domain).points.size() - 1;
  const bool switched = g.kind == GovernorKind::Offline || g.kind == GovernorKind::Online;
  auto prof = std::make_shared<DvfsProfile>(profile_dvfs(hw, p, opt, g.domain, switched));
  gp.profile = prof;
  gp.target_s = target_s > 0 ? target_s : g.slack * prof->free[gp.top].time_s;
  auto prob = std::make_shared<power::GovernorProblem>(governor_problem(*prof, gp.target_s, gp.top));
  gp.problem = prob;
  gp.hw = at_point(hw, g.domain, g.kind == GovernorKind::Fixed ? g.fixed_point : gp.top);
  gp.program = p;
  gp.opt = opt;
  switch (g.kind) {
    case GovernorKind::Fixed: gp.plan = power::fixed_point(*prob, g.fixed_point); break;
    case GovernorKind::RaceToIdle: gp.plan = power::race_to_idle(*prob); break;
    case GovernorKind::Offline: {
      OfflinePlan op = plan_offline(gp.hw, p, opt, g.domain, *prob, what + ", offline schedule");
      gp.plan = op.schedule;
      gp.program = std::move(op.program);
      gp.replans = op.replans;
      break;
    }
    case GovernorKind::Online: {
      // the governor's prediction: this program's profile (bench/dvfs_governors predicts from another context's)
      const std::vector<power::LayerCost> pred = layer_costs(*prof);
      gp.plan = power::online_governor(*prob, pred);
      auto og = std::make_shared<power::OnlineGovernor>(*prob, pred);
      gp.opt.governor.domain = g.domain;
      gp.opt.governor.decide = [og, prob, prof](size_t r, uint64_t now_ps) {
        return int(og->decide(r, double(now_ps) * 1e-12));
      };
      break;
    }
    case GovernorKind::None: break;
  }
  gp.planned = gp.plan.point;
  return gp;
}

nlohmann::json governed_phase_json(const GovernedProgram& gp, const GovernorOptions& g, const nlohmann::json& stats) {
  const DvfsProfile& prof = *gp.profile;
  const double time = stats.at("time_s").get<double>();
  const nlohmann::json& en = stats.at("energy");
  const double energy = en.at("energy_j").get<double>();
  const double dram = en.at("components").at("dram").at("energy_j").get<double>();
  std::vector<double> start;
  for (const nlohmann::json& r : stats.at("regions")) start.push_back(r.at("start_s").get<double>());
  const nlohmann::json changes = stats.value("dvfs_changes", nlohmann::json::array());
  const size_t initial = size_t(gp.hw.domain(g.domain).initial);
  const std::vector<size_t> ran = points_per_region(start, changes, g.domain, initial);
  // the domain's point when the run ends (race-to-idle then switches to its idle point)
  size_t last = initial;
  for (const nlohmann::json& c : changes)
    if (c.at("domain").get<std::string>() == hw::to_string(g.domain)) last = c.at("point").get<size_t>();
  double switch_j = 0;
  if (g.kind == GovernorKind::RaceToIdle && gp.plan.idle_point != last && time < gp.target_s) {
    switch_j = gp.problem->switch_cost(last, gp.plan.idle_point).energy_j;
    last = gp.plan.idle_point;
  }
  const double idle_s = std::max(0.0, gp.target_s - time);
  const double idle_w = prof.idle_power_w.at(last), idle_chip_w = idle_w - prof.idle_dram_w;
  const MeasuredRun& top = prof.free.at(gp.top);
  const double top_idle_s = std::max(0.0, gp.target_s - top.time_s);
  nlohmann::json j;
  j["name"] = to_string(g.kind);
  j["domain"] = hw::to_string(g.domain);
  j["target_s"] = gp.target_s;
  j["time_s"] = time;
  j["met"] = time <= gp.target_s;
  j["planned_time_s"] = gp.plan.time_s;
  if (g.kind == GovernorKind::Offline) j["replans"] = gp.replans;
  j["planned_points"] = gp.planned;
  j["points"] = ran;
  j["idle_point"] = last;
  j["window_energy_j"] = energy + switch_j + idle_s * idle_w;
  j["window_chip_energy_j"] = energy - dram + switch_j + idle_s * idle_chip_w;
  j["top_time_s"] = top.time_s;
  j["top_window_energy_j"] = top.energy_j + top_idle_s * prof.idle_power_w.at(gp.top);
  j["top_window_chip_energy_j"] = top.chip_j() + top_idle_s * (prof.idle_power_w.at(gp.top) - prof.idle_dram_w);
  return j;
}

}  // namespace clonesim::compiler
