// Regions and power samples (sim::Stats::regions, ::samples) and the
// run-time DVFS governor (sim::Options::governor): the slices cover the run
// and add up to it field by field; a region's events are those of its
// instructions; a governor's change equals a dvfs instruction at the region's
// start.
#include <catch2/catch.hpp>

#include "isa/program.h"
#include "sim/accelerator.h"
#include "sim/trace.h"
#include "sim_test_util.h"

using namespace clonesim;

namespace {

// Three regions of matmuls of known size on tile 0, then a halt.
const char* kThreeRegions =
    ".region first\n"
    "matmul act=0x0 wgt=0x1000 m=4 k=32 n=16 acc=0x0\n"
    ".region second\n"
    "matmul act=0x0 wgt=0x1000 m=8 k=32 n=16 acc=0x0\n"
    "matmul act=0x0 wgt=0x1000 m=8 k=32 n=16 acc=0x0\n"
    ".region third\n"
    "matmul act=0x0 wgt=0x1000 m=2 k=32 n=16 acc=0x0\n"
    "halt\n";

uint64_t sum_time(const sim::Slice& s, int d) {
  uint64_t t = 0;
  for (uint64_t x : s.domains[size_t(d)].time_ps_at_point) t += x;
  return t;
}

// The slices add up to the run: time, instructions, events per domain and
// point, banks' traffic, DRAM.
void check_sum(const std::vector<sim::Slice>& sl, const sim::Stats& s) {
  REQUIRE(!sl.empty());
  CHECK(sl.front().start_ps == 0);
  CHECK(sl.back().end_ps == s.time_ps);
  uint64_t instr = 0, reads = 0, bytes = 0;
  for (size_t i = 0; i < sl.size(); ++i) {
    if (i) CHECK(sl[i].start_ps == sl[i - 1].end_ps);
    CHECK(sl[i].end_ps >= sl[i].start_ps);
    instr += sl[i].instructions;
    reads += sl[i].dram.reads;
    bytes += sl[i].dram.read_bytes;
  }
  CHECK(instr == s.instructions);
  CHECK(reads == s.dram_total.reads);
  CHECK(bytes == s.dram_total.read_bytes);
  for (int d = 0; d < hw::kNumDomains; ++d) {
    const size_t P = s.domains[size_t(d)].time_ps_at_point.size();
    for (size_t p = 0; p < P; ++p) {
      uint64_t t = 0, macs = 0, fetched = 0, spr = 0, accw = 0;
      for (const sim::Slice& x : sl) {
        t += x.domains[size_t(d)].time_ps_at_point[p];
        macs += x.activity[size_t(d)][p].events.macs_int8;
        fetched += x.activity[size_t(d)][p].events.instructions_fetched;
        spr += x.activity[size_t(d)][p].sram_reads[0];
        accw += x.activity[size_t(d)][p].sram_writes[1];
      }
      CHECK(t == s.domains[size_t(d)].time_ps_at_point[p]);
      CHECK(macs == s.activity[size_t(d)][p].events.macs_int8);
      CHECK(fetched == s.activity[size_t(d)][p].events.instructions_fetched);
      CHECK(spr == s.activity[size_t(d)][p].sram_reads[0]);
      CHECK(accw == s.activity[size_t(d)][p].sram_writes[1]);
    }
    uint64_t tr = 0;
    for (const sim::Slice& x : sl) tr += x.domains[size_t(d)].transitions;
    CHECK(tr == s.domains[size_t(d)].transitions);
  }
}

uint64_t macs(const sim::Slice& s) {
  uint64_t m = 0;
  for (const auto& a : s.activity[0]) m += a.events.macs_int8;
  return m;
}

}  // namespace

TEST_CASE("sim regions: one slice per region, from the issue of its first instruction, adding up to the run",
          "[sim][regions]") {
  const hw::HwConfig hw = test::design("clone-28nm");
  test::Bench b;
  sim::Accelerator& a = b.add(hw, kThreeRegions, {sim::Mode::Timing});
  b.run();
  REQUIRE(a.finished());
  const sim::Stats& s = a.stats();
  REQUIRE(s.regions.size() == 3);
  CHECK(s.regions[0].name == "first");
  CHECK(s.regions[1].name == "second");
  CHECK(s.regions[2].name == "third");
  CHECK(s.regions[0].instructions == 1);
  CHECK(s.regions[1].instructions == 2);
  CHECK(s.regions[2].instructions == 2);  // the halt is issued in the last region
  // a region's MACs are its matmuls' (they start in the region they are issued in)
  CHECK(macs(s.regions[0]) == 4 * 32 * 16);
  CHECK(macs(s.regions[1]) == 2 * 8 * 32 * 16);
  CHECK(macs(s.regions[2]) == 2 * 32 * 16);
  // the controller issues one instruction per always-on cycle, in order
  const uint64_t P = hw.domain(hw::Domain::AlwaysOn).points[hw.domain(hw::Domain::AlwaysOn).initial].period_ps;
  CHECK(s.regions[1].start_ps == P);
  CHECK(s.regions[2].start_ps == 3 * P);
  check_sum(s.regions, s);
  CHECK(s.samples.empty());
}

TEST_CASE("sim regions: power samples every interval, the last one partial, adding up to the run", "[sim][regions]") {
  const hw::HwConfig hw = test::design("clone-28nm");
  test::Bench b;
  sim::Options opt{sim::Mode::Timing};
  opt.sample_ps = 7000;
  sim::Accelerator& a = b.add(hw, kThreeRegions, opt);
  b.run();
  REQUIRE(a.finished());
  const sim::Stats& s = a.stats();
  CHECK(s.sample_ps == 7000);
  REQUIRE(s.time_ps > 14000);
  CHECK(s.samples.size() == (s.time_ps + 6999) / 7000);
  for (size_t i = 0; i + 1 < s.samples.size(); ++i) {
    CHECK(s.samples[i].start_ps == 7000 * i);
    CHECK(s.samples[i].end_ps == 7000 * (i + 1));
    // every domain keeps one point: its time in a full sample is the interval
    CHECK(sum_time(s.samples[i], 0) == 7000);
  }
  check_sum(s.samples, s);
  check_sum(s.regions, s);
}

TEST_CASE("sim regions: instructions ahead of the first region make a slice of their own", "[sim][regions]") {
  test::Bench b;
  sim::Accelerator& a = b.add(test::design("clone-28nm"),
                              "matmul act=0x0 wgt=0x1000 m=4 k=32 n=16 acc=0x0\n"
                              ".region only\n"
                              "matmul act=0x0 wgt=0x1000 m=2 k=32 n=16 acc=0x0\n"
                              "halt\n",
                              {sim::Mode::Timing});
  b.run();
  const sim::Stats& s = a.stats();
  REQUIRE(s.regions.size() == 2);
  CHECK(s.regions[0].name == "(before only)");
  CHECK(macs(s.regions[0]) == 4 * 32 * 16);
  CHECK(macs(s.regions[1]) == 2 * 32 * 16);
  check_sum(s.regions, s);
}

// The run-time governor's change at a region's start is the same as a dvfs
// instruction there: same times, same transitions, same time at each point;
// only the instruction fetch differs.
TEST_CASE("sim regions: a run-time governor's change equals a dvfs instruction at the region's start",
          "[sim][regions][dvfs]") {
  const hw::HwConfig hw = test::design("clone-28nm");
  const std::string with_dvfs =
      ".region first\n"
      "matmul act=0x0 wgt=0x1000 m=4 k=32 n=16 acc=0x0\n"
      ".region second\n"
      "dvfs domain=compute point=1\n"
      "matmul act=0x0 wgt=0x1000 m=8 k=32 n=16 acc=0x0\n"
      "matmul act=0x0 wgt=0x1000 m=8 k=32 n=16 acc=0x0\n"
      ".region third\n"
      "dvfs domain=compute point=4\n"
      "matmul act=0x0 wgt=0x1000 m=2 k=32 n=16 acc=0x0\n"
      "halt\n";
  std::vector<std::pair<size_t, uint64_t>> asked;
  sim::Options gov{sim::Mode::Timing};
  gov.governor.domain = hw::Domain::Compute;
  gov.governor.decide = [&asked](size_t r, uint64_t now) {
    asked.push_back({r, now});
    return r == 1 ? 1 : r == 2 ? 4 : -1;
  };
  test::Bench b;
  sim::Accelerator& x = b.add(hw, with_dvfs, {sim::Mode::Timing});
  sim::Accelerator& g = b.add(hw, kThreeRegions, gov);
  b.run();
  REQUIRE(x.finished());
  REQUIRE(g.finished());
  const sim::Stats &sx = x.stats(), &sg = g.stats();
  CHECK(sg.time_ps == sx.time_ps);
  CHECK(sg.cycles == sx.cycles);
  REQUIRE(g.dvfs_changes().size() == 2);
  REQUIRE(x.dvfs_changes().size() == 2);
  for (size_t i = 0; i < 2; ++i) {
    CHECK(g.dvfs_changes()[i].point == x.dvfs_changes()[i].point);
    CHECK(g.dvfs_changes()[i].start_ps == x.dvfs_changes()[i].start_ps);
    CHECK(g.dvfs_changes()[i].end_ps == x.dvfs_changes()[i].end_ps);
    CHECK(g.dvfs_changes()[i].by_governor);
    CHECK_FALSE(x.dvfs_changes()[i].by_governor);
  }
  CHECK(sg.instructions + 2 == sx.instructions);
  REQUIRE(sg.regions.size() == 3);
  for (size_t r = 0; r < 3; ++r) {
    CHECK(sg.regions[r].start_ps == sx.regions[r].start_ps);
    CHECK(sg.regions[r].domains[0].time_ps_at_point == sx.regions[r].domains[0].time_ps_at_point);
    CHECK(sg.regions[r].domains[0].transitions == (r == 0 ? 0u : 1u));
  }
  // region 1 ran at point 1 only; the change is at its start
  CHECK(sg.regions[1].domains[0].time_ps_at_point[1] > 0);
  CHECK(sg.regions[1].domains[0].time_ps_at_point[4] == 0);
  CHECK(g.dvfs_changes()[0].start_ps == sg.regions[1].start_ps);
  // asked for region r when region r - 1 began (region 0 at time zero)
  REQUIRE(asked.size() == 3);
  CHECK(asked[0] == std::make_pair(size_t(0), uint64_t(0)));
  CHECK(asked[1] == std::make_pair(size_t(1), sg.regions[0].start_ps));
  CHECK(asked[2] == std::make_pair(size_t(2), sg.regions[1].start_ps));
  check_sum(sg.regions, sg);
  // the timeline's DVFS track shows the governor's changes
  const isa::Program prog = isa::assemble(kThreeRegions, "test.s");
  int governed = 0;
  const nlohmann::json tr = sim::chrome_trace(g, prog);
  for (const auto& ev : tr["traceEvents"])
    if (ev.contains("name") && ev["name"].get<std::string>().rfind("governor", 0) == 0) {
      CHECK(ev["name"] == (governed ? "governor -> 1000 MHz 1.05 V" : "governor -> 500 MHz 0.70 V"));
      CHECK(ev["ts"].get<double>() == Approx(double(sg.regions[1 + governed].start_ps) * 1e-6).epsilon(1e-12));
      ++governed;
    }
  CHECK(governed == 2);
}

TEST_CASE("sim regions: a governor without regions, or choosing a point the domain lacks, is an error",
          "[sim][regions][dvfs]") {
  const hw::HwConfig hw = test::design("clone-28nm");
  sim::Options gov{sim::Mode::Timing};
  gov.governor.decide = [](size_t, uint64_t) { return 9; };
  CHECK_THROWS_WITH(sim::Accelerator("a", hw, isa::assemble("halt\n", "plain.s"), gov),
                    "plain.s: a run-time DVFS governor needs a program with regions");
  test::Bench b;
  sim::Accelerator& a = b.add(hw, kThreeRegions, gov);
  b.run();
  CHECK(a.error() == "test.s: the run-time governor chose point 9 of the compute domain, which has 5");
}
