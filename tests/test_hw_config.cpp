// Design-point library: the shipped points and their derived figures, the
// per-type DRAM defaults and overrides, and one test per class of bad input
// (each checks file name, line and key path of the one-line message).
#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include "common/error.h"
#include "hw/hw_config.h"
#include "test_util.h"

using namespace clonesim;
using namespace clonesim::hw;

namespace {

const std::string kSrc = CLONESIM_SOURCE_DIR;

using clonesim::test::read_text;

// A small valid design point; the line numbers below are relied on by the
// error tests (line 1 is `name: t`).
const std::string kBase = R"(name: t
tiles: 2
mxu:
  rows: 16
  cols: 16
  weight_types: [int8, int4]
vxu:
  lanes: 16
scratchpad:
  banks: 8
  width_bits: 128
  depth: 2048
  ports: 1
accumulator:
  banks: 2
  width_bits: 512
  depth: 256
  ports: 1
dma:
  burst_bytes: 64
  outstanding: 16
controller:
  queue_depth: 8
  sync_cycles: 2
dram:
  type: LPDDR4X
  channels: 4
dvfs:
  compute:
    operating_points:
      - {volts: 0.6, mhz: 400}
      - {volts: 0.9, mhz: 800}
    initial: 1
    transition_ns: 500
    transition_nj: 2.0
  memory:
    operating_points:
      - {volts: 0.7, mhz: 400}
    initial: 0
    transition_ns: 500
    transition_nj: 1.0
  always_on:
    operating_points:
      - {volts: 0.8, mhz: 500}
    initial: 0
    transition_ns: 1000
    transition_nj: 0.5
)";

// kBase with exactly one occurrence of `from` replaced by `to`.
std::string with(const std::string& from, const std::string& to, std::string text = kBase) {
  const auto pos = text.find(from);
  REQUIRE(pos != std::string::npos);
  REQUIRE(text.find(from, pos + 1) == std::string::npos);
  text.replace(pos, from.size(), to);
  return text;
}

// The message parse_hw_config throws for `text` (source "fake.yaml").
std::string error_of(const std::string& text) {
  try {
    parse_hw_config(text, "fake.yaml");
  } catch (const clonesim::Error& e) {
    const std::string msg = e.what();
    CHECK(msg.find('\n') == std::string::npos);
    return msg;
  }
  FAIL("no error for:\n" << text);
  return "";
}

// The error starts "fake.yaml:LINE: PATH: " and mentions `words`.
void check_error(const std::string& text, int line, const std::string& path,
                 const std::string& words) {
  const std::string msg = error_of(text);
  INFO(msg);
  const std::string prefix =
      "fake.yaml:" + std::to_string(line) + (path.empty() ? "" : ": " + path) + ": ";
  CHECK(msg.rfind(prefix, 0) == 0);
  CHECK(msg.find(words) != std::string::npos);
}

}  // namespace

// ---------------------------------------------------------------------------
// Shipped design points

TEST_CASE("shipped design points: names, embedding, and file equivalence", "[hw]") {
  REQUIRE(shipped_hw_names() == std::vector<std::string>{"clone-28nm", "edge-large", "edge-small"});
  REQUIRE(default_hw_name() == "clone-28nm");
  for (const auto& name : shipped_hw_names()) {
    INFO(name);
    const HwConfig a = load_hw_config_or_named(name);
    const HwConfig b = load_hw_config_or_named(name + ".yaml");
    const std::string path = kSrc + "/configs/hw/" + name + ".yaml";
    const HwConfig c = load_hw_config(path);
    CHECK(a.name == name);
    CHECK(a.source == "configs/hw/" + name + ".yaml");
    CHECK(c.source == path);
    // The embedded copy is the file: describe() differs only in the source line.
    CHECK(describe(b) == describe(a));
    std::string da = describe(a), dc = describe(c);
    da.replace(da.find(a.source), a.source.size(), "");
    dc.replace(dc.find(c.source), c.source.size(), "");
    CHECK(da == dc);
    // An existing file wins over the name lookup.
    CHECK(load_hw_config_or_named(path).source == path);
  }
}

TEST_CASE("clone-28nm derived figures", "[hw]") {
  const HwConfig hw = load_hw_config_or_named("clone-28nm");
  CHECK(hw.technology_nm == 28);
  CHECK(hw.tiles == 2);
  CHECK(hw.mxu.rows == 16);
  CHECK(hw.mxu.cols == 16);
  CHECK(hw.mxu.supports(WeightType::Int8));
  CHECK(hw.mxu.supports(WeightType::Int4));
  CHECK(hw.vxu.lanes == 16);
  // 2 * 16 * 16 * 2 tiles * 1000 MHz = 1.024 TOPS, int4 at the int8 rate.
  CHECK(hw.peak_tops(WeightType::Int8) == Approx(1.024));
  CHECK(hw.peak_tops(WeightType::Int4) == Approx(1.024));
  // Scratchpad 8 x 64 B x 512 = 256 KiB, accumulator 2 x 64 B x 256 = 32 KiB.
  CHECK(hw.scratchpad.line_bytes() == 64);
  CHECK(hw.scratchpad.bank_bytes() == 32768);
  CHECK(hw.scratchpad.total_bytes() == 262144);
  CHECK(hw.accumulator.total_bytes() == 32768);
  CHECK(hw.sram_total_bytes() == 2 * (262144 + 32768));  // 589824 = 576 KiB
  CHECK(hw.dma.burst_bytes == 256);
  CHECK(hw.dma.outstanding == 16);
  CHECK(hw.controller.queue_depth == 8);
  CHECK(hw.controller.sync_cycles == 2);
  CHECK(hw.controller.imem_depth == 1024);  // calibrated to CLONE's core area (docs/energy-model.md)

  const DramConfig& d = hw.dram;
  CHECK(d.type == DramType::LPDDR4X);
  CHECK(d.channels == 4);
  CHECK(d.data_rate_mtps == 4266);
  CHECK(d.ck_mhz == 2133);
  CHECK(d.tck_ps == 469);                      // round(1e6 / 2133) = round(468.8)
  CHECK(d.peak_gbps() == Approx(34.128));      // 4 * 4266 * 16 / 8 / 1000
  CHECK(d.interleave_bytes == 256);
  CHECK(d.burst_bytes() == 32);                // BL16 x 16 bits
  CHECK(d.burst_clocks() == 8);                // 16 / (4266 / 2133)
  CHECK(d.tRFC_ck() == 598);                   // ceil(280000 / 469) = ceil(597.01)
  CHECK(d.tREFI_ck() == 8324);                 // floor(3904000 / 469) = floor(8324.09)
  CHECK(d.refresh == RefreshMode::PerBank);
  CHECK(d.timing.tRFCpb_ns == 140);
  CHECK(d.tRFCpb_ck() == 299);                 // ceil(140000 / 469) = ceil(298.51)
  CHECK(d.tREFIpb_ck() == 1040);               // floor(3904000 / (8 * 469)) = floor(1040.5)
  CHECK(d.timing.CL == 36);
  CHECK(d.timing.tRCD == 39);

  const DomainConfig& c = hw.domain(Domain::Compute);
  REQUIRE(c.points.size() == 5);
  CHECK(c.points[0].period_ps == 2500);
  CHECK(c.points[1].period_ps == 2000);
  CHECK(c.points[2].period_ps == 1600);  // 625 MHz
  CHECK(c.points[3].period_ps == 1250);
  CHECK(c.points[4].period_ps == 1000);
  CHECK(c.points[4].volts == Approx(1.05));
  CHECK(c.initial == 4);
  CHECK(c.transition_ps == 500000);
  CHECK(c.transition_nj == Approx(2.0));
  const DomainConfig& m = hw.domain(Domain::Memory);
  REQUIRE(m.points.size() == 3);
  CHECK(m.initial == 2);
  CHECK(m.points[2].period_ps == 1250);
  CHECK(m.transition_nj == Approx(1.0));
  const DomainConfig& a = hw.domain(Domain::AlwaysOn);
  REQUIRE(a.points.size() == 2);
  CHECK(a.initial == 1);
  CHECK(a.points[0].period_ps == 2000);
  CHECK(a.transition_ps == 1000000);
  CHECK(a.transition_nj == Approx(0.5));
}

TEST_CASE("edge-small derived figures: one shared 400 MHz clock", "[hw]") {
  const HwConfig hw = load_hw_config_or_named("edge-small");
  CHECK(hw.tiles == 1);
  CHECK(hw.mxu.rows == 8);
  CHECK(hw.mxu.cols == 8);
  CHECK(hw.vxu.lanes == 8);
  CHECK(hw.peak_tops(WeightType::Int8) == Approx(0.0512));  // 2*8*8*1*400e6/1e12
  CHECK(hw.scratchpad.total_bytes() == 131072);             // 4 x 8 B x 4096
  CHECK(hw.accumulator.total_bytes() == 16384);             // 2 x 32 B x 256
  CHECK(hw.sram_total_bytes() == 147456);
  CHECK(hw.dma.outstanding == 8);
  CHECK(hw.controller.queue_depth == 4);
  CHECK(hw.controller.imem_depth == kDefaultImemDepth);  // the co-simulated RTL's program memory
  CHECK(hw.dram.type == DramType::LPDDR4);
  CHECK(hw.dram.channels == 1);
  CHECK(hw.dram.tck_ps == 625);
  CHECK(hw.dram.peak_gbps() == Approx(6.4));
  CHECK(hw.dram.burst_clocks() == 8);
  CHECK(hw.dram.tRFC_ck() == 448);   // 280000 / 625 exactly
  CHECK(hw.dram.tREFI_ck() == 6246); // floor(6246.4)
  CHECK(hw.dram.refresh == RefreshMode::AllBank);  // the default
  for (int i = 0; i < kNumDomains; ++i) {
    const DomainConfig& d = hw.domains[i];
    REQUIRE(d.points.size() == 2);
    CHECK(d.initial == 1);
    CHECK(d.points[0].period_ps == 5000);
    CHECK(d.points[d.initial].period_ps == 2500);
    CHECK(d.points[d.initial].volts == Approx(0.80));
    CHECK(d.transition_ps == 200000);
    CHECK(d.transition_nj == Approx(0.5));
  }
}

TEST_CASE("edge-large derived figures", "[hw]") {
  const HwConfig hw = load_hw_config_or_named("edge-large");
  CHECK(hw.tiles == 4);
  CHECK(hw.mxu.rows == 32);
  CHECK(hw.vxu.lanes == 32);
  CHECK(hw.peak_tops(WeightType::Int8) == Approx(8.192));  // 2*32*32*4*1000e6/1e12
  CHECK(hw.scratchpad.total_bytes() == 1048576);           // 16 x 32 B x 2048
  CHECK(hw.accumulator.total_bytes() == 131072);           // 4 x 128 B x 256
  CHECK(hw.sram_total_bytes() == 4 * (1048576 + 131072));
  CHECK(hw.dma.burst_bytes == 256);
  CHECK(hw.dma.outstanding == 32);
  CHECK(hw.controller.queue_depth == 16);
  const DramConfig& d = hw.dram;
  CHECK(d.type == DramType::LPDDR5);
  CHECK(d.channels == 8);
  CHECK(d.banks == 16);
  CHECK(d.ck_mhz == 800);
  CHECK(d.tck_ps == 1250);
  CHECK(d.peak_gbps() == Approx(102.4));  // 8 * 6400 * 16 / 8 / 1000
  CHECK(d.burst_clocks() == 2);           // 16 / (6400 / 800)
  CHECK(d.tRFC_ck() == 168);              // 210000 / 1250
  CHECK(d.tREFI_ck() == 3123);            // floor(3123.2)
  CHECK(d.refresh == RefreshMode::PerBank);
  CHECK(d.tRFCpb_ck() == 96);             // 120000 / 1250
  CHECK(d.tREFIpb_ck() == 390);           // floor(3904000 / 10000) = floor(390.4)
  const DomainConfig& m = hw.domain(Domain::Memory);
  REQUIRE(m.points.size() == 4);
  CHECK(m.initial == 3);
  CHECK(m.points[3].period_ps == 1000);
  CHECK(hw.domain(Domain::Compute).points.size() == 5);
}

TEST_CASE("describe prints the derived figures", "[hw]") {
  const std::string s = describe(load_hw_config_or_named("clone-28nm"));
  for (const char* want :
       {"clone-28nm", "configs/hw/clone-28nm.yaml", "16 x 16", "int8 1.024 TOPS",
        "int4 1.024 TOPS", "256 KiB per tile", "512 KiB total", "576 KiB", "LPDDR4X",
        "4266 MT/s", "tCK 469 ps", "34.128 GB/s", "tRCD 39", "299 CK", "1040 CK", "always_on",
        "1600", "<- initial", "500000 ps", "instruction memory 1024 x 256 bits (32 KiB)"}) {
    INFO(want);
    CHECK(s.find(want) != std::string::npos);
  }
}

TEST_CASE("unknown design point names the shipped ones", "[hw][errors]") {
  try {
    load_hw_config_or_named("clone-29nm");
    FAIL("no error");
  } catch (const clonesim::Error& e) {
    CHECK(std::string(e.what()) ==
          "unknown design point 'clone-29nm': not a file, and not one of clone-28nm, "
          "edge-large, edge-small");
  }
}

// ---------------------------------------------------------------------------
// DRAM defaults and overrides

TEST_CASE("per-type DRAM defaults", "[hw][dram]") {
  const DramConfig a = default_dram(DramType::LPDDR4, 2);
  CHECK(a.channels == 2);
  CHECK(a.banks == 8);
  CHECK(a.page_bytes == 2048);
  CHECK(a.width_bits == 16);
  CHECK(a.data_rate_mtps == 3200);
  CHECK(a.tck_ps == 625);
  CHECK(a.timing.BL == 16);
  CHECK(a.timing.CL == 32);
  CHECK(a.timing.CWL == 14);
  CHECK(a.timing.tRCD == 29);
  CHECK(a.timing.tRP == 27);
  CHECK(a.timing.tRAS == 68);
  CHECK(a.timing.tRRD == 16);
  CHECK(a.timing.tFAW == 64);
  CHECK(a.timing.tCCD == 8);
  CHECK(a.timing.tRTP == 14);
  CHECK(a.timing.tWR == 28);
  CHECK(a.timing.tWTR == 16);
  CHECK(a.timing.tRFC_ns == 280);
  CHECK(a.timing.tRFCpb_ns == 140);
  CHECK(a.timing.tREFI_ns == 3904);
  CHECK(a.refresh == RefreshMode::AllBank);
  CHECK(a.tRFCpb_ck() == 224);  // 140000 / 625
  CHECK(a.tREFIpb_ck() == 780); // floor(3904000 / 5000) = floor(780.8)
  CHECK(a.peak_gbps() == Approx(12.8));

  const DramConfig x = default_dram(DramType::LPDDR4X);
  CHECK(x.ck_mhz == 2133);
  CHECK(x.timing.CL == 36);
  CHECK(x.timing.CWL == 18);
  CHECK(x.timing.tRP == 36);
  CHECK(x.timing.tRAS == 91);
  CHECK(x.timing.tRRD == 22);
  CHECK(x.timing.tFAW == 86);
  CHECK(x.timing.tRTP == 19);
  CHECK(x.timing.tWR == 38);
  CHECK(x.timing.tWTR == 22);

  const DramConfig f = default_dram(DramType::LPDDR5);
  CHECK(f.banks == 16);
  CHECK(f.data_rate_mtps == 6400);
  CHECK(f.tck_ps == 1250);
  CHECK(f.timing.CL == 20);
  CHECK(f.timing.CWL == 9);
  CHECK(f.timing.tRCD == 15);
  CHECK(f.timing.tRAS == 34);
  CHECK(f.timing.tRRD == 4);
  CHECK(f.timing.tFAW == 16);
  CHECK(f.timing.tCCD == 2);
  CHECK(f.timing.tRTP == 6);
  CHECK(f.timing.tWR == 28);
  CHECK(f.timing.tWTR == 8);
  CHECK(f.timing.tRFC_ns == 210);
  CHECK(f.timing.tRFCpb_ns == 120);
  CHECK(default_dram(DramType::LPDDR4X).timing.tRFCpb_ns == 140);
  CHECK(std::string(to_string(RefreshMode::AllBank)) == "all_bank");
  CHECK(std::string(to_string(RefreshMode::PerBank)) == "per_bank");

  CHECK(std::string(to_string(DramType::LPDDR4X)) == "LPDDR4X");
  CHECK(std::string(to_string(WeightType::Int4)) == "int4");
  CHECK(std::string(to_string(Domain::AlwaysOn)) == "always_on");
  CHECK(weight_bits(WeightType::Int4) == 4);
}

TEST_CASE("DRAM geometry and timing overrides", "[hw][dram]") {
  const std::string text = with("  type: LPDDR4X\n  channels: 4\n",
                                "  type: LPDDR4\n  channels: 2\n"
                                "  banks: 16\n  page_bytes: 4096\n  width_bits: 32\n"
                                "  data_rate_mtps: 2400\n  ck_mhz: 1200\n"
                                "  interleave_bytes: 512\n"
                                "  timing: {tRCD: 40, tWR: 30, BL: 32, tRFC_ns: 380, "
                                "tREFI_ns: 1952.5}\n");
  const HwConfig hw = parse_hw_config(text, "fake.yaml");
  const DramConfig& d = hw.dram;
  CHECK(d.type == DramType::LPDDR4);
  CHECK(d.channels == 2);
  CHECK(d.banks == 16);
  CHECK(d.page_bytes == 4096);
  CHECK(d.width_bits == 32);
  CHECK(d.interleave_bytes == 512);
  CHECK(d.tck_ps == 833);             // round(833.33)
  CHECK(d.peak_gbps() == Approx(19.2));  // 2 * 2400 * 32 / 8 / 1000
  CHECK(d.timing.tRCD == 40);
  CHECK(d.timing.tWR == 30);
  CHECK(d.timing.BL == 32);
  CHECK(d.burst_bytes() == 128);
  CHECK(d.burst_clocks() == 16);
  CHECK(d.tRFC_ck() == 457);          // ceil(380000 / 833) = ceil(456.18)
  CHECK(d.tREFI_ck() == 2343);        // floor(1952500 / 833) = floor(2343.94)
  // Keys not overridden keep the LPDDR4 defaults.
  CHECK(d.timing.CL == 32);
  CHECK(d.timing.tRP == 27);
  CHECK(d.timing.tFAW == 64);
  CHECK(hw.source == "fake.yaml");
  CHECK(hw.technology_nm == 28);  // default

  // A subset of the timing keys alone.
  const HwConfig h2 = parse_hw_config(
      with("  channels: 4\n", "  channels: 4\n  timing:\n    CL: 40\n"), "fake.yaml");
  CHECK(h2.dram.timing.CL == 40);
  CHECK(h2.dram.timing.tRCD == 39);
  CHECK(h2.dram.tck_ps == 469);

  // tREFI_ns 0 turns refresh off.
  const HwConfig h3 = parse_hw_config(
      with("  channels: 4\n", "  channels: 4\n  timing: {tREFI_ns: 0}\n"), "fake.yaml");
  CHECK(h3.dram.tREFI_ck() == 0);
  CHECK(h3.dram.tRFC_ck() == 598);
}

TEST_CASE("DRAM refresh mode and tRFCpb", "[hw][dram]") {
  // Explicit all_bank equals the default.
  const HwConfig a = parse_hw_config(with("  channels: 4\n", "  channels: 4\n  refresh: all_bank\n"), "fake.yaml");
  CHECK(a.dram.refresh == RefreshMode::AllBank);
  CHECK(parse_hw_config(kBase, "fake.yaml").dram.refresh == RefreshMode::AllBank);
  // per_bank with an overridden tRFCpb: LPDDR4X tCK 469 ps.
  const HwConfig p = parse_hw_config(
      with("  channels: 4\n", "  channels: 4\n  refresh: per_bank\n  timing: {tRFCpb_ns: 90}\n"), "fake.yaml");
  CHECK(p.dram.refresh == RefreshMode::PerBank);
  CHECK(p.dram.timing.tRFCpb_ns == 90);
  CHECK(p.dram.tRFCpb_ck() == 192);    // ceil(90000 / 469) = ceil(191.9)
  CHECK(p.dram.tREFIpb_ck() == 1040);
  CHECK(p.dram.timing.tRFC_ns == 280); // untouched
  // LPDDR5's 16 banks refresh in pairs; refresh disabled is fine too.
  const HwConfig q = parse_hw_config(
      with("  type: LPDDR4X\n  channels: 4\n",
           "  type: LPDDR5\n  channels: 4\n  refresh: per_bank\n  timing: {tREFI_ns: 0}\n"),
      "fake.yaml");
  CHECK(q.dram.refresh == RefreshMode::PerBank);
  CHECK(q.dram.tREFIpb_ck() == 0);
  // describe() names the mode and its figures.
  CHECK(describe(p).find("per_bank: tRFCpb 90 ns = 192 CK every tREFIpb 488 ns = 1040 CK, 1 bank each") !=
        std::string::npos);
  CHECK(describe(q).find("per_bank, disabled (tREFI 0)") != std::string::npos);
  CHECK(describe(a).find("all_bank: tRFC 280 ns = 598 CK every tREFI 3904 ns = 8324 CK") != std::string::npos);
  const HwConfig r = parse_hw_config(
      with("  type: LPDDR4X\n  channels: 4\n", "  type: LPDDR5\n  channels: 4\n  refresh: per_bank\n"),
      "fake.yaml");
  CHECK(describe(r).find("per_bank: tRFCpb 120 ns = 96 CK every tREFIpb 488 ns = 390 CK, 2 banks each") !=
        std::string::npos);
}

// ---------------------------------------------------------------------------
// Errors: one-line "FILE:LINE: KEY.PATH: expected ..., got ..."

TEST_CASE("error: YAML syntax", "[hw][errors]") {
  check_error(with("  cols: 16\n", "  cols: [16\n"), 6, "", "YAML syntax error");
  check_error(with("  lanes: 16\n", "  lanes: 16\n   bad: : :\n"), 9, "", "YAML syntax error");
  check_error(with("tiles: 2\n", "tiles: {2\n"), 2, "", "YAML syntax error: end of map flow not found");
}

TEST_CASE("error: empty file, not a map, several documents", "[hw][errors]") {
  check_error("", 1, "", "got an empty file");
  check_error("# only a comment\n", 1, "", "got an empty file");
  check_error("- a\n- b\n", 1, "", "expected a design point");
  check_error("just a string\n", 1, "", "got 'just a string'");
  check_error(kBase + "---\nname: u\n", 48, "", "expected one YAML document, got a second one");
  check_error(",name: t\n", 1, "", "YAML syntax error: unexpected ','");
  // yaml-cpp 0.7's LoadAll hangs on these (jbeder/yaml-cpp#1040); we must not.
  check_error(kBase + "---\n,\n", 49, "", "YAML syntax error: unexpected ','");
}

TEST_CASE("error: unknown keys at every level, naming the allowed ones", "[hw][errors]") {
  check_error(with("tiles: 2\n", "tiles: 2\ntile: 3\n"), 3, "tile",
              "unknown key, expected one of name, technology_nm, tiles");
  check_error(with("  cols: 16\n", "  cols: 16\n  depth: 4\n"), 6, "mxu.depth",
              "expected one of rows, cols, weight_types");
  check_error(with("  ports: 1\naccumulator:", "  port: 1\naccumulator:"), 13,
              "scratchpad.port", "banks, width_bits, depth, ports");
  check_error(with("  channels: 4\n", "  channels: 4\n  timing: {tRCD: 30, tXYZ: 1}\n"), 28,
              "dram.timing.tXYZ", "tRFC_ns, tRFCpb_ns, tREFI_ns");
  check_error(with("{volts: 0.9, mhz: 800}", "{volts: 0.9, mhz: 800, watts: 1}"), 32,
              "dvfs.compute.operating_points[1].watts", "expected one of volts, mhz");
  check_error(with("  always_on:\n", "  gpu: {}\n  always_on:\n"), 42, "dvfs.gpu",
              "compute, memory, always_on");
}

TEST_CASE("error: duplicate key", "[hw][errors]") {
  check_error(with("  rows: 16\n", "  rows: 16\n  rows: 8\n"), 5, "mxu.rows",
              "first at line 4");
}

TEST_CASE("error: missing required keys", "[hw][errors]") {
  check_error(with("  cols: 16\n", ""), 3, "mxu.cols", "missing required key");
  check_error(with("tiles: 2\n", ""), 1, "tiles", "missing required key, expected an integer 1..63");
  check_error(with("  ports: 1\naccumulator:", "accumulator:"), 9, "scratchpad.ports",
              "missing required key");
  check_error(with("  type: LPDDR4X\n", ""), 25, "dram.type", "one of LPDDR4, LPDDR4X, LPDDR5");
  check_error(with("    transition_nj: 0.5\n", ""), 42, "dvfs.always_on.transition_nj",
              "missing required key");
}

TEST_CASE("error: wrong types", "[hw][errors]") {
  check_error(with("tiles: 2", "tiles: two"), 2, "tiles", "expected an integer 1..63, got 'two'");
  check_error(with("tiles: 2", "tiles: \"2\""), 2, "tiles", "got the string \"2\"");
  check_error(with("tiles: 2", "tiles: 2.5"), 2, "tiles", "got '2.5'");
  check_error(with("tiles: 2", "tiles: [2]"), 2, "tiles", "got a list");
  check_error(with("tiles: 2", "tiles:"), 2, "tiles", "got nothing");
  check_error(with("  weight_types: [int8, int4]", "  weight_types: {int8: 1}"), 6,
              "mxu.weight_types", "expected a non-empty list of weight types (int8, int4), got a map");
  check_error(with("vxu:\n  lanes: 16\n", "vxu: 16\n"), 7, "vxu", "expected a map with keys lanes");
  check_error(with("      - {volts: 0.6, mhz: 400}\n      - {volts: 0.9, mhz: 800}\n",
                   "      {volts: 0.6, mhz: 400}\n"),
              31, "dvfs.compute.operating_points", "expected a non-empty list of operating points");
  check_error(with("{volts: 0.6, mhz: 400}", "{volts: low, mhz: 400}"), 31,
              "dvfs.compute.operating_points[0].volts", "got 'low'");
  check_error(with("name: t", "name: [a, b]"), 1, "name", "expected a non-empty one-line string");
}

TEST_CASE("error: zero, negative and out-of-range counts", "[hw][errors]") {
  check_error(with("  banks: 8\n", "  banks: 0\n"), 10, "scratchpad.banks",
              "expected an integer 1..64, got 0");
  check_error(with("tiles: 2", "tiles: 0"), 2, "tiles", "expected an integer 1..63, got 0");
  check_error(with("tiles: 2", "tiles: -3"), 2, "tiles", "got -3");
  check_error(with("tiles: 2", "tiles: 64"), 2, "tiles", "got 64");
  check_error(with("tiles: 2", "tiles: 99999999999999999999999"), 2, "tiles", "expected an integer");
  check_error(with("  channels: 4", "  channels: 0"), 27, "dram.channels", "1..16, got 0");
  check_error(with("  outstanding: 16", "  outstanding: 0"), 21, "dma.outstanding", "got 0");
  check_error(with("  sync_cycles: 2", "  sync_cycles: 9"), 24, "controller.sync_cycles",
              "1..8, got 9");
  check_error(with("  ports: 1\naccumulator:", "  ports: 3\naccumulator:"), 13, "scratchpad.ports",
              "1..2, got 3");
  check_error(with("  rows: 16", "  rows: 257"), 4, "mxu.rows", "1..256, got 257");
  check_error(with("{volts: 0.6, mhz: 400}", "{volts: 0.6, mhz: 0}"), 31,
              "dvfs.compute.operating_points[0].mhz", "expected a number > 0");
  check_error(with("    transition_ns: 1000", "    transition_ns: -1"), 46,
              "dvfs.always_on.transition_ns", "got -1");
}

TEST_CASE("error: power of two and SRAM size rules", "[hw][errors]") {
  check_error(with("  width_bits: 128", "  width_bits: 100"), 11, "scratchpad.width_bits",
              "expected a power of two 32..4096, got 100");
  check_error(with("  depth: 2048", "  depth: 1000"), 12, "scratchpad.depth",
              "expected a power of two >= 16, got 1000");
  check_error(with("  lanes: 16", "  lanes: 12"), 8, "vxu.lanes", "power of two 1..256, got 12");
  check_error(with("  burst_bytes: 64", "  burst_bytes: 48"), 20, "dma.burst_bytes",
              "power of two 16..4096, got 48");
  check_error(with("  width_bits: 512", "  width_bits: 16"), 16, "accumulator.width_bits",
              "multiple of 32, got 16");
  check_error(with("  banks: 8\n  width_bits: 128", "  banks: 64\n  width_bits: 4096"), 9,
              "scratchpad", "at most 16384 KiB per tile");
}

TEST_CASE("controller.imem_depth: optional, default 16384, a power of two 16..2^24", "[hw]") {
  CHECK(kDefaultImemDepth == 16384);
  CHECK(parse_hw_config(kBase, "fake.yaml").controller.imem_depth == kDefaultImemDepth);
  const std::string sync = "  sync_cycles: 2\n";
  auto depth = [&](const std::string& v) { return with(sync, sync + "  imem_depth: " + v + "\n"); };
  CHECK(parse_hw_config(depth("1024"), "fake.yaml").controller.imem_depth == 1024);
  CHECK(parse_hw_config(depth("16"), "fake.yaml").controller.imem_depth == 16);
  CHECK(parse_hw_config(depth("16777216"), "fake.yaml").controller.imem_depth == 16777216);
  const std::string rule = "expected a power of two 16..16777216";
  check_error(depth("0"), 25, "controller.imem_depth", rule + ", got 0");
  check_error(depth("8"), 25, "controller.imem_depth", rule + ", got 8");
  check_error(depth("1000"), 25, "controller.imem_depth", rule + ", got 1000");
  check_error(depth("33554432"), 25, "controller.imem_depth", rule + ", got 33554432");
  check_error(depth("-1024"), 25, "controller.imem_depth", rule + ", got -1024");
  check_error(depth("1k"), 25, "controller.imem_depth", rule + ", got '1k'");
  check_error(depth("\"1024\""), 25, "controller.imem_depth", "got the string \"1024\"");
  check_error(depth("[1024]"), 25, "controller.imem_depth", "got a list");
  check_error(with(sync, sync + "  imem_size: 1024\n"), 25, "controller.imem_size",
              "imem_depth");  // an unknown key names the allowed ones
}

TEST_CASE("error: cross-key DMA and DRAM rules", "[hw][errors]") {
  check_error(with("  burst_bytes: 64", "  burst_bytes: 512"), 20, "dma.burst_bytes",
              "<= dram.interleave_bytes (256), got 512");
  check_error(with("  channels: 4\n", "  channels: 4\n  interleave_bytes: 4096\n"), 28,
              "dram.interleave_bytes", "32..page_bytes (2048), got 4096");
  check_error(with("  channels: 4\n", "  channels: 4\n  interleave_bytes: 300\n"), 28,
              "dram.interleave_bytes", "power of two");
  check_error(with("  channels: 4\n", "  channels: 4\n  data_rate_mtps: 4000\n"), 28,
              "dram.data_rate_mtps", "multiple of ck_mhz (2133), got 4000");
  check_error(with("  type: LPDDR4X\n  channels: 4\n",
                   "  type: LPDDR5\n  channels: 4\n  timing:\n    BL: 12\n"),
              29, "dram.timing.BL", "transfers per clock (data_rate_mtps / ck_mhz = 8), got 12");
  check_error(with("  channels: 4\n", "  channels: 4\n  timing: {tREFI_ns: 100}\n"), 28,
              "dram.timing.tREFI_ns", "longer than tRFC_ns (280)");
}

TEST_CASE("error: DRAM refresh mode", "[hw][errors]") {
  check_error(with("  channels: 4\n", "  channels: 4\n  refresh: per-bank\n"), 28, "dram.refresh",
              "expected one of all_bank, per_bank, got 'per-bank'");
  check_error(with("  channels: 4\n", "  channels: 4\n  refresh: [per_bank]\n"), 28, "dram.refresh",
              "got a list");
  check_error(with("  channels: 4\n", "  channels: 4\n  refresh: per_bank\n  banks: 4\n"), 28,
              "dram.refresh", "per_bank with banks a multiple of 8 (8 per-bank refreshes per tREFI), got per_bank with 4 banks");
  check_error(with("  channels: 4\n", "  channels: 4\n  refresh: per_bank\n  timing: {tRFCpb_ns: 300}\n"), 29,
              "dram.timing.tRFCpb_ns", "no longer than tRFC_ns (280), got 300");
  check_error(with("  channels: 4\n", "  channels: 4\n  refresh: per_bank\n  timing: {tRFC_ns: 130}\n"), 29,
              "dram.timing.tRFC_ns", "no shorter than tRFCpb_ns (140), got 130");
  check_error(with("  channels: 4\n", "  channels: 4\n  timing: {tRFCpb_ns: 0}\n"), 28,
              "dram.timing.tRFCpb_ns", "expected a number > 0");
  // tREFIpb = 1000 / 8 = 125 ns = 266 CK, tRFCpb 140 ns = 299 CK.
  check_error(with("  channels: 4\n", "  channels: 4\n  refresh: per_bank\n  timing: {tREFI_ns: 1000}\n"), 29,
              "dram.timing.tREFI_ns",
              "0 (no refresh) or a refresh interval whose eighth is longer than tRFCpb_ns (140 = 299 CK), "
              "got 1000 (tREFIpb = tREFI_ns / 8 = 125 ns = 266 CK)");
  check_error(with("  channels: 4\n", "  channels: 4\n  refresh: per_bank\n  timing: {tREFI_ns: 1000, tRFCpb_ns: 130}\n"),
              29, "dram.timing.tRFCpb_ns", "shorter than tREFIpb = tREFI_ns / 8 = 125 ns = 266 CK, got 130 (278 CK)");
  // The default tREFIpb is 1040 CK: a tREFI of 600 ns would not do per bank,
  // but is fine for all_bank (> tRFC 280 ns).
  CHECK_NOTHROW(parse_hw_config(with("  channels: 4\n", "  channels: 4\n  timing: {tREFI_ns: 600}\n"), "fake.yaml"));
}

TEST_CASE("error: unknown DRAM and weight types", "[hw][errors]") {
  check_error(with("  type: LPDDR4X", "  type: DDR4"), 26, "dram.type",
              "expected one of LPDDR4, LPDDR4X, LPDDR5, got 'DDR4'");
  check_error(with("  type: LPDDR4X", "  type: lpddr4x"), 26, "dram.type", "got 'lpddr4x'");
  check_error(with("[int8, int4]", "[int8, fp16]"), 6, "mxu.weight_types[1]",
              "expected one of int8, int4, got 'fp16'");
  check_error(with("[int8, int4]", "[int4, int4]"), 6, "mxu.weight_types[1]",
              "each weight type once");
  check_error(with("[int8, int4]", "[]"), 6, "mxu.weight_types", "got an empty list");
}

TEST_CASE("error: DVFS domains and operating points", "[hw][errors]") {
  // A missing domain.
  check_error(with("  memory:\n    operating_points:\n      - {volts: 0.7, mhz: 400}\n"
                   "    initial: 0\n    transition_ns: 500\n    transition_nj: 1.0\n",
                   ""),
              28, "dvfs.memory", "missing required key");
  // An operating point without volts or mhz.
  check_error(with("{volts: 0.6, mhz: 400}", "{mhz: 400}"), 31,
              "dvfs.compute.operating_points[0].volts", "missing required key");
  check_error(with("{volts: 0.7, mhz: 400}", "{volts: 0.7}"), 38,
              "dvfs.memory.operating_points[0].mhz", "missing required key");
  // An empty list.
  check_error(with("      - {volts: 0.7, mhz: 400}\n", "      []\n"), 38,
              "dvfs.memory.operating_points", "got an empty list");
  check_error(with("    operating_points:\n      - {volts: 0.7, mhz: 400}\n",
                   "    operating_points: []\n"),
              37, "dvfs.memory.operating_points", "got an empty list");
  // initial out of range.
  check_error(with("    initial: 1\n", "    initial: 2\n"), 33, "dvfs.compute.initial",
              "expected an index 0..1 into operating_points, got 2");
  check_error(with("    initial: 1\n", "    initial: -1\n"), 33, "dvfs.compute.initial", "got -1");
  // Not strictly ascending in frequency.
  check_error(with("{volts: 0.9, mhz: 800}", "{volts: 0.9, mhz: 400}"), 32,
              "dvfs.compute.operating_points[1].mhz", "expected mhz > 400");
  check_error(with("{volts: 0.9, mhz: 800}", "{volts: 0.9, mhz: 300}"), 32,
              "dvfs.compute.operating_points[1].mhz", "got 300");
  // A faster point at a lower voltage.
  check_error(with("{volts: 0.9, mhz: 800}", "{volts: 0.5, mhz: 800}"), 32,
              "dvfs.compute.operating_points[1].volts", "volts >= 0.6");
}

TEST_CASE("error: file not found", "[hw][errors]") {
  const std::string path = kSrc + "/configs/hw/no-such-point.yaml";
  try {
    load_hw_config(path);
    FAIL("no error");
  } catch (const clonesim::Error& e) {
    CHECK(std::string(e.what()) == path + ": expected a design-point file, got no such file");
  }
  try {
    load_hw_config(kSrc + "/configs/hw");
    FAIL("no error");
  } catch (const clonesim::Error& e) {
    CHECK(std::string(e.what()).find("got a directory") != std::string::npos);
  }
}

TEST_CASE("errors from a real file carry its path and line", "[hw][errors]") {
  const std::string path = "test_hw_config_bad.yaml";
  {
    std::ofstream out(path);
    out << with("  banks: 8\n", "  banks: 0\n");
  }
  try {
    load_hw_config_or_named(path);
    FAIL("no error");
  } catch (const clonesim::Error& e) {
    CHECK(std::string(e.what()).rfind(path + ":10: scratchpad.banks: expected", 0) == 0);
  }
  std::remove(path.c_str());
}

TEST_CASE("no input crashes: truncations and byte mutations only raise Error", "[hw][errors]") {
  const std::string base = read_text(kSrc + "/configs/hw/clone-28nm.yaml");
  REQUIRE(!base.empty());
  auto survives = [](const std::string& text) {
    try {
      parse_hw_config(text, "fuzz.yaml");
    } catch (const clonesim::Error& e) {
      const std::string msg = e.what();
      if (msg.find('\n') != std::string::npos || msg.rfind("fuzz.yaml", 0) != 0) return false;
    } catch (...) {
      return false;
    }
    return true;
  };
  size_t bad = 0;
  for (size_t n = 0; n < base.size(); n += 7)
    if (!survives(base.substr(0, n))) ++bad;
  std::mt19937 rng(12345);
  const std::string alphabet = "{}[]:,-#&*!|>'\"%@` \n\t0123456789.xyz";
  for (int i = 0; i < 400; ++i) {
    std::string t = base;
    for (int k = 0; k < 3; ++k)
      t[rng() % t.size()] = alphabet[rng() % alphabet.size()];
    if (!survives(t)) ++bad;
  }
  CHECK(bad == 0);
  CHECK(survives(std::string(5000, '[')));
  CHECK(survives(std::string("\0\xff\xfe", 3)));
}
