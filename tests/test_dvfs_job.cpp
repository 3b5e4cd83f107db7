// DVFS schedules through the simulator: with_dvfs puts a schedule into a
// program; the offline optimum of a measured profile, run as dvfs
// instructions, meets its deadline at the energy it planned; the online
// governor, deciding at run time, meets it too.  Each simulation runs in a
// child process (simulate_in_child).
#include <catch2/catch.hpp>

#include "driver/compile_job.h"
#include "driver/dvfs_job.h"
#include "driver/run_job.h"
#include "lower/decode_program.h"
#include "lower/dvfs_program.h"
#include "sim_test_util.h"
#include "test_util.h"

using namespace clonesim;
using namespace clonesim::compiler;

namespace {

struct TinyDecode {
  hw::HwConfig hw = test::design("clone-28nm");
  PreparedModel m;
  DecodeProgram d;
  sim::Options so;
  TinyDecode() {
    ModelSpec s;
    s.model = "tiny";
    s.weights = "none";
    m = prepare_model(s);
    d = build_decode_program(m.qm, hw, 20);
    so.mode = sim::Mode::Timing;
    so.ctx = decode_context(d, 20, 3);
  }
};

}  // namespace

TEST_CASE("with_dvfs: a dvfs instruction where the point changes, the region moved onto it", "[dvfs]") {
  const hw::HwConfig hw = test::design("clone-28nm");
  const isa::Program p = isa::assemble(
      ".region a\nnop\nnop\n.region b\nnop\n.region c\nnop\n.region d\nnop\nhalt\n", "four.s");
  const isa::Program q = with_dvfs(p, hw, hw::Domain::Compute, {4, 1, 1, 0}, 4);
  CHECK(isa::disassemble(q) ==
        isa::disassemble(isa::assemble(".region a\nnop\nnop\n.region b\ndvfs domain=compute point=1\nnop\n.region c\n"
                                       "nop\n.region d\ndvfs domain=compute point=0\nnop\nhalt\n",
                                       "four.s")));
  REQUIRE(q.regions.size() == 4);
  CHECK(q.regions[1].first == 2);
  CHECK(q.regions[3].first == 5);
  // every region, even to the same point
  const isa::Program e = with_dvfs(p, hw, hw::Domain::Memory, {2, 2, 2, 2}, 2, true);
  CHECK(e.code.size() == p.code.size() + 4);
  CHECK(e.regions[0].first == 0);
  CHECK(e.code[0].op == isa::Opcode::Dvfs);
  CHECK(test::error_of([&] { with_dvfs(p, hw, hw::Domain::Compute, {0, 0}, 4); }) ==
        "four.s: 2 DVFS points for 4 regions");
  CHECK(test::error_of([&] { with_dvfs(p, hw, hw::Domain::Memory, {0, 0, 3, 0}, 2); }) ==
        "four.s: region 2 (c): point 3, the memory domain of clone-28nm has 3");
}

TEST_CASE("dvfs job: the offline optimum of a measured profile meets its deadline through the simulator",
          "[dvfs][sim]") {
  TinyDecode t;
  const hw::Domain dom = hw::Domain::Compute;
  const DvfsProfile prof = profile_dvfs(t.hw, t.d.program, t.so, dom);
  const size_t P = t.hw.domain(dom).points.size(), top = P - 1;
  REQUIRE(prof.free.size() == P);
  REQUIRE(prof.switched.size() == P);
  const size_t R = t.d.program.regions.size();
  REQUIRE(prof.free[top].region.size() == R);
  CHECK(prof.free[top].region.front() == "embedding");
  CHECK(prof.free[top].region.back() == "lm_head");
  // regions add up to the program; a slower point takes longer and less chip energy
  double tsum = 0;
  for (double x : prof.free[top].region_time_s) tsum += x;
  CHECK(tsum == Approx(prof.free[top].time_s).epsilon(1e-12));
  CHECK(prof.free[0].time_s > prof.free[top].time_s);
  CHECK(prof.free[0].chip_j() < prof.free[top].chip_j());
  // a change at every region costs at least its transitions
  CHECK(prof.switched[top].time_s >= prof.free[top].time_s + double(R) * prof.transition_s);

  // a deadline between the slowest and the fastest point: the optimum mixes
  const double deadline = 0.5 * (prof.free[0].time_s + prof.free[top].time_s);
  const power::GovernorProblem prob = governor_problem(prof, deadline, top);
  const power::Schedule off = power::offline_optimum(prob);
  REQUIRE(off.meets);
  const MeasuredRun run = run_schedule(t.hw, t.d.program, t.so, dom, off.point, top, "offline");
  INFO("planned " << off.time_s << " s, simulated " << run.time_s << " s, deadline " << deadline);
  CHECK(run.time_s <= deadline);
  // the plan prices the layers and the changes from the measured profile: the
  // simulated run is within 2% of it
  CHECK(run.time_s == Approx(off.time_s).epsilon(0.02));
  // every change in the plan is a transition in the run
  size_t changes = 0, cur = top;
  for (size_t q : off.point) changes += q != cur, cur = q;
  CHECK(run.dvfs_changes.size() == changes);
  CHECK(run.chip_j() < prof.free[top].chip_j());

  // the online governor, at run time, with the profile as its prediction
  std::vector<size_t> chosen;
  const MeasuredRun on = run_online(t.hw, t.d.program, t.so, dom, prob, layer_costs(prof), &chosen, "online");
  CHECK(on.time_s <= deadline);
  REQUIRE(chosen.size() == R);
  CHECK(on.chip_j() < prof.free[top].chip_j());
  // each change as the run JSON has it: the domain, the point with its MHz and volts, the transition
  REQUIRE_FALSE(on.dvfs_changes.empty());
  for (const auto& c : on.dvfs_changes) {
    CHECK(c.at("by") == "governor");
    CHECK(c.at("domain") == "compute");
    const hw::OperatingPoint& op = t.hw.domain(dom).points.at(c.at("point").get<size_t>());
    CHECK(c.at("mhz").get<double>() == op.mhz);
    CHECK(c.at("volts").get<double>() == op.volts);
    CHECK(c.at("end_s").get<double>() - c.at("start_s").get<double>() == Approx(prof.transition_s).epsilon(1e-9));
  }
}

// ---- clonesim run --governor (run_model with RunOptions::governor)

namespace {

PreparedModel tiny_shapes() {
  ModelSpec s;
  s.model = "tiny";
  s.weights = "none";
  return prepare_model(s);
}

// The number of changes a run of `pts` from `initial` makes.
size_t changes_of(const std::vector<size_t>& pts, size_t initial) {
  size_t n = 0, cur = initial;
  for (size_t q : pts) n += q != cur, cur = q;
  return n;
}

}  // namespace

TEST_CASE("run --governor offline: every program meets its target, the schedule as dvfs instructions",
          "[dvfs][sim][run]") {
  const hw::HwConfig hw = test::design("clone-28nm");
  const PreparedModel m = tiny_shapes();
  RunOptions ro;
  ro.prompt = 4;
  ro.gen = 3;
  ro.governor.kind = GovernorKind::Offline;
  ro.governor.slack = 1.3;
  const nlohmann::json r = run_model(m, hw, ro);
  const nlohmann::json& ph = r.at("phases");
  REQUIRE(ph.size() == 3);
  double w = 0, wc = 0, tw = 0, twc = 0;
  for (const nlohmann::json& p : ph) {
    const nlohmann::json& g = p.at("governor");
    INFO(p.at("phase") << ": " << g.dump());
    CHECK(g.at("name") == "offline");
    CHECK(g.at("domain") == "compute");
    CHECK(g.at("met") == true);
    CHECK(g.at("time_s").get<double>() == p.at("time_s").get<double>());
    // the target: the slack times the program's time at the top point
    CHECK(g.at("target_s").get<double>() == Approx(1.3 * g.at("top_time_s").get<double>()).epsilon(1e-12));
    // the points each region ran at are the planned ones: dvfs instructions, a transition each
    const auto planned = g.at("planned_points").get<std::vector<size_t>>();
    CHECK(g.at("points").get<std::vector<size_t>>() == planned);
    CHECK(planned.size() == p.at("regions").size());
    const size_t n = changes_of(planned, 4);
    CHECK(n > 0);
    CHECK(p.value("dvfs_changes", nlohmann::json::array()).size() == n);
    for (const auto& c : p.at("dvfs_changes")) CHECK(c.at("by") == "instruction");
    // the run within 2% of the plan, and less accelerator energy than the top point over the window
    CHECK(g.at("time_s").get<double>() == Approx(g.at("planned_time_s").get<double>()).epsilon(0.02));
    CHECK(g.at("window_chip_energy_j").get<double>() < g.at("top_window_chip_energy_j").get<double>());
    w += g.at("window_energy_j").get<double>();
    wc += g.at("window_chip_energy_j").get<double>();
    tw += g.at("top_window_energy_j").get<double>();
    twc += g.at("top_window_chip_energy_j").get<double>();
  }
  const nlohmann::json& s = r.at("governor");
  CHECK(s.at("phases_met") == 3);
  CHECK(s.at("all_met") == true);
  CHECK(s.at("ttft_met") == true);
  CHECK(s.at("decode_steps_met") == 2);
  CHECK(s.at("ttft_target_s").get<double>() == ph[0].at("governor").at("target_s").get<double>());
  CHECK(s.at("tpot_target_s").get<double>() ==
        Approx(0.5 * (ph[1].at("governor").at("target_s").get<double>() +
                      ph[2].at("governor").at("target_s").get<double>()))
            .epsilon(1e-12));
  CHECK(s.at("window_energy_j").get<double>() == Approx(w).epsilon(1e-12));
  CHECK(s.at("top_window_chip_energy_j").get<double>() == Approx(twc).epsilon(1e-12));
  CHECK(s.at("saved").get<double>() == Approx(1 - w / tw).epsilon(1e-12));
  CHECK(s.at("chip_saved").get<double>() == Approx(1 - wc / twc).epsilon(1e-12));
  CHECK(s.at("chip_saved").get<double>() > 0.1);
  CHECK_THAT(run_summary(r), Catch::Contains("governor     offline on the compute domain (targets 1.30 x the top "
                                             "point's time unless given): TTFT target ") &&
                                 Catch::Contains("met, TPOT target ") && Catch::Contains("met in 2 of 2 steps"));
}

TEST_CASE("run --governor fixed:0 runs as the design point at that point, online decides at run time",
          "[dvfs][sim][run]") {
  hw::HwConfig hw = test::design("clone-28nm");
  const PreparedModel m = tiny_shapes();
  RunOptions ro;
  ro.prompt = 4;
  ro.gen = 2;
  ro.governor.kind = GovernorKind::Fixed;
  ro.governor.fixed_point = 0;
  ro.governor.tpot_target_s = 1;  // a second: met, whatever the point
  const nlohmann::json fx = run_model(m, hw, ro);
  hw.domains[size_t(hw::Domain::Compute)].initial = 0;
  RunOptions plain;
  plain.prompt = ro.prompt;
  plain.gen = ro.gen;
  const nlohmann::json at0 = run_model(m, hw, plain);
  for (size_t i = 0; i < 2; ++i) {
    const nlohmann::json& g = fx.at("phases")[i].at("governor");
    CHECK(fx.at("phases")[i].at("time_s").get<double>() == at0.at("phases")[i].at("time_s").get<double>());
    CHECK(fx.at("phases")[i].at("energy").at("energy_j").get<double>() ==
          at0.at("phases")[i].at("energy").at("energy_j").get<double>());
    for (size_t q : g.at("points").get<std::vector<size_t>>()) CHECK(q == 0);
    CHECK(g.at("idle_point") == 0);
  }
  CHECK(fx.at("phases")[1].at("governor").at("target_s").get<double>() == 1.0);
  CHECK(fx.at("governor").at("tpot_target_s").get<double>() == 1.0);
  CHECK(fx.at("governor").at("decode_steps_met") == 1);

  hw = test::design("clone-28nm");
  ro.governor = GovernorOptions{};
  ro.governor.kind = GovernorKind::Online;
  ro.governor.slack = 1.5;
  const nlohmann::json on = run_model(m, hw, ro);
  size_t changed = 0;
  for (const nlohmann::json& p : on.at("phases")) {
    const nlohmann::json& g = p.at("governor");
    INFO(g.dump());
    CHECK(g.at("met") == true);
    const auto pts = g.at("points").get<std::vector<size_t>>();
    const nlohmann::json ch = p.value("dvfs_changes", nlohmann::json::array());
    CHECK(ch.size() == changes_of(pts, 4));
    for (const auto& c : ch) CHECK(c.at("by") == "governor");
    changed += !ch.empty();
    CHECK(g.at("window_chip_energy_j").get<double>() <= g.at("top_window_chip_energy_j").get<double>());
  }
  CHECK(changed > 0);
}

TEST_CASE("governed_phase_json: the energy over the target window, by hand", "[dvfs]") {
  // a profile of two regions at two points, race-to-idle's idle point 0
  auto prof = std::make_shared<DvfsProfile>();
  MeasuredRun lo, hi;
  lo.time_s = 4e-3, lo.energy_j = 5e-3, lo.dram_j = 1e-3;
  hi.time_s = 2e-3, hi.energy_j = 8e-3, hi.dram_j = 1e-3;
  lo.region_time_s = {2e-3, 2e-3}, lo.region_energy_j = {2.5e-3, 2.5e-3};
  hi.region_time_s = {1e-3, 1e-3}, hi.region_energy_j = {4e-3, 4e-3};
  prof->free = {lo, hi};
  prof->idle_power_w = {0.3, 0.5};
  prof->idle_dram_w = 0.1;
  prof->transition_s = 1e-6;
  prof->transition_j = 2e-9;
  GovernedProgram gp;
  gp.hw = test::design("clone-28nm");
  gp.top = 1;
  gp.target_s = 3e-3;
  gp.profile = prof;
  gp.problem = std::make_shared<power::GovernorProblem>(governor_problem(*prof, gp.target_s, 1));
  gp.plan = power::race_to_idle(*gp.problem);
  REQUIRE(gp.plan.idle_point == 0);
  gp.hw.domains[0].initial = 1;
  GovernorOptions g;
  g.kind = GovernorKind::RaceToIdle;
  // the simulated run: 2.5 ms, 8.2 mJ of which 1.1 mJ DRAM, no change
  const nlohmann::json stats = {{"time_s", 2.5e-3},
                                {"energy", {{"energy_j", 8.2e-3}, {"components", {{"dram", {{"energy_j", 1.1e-3}}}}}}},
                                {"regions", {{{"start_s", 0.0}}, {{"start_s", 1.2e-3}}}}};
  const nlohmann::json j = governed_phase_json(gp, g, stats);
  CHECK(j.at("met") == true);
  CHECK(j.at("points") == nlohmann::json({1, 1}));
  CHECK(j.at("idle_point") == 0);
  // the run, the switch to point 0 (2 nJ), then 0.5 ms idle at 0.3 W (0.1 W of it DRAM)
  CHECK(test::rel_eq(j.at("window_energy_j").get<double>(), 8.2e-3 + 2e-9 + 0.5e-3 * 0.3, 1e-12));
  CHECK(test::rel_eq(j.at("window_chip_energy_j").get<double>(), 7.1e-3 + 2e-9 + 0.5e-3 * 0.2, 1e-12));
  // the top point: 2 ms, 8 mJ (1 mJ DRAM), 1 ms idle at 0.5 W
  CHECK(test::rel_eq(j.at("top_window_energy_j").get<double>(), 8e-3 + 1e-3 * 0.5, 1e-12));
  CHECK(test::rel_eq(j.at("top_window_chip_energy_j").get<double>(), 7e-3 + 1e-3 * 0.4, 1e-12));
  // a run past the target: missed, no idle
  nlohmann::json late = stats;
  late["time_s"] = 3.5e-3;
  const nlohmann::json k = governed_phase_json(gp, g, late);
  CHECK(k.at("met") == false);
  CHECK(k.at("idle_point") == 1);
  CHECK(test::rel_eq(k.at("window_energy_j").get<double>(), 8.2e-3, 1e-12));
  // a change at 1.0 ms to point 0 puts the second region (from 1.2 ms) there
  nlohmann::json ch = stats;
  ch["dvfs_changes"] = {{{"domain", "compute"}, {"point", 0}, {"start_s", 1.0e-3}, {"end_s", 1.001e-3}},
                        {{"domain", "memory"}, {"point", 1}, {"start_s", 0.0}, {"end_s", 1e-6}}};
  CHECK(governed_phase_json(gp, g, ch).at("points") == nlohmann::json({1, 0}));
}

TEST_CASE("governor options: one-line errors", "[dvfs][errors]") {
  size_t q = 99;
  CHECK(parse_governor("offline", &q, "--governor") == GovernorKind::Offline);
  CHECK(parse_governor("race", &q, "--governor") == GovernorKind::RaceToIdle);
  CHECK(parse_governor("fixed:3", &q, "--governor") == GovernorKind::Fixed);
  CHECK(q == 3);
  CHECK(test::error_of([] { parse_governor("fast", nullptr, "--governor"); }) ==
        "--governor: expected none, fixed:POINT (an operating point's index), race, offline or online, got 'fast'");
  CHECK(test::error_of([] { parse_governor("fixed:", nullptr, "--governor"); }) ==
        "--governor: expected none, fixed:POINT (an operating point's index), race, offline or online, got 'fixed:'");
  CHECK(parse_domain("memory", "--governed-domain") == hw::Domain::Memory);
  CHECK(test::error_of([] { parse_domain("dram", "--governed-domain"); }) ==
        "--governed-domain: expected compute, memory or always_on, got 'dram'");
  const hw::HwConfig hw = test::design("clone-28nm");
  GovernorOptions g;
  g.kind = GovernorKind::Fixed;
  g.fixed_point = 5;
  CHECK(test::error_of([&] { check_governor(g, hw); }) ==
        "--governor fixed:5: the compute domain of clone-28nm has points 0..4");
  g.domain = hw::Domain::Memory;
  g.fixed_point = 2;
  CHECK_NOTHROW(check_governor(g, hw));
  g.slack = 0.9;
  CHECK(test::error_of([&] { check_governor(g, hw); }) == "--slack 0.9: expected a factor of at least 1");
}
