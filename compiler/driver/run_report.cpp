#include "driver/run_report.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
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
    p.body += strf("<rect x=\"%d\" y=\"%d\" width=\"%.2f\" height=\"%d\" fill=\"#4878a8\"><title>%s: %.6g %s</title></rect>\n",
                   left, y, w, bar_h, xml_escape(label).c_str(), v, unit.c_str());
    p.body += strf("<text x=\"%.2f\" y=\"%d\">%.4g %s</text>\n", left + w + 4, y + bar_h - 4, v, unit.c_str());
    y += bar_h + gap;
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
  const json& phases = need(run, "phases", source);
  if (!comps.is_object() || !phases.is_array()) throw Error(source + ": energy_components_j or phases: wrong type");
  for (size_t i = 0; i < phases.size(); ++i) {
    const std::string w = strf("phases[%zu].", i);
    num(phases[i], "time_s", source, w);
    num(phases[i], "cycles", source, w);
    num(phases[i], "mxu_util", source, w);
    num(need(phases[i], "energy", source, w), "energy_j", source, w + "energy.");
    need(phases[i], "phase", source, w);
  }
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir)) throw Error(dir + ": cannot create the report directory");
  std::vector<std::string> out;
  auto put = [&](const std::string& name, const std::string& text) {
    const std::string p = (fs::path(dir) / name).string();
    write_text_file(p, text);
    out.push_back(p);
  };
  std::vector<std::pair<std::string, double>> bars;
  for (const auto& [k, v] : comps.items()) bars.push_back({k, v.get<double>()});
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
  for (const json& p : phases) {
    const double t = p["time_s"].get<double>(), e = p["energy"]["energy_j"].get<double>();
    const std::string ph = p["phase"].get<std::string>();
    const std::string pos = p.contains("position") ? std::to_string(p["position"].get<long long>()) : "";
    txt += strf("  %-8s %8s %12.4f %14llu %12.4f %10.4f %8.1f\n", ph.c_str(), pos.c_str(), t * 1e3,
                p["cycles"].get<unsigned long long>(), e * 1e3, t > 0 ? e / t : 0.0, 100 * p["mxu_util"].get<double>());
    csv += strf("%s,%s,%.9g,%llu,%.9g,%.9g,%.6g\n", ph.c_str(), pos.c_str(), t, p["cycles"].get<unsigned long long>(), e,
                t > 0 ? e / t : 0.0, p["mxu_util"].get<double>());
    const std::string label = ph + (pos.empty() ? "" : " " + pos);
    tbars.push_back({label, t * 1e3});
    ebars.push_back({label, e * 1e3});
  }
  txt += strf("\n%.6g J in %.6g s: %.4g W average\n", energy, time, time > 0 ? energy / time : 0.0);
  put("report.txt", txt);
  put("run.json", run.dump(2) + "\n");
  std::string ecsv = "component,energy_j,share\n";
  for (const auto& [k, v] : bars) ecsv += strf("%s,%.9g,%.6g\n", k.c_str(), v, energy > 0 ? v / energy : 0.0);
  put("energy_components.csv", ecsv);
  put("phases.csv", csv);
  put("energy_by_component.svg", svg_doc({bar_chart(strf("Energy by component (%.4g J in all)", energy), "J", bars)}));
  put("phases.svg", svg_doc({bar_chart("Time of each program", "ms", tbars), bar_chart("Energy of each program", "mJ", ebars)}));
  return out;
}

}  // namespace clonesim::compiler
