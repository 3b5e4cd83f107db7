#include "sim/stats.h"

#include <cstdio>
#include <sstream>

namespace clonesim::sim {

const char* to_string(StallReason r) {
  switch (r) {
    case StallReason::Semaphore: return "semaphore";
    case StallReason::Bank: return "bank";
    case StallReason::Dvfs: return "dvfs";
    case StallReason::Engine: return "engine";
    case StallReason::QueueFull: return "queue_full";
    case StallReason::Drain: return "drain";
    default: return "?";
  }
}

const char* to_string(VecClass c) {
  switch (c) {
    case VecClass::Alu: return "alu";
    case VecClass::Mul: return "mul";
    case VecClass::Lut: return "lut";
    case VecClass::Sfu: return "sfu";
    case VecClass::Reduce: return "reduce";
    default: return "?";
  }
}

namespace {
nlohmann::json channel_json(const dram::ChannelStats& c) {
  return {{"reads", c.reads},           {"writes", c.writes},         {"read_bytes", c.read_bytes},
          {"write_bytes", c.write_bytes}, {"bursts", c.bursts},         {"row_hits", c.row_hits},
          {"row_misses", c.row_misses}, {"row_conflicts", c.row_conflicts}, {"activates", c.activates},
          {"precharges", c.precharges}, {"refreshes", c.refreshes},   {"busy_ck", c.busy_ck}};
}
}  // namespace

nlohmann::json to_json(const Stats& s, const hw::HwConfig& hw) {
  using nlohmann::json;
  json j;
  j["design_point"] = s.design_point;
  j["cycles"] = s.cycles;
  j["time_ps"] = s.time_ps;
  j["time_s"] = double(s.time_ps) * 1e-12;
  j["instructions"] = s.instructions;
  json units = json::array();
  for (const auto& u : s.units) {
    json stalls = json::object(), stall_cycles = json::object();
    for (int r = 0; r < kNumStallReasons; ++r) {
      stalls[to_string(static_cast<StallReason>(r))] = u.stall_ps[r];
      stall_cycles[to_string(static_cast<StallReason>(r))] = u.stall_cycles[r];
    }
    json ju = {{"name", u.name},           {"domain", hw::to_string(u.domain)},
               {"instructions", u.instructions}, {"busy_ps", u.busy_ps},
               {"busy_cycles", u.busy_cycles},   {"stall_ps", stalls},
               {"stall_cycles", stall_cycles},
               {"utilisation", s.time_ps ? double(u.busy_ps) / double(s.time_ps) : 0.0}};
    if (u.tile >= 0) ju["tile"] = u.tile;
    units.push_back(ju);
  }
  j["units"] = units;
  json doms = json::object();
  for (int d = 0; d < hw::kNumDomains; ++d) {
    const auto& ds = s.domains[d];
    const auto& dc = hw.domains[d];
    json pts = json::array();
    for (size_t p = 0; p < ds.time_ps_at_point.size(); ++p)
      pts.push_back({{"volts", dc.points[p].volts}, {"mhz", dc.points[p].mhz}, {"time_ps", ds.time_ps_at_point[p]}});
    doms[hw::to_string(static_cast<hw::Domain>(d))] = {{"cycles", ds.cycles},
                                                        {"operating_points", pts},
                                                        {"transitions", ds.transitions},
                                                        {"transition_ps", ds.transition_ps},
                                                        {"transition_nj", ds.transition_nj},
                                                        {"final_point", ds.final_point}};
  }
  j["domains"] = doms;
  json sram = json::array();
  for (size_t t = 0; t < s.sram.size(); ++t) {
    json tile;
    for (int sp = 0; sp < 2; ++sp) {
      json banks = json::array();
      for (const auto& b : s.sram[t][sp]) banks.push_back({{"reads", b.reads}, {"writes", b.writes}});
      tile[sp == 0 ? "scratchpad" : "accumulator"] = banks;
    }
    sram.push_back(tile);
  }
  j["sram"] = sram;
  json chans = json::array();
  for (const auto& c : s.dram_channels) chans.push_back(channel_json(c));
  const double gb = double(s.dram_total.read_bytes + s.dram_total.write_bytes) / 1e9;
  const double secs = double(s.time_ps) * 1e-12;
  j["dram"] = {{"total", channel_json(s.dram_total)},
               {"channels", chans},
               {"bandwidth_gbps", secs > 0 ? gb / secs : 0.0},
               {"peak_gbps", hw.dram.peak_gbps()},
               {"bw_util", secs > 0 ? gb / secs / hw.dram.peak_gbps() : 0.0}};
  json vec = json::object();
  for (int c = 0; c < kNumVecClasses; ++c) vec[to_string(static_cast<VecClass>(c))] = s.events.vec_elems[c];
  const uint64_t macs = s.events.macs_int8 + s.events.macs_int4;
  const double peak_macs = double(hw.mxu.rows) * hw.mxu.cols * hw.tiles * double(s.cycles);
  j["events"] = {{"macs_int8", s.events.macs_int8},
                 {"macs_int4", s.events.macs_int4},
                 {"mxu_weight_loads", s.events.mxu_weight_loads},
                 {"vector_elements", vec},
                 {"lut_loads", s.events.lut_loads},
                 {"dma_requests", s.events.dma_requests},
                 {"dma_load_bytes", s.events.dma_load_bytes},
                 {"dma_store_bytes", s.events.dma_store_bytes},
                 {"instructions_fetched", s.events.instructions_fetched},
                 {"semaphore_signals", s.events.semaphore_signals}};
  j["mxu_util"] = peak_macs > 0 ? double(macs) / peak_macs : 0.0;
  return j;
}

std::string summary(const Stats& s, const hw::HwConfig& hw) {
  std::ostringstream o;
  char buf[256];
  snprintf(buf, sizeof buf, "design point  %s\n", s.design_point.c_str());
  o << buf;
  snprintf(buf, sizeof buf, "cycles        %llu (compute domain)   time %.3f us   instructions %llu\n",
           (unsigned long long)s.cycles, double(s.time_ps) * 1e-6, (unsigned long long)s.instructions);
  o << buf;
  const uint64_t macs = s.events.macs_int8 + s.events.macs_int4;
  const double peak_macs = double(hw.mxu.rows) * hw.mxu.cols * hw.tiles * double(s.cycles);
  const double secs = double(s.time_ps) * 1e-12;
  const double gb = double(s.dram_total.read_bytes + s.dram_total.write_bytes) / 1e9;
  snprintf(buf, sizeof buf, "MXU util      %.1f %%   (%llu MACs)\n", peak_macs > 0 ? 100.0 * macs / peak_macs : 0.0,
           (unsigned long long)macs);
  o << buf;
  snprintf(buf, sizeof buf, "DRAM          %.3f GB/s of %.3f peak (%.1f %%)   row hits %llu  misses %llu  conflicts %llu  refreshes %llu\n",
           secs > 0 ? gb / secs : 0.0, hw.dram.peak_gbps(), secs > 0 ? 100.0 * gb / secs / hw.dram.peak_gbps() : 0.0,
           (unsigned long long)s.dram_total.row_hits, (unsigned long long)s.dram_total.row_misses,
           (unsigned long long)s.dram_total.row_conflicts, (unsigned long long)s.dram_total.refreshes);
  o << buf;
  o << "\nunit          domain      instrs     busy cyc   util    stalls (cycles)\n";
  for (const auto& u : s.units) {
    snprintf(buf, sizeof buf, "%-13s %-10s %8llu %12llu %6.1f%%  ", u.name.c_str(), hw::to_string(u.domain),
             (unsigned long long)u.instructions, (unsigned long long)u.busy_cycles,
             s.time_ps ? 100.0 * double(u.busy_ps) / double(s.time_ps) : 0.0);
    o << buf;
    bool any = false;
    for (int r = 0; r < kNumStallReasons; ++r)
      if (u.stall_cycles[r]) {
        o << (any ? ", " : "") << to_string(static_cast<StallReason>(r)) << " " << u.stall_cycles[r];
        any = true;
      }
    o << (any ? "" : "-") << "\n";
  }
  o << "\ndomain      point              cycles     transitions\n";
  for (int d = 0; d < hw::kNumDomains; ++d) {
    const auto& ds = s.domains[d];
    const auto& p = hw.domains[d].points[ds.final_point];
    snprintf(buf, sizeof buf, "%-11s %.2f V %6.0f MHz %10llu %8llu\n", hw::to_string(static_cast<hw::Domain>(d)),
             p.volts, p.mhz, (unsigned long long)ds.cycles, (unsigned long long)ds.transitions);
    o << buf;
  }
  return o.str();
}

void add_difference(PointActivity& a, const PointActivity& b, const PointActivity& c) {
  Events& e = a.events;
  const Events &x = b.events, &y = c.events;
  e.macs_int8 += x.macs_int8 - y.macs_int8;
  e.macs_int4 += x.macs_int4 - y.macs_int4;
  e.mxu_weight_loads += x.mxu_weight_loads - y.mxu_weight_loads;
  for (int i = 0; i < kNumVecClasses; ++i) e.vec_elems[size_t(i)] += x.vec_elems[size_t(i)] - y.vec_elems[size_t(i)];
  e.lut_loads += x.lut_loads - y.lut_loads;
  e.dma_requests += x.dma_requests - y.dma_requests;
  e.dma_load_bytes += x.dma_load_bytes - y.dma_load_bytes;
  e.dma_store_bytes += x.dma_store_bytes - y.dma_store_bytes;
  e.instructions_fetched += x.instructions_fetched - y.instructions_fetched;
  e.semaphore_signals += x.semaphore_signals - y.semaphore_signals;
  for (size_t s = 0; s < 2; ++s) {
    a.sram_reads[s] += b.sram_reads[s] - c.sram_reads[s];
    a.sram_writes[s] += b.sram_writes[s] - c.sram_writes[s];
  }
}

Stats slice_stats(const Stats& run, const Slice& s) {
  Stats o;
  o.design_point = run.design_point;
  o.time_ps = s.end_ps - s.start_ps;
  o.instructions = s.instructions;
  o.domains = s.domains;
  o.activity = s.activity;
  // every domain's activity holds all the events (split by its own points)
  PointActivity all;
  for (const PointActivity& a : s.activity[0]) add_difference(all, a, PointActivity{});
  o.events = all.events;
  o.sram.resize(run.sram.size());
  o.dram_total = s.dram;
  return o;
}

}  // namespace clonesim::sim
