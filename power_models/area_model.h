// The analytical area model: a design point (hw::HwConfig) and a technology
// file (Tech) -> silicon area per component, in mm2.
//
// Every component is a list of items "count x unit", a unit being a figure of
// the tech file (a register bit, a 2:1 mux bit, an int32 adder, an int8 MAC,
// a gate equivalent, an SRAM macro).  The counts follow the RTL the generator
// emits (rtl/src/*.sv); the formulas and every figure's source are in
// docs/energy-model.md ("Area model").  Logic (standard cells) and SRAM
// macros are kept apart, so that the synthesised logic area (SRAMs
// black-boxed) can be compared with logic_mm2().
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hw/hw_config.h"
#include "power_models/tech.h"

namespace clonesim::power {

enum class AreaKind : uint8_t { Logic, Sram };
const char* to_string(AreaKind k);  // "logic", "sram"

// One line of a component: `count` instances of `unit`, `unit_um2` each.
struct AreaItem {
  std::string what;  // "weight registers, active + shadow"
  double count = 0;
  std::string unit;  // "register_bit_um2", "sram 32 KiB x 256b 1-port"...
  double unit_um2 = 0;
  double um2() const { return count * unit_um2; }
};

struct AreaComponent {
  std::string key;    // "mxu_macs" (the JSON key)
  std::string label;  // "MXU MAC array"
  AreaKind kind = AreaKind::Logic;
  bool per_tile = false;   // instances = tiles, else 1 (shared)
  uint32_t instances = 1;
  std::vector<AreaItem> items;  // of one instance
  double instance_mm2 = 0;      // sum of the items / 1e6
  double mm2 = 0;               // instance_mm2 * instances
};

struct AreaOptions {
  // Instructions the program memory holds (256 bits each), in place of the
  // design point's controller.imem_depth (as rtl::GenOptions::imem_depth,
  // `clonesim area --imem-depth`).  Unset: the design point's.
  std::optional<uint32_t> imem_depth;
};

struct AreaBreakdown {
  std::string hw_name, hw_source;
  uint32_t hw_nm = 0;
  std::string tech_name, tech_source;
  uint32_t tech_nm = 0;
  uint32_t tiles = 0;
  uint32_t imem_depth = 0;  // the depth counted: the option's, else the design point's
  std::vector<AreaComponent> components;  // tile components first, then shared

  // total_mm2() is the sum of components[i].mm2 in order (so they add up to
  // it exactly); logic_mm2() and sram_mm2() sum the components of one kind.
  double total_mm2() const;
  double logic_mm2() const;
  double sram_mm2() const;
  const AreaComponent& component(const std::string& key) const;  // throws Error if absent
};

AreaBreakdown area_model(const hw::HwConfig& hw, const Tech& tech, const AreaOptions& opt = {});

// The per-component table `clonesim area` prints (mm2 and % of total, logic
// and SRAM subtotals); with `detail`, every item of every component.
std::string area_table(const AreaBreakdown& a, bool detail = false);
// {"area_mm2", "logic_mm2", "sram_mm2", "components": {key: {"mm2", "kind",
// "label", "per_tile", "instances", "instance_mm2", "items": [...]}}, ...}
nlohmann::json area_json(const AreaBreakdown& a);

}  // namespace clonesim::power
