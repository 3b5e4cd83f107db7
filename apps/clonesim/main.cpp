// clonesim: the command-line front end.  CLI11 lives in this one translation
// unit only (it is slow to compile).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <random>
#include <string>
#include <vector>
#include <filesystem>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <systemc>

#include "common/error.h"
#include "common/file_io.h"
#include "common/strf.h"
#include "driver/compile_job.h"
#include "driver/run_job.h"
#include "driver/run_report.h"
#include "ir/graph.h"
#include "model/compress.h"
#include "model/model.h"
#include "hw/hw_config.h"
#include "isa/program.h"
#include "power_models/area_model.h"
#include "rtl/synth/synth_area.h"
#include "sim/run.h"
#include "sim/stats.h"
#include "sim/trace.h"
#include "rtl/generator/rtl_generator.h"

using namespace clonesim;

namespace {

void write_text(const std::string& path, const std::string& text) { write_text_file(path, text); }

// The technology file named on the command line, else the shipped one of the
// design point's technology_nm.
power::Tech tech_for(const hw::HwConfig& h, std::string name) {
  if (name.empty()) {
    name = power::default_tech_name(h.technology_nm);
    const auto names = power::shipped_tech_names();
    if (std::find(names.begin(), names.end(), name) == names.end())
      throw Error(h.source + ": no shipped technology file for technology_nm " + std::to_string(h.technology_nm) +
                  " (" + name + "); give one with --tech");
  }
  return power::load_tech_or_named(name);
}

// The design point's operating points against the technology's V-f curve
// (power::check_operating_points).  A point faster than the curve is an error
// when the technology is of the design point's node; with a technology of
// another node (comparing nodes), the operating points are not that node's,
// and a failure is only noted.
void check_vf(const hw::HwConfig& h, const power::Tech& tech) {
  if (tech.nm == h.technology_nm) {
    power::check_operating_points(h, tech);
    return;
  }
  try {
    power::check_operating_points(h, tech);
  } catch (const Error& e) {
    std::cerr << "clonesim: note: " << h.technology_nm << " nm design point on " << tech.nm
              << " nm technology: " << e.what() << "\n";
  }
}

// "c3=42" or "3=42"
void parse_ctx(const std::string& s, std::array<int64_t, isa::kNumContextRegs>& ctx) {
  const auto eq = s.find('=');
  std::string reg = s.substr(0, eq);
  if (!reg.empty() && (reg[0] == 'c' || reg[0] == 'C')) reg = reg.substr(1);
  char* end = nullptr;
  const long r = eq == std::string::npos ? -1 : std::strtol(reg.c_str(), &end, 10);
  if (eq == std::string::npos || reg.empty() || *end || r < 1 || r >= long(isa::kNumContextRegs))
    throw Error("--ctx " + s + ": expected cN=VALUE with N in 1..7");
  const std::string v = s.substr(eq + 1);
  const long long val = std::strtoll(v.c_str(), &end, 0);
  if (v.empty() || *end) throw Error("--ctx " + s + ": value '" + v + "' is not an integer");
  ctx[r] = val;
}

uint64_t parse_u64(const std::string& what, const std::string& s) {
  char* end = nullptr;
  const unsigned long long v = std::strtoull(s.c_str(), &end, 0);
  if (s.empty() || *end || s[0] == '-') throw Error(what + ": '" + s + "' is not a non-negative integer");
  return v;
}

struct DramInit {
  std::string spec;
};

// FILE@ADDR: raw bytes of FILE at DRAM address ADDR.
void apply_dram_file(sim::Accelerator& acc, const std::string& spec) {
  const auto at = spec.rfind('@');
  if (at == std::string::npos) throw Error("--dram-file " + spec + ": expected FILE@ADDRESS");
  const std::string file = spec.substr(0, at);
  const uint64_t addr = parse_u64("--dram-file " + spec, spec.substr(at + 1));
  std::ifstream f(file, std::ios::binary);
  if (!f) throw Error(file + ": cannot open");
  std::vector<char> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  acc.dram().write(addr, bytes.data(), bytes.size());
}

// ADDR:LEN[:SEED]: LEN random bytes at ADDR.
void apply_dram_random(sim::Accelerator& acc, const std::string& spec) {
  std::vector<std::string> parts;
  size_t pos = 0;
  while (true) {
    const auto c = spec.find(':', pos);
    parts.push_back(spec.substr(pos, c == std::string::npos ? std::string::npos : c - pos));
    if (c == std::string::npos) break;
    pos = c + 1;
  }
  if (parts.size() < 2 || parts.size() > 3) throw Error("--dram-random " + spec + ": expected ADDRESS:LENGTH[:SEED]");
  const uint64_t addr = parse_u64("--dram-random address", parts[0]);
  const uint64_t len = parse_u64("--dram-random length", parts[1]);
  const uint64_t seed = parts.size() == 3 ? parse_u64("--dram-random seed", parts[2]) : 1;
  if (len > (uint64_t(1) << 32)) throw Error("--dram-random " + spec + ": length over 4 GiB");
  std::mt19937_64 rng(seed);
  std::vector<uint8_t> bytes(len);
  for (auto& b : bytes) b = static_cast<uint8_t>(rng());
  acc.dram().write(addr, bytes.data(), bytes.size());
}

// ADDR:LEN:FILE: write LEN bytes of DRAM at ADDR to FILE after the run.
void dump_dram(const sim::Accelerator& acc, const std::string& spec) {
  const auto c1 = spec.find(':');
  const auto c2 = c1 == std::string::npos ? std::string::npos : spec.find(':', c1 + 1);
  if (c2 == std::string::npos) throw Error("--dump-dram " + spec + ": expected ADDRESS:LENGTH:FILE");
  const uint64_t addr = parse_u64("--dump-dram address", spec.substr(0, c1));
  const uint64_t len = parse_u64("--dump-dram length", spec.substr(c1 + 1, c2 - c1 - 1));
  std::vector<char> bytes(len);
  acc.dram().read(addr, bytes.data(), len);
  write_text(spec.substr(c2 + 1), std::string(bytes.begin(), bytes.end()));
}

// --imem-depth N: the rule of a design point's controller.imem_depth.
const CLI::Validator kImemDepthRule(
    [](std::string& s) -> std::string {
      const bool digits = !s.empty() && s.size() <= 12 && s.find_first_not_of("0123456789") == std::string::npos;
      const std::string bad = digits ? hw::check_imem_depth(std::stoull(s)) : hw::imem_depth_rule() + ", got '" + s + "'";
      return bad.empty() ? "" : "expected " + bad;
    },
    hw::imem_depth_rule());

}  // namespace

int sc_main(int argc, char* argv[]) {
  CLI::App app{
      "clonesim: cycle-accurate simulator of a scalable 28nm LLM edge accelerator.\n"
      "Design points are YAML files (configs/hw/) or the names of shipped ones:\n"
      "clone-28nm (default), edge-small, edge-large.",
      "clonesim"};
  app.require_subcommand(1);
  app.footer(
      "\nExamples:\n"
      "  clonesim hw show clone-28nm\n"
      "  clonesim sim examples/gemm.s --json stats.json --trace timeline.json\n"
      "  clonesim sim examples/dram_stream.s --hw edge-large --mode timing\n"
      "  clonesim asm examples/rmsnorm.s -o rmsnorm.bin && clonesim disasm rmsnorm.bin\n"
      "  clonesim area --hw edge-small --tech tech-45nm --json area.json\n"
      "  clonesim model show llama-2-7b --quant W4A8-g128 && clonesim model graph tiny --phase decode:5\n"
      "  clonesim run    (the default: llama-2-7b W4A8-g128 on clone-28nm)\n"
      "  clonesim run --model tiny --hw edge-small --prompt 16 --gen 4 --json run.json\n"
      "  clonesim compile --model vicuna-68m --quant W8A8 -o out/\n"
      "Docs: docs/isa.md (instructions), docs/timing.md (latencies), docs/design-points.md (YAML).");
  app.set_help_all_flag("--help-all", "Show help for every command");

  // ---- sim
  std::string program_path, hw_name = hw::default_hw_name(), mode = "functional", json_out, trace_out;
  std::vector<std::string> ctx_args, dram_files, dram_randoms, dram_dumps;
  bool quiet = false;
  auto* sim_cmd = app.add_subcommand("sim", "Run a program (assembly or binary) on a design point");
  sim_cmd->add_option("program", program_path, "Program: assembly text (.s) or binary (.bin)")->required();
  sim_cmd->add_option("--hw", hw_name, "Design point: a YAML file or a shipped name")->capture_default_str();
  sim_cmd->add_option("--mode", mode, "functional (computes data) or timing (timing only; same cycles)")
      ->check(CLI::IsMember({"functional", "timing"}))
      ->capture_default_str();
  sim_cmd->add_option("--json", json_out, "Write the statistics as JSON to this file");
  sim_cmd->add_option("--trace", trace_out, "Write a Perfetto/Chrome trace-event timeline to this file");
  sim_cmd->add_option("--ctx", ctx_args, "Context register before the run, e.g. --ctx c1=511 (repeatable)");
  sim_cmd->add_option("--dram-file", dram_files, "Load FILE@ADDRESS into DRAM before the run (repeatable)");
  sim_cmd->add_option("--dram-random", dram_randoms, "Fill ADDRESS:LENGTH[:SEED] of DRAM with random bytes");
  sim_cmd->add_option("--dump-dram", dram_dumps, "After the run, write ADDRESS:LENGTH:FILE of DRAM to FILE");
  sim_cmd->add_flag("-q,--quiet", quiet, "Do not print the summary");

  // ---- asm / disasm
  std::string asm_in, asm_out, dis_in, dis_out;
  auto* asm_cmd = app.add_subcommand("asm", "Assemble a text program into the binary format");
  asm_cmd->add_option("input", asm_in, "Assembly file")->required();
  asm_cmd->add_option("-o,--output", asm_out, "Binary output file")->required();
  auto* dis_cmd = app.add_subcommand("disasm", "Disassemble a binary program to assembly text");
  dis_cmd->add_option("input", dis_in, "Binary (or assembly) program")->required();
  dis_cmd->add_option("-o,--output", dis_out, "Write to this file instead of standard output");

  // ---- hw
  std::string show_name;
  auto* hw_cmd = app.add_subcommand("hw", "Design points");
  hw_cmd->require_subcommand(1);
  auto* show_cmd = hw_cmd->add_subcommand("show", "Validate a design point and print its derived figures");
  show_cmd->add_option("design_point", show_name, "YAML file or shipped name")->required();
  auto* list_cmd = hw_cmd->add_subcommand("list", "List the shipped design points");

  // ---- cosim
  std::string cosim_hw = "edge-small", cosim_prog, cosim_vcd, cosim_gen;
  std::vector<std::string> cosim_ctx, cosim_fill;
  auto* cosim_cmd = app.add_subcommand(
      "cosim", "Co-simulate a program on the generated RTL (Verilator) and the SystemC model, cycle for cycle");
  cosim_cmd->add_option("program", cosim_prog, "Program (assembly or binary)");
  cosim_cmd->add_option("--hw", cosim_hw, "Design point whose domains share one clock (YAML file or shipped name)")
      ->capture_default_str();
  cosim_cmd->add_option("--generate", cosim_gen, "Instead of a file: transformer, dram, banks or random:SEED");
  cosim_cmd->add_option("--vcd", cosim_vcd, "Write a VCD waveform of the RTL");
  cosim_cmd->add_option("--ctx", cosim_ctx, "Context register before the run, e.g. --ctx c1=511");
  cosim_cmd->add_option("--dram-random", cosim_fill, "Fill ADDRESS:LENGTH[:SEED] of DRAM with random bytes");

  // ---- rtl
  std::string rtl_hw = hw::default_hw_name(), rtl_out;
  uint32_t imem_depth = 0;  // given: in place of the design point's controller.imem_depth
  auto* rtl_cmd = app.add_subcommand("rtl", "RTL generation");
  rtl_cmd->require_subcommand(1);
  auto* gen_cmd = rtl_cmd->add_subcommand("generate", "Write the design point's SystemVerilog and files.f");
  gen_cmd->add_option("--hw", rtl_hw, "Design point: a YAML file or a shipped name")->capture_default_str();
  gen_cmd->add_option("-o,--output", rtl_out, "Output directory")->required();
  const char* imem_help = "Instructions the program memory holds (default: the design point's controller.imem_depth)";
  CLI::Option* gen_imem = gen_cmd->add_option("--imem-depth", imem_depth, imem_help)->check(kImemDepthRule);
  std::string synth_out, synth_tech, synth_json, synth_liberty = rtl::kDefaultLiberty;
  bool synth_fast = false;
  auto* synth_cmd = rtl_cmd->add_subcommand(
      "synth", "Synthesise the design point's RTL with yosys and compare its area with the analytical model");
  synth_cmd->add_option("--hw", rtl_hw, "Design point: a YAML file or a shipped name")->capture_default_str();
  synth_cmd->add_option("-o,--output", synth_out, "Directory for the RTL, yosys script, log and statistics")
      ->required();
  synth_cmd->add_option("--tech", synth_tech, "Technology of the analytical model (default from the design point)");
  synth_cmd->add_option("--liberty", synth_liberty, "Liberty file with cell areas")->capture_default_str();
  CLI::Option* synth_imem = synth_cmd->add_option("--imem-depth", imem_depth, imem_help)->check(kImemDepthRule);
  synth_cmd->add_option("--json", synth_json, "Write the cross-check as JSON to this file");
  synth_cmd->add_flag("--fast", synth_fast, "Map with `abc -fast` (a whole design in minutes rather than hours; a few % more area)");

  // ---- area
  std::string area_hw = hw::default_hw_name(), area_tech, area_json_out;
  bool area_detail = false;
  auto* area_cmd = app.add_subcommand("area", "Analytical silicon area of a design point, per component");
  area_cmd->add_option("--hw", area_hw, "Design point: a YAML file or a shipped name")->capture_default_str();
  area_cmd->add_option("--tech", area_tech,
                       "Technology: a YAML file or a shipped name (tech-28nm, tech-45nm); "
                       "default tech-<technology_nm of the design point>nm");
  area_cmd->add_option("--json", area_json_out, "Write the breakdown as JSON to this file");
  CLI::Option* area_imem = area_cmd->add_option("--imem-depth", imem_depth, imem_help)->check(kImemDepthRule);
  area_cmd->add_flag("--detail", area_detail, "Print every item (count x unit) of every component");

  // ---- model
  std::string model_name = "llama-2-7b", model_recipe = "W8A8", model_prune, model_phase = "decode:0";
  auto* model_cmd = app.add_subcommand("model", "Language models: import, pruning, quantisation, graph");
  model_cmd->require_subcommand(1);
  auto* model_show = model_cmd->add_subcommand(
      "show", "Import a model (config.json, YAML or shipped name) and print its dimensions, parameters and bytes");
  auto* model_graph = model_cmd->add_subcommand("graph", "Print the model's graph IR for one phase");
  for (auto* c : {model_show, model_graph}) {
    c->add_option("model", model_name, "HF config.json, YAML model file or shipped name")->capture_default_str();
    c->add_option("--quant", model_recipe, "Quantisation recipe: W8A8, W4A8 or W4A8-g128 (group size)")
        ->capture_default_str();
    c->add_option("--prune", model_prune, "Ratio file (docs/models.md): per-layer head/FFN ratios, dropped layers");
  }
  model_graph->add_option("--phase", model_phase, "prefill:N (N tokens) or decode:P (one token at KV position P)")
      ->capture_default_str();
  auto* model_list = model_cmd->add_subcommand("list", "List the shipped models");

  // ---- compile / run
  compiler::ModelSpec spec;
  std::string cr_hw = hw::default_hw_name(), compile_out, run_json, run_mode = "timing";
  uint64_t compile_pos = 0, compile_prompt = 0, run_prompt = compiler::RunOptions{}.prompt, run_gen = compiler::RunOptions{}.gen;
  bool run_quiet = false;
  auto* compile_cmd = app.add_subcommand("compile", "Compile a model for a design point: binary, listing, memory map");
  auto* run_cmd = app.add_subcommand(
      "run", "Compile and simulate a prompt and a generation: TTFT, TPOT, tokens/s, utilisation, DRAM bandwidth");
  for (auto* c : {compile_cmd, run_cmd}) {
    c->add_option("--model", spec.model, "HF config.json, YAML model file or shipped name")->capture_default_str();
    c->add_option("--hw", cr_hw, "Design point: a YAML file or a shipped name")->capture_default_str();
    c->add_option("--prune", spec.prune, "Ratio file (docs/models.md): per-layer head/FFN ratios, dropped layers");
    c->add_option("--quant", spec.quant, "Quantisation recipe: W8A8, W4A8 or W4A8-g128 (group size)")
        ->capture_default_str();
    c->add_option("--weights", spec.weights,
                  "auto (random up to 200M parameters, else none), none (shapes only: timing), random[:SEED], "
                  "or a .safetensors file")
        ->capture_default_str();
  }
  compile_cmd->add_option("-o,--output", compile_out, "Output directory")->required();
  compile_cmd->add_option("--pos", compile_pos, "KV position of the decode step")->capture_default_str();
  compile_cmd->add_option("--prompt", compile_prompt, "Also compile the prefill of a seeded prompt of N tokens (0: none)")
      ->capture_default_str();
  run_cmd->add_option("--prompt", run_prompt, "Prompt tokens")->capture_default_str();
  run_cmd->add_option("--gen", run_gen, "Tokens to generate (the first comes from the prefill)")->capture_default_str();
  run_cmd->add_option("--mode", run_mode, "timing (fast; the same cycles) or functional (computes data; needs weights)")
      ->check(CLI::IsMember({"functional", "timing"}))
      ->capture_default_str();
  run_cmd->add_option("--json", run_json, "Write the run's figures as JSON to this file");
  std::string run_report_dir, report_in, report_out;
  run_cmd->add_option("--report", run_report_dir,
                      "Write a report into this directory: tables, CSV and SVG charts (see clonesim report)");
  auto* report_cmd = app.add_subcommand("report", "Write the report of a run (clonesim run --json) into a directory");
  report_cmd->add_option("run", report_in, "The run JSON")->required();
  report_cmd->add_option("-o,--out", report_out, "Directory for report.txt, run.json, CSV and SVG files")->required();
  double run_sample_us = compiler::RunOptions{}.sample_us;
  run_cmd->add_option("--sample-us", run_sample_us, "Sample power every this many us of simulated time (0: off)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1e9));
  run_cmd->add_flag("-q,--quiet", run_quiet, "No progress lines");
  std::string run_governor = "none", run_gov_domain = "compute";
  compiler::GovernorOptions run_gov;
  double run_ttft_ms = 0, run_tpot_ms = 0;
  run_cmd->add_option("--governor", run_governor,
                      "DVFS governor of every program: none (the design point's points), fixed:POINT, race "
                      "(race-to-idle), offline (the exact per-layer optimum, as dvfs instructions) or online "
                      "(decided per layer at run time); each program is profiled at every point first")
      ->capture_default_str();
  run_cmd->add_option("--governed-domain", run_gov_domain, "The domain the governor sets: compute, memory or always_on")
      ->capture_default_str();
  run_cmd->add_option("--slack", run_gov.slack, "Targets: this factor x each program's time at the top point")
      ->capture_default_str()
      ->check(CLI::Range(1.0, 1e6));
  run_cmd->add_option("--ttft-target-ms", run_ttft_ms, "The prefill's target in ms instead (0: by --slack)")
      ->check(CLI::Range(0.0, 1e12));
  run_cmd->add_option("--tpot-target-ms", run_tpot_ms, "Every decode step's target in ms instead (0: by --slack)")
      ->check(CLI::Range(0.0, 1e12));

  CLI11_PARSE(app, argc, argv);

  try {
    if (*sim_cmd) {
      const hw::HwConfig hw = hw::load_hw_config_or_named(hw_name);
      const isa::Program prog = isa::load_program(program_path);
      sim::Options opt;
      opt.mode = mode == "timing" ? sim::Mode::Timing : sim::Mode::Functional;
      for (const auto& c : ctx_args) parse_ctx(c, opt.ctx);
      if (opt.mode == sim::Mode::Timing && (!dram_files.empty() || !dram_randoms.empty() || !dram_dumps.empty()))
        throw Error("--dram-file, --dram-random and --dump-dram need --mode functional");
      sim::run_program(
          hw, prog, opt,
          [&](sim::Accelerator& acc) {
            for (const auto& s : dram_files) apply_dram_file(acc, s);
            for (const auto& s : dram_randoms) apply_dram_random(acc, s);
          },
          [&](const sim::Accelerator& acc) {
            if (!quiet) std::cout << sim::summary(acc.stats(), hw);
            if (!json_out.empty()) {
              nlohmann::json j = sim::to_json(acc.stats(), hw);
              j["program"] = program_path;
              j["mode"] = mode;
              write_text(json_out, j.dump(2) + "\n");
            }
            if (!trace_out.empty()) write_text(trace_out, sim::chrome_trace(acc, prog).dump() + "\n");
            for (const auto& s : dram_dumps) dump_dram(acc, s);
          });
    } else if (*asm_cmd) {
      const isa::Program p = isa::load_program(asm_in);
      isa::save_binary(p, asm_out);
      std::cout << asm_out << ": " << p.code.size() << " instructions\n";
    } else if (*dis_cmd) {
      const std::string text = isa::disassemble(isa::load_program(dis_in));
      if (dis_out.empty()) std::cout << text;
      else write_text(dis_out, text);
    } else if (*show_cmd) {
      std::cout << hw::describe(hw::load_hw_config_or_named(show_name));
    } else if (*cosim_cmd) {
      namespace fs = std::filesystem;
      const hw::HwConfig h = hw::load_hw_config_or_named(cosim_hw);
      const std::string why = rtl::check_buildable(h);
      if (!why.empty()) throw Error(why);
      const uint64_t P = h.domain(hw::Domain::Compute).points[h.domain(hw::Domain::Compute).initial].period_ps;
      for (int d = 0; d < hw::kNumDomains; ++d)
        if (h.domains[d].points[h.domains[d].initial].period_ps != P)
          throw Error(h.source + ": co-simulation needs every DVFS domain to boot at the same clock (compute " +
                      std::to_string(P) + " ps, " + hw::to_string(static_cast<hw::Domain>(d)) + " " +
                      std::to_string(h.domains[d].points[h.domains[d].initial].period_ps) + " ps)");
      if (cosim_prog.empty() == cosim_gen.empty()) throw Error("cosim: give a program or --generate KIND");
      const bool is_file = fs::exists(cosim_hw);
      const std::string point = is_file ? fs::absolute(cosim_hw).string() : cosim_hw;
      const std::string name = fs::path(cosim_hw).stem().string();
      const std::string bin = std::string(CLONESIM_BINARY_DIR) + "/cosim_" + name;
      if (!fs::exists(bin)) {
        // Build it: add the point to the build's co-simulation list, generate, verilate, link.
        std::cerr << "clonesim: building the co-simulation of " << name
                  << " (generate RTL, verilate, compile: a few minutes, once)\n";
        std::string cache = std::string(CLONESIM_BINARY_DIR) + "/CMakeCache.txt", points;
        std::ifstream c(cache);
        for (std::string line; std::getline(c, line);)
          if (line.rfind("CLONESIM_COSIM_POINTS:", 0) == 0) points = line.substr(line.find('=') + 1);
        points += (points.empty() ? "" : ";") + point;
        const std::string q = "'";
        const std::string cfg = "cmake -S " + q + CLONESIM_SOURCE_DIR + q + " -B " + q + CLONESIM_BINARY_DIR + q +
                                " " + q + "-DCLONESIM_COSIM_POINTS=" + points + q + " >&2";
        const std::string build = "cmake --build " + q + CLONESIM_BINARY_DIR + q + " --target cosim_" + name + " >&2";
        if (std::system(cfg.c_str()) != 0 || std::system(build.c_str()) != 0)
          throw Error("cosim: building " + bin + " failed (see the output above)");
      }
      std::vector<std::string> args = {bin};
      if (!cosim_prog.empty()) args.push_back(cosim_prog);
      if (!cosim_gen.empty()) args.insert(args.end(), {"--generate", cosim_gen});
      if (!cosim_vcd.empty()) args.insert(args.end(), {"--vcd", cosim_vcd});
      for (const auto& c : cosim_ctx) args.insert(args.end(), {"--ctx", c});
      for (const auto& f : cosim_fill) args.insert(args.end(), {"--dram-random", f});
      std::vector<char*> argv2;
      for (auto& a : args) argv2.push_back(a.data());
      argv2.push_back(nullptr);
      std::cout.flush();
      execv(bin.c_str(), argv2.data());
      throw Error("cosim: cannot run " + bin);
    } else if (*gen_cmd) {
      rtl::GenOptions go;
      if (gen_imem->count()) go.imem_depth = imem_depth;
      const auto files = rtl::generate(hw::load_hw_config_or_named(rtl_hw), rtl_out, go);
      std::cout << rtl_out << ": " << files.size() << " files (files.f lists them in compile order)\n";
    } else if (*synth_cmd) {
      const hw::HwConfig h = hw::load_hw_config_or_named(rtl_hw);
      const power::Tech tech = tech_for(h, synth_tech);
      check_vf(h, tech);
      power::AreaOptions ao;
      if (synth_imem->count()) ao.imem_depth = imem_depth;
      const power::AreaBreakdown model = power::area_model(h, tech, ao);
      rtl::SynthOptions so;
      so.liberty = synth_liberty;
      so.gen.imem_depth = ao.imem_depth;
      so.fast = synth_fast;
      std::cout << "synthesising " << h.name << " with yosys (minutes)...\n" << std::flush;
      const rtl::SynthResult r = rtl::synthesize(h, synth_out, so);
      const rtl::CrossCheck c = rtl::cross_check(r, model, tech);
      if (!synth_json.empty()) write_text(synth_json, rtl::cross_check_json(r, c, model).dump(2) + "\n");
      std::cout << rtl::cross_check_table(r, c, model);
    } else if (*area_cmd) {
      const hw::HwConfig h = hw::load_hw_config_or_named(area_hw);
      const power::Tech tech = tech_for(h, area_tech);
      check_vf(h, tech);
      power::AreaOptions ao;
      if (area_imem->count()) ao.imem_depth = imem_depth;
      const power::AreaBreakdown a = power::area_model(h, tech, ao);
      if (!area_json_out.empty()) write_text(area_json_out, power::area_json(a).dump(2) + "\n");
      std::cout << power::area_table(a, area_detail);
    } else if (*model_show || *model_graph) {
      compiler::ModelConfig cfg = compiler::load_model_or_named(model_name);
      if (!model_prune.empty()) cfg = compiler::prune_model(cfg, model_prune);
      const compiler::QuantRecipe recipe = compiler::parse_recipe(model_recipe);
      if (*model_show) {
        std::cout << compiler::describe_model(cfg, recipe);
      } else {
        const auto colon = model_phase.find(':');
        const std::string kind = model_phase.substr(0, colon);
        char* end = nullptr;
        const long long v = colon == std::string::npos ? -1 : std::strtoll(model_phase.c_str() + colon + 1, &end, 10);
        if (colon == std::string::npos || (kind != "prefill" && kind != "decode") || *end || v < 0 ||
            (kind == "prefill" && v < 1))
          throw Error("--phase " + model_phase + ": expected prefill:N (N >= 1) or decode:P (P >= 0)");
        const compiler::ir::Phase ph = kind == "prefill" ? compiler::ir::Phase::prefill(v) : compiler::ir::Phase::decode(v);
        std::cout << compiler::ir::to_string(compiler::ir::build_graph(cfg, recipe, ph));
      }
    } else if (*model_list) {
      for (const auto& n : compiler::shipped_model_names()) {
        const compiler::ModelConfig cfg = compiler::load_model_or_named(n);
        std::printf("%-16s %-8s %3lld layers  hidden %5lld  heads %3lld/%-3lld  vocab %6lld\n", n.c_str(),
                    compiler::to_string(cfg.family), (long long)cfg.layers, (long long)cfg.hidden,
                    (long long)cfg.heads, (long long)cfg.kv_heads, (long long)cfg.vocab);
      }
    } else if (*compile_cmd) {
      const hw::HwConfig h = hw::load_hw_config_or_named(cr_hw);
      const compiler::PreparedModel m = compiler::prepare_model(spec);
      std::cout << compiler::model_summary(m) << std::flush;
      compiler::CompileRequest req;
      req.decode_pos = compile_pos;
      req.prompt = compile_prompt;
      const nlohmann::json j = compiler::compile_model(m, h, req, compile_out);
      for (const auto& [name, p] : j["programs"].items())
        std::cout << strf("%-12s %s/%s: %llu instructions, DRAM image to 0x%llx (listing %s, map %s)\n", name.c_str(),
                          compile_out.c_str(), p["binary"].get<std::string>().c_str(),
                          p["instructions"].get<unsigned long long>(), p["dram_bytes"].get<unsigned long long>(),
                          p["listing"].get<std::string>().c_str(), p["memory_map"].get<std::string>().c_str());
      std::cout << compile_out << "/compile.json: the manifest\n";
    } else if (*run_cmd) {
      const hw::HwConfig h = hw::load_hw_config_or_named(cr_hw);
      run_gov.kind = compiler::parse_governor(run_governor, &run_gov.fixed_point, "--governor");
      run_gov.domain = compiler::parse_domain(run_gov_domain, "--governed-domain");
      run_gov.ttft_target_s = run_ttft_ms * 1e-3;
      run_gov.tpot_target_s = run_tpot_ms * 1e-3;
      compiler::check_governor(run_gov, h);  // before the long part
      if (!run_json.empty()) check_writable(run_json);  // fail before the long part, keep an old report
      if (!run_report_dir.empty()) {
        std::error_code ec;
        std::filesystem::create_directories(run_report_dir, ec);
        if (ec || !std::filesystem::is_directory(run_report_dir))
          throw Error(run_report_dir + ": cannot create the report directory");
      }
      const compiler::PreparedModel m = compiler::prepare_model(spec);
      std::cout << compiler::model_summary(m) << std::flush;
      compiler::RunOptions ro;
      ro.prompt = run_prompt;
      ro.gen = run_gen;
      ro.sample_us = run_sample_us;
      ro.mode = run_mode == "timing" ? sim::Mode::Timing : sim::Mode::Functional;
      ro.progress = run_quiet ? nullptr : &std::cerr;
      ro.governor = run_gov;
      const nlohmann::json r = compiler::run_model(m, h, ro);
      std::cout << compiler::run_summary(r);
      if (!run_json.empty()) write_text(run_json, r.dump(2) + "\n");
      if (!run_report_dir.empty())
        for (const std::string& f : compiler::write_run_report(r, run_report_dir)) std::cout << "report: " << f << "\n";
    } else if (*report_cmd) {
      const nlohmann::json r = compiler::read_run_json(report_in);
      for (const std::string& f : compiler::write_run_report(r, report_out, report_in)) std::cout << f << "\n";
    } else if (*list_cmd) {
      for (const auto& n : hw::shipped_hw_names()) {
        const hw::HwConfig h = hw::load_hw_config_or_named(n);
        std::printf("%-12s %2u tile(s)  MXU %ux%u  %.3f TOPS  %s x%u  %.1f GB/s\n", n.c_str(), h.tiles, h.mxu.rows,
                    h.mxu.cols, h.peak_tops(hw::WeightType::Int8), hw::to_string(h.dram.type), h.dram.channels,
                    h.dram.peak_gbps());
      }
    }
  } catch (const std::exception& e) {
    std::cerr << "clonesim: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

// Our own entry point, so the SystemC banner stays out of reports.
int main(int argc, char* argv[]) {
  setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
  return sc_core::sc_elab_and_sim(argc, argv);
}
