// The analytical area model.  Each component is built from items "count x
// unit"; the counts follow the generated RTL (rtl/src/*.sv) and are written
// out in docs/energy-model.md.  Storage (registers, SRAM) is counted as the
// RTL declares it; combinational datapaths are counted as the hardware they
// stand for (an int32 multiplier per lane, a barrel shifter, a mux tree), not
// as whatever a synthesiser makes of the behavioural SystemVerilog.
#include "power_models/area_model.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iomanip>
#include <sstream>

#include "common/error.h"
#include "isa/isa.h"

namespace clonesim::power {

const char* to_string(AreaKind k) { return k == AreaKind::Sram ? "sram" : "logic"; }

namespace {

// Widths fixed by the ISA and the RTL (rtl/src/cs_top.sv and friends).
constexpr double kInstrBits = isa::kInstrBytes * 8;  // one instruction word (256)
constexpr double kIdxBits = 32;                      // instruction index kept with it
constexpr double kTimeBits = 64;                     // cycle counters and timestamps
constexpr double kSemBits = 32;                      // semaphore counters
constexpr double kSemXingBits = 8;                   // signals crossing a domain, per stage
constexpr double kSemsPerTile = isa::kFirstGlobalSemaphore;                       // 16 slots
constexpr double kGlobalSems = isa::kNumSemaphores - isa::kFirstGlobalSemaphore;  // 16
constexpr double kLutBits = 16;                      // int16 LUT entries
constexpr double kHoldBits = 4;                      // in-flight holders of one bank, per unit
constexpr double kDomains = 3;
// SRAM users of a tile (cs_top.sv): scratchpad read ports DMA 1 + MXU 2 +
// VXU 2, write ports DMA 1 + VXU 1; accumulator read ports DMA 1 + MXU 2 +
// VXU 3, write ports DMA 1 + MXU 2 + VXU 1.
constexpr double kSpReaders = 5, kSpWriters = 2, kAccReaders = 6, kAccWriters = 4;
// Controller registers besides queues and semaphores (cs_top.sv): pc 32,
// program length 32, now 64, halt cycle count 64, next fetch 64, dispatched
// and completed counts per domain 2 x 3 x 64, context registers c1..c7 7 x 64,
// a control instruction's pending signal (word 256 + due time 64).
constexpr double kCtrlCoreBits = 32 + 32 + 64 + 64 + 64 + 2 * 3 * 64 +
                                 (isa::kNumContextRegs - 1) * 64 + 256 + 64;  // 1408
// DMA engine state (cs_dma.sv): the transfer's instruction word, 8 x 64-bit
// generator/reader/writer registers (row, offset, store address and length,
// writer address, length and line, reader line) and the 32-bit request count.
constexpr double kDmaStateBits = kInstrBits + 8 * 64 + 32;  // 800
// Outstanding-request buffer entry: SRAM address 64 + byte count 64 + busy bit.
constexpr double kDmaSlotBits = 64 + 64 + 1;
// MXU pipeline registers (cs_mxu.sv): the preloading and the streaming
// instruction words, and eight 64-bit timestamps/masks (preload end, stream
// start, stream end, activation bank mask, and the two stages' start times).
constexpr double kMxuPipeBits = 2 * kInstrBits + 8 * 64;  // 1024
// VXU control registers (cs_vxu.sv): the instruction word, four 32-bit
// counters (cycle, duration, steps, cycles per step), the scalar operand (64).
constexpr double kVxuCtrlBits = kInstrBits + 4 * 32 + 64;  // 448
// Iterative reciprocal / rsqrt (one per lane, one result bit per step of
// sim::kSfuCycles): a 64-bit add/subtract (two int32 adders) and 128 bits of
// remainder / root / operand state.
constexpr double kSfuAdders = 2, kSfuBits = 128;
// A lane's rounding shifter: 64-bit values, shifts 0..63 -> 6 stages of 64 mux2.
constexpr double kShiftMux = 6 * 64;
// A lane's add/sub, rounding increment, compare (max/min/clamp) and saturation
// check: four int32 adders.
constexpr double kLaneAdders = 4;
// DMA address arithmetic: 64-bit DRAM and SRAM addresses and the remaining
// byte count, three 64-bit adders = six int32 adders.
constexpr double kDmaAdders = 6;

uint32_t clog2(uint64_t v) {
  uint32_t r = 0;
  while ((uint64_t(1) << r) < v) ++r;
  return r;
}

std::string kib_text(double bytes) {
  std::ostringstream os;
  os << std::setprecision(6) << bytes / 1024.0;
  return os.str();
}

class Builder {
 public:
  Builder(const hw::HwConfig& hw, const Tech& tech, AreaBreakdown& out)
      : hw_(hw), t_(tech.area), out_(out) {}

  AreaComponent& begin(const std::string& key, const std::string& label, AreaKind kind,
                       bool per_tile) {
    AreaComponent c;
    c.key = key;
    c.label = label;
    c.kind = kind;
    c.per_tile = per_tile;
    c.instances = per_tile ? hw_.tiles : 1;
    out_.components.push_back(c);
    return out_.components.back();
  }
  static void add(AreaComponent& c, const std::string& what, double count, const std::string& unit,
                  double unit_um2) {
    if (count > 0) c.items.push_back(AreaItem{what, count, unit, unit_um2});
  }
  void regs(AreaComponent& c, const std::string& what, double bits) const {
    add(c, what, bits, "register bit", t_.register_bit_um2.value);
  }
  void mux(AreaComponent& c, const std::string& what, double bits) const {
    add(c, what, bits, "mux2 bit", t_.mux2_um2.value);
  }
  void add32(AreaComponent& c, const std::string& what, double n) const {
    add(c, what, n, "int32 adder", t_.int32_add_um2.value);
  }
  void control(AreaComponent& c) const {
    add(c, "fixed control (FSM, handshakes, field decode)", t_.unit_control_ge.value,
        "gate equivalent", t_.nand2_um2.value);
  }
  // `banks` macros of one SRAM kind.
  void macros(AreaComponent& c, const std::string& what, double banks, double bytes,
              uint32_t width_bits, uint32_t ports) const {
    const double mm2 = sram_macro_mm2(t_, bytes, width_bits, ports);
    add(c, what, banks,
        "SRAM macro " + kib_text(bytes) + " KiB x " + std::to_string(width_bits) + "b " +
            std::to_string(ports) + "-port",
        mm2 * 1e6);
  }
  // Port routing of one banked tile memory (cs_sram.sv plus the per-bank port
  // select a single- or dual-ported macro needs): read data from the
  // addressed bank to each reader, and per bank the address of one of the
  // users and the data of one of the writers.
  void routing(AreaComponent& c, const std::string& name, const hw::SramConfig& s,
               double readers, double writers) const {
    const double B = s.banks, W = s.width_bits, aw = clog2(s.depth);
    mux(c, name + " read data: readers x (banks - 1) x width", readers * (B - 1) * W);
    mux(c, name + " bank address select: banks x (users - 1) x address bits",
        B * (readers + writers - 1) * aw);
    mux(c, name + " bank write data select: banks x (writers - 1) x width", B * (writers - 1) * W);
  }

  const hw::HwConfig& hw_;
  const AreaTech& t_;
  AreaBreakdown& out_;
};

}  // namespace

double AreaBreakdown::total_mm2() const {
  double s = 0;
  for (const auto& c : components) s += c.mm2;
  return s;
}

double AreaBreakdown::logic_mm2() const {
  double s = 0;
  for (const auto& c : components)
    if (c.kind == AreaKind::Logic) s += c.mm2;
  return s;
}

double AreaBreakdown::sram_mm2() const {
  double s = 0;
  for (const auto& c : components)
    if (c.kind == AreaKind::Sram) s += c.mm2;
  return s;
}

const AreaComponent& AreaBreakdown::component(const std::string& key) const {
  for (const auto& c : components)
    if (c.key == key) return c;
  throw Error("area: no component '" + key + "'");
}

AreaBreakdown area_model(const hw::HwConfig& hw, const Tech& tech, const AreaOptions& opt) {
  if (hw.tiles == 0 || hw.mxu.rows == 0 || hw.mxu.cols == 0 || hw.vxu.lanes == 0 ||
      hw.scratchpad.banks == 0 || hw.accumulator.banks == 0 || hw.mxu.weight_types.empty())
    throw Error(hw.source + ": area model: the design point is incomplete (load it with "
                            "hw::load_hw_config)");
  const uint32_t imem_depth = hw::imem_depth_or(hw, opt.imem_depth, "area model");

  AreaBreakdown a;
  a.hw_name = hw.name;
  a.hw_source = hw.source;
  a.hw_nm = hw.technology_nm;
  a.tech_name = tech.name;
  a.tech_source = tech.source;
  a.tech_nm = tech.nm;
  a.tiles = hw.tiles;
  a.imem_depth = imem_depth;

  Builder b(hw, tech, a);
  const AreaTech& t = tech.area;
  const double R = hw.mxu.rows, C = hw.mxu.cols, L = hw.vxu.lanes, T = hw.tiles;
  const hw::SramConfig& sp = hw.scratchpad;
  const hw::SramConfig& acc = hw.accumulator;
  const double sp_lb = sp.line_bytes(), acc_lb = acc.line_bytes();
  const double lb_max = std::max(sp_lb, acc_lb);
  const double units = 2.0 * hw.dma.channels + 2.0 * hw.tiles;  // queued units (cs_top NU - 1)
  const double nsem = kSemsPerTile * T + kGlobalSems;
  const double S = hw.controller.sync_cycles, Q = hw.controller.queue_depth;
  const double in_flight = R + C + 4;  // cs_top MXQ: in-flight entries per unit
  const double entry = kInstrBits + kIdxBits;

  // ---- per tile -------------------------------------------------------------
  {
    AreaComponent& c = b.begin("mxu_macs", "MXU MAC array", AreaKind::Logic, true);
    const bool i8 = hw.mxu.supports(hw::WeightType::Int8);
    const bool i4 = hw.mxu.supports(hw::WeightType::Int4);
    if (i8) {
      Builder::add(c, "int8 x int8 MACs with int32 accumulation (R x C)", R * C, "int8 MAC",
                   t.mac_int8_um2.value);
      if (i4)
        b.mux(c, "int4 weight unpack: nibble select, 4 bits per MAC (int4 runs on the int8 MAC)",
              4 * R * C);
    } else {
      Builder::add(c, "int4 x int8 MACs with int32 accumulation (R x C)", R * C, "int4x8 MAC",
                   t.mac_int4x8_um2.value);
    }
  }
  {
    AreaComponent& c = b.begin("mxu_weight_regs", "MXU weight registers", AreaKind::Logic, true);
    b.regs(c, "active + shadow weight registers: 2 x (R x C + line bytes) x 8",
           2 * (R * C + sp_lb) * 8);
  }
  {
    AreaComponent& c = b.begin("mxu_control", "MXU buffers and control", AreaKind::Logic, true);
    b.regs(c, "activation row buffer: 2 lines", 2 * sp_lb * 8);
    b.regs(c, "completion times: (R + C + 4) x 64", in_flight * kTimeBits);
    b.regs(c, "pipeline: 2 instruction words + 8 x 64-bit timestamps/masks", kMxuPipeBits);
    b.control(c);
  }
  {
    AreaComponent& c = b.begin("vxu", "VXU lanes, LUTs, reduction", AreaKind::Logic, true);
    Builder::add(c, "lane multipliers (vmul, vrequant): one per lane", L, "int32 multiplier",
                 t.int32_mult_um2.value);
    b.add32(c, "lane add/sub, rounding, compare, saturate: 4 per lane", kLaneAdders * L);
    b.mux(c, "lane rounding shifters: 6 stages x 64 bits per lane", kShiftMux * L);
    b.mux(c, "lane LUT read: (256 - 1) x 16 bits per lane",
          (isa::kLutEntries - 1) * kLutBits * L);
    b.add32(c, "lane reciprocal/rsqrt (iterative): 2 per lane", kSfuAdders * L);
    b.regs(c, "lane reciprocal/rsqrt state: 128 bits per lane", kSfuBits * L);
    b.regs(c, "LUT storage: 4 x 256 x 16", isa::kNumLuts * isa::kLutEntries * kLutBits);
    b.mux(c, "LUT select (one of 4): 3 x 256 x 16", (isa::kNumLuts - 1) * isa::kLutEntries * kLutBits);
    b.add32(c, "reduction trees (sum, max): 2 x (L - 1)", 2 * (L - 1));
    b.regs(c, "reduction accumulator", 64);
    b.regs(c, "control registers: instruction word, 4 counters, scalar", kVxuCtrlBits);
    b.control(c);
  }
  {
    AreaComponent& c = b.begin("sram_routing", "SRAM port routing", AreaKind::Logic, true);
    b.routing(c, "scratchpad", sp, kSpReaders, kSpWriters);
    b.routing(c, "accumulator", acc, kAccReaders, kAccWriters);
  }
  {
    AreaComponent& c = b.begin("scratchpad", "scratchpad SRAM", AreaKind::Sram, true);
    b.macros(c, "scratchpad banks", sp.banks, double(sp.bank_bytes()), sp.width_bits, sp.ports);
  }
  {
    AreaComponent& c = b.begin("accumulator", "accumulator SRAM", AreaKind::Sram, true);
    b.macros(c, "accumulator banks", acc.banks, double(acc.bank_bytes()), acc.width_bits,
             acc.ports);
  }

  // ---- shared ---------------------------------------------------------------
  {
    AreaComponent& c = b.begin("dma", "DMA engine", AreaKind::Logic, false);
    b.regs(c, "outstanding-request buffers: outstanding x (64 + 64 + 1)",
           hw.dma.outstanding * kDmaSlotBits);
    b.regs(c, "burst buffers (store read, load write): 2 x burst bytes x 8",
           2.0 * hw.dma.burst_bytes * 8);
    b.regs(c, "transfer state: instruction word, 8 x 64, 32", kDmaStateBits);
    b.add32(c, "address arithmetic: three 64-bit adders", kDmaAdders);
    b.mux(c, "byte alignment: 2 rotators x log2(burst) stages x max(burst, line) bytes x 8",
          2.0 * clog2(hw.dma.burst_bytes) * std::max(double(hw.dma.burst_bytes), lb_max) * 8);
    b.control(c);
  }
  {
    AreaComponent& c = b.begin("controller", "controller and unit queues", AreaKind::Logic, false);
    b.regs(c, "unit queues: units x queue_depth x (256 + 32)", units * Q * entry);
    b.regs(c, "queue synchronisers: units x ((sync - 1) x (1 + 256 + 32) + sync)",
           units * ((S - 1) * (1 + entry) + S));
    b.regs(c, "completion synchronisers: 3 domains x sync x 8", kDomains * S * 8);
    b.regs(c, "in-flight lists: units x (R + C + 4) x (256 + 32)", units * in_flight * entry);
    b.regs(c, "semaphores: (16 T + 16) x (32 + 3 x 32 + 3 x 8 x sync)",
           nsem * (kSemBits + kDomains * kSemBits + kDomains * kSemXingBits * S));
    b.add32(c, "semaphore counters: 4 adders per semaphore", 4 * nsem);
    b.mux(c, "wait checks: (units + 1) x 2 x 32 x (semaphores - 1)",
          (units + 1) * 2 * kSemBits * (nsem - 1));
    b.add32(c, "wait compares: (units + 1) x 2", (units + 1) * 2);
    b.regs(c, "bank holds: units x ((sp banks + acc banks) x 4 + tiles)",
           units * ((double(sp.banks) + acc.banks) * kHoldBits + T));
    b.regs(c, "pc, counters, context registers, pending control signal", kCtrlCoreBits);
    b.control(c);
  }
  {
    AreaComponent& c = b.begin("imem", "instruction memory", AreaKind::Sram, false);
    b.macros(c, "program memory: imem_depth x 256 bits", 1, double(imem_depth) * isa::kInstrBytes,
             isa::kInstrBytes * 8, 1);
  }
  {
    AreaComponent& c = b.begin("dvfs", "DVFS control registers", AreaKind::Logic, false);
    b.regs(c, "operating point (8) and transition end (64) per domain", kDomains * (8 + kTimeBits));
    b.add32(c, "transition end = now + cycles: one 64-bit adder per domain", kDomains * 2);
  }

  for (AreaComponent& c : a.components) {
    double um2 = 0;
    for (const AreaItem& it : c.items) um2 += it.um2();
    c.instance_mm2 = um2 / 1e6;
    c.mm2 = c.instance_mm2 * c.instances;
  }
  return a;
}

// ---------------------------------------------------------------------------
// Reports

std::string area_table(const AreaBreakdown& a, bool detail) {
  std::ostringstream os;
  const double total = a.total_mm2();
  auto pct = [&](double v) { return total > 0 ? 100.0 * v / total : 0.0; };
  char buf[256];
  os << "design point  " << a.hw_name << " (" << a.hw_source << "), " << a.tiles
     << (a.tiles == 1 ? " tile\n" : " tiles\n");
  os << "technology    " << a.tech_name << " (" << a.tech_source << "), " << a.tech_nm << " nm\n";
  if (a.hw_nm != a.tech_nm)
    os << "note          the design point says " << a.hw_nm << " nm; the figures are "
       << a.tech_nm << " nm\n";
  os << "imem          " << a.imem_depth << " instructions x 256 bits\n\n";
  std::snprintf(buf, sizeof buf, "%-8s%-30s%-7s%12s%4s%12s%8s\n", "", "component", "kind",
                "each mm2", "x", "mm2", "%");
  os << buf;
  for (const AreaComponent& c : a.components) {
    std::snprintf(buf, sizeof buf, "%-8s%-30s%-7s%12.6f%4u%12.6f%8.1f\n",
                  c.per_tile ? "tile" : "shared", c.label.c_str(), to_string(c.kind),
                  c.instance_mm2, c.instances, c.mm2, pct(c.mm2));
    os << buf;
    if (detail)
      for (const AreaItem& it : c.items) {
        std::snprintf(buf, sizeof buf, "        %10.6g x %-36s %10.4g um2 = %11.1f um2  %s\n",
                      it.count, it.unit.c_str(), it.unit_um2, it.um2(), it.what.c_str());
        os << buf;
      }
  }
  std::snprintf(buf, sizeof buf, "%-8s%-53s%12.6f%8.1f\n", "", "logic (standard cells)",
                a.logic_mm2(), pct(a.logic_mm2()));
  os << "\n" << buf;
  std::snprintf(buf, sizeof buf, "%-8s%-53s%12.6f%8.1f\n", "", "SRAM macros", a.sram_mm2(),
                pct(a.sram_mm2()));
  os << buf;
  std::snprintf(buf, sizeof buf, "%-8s%-53s%12.6f%8.1f\n", "", "total", total, 100.0);
  os << buf;
  return os.str();
}

nlohmann::json area_json(const AreaBreakdown& a) {
  nlohmann::json j;
  j["design_point"] = a.hw_name;
  j["hw_source"] = a.hw_source;
  j["technology"] = a.tech_name;
  j["tech_source"] = a.tech_source;
  j["technology_nm"] = a.tech_nm;
  j["tiles"] = a.tiles;
  j["imem_depth"] = a.imem_depth;
  j["area_mm2"] = a.total_mm2();
  j["logic_mm2"] = a.logic_mm2();
  j["sram_mm2"] = a.sram_mm2();
  nlohmann::json comps = nlohmann::json::object();
  for (const AreaComponent& c : a.components) {
    nlohmann::json items = nlohmann::json::array();
    for (const AreaItem& it : c.items)
      items.push_back({{"what", it.what}, {"count", it.count}, {"unit", it.unit},
                       {"unit_um2", it.unit_um2}, {"um2", it.um2()}});
    comps[c.key] = {{"label", c.label},          {"kind", to_string(c.kind)},
                    {"per_tile", c.per_tile},    {"instances", c.instances},
                    {"instance_mm2", c.instance_mm2}, {"mm2", c.mm2},
                    {"items", items}};
  }
  j["components"] = comps;
  return j;
}

}  // namespace clonesim::power
