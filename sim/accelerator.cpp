#include "sim/accelerator.h"

#include <algorithm>
#include <cinttypes>

#include "common/error.h"
#include "sim/timing.h"

namespace clonesim::sim {

using hw::Domain;
using isa::Field;
using isa::Instruction;
using isa::Opcode;

namespace {
constexpr int kDone = 0, kWake = 1;
constexpr int kCtrl = 0;
int di(Domain d) { return static_cast<int>(d); }
constexpr int kAO = static_cast<int>(Domain::AlwaysOn);

VecClass vec_class(Opcode op) {
  switch (op) {
    case Opcode::VMul:
    case Opcode::VRequant: return VecClass::Mul;
    case Opcode::VLut: return VecClass::Lut;
    case Opcode::VRecip:
    case Opcode::VRsqrt: return VecClass::Sfu;
    case Opcode::VRedSum:
    case Opcode::VRedMax: return VecClass::Reduce;
    default: return VecClass::Alu;
  }
}
}  // namespace

Accelerator::Accelerator(sc_core::sc_module_name name, const hw::HwConfig& hw, isa::Program program, Options opt)
    : sc_module(name), hw_(hw), own_(std::move(program)), prog_(&own_), opt_(opt), dram_(hw.dram) {
  init();
}

Accelerator::Accelerator(sc_core::sc_module_name name, const hw::HwConfig& hw, const isa::Program* program,
                         Options opt)
    : sc_module(name), hw_(hw), prog_(program), opt_(opt), dram_(hw.dram) {
  init();
}

void Accelerator::init() {
  tiles_.resize(hw_.tiles);
  if (opt_.mode == Mode::Functional) {
    for (auto& t : tiles_) {
      t.sp.assign(hw_.scratchpad.total_bytes(), 0);
      t.acc.assign(hw_.accumulator.total_bytes(), 0);
    }
  }
  luts_.resize(hw_.tiles);
  mxu_.resize(hw_.tiles);
  holders_.resize(hw_.tiles);
  for (auto& h : holders_)
    for (auto& s : h) s.fill(0);
  sems_.resize(hw_.tiles * 16 + 16);
  ctx_ = opt_.ctx;
  ctx_[0] = 0;

  units_.push_back({Kind::Control, -1, Domain::AlwaysOn, {}, {}, -1, 0, 0, 0, {}});
  for (unsigned c = 0; c < hw_.dma.channels; ++c) {
    units_.push_back({Kind::Load, int(c), Domain::Memory, {}, {}, -1, 0, 0, 0, {}});
    units_.push_back({Kind::Store, int(c), Domain::Memory, {}, {}, -1, 0, 0, 0, {}});
  }
  first_tile_unit_ = 1 + 2 * int(hw_.dma.channels);
  for (unsigned t = 0; t < hw_.tiles; ++t) {
    units_.push_back({Kind::Matrix, int(t), Domain::Compute, {}, {}, -1, 0, 0, 0, {}});
    units_.push_back({Kind::Vector, int(t), Domain::Compute, {}, {}, -1, 0, 0, 0, {}});
  }
  for (auto& u : units_)
    for (auto& s : u.hold) s.fill(0);

  stats_.design_point = hw_.name;
  for (const auto& u : units_) {
    UnitStats s;
    s.domain = u.dom;
    s.tile = u.kind == Kind::Matrix || u.kind == Kind::Vector ? u.tile : -1;
    switch (u.kind) {
      case Kind::Control: s.name = "control"; break;
      case Kind::Load: s.name = "load[" + std::to_string(u.tile) + "]"; break;
      case Kind::Store: s.name = "store[" + std::to_string(u.tile) + "]"; break;
      case Kind::Matrix: s.name = "matrix[" + std::to_string(u.tile) + "]"; break;
      case Kind::Vector: s.name = "vector[" + std::to_string(u.tile) + "]"; break;
    }
    stats_.units.push_back(s);
  }
  stats_.sram.resize(hw_.tiles);
  for (auto& t : stats_.sram) {
    t[0].resize(hw_.scratchpad.banks);
    t[1].resize(hw_.accumulator.banks);
  }
  for (int d = 0; d < hw::kNumDomains; ++d) {
    const auto& dc = hw_.domains[d];
    point_[d] = dc.initial;
    clk_[d].base = 0;
    clk_[d].set_period(dc.points[dc.initial].period_ps);
    stats_.domains[d].time_ps_at_point.assign(dc.points.size(), 0);
    stats_.activity[size_t(d)].assign(dc.points.size(), PointActivity{});
  }
  retired_.reserve(prog_->code.size());
  isa::check_regions(*prog_);
  if (opt_.governor.decide && prog_->regions.empty())
    throw Error(prog_->source + ": a run-time DVFS governor needs a program with regions");
  stats_.sample_ps = opt_.sample_ps;
  next_sample_ = opt_.sample_ps;
  sample_from_ = tally(0, true);
  region_from_ = sample_from_;
  if (!prog_->regions.empty()) {
    // one slice per region, and one for the instructions ahead of the first
    auto add = [&](const std::string& name, uint32_t first) {
      Slice sl;
      sl.name = name;
      for (int d = 0; d < hw::kNumDomains; ++d) {
        sl.domains[size_t(d)].time_ps_at_point.assign(hw_.domains[d].points.size(), 0);
        sl.activity[size_t(d)].assign(hw_.domains[d].points.size(), PointActivity{});
      }
      stats_.regions.push_back(std::move(sl));
      slice_first_.push_back(first);
    };
    if (prog_->regions[0].first > 0) {
      add("(before " + prog_->regions[0].name + ")", 0);
      open_slice_ = 0;
    }
    for (const isa::Region& r : prog_->regions) add(r.name, r.first);
    switch_charge(0);
  }
  if (opt_.governor.decide && !prog_->regions.empty()) {
    gov_region_ = 0;
    gov_point_ = opt_.governor.decide(0, 0);
  }
  SC_THREAD(run);
}

// ---------------------------------------------------------------------------
// Event plumbing

void Accelerator::push_event(uint64_t t, int kind, uint32_t arg) { events_.push({t, seq_++, kind, arg}); }

void Accelerator::wake(Domain d, uint64_t t) {
  const int i = di(d);
  if (last_wake_[i] == t && t != 0) return;
  last_wake_[i] = t;
  push_event(t, kWake, i);
}

void Accelerator::set_stall(int u, uint64_t t, int reason) {
  Unit& un = units_[u];
  if (un.stall >= 0) stats_.units[u].stall_ps[un.stall] += t - un.stall_since;
  un.stall = reason;
  un.stall_since = t;
}

void Accelerator::fail(uint32_t index, const Instruction& in, const std::string& what) const {
  throw Error(prog_->source + ": instruction " + std::to_string(index) + " (" + isa::disassemble(in) + "): " + what);
}

uint64_t Accelerator::tile_mask_of(const Instruction& in) const {
  if (in.tile == isa::kAllTiles) return hw_.tiles >= 64 ? ~uint64_t(0) : (uint64_t(1) << hw_.tiles) - 1;
  return uint64_t(1) << in.tile;
}

// ---------------------------------------------------------------------------
// Semaphores: 1..15 local to each tile, 16..31 global.  A signal raised at t
// in domain X reaches domain Y at t (Y == X) or after sync_cycles edges of Y
// (Y != X); the value domain Y sees is (signals that reached Y) - (waits
// that consumed one, in any domain).

int Accelerator::sem_index(int tile, int id) const {
  if (id >= int(isa::kFirstGlobalSemaphore)) return int(hw_.tiles) * 16 + (id - 16);
  return tile * 16 + id;
}

namespace {
// The (semaphore index, count) pairs an instruction waits on or signals.
template <typename F>
void for_each_sem(const std::array<uint8_t, 2>& ids, uint64_t tiles, int ntiles, int base_global, F f) {
  for (int k = 0; k < 2; ++k) {
    const int id = ids[k];
    if (id == 0) continue;
    if (id >= int(isa::kFirstGlobalSemaphore)) {
      f(base_global + (id - 16));
    } else {
      for (int t = 0; t < ntiles; ++t)
        if (tiles >> t & 1) f(t * 16 + id);
    }
  }
}
}  // namespace

bool Accelerator::sems_ready(const Instruction& in, uint64_t tiles, Domain d, uint64_t t) {
  if (in.wait[0] == 0 && in.wait[1] == 0) return true;
  // Count needs per semaphore (an instruction may wait twice on one).
  int idx[130];
  int n = 0;
  for_each_sem(in.wait, tiles, hw_.tiles, hw_.tiles * 16, [&](int s) { idx[n++] = s; });
  for (int i = 0; i < n; ++i) {
    int need = 0;
    for (int j = 0; j < n; ++j) need += idx[j] == idx[i];
    if (sems_[idx[i]].value(di(d), t) < need) return false;
  }
  return true;
}

void Accelerator::sems_take(const Instruction& in, uint64_t tiles, Domain d, uint64_t t) {
  (void)d;
  (void)t;
  for_each_sem(in.wait, tiles, hw_.tiles, hw_.tiles * 16, [&](int s) { ++sems_[s].consumed; });
}

void Accelerator::sems_signal(const Instruction& in, uint64_t tiles, Domain from, uint64_t t) {
  for_each_sem(in.signal, tiles, hw_.tiles, hw_.tiles * 16, [&](int s) {
    for (int y = 0; y < hw::kNumDomains; ++y) {
      const uint64_t vis = y == di(from) ? t : clk_[y].edge_after(t, hw_.controller.sync_cycles);
      sems_[s].in_flight[y].push_back(vis);
      if (y != di(from)) wake(static_cast<Domain>(y), vis);
    }
    ++stats_.events.semaphore_signals;
  });
}

// ---------------------------------------------------------------------------
// SRAM bank ports: a unit holds one port of every bank its in-flight
// instructions touch; a bank with P ports serves at most P units at once.

bool Accelerator::banks_free(int u, uint64_t tiles, const std::array<uint64_t, 2>& m) const {
  const Unit& un = units_[u];
  for (unsigned t = 0; t < hw_.tiles; ++t) {
    if (!(tiles >> t & 1)) continue;
    for (int sp = 0; sp < 2; ++sp) {
      const uint32_t ports = space_config(hw_, sp).ports;
      for (uint64_t bm = m[sp]; bm; bm &= bm - 1) {
        const int b = __builtin_ctzll(bm);
        if (un.hold[sp][b] == 0 && holders_[t][sp][b] >= ports) return false;
      }
    }
  }
  return true;
}

void Accelerator::banks_hold(int u, uint64_t tiles, const std::array<uint64_t, 2>& m, int delta) {
  // A unit's in-flight instructions always act on the same tile set (the
  // matrix and vector units on their own tile; the DMA queues one transfer at
  // a time), so a (space, bank) count per unit is exact.
  Unit& un = units_[u];
  for (int sp = 0; sp < 2; ++sp)
    for (uint64_t bm = m[sp]; bm; bm &= bm - 1) {
      const int b = __builtin_ctzll(bm);
      uint16_t& h = un.hold[sp][b];
      const bool change = delta > 0 ? h++ == 0 : --h == 0;
      if (!change) continue;
      for (unsigned t = 0; t < hw_.tiles; ++t)
        if (tiles >> t & 1) holders_[t][sp][b] += delta > 0 ? 1 : -1;
    }
}

// ---------------------------------------------------------------------------

uint32_t Accelerator::start_flight(int u, const Entry& e, uint64_t start, uint64_t done, std::array<uint64_t, 2> banks,
                                   uint64_t tiles) {
  uint32_t slot;
  if (!free_flights_.empty()) {
    slot = free_flights_.back();
    free_flights_.pop_back();
  } else {
    slot = static_cast<uint32_t>(flights_.size());
    flights_.emplace_back();
  }
  flights_[slot] = Flight{u, e, start, done, banks, tiles};
  push_event(done, kDone, slot);
  Unit& un = units_[u];
  ++un.inflight;
  UnitStats& us = stats_.units[u];
  ++us.instructions;
  const uint64_t from = std::max(start, un.busy_until);
  if (done > from) us.busy_ps += done - from;
  un.busy_until = std::max(un.busy_until, done);
  if (un.stall >= 0) set_stall(u, start, -1);
  return slot;
}

void Accelerator::pop_queue(int u, uint64_t t) {
  Unit& un = units_[u];
  un.q.pop_front();
  // The freed slot reaches the controller through its synchroniser.
  un.pops_seen.push_back(clk_[kAO].edge_after(t, hw_.controller.sync_cycles));
  wake(Domain::AlwaysOn, un.pops_seen.back());
}

// ---------------------------------------------------------------------------
// Controller: fetches, decodes and dispatches one instruction per always-on
// cycle, in program order; executes control instructions itself.

void Accelerator::step_controller(uint64_t t) {
  if (halted_ || t < ctrl_next_ || t < trans_until_[kAO]) return;
  const uint64_t P = clk_[kAO].period();
  // Completions and queue pops the controller can see by now.
  for (int d = 0; d < hw::kNumDomains; ++d)
    while (!done_pending_[d].empty() && done_pending_[d].front() <= t) {
      done_pending_[d].pop_front();
      ++done_seen_[d];
    }

  // A run-time governor's change for the region that begins here: a barrier
  // like a dvfs instruction, then the transition.
  const std::vector<isa::Region>& regions = prog_->regions;
  if (gov_point_ >= 0 && next_region_ < regions.size() && pc_ >= regions[next_region_].first &&
      gov_region_ == next_region_) {
    const int gd = di(opt_.governor.domain);
    const uint32_t p = static_cast<uint32_t>(gov_point_);
    if (p >= hw_.domains[gd].points.size())
      throw Error(prog_->source + ": the run-time governor chose point " + std::to_string(p) + " of the " +
                  hw::to_string(opt_.governor.domain) + " domain, which has " +
                  std::to_string(hw_.domains[gd].points.size()));
    if (p != point_[gd]) {
      for (int d = 0; d < hw::kNumDomains; ++d)
        if (done_seen_[d] != dispatched_[d]) return set_stall(kCtrl, t, int(StallReason::Drain));
      set_stall(kCtrl, t, -1);
      gov_point_ = -1;
      enter_regions(t);
      const uint64_t end = begin_dvfs(gd, p, t, true);
      ctrl_next_ = clk_[kAO].next_edge(end);
      wake(Domain::AlwaysOn, ctrl_next_);
      return;
    }
    gov_point_ = -1;
  }

  const bool at_end = pc_ >= prog_->code.size();
  Instruction in;
  if (at_end) in.op = Opcode::Halt;  // running off the end halts
  else in = prog_->code[pc_];
  const uint32_t index = pc_;

  // Resolve the context registers: ctx[cnt_reg] replaces the count field, or
  // with cnt_alt the alternate one (matmul k, load/store bytes).
  const int cf = isa::cnt_reg_field(in);
  if (cf < isa::kNumFields) in[cf] = ctx_[in.cnt_reg];
  if (in.addr_reg) in[Field::Dram] += ctx_[in.addr_reg];
  // A stalled instruction is tried again at later edges with the same
  // context registers (only a control instruction changes them, and it
  // moves pc on): check it once.
  if (!at_end && checked_pc_ != pc_) {
    const std::string p = check_against(hw_, in);
    if (!p.empty()) fail(index, in, p);
    checked_pc_ = pc_;
  }

  const isa::Unit unit = isa::unit_of(in.op);
  if (unit == isa::Unit::Control) {
    const uint64_t tiles = tile_mask_of(in);
    if (!sems_ready(in, tiles, Domain::AlwaysOn, t)) return set_stall(kCtrl, t, int(StallReason::Semaphore));
    if (in.op == Opcode::Halt || in.op == Opcode::Dvfs) {
      bool drained = true;
      // Both are barriers: every instruction dispatched earlier, in any
      // domain, must have completed (as the controller sees it).
      for (int d = 0; d < hw::kNumDomains; ++d)
        if (done_seen_[d] != dispatched_[d]) drained = false;
      if (!drained) return set_stall(kCtrl, t, int(StallReason::Drain));
    }
    sems_take(in, tiles, Domain::AlwaysOn, t);
    set_stall(kCtrl, t, -1);
    enter_regions(t);
    charge(index);
    stats_.units[kCtrl].busy_ps += P;
    ++stats_.events.instructions_fetched;
    ++stats_.instructions;
    uint64_t done = t + P;
    switch (in.op) {
      case Opcode::Halt:
        halted_ = true;
        finalize(t);
        return;
      case Opcode::CtxSet: ctx_[in[Field::Reg]] = in[Field::Value]; break;
      case Opcode::CtxAdd: ctx_[in[Field::Reg]] = ctx_[in[Field::Src]] + in[Field::Value]; break;
      case Opcode::CtxMul: ctx_[in[Field::Reg]] = ctx_[in[Field::Src]] * in[Field::Value]; break;
      case Opcode::Dvfs: {
        const uint64_t end = begin_dvfs(static_cast<int>(in[Field::DomainF]), static_cast<uint32_t>(in[Field::Point]),
                                        t, false);
        // The controller waits for the transition: nothing is dispatched, and
        // nothing crosses into the stalled domain, until it ends.
        done = end;
        ctrl_next_ = clk_[kAO].next_edge(end);
        break;
      }
      default: break;
    }
    if (in.op != Opcode::Dvfs) ctrl_next_ = t + P;
    if (in.signal[0] || in.signal[1]) {
      Entry e{index, in, t};
      start_flight(kCtrl, e, t, done, {0, 0}, tiles);
    } else {
      ++stats_.units[kCtrl].instructions;
    }
    ++pc_;
    wake(Domain::AlwaysOn, ctrl_next_);
    return;
  }

  // A unit instruction: find its queue(s).
  int targets[64];
  int nt = 0;
  switch (unit) {
    case isa::Unit::Load:
    case isa::Unit::Store: {
      // DMA channel = tile mod channels; a broadcast load uses channel 0.
      const int ch = in.tile == isa::kAllTiles ? 0 : in.tile % int(hw_.dma.channels);
      targets[nt++] = 1 + 2 * ch + (unit == isa::Unit::Store ? 1 : 0);
      break;
    }
    case isa::Unit::Matrix:
    case isa::Unit::Vector: {
      const int off = first_tile_unit_ + (unit == isa::Unit::Matrix ? 0 : 1);
      if (in.tile == isa::kAllTiles)
        for (unsigned k = 0; k < hw_.tiles; ++k) targets[nt++] = off + 2 * int(k);
      else
        targets[nt++] = off + 2 * in.tile;
      break;
    }
    default: break;
  }
  for (int i = 0; i < nt; ++i) {
    Unit& un = units_[targets[i]];
    while (!un.pops_seen.empty() && un.pops_seen.front() <= t) un.pops_seen.pop_front();
    if (un.q.size() + un.pops_seen.size() >= hw_.controller.queue_depth)
      return set_stall(kCtrl, t, int(StallReason::QueueFull));
  }
  set_stall(kCtrl, t, -1);
  enter_regions(t);
  charge(index);
  for (int i = 0; i < nt; ++i) {
    Unit& un = units_[targets[i]];
    Entry e{index, in, clk_[di(un.dom)].edge_after(t, hw_.controller.sync_cycles)};
    if (un.kind == Kind::Matrix || un.kind == Kind::Vector) e.in.tile = static_cast<uint8_t>(un.tile);
    un.q.push_back(e);
    ++dispatched_[di(un.dom)];
    wake(un.dom, e.visible);
  }
  ++stats_.events.instructions_fetched;
  ++stats_.instructions;
  ++stats_.units[kCtrl].instructions;
  stats_.units[kCtrl].busy_ps += P;
  ++pc_;
  ctrl_next_ = t + P;
  wake(Domain::AlwaysOn, ctrl_next_);
}

// ---------------------------------------------------------------------------
// DMA engine: one transfer at a time; the load and store queues take turns
// when both have a ready instruction.

void Accelerator::step_dma(uint64_t t) {
  const int mem = di(Domain::Memory);
  const bool transition = t < trans_until_[mem];
  // Round-robin over the queues (load[0], store[0], load[1], ...), starting
  // after the one served last.
  const int nq = 2 * int(hw_.dma.channels);
  int order[16];
  for (int k = 0; k < nq; ++k) order[k] = 1 + (dma_last_ - 1 + 1 + k) % nq;
  bool started = false;
  for (int k = 0; k < nq; ++k) {
    const int u = order[k];
    Unit& un = units_[u];
    if (un.q.empty() || un.q.front().visible > t) {
      if (un.stall >= 0) set_stall(u, t, -1);
      continue;
    }
    if (transition) {
      set_stall(u, t, int(StallReason::Dvfs));
      continue;
    }
    const Entry& e = un.q.front();
    const uint64_t tiles = tile_mask_of(e.in);
    if (!sems_ready(e.in, tiles, Domain::Memory, t)) {
      set_stall(u, t, int(StallReason::Semaphore));
      continue;
    }
    if (dma_busy_until_ > t || started) {
      // Busy with this queue's own previous transfer is not a stall.
      const bool own = !started && units_[u].inflight > 0;
      if (!own) set_stall(u, t, int(StallReason::Engine));
      else if (un.stall >= 0) set_stall(u, t, -1);
      continue;
    }
    const int sp = static_cast<int>(e.in[Field::Space]);
    const hw::SramConfig& sc = space_config(hw_, sp);
    std::array<uint64_t, 2> banks{0, 0};
    banks[sp] = bank_mask(sc, e.in[Field::Sram],
                          uint64_t(e.in[Field::Rows] - 1) * e.in[Field::SStride] + e.in[Field::Bytes]);
    if (!banks_free(u, tiles, banks)) {
      set_stall(u, t, int(StallReason::Bank));
      continue;
    }
    sems_take(e.in, tiles, Domain::Memory, t);
    charge(e.index);
    uint64_t bank_lines[64] = {};
    const DmaOutcome o = dma_timing(hw_, e.in, t, clk_[mem], dram_, bank_lines);
    const bool store = un.kind == Kind::Store;
    for (unsigned k = 0; k < hw_.tiles; ++k) {
      if (!(tiles >> k & 1)) continue;
      for (unsigned b = 0; b < sc.banks; ++b) {
        if (store) stats_.sram[k][sp][b].reads += bank_lines[b];
        else stats_.sram[k][sp][b].writes += bank_lines[b];
      }
    }
    stats_.events.dma_requests += o.requests;
    (store ? stats_.events.dma_store_bytes : stats_.events.dma_load_bytes) += o.bytes;
    banks_hold(u, tiles, banks, +1);
    start_flight(u, e, t, o.done_ps, banks, tiles);
    dma_busy_until_ = o.done_ps;
    dma_last_ = u;
    pop_queue(u, t);
    started = true;
  }
}

// ---------------------------------------------------------------------------
// MXU: weight preload into shadow registers overlaps the previous tile's
// stream; streams follow each other back to back.  A matmul larger than the
// array runs its tiles through the pipeline one after the other
// (sim/timing.h mxu_run, here mxu_run_batched: runs of identical tiles in
// closed form); it waits for its semaphores and banks when its
// first tile is accepted and holds the banks until it completes.

void Accelerator::step_matrix(int u, uint64_t t) {
  Unit& un = units_[u];
  if (un.q.empty() || un.q.front().visible > t) {
    if (un.stall >= 0) set_stall(u, t, -1);
    return;
  }
  if (t < trans_until_[di(Domain::Compute)]) return set_stall(u, t, int(StallReason::Dvfs));
  const int tile = un.tile;
  MxuState& ms = mxu_[tile];
  const Entry& e = un.q.front();
  const uint64_t K = e.in[Field::K];
  const uint64_t M = e.in[Field::M];
  const uint64_t wbytes = weight_bytes(hw_, e.in);
  // Pipeline: preload stage free, shadow registers free (last tile started
  // its stream), and a single-port weight bank shared with the streaming
  // activations waits for that stream to end.
  if (t < ms.pipe.p_end || t < ms.pipe.s_start) return;  // busy: not a stall
  const uint64_t first_wmask = bank_mask(hw_.scratchpad, e.in[Field::Wgt],
                                         tile_weight_bytes(std::min<uint64_t>(K, hw_.mxu.rows),
                                                           std::min<uint64_t>(e.in[Field::N], hw_.mxu.cols),
                                                           e.in[Field::WType] == 1));
  const uint64_t ready = mxu_ready(hw_, ms.pipe, first_wmask);
  if (t < ready) {
    wake(Domain::Compute, ready);
    return;
  }
  const uint64_t tiles = uint64_t(1) << tile;
  if (!sems_ready(e.in, tiles, Domain::Compute, t)) {
    if (un.inflight == 0) set_stall(u, t, int(StallReason::Semaphore));
    return;
  }
  // The banks of the whole instruction: every tile's weights, all activation
  // rows (K bytes each), all result rows (4N bytes each).
  std::array<uint64_t, 2> banks{};
  banks[0] = bank_mask(hw_.scratchpad, e.in[Field::Wgt], wbytes) |
             bank_mask(hw_.scratchpad, e.in[Field::Act], (M - 1) * e.in[Field::AStride] + K);
  banks[1] = bank_mask(hw_.accumulator, e.in[Field::Acc], (M - 1) * e.in[Field::CStride] + 4 * e.in[Field::N]);
  if (!banks_free(u, tiles, banks)) {
    if (un.inflight == 0) set_stall(u, t, int(StallReason::Bank));
    return;
  }
  sems_take(e.in, tiles, Domain::Compute, t);
  charge(e.index);
  const uint64_t P = clk_[di(Domain::Compute)].period();
  // SRAM traffic, per tile, in the bank where each tile's range starts
  auto& sr = stats_.sram[tile];
  // the bank where each tile's range starts: the lowest bit of its mask (the
  // masks cover banks 0..63)
  const uint64_t sbb = hw_.scratchpad.bank_bytes(), abb = hw_.accumulator.bank_bytes();
  const auto first_bank = [](uint64_t mask, uint64_t addr, uint64_t bb) {
    return mask ? uint64_t(__builtin_ctzll(mask)) : addr / bb;
  };
  uint64_t ntiles = 0;
  // A run of identical tiles adds its count times one tile's line accesses,
  // each in the same banks (sim/timing.h MxuTileRun).
  const uint64_t done = mxu_run_batched(hw_, e.in, t, P, ms.pipe, [&](const MxuTileRun& run, uint64_t, uint64_t) {
    const MxuTile& tl = run.first;
    const uint64_t n = run.count;
    sr[0][first_bank(tl.wgt_mask, tl.wgt, sbb)].reads += n * tl.t.wgt_lines;
    sr[0][first_bank(tl.act_mask, tl.act, sbb)].reads += n * tl.t.act_lines;
    auto& ab = sr[1][tl.acc / abb];
    ab.writes += n * tl.t.acc_lines;
    ab.reads += run.accumulating * tl.t.acc_lines;
    ntiles += n;
  });
  const uint64_t macs = M * K * uint64_t(e.in[Field::N]);
  (e.in[Field::WType] == 1 ? stats_.events.macs_int4 : stats_.events.macs_int8) += macs;
  stats_.events.mxu_weight_loads += ntiles;
  banks_hold(u, tiles, banks, +1);
  start_flight(u, e, t, done, banks, tiles);
  pop_queue(u, t);
  // The next instruction may be accepted once the last tile's preload stage frees.
  wake(Domain::Compute, std::max(ms.pipe.p_end, ms.pipe.s_start));
}

// ---------------------------------------------------------------------------
// VXU: one instruction at a time.

void Accelerator::step_vector(int u, uint64_t t) {
  Unit& un = units_[u];
  if (un.q.empty() || un.q.front().visible > t) {
    if (un.stall >= 0) set_stall(u, t, -1);
    return;
  }
  if (t < trans_until_[di(Domain::Compute)]) return set_stall(u, t, int(StallReason::Dvfs));
  if (un.inflight > 0) return;  // busy
  const Entry& e = un.q.front();
  const uint64_t tiles = uint64_t(1) << un.tile;
  if (!sems_ready(e.in, tiles, Domain::Compute, t)) return set_stall(u, t, int(StallReason::Semaphore));
  vxu_accesses(hw_, e.in, scratch_acc_);
  std::array<uint64_t, 2> banks{};
  for (const SramAccess& a : scratch_acc_) banks[a.space] |= uint64_t(1) << a.bank;
  if (!banks_free(u, tiles, banks)) return set_stall(u, t, int(StallReason::Bank));
  sems_take(e.in, tiles, Domain::Compute, t);
  charge(e.index);
  const VxuTiming tm = vxu_timing(hw_, e.in);
  const uint64_t done = t + tm.total() * clk_[di(Domain::Compute)].period();
  auto& sr = stats_.sram[un.tile];
  for (const SramAccess& a : scratch_acc_) {
    sr[a.space][a.bank].reads += a.reads;
    sr[a.space][a.bank].writes += a.writes;
  }
  if (e.in.op == Opcode::LutLoad) ++stats_.events.lut_loads;
  else stats_.events.vec_elems[int(vec_class(e.in.op))] += uint64_t(e.in[Field::Len]);
  banks_hold(u, tiles, banks, +1);
  start_flight(u, e, t, done, banks, tiles);
  pop_queue(u, t);
}

// ---------------------------------------------------------------------------

void Accelerator::complete(uint32_t slot, uint64_t t) {
  // (nothing below starts a flight: the slot stays as it is until the next one)
  const Flight& f = flights_[slot];
  free_flights_.push_back(slot);
  Unit& un = units_[f.unit];
  --un.inflight;
  const Instruction& in = f.e.in;
  if (opt_.mode == Mode::Functional) {
    switch (un.kind) {
      case Kind::Load: {
        std::vector<TileMemory*> ts;
        for (unsigned k = 0; k < hw_.tiles; ++k)
          if (f.tile_mask >> k & 1) ts.push_back(&tiles_[k]);
        exec_load(in, dram_data_, ts);
        break;
      }
      case Kind::Store: exec_store(in, dram_data_, tiles_[in.tile == isa::kAllTiles ? 0 : in.tile]); break;
      case Kind::Matrix: exec_matmul(hw_, in, tiles_[un.tile]); break;
      case Kind::Vector: exec_vector(in, tiles_[un.tile], luts_[un.tile]); break;
      case Kind::Control: break;
    }
  }
  if (un.kind != Kind::Control) {
    banks_hold(f.unit, f.tile_mask, f.banks, -1);
    const int d = di(un.dom);
    done_pending_[d].push_back(clk_[kAO].edge_after(t, hw_.controller.sync_cycles));
    wake(Domain::AlwaysOn, done_pending_[d].back());
  }
  charge(f.e.index);
  sems_signal(in, f.tile_mask, un.dom, t);
  retired_.push_back({f.e.index, f.unit, f.start, f.done});
}

// ---------------------------------------------------------------------------

void Accelerator::account_domain(int d, uint64_t upto) {
  if (upto > acct_from_[d]) {
    const uint64_t len = upto - acct_from_[d];
    stats_.domains[d].time_ps_at_point[point_[d]] += len;
    const uint64_t P = hw_.domains[d].points[point_[d]].period_ps;
    stats_.domains[d].cycles += (len + P - 1) / P;
    acct_from_[d] = upto;
  }
}

uint64_t Accelerator::begin_dvfs(int d, uint32_t p, uint64_t t, bool by_governor) {
  const auto& dc = hw_.domains[d];
  account_domain(d, t);
  snapshot_activity(d);  // the domain has drained: its events so far ran at the old point
  flush_charge();
  const uint64_t end = t + dc.transition_ps;
  DomainStats& ds = stats_.domains[d];
  ++ds.transitions;
  ds.transition_ps += dc.transition_ps;
  ds.transition_nj += dc.transition_nj;
  ds.cycles += (dc.transition_ps + dc.points[p].period_ps - 1) / dc.points[p].period_ps;
  acct_from_[d] = end;
  point_[d] = p;
  trans_until_[d] = end;
  clk_[d].base = end;
  clk_[d].set_period(dc.points[p].period_ps);
  dvfs_log_.push_back({static_cast<Domain>(d), p, t, end, by_governor});
  wake(static_cast<Domain>(d), end);
  return end;
}

Accelerator::Tally Accelerator::tally(uint64_t t, bool with_activity) {
  Tally a;
  a.t = t;
  a.instructions = stats_.instructions;
  a.domains = stats_.domains;
  for (int d = 0; d < hw::kNumDomains; ++d) {
    // the time at the current point not accounted yet (account_domain rounds
    // cycles per call, so it is not called here)
    if (t > acct_from_[d]) a.domains[size_t(d)].time_ps_at_point[point_[d]] += t - acct_from_[d];
    a.domains[size_t(d)].final_point = point_[d];
    if (with_activity) snapshot_activity(d);
  }
  if (with_activity) {
    a.activity = stats_.activity;
    a.dram = dram_.total_stats();
  }
  return a;
}

void Accelerator::fill_window(Slice& s, const Tally& a, const Tally& b, bool with_activity) {
  s.start_ps = a.t;
  s.end_ps = b.t;
  s.instructions = b.instructions - a.instructions;
  for (size_t d = 0; d < size_t(hw::kNumDomains); ++d) {
    const DomainStats &x = b.domains[d], &y = a.domains[d];
    DomainStats& o = s.domains[d];
    o.time_ps_at_point.resize(x.time_ps_at_point.size());
    for (size_t p = 0; p < x.time_ps_at_point.size(); ++p)
      o.time_ps_at_point[p] = x.time_ps_at_point[p] - y.time_ps_at_point[p];
    o.transitions = x.transitions - y.transitions;
    o.transition_ps = x.transition_ps - y.transition_ps;
    o.transition_nj = x.transition_nj - y.transition_nj;
    o.final_point = x.final_point;
    if (!with_activity) continue;
    s.activity[d].resize(b.activity[d].size());
    for (size_t p = 0; p < b.activity[d].size(); ++p) add_difference(s.activity[d][p], b.activity[d][p], a.activity[d][p]);
  }
  if (with_activity) {
    s.dram = b.dram;
    s.dram -= a.dram;
  }
}

PointActivity Accelerator::cumulative_activity() const {
  PointActivity now;
  now.events = stats_.events;
  for (const auto& tile : stats_.sram)
    for (size_t s = 0; s < 2; ++s)
      for (const BankStats& b : tile[s]) {
        now.sram_reads[s] += b.reads;
        now.sram_writes[s] += b.writes;
      }
  return now;
}

void Accelerator::flush_charge() {
  if (slice_first_.empty()) return;
  const PointActivity now = cumulative_activity();
  const dram::ChannelStats dnow = dram_.total_stats();
  Slice& sl = stats_.regions[ev_slice_];
  for (int d = 0; d < hw::kNumDomains; ++d) add_difference(sl.activity[size_t(d)][point_[d]], now, ev_snap_);
  sl.dram += dnow;
  sl.dram -= ev_dram_snap_;
  ev_snap_ = now;
  ev_dram_snap_ = dnow;
}

void Accelerator::switch_charge(uint32_t index) {
  flush_charge();
  const size_t k = size_t(std::upper_bound(slice_first_.begin(), slice_first_.end(), index) - slice_first_.begin());
  ev_slice_ = k ? k - 1 : 0;
  ev_lo_ = slice_first_[ev_slice_];
  ev_hi_ = ev_slice_ + 1 < slice_first_.size() ? slice_first_[ev_slice_ + 1] : ~uint32_t(0);
  // regions with no instructions: the same first as the next (upper_bound took the last of them)
}

void Accelerator::enter_regions(uint64_t t) {
  const std::vector<isa::Region>& regions = prog_->regions;
  while (next_region_ < regions.size() && pc_ >= regions[next_region_].first) {
    Tally now = tally(t, false);
    if (open_slice_ >= 0) fill_window(stats_.regions[size_t(open_slice_)], region_from_, now, false);
    region_from_ = std::move(now);
    open_slice_ = int(next_region_) + (slice_first_.size() > regions.size() ? 1 : 0);
    ++next_region_;
    if (opt_.governor.decide && next_region_ < regions.size()) {
      gov_region_ = next_region_;
      gov_point_ = opt_.governor.decide(next_region_, t);
    }
  }
}

void Accelerator::close_samples_before(uint64_t t) {
  while (opt_.sample_ps && next_sample_ <= t) {
    Tally now = tally(next_sample_, true);
    Slice sl;
    sl.name = std::to_string(stats_.samples.size());
    fill_window(sl, sample_from_, now, true);
    stats_.samples.push_back(std::move(sl));
    sample_from_ = std::move(now);
    next_sample_ += opt_.sample_ps;
  }
}

void Accelerator::snapshot_activity(int d) {
  const PointActivity now = cumulative_activity();
  add_difference(stats_.activity[size_t(d)][point_[d]], now, act_snap_[size_t(d)]);
  act_snap_[size_t(d)] = now;
}

void Accelerator::finalize(uint64_t end) {
  enter_regions(end);  // regions that begin at the end (empty)
  close_samples_before(end);
  {
    flush_charge();
    Tally last = tally(end, opt_.sample_ps > 0);
    if (open_slice_ >= 0) fill_window(stats_.regions[size_t(open_slice_)], region_from_, last, false);
    if (opt_.sample_ps && end > sample_from_.t) {
      Slice sl;
      sl.name = std::to_string(stats_.samples.size());
      fill_window(sl, sample_from_, last, true);
      stats_.samples.push_back(std::move(sl));
    }
  }
  for (int d = 0; d < hw::kNumDomains; ++d) {
    account_domain(d, end);
    snapshot_activity(d);
    stats_.domains[d].final_point = point_[d];
  }
  for (size_t u = 0; u < units_.size(); ++u)
    if (units_[u].stall >= 0) set_stall(static_cast<int>(u), end, -1);
  stats_.time_ps = end;
  stats_.cycles = stats_.domains[di(Domain::Compute)].cycles;
  // Per-unit cycles in the unit's own clock (exact while its domain keeps one
  // operating point; with DVFS, time / period of the final point).
  for (auto& s : stats_.units) {
    const uint64_t P = clk_[di(s.domain)].period();
    s.busy_cycles = s.busy_ps / P;
    for (int r = 0; r < kNumStallReasons; ++r) s.stall_cycles[r] = s.stall_ps[r] / P;
  }
  stats_.dram_channels = dram_.channel_stats();
  stats_.dram_total = dram_.total_stats();
  finished_ = true;
}

void Accelerator::run() {
  try {
    for (int d = 0; d < hw::kNumDomains; ++d) push_event(0, kWake, d);
    // SystemC time units per ps: 1 at the default 1 ps resolution, 0 if coarser
    const uint64_t ps_units = sc_core::sc_time(1, sc_core::SC_PS).value();
    std::vector<uint32_t> dones;
    while (!halted_) {
      if (events_.empty()) {
        std::string waiting;
        for (size_t u = 0; u < units_.size(); ++u)
          if (!units_[u].q.empty() || (u == kCtrl && pc_ < prog_->code.size()))
            waiting += std::string(waiting.empty() ? "" : ", ") + stats_.units[u].name;
        throw Error(prog_->source + ": deadlock at " + std::to_string(now_) + " ps: no instruction can ever start (" +
                    (waiting.empty() ? "nothing queued" : "waiting: " + waiting) +
                    "); a semaphore is waited on more often than it is signalled");
      }
      const uint64_t t = events_.top().t;
      close_samples_before(t);
      if (t > now_) {
        const uint64_t dt = t - now_;
        // the same time as sc_time(dt, SC_PS), without the floating point
        wait(ps_units && dt < (uint64_t(1) << 52) / ps_units
                 ? sc_core::sc_time::from_value(dt * ps_units)
                 : sc_core::sc_time(static_cast<double>(dt), sc_core::SC_PS));
        now_ = t;
      }
      unsigned wake_mask = 0;
      dones.clear();
      while (!events_.empty() && events_.top().t == t) {
        const Event ev = events_.top();
        events_.pop();
        if (ev.kind == kDone) dones.push_back(ev.arg);
        else wake_mask |= 1u << ev.arg;
      }
      if (!dones.empty()) {
        // Completions at one instant are applied in unit priority order.
        std::sort(dones.begin(), dones.end(), [&](uint32_t a, uint32_t b) {
          return flights_[a].unit != flights_[b].unit ? flights_[a].unit < flights_[b].unit
                                                      : flights_[a].start < flights_[b].start;
        });
        for (uint32_t s : dones) complete(s, t);
        for (int d = 0; d < hw::kNumDomains; ++d) {
          const uint64_t w = clk_[d].next_edge(t);
          if (w == t) wake_mask |= 1u << d;
          else wake(static_cast<Domain>(d), w);
        }
      }
      // Evaluate at this instant, in fixed priority: controller, DMA, then
      // each tile's MXU and VXU.  Only domains with an edge now act.
      if ((wake_mask >> kAO & 1) && clk_[kAO].is_edge(t)) step_controller(t);
      if (halted_) break;
      if ((wake_mask >> di(Domain::Memory) & 1) && clk_[di(Domain::Memory)].is_edge(t)) step_dma(t);
      if ((wake_mask >> di(Domain::Compute) & 1) && clk_[di(Domain::Compute)].is_edge(t))
        for (unsigned k = 0; k < hw_.tiles; ++k) {
          step_matrix(first_tile_unit_ + 2 * int(k), t);
          step_vector(first_tile_unit_ + 2 * int(k) + 1, t);
        }
    }
  } catch (const std::exception& e) {
    error_ = e.what();
  }
}

}  // namespace clonesim::sim
