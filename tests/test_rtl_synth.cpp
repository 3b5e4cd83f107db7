// Synthesis statistics and the area cross-check (rtl/synth/synth_area.h).
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "common/error.h"
#include "hw/hw_config.h"
#include "power_models/area_model.h"
#include "rtl/synth/synth_area.h"
#include "test_util.h"

using namespace clonesim;

namespace {
std::string slurp(const std::string& p) {
  const std::string text = test::read_text(p);
  REQUIRE(!text.empty());
  return text;
}
const rtl::SynthModule& mod(const rtl::SynthResult& r, const std::string& n) {
  for (const auto& m : r.modules)
    if (m.name == n) return m;
  FAIL("module " << n << " missing");
  throw 0;
}
}  // namespace

TEST_CASE("yosys stat of a hierarchical design: per-module cells, areas and instances", "[synth]") {
  // tests/data/yosys/stat-hierarchy.sv synthesised by yosys 0.23 against osu018
  const auto r = rtl::parse_yosys_stat(slurp(CLONESIM_SOURCE_DIR "/tests/data/yosys/stat-hierarchy.txt"));
  REQUIRE(r.modules.size() == 3);
  // two cs_sram variants (W=4, W=8): 19 + 43 standard cells (the bank black box is not one), 1279 + 2683 um2
  CHECK(mod(r, "cs_sram").instances == 2);
  CHECK(mod(r, "cs_sram").cells == 19 + 43);
  CHECK(mod(r, "cs_sram").area_um2 == 1279.0 + 2683.0);
  CHECK(mod(r, "cs_dma").instances == 1);
  CHECK(mod(r, "cs_dma").cells == 16);  // 8 DFFPOSX1 + 8 XOR2X1
  CHECK(mod(r, "cs_dma").area_um2 == 8 * 96.0 + 8 * 56.0);
  // the top holds only submodule instances
  CHECK(mod(r, "cs_top").cells == 0);
  CHECK(mod(r, "cs_top").area_um2 == 0.0);
  CHECK(r.total_um2 == 5178.0);
  CHECK(r.total_um2 == mod(r, "cs_sram").area_um2 + mod(r, "cs_dma").area_um2);
}

TEST_CASE("yosys stat that is not one is refused", "[synth]") {
  CHECK_THROWS_AS(rtl::parse_yosys_stat("ERROR: syntax error\n"), Error);
}

TEST_CASE("liberty cell areas: osu018 NAND2X1 and DFFPOSX1", "[synth]") {
  CHECK(rtl::liberty_cell_area(rtl::kDefaultLiberty, "NAND2X1") == 24.0);
  CHECK(rtl::liberty_cell_area(rtl::kDefaultLiberty, "DFFPOSX1") == 96.0);
  CHECK_THROWS_WITH(rtl::liberty_cell_area(rtl::kDefaultLiberty, "NOSUCHCELL"),
                    Catch::Contains("no cell NOSUCHCELL"));
}

TEST_CASE("the synthesis script black-boxes the SRAM bank and maps to the liberty", "[synth]") {
  const std::string s = rtl::synth_script("/x/gen", "/lib/L.lib");
  CHECK_THAT(s, Catch::Contains("read_verilog -sv -I /x/gen -lib /x/gen/cs_sram_bank.sv\n"));
  CHECK_THAT(s, Catch::Contains("/x/gen/cs_top.sv\n"));
  CHECK_THAT(s, !Catch::Contains("-I /x/gen /x/gen/cs_sram_bank.sv"));
  CHECK_THAT(s, Catch::Contains("hierarchy -check -top cs_top\n"));
  CHECK_THAT(s, Catch::Contains("dfflibmap -liberty /lib/L.lib\n") && Catch::Contains("abc -liberty /lib/L.lib\n"));
  CHECK_THAT(rtl::synth_script("/x/gen", "/lib/L.lib", true), Catch::Contains("abc -fast -liberty /lib/L.lib\n"));
}

TEST_CASE("cross-check: modules scale by gate equivalents onto the model's components", "[synth]") {
  auto r = rtl::parse_yosys_stat(slurp(CLONESIM_SOURCE_DIR "/tests/data/yosys/stat-hierarchy.txt"));
  r.lib_nand2_um2 = 24.0;
  const hw::HwConfig h = hw::load_hw_config(CLONESIM_SOURCE_DIR "/tests/data/hw/test-8x8.yaml");
  const power::Tech tech = power::load_tech_or_named("tech-28nm");
  const power::AreaBreakdown model = power::area_model(h, tech);
  const rtl::CrossCheck c = rtl::cross_check(r, model, tech);
  CHECK(c.scale == Approx(tech.area.nand2_um2.value / 24.0).epsilon(1e-12));
  bool saw_sram = false, saw_dma = false;
  for (const auto& row : c.rows) {
    if (row.module == "cs_sram") {
      saw_sram = true;
      CHECK(row.synth_ge == Approx(3962.0 / 24.0).epsilon(1e-12));
      CHECK(row.scaled_mm2 == Approx(3962.0 / 24.0 * tech.area.nand2_um2.value / 1e6).epsilon(1e-12));
      CHECK(row.model_mm2 == Approx(model.component("sram_routing").mm2).epsilon(1e-12));
    }
    if (row.module == "cs_dma") {
      saw_dma = true;
      CHECK(row.model_mm2 == Approx(model.component("dma").mm2).epsilon(1e-12));
    }
    if (row.module == "cs_mxu")
      CHECK(row.model_mm2 == Approx(model.component("mxu_macs").mm2 + model.component("mxu_weight_regs").mm2 +
                                    model.component("mxu_control").mm2)
                                 .epsilon(1e-12));
  }
  CHECK((saw_sram && saw_dma));
  CHECK(c.synth_logic_mm2 == Approx(5178.0 / 24.0 * tech.area.nand2_um2.value / 1e6).epsilon(1e-12));
  CHECK(c.model_logic_mm2 == Approx(model.logic_mm2()).epsilon(1e-12));
}
