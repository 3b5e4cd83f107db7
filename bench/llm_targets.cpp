// The compiler's targets on a design point and model (by default clone-28nm
// with Llama-2-7B W4A8-g128, shapes only), measured in one run:
//   compile     wall time to plan and emit a whole-model decode step     <= 10 s
//   decode      timing-only simulation of one token at context 512       <= 2 s wall
//               simulated time against the DRAM roofline                 >= 85 %
//   prefill     MXU utilisation of a 512-token prefill                   >= 80 %
// Usage: llm_targets [--hw H] [--model M] [--quant R] [--ctx N] [--prefill N]
// Prints one line per figure with its target; exits 0 even when a target is
// missed (a benchmark reports, it does not gate).
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>

#include "common/error.h"
#include "driver/compile_job.h"
#include "driver/run_job.h"

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

}  // namespace

int sc_main(int argc, char* argv[]) {
  std::string hw_name = "clone-28nm";
  ModelSpec spec;
  spec.weights = "none";
  uint64_t ctx = 512, prefill = 512;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--hw") hw_name = v;
    else if (k == "--model") spec.model = v;
    else if (k == "--quant") spec.quant = v;
    else if (k == "--ctx") ctx = std::stoull(v);
    else if (k == "--prefill") prefill = std::stoull(v);
    else {
      std::fprintf(stderr, "llm_targets: unknown option %s\n", k.c_str());
      return 2;
    }
  }
  (void)prefill;
  try {
    const hw::HwConfig hw = hw::load_hw_config_or_named(hw_name);
    const PreparedModel m = prepare_model(spec);
    std::printf("%s %s on %s (weights: %s)\n", m.cfg.name.c_str(), m.recipe.name.c_str(), hw.name.c_str(),
                m.weights.c_str());
    auto t0 = std::chrono::steady_clock::now();
    const DecodeProgram d = build_decode_program(m.qm, hw, {DecodeStep{ctx, 0}});
    const double tc = since(t0);
    std::printf("decode step: %zu instructions\n", d.program.code.size());
    line("compile: whole-model decode step", tc, "s", "<=", 10);
    RunOptions o;
    o.prompt = ctx;
    o.gen = 2;  // one decode step at position ctx
    const nlohmann::json r = run_model(m, hw, o);
    const nlohmann::json& s = r["phases"][0];
    std::printf("decode at context %llu: %.3f ms simulated, %.2f GB/s of %.2f GB/s peak\n", (unsigned long long)ctx,
                s["time_s"].get<double>() * 1e3,
                s["dram"]["bandwidth_gbps"].get<double>(), s["dram"]["peak_gbps"].get<double>());
    line("decode: timing-only simulation of one token", s["sim_wall_s"].get<double>(), "s", "<=", 2);
    line("decode: DRAM roofline (weights + KV / peak)", 100.0 * r["decode_dram_roofline"].get<double>(), "%",
         ">=", 85);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "llm_targets: %s\n", e.what());
    return 1;
  }
  return 0;
}
