// The energy of a run from the simulator's statistics: hand-computed
// figures (relative 1e-9) for statistics written by hand, the V^2 scaling of
// dynamic energy and the leakage scaling across operating points.
#include <catch2/catch.hpp>

#include <cmath>

#include "isa/program.h"
#include "power_models/energy_model.h"
#include "sim/accelerator.h"
#include "sim_test_util.h"
#include "test_util.h"

using namespace clonesim;
using namespace clonesim::power;

namespace {

constexpr double pJ = 1e-12;

// Statistics of a 1 ms run on `hw` with every domain at its initial point.
sim::Stats hand_stats(const hw::HwConfig& hw) {
  sim::Stats s;
  s.design_point = hw.name;
  s.time_ps = 1000000000;  // 1 ms
  for (int d = 0; d < hw::kNumDomains; ++d) {
    const hw::DomainConfig& dc = hw.domains[size_t(d)];
    s.domains[size_t(d)].time_ps_at_point.assign(dc.points.size(), 0);
    s.domains[size_t(d)].time_ps_at_point[dc.initial] = s.time_ps;
    s.domains[size_t(d)].final_point = dc.initial;
  }
  s.events.macs_int8 = 1000;
  s.events.macs_int4 = 500;
  s.events.mxu_weight_loads = 10;
  s.events.vec_elems = {100, 50, 20, 5, 30};
  s.events.lut_loads = 2;
  s.events.dma_load_bytes = 4096;
  s.events.dma_store_bytes = 1024;
  s.events.instructions_fetched = 77;
  s.events.semaphore_signals = 9;
  s.sram.resize(hw.tiles);
  for (auto& t : s.sram) {
    t[0].assign(hw.scratchpad.banks, {});
    t[1].assign(hw.accumulator.banks, {});
  }
  s.sram[0][0][0] = {40, 30};  // scratchpad: 40 reads, 30 writes
  s.sram[hw.tiles - 1][1][1] = {20, 10};
  s.dram_total.read_bytes = 4096;
  s.dram_total.write_bytes = 1024;
  s.dram_total.activates = 3;
  s.dram_total.refreshes = 2;
  return s;
}

}  // namespace

TEST_CASE("energy model: statistics written by hand, every component by hand", "[energy]") {
  const hw::HwConfig hw = test::design("clone-28nm");
  const Tech t = load_tech_or_named("tech-28nm");
  const AreaBreakdown area = area_model(hw, t);
  const sim::Stats s = hand_stats(hw);
  const EnergyReport e = energy_report(s, hw, t, area);
  const EnergyTech& E = t.energy;
  const double vc = hw.domain(hw::Domain::Compute).points[hw.domain(hw::Domain::Compute).initial].volts;
  const double vm = hw.domain(hw::Domain::Memory).points[hw.domain(hw::Domain::Memory).initial].volts;
  const double va = hw.domain(hw::Domain::AlwaysOn).points[hw.domain(hw::Domain::AlwaysOn).initial].volts;
  const double V0 = t.nominal_volts.value;
  const double kc = (vc / V0) * (vc / V0), km = (vm / V0) * (vm / V0), ka = (va / V0) * (va / V0);
  CHECK(e.component("mxu_macs").dynamic_j ==
        Approx(kc * (1000 * E.mac_int8_pj.value + 500 * E.mac_int4x8_pj.value) * pJ).epsilon(1e-9));
  CHECK(e.component("mxu_weight_regs").dynamic_j ==
        Approx(kc * 10 * hw.mxu.rows * hw.mxu.cols * 8 * E.register_bit_pj.value * pJ).epsilon(1e-9));
  CHECK(e.component("vxu").dynamic_j ==
        Approx(kc *
               (100 * E.vector_pj[0].value + 50 * E.vector_pj[1].value + 20 * E.vector_pj[2].value +
                5 * E.vector_pj[3].value + 30 * E.vector_pj[4].value + 2 * 256 * 16 * E.register_bit_pj.value) *
               pJ)
            .epsilon(1e-9));
  const double spb = double(hw.scratchpad.bank_bytes()), acb = double(hw.accumulator.bank_bytes());
  CHECK(e.component("scratchpad").dynamic_j ==
        Approx(kc *
               (40 * sram_access_pj(t, spb, hw.scratchpad.width_bits, false) +
                30 * sram_access_pj(t, spb, hw.scratchpad.width_bits, true)) *
               pJ)
            .epsilon(1e-9));
  CHECK(e.component("accumulator").dynamic_j ==
        Approx(kc *
               (20 * sram_access_pj(t, acb, hw.accumulator.width_bits, false) +
                10 * sram_access_pj(t, acb, hw.accumulator.width_bits, true)) *
               pJ)
            .epsilon(1e-9));
  CHECK(e.component("dma").dynamic_j == Approx(km * 5120 * 16 * E.register_bit_pj.value * pJ).epsilon(1e-9));
  CHECK(e.component("imem").dynamic_j ==
        Approx(ka * 77 * (sram_access_pj(t, hw.controller.imem_depth * 32.0, 256, false) + E.instruction_pj.value) * pJ).epsilon(1e-9));
  CHECK(e.component("controller").dynamic_j == Approx(ka * 18 * E.semaphore_pj.value * pJ).epsilon(1e-9));
  // leakage: 1 ms at each domain's point
  const double sp_kib = double(hw.scratchpad.total_bytes()) * hw.tiles / 1024;
  CHECK(e.component("scratchpad").leakage_j == Approx(leakage_mw(t, 0, sp_kib, vc) * 1e-3 * 1e-3).epsilon(1e-9));
  CHECK(e.component("vxu").leakage_j ==
        Approx(leakage_mw(t, area.component("vxu").mm2, 0, vc) * 1e-6).epsilon(1e-9));
  CHECK(e.component("dma").leakage_j == Approx(leakage_mw(t, area.component("dma").mm2, 0, vm) * 1e-6).epsilon(1e-9));
  // DRAM, off-chip, not scaled
  const DramEnergy& D = dram_energy(t, hw.dram.type);
  const double dram = 4096 * 8 * D.read_pj_per_bit.value * pJ + 1024 * 8 * D.write_pj_per_bit.value * pJ +
                      3 * dram_act_pre_nj(t, hw.dram.type, hw.dram.page_bytes) * 1e-9 +
                      2 * dram_refresh_nj(t, hw.dram.type, hw.dram.refresh == hw::RefreshMode::PerBank) * 1e-9 +
                      D.background_mw.value * 1e-3 * hw.dram.channels * 1e-3;
  CHECK(e.component("dram").total_j() == Approx(dram).epsilon(1e-9));
  // the components add up to the total; power and efficiency follow from it
  double sum = 0;
  for (const ComponentEnergy& c : e.components) sum += c.total_j();
  CHECK(e.total_j() == Approx(sum).epsilon(1e-12));
  CHECK(e.avg_power_w() == Approx(e.total_j() / 1e-3).epsilon(1e-12));
  CHECK(e.tops_per_w() == Approx(3000.0 / e.total_j() / 1e12).epsilon(1e-12));
  CHECK(e.area_mm2 == Approx(area.total_mm2()).epsilon(1e-12));
  CHECK(energy_json(e)["energy_j"].get<double>() == Approx(e.total_j()).epsilon(1e-12));
  CHECK(energy_table(e).find("DRAM (off-chip)") != std::string::npos);
}

TEST_CASE("energy model: dynamic energy scales with V^2 and leakage with V exp(k V), point by point", "[energy]") {
  const hw::HwConfig hw = test::design("clone-28nm");
  const Tech t = load_tech_or_named("tech-28nm");
  const AreaBreakdown area = area_model(hw, t);
  sim::Stats s = hand_stats(hw);
  // the compute domain: half the time and a third of the MACs at point 0, the rest at its initial point
  const hw::DomainConfig& dc = hw.domain(hw::Domain::Compute);
  const size_t hi = dc.initial;
  s.domains[0].time_ps_at_point[0] = s.time_ps / 2;
  s.domains[0].time_ps_at_point[hi] = s.time_ps / 2;
  s.domains[0].transitions = 1;
  s.domains[0].transition_nj = dc.transition_nj;
  s.activity[0].assign(dc.points.size(), {});
  s.activity[0][0].events.macs_int8 = 300;
  s.activity[0][hi].events.macs_int8 = 600;
  const EnergyReport e = energy_report(s, hw, t, area);
  const double v0 = dc.points[0].volts, v1 = dc.points[hi].volts;
  CHECK(e.component("mxu_macs").dynamic_j ==
        Approx((300 * dynamic_scale(t, v0) + 600 * dynamic_scale(t, v1)) * t.energy.mac_int8_pj.value * pJ)
            .epsilon(1e-9));
  CHECK(dynamic_scale(t, v0) == Approx((v0 / t.nominal_volts.value) * (v0 / t.nominal_volts.value)).epsilon(1e-12));
  const double logic = area.component("mxu_macs").mm2;
  CHECK(e.component("mxu_macs").leakage_j ==
        Approx((leakage_mw(t, logic, 0, v0) + leakage_mw(t, logic, 0, v1)) * 1e-3 * 0.5e-3).epsilon(1e-9));
  CHECK(leakage_mw(t, logic, 0, v0) / leakage_mw(t, logic, 0, v1) ==
        Approx(leakage_scale(t, v0) / leakage_scale(t, v1)).epsilon(1e-9));
  CHECK(e.domains[0].points[0].time_s == Approx(0.5e-3).epsilon(1e-12));
  CHECK(e.component("dvfs_transitions").dynamic_j == Approx(dc.transition_nj * 1e-9).epsilon(1e-12));
  // a transition without the split: a clear error
  s.activity[0].clear();
  CHECK(test::error_of([&] { energy_report(s, hw, t, area); }) ==
        "energy model: the compute domain changed operating point but the statistics do not say which events ran "
        "at which point");
}

// A run with a DVFS change: the simulator splits the events by the point
// they ran at, and the energy model prices each part at its voltage.
TEST_CASE("energy model: a simulated run that changes the compute point, its events split by point", "[energy][sim]") {
  const hw::HwConfig hw = test::design("clone-28nm");
  const Tech t = load_tech_or_named("tech-28nm");
  const isa::Program prog = isa::assemble(
      "matmul act=0x0 wgt=0x1000 m=4 k=32 n=16 acc=0x0\n"
      "dvfs domain=compute point=0\n"
      "matmul act=0x0 wgt=0x1000 m=2 k=32 n=16 acc=0x0\n"
      "matmul act=0x0 wgt=0x1000 m=2 k=32 n=16 acc=0x0\n"
      "halt\n",
      "energy.s");
  sim::Accelerator a("acc", hw, prog, sim::Options{});
  sc_core::sc_start();
  REQUIRE(a.finished());
  const sim::Stats& s = a.stats();
  const size_t hi = hw.domain(hw::Domain::Compute).initial;
  REQUIRE(s.activity[0].size() == hw.domain(hw::Domain::Compute).points.size());
  CHECK(s.activity[0][hi].events.macs_int8 == 4 * 32 * 16);
  CHECK(s.activity[0][0].events.macs_int8 == 2 * 2 * 32 * 16);
  CHECK(s.events.macs_int8 == 8 * 32 * 16);
  // every domain's activity adds up to the run's totals
  for (int d = 0; d < hw::kNumDomains; ++d) {
    uint64_t f = 0;
    for (const auto& p : s.activity[size_t(d)]) f += p.events.instructions_fetched;
    CHECK(f == s.events.instructions_fetched);
  }
  const EnergyReport e = energy_report(s, hw, t, area_model(hw, t));
  const double v0 = hw.domain(hw::Domain::Compute).points[0].volts,
               v1 = hw.domain(hw::Domain::Compute).points[hi].volts;
  CHECK(e.component("mxu_macs").dynamic_j ==
        Approx((2048 * dynamic_scale(t, v1) + 2048 * dynamic_scale(t, v0)) * t.energy.mac_int8_pj.value * pJ)
            .epsilon(1e-9));
  CHECK(e.domains[0].points[0].time_s > 0);
  CHECK(e.domains[0].points[hi].time_s > 0);
  // the points' time and the transition's make the run's
  CHECK(e.domains[0].transition_s == Approx(hw.domain(hw::Domain::Compute).transition_ns * 1e-9).epsilon(1e-12));
  CHECK(e.domains[0].points[0].time_s + e.domains[0].points[hi].time_s + e.domains[0].transition_s ==
        Approx(e.time_s).epsilon(1e-12));
  CHECK(e.component("dvfs_transitions").dynamic_j == Approx(hw.domain(hw::Domain::Compute).transition_nj * 1e-9));
}

// The regions' and the samples' energies add up to the run's, across a DVFS
// change made by the run-time governor.
TEST_CASE("energy model: regions and power samples add up to the run's energy", "[energy][sim][regions]") {
  const hw::HwConfig hw = test::design("clone-28nm");
  const Tech t = load_tech_or_named("tech-28nm");
  const AreaBreakdown area = area_model(hw, t);
  const isa::Program prog = isa::assemble(
      ".region a\n"
      "load dram=0x0 sram=0x1000 bytes=4096\n"
      "matmul act=0x0 wgt=0x1000 m=64 k=32 n=16 acc=0x0\n"
      ".region b\n"
      "matmul act=0x0 wgt=0x1000 m=64 k=32 n=16 acc=0x0\n"
      "store dram=0x8000 sram=0x0 space=acc bytes=1024\n"
      ".region c\n"
      "vmax dst=0x2000 a=0x1000 len=256 b=0x3000 bmode=vec\n"
      "halt\n",
      "slices.s");
  sim::Options opt{sim::Mode::Timing};
  opt.sample_ps = 5000;
  opt.governor.decide = [](size_t r, uint64_t) { return r == 1 ? 0 : -1; };
  sim::Accelerator a("acc", hw, prog, opt);
  sc_core::sc_start();
  REQUIRE(a.finished());
  const sim::Stats& s = a.stats();
  REQUIRE(s.regions.size() == 3);
  REQUIRE(s.samples.size() > 3);
  REQUIRE(s.domains[0].transitions == 1);
  const EnergyReport whole = energy_report(s, hw, t, area);
  double er = 0, es = 0, tr = 0;
  for (const sim::Slice& x : s.regions) {
    const EnergyReport e = slice_energy(s, x, hw, t, area);
    er += e.total_j();
    tr += e.time_s;
  }
  for (const sim::Slice& x : s.samples) es += slice_energy(s, x, hw, t, area).total_j();
  CHECK(er == Approx(whole.total_j()).epsilon(1e-9));
  CHECK(es == Approx(whole.total_j()).epsilon(1e-9));
  CHECK(tr == Approx(whole.time_s).epsilon(1e-12));
  // region b ran at point 0: its MACs at point 0's voltage
  const EnergyReport b = slice_energy(s, s.regions[1], hw, t, area);
  CHECK(b.component("mxu_macs").dynamic_j ==
        Approx(64.0 * 32 * 16 * t.energy.mac_int8_pj.value * pJ *
               dynamic_scale(t, hw.domain(hw::Domain::Compute).points[0].volts))
            .epsilon(1e-9));
  const nlohmann::json rj = regions_json(s, hw, t, area), pj = power_json(s, hw, t, area);
  REQUIRE(rj.size() == 3);
  CHECK(rj[1]["name"] == "b");
  CHECK(rj[1]["domains"]["compute"]["transitions"] == 1);
  REQUIRE(pj["t_s"].size() == s.samples.size());
  double sum = 0;
  for (size_t i = 0; i < s.samples.size(); ++i)
    sum += pj["watts"]["total"][i].get<double>() * double(s.samples[i].end_ps - s.samples[i].start_ps) * 1e-12;
  CHECK(sum == Approx(whole.total_j()).epsilon(1e-9));
}
