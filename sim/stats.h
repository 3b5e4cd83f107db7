// Statistics a run produces: enough for a human summary, for the energy
// model (every event it charges), and for comparing design points.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dram/dram.h"
#include "hw/hw_config.h"

namespace clonesim::sim {

enum class StallReason : uint8_t {
  Semaphore,  // waiting on a semaphore
  Bank,       // an SRAM bank it needs has no free port
  Dvfs,       // its domain is changing operating point
  Engine,     // the shared DMA engine serves the other queue
  QueueFull,  // controller: the target unit queue is full
  Drain,      // controller: dvfs/halt waits for earlier instructions
  kCount
};
constexpr int kNumStallReasons = static_cast<int>(StallReason::kCount);
const char* to_string(StallReason r);

struct UnitStats {
  std::string name;  // "load", "store", "matrix[0]", "vector[1]", "control"
  hw::Domain domain = hw::Domain::Compute;
  int tile = -1;
  uint64_t instructions = 0;
  uint64_t busy_ps = 0;  // time with at least one instruction in flight
  std::array<uint64_t, kNumStallReasons> stall_ps{};
  uint64_t busy_cycles = 0;  // in the unit's domain clock
  std::array<uint64_t, kNumStallReasons> stall_cycles{};
};

// Vector element operations by hardware class (what the energy model charges).
enum class VecClass : uint8_t { Alu, Mul, Lut, Sfu, Reduce, kCount };
constexpr int kNumVecClasses = static_cast<int>(VecClass::kCount);
const char* to_string(VecClass c);

struct DomainStats {
  std::vector<uint64_t> time_ps_at_point;  // per operating point
  uint64_t transitions = 0;
  uint64_t transition_ps = 0;
  double transition_nj = 0;
  uint64_t cycles = 0;
  uint32_t final_point = 0;
};

struct BankStats {
  uint64_t reads = 0, writes = 0;
};

struct Events {
  uint64_t macs_int8 = 0, macs_int4 = 0;       // MXU multiply-accumulates
  uint64_t mxu_weight_loads = 0;               // weight tiles preloaded
  std::array<uint64_t, kNumVecClasses> vec_elems{};
  uint64_t lut_loads = 0;
  uint64_t dma_requests = 0, dma_load_bytes = 0, dma_store_bytes = 0;
  uint64_t instructions_fetched = 0;
  uint64_t semaphore_signals = 0;
};

// What a domain did at one operating point: the events charged to it
// (compute: the MXUs, VXUs and tile SRAMs; memory: the DMA engine;
// always-on: instruction fetch and semaphores), for the energy model, which
// scales dynamic energy with the point's voltage.
struct PointActivity {
  Events events;
  std::array<uint64_t, 2> sram_reads{}, sram_writes{};  // [space]: every tile and bank
};

// a += b - c, field by field (the activity between two snapshots)
void add_difference(PointActivity& a, const PointActivity& b, const PointActivity& c);

// A part of a run: a region of the program (isa::Region: a layer, the LM
// head) or a sampling interval.  It holds what the energy model prices, for
// that part only: the time each domain spent at each point, the DVFS
// transitions begun in it, the events at each point and the DRAM's work.
// A region runs from the instant the controller issues its first
// instruction (after the drain, when it begins with a DVFS change) to the
// instant the next region's begins, so the regions cover the run and add up
// to it; events count when their instruction starts (docs/energy-model.md,
// "Energy per region and over time").
struct Slice {
  std::string name;
  uint64_t start_ps = 0, end_ps = 0;
  uint64_t instructions = 0;  // issued by the controller in the slice
  std::array<DomainStats, hw::kNumDomains> domains;  // time_ps_at_point and transitions (cycles not kept)
  std::array<std::vector<PointActivity>, hw::kNumDomains> activity;
  dram::ChannelStats dram;
};

struct Stats {
  std::string design_point;
  uint64_t time_ps = 0;
  uint64_t cycles = 0;  // compute-domain cycles (docs/timing.md)
  uint64_t instructions = 0;
  std::vector<UnitStats> units;  // control, load, store, then per tile matrix, vector
  std::array<DomainStats, hw::kNumDomains> domains;
  // [tile][space][bank]
  std::vector<std::array<std::vector<BankStats>, 2>> sram;
  std::vector<dram::ChannelStats> dram_channels;
  dram::ChannelStats dram_total;
  Events events;
  // [domain][point]: the events while the domain was at that point (their
  // sum is `events` and the banks' totals, each field in its domain)
  std::array<std::vector<PointActivity>, hw::kNumDomains> activity;
  std::vector<Slice> regions;  // per program region, in order (none without regions)
  std::vector<Slice> samples;  // every Options::sample_ps from time zero, the last one partial
  uint64_t sample_ps = 0;
};

// The statistics of one slice of `run`, as the energy model reads them
// (design point, time, domains, activity, events, DRAM; no units or banks).
Stats slice_stats(const Stats& run, const Slice& s);

nlohmann::json to_json(const Stats& s, const hw::HwConfig& hw);
std::string summary(const Stats& s, const hw::HwConfig& hw);

}  // namespace clonesim::sim
