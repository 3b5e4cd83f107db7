// A technology file (power_models/tech/*.yaml): the per-node figures the
// power models are built from, each with its source: `node` (name, feature
// size, nominal supply), `area` (standard cells and the SRAM macro table),
// `energy` (per-event dynamic energies at the nominal supply, SRAM, DRAM,
// eNVM), `leakage` (per mm2 of logic and per KiB of SRAM, and its voltage
// dependence) and `vf` (the alpha-power V-f curve and DVFS transitions).
// docs/energy-model.md gives every figure's source and every formula.
//
// Parsing is strict (lib/common/yaml_strict.h): an unknown or missing key, a
// wrong type, a non-positive figure or a figure without a tagged source
// throws clonesim::Error with one line "FILE:LINE: KEY.PATH: expected ...".
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "hw/hw_config.h"

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

// One row of the SRAM energy table: the energy of one access (one word of
// `width_bits`) to a single-bank macro of `kib` KiB with one read/write port,
// at the node's nominal supply.
struct SramEnergyPoint {
  double kib = 0;
  uint32_t width_bits = 0;
  double read_pj = 0;
  double write_pj = 0;
  std::string source;
  int line = 0;
};

// The vector unit's element operations, in the order of sim::VecClass
// (sim/stats.h): alu, mul, lut, sfu, reduce.
constexpr int kNumVecOps = 5;
const char* vec_op_name(int i);  // "alu", "mul", "lut", "sfu", "reduce"

// Energy figures of one DRAM type, per x16 channel, at the DRAM's own supplies.
struct DramEnergy {
  Figure read_pj_per_bit;   // column read burst incl. I/O, row already open
  Figure write_pj_per_bit;  // column write burst incl. I/O, row already open
  Figure act_pre_nj;        // one activate + precharge of a row of row_bytes
  Figure row_bytes;         // the row (page) size act_pre_nj is given for
  Figure refresh_ab_nj;     // one all-bank refresh (REFab)
  Figure background_mw;     // active standby (rows open, clock running), per channel
  Figure powerdown_mw;      // precharge power-down, per channel (not modelled by the simulator)
};

// Dynamic energies at the nominal supply (Tech::nominal_volts), in pJ per
// event unless the name says otherwise.
struct EnergyTech {
  Figure int8_add_pj;
  Figure int32_add_pj;
  Figure int8_mult_pj;
  Figure int32_mult_pj;
  Figure mac_int8_pj;       // int8 x int8 multiply + int32 accumulate
  Figure mac_int4x8_pj;     // int4 x int8 multiply + int32 accumulate
  Figure register_bit_pj;   // one flip-flop bit written
  Figure instruction_pj;    // decode + dispatch (queue entry written and read); the
                            // program-memory read is an SRAM access of its own
  Figure semaphore_pj;      // one semaphore signal or wait: counter update
  std::array<Figure, kNumVecOps> vector_pj;  // one element, per class (vec_op_name)
  std::vector<SramEnergyPoint> sram_macros;  // sorted by (kib, width_bits)
  std::array<DramEnergy, 3> dram;            // indexed by hw::DramType
  Figure envm_read_pj_per_bit;               // LoRA adapter buffer (embedded NVM)
};

// Leakage at the nominal supply, and its voltage dependence:
//   P_leak(V) = P_leak(Vnom) * (V / Vnom) * exp(k (V - Vnom))   (leakage_scale)
struct LeakageTech {
  Figure logic_mw_per_mm2;  // standard-cell logic, per mm2 of cell area
  Figure sram_uw_per_kib;   // SRAM macros, per KiB of capacity
  Figure k_per_volt;        // I_leak ~ exp(k V)
};

// The V-f curve (alpha-power law, normalised to nominal_mhz at the nominal
// supply) and the cost of a DVFS transition.
struct VfTech {
  Figure nominal_mhz;   // fastest clock at the nominal supply
  Figure vt_volts;      // threshold voltage of the alpha-power law
  Figure alpha;         // velocity-saturation exponent
  Figure min_volts;     // the range the curve is trusted in
  Figure max_volts;
  Figure decap_nf;               // capacitance a domain's regulator recharges
  Figure regulator_efficiency;   // (0, 1]
  Figure transition_ns;          // regulator settling + clock relock
};

struct Tech {
  std::string name;      // node.name, e.g. "tech-28nm"
  uint32_t nm = 0;       // node.nm
  Figure nominal_volts;  // node.nominal_volts: the supply energy and leakage are given at
  std::string source;    // file it came from ("power_models/tech/NAME.yaml" for built-ins)
  AreaTech area;
  EnergyTech energy;
  LeakageTech leakage;
  VfTech vf;
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

// ---------------------------------------------------------------------------
// Energy, leakage, V-f (docs/energy-model.md, "Energy figures")

// Energy of one access (read or write of one word) to one SRAM macro (one
// bank) of `bytes` bytes and `width_bits`-bit words, at the nominal supply,
// in pJ.  The table rule of sram_macro_mm2 applied to the energy table
// (read and write energies are two tables of their own): exact at a table
// point, log-log interpolation in size and width, extrapolation beyond.
// The number of ports does not change the energy of one access.
double sram_access_pj(const Tech& t, double bytes, uint32_t width_bits, bool write);
// d ln(energy) / d ln(width) of the read or write energy table.
double sram_energy_width_exponent(const Tech& t, bool write);

// The figures of one DRAM type.
const DramEnergy& dram_energy(const Tech& t, hw::DramType type);
// One activate + precharge of a row of `page_bytes`: act_pre_nj scaled
// linearly from row_bytes (nJ).
double dram_act_pre_nj(const Tech& t, hw::DramType type, uint32_t page_bytes);
// One refresh command (nJ): REFab, or REFpb = REFab / hw::kRefreshGroups
// (a REFpb refreshes the rows of one group of banks).
double dram_refresh_nj(const Tech& t, hw::DramType type, bool per_bank);

// Dynamic energy at `volts` relative to the nominal supply: (V / Vnom)^2.
double dynamic_scale(const Tech& t, double volts);
// Leakage power at `volts` relative to the nominal supply:
// (V / Vnom) * exp(k (V - Vnom)).
double leakage_scale(const Tech& t, double volts);
// Leakage power (mW) of `logic_mm2` of standard cells and `sram_kib` KiB of
// SRAM at `volts`.
double leakage_mw(const Tech& t, double logic_mm2, double sram_kib, double volts);

// The fastest clock (MHz) the alpha-power law allows at `volts`:
//   f(V) = nominal_mhz * [(V - Vt)^alpha / V] / [(Vnom - Vt)^alpha / Vnom];
// 0 at or below Vt.
double alpha_power_mhz(const Tech& t, double volts);
// Energy (nJ) of one DVFS transition between v1 and v2:
//   C_decap |v2^2 - v1^2| / efficiency   (nF x V^2 = nJ),
// with the tech file's decap_nf or the one given.
double transition_nj(const Tech& t, double v1, double v2);
double transition_nj(const Tech& t, double v1, double v2, double decap_nf);

// Check every operating point of every DVFS domain of `hw` against the V-f
// curve of `t`: its voltage within [min_volts, max_volts] and its frequency
// at most alpha_power_mhz(volts).  Throws clonesim::Error with one line
// "SOURCE: dvfs.DOMAIN.operating_points[I]: expected ..., got ..." naming
// the first point that fails.
void check_operating_points(const hw::HwConfig& hw, const Tech& t);

}  // namespace clonesim::power
