// The area model and the technology files: the SRAM table rule (exact at
// table points, log-log in between, monotone), a design point's total worked
// out by hand from the tech-file figures, components that add up, a second
// node that gives other answers, and one test per class of bad tech file.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <unistd.h>

#include "common/error.h"
#include "hw/hw_config.h"
#include "power_models/area_model.h"
#include "power_models/tech.h"
#include "rtl/generator/rtl_generator.h"
#include "test_util.h"

using namespace clonesim;
using namespace clonesim::power;

namespace {

const std::string kSrc = CLONESIM_SOURCE_DIR;

using clonesim::test::read_text;

using clonesim::test::line_with;
using clonesim::test::rel_eq;
using clonesim::test::replace_once;

std::string error_of(const std::string& text, const std::string& name = "bad.yaml") {
  try {
    parse_tech(text, name);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

const std::string k28 = kSrc + "/power_models/tech/tech-28nm.yaml";

}  // namespace

TEST_CASE("shipped technology files load by name and by path", "[area][tech]") {
  CHECK(shipped_tech_names() == std::vector<std::string>{"tech-28nm", "tech-45nm"});
  const Tech a = load_tech_or_named("tech-28nm");
  const Tech b = load_tech_or_named("tech-28nm.yaml");
  const Tech c = load_tech_or_named(k28);
  CHECK(a.name == "tech-28nm");
  CHECK(a.nm == 28);
  CHECK(a.source == "power_models/tech/tech-28nm.yaml");
  CHECK(c.source == k28);
  CHECK(b.area.int32_mult_um2.value == c.area.int32_mult_um2.value);
  CHECK(a.area.sram_macros.size() == 7);
  const Tech d = load_tech_or_named("tech-45nm");
  CHECK(d.nm == 45);
  CHECK(default_tech_name(28) == "tech-28nm");
  // Every figure carries a tagged source.
  for (const Figure* f : {&a.area.nand2_um2, &a.area.mux2_um2, &a.area.register_bit_um2,
                          &a.area.int8_add_um2, &a.area.int32_add_um2, &a.area.int8_mult_um2,
                          &a.area.int32_mult_um2, &a.area.mac_int8_um2, &a.area.mac_int4x8_um2,
                          &a.area.unit_control_ge, &a.area.sram_dual_port_factor})
    CHECK_THAT(f->source, Catch::Matches(R"(\[[MTSR]\] .+)"));
  for (const auto& m : d.area.sram_macros) CHECK_THAT(m.source, Catch::StartsWith("[S] CACTI 7"));
  CHECK_THROWS_WITH(load_tech_or_named("tech-7nm"),
                    "unknown technology 'tech-7nm': not a file, and not one of tech-28nm, tech-45nm");
}

TEST_CASE("SRAM macro area: exact at the CACTI table points", "[area][sram]") {
  const AreaTech t = load_tech_or_named("tech-28nm").area;
  struct P {
    double kib;
    uint32_t w;
    double mm2;
  };
  // reference-28nm.md, CACTI 7 at 28 nm, 1 RW port.
  for (const P& p : {P{2, 64, 0.0029}, P{8, 64, 0.0102}, P{32, 128, 0.038}, P{128, 128, 0.184},
                     P{128, 512, 0.236}, P{512, 128, 0.661}, P{2048, 128, 2.59}}) {
    CHECK(sram_macro_mm2(t, p.kib * 1024, p.w) == p.mm2);
    CHECK(sram_macro_mm2(t, p.kib * 1024, p.w, 2) == 2.0 * p.mm2);  // dual_port_factor 2.0
  }
}

TEST_CASE("SRAM macro area: log-log interpolation by hand", "[area][sram]") {
  const AreaTech t = load_tech_or_named("tech-28nm").area;
  // The width exponent comes from the one size with two widths (128 KiB).
  const double beta = std::log(0.236 / 0.184) / std::log(512.0 / 128.0);
  CHECK(rel_eq(sram_width_exponent(t), beta));

  // Between two sizes at their common width: 64 KiB is halfway (in ln size)
  // between 32 KiB and 128 KiB, so the area is the geometric mean.
  CHECK(rel_eq(sram_macro_mm2(t, 64 * 1024, 128), std::sqrt(0.038 * 0.184)));
  // 4 KiB x 64b: halfway between 2 KiB and 8 KiB.
  CHECK(rel_eq(sram_macro_mm2(t, 4 * 1024, 64), std::sqrt(0.0029 * 0.0102)));
  // Between widths at one size: 128 KiB x 256b, halfway between 128b and 512b.
  CHECK(rel_eq(sram_macro_mm2(t, 128 * 1024, 256), std::sqrt(0.184 * 0.236)));
  // Size and width at once: 16 KiB x 64b lies between the 8 KiB x 64b point
  // and the 32 KiB row taken to 64b with the width exponent.
  const double a32_64 = 0.038 * std::pow(64.0 / 128.0, beta);
  CHECK(rel_eq(sram_macro_mm2(t, 16 * 1024, 64), std::sqrt(0.0102 * a32_64)));
  // 96 KiB x 128b: ln(96/32) / ln(128/32) of the way from 32 KiB to 128 KiB.
  const double u = std::log(3.0) / std::log(4.0);
  CHECK(rel_eq(sram_macro_mm2(t, 96 * 1024, 128),
               std::exp(std::log(0.038) + u * (std::log(0.184) - std::log(0.038)))));
  // Beyond the table: the nearest segment is extended.  1 KiB x 64b: one
  // step of ln 2 below 2 KiB on the 2 KiB - 8 KiB segment (slope ln(0.0102/0.0029)/ln 4).
  const double s0 = std::log(0.0102 / 0.0029) / std::log(4.0);
  CHECK(rel_eq(sram_macro_mm2(t, 1024, 64), 0.0029 * std::pow(0.5, s0)));
  // 8 MiB x 128b: two steps of ln 2 beyond 2 MiB on the 512 KiB - 2 MiB segment.
  const double s1 = std::log(2.59 / 0.661) / std::log(4.0);
  CHECK(rel_eq(sram_macro_mm2(t, 8192.0 * 1024, 128), 2.59 * std::pow(4.0, s1)));
  // Wider than the table at a one-width size: the width exponent.
  CHECK(rel_eq(sram_macro_mm2(t, 2 * 1024, 1024), 0.0029 * std::pow(16.0, beta)));
}

TEST_CASE("SRAM macro area: monotone in size and in width", "[area][sram]") {
  for (const std::string name : {"tech-28nm", "tech-45nm"}) {
    const AreaTech t = load_tech_or_named(name).area;
    for (uint32_t w = 16; w <= 4096; w *= 2) {
      double prev = 0;
      for (double kib = 0.25; kib <= 16384; kib *= std::sqrt(2.0)) {
        const double a = sram_macro_mm2(t, kib * 1024, w);
        CHECK(a > prev);
        prev = a;
        CHECK(sram_macro_mm2(t, kib * 1024, w * 2) > a);
      }
    }
  }
}

TEST_CASE("test-8x8: the total worked out by hand from the tech-file figures", "[area]") {
  const hw::HwConfig hw = hw::load_hw_config(kSrc + "/tests/data/hw/test-8x8.yaml");
  const Tech tech = load_tech(k28);
  const AreaTech& t = tech.area;

  // The tech-file figures this test is written against (tech-28nm.yaml).
  const double P = 2.27, M = 0.606, G = 0.303, A = 52, X = 1330, MAC = 159, CTL = 2000;
  REQUIRE(t.register_bit_um2.value == P);
  REQUIRE(t.mux2_um2.value == M);
  REQUIRE(t.nand2_um2.value == G);
  REQUIRE(t.int32_add_um2.value == A);
  REQUIRE(t.int32_mult_um2.value == X);
  REQUIRE(t.mac_int8_um2.value == MAC);
  REQUIRE(t.unit_control_ge.value == CTL);

  // test-8x8: 1 tile, MXU 8x8 int8+int4, 8 lanes; scratchpad 4 banks x 4096
  // x 64b (8-byte lines, 32 KiB banks); accumulator 2 banks x 256 x 256b
  // (32-byte lines, 8 KiB banks); DMA 1 channel, burst 64, 8 outstanding;
  // queue depth 4, sync 2.  Units with queues: 2 DMA + 2 per tile = 4;
  // semaphores 16 + 16 = 32; in-flight entries R + C + 4 = 20; entry 256 + 32.
  const double mxu_macs = 64 * MAC + 4 * 64 * M;               // MACs + int4 nibble select
  const double mxu_wregs = 2 * (64 + 8) * 8 * P;               // active + shadow
  const double mxu_ctl = (2 * 8 * 8 + 20 * 64 + 2 * 256 + 8 * 64) * P + CTL * G;
  const double vxu = 8 * X                                      // lane multipliers
                     + 8 * 4 * A                                // lane adders
                     + 8 * 6 * 64 * M                           // rounding shifters
                     + 8 * 255 * 16 * M                         // LUT read
                     + 8 * 2 * A + 8 * 128 * P                  // reciprocal/rsqrt
                     + 4 * 256 * 16 * P                         // LUT storage
                     + 3 * 256 * 16 * M                         // LUT select
                     + 2 * 7 * A + 64 * P                       // reduction
                     + (256 + 4 * 32 + 64) * P + CTL * G;       // control
  // Routing: scratchpad 5 readers, 2 writers, 4 banks, 64b, 12 address bits;
  // accumulator 6 readers, 4 writers, 2 banks, 256b, 8 address bits.
  const double routing = (5 * 3 * 64 + 4 * 6 * 12 + 4 * 1 * 64      // scratchpad
                          + 6 * 1 * 256 + 2 * 9 * 8 + 2 * 3 * 256)   // accumulator
                         * M;
  const double dma = (8 * 129 + 2 * 64 * 8 + (256 + 8 * 64 + 32)) * P  // buffers, state
                     + 6 * A                                          // address arithmetic
                     + 2 * 6 * 64 * 8 * M                             // byte rotators (log2 64 = 6)
                     + CTL * G;
  const double ctrl_bits = 4 * 4 * 288                 // unit queues
                           + 4 * (1 * 289 + 2)         // queue synchronisers
                           + 3 * 2 * 8                 // completion synchronisers
                           + 4 * 20 * 288              // in-flight lists
                           + 32 * (32 + 3 * 32 + 3 * 8 * 2)  // semaphores
                           + 4 * ((4 + 2) * 4 + 1)     // bank holds
                           + 1408;                     // pc, counters, c1..c7, pending signal
  const double controller = ctrl_bits * P + (4 * 32 + 5 * 2) * A + 5 * 2 * 32 * 31 * M + CTL * G;
  const double dvfs = 3 * (8 + 64) * P + 3 * 2 * A;
  const double logic_um2 = mxu_macs + mxu_wregs + mxu_ctl + vxu + routing + dma + controller + dvfs;

  // SRAM macros (mm2).  Width exponent: 4^beta = 0.236 / 0.184.
  const double four_beta = 0.236 / 0.184;
  const double scratchpad = 4 * 0.038 / std::sqrt(four_beta);  // 32 KiB at 64b = 128b row x (1/2)^beta
  const double accumulator = 2 * 0.0102 * four_beta;           // 8 KiB at 256b = 64b point x 4^beta
  const double imem = 0.661 * std::sqrt(four_beta);            // 16384 x 256b = 512 KiB at 256b
  const double sram_mm2 = scratchpad + accumulator + imem;

  const double total = logic_um2 / 1e6 + sram_mm2;
  const AreaBreakdown a = area_model(hw, tech);
  CHECK(rel_eq(a.component("mxu_macs").mm2, mxu_macs / 1e6));
  CHECK(rel_eq(a.component("mxu_weight_regs").mm2, mxu_wregs / 1e6));
  CHECK(rel_eq(a.component("mxu_control").mm2, mxu_ctl / 1e6));
  CHECK(rel_eq(a.component("vxu").mm2, vxu / 1e6));
  CHECK(rel_eq(a.component("sram_routing").mm2, routing / 1e6));
  CHECK(rel_eq(a.component("dma").mm2, dma / 1e6));
  CHECK(rel_eq(a.component("controller").mm2, controller / 1e6));
  CHECK(rel_eq(a.component("dvfs").mm2, dvfs / 1e6));
  CHECK(rel_eq(a.component("scratchpad").mm2, scratchpad));
  CHECK(rel_eq(a.component("accumulator").mm2, accumulator));
  CHECK(rel_eq(a.component("imem").mm2, imem));
  CHECK(rel_eq(a.logic_mm2(), logic_um2 / 1e6));
  CHECK(rel_eq(a.sram_mm2(), sram_mm2));
  CHECK(rel_eq(a.total_mm2(), total));
  CHECK(a.total_mm2() == Approx(1.12259).epsilon(1e-5));  // as docs/energy-model.md quotes it
}

TEST_CASE("clone-28nm's core area is within 10% of CLONE's 1.588 mm2 with its 1024-instruction memory", "[area]") {
  const Tech tech = load_tech_or_named("tech-28nm");
  const hw::HwConfig hw = hw::load_hw_config_or_named("clone-28nm");
  REQUIRE(hw.controller.imem_depth == 1024);
  const AreaBreakdown a = area_model(hw, tech);
  CHECK(a.imem_depth == 1024);
  // 1024 x 32 B = 32 KiB at 256 bits: the 32 KiB x 128b table point x 2^beta,
  // 2^beta = sqrt(0.236 / 0.184) (the width exponent fitted at 128 KiB).
  const double imem = 0.038 * std::sqrt(0.236 / 0.184);
  CHECK(rel_eq(a.component("imem").mm2, imem));
  // Everything else is the design point's, whatever the depth: the same
  // components as with the 16384-instruction memory (2.366 mm2 before the
  // calibration: 16384 x 32 B = 512 KiB at 256 bits = 0.661 x 2^beta).
  AreaOptions o;
  o.imem_depth = 16384;
  const AreaBreakdown before = area_model(hw, tech, o);
  CHECK(rel_eq(before.component("imem").mm2, 0.661 * std::sqrt(0.236 / 0.184)));
  double rest = 0;
  for (const auto& c : before.components)
    if (c.key != "imem") {
      rest += c.mm2;
      CHECK(a.component(c.key).mm2 == c.mm2);
    }
  CHECK(rel_eq(a.total_mm2(), rest + imem, 1e-12));
  CHECK(before.total_mm2() == Approx(2.36591).epsilon(1e-5));  // as docs/energy-model.md quotes them
  CHECK(a.total_mm2() == Approx(1.66035).epsilon(1e-5));
  // CLONE's accelerator: 1.588 mm2 core, post-layout at 28 nm (ATC 2025).
  const double clone_mm2 = 1.588;
  CHECK(std::abs(a.total_mm2() / clone_mm2 - 1) < 0.10);
  CHECK(std::abs(before.total_mm2() / clone_mm2 - 1) > 0.10);
}

TEST_CASE("components add up to the total; logic and SRAM apart", "[area]") {
  for (const auto& name : hw::shipped_hw_names())
    for (const std::string tn : {"tech-28nm", "tech-45nm"}) {
      const AreaBreakdown a = area_model(hw::load_hw_config_or_named(name), load_tech_or_named(tn));
      double sum = 0;
      for (const auto& c : a.components) {
        sum += c.mm2;
        CHECK(c.mm2 > 0);
        CHECK(c.mm2 == c.instance_mm2 * c.instances);
        CHECK(c.instances == (c.per_tile ? a.tiles : 1u));
        double items = 0;
        for (const auto& it : c.items) items += it.um2();
        CHECK(c.instance_mm2 == items / 1e6);
        // Only the memories are SRAM macros.
        const bool sram = c.key == "scratchpad" || c.key == "accumulator" || c.key == "imem";
        CHECK((c.kind == AreaKind::Sram) == sram);
      }
      CHECK(sum == a.total_mm2());  // exactly
      CHECK(rel_eq(a.logic_mm2() + a.sram_mm2(), a.total_mm2(), 1e-12));
      const auto j = area_json(a);
      double jsum = 0;
      for (const auto& c : j["components"]) jsum += c["mm2"].get<double>();
      CHECK(rel_eq(jsum, j["area_mm2"].get<double>(), 1e-12));
    }
}

TEST_CASE("the 45 nm file gives different answers, about 1/0.38 larger", "[area][tech]") {
  const Tech t28 = load_tech_or_named("tech-28nm"), t45 = load_tech_or_named("tech-45nm");
  for (const auto& name : hw::shipped_hw_names()) {
    const hw::HwConfig hw = hw::load_hw_config_or_named(name);
    const AreaBreakdown a = area_model(hw, t28), b = area_model(hw, t45);
    CHECK(a.total_mm2() != b.total_mm2());
    // Every 28 nm figure is the 45 nm one x0.38, up to the rounding of the
    // figures (mac 159/419 = 0.3795 ... int32 mult 1330/3495 = 0.3805); the
    // SRAM table was scaled back by exactly /0.38 (5 significant digits).
    CHECK(a.total_mm2() / b.total_mm2() == Approx(0.38).epsilon(0.005));
    CHECK(a.sram_mm2() / b.sram_mm2() == Approx(0.38).epsilon(1e-4));
    CHECK(a.logic_mm2() / b.logic_mm2() == Approx(0.38).epsilon(0.005));
  }
}

TEST_CASE("what the design point asks for changes the right components", "[area]") {
  const Tech tech = load_tech_or_named("tech-28nm");
  const hw::HwConfig base = hw::load_hw_config(kSrc + "/tests/data/hw/test-8x8.yaml");
  const AreaBreakdown a0 = area_model(base, tech);

  // int8 only: no nibble select; int4 only: the smaller int4 x int8 MAC.
  hw::HwConfig h = base;
  h.mxu.weight_types = {hw::WeightType::Int8};
  CHECK(rel_eq(area_model(h, tech).component("mxu_macs").mm2, 64 * 159 / 1e6));
  h.mxu.weight_types = {hw::WeightType::Int4};
  CHECK(rel_eq(area_model(h, tech).component("mxu_macs").mm2, 64 * 50 / 1e6));

  // Dual-ported banks: twice the macro area.
  h = base;
  h.scratchpad.ports = 2;
  CHECK(rel_eq(area_model(h, tech).component("scratchpad").mm2, 2 * a0.component("scratchpad").mm2));

  // Twice the banks at the same capacity: smaller macros, more of them; more area.
  h = base;
  h.scratchpad.banks = 8;
  h.scratchpad.depth = 2048;
  const double sp8 = area_model(h, tech).component("scratchpad").mm2;
  CHECK(sp8 == 8 * sram_macro_mm2(tech.area, 16 * 1024, 64));
  CHECK(sp8 > a0.component("scratchpad").mm2);

  // Tiles multiply the tile components only.
  h = base;
  h.tiles = 3;
  const AreaBreakdown a3 = area_model(h, tech);
  CHECK(a3.component("mxu_macs").mm2 == 3 * a0.component("mxu_macs").mm2);
  CHECK(a3.component("imem").mm2 == a0.component("imem").mm2);

  // The program memory follows the design point's controller.imem_depth,
  // unless the option gives another (as the RTL generator's does).
  const double imem_4096 = std::sqrt(0.184 * 0.236);  // 128 KiB x 256b
  CHECK(base.controller.imem_depth == hw::kDefaultImemDepth);
  CHECK(a0.imem_depth == hw::kDefaultImemDepth);
  CHECK(!AreaOptions{}.imem_depth);
  CHECK(!rtl::GenOptions{}.imem_depth);
  h = base;
  h.controller.imem_depth = 4096;
  const AreaBreakdown a4 = area_model(h, tech);
  CHECK(a4.imem_depth == 4096);
  CHECK(rel_eq(a4.component("imem").mm2, imem_4096));
  CHECK(a4.total_mm2() - a4.component("imem").mm2 == Approx(a0.total_mm2() - a0.component("imem").mm2).epsilon(1e-12));
  AreaOptions o;
  o.imem_depth = 4096;
  CHECK(area_model(base, tech, o).imem_depth == 4096);
  CHECK(rel_eq(area_model(base, tech, o).component("imem").mm2, imem_4096));
  o.imem_depth = hw::kDefaultImemDepth;
  CHECK(area_model(h, tech, o).component("imem").mm2 == a0.component("imem").mm2);
}

TEST_CASE("an instruction-memory depth off the key's rule is refused in one line", "[area][errors]") {
  const Tech tech = load_tech_or_named("tech-28nm");
  const hw::HwConfig base = hw::load_hw_config(kSrc + "/tests/data/hw/test-8x8.yaml");
  for (const uint32_t bad : {0u, 8u, 1000u, 1u << 25}) {
    AreaOptions o;
    o.imem_depth = bad;
    CHECK_THROWS_WITH(area_model(base, tech, o), "area model: imem_depth: expected a power of two 16..16777216, got " +
                                                     std::to_string(bad));
    rtl::GenOptions g;
    g.imem_depth = bad;
    CHECK_THROWS_WITH(rtl::config_header(base, g), "rtl generator: imem_depth: expected a power of two "
                                                   "16..16777216, got " + std::to_string(bad));
  }
  // A hand-built design point is blamed on its source and key.
  hw::HwConfig h = base;
  h.controller.imem_depth = 100;
  CHECK_THROWS_WITH(area_model(h, tech), Catch::EndsWith("test-8x8.yaml: controller.imem_depth: expected a power "
                                                         "of two 16..16777216, got 100"));
}

TEST_CASE("the RTL's program memory is the design point's depth unless the option says otherwise", "[area][rtl]") {
  hw::HwConfig h = hw::load_hw_config(kSrc + "/tests/data/hw/test-8x8.yaml");
  CHECK_THAT(rtl::config_header(h, {}), Catch::Contains("IMEM_DEPTH = 16384,") && Catch::Contains("IMEM_AW = 14,"));
  h.controller.imem_depth = 1024;
  CHECK_THAT(rtl::config_header(h, {}), Catch::Contains("IMEM_DEPTH = 1024,") && Catch::Contains("IMEM_AW = 10,"));
  rtl::GenOptions g;
  g.imem_depth = 64;
  CHECK_THAT(rtl::config_header(h, g), Catch::Contains("IMEM_DEPTH = 64,") && Catch::Contains("IMEM_AW = 6,"));
}

TEST_CASE("bad technology files give one line naming file, line and key", "[area][tech][errors]") {
  const std::string good = read_text(k28);
  REQUIRE(error_of(good).empty());
  const auto check = test::check_one_line;

  // Unknown key.
  std::string bad = replace_once(good, "    int8_add_um2:", "    int8_addd_um2:");
  check(error_of(bad), "bad.yaml:" + std::to_string(line_with(bad, "int8_addd_um2")) +
                           ": area.logic.int8_addd_um2: unknown key",
        "got 'int8_addd_um2'");
  // A section the format does not have.
  const int last = int(std::count(good.begin(), good.end(), '\n'));
  check(error_of(good + "thermal:\n  theta_ja: 40\n"),
        "bad.yaml:" + std::to_string(last + 1) + ": thermal: unknown key",
        "expected one of node, area, energy, leakage, vf");

  // Missing key: the whole int32_mult_um2 figure; blamed on the `logic:` line.
  bad = replace_once(good, "    int32_mult_um2:\n", "");
  bad = replace_once(bad, "      value: 1330\n", "");
  bad = replace_once(bad, "      source: \"[S] Horowitz ISSCC 2014 45 nm int32 mult", "      # ");
  check(error_of(bad), "bad.yaml:" + std::to_string(line_with(bad, "  logic:")) +
                           ": area.logic.int32_mult_um2: missing required key",
        "expected a map with keys value, source");
  // Missing value inside a figure.
  bad = replace_once(good, "      value: 1330\n", "");
  check(error_of(bad), "bad.yaml:" + std::to_string(line_with(bad, "    int32_mult_um2:")) +
                           ": area.logic.int32_mult_um2.value: missing required key",
        "expected a number > 0");

  // Negative and zero areas.
  bad = replace_once(good, "      value: 107\n", "      value: -107\n");
  check(error_of(bad), "bad.yaml:" + std::to_string(line_with(bad, "value: -107")) +
                           ": area.logic.int8_mult_um2.value: expected a number > 0",
        "got -107");
  bad = replace_once(good, "area_mm2: 0.0102,", "area_mm2: 0,");
  check(error_of(bad), "bad.yaml:" + std::to_string(line_with(bad, "area_mm2: 0,")) +
                           ": area.sram.macros[1].area_mm2: expected a number > 0",
        "got 0");

  // Wrong types.
  bad = replace_once(good, "      value: 52\n", "      value: fifty-two\n");
  check(error_of(bad), "bad.yaml:" + std::to_string(line_with(bad, "fifty-two")) +
                           ": area.logic.int32_add_um2.value: expected a number > 0",
        "got 'fifty-two'");
  bad = replace_once(good, "      value: 52\n", "      value: \"52\"\n");
  check(error_of(bad), "bad.yaml:" + std::to_string(line_with(bad, "\"52\"")) +
                           ": area.logic.int32_add_um2.value: expected a number",
        "got the string \"52\"");
  bad = replace_once(good, "kib: 2048, width_bits: 128", "kib: 2048, width_bits: wide");
  check(error_of(bad), "bad.yaml:" + std::to_string(line_with(bad, "width_bits: wide")) +
                           ": area.sram.macros[6].width_bits: expected an integer",
        "got 'wide'");
  bad = replace_once(good, "  nm: 28\n", "  nm: [28]\n");
  check(error_of(bad), "bad.yaml:" + std::to_string(line_with(bad, "nm: [28]")) +
                           ": node.nm: expected an integer",
        "got a list");

  // A figure without a tagged source.
  bad = replace_once(good, "source: \"[S] int8_mult_um2 + int32_add_um2", "source: \"int8_mult_um2 + int32_add_um2");
  check(error_of(bad), "bad.yaml:" + std::to_string(line_with(bad, "source: \"int8_mult_um2")) +
                           ": area.logic.mac_int8_um2.source: expected a quoted source string",
        "[M], [T], [S] or [R]");

  // SRAM table rules: a duplicate point, area falling with width or size.
  bad = replace_once(good, "kib: 512, width_bits: 128", "kib: 128, width_bits: 128");
  check(error_of(bad), "bad.yaml:" + std::to_string(line_with(bad, "kib: 128, width_bits: 128, area_mm2: 0.661")) +
                           ": area.sram.macros[5]: expected each (kib, width_bits) once",
        "area.sram.macros[3]");
  bad = replace_once(good, "width_bits: 512, area_mm2: 0.236", "width_bits: 512, area_mm2: 0.1");
  check(error_of(bad), "bad.yaml:" + std::to_string(line_with(bad, "area_mm2: 0.1,")) +
                           ": area.sram.macros[4].area_mm2: expected an area larger than the 128-bit",
        "got 0.1");
  bad = replace_once(good, "area_mm2: 2.59,", "area_mm2: 0.5,");
  check(error_of(bad), "bad.yaml:" + std::to_string(line_with(bad, "area_mm2: 0.5,")) +
                           ": area.sram.macros[6].area_mm2: expected the 2048 KiB macros to be larger",
        "512 KiB");

  // Through a real file: the message names the path.
  const std::string path = "/tmp/clonesim_area_test_" + std::to_string(getpid()) + ".yaml";
  std::ofstream(path, std::ios::binary) << replace_once(good, "      value: 107\n", "      value: -107\n");
  try {
    load_tech(path);
    FAIL("no error");
  } catch (const Error& e) {
    check(e.what(), path + ":" + std::to_string(line_with(read_text(path), "value: -107")) +
                        ": area.logic.int8_mult_um2.value", "got -107");
  }
  std::remove(path.c_str());
  CHECK_THROWS_WITH(load_tech("/nonexistent/t.yaml"),
                    "/nonexistent/t.yaml: expected a technology file, got no such file");
}
