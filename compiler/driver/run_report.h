// Reports of a run (`clonesim run --report DIR`, `clonesim report RUN.json
// -o DIR`): from the run JSON run_model writes, a directory with
//   report.txt                 the run's summary and tables people read (per layer too)
//   run.json                   the run JSON itself
//   energy_components.csv      per component: energy in J and share
//   phases.csv                 per program: phase, position, time, cycles, energy, power, MXU utilisation
//   energy_by_component.svg    a bar chart of the energy per component
//   phases.svg                 time and energy of each program
//   power.csv, power.svg       power over time per domain, the whole run on one timeline
//   layers.csv, layers.svg     time and energy of each region (embedding, layer, LM head)
//                              of each program; the charts: the prefill and the decode
//                              steps averaged
//   dvfs.csv                   the DVFS changes of every program on the run's timeline:
//                              domain, operating point (MHz and volts when the run JSON
//                              has them), start and end of the transition, by a dvfs
//                              instruction or the governor; power.svg draws each as a
//                              band, report.txt counts them per program, domain and point
// The power and layer files only when every program of the run has power
// samples (not with --sample-us 0) or regions, dvfs.csv only when a program
// has DVFS changes; report.txt says when they are not written
// (docs/energy-model.md, "Reports").
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace clonesim::compiler {

// Writes the report files into `dir` (created if needed) and returns their
// paths.  Throws clonesim::Error with one line naming `source` and the key
// when `run` is not a run JSON (e.g. "r.json: no key energy_j (a run JSON
// of clonesim run, with energy)").
std::vector<std::string> write_run_report(const nlohmann::json& run, const std::string& dir,
                                          const std::string& source = "run");

// Reads a run JSON file (one-line errors naming the file).
nlohmann::json read_run_json(const std::string& path);

}  // namespace clonesim::compiler
