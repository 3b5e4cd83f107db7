// Co-simulation of one design point: the generated RTL (verilated, SystemC
// output) and the SystemC model run the same program in one SystemC kernel.
// Both are served by the same C++ DRAM model (one instance each, identical
// request streams).  Compared: every instruction retirement (order, unit,
// cycle), the total cycles, the final DRAM image and every tile's SRAM.
// Compiled once per design point (CLONESIM_COSIM_HW names it).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <systemc>
#include <verilated.h>
#if VM_TRACE
#include <verilated_vcd_sc.h>
#endif

#include <nlohmann/json.hpp>

#include "Vcs_top.h"
#include "common/error.h"
#include "dram/dram.h"
#include "hw/hw_config.h"
#include "isa/program.h"
#include "sim/accelerator.h"
#include "sim/memory.h"
#include "rtl/cosim/test_programs.h"

using namespace clonesim;
using sc_core::sc_signal;

namespace {

template <typename P>
using sig_t = sc_signal<typename std::remove_reference_t<P>::data_type>;

// ---- conversions between port values and bytes / integers
uint64_t to_u64(bool v) { return v; }
uint64_t to_u64(uint32_t v) { return v; }
uint64_t to_u64(uint64_t v) { return v; }
template <int W>
uint64_t to_u64(const sc_dt::sc_bv<W>& v) {
  uint64_t r = v.get_word(0);
  if (W > 32) r |= uint64_t(v.get_word(1)) << 32;
  return r;
}
template <int W>
void bv_to_bytes(const sc_dt::sc_bv<W>& v, uint8_t* out, unsigned n) {
  for (unsigned i = 0; i < n; ++i) out[i] = static_cast<uint8_t>(v.get_word(i / 4) >> (8 * (i % 4)));
}
void bv_to_bytes(uint64_t v, uint8_t* out, unsigned n) {
  for (unsigned i = 0; i < n; ++i) out[i] = static_cast<uint8_t>(v >> (8 * i));
}
inline void bv_to_bytes(uint32_t v, uint8_t* out, unsigned n) { bv_to_bytes(uint64_t(v), out, n); }
template <int W>
void bytes_to(sc_dt::sc_bv<W>& v, const uint8_t* in, unsigned n) {
  v = 0;
  for (unsigned i = 0; i < n; ++i) {
    uint32_t w = v.get_word(i / 4);
    w |= uint32_t(in[i]) << (8 * (i % 4));
    v.set_word(i / 4, w);
  }
}
void bytes_to(uint64_t& v, const uint8_t* in, unsigned n) {
  v = 0;
  for (unsigned i = 0; i < n; ++i) v |= uint64_t(in[i]) << (8 * i);
}
void bytes_to(uint32_t& v, const uint8_t* in, unsigned n) {
  uint64_t x;
  bytes_to(x, in, n);
  v = static_cast<uint32_t>(x);
}
template <int W>
void word_to(sc_dt::sc_bv<W>& v, const isa::Word256& w) {
  for (int i = 0; i < 8; ++i) v.set_word(i, static_cast<uint32_t>(w[i / 2] >> (32 * (i % 2))));
}

struct Retire {
  uint64_t cycle;
  int unit;
  uint32_t index;
  bool operator<(const Retire& o) const {
    return cycle != o.cycle ? cycle < o.cycle : (unit != o.unit ? unit < o.unit : index < o.index);
  }
  bool operator==(const Retire& o) const { return cycle == o.cycle && unit == o.unit && index == o.index; }
};

// ---- the harness around the verilated RTL
SC_MODULE(RtlHarness) {
  sc_core::sc_in<bool> clk;
  Vcs_top* top;
  const hw::HwConfig& hw;
  const isa::Program& prog;
  std::array<int64_t, 8> ctx;
  sim::SparseMemory dram_data;
  dram::DramModel dram;
  uint64_t period;

  // signals
  sc_signal<bool> rst_n{"rst_n"}, prog_we{"prog_we"}, ctx_we{"ctx_we"}, go{"go"}, dbg_space{"dbg_space"};
  sig_t<decltype(Vcs_top::prog_addr)> prog_addr{"prog_addr"};
  sig_t<decltype(Vcs_top::prog_data)> prog_data{"prog_data"};
  sig_t<decltype(Vcs_top::prog_len)> prog_len{"prog_len"};
  sig_t<decltype(Vcs_top::ctx_idx)> ctx_idx{"ctx_idx"};
  sig_t<decltype(Vcs_top::ctx_data)> ctx_data{"ctx_data"};
  sig_t<decltype(Vcs_top::halted)> halted{"halted"};
  sig_t<decltype(Vcs_top::cycles)> cycles{"cycles"};
  sig_t<decltype(Vcs_top::req_valid)> req_valid{"req_valid"};
  sig_t<decltype(Vcs_top::req_write)> req_write{"req_write"};
  sig_t<decltype(Vcs_top::req_addr)> req_addr{"req_addr"};
  sig_t<decltype(Vcs_top::req_bytes)> req_bytes{"req_bytes"};
  sig_t<decltype(Vcs_top::req_tag)> req_tag{"req_tag"};
  sig_t<decltype(Vcs_top::req_wdata)> req_wdata{"req_wdata"};
  sig_t<decltype(Vcs_top::resp_valid)> resp_valid{"resp_valid"};
  sig_t<decltype(Vcs_top::resp_ready)> resp_ready{"resp_ready"};
  sig_t<decltype(Vcs_top::resp_data)> resp_data{"resp_data"};
  sig_t<decltype(Vcs_top::wack)> wack{"wack"};
  sig_t<decltype(Vcs_top::retire_valid)> retire_valid{"retire_valid"};
  sig_t<decltype(Vcs_top::retire_index)> retire_index{"retire_index"};
  sig_t<decltype(Vcs_top::dvfs_point)> dvfs_point{"dvfs_point"};
  sig_t<decltype(Vcs_top::dbg_tile)> dbg_tile{"dbg_tile"};
  sig_t<decltype(Vcs_top::dbg_line)> dbg_line{"dbg_line"};
  sig_t<decltype(Vcs_top::dbg_data)> dbg_data{"dbg_data"};

  std::vector<Retire> retired;
  uint64_t rtl_cycles = 0;
  bool finished = false;
  std::vector<std::vector<uint8_t>> sram[2];  // [space][tile] bytes read back
  std::string error;
  bool readback = true;  // read every SRAM line back after the halt (off for speed runs)

  struct LoadResp {
    uint64_t ready;
    uint64_t addr;
    uint32_t bytes;
  };
  std::deque<LoadResp> loads;
  std::multimap<uint64_t, unsigned> acks;  // cycle -> tag

  SC_HAS_PROCESS(RtlHarness);
  RtlHarness(sc_core::sc_module_name n, Vcs_top* t, const hw::HwConfig& h, const isa::Program& p,
             std::array<int64_t, 8> c)
      : sc_module(n), top(t), hw(h), prog(p), ctx(c), dram(h.dram) {
    period = hw.domain(hw::Domain::Compute).points[hw.domain(hw::Domain::Compute).initial].period_ps;
    top->clk(clk);
    top->rst_n(rst_n);
    top->prog_we(prog_we);
    top->prog_addr(prog_addr);
    top->prog_data(prog_data);
    top->prog_len(prog_len);
    top->ctx_we(ctx_we);
    top->ctx_idx(ctx_idx);
    top->ctx_data(ctx_data);
    top->go(go);
    top->halted(halted);
    top->cycles(cycles);
    top->req_valid(req_valid);
    top->req_write(req_write);
    top->req_addr(req_addr);
    top->req_bytes(req_bytes);
    top->req_tag(req_tag);
    top->req_wdata(req_wdata);
    top->resp_valid(resp_valid);
    top->resp_ready(resp_ready);
    top->resp_data(resp_data);
    top->wack(wack);
    top->retire_valid(retire_valid);
    top->retire_index(retire_index);
    top->dvfs_point(dvfs_point);
    top->dbg_tile(dbg_tile);
    top->dbg_space(dbg_space);
    top->dbg_line(dbg_line);
    top->dbg_data(dbg_data);
    SC_THREAD(run);
  }

  void tick() { wait(clk.posedge_event()); }

  void run() {
    rst_n.write(false);
    tick();
    tick();
    rst_n.write(true);
    // program and context registers
    for (size_t i = 0; i < prog.code.size(); ++i) {
      prog_we.write(true);
      prog_addr.write(static_cast<uint32_t>(i));
      typename std::remove_reference_t<decltype(Vcs_top::prog_data)>::data_type d;
      word_to(d, isa::encode(prog.code[i]));
      prog_data.write(d);
      tick();
    }
    prog_we.write(false);
    prog_len.write(static_cast<uint32_t>(prog.code.size()));
    for (unsigned r = 1; r < 8; ++r) {
      ctx_we.write(true);
      ctx_idx.write(r);
      ctx_data.write(static_cast<uint64_t>(ctx[r]));
      tick();
    }
    ctx_we.write(false);
    go.write(true);
    tick();  // go is seen at this edge; the next cycle is RTL cycle 0
    go.write(false);
    uint64_t cyc = 0;  // RTL cycle about to begin
    bool resp_v = false;
    const unsigned nu = 1 + 2 * hw.dma.channels + 2 * hw.tiles;
    while (true) {
      // Outputs of cycle `cyc` settle during the cycle; serve them at its end.
      tick();
      const uint64_t c = cyc;  // the cycle that just ended
      // retirements of cycle c
      const uint64_t rv = to_u64(retire_valid.read());
      if (rv) {
        uint8_t idx[4 * 64];
        bv_to_bytes(retire_index.read(), idx, 4 * nu);
        for (unsigned u = 0; u < nu; ++u)
          if (rv >> u & 1) {
            uint32_t x;
            std::memcpy(&x, idx + 4 * u, 4);
            retired.push_back({c, int(u), x});
          }
      }
      // load response accepted in cycle c
      if (resp_v && to_u64(resp_ready.read())) loads.pop_front();
      // new DRAM request of cycle c
      if (to_u64(req_valid.read())) {
        const uint64_t addr = to_u64(req_addr.read());
        const uint32_t n = static_cast<uint32_t>(to_u64(req_bytes.read()));
        const bool wr = to_u64(req_write.read());
        const dram::Completion done = dram.access(addr, n, wr, c * period);
        const uint64_t ready = (done.done_ps + period - 1) / period;
        if (wr) {
          std::vector<uint8_t> b(hw.dma.burst_bytes);
          bv_to_bytes(req_wdata.read(), b.data(), hw.dma.burst_bytes);
          dram_data.write(addr, b.data(), n);
          acks.emplace(ready, static_cast<unsigned>(to_u64(req_tag.read())));
        } else {
          loads.push_back({ready, addr, n});
        }
      }
      ++cyc;
      // inputs for cycle cyc
      resp_v = !loads.empty() && loads.front().ready <= cyc;
      resp_valid.write(resp_v);
      if (resp_v) {
        std::vector<uint8_t> b(hw.dma.burst_bytes, 0);
        dram_data.read(loads.front().addr, b.data(), loads.front().bytes);
        typename std::remove_reference_t<decltype(Vcs_top::resp_data)>::data_type d;
        bytes_to(d, b.data(), hw.dma.burst_bytes);
        resp_data.write(d);
      }
      uint64_t wm = 0;
      for (auto it = acks.begin(); it != acks.end() && it->first <= cyc;) {
        if (it->first < cyc) {
          error = "internal: a write acknowledgement was missed";
        }
        wm |= uint64_t(1) << it->second;
        it = acks.erase(it);
      }
      typename std::remove_reference_t<decltype(Vcs_top::wack)>::data_type wv;
      {
        uint8_t b[64] = {};
        std::memcpy(b, &wm, 8);
        bytes_to(wv, b, (hw.dma.outstanding + 7) / 8);
      }
      wack.write(wv);
      if (to_u64(halted.read())) break;
      if (cyc > (uint64_t(1) << 32)) {
        error = "RTL did not halt";
        break;
      }
    }
    rtl_cycles = to_u64(cycles.read());
    // read back every tile memory through the debug port
    for (int sp = 0; sp < 2 && readback; ++sp) {
      const hw::SramConfig& s = sp ? hw.accumulator : hw.scratchpad;
      for (unsigned t = 0; t < hw.tiles; ++t) {
        std::vector<uint8_t> img(s.total_bytes());
        for (uint64_t line = 0; line < uint64_t(s.banks) * s.depth; ++line) {
          dbg_tile.write(t);
          dbg_space.write(sp != 0);
          dbg_line.write(static_cast<uint32_t>(line));
          wait(sc_core::SC_ZERO_TIME);
          wait(sc_core::SC_ZERO_TIME);
          bv_to_bytes(dbg_data.read(), img.data() + line * s.line_bytes(), s.line_bytes());
        }
        sram[sp].push_back(std::move(img));
      }
    }
    finished = true;
  }
};

void random_fill(sim::SparseMemory& a, sim::SparseMemory& b, uint64_t addr, uint64_t len, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<uint8_t> bytes(len);
  for (auto& x : bytes) x = static_cast<uint8_t>(rng());
  a.write(addr, bytes.data(), len);
  b.write(addr, bytes.data(), len);
}

// A program written by `clonesim compile` (DIR/compile.json names it):
// NAME.bin, and its DRAM image (NAME.dram.bin, the manifest's chunk index).
struct DramChunkFile {
  uint64_t addr;
  std::vector<uint8_t> bytes;
};
// The manifest's context registers ("context": {"c4": 5, ...}) go into `ctx`
// where the command line did not set them (`given`).
std::vector<DramChunkFile> compiled_image(const std::string& dir, const std::string& name,
                                          std::array<int64_t, 8>& ctx, const std::array<bool, 8>& given) {
  const std::string mpath = dir + "/compile.json";
  std::ifstream mf(mpath);
  if (!mf) throw Error(mpath + ": cannot open (is " + dir + " a directory clonesim compile wrote?)");
  nlohmann::json m;
  try {
    m = nlohmann::json::parse(mf);
  } catch (const std::exception& e) {
    throw Error(mpath + ": not JSON: " + e.what());
  }
  if (!m.contains("programs") || !m["programs"].contains(name))
    throw Error(mpath + ": no program named " + name);
  std::vector<DramChunkFile> out;
  try {
    const std::string ipath = dir + "/" + m["programs"][name]["dram_image"].get<std::string>();
    std::ifstream f(ipath, std::ios::binary);
    if (!f) throw Error(ipath + ": cannot open");
    std::vector<uint8_t> all{std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
    if (m["programs"][name].contains("context"))
      for (const auto& [reg, value] : m["programs"][name]["context"].items()) {
        const int r = reg.size() == 2 && reg[0] == 'c' && reg[1] >= '1' && reg[1] <= '7' ? reg[1] - '0' : 0;
        if (!r) throw Error(mpath + ": programs." + name + ".context: " + reg + " is not a context register c1..c7");
        if (!given[size_t(r)]) ctx[size_t(r)] = value.get<int64_t>();
      }
    for (const auto& c : m["programs"][name]["image"]) {
      const uint64_t off = c["offset"], n = c["bytes"];
      if (off + n > all.size())
        throw Error(ipath + ": chunk " + c["name"].get<std::string>() + " at offset " + std::to_string(off) +
                    " is beyond the file's " + std::to_string(all.size()) + " bytes");
      out.push_back(
          {c["dram"].get<uint64_t>(), std::vector<uint8_t>(all.begin() + long(off), all.begin() + long(off + n))});
    }
  } catch (const nlohmann::json::exception& e) {
    throw Error(mpath + ": programs." + name + ": " + e.what());
  }
  return out;
}

}  // namespace

int sc_main(int argc, char* argv[]) {
  Verilated::commandArgs(argc, argv);
  std::string program_path, vcd_path, generate_kind, only, dump_path, compiled;
  std::array<int64_t, 8> ctx{};
  std::array<bool, 8> ctx_given{};
  std::vector<std::array<uint64_t, 3>> fills;
  bool quiet = false, verbose = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) throw Error(a + ": needs a value");
      return argv[++i];
    };
    if (a == "--vcd") vcd_path = next();
    else if (a == "--generate") generate_kind = next();
    else if (a == "--only") only = next();
    else if (a == "--compiled") compiled = next();
    else if (a == "--dump-program") dump_path = next();
    else if (a == "--ctx") {
      const std::string v = next();
      const auto eq = v.find('=');
      if (eq == std::string::npos || v.size() < 3 || v[0] != 'c') throw Error("--ctx " + v + ": expected cN=VALUE");
      const int r = std::stoi(v.substr(1, eq - 1)) & 7;
      ctx[size_t(r)] = std::stoll(v.substr(eq + 1), nullptr, 0);
      ctx_given[size_t(r)] = true;
    } else if (a == "--dram-random") {
      std::string v = next();
      std::array<uint64_t, 3> f{0, 0, 1};
      for (int k = 0; k < 3 && !v.empty(); ++k) {
        const auto c = v.find(':');
        f[k] = std::stoull(v.substr(0, c), nullptr, 0);
        v = c == std::string::npos ? "" : v.substr(c + 1);
      }
      fills.push_back(f);
    } else if (a == "-q") quiet = true;
    else if (a == "-v") verbose = true;
    else if (!a.empty() && a[0] != '+') program_path = a;
  }
  try {
    std::vector<DramChunkFile> image;
    if (!compiled.empty()) {
      const auto colon = compiled.rfind(':');
      if (colon == std::string::npos || !program_path.empty() || !generate_kind.empty())
        throw Error("--compiled " + compiled + ": expected DIR:NAME (a program clonesim compile wrote), alone");
      const std::string dir = compiled.substr(0, colon), name = compiled.substr(colon + 1);
      image = compiled_image(dir, name, ctx, ctx_given);
      program_path = dir + "/" + name + ".bin";
    }
    if (program_path.empty() == generate_kind.empty())
      throw Error("usage: cosim (PROGRAM | --compiled DIR:NAME | --generate transformer|dram|banks|random:SEED) "
                  "[--ctx cN=V] [--dram-random A:L[:S]] [--vcd FILE] [-q]");
    const hw::HwConfig hw = hw::load_hw_config_or_named(CLONESIM_COSIM_HW);
    if (!generate_kind.empty()) {
      program_path = generate_kind;
      // generated programs read random DRAM below 16 MiB
      fills.push_back({0, 1 << 24, 12345});
    }
    const isa::Program prog = generate_kind.empty() ? isa::load_program(program_path)
                                                    : isa::assemble(cosim::generate(hw, generate_kind), generate_kind);
    // the RTL was generated at the design point's depth, and the whole program is written into it
    if (prog.code.size() > hw.controller.imem_depth)
      throw Error(program_path + ": " + std::to_string(prog.code.size()) +
                  " instructions do not fit the RTL's program memory (" + hw.source + ": controller.imem_depth " +
                  std::to_string(hw.controller.imem_depth) + ")");
    if (!dump_path.empty()) {
      std::ofstream f(dump_path);
      f << isa::disassemble(prog);
      if (!f) throw Error(dump_path + ": cannot write");
    }
    const uint64_t P = hw.domain(hw::Domain::Compute).points[hw.domain(hw::Domain::Compute).initial].period_ps;
    for (int d = 0; d < hw::kNumDomains; ++d)
      if (hw.domains[d].points[hw.domains[d].initial].period_ps != P)
        throw Error(hw.source + ": co-simulation needs every domain on one clock");

    if (!only.empty() && only != "rtl" && only != "model" && only != "model-timing")
      throw Error("--only " + only + ": expected rtl, model or model-timing");
    sim::Options opt;
    opt.mode = only == "model-timing" ? sim::Mode::Timing : sim::Mode::Functional;
    opt.ctx = ctx;
    const auto t0 = std::chrono::steady_clock::now();
    if (only == "model" || only == "model-timing") {
      // speed of the SystemC model alone (benchmark)
      sim::Accelerator model("model", hw, prog, opt);
      for (const auto& f : fills) random_fill(model.dram(), model.dram(), f[0], f[1], f[2]);
      for (const auto& c : image) model.dram().write(c.addr, c.bytes.data(), c.bytes.size());
      sc_core::sc_start();
      const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (!model.error().empty()) throw Error("model: " + model.error());
      std::printf("SPEED model %llu cycles %.6f s\n", (unsigned long long)model.stats().cycles, wall);
      return 0;
    }
    // the RTL-only benchmark elaborates no model
    std::unique_ptr<sim::Accelerator> model_p;
    if (only != "rtl") model_p = std::make_unique<sim::Accelerator>("model", hw, prog, opt);
    sc_core::sc_clock clk("clk", sc_core::sc_time(double(P), sc_core::SC_PS));
    Vcs_top top("rtl");
    RtlHarness harness("harness", &top, hw, prog, ctx);
    harness.clk(clk);
    harness.readback = only != "rtl";
    for (const auto& f : fills)
      random_fill(model_p ? model_p->dram() : harness.dram_data, harness.dram_data, f[0], f[1], f[2]);
    for (const auto& c : image) {
      harness.dram_data.write(c.addr, c.bytes.data(), c.bytes.size());
      if (model_p) model_p->dram().write(c.addr, c.bytes.data(), c.bytes.size());
    }
#if VM_TRACE
    VerilatedVcdSc* tfp = nullptr;
    if (!vcd_path.empty()) {
      Verilated::traceEverOn(true);
      tfp = new VerilatedVcdSc;
      sc_core::sc_start(sc_core::SC_ZERO_TIME);
      top.trace(tfp, 99);
      tfp->open(vcd_path.c_str());
    }
#else
    if (!vcd_path.empty()) throw Error("--vcd: this co-simulation binary was built without tracing");
#endif
    if (only == "rtl") {
      while (!harness.finished && harness.error.empty())
        sc_core::sc_start(sc_core::sc_time(double(P) * 10000, sc_core::SC_PS));
      const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::printf("SPEED rtl %llu cycles %.6f s\n", (unsigned long long)harness.rtl_cycles, wall);
      return harness.error.empty() ? 0 : 1;
    }
    sim::Accelerator& model = *model_p;
    // run until the RTL has halted and been read back, and the model is done
    while (!harness.finished || (!model.finished() && model.error().empty())) {
      sc_core::sc_start(sc_core::sc_time(double(P) * 10000, sc_core::SC_PS));
      if (!harness.error.empty() || !model.error().empty()) break;
      // the model has halted; the RTL gets 1000 cycles plus 10% more, then it has diverged
      if (model.finished() && !harness.finished &&
          sc_core::sc_time_stamp().value() > (model.stats().time_ps * 11 / 10 + 1000 * P) * 2 + 100000000ULL) {
        std::printf("DIVERGED: the model halted at cycle %llu; the RTL has not halted\n",
                    (unsigned long long)model.stats().cycles);
        return 1;
      }
    }
#if VM_TRACE
    if (tfp) tfp->close();
#endif
    if (!model.error().empty()) throw Error("model: " + model.error());
    if (!harness.error.empty()) throw Error("rtl: " + harness.error);

    // ---- compare
    std::vector<Retire> m;
    for (const auto& r : model.retirements())
      if (r.unit != 0) m.push_back({r.done_ps / P, r.unit, r.index});
    std::vector<Retire> rr = harness.retired;
    std::sort(m.begin(), m.end());
    std::sort(rr.begin(), rr.end());
    const auto& units = model.stats().units;
    if (verbose)
      for (size_t i = 0; i < std::max(m.size(), rr.size()); ++i) {
        auto cell = [&](const std::vector<Retire>& v) {
          if (i >= v.size()) return std::string("-");
          return "#" + std::to_string(v[i].index) + " " + units[v[i].unit].name + " @" + std::to_string(v[i].cycle);
        };
        std::printf("%4zu  model %-28s rtl %-28s%s\n", i, cell(m).c_str(), cell(rr).c_str(),
                    (i < m.size() && i < rr.size() && m[i] == rr[i]) ? "" : "  <--");
      }
    for (size_t i = 0; i < std::max(m.size(), rr.size()); ++i) {
      if (i >= m.size() || i >= rr.size() || !(m[i] == rr[i])) {
        auto show = [&](const std::vector<Retire>& v) {
          if (i >= v.size()) return std::string("nothing");
          const Retire& r = v[i];
          return "instruction " + std::to_string(r.index) + " (" + isa::disassemble(prog.code[r.index]) + ") on " +
                 units[r.unit].name + " at cycle " + std::to_string(r.cycle);
        };
        std::printf("DIVERGED at retirement %zu: model retires %s; RTL retires %s\n", i, show(m).c_str(),
                    show(rr).c_str());
        return 1;
      }
    }
    if (model.stats().cycles != harness.rtl_cycles) {
      std::printf("DIVERGED: total cycles: model %llu, RTL %llu\n", (unsigned long long)model.stats().cycles,
                  (unsigned long long)harness.rtl_cycles);
      return 1;
    }
    // DRAM images
    {
      std::vector<uint64_t> pages = model.dram().page_addresses();
      for (uint64_t p : harness.dram_data.page_addresses()) pages.push_back(p);
      std::sort(pages.begin(), pages.end());
      pages.erase(std::unique(pages.begin(), pages.end()), pages.end());
      std::vector<uint8_t> a(sim::SparseMemory::kPageBytes), b(sim::SparseMemory::kPageBytes);
      for (uint64_t p : pages) {
        model.dram().read(p, a.data(), a.size());
        harness.dram_data.read(p, b.data(), b.size());
        for (size_t k = 0; k < a.size(); ++k)
          if (a[k] != b[k]) {
            std::printf("DIVERGED: DRAM byte 0x%llx: model 0x%02x, RTL 0x%02x\n", (unsigned long long)(p + k), a[k], b[k]);
            return 1;
          }
      }
    }
    for (int sp = 0; sp < 2; ++sp)
      for (unsigned t = 0; t < hw.tiles; ++t) {
        const auto& mine = model.tile(t).space(sp);
        const auto& theirs = harness.sram[sp][t];
        for (size_t k = 0; k < mine.size(); ++k)
          if (mine[k] != theirs[k]) {
            std::printf("DIVERGED: tile %u %s byte 0x%zx: model 0x%02x, RTL 0x%02x\n", t,
                        sp ? "accumulator" : "scratchpad", k, mine[k], theirs[k]);
            return 1;
          }
      }
    if (!quiet)
      std::printf("MATCH: %zu retirements, %llu cycles, DRAM and SRAM images identical (%s, %s)\n", m.size(),
                  (unsigned long long)harness.rtl_cycles, hw.name.c_str(), program_path.c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cosim: error: %s\n", e.what());
    return 2;
  }
}

int main(int argc, char* argv[]) {
  setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
  return sc_core::sc_elab_and_sim(argc, argv);
}
