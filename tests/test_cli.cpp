// The clonesim command line, run as a user would: exit codes, one-line
// errors naming the file and the key/line/offset, and outputs that parse.
#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace {

struct Out {
  int code;
  std::string out, err;
};

// Per-process names: CTest runs test cases in parallel processes.
std::string tmp_path(const std::string& name) {
  return "/tmp/clonesim_cli_" + std::to_string(getpid()) + "_" + name;
}

void write_file(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

Out run(const std::string& args) {
  const std::string err = tmp_path("stderr.txt");
  const std::string cmd = std::string(CLONESIM_BIN) + " " + args + " 2>" + err;
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int st = pclose(p);
  return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, out, read_file(err)};
}

int lines(const std::string& s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

const std::string kSrc = CLONESIM_SOURCE_DIR;

}  // namespace

TEST_CASE("hw show prints derived figures of a shipped design point", "[cli]") {
  const Out o = run("hw show clone-28nm");
  CHECK(o.code == 0);
  CHECK_THAT(o.out, Catch::Contains("1.024") && Catch::Contains("34.128"));
  CHECK(o.err.empty());
}

TEST_CASE("bad design points give one line naming file, line and key", "[cli][errors]") {
  const std::string f = tmp_path("bad.yaml");
  std::string good = read_file(kSrc + "/configs/hw/edge-small.yaml");
  // unknown key: rename 'lanes' under vxu
  std::string bad = good;
  bad.replace(bad.find("  lanes:"), 8, "  lanez:");
  write_file(f, bad);
  Out o = run("hw show " + f);
  CHECK(o.code != 0);
  CHECK(lines(o.err) == 1);
  CHECK_THAT(o.err, Catch::Contains(f + ":") && Catch::Contains("vxu.lanez"));
  // zero banks
  bad = good;
  bad.replace(bad.find("banks: 4"), 8, "banks: 0");
  write_file(f, bad);
  o = run("hw show " + f);
  CHECK(o.code != 0);
  CHECK(lines(o.err) == 1);
  CHECK_THAT(o.err, Catch::Contains("scratchpad.banks"));
  // unknown design point name
  o = run("sim " + kSrc + "/examples/rmsnorm.s --hw no-such-point");
  CHECK(o.code != 0);
  CHECK_THAT(o.err, Catch::Contains("unknown design point 'no-such-point'"));
}

TEST_CASE("malformed programs give one line naming file and line or offset", "[cli][errors]") {
  const std::string s = tmp_path("bad.s");
  write_file(s, "nop\nhalt\nmatmul m=1 k=0 n=4\n");
  Out o = run("sim " + s);
  CHECK(o.code != 0);
  CHECK(lines(o.err) == 1);
  CHECK_THAT(o.err, Catch::Contains(s + ":3:") && Catch::Contains("k"));

  // a truncated binary
  const std::string bin = tmp_path("prog.bin");
  REQUIRE(run("asm " + kSrc + "/examples/rmsnorm.s -o " + bin).code == 0);
  std::string bytes = read_file(bin);
  write_file(bin, bytes.substr(0, bytes.size() - 7));
  o = run("sim " + bin);
  CHECK(o.code != 0);
  CHECK(lines(o.err) == 1);
  CHECK_THAT(o.err, Catch::Contains(bin) && Catch::Contains("offset"));

  // a file that is not a program at all
  write_file(bin, std::string("\x7f" "ELF\0\0\0\1", 8));
  o = run("sim " + bin);
  CHECK(o.code != 0);
  CHECK(lines(o.err) == 1);

  // missing file, bad --ctx
  o = run("sim " + tmp_path("does-not-exist.s"));
  CHECK(o.code != 0);
  o = run("sim " + kSrc + "/examples/rmsnorm.s --ctx c9=1");
  CHECK(o.code != 0);
  CHECK_THAT(o.err, Catch::Contains("--ctx c9=1"));
}

TEST_CASE("a failed run leaves an existing report untouched", "[cli][errors]") {
  const std::string json = tmp_path("keep.json");
  write_file(json, "{\"kept\": true}\n");
  const std::string s = tmp_path("deadlock.s");
  write_file(s, "vadd dst=0 a=0 b=0x100 bmode=vec len=16 wait=s1\nhalt\n");
  const Out o = run("sim " + s + " --json " + json);
  CHECK(o.code != 0);
  CHECK_THAT(o.err, Catch::Contains("deadlock"));
  CHECK(read_file(json) == "{\"kept\": true}\n");
}

TEST_CASE("asm and disasm round-trip through files", "[cli]") {
  const std::string bin = tmp_path("gemm.bin"), txt = tmp_path("gemm.s"), bin2 = tmp_path("gemm2.bin");
  REQUIRE(run("asm " + kSrc + "/examples/gemm.s -o " + bin).code == 0);
  REQUIRE(run("disasm " + bin + " -o " + txt).code == 0);
  REQUIRE(run("asm " + txt + " -o " + bin2).code == 0);
  CHECK(read_file(bin) == read_file(bin2));
  CHECK(read_file(bin).size() == 16 + 32 * 50);  // header + 50 instructions
}

TEST_CASE("sim writes JSON statistics and a Perfetto trace, and both modes agree", "[cli]") {
  const std::string jf = tmp_path("f.json"), jt = tmp_path("t.json"), tr = tmp_path("trace.json");
  const std::string prog = kSrc + "/examples/gemm.s";
  REQUIRE(run("sim " + prog + " -q --json " + jf + " --trace " + tr).code == 0);
  REQUIRE(run("sim " + prog + " -q --mode timing --json " + jt).code == 0);
  const auto f = nlohmann::json::parse(read_file(jf));
  const auto t = nlohmann::json::parse(read_file(jt));
  CHECK(f.at("cycles").get<uint64_t>() > 0);
  CHECK(f.at("cycles") == t.at("cycles"));
  CHECK(f.at("events").at("macs_int8").get<uint64_t>() == 32ull * 64 * 128);
  CHECK(f.at("units").size() == 1 + 2 * 2 + 2 * 2);  // control, 2 DMA channels x (load, store), 2 tiles x (matrix, vector)
  const auto trace = nlohmann::json::parse(read_file(tr));
  size_t slices = 0;
  for (const auto& e : trace.at("traceEvents")) slices += e.at("ph") == "X";
  CHECK(slices == 49);  // every instruction but halt, once per tile copy
}

TEST_CASE("rtl generate writes a deterministic file set; unbuildable points are refused", "[cli][rtl]") {
  const std::string a = tmp_path("rtl_a"), b = tmp_path("rtl_b");
  REQUIRE(run("rtl generate --hw edge-small -o " + a).code == 0);
  REQUIRE(run("rtl generate --hw edge-small -o " + b).code == 0);
  const std::string files = read_file(a + "/files.f");
  CHECK(files == "+incdir+.\ncs_sram_bank.sv\ncs_sram.sv\ncs_dma.sv\ncs_mxu.sv\ncs_vxu.sv\ncs_top.sv\n");
  std::istringstream list(files);
  for (std::string f; std::getline(list, f);)
    if (f[0] != '+') CHECK(read_file(a + "/" + f) == read_file(b + "/" + f));
  CHECK(read_file(a + "/cs_cfg.svh") == read_file(b + "/cs_cfg.svh"));
  CHECK(read_file(a + "/cs_isa.svh") == read_file(b + "/cs_isa.svh"));
  // the design point's parameters, as a parameter port list (no trailing comma)
  const std::string cfg = read_file(a + "/cs_cfg.svh");
  CHECK_THAT(cfg, Catch::Contains("localparam int TILES = 1,") && Catch::Contains("localparam int MXU_R = 8,") &&
                      Catch::Contains("localparam int SP_LB = 32,") &&
                      Catch::Contains("localparam logic [23:0] INIT_POINT = {8'd1, 8'd1, 8'd1},"));
  CHECK_THAT(cfg, Catch::Contains("TRANS_CYCLES = {64'd80, 64'd80, 64'd80} \n"));  // the list's last entry
  // the ISA header carries the field table of isa.h
  CHECK_THAT(read_file(a + "/cs_isa.svh"),
             Catch::Contains("OP_MATMUL = 8'h20") && Catch::Contains("FW_DRAM = 1, FL_DRAM = 0, FB_DRAM = 48"));

  // a 32-row array cannot read its activation rows from 32-byte scratchpad lines
  std::string y = read_file(kSrc + "/configs/hw/edge-small.yaml");
  y.replace(y.find("rows: 8"), 7, "rows: 64");
  const std::string yf = tmp_path("wide.yaml");
  write_file(yf, y);
  const Out o = run("rtl generate --hw " + yf + " -o " + tmp_path("rtl_c"));
  CHECK(o.code != 0);
  CHECK(lines(o.err) == 1);
  CHECK_THAT(o.err, Catch::Contains(yf) && Catch::Contains("mxu.rows"));
}

TEST_CASE("cosim refuses a design point whose domains run at different clocks", "[cli][rtl]") {
  const Out o = run("cosim --hw clone-28nm --generate banks");
  CHECK(o.code != 0);
  CHECK(lines(o.err) == 1);
  CHECK_THAT(o.err, Catch::Contains("same clock"));
}

TEST_CASE("area prints a per-component table and writes JSON whose components add up", "[cli][area]") {
  const std::string j = tmp_path("area.json");
  const Out o = run("area --hw edge-small --json " + j);
  CHECK(o.code == 0);
  CHECK(o.err.empty());
  CHECK_THAT(o.out, Catch::Contains("MXU MAC array") && Catch::Contains("instruction memory") &&
                        Catch::Contains("logic (standard cells)") && Catch::Contains("SRAM macros") &&
                        Catch::Contains("tech-28nm"));
  const auto a = nlohmann::json::parse(read_file(j));
  double sum = 0, logic = 0;
  for (const auto& c : a["components"]) {
    sum += c["mm2"].get<double>();
    if (c["kind"] == "logic") logic += c["mm2"].get<double>();
  }
  const double total = a["area_mm2"].get<double>();
  CHECK(total > 0);
  CHECK(sum == Approx(total).epsilon(1e-12));
  CHECK(logic == Approx(a["logic_mm2"].get<double>()).epsilon(1e-12));
  CHECK(a["logic_mm2"].get<double>() + a["sram_mm2"].get<double>() == Approx(total).epsilon(1e-12));
  CHECK(a["design_point"] == "edge-small");

  // Another node: a path or a name, and a different answer.
  const std::string j45 = tmp_path("area45.json");
  REQUIRE(run("area --hw edge-small --tech " + kSrc + "/power_models/tech/tech-45nm.yaml --json " + j45).code == 0);
  const double total45 = nlohmann::json::parse(read_file(j45))["area_mm2"].get<double>();
  CHECK(total45 / total == Approx(1 / 0.38).epsilon(0.005));
}

TEST_CASE("area and rtl generate take the design point's instruction-memory depth; --imem-depth overrides it",
          "[cli][area][rtl]") {
  // edge-small with a 1024-instruction memory (128 KiB -> 32 KiB at 256 bits)
  std::string y = read_file(kSrc + "/configs/hw/edge-small.yaml");
  const std::string sync = "  sync_cycles: 2";
  REQUIRE(y.find(sync) != std::string::npos);
  y.insert(y.find(sync) + sync.size(), "\n  imem_depth: 1024");
  const std::string yf = tmp_path("imem1024.yaml");
  write_file(yf, y);
  auto area = [&](const std::string& args) {
    const std::string j = tmp_path("imem_area.json");
    const Out o = run("area " + args + " --json " + j);
    REQUIRE(o.code == 0);
    return nlohmann::json::parse(read_file(j));
  };
  CHECK(area("--hw clone-28nm")["imem_depth"] == 1024);  // the shipped points' own depths
  const auto shipped = area("--hw edge-small"), own = area("--hw " + yf);
  const auto forced = area("--hw " + yf + " --imem-depth 16384");
  CHECK(shipped["imem_depth"] == 16384);
  CHECK(own["imem_depth"] == 1024);
  CHECK(forced["imem_depth"] == 16384);
  CHECK(own["components"]["imem"]["mm2"].get<double>() < shipped["components"]["imem"]["mm2"].get<double>() / 10);
  CHECK(forced["area_mm2"] == shipped["area_mm2"]);
  CHECK(own["area_mm2"].get<double>() - own["components"]["imem"]["mm2"].get<double>() ==
        Approx(shipped["area_mm2"].get<double>() - shipped["components"]["imem"]["mm2"].get<double>()).epsilon(1e-12));

  const std::string g = tmp_path("rtl_imem");
  REQUIRE(run("rtl generate --hw " + yf + " -o " + g).code == 0);
  CHECK_THAT(read_file(g + "/cs_cfg.svh"), Catch::Contains("IMEM_DEPTH = 1024,") && Catch::Contains("IMEM_AW = 10,"));
  REQUIRE(run("rtl generate --hw " + yf + " -o " + g + " --imem-depth 64").code == 0);
  CHECK_THAT(read_file(g + "/cs_cfg.svh"), Catch::Contains("IMEM_DEPTH = 64,") && Catch::Contains("IMEM_AW = 6,"));

  // a depth off the key's rule: the option named, what it takes, non-zero exit
  for (const std::string& cmd : {std::string("area --hw edge-small"), "rtl generate --hw edge-small -o " + g}) {
    for (const std::string bad : {"0", "1000", "33554432", "abc"}) {
      const Out o = run(cmd + " --imem-depth " + bad);
      INFO(cmd << " --imem-depth " << bad << ": " << o.err);
      CHECK(o.code != 0);
      CHECK(o.err.rfind("--imem-depth: expected a power of two 16..16777216, got ", 0) == 0);
    }
  }
}

TEST_CASE("bad technology files and names give one line", "[cli][area][errors]") {
  std::string t = read_file(kSrc + "/power_models/tech/tech-28nm.yaml");
  t.replace(t.find("      value: 52\n"), 16, "      value: -52\n");
  const std::string f = tmp_path("tech.yaml");
  write_file(f, t);
  Out o = run("area --hw edge-small --tech " + f);
  CHECK(o.code != 0);
  CHECK(lines(o.err) == 1);
  CHECK_THAT(o.err, Catch::Contains(f + ":") && Catch::Contains("area.logic.int32_add_um2.value"));
  o = run("area --hw edge-small --tech tech-3nm");
  CHECK(o.code != 0);
  CHECK(lines(o.err) == 1);
  CHECK_THAT(o.err, Catch::Contains("tech-28nm, tech-45nm"));
}

TEST_CASE("area refuses an operating point faster than the technology's V-f curve", "[cli][area][errors]") {
  std::string t = read_file(kSrc + "/configs/hw/edge-small.yaml");
  // The compute domain's second point: 0.8 V allows 836 MHz on tech-28nm.
  const auto pos = t.find("{volts: 0.80, mhz: 400}");
  REQUIRE(pos != std::string::npos);
  t.replace(pos, 23, "{volts: 0.80, mhz: 900}");
  const std::string f = tmp_path("fast.yaml");
  write_file(f, t);
  Out o = run("area --hw " + f);
  CHECK(o.code != 0);
  CHECK(lines(o.err) == 1);
  CHECK_THAT(o.err, Catch::Contains(f + ": dvfs.compute.operating_points[1]: expected at most 836 MHz at 0.8 V") &&
                        Catch::Contains("got 900 MHz"));
  // On a technology of another node the operating points are only noted.
  o = run("area --hw clone-28nm --tech tech-45nm");
  CHECK(o.code == 0);
  CHECK(lines(o.err) == 1);
  CHECK_THAT(o.err, Catch::Contains("note: 28 nm design point on 45 nm technology") &&
                        Catch::Contains("dvfs.compute.operating_points[0]"));
}

TEST_CASE("compile prints the model's size and writes the program files", "[cli]") {
  const std::string dir = tmp_path("compile");
  const Out o = run("compile --model tiny --quant W4A8-g32 --hw edge-small --pos 3 -o " + dir);
  INFO(o.err);
  REQUIRE(o.code == 0);
  CHECK_THAT(o.out, Catch::Contains("parameters   106.8 K (106816)"));
  CHECK_THAT(o.out, Catch::Contains("weights      random, seed 1"));
  const nlohmann::json m = nlohmann::json::parse(read_file(dir + "/compile.json"));
  CHECK(m["programs"]["decode"]["position"] == 3);
  CHECK(m["model"]["weight_bytes"] == 67200);  // model_stats of tiny W4A8-g32 (more scales than g128: 60032)
  CHECK_THAT(read_file(dir + "/decode.s"), Catch::Contains("halt"));
  CHECK_FALSE(m["programs"].contains("prefill"));
  const Out pf = run("compile --model tiny --hw edge-small --prompt 6 -o " + dir);
  REQUIRE(pf.code == 0);
  const nlohmann::json m2 = nlohmann::json::parse(read_file(dir + "/compile.json"));
  CHECK(m2["programs"]["prefill"]["tokens"].size() == 6);
  CHECK_THAT(pf.out, Catch::Contains("prefill      " + dir + "/prefill.bin: "));
  // a config that does not fit: one line naming model, design point, kernel and buffer
  const Out big = run("compile --model llama-2-7b --hw edge-small -o " + dir);
  CHECK(big.code != 0);
  CHECK(lines(big.err) == 1);
  CHECK_THAT(big.err, Catch::StartsWith("clonesim: error: decode program for llama-2-7b on edge-small: "));
}

TEST_CASE("run reports latency and utilisation as JSON; a failed run keeps the old report", "[cli]") {
  const std::string json = tmp_path("run.json");
  const Out o = run("run --model tiny --hw edge-small --prompt 5 --gen 3 --mode functional -q --json " + json);
  INFO(o.err);
  REQUIRE(o.code == 0);
  CHECK_THAT(o.out, Catch::Contains("TPOT"));
  const nlohmann::json j = nlohmann::json::parse(read_file(json));
  for (const char* k : {"ttft_s", "tpot_s", "tokens_per_s", "cycles", "mxu_util", "dram_bw_util"}) CHECK(j.contains(k));
  CHECK(j["golden_check"] == "bit-exact: logits and KV cache of the prefill and 2 decode step(s)");
  CHECK(j["ttft_s"].get<double>() > 0);
  CHECK(j["tpot_s"].get<double>() > 0);
  const std::string before = read_file(json);
  const Out bad = run("run --model tiny --hw edge-small --prompt 200 --gen 3 -q --json " + json);
  CHECK(bad.code != 0);
  CHECK(lines(bad.err) == 1);
  CHECK(bad.err == "clonesim: error: --prompt 200 + --gen 3: 202 positions, beyond tiny's max_positions 128\n");
  CHECK(read_file(json) == before);
  const Out w = run("run --model tiny --weights random:abc -q");
  CHECK(w.err == "clonesim: error: --weights random:abc: expected random:SEED with SEED a non-negative integer\n");
}

TEST_CASE("run --governor: each program governed and judged against its target; bad options are one line",
          "[cli][dvfs]") {
  const std::string json = tmp_path("gov.json");
  const Out o = run("run --model tiny --prompt 4 --gen 2 --governor offline --slack 1.25 -q --json " + json);
  INFO(o.err);
  REQUIRE(o.code == 0);
  CHECK_THAT(o.out, Catch::Contains("governor     offline on the compute domain (targets 1.25 x") &&
                        Catch::Contains("met in 1 of 1 steps") && Catch::Contains("over the target windows"));
  const nlohmann::json j = nlohmann::json::parse(read_file(json));
  CHECK(j["governor"]["all_met"] == true);
  CHECK(j["governor"]["slack"] == 1.25);
  for (const auto& p : j["phases"]) {
    CHECK(p["governor"]["met"] == true);
    CHECK(p["governor"]["points"] == p["governor"]["planned_points"]);
  }
  for (const auto& [args, err] : std::vector<std::pair<std::string, std::string>>{
           {"--governor fixed:9", "--governor fixed:9: the compute domain of clone-28nm has points 0..4"},
           {"--governor turbo",
            "--governor: expected none, fixed:POINT (an operating point's index), race, offline or online, got 'turbo'"},
           {"--governor race --governed-domain dram",
            "--governed-domain: expected compute, memory or always_on, got 'dram'"}}) {
    const Out b = run("run --model tiny -q " + args + " --json " + json);
    CHECK(b.code == 1);
    CHECK(b.err == "clonesim: error: " + err + "\n");
  }
  // the failed runs kept the report
  CHECK(nlohmann::json::parse(read_file(json))["governor"]["slack"] == 1.25);
}

TEST_CASE("run --report and report write the same report, and a file that is not a run JSON is one line",
          "[cli]") {
  const std::string json = tmp_path("rep-run.json"), a = tmp_path("rep-a"), b = tmp_path("rep-b");
  const Out o = run("run --model tiny --hw edge-small --prompt 5 --gen 2 -q --json " + json + " --report " + a);
  INFO(o.err);
  REQUIRE(o.code == 0);
  CHECK_THAT(o.out, Catch::Contains("report: " + a + "/energy_by_component.svg"));
  const Out r = run("report " + json + " -o " + b);
  REQUIRE(r.code == 0);
  for (const char* f : {"report.txt", "energy_components.csv", "phases.csv", "energy_by_component.svg", "phases.svg",
                        "power.csv", "power.svg", "layers.csv", "layers.svg"}) {
    INFO(f);
    CHECK(!read_file(a + "/" + f).empty());
    CHECK(read_file(a + "/" + f) == read_file(b + "/" + f));
  }
  // no DVFS change in the run: no dvfs.csv, and a line says so
  CHECK_THAT(read_file(a + "/report.txt"),
             Catch::Contains("DVFS changes: none in the run JSON (no dvfs instruction or governor changed a point): "
                             "dvfs.csv not written\n"));
  CHECK(read_file(a + "/dvfs.csv").empty());
  // the run JSON with a change in its decode step: dvfs.csv on the run's timeline, a band in power.svg
  nlohmann::json rj = nlohmann::json::parse(read_file(json));
  REQUIRE(rj["phases"].size() == 2);
  const double prefill_s = rj["phases"][0]["time_s"].get<double>(), step_s = rj["phases"][1]["time_s"].get<double>();
  rj["phases"][1]["dvfs_changes"] = {{{"domain", "memory"},
                                      {"point", 1},
                                      {"mhz", 300},
                                      {"volts", 0.7},
                                      {"start_s", 0.25 * step_s},
                                      {"end_s", 0.5 * step_s},
                                      {"by", "instruction"}}};
  const std::string dj = tmp_path("rep-dvfs.json"), e = tmp_path("rep-e");
  write_file(dj, rj.dump());
  const Out d = run("report " + dj + " -o " + e);
  INFO(d.err);
  REQUIRE(d.code == 0);
  CHECK_THAT(d.out, Catch::Contains(e + "/dvfs.csv\n"));
  const std::string dcsv = read_file(e + "/dvfs.csv");
  REQUIRE(lines(dcsv) == 2);
  CHECK(dcsv.rfind("phase_index,phase,position,domain,point,mhz,volts,start_s,end_s,by\n"
                   "1,decode,5,memory,1,300,0.7,",
                   0) == 0);
  double s0 = 0, s1 = 0;
  CHECK(std::sscanf(dcsv.c_str() + dcsv.find(",0.7,") + 5, "%lf,%lf", &s0, &s1) == 2);
  CHECK(s0 == Approx(prefill_s + 0.25 * step_s).epsilon(1e-9));
  CHECK(s1 == Approx(prefill_s + 0.5 * step_s).epsilon(1e-9));
  CHECK(dcsv.substr(dcsv.size() - 13) == ",instruction\n");
  CHECK_THAT(read_file(e + "/power.svg"),
             Catch::Contains("<rect class=\"dvfs\"") && Catch::Contains(">memory -&gt; 300 MHz</text>"));
  rj["phases"][1]["dvfs_changes"][0]["end_s"] = 0.1 * step_s;
  write_file(dj, rj.dump());
  const Out de = run("report " + dj + " -o " + tmp_path("rep-f"));
  CHECK(de.code != 0);
  CHECK(lines(de.err) == 1);
  CHECK_THAT(de.err, Catch::StartsWith("clonesim: error: " + dj + ": phases[1].dvfs_changes[0].end_s: ") &&
                         Catch::Contains("before start_s"));
  CHECK(read_file(tmp_path("rep-f") + "/report.txt").empty());
  // no power samples (--sample-us 0): the report says so and has no power files
  const std::string c = tmp_path("rep-d");
  const Out off = run("run --model tiny --hw edge-small --prompt 5 --gen 2 -q --sample-us 0 --report " + c);
  REQUIRE(off.code == 0);
  CHECK_THAT(off.out, !Catch::Contains("power.csv") && Catch::Contains("report: " + c + "/layers.svg"));
  CHECK_THAT(read_file(c + "/report.txt"),
             Catch::Contains("power over time: not in the run JSON (a run with --sample-us 0, or of an older "
                             "clonesim): power.csv and power.svg not written\n"));
  CHECK(read_file(c + "/power.csv").empty());
  const Out bad = run("report " + a + "/phases.csv -o " + tmp_path("rep-c"));
  CHECK(bad.code != 0);
  CHECK(lines(bad.err) == 1);
  CHECK_THAT(bad.err, Catch::StartsWith("clonesim: error: " + a + "/phases.csv: not JSON"));
}
