// Technology files: strict parsing (lib/common/yaml_strict.h), the shipped
// files embedded in the library, and the SRAM macro table rule.  The schema
// and every figure's source are described in docs/energy-model.md.
#include "power_models/tech.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <system_error>
#include <utility>

#include <yaml-cpp/yaml.h>

#include "common/error.h"
#include "common/yaml_strict.h"
#include "power_models/embedded_tech.h"

namespace clonesim::power {

using namespace clonesim::yaml;

// ---------------------------------------------------------------------------
// SRAM tables: one rule for the area table and the two energy tables

namespace {

// One table point: a single-bank macro and the figure the table gives for it.
struct TablePoint {
  double kib = 0;
  uint32_t width_bits = 0;
  double value = 0;
};

std::vector<TablePoint> area_points(const AreaTech& t) {
  std::vector<TablePoint> p;
  for (const SramMacroPoint& m : t.sram_macros) p.push_back({m.kib, m.width_bits, m.area_mm2});
  return p;
}

std::vector<TablePoint> energy_points(const EnergyTech& e, bool write) {
  std::vector<TablePoint> p;
  for (const SramEnergyPoint& m : e.sram_macros)
    p.push_back({m.kib, m.width_bits, write ? m.write_pj : m.read_pj});
  return p;
}

// The table grouped by size: ln(kib) and the (ln width, ln value) points, by width.
struct SizeRow {
  double kib = 0;
  double ls = 0;
  std::vector<std::pair<double, double>> pts;
  std::vector<size_t> idx;  // the table points behind pts
};

std::vector<SizeRow> rows_of(const std::vector<TablePoint>& t) {
  std::vector<size_t> order(t.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const auto& x = t[a];
    const auto& y = t[b];
    return x.kib != y.kib ? x.kib < y.kib : x.width_bits < y.width_bits;
  });
  std::vector<SizeRow> rows;
  for (size_t i : order) {
    const TablePoint& m = t[i];
    if (rows.empty() || rows.back().kib != m.kib) {
      rows.push_back(SizeRow{});
      rows.back().kib = m.kib;
      rows.back().ls = std::log(m.kib);
    }
    rows.back().pts.emplace_back(std::log(double(m.width_bits)), std::log(m.value));
    rows.back().idx.push_back(i);
  }
  return rows;
}

double width_exponent(const std::vector<SizeRow>& rows) {
  double sum = 0;
  int n = 0;
  for (const SizeRow& r : rows)
    if (r.pts.size() >= 2) {
      sum += (r.pts.back().second - r.pts.front().second) /
             (r.pts.back().first - r.pts.front().first);
      ++n;
    }
  return n ? sum / n : 0.0;
}

// ln(value) of a row's macro at ln(width) lw.
double row_at(const SizeRow& r, double lw, double beta) {
  const auto& p = r.pts;
  if (lw <= p.front().first) return p.front().second + beta * (lw - p.front().first);
  if (lw >= p.back().first) return p.back().second + beta * (lw - p.back().first);
  for (size_t i = 0; i + 1 < p.size(); ++i)
    if (lw <= p[i + 1].first) {
      const double u = (lw - p[i].first) / (p[i + 1].first - p[i].first);
      return p[i].second + u * (p[i + 1].second - p[i].second);
    }
  return p.back().second;  // not reached
}

double log_value(const std::vector<SizeRow>& rows, double beta, double ls, double lw) {
  if (rows.size() == 1) return row_at(rows[0], lw, beta);  // a checked table has >= 2 sizes
  size_t k = 0;
  while (k + 2 < rows.size() && rows[k + 1].ls <= ls) ++k;
  const double u = (ls - rows[k].ls) / (rows[k + 1].ls - rows[k].ls);
  const double a0 = row_at(rows[k], lw, beta);
  const double a1 = row_at(rows[k + 1], lw, beta);
  return a0 + u * (a1 - a0);
}

// The table rule: exact at a table point, else log-log interpolation.
double table_value(const std::vector<TablePoint>& t, double bytes, uint32_t width_bits,
                   const char* who) {
  if (!(bytes > 0) || width_bits == 0 || t.empty())
    throw Error(std::string(who) +
                ": expected a macro of > 0 bytes and > 0 bits per word and a non-empty table");
  const double kib = bytes / 1024.0;
  for (const TablePoint& m : t)
    if (m.kib == kib && m.width_bits == width_bits) return m.value;
  const std::vector<SizeRow> rows = rows_of(t);
  const double beta = width_exponent(rows);
  return std::exp(log_value(rows, beta, std::log(kib), std::log(double(width_bits))));
}

}  // namespace

double sram_width_exponent(const AreaTech& t) { return width_exponent(rows_of(area_points(t))); }

double sram_macro_mm2(const AreaTech& t, double bytes, uint32_t width_bits, uint32_t ports) {
  const double factor = ports >= 2 ? t.sram_dual_port_factor.value : 1.0;
  return table_value(area_points(t), bytes, width_bits, "sram_macro_mm2") * factor;
}

double sram_access_pj(const Tech& t, double bytes, uint32_t width_bits, bool write) {
  return table_value(energy_points(t.energy, write), bytes, width_bits, "sram_access_pj");
}

double sram_energy_width_exponent(const Tech& t, bool write) {
  return width_exponent(rows_of(energy_points(t.energy, write)));
}

// ---------------------------------------------------------------------------
// DRAM, voltage scaling, V-f

const char* vec_op_name(int i) {
  static const char* const kNames[kNumVecOps] = {"alu", "mul", "lut", "sfu", "reduce"};
  return i >= 0 && i < kNumVecOps ? kNames[i] : "?";
}

const DramEnergy& dram_energy(const Tech& t, hw::DramType type) {
  return t.energy.dram.at(static_cast<size_t>(type));
}

double dram_act_pre_nj(const Tech& t, hw::DramType type, uint32_t page_bytes) {
  const DramEnergy& d = dram_energy(t, type);
  return d.act_pre_nj.value * double(page_bytes) / d.row_bytes.value;
}

double dram_refresh_nj(const Tech& t, hw::DramType type, bool per_bank) {
  const double ab = dram_energy(t, type).refresh_ab_nj.value;
  return per_bank ? ab / hw::kRefreshGroups : ab;
}

double dynamic_scale(const Tech& t, double volts) {
  const double r = volts / t.nominal_volts.value;
  return r * r;
}

double leakage_scale(const Tech& t, double volts) {
  const double vn = t.nominal_volts.value;
  return volts / vn * std::exp(t.leakage.k_per_volt.value * (volts - vn));
}

double leakage_mw(const Tech& t, double logic_mm2, double sram_kib, double volts) {
  const double nominal =
      logic_mm2 * t.leakage.logic_mw_per_mm2.value + sram_kib * t.leakage.sram_uw_per_kib.value / 1000.0;
  return nominal * leakage_scale(t, volts);
}

namespace {
// (V - Vt)^alpha / V, 0 at or below Vt.
double alpha_law(const VfTech& vf, double volts) {
  const double over = volts - vf.vt_volts.value;
  return over > 0 ? std::pow(over, vf.alpha.value) / volts : 0.0;
}
}  // namespace

double alpha_power_mhz(const Tech& t, double volts) {
  return t.vf.nominal_mhz.value * alpha_law(t.vf, volts) / alpha_law(t.vf, t.nominal_volts.value);
}

double transition_nj(const Tech& t, double v1, double v2, double decap_nf) {
  return decap_nf * std::fabs(v2 * v2 - v1 * v1) / t.vf.regulator_efficiency.value;
}

double transition_nj(const Tech& t, double v1, double v2) {
  return transition_nj(t, v1, v2, t.vf.decap_nf.value);
}

void check_operating_points(const hw::HwConfig& hw, const Tech& t) {
  const std::string src = hw.source.empty() ? hw.name : hw.source;
  for (int d = 0; d < hw::kNumDomains; ++d) {
    const hw::DomainConfig& dom = hw.domains[d];
    for (size_t i = 0; i < dom.points.size(); ++i) {
      const hw::OperatingPoint& p = dom.points[i];
      const std::string where = src + ": dvfs." + hw::to_string(static_cast<hw::Domain>(d)) +
                                ".operating_points[" + std::to_string(i) + "]: ";
      const std::string curve = t.name + "'s V-f curve";
      if (p.volts < t.vf.min_volts.value || p.volts > t.vf.max_volts.value)
        throw Error(one_line(where + "expected volts within " + num(t.vf.min_volts.value) + ".." +
                             num(t.vf.max_volts.value) + " V (the range of " + curve + "), got " +
                             num(p.volts) + " V"));
      const double fmax = alpha_power_mhz(t, p.volts);
      if (p.mhz > fmax)
        throw Error(one_line(where + "expected at most " + num(std::floor(fmax)) + " MHz at " +
                             num(p.volts) + " V (" + curve + ": " + num(t.vf.nominal_mhz.value) +
                             " MHz at " + num(t.nominal_volts.value) + " V, Vt " +
                             num(t.vf.vt_volts.value) + " V, alpha " + num(t.vf.alpha.value) +
                             "), got " + num(p.mhz) + " MHz"));
    }
  }
}

// ---------------------------------------------------------------------------
// Parsing

namespace {

constexpr std::uintmax_t kMaxFileBytes = uint64_t(4) << 20;  // a tech file is a few KB

const std::vector<std::string> kTopKeys = {"node", "area", "energy", "leakage", "vf"};
const std::vector<std::string> kLogicKeys = {
    "nand2_um2",      "mux2_um2",      "register_bit_um2", "int8_add_um2",   "int32_add_um2",
    "int8_mult_um2",  "int32_mult_um2", "mac_int8_um2",    "mac_int4x8_um2", "unit_control_ge"};
const std::vector<std::string> kFigureKeys = {"value", "source"};
const std::vector<std::string> kMacroKeys = {"kib", "width_bits", "area_mm2", "source"};
const std::vector<std::string> kEnergyKeys = {"logic", "vector", "sram", "dram", "envm"};
const std::vector<std::string> kEnergyLogicKeys = {
    "int8_add_pj",   "int32_add_pj",    "int8_mult_pj",   "int32_mult_pj", "mac_int8_pj",
    "mac_int4x8_pj", "register_bit_pj", "instruction_pj", "semaphore_pj"};
const std::vector<std::string> kVectorKeys = {"alu_pj", "mul_pj", "lut_pj", "sfu_pj", "reduce_pj"};
const std::vector<std::string> kEnergyMacroKeys = {"kib", "width_bits", "read_pj", "write_pj", "source"};
const std::vector<std::string> kDramTypeKeys = {"lpddr4", "lpddr4x", "lpddr5"};  // hw::DramType order
const std::vector<std::string> kDramKeys = {"read_pj_per_bit", "write_pj_per_bit", "act_pre_nj",
                                            "row_bytes",       "refresh_ab_nj",    "background_mw",
                                            "powerdown_mw"};
const std::vector<std::string> kLeakageKeys = {"logic_mw_per_mm2", "sram_uw_per_kib", "k_per_volt"};
const std::vector<std::string> kVfKeys = {"nominal_mhz", "vt_volts", "alpha", "min_volts", "max_volts",
                                          "transition"};
const std::vector<std::string> kTransitionKeys = {"decap_nf", "regulator_efficiency", "transition_ns"};

std::string figure_what() { return "a map with keys value, source"; }
std::string keys_what(const std::vector<std::string>& keys) { return "a map with keys " + join(keys); }

// "[M] ...", "[T] ...", "[S] ..." or "[R] ...": the tags of reference-28nm.md.
std::string read_source(const Ctx& c, const Field& f) {
  const std::string what =
      "a quoted source string starting with a tag [M], [T], [S] or [R] (e.g. \"[T] CACTI 7\")";
  if (!f.node.IsScalar()) c.expected(f, what);
  const std::string s = f.node.Scalar();
  const bool tagged = s.size() > 4 && s[0] == '[' && s[2] == ']' && s[3] == ' ' &&
                      std::string("MTSR").find(s[1]) != std::string::npos;
  if (!tagged || s.find_first_of("\n\r") != std::string::npos) c.expected(f, what);
  return s;
}

Figure read_figure(const Ctx& c, const MapView& parent, const std::string& key, const RealRule& r) {
  const Field& f = parent.need(key, figure_what());
  MapView m(c, f, kFigureKeys);
  Figure fig;
  const Field& vf = m.need("value", r.describe());
  fig.value = read_real(c, vf, r);
  fig.source = read_source(c, m.need("source", "a source string starting with [M], [T], [S] or [R]"));
  fig.line = vf.line;
  return fig;
}

// What a table holds, for the messages of check_table: "an area" in "mm2"
// "larger than", "a read energy" in "pJ" "to take more read energy than".
struct TableWords {
  std::string key;     // "area_mm2"
  std::string noun;    // "an area"
  std::string unit;    // "mm2"
  std::string larger;  // "to be larger than"
};

// The table must define the rule: two sizes, one size with two widths, and
// the value rising with width and with size everywhere the rule is evaluated.
// `items` are the table's list entries, parallel to `pts`.
void check_table(const Ctx& c, const Field& f, const std::vector<TablePoint>& pts,
                 const std::vector<Field>& items, const TableWords& w) {
  const std::vector<SizeRow> rows = rows_of(pts);
  if (rows.size() < 2) c.expected(f, "macros of at least two sizes (kib)", "one size");
  bool two_widths = false;
  for (const SizeRow& r : rows) two_widths = two_widths || r.pts.size() >= 2;
  if (!two_widths)
    c.expected(f, "at least one size with two or more widths (the width exponent is fitted from "
                  "them)",
               "one width per size");
  for (const SizeRow& r : rows)
    for (size_t k = 1; k < r.pts.size(); ++k)
      if (!(r.pts[k].second > r.pts[k - 1].second)) {
        const TablePoint& prev = pts[r.idx[k - 1]];
        const Field& it = items[r.idx[k]];
        c.fail(it.line, it.path + "." + w.key,
               "expected " + w.noun + " larger than the " + std::to_string(prev.width_bits) +
                   "-bit macro's of the same size (" + num(prev.value) + " " + w.unit + "), got " +
                   num(pts[r.idx[k]].value));
      }
  const double beta = width_exponent(rows);
  for (size_t k = 1; k < rows.size(); ++k) {
    // Between breakpoints the difference of two rows is linear in ln(width),
    // and constant beyond them (both extend with beta): the breakpoints decide.
    std::vector<std::pair<double, size_t>> ws;  // (ln width, point behind it)
    for (size_t j = 0; j < rows[k - 1].pts.size(); ++j)
      ws.emplace_back(rows[k - 1].pts[j].first, rows[k - 1].idx[j]);
    for (size_t j = 0; j < rows[k].pts.size(); ++j)
      ws.emplace_back(rows[k].pts[j].first, rows[k].idx[j]);
    for (const auto& wp : ws) {
      const double lo = row_at(rows[k - 1], wp.first, beta);
      const double hi = row_at(rows[k], wp.first, beta);
      if (!(hi > lo)) {
        const Field& it = items[rows[k].idx[0]];
        c.fail(it.line, it.path + "." + w.key,
               "expected the " + num(rows[k].kib) + " KiB macros " + w.larger + " the " +
                   num(rows[k - 1].kib) + " KiB ones at every width, got " + num(std::exp(hi)) +
                   " <= " + num(std::exp(lo)) + " " + w.unit + " at " +
                   std::to_string(pts[wp.second].width_bits) + " bits");
      }
    }
  }
}

// The list items of a table, each checked for a duplicate (kib, width_bits).
void check_duplicate(const Ctx& c, const std::vector<TablePoint>& pts, const std::vector<Field>& items) {
  const TablePoint& p = pts.back();
  const Field& it = items.back();
  for (size_t j = 0; j + 1 < pts.size(); ++j)
    if (pts[j].kib == p.kib && pts[j].width_bits == p.width_bits)
      c.fail(it.line, it.path,
             "expected each (kib, width_bits) once, got a duplicate of " + items[j].path + " (line " +
                 std::to_string(items[j].line) + ")");
}

const RealRule kKibRule{0, 1048576, true};

void read_macros(const Ctx& c, const Field& f, AreaTech& a) {
  const std::string list_what = "a non-empty list of macros {kib, width_bits, area_mm2, source}";
  if (!f.node.IsSequence() || f.node.size() == 0) c.expected(f, list_what);
  const RealRule area{0, 10000, true};
  std::vector<Field> items;
  std::vector<TablePoint> pts;
  size_t i = 0;
  for (const auto& n : f.node) {
    const Field it = item(f, i++, n);
    MapView m(c, it, kMacroKeys);
    SramMacroPoint p;
    p.kib = need_real(c, m, "kib", kKibRule);
    p.width_bits = need_int(c, m, "width_bits", range(1, 65536));
    p.area_mm2 = need_real(c, m, "area_mm2", area);
    p.source = read_source(c, m.need("source", "a source string starting with [M], [T], [S] or [R]"));
    p.line = it.line;
    a.sram_macros.push_back(p);
    items.push_back(it);
    pts.push_back({p.kib, p.width_bits, p.area_mm2});
    check_duplicate(c, pts, items);
  }
  check_table(c, f, pts, items, {"area_mm2", "an area", "mm2", "to be larger than"});
}

void read_energy_macros(const Ctx& c, const Field& f, EnergyTech& e) {
  const std::string list_what =
      "a non-empty list of macros {kib, width_bits, read_pj, write_pj, source}";
  if (!f.node.IsSequence() || f.node.size() == 0) c.expected(f, list_what);
  const RealRule pj{0, 1e6, true};
  std::vector<Field> items;
  std::vector<TablePoint> pts;
  size_t i = 0;
  for (const auto& n : f.node) {
    const Field it = item(f, i++, n);
    MapView m(c, it, kEnergyMacroKeys);
    SramEnergyPoint p;
    p.kib = need_real(c, m, "kib", kKibRule);
    p.width_bits = need_int(c, m, "width_bits", range(1, 65536));
    p.read_pj = need_real(c, m, "read_pj", pj);
    p.write_pj = need_real(c, m, "write_pj", pj);
    p.source = read_source(c, m.need("source", "a source string starting with [M], [T], [S] or [R]"));
    p.line = it.line;
    e.sram_macros.push_back(p);
    items.push_back(it);
    pts.push_back({p.kib, p.width_bits, p.read_pj});
    check_duplicate(c, pts, items);
  }
  check_table(c, f, energy_points(e, false), items,
              {"read_pj", "a read energy", "pJ", "to take more read energy than"});
  check_table(c, f, energy_points(e, true), items,
              {"write_pj", "a write energy", "pJ", "to take more write energy than"});
}

void read_energy(const Ctx& c, const Field& f, EnergyTech& e) {
  MapView en(c, f, kEnergyKeys);
  const RealRule pj{0, 1e6, true};
  {
    MapView lg(c, en.need("logic", keys_what(kEnergyLogicKeys)), kEnergyLogicKeys);
    e.int8_add_pj = read_figure(c, lg, "int8_add_pj", pj);
    e.int32_add_pj = read_figure(c, lg, "int32_add_pj", pj);
    e.int8_mult_pj = read_figure(c, lg, "int8_mult_pj", pj);
    e.int32_mult_pj = read_figure(c, lg, "int32_mult_pj", pj);
    e.mac_int8_pj = read_figure(c, lg, "mac_int8_pj", pj);
    e.mac_int4x8_pj = read_figure(c, lg, "mac_int4x8_pj", pj);
    e.register_bit_pj = read_figure(c, lg, "register_bit_pj", pj);
    e.instruction_pj = read_figure(c, lg, "instruction_pj", pj);
    e.semaphore_pj = read_figure(c, lg, "semaphore_pj", pj);
  }
  {
    MapView vx(c, en.need("vector", keys_what(kVectorKeys)), kVectorKeys);
    for (int i = 0; i < kNumVecOps; ++i) e.vector_pj[i] = read_figure(c, vx, kVectorKeys[i], pj);
  }
  {
    MapView sr(c, en.need("sram", "a map with key macros"), {"macros"});
    read_energy_macros(
        c, sr.need("macros", "a non-empty list of macros {kib, width_bits, read_pj, write_pj, source}"), e);
  }
  {
    MapView dr(c, en.need("dram", keys_what(kDramTypeKeys)), kDramTypeKeys);
    for (size_t i = 0; i < kDramTypeKeys.size(); ++i) {
      MapView d(c, dr.need(kDramTypeKeys[i], keys_what(kDramKeys)), kDramKeys);
      DramEnergy& x = e.dram[i];
      x.read_pj_per_bit = read_figure(c, d, "read_pj_per_bit", RealRule{0, 1000, true});
      x.write_pj_per_bit = read_figure(c, d, "write_pj_per_bit", RealRule{0, 1000, true});
      x.act_pre_nj = read_figure(c, d, "act_pre_nj", RealRule{0, 1e4, true});
      x.row_bytes = read_figure(c, d, "row_bytes", RealRule{0, 1 << 20, true});
      x.refresh_ab_nj = read_figure(c, d, "refresh_ab_nj", RealRule{0, 1e6, true});
      x.background_mw = read_figure(c, d, "background_mw", RealRule{0, 1e5, true});
      x.powerdown_mw = read_figure(c, d, "powerdown_mw", RealRule{0, 1e5, true});
    }
  }
  {
    MapView nv(c, en.need("envm", "a map with key read_pj_per_bit"), {"read_pj_per_bit"});
    e.envm_read_pj_per_bit = read_figure(c, nv, "read_pj_per_bit", RealRule{0, 1000, true});
  }
}

void read_leakage(const Ctx& c, const Field& f, LeakageTech& l) {
  MapView m(c, f, kLeakageKeys);
  l.logic_mw_per_mm2 = read_figure(c, m, "logic_mw_per_mm2", RealRule{0, 1e5, true});
  l.sram_uw_per_kib = read_figure(c, m, "sram_uw_per_kib", RealRule{0, 1e5, true});
  l.k_per_volt = read_figure(c, m, "k_per_volt", RealRule{0, 100, true});
}

void read_vf(const Ctx& c, const Field& f, const Figure& nominal_volts, VfTech& v) {
  MapView m(c, f, kVfKeys);
  const RealRule volts{0, 5, true};
  v.nominal_mhz = read_figure(c, m, "nominal_mhz", RealRule{0, 1e5, true});
  v.vt_volts = read_figure(c, m, "vt_volts", volts);
  v.alpha = read_figure(c, m, "alpha", RealRule{1, 2, false});
  v.min_volts = read_figure(c, m, "min_volts", volts);
  v.max_volts = read_figure(c, m, "max_volts", volts);
  // The curve must be defined (V > Vt) over its whole range, which holds the nominal supply.
  const Field& vt = m.need("vt_volts", "");
  if (!(v.vt_volts.value < nominal_volts.value))
    c.fail(v.vt_volts.line, vt.path + ".value",
           "expected a threshold below node.nominal_volts (" + num(nominal_volts.value) + " V), got " +
               num(v.vt_volts.value));
  const Field& lo = m.need("min_volts", "");
  if (!(v.min_volts.value > v.vt_volts.value && v.min_volts.value <= nominal_volts.value))
    c.fail(v.min_volts.line, lo.path + ".value",
           "expected a voltage above vt_volts (" + num(v.vt_volts.value) +
               " V) and at most node.nominal_volts (" + num(nominal_volts.value) + " V), got " +
               num(v.min_volts.value));
  const Field& hi = m.need("max_volts", "");
  if (!(v.max_volts.value >= nominal_volts.value))
    c.fail(v.max_volts.line, hi.path + ".value",
           "expected a voltage at least node.nominal_volts (" + num(nominal_volts.value) + " V), got " +
               num(v.max_volts.value));
  MapView tr(c, m.need("transition", keys_what(kTransitionKeys)), kTransitionKeys);
  v.decap_nf = read_figure(c, tr, "decap_nf", RealRule{0, 1e6, true});
  v.regulator_efficiency = read_figure(c, tr, "regulator_efficiency", RealRule{0, 1, true});
  v.transition_ns = read_figure(c, tr, "transition_ns", RealRule{0, 1e9, true});
}

Tech read_root(const Ctx& c, const YAML::Node& root) {
  Tech t;
  const Field rf{root, "", line_of(root, 1), 0};
  if (!root.IsMap()) c.expected(rf, "a technology file (a map with keys " + join(kTopKeys) + ")");
  MapView m(c, rf, kTopKeys);

  {
    const std::vector<std::string> keys = {"name", "nm", "nominal_volts"};
    MapView node(c, m.need("node", keys_what(keys)), keys);
    t.name = read_name(c, node.need("name", "a non-empty one-line string"));
    t.nm = need_int(c, node, "nm", range(1, 1000));
    t.nominal_volts = read_figure(c, node, "nominal_volts", RealRule{0, 5, true});
  }

  MapView area(c, m.need("area", "a map with keys logic, sram"), {"logic", "sram"});
  AreaTech& a = t.area;
  {
    MapView lg(c, area.need("logic", "a map with keys " + join(kLogicKeys)), kLogicKeys);
    const RealRule um2{0, 1e7, true}, ge{0, 1e7, true};
    a.nand2_um2 = read_figure(c, lg, "nand2_um2", um2);
    a.mux2_um2 = read_figure(c, lg, "mux2_um2", um2);
    a.register_bit_um2 = read_figure(c, lg, "register_bit_um2", um2);
    a.int8_add_um2 = read_figure(c, lg, "int8_add_um2", um2);
    a.int32_add_um2 = read_figure(c, lg, "int32_add_um2", um2);
    a.int8_mult_um2 = read_figure(c, lg, "int8_mult_um2", um2);
    a.int32_mult_um2 = read_figure(c, lg, "int32_mult_um2", um2);
    a.mac_int8_um2 = read_figure(c, lg, "mac_int8_um2", um2);
    a.mac_int4x8_um2 = read_figure(c, lg, "mac_int4x8_um2", um2);
    a.unit_control_ge = read_figure(c, lg, "unit_control_ge", ge);
  }
  {
    MapView sr(c, area.need("sram", "a map with keys dual_port_factor, macros"),
               {"dual_port_factor", "macros"});
    a.sram_dual_port_factor = read_figure(c, sr, "dual_port_factor", RealRule{1, 4, false});
    read_macros(c, sr.need("macros", "a non-empty list of macros {kib, width_bits, area_mm2, source}"),
                a);
  }
  read_energy(c, m.need("energy", keys_what(kEnergyKeys)), t.energy);
  read_leakage(c, m.need("leakage", keys_what(kLeakageKeys)), t.leakage);
  read_vf(c, m.need("vf", keys_what(kVfKeys)), t.nominal_volts, t.vf);
  return t;
}

}  // namespace

Tech parse_tech(const std::string& yaml_text, const std::string& source_name) {
  const Ctx c(source_name);
  const YAML::Node root = load_one_document(
      c, yaml_text, "a technology file (a map with keys " + join(kTopKeys) + ")");
  try {
    Tech t = read_root(c, root);
    t.source = source_name;
    return t;
  } catch (const Error&) {
    throw;
  } catch (const YAML::Exception& e) {
    // Not expected: every access above is checked.  Still one line, never a crash.
    c.fail(e.mark.line >= 0 ? e.mark.line + 1 : 0, "", "unreadable technology file: " + e.msg);
  }
}

Tech load_tech(const std::string& path) {
  const Ctx c(path);
  return parse_tech(read_text_file(c, path, "technology file", kMaxFileBytes), path);
}

std::vector<std::string> shipped_tech_names() {
  std::vector<std::string> names;
  for (size_t i = 0; i < detail::kNumEmbeddedTech; ++i) names.emplace_back(detail::kEmbeddedTech[i].name);
  std::sort(names.begin(), names.end());
  return names;
}

std::string default_tech_name(uint32_t nm) { return "tech-" + std::to_string(nm) + "nm"; }

Tech load_tech_or_named(const std::string& path_or_name) {
  std::error_code ec;
  if (std::filesystem::is_regular_file(path_or_name, ec)) return load_tech(path_or_name);
  std::string name = path_or_name;
  const std::string ext = ".yaml";
  if (name.size() > ext.size() && name.compare(name.size() - ext.size(), ext.size(), ext) == 0)
    name.resize(name.size() - ext.size());
  for (size_t i = 0; i < detail::kNumEmbeddedTech; ++i)
    if (name == detail::kEmbeddedTech[i].name)
      return parse_tech(detail::kEmbeddedTech[i].text, "power_models/tech/" + name + ".yaml");
  throw Error(one_line("unknown technology '" + path_or_name + "': not a file, and not one of " +
                       join(shipped_tech_names())));
}

}  // namespace clonesim::power
