// Design-point parsing and validation (yaml-cpp 0.7), the per-type DRAM
// defaults, the derived figures, and `describe`.  The schema, every legal
// range and the sources of the DRAM defaults are in docs/design-points.md.
//
// Every problem with the input throws clonesim::Error with a one-line message
// "FILE:LINE: KEY.PATH: expected ..., got ...".  Nothing in the input may
// crash the parser: yaml-cpp exceptions are caught and converted, scalars are
// parsed by hand (no yaml-cpp as<T>() with its silent wrap-around), and every
// derived figure is range-checked before it is computed.  The generic
// strict-YAML helpers live in lib/common/yaml_strict.h (shared with the
// technology files of power_models/).
#include "hw/hw_config.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iomanip>
#include <sstream>
#include <system_error>

#include <yaml-cpp/yaml.h>

#include "common/error.h"
#include "common/yaml_strict.h"
#include "hw/embedded_configs.h"

namespace clonesim::hw {

// The strict-YAML helpers (Ctx, MapView, read_int, load_one_document...).
using namespace clonesim::yaml;

// ---------------------------------------------------------------------------
// Names

const char* to_string(WeightType t) {
  switch (t) {
    case WeightType::Int8: return "int8";
    case WeightType::Int4: return "int4";
  }
  return "?";
}

const char* to_string(DramType t) {
  switch (t) {
    case DramType::LPDDR4: return "LPDDR4";
    case DramType::LPDDR4X: return "LPDDR4X";
    case DramType::LPDDR5: return "LPDDR5";
  }
  return "?";
}

const char* to_string(RefreshMode m) {
  switch (m) {
    case RefreshMode::AllBank: return "all_bank";
    case RefreshMode::PerBank: return "per_bank";
  }
  return "?";
}

const char* to_string(Domain d) {
  switch (d) {
    case Domain::Compute: return "compute";
    case Domain::Memory: return "memory";
    case Domain::AlwaysOn: return "always_on";
  }
  return "?";
}

// ---------------------------------------------------------------------------
// Derived figures

bool MxuConfig::supports(WeightType t) const {
  return std::find(weight_types.begin(), weight_types.end(), t) != weight_types.end();
}

uint32_t DramConfig::burst_clocks() const {
  // A loaded config has been checked; a hand-built one may not have been.
  if (ck_mhz == 0 || data_rate_mtps == 0 || data_rate_mtps % ck_mhz != 0)
    throw Error("dram: data_rate_mtps (" + std::to_string(data_rate_mtps) +
                ") must be a non-zero multiple of ck_mhz (" + std::to_string(ck_mhz) + ")");
  const uint32_t per_ck = data_rate_mtps / ck_mhz;
  if (timing.BL == 0 || timing.BL % per_ck != 0)
    throw Error("dram: timing.BL (" + std::to_string(timing.BL) +
                ") must be a non-zero multiple of the transfers per clock (" +
                std::to_string(per_ck) + ")");
  return timing.BL / per_ck;
}

namespace {
// ns -> integer ps, the unit every derived DRAM figure is computed in, so
// 280 ns / 625 ps is exactly 448 clocks rather than 448.0000001 -> 449.
uint64_t ns_to_ps(double ns) {
  if (!(ns > 0)) return 0;
  return static_cast<uint64_t>(std::llround(ns * 1000.0));
}
}  // namespace

uint64_t DramConfig::tRFC_ck() const {
  if (tck_ps == 0) return 0;
  const uint64_t ps = ns_to_ps(timing.tRFC_ns);
  return (ps + tck_ps - 1) / tck_ps;
}

uint64_t DramConfig::tREFI_ck() const {
  if (tck_ps == 0) return 0;
  return ns_to_ps(timing.tREFI_ns) / tck_ps;
}

uint64_t DramConfig::tRFCpb_ck() const {
  if (tck_ps == 0) return 0;
  const uint64_t ps = ns_to_ps(timing.tRFCpb_ns);
  return (ps + tck_ps - 1) / tck_ps;
}

uint64_t DramConfig::tREFIpb_ck() const {
  if (tck_ps == 0) return 0;
  return ns_to_ps(timing.tREFI_ns) / (kRefreshGroups * tck_ps);
}

double DramConfig::peak_gbps() const {
  return double(channels) * double(data_rate_mtps) * double(width_bits) / 8.0 / 1000.0;
}

double HwConfig::peak_tops(WeightType t) const {
  if (!mxu.supports(t)) return 0.0;
  // int4 weights run at the int8 MAC rate: they only take less memory.
  double fmax = 0;
  for (const auto& p : domain(Domain::Compute).points) fmax = std::max(fmax, p.mhz);
  return 2.0 * mxu.rows * mxu.cols * tiles * fmax * 1e6 / 1e12;
}

uint64_t HwConfig::sram_total_bytes() const {
  return (scratchpad.total_bytes() + accumulator.total_bytes()) * tiles;
}

// ---------------------------------------------------------------------------
// Per-type DRAM defaults.  Tags as in reference-28nm.md: [T] a simulator's
// data file, [S] scaled/derived.

DramConfig default_dram(DramType type, uint32_t channels) {
  DramConfig d;
  d.type = type;
  d.channels = channels;
  d.width_bits = 16;          // one x16 LPDDR channel
  d.interleave_bytes = 256;   // project default, not a JEDEC figure
  DramTiming& t = d.timing;
  switch (type) {
    case DramType::LPDDR4:
      // [T] LPDDR4-3200, Ramulator src/LPDDR4.h speed entry LPDDR4_3200:
      // tCK 0.625 ns, 8 banks, 2 KiB page, BL16; CL 32, CWL 14, tRCD 29,
      // tRPpb 27, tRAS 68, tRRD 16, tFAW 64, tCCD 8, tRTP 14, tWR 28, tWTR 16;
      // tREFI 3.904 us.  [R] not the preset's: CWL 14 (JEDEC set A; preset 18),
      // tRFCab 280 ns and tRFCpb 140 ns (JEDEC JESD209-4, 12/16 Gb die; the
      // preset's 8 Gb die has 180 / 90 ns).
      d.banks = 8; d.page_bytes = 2048; d.data_rate_mtps = 3200; d.ck_mhz = 1600;
      t.BL = 16; t.CL = 32; t.CWL = 14; t.tRCD = 29; t.tRP = 27; t.tRAS = 68;
      t.tRRD = 16; t.tFAW = 64; t.tCCD = 8; t.tRTP = 14; t.tWR = 28; t.tWTR = 16;
      t.tRFC_ns = 280; t.tRFCpb_ns = 140; t.tREFI_ns = 3904;
      break;
    case DramType::LPDDR4X:
      // [S] LPDDR4X-4266: the LPDDR4-3200 entry's nanosecond values rescaled
      // to tCK 0.469 ns and rounded up to whole clocks (the core timings of
      // LPDDR4X equal LPDDR4's; only the I/O is faster).  CL 36 / CWL 18 are
      // the JEDEC read/write latencies for the 4266 bin.  Refresh as LPDDR4
      // (tRFCab 280 ns, tRFCpb 140 ns: JESD209-4, 12/16 Gb die).
      d.banks = 8; d.page_bytes = 2048; d.data_rate_mtps = 4266; d.ck_mhz = 2133;
      t.BL = 16; t.CL = 36; t.CWL = 18; t.tRCD = 39; t.tRP = 36; t.tRAS = 91;
      t.tRRD = 22; t.tFAW = 86; t.tCCD = 8; t.tRTP = 19; t.tWR = 38; t.tWTR = 22;
      t.tRFC_ns = 280; t.tRFCpb_ns = 140; t.tREFI_ns = 3904;
      break;
    case DramType::LPDDR5:
      // [T] LPDDR5-6400, Ramulator2 src/dram/impl/LPDDR5.cpp preset
      // LPDDR5_6400: CK 800 MHz (tCK 1.25 ns; WCK 4:1, 8 transfers per CK),
      // 16 banks (4 bank groups), 2 KiB page, BL16; CL 20, tRCD 15,
      // tRPpb 15, tRAS 34, tRRD 4, tFAW 16, tWR 28; tRFCab 210 ns, tREFI
      // 3.904 us; tRFCpb 120 ns (the same file's per-bank table, 8 Gb die;
      // JESD209-5: one REFpb refreshes a bank pair b, b+8 in 16-bank mode).
      // [R] not the preset's: tCCD 2 (different bank group; bank
      // groups are not modelled), CWL 9 / tRTP 6 / tWTR 8 (preset 11 / 4 / 5).
      d.banks = 16; d.page_bytes = 2048; d.data_rate_mtps = 6400; d.ck_mhz = 800;
      t.BL = 16; t.CL = 20; t.CWL = 9; t.tRCD = 15; t.tRP = 15; t.tRAS = 34;
      t.tRRD = 4; t.tFAW = 16; t.tCCD = 2; t.tRTP = 6; t.tWR = 28; t.tWTR = 8;
      t.tRFC_ns = 210; t.tRFCpb_ns = 120; t.tREFI_ns = 3904;
      break;
  }
  d.tck_ps = static_cast<uint64_t>(std::llround(1e6 / d.ck_mhz));
  return d;
}

// ---------------------------------------------------------------------------
// Parsing

namespace {

constexpr uint64_t kMaxSramBytesPerTile = uint64_t(16) << 20;  // 16 MiB
constexpr std::uintmax_t kMaxFileBytes = uint64_t(4) << 20;     // a design point is ~3 KB

// --- sections ---------------------------------------------------------------

void read_mxu(const Ctx& c, const Field& f, MxuConfig& mxu) {
  MapView m(c, f, {"rows", "cols", "weight_types"});
  mxu.rows = need_int(c, m, "rows", range(1, 256));
  mxu.cols = need_int(c, m, "cols", range(1, 256));
  const std::string list_what = "a non-empty list of weight types (int8, int4)";
  const Field& wf = m.need("weight_types", list_what);
  if (!wf.node.IsSequence() || wf.node.size() == 0) c.expected(wf, list_what);
  size_t i = 0;
  for (const auto& n : wf.node) {
    const Field it = item(wf, i++, n);
    const auto t = static_cast<WeightType>(read_enum(c, it, {"int8", "int4"}));
    if (mxu.supports(t))
      c.expected(it, "each weight type once", std::string(to_string(t)) + " again");
    mxu.weight_types.push_back(t);
  }
}

void read_sram(const Ctx& c, const Field& f, SramConfig& s, bool accumulator) {
  MapView m(c, f, {"banks", "width_bits", "depth", "ports"});
  s.banks = need_int(c, m, "banks", range(1, 64));
  IntRule width = pow2_range(32, 4096);
  if (accumulator) width.multiple = 32;  // whole int32 entries per line
  s.width_bits = need_int(c, m, "width_bits", width);
  IntRule depth = pow2_range(16, 1LL << 30);  // the 16 MiB limit below bounds it anyway
  depth.what = "a power of two >= 16";
  s.depth = need_int(c, m, "depth", depth);
  s.ports = need_int(c, m, "ports", range(1, 2));
  if (s.total_bytes() > kMaxSramBytesPerTile)
    c.fail(m.line(), m.path(),
           "expected at most 16384 KiB per tile (banks x depth x width_bits / 8), got " +
               num(double(s.total_bytes()) / 1024.0) + " KiB");
}

void read_dram(const Ctx& c, const Field& f, DramConfig& d) {
  MapView m(c, f,
            {"type", "channels", "banks", "page_bytes", "width_bits", "data_rate_mtps", "ck_mhz",
             "interleave_bytes", "refresh", "timing"});
  const Field& tf = m.need("type", "one of LPDDR4, LPDDR4X, LPDDR5");
  const auto type = static_cast<DramType>(read_enum(c, tf, {"LPDDR4", "LPDDR4X", "LPDDR5"}));
  d = default_dram(type, 1);
  d.channels = need_int(c, m, "channels", range(1, 16));

  auto opt = [&](const char* key, uint32_t& dst, const IntRule& r) {
    if (const Field* x = m.find(key)) dst = read_int(c, *x, r);
  };
  opt("banks", d.banks, pow2_range(1, 64));
  opt("page_bytes", d.page_bytes, pow2_range(256, 16384));
  opt("width_bits", d.width_bits, pow2_range(8, 64));
  opt("data_rate_mtps", d.data_rate_mtps, range(1, 20000));
  opt("ck_mhz", d.ck_mhz, range(1, 10000));
  opt("interleave_bytes", d.interleave_bytes, pow2_range(32, 65536));
  const Field* refresh_f = m.find("refresh");
  if (refresh_f) d.refresh = static_cast<RefreshMode>(read_enum(c, *refresh_f, {"all_bank", "per_bank"}));

  // Line and path to blame for a cross-key problem: the key if the file gave
  // it, else the `dram` map (the value came from the type's defaults).
  auto at = [&](const MapView& mv, const char* key) -> Field {
    if (const Field* x = mv.find(key)) return *x;
    return Field{YAML::Node(), mv.child(key), mv.line(), 0};
  };

  const Field* timing_f = m.find("timing");
  const Field* bl_f = nullptr;
  int timing_line = m.line();
  std::string timing_path = m.child("timing");
  std::vector<std::string> tkeys = {"BL",   "CL",   "CWL", "tRCD", "tRP",     "tRAS",      "tRRD",    "tFAW",
                                    "tCCD", "tRTP", "tWR", "tWTR", "tRFC_ns", "tRFCpb_ns", "tREFI_ns"};
  Field trefi_at{YAML::Node(), timing_path + ".tREFI_ns", timing_line};
  // Copies (the timing map's fields do not outlive its block); the flags say
  // whether the file gave the key.
  Field trfc_at{YAML::Node(), timing_path + ".tRFC_ns", timing_line, 0};
  Field trfcpb_at{YAML::Node(), timing_path + ".tRFCpb_ns", timing_line, 0};
  bool has_trfc = false, has_trfcpb = false;
  if (timing_f) {
    MapView t(c, *timing_f, tkeys);
    uint32_t* clocks[] = {&d.timing.BL,   &d.timing.CL,   &d.timing.CWL, &d.timing.tRCD,
                          &d.timing.tRP,  &d.timing.tRAS, &d.timing.tRRD, &d.timing.tFAW,
                          &d.timing.tCCD, &d.timing.tRTP, &d.timing.tWR, &d.timing.tWTR};
    for (size_t i = 0; i < 12; ++i)
      if (const Field* x = t.find(tkeys[i]))
        *clocks[i] = read_int(c, *x, i == 0 ? range(1, 64) : range(1, 10000));
    // tREFI_ns 0 disables refresh (the DRAM model's convention).
    const RealRule trfc{0, 1e6, true}, trefi{0, 1e8, false};
    if (const Field* x = t.find("tRFC_ns")) d.timing.tRFC_ns = read_real(c, *x, trfc);
    if (const Field* x = t.find("tRFCpb_ns")) d.timing.tRFCpb_ns = read_real(c, *x, trfc);
    if (const Field* x = t.find("tREFI_ns")) d.timing.tREFI_ns = read_real(c, *x, trefi);
    bl_f = t.find("BL");
    has_trfc = t.find("tRFC_ns") != nullptr;
    has_trfcpb = t.find("tRFCpb_ns") != nullptr;
    trfc_at = at(t, "tRFC_ns");
    trfcpb_at = at(t, "tRFCpb_ns");
    trefi_at = at(t, "tREFI_ns");
    timing_line = t.line();
  }

  // Clock relations.
  if (d.data_rate_mtps % d.ck_mhz != 0) {
    const Field r = at(m, "data_rate_mtps");
    c.expected(r, "a multiple of ck_mhz (" + std::to_string(d.ck_mhz) + ")",
               std::to_string(d.data_rate_mtps));
  }
  const uint32_t per_ck = d.data_rate_mtps / d.ck_mhz;
  if (d.timing.BL % per_ck != 0) {
    const Field b = bl_f ? *bl_f : Field{YAML::Node(), timing_path + ".BL", timing_line, 0};
    c.expected(b,
               "a multiple of the transfers per clock (data_rate_mtps / ck_mhz = " +
                   std::to_string(per_ck) + ")",
               std::to_string(d.timing.BL));
  }
  if (d.interleave_bytes > d.page_bytes)
    c.expected(at(m, "interleave_bytes"),
               "a power of two 32..page_bytes (" + std::to_string(d.page_bytes) + ")",
               std::to_string(d.interleave_bytes));

  d.tck_ps = static_cast<uint64_t>(std::llround(1e6 / d.ck_mhz));
  if (d.refresh == RefreshMode::AllBank) {
    if (d.timing.tREFI_ns > 0 && d.tRFC_ck() >= d.tREFI_ck())
      c.expected(trefi_at,
                 "0 (no refresh) or a refresh interval longer than tRFC_ns (" +
                     num(d.timing.tRFC_ns) + ")",
                 num(d.timing.tREFI_ns));
    return;
  }
  // Per-bank refresh: 8 REFpb per tREFI, each refreshing the banks b with
  // b % 8 == k, so the banks must split into 8 equal groups.
  if (d.banks % kRefreshGroups != 0)
    c.expected(*refresh_f,
               "all_bank, or per_bank with banks a multiple of 8 (8 per-bank refreshes per tREFI)",
               "per_bank with " + std::to_string(d.banks) + " banks");
  if (d.timing.tRFCpb_ns > d.timing.tRFC_ns) {
    if (has_trfcpb || !has_trfc)
      c.expected(trfcpb_at, "a per-bank refresh cycle no longer than tRFC_ns (" + num(d.timing.tRFC_ns) + ")",
                 num(d.timing.tRFCpb_ns));
    c.expected(trfc_at,
               "an all-bank refresh cycle no shorter than tRFCpb_ns (" + num(d.timing.tRFCpb_ns) + ")",
               num(d.timing.tRFC_ns));
  }
  if (d.timing.tREFI_ns > 0 && d.tRFCpb_ck() >= d.tREFIpb_ck()) {
    const std::string refipb = "tREFIpb = tREFI_ns / 8 = " + num(d.timing.tREFI_ns / kRefreshGroups) +
                               " ns = " + std::to_string(d.tREFIpb_ck()) + " CK";
    if (has_trfcpb)
      c.expected(trfcpb_at, "a per-bank refresh cycle shorter than " + refipb,
                 num(d.timing.tRFCpb_ns) + " (" + std::to_string(d.tRFCpb_ck()) + " CK)");
    c.expected(trefi_at,
               "0 (no refresh) or a refresh interval whose eighth is longer than tRFCpb_ns (" +
                   num(d.timing.tRFCpb_ns) + " = " + std::to_string(d.tRFCpb_ck()) + " CK)",
               num(d.timing.tREFI_ns) + " (" + refipb + ")");
  }
}

DomainConfig read_domain(const Ctx& c, const Field& f) {
  DomainConfig dc;
  MapView m(c, f, {"operating_points", "initial", "transition_ns", "transition_nj"});
  const std::string list_what = "a non-empty list of operating points {volts, mhz}";
  const Field& pf = m.need("operating_points", list_what);
  if (!pf.node.IsSequence() || pf.node.size() == 0) c.expected(pf, list_what);
  const RealRule volts{0, 2.0, true}, mhz{0, 10000, true};
  size_t i = 0;
  for (const auto& n : pf.node) {
    const Field it = item(pf, i++, n);
    MapView pm(c, it, {"volts", "mhz"});
    OperatingPoint p;
    const Field& vf = pm.need("volts", volts.describe());
    const Field& mf = pm.need("mhz", mhz.describe());
    p.volts = read_real(c, vf, volts);
    p.mhz = read_real(c, mf, mhz);
    p.period_ps = static_cast<uint64_t>(std::llround(1e6 / p.mhz));
    if (!dc.points.empty()) {
      const OperatingPoint& prev = dc.points.back();
      if (p.mhz <= prev.mhz)
        c.expected(mf, "mhz > " + num(prev.mhz) +
                           " (the previous point's; points ascend strictly in frequency)",
                   num(p.mhz));
      if (p.period_ps >= prev.period_ps)
        c.expected(mf, "a period shorter than the previous point's " +
                           std::to_string(prev.period_ps) + " ps",
                   num(p.mhz) + " MHz = " + std::to_string(p.period_ps) + " ps");
      if (p.volts < prev.volts)
        c.expected(vf, "volts >= " + num(prev.volts) +
                           " (the previous, slower point's)",
                   num(p.volts));
    }
    dc.points.push_back(p);
  }
  const long long n = static_cast<long long>(dc.points.size());
  IntRule init = range(0, n - 1);
  init.what = "an index 0.." + std::to_string(n - 1) + " into operating_points";
  dc.initial = need_int(c, m, "initial", init);
  dc.transition_ns = need_real(c, m, "transition_ns", RealRule{0, 1e7, false});
  dc.transition_nj = need_real(c, m, "transition_nj", RealRule{0, 1e6, false});
  dc.transition_ps = static_cast<uint64_t>(std::llround(dc.transition_ns * 1000.0));
  return dc;
}

IntRule imem_rule() { return pow2_range(kMinImemDepth, kMaxImemDepth); }

const std::vector<std::string> kTopKeys = {"name", "technology_nm", "tiles", "mxu", "vxu",
                                           "scratchpad", "accumulator", "dma", "controller",
                                           "dram", "dvfs"};

HwConfig read_root(const Ctx& c, const YAML::Node& root) {
  HwConfig hw;
  const Field rf{root, "", line_of(root, 1), 0};
  if (!root.IsMap()) c.expected(rf, "a design point (a map with keys " + join(kTopKeys) + ")");
  MapView m(c, rf, kTopKeys);
  auto sub = [&](const char* key, const std::vector<std::string>& keys) -> const Field& {
    return m.need(key, "a map with keys " + join(keys));
  };

  hw.name = read_name(c, m.need("name", "a non-empty one-line string"));
  if (const Field* t = m.find("technology_nm")) hw.technology_nm = read_int(c, *t, range(7, 180));
  hw.tiles = need_int(c, m, "tiles", range(1, 63));
  read_mxu(c, sub("mxu", {"rows", "cols", "weight_types"}), hw.mxu);
  {
    MapView v(c, sub("vxu", {"lanes"}), {"lanes"});
    hw.vxu.lanes = need_int(c, v, "lanes", pow2_range(1, 256));
  }
  const std::vector<std::string> sram_keys = {"banks", "width_bits", "depth", "ports"};
  read_sram(c, sub("scratchpad", sram_keys), hw.scratchpad, false);
  read_sram(c, sub("accumulator", sram_keys), hw.accumulator, true);

  MapView dma(c, sub("dma", {"burst_bytes", "outstanding", "channels"}), {"burst_bytes", "outstanding", "channels"});
  if (const Field* ch = dma.find("channels")) hw.dma.channels = read_int(c, *ch, range(1, 8));
  const Field& burst_f = dma.need("burst_bytes", pow2_range(16, 4096).describe());
  hw.dma.burst_bytes = read_int(c, burst_f, pow2_range(16, 4096));
  hw.dma.outstanding = need_int(c, dma, "outstanding", range(1, 256));

  {
    const std::vector<std::string> ckeys = {"queue_depth", "sync_cycles", "imem_depth"};
    MapView ctl(c, sub("controller", ckeys), ckeys);
    hw.controller.queue_depth = need_int(c, ctl, "queue_depth", range(1, 64));
    hw.controller.sync_cycles = need_int(c, ctl, "sync_cycles", range(1, 8));
    if (const Field* d = ctl.find("imem_depth")) hw.controller.imem_depth = read_int(c, *d, imem_rule());
  }

  read_dram(c,
            sub("dram", {"type", "channels", "banks", "page_bytes", "width_bits",
                         "data_rate_mtps", "ck_mhz", "interleave_bytes", "refresh", "timing"}),
            hw.dram);
  if (hw.dma.burst_bytes > hw.dram.interleave_bytes)
    c.expected(burst_f,
               "a power of two 16..4096 and <= dram.interleave_bytes (" +
                   std::to_string(hw.dram.interleave_bytes) + ")",
               std::to_string(hw.dma.burst_bytes));

  const std::vector<std::string> dkeys = {"compute", "memory", "always_on"};
  MapView dv(c, sub("dvfs", dkeys), dkeys);
  for (int i = 0; i < kNumDomains; ++i)
    hw.domains[i] = read_domain(
        c, dv.need(dkeys[i], "a map with keys operating_points, initial, transition_ns, "
                             "transition_nj"));
  return hw;
}

}  // namespace

std::string imem_depth_rule() { return imem_rule().describe(); }

std::string check_imem_depth(uint64_t depth) {
  const IntRule r = imem_rule();
  if (depth >= uint64_t(r.lo) && depth <= uint64_t(r.hi) && is_pow2(static_cast<long long>(depth))) return "";
  return r.describe() + ", got " + std::to_string(depth);
}

uint32_t imem_depth_or(const HwConfig& hw, std::optional<uint32_t> depth, const std::string& who) {
  const uint32_t d = depth.value_or(hw.controller.imem_depth);
  const std::string bad = check_imem_depth(d);
  if (!bad.empty())
    throw Error(depth ? who + ": imem_depth: expected " + bad : hw.source + ": controller.imem_depth: expected " + bad);
  return d;
}

HwConfig parse_hw_config(const std::string& yaml_text, const std::string& source_name) {
  const Ctx c(source_name);
  const YAML::Node root = load_one_document(
      c, yaml_text, "a design point (a map with keys " + join(kTopKeys) + ")");
  try {
    HwConfig hw = read_root(c, root);
    hw.source = source_name;
    return hw;
  } catch (const Error&) {
    throw;
  } catch (const YAML::Exception& e) {
    // Not expected: every access above is checked.  Still one line, never a crash.
    c.fail(e.mark.line >= 0 ? e.mark.line + 1 : 0, "", "unreadable design point: " + e.msg);
  }
}

HwConfig load_hw_config(const std::string& path) {
  const Ctx c(path);
  return parse_hw_config(read_text_file(c, path, "design-point file", kMaxFileBytes), path);
}

std::string default_hw_name() { return "clone-28nm"; }

std::vector<std::string> shipped_hw_names() {
  std::vector<std::string> names;
  for (size_t i = 0; i < detail::kNumEmbeddedConfigs; ++i)
    names.emplace_back(detail::kEmbeddedConfigs[i].name);
  std::sort(names.begin(), names.end());
  return names;
}

HwConfig load_hw_config_or_named(const std::string& path_or_name) {
  std::error_code ec;
  if (std::filesystem::is_regular_file(path_or_name, ec)) return load_hw_config(path_or_name);
  std::string name = path_or_name;
  const std::string ext = ".yaml";
  if (name.size() > ext.size() && name.compare(name.size() - ext.size(), ext.size(), ext) == 0)
    name.resize(name.size() - ext.size());
  for (size_t i = 0; i < detail::kNumEmbeddedConfigs; ++i)
    if (name == detail::kEmbeddedConfigs[i].name)
      return parse_hw_config(detail::kEmbeddedConfigs[i].text, "configs/hw/" + name + ".yaml");
  throw Error(one_line("unknown design point '" + path_or_name +
                       "': not a file, and not one of " + join(shipped_hw_names())));
}

// ---------------------------------------------------------------------------
// describe

namespace {

std::string kib(uint64_t bytes) { return num(double(bytes) / 1024.0) + " KiB"; }

std::string fixed(double v, int prec) {
  std::ostringstream os;
  os << std::fixed << std::setprecision(prec) << v;
  return os.str();
}

std::string sram_line(const SramConfig& s, uint32_t tiles) {
  return std::to_string(s.banks) + " banks x " + std::to_string(s.depth) + " lines x " +
         std::to_string(s.width_bits) + " bits, " + std::to_string(s.ports) +
         (s.ports == 1 ? " port" : " ports") + " = " + kib(s.total_bytes()) + " per tile, " +
         kib(s.total_bytes() * tiles) + " total";
}

}  // namespace

std::string describe(const HwConfig& hw) {
  std::ostringstream os;
  auto row = [&](const std::string& label, const std::string& value) {
    os << std::left << std::setw(14) << label << value << "\n";
  };
  row("design point", hw.name);
  row("source", hw.source);
  row("technology", std::to_string(hw.technology_nm) + " nm");
  row("tiles", std::to_string(hw.tiles));
  os << "\n";

  std::vector<std::string> types;
  for (auto t : hw.mxu.weight_types) types.emplace_back(to_string(t));
  row("MXU", std::to_string(hw.mxu.rows) + " x " + std::to_string(hw.mxu.cols) +
                 " MACs per tile (rows = K, cols = N); weights " + join(types));
  std::string peak;
  for (auto t : {WeightType::Int8, WeightType::Int4}) {
    if (!hw.mxu.supports(t)) continue;
    if (!peak.empty()) peak += ", ";
    peak += std::string(to_string(t)) + " " + num(hw.peak_tops(t)) + " TOPS";
  }
  double fmax = 0;
  for (const auto& p : hw.domain(Domain::Compute).points) fmax = std::max(fmax, p.mhz);
  row("peak", peak + " (" + std::to_string(hw.tiles) + (hw.tiles == 1 ? " tile" : " tiles") +
                  " at " + num(fmax) + " MHz)");
  row("VXU", std::to_string(hw.vxu.lanes) + " lanes per tile");
  row("scratchpad", sram_line(hw.scratchpad, hw.tiles));
  row("accumulator", sram_line(hw.accumulator, hw.tiles));
  row("SRAM total", kib(hw.sram_total_bytes()) + " (" + std::to_string(hw.sram_total_bytes()) +
                        " B)");
  row("DMA", std::to_string(hw.dma.channels) + " channel(s), burst " + std::to_string(hw.dma.burst_bytes) + " B, " +
                 std::to_string(hw.dma.outstanding) + " outstanding");
  row("controller", "queue depth " + std::to_string(hw.controller.queue_depth) + ", sync " +
                        std::to_string(hw.controller.sync_cycles) + " cycles, instruction memory " +
                        std::to_string(hw.controller.imem_depth) + " x 256 bits (" +
                        kib(uint64_t(hw.controller.imem_depth) * 32) + ")");
  os << "\n";

  const DramConfig& d = hw.dram;
  row("DRAM", std::string(to_string(d.type)) + ", " + std::to_string(d.channels) +
                  (d.channels == 1 ? " channel" : " channels") + " x" +
                  std::to_string(d.width_bits) + ", " + std::to_string(d.data_rate_mtps) +
                  " MT/s, CK " + std::to_string(d.ck_mhz) + " MHz (tCK " +
                  std::to_string(d.tck_ps) + " ps)");
  row("peak", num(d.peak_gbps()) + " GB/s (" + num(d.channels ? d.peak_gbps() / d.channels : 0) +
                  " GB/s per channel)");
  std::string bursts = "?";
  try {
    bursts = std::to_string(d.burst_clocks());
  } catch (const Error&) {
  }
  row("geometry", std::to_string(d.banks) + " banks per channel, " +
                      std::to_string(d.page_bytes) + " B page, interleave " +
                      std::to_string(d.interleave_bytes) + " B, burst " +
                      std::to_string(d.burst_bytes()) + " B in " + bursts + " CK");
  const DramTiming& t = d.timing;
  std::ostringstream t1, t2;
  t1 << "BL " << t.BL << "  CL " << t.CL << "  CWL " << t.CWL << "  tRCD " << t.tRCD << "  tRP "
     << t.tRP << "  tRAS " << t.tRAS << "  tRRD " << t.tRRD;
  t2 << "tFAW " << t.tFAW << "  tCCD " << t.tCCD << "  tRTP " << t.tRTP << "  tWR " << t.tWR
     << "  tWTR " << t.tWTR;
  row("timing (CK)", t1.str());
  row("", t2.str());
  if (t.tREFI_ns <= 0)
    row("refresh", std::string(to_string(d.refresh)) + ", disabled (tREFI 0)");
  else if (d.refresh == RefreshMode::AllBank)
    row("refresh", "all_bank: tRFC " + num(t.tRFC_ns) + " ns = " + std::to_string(d.tRFC_ck()) +
                       " CK every tREFI " + num(t.tREFI_ns) + " ns = " + std::to_string(d.tREFI_ck()) +
                       " CK");
  else
    row("refresh", "per_bank: tRFCpb " + num(t.tRFCpb_ns) + " ns = " + std::to_string(d.tRFCpb_ck()) +
                       " CK every tREFIpb " + num(t.tREFI_ns / kRefreshGroups) + " ns = " +
                       std::to_string(d.tREFIpb_ck()) + " CK, " + std::to_string(d.banks / kRefreshGroups) +
                       (d.banks / kRefreshGroups == 1 ? " bank" : " banks") + " each");
  os << "\n";

  row("DVFS", "point   volts      MHz  period_ps");
  for (int i = 0; i < kNumDomains; ++i) {
    const DomainConfig& dc = hw.domains[i];
    for (size_t p = 0; p < dc.points.size(); ++p) {
      const OperatingPoint& op = dc.points[p];
      std::ostringstream l;
      l << std::right << std::setw(5) << p << std::setw(8) << fixed(op.volts, 2) << std::setw(9)
        << num(op.mhz) << std::setw(11) << op.period_ps;
      if (p == dc.initial) l << "  <- initial";
      row(p == 0 ? std::string("  ") + to_string(static_cast<Domain>(i)) : "", l.str());
    }
    row("", "transition " + num(dc.transition_ns) + " ns (" + std::to_string(dc.transition_ps) +
                " ps), " + num(dc.transition_nj) + " nJ");
  }
  return os.str();
}

}  // namespace clonesim::hw
