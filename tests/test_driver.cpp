// `clonesim compile` / `clonesim run` as a library (compiler/driver): models
// prepared from names, weights and recipes; programs written to disk with a
// manifest that describes them exactly; simulations in child processes whose
// figures are the simulator's own; functional runs checked bit for bit
// against the golden interpreter; the run's totals computed from its phases.
#include <catch2/catch.hpp>

#include <filesystem>
#include <map>
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

// The rows of a CSV file without its header, each split at the commas.
std::vector<std::vector<std::string>> csv_rows(const std::string& text, std::string* header = nullptr) {
  std::istringstream in(text);
  std::string line;
  std::getline(in, line);
  if (header) *header = line;
  std::vector<std::vector<std::string>> rows;
  while (std::getline(in, line)) {
    std::vector<std::string> c;
    std::stringstream ss(line);
    for (std::string x; std::getline(ss, x, ',');) c.push_back(x);
    if (!line.empty() && line.back() == ',') c.push_back("");
    rows.push_back(c);
  }
  return rows;
}

size_t count_of(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t i = text.find(what); i != std::string::npos; i = text.find(what, i + 1)) ++n;
  return n;
}

// The bars of each chart of an SVG file of the report (its panels in order).
std::vector<size_t> rects_per_panel(const std::string& svg) {
  std::vector<size_t> n;
  for (size_t i = svg.find("<g transform"); i != std::string::npos;) {
    const size_t next = svg.find("<g transform", i + 1);
    n.push_back(count_of(svg.substr(i, next == std::string::npos ? std::string::npos : next - i), "<rect"));
    i = next;
  }
  return n;
}

// The points of each polyline of an SVG file, by the series in its title.
std::map<std::string, std::vector<std::pair<double, double>>> polylines(const std::string& svg) {
  std::map<std::string, std::vector<std::pair<double, double>>> out;
  for (size_t i = svg.find("<polyline"); i != std::string::npos; i = svg.find("<polyline", i + 1)) {
    const size_t a = svg.find("points=\"", i) + 8, b = svg.find('"', a);
    const size_t t = svg.find("<title>", i) + 7;
    auto& pts = out[svg.substr(t, svg.find('<', t) - t)];
    std::istringstream in(svg.substr(a, b - a));
    double x, y;
    char comma;
    while (in >> x >> comma >> y) pts.push_back({x, y});
  }
  return out;
}

// The area between a step line and the horizontal line at `base` (pixels).
double area_under(const std::vector<std::pair<double, double>>& pts, double base) {
  double a = 0;
  for (size_t i = 0; i + 1 < pts.size(); i += 2) a += (pts[i + 1].first - pts[i].first) * (base - pts[i].second);
  return a;
}

// The numbers of the line of `text` that starts with `start` after the line
// containing `after`.
std::vector<double> numbers_of_row(const std::string& text, const std::string& after, const std::string& start) {
  const size_t from = text.find(after);
  REQUIRE(from != std::string::npos);
  const size_t at = text.find("\n" + start, from);
  REQUIRE(at != std::string::npos);
  std::istringstream in(text.substr(at + 1 + start.size(), text.find('\n', at + 1) - at - 1 - start.size()));
  std::vector<double> v;
  for (double x; in >> x;) v.push_back(x);
  return v;
}

// The words of the line of `text` that starts with `start` after the line
// containing `after`.
std::vector<std::string> words_of_row(const std::string& text, const std::string& after, const std::string& start) {
  const size_t from = text.find(after);
  REQUIRE(from != std::string::npos);
  const size_t at = text.find("\n" + start, from);
  REQUIRE(at != std::string::npos);
  std::istringstream in(text.substr(at + 1, text.find('\n', at + 1) - at - 1));
  std::vector<std::string> v;
  for (std::string x; in >> x;) v.push_back(x);
  return v;
}

// A run JSON by hand with what the report reads: a prefill of 3.5 ms and
// decode steps at positions 3 and 4 of 2.5 ms each, each program with three
// regions (embedding, layers.0, lm_head) adding up to it, and power sampled
// every ms (the last sample of each program 0.5 ms), the domains 30, 10, 10
// and 50% of the total.
json hand_run() {
  struct Reg {
    const char* name;
    double t, e;
  };
  struct Prog {
    const char* phase;
    int position;
    std::vector<Reg> regions;
    std::vector<double> total_w;
  };
  const std::vector<Prog> progs = {
      {"prefill", -1, {{"embedding", 0.0005, 0.0001}, {"layers.0", 0.0025, 0.0030}, {"lm_head", 0.0005, 0.0004}},
       {0.5, 1.5, 1.0, 1.0}},
      {"decode", 3, {{"embedding", 0.0001, 0.00002}, {"layers.0", 0.0020, 0.0024}, {"lm_head", 0.0004, 0.00038}},
       {1.2, 1.0, 1.2}},
      {"decode", 4, {{"embedding", 0.0001, 0.00002}, {"layers.0", 0.0022, 0.0026}, {"lm_head", 0.0002, 0.00018}},
       {1.2, 1.0, 1.2}}};
  json r = {{"model", {{"name", "hand"}}}, {"design_point", "edge-small"}, {"mode", "timing"}};
  for (const char* k : {"prompt", "gen", "ttft_s", "tpot_s", "decode_tokens_per_s", "decode_dram_roofline",
                        "tokens_per_s", "cycles", "instructions", "mxu_util", "vxu_util", "dma_util", "dram_bytes",
                        "dram_bw_gbps", "dram_bw_util", "sram_read_bytes", "sram_write_bytes", "prefill_energy_j",
                        "energy_per_token_j", "avg_power_w", "tops_per_w", "area_mm2"})
    r[k] = 0;
  double time = 0, energy = 0;
  for (const Prog& g : progs) {
    json p = {{"phase", g.phase}, {"cycles", 1000}, {"mxu_util", 0.5}};
    if (g.position >= 0) p["position"] = g.position;
    double t = 0, e = 0;
    for (const Reg& x : g.regions) {
      p["regions"].push_back({{"name", x.name},
                              {"start_s", t},
                              {"time_s", x.t},
                              {"energy_j", x.e},
                              {"dynamic_j", 0.5 * x.e},
                              {"leakage_j", 0.1 * x.e},
                              {"dram_j", 0.4 * x.e},
                              {"avg_power_w", x.e / x.t}});
      t += x.t;
      e += x.e;
    }
    p["time_s"] = t;
    p["energy"] = {{"energy_j", e}};
    json w;
    for (size_t k = 0; k < g.total_w.size(); ++k) {
      p["power"]["t_s"].push_back(0.001 * double(k));
      for (const auto& [d, f] : std::map<std::string, double>{
               {"compute", 0.3}, {"memory", 0.1}, {"always_on", 0.1}, {"dram", 0.5}, {"total", 1.0}})
        w[d].push_back(f * g.total_w[k]);
    }
    p["power"]["interval_s"] = 0.001;
    p["power"]["watts"] = w;
    r["phases"].push_back(p);
    time += t;
    energy += e;
  }
  r["time_s"] = time;
  r["energy_j"] = energy;
  r["energy_components_j"] = {{"mxu", energy * 0.6}, {"dram", energy * 0.4}};
  return r;
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

// The report of a run: its files, the CSVs adding up to the run's energy
// (per component, per program, per sample of power and per region), a bar
// per component, a line per power series and a bar per region in the charts,
// and a file that is not a run JSON as one line with nothing written.
TEST_CASE("write_run_report: tables, CSV and SVG of a tiny run", "[driver][sim]") {
  const hw::HwConfig hw = hw::load_hw_config_or_named("edge-small");
  RunOptions o;
  o.prompt = 6;
  o.gen = 3;
  o.mode = sim::Mode::Timing;
  const json r = run_model(prepare_model(tiny_spec("W8A8")), hw, o);
  const std::string dir = temp_dir("report");
  const std::vector<std::string> files = write_run_report(r, dir + "/out");
  CHECK(files.size() == 10);
  for (const std::string& f : files) CHECK(fs::file_size(f) > 0);
  // energy per component: the shares add up to 1, the joules to energy_j
  std::string header;
  const auto ec = csv_rows(test::read_text(dir + "/out/energy_components.csv"), &header);
  CHECK(header == "component,energy_j,share");
  double e = 0, share = 0;
  for (const auto& c : ec) {
    REQUIRE(c.size() == 3);
    e += std::stod(c[1]);
    share += std::stod(c[2]);
  }
  const size_t n = ec.size();
  CHECK(n == r["energy_components_j"].size());
  CHECK(e == Approx(r["energy_j"].get<double>()).epsilon(1e-6));
  CHECK(share == Approx(1.0).epsilon(1e-5));
  // one row per program in phases.csv, their energy the run's
  double pe = 0;
  const auto pc = csv_rows(test::read_text(dir + "/out/phases.csv"));
  for (const auto& c : pc) {
    REQUIRE(c.size() == 7);
    pe += std::stod(c[4]);
  }
  CHECK(pc.size() == 3);  // the prefill and two decode steps
  CHECK(pe == Approx(r["energy_j"].get<double>()).epsilon(1e-6));
  // power.csv: the samples of every program on one timeline, their energy the run's
  const auto pw = csv_rows(test::read_text(dir + "/out/power.csv"), &header);
  CHECK(header == "t_s,dt_s,phase_index,phase,position,compute_w,memory_w,always_on_w,dram_w,total_w");
  double sampled = 0, t_end = 0;
  size_t samples = 0;
  for (const json& p : r["phases"]) samples += p["power"]["t_s"].size();
  CHECK(pw.size() == samples);
  for (const auto& c : pw) {
    REQUIRE(c.size() == 10);
    CHECK(std::stod(c[0]) == Approx(t_end).epsilon(1e-9));  // each sample starts where the one before ends
    t_end = std::stod(c[0]) + std::stod(c[1]);
    sampled += std::stod(c[1]) * std::stod(c[9]);
  }
  CHECK(t_end == Approx(r["time_s"].get<double>()).epsilon(1e-9));
  CHECK(sampled == Approx(r["energy_j"].get<double>()).epsilon(1e-6));
  // layers.csv: a row per region per program, adding up to each program's energy
  const auto lc = csv_rows(test::read_text(dir + "/out/layers.csv"), &header);
  CHECK(header == "phase_index,phase,position,region,time_s,energy_j,dynamic_j,leakage_j,dram_j,avg_power_w");
  std::vector<double> by_program(r["phases"].size(), 0.0);
  for (const auto& c : lc) {
    REQUIRE(c.size() == 10);
    by_program.at(std::stoul(c[0])) += std::stod(c[5]);
  }
  const size_t regions = r["phases"][0]["regions"].size();
  CHECK(regions == 4);  // tiny: the embedding, two layers, the LM head
  CHECK(lc.size() == 3 * regions);
  for (size_t i = 0; i < by_program.size(); ++i)
    CHECK(by_program[i] == Approx(r["phases"][i]["energy"]["energy_j"].get<double>()).epsilon(1e-9));
  // the charts: a line per power series, a bar per region in each of the
  // four panels (time and energy of the prefill and of the decode steps)
  CHECK(count_of(test::read_text(dir + "/out/power.svg"), "<polyline") == 5);
  CHECK(rects_per_panel(test::read_text(dir + "/out/layers.svg")) == std::vector<size_t>(4, regions));
  // the chart: a bar per component
  const std::string svg = test::read_text(dir + "/out/energy_by_component.svg");
  CHECK(svg.rfind("<svg", 0) == 0);
  size_t rects = 0;
  for (size_t i = svg.find("<rect"); i != std::string::npos; i = svg.find("<rect", i + 1)) ++rects;
  CHECK(rects == n);
  CHECK(json::parse(test::read_text(dir + "/out/run.json")) == r);
  const std::string txt = test::read_text(dir + "/out/report.txt");
  CHECK(txt.find("energy by component") != std::string::npos);
  CHECK(txt.find("per layer, prefill: % of the prefill\n") != std::string::npos);
  CHECK(txt.find("per layer, decode, the average of 2 steps (positions 6..7): % of the average step\n") !=
        std::string::npos);
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

// The report of a run JSON made by hand (hand_run): the figures of power.csv,
// layers.csv and the per-layer tables exactly, the power chart thinned to at
// most 2000 points keeping its energy, and run JSONs without power samples
// or regions (older runs, --sample-us 0) or with them broken.
TEST_CASE("write_run_report: power over time and per layer, by hand", "[driver]") {
  const std::string dir = temp_dir("report-hand");
  const json r = hand_run();
  CHECK(write_run_report(r, dir + "/out").size() == 10);
  std::string header;
  // power.csv: 4 + 3 + 3 samples on one timeline; each program's last 0.5 ms
  const auto pw = csv_rows(test::read_text(dir + "/out/power.csv"));
  REQUIRE(pw.size() == 10);
  CHECK(pw[3] == std::vector<std::string>{"0.003", "0.0005", "0", "prefill", "", "0.3", "0.1", "0.1", "0.5", "1"});
  CHECK(pw[4] == std::vector<std::string>{"0.0035", "0.001", "1", "decode", "3", "0.36", "0.12", "0.12", "0.6", "1.2"});
  CHECK(std::stod(pw[9][0]) == Approx(0.008));
  CHECK(pw[9][2] == "2");
  double sampled = 0;
  for (const auto& c : pw) sampled += std::stod(c[1]) * std::stod(c[9]);
  CHECK(test::rel_eq(sampled, 0.0091, 1e-9));
  CHECK(test::rel_eq(sampled, r["energy_j"].get<double>(), 1e-6));
  // layers.csv: three regions per program
  const auto lc = csv_rows(test::read_text(dir + "/out/layers.csv"));
  REQUIRE(lc.size() == 9);
  CHECK(lc[4] == std::vector<std::string>{"1", "decode", "3", "layers.0", "0.002", "0.0024", "0.0012", "0.00024",
                                          "0.00096", "1.2"});
  std::vector<double> by_program(3, 0.0);
  for (const auto& c : lc) by_program.at(std::stoul(c[0])) += std::stod(c[5]);
  for (size_t i = 0; i < 3; ++i) CHECK(test::rel_eq(by_program[i], r["phases"][i]["energy"]["energy_j"].get<double>()));
  // report.txt: time ms, time %, energy mJ, energy %, power W; the decode steps averaged
  const std::string txt = test::read_text(dir + "/out/report.txt");
  const auto pre = numbers_of_row(txt, "per layer, prefill: % of the prefill\n", "  layers.0");
  REQUIRE(pre.size() == 5);
  CHECK(pre[0] == Approx(2.5));
  CHECK(pre[1] == Approx(71.43));
  CHECK(pre[2] == Approx(3.0));
  CHECK(pre[3] == Approx(85.71));
  CHECK(pre[4] == Approx(1.2));
  const std::string dec = "per layer, decode, the average of 2 steps (positions 3..4): % of the average step\n";
  const auto avg = numbers_of_row(txt, dec, "  layers.0");
  REQUIRE(avg.size() == 5);
  CHECK(avg[0] == Approx(2.1));     // (2.0 + 2.2) / 2 ms
  CHECK(avg[1] == Approx(84.0));    // of 2.5 ms
  CHECK(avg[2] == Approx(2.5));     // (2.4 + 2.6) / 2 mJ
  CHECK(avg[3] == Approx(89.29));   // of 2.8 mJ
  CHECK(avg[4] == Approx(1.1905));  // 2.5 mJ / 2.1 ms
  const auto all = numbers_of_row(txt, dec, "  all");
  CHECK(all == std::vector<double>{2.5, 2.8, 1.12});
  CHECK(txt.find("power over time: 10 samples every 1000 us in power.csv and power.svg\n") != std::string::npos);
  CHECK(txt.find("DVFS changes: none in the run JSON (no dvfs instruction or governor changed a point): dvfs.csv not "
                 "written\n") != std::string::npos);
  CHECK(txt.find("DVFS changes, ") == std::string::npos);
  CHECK_FALSE(fs::exists(dir + "/out/dvfs.csv"));
  // the charts: a step line per series, two points per sample; a bar per region in each panel
  const std::string svg = test::read_text(dir + "/out/power.svg");
  const auto lines = polylines(svg);
  CHECK(count_of(svg, "<polyline") == 5);
  CHECK(lines.size() == 5);
  for (const char* k : {"compute", "memory", "always_on", "dram", "total"}) CHECK(lines.at(k).size() == 20);
  CHECK(count_of(svg, "<line") > 10);  // axes, ticks, program starts, legend
  CHECK(svg.find(">prefill</text>") != std::string::npos);
  CHECK(svg.find(">decode</text>") != std::string::npos);
  CHECK(svg.find(">time (ms)</text>") != std::string::npos);
  CHECK(svg.find(">power (W)</text>") != std::string::npos);
  CHECK(rects_per_panel(test::read_text(dir + "/out/layers.svg")) == std::vector<size_t>(4, 3));
  // one decode step: its own panels and table, not an average
  json one = r;
  one["phases"].erase(2);
  write_run_report(one, dir + "/one");
  CHECK(test::read_text(dir + "/one/report.txt").find("per layer, decode step at position 3: % of the step\n") !=
        std::string::npos);
  CHECK(rects_per_panel(test::read_text(dir + "/one/layers.svg")) == std::vector<size_t>(4, 3));

  SECTION("many samples: at most 2000 points a line, the energy kept") {
    json many = r;
    json& pw0 = many["phases"][0]["power"];  // 4999 samples of 0.7 us in the prefill's 3.5 ms
    pw0["t_s"] = json::array();
    json w;
    for (int k = 0; k < 4999; ++k) {
      pw0["t_s"].push_back(0.7e-6 * k);
      const double total = 1 + 0.5 * std::sin(0.01 * k) + (k % 3 == 0 ? 0.7 : 0.0);
      w["compute"].push_back(total);
      w["dram"].push_back(0.0);
      w["total"].push_back(total);
    }
    pw0["watts"] = w;
    for (json& p : many["phases"]) {  // memory: 1 W throughout, always_on: 0 W (the axis)
      const size_t ns = p["power"]["t_s"].size();
      p["power"]["watts"]["memory"] = std::vector<double>(ns, 1.0);
      p["power"]["watts"]["always_on"] = std::vector<double>(ns, 0.0);
    }
    write_run_report(many, dir + "/many");
    const auto ml = polylines(test::read_text(dir + "/many/power.svg"));
    REQUIRE(ml.size() == 5);
    for (const auto& [k, pts] : ml) CHECK(pts.size() <= 2000);
    CHECK(ml.at("total").size() == 2 * 835);  // 5005 samples, averaged 6 at a time
    // energy kept: the area under a line over the area under 1 W is its energy in J over the run's time in s
    double energy = 0;
    for (const json& p : many["phases"]) {
      const json& ts = p["power"]["t_s"];
      for (size_t k = 0; k < ts.size(); ++k) {
        const double end = k + 1 < ts.size() ? ts[k + 1].get<double>() : p["time_s"].get<double>();
        energy += (end - ts[k].get<double>()) * p["power"]["watts"]["total"][k].get<double>();
      }
    }
    const double base = ml.at("always_on").front().second;
    CHECK(area_under(ml.at("total"), base) / area_under(ml.at("memory"), base) ==
          Approx(energy / many["time_s"].get<double>()).epsilon(1e-3));
    CHECK(test::read_text(dir + "/many/power.svg").find("averages of 6 samples") != std::string::npos);
  }

  SECTION("no power samples or regions: the report without their files, and a line each") {
    json old = r;
    for (json& p : old["phases"]) {
      p.erase("power");
      p.erase("regions");
    }
    const std::vector<std::string> files = write_run_report(old, dir + "/old");
    CHECK(files.size() == 6);
    for (const char* f : {"power.csv", "power.svg", "layers.csv", "layers.svg"})
      CHECK_FALSE(fs::exists(dir + "/old/" + f));
    const std::string t = test::read_text(dir + "/old/report.txt");
    CHECK(t.find("power over time: not in the run JSON (a run with --sample-us 0, or of an older clonesim): power.csv "
                 "and power.svg not written\n") != std::string::npos);
    CHECK(t.find("per layer: not in the run JSON (a run of an older clonesim, without regions): layers.csv and "
                 "layers.svg not written\n") != std::string::npos);
    CHECK(t.find("per layer, prefill") == std::string::npos);
    json part = r;  // one program without samples: none drawn
    part["phases"][2].erase("power");
    CHECK(write_run_report(part, dir + "/part").size() == 8);
    CHECK(test::read_text(dir + "/part/report.txt")
              .find("power over time: not in phases[2] of the run JSON: power.csv and power.svg not written\n") !=
          std::string::npos);
  }

  SECTION("broken power samples or regions: one line naming the file and the key, nothing written") {
    const auto error = [&](json j) {
      const std::string e = test::error_of([&] { write_run_report(j, dir + "/bad", "x.json"); });
      CHECK_FALSE(fs::exists(dir + "/bad"));
      return e;
    };
    json j = r;
    j["phases"][1]["power"]["watts"].erase("dram");
    CHECK(error(j) == "x.json: no key phases[1].power.watts.dram (a run JSON of clonesim run, with energy)");
    j = r;
    j["phases"][1]["power"]["watts"]["memory"].erase(0);
    CHECK(error(j) == "x.json: phases[1].power.watts.memory: 2 values for 3 samples (t_s)");
    j = r;
    j["phases"][0]["power"]["t_s"][3] = 0.004;
    CHECK(error(j) == "x.json: phases[0].power.t_s[3]: 0.004 s, not within the program's time (0.0035 s) in order");
    j = r;
    j["phases"][2]["power"]["watts"]["total"][1] = "x";
    CHECK(error(j) == "x.json: phases[2].power.watts.total[1]: expected a number");
    j = r;
    j["phases"][2]["regions"][1].erase("leakage_j");
    CHECK(error(j) == "x.json: no key phases[2].regions[1].leakage_j (a run JSON of clonesim run, with energy)");
    j = r;
    j["phases"][0]["regions"] = 1;
    CHECK(error(j) == "x.json: phases[0].regions: expected an array");
    j = r;
    j.erase("ttft_s");
    CHECK(error(j) == "x.json: no key ttft_s (a run JSON of clonesim run, with energy)");
  }
}

// The DVFS changes of a run JSON made by hand (hand_run: the prefill of 3.5
// ms, decode steps at positions 3 and 4 of 2.5 ms each): three in the
// prefill, one in the second decode step (without MHz and volts, as runs of
// an older clonesim have them); dvfs.csv on the run's timeline, a band per
// change in power.svg, report.txt's tables, and broken changes as one line.
TEST_CASE("write_run_report: DVFS changes in dvfs.csv, power.svg and report.txt, by hand", "[driver]") {
  const std::string dir = temp_dir("report-dvfs");
  json r = hand_run();
  const auto change = [](const char* domain, int point, double start, double end, const char* by) {
    return json{{"domain", domain}, {"point", point}, {"start_s", start}, {"end_s", end}, {"by", by}};
  };
  const auto at = [](json c, double mhz, double volts) {
    c["mhz"] = mhz;
    c["volts"] = volts;
    return c;
  };
  r["phases"][0]["dvfs_changes"] = {at(change("compute", 2, 0.0005, 0.000502, "governor"), 400, 0.8),
                                    at(change("memory", 0, 0.001, 0.0010015, "instruction"), 200, 0.6),
                                    at(change("compute", 2, 0.003, 0.003002, "governor"), 400, 0.8)};
  r["phases"][2]["dvfs_changes"] = {change("compute", 0, 0.0001, 0.000102, "governor")};
  const std::vector<std::string> files = write_run_report(r, dir + "/out");
  CHECK(files.size() == 11);
  CHECK(std::count(files.begin(), files.end(), dir + "/out/dvfs.csv") == 1);
  // dvfs.csv: a row per change; the second decode step starts at 3.5 + 2.5 ms
  std::string header;
  const auto dc = csv_rows(test::read_text(dir + "/out/dvfs.csv"), &header);
  CHECK(header == "phase_index,phase,position,domain,point,mhz,volts,start_s,end_s,by");
  REQUIRE(dc.size() == 4);
  CHECK(dc[0] == std::vector<std::string>{"0", "prefill", "", "compute", "2", "400", "0.8", "0.0005", "0.000502",
                                          "governor"});
  CHECK(dc[1] == std::vector<std::string>{"0", "prefill", "", "memory", "0", "200", "0.6", "0.001", "0.0010015",
                                          "instruction"});
  CHECK(dc[2] == std::vector<std::string>{"0", "prefill", "", "compute", "2", "400", "0.8", "0.003", "0.003002",
                                          "governor"});
  CHECK(dc[3] == std::vector<std::string>{"2", "decode", "4", "compute", "0", "", "", "0.0061", "0.006102",
                                          "governor"});
  // power.svg: a band per change (the polylines kept), labelled where there is room, and the legend
  const std::string svg = test::read_text(dir + "/out/power.svg");
  CHECK(count_of(svg, "<rect class=\"dvfs\"") == 4);
  CHECK(count_of(svg, "<polyline") == 5);
  for (const auto& [k, pts] : polylines(svg)) CHECK(pts.size() == 20);
  CHECK(count_of(svg, ">compute -&gt; 400 MHz</text>") == 2);
  CHECK(count_of(svg, ">memory -&gt; 200 MHz</text>") == 1);
  CHECK(count_of(svg, ">compute -&gt; point 0</text>") == 1);
  CHECK(svg.find("<title>memory -&gt; 200 MHz 0.60 V (instruction) from 1 to 1.0015 ms</title>") != std::string::npos);
  CHECK(svg.find(">DVFS changes: 4</text>") != std::string::npos);
  CHECK(svg.find(">a band per transition</text>") != std::string::npos);
  // a band from 6.1 to 6.102 ms of the 8.5 ms on 740 pixels from x = 80: 611.06, 1.5 pixels wide at least
  CHECK(svg.find("<rect class=\"dvfs\" x=\"611.06\" y=\"40.00\" width=\"1.50\" height=\"300.00\" fill=\"#d62728\"") !=
        std::string::npos);
  // report.txt: per program, the changes to each point and the time in transitions
  const std::string txt = test::read_text(dir + "/out/report.txt");
  const std::string pre = "DVFS changes, prefill: the changes to each point, the time in transitions\n";
  CHECK(words_of_row(txt, pre, "  domain") ==
        std::vector<std::string>{"domain", "point", "MHz", "V", "changes", "transition", "us"});
  CHECK(numbers_of_row(txt, pre, "  compute") == std::vector<double>{2, 400, 0.8, 2, 4.0});
  CHECK(numbers_of_row(txt, pre, "  memory") == std::vector<double>{0, 200, 0.6, 1, 1.5});
  CHECK(numbers_of_row(txt, pre, "  all") == std::vector<double>{3, 5.5});
  CHECK(txt.find("\nDVFS changes, decode step at position 3: none\n") != std::string::npos);
  const std::string dec =
      "DVFS changes, decode step at position 4: the changes to each point, the time in transitions\n";
  CHECK(words_of_row(txt, dec, "  compute") == std::vector<std::string>{"compute", "0", "-", "-", "1", "2.000"});
  CHECK(numbers_of_row(txt, dec, "  all") == std::vector<double>{1, 2.0});
  CHECK(txt.find("DVFS changes: 4 in dvfs.csv, drawn as bands in power.svg\n") != std::string::npos);
  CHECK(txt.find("DVFS changes: none") == std::string::npos);

  SECTION("many changes: every band drawn, at most 20 labelled") {
    json many = r;
    json& ch = many["phases"][0]["dvfs_changes"];
    ch = json::array();
    for (int k = 0; k < 300; ++k)
      ch.push_back(at(change(k % 2 ? "memory" : "compute", k % 3, 1e-5 * k, 1e-5 * k + 2e-6, "governor"), 100, 0.5));
    CHECK(write_run_report(many, dir + "/many").size() == 11);
    const std::string m = test::read_text(dir + "/many/power.svg");
    CHECK(count_of(m, "<rect class=\"dvfs\"") == 301);
    const size_t labels = count_of(m, "font-size=\"9\"");
    CHECK(labels >= 2);
    CHECK(labels <= 20);
    CHECK(csv_rows(test::read_text(dir + "/many/dvfs.csv")).size() == 301);
    const std::string t = test::read_text(dir + "/many/report.txt");
    CHECK(numbers_of_row(t, "DVFS changes, prefill:", "  memory     ") == std::vector<double>{0, 100, 0.5, 50, 100});
    CHECK(numbers_of_row(t, "DVFS changes, prefill:", "  all") == std::vector<double>{300, 600});
  }

  SECTION("no power samples: dvfs.csv and the tables all the same") {
    json old = r;
    for (json& p : old["phases"]) p.erase("power");
    CHECK(write_run_report(old, dir + "/nopower").size() == 9);
    CHECK(csv_rows(test::read_text(dir + "/nopower/dvfs.csv")).size() == 4);
    CHECK(test::read_text(dir + "/nopower/report.txt").find("DVFS changes: 4 in dvfs.csv\n") != std::string::npos);
  }

  SECTION("consecutive decode steps without changes: one line") {
    json more = r;
    more["phases"][2].erase("dvfs_changes");
    CHECK(write_run_report(more, dir + "/more").size() == 11);
    CHECK(test::read_text(dir + "/more/report.txt").find("\nDVFS changes, decode steps at positions 3..4: none\n") !=
          std::string::npos);
  }

  SECTION("broken changes: one line naming the file and the key, nothing written") {
    const auto error = [&](json j) {
      const std::string e = test::error_of([&] { write_run_report(j, dir + "/bad", "x.json"); });
      CHECK_FALSE(fs::exists(dir + "/bad"));
      return e;
    };
    json j = r;
    j["phases"][2]["dvfs_changes"] = 1;
    CHECK(error(j) == "x.json: phases[2].dvfs_changes: expected an array");
    j = r;
    j["phases"][0]["dvfs_changes"][1].erase("by");
    CHECK(error(j) == "x.json: no key phases[0].dvfs_changes[1].by (a run JSON of clonesim run, with energy)");
    j = r;
    j["phases"][0]["dvfs_changes"][2]["point"] = "2";
    CHECK(error(j) == "x.json: phases[0].dvfs_changes[2].point: expected a number");
    j = r;
    j["phases"][0]["dvfs_changes"][2]["point"] = 1.5;
    CHECK(error(j) == "x.json: phases[0].dvfs_changes[2].point: 1.5, expected an operating point's index (0, 1, ...)");
    j = r;
    j["phases"][0]["dvfs_changes"][0]["domain"] = "dram";
    CHECK(error(j) ==
          "x.json: phases[0].dvfs_changes[0].domain: \"dram\", expected compute, memory or always_on");
    j = r;
    j["phases"][2]["dvfs_changes"][0]["by"] = "hand";
    CHECK(error(j) == "x.json: phases[2].dvfs_changes[0].by: \"hand\", expected instruction or governor");
    j = r;
    j["phases"][0]["dvfs_changes"][0]["end_s"] = 0.0004;
    CHECK(error(j) == "x.json: phases[0].dvfs_changes[0].end_s: 0.0004 s, before start_s (0.0005 s)");
    j = r;
    j["phases"][0]["dvfs_changes"][0]["start_s"] = 0.004;
    j["phases"][0]["dvfs_changes"][0]["end_s"] = 0.005;
    CHECK(error(j) == "x.json: phases[0].dvfs_changes[0].start_s: 0.004 s, not within the program's time (0.0035 s)");
    j = r;
    j["phases"][0]["dvfs_changes"][1]["mhz"] = "fast";
    CHECK(error(j) == "x.json: phases[0].dvfs_changes[1].mhz: expected a number");
    j = r;
    j["phases"][0]["dvfs_changes"][1].erase("volts");
    CHECK(error(j) == "x.json: no key phases[0].dvfs_changes[1].volts (a run JSON of clonesim run, with energy)");
  }
}
