// Gate-level area of the generated RTL: yosys synthesis mapped to a liberty
// file with cell areas (Debian's qflow-tech-osu018, 0.18 um), the SRAM bank
// macro black-boxed, scaled to the technology of the analytical area model,
// and reported beside that model (`clonesim rtl synth`).  docs/rtl.md,
// "Synthesis and the area cross-check", explains the scaling.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hw/hw_config.h"
#include "power_models/area_model.h"
#include "rtl/generator/rtl_generator.h"

namespace clonesim::rtl {

inline constexpr const char* kDefaultLiberty = "/usr/share/qflow/tech/osu018/osu018_stdcells.lib";

struct SynthOptions {
  std::string liberty = kDefaultLiberty;
  std::string yosys = "yosys";  // the binary (PATH is searched)
  GenOptions gen;               // program memory depth, as `rtl generate`
  bool fast = false;            // `abc -fast`: minutes instead of hours on a whole design, a few % more area
};

// One synthesised module (all instances of one module, whatever its
// parameters: the scratchpad and the accumulator are both cs_sram).
struct SynthModule {
  std::string name;        // cs_top, cs_dma, cs_mxu, cs_vxu, cs_sram
  uint32_t instances = 0;  // in the design
  uint64_t cells = 0;      // standard cells of all instances
  double area_um2 = 0;     // liberty area of all instances
};

struct SynthResult {
  std::string dir;      // generated RTL, yosys script, log, statistics
  std::string liberty;
  double lib_nand2_um2 = 0;  // NAND2X1 of the liberty: one gate equivalent
  std::vector<SynthModule> modules;
  double total_um2 = 0;  // the top module's chip area (black boxes excluded)
  double seconds = 0;    // yosys wall time
};

// The yosys script that synthesises the RTL in `dir` against `liberty`.
std::string synth_script(const std::string& dir, const std::string& liberty, bool fast = false);
// Parse yosys `stat -liberty` output of a hierarchical design (per-module
// sections and the design hierarchy) into per-module figures.
SynthResult parse_yosys_stat(const std::string& stat_text);
// Area of one cell in a liberty file; throws clonesim::Error if absent.
double liberty_cell_area(const std::string& liberty, const std::string& cell);

// Generate the RTL of `hw` into `dir`, run yosys, parse its statistics.
// Throws clonesim::Error (yosys missing or failing, with the log's path).
SynthResult synthesize(const hw::HwConfig& hw, const std::string& dir, const SynthOptions& opt = {});

// The cross-check: per RTL module, the synthesised area scaled to the
// technology of `model` by gate equivalents (area / liberty NAND2 x the
// tech file's nand2_um2) beside the analytical logic components it holds.
struct CrossCheckRow {
  std::string module;                      // cs_mxu ...
  std::vector<std::string> model_keys;     // analytical components it implements
  uint64_t cells = 0;
  double synth_um2 = 0;   // liberty area
  double synth_ge = 0;    // gate equivalents
  double scaled_mm2 = 0;  // at the model's technology
  double model_mm2 = 0;
};
struct CrossCheck {
  std::vector<CrossCheckRow> rows;
  double scale = 0;  // tech nand2_um2 / liberty NAND2 area
  double synth_logic_mm2 = 0, model_logic_mm2 = 0;
};
CrossCheck cross_check(const SynthResult& s, const power::AreaBreakdown& model, const power::Tech& tech);
std::string cross_check_table(const SynthResult& s, const CrossCheck& c, const power::AreaBreakdown& model);
nlohmann::json cross_check_json(const SynthResult& s, const CrossCheck& c, const power::AreaBreakdown& model);

}  // namespace clonesim::rtl
