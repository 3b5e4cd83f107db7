#include "power_models/energy_model.h"

#include <algorithm>
#include <cstdio>
#include <map>

#include "common/error.h"
#include "common/strf.h"

namespace clonesim::power {

namespace {

// The DVFS domain of each area component (docs/architecture.md: the tiles'
// units and SRAMs are in the compute domain, the DMA engine in the memory
// domain, the controller, its instruction memory and the DVFS registers
// always on).
hw::Domain domain_of(const std::string& key) {
  for (const char* k : {"mxu_macs", "mxu_weight_regs", "mxu_control", "vxu", "sram_routing", "scratchpad", "accumulator"})
    if (key == k) return hw::Domain::Compute;
  if (key == "dma") return hw::Domain::Memory;
  for (const char* k : {"controller", "imem", "dvfs"})
    if (key == k) return hw::Domain::AlwaysOn;
  throw Error("energy model: area component " + key + " has no DVFS domain");
}

// The events of domain d at each of its points.
std::vector<sim::PointActivity> activity(const sim::Stats& st, const hw::HwConfig& hw, hw::Domain d) {
  const size_t P = hw.domain(d).points.size();
  const int di = static_cast<int>(d);
  const auto& a = st.activity[size_t(di)];
  if (a.size() == P) return a;
  if (!a.empty())
    throw Error(strf("energy model: %zu operating points of the %s domain in the statistics, %zu in %s", a.size(),
                     hw::to_string(d), P, hw.name.c_str()));
  const sim::DomainStats& ds = st.domains[size_t(di)];
  if (ds.transitions > 0)
    throw Error(strf("energy model: the %s domain changed operating point but the statistics do not say which "
                     "events ran at which point",
                     hw::to_string(d)));
  std::vector<sim::PointActivity> out(P);
  const uint32_t p = ds.final_point < P ? ds.final_point : hw.domain(d).initial;
  out[p].events = st.events;
  for (const auto& tile : st.sram)
    for (int s = 0; s < 2; ++s)
      for (const sim::BankStats& b : tile[size_t(s)]) {
        out[p].sram_reads[size_t(s)] += b.reads;
        out[p].sram_writes[size_t(s)] += b.writes;
      }
  return out;
}

}  // namespace

double EnergyReport::total_j() const {
  double t = 0;
  for (const ComponentEnergy& c : components) t += c.total_j();
  return t;
}

const ComponentEnergy& EnergyReport::component(const std::string& key) const {
  for (const ComponentEnergy& c : components)
    if (c.key == key) return c;
  throw Error("energy report: no component " + key);
}

EnergyReport energy_report(const sim::Stats& st, const hw::HwConfig& hw, const Tech& tech, const AreaBreakdown& area) {
  if (st.sram.size() != hw.tiles)
    throw Error(strf("energy model: statistics of %zu tiles for %s (%u tiles)", st.sram.size(), hw.name.c_str(),
                     hw.tiles));
  EnergyReport r;
  r.hw_name = hw.name;
  r.tech_name = tech.name;
  r.time_s = double(st.time_ps) * 1e-12;
  r.area_mm2 = area.total_mm2();
  r.ops = 2.0 * double(st.events.macs_int8 + st.events.macs_int4);
  const EnergyTech& E = tech.energy;
  constexpr double pJ = 1e-12;
  // per-event energies at the nominal supply (J)
  const double imem_bytes = double(area.imem_depth) * 32.0;
  const double sp_read = sram_access_pj(tech, double(hw.scratchpad.bank_bytes()), hw.scratchpad.width_bits, false) * pJ,
               sp_write = sram_access_pj(tech, double(hw.scratchpad.bank_bytes()), hw.scratchpad.width_bits, true) * pJ,
               acc_read =
                   sram_access_pj(tech, double(hw.accumulator.bank_bytes()), hw.accumulator.width_bits, false) * pJ,
               acc_write =
                   sram_access_pj(tech, double(hw.accumulator.bank_bytes()), hw.accumulator.width_bits, true) * pJ,
               fetch = (sram_access_pj(tech, imem_bytes, 256, false) + E.instruction_pj.value) * pJ;
  const double weight_tile = double(hw.mxu.rows) * double(hw.mxu.cols) * 8.0 * E.register_bit_pj.value * pJ;
  const double lut_load = 256.0 * 16.0 * E.register_bit_pj.value * pJ;
  const double dma_byte = 2.0 * 8.0 * E.register_bit_pj.value * pJ;  // into the engine's buffer and out
  auto sram_kib = [&](const std::string& key) {
    if (key == "scratchpad") return double(hw.scratchpad.total_bytes()) * hw.tiles / 1024.0;
    if (key == "accumulator") return double(hw.accumulator.total_bytes()) * hw.tiles / 1024.0;
    if (key == "imem") return imem_bytes / 1024.0;
    return 0.0;
  };

  // components: the area model's, each with its domain
  for (const AreaComponent& a : area.components) {
    ComponentEnergy c;
    c.key = a.key;
    c.label = a.label;
    c.domain = hw::to_string(domain_of(a.key));
    r.components.push_back(c);
  }
  auto comp = [&](const std::string& key) -> ComponentEnergy& {
    for (ComponentEnergy& c : r.components)
      if (c.key == key) return c;
    throw Error("energy model: the area model has no component " + key);
  };
  for (int di = 0; di < hw::kNumDomains; ++di) {
    const hw::Domain d = static_cast<hw::Domain>(di);
    const hw::DomainConfig& dc = hw.domain(d);
    const std::vector<sim::PointActivity> act = activity(st, hw, d);
    const sim::DomainStats& ds = st.domains[size_t(di)];
    DomainEnergy de;
    de.domain = hw::to_string(d);
    de.transition_j = ds.transition_nj * 1e-9;
    for (size_t p = 0; p < dc.points.size(); ++p) {
      PointEnergy pe;
      pe.volts = dc.points[p].volts;
      pe.mhz = dc.points[p].mhz;
      pe.time_s = p < ds.time_ps_at_point.size() ? double(ds.time_ps_at_point[p]) * 1e-12 : 0.0;
      const double k = dynamic_scale(tech, pe.volts);
      const sim::Events& ev = act[p].events;
      auto charge = [&](const std::string& key, double j) {
        comp(key).dynamic_j += j * k;
        pe.dynamic_j += j * k;
      };
      switch (d) {
        case hw::Domain::Compute: {
          charge("mxu_macs", double(ev.macs_int8) * E.mac_int8_pj.value * pJ +
                                 double(ev.macs_int4) * E.mac_int4x8_pj.value * pJ);
          charge("mxu_weight_regs", double(ev.mxu_weight_loads) * weight_tile);
          double v = double(ev.lut_loads) * lut_load;
          for (int c = 0; c < sim::kNumVecClasses; ++c) v += double(ev.vec_elems[size_t(c)]) * E.vector_pj[size_t(c)].value * pJ;
          charge("vxu", v);
          charge("scratchpad", double(act[p].sram_reads[0]) * sp_read + double(act[p].sram_writes[0]) * sp_write);
          charge("accumulator", double(act[p].sram_reads[1]) * acc_read + double(act[p].sram_writes[1]) * acc_write);
          break;
        }
        case hw::Domain::Memory:
          charge("dma", double(ev.dma_load_bytes + ev.dma_store_bytes) * dma_byte);
          break;
        case hw::Domain::AlwaysOn:
          charge("imem", double(ev.instructions_fetched) * fetch);
          charge("controller", 2.0 * double(ev.semaphore_signals) * E.semaphore_pj.value * pJ);
          break;
      }
      // leakage of the domain's components over its time at this point
      for (const AreaComponent& a : area.components) {
        if (domain_of(a.key) != d) continue;
        const double logic = a.kind == AreaKind::Logic ? a.mm2 : 0.0;
        const double j = leakage_mw(tech, logic, sram_kib(a.key), pe.volts) * 1e-3 * pe.time_s;
        comp(a.key).leakage_j += j;
        pe.leakage_j += j;
      }
      de.dynamic_j += pe.dynamic_j;
      de.leakage_j += pe.leakage_j;
      de.points.push_back(pe);
    }
    // leakage while the domain changes point (its time is in no point's):
    // at the highest voltage of the domain, an upper bound
    de.transition_s = double(ds.transition_ps) * 1e-12;
    if (ds.transition_ps > 0) {
      double vmax = 0;
      for (const hw::OperatingPoint& op : dc.points) vmax = std::max(vmax, op.volts);
      for (const AreaComponent& a : area.components) {
        if (domain_of(a.key) != d) continue;
        const double j = leakage_mw(tech, a.kind == AreaKind::Logic ? a.mm2 : 0.0, sram_kib(a.key), vmax) * 1e-3 *
                         de.transition_s;
        comp(a.key).leakage_j += j;
        de.leakage_j += j;
      }
    }
    r.domains.push_back(de);
  }
  {
    ComponentEnergy c{"dvfs_transitions", "DVFS transitions", "dvfs", 0, 0};
    for (const DomainEnergy& d : r.domains) c.dynamic_j += d.transition_j;
    r.components.push_back(c);
  }
  {
    const DramEnergy& D = dram_energy(tech, hw.dram.type);
    const dram::ChannelStats& t = st.dram_total;
    r.dram.read_j = double(t.read_bytes) * 8.0 * D.read_pj_per_bit.value * pJ;
    r.dram.write_j = double(t.write_bytes) * 8.0 * D.write_pj_per_bit.value * pJ;
    r.dram.act_pre_j = double(t.activates) * dram_act_pre_nj(tech, hw.dram.type, hw.dram.page_bytes) * 1e-9;
    r.dram.refresh_j =
        double(t.refreshes) * dram_refresh_nj(tech, hw.dram.type, hw.dram.refresh == hw::RefreshMode::PerBank) * 1e-9;
    r.dram.background_j = D.background_mw.value * 1e-3 * double(hw.dram.channels) * r.time_s;
    r.components.push_back({"dram", "DRAM (off-chip)", "dram", r.dram.total_j(), 0});
  }
  return r;
}

EnergyReport slice_energy(const sim::Stats& run, const sim::Slice& s, const hw::HwConfig& hw, const Tech& tech,
                          const AreaBreakdown& area) {
  return energy_report(sim::slice_stats(run, s), hw, tech, area);
}

nlohmann::json regions_json(const sim::Stats& run, const hw::HwConfig& hw, const Tech& tech,
                            const AreaBreakdown& area) {
  nlohmann::json out = nlohmann::json::array();
  for (const sim::Slice& s : run.regions) {
    const EnergyReport e = slice_energy(run, s, hw, tech, area);
    double dyn = 0, leak = 0;
    for (const ComponentEnergy& c : e.components)
      if (c.key != "dram") {
        dyn += c.dynamic_j;
        leak += c.leakage_j;
      }
    nlohmann::json doms;
    for (size_t d = 0; d < e.domains.size(); ++d) {
      nlohmann::json tp = nlohmann::json::array();
      for (const PointEnergy& p : e.domains[d].points) tp.push_back(p.time_s);
      doms[e.domains[d].domain] = {
          {"energy_j", e.domains[d].dynamic_j + e.domains[d].leakage_j + e.domains[d].transition_j},
          {"time_s_at_point", tp},
          {"transitions", s.domains[d].transitions}};
    }
    out.push_back({{"name", s.name},
                   {"start_s", double(s.start_ps) * 1e-12},
                   {"time_s", e.time_s},
                   {"instructions", s.instructions},
                   {"macs", e.ops / 2},
                   {"energy_j", e.total_j()},
                   {"dynamic_j", dyn},
                   {"leakage_j", leak},
                   {"dram_j", e.dram.total_j()},
                   {"avg_power_w", e.avg_power_w()},
                   {"domains", doms}});
  }
  return out;
}

nlohmann::json power_json(const sim::Stats& run, const hw::HwConfig& hw, const Tech& tech, const AreaBreakdown& area) {
  if (run.samples.empty()) return nullptr;
  std::vector<double> t;
  std::map<std::string, std::vector<double>> w;
  for (const sim::Slice& s : run.samples) {
    const EnergyReport e = slice_energy(run, s, hw, tech, area);
    const double len = e.time_s > 0 ? e.time_s : 1;
    t.push_back(double(s.start_ps) * 1e-12);
    for (const DomainEnergy& d : e.domains) w[d.domain].push_back((d.dynamic_j + d.leakage_j + d.transition_j) / len);
    w["dram"].push_back(e.dram.total_j() / len);
    w["total"].push_back(e.total_j() / len);
  }
  nlohmann::json watts;
  for (const auto& [k, v] : w) watts[k] = v;
  return {{"interval_s", double(run.sample_ps) * 1e-12}, {"t_s", t}, {"watts", watts}};
}

EnergyReport idle_report(const hw::HwConfig& hw, const Tech& tech, const AreaBreakdown& area,
                         const std::array<uint32_t, hw::kNumDomains>& point) {
  sim::Stats s;  // one second with no events
  s.design_point = hw.name;
  s.time_ps = 1000000000000ull;
  s.sram.resize(hw.tiles);
  for (int d = 0; d < hw::kNumDomains; ++d) {
    const size_t P = hw.domains[size_t(d)].points.size();
    if (point[size_t(d)] >= P)
      throw Error(strf("energy model: point %u of the %s domain, which has %zu", point[size_t(d)],
                       hw::to_string(static_cast<hw::Domain>(d)), P));
    s.domains[size_t(d)].time_ps_at_point.assign(P, 0);
    s.domains[size_t(d)].time_ps_at_point[point[size_t(d)]] = s.time_ps;
    s.domains[size_t(d)].final_point = point[size_t(d)];
    s.activity[size_t(d)].assign(P, sim::PointActivity{});
  }
  return energy_report(s, hw, tech, area);
}

nlohmann::json energy_json(const EnergyReport& e) {
  nlohmann::json j;
  j["design_point"] = e.hw_name;
  j["technology"] = e.tech_name;
  j["time_s"] = e.time_s;
  j["energy_j"] = e.total_j();
  j["avg_power_w"] = e.avg_power_w();
  j["area_mm2"] = e.area_mm2;
  j["ops"] = e.ops;
  j["tops_per_w"] = e.tops_per_w();
  for (const ComponentEnergy& c : e.components)
    j["components"][c.key] = {{"label", c.label},
                              {"domain", c.domain},
                              {"dynamic_j", c.dynamic_j},
                              {"leakage_j", c.leakage_j},
                              {"energy_j", c.total_j()}};
  for (const DomainEnergy& d : e.domains) {
    nlohmann::json pts = nlohmann::json::array();
    for (const PointEnergy& p : d.points)
      pts.push_back({{"volts", p.volts},
                     {"mhz", p.mhz},
                     {"time_s", p.time_s},
                     {"dynamic_j", p.dynamic_j},
                     {"leakage_j", p.leakage_j}});
    j["domains"][d.domain] = {
        {"dynamic_j", d.dynamic_j}, {"leakage_j", d.leakage_j}, {"transition_j", d.transition_j}, {"points", pts}};
  }
  j["dram"] = {{"read_j", e.dram.read_j},       {"write_j", e.dram.write_j},
               {"act_pre_j", e.dram.act_pre_j}, {"refresh_j", e.dram.refresh_j},
               {"background_j", e.dram.background_j}};
  return j;
}

std::string energy_table(const EnergyReport& e) {
  std::string o = strf("energy of the run on %s with %s: %.6g J in %.6g s (%.4g W average), %.4g TOPS/W\n",
                       e.hw_name.c_str(), e.tech_name.c_str(), e.total_j(), e.time_s, e.avg_power_w(), e.tops_per_w());
  o += strf("%-30s %-10s %14s %14s %14s %6s\n", "component", "domain", "dynamic J", "leakage J", "total J", "%");
  const double T = e.total_j();
  for (const ComponentEnergy& c : e.components)
    o += strf("%-30s %-10s %14.6g %14.6g %14.6g %6.1f\n", c.label.c_str(), c.domain.c_str(), c.dynamic_j, c.leakage_j,
              c.total_j(), T > 0 ? 100.0 * c.total_j() / T : 0.0);
  o += strf("%-30s %-10s %14s %14s %14.6g\n", "total", "", "", "", T);
  for (const DomainEnergy& d : e.domains)
    for (size_t p = 0; p < d.points.size(); ++p)
      if (d.points[p].time_s > 0)
        o += strf("  %-9s point %zu (%.2f V, %.0f MHz): %.6g s, dynamic %.6g J, leakage %.6g J\n", d.domain.c_str(), p,
                  d.points[p].volts, d.points[p].mhz, d.points[p].time_s, d.points[p].dynamic_j, d.points[p].leakage_j);
  return o;
}

}  // namespace clonesim::power
