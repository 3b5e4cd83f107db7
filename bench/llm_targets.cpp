// The compiler's targets on a design point and model (by default clone-28nm
// with Llama-2-7B W4A8-g128, shapes only), measured in one run:
//   compile     wall time to plan and emit a whole-model decode step     <= 10 s
//   decode      timing-only simulation of one token at context 512       <= 2 s wall
//               simulated time against the DRAM roofline                 >= 85 %
//   prefill     MXU utilisation of a 512-token prefill                   >= 80 %
//               (the whole model and the LM head by default; --prefill-layers L
//               keeps the first L layers.  A program takes about 310 bytes per
//               instruction while it is simulated (280 for isa::Instruction, 24 for
//               the simulator's retirement record); when the whole model's would
//               not fit the memory available, the bench says so and measures the
//               most layers that fit)
// The prefill program is built without a listing and simulated in this
// process, the program moved into the simulator: one copy of it in memory
// (the decode step runs in a child process first, so this process elaborates
// one SystemC model).
// Usage: llm_targets [--hw H] [--model M] [--quant R] [--ctx N] [--prefill N] [--prefill-layers L]
// Prints one line per figure with its target; exits 0 even when a target is
// missed (a benchmark reports, it does not gate).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>

#include "common/error.h"
#include "bench_options.h"
#include "driver/compile_job.h"
#include "driver/run_job.h"
#include "lower/prefill_program.h"
#include "sim/accelerator.h"
#include "sim/stats.h"

using namespace clonesim;
using namespace clonesim::compiler;

namespace {

double since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void line(const char* what, double value, const char* unit, const char* cmp, double target) {
  const bool ok = std::strcmp(cmp, "<=") == 0 ? value <= target : value >= target;
  std::printf("%-44s %10.3f %-3s target %s %g %s  %s\n", what, value, unit, cmp, target, unit,
              ok ? "met" : "MISSED");
}

// MemAvailable of /proc/meminfo in bytes (0 if unknown).
uint64_t mem_available() {
  std::ifstream f("/proc/meminfo");
  std::string k;
  uint64_t v = 0;
  std::string unit;
  while (f >> k >> v >> unit)
    if (k == "MemAvailable:") return v * 1024;
  return 0;
}

// simulated: the program (one isa::Instruction each), the retirement log (24), and slack
constexpr double kBytesPerInstruction = double(sizeof(isa::Instruction)) + 24 + 30;

}  // namespace

int sc_main(int argc, char* argv[]) {
  bench::ModelBenchOptions o;
  uint64_t prefill = 512, prefill_layers = 0;  // 0: every layer
  const int rc = bench::parse_args(argc, argv, "llm_targets",
                                   "[--hw H] [--model M] [--quant R] [--ctx N] [--prefill N] [--prefill-layers L]", o,
                                   [&](const std::string& k, const std::string& v) {
                                     if (k == "--prefill") prefill = std::stoull(v);
                                     else if (k == "--prefill-layers") prefill_layers = std::stoull(v);
                                     else return false;
                                     return true;
                                   });
  if (rc >= 0) return rc;
  const uint64_t ctx = o.ctx;
  try {
    const hw::HwConfig hw = hw::load_hw_config_or_named(o.hw);
    const PreparedModel m = prepare_model(o.spec);
    std::printf("%s %s on %s (weights: %s)\n", m.cfg.name.c_str(), m.recipe.name.c_str(), hw.name.c_str(),
                m.weights.c_str());
    auto t0 = std::chrono::steady_clock::now();
    const DecodeProgram d = build_decode_program(m.qm, hw, ctx);
    const double tc = since(t0);
    std::printf("decode step: %zu instructions\n", d.program.code.size());
    line("compile: whole-model decode step", tc, "s", "<=", 10);
    sim::Options so;
    so.mode = sim::Mode::Timing;
    so.ctx = decode_context(d, ctx, 0);
    t0 = std::chrono::steady_clock::now();
    const nlohmann::json ds = simulate_in_child(hw, d.program, {}, so, "decode step").stats;
    const double ts = since(t0);
    const double peak = hw.dram.peak_gbps() * 1e9, t = ds["time_s"].get<double>();
    std::printf("decode at context %llu: %.3f ms simulated, %.2f GB/s of %.2f GB/s peak\n", (unsigned long long)ctx,
                t * 1e3, ds["dram"]["bandwidth_gbps"].get<double>(), hw.dram.peak_gbps());
    line("decode: timing-only simulation of one token", ts, "s", "<=", 2);
    line("decode: DRAM roofline (weights + KV / peak)", 100.0 * double(decode_roofline_bytes(m, ctx)) / peak / t,
         "%", ">=", 85);
    if (prefill > 0) {
      ModelConfig c = m.cfg;
      if (prefill_layers > 0 && prefill_layers < c.layer.size()) c.layer.resize(prefill_layers);
      if (prefill_layers == 0 && c.layer.size() > 1) {
        // the whole model unless its program would not fit: one layer's instructions tell
        ModelConfig one = c;
        one.layer.resize(1);
        PrefillOptions po;
        po.listing = false;
        const uint64_t per_layer =
            build_prefill_program(golden::plan_quant_shapes(one, m.recipe), hw, std::vector<int64_t>(prefill, 1), po)
                .program.code.size();
        const double need = kBytesPerInstruction * double(per_layer) * double(c.layer.size()),
                     avail = 0.85 * double(mem_available());
        if (avail > 0 && need > avail) {
          const size_t fit = std::max<size_t>(1, size_t(avail / (kBytesPerInstruction * double(per_layer))));
          std::printf("prefill: the whole model's program (about %.1fM instructions, %.1f GB simulated) does not fit "
                      "the %.1f GB available; measuring its first %zu layers\n",
                      double(per_layer) * double(c.layer.size()) / 1e6, need / 1e9, avail / 0.85 / 1e9, fit);
          c.layer.resize(fit);
        }
      }
      const golden::QuantModel q = golden::plan_quant_shapes(c, m.recipe);
      PrefillOptions po;
      po.listing = false;
      t0 = std::chrono::steady_clock::now();
      PrefillProgram p = build_prefill_program(q, hw, std::vector<int64_t>(prefill, 1), po);
      const double tb = since(t0);
      const size_t n_ins = p.program.code.size();
      std::printf("prefill of %llu tokens, %zu of %zu layers + LM head: %zu instructions, built in %.1f s; "
                  "simulating\n",
                  (unsigned long long)prefill, c.layer.size(), m.cfg.layer.size(), n_ins, tb);
      std::fflush(stdout);
      so.ctx = {};  // (the decode step's registers)
      t0 = std::chrono::steady_clock::now();
      nlohmann::json ps;
      {
        sim::Accelerator acc("prefill", hw, std::move(p.program), so);
        sc_core::sc_start();
        if (!acc.error().empty()) throw Error("prefill: " + acc.error());
        if (!acc.finished()) throw Error("prefill: the simulation ended before the program halted");
        ps = sim::to_json(acc.stats(), hw);
      }
      const double tp = since(t0);
      std::printf("prefill: simulated in %.1f s, %.3f ms simulated, %llu cycles\n", tp,
                  ps["time_s"].get<double>() * 1e3, (unsigned long long)ps["cycles"].get<uint64_t>());
      line("prefill: MXU utilisation", 100.0 * ps["mxu_util"].get<double>(), "%", ">=", 80);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "llm_targets: %s\n", e.what());
    return 1;
  }
  return 0;
}
