// DVFS schedules through the simulator: with_dvfs puts a schedule into a
// program; the offline optimum of a measured profile, run as dvfs
// instructions, meets its deadline at the energy it planned; the online
// governor, deciding at run time, meets it too.  Each simulation runs in a
// child process (simulate_in_child).
#include <catch2/catch.hpp>

#include "driver/compile_job.h"
#include "driver/dvfs_job.h"
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
