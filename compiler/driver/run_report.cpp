#include "driver/run_report.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "common/error.h"
#include "common/file_io.h"
#include "common/strf.h"
#include "driver/run_job.h"

namespace clonesim::compiler {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

const json& need(const json& j, const std::string& key, const std::string& source, const std::string& where = "") {
  if (!j.is_object() || !j.contains(key))
    throw Error(source + ": no key " + where + key + " (a run JSON of clonesim run, with energy)");
  return j.at(key);
}

double num(const json& j, const std::string& key, const std::string& source, const std::string& where = "") {
  const json& v = need(j, key, source, where);
  if (!v.is_number()) throw Error(source + ": " + where + key + ": expected a number");
  return v.get<double>();
}

std::string text(const json& j, const std::string& key, const std::string& source, const std::string& where = "") {
  const json& v = need(j, key, source, where);
  if (!v.is_string()) throw Error(source + ": " + where + key + ": expected a string");
  return v.get<std::string>();
}

const json& list(const json& j, const std::string& key, const std::string& source, const std::string& where = "") {
  const json& v = need(j, key, source, where);
  if (!v.is_array()) throw Error(source + ": " + where + key + ": expected an array");
  return v;
}

// Element k of the array `a` (named `what`), a number.
double item(const json& a, size_t k, const std::string& source, const std::string& what) {
  if (!a[k].is_number()) throw Error(source + ": " + what + strf("[%zu]: expected a number", k));
  return a[k].get<double>();
}

// The keys run_summary prints, checked so that a JSON without one is a line, not a crash.
void check_summary(const json& run, const std::string& source) {
  text(need(run, "model", source), "name", source, "model.");
  for (const char* k : {"design_point", "mode"}) text(run, k, source);
  for (const char* k : {"prompt", "gen", "ttft_s", "tpot_s", "decode_tokens_per_s", "decode_dram_roofline",
                        "tokens_per_s", "cycles", "instructions", "mxu_util", "vxu_util", "dma_util", "dram_bytes",
                        "dram_bw_gbps", "dram_bw_util", "sram_read_bytes", "sram_write_bytes", "prefill_energy_j",
                        "energy_per_token_j", "avg_power_w", "tops_per_w", "area_mm2"})
    num(run, k, source);
}

// The series of the power samples, in the order of power.csv's columns.
constexpr std::array<const char*, 5> kSeries = {"compute", "memory", "always_on", "dram", "total"};

// A region of a program (the embedding, a layer, the LM head).
struct RegionRow {
  std::string name;
  double time_s = 0, energy_j = 0, dynamic_j = 0, leakage_j = 0, dram_j = 0, avg_power_w = 0;
};

// The domains of the DVFS changes, in the order of the power series.
const std::array<const char*, hw::kNumDomains> kDomains = {
    hw::to_string(hw::Domain::Compute), hw::to_string(hw::Domain::Memory), hw::to_string(hw::Domain::AlwaysOn)};

// A DVFS change of a program: its domain (index in kDomains) to operating
// point `point` of that domain, the transition from start_s to end_s (the
// program's time), by a dvfs instruction or the governor; the point's MHz
// and volts when the run JSON has them (runs of an older clonesim: not).
struct DvfsRow {
  size_t domain = 0;
  unsigned long long point = 0;
  double start_s = 0, end_s = 0, mhz = 0, volts = 0;
  bool has_point = false;  // mhz and volts known
  std::string by;
};

// A program of the run (the prefill or a decode step), checked.
struct Program {
  std::string phase, position;  // no position: ""
  double start_s = 0, time_s = 0, energy_j = 0, mxu_util = 0;
  unsigned long long cycles = 0;
  bool has_regions = false, has_power = false;
  std::vector<RegionRow> regions;
  std::vector<DvfsRow> dvfs;
};

// The power samples of the whole run on one timeline.
struct PowerTrace {
  double interval_s = 0;
  std::vector<double> t_s, dt_s;  // run time of each sample and its length
  std::vector<size_t> program;    // index in phases[]
  std::array<std::vector<double>, kSeries.size()> watts;
};

Program read_program(const json& p, size_t i, double start_s, const std::string& source) {
  const std::string w = strf("phases[%zu].", i);
  Program r;
  r.start_s = start_s;
  r.time_s = num(p, "time_s", source, w);
  r.cycles = (unsigned long long)num(p, "cycles", source, w);
  r.mxu_util = num(p, "mxu_util", source, w);
  r.energy_j = num(need(p, "energy", source, w), "energy_j", source, w + "energy.");
  r.phase = text(p, "phase", source, w);
  if (p.contains("position")) r.position = strf("%lld", (long long)num(p, "position", source, w));
  r.has_regions = p.contains("regions");
  if (r.has_regions) {
    const json& rs = list(p, "regions", source, w);
    for (size_t k = 0; k < rs.size(); ++k) {
      const std::string wr = w + strf("regions[%zu].", k);
      RegionRow g;
      g.name = text(rs[k], "name", source, wr);
      g.time_s = num(rs[k], "time_s", source, wr);
      g.energy_j = num(rs[k], "energy_j", source, wr);
      g.dynamic_j = num(rs[k], "dynamic_j", source, wr);
      g.leakage_j = num(rs[k], "leakage_j", source, wr);
      g.dram_j = num(rs[k], "dram_j", source, wr);
      g.avg_power_w = num(rs[k], "avg_power_w", source, wr);
      r.regions.push_back(g);
    }
  }
  r.has_power = p.contains("power") && !p["power"].is_null();
  if (p.contains("dvfs_changes")) {
    const json& cs = list(p, "dvfs_changes", source, w);
    for (size_t k = 0; k < cs.size(); ++k) {
      const std::string wc = w + strf("dvfs_changes[%zu].", k);
      DvfsRow c;
      const std::string d = text(cs[k], "domain", source, wc);
      c.domain = size_t(std::find(kDomains.begin(), kDomains.end(), d) - kDomains.begin());
      if (c.domain == kDomains.size())
        throw Error(source + ": " + wc + "domain: \"" + d + "\", expected compute, memory or always_on");
      const double q = num(cs[k], "point", source, wc);
      if (q < 0 || q != std::floor(q) || q > 1e9)
        throw Error(source + ": " + wc + strf("point: %.9g, expected an operating point's index (0, 1, ...)", q));
      c.point = (unsigned long long)q;
      c.start_s = num(cs[k], "start_s", source, wc);
      c.end_s = num(cs[k], "end_s", source, wc);
      // a transition starts within its program; it may outlast it (a domain
      // settling after its last instruction)
      if (c.start_s < 0 || c.start_s > r.time_s)
        throw Error(source + ": " + wc +
                    strf("start_s: %.9g s, not within the program's time (%.9g s)", c.start_s, r.time_s));
      if (c.end_s < c.start_s)
        throw Error(source + ": " + wc + strf("end_s: %.9g s, before start_s (%.9g s)", c.end_s, c.start_s));
      c.by = text(cs[k], "by", source, wc);
      if (c.by != "instruction" && c.by != "governor")
        throw Error(source + ": " + wc + "by: \"" + c.by + "\", expected instruction or governor");
      c.has_point = cs[k].contains("mhz") || cs[k].contains("volts");
      if (c.has_point) {
        c.mhz = num(cs[k], "mhz", source, wc);
        c.volts = num(cs[k], "volts", source, wc);
      }
      r.dvfs.push_back(c);
    }
  }
  return r;
}

// "compute -> 400 MHz", "memory -> point 2" (no MHz in the run JSON).
std::string dvfs_label(const DvfsRow& c) {
  return std::string(kDomains[c.domain]) + " -> " +
         (c.has_point ? strf("%.0f MHz", c.mhz) : strf("point %llu", c.point));
}

// Appends program i's power samples to `tr`: a sample lasts to the next one,
// the last to the end of the program.
void read_power(const json& p, size_t i, const Program& prog, const std::string& source, PowerTrace& tr) {
  const std::string w = strf("phases[%zu].power.", i);
  const json& pw = need(p, "power", source, strf("phases[%zu].", i));
  tr.interval_s = num(pw, "interval_s", source, w);
  const json& ts = list(pw, "t_s", source, w);
  const json& watts = need(pw, "watts", source, w);
  std::array<const json*, kSeries.size()> series;
  for (size_t s = 0; s < kSeries.size(); ++s) {
    series[s] = &list(watts, kSeries[s], source, w + "watts.");
    if (series[s]->size() != ts.size())
      throw Error(source + ": " + w + "watts." + kSeries[s] +
                  strf(": %zu values for %zu samples (t_s)", series[s]->size(), ts.size()));
  }
  for (size_t k = 0; k < ts.size(); ++k) {
    const double t = item(ts, k, source, w + "t_s");
    const double end = k + 1 < ts.size() ? item(ts, k + 1, source, w + "t_s") : prog.time_s;
    if (t < 0 || end < t)
      throw Error(source + ": " + w +
                  strf("t_s[%zu]: %.9g s, not within the program's time (%.9g s) in order", k, t, prog.time_s));
    tr.t_s.push_back(prog.start_s + t);
    tr.dt_s.push_back(end - t);
    tr.program.push_back(i);
    for (size_t s = 0; s < kSeries.size(); ++s)
      tr.watts[s].push_back(item(*series[s], k, source, w + "watts." + kSeries[s]));
  }
}

// At most `most` samples: runs of consecutive samples averaged, each run
// keeping its energy (its power the energy over its length).
PowerTrace downsample(const PowerTrace& p, size_t most) {
  const size_t n = p.t_s.size(), k = (n + most - 1) / most;
  if (k <= 1) return p;
  PowerTrace o;
  o.interval_s = p.interval_s;
  for (size_t a = 0; a < n; a += k) {
    const size_t b = std::min(n, a + k);
    double len = 0;
    for (size_t i = a; i < b; ++i) len += p.dt_s[i];
    o.t_s.push_back(p.t_s[a]);
    o.dt_s.push_back(len);
    o.program.push_back(p.program[a]);
    for (size_t s = 0; s < kSeries.size(); ++s) {
      double e = 0;
      for (size_t i = a; i < b; ++i) e += p.watts[s][i] * (len > 0 ? p.dt_s[i] : 1.0);
      o.watts[s].push_back(e / (len > 0 ? len : double(b - a)));
    }
  }
  return o;
}

// The regions of the programs of one phase, averaged by name over those
// programs (in the order the names first appear), and the programs' average
// time and energy.
struct LayerTable {
  std::string phase, first_position, last_position;
  size_t programs = 0;
  double time_s = 0, energy_j = 0;
  std::vector<RegionRow> rows;
};

LayerTable layer_table(const std::vector<Program>& progs, const std::string& phase) {
  LayerTable t;
  t.phase = phase;
  std::vector<size_t> count;
  for (const Program& p : progs) {
    if (p.phase != phase) continue;
    if (!t.programs++) t.first_position = p.position;
    t.last_position = p.position;
    t.time_s += p.time_s;
    t.energy_j += p.energy_j;
    for (const RegionRow& g : p.regions) {
      size_t k = 0;
      while (k < t.rows.size() && t.rows[k].name != g.name) ++k;
      if (k == t.rows.size()) {
        t.rows.push_back(RegionRow{g.name});
        count.push_back(0);
      }
      RegionRow& r = t.rows[k];
      r.time_s += g.time_s;
      r.energy_j += g.energy_j;
      r.dynamic_j += g.dynamic_j;
      r.leakage_j += g.leakage_j;
      r.dram_j += g.dram_j;
      ++count[k];
    }
  }
  if (t.programs) {
    t.time_s /= double(t.programs);
    t.energy_j /= double(t.programs);
  }
  for (size_t k = 0; k < t.rows.size(); ++k) {
    RegionRow& r = t.rows[k];
    for (double* v : {&r.time_s, &r.energy_j, &r.dynamic_j, &r.leakage_j, &r.dram_j}) *v /= double(count[k]);
    r.avg_power_w = r.time_s > 0 ? r.energy_j / r.time_s : 0.0;
  }
  return t;
}

// "prefill", "decode step at position 16", "decode, the average of 3 steps
// (positions 16..18)".
std::string layer_table_name(const LayerTable& t) {
  if (t.programs > 1)
    return strf("%s, the average of %zu steps", t.phase.c_str(), t.programs) +
           (t.first_position.empty() ? "" : " (positions " + t.first_position + ".." + t.last_position + ")");
  return t.phase + (t.first_position.empty() ? "" : " step at position " + t.first_position);
}

// report.txt's DVFS tables: per program with changes, the changes to each
// operating point of each domain and the time in their transitions;
// consecutive programs of a phase without changes one line.
std::string dvfs_tables(const std::vector<Program>& progs) {
  std::string o;
  for (size_t i = 0; i < progs.size();) {
    const Program& g = progs[i];
    if (g.dvfs.empty()) {
      size_t j = i + 1;
      while (j < progs.size() && progs[j].dvfs.empty() && progs[j].phase == g.phase) ++j;
      const Program& last = progs[j - 1];
      std::string name;
      if (j - i == 1) name = g.phase + (g.position.empty() ? "" : " step at position " + g.position);
      else if (!g.position.empty() && !last.position.empty())
        name = g.phase + " steps at positions " + g.position + ".." + last.position;
      else name = strf("%s, phases[%zu..%zu]", g.phase.c_str(), i, j - 1);
      o += "\nDVFS changes, " + name + ": none\n";
      i = j;
      continue;
    }
    o += "\nDVFS changes, " + g.phase + (g.position.empty() ? "" : " step at position " + g.position) +
         ": the changes to each point, the time in transitions\n";
    o += strf("  %-10s %6s %8s %7s %8s %14s\n", "domain", "point", "MHz", "V", "changes", "transition us");
    struct Cell {
      size_t n = 0;
      double time_s = 0;
      const DvfsRow* first = nullptr;
    };
    std::map<std::pair<size_t, unsigned long long>, Cell> cells;  // (domain, point): ordered as kDomains
    double total_s = 0;
    for (const DvfsRow& c : g.dvfs) {
      Cell& x = cells[{c.domain, c.point}];
      ++x.n;
      x.time_s += c.end_s - c.start_s;
      if (!x.first) x.first = &c;
      total_s += c.end_s - c.start_s;
    }
    for (const auto& [key, x] : cells) {
      const DvfsRow& c = *x.first;
      o += strf("  %-10s %6llu %8s %7s %8zu %14.3f\n", kDomains[key.first], key.second,
                c.has_point ? strf("%.0f", c.mhz).c_str() : "-", c.has_point ? strf("%.2f", c.volts).c_str() : "-", x.n,
                x.time_s * 1e6);
    }
    o += strf("  %-10s %6s %8s %7s %8zu %14.3f\n", "all", "", "", "", g.dvfs.size(), total_s * 1e6);
    ++i;
  }
  return o;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string o = "\"";
  for (char c : s) o += c == '"' ? std::string("\"\"") : std::string(1, c);
  return o + "\"";
}

std::string xml_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '<') o += "&lt;";
    else if (c == '>') o += "&gt;";
    else if (c == '&') o += "&amp;";
    else if (c == '"') o += "&quot;";
    else o += c;
  }
  return o;
}

// One chart of an SVG file: its size and its elements, drawn from (0, 0).
struct Panel {
  int w = 0, h = 0;
  std::string body;
};

// An SVG file of `panels`, one above the other.
std::string svg_doc(const std::vector<Panel>& panels) {
  int W = 0, H = 0;
  for (const Panel& p : panels) {
    W = std::max(W, p.w);
    H += p.h;
  }
  std::string o = strf("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" "
                       "font-size=\"12\">\n",
                       W, H);
  int y = 0;
  for (const Panel& p : panels) {
    o += strf("<g transform=\"translate(0,%d)\">\n", y) + p.body + "</g>\n";
    y += p.h;
  }
  return o + "</svg>\n";
}

std::string chart_title(const std::string& title) {
  return strf("<text x=\"10\" y=\"22\" font-size=\"15\">%s</text>\n", xml_escape(title).c_str());
}

// A straight line of a chart (an axis, a tick, a mark).
std::string line(double x1, double y1, double x2, double y2, const char* stroke = "#333", double width = 1) {
  return strf("<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"%s\" stroke-width=\"%g\"/>\n", x1, y1, x2,
              y2, stroke, width);
}

// A bar of a chart, its value in its tooltip.
std::string bar(double x, double y, double w, double h, const std::string& label, double v, const std::string& unit) {
  return strf("<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"#4878a8\">"
              "<title>%s: %.6g %s</title></rect>\n",
              x, y, w, h, xml_escape(label).c_str(), v, unit.c_str());
}

// Round steps (1, 2 or 5 x 10^k) from 0 to the first at or past `hi`, about
// `n` of them.
std::vector<double> ticks(double hi, int n = 5) {
  if (!(hi > 0)) hi = 1;
  const double raw = hi / n, mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = 10 * mag;
  for (double m : {1.0, 2.0, 5.0})
    if (m * mag >= raw * (1 - 1e-9)) {
      step = m * mag;
      break;
    }
  std::vector<double> t{0.0};
  while (t.back() < hi * (1 - 1e-9)) t.push_back(step * double(t.size()));
  return t;
}

// The plot area of a chart: x pixels x0..x1 for the values 0..xmax, y pixels
// y0 (the bottom) up to y1 for 0..ymax.
struct Frame {
  double x0, x1, y0, y1, xmax, ymax;
  double x(double v) const { return x0 + (x1 - x0) * (xmax > 0 ? v / xmax : 0.0); }
  double y(double v) const { return y0 - (y0 - y1) * (ymax > 0 ? v / ymax : 0.0); }
};

// The value axis on the left of `f`: its line, a tick and a number at each
// of `tk` (up to ymax), and `label` along it.
std::string y_axis(const Frame& f, const std::vector<double>& tk, const std::string& label) {
  std::string o = line(f.x0, f.y0, f.x0, f.y1);
  for (double v : tk) {
    if (v > f.ymax * (1 + 1e-9)) break;
    o += line(f.x0 - 4, f.y(v), f.x0, f.y(v));
    o += strf("<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"end\">%g</text>\n", f.x0 - 6, f.y(v) + 4, v);
  }
  o += strf("<text transform=\"translate(%.2f,%.2f) rotate(-90)\" text-anchor=\"middle\">%s</text>\n", f.x0 - 48,
            (f.y0 + f.y1) / 2, xml_escape(label).c_str());
  return o;
}

// The time axis under `f`, as y_axis.
std::string x_axis(const Frame& f, const std::vector<double>& tk, const std::string& label) {
  std::string o = line(f.x0, f.y0, f.x1, f.y0);
  for (double v : tk) {
    if (v > f.xmax * (1 + 1e-9)) break;
    o += line(f.x(v), f.y0, f.x(v), f.y0 + 4);
    o += strf("<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\">%g</text>\n", f.x(v), f.y0 + 17, v);
  }
  o += strf("<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\">%s</text>\n", (f.x0 + f.x1) / 2, f.y0 + 36,
            xml_escape(label).c_str());
  return o;
}

// A horizontal bar chart: one labelled bar per (label, value).
Panel bar_chart(const std::string& title, const std::string& unit,
                const std::vector<std::pair<std::string, double>>& bars) {
  const int W = 760, left = 220, bar_h = 18, gap = 6, top = 40;
  double mx = 0;
  for (const auto& b : bars) mx = std::max(mx, b.second);
  Panel p{W, top + int(bars.size()) * (bar_h + gap) + 20, chart_title(title)};
  int y = top;
  for (const auto& [label, v] : bars) {
    const double w = mx > 0 ? (W - left - 120) * v / mx : 0;
    p.body += strf("<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>\n", left - 6, y + bar_h - 4,
                   xml_escape(label).c_str());
    p.body += bar(left, y, w, bar_h, label, v, unit);
    p.body += strf("<text x=\"%.2f\" y=\"%d\">%.4g %s</text>\n", left + w + 4, y + bar_h - 4, v, unit.c_str());
    y += bar_h + gap;
  }
  return p;
}

// A column chart: a column per (label, value) from left to right, the labels
// under them, the values on an axis in `unit`.
Panel column_chart(const std::string& title, const std::string& unit,
                   const std::vector<std::pair<std::string, double>>& bars) {
  const int left = 80, right = 20, top = 40, plot_h = 200, label_h = 80;
  const double slot = std::max(14.0, 660.0 / double(std::max<size_t>(bars.size(), 1)));
  double mx = 0;
  for (const auto& b : bars) mx = std::max(mx, b.second);
  const std::vector<double> tk = ticks(mx);
  const Frame f{double(left), left + slot * double(bars.size()), double(top + plot_h), double(top), 1.0, tk.back()};
  Panel p{std::max(760, int(f.x1) + right), top + plot_h + label_h, chart_title(title) + y_axis(f, tk, unit)};
  for (size_t i = 0; i < bars.size(); ++i) {
    const auto& [label, v] = bars[i];
    const double x = f.x0 + slot * double(i);
    p.body += bar(x + 0.15 * slot, f.y(v), 0.7 * slot, f.y0 - f.y(v), label, v, unit);
    p.body += strf("<text transform=\"translate(%.2f,%.2f) rotate(-60)\" text-anchor=\"end\" "
                   "font-size=\"10\">%s</text>\n",
                   x + 0.5 * slot + 3, f.y0 + 8, xml_escape(label).c_str());
  }
  p.body += line(f.x0, f.y0, f.x1, f.y0);
  return p;
}

// Power over time: a line per series (each sample held over its length, at
// most 1000 samples: 2000 points), the start of each program a thin vertical
// line labelled with its phase where there is room, each DVFS change a band
// in its domain's colour from the start to the end of its transition (at
// least 1.5 pixels wide; the first 20 with room for it labelled "compute ->
// 400 MHz" along the band), and a legend.
Panel power_chart(const PowerTrace& full, const std::vector<Program>& progs, double run_s) {
  const size_t most = 1000, k = (full.t_s.size() + most - 1) / most;
  const PowerTrace tr = downsample(full, most);
  const bool ms = run_s < 2;
  const double scale = ms ? 1e3 : 1.0;
  double mx = 0;
  for (const auto& w : tr.watts)
    for (double v : w) mx = std::max(mx, v);
  const std::vector<double> yt = ticks(mx), xt = ticks(run_s * scale, 8);
  const Frame f{80, 820, 340, 40, run_s * scale, yt.back()};
  Panel p{960, 390,
          chart_title(strf("Power over time per domain (sampled every %g us", full.interval_s * 1e6) +
                      (k > 1 ? strf(", drawn as averages of %zu samples)", k) : std::string(")"))) +
              y_axis(f, yt, "power (W)") + x_axis(f, xt, ms ? "time (ms)" : "time (s)")};
  const std::array<const char*, kSeries.size()> colour = {"#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#222222"};
  double last_label = -1e9;
  for (const Program& g : progs) {
    const double x = f.x(g.start_s * scale);
    p.body += line(x, f.y0, x, f.y1, "#999", 0.5);
    if (x - last_label >= 48) {
      p.body += strf("<text x=\"%.2f\" y=\"%.2f\" font-size=\"10\" fill=\"#666\">%s</text>\n", x + 2, f.y1 + 10,
                     xml_escape(g.phase).c_str());
      last_label = x;
    }
  }
  // the DVFS changes: every band drawn, under the lines; a label where it
  // does not crowd the one before (at most 20)
  const size_t most_labels = 20;
  const double label_gap = std::max(12.0, (f.x1 - f.x0) / double(most_labels));
  size_t changes = 0, labels = 0;
  last_label = -1e9;
  for (const Program& g : progs)
    for (const DvfsRow& c : g.dvfs) {
      const double a = f.x(std::min(g.start_s + c.start_s, run_s) * scale),
                   b = f.x(std::min(g.start_s + c.end_s, run_s) * scale), w = std::max(1.5, b - a);
      const std::string what = dvfs_label(c) + (c.has_point ? strf(" %.2f V", c.volts) : std::string()) + " (" +
                               c.by + strf(") from %.6g to %.6g %s", (g.start_s + c.start_s) * scale,
                                           (g.start_s + c.end_s) * scale, ms ? "ms" : "s");
      p.body += strf("<rect class=\"dvfs\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%s\" "
                     "fill-opacity=\"0.35\"><title>%s</title></rect>\n",
                     std::min(a, f.x1 - w), f.y1, w, f.y0 - f.y1, colour[c.domain], xml_escape(what).c_str());
      ++changes;
      if (labels < most_labels && a - last_label >= label_gap) {
        p.body += strf("<text transform=\"translate(%.2f,%.2f) rotate(-90)\" font-size=\"9\" fill=\"%s\">%s</text>\n",
                       a + w + 10, f.y0 - 4, colour[c.domain], xml_escape(dvfs_label(c)).c_str());
        last_label = a;
        ++labels;
      }
    }
  for (size_t s = 0; s < kSeries.size(); ++s) {
    const bool total = std::string(kSeries[s]) == "total";
    std::string pts;
    for (size_t i = 0; i < tr.t_s.size(); ++i)
      pts += strf("%.2f,%.2f %.2f,%.2f ", f.x(tr.t_s[i] * scale), f.y(tr.watts[s][i]),
                  f.x((tr.t_s[i] + tr.dt_s[i]) * scale), f.y(tr.watts[s][i]));
    if (!pts.empty()) pts.pop_back();
    p.body += strf("<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"%s\" points=\"%s\">"
                   "<title>%s</title></polyline>\n",
                   colour[s], total ? "1.5" : "1", pts.c_str(), kSeries[s]);
    const double ly = f.y1 + 8 + 18 * double(s);
    p.body += line(f.x1 + 15, ly, f.x1 + 35, ly, colour[s], 2);
    p.body += strf("<text x=\"%.2f\" y=\"%.2f\">%s</text>\n", f.x1 + 40, ly + 4, kSeries[s]);
  }
  if (changes) {  // the bands in the legend: a swatch per domain that changes
    double ly = f.y1 + 8 + 18 * double(kSeries.size()) + 6;
    p.body += strf("<text x=\"%.2f\" y=\"%.2f\">DVFS changes: %zu</text>\n", f.x1 + 15, ly + 4, changes);
    p.body += strf("<text x=\"%.2f\" y=\"%.2f\" font-size=\"10\" fill=\"#666\">a band per transition</text>\n",
                   f.x1 + 15, ly + 18);
    ly += 32;
    for (size_t d = 0; d < kDomains.size(); ++d) {
      if (std::none_of(progs.begin(), progs.end(), [&](const Program& g) {
            return std::any_of(g.dvfs.begin(), g.dvfs.end(), [&](const DvfsRow& c) { return c.domain == d; });
          }))
        continue;
      p.body += strf("<rect x=\"%.2f\" y=\"%.2f\" width=\"20\" height=\"10\" fill=\"%s\" fill-opacity=\"0.35\"/>\n",
                     f.x1 + 15, ly - 5, colour[d]);
      p.body += strf("<text x=\"%.2f\" y=\"%.2f\">%s</text>\n", f.x1 + 40, ly + 4, kDomains[d]);
      ly += 18;
    }
  }
  return p;
}

}  // namespace

json read_run_json(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error(path + ": cannot open");
  try {
    return json::parse(in);
  } catch (const std::exception& e) {
    throw Error(path + ": not JSON: " + e.what());
  }
}

std::vector<std::string> write_run_report(const json& run, const std::string& dir, const std::string& source) {
  // check what the report needs before writing anything
  const double energy = num(run, "energy_j", source), time = num(run, "time_s", source);
  const json& comps = need(run, "energy_components_j", source);
  const json& phases = list(run, "phases", source);
  if (!comps.is_object()) throw Error(source + ": energy_components_j: expected an object");
  std::vector<std::pair<std::string, double>> bars;
  for (const auto& [k, v] : comps.items()) bars.push_back({k, num(comps, k, source, "energy_components_j.")});
  check_summary(run, source);
  std::vector<Program> progs;
  PowerTrace trace;
  double start = 0;
  for (size_t i = 0; i < phases.size(); ++i) {
    progs.push_back(read_program(phases[i], i, start, source));
    start += progs.back().time_s;
  }
  // power over time and per layer: only when every program has them; if
  // not, a line of report.txt says which files are not written and why
  const auto lacking = [&](bool Program::*has, const std::string& what, const std::string& why,
                           const std::string& files) -> std::string {
    const auto it = std::find_if(progs.begin(), progs.end(), [&](const Program& g) { return !(g.*has); });
    if (!progs.empty() && it == progs.end()) return "";
    const bool none = std::none_of(progs.begin(), progs.end(), [&](const Program& g) { return g.*has; });
    return what + ": " +
           (none ? "not in the run JSON (" + why + ")"
                 : strf("not in phases[%zu] of the run JSON", size_t(it - progs.begin()))) +
           ": " + files + " not written\n";
  };
  const std::string no_power = lacking(&Program::has_power, "power over time",
                                       "a run with --sample-us 0, or of an older clonesim", "power.csv and power.svg"),
                    no_layers = lacking(&Program::has_regions, "per layer",
                                        "a run of an older clonesim, without regions", "layers.csv and layers.svg");
  const bool power = no_power.empty(), layers = no_layers.empty();
  size_t dvfs_changes = 0;
  for (const Program& g : progs) dvfs_changes += g.dvfs.size();
  const std::string no_dvfs =
      dvfs_changes ? ""
                   : "DVFS changes: none in the run JSON (no dvfs instruction or governor changed a point): dvfs.csv "
                     "not written\n";
  if (power)
    for (size_t i = 0; i < phases.size(); ++i) read_power(phases[i], i, progs[i], source, trace);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir)) throw Error(dir + ": cannot create the report directory");
  std::vector<std::string> out;
  auto put = [&](const std::string& name, const std::string& text) {
    const std::string p = (fs::path(dir) / name).string();
    write_text_file(p, text);
    out.push_back(p);
  };
  std::sort(bars.begin(), bars.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  // report.txt
  std::string txt = run_summary(run);
  txt += "\nenergy by component\n";
  txt += strf("  %-22s %14s %7s\n", "component", "J", "%");
  for (const auto& [k, v] : bars) txt += strf("  %-22s %14.6g %7.2f\n", k.c_str(), v, energy > 0 ? 100 * v / energy : 0.0);
  txt += strf("  %-22s %14.6g\n", "total", energy);
  txt += "\nprograms\n";
  txt += strf("  %-8s %8s %12s %14s %12s %10s %8s\n", "phase", "position", "time ms", "cycles", "energy mJ", "power W",
              "MXU %");
  std::string csv = "phase,position,time_s,cycles,energy_j,avg_power_w,mxu_util\n";
  std::vector<std::pair<std::string, double>> tbars, ebars;
  for (const Program& g : progs) {
    const double t = g.time_s, e = g.energy_j;
    txt += strf("  %-8s %8s %12.4f %14llu %12.4f %10.4f %8.1f\n", g.phase.c_str(), g.position.c_str(), t * 1e3,
                g.cycles, e * 1e3, t > 0 ? e / t : 0.0, 100 * g.mxu_util);
    csv += strf("%s,%s,%.9g,%llu,%.9g,%.9g,%.6g\n", csv_field(g.phase).c_str(), g.position.c_str(), t, g.cycles, e,
                t > 0 ? e / t : 0.0, g.mxu_util);
    const std::string label = g.phase + (g.position.empty() ? "" : " " + g.position);
    tbars.push_back({label, t * 1e3});
    ebars.push_back({label, e * 1e3});
  }
  // per layer: the prefill, the decode steps averaged
  std::vector<LayerTable> tables;
  if (layers)
    for (const char* ph : {"prefill", "decode"}) {
      LayerTable t = layer_table(progs, ph);
      if (t.programs) tables.push_back(std::move(t));
    }
  for (const LayerTable& t : tables) {
    txt += "\nper layer, " + layer_table_name(t) + ": % of the " +
           (t.programs > 1 ? "average step" : t.first_position.empty() ? t.phase : "step") + "\n";
    txt += strf("  %-16s %12s %8s %12s %8s %10s\n", "region", "time ms", "time %", "energy mJ", "energy %", "power W");
    for (const RegionRow& r : t.rows)
      txt += strf("  %-16s %12.4f %8.2f %12.4f %8.2f %10.4f\n", r.name.c_str(), r.time_s * 1e3,
                  t.time_s > 0 ? 100 * r.time_s / t.time_s : 0.0, r.energy_j * 1e3,
                  t.energy_j > 0 ? 100 * r.energy_j / t.energy_j : 0.0, r.avg_power_w);
    txt += strf("  %-16s %12.4f %8s %12.4f %8s %10.4f\n", "all", t.time_s * 1e3, "", t.energy_j * 1e3, "",
                t.time_s > 0 ? t.energy_j / t.time_s : 0.0);
  }
  if (dvfs_changes) txt += dvfs_tables(progs);
  txt += strf("\n%.6g J in %.6g s: %.4g W average\n", energy, time, time > 0 ? energy / time : 0.0);
  if (power)
    txt += strf("power over time: %zu samples every %g us in power.csv and power.svg\n", trace.t_s.size(),
                trace.interval_s * 1e6);
  if (dvfs_changes)
    txt += strf("DVFS changes: %zu in dvfs.csv%s\n", dvfs_changes, power ? ", drawn as bands in power.svg" : "");
  txt += no_power + no_layers + no_dvfs;
  put("report.txt", txt);
  put("run.json", run.dump(2) + "\n");
  std::string ecsv = "component,energy_j,share\n";
  for (const auto& [k, v] : bars)
    ecsv += strf("%s,%.9g,%.6g\n", csv_field(k).c_str(), v, energy > 0 ? v / energy : 0.0);
  put("energy_components.csv", ecsv);
  put("phases.csv", csv);
  put("energy_by_component.svg", svg_doc({bar_chart(strf("Energy by component (%.4g J in all)", energy), "J", bars)}));
  put("phases.svg", svg_doc({bar_chart("Time of each program", "ms", tbars), bar_chart("Energy of each program", "mJ", ebars)}));
  if (power) {
    std::string pc = "t_s,dt_s,phase_index,phase,position";
    for (const char* k : kSeries) pc += std::string(",") + k + "_w";
    pc += "\n";
    for (size_t i = 0; i < trace.t_s.size(); ++i) {
      const Program& g = progs[trace.program[i]];
      pc += strf("%.12g,%.12g,%zu,%s,%s", trace.t_s[i], trace.dt_s[i], trace.program[i], csv_field(g.phase).c_str(),
                 g.position.c_str());
      for (const auto& w : trace.watts) pc += strf(",%.12g", w[i]);
      pc += "\n";
    }
    put("power.csv", pc);
    put("power.svg", svg_doc({power_chart(trace, progs, start)}));
  }
  if (dvfs_changes) {
    std::string dc = "phase_index,phase,position,domain,point,mhz,volts,start_s,end_s,by\n";
    for (size_t i = 0; i < progs.size(); ++i)
      for (const DvfsRow& c : progs[i].dvfs)
        dc += strf("%zu,%s,%s,%s,%llu,%s,%s,%.12g,%.12g,%s\n", i, csv_field(progs[i].phase).c_str(),
                   progs[i].position.c_str(), kDomains[c.domain], c.point,
                   c.has_point ? strf("%.12g", c.mhz).c_str() : "", c.has_point ? strf("%.12g", c.volts).c_str() : "",
                   progs[i].start_s + c.start_s, progs[i].start_s + c.end_s, c.by.c_str());
    put("dvfs.csv", dc);
  }
  if (layers) {
    std::string lc = "phase_index,phase,position,region,time_s,energy_j,dynamic_j,leakage_j,dram_j,avg_power_w\n";
    for (size_t i = 0; i < progs.size(); ++i)
      for (const RegionRow& r : progs[i].regions)
        lc += strf("%zu,%s,%s,%s,%.12g,%.12g,%.12g,%.12g,%.12g,%.12g\n", i, csv_field(progs[i].phase).c_str(),
                   progs[i].position.c_str(), csv_field(r.name).c_str(), r.time_s, r.energy_j, r.dynamic_j, r.leakage_j,
                   r.dram_j, r.avg_power_w);
    put("layers.csv", lc);
    std::vector<Panel> panels;
    for (const LayerTable& t : tables) {
      std::vector<std::pair<std::string, double>> tb, eb;
      for (const RegionRow& r : t.rows) {
        tb.push_back({r.name, r.time_s * 1e3});
        eb.push_back({r.name, r.energy_j * 1e3});
      }
      std::string name = layer_table_name(t);
      name[0] = char(std::toupper(static_cast<unsigned char>(name[0])));
      panels.push_back(column_chart(name + ": time per region", "time (ms)", tb));
      panels.push_back(column_chart(name + ": energy per region", "energy (mJ)", eb));
    }
    put("layers.svg", svg_doc(panels));
  }
  return out;
}

}  // namespace clonesim::compiler
