// The DVFS governors' targets (README, "Targets"; docs/energy-model.md,
// "Governors"): Llama-2-7B W4A8-g128 decode on clone-28nm with a TPOT target
// 20% slacker than the max-frequency TPOT, and the prefill of a prompt with a
// TTFT target as slack.  The compute domain is governed per layer; every
// schedule runs through the simulator, the offline optimum as dvfs
// instructions in the program and the online governor deciding at run time
// from the profile of another context (decode) or prompt length (prefill).
// Then the efficiency beside the 28nm chips of reference-28nm.md.
//
//   dvfs_governors [--hw NAME] [--model NAME] [--quant NAME] [--ctx N] [--prompt N]
//                  [--slack 1.2] [--phases decode,prefill]
#include <chrono>
#include <cstdio>
#include <string>

#include "common/error.h"
#include "bench_options.h"
#include "driver/compile_job.h"
#include "driver/dvfs_job.h"
#include "driver/run_job.h"
#include "lower/decode_program.h"
#include "lower/prefill_program.h"
#include "golden/golden_model.h"

using namespace clonesim;
using namespace clonesim::compiler;

namespace {

double since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::string points_used(const std::vector<size_t>& pts, const hw::DomainConfig& dc) {
  std::vector<size_t> n(dc.points.size(), 0);
  for (size_t q : pts) ++n[q];
  std::string s;
  for (size_t q = 0; q < n.size(); ++q)
    if (n[q]) s += (s.empty() ? "" : " ") + std::to_string(int(dc.points[q].mhz)) + "MHz x" + std::to_string(n[q]);
  return s;
}

// A phase's governors against the fixed top point over its target window.
struct PhaseResult {
  double save_off = 0, save_on = 0;
  bool meets_off = false, meets_on = false;
  MeasuredRun fixed, off;
};

// One phase (`label`: "TPOT" for a decode step, "TTFT" for a prefill): the
// profile of `p`, the target `slack` x its max-frequency time, the four
// governors through the simulator; the online governor predicts from `pred`.
PhaseResult governors(const hw::HwConfig& hw, const char* label, const isa::Program& p, const sim::Options& so,
                      const isa::Program& pred_p, const sim::Options& pred_so, const std::string& pred_what,
                      double slack) {
  const hw::Domain dom = hw::Domain::Compute;
  const hw::DomainConfig& dc = hw.domain(dom);
  const size_t top = dc.points.size() - 1;
  // the profile: the program at every point, free and with a change at every region
  const DvfsProfile prof = profile_dvfs(hw, p, so, dom);
  std::printf("\nprofile (simulated, per program):\n%-10s %8s %10s %12s %12s %12s\n", "point", "volts",
              (std::string(label) + " ms").c_str(), "chip mJ", "total mJ", "+change/reg");
  for (size_t q = 0; q < dc.points.size(); ++q)
    std::printf("%4.0f MHz   %8.2f %10.3f %12.4f %12.4f %10.1f us\n", dc.points[q].mhz, dc.points[q].volts,
                prof.free[q].time_s * 1e3, prof.free[q].chip_j() * 1e3, prof.free[q].energy_j * 1e3,
                (prof.switched[q].time_s - prof.free[q].time_s) / double(p.regions.size()) * 1e6);
  PhaseResult res;
  res.fixed = prof.free[top];
  const MeasuredRun& fixed = res.fixed;
  const double target = slack * fixed.time_s;
  const power::GovernorProblem prob = governor_problem(prof, target, top);
  std::printf("\n%s target: %.2f x the max-frequency %s = %.3f ms\n", label, slack, label, target * 1e3);
  const DvfsProfile pred = profile_dvfs(hw, pred_p, pred_so, dom, false);
  std::printf("online prediction: the profile of %s (%s %.3f ms at the top point)\n", pred_what.c_str(), label,
              pred.free[top].time_s * 1e3);

  const power::Schedule s_fixed = power::fixed_point(prob, top), s_race = power::race_to_idle(prob);
  const OfflinePlan op = plan_offline(hw, p, so, dom, prob, "offline schedule");
  if (op.replans) std::printf("offline: planned %u more time(s), the deadline moved earlier by the overshoot\n", op.replans);
  const power::Schedule& s_off = op.schedule;
  res.off = op.run;
  const MeasuredRun& off = res.off;
  std::vector<size_t> on_pts;
  const MeasuredRun on = run_online(hw, p, so, dom, prob, layer_costs(pred), &on_pts, "online governor");

  // energy over the target window: the run, then idle at its last point until the target
  auto window = [&](const MeasuredRun& r, size_t last, bool chip) {
    const double idle = std::max(0.0, target - r.time_s) * (prof.idle_power_w[last] - (chip ? prof.idle_dram_w : 0));
    return (chip ? r.chip_j() : r.energy_j) + idle;
  };
  struct Row {
    const char* name;
    const MeasuredRun* run;
    std::vector<size_t> pts;
    size_t last;
    double predicted_ms;
  };
  const Row rows[] = {{"fixed top point", &fixed, s_fixed.point, top, s_fixed.time_s * 1e3},
                      {"race-to-idle", &fixed, s_race.point, s_race.idle_point, s_race.time_s * 1e3},
                      {"offline optimum", &off, s_off.point, s_off.point.back(), s_off.time_s * 1e3},
                      {"online governor", &on, on_pts, on_pts.empty() ? top : on_pts.back(), 0}};
  const double chip0 = window(fixed, top, true), tot0 = window(fixed, top, false);
  std::printf("\nper program over the %.3f ms %s window (the run, then idle at its last point):\n", target * 1e3,
              label);
  std::printf("%-16s %10s %10s %6s %10s %10s %9s %9s %s\n", "governor", "plan ms", (std::string(label) + " ms").c_str(),
              "meets", "chip mJ", "total mJ", "chip sav", "tot sav", "points");
  for (const Row& r : rows) {
    const double c = window(*r.run, r.last, true), t = window(*r.run, r.last, false);
    const bool meets = r.run->time_s <= target;
    char plan[16] = "-";
    if (r.predicted_ms > 0) std::snprintf(plan, sizeof plan, "%.3f", r.predicted_ms);
    std::printf("%-16s %10s %10.3f %6s %10.4f %10.4f %8.1f%% %8.1f%% %s\n", r.name, plan, r.run->time_s * 1e3,
                meets ? "yes" : "NO", c * 1e3, t * 1e3, 100 * (1 - c / chip0), 100 * (1 - t / tot0),
                points_used(r.pts, dc).c_str());
    if (r.run == &off) res.save_off = 1 - c / chip0, res.meets_off = meets;
    if (r.run == &on) res.save_on = 1 - c / chip0, res.meets_on = meets;
  }
  return res;
}

}  // namespace

int sc_main(int argc, char* argv[]) {
  bench::ModelBenchOptions o;
  double slack = 1.2;
  uint64_t prompt = 16;
  std::string phases = "decode,prefill";
  const int rc = bench::parse_args(argc, argv, "dvfs_governors",
                                   "[--hw NAME] [--model NAME] [--quant NAME] [--ctx N] [--prompt N] [--slack 1.2] "
                                   "[--phases decode,prefill]",
                                   o, [&](const std::string& k, const std::string& v) {
                                     if (k == "--slack") slack = std::stod(v);
                                     else if (k == "--prompt") prompt = std::stoull(v);
                                     else if (k == "--phases") phases = v;
                                     else return false;
                                     return true;
                                   });
  if (rc >= 0) return rc;
  const bool do_decode = phases.find("decode") != std::string::npos,
             do_prefill = phases.find("prefill") != std::string::npos;
  const uint64_t ctx = o.ctx;
  try {
    const auto t00 = std::chrono::steady_clock::now();
    const hw::HwConfig hw = hw::load_hw_config_or_named(o.hw);
    const PreparedModel m = prepare_model(o.spec);
    const hw::Domain dom = hw::Domain::Compute;
    const hw::DomainConfig& dc = hw.domain(dom);
    sim::Options so;
    so.mode = sim::Mode::Timing;
    PhaseResult dec, pre;
    if (do_decode) {
      const uint64_t pos = ctx - 1;  // the token at position ctx - 1 attends to ctx positions
      const DecodeProgram d = build_decode_program(m.qm, hw, pos);
      sim::Options sd = so;
      sd.ctx = decode_context(d, pos, 0);
      std::printf("== %s %s decode at context %llu on %s: %zu instructions, %zu regions; the %s domain governed (%zu "
                  "points), the others at their initial points\n",
                  m.cfg.name.c_str(), m.recipe.name.c_str(), (unsigned long long)ctx, hw.name.c_str(),
                  d.program.code.size(), d.program.regions.size(), hw::to_string(dom), dc.points.size());
      // the online governor's prediction: the profile of another context (fewer KV blocks)
      const uint64_t ppos = std::max<uint64_t>(1, ctx / 2) - 1;
      const DecodeProgram dpred = build_decode_program(m.qm, hw, ppos);
      sim::Options sp = so;
      sp.ctx = decode_context(dpred, ppos, 0);
      dec = governors(hw, "TPOT", d.program, sd, dpred.program, sp,
                      "context " + std::to_string(ppos + 1), slack);
    }
    if (do_prefill) {
      const std::vector<int64_t> tokens = golden::calibration_tokens(m.cfg, kPromptSeed, int64_t(prompt));
      PrefillOptions po;
      po.listing = false;
      const PrefillProgram pf = build_prefill_program(m.qm, hw, tokens, po);
      std::printf("\n== %s %s prefill of %llu tokens on %s: %zu instructions, %zu regions\n", m.cfg.name.c_str(),
                  m.recipe.name.c_str(), (unsigned long long)prompt, hw.name.c_str(), pf.program.code.size(),
                  pf.program.regions.size());
      // the online governor's prediction: the prefill of a prompt half as long
      const uint64_t half = std::max<uint64_t>(1, prompt / 2);
      const PrefillProgram ppred = build_prefill_program(
          m.qm, hw, golden::calibration_tokens(m.cfg, kPromptSeed, int64_t(half)), po);
      pre = governors(hw, "TTFT", pf.program, so, ppred.program, so, "a prompt of " + std::to_string(half) + " tokens",
                      slack);
    }

    std::printf("\n%-62s %10s %10s %s\n", "target", "measured", "goal", "result");
    auto line = [](const std::string& what, double v, const char* goal, bool ok) {
      std::printf("%-62s %9.1f%% %10s %s\n", what.c_str(), 100 * v, goal, ok ? "met" : "MISSED");
    };
    if (do_decode) {
      line("decode, offline optimum: accelerator energy saved vs top", dec.save_off, ">= 25%",
           dec.save_off >= 0.25 && dec.meets_off);
      line("decode, online governor: accelerator energy saved vs top", dec.save_on, ">= 15%",
           dec.save_on >= 0.15 && dec.meets_on);
      std::printf("%-62s %10s %10s %s\n", "decode: both meet the TPOT target", dec.meets_off && dec.meets_on ? "yes" : "no",
                  "yes", dec.meets_off && dec.meets_on ? "met" : "MISSED");
    }
    if (do_prefill) {
      std::printf("%-62s %9.1f%% %10s %s\n", "prefill, offline optimum: accelerator energy saved vs top",
                  100 * pre.save_off, "-", pre.meets_off ? "meets TTFT" : "MISSES TTFT");
      std::printf("%-62s %9.1f%% %10s %s\n", "prefill, online governor: accelerator energy saved vs top",
                  100 * pre.save_on, "-", pre.meets_on ? "meets TTFT" : "MISSES TTFT");
    }

    // beside the published 28nm chips (../shared/design/reference-28nm.md)
    std::printf("\nefficiency (accelerator energy, without the DRAM)\n");
    std::printf("%-52s %14s %16s\n", "chip", "TOPS/W", "energy/token");
    auto eff = [&](const char* what, const MeasuredRun& r, double tokens) {
      std::printf("%-52s %14.3f %13.4g mJ\n", ("clonesim " + hw.name + ", " + what).c_str(), r.ops / r.chip_j() / 1e12,
                  r.chip_j() / tokens * 1e3);
    };
    if (do_decode) {
      std::printf("(decode: the DRAM adds %.1f mJ per token)\n", dec.fixed.dram_j * 1e3);
      eff("decode, fixed top point", dec.fixed, 1);
      eff("decode, offline DVFS", dec.off, 1);
    }
    if (do_prefill) {
      eff("prefill, fixed top point", pre.fixed, double(prompt));
      eff("prefill, offline DVFS", pre.off, double(prompt));
    }
    std::printf("%-52s %14s %16s\n", "KAIST CNN-Transformer (ISSCC 2025)", "52.9 (peak)", "0.22 uJ");
    std::printf("%-52s %14s %16s\n", "Fudan (ISSCC 2023 16.2), 8-bit sparse", "53.8", "n/a");
    std::printf("%-52s %14s %16s\n", "Tsinghua (ISSCC 2022)", "27.5", "n/a");
    std::printf("%-52s %14s %16s\n", "Slim-Llama (ISSCC 2025): 4.92 TOPS, 4.69-82 mW", "~60 (peak)", "n/a");
    std::printf("%-52s %14s %16s\n", "CLONE (ATC 2025): 1.4-1.6x less energy than no accel.", "n/a", "n/a");
    std::printf("(the published figures are peak efficiencies on small models; decode of a 7B model is bound by "
                "the DRAM, so its TOPS/W is far below an array's peak)\n");
    std::printf("\nbenchmark wall time %.1f s\n", since(t00));
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dvfs_governors: %s\n", e.what());
    return 1;
  }
}
