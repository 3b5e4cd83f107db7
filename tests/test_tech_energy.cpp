// The energy, leakage and V-f sections of the technology files: both shipped
// files parse with the figures docs/energy-model.md quotes, the derived
// figures follow from the base ones as their sources say, the SRAM energy
// table rule by hand, V^2 and leakage scaling, the alpha-power curve, DVFS
// transition energy, the DRAM helpers, the operating-point check, and one
// test per class of bad file.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "common/error.h"
#include "hw/hw_config.h"
#include "power_models/tech.h"
#include "test_util.h"

using namespace clonesim;
using namespace clonesim::power;

namespace {

const std::string kSrc = CLONESIM_SOURCE_DIR;
const std::string k28 = kSrc + "/power_models/tech/tech-28nm.yaml";

using clonesim::test::read_text;

using clonesim::test::line_with;
using clonesim::test::rel_eq;
using clonesim::test::replace_once;

std::string error_of(const std::string& text) {
  try {
    parse_tech(text, "bad.yaml");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// Every figure of the energy, leakage and vf sections, and the node's supply.
std::vector<const Figure*> new_figures(const Tech& t) {
  const EnergyTech& e = t.energy;
  std::vector<const Figure*> v = {&t.nominal_volts,     &e.int8_add_pj,       &e.int32_add_pj,
                                  &e.int8_mult_pj,      &e.int32_mult_pj,     &e.mac_int8_pj,
                                  &e.mac_int4x8_pj,     &e.register_bit_pj,   &e.instruction_pj,
                                  &e.semaphore_pj,      &e.envm_read_pj_per_bit,
                                  &t.leakage.logic_mw_per_mm2, &t.leakage.sram_uw_per_kib,
                                  &t.leakage.k_per_volt, &t.vf.nominal_mhz,   &t.vf.vt_volts,
                                  &t.vf.alpha,          &t.vf.min_volts,      &t.vf.max_volts,
                                  &t.vf.decap_nf,       &t.vf.regulator_efficiency,
                                  &t.vf.transition_ns};
  for (const Figure& f : e.vector_pj) v.push_back(&f);
  for (const DramEnergy& d : e.dram)
    for (const Figure* f : {&d.read_pj_per_bit, &d.write_pj_per_bit, &d.act_pre_nj, &d.row_bytes,
                            &d.refresh_ab_nj, &d.background_mw, &d.powerdown_mw})
      v.push_back(f);
  return v;
}

}  // namespace

TEST_CASE("both technology files parse their energy, leakage and vf sections", "[tech][energy]") {
  const Tech t = load_tech_or_named("tech-28nm");
  const Tech u = load_tech_or_named("tech-45nm");
  for (const Tech* x : {&t, &u}) {
    INFO(x->name);
    for (const Figure* f : new_figures(*x)) {
      CHECK(f->value > 0);
      CHECK(f->line > 0);
      CHECK_THAT(f->source, Catch::Matches(R"(\[[MTSR]\] .+)"));
    }
    CHECK(x->nominal_volts.value == 0.9);
    CHECK(x->energy.sram_macros.size() == 7);
    for (const auto& m : x->energy.sram_macros) CHECK_THAT(m.source, Catch::Matches(R"(\[[TS]\] CACTI 7 .+)"));
  }

  // 28 nm: the figures docs/energy-model.md quotes.
  const EnergyTech& e = t.energy;
  CHECK(e.int8_add_pj.value == 0.015);
  CHECK(e.int32_add_pj.value == 0.05);
  CHECK(e.int8_mult_pj.value == 0.10);
  CHECK(e.int32_mult_pj.value == 1.55);
  CHECK(e.mac_int8_pj.value == 0.15);
  CHECK(e.mac_int4x8_pj.value == 0.065);
  CHECK(e.register_bit_pj.value == 0.0045);
  CHECK(e.envm_read_pj_per_bit.value == 1.0);
  CHECK(t.leakage.logic_mw_per_mm2.value == 0.2);
  CHECK(t.leakage.sram_uw_per_kib.value == 3.0);
  CHECK(t.leakage.k_per_volt.value == 3.0);
  CHECK(t.vf.nominal_mhz.value == 1000);
  CHECK(t.vf.vt_volts.value == 0.375);
  CHECK(t.vf.alpha.value == 1.4);
  CHECK(t.vf.min_volts.value == 0.5);
  CHECK(t.vf.max_volts.value == 1.1);
  CHECK(t.vf.decap_nf.value == 2.0);
  CHECK(t.vf.regulator_efficiency.value == 0.8);
  CHECK(t.vf.transition_ns.value == 500);
  CHECK(std::string(vec_op_name(0)) == "alu");
  CHECK(std::string(vec_op_name(4)) == "reduce");

  // 45 nm: Horowitz as measured, roughly twice the 28 nm energies (x0.50);
  // the SRAM table exactly /0.50; the DRAM figures the same (off chip).
  CHECK(u.energy.int32_mult_pj.value == 3.1);
  CHECK(u.energy.mac_int8_pj.value == 0.3);
  CHECK(u.vf.nominal_mhz.value == 690);
  for (size_t i = 0; i < 7; ++i) {
    CHECK(rel_eq(u.energy.sram_macros[i].read_pj, 2 * e.sram_macros[i].read_pj, 1e-12));
    CHECK(rel_eq(u.energy.sram_macros[i].write_pj, 2 * e.sram_macros[i].write_pj, 1e-12));
  }
  for (size_t i = 0; i < 3; ++i) {
    CHECK(u.energy.dram[i].read_pj_per_bit.value == e.dram[i].read_pj_per_bit.value);
    CHECK(u.energy.dram[i].refresh_ab_nj.value == e.dram[i].refresh_ab_nj.value);
    CHECK(u.energy.dram[i].background_mw.value == e.dram[i].background_mw.value);
  }
  for (int i = 0; i < kNumVecOps; ++i)
    CHECK(u.energy.vector_pj[i].value / e.vector_pj[i].value == Approx(2.0).epsilon(1e-9));
}

TEST_CASE("derived energies follow from the base figures as their sources say", "[tech][energy]") {
  for (const std::string name : {"tech-28nm", "tech-45nm"}) {
    INFO(name);
    const Tech t = load_tech_or_named(name);
    const EnergyTech& e = t.energy;
    const double add = e.int32_add_pj.value, mul = e.int32_mult_pj.value;
    const double reg32 = 32 * e.register_bit_pj.value;
    CHECK(rel_eq(e.mac_int8_pj.value, e.int8_mult_pj.value + add, 1e-12));
    CHECK(rel_eq(e.instruction_pj.value, 2 * 288 * e.register_bit_pj.value, 1e-12));
    CHECK(rel_eq(e.semaphore_pj.value, add + reg32, 1e-12));
    CHECK(rel_eq(e.vector_pj[0].value, 2 * add + reg32, 1e-12));                  // alu
    CHECK(rel_eq(e.vector_pj[1].value, mul + add + reg32, 1e-12));                // mul
    const double lut_read = 16 * sram_access_pj(t, 2048, 64, false) / 64;          // 16 bits
    CHECK(rel_eq(e.vector_pj[2].value, e.int8_add_pj.value + lut_read + reg32, 1e-12));  // lut
    CHECK(rel_eq(e.vector_pj[3].value, 32 * (2 * add + 128 * e.register_bit_pj.value), 1e-12));  // sfu
    CHECK(rel_eq(e.vector_pj[4].value, add + reg32, 1e-12));                      // reduce
    // The int4 x int8 MAC costs less than the int8 one.
    CHECK(e.mac_int4x8_pj.value < e.mac_int8_pj.value);
  }
}

TEST_CASE("SRAM access energy: exact at the CACTI points, log-log in between", "[tech][energy][sram]") {
  const Tech t = load_tech_or_named("tech-28nm");
  struct P {
    double kib;
    uint32_t w;
    double rd, wr;
  };
  // reference-28nm.md, CACTI 7 at 28 nm, hp cells, 1 RW port.
  for (const P& p : {P{2, 64, 0.96, 1.42}, P{8, 64, 2.30, 2.66}, P{32, 128, 7.86, 9.40},
                     P{128, 128, 16.4, 14.7}, P{128, 512, 42.2, 57.9}, P{512, 128, 35.6, 32.4},
                     P{2048, 128, 68.2, 65.0}}) {
    CHECK(sram_access_pj(t, p.kib * 1024, p.w, false) == p.rd);
    CHECK(sram_access_pj(t, p.kib * 1024, p.w, true) == p.wr);
  }
  // Width exponents: the one size with two widths (128 KiB).
  const double br = std::log(42.2 / 16.4) / std::log(4.0);  // 0.6818
  const double bw = std::log(57.9 / 14.7) / std::log(4.0);  // 0.9889
  CHECK(rel_eq(sram_energy_width_exponent(t, false), br));
  CHECK(rel_eq(sram_energy_width_exponent(t, true), bw));
  CHECK(sram_energy_width_exponent(t, false) == Approx(0.68177).epsilon(1e-4));

  // 64 KiB x 128 b: halfway (in ln size) between 32 and 128 KiB: the geometric mean.
  CHECK(rel_eq(sram_access_pj(t, 64 * 1024, 128, false), std::sqrt(7.86 * 16.4)));
  CHECK(sram_access_pj(t, 64 * 1024, 128, false) == Approx(11.3536).epsilon(1e-5));
  CHECK(sram_access_pj(t, 64 * 1024, 128, true) == Approx(11.7550).epsilon(1e-5));
  // 128 KiB x 256 b: halfway between the 128 b and 512 b points.
  CHECK(sram_access_pj(t, 128 * 1024, 256, false) == Approx(26.3074).epsilon(1e-5));
  // 32 KiB x 512 b (clone-28nm's scratchpad bank): the 128 b point x 4^beta.
  CHECK(rel_eq(sram_access_pj(t, 32 * 1024, 512, false), 7.86 * std::pow(4.0, br)));
  CHECK(sram_access_pj(t, 32 * 1024, 512, false) == Approx(20.2251).epsilon(1e-5));
  CHECK(sram_access_pj(t, 32 * 1024, 512, true) == Approx(37.0245).epsilon(1e-5));
  // Beyond the table: 1 KiB x 64 b extends the 2 KiB - 8 KiB segment.
  const double s0 = std::log(2.30 / 0.96) / std::log(4.0);
  CHECK(rel_eq(sram_access_pj(t, 1024, 64, false), 0.96 * std::pow(0.5, s0)));

  // The area table is untouched by the energy tables and vice versa.
  CHECK(sram_macro_mm2(t.area, 64 * 1024, 128) == Approx(std::sqrt(0.038 * 0.184)));

  // Monotone in size and width, both nodes, read and write.
  for (const std::string name : {"tech-28nm", "tech-45nm"}) {
    const Tech x = load_tech_or_named(name);
    for (bool wr : {false, true})
      for (uint32_t w = 16; w <= 4096; w *= 2) {
        double prev = 0;
        for (double kib = 0.25; kib <= 16384; kib *= std::sqrt(2.0)) {
          const double e = sram_access_pj(x, kib * 1024, w, wr);
          CHECK(e > prev);
          prev = e;
          CHECK(sram_access_pj(x, kib * 1024, w * 2, wr) > e);
        }
      }
  }
  CHECK_THROWS_WITH(sram_access_pj(t, 0, 64, false), Catch::StartsWith("sram_access_pj: expected"));
}

TEST_CASE("dynamic energy scales as V^2, within 4% of Stillmaker's 28 nm table", "[tech][dvfs]") {
  const Tech t = load_tech_or_named("tech-28nm");
  CHECK(dynamic_scale(t, 0.9) == 1.0);
  CHECK(dynamic_scale(t, 0.6) == Approx(0.6 * 0.6 / 0.81));  // 0.4444
  CHECK(dynamic_scale(t, 1.05) == Approx(1.3611).epsilon(1e-4));
  // reference-28nm.md: Stillmaker 28 nm HP energy normalised to 0.9 V.
  const double v[] = {0.6, 0.7, 0.8, 0.9, 1.0, 1.1};
  const double s[] = {0.45, 0.60, 0.78, 1.00, 1.26, 1.55};
  for (int i = 0; i < 6; ++i) {
    INFO(v[i] << " V");
    CHECK(std::fabs(dynamic_scale(t, v[i]) / s[i] - 1) <= 0.04);
  }
}

TEST_CASE("leakage scales as (V/Vnom) exp(k (V - Vnom))", "[tech][leakage]") {
  const Tech t = load_tech_or_named("tech-28nm");
  CHECK(leakage_scale(t, 0.9) == 1.0);
  // k = 3 /V: 0.6 V: (2/3) e^-0.9 = 0.27105; 1.05 V: (7/6) e^0.45 = 1.82970.
  CHECK(rel_eq(leakage_scale(t, 0.6), 0.6 / 0.9 * std::exp(-0.9)));
  CHECK(leakage_scale(t, 0.6) == Approx(0.271046).epsilon(1e-5));
  CHECK(leakage_scale(t, 1.05) == Approx(1.829698).epsilon(1e-5));
  // 1 mm2 of logic and 1 MiB of SRAM: 0.2 + 1024 x 3 uW = 3.272 mW at 0.9 V.
  CHECK(rel_eq(leakage_mw(t, 1.0, 1024, 0.9), 3.272));
  CHECK(rel_eq(leakage_mw(t, 1.0, 1024, 0.6), 3.272 * leakage_scale(t, 0.6)));
  // tech-45nm: the same per gate, so 0.38x per mm2.
  const Tech u = load_tech_or_named("tech-45nm");
  CHECK(rel_eq(leakage_mw(u, 1.0, 0, 0.9), 0.076));
}

TEST_CASE("alpha-power V-f curve by hand", "[tech][dvfs]") {
  const Tech t = load_tech_or_named("tech-28nm");
  // f(V) = 1000 MHz x [(V - 0.375)^1.4 / V] / [(0.9 - 0.375)^1.4 / 0.9]
  auto hand = [](double v, double fn) {
    return fn * (std::pow(v - 0.375, 1.4) / v) / (std::pow(0.525, 1.4) / 0.9);
  };
  CHECK(alpha_power_mhz(t, 0.9) == Approx(1000.0).epsilon(1e-12));
  for (double v : {0.5, 0.6, 0.7, 0.8, 1.0, 1.05, 1.1}) CHECK(rel_eq(alpha_power_mhz(t, v), hand(v, 1000)));
  CHECK(alpha_power_mhz(t, 0.6) == Approx(458.061).epsilon(1e-5));
  CHECK(alpha_power_mhz(t, 1.05) == Approx(1218.584).epsilon(1e-5));
  // The reference's f(0.6 V)/f(0.9 V) band, 0.38-0.54.
  CHECK(alpha_power_mhz(t, 0.6) / 1000 >= 0.38);
  CHECK(alpha_power_mhz(t, 0.6) / 1000 <= 0.54);
  // At or below Vt: no clock.
  CHECK(alpha_power_mhz(t, 0.375) == 0);
  CHECK(alpha_power_mhz(t, 0.2) == 0);
  // tech-45nm: the same shape, 690 MHz at 0.9 V.
  const Tech u = load_tech_or_named("tech-45nm");
  CHECK(rel_eq(alpha_power_mhz(u, 0.6), hand(0.6, 690)));
  CHECK(alpha_power_mhz(u, 0.6) == Approx(316.062).epsilon(1e-5));
}

TEST_CASE("DVFS transition energy: C |V2^2 - V1^2| / efficiency", "[tech][dvfs]") {
  const Tech t = load_tech_or_named("tech-28nm");
  // 2 nF x (1.05^2 - 0.6^2) / 0.8 = 2 x 0.7425 / 0.8 = 1.85625 nJ.
  CHECK(rel_eq(transition_nj(t, 0.6, 1.05), 1.85625));
  CHECK(transition_nj(t, 1.05, 0.6) == transition_nj(t, 0.6, 1.05));
  CHECK(transition_nj(t, 0.8, 0.8) == 0);
  // 0.8 -> 0.9 V: 2 x 0.17 / 0.8 = 0.425 nJ; with a 5 nF domain 1.0625 nJ.
  CHECK(rel_eq(transition_nj(t, 0.8, 0.9), 0.425));
  CHECK(rel_eq(transition_nj(t, 0.8, 0.9, 5.0), 1.0625));
}

TEST_CASE("DRAM energies per type", "[tech][energy][dram]") {
  const Tech t = load_tech_or_named("tech-28nm");
  using hw::DramType;
  const DramEnergy& d4 = dram_energy(t, DramType::LPDDR4);
  // The LPDDR4 read figure from the DRAMPower memspec currents: (IDD4R -
  // IDD3N) on VDD2 and VDDQ, 1.1 V, over one BL16 burst (5 ns, 256 bits).
  CHECK(d4.read_pj_per_bit.value == Approx(((275 - 30) * 1.1 + (150 - 0.75) * 1.1) * 5 / 256).epsilon(1e-3));
  CHECK(d4.refresh_ab_nj.value == Approx(((10 - 2.25) * 1.8 + (90 - 30) * 1.1) * 0.280).epsilon(1e-3));
  CHECK(dram_energy(t, DramType::LPDDR4X).read_pj_per_bit.value == 6.22);
  CHECK(dram_energy(t, DramType::LPDDR5).read_pj_per_bit.value == 5.46);
  // Lower I/O supplies, less energy per bit.
  CHECK(dram_energy(t, DramType::LPDDR5).read_pj_per_bit.value <
        dram_energy(t, DramType::LPDDR4X).read_pj_per_bit.value);
  CHECK(dram_energy(t, DramType::LPDDR4X).read_pj_per_bit.value < d4.read_pj_per_bit.value);
  // Activate + precharge scales with the row size; a REFpb is 1/8 of a REFab.
  CHECK(dram_act_pre_nj(t, DramType::LPDDR4, 2048) == 1.20);
  CHECK(rel_eq(dram_act_pre_nj(t, DramType::LPDDR4, 4096), 2.40));
  CHECK(dram_refresh_nj(t, DramType::LPDDR4, false) == 22.4);
  CHECK(rel_eq(dram_refresh_nj(t, DramType::LPDDR4, true), 2.8));
  CHECK(rel_eq(dram_refresh_nj(t, DramType::LPDDR5, true), 15.6 / 8));
}

TEST_CASE("operating points are checked against the V-f curve", "[tech][dvfs][errors]") {
  const Tech t28 = load_tech_or_named("tech-28nm");
  const Tech t45 = load_tech_or_named("tech-45nm");
  // Every shipped design point and test fixture is within the 28 nm curve.
  for (const auto& name : hw::shipped_hw_names()) CHECK_NOTHROW(check_operating_points(hw::load_hw_config_or_named(name), t28));
  for (const char* f : {"test-8x8", "test-16x16", "cosim-2x16", "cosim-4x8"})
    CHECK_NOTHROW(check_operating_points(hw::load_hw_config(kSrc + "/tests/data/hw/" + f + ".yaml"), t28));
  // edge-small (0.6 V 200 MHz, 0.8 V 400 MHz) is slow enough for 45 nm too.
  CHECK_NOTHROW(check_operating_points(hw::load_hw_config_or_named("edge-small"), t45));

  // clone-28nm's 400 MHz at 0.6 V is beyond the 45 nm curve (316 MHz).
  CHECK_THROWS_WITH(check_operating_points(hw::load_hw_config_or_named("clone-28nm"), t45),
                    "configs/hw/clone-28nm.yaml: dvfs.compute.operating_points[0]: expected at most "
                    "316 MHz at 0.6 V (tech-45nm's V-f curve: 690 MHz at 0.9 V, Vt 0.375 V, alpha "
                    "1.4), got 400 MHz");

  // A point faster than the curve, named by domain and index.
  hw::HwConfig h = hw::load_hw_config_or_named("edge-small");
  h.domains[1].points[1].mhz = 900;  // memory, 0.8 V: the curve allows 836.9 MHz
  CHECK_THROWS_WITH(check_operating_points(h, t28),
                    "configs/hw/edge-small.yaml: dvfs.memory.operating_points[1]: expected at most "
                    "836 MHz at 0.8 V (tech-28nm's V-f curve: 1000 MHz at 0.9 V, Vt 0.375 V, alpha "
                    "1.4), got 900 MHz");
  h.domains[1].points[1].mhz = 836;
  CHECK_NOTHROW(check_operating_points(h, t28));
  // A voltage outside the curve's range.
  h.domains[2].points[0].volts = 0.45;
  CHECK_THROWS_WITH(check_operating_points(h, t28),
                    "configs/hw/edge-small.yaml: dvfs.always_on.operating_points[0]: expected volts "
                    "within 0.5..1.1 V (the range of tech-28nm's V-f curve), got 0.45 V");
  h.domains[2].points[0].volts = 1.2;
  CHECK_THROWS_WITH(check_operating_points(h, t28), Catch::Contains("got 1.2 V"));
}

TEST_CASE("bad energy, leakage and vf sections give one line naming file, line and key",
          "[tech][errors]") {
  const std::string good = read_text(k28);
  REQUIRE(error_of(good).empty());
  const auto check = test::check_one_line;
  auto at = [](const std::string& text, const std::string& needle) {
    return "bad.yaml:" + std::to_string(line_with(text, needle)) + ": ";
  };

  // Unknown keys: in a section, in a DRAM type, in a table row, a DRAM type.
  std::string bad = replace_once(good, "    semaphore_pj:", "    semaphore_op_pj:");
  check(error_of(bad), at(bad, "semaphore_op_pj") + "energy.logic.semaphore_op_pj: unknown key",
        "expected one of int8_add_pj, int32_add_pj");
  bad = replace_once(good, "    lpddr5:", "    ddr5:");
  check(error_of(bad), at(bad, "    ddr5:") + "energy.dram.ddr5: unknown key",
        "expected one of lpddr4, lpddr4x, lpddr5");
  bad = replace_once(good, "        write_pj: 2.66\n", "        write_pj: 2.66\n        leak_mw: 1.17\n");
  check(error_of(bad), at(bad, "leak_mw: 1.17") + "energy.sram.macros[1].leak_mw: unknown key",
        "expected one of kib, width_bits, read_pj, write_pj, source");
  bad = replace_once(good, "  k_per_volt:", "  k_per_v:");
  check(error_of(bad), at(bad, "k_per_v:") + "leakage.k_per_v: unknown key", "got 'k_per_v'");

  // Missing: a whole section, a figure's source.
  bad = good.substr(0, good.find("\nvf:\n") + 1);
  check(error_of(bad), "bad.yaml:", "vf: missing required key, expected a map with keys nominal_mhz");
  bad = replace_once(good, "      source: \"[S] int8_mult_pj + int32_add_pj = 0.10 + 0.05", "      # ");
  check(error_of(bad), at(bad, "    mac_int8_pj:") + "energy.logic.mac_int8_pj.source: missing required key",
        "expected a source string starting with [M], [T], [S] or [R]");

  // A figure without a tagged source.
  bad = replace_once(good, "source: \"[S] middle of reference-28nm.md", "source: \"middle of reference-28nm.md");
  check(error_of(bad), at(bad, "source: \"middle of") + "leakage.sram_uw_per_kib.source: expected a quoted source string",
        "starting with a tag [M], [T], [S] or [R]");
  bad = replace_once(good, "source: \"[R] reference-28nm.md: alpha", "source: \"[X] reference-28nm.md: alpha");
  check(error_of(bad), at(bad, "[X] reference") + "vf.alpha.source: expected a quoted source string", "[M], [T], [S] or [R]");

  // Negative and zero figures.
  bad = replace_once(good, "    value: 3.0\n    source: \"[S] middle", "    value: -3.0\n    source: \"[S] middle");
  check(error_of(bad), at(bad, "value: -3.0") + "leakage.sram_uw_per_kib.value: expected a number > 0",
        "got -3");
  bad = replace_once(good, "        value: 15.6\n", "        value: 00\n");
  check(error_of(bad), at(bad, "value: 00") + "energy.dram.lpddr5.refresh_ab_nj.value: expected a number > 0",
        "got 0");
  bad = replace_once(good, "        read_pj: 35.6\n", "        read_pj: -35.6\n");
  check(error_of(bad), at(bad, "read_pj: -35.6") + "energy.sram.macros[5].read_pj: expected a number > 0",
        "got -35.6");
  // Out of range: an efficiency above 1, alpha outside 1..2.
  bad = replace_once(good, "      value: 0.8\n", "      value: 1.25\n");
  check(error_of(bad), at(bad, "value: 1.25") + "vf.transition.regulator_efficiency.value: expected a number > 0 and <= 1",
        "got 1.25");
  bad = replace_once(good, "    value: 1.4\n", "    value: 2.75\n");
  check(error_of(bad), at(bad, "value: 2.75") + "vf.alpha.value: expected a number 1..2", "got 2.75");
  // A wrong type.
  bad = replace_once(good, "    value: 1000\n", "    value: 1 GHz\n");
  check(error_of(bad), at(bad, "value: 1 GHz") + "vf.nominal_mhz.value: expected a number", "got '1 GHz'");

  // The curve's consistency: Vt below the nominal supply, the range around it.
  bad = replace_once(good, "    value: 0.375\n", "    value: 0.95\n");
  check(error_of(bad), at(bad, "value: 0.95") + "vf.vt_volts.value: expected a threshold below node.nominal_volts (0.9 V)",
        "got 0.95");
  bad = replace_once(good, "    value: 0.5\n", "    value: 0.31\n");
  check(error_of(bad), at(bad, "value: 0.31") + "vf.min_volts.value: expected a voltage above vt_volts (0.375 V)",
        "got 0.31");

  // The SRAM energy table's rules: a duplicate point, energy falling with width or size.
  bad = replace_once(good, "      - kib: 512\n        width_bits: 128\n        read_pj",
                     "      - kib: 128\n        width_bits: 128\n        read_pj");
  check(error_of(bad), "bad.yaml:" + std::to_string(line_with(bad, "read_pj: 35.6") - 2) +
                           ": energy.sram.macros[5]: expected each (kib, width_bits) once",
        "energy.sram.macros[3]");
  bad = replace_once(good, "        read_pj: 42.2\n", "        read_pj: 12.0\n");
  check(error_of(bad), "bad.yaml:" + std::to_string(line_with(bad, "read_pj: 12.0") - 2) +
                           ": energy.sram.macros[4].read_pj: expected a read energy larger than the 128-bit macro's of the same size (16.4 pJ)",
        "got 12");
  bad = replace_once(good, "        write_pj: 65.0\n", "        write_pj: 20.0\n");
  check(error_of(bad), "bad.yaml:" + std::to_string(line_with(bad, "write_pj: 20.0") - 3) +
                           ": energy.sram.macros[6].write_pj: expected the 2048 KiB macros to take more write energy than the 512 KiB ones",
        "20 <= 32.4 pJ at 128 bits");
}
