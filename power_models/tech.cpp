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
// SRAM macro table

namespace {

// The table grouped by size: ln(kib) and the (ln width, ln area) points, by width.
struct SizeRow {
  double kib = 0;
  double ls = 0;
  std::vector<std::pair<double, double>> pts;
  std::vector<size_t> idx;  // the macros behind pts (index into sram_macros)
};

std::vector<SizeRow> rows_of(const AreaTech& t) {
  std::vector<size_t> order(t.sram_macros.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const auto& x = t.sram_macros[a];
    const auto& y = t.sram_macros[b];
    return x.kib != y.kib ? x.kib < y.kib : x.width_bits < y.width_bits;
  });
  std::vector<SizeRow> rows;
  for (size_t i : order) {
    const SramMacroPoint& m = t.sram_macros[i];
    if (rows.empty() || rows.back().kib != m.kib) {
      rows.push_back(SizeRow{});
      rows.back().kib = m.kib;
      rows.back().ls = std::log(m.kib);
    }
    rows.back().pts.emplace_back(std::log(double(m.width_bits)), std::log(m.area_mm2));
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

// ln(area) of a row's macro at ln(width) lw.
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

double log_area(const std::vector<SizeRow>& rows, double beta, double ls, double lw) {
  if (rows.size() == 1) return row_at(rows[0], lw, beta);  // a checked table has >= 2 sizes
  size_t k = 0;
  while (k + 2 < rows.size() && rows[k + 1].ls <= ls) ++k;
  const double u = (ls - rows[k].ls) / (rows[k + 1].ls - rows[k].ls);
  const double a0 = row_at(rows[k], lw, beta);
  const double a1 = row_at(rows[k + 1], lw, beta);
  return a0 + u * (a1 - a0);
}

}  // namespace

double sram_width_exponent(const AreaTech& t) { return width_exponent(rows_of(t)); }

double sram_macro_mm2(const AreaTech& t, double bytes, uint32_t width_bits, uint32_t ports) {
  if (!(bytes > 0) || width_bits == 0 || t.sram_macros.empty())
    throw Error("sram_macro_mm2: expected a macro of > 0 bytes and > 0 bits per word and a "
                "non-empty table");
  const double factor = ports >= 2 ? t.sram_dual_port_factor.value : 1.0;
  const double kib = bytes / 1024.0;
  for (const SramMacroPoint& m : t.sram_macros)
    if (m.kib == kib && m.width_bits == width_bits) return m.area_mm2 * factor;
  const std::vector<SizeRow> rows = rows_of(t);
  const double beta = width_exponent(rows);
  return std::exp(log_area(rows, beta, std::log(kib), std::log(double(width_bits)))) * factor;
}

// ---------------------------------------------------------------------------
// Parsing

namespace {

constexpr std::uintmax_t kMaxFileBytes = uint64_t(4) << 20;  // a tech file is a few KB

const std::vector<std::string> kTopKeys = {"node", "area"};
const std::vector<std::string> kLogicKeys = {
    "nand2_um2",      "mux2_um2",      "register_bit_um2", "int8_add_um2",   "int32_add_um2",
    "int8_mult_um2",  "int32_mult_um2", "mac_int8_um2",    "mac_int4x8_um2", "unit_control_ge"};
const std::vector<std::string> kFigureKeys = {"value", "source"};
const std::vector<std::string> kMacroKeys = {"kib", "width_bits", "area_mm2", "source"};

std::string figure_what() { return "a map with keys value, source"; }

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

void read_macros(const Ctx& c, const Field& f, AreaTech& a) {
  const std::string list_what = "a non-empty list of macros {kib, width_bits, area_mm2, source}";
  if (!f.node.IsSequence() || f.node.size() == 0) c.expected(f, list_what);
  const RealRule kib{0, 1048576, true}, area{0, 10000, true};
  std::vector<Field> items;
  size_t i = 0;
  for (const auto& n : f.node) {
    const Field it = item(f, i++, n);
    MapView m(c, it, kMacroKeys);
    SramMacroPoint p;
    p.kib = need_real(c, m, "kib", kib);
    p.width_bits = need_int(c, m, "width_bits", range(1, 65536));
    p.area_mm2 = need_real(c, m, "area_mm2", area);
    p.source = read_source(c, m.need("source", "a source string starting with [M], [T], [S] or [R]"));
    p.line = it.line;
    for (size_t j = 0; j < a.sram_macros.size(); ++j)
      if (a.sram_macros[j].kib == p.kib && a.sram_macros[j].width_bits == p.width_bits)
        c.fail(it.line, it.path,
               "expected each (kib, width_bits) once, got a duplicate of " + items[j].path +
                   " (line " + std::to_string(items[j].line) + ")");
    a.sram_macros.push_back(p);
    items.push_back(it);
  }

  // The table must define the rule: two sizes, one size with two widths, and
  // area rising with width and with size everywhere the rule is evaluated.
  const std::vector<SizeRow> rows = rows_of(a);
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
        const SramMacroPoint& prev = a.sram_macros[r.idx[k - 1]];
        const Field& it = items[r.idx[k]];
        c.fail(it.line, it.path + ".area_mm2",
               "expected an area larger than the " + std::to_string(prev.width_bits) +
                   "-bit macro's of the same size (" + num(prev.area_mm2) + " mm2), got " +
                   num(a.sram_macros[r.idx[k]].area_mm2));
      }
  const double beta = width_exponent(rows);
  for (size_t k = 1; k < rows.size(); ++k) {
    // Between breakpoints the difference of two rows is linear in ln(width),
    // and constant beyond them (both extend with beta): the breakpoints decide.
    std::vector<std::pair<double, size_t>> ws;  // (ln width, macro behind it)
    for (size_t j = 0; j < rows[k - 1].pts.size(); ++j)
      ws.emplace_back(rows[k - 1].pts[j].first, rows[k - 1].idx[j]);
    for (size_t j = 0; j < rows[k].pts.size(); ++j)
      ws.emplace_back(rows[k].pts[j].first, rows[k].idx[j]);
    for (const auto& w : ws) {
      const double lo = row_at(rows[k - 1], w.first, beta);
      const double hi = row_at(rows[k], w.first, beta);
      if (!(hi > lo)) {
        const Field& it = items[rows[k].idx[0]];
        c.fail(it.line, it.path + ".area_mm2",
               "expected the " + num(rows[k].kib) + " KiB macros to be larger than the " +
                   num(rows[k - 1].kib) + " KiB ones at every width, got " + num(std::exp(hi)) +
                   " <= " + num(std::exp(lo)) + " mm2 at " +
                   std::to_string(a.sram_macros[w.second].width_bits) + " bits");
      }
    }
  }
}

Tech read_root(const Ctx& c, const YAML::Node& root) {
  Tech t;
  const Field rf{root, "", line_of(root, 1), 0};
  if (!root.IsMap()) c.expected(rf, "a technology file (a map with keys " + join(kTopKeys) + ")");
  MapView m(c, rf, kTopKeys);

  {
    MapView node(c, m.need("node", "a map with keys name, nm"), {"name", "nm"});
    t.name = read_name(c, node.need("name", "a non-empty one-line string"));
    t.nm = need_int(c, node, "nm", range(1, 1000));
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
