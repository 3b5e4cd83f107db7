#include "sim/trace.h"

#include "common/strf.h"

namespace clonesim::sim {

nlohmann::json chrome_trace(const Accelerator& acc, const isa::Program& program) {
  using nlohmann::json;
  json ev = json::array();
  const Stats& s = acc.stats();
  const int dvfs_tid_base = static_cast<int>(s.units.size());
  ev.push_back({{"ph", "M"}, {"name", "process_name"}, {"pid", 0}, {"args", {{"name", "clonesim " + s.design_point}}}});
  for (size_t u = 0; u < s.units.size(); ++u)
    ev.push_back({{"ph", "M"}, {"name", "thread_name"}, {"pid", 0}, {"tid", u}, {"args", {{"name", s.units[u].name}}}});
  for (int d = 0; d < hw::kNumDomains; ++d)
    ev.push_back({{"ph", "M"},
                  {"name", "thread_name"},
                  {"pid", 0},
                  {"tid", dvfs_tid_base + d},
                  {"args", {{"name", std::string("dvfs ") + hw::to_string(static_cast<hw::Domain>(d))}}}});
  // Timestamps are microseconds; keep picosecond precision in the fraction.
  auto us = [](uint64_t ps) { return double(ps) * 1e-6; };
  for (const Retirement& r : acc.retirements()) {
    const isa::Instruction& in = program.code[r.index];
    ev.push_back({{"ph", "X"},
                  {"name", isa::opcode_info(static_cast<uint8_t>(in.op))->mnemonic},
                  {"pid", 0},
                  {"tid", r.unit},
                  {"ts", us(r.start_ps)},
                  {"dur", us(r.done_ps - r.start_ps)},
                  {"args", {{"index", r.index}, {"asm", isa::disassemble(in)}}}});
  }
  const hw::HwConfig& hw = acc.hw();
  for (int d = 0; d < hw::kNumDomains; ++d) {
    const auto& dc = hw.domains[d];
    ev.push_back({{"ph", "C"},
                  {"name", std::string("MHz ") + hw::to_string(static_cast<hw::Domain>(d))},
                  {"pid", 0},
                  {"ts", 0.0},
                  {"args", {{"MHz", dc.points[dc.initial].mhz}}}});
  }
  for (const DvfsChange& c : acc.dvfs_changes()) {
    const auto& p = hw.domains[static_cast<int>(c.domain)].points[c.point];
    ev.push_back({{"ph", "X"},
                  {"name", std::string(c.by_governor ? "governor " : "dvfs ") + "-> " + strf("%.0f MHz %.2f V", p.mhz, p.volts)},
                  {"pid", 0},
                  {"tid", dvfs_tid_base + static_cast<int>(c.domain)},
                  {"ts", us(c.start_ps)},
                  {"dur", us(c.end_ps - c.start_ps)}});
    ev.push_back({{"ph", "C"},
                  {"name", std::string("MHz ") + hw::to_string(c.domain)},
                  {"pid", 0},
                  {"ts", us(c.end_ps)},
                  {"args", {{"MHz", p.mhz}}}});
  }
  return json{{"traceEvents", ev}, {"displayTimeUnit", "ns"}};
}

}  // namespace clonesim::sim
