#include "sim/timing.h"

#include <algorithm>
#include <numeric>
#include <string>

#include "common/error.h"

namespace clonesim::sim {

using isa::Field;
using isa::Instruction;
using isa::Opcode;

const hw::SramConfig& space_config(const hw::HwConfig& hw, int space) {
  return space == isa::kAccumulator ? hw.accumulator : hw.scratchpad;
}

uint64_t bank_mask(const hw::SramConfig& s, uint64_t addr, uint64_t bytes) {
  const uint64_t first = addr / s.bank_bytes();
  const uint64_t last = (addr + bytes - 1) / s.bank_bytes();
  uint64_t m = 0;
  for (uint64_t b = first; b <= last && b < 64; ++b) m |= uint64_t(1) << b;
  return m;
}

// ---- DMA -------------------------------------------------------------------

DmaOutcome dma_timing(const hw::HwConfig& hw, const Instruction& in, uint64_t start_ps,
                      const DomainClock& clk, dram::DramModel& dram, uint64_t* bank_lines) {
  const bool is_store = in.op == Opcode::Store;
  const hw::SramConfig& sc = space_config(hw, static_cast<int>(in[Field::Space]));
  const FastDiv lb(sc.line_bytes()), bank_bytes(sc.bank_bytes());
  const uint64_t P = clk.period();
  const uint32_t O = hw.dma.outstanding;

  // Ring of the times at which the last O requests free their slots.
  uint64_t slot_small[64];
  std::vector<uint64_t> slot_big;
  uint64_t* slot = slot_small;
  if (O > 64) {
    slot_big.assign(O, 0);
    slot = slot_big.data();
  }

  DmaOutcome out;
  uint64_t i = 0, slot_k = 0;
  // Load: issue_i = max(issue_{i-1} + P, free_{i-O}); data written to SRAM in
  // order, one line per cycle: w_end_i = max(c_i, w_end_{i-1}) + lines_i * P.
  // Store: the SRAM read of request i starts when its slot is free and the
  // previous read is done; the request issues the cycle its data is read.
  uint64_t issue = start_ps;  // earliest issue of the next request
  uint64_t sram_end = start_ps;
  uint64_t done = start_ps;

  for_each_dma_request(hw, in, [&](const DmaRequest& q) {
    const uint64_t s = q.sram;
    const uint32_t n = q.bytes;
    const uint64_t nl = lines_touched(s, n, lb);
    if (bank_lines) {
      // A request may straddle a bank boundary: count each line in its bank.
      const uint64_t b0 = bank_bytes(s), b1 = bank_bytes(s + n - 1);
      if (b0 == b1) {
        bank_lines[b0] += nl;
      } else {
        for (uint64_t line = lb(s); line <= lb(s + n - 1); ++line)
          bank_lines[bank_bytes(line * lb.divisor())] += 1;
      }
    }
    const uint64_t k = slot_k;  // i mod O
    if (++slot_k == O) slot_k = 0;
    if (!is_store) {
      if (i >= O && slot[k] > issue) issue = slot[k];
      const dram::Completion c = dram.access(q.dram, n, false, issue);
      const uint64_t ce = clk.next_edge(c.done_ps);
      sram_end = std::max(ce, sram_end) + nl * P;
      slot[k] = sram_end;
      done = sram_end;
      issue += P;
    } else {
      uint64_t rs = sram_end;
      if (i >= O && slot[k] > rs) rs = slot[k];
      sram_end = rs + nl * P;
      if (sram_end > issue) issue = sram_end;
      const dram::Completion c = dram.access(q.dram, n, true, issue);
      const uint64_t ce = clk.next_edge(c.done_ps);
      slot[k] = ce;
      if (ce > done) done = ce;
      issue += P;
    }
    out.sram_lines += nl;
    out.bytes += n;
    ++i;
  });
  out.requests = i;
  out.done_ps = done;
  return out;
}

// ---- MXU -------------------------------------------------------------------

uint64_t weight_bytes(const hw::HwConfig& hw, uint64_t K, uint64_t N, bool int4) {
  if (!int4) return K * N;
  // Each tile rounds its nibbles up to a byte: a tile of odd k_i * n_j adds
  // half a byte.  k-slices: K / R full ones of R rows and one of K % R rows.
  const uint64_t R = hw.mxu.rows, C = hw.mxu.cols;
  const uint64_t odd_k = (R % 2 ? K / R : 0) + (K % R % 2);
  const uint64_t odd_n = (C % 2 ? N / C : 0) + (N % C % 2);
  return (K * N + odd_k * odd_n) / 2;
}

uint64_t weight_bytes(const hw::HwConfig& hw, const Instruction& in) {
  return weight_bytes(hw, in[Field::K], in[Field::N], in[Field::WType] == 1);
}

uint64_t mxu_tile_count(const hw::HwConfig& hw, const Instruction& in) {
  const uint64_t R = hw.mxu.rows, C = hw.mxu.cols;
  return (uint64_t(in[Field::K]) + R - 1) / R * ((uint64_t(in[Field::N]) + C - 1) / C);
}

MxuTiming mxu_tile_timing(const hw::HwConfig& hw, const Instruction& in, const MxuTile& tile) {
  MxuTiming t;
  const uint32_t lbs = hw.scratchpad.line_bytes(), lba = hw.accumulator.line_bytes();
  const uint64_t M = in[Field::M], K = tile.k, N = tile.n;
  const uint64_t act = tile.act, acc = tile.acc;
  const uint64_t as = in[Field::AStride], cs = in[Field::CStride];
  t.wgt_lines = lines_touched(tile.wgt, tile.wgt_bytes, lbs);
  t.preload = t.wgt_lines;
  if (as % lbs == 0 && cs % lba == 0) {
    const uint64_t a = lines_touched(act, K, lbs), c = lines_touched(acc, 4 * N, lba);
    t.stream = M * std::max(a, c);
    t.act_lines = M * a;
    t.acc_lines = M * c;
  } else {
    // Row m's lines depend only on (act + m*as) mod LB_sp and (acc + m*cs) mod
    // LB_acc, which repeat every p = lcm(LB_sp / gcd(as, LB_sp), LB_acc /
    // gcd(cs, LB_acc)) rows: sum the first min(M, p) rows, and take the
    // M / p whole periods and the M mod p rows left from them.
    const uint64_t p = std::lcm(lbs / std::gcd(as, uint64_t(lbs)), lba / std::gcd(cs, uint64_t(lba)));
    const uint64_t rows = std::min(M, p), reps = M / rows, rest = M % rows;
    uint64_t stream = 0, act_lines = 0, acc_lines = 0;
    for (uint64_t m = 0; m < rows; ++m) {
      if (m == rest) {
        t.stream = stream;
        t.act_lines = act_lines;
        t.acc_lines = acc_lines;
      }
      const uint64_t a = lines_touched(act + m * as, K, lbs), c = lines_touched(acc + m * cs, 4 * N, lba);
      stream += std::max(a, c);
      act_lines += a;
      acc_lines += c;
    }
    t.stream += reps * stream;
    t.act_lines += reps * act_lines;
    t.acc_lines += reps * acc_lines;
  }
  t.drain = uint64_t(hw.mxu.rows) + hw.mxu.cols;
  return t;
}

std::vector<MxuTile> mxu_tiles(const hw::HwConfig& hw, const Instruction& in) {
  std::vector<MxuTile> v;
  v.reserve(mxu_tile_count(hw, in));
  for_each_mxu_tile(hw, in, [&](const MxuTile& t) { v.push_back(t); });
  return v;
}

uint64_t mxu_latency_cycles(const hw::HwConfig& hw, const Instruction& in) {
  MxuPipe pipe;
  return mxu_run_batched(hw, in, 0, 1, pipe, [](const MxuTileRun&, uint64_t, uint64_t) {});
}

// ---- VXU -------------------------------------------------------------------

namespace {

struct VOperand {
  int space;
  uint64_t addr;
  uint64_t bytes;
  uint32_t elem_bytes;  // bytes per element per step (8 for a requant table)
  bool write;
  bool streamed;        // read/written every step (else once)
};

uint32_t elem_bytes(int space) { return space == isa::kAccumulator ? 4 : 1; }

bool is_reduction(Opcode op) { return op == Opcode::VRedSum || op == Opcode::VRedMax; }

int vector_operands(const Instruction& in, VOperand* ops) {
  int n = 0;
  const uint64_t len = in[Field::Len];
  const int as = static_cast<int>(in[Field::ASpace]), ds = static_cast<int>(in[Field::DSpace]);
  const int bs = static_cast<int>(in[Field::BSpace]);
  if (in.op == Opcode::LutLoad) {
    ops[n++] = {isa::kScratchpad, uint64_t(in[Field::A]), 2 * isa::kLutEntries, 1, false, true};
    return n;
  }
  ops[n++] = {as, uint64_t(in[Field::A]), len * elem_bytes(as), elem_bytes(as), false, true};
  const int64_t bm = in[Field::BMode];
  if (in.op == Opcode::VRequant) {
    if (bm == isa::kBVector)
      ops[n++] = {isa::kAccumulator, uint64_t(in[Field::B]), 8 * uint64_t(in[Field::Imm2]), 8, false, true};
  } else if (bm == isa::kBVector) {
    ops[n++] = {bs, uint64_t(in[Field::B]), len * elem_bytes(bs), elem_bytes(bs), false, true};
  } else if (bm == isa::kBScalar) {
    ops[n++] = {bs, uint64_t(in[Field::B]), elem_bytes(bs), elem_bytes(bs), false, false};
  }
  if (is_reduction(in.op))
    ops[n++] = {ds, uint64_t(in[Field::Dst]), elem_bytes(ds), elem_bytes(ds), true, false};
  else
    ops[n++] = {ds, uint64_t(in[Field::Dst]), len * elem_bytes(ds), elem_bytes(ds), true, true};
  return n;
}

// Lines a streamed operand touches per step: lanes * elem_bytes / line_bytes,
// at least one.
uint64_t lines_per_step(const hw::HwConfig& hw, const VOperand& o) {
  const uint64_t lb = space_config(hw, o.space).line_bytes();
  const uint64_t b = uint64_t(hw.vxu.lanes) * o.elem_bytes;
  return b > lb ? b / lb : 1;
}

unsigned log2u(uint64_t x) {
  unsigned r = 0;
  while ((uint64_t(1) << r) < x) ++r;
  return r;
}

}  // namespace

VxuTiming vxu_timing(const hw::HwConfig& hw, const Instruction& in) {
  VxuTiming t;
  VOperand ops[4];
  const int n = vector_operands(in, ops);
  if (in.op == Opcode::LutLoad) {
    t.steps = lines_touched(ops[0].addr, ops[0].bytes, hw.scratchpad.line_bytes());
    t.step_cycles = 1;
    t.fixed = 2;
    return t;
  }
  const uint64_t L = hw.vxu.lanes;
  t.steps = (uint64_t(in[Field::Len]) + L - 1) / L;
  // Accesses per step to each bank; a bank with P ports serves P per cycle.
  // At most four operands: the banks they touch, (space, bank) -> accesses.
  int bank_space[4];
  uint64_t bank_index[4], per_bank[4];
  int nb = 0;
  bool scalar = false;
  for (int i = 0; i < n; ++i) {
    const VOperand& o = ops[i];
    if (!o.streamed) {
      if (!o.write) scalar = true;
      continue;
    }
    const hw::SramConfig& s = space_config(hw, o.space);
    const uint64_t b = (o.addr / s.bank_bytes()) & 63;
    int k = 0;
    while (k < nb && !(bank_space[k] == o.space && bank_index[k] == b)) ++k;
    if (k == nb) {
      bank_space[nb] = o.space;
      bank_index[nb] = b;
      per_bank[nb++] = 0;
    }
    per_bank[k] += lines_per_step(hw, o);
  }
  uint64_t c = 1;
  for (int k = 0; k < nb; ++k) {
    const uint64_t ports = space_config(hw, bank_space[k]).ports;
    c = std::max(c, (per_bank[k] + ports - 1) / ports);
  }
  if (in.op == Opcode::VRecip || in.op == Opcode::VRsqrt) c = std::max(c, kSfuCycles);
  t.step_cycles = c;
  const bool deep = in.op == Opcode::VMul || in.op == Opcode::VRequant;
  t.fixed = (deep ? 3 : 2) + (scalar ? 1 : 0) + (is_reduction(in.op) ? log2u(L) + 1 : 0);
  return t;
}

void vxu_accesses(const hw::HwConfig& hw, const Instruction& in, std::vector<SramAccess>& out) {
  out.clear();
  VOperand ops[4];
  const int n = vector_operands(in, ops);
  const VxuTiming t = vxu_timing(hw, in);
  for (int i = 0; i < n; ++i) {
    const VOperand& o = ops[i];
    const hw::SramConfig& s = space_config(hw, o.space);
    uint64_t count;
    if (in.op == Opcode::LutLoad) count = t.steps;
    else count = o.streamed ? t.steps * lines_per_step(hw, o) : 1;
    SramAccess a{o.space, static_cast<uint32_t>(o.addr / s.bank_bytes()), o.write ? 0 : count, o.write ? count : 0};
    out.push_back(a);
  }
}

// ---- Checks ----------------------------------------------------------------

namespace {
std::string range_problem(const char* what, const hw::SramConfig& s, const char* space_name, uint64_t addr,
                          uint64_t bytes) {
  if (addr + bytes > s.total_bytes())
    return std::string(what) + ": range [0x" + [&] {
      char buf[192];
      snprintf(buf, sizeof buf, "%llx, 0x%llx) exceeds the %s (%llu bytes)", (unsigned long long)addr,
               (unsigned long long)(addr + bytes), space_name, (unsigned long long)s.total_bytes());
      return std::string(buf);
    }();
  return "";
}
const char* space_name(int s) { return s == isa::kAccumulator ? "accumulator" : "scratchpad"; }
}  // namespace

std::string check_against(const hw::HwConfig& hw, const Instruction& in) {
  const isa::Unit u = isa::unit_of(in.op);
  if (u != isa::Unit::Control && in.tile != isa::kAllTiles && in.tile >= hw.tiles)
    return "tile " + std::to_string(in.tile) + " does not exist (design point has " + std::to_string(hw.tiles) +
           " tiles)";
  // A count taken from a context register must be legal as the immediate
  // would be (e.g. matmul k 1..4095 with cnt_alt, rows 1..65535).
  const int rf = isa::cnt_reg_field(in);
  if (rf < isa::kNumFields) {
    const isa::FieldRange r = isa::immediate_range(in, static_cast<Field>(rf));
    if (in[rf] < r.lo || in[rf] > r.hi)
      return std::string(isa::field_name(static_cast<Field>(rf))) + ": count is " + std::to_string(in[rf]) +
             " (from context register c" + std::to_string(in.cnt_reg) + (in.cnt_alt ? ", cnt_alt" : "") +
             "), must be " + std::to_string(r.lo) + ".." + std::to_string(r.hi);
  }
  const int cf = isa::count_field(in.op);
  if (cf < isa::kNumFields && cf != rf && in[cf] < 1)
    return std::string(isa::field_name(static_cast<Field>(cf))) + ": count is " + std::to_string(in[cf]) +
           ", must be >= 1";
  switch (u) {
    case isa::Unit::Load:
    case isa::Unit::Store: {
      if (in.op == Opcode::Store && in.tile == isa::kAllTiles)
        return "tile=all: a store reads one tile's memory";
      const int sp = static_cast<int>(in[Field::Space]);
      const uint64_t ext = uint64_t(in[Field::Rows] - 1) * uint64_t(in[Field::SStride]) + uint64_t(in[Field::Bytes]);
      std::string p = range_problem("sram", space_config(hw, sp), space_name(sp), in[Field::Sram], ext);
      if (!p.empty()) return p;
      const uint64_t dext = uint64_t(in[Field::Rows] - 1) * uint64_t(in[Field::DStride]) + uint64_t(in[Field::Bytes]);
      if (uint64_t(in[Field::Dram]) + dext > (uint64_t(1) << 48)) return "dram: range exceeds the 48-bit address space";
      return "";
    }
    case isa::Unit::Matrix: {
      const hw::WeightType wt = in[Field::WType] == 1 ? hw::WeightType::Int4 : hw::WeightType::Int8;
      if (!hw.mxu.supports(wt)) return std::string("wtype: ") + hw::to_string(wt) + " not supported by this design point";
      const uint64_t M = in[Field::M];
      std::string p = range_problem("act", hw.scratchpad, "scratchpad", in[Field::Act],
                                    (M - 1) * in[Field::AStride] + in[Field::K]);
      if (p.empty()) p = range_problem("wgt", hw.scratchpad, "scratchpad", in[Field::Wgt], weight_bytes(hw, in));
      if (p.empty())
        p = range_problem("acc", hw.accumulator, "accumulator", in[Field::Acc], (M - 1) * in[Field::CStride] + 4 * in[Field::N]);
      return p;
    }
    case isa::Unit::Vector: {
      // A scalar operand or a reduction result in the accumulator is one
      // whole int32 (the hardware reads and writes it in one line).
      if (in[Field::BMode] == isa::kBScalar && in[Field::BSpace] == isa::kAccumulator && in[Field::B] % 4 != 0)
        return "b: a scalar in the accumulator must be 4-byte aligned";
      if ((in.op == Opcode::VRedSum || in.op == Opcode::VRedMax) && in[Field::DSpace] == isa::kAccumulator &&
          in[Field::Dst] % 4 != 0)
        return "dst: a reduction result in the accumulator must be 4-byte aligned";
      if (in.op == Opcode::VRequant && in[Field::BMode] == isa::kBVector && in[Field::Imm2] % hw.vxu.lanes != 0)
        return "imm2: per-channel requantisation needs a channel count that is a multiple of the " +
               std::to_string(hw.vxu.lanes) + " lanes, got " + std::to_string(in[Field::Imm2]);
      if (in.op == Opcode::VRot) {
        const uint64_t h = in[Field::Imm], L = hw.vxu.lanes;
        if (in[Field::Len] % (2 * h) != 0)
          return "len: vrot needs a multiple of 2*imm = " + std::to_string(2 * h) + ", got " +
                 std::to_string(in[Field::Len]);
        // Each step's partner elements then lie in one lane group.
        if (h % L != 0 && L % (2 * h) != 0)
          return "imm: vrot half " + std::to_string(h) + " must be a multiple of the " + std::to_string(L) +
                 " lanes or divide " + std::to_string(L / 2);
        // It reads elements of other steps: its result may not overwrite its source.
        const uint64_t e = in[Field::ASpace] == isa::kAccumulator ? 4 : 1, n = uint64_t(in[Field::Len]) * e;
        if (in[Field::ASpace] == in[Field::DSpace] && uint64_t(in[Field::Dst]) < uint64_t(in[Field::A]) + n &&
            uint64_t(in[Field::A]) < uint64_t(in[Field::Dst]) + n)
          return "dst: vrot may not overlap its source a";
      }
      VOperand ops[4];
      const int n = vector_operands(in, ops);
      static const char* names[4] = {"a", "b", "dst", "dst"};
      for (int i = 0; i < n; ++i) {
        const VOperand& o = ops[i];
        const char* nm = o.write ? "dst" : (i == 0 ? "a" : names[1]);
        const hw::SramConfig& s = space_config(hw, o.space);
        std::string p = range_problem(nm, s, space_name(o.space), o.addr, o.bytes);
        if (!p.empty()) return p;
        if (o.addr / s.bank_bytes() != (o.addr + o.bytes - 1) / s.bank_bytes())
          return std::string(nm) + ": operand crosses a " + space_name(o.space) + " bank boundary (banks are " +
                 std::to_string(s.bank_bytes()) + " bytes)";
        if (o.streamed && in.op != Opcode::LutLoad) {
          const uint64_t align = std::min<uint64_t>(uint64_t(hw.vxu.lanes) * elem_bytes(o.space), s.line_bytes());
          if (o.addr % align != 0)
            return std::string(nm) + ": address must be aligned to " + std::to_string(align) + " bytes";
        }
      }
      return "";
    }
    case isa::Unit::Control:
      if (in.op == Opcode::Dvfs) {
        const auto& d = hw.domains[static_cast<int>(in[Field::DomainF])];
        if (uint64_t(in[Field::Point]) >= d.points.size())
          return "point: " + std::to_string(in[Field::Point]) + " out of range (domain has " +
                 std::to_string(d.points.size()) + " operating points)";
      }
      if (in.tile != isa::kAllTiles && in.tile >= hw.tiles)
        return "tile " + std::to_string(in.tile) + " does not exist (design point has " + std::to_string(hw.tiles) +
               " tiles)";
      return "";
  }
  return "";
}

}  // namespace clonesim::sim
