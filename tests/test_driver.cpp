// `clonesim compile` / `clonesim run` as a library (compiler/driver): models
// prepared from names, weights and recipes; programs written to disk with a
// manifest that describes them exactly; simulations in child processes whose
// figures are the simulator's own; functional runs checked bit for bit
// against the golden interpreter; the run's totals computed from its phases.
#include <catch2/catch.hpp>

#include <filesystem>
#include <sstream>
#include <fstream>
#include <iterator>

#include "common/error.h"
#include "driver/compile_job.h"
#include "driver/run_job.h"
#include "driver/run_report.h"
#include "isa/program.h"
#include "test_util.h"
#include "weights/model_weights.h"
#include "weights/safetensors.h"

using namespace clonesim;
using namespace clonesim::compiler;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

std::string temp_dir(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("clonesim-test-driver-" + name);
  fs::remove_all(d);
  fs::create_directories(d);
  return d.string();
}

std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

ModelSpec tiny_spec(const std::string& quant = "W8A8") {
  ModelSpec s;
  s.model = "tiny";
  s.quant = quant;
  return s;
}

}  // namespace

TEST_CASE("prepare_model: weights auto, none, random and their one-line errors", "[driver]") {
  const PreparedModel t = prepare_model(tiny_spec());
  CHECK(t.weights == "random, seed 1");  // 106,816 parameters: under the auto limit
  CHECK_FALSE(t.qm.shapes_only);
  CHECK(t.stats.total_params == 106816);
  CHECK(t.qm.layers[0].q.w.size() == size_t(64 * 64));

  ModelSpec big;  // the default: llama-2-7b W4A8-g128, over the limit: shapes only
  const PreparedModel b = prepare_model(big);
  CHECK(b.weights == "none (shapes only: timing runs)");
  CHECK(b.qm.shapes_only);
  CHECK(b.recipe.group == 128);
  CHECK(b.stats.total_params == 6738415616LL);
  CHECK(b.qm.layers.size() == 32);
  CHECK(b.qm.layers[0].gate.n == 11008);

  ModelSpec s = tiny_spec();
  s.weights = "random:5";
  const PreparedModel r5 = prepare_model(s);
  CHECK(r5.weights == "random, seed 5");
  CHECK(r5.qm.layers[0].q.w != t.qm.layers[0].q.w);

  s.weights = "random:x";
  CHECK(test::error_of([&] { prepare_model(s); }) ==
        "--weights random:x: expected random:SEED with SEED a non-negative integer");
  s.weights = "/nonexistent/w.safetensors";
  CHECK(test::error_of([&] { prepare_model(s); }) ==
        "--weights /nonexistent/w.safetensors: not a file (expected auto, none, random[:SEED] or a .safetensors file)");
  s.weights = "auto";
  s.quant = "W3A8";
  CHECK_FALSE(test::error_of([&] { prepare_model(s); }).empty());
}

TEST_CASE("prepare_model: weights from a safetensors file equal the weights written to it", "[driver]") {
  const std::string d = temp_dir("st");
  const PreparedModel r = prepare_model(tiny_spec());
  save_safetensors(d + "/tiny.safetensors", random_weights(r.cfg, 1));
  ModelSpec s = tiny_spec();
  s.weights = d + "/tiny.safetensors";
  const PreparedModel f = prepare_model(s);
  CHECK(f.weights == d + "/tiny.safetensors");
  CHECK(f.qm.layers[1].down.w == r.qm.layers[1].down.w);
  CHECK(f.qm.layers[1].down.mult == r.qm.layers[1].down.mult);
  CHECK(f.qm.embed == r.qm.embed);
  CHECK(f.qm.lm_head.w == r.qm.lm_head.w);
  // a truncated file: one line naming it
  const std::vector<uint8_t> all = read_bytes(d + "/tiny.safetensors");
  {
    std::ofstream o(d + "/cut.safetensors", std::ios::binary);
    o.write(reinterpret_cast<const char*>(all.data()), std::streamsize(all.size() / 2));
  }
  s.weights = d + "/cut.safetensors";
  const std::string e = test::error_of([&] { prepare_model(s); });
  INFO(e);
  CHECK(e.rfind(d + "/cut.safetensors", 0) == 0);
  CHECK(e.find('\n') == std::string::npos);
}

TEST_CASE("compile_model: the files and the manifest describe the program exactly", "[driver]") {
  const std::string d = temp_dir("compile");
  const PreparedModel m = prepare_model(tiny_spec("W4A8-g32"));
  const hw::HwConfig hw = hw::load_hw_config_or_named("clone-28nm");
  CompileRequest req;
  req.decode_pos = 9;
  const json j = compile_model(m, hw, req, d);
  const DecodeProgram p = build_decode_program(m.qm, hw, 9);
  CHECK(j == json::parse(test::read_text(d + "/compile.json")));
  CHECK(j["model"]["params"] == 106816);
  CHECK(j["model"]["recipe"] == "W4A8-g32");
  CHECK(j["design_point"] == "clone-28nm");
  CHECK(j["timing_only"] == false);
  const json& dj = j["programs"]["decode"];
  CHECK(dj["position"] == 9);
  CHECK(dj["instructions"] == p.program.code.size());
  CHECK(dj["dram_bytes"] == p.map.end());
  CHECK(isa::load_program(d + "/decode.bin").code == p.program.code);
  CHECK(isa::assemble(test::read_text(d + "/decode.s"), "decode.s").code == p.program.code);
  CHECK(test::read_text(d + "/decode.map.txt") == p.map.to_string());
  CHECK(test::read_text(d + "/decode.plan.txt") == p.plan);
  // the image file: every chunk at its manifest offset
  const std::vector<uint8_t> img = read_bytes(d + "/decode.dram.bin");
  REQUIRE(dj["image"].size() == p.image.size());
  uint64_t total = 0;
  for (size_t i = 0; i < p.image.size(); ++i) {
    const json& c = dj["image"][i];
    CHECK(c["name"] == p.image[i].name);
    CHECK(c["dram"] == p.image[i].addr);
    const uint64_t off = c["offset"];
    REQUIRE(off + p.image[i].bytes.size() <= img.size());
    CHECK(std::equal(p.image[i].bytes.begin(), p.image[i].bytes.end(), img.begin() + long(off)));
    total += p.image[i].bytes.size();
  }
  CHECK(img.size() == total);
  // an output directory that cannot be made
  CHECK(test::error_of([&] { compile_model(m, hw, req, "/proc/no/such/dir"); }) ==
        "/proc/no/such/dir: cannot create the output directory");
}

TEST_CASE("simulate_in_child: the statistics of a run in another process, errors back as one line",
          "[driver]") {
  const hw::HwConfig hw = hw::load_hw_config_or_named("edge-small");
  const isa::Program ok = isa::assemble(
      "load dram=0x100 sram=0 space=sp rows=1 bytes=64 signal=1\n"
      "store dram=0x200 sram=0 space=sp rows=1 bytes=64 wait=1\n"
      "halt\n",
      "copy.s");
  std::vector<DramChunk> image{{"data", 0x100, std::vector<uint8_t>(64)}};
  for (size_t i = 0; i < 64; ++i) image[0].bytes[i] = uint8_t(3 * i + 1);
  sim::Options fo;
  const ChildRun f = simulate_in_child(hw, ok, image, fo, "copy", {{0x200, 64}, {0x100, 4}});
  REQUIRE(f.dumps.size() == 2);
  CHECK(f.dumps[0] == image[0].bytes);  // the store wrote what the load read
  CHECK(f.dumps[1] == std::vector<uint8_t>{1, 4, 7, 10});
  CHECK(f.stats["instructions"] == 3);
  // timing mode: the same cycles, no data
  sim::Options to;
  to.mode = sim::Mode::Timing;
  const ChildRun t = simulate_in_child(hw, ok, image, to, "copy");
  CHECK(t.stats["cycles"] == f.stats["cycles"]);
  CHECK(f.stats["cycles"].get<uint64_t>() > 0);
  CHECK(test::error_of([&] { simulate_in_child(hw, ok, image, to, "copy", {{0x200, 64}}); }) ==
        "copy: DRAM read-back needs functional mode");
  // a program that waits for a signal nobody gives: the child's error, named
  const isa::Program stuck = isa::assemble("store dram=0x200 sram=0 space=sp rows=1 bytes=64 wait=1\nhalt\n", "s.s");
  const std::string e = test::error_of([&] { simulate_in_child(hw, stuck, {}, fo, "stuck program"); });
  INFO(e);
  CHECK(e.rfind("stuck program: ", 0) == 0);
  CHECK(e.find('\n') == std::string::npos);
  // and the parent goes on simulating
  CHECK(simulate_in_child(hw, ok, image, fo, "again").stats["cycles"] == f.stats["cycles"]);
}

TEST_CASE("combine_phases: totals are time-weighted sums of the phases", "[driver]") {
  const hw::HwConfig hw = hw::load_hw_config_or_named("clone-28nm");  // 34.128 GB/s peak, 64 B lines
  auto phase = [](const std::string& ph, double t, uint64_t cyc, double mxu, double mbusy, double vbusy,
                  uint64_t rd, uint64_t wr, uint64_t sp_reads) {
    json p;
    p["phase"] = ph;
    p["time_s"] = t;
    p["cycles"] = cyc;
    p["instructions"] = 10;
    p["mxu_util"] = mxu;
    p["dram"]["total"] = {{"read_bytes", rd}, {"write_bytes", wr}};
    p["units"] = json::array({{{"name", "control"}, {"busy_ps", 1e6}},
                              {{"name", "load[0]"}, {"busy_ps", t * 1e12 / 2}},
                              {{"name", "store[0]"}, {"busy_ps", 0.0}},
                              {{"name", "matrix[0]"}, {"busy_ps", mbusy * 1e12}},
                              {{"name", "vector[0]"}, {"busy_ps", vbusy * 1e12}}});
    p["sram"] = json::array({{{"scratchpad", json::array({{{"reads", sp_reads}, {"writes", 1}}})},
                              {"accumulator", json::array({{{"reads", 2}, {"writes", 0}}})}}});
    return p;
  };
  std::vector<json> ph{phase("prefill", 1e-3, 1000000, 0.8, 0.9e-3, 0.1e-3, 1000000, 0, 10),
                       phase("decode", 3e-3, 3000000, 0.1, 0.3e-3, 0.6e-3, 90000000, 24000, 20)};
  ph[1]["roofline_s"] = 2.7e-3;
  const json j = combine_phases(ph, hw);
  CHECK(j["time_s"].get<double>() == Approx(4e-3).epsilon(1e-12));
  CHECK(j["cycles"] == 4000000);
  CHECK(j["instructions"] == 20);
  CHECK(j["mxu_util"].get<double>() == Approx((0.8 * 1 + 0.1 * 3) / 4).epsilon(1e-12));
  CHECK(j["mxu_busy"].get<double>() == Approx(1.2e-3 / 4e-3).epsilon(1e-12));
  CHECK(j["vxu_util"].get<double>() == Approx(0.7e-3 / 4e-3).epsilon(1e-12));
  CHECK(j["dma_util"].get<double>() == Approx(2e-3 / (4e-3 * 2)).epsilon(1e-12));
  CHECK(j["dram_bytes"].get<double>() == 91024000.0);
  CHECK(j["dram_bw_util"].get<double>() == Approx(91024000.0 / 4e-3 / 34.128e9).epsilon(1e-9));
  CHECK(j["sram_read_bytes"] == (10 + 20) * hw.scratchpad.line_bytes() + 4 * hw.accumulator.line_bytes());
  CHECK(j["sram_write_bytes"] == 2 * hw.scratchpad.line_bytes());
  CHECK(j["prefill_s"].get<double>() == Approx(1e-3).epsilon(1e-12));
  CHECK(j["decode_s"].get<double>() == Approx(3e-3).epsilon(1e-12));
  CHECK(j["decode_steps"] == 1);
  CHECK(j["decode_dram_roofline"].get<double>() == Approx(0.9).epsilon(1e-12));
}

TEST_CASE("run_model: a functional tiny run is bit-exact against the golden interpreter, step by step",
          "[driver][sim]") {
  for (const std::string point : {"clone-28nm", "edge-small"}) {
    INFO(point);
    const hw::HwConfig hw = hw::load_hw_config_or_named(point);
    const PreparedModel m = prepare_model(tiny_spec("W4A8-g32"));
    RunOptions o;
    o.prompt = 6;
    o.gen = 4;
    o.mode = sim::Mode::Functional;
    const json f = run_model(m, hw, o);
    CHECK(f["golden_check"] == "bit-exact: logits and KV cache of the prefill and 3 decode step(s)");
    REQUIRE(f["phases"].size() == 4);
    CHECK(f["phases"][0]["phase"] == "prefill");
    CHECK(f["phases"][0]["tokens"] == 6);
    CHECK(f["phases"][0]["golden_check"] == "bit-exact");
    CHECK(f["ttft_s"] == f["phases"][0]["time_s"]);
    CHECK(f["phases"][1]["token_in"] == f["phases"][0]["token_out"]);
    uint64_t cycles = f["phases"][0]["cycles"];
    double time = 0;
    for (size_t i = 1; i < 4; ++i) {
      CHECK(f["phases"][i]["phase"] == "decode");
      CHECK(f["phases"][i]["position"] == 5 + i);
      CHECK(f["phases"][i]["golden_check"] == "bit-exact");
      if (i > 1) CHECK(f["phases"][i]["token_in"] == f["phases"][i - 1]["token_out"]);
      cycles += f["phases"][i]["cycles"].get<uint64_t>();
      time += f["phases"][i]["time_s"].get<double>();
    }
    CHECK(f["cycles"] == cycles);
    CHECK(f["tpot_s"].get<double>() == Approx(time / 3).epsilon(1e-12));
    CHECK(f["tokens_per_s"].get<double>() ==
          Approx(4 / (f["ttft_s"].get<double>() + time)).epsilon(1e-12));
    for (const char* k : {"ttft_s", "tpot_s", "tokens_per_s", "cycles", "mxu_util", "dram_bw_util", "vxu_util",
                          "dma_util", "sram_read_bytes", "decode_dram_roofline", "energy_j", "energy_per_token_j",
                          "avg_power_w", "area_mm2", "tops_per_w"})
      CHECK(f.contains(k));
    // the run's energy is its phases' (each priced in its child from its statistics)
    double e = 0, de = 0;
    for (const auto& ph : f["phases"]) {
      e += ph["energy"]["energy_j"].get<double>();
      if (ph["phase"] == "decode") de += ph["energy"]["energy_j"].get<double>();
    }
    CHECK(f["energy_j"].get<double>() == Approx(e).epsilon(1e-12));
    CHECK(f["energy_per_token_j"].get<double>() == Approx(de / 3).epsilon(1e-12));
    CHECK(f["avg_power_w"].get<double>() == Approx(e / f["time_s"].get<double>()).epsilon(1e-12));
    CHECK(f["energy_j"].get<double>() > 0);
    // each step's program in timing mode (with the same token: the embedding
    // row's address is data the timing sees): the same cycles
    // (one program serves all three positions)
    sim::Options to;
    to.mode = sim::Mode::Timing;
    const DecodeProgram d = build_decode_program(m.qm, hw, 6);
    for (size_t i = 1; i < 4; ++i) {
      CHECK(f["phases"][i]["program_positions"] == nlohmann::json{d.first_pos, d.last_pos});
      to.ctx = decode_context(d, 5 + i, f["phases"][i]["token_in"].get<int64_t>());
      CHECK(simulate_in_child(hw, d.program, {}, to, "timing").stats["cycles"] == f["phases"][i]["cycles"]);
    }
  }
}

// Pruned and unpruned, int8 and int4, one tile and several: prefill and
// decode steps bit-exact against the golden interpreter through `run`.
TEST_CASE("run_model: a pruned tiny model, int8 and int4, on one, two and four tiles", "[driver][sim]") {
  const std::string d = temp_dir("prune");
  {
    std::ofstream f(d + "/ratios.yaml");
    f << "heads: [0.5, 0.0]\nffn: [0.25, 0.5]\n";
  }
  for (const std::string q : {"W8A8", "W4A8-g32"})
    for (const std::string point : {"edge-small", "clone-28nm", CLONESIM_SOURCE_DIR "/tests/data/hw/cosim-4x8.yaml"}) {
      INFO(q << " on " << point);
      ModelSpec s = tiny_spec(q);
      s.prune = d + "/ratios.yaml";
      const PreparedModel m = prepare_model(s);
      REQUIRE(m.cfg.layer[0].q_heads == 2);  // of 4: one KV group of two
      REQUIRE(m.cfg.layer[0].kv_heads == 1);
      REQUIRE(m.cfg.layer[0].ffn == 96);
      REQUIRE(m.cfg.layer[1].ffn == 64);
      RunOptions o;
      o.prompt = 5;
      o.gen = 3;
      o.mode = sim::Mode::Functional;
      const json r = run_model(m, hw::load_hw_config_or_named(point), o);
      CHECK(r["golden_check"] == "bit-exact: logits and KV cache of the prefill and 2 decode step(s)");
      CHECK(r["model"]["params"] == 82240);
    }
}

TEST_CASE("run_model: bad requests are one line", "[driver]") {
  const hw::HwConfig hw = hw::load_hw_config_or_named("clone-28nm");
  const PreparedModel m = prepare_model(tiny_spec());
  RunOptions o;
  o.gen = 0;
  CHECK(test::error_of([&] { run_model(m, hw, o); }) ==
        "--gen must be at least 1 (the first token comes from the prefill)");
  o.gen = 8;
  o.prompt = 125;
  CHECK(test::error_of([&] { run_model(m, hw, o); }) ==
        "--prompt 125 + --gen 8: 132 positions, beyond tiny's max_positions 128");
  ModelSpec s = tiny_spec();
  s.weights = "none";
  const PreparedModel sh = prepare_model(s);
  o.prompt = 4;
  o.mode = sim::Mode::Functional;
  CHECK(test::error_of([&] { run_model(sh, hw, o); }) ==
        "--mode functional needs weights (--weights random[:SEED] or a safetensors file)");
}

// The report of a run: its files, the CSVs adding up to the run's energy, a
// bar per component in the chart, and a file that is not a run JSON as one
// line with nothing written.
TEST_CASE("write_run_report: tables, CSV and SVG of a tiny run", "[driver][sim]") {
  const hw::HwConfig hw = hw::load_hw_config_or_named("edge-small");
  RunOptions o;
  o.prompt = 6;
  o.gen = 3;
  o.mode = sim::Mode::Timing;
  const json r = run_model(prepare_model(tiny_spec("W8A8")), hw, o);
  const std::string dir = temp_dir("report");
  const std::vector<std::string> files = write_run_report(r, dir + "/out");
  CHECK(files.size() == 6);
  for (const std::string& f : files) CHECK(fs::file_size(f) > 0);
  // energy per component: the shares add up to 1, the joules to energy_j
  std::istringstream ec(test::read_text(dir + "/out/energy_components.csv"));
  std::string line;
  std::getline(ec, line);
  CHECK(line == "component,energy_j,share");
  double e = 0, share = 0;
  size_t n = 0;
  while (std::getline(ec, line)) {
    const auto a = line.find(','), b = line.rfind(',');
    e += std::stod(line.substr(a + 1, b - a - 1));
    share += std::stod(line.substr(b + 1));
    ++n;
  }
  CHECK(n == r["energy_components_j"].size());
  CHECK(e == Approx(r["energy_j"].get<double>()).epsilon(1e-6));
  CHECK(share == Approx(1.0).epsilon(1e-5));
  // one row per program in phases.csv, their energy the run's
  std::istringstream pc(test::read_text(dir + "/out/phases.csv"));
  std::getline(pc, line);
  double pe = 0;
  size_t rows = 0;
  while (std::getline(pc, line)) {
    std::vector<std::string> c;
    std::stringstream ss(line);
    for (std::string x; std::getline(ss, x, ',');) c.push_back(x);
    REQUIRE(c.size() == 7);
    pe += std::stod(c[4]);
    ++rows;
  }
  CHECK(rows == 3);  // the prefill and two decode steps
  CHECK(pe == Approx(r["energy_j"].get<double>()).epsilon(1e-6));
  // the chart: a bar per component
  const std::string svg = test::read_text(dir + "/out/energy_by_component.svg");
  CHECK(svg.rfind("<svg", 0) == 0);
  size_t rects = 0;
  for (size_t i = svg.find("<rect"); i != std::string::npos; i = svg.find("<rect", i + 1)) ++rects;
  CHECK(rects == n);
  CHECK(json::parse(test::read_text(dir + "/out/run.json")) == r);
  CHECK(test::read_text(dir + "/out/report.txt").find("energy by component") != std::string::npos);
  // not a run JSON: one line, no directory written
  CHECK(test::error_of([&] { write_run_report(json{{"a", 1}}, dir + "/bad", "x.json"); }) ==
        "x.json: no key energy_j (a run JSON of clonesim run, with energy)");
  CHECK_FALSE(fs::exists(dir + "/bad"));
  json broken = r;
  broken["phases"][1].erase("cycles");
  CHECK(test::error_of([&] { write_run_report(broken, dir + "/bad", "x.json"); }) ==
        "x.json: no key phases[1].cycles (a run JSON of clonesim run, with energy)");
  CHECK(test::error_of([&] { read_run_json(dir + "/out/report.txt"); }).rfind(dir + "/out/report.txt: not JSON", 0) ==
        0);
}
