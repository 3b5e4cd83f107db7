// Simulation speed: simulated cycles per wall-clock second, functional and
// timing-only, on a large tiled GEMM (>= 10^4 MXU tiles with DMA) and on a
// DRAM-bound stream.  Each measurement runs in its own process (one SystemC
// kernel per process); run with no arguments for the whole table, or with
// `--asm CASE [HW]` for a case's program as assembly text.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unistd.h>

#include <systemc>

#include "bench/synthetic_programs.h"
#include "common/error.h"
#include "isa/program.h"
#include "sim/run.h"

using namespace clonesim;

namespace {

struct Case {
  const char* name;
  const char* hw;
  const char* what;
};
const Case kCases[] = {
    {"gemm", "clone-28nm", "tiled GEMM, 64x256 by 256x10240 int8: 10240 MXU tiles, 640 weight loads, 640 stores"},
    {"gemm-int4", "clone-28nm", "the same GEMM with int4 weights"},
    {"stream", "clone-28nm", "DRAM-bound stream: 2048 loads of 32 KiB (64 MiB)"},
    {"stream-small", "edge-small", "DRAM-bound stream on edge-small: 512 loads of 32 KiB"},
};

const Case* find_case(const std::string& name) {
  for (const auto& k : kCases)
    if (name == k.name) return &k;
  throw Error("unknown case " + name);
}

// The program of a case, as assembly text, on `hw` (by default the case's).
std::string case_program(const Case& c, const hw::HwConfig& hw) {
  const std::string name = c.name;
  if (name == "gemm") return bench::tiled_gemm(hw, 64, 16, 640, false);
  if (name == "gemm-int4") return bench::tiled_gemm(hw, 64, 16, 640, true);
  if (name == "stream") return bench::dram_stream(hw, 2048, 32768);
  return bench::dram_stream(hw, 512, 32768);
}

int run_one(const std::string& name, const std::string& mode) {
  const Case* c = find_case(name);
  const hw::HwConfig hw = hw::load_hw_config_or_named(c->hw);
  const isa::Program prog = isa::assemble(case_program(*c, hw), name);
  sim::Options opt;
  opt.mode = mode == "timing" ? sim::Mode::Timing : sim::Mode::Functional;
  const auto t0 = std::chrono::steady_clock::now();
  uint64_t cycles = 0, instrs = 0;
  double bw = 0;
  sim::run_program(hw, prog, opt, nullptr, [&](const sim::Accelerator& a) {
    cycles = a.stats().cycles;
    instrs = a.stats().instructions;
    const auto& d = a.stats().dram_total;
    bw = double(d.read_bytes + d.write_bytes) / (double(a.stats().time_ps) * 1e-12) / 1e9 / hw.dram.peak_gbps();
  });
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("RESULT %s %s %llu %llu %.6f %.4f\n", name.c_str(), mode.c_str(), (unsigned long long)cycles,
              (unsigned long long)instrs, wall, bw);
  return 0;
}

}  // namespace

int sc_main(int argc, char* argv[]) {
  try {
    if (argc == 4 && std::strcmp(argv[1], "--case") == 0) return run_one(argv[2], argv[3]);
    // --asm CASE [HW]: print a case's program (e.g. for `clonesim sim`)
    if ((argc == 3 || argc == 4) && std::strcmp(argv[1], "--asm") == 0) {
      const Case* c = find_case(argv[2]);
      std::fputs(case_program(*c, hw::load_hw_config_or_named(argc == 4 ? argv[3] : c->hw)).c_str(), stdout);
      return 0;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sim_speed: %s\n", e.what());
    return 1;
  }
  char self[4096];
  const ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return 1;
  self[n] = 0;
  std::printf("clonesim simulation speed (each row its own process; wall time includes elaboration)\n\n");
  std::printf("%-13s %-11s %-10s %12s %9s %10s %14s %8s\n", "case", "design", "mode", "cycles", "instrs", "wall s",
              "cycles/s", "DRAM bw");
  double stream_timing = 0;
  for (const auto& c : kCases)
    for (const char* mode : {"functional", "timing"}) {
      const std::string cmd = std::string(self) + " --case " + c.name + " " + mode;
      FILE* f = popen(cmd.c_str(), "r");
      char line[512];
      bool ok = false;
      while (f && fgets(line, sizeof line, f)) {
        char nm[64], md[32];
        unsigned long long cycles, instrs;
        double wall, bw;
        if (std::sscanf(line, "RESULT %63s %31s %llu %llu %lf %lf", nm, md, &cycles, &instrs, &wall, &bw) == 6) {
          const double rate = double(cycles) / wall;
          std::printf("%-13s %-11s %-10s %12llu %9llu %10.3f %14.3e %7.1f%%\n", c.name, c.hw, mode, cycles, instrs,
                      wall, rate, 100 * bw);
          if (std::string(c.name) == "stream" && std::string(mode) == "timing") stream_timing = rate;
          ok = true;
        }
      }
      if (f) pclose(f);
      if (!ok) std::printf("%-13s %-11s %-10s FAILED\n", c.name, c.hw, mode);
    }
  std::printf("\n");
  for (const auto& c : kCases) std::printf("  %-13s %s\n", c.name, c.what);
  std::printf("\ntarget: timing-only >= 1e8 simulated cycles/s on the DRAM-bound stream: %.3e -> %s\n", stream_timing,
              stream_timing >= 1e8 ? "met" : "NOT met");
  return 0;
}

int main(int argc, char* argv[]) {
  setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
  return sc_core::sc_elab_and_sim(argc, argv);
}
