// The seeded random program generator of the co-simulation regression
// (rtl/cosim/random_program.h): its programs are legal on the design point,
// run to the same cycle count in functional and timing mode, are
// deterministic per seed, cover the whole ISA, and are race-free -- checked
// twice: on the model's actual schedule (no two instructions that overlap in
// time touch overlapping bytes where one writes) and statically (every
// conflicting pair is ordered by a semaphore, an in-order unit, the
// controller or a barrier, whatever the timing).
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <memory>
#include <random>
#include <set>

#include "isa/program.h"
#include "rtl/cosim/random_program.h"
#include "sim/timing.h"
#include "sim_test_util.h"

using namespace clonesim;
using namespace clonesim::test;
using isa::Field;
using isa::Instruction;
using isa::Opcode;

namespace {

constexpr unsigned kSeeds = 20;

hw::HwConfig point(const std::string& rel) { return hw::load_hw_config(std::string(CLONESIM_SOURCE_DIR "/") + rel); }

// ---- the program as executed: context registers resolved in program order

std::vector<Instruction> resolve(const isa::Program& p) {
  std::array<int64_t, isa::kNumContextRegs> ctx{};
  std::vector<Instruction> out;
  for (Instruction in : p.code) {
    const int cf = isa::cnt_reg_field(in);  // the count field, or with cnt_alt matmul k / DMA bytes
    if (cf < isa::kNumFields) in[cf] = ctx[in.cnt_reg];
    if (in.addr_reg) in[Field::Dram] += ctx[in.addr_reg];
    const int r = static_cast<int>(in[Field::Reg]);
    const int64_t v = in[Field::Value];
    switch (in.op) {
      case Opcode::CtxSet: ctx[r] = v; break;
      case Opcode::CtxAdd: ctx[r] = int64_t(uint64_t(ctx[in[Field::Src]]) + uint64_t(v)); break;
      case Opcode::CtxMul: ctx[r] = int64_t(uint64_t(ctx[in[Field::Src]]) * uint64_t(v)); break;
      default: break;
    }
    ctx[0] = 0;
    out.push_back(in);
  }
  return out;
}

// ---- memory footprints (a superset: 2D transfers and matmul rows by extent)

enum Kind { kSpK = 0, kAccK = 1, kDram = 2, kLut = 3 };
struct Access {
  int kind;
  int tile;  // -1 for DRAM
  uint64_t lo, hi;
  bool write;
};

bool conflict(const Access& a, const Access& b) {
  return a.kind == b.kind && a.tile == b.tile && a.lo < b.hi && b.lo < a.hi && (a.write || b.write);
}

// Footprint of `in` (resolved) executed on `tile` (the copy's tile for
// matrix / vector instructions; ignored for DMA, which uses in.tile).
std::vector<Access> footprint(const hw::HwConfig& hw, const Instruction& in, int tile) {
  std::vector<Access> v;
  const auto eb = [](int64_t s) -> uint64_t { return s == isa::kAccumulator ? 4 : 1; };
  switch (isa::unit_of(in.op)) {
    case isa::Unit::Load:
    case isa::Unit::Store: {
      const uint64_t rows = in[Field::Rows], bytes = in[Field::Bytes];
      const uint64_t sext = (rows - 1) * in[Field::SStride] + bytes, dext = (rows - 1) * in[Field::DStride] + bytes;
      const bool load = in.op == Opcode::Load;
      const int sp = static_cast<int>(in[Field::Space]);
      v.push_back({kDram, -1, uint64_t(in[Field::Dram]), uint64_t(in[Field::Dram]) + dext, !load});
      if (in.tile == isa::kAllTiles) {
        for (unsigned t = 0; t < hw.tiles; ++t)
          v.push_back({sp, int(t), uint64_t(in[Field::Sram]), uint64_t(in[Field::Sram]) + sext, load});
      } else {
        v.push_back({sp, int(in.tile), uint64_t(in[Field::Sram]), uint64_t(in[Field::Sram]) + sext, load});
      }
      break;
    }
    case isa::Unit::Matrix: {
      const uint64_t M = in[Field::M], K = in[Field::K], N = in[Field::N];
      v.push_back({kSpK, tile, uint64_t(in[Field::Act]), uint64_t(in[Field::Act]) + (M - 1) * in[Field::AStride] + K, false});
      v.push_back({kSpK, tile, uint64_t(in[Field::Wgt]), uint64_t(in[Field::Wgt]) + sim::weight_bytes(hw, in), false});
      v.push_back({kAccK, tile, uint64_t(in[Field::Acc]), uint64_t(in[Field::Acc]) + (M - 1) * in[Field::CStride] + 4 * N,
                   true});
      break;
    }
    case isa::Unit::Vector: {
      const uint64_t a = in[Field::A], b = in[Field::B], d = in[Field::Dst], len = in[Field::Len];
      const int64_t as = in[Field::ASpace], bs = in[Field::BSpace], ds = in[Field::DSpace], bm = in[Field::BMode];
      if (in.op == Opcode::LutLoad) {
        v.push_back({kSpK, tile, a, a + 512, false});
        v.push_back({kLut, tile, uint64_t(in[Field::Imm]) * 512, uint64_t(in[Field::Imm]) * 512 + 512, true});
        break;
      }
      v.push_back({int(as), tile, a, a + len * eb(as), false});
      if (in.op == Opcode::VRequant) {
        if (bm == isa::kBVector) v.push_back({kAccK, tile, b, b + 8 * uint64_t(in[Field::Imm2]), false});
      } else if (bm == isa::kBVector) {
        v.push_back({int(bs), tile, b, b + len * eb(bs), false});
      } else if (bm == isa::kBScalar) {
        v.push_back({int(bs), tile, b, b + eb(bs), false});
      }
      if (in.op == Opcode::VLut)
        v.push_back({kLut, tile, uint64_t(in[Field::Imm]) * 512, uint64_t(in[Field::Imm]) * 512 + 512, false});
      const bool red = in.op == Opcode::VRedSum || in.op == Opcode::VRedMax;
      v.push_back({int(ds), tile, d, d + (red ? eb(ds) : len * eb(ds)), true});
      break;
    }
    case isa::Unit::Control: break;
  }
  return v;
}

std::string describe(const std::vector<Instruction>& res, uint32_t i) {
  return "[" + std::to_string(i) + "] " + isa::disassemble(res[i]);
}

// ---- race check on the model's schedule

// Pairs of instructions whose [start, done) intervals overlap, on different
// units, that touch overlapping bytes where one writes.  (Two instructions of
// one unit overlap only in the matrix pipeline, which keeps its order.)
unsigned schedule_races(const sim::Accelerator& acc, const std::vector<Instruction>& res, std::string& first) {
  struct Exec {
    uint32_t index;
    int unit;
    uint64_t s, d;
    std::vector<Access> fp;
  };
  const auto& units = acc.stats().units;
  std::vector<Exec> ex;
  for (const auto& r : acc.retirements()) {
    if (units[r.unit].name == "control") continue;
    ex.push_back({r.index, r.unit, r.start_ps, r.done_ps, footprint(acc.hw(), res[r.index], units[r.unit].tile)});
  }
  std::sort(ex.begin(), ex.end(), [](const Exec& a, const Exec& b) { return a.s < b.s; });
  unsigned n = 0;
  for (size_t i = 0; i < ex.size(); ++i)
    for (size_t j = i + 1; j < ex.size() && ex[j].s < ex[i].d; ++j) {
      if (ex[i].unit == ex[j].unit || !(ex[i].s < ex[j].d)) continue;
      for (const Access& x : ex[i].fp)
        for (const Access& y : ex[j].fp)
          if (conflict(x, y)) {
            if (!n++)
              first = describe(res, ex[i].index) + " on " + units[ex[i].unit].name + " and " +
                      describe(res, ex[j].index) + " on " + units[ex[j].unit].name + " overlap in time";
            goto next;
          }
    next:;
    }
  return n;
}

// ---- static race check: happens-before from semaphores, in-order units,
// the controller and the barriers

struct Bits {
  std::vector<uint64_t> w;
  explicit Bits(size_t n = 0) : w((n + 63) / 64) {}
  void set(size_t i) { w[i / 64] |= uint64_t(1) << (i % 64); }
  bool has(size_t i) const { return w[i / 64] >> (i % 64) & 1; }
  void merge(const Bits& o) {
    for (size_t k = 0; k < w.size(); ++k) w[k] |= o.w[k];
  }
};

unsigned static_races(const hw::HwConfig& hw, const std::vector<Instruction>& res, std::string& first) {
  unsigned n = 0;
  auto report = [&](const std::string& what) {
    if (!n++) first = what;
  };
  size_t begin = 0;
  while (begin < res.size()) {
    size_t end = begin;
    while (end < res.size() && res[end].op != Opcode::Dvfs && res[end].op != Opcode::Halt) ++end;
    // nodes: one per instruction, one per tile copy of tile=all matrix / vector instructions
    struct Node {
      uint32_t index;
      int tile;
      int queue;  // -1 control
      bool matrix, control;
      std::vector<int> waits, sigs;  // semaphore keys
      std::vector<Access> fp;
    };
    std::vector<Node> nodes;
    for (size_t i = begin; i < end; ++i) {
      const Instruction& in = res[i];
      const isa::Unit u = isa::unit_of(in.op);
      std::vector<int> copies;
      if ((u == isa::Unit::Matrix || u == isa::Unit::Vector) && in.tile == isa::kAllTiles)
        for (unsigned t = 0; t < hw.tiles; ++t) copies.push_back(int(t));
      else
        copies.push_back(in.tile == isa::kAllTiles ? -1 : int(in.tile));
      for (int t : copies) {
        Node nd{uint32_t(i), t, -1, u == isa::Unit::Matrix, u == isa::Unit::Control, {}, {}, footprint(hw, in, t)};
        const int ch = in.tile == isa::kAllTiles ? 0 : int(in.tile % hw.dma.channels);
        switch (u) {
          case isa::Unit::Load: nd.queue = 3000 + ch; break;
          case isa::Unit::Store: nd.queue = 4000 + ch; break;
          case isa::Unit::Matrix: nd.queue = 1000 + t; break;
          case isa::Unit::Vector: nd.queue = 2000 + t; break;
          case isa::Unit::Control: break;
        }
        auto keys = [&](const std::array<uint8_t, 2>& ids, std::vector<int>& out) {
          for (uint8_t id : ids) {
            if (!id) continue;
            if (id >= isa::kFirstGlobalSemaphore) out.push_back(100000 + id);
            else if (t < 0)
              for (unsigned k = 0; k < hw.tiles; ++k) out.push_back(int(k) * 32 + id);
            else
              out.push_back(t * 32 + id);
          }
        };
        keys(in.wait, nd.waits);
        keys(in.signal, nd.sigs);
        nodes.push_back(std::move(nd));
      }
    }
    const size_t N = nodes.size();
    std::vector<Bits> rs(N, Bits(N)), ra(N, Bits(N));  // done(y) <= start(x); done(y) <= done(x)
    Bits ctrl_frontier(N);
    std::map<int, size_t> last_in_queue;
    std::map<int, std::vector<size_t>> signals, waits;
    for (size_t x = 0; x < N; ++x) {
      const Node& nd = nodes[x];
      rs[x].merge(ctrl_frontier);  // dispatched after every earlier control instruction executed
      Bits extra(N);
      if (nd.queue >= 0) {
        const auto it = last_in_queue.find(nd.queue);
        if (it != last_in_queue.end()) {
          const size_t a = it->second;
          if (nd.matrix) {  // pipelined: starts and completes in order
            rs[x].merge(rs[a]);
            extra.merge(ra[a]);
            extra.set(a);
          } else {  // one at a time
            rs[x].merge(ra[a]);
            rs[x].set(a);
          }
        }
        last_in_queue[nd.queue] = x;
      }
      for (int k : nd.waits) {
        auto& w = waits[k];
        const auto& s = signals[k];
        if (w.size() >= s.size()) {
          report(describe(res, nd.index) + " waits on a semaphore no earlier instruction signals (key " +
                 std::to_string(k) + ")");
        } else {
          const size_t p = s[w.size()];
          rs[x].merge(ra[p]);
          rs[x].set(p);
        }
        w.push_back(x);
      }
      ra[x] = rs[x];
      ra[x].merge(extra);
      if (nd.control) ctrl_frontier.merge(rs[x]);
      for (int k : nd.sigs) signals[k].push_back(x);
    }
    for (const auto& [k, s] : signals) {
      const size_t w = waits.count(k) ? waits[k].size() : 0;
      if (s.size() != w)
        report("epoch at [" + std::to_string(begin) + "]: semaphore key " + std::to_string(k) + " signalled " +
               std::to_string(s.size()) + " times, waited " + std::to_string(w) + " times");
      else if (s.size() > 1)
        report("epoch at [" + std::to_string(begin) + "]: semaphore key " + std::to_string(k) + " used " +
               std::to_string(s.size()) + " times (pairing ambiguous)");
    }
    for (size_t y = 0; y < N; ++y)
      for (size_t x = 0; x < y; ++x) {
        if (nodes[x].queue == nodes[y].queue && nodes[x].matrix) continue;  // in-order matrix unit
        if (rs[y].has(x)) continue;
        bool c = false;
        for (const Access& a : nodes[x].fp)
          for (const Access& b : nodes[y].fp) c = c || conflict(a, b);
        if (c)
          report(describe(res, nodes[x].index) + " and " + describe(res, nodes[y].index) +
                 " touch the same bytes and nothing orders them");
      }
    begin = end + 1;
  }
  return n;
}

// ---- the run: every seed in functional and timing mode, one kernel

void run_design_point(const hw::HwConfig& hw) {
  std::vector<isa::Program> progs;
  std::vector<std::unique_ptr<sim::Accelerator>> fun, tim;
  std::mt19937_64 fill(7);
  std::vector<uint8_t> src(0x100000);
  for (auto& b : src) b = static_cast<uint8_t>(fill());
  for (unsigned seed = 1; seed <= kSeeds; ++seed) {
    const std::string name = "random:" + std::to_string(seed);
    progs.push_back(isa::assemble(cosim::random_program(hw, seed), name));
    fun.push_back(std::make_unique<sim::Accelerator>(("f" + std::to_string(seed)).c_str(), hw, progs.back(),
                                                     sim::Options{sim::Mode::Functional, {}}));
    fun.back()->dram().write(0, src.data(), src.size());
    tim.push_back(std::make_unique<sim::Accelerator>(("t" + std::to_string(seed)).c_str(), hw, progs.back(),
                                                     sim::Options{sim::Mode::Timing, {}}));
  }
  sc_core::sc_start();
  unsigned instructions = 0;
  uint64_t bank_stall_ps = 0;
  for (unsigned i = 0; i < kSeeds; ++i) {
    INFO(hw.name << " seed " << i + 1);
    const sim::Accelerator& f = *fun[i];
    const sim::Accelerator& t = *tim[i];
    REQUIRE(f.error() == "");
    REQUIRE(f.finished());
    REQUIRE(t.error() == "");
    REQUIRE(t.finished());
    CHECK(f.stats().cycles == t.stats().cycles);
    CHECK(f.stats().cycles > 0);
    REQUIRE(f.retirements().size() == t.retirements().size());
    bool same = true;
    for (size_t k = 0; k < f.retirements().size(); ++k) {
      const auto &a = f.retirements()[k], &b = t.retirements()[k];
      same = same && a.index == b.index && a.unit == b.unit && a.start_ps == b.start_ps && a.done_ps == b.done_ps;
    }
    CHECK(same);
    // every instruction is legal once its registers are resolved
    const std::vector<Instruction> res = resolve(progs[i]);
    for (size_t k = 0; k < res.size(); ++k) {
      INFO(describe(res, uint32_t(k)));
      REQUIRE(sim::check_against(hw, res[k]) == "");
    }
    instructions += uint32_t(res.size());
    for (const auto& u : t.stats().units) bank_stall_ps += u.stall_ps[int(sim::StallReason::Bank)];
    std::string first;
    const unsigned dyn = schedule_races(f, res, first);
    INFO("first schedule race: " << first);
    CHECK(dyn == 0);
    first.clear();
    const unsigned st = static_races(hw, res, first);
    INFO("first unordered conflict: " << first);
    CHECK(st == 0);
  }
  // units do contend for SRAM banks (the arbitration rule is exercised)
  CHECK(bank_stall_ps > 0);
  // 6 epochs of about 30..80 instructions each
  CHECK(instructions >= kSeeds * 6 * 30);
  CHECK(instructions <= kSeeds * (6 * 110 + 1));
}

std::string text_of(const hw::HwConfig& hw, uint64_t seed, unsigned epochs = 6) {
  return cosim::random_program(hw, seed, epochs);
}

}  // namespace

TEST_CASE("random programs are legal and race-free and take the same cycles in both modes on edge-small", "[random][sim]") {
  run_design_point(point("configs/hw/edge-small.yaml"));
}

TEST_CASE("random programs are legal and race-free and take the same cycles in both modes on test-16x16", "[random][sim]") {
  run_design_point(point("tests/data/hw/test-16x16.yaml"));
}

TEST_CASE("random programs are legal and race-free and take the same cycles in both modes on test-8x8", "[random][sim]") {
  run_design_point(point("tests/data/hw/test-8x8.yaml"));
}

TEST_CASE("random programs are legal and race-free and take the same cycles in both modes on cosim-2x16", "[random][sim]") {
  run_design_point(point("tests/data/hw/cosim-2x16.yaml"));
}

TEST_CASE("random programs are legal and race-free and take the same cycles in both modes on cosim-4x8", "[random][sim]") {
  run_design_point(point("tests/data/hw/cosim-4x8.yaml"));
}

TEST_CASE("random programs are legal and race-free and take the same cycles in both modes on clone-28nm", "[random][sim]") {
  run_design_point(point("configs/hw/clone-28nm.yaml"));
}

TEST_CASE("random programs are legal and race-free and take the same cycles in both modes on edge-large", "[random][sim]") {
  run_design_point(point("configs/hw/edge-large.yaml"));
}

TEST_CASE("random programs are legal and race-free and take the same cycles in both modes on 5 tiles with dual-port SRAM", "[random][sim]") {
  // Dual-port banks let two units share a bank, so overlapping accesses could
  // also overlap in time: the schedule check has teeth here.
  hw::HwConfig hw = point("tests/data/hw/test-8x8.yaml");
  hw.name = "test-8x8-5t-dual";
  hw.tiles = 5;
  hw.dma.channels = 2;
  hw.scratchpad.ports = 2;
  hw.accumulator.ports = 2;
  hw.mxu.weight_types = {hw::WeightType::Int4};
  run_design_point(hw);
}

TEST_CASE("random programs are deterministic per seed and differ between seeds", "[random]") {
  const hw::HwConfig hw = point("configs/hw/edge-small.yaml");
  std::set<std::string> seen;
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    const std::string a = text_of(hw, seed), b = text_of(hw, seed);
    CHECK(a == b);
    CHECK(seen.insert(a).second);
  }
  CHECK(text_of(hw, 1) != text_of(point("tests/data/hw/test-16x16.yaml"), 1));
  // a large seed works too
  CHECK(text_of(hw, ~uint64_t(0)) == text_of(hw, ~uint64_t(0)));
}

TEST_CASE("random program epochs end in a barrier at the initial compute point and the program halts", "[random]") {
  const hw::HwConfig hw = point("tests/data/hw/test-16x16.yaml");
  for (unsigned epochs : {1u, 3u, 6u}) {
    const isa::Program p = isa::assemble(text_of(hw, 5, epochs), "r");
    unsigned dvfs = 0;
    for (const auto& in : p.code)
      if (in.op == Opcode::Dvfs) {
        ++dvfs;
        CHECK(in[Field::DomainF] == 0);
        CHECK(in[Field::Point] == hw.domain(hw::Domain::Compute).initial);
      }
    CHECK(dvfs == epochs);
    REQUIRE(p.code.size() >= 2);
    CHECK(p.code.back().op == Opcode::Halt);
    CHECK(p.code[p.code.size() - 2].op == Opcode::Dvfs);
  }
}

TEST_CASE("random programs cover every opcode and the interesting encodings", "[random]") {
  const hw::HwConfig hw = point("configs/hw/edge-small.yaml");
  std::map<Opcode, unsigned> ops;
  std::map<std::string, unsigned> feat;
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    const isa::Program p = isa::assemble(text_of(hw, seed), "r");
    for (const Instruction& in : p.code) {
      ++ops[in.op];
      const isa::Unit u = isa::unit_of(in.op);
      if (in.cnt_reg && !in.cnt_alt) ++feat["cnt=cN"];
      if (in.cnt_alt && in.op == Opcode::Matmul) ++feat["cnt_alt=cN matmul k"];
      if (in.cnt_alt && in.op != Opcode::Matmul) ++feat["cnt_alt=cN DMA bytes"];
      if (in.addr_reg) ++feat["addr=cN"];
      if (in.wait[0] && in.wait[1]) ++feat["two waits"];
      if (in.signal[0] && in.signal[1]) ++feat["two signals"];
      for (uint8_t s : {in.wait[0], in.wait[1], in.signal[0], in.signal[1]})
        if (s >= isa::kFirstGlobalSemaphore) ++feat["global semaphore"];
      if (u == isa::Unit::Control && (in.wait[0] || in.signal[0])) ++feat["control sync"];
      if (in.op == Opcode::Load && in.tile == isa::kAllTiles) ++feat["broadcast load"];
      if ((u == isa::Unit::Vector || u == isa::Unit::Matrix) && in.tile == isa::kAllTiles) ++feat["tile=all compute"];
      if ((in.op == Opcode::Load || in.op == Opcode::Store) && in[Field::Rows] > 1) ++feat["2D transfer"];
      if ((in.op == Opcode::Load || in.op == Opcode::Store) && in[Field::Space] == 1) ++feat["DMA to acc"];
      if (in.op == Opcode::Matmul && in[Field::WType] == 1) ++feat["int4"];
      if (in.op == Opcode::Matmul && in[Field::Accum] == 1) ++feat["accum"];
      if (in.op == Opcode::Matmul && in[Field::K] > hw.mxu.rows) ++feat["k > rows"];
      if (in.op == Opcode::Matmul && in[Field::N] > hw.mxu.cols) ++feat["n > cols"];
      if (in.op == Opcode::Matmul && in[Field::K] > hw.mxu.rows && in[Field::N] > hw.mxu.cols) ++feat["k, n > array"];
      if (in.op == Opcode::VRequant && in[Field::BMode] == isa::kBVector) ++feat["per-channel requant"];
      if (in.op == Opcode::VRequant && in[Field::BMode] == isa::kBNone) ++feat["per-tensor requant"];
      if (isa::is_vector_elementwise(in.op) && in.op != Opcode::VRequant) {
        if (in[Field::BMode] == isa::kBVector) ++feat["b vec"];
        if (in[Field::BMode] == isa::kBScalar) ++feat["b scalar"];
        if (in[Field::BMode] == isa::kBImm) ++feat["b imm"];
      }
      if (u == isa::Unit::Vector && in.op != Opcode::LutLoad && in[Field::ASpace] == 1 && in[Field::DSpace] == 0)
        ++feat["acc -> sp"];
      if (isa::is_vector_elementwise(in.op) && in[Field::Dst] == in[Field::A] &&
          in[Field::DSpace] == in[Field::ASpace])
        ++feat["in place"];
    }
  }
  for (const auto& info : isa::all_opcodes()) {
    INFO(info.mnemonic);
    CHECK(ops[info.op] > 0);
  }
  for (const char* f : {"cnt=cN", "cnt_alt=cN matmul k", "cnt_alt=cN DMA bytes", "addr=cN", "two waits", "two signals", "global semaphore", "control sync",
                        "broadcast load", "tile=all compute", "2D transfer", "DMA to acc", "int4", "accum",
                        "k > rows", "n > cols", "k, n > array",
                        "per-channel requant", "per-tensor requant", "b vec", "b scalar", "b imm", "acc -> sp", "in place"}) {
    INFO(f);
    CHECK(feat[f] > 0);
  }
}

TEST_CASE("the race checkers catch an unordered conflict", "[random][sim]") {
  // A load into a region a vector op reads without waiting for it: the
  // static check flags it whatever the timing; on a dual-port scratchpad the
  // two also overlap in time.  (With single-port banks the bank arbitration
  // serialises any two units touching one bank, so a schedule race needs
  // two ports.)
  const hw::HwConfig hw = point("tests/data/hw/cosim-2x16.yaml");
  REQUIRE(hw.scratchpad.ports == 2);
  const isa::Program p = isa::assemble(
      "load dram=0x0 sram=0x100 bytes=64 signal=s1\n"
      "vadd dst=0x8000 a=0x100 bmode=imm imm=1 len=64\n"
      "nop wait=s1\n"
      "dvfs domain=compute point=1\n"
      "load dram=0x0 sram=0x100 bytes=64 signal=s1\n"
      "vadd dst=0x8000 a=0x100 bmode=imm imm=1 len=64 wait=s1\n"
      "halt\n",
      "bad");
  std::string first;
  CHECK(static_races(hw, resolve(p), first) == 1);
  CHECK(first.find("[0]") != std::string::npos);
  CHECK(first.find("[1]") != std::string::npos);
  sim::Accelerator acc("bad", hw, p, sim::Options{sim::Mode::Functional, {}});
  sc_core::sc_start();
  REQUIRE(acc.error() == "");
  first.clear();
  CHECK(schedule_races(acc, resolve(p), first) == 1);
  CHECK(first.find("[0]") != std::string::npos);
}
