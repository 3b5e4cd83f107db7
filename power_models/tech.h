// A technology file (power_models/tech/*.yaml): the per-node figures the
// power models are built from, each with its source.  Today the file holds
// the `area` section; per-event energies, leakage and V-f curves will be
// further top-level sections of the same file.
//
// Parsing is strict (lib/common/yaml_strict.h): an unknown or missing key, a
// wrong type, a non-positive figure or a figure without a tagged source
// throws clonesim::Error with one line "FILE:LINE: KEY.PATH: expected ...".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace clonesim::power {

// One figure and where it comes from.  `source` starts with a tag of
// reference-28nm.md: [M] measured/published, [T] tool output or a
// simulator's data file, [S] scaled/derived, [R] recalled from literature.
struct Figure {
  double value = 0;
  std::string source;
  int line = 0;  // line in the tech file (0: built by hand)
};

// One row of the SRAM macro table: a single-bank macro of `kib` KiB with
// `width_bits`-bit words and one read/write port.
struct SramMacroPoint {
  double kib = 0;
  uint32_t width_bits = 0;
  double area_mm2 = 0;
  std::string source;
  int line = 0;
};

// Standard-cell (logic) figures in um2 per instance, and the SRAM table.
struct AreaTech {
  Figure nand2_um2;          // one gate equivalent (NAND2, drive 1)
  Figure mux2_um2;           // 2:1 multiplexer, per bit
  Figure register_bit_um2;   // flip-flop with enable, per bit
  Figure int8_add_um2;
  Figure int32_add_um2;
  Figure int8_mult_um2;
  Figure int32_mult_um2;
  Figure mac_int8_um2;       // int8 x int8 multiply + int32 accumulate
  Figure mac_int4x8_um2;     // int4 x int8 multiply + int32 accumulate
  Figure unit_control_ge;    // fixed control logic of one unit, in gate equivalents
  Figure sram_dual_port_factor;           // area of a 2-port macro / a 1-port one
  std::vector<SramMacroPoint> sram_macros;  // sorted by (kib, width_bits)
};

struct Tech {
  std::string name;    // node.name, e.g. "tech-28nm"
  uint32_t nm = 0;     // node.nm
  std::string source;  // file it came from ("power_models/tech/NAME.yaml" for built-ins)
  AreaTech area;
};

Tech load_tech(const std::string& path);
Tech parse_tech(const std::string& yaml_text, const std::string& source_name);

// An existing file path, or the name of a shipped technology file with or
// without ".yaml" ("tech-28nm" -> the copy of power_models/tech/tech-28nm.yaml
// compiled into the library).
Tech load_tech_or_named(const std::string& path_or_name);
// Sorted names of the shipped technology files ("tech-28nm", "tech-45nm").
std::vector<std::string> shipped_tech_names();
// "tech-<nm>nm", the default technology for a design point of that node.
std::string default_tech_name(uint32_t nm);

// Area of one SRAM macro (one bank) of `bytes` bytes with `width_bits`-bit
// words and `ports` read/write ports (1 or 2), from the table of `t`:
//  - at a table point (same size and width, 1 port): the table's area, exactly;
//  - otherwise log-log interpolation: at each table size, ln(area) is
//    piecewise linear in ln(width) through that size's points and is extended
//    beyond them with the width exponent (sram_width_exponent); between table
//    sizes, ln(area) is linear in ln(size); beyond the smallest or largest
//    size, the nearest segment is extended (log-log extrapolation);
//  - a 2-port macro is the 1-port area times sram_dual_port_factor.
double sram_macro_mm2(const AreaTech& t, double bytes, uint32_t width_bits, uint32_t ports = 1);
// d ln(area) / d ln(width): the mean, over the table sizes that have two or
// more widths, of the slope between the narrowest and the widest macro.
double sram_width_exponent(const AreaTech& t);

}  // namespace clonesim::power
