// `clonesim run`: compile a model for a design point and simulate a prompt's
// prefill and the decode steps of a generation on the SystemC model, then
// report latency (TTFT, TPOT, tokens/s), cycles, unit utilisation, DRAM
// bandwidth and SRAM traffic (docs/compiler.md, "Compiling and running a
// model").  Every program runs in a child process of its own (the SystemC
// kernel can be elaborated once per process), so one `run` simulates any
// number of programs.
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "driver/compile_job.h"
#include "driver/dvfs_job.h"
#include "hw/hw_config.h"
#include "sim/accelerator.h"

namespace clonesim::compiler {

// What a simulation in a child process returns.
struct ChildRun {
  nlohmann::json stats;                    // sim::to_json of its statistics
  std::vector<std::vector<uint8_t>> dumps; // the DRAM ranges asked for, after the run
};

// Simulates `program` on `hw` in a child process, with `image` written to
// DRAM first (functional mode), and reads back the DRAM ranges `dumps`
// (address, bytes; functional mode).  Throws clonesim::Error "WHAT: ..." when
// the run fails or the child dies.
ChildRun simulate_in_child(const hw::HwConfig& hw, const isa::Program& program, const std::vector<DramChunk>& image,
                           const sim::Options& opt, const std::string& what,
                           const std::vector<std::pair<uint64_t, uint64_t>>& dumps = {});

struct RunOptions {
  uint64_t prompt = 16;                 // prompt tokens (prefill)
  uint64_t gen = 4;                     // generated tokens: the first from the prefill, then gen - 1 decode steps
  sim::Mode mode = sim::Mode::Timing;   // functional needs weights
  std::ostream* progress = nullptr;     // one line per simulated program
  double sample_us = 250;               // power sampled every sample_us of simulated time (0: not sampled)
  // A DVFS governor for every program (none: the design point's initial
  // points).  Each program is profiled at every point of the domain first
  // (timing mode), then simulated under the governor.
  GovernorOptions governor;
};

// One run: per phase (each program simulated) and the totals.  Keys of the
// result: ttft_s, tpot_s, tokens_per_s, decode_tokens_per_s, cycles, time_s,
// mxu_util, vxu_util, dma_util, dram_bw_util, dram_bytes, sram_read_bytes,
// sram_write_bytes, decode_dram_roofline, model, design_point, phases[].
// Each phase has its "regions" (the embedding, every layer, the LM head:
// time and energy, power::regions_json) and its "power" over time
// (power::power_json, every sample_us).  With a governor, each phase has its
// "governor" (governed_phase_json) and the run a "governor" summary: the
// targets, how many phases met them, and the energy over the target windows
// against the fixed top point's.
nlohmann::json run_model(const PreparedModel& m, const hw::HwConfig& hw, const RunOptions& opt);

// Bytes a decode step at KV position `pos` must read from DRAM: every streamed
// weight byte with its scales (the embedding table only when the LM head
// shares it) and the KV cache of positions 0..pos.  Over peak bandwidth it is
// the step's DRAM roofline time.
uint64_t decode_roofline_bytes(const PreparedModel& m, uint64_t pos);

// Totals of phases (sim::to_json results with their "phase" set) as run_model reports them.
nlohmann::json combine_phases(const std::vector<nlohmann::json>& phases, const hw::HwConfig& hw);

// The human table of a run.
std::string run_summary(const nlohmann::json& run);

}  // namespace clonesim::compiler
