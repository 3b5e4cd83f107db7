#include "rtl/cosim/random_program.h"

#include <algorithm>
#include <array>
#include <cstdarg>
#include <cstdio>
#include <deque>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "common/strf.h"
#include "isa/isa.h"
#include "sim/timing.h"

// How the generator keeps programs race-free:
//  * every SRAM region an instruction writes is allocated fresh in the epoch
//    (a bump allocator per tile, space and bank, reset at each barrier), so
//    no two writers share bytes -- except matmul accumulate chains on one
//    tile, which the in-order matrix unit orders;
//  * a unit reads a region written by another unit only after a semaphore
//    from its writer; the vector (matrix) unit of a tile may also read what
//    an earlier instruction of the same unit wrote or waited for ("ready"
//    regions), because it is in order;
//  * each semaphore id is signalled once and waited on once per epoch (per
//    tile for local ids), and every producer precedes its consumer in
//    program order, so nothing deadlocks;
//  * loads read DRAM below 0x100000 (read-only); stores write fresh, disjoint
//    DRAM areas from 0x1000000; a read-back load waits for its store.
// A chain is a list of stages (one instruction each, plus the ctx.* set-up
// it needs); stages of different chains are interleaved at random, each
// chain's in order.  Everything a chain needs (regions, semaphores) is
// reserved when it is created, so a stage never fails.

namespace clonesim::cosim {

namespace {

using isa::Opcode;
using ull = unsigned long long;

constexpr int kAll = -1;
constexpr uint64_t kFail = ~uint64_t(0);
constexpr uint64_t kSrcBytes = 0x100000;  // loads read [0, kSrcBytes)
constexpr uint64_t kOutBase = 0x1000000;  // stores write from here up
constexpr unsigned kSp = 0, kAcc = 1;

const char* sym(unsigned space) { return space == kAcc ? "acc" : "sp"; }


uint64_t align_up(uint64_t x, uint64_t a) { return a <= 1 ? x : (x + a - 1) / a * a; }

struct Region {
  unsigned space = 0;
  uint64_t addr = 0, bytes = 0;
};

// A region a unit may read without a semaphore (see above).  `all`: ready
// at the same address in every tile (for tile=all instructions).
struct Ready {
  Region r;
  bool all;
};

// A matmul result that later matmuls of the tile may accumulate into.
struct MmAcc {
  uint64_t acc, cstride;
  unsigned m, n;
};

struct VPlan {
  Opcode op = Opcode::VAdd;
  int tile = 0;
  unsigned as = 0, bs = 0, ds = 0, bmode = 0;
  uint64_t len = 1;
  unsigned shift = 0;
  int64_t imm = 0, imm2 = 0;
  bool b_mem = false, b_scalar = false, d_mem = true;
  uint64_t a = 0, b = 0, d = 0;
  uint64_t a_bytes = 0, b_bytes = 0, d_bytes = 0;
  uint64_t a_align = 1, b_align = 1, d_align = 1;
};

struct MPlan {
  const hw::HwConfig* hw = nullptr;
  int tile = 0;
  uint64_t m = 1, k = 1, n = 1;
  bool int4 = false, accum = false;
  uint64_t astride = 0, cstride = 0, act = 0, wgt = 0, acc = 0;
  uint64_t act_bytes() const { return (m - 1) * astride + k; }
  // the tile-major weights: every array tile's packed bytes, one after the other
  uint64_t wgt_bytes() const { return sim::weight_bytes(*hw, k, n, int4); }
  uint64_t acc_bytes() const { return (m - 1) * cstride + 4 * n; }
};

struct DPlan {
  bool store = false;
  int tile = 0;
  unsigned space = 0;
  uint64_t dram = 0, rows = 1, bytes = 1, dstride = 0, sstride = 0, sram = 0;
  uint64_t sext() const { return (rows - 1) * sstride + bytes; }
  uint64_t dext() const { return (rows - 1) * dstride + bytes; }
};

using Stage = std::function<void()>;
using Chain = std::vector<Stage>;

const std::vector<Opcode> kVecOps = {Opcode::VAdd,  Opcode::VSub,    Opcode::VMul,    Opcode::VMax,   Opcode::VMin,
                          Opcode::VShl,  Opcode::VShr,    Opcode::VClamp,  Opcode::VMov,   Opcode::VRequant,
                          Opcode::VLut,  Opcode::LutLoad, Opcode::VRecip,  Opcode::VRsqrt, Opcode::VRot,
                          Opcode::VRedSum, Opcode::VRedMax};

bool is_reduction(Opcode op) { return op == Opcode::VRedSum || op == Opcode::VRedMax; }

class Generator {
 public:
  Generator(const hw::HwConfig& hw, uint64_t seed)
      : hw_(hw), rng_(seed), T_(hw.tiles), L_(hw.vxu.lanes), R_(hw.mxu.rows), C_(hw.mxu.cols), seed_(seed) {
    lut_.assign(T_, {false, false, false, false});
  }

  std::string run(unsigned epochs) {
    out_ += strf("; random program, seed %llu, %u epochs, design point %s\n", ull(seed_), epochs, hw_.name.c_str());
    const unsigned point = hw_.domain(hw::Domain::Compute).initial;
    for (unsigned e = 0; e < epochs; ++e) {
      out_ += strf("; ---- epoch %u\n", e);
      reset_epoch();
      const unsigned target = unsigned(U(30, 80)), start = emitted_;
      unsigned fails = 0;
      // stop creating once the emitted and the still pending stages reach the target
      auto planned = [&] {
        size_t n = emitted_ - start;
        for (const auto& c : pending_) n += c.size();
        return n;
      };
      while (planned() < target && fails < 400) {
        if (!pending_.empty() && P(0.5)) {
          advance();
          continue;
        }
        if (!create()) ++fails;
      }
      while (!pending_.empty()) advance();
      emit("dvfs domain=compute point=%u", point);
    }
    emit("halt");
    return out_;
  }

 private:
  struct State {
    std::vector<std::array<std::vector<uint64_t>, 2>> used;  // [tile][space][bank]: bytes taken from the bank start
    std::vector<uint16_t> sems;                              // [tile]: bit i = local id i taken
    uint32_t gsems = 0;                                      // bit i = global id 16 + i taken
    uint64_t dram_out = kOutBase;
    std::vector<std::vector<Ready>> vready, mready;  // [tile]: for the vector / matrix unit
    std::vector<std::vector<MmAcc>> mmacc;           // [tile]
  };

  const hw::HwConfig& hw_;
  std::mt19937_64 rng_;
  const unsigned T_, L_, R_, C_;
  const uint64_t seed_;
  std::string out_;
  unsigned emitted_ = 0;
  std::array<int64_t, isa::kNumContextRegs> ctx_{};
  unsigned locked_ = 0;  // bit r: the instruction being built reads c<r> (cnt= / addr=)
  std::vector<std::array<bool, isa::kNumLuts>> lut_;  // [tile][id]: loaded (at emission time)
  State st_;
  std::vector<std::deque<Stage>> pending_;

  // ---- randomness (portable: no std distributions)
  uint64_t U(uint64_t lo, uint64_t hi) { return hi > lo ? lo + rng_() % (hi - lo + 1) : lo; }
  bool P(double p) { return double(rng_() >> 11) * (1.0 / 9007199254740992.0) < p; }
  template <typename V>
  auto pick(const V& v) -> decltype(v[0]) {
    return v[U(0, v.size() - 1)];
  }
  template <typename T>
  void shuffle(std::vector<T>& v) {  // Fisher-Yates (std::shuffle differs between libraries)
    for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[U(0, i - 1)]);
  }
  int rand_tile() { return int(U(0, T_ - 1)); }
  int64_t rand_imm() {
    switch (U(0, 4)) {
      case 0: return int64_t(U(0, 32)) - 16;
      case 1: return int64_t(U(0, 255)) - 128;
      case 2: return int64_t(U(0, 65535)) - 32768;
      case 3: return int64_t(int32_t(uint32_t(rng_())));
      default: return P(0.5) ? INT32_MAX : INT32_MIN;
    }
  }
  unsigned rand_shift(unsigned typical, unsigned max) {
    if (P(0.4)) return 0;
    return unsigned(P(0.9) ? U(0, typical) : U(0, max));
  }
  uint64_t rand_len() {
    const uint64_t r = U(0, 9);
    if (r < 6) return U(1, 4 * L_);
    if (r < 9) return U(1, 16 * L_);
    return U(1, 32 * L_);
  }

  // ---- geometry
  const hw::SramConfig& sc(unsigned s) const { return s == kAcc ? hw_.accumulator : hw_.scratchpad; }
  uint64_t lb(unsigned s) const { return sc(s).line_bytes(); }
  static uint64_t eb(unsigned s) { return s == kAcc ? 4 : 1; }
  // Alignment of a streamed vector operand (sim::check_against).
  uint64_t valign(unsigned s) const { return std::min<uint64_t>(uint64_t(L_) * eb(s), lb(s)); }
  bool one_bank(unsigned s, uint64_t addr, uint64_t bytes) const {
    return addr / sc(s).bank_bytes() == (addr + bytes - 1) / sc(s).bank_bytes();
  }
  std::vector<unsigned> tiles_of(int tile) const {
    std::vector<unsigned> v;
    if (tile == kAll)
      for (unsigned t = 0; t < T_; ++t) v.push_back(t);
    else
      v.push_back(unsigned(tile));
    return v;
  }

  // ---- epoch state
  void reset_epoch() {
    const uint64_t out = st_.dram_out;
    st_ = State{};
    st_.dram_out = out;
    st_.used.resize(T_);
    for (auto& u : st_.used) {
      u[kSp].assign(hw_.scratchpad.banks, 0);
      u[kAcc].assign(hw_.accumulator.banks, 0);
    }
    st_.sems.assign(T_, 0);
    st_.vready.assign(T_, {});
    st_.mready.assign(T_, {});
    st_.mmacc.assign(T_, {});
  }

  // A fresh region of `bytes` in `space` of `tile` (every tile for kAll, at
  // the same address), aligned to `align`, on a random bank.  `cross` lets it
  // straddle two banks (DMA and matmul operands may; vector operands may not).
  uint64_t alloc(int tile, unsigned s, uint64_t bytes, uint64_t align, bool cross = false) {
    const uint64_t bb = sc(s).bank_bytes();
    const unsigned nb = sc(s).banks;
    if (bytes == 0 || bytes > bb) return kFail;
    const auto ts = tiles_of(tile);
    auto used_at = [&](unsigned b) {
      uint64_t m = 0;
      for (unsigned t : ts) m = std::max(m, st_.used[t][s][b]);
      return m;
    };
    auto take = [&](unsigned b, uint64_t upto) {
      for (unsigned t : ts) st_.used[t][s][b] = upto;
    };
    const uint64_t gap = P(0.3) ? U(0, 96) : 0;
    if (cross && nb > 1 && bytes >= 2 && P(0.25)) {
      const unsigned b = unsigned(U(0, nb - 2));
      if (used_at(b + 1) == 0) {
        const uint64_t edge = uint64_t(b + 1) * bb;
        const uint64_t lo = uint64_t(b) * bb + used_at(b);
        const uint64_t want = edge - U(1, std::min<uint64_t>(bytes - 1, bb / 2));
        const uint64_t start = align_up(std::max(lo, want), align);
        if (start < edge && start + bytes > edge && start + bytes <= edge + bb) {
          take(b, bb);
          take(b + 1, start + bytes - edge);
          return start;
        }
      }
    }
    const unsigned b0 = unsigned(U(0, nb - 1));
    for (unsigned k = 0; k < nb; ++k) {
      const unsigned b = (b0 + k) % nb;
      const uint64_t start = align_up(uint64_t(b) * bb + used_at(b) + gap, align);
      if (start + bytes <= uint64_t(b + 1) * bb) {
        take(b, start + bytes - uint64_t(b) * bb);
        return start;
      }
    }
    return kFail;
  }

  uint64_t alloc_out(uint64_t bytes) {
    const uint64_t a = align_up(st_.dram_out + (P(0.5) ? U(0, 64) : 0), P(0.5) ? 64 : 1);
    st_.dram_out = a + bytes;
    return a;
  }

  // A region ready for the vector (matrix) unit of `tile`, or kFail.
  uint64_t pick_ready(int tile, unsigned s, uint64_t bytes, uint64_t align, bool matrix) {
    const auto& list = (matrix ? st_.mready : st_.vready)[tile == kAll ? 0 : tile];
    std::vector<std::pair<uint64_t, uint64_t>> cand;  // first aligned start, number of starts
    for (const Ready& e : list) {
      if (e.r.space != s || (tile == kAll && !e.all)) continue;
      const uint64_t first = align_up(e.r.addr, align);
      if (first + bytes > e.r.addr + e.r.bytes) continue;
      const uint64_t starts = (e.r.addr + e.r.bytes - bytes - first) / std::max<uint64_t>(align, 1) + 1;
      cand.push_back({first, starts});
    }
    for (int tries = 0; tries < 4 && !cand.empty(); ++tries) {
      const auto c = pick(cand);
      const uint64_t a = c.first + U(0, c.second - 1) * std::max<uint64_t>(align, 1);
      if (matrix || one_bank(s, a, bytes)) return a;
    }
    return kFail;
  }

  uint64_t src_addr(int tile, unsigned s, uint64_t bytes, uint64_t align, bool matrix = false) {
    if (P(0.5)) {
      const uint64_t a = pick_ready(tile, s, bytes, align, matrix);
      if (a != kFail) return a;
    }
    return alloc(tile, s, bytes, align, matrix);
  }

  void add_ready(bool matrix, int tile, const Region& r) {
    if (r.bytes == 0 || (!matrix && !one_bank(r.space, r.addr, r.bytes))) return;
    auto& lists = matrix ? st_.mready : st_.vready;
    for (unsigned t : tiles_of(tile)) lists[t].push_back({r, tile == kAll});
  }

  // ---- semaphores: each id once per epoch (per tile for local ids)
  int sem_local(int tile) {
    std::vector<int> ids;
    for (int id = 1; id < int(isa::kFirstGlobalSemaphore); ++id) {
      bool free = true;
      for (unsigned t : tiles_of(tile)) free = free && !(st_.sems[t] >> id & 1);
      if (free) ids.push_back(id);
    }
    if (ids.empty()) return 0;
    const int id = pick(ids);
    for (unsigned t : tiles_of(tile)) st_.sems[t] |= uint16_t(1u << id);
    return id;
  }
  int sem_global() {
    std::vector<int> ids;
    for (int i = 0; i < 16; ++i)
      if (!(st_.gsems >> i & 1)) ids.push_back(i);
    if (ids.empty()) return 0;
    const int i = pick(ids);
    st_.gsems |= 1u << i;
    return 16 + i;
  }
  // A semaphore from a producer to a consumer on `tile`.  Global ids only
  // between single instructions: a tile=all matmul / vector instruction runs
  // one copy per tile, and each copy would wait on / signal a global id.
  int sem(int tile, bool global_ok = true) {
    global_ok = global_ok && tile != kAll;
    if (global_ok && P(0.2)) {
      const int g = sem_global();
      if (g) return g;
    }
    const int l = sem_local(tile);
    if (l) return l;
    return global_ok ? sem_global() : 0;
  }

  // ---- emission
  void emit(const char* f, ...) __attribute__((format(printf, 2, 3))) {
    va_list ap;
    va_start(ap, f);
    out_ += vstrf(f, ap);
    va_end(ap);
    out_ += '\n';
    ++emitted_;
  }
  void emit_line(const std::string& s) {
    emit("%s", s.c_str());
    locked_ = 0;
  }

  std::string hdr(int tile, const std::vector<int>& waits, const std::vector<int>& sigs) {
    std::string s;
    if (tile == kAll) s += " tile=all";
    else if (tile != 0 || P(0.5)) s += strf(" tile=%d", tile);
    auto list = [&](const char* key, const std::vector<int>& v) {
      std::string l;
      for (int id : v)
        if (id) l += strf("%s%s%d", l.empty() ? "" : ",", P(0.85) ? "s" : "", id);
      if (!l.empty()) s += strf(" %s=%s", key, l.c_str());
    };
    list("wait", waits);
    list("signal", sigs);
    return s;
  }

  int free_reg() {
    std::vector<int> rs;
    for (int r = 1; r < 8; ++r)
      if (!(locked_ >> r & 1)) rs.push_back(r);
    return pick(rs);
  }
  // ctx.* instructions that leave `v` in register r (wrapping 64-bit
  // arithmetic); only r and unlocked registers are written.
  void make_reg(int r, int64_t v) {
    auto wrap_sub = [](int64_t a, int64_t b) { return int64_t(uint64_t(a) - uint64_t(b)); };
    switch (U(0, 3)) {
      case 1: {
        const int s = int(U(0, 7));
        const int64_t d = wrap_sub(v, ctx_[s]);
        emit("ctx.add reg=c%d src=c%d value=%lld", r, s, (long long)d);
        break;
      }
      case 2: {
        std::vector<int64_t> ks;
        for (int64_t k : {2, 3, 4, 8, -1, -2})
          if (v % k == 0) ks.push_back(k);
        if (ks.empty()) {
          emit("ctx.set reg=c%d value=%lld", r, (long long)v);
          break;
        }
        const int64_t k = pick(ks);
        const int s = free_reg();
        emit("ctx.set reg=c%d value=%lld", s, (long long)(v / k));
        ctx_[s] = v / k;
        emit("ctx.mul reg=c%d src=c%d value=%lld", r, s, (long long)k);
        break;
      }
      case 3: {
        std::vector<int> srcs;
        for (int s = 1; s < 8; ++s)
          if (ctx_[s] != 0 && ctx_[s] != INT64_MIN && v % ctx_[s] == 0) srcs.push_back(s);
        if (srcs.empty()) {
          emit("ctx.set reg=c%d value=%lld", r, (long long)v);
          break;
        }
        const int s = pick(srcs);
        emit("ctx.mul reg=c%d src=c%d value=%lld", r, s, (long long)(v / ctx_[s]));
        break;
      }
      default: emit("ctx.set reg=c%d value=%lld", r, (long long)v); break;
    }
    ctx_[r] = v;
  }
  int reg_with(int64_t v) {
    if (P(0.5))
      for (int r = 1; r < 8; ++r)
        if (ctx_[r] == v) return r;
    const int r = free_reg();
    make_reg(r, v);
    return r;
  }

  // The count field: the immediate, or a context register holding `count`
  // (emits the ctx.* set-up first) with the immediate ignored.
  std::string count_keys(const char* field, uint64_t count, bool omit_one_ok) {
    if (P(0.12)) {
      const int r = reg_with(int64_t(count));
      locked_ |= 1u << r;
      std::string s = strf(" cnt=c%d", r);
      switch (U(0, 2)) {
        case 0: break;
        case 1: s += strf(" %s=0", field); break;
        default: s += strf(" %s=%llu", field, ull(U(1, 999))); break;
      }
      return s;
    }
    if (omit_one_ok && count == 1 && P(0.5)) return "";
    return strf(" %s=%llu", field, ull(count));
  }
  // The count field and the alternate count field (matmul m and k,
  // load/store rows and bytes): as count_keys, or the alternate count from a
  // context register holding `alt_count` (cnt_alt=; emits the ctx.* set-up
  // first) with its immediate ignored and the count field an immediate.
  std::string counts_keys(const char* field, uint64_t count, bool omit_one_ok, const char* alt, uint64_t alt_count,
                          uint64_t alt_max) {
    if (P(0.1)) {
      const int r = reg_with(int64_t(alt_count));
      locked_ |= 1u << r;
      std::string s = strf(" cnt_alt=c%d", r);
      if (!omit_one_ok || count != 1 || P(0.5)) s += strf(" %s=%llu", field, ull(count));
      switch (U(0, 2)) {
        case 0: break;
        case 1: s += strf(" %s=0", alt); break;
        default: s += strf(" %s=%llu", alt, ull(U(1, alt_max))); break;
      }
      return s;
    }
    return count_keys(field, count, omit_one_ok) + strf(" %s=%llu", alt, ull(alt_count));
  }
  std::string dram_keys(uint64_t dram) {
    if (P(0.12)) {
      int r = 0;
      if (P(0.4))
        for (int c = 1; c < 8 && !r; ++c)
          if (ctx_[c] <= int64_t(dram) && ctx_[c] > int64_t(dram) - (int64_t(1) << 47)) r = c;
      if (!r) {
        r = free_reg();
        make_reg(r, P(0.5) ? -int64_t(U(0, 0x10000)) : int64_t(U(0, dram)));
      }
      locked_ |= 1u << r;
      return strf(" dram=0x%llx addr=c%d", ull(int64_t(dram) - ctx_[r]), r);
    }
    return strf(" dram=0x%llx", ull(dram));
  }

  void emit_vec(const VPlan& p, const std::vector<int>& waits, const std::vector<int>& sigs) {
    const char* mn = isa::opcode_info(uint8_t(p.op))->mnemonic;
    if (p.op == Opcode::LutLoad) {
      emit_line(strf("lutld%s a=0x%llx imm=%lld len=256", hdr(p.tile, waits, sigs).c_str(), ull(p.a), (long long)p.imm));
      for (unsigned t : tiles_of(p.tile)) lut_[t][p.imm] = true;
      add_ready(false, p.tile, {kSp, p.a, 512});
      return;
    }
    const std::string cnt = count_keys("len", p.len, false);
    std::string s = strf("%s%s dst=0x%llx dspace=%s a=0x%llx aspace=%s", mn, hdr(p.tile, waits, sigs).c_str(), ull(p.d),
                         sym(p.ds), ull(p.a), sym(p.as));
    if (p.b_mem) s += strf(" b=0x%llx bspace=%s", ull(p.b), sym(p.bs));
    static const char* bm[] = {"none", "vec", "scalar", "imm"};
    if (p.bmode) s += strf(" bmode=%s", bm[p.bmode]);
    else if (P(0.1)) s += " bmode=none";
    s += cnt;
    if (p.shift) s += strf(" shift=%u", p.shift);
    if (p.imm || P(0.1)) s += strf(" imm=%lld", (long long)p.imm);
    if (p.imm2 || P(0.1)) s += strf(" imm2=%lld", (long long)p.imm2);
    emit_line(s);
    add_ready(false, p.tile, {p.as, p.a, p.a_bytes});
    if (p.b_mem) add_ready(false, p.tile, {p.bs, p.b, p.b_bytes});
    add_ready(false, p.tile, {p.ds, p.d, p.d_bytes});
  }

  void emit_mm(const MPlan& p, const std::vector<int>& waits, const std::vector<int>& sigs) {
    const std::string cnt = counts_keys("m", p.m, false, "k", p.k, 4095);
    emit_line(strf("matmul%s act=0x%llx wgt=0x%llx acc=0x%llx%s n=%llu wtype=%s accum=%d astride=%llu cstride=%llu",
                   hdr(p.tile, waits, sigs).c_str(), ull(p.act), ull(p.wgt), ull(p.acc), cnt.c_str(), ull(p.n),
                   p.int4 ? "int4" : "int8", p.accum ? 1 : 0, ull(p.astride), ull(p.cstride)));
    add_ready(true, p.tile, {kSp, p.act, p.act_bytes()});
    add_ready(true, p.tile, {kSp, p.wgt, p.wgt_bytes()});
  }

  void emit_dma(const DPlan& d, const std::vector<int>& waits, const std::vector<int>& sigs) {
    const std::string cnt = counts_keys("rows", d.rows, true, "bytes", d.bytes, 999);
    const std::string dram = dram_keys(d.dram);
    std::string s = strf("%s%s%s sram=0x%llx", d.store ? "store" : "load", hdr(d.tile, waits, sigs).c_str(),
                         dram.c_str(), ull(d.sram));
    if (d.space == kAcc || P(0.2)) s += strf(" space=%s", sym(d.space));
    s += cnt;
    if (d.rows > 1 || d.dstride || P(0.2)) s += strf(" dstride=%llu", ull(d.dstride));
    if (d.rows > 1 || d.sstride || P(0.2)) s += strf(" sstride=%llu", ull(d.sstride));
    emit_line(s);
  }

  // ---- plans
  Opcode rand_vec_op(int tile) {
    Opcode op = pick(kVecOps);
    if (op == Opcode::VLut && lut_ids(tile).empty()) op = Opcode::LutLoad;
    return op;
  }
  std::vector<int> lut_ids(int tile) const {
    std::vector<int> ids;
    for (int id = 0; id < int(isa::kNumLuts); ++id) {
      bool ok = true;
      for (unsigned t : tiles_of(tile)) ok = ok && lut_[t][id];
      if (ok) ids.push_back(id);
    }
    return ids;
  }

  // Random fields of a vector instruction (no addresses).  fas / fds force
  // the a / dst space, flen the element count (the a operand then fits
  // exactly), lut the LUT id of a vlut.  False if impossible.
  bool plan_vec(VPlan& p, Opcode op, int tile, int fas = -1, int fds = -1, uint64_t flen = 0, int lut = -1) {
    p = VPlan{};
    p.op = op;
    p.tile = tile;
    auto space = [&](double pacc) { return P(pacc) ? kAcc : kSp; };
    p.as = fas >= 0 ? unsigned(fas) : space(0.4);
    p.ds = fds >= 0 ? unsigned(fds) : space(0.4);
    p.len = flen ? flen : rand_len();
    switch (op) {
      case Opcode::VAdd:
      case Opcode::VSub:
      case Opcode::VMul:
      case Opcode::VMax:
      case Opcode::VMin:
        p.bmode = unsigned(U(1, 3));
        if (p.bmode == isa::kBVector) {
          p.bs = space(0.4);
          p.b_mem = true;
          p.b_bytes = p.len * eb(p.bs);
          p.b_align = valign(p.bs);
        } else if (p.bmode == isa::kBScalar) {
          p.bs = space(0.4);
          p.b_mem = p.b_scalar = true;
          p.b_bytes = eb(p.bs);
          p.b_align = eb(p.bs);  // int32 scalars 4-aligned, int8 scalars anywhere
        } else {
          p.imm = rand_imm();
        }
        p.shift = rand_shift(op == Opcode::VMul ? 16 : 4, 63);
        break;
      case Opcode::VShl: p.shift = rand_shift(8, 31); break;
      case Opcode::VShr: p.shift = rand_shift(12, 63); break;
      case Opcode::VClamp: {
        const int64_t x = rand_imm(), y = rand_imm();
        p.imm = std::min(x, y);
        p.imm2 = std::max(x, y);
        break;
      }
      case Opcode::VMov: p.shift = rand_shift(6, 63); break;
      case Opcode::VRequant:
        if (fas < 0) p.as = space(0.8);
        if (fds < 0) p.ds = space(0.2);
        if (P(0.5)) {
          p.bmode = isa::kBVector;  // per channel: imm2 (multiplier, shift) pairs in the accumulator
          p.bs = kAcc;
          p.b_mem = true;
          p.imm2 = int64_t(L_) * int64_t(U(1, 4));
          p.b_bytes = 8 * uint64_t(p.imm2);
          p.b_align = valign(kAcc);
        } else {
          p.imm = P(0.7) ? int64_t(U(1, 1 << 16)) * (P(0.2) ? -1 : 1) : rand_imm();
          p.shift = unsigned(U(0, 40));
        }
        break;
      case Opcode::VLut: {
        if (lut < 0) {
          const auto ids = lut_ids(tile);
          if (ids.empty()) return false;
          lut = pick(ids);
        }
        p.imm = lut;
        break;
      }
      case Opcode::LutLoad:
        if (fas == int(kAcc)) return false;
        p.as = kSp;
        p.len = 256;
        p.a_bytes = 512;
        p.a_align = 1;
        p.d_mem = false;
        p.imm = int64_t(U(0, isa::kNumLuts - 1));
        return true;
      case Opcode::VRecip:
      case Opcode::VRsqrt:
        if (flen > 2 * L_) return false;
        if (!flen) p.len = U(1, 2 * L_);
        if (fas < 0) p.as = space(0.7);
        p.shift = unsigned(op == Opcode::VRecip ? U(0, 62) : U(0, 31));
        break;
      case Opcode::VRot: {
        std::vector<uint64_t> hs;
        for (uint64_t h = 1; 2 * h <= L_; h *= 2) hs.push_back(h);  // 2h divides L
        hs.push_back(L_);
        hs.push_back(2 * uint64_t(L_));
        if (flen) {
          std::vector<uint64_t> ok;
          for (uint64_t h : hs)
            if (flen % (2 * h) == 0) ok.push_back(h);
          if (ok.empty()) return false;
          p.imm = int64_t(pick(ok));
        } else {
          const uint64_t h = pick(hs);
          p.imm = int64_t(h);
          p.len = 2 * h * U(1, std::max<uint64_t>(1, 8 * L_ / (2 * h)));
        }
        break;
      }
      case Opcode::VRedSum: p.shift = rand_shift(8, 63); break;
      case Opcode::VRedMax: break;
      default: return false;
    }
    p.a_bytes = p.len * eb(p.as);
    p.a_align = valign(p.as);
    if (is_reduction(op)) {
      p.d_bytes = eb(p.ds);
      p.d_align = eb(p.ds);
    } else {
      p.d_bytes = p.len * eb(p.ds);
      p.d_align = valign(p.ds);
    }
    return p.a_bytes <= sc(p.as).bank_bytes() && p.d_bytes <= sc(p.ds).bank_bytes() &&
           (!p.b_mem || p.b_bytes <= sc(p.bs).bank_bytes());
  }

  // Addresses of the operands not given by the caller: ready or fresh sources,
  // a fresh destination.
  bool bind_vec(VPlan& p, bool have_a = false, bool have_b = false, bool have_d = false) {
    if (!have_a) p.a = src_addr(p.tile, p.as, p.a_bytes, p.a_align);
    if (p.a == kFail) return false;
    if (p.b_mem && !have_b) p.b = src_addr(p.tile, p.bs, p.b_bytes, p.b_align);
    if (p.b_mem && p.b == kFail) return false;
    if (p.d_mem && !have_d) p.d = alloc(p.tile, p.ds, p.d_bytes, p.d_align);
    return !p.d_mem || p.d != kFail;
  }

  void plan_mm(MPlan& p, int tile) {
    p = MPlan{};
    p.hw = &hw_;
    p.tile = tile;
    if (P(0.3)) {
      // larger than the array: the matrix unit runs several array tiles
      p.k = U(1, 3 * R_ + 5);
      p.n = U(1, 3 * C_ + 3);
      if (p.k <= R_ && p.n <= C_) {
        if (P(0.5)) p.k = U(R_ + 1, 2 * R_ + 3);
        else p.n = U(C_ + 1, 2 * C_ + 1);
      }
    } else {
      p.k = U(1, R_);
      p.n = U(1, C_);
    }
    p.m = P(0.7) ? U(1, 16) : U(1, 64);
    const bool s8 = hw_.mxu.supports(hw::WeightType::Int8), s4 = hw_.mxu.supports(hw::WeightType::Int4);
    p.int4 = s4 && (!s8 || P(0.5));
    p.accum = P(0.3);
    switch (U(0, 9)) {
      case 6:
      case 7: p.astride = align_up(p.k, lb(kSp)); break;
      case 8: p.astride = U(p.k, 3 * p.k + 16); break;
      case 9: p.astride = U(0, p.k); break;  // rows overlap (read only)
      default: p.astride = p.k + U(0, 8); break;
    }
    switch (U(0, 9)) {
      case 6:
      case 7:
      case 8: p.cstride = align_up(4 * p.n, lb(kAcc)); break;
      case 9: p.cstride = 4 * p.n + 4 * U(0, 64); break;
      default: p.cstride = 4 * p.n + 4 * U(0, 3); break;
    }
    while (p.m > 1 && p.acc_bytes() > hw_.accumulator.bank_bytes() / 4) p.m /= 2;
  }

  // A load that fills at least `need` bytes from its SRAM start (not placed).
  DPlan load_shape(int tile, unsigned s, uint64_t need) {
    DPlan d;
    d.tile = tile;
    d.space = s;
    if (need <= 1 || P(0.5)) {
      d.rows = 1;
      d.bytes = need;
      if (P(0.3)) d.sstride = U(0, 4096);  // unused with one row
      if (P(0.3)) d.dstride = U(0, 4096);
    } else {
      d.rows = U(2, std::min<uint64_t>(8, need));
      d.bytes = (need + d.rows - 1) / d.rows;
      d.sstride = d.bytes + (P(0.6) ? 0 : U(1, 32));
      switch (U(0, 4)) {
        case 0: d.dstride = d.bytes; break;
        case 1: d.dstride = d.bytes + U(1, 256); break;
        case 2: d.dstride = U(0, 2048); break;  // may overlap: DRAM rows are only read
        default: d.dstride = 2048 * U(1, 4); break;
      }
    }
    d.dram = U(0, kSrcBytes - d.dext());
    if (P(0.5)) d.dram &= ~uint64_t(63);
    return d;
  }

  // A load that fills [region.addr, region.addr + need): shape, then place.
  bool place_load(DPlan& d, int tile, unsigned s, uint64_t need, uint64_t align, bool cross) {
    d = load_shape(tile, s, need);
    d.sram = alloc(tile, s, d.sext(), align, cross);
    return d.sram != kFail;
  }

  // A store of (part of) a region of one tile to a fresh DRAM area.
  DPlan store_of(int tile, const Region& r) {
    DPlan d;
    d.store = true;
    d.tile = tile;
    d.space = r.space;
    if (r.bytes < 2 || P(0.5)) {
      d.rows = 1;
      uint64_t off = 0;
      d.bytes = r.bytes;
      if (r.bytes > 1 && P(0.3)) {
        off = U(0, r.bytes - 1);
        d.bytes = U(1, r.bytes - off);
      }
      d.sram = r.addr + off;
      if (P(0.3)) d.sstride = U(0, 4096);
      if (P(0.3)) d.dstride = U(0, 4096);
      d.dram = alloc_out(d.bytes);
      return d;
    }
    d.rows = U(2, std::min<uint64_t>(8, r.bytes));
    d.bytes = U(1, r.bytes / d.rows);
    d.sstride = P(0.1) ? U(0, d.bytes) : U(d.bytes, (r.bytes - d.bytes) / (d.rows - 1));
    d.sram = r.addr;
    d.dstride = d.bytes + (P(0.5) ? 0 : U(1, 128));  // DRAM rows never overlap
    d.dram = alloc_out(d.dext());
    return d;
  }
  // The rows of a matmul result exactly, or any part of its extent.
  DPlan store_of_result(const MPlan& p) {
    if (P(0.5)) return store_of(p.tile, {kAcc, p.acc, p.acc_bytes()});
    DPlan d;
    d.store = true;
    d.tile = p.tile;
    d.space = kAcc;
    d.rows = p.m;
    d.bytes = 4 * p.n;
    d.sstride = p.cstride;
    d.sram = p.acc;
    d.dstride = d.bytes + (P(0.5) ? 0 : 4 * U(1, 16));
    d.dram = alloc_out(d.dext());
    return d;
  }

  // ---- items: each fills a chain of stages; false (and rolled back) when
  // something cannot be allocated.
  bool item_vec(Chain& c) {
    const int tile = P(0.1) ? kAll : rand_tile();
    VPlan p;
    if (!plan_vec(p, rand_vec_op(tile), tile) || !bind_vec(p)) return false;
    // Sometimes a second op updates the result in place (dst == a, allowed:
    // sources are read before the destination is written).  Same stage, so
    // nothing can reference the region between the two.  Not vrot: a half
    // of a lane group or more would read elements an earlier step of a
    // streaming unit already overwrote.
    VPlan q;
    const bool elementwise = p.d_mem && !is_reduction(p.op) && p.as == p.ds;
    if (elementwise && P(0.15)) {
      Opcode op2 = rand_vec_op(tile);
      if (op2 == Opcode::VRot || op2 == Opcode::LutLoad || is_reduction(op2)) op2 = Opcode::VShr;
      if (plan_vec(q, op2, tile, int(p.ds), int(p.ds), p.len)) {
        q.a = q.d = p.d;
        if (!bind_vec(q, true, false, true)) return false;
        c.push_back([this, p, q] {
          emit_vec(p, {}, {});
          emit_vec(q, {}, {});
        });
        return true;
      }
    }
    c.push_back([this, p] { emit_vec(p, {}, {}); });
    return true;
  }

  bool item_mm(Chain& c) {
    const int tile = P(0.08) ? kAll : rand_tile();
    MPlan p;
    plan_mm(p, tile);
    if (tile != kAll && !st_.mmacc[tile].empty() && P(0.4)) {
      // accumulate (or overwrite) an earlier result: ordered by the in-order matrix unit
      const MmAcc a = pick(st_.mmacc[tile]);
      p.m = a.m;
      p.n = a.n;
      p.cstride = a.cstride;
      p.acc = a.acc;
      p.accum = P(0.8);
    } else {
      p.acc = alloc(tile, kAcc, p.acc_bytes(), P(0.8) ? 4 : lb(kAcc), true);
      if (p.acc == kFail) return false;
      if (tile != kAll) st_.mmacc[tile].push_back({p.acc, p.cstride, unsigned(p.m), unsigned(p.n)});
    }
    p.act = src_addr(tile, kSp, p.act_bytes(), P(0.5) ? 1 : lb(kSp), true);
    p.wgt = src_addr(tile, kSp, p.wgt_bytes(), P(0.5) ? 1 : lb(kSp), true);
    if (p.act == kFail || p.wgt == kFail) return false;
    c.push_back([this, p] { emit_mm(p, {}, {}); });
    return true;
  }

  bool item_load(Chain& c) {
    const int tile = P(0.25) ? kAll : rand_tile();
    const unsigned s = P(0.65) ? kSp : kAcc;
    const uint64_t need = P(0.8) ? U(1, 512) : U(1, s == kAcc ? 2048 : 4096);
    DPlan d;
    if (!place_load(d, tile, s, need, P(0.5) ? 1 : lb(s), true)) return false;
    c.push_back([this, d] { emit_dma(d, {}, {}); });
    return true;
  }

  bool item_control(Chain& c) {
    c.push_back([this] {
      const int r = int(U(1, 7));
      switch (U(0, 4)) {
        case 0: {
          const int64_t v = int64_t(U(0, 1ull << 41)) - (int64_t(1) << 40);
          emit("ctx.set reg=c%d value=%lld", r, (long long)v);
          ctx_[r] = v;
          break;
        }
        case 1: {
          const int s = int(U(0, 7));
          const int64_t v = int64_t(U(0, 1 << 20)) - (1 << 19);
          emit("ctx.add reg=c%d src=c%d value=%lld", r, s, (long long)v);
          ctx_[r] = int64_t(uint64_t(ctx_[s]) + uint64_t(v));
          break;
        }
        case 2: {
          const int s = int(U(0, 7));
          const int64_t v = int64_t(U(0, 6)) - 3;
          emit("ctx.mul reg=c%d src=c%d value=%lld", r, s, (long long)v);
          ctx_[r] = int64_t(uint64_t(ctx_[s]) * uint64_t(v));
          break;
        }
        default: emit("nop%s", hdr(rand_tile(), {}, {}).c_str()); break;
      }
    });
    return true;
  }

  // load(s) -> vector op -> store(s)
  bool chain_load_vec_store(Chain& c) {
    const bool all = P(0.15);
    const int tile = all ? kAll : rand_tile();
    VPlan p;
    if (!plan_vec(p, rand_vec_op(tile), tile)) return false;
    DPlan la, lb_;
    if (!place_load(la, tile, p.as, p.a_bytes, p.a_align, false)) return false;
    p.a = la.sram;
    const int sa = sem(tile, !all);
    int sb = 0;
    const bool load_b = p.b_mem && P(0.4);
    if (load_b) {
      const uint64_t need = p.b_scalar ? p.b_bytes * U(1, 16) : p.b_bytes;
      if (!place_load(lb_, tile, p.bs, need, p.b_align, false)) return false;
      p.b = lb_.sram + (p.b_scalar ? U(0, need / p.b_bytes - 1) * p.b_bytes : 0);
      sb = sem(tile, !all);
      if (!sb) return false;
    }
    if (!sa || !bind_vec(p, true, load_b)) return false;
    const bool store = p.d_mem && P(0.75);
    int sc_ = 0;
    std::vector<DPlan> stores;
    if (store) {
      sc_ = sem(tile, !all);
      if (!sc_) return false;
      for (unsigned t : tiles_of(tile)) stores.push_back(store_of(int(t), {p.ds, p.d, p.d_bytes}));
    }
    Stage ea = [this, la, sa] { emit_dma(la, {}, {sa}); };
    if (load_b) {
      Stage eb_ = [this, lb_, sb] { emit_dma(lb_, {}, {sb}); };
      if (P(0.5)) std::swap(ea, eb_);
      c.push_back(ea);
      c.push_back(eb_);
    } else {
      c.push_back(ea);
    }
    std::vector<int> w = {sa, sb};
    if (P(0.5)) std::swap(w[0], w[1]);
    c.push_back([this, p, w, sc_] { emit_vec(p, w, {sc_}); });
    for (const DPlan& d : stores) c.push_back([this, d, sc_] { emit_dma(d, {sc_}, {}); });
    return true;
  }

  // loads -> matmul (+ accumulate chain) -> [vector op (vrequant mostly) ->] store
  bool chain_mm(Chain& c) {
    const int tile = rand_tile();
    MPlan p;
    plan_mm(p, tile);
    const bool to_vec = P(0.5);
    if (to_vec) {
      if (P(0.6)) p.cstride = 4 * p.n;
      while (p.m > 1 && p.acc_bytes() / 4 > 32 * L_) p.m /= 2;
    }
    // operands
    DPlan la, lw, lt;
    int sa = 0, sw = 0;
    const bool load_act = P(0.75), load_wgt = P(0.75);
    if (load_act) {
      if (P(0.5) && p.astride >= p.k && p.m > 1) {
        la = load_shape(tile, kSp, 1);
        la.rows = p.m;
        la.bytes = p.k;
        la.sstride = p.astride;
        la.dstride = p.k + (P(0.5) ? 0 : U(0, 64));
        la.dram = U(0, kSrcBytes - la.dext());
        la.sram = alloc(tile, kSp, la.sext(), P(0.5) ? 1 : lb(kSp), true);
        if (la.sram == kFail) return false;
      } else if (!place_load(la, tile, kSp, p.act_bytes(), P(0.5) ? 1 : lb(kSp), true)) {
        return false;
      }
      p.act = la.sram;
      sa = sem(tile);
    } else {
      p.act = src_addr(tile, kSp, p.act_bytes(), 1, true);
    }
    if (load_wgt) {
      if (!place_load(lw, tile, kSp, p.wgt_bytes(), P(0.5) ? 1 : lb(kSp), true)) return false;
      p.wgt = lw.sram;
      sw = sem(tile);
    } else {
      p.wgt = src_addr(tile, kSp, p.wgt_bytes(), 1, true);
    }
    if (p.act == kFail || p.wgt == kFail || (load_act && !sa) || (load_wgt && !sw)) return false;
    p.acc = alloc(tile, kAcc, p.acc_bytes(), to_vec ? valign(kAcc) : 4, !to_vec);
    if (p.acc == kFail) return false;
    // accumulate chain on the same rows: the last one signals
    std::vector<MPlan> mms = {p};
    const unsigned extra = P(0.3) ? unsigned(U(1, 2)) : 0;
    for (unsigned i = 0; i < extra; ++i) {
      MPlan q = p;
      q.accum = P(0.85);
      q.k = U(1, p.k);
      if (P(0.4)) {
        q.act = src_addr(tile, kSp, q.act_bytes(), 1, true);
        q.wgt = src_addr(tile, kSp, q.wgt_bytes(), 1, true);
        if (q.act == kFail || q.wgt == kFail) return false;
      }
      mms.push_back(q);
    }
    const int sm = sem(tile);
    if (!sm) return false;
    // consumer
    VPlan v;
    int st = 0, sv = 0;
    std::vector<DPlan> tail;
    if (to_vec) {
      const uint64_t len = p.acc_bytes() / 4;
      Opcode op = P(0.6) ? Opcode::VRequant : rand_vec_op(tile);
      if (op == Opcode::LutLoad || !plan_vec(v, op, tile, int(kAcc), -1, len))
        if (!plan_vec(v, Opcode::VRequant, tile, int(kAcc), -1, len)) return false;
      v.a = p.acc;
      const bool load_table = v.op == Opcode::VRequant && v.bmode == isa::kBVector && P(0.75);
      if (load_table) {
        if (!place_load(lt, tile, kAcc, v.b_bytes, v.b_align, false)) return false;
        v.b = lt.sram;
        st = sem(tile);
        if (!st) return false;
      }
      if (!bind_vec(v, true, load_table)) return false;
      if (v.d_mem && P(0.8)) {
        sv = sem(tile);
        if (!sv) return false;
        tail.push_back(store_of(tile, {v.ds, v.d, v.d_bytes}));
      }
    } else {
      tail.push_back(store_of_result(p));
    }
    // stages
    std::vector<Stage> loads;
    if (load_act) loads.push_back([this, la, sa] { emit_dma(la, {}, {sa}); });
    if (load_wgt) loads.push_back([this, lw, sw] { emit_dma(lw, {}, {sw}); });
    if (st) loads.push_back([this, lt, st] { emit_dma(lt, {}, {st}); });
    shuffle(loads);
    for (auto& s : loads) c.push_back(s);
    for (size_t i = 0; i < mms.size(); ++i) {
      const MPlan q = mms[i];
      const std::vector<int> w = i == 0 ? std::vector<int>{sa, sw} : std::vector<int>{};
      const int sig = i + 1 == mms.size() ? sm : 0;
      c.push_back([this, q, w, sig] { emit_mm(q, w, {sig}); });
    }
    if (to_vec) {
      c.push_back([this, v, sm, st, sv] { emit_vec(v, {sm, st}, {sv}); });
      for (const DPlan& d : tail) c.push_back([this, d, sv] { emit_dma(d, {sv}, {}); });
    } else {
      for (const DPlan& d : tail) c.push_back([this, d, sm] { emit_dma(d, {sm}, {}); });
    }
    return true;
  }

  // vector op (ready / fresh sources) -> store(s)
  bool chain_vec_store(Chain& c) {
    const bool all = P(0.15);
    const int tile = all ? kAll : rand_tile();
    VPlan p;
    Opcode op = rand_vec_op(tile);
    if (op == Opcode::LutLoad) op = Opcode::VMov;
    if (!plan_vec(p, op, tile) || !bind_vec(p)) return false;
    const int s = sem(tile, !all);
    if (!s) return false;
    c.push_back([this, p, s] { emit_vec(p, {}, {s}); });
    for (unsigned t : tiles_of(tile)) {
      const DPlan d = store_of(int(t), {p.ds, p.d, p.d_bytes});
      c.push_back([this, d, s] { emit_dma(d, {s}, {}); });
    }
    return true;
  }

  // load a table -> lutld -> [vlut of that table -> store]
  bool chain_lut(Chain& c) {
    const bool all = P(0.2);
    const int tile = all ? kAll : rand_tile();
    VPlan l;
    plan_vec(l, Opcode::LutLoad, tile);
    DPlan d;
    if (!place_load(d, tile, kSp, 512, P(0.5) ? 1 : 2, false)) return false;
    l.a = d.sram;
    const int s = sem(tile, !all);
    if (!s) return false;
    c.push_back([this, d, s] { emit_dma(d, {}, {s}); });
    c.push_back([this, l, s] { emit_vec(l, {s}, {}); });
    if (P(0.6)) {
      VPlan v;
      if (!plan_vec(v, Opcode::VLut, tile, -1, -1, 0, int(l.imm)) || !bind_vec(v)) return false;
      int sv = 0;
      std::vector<DPlan> stores;
      if (P(0.5)) {
        sv = sem(tile, !all);
        if (!sv) return false;
        for (unsigned t : tiles_of(tile)) stores.push_back(store_of(int(t), {v.ds, v.d, v.d_bytes}));
      }
      c.push_back([this, v, sv] { emit_vec(v, {}, {sv}); });
      for (const DPlan& st : stores) c.push_back([this, st, sv] { emit_dma(st, {sv}, {}); });
    }
    return true;
  }

  // broadcast load (signals the id in every tile) -> one consumer per tile,
  // or one tile=all consumer
  bool chain_bcast(Chain& c) {
    const unsigned s = P(0.7) ? kSp : kAcc;
    const unsigned kind = unsigned(U(0, 2));
    std::vector<VPlan> vecs;
    std::vector<MPlan> mms;
    std::vector<int> nops;  // tiles with a nop consumer (kAll: one nop tile=all)
    uint64_t need = 1;
    if (kind == 0) {
      VPlan p;
      Opcode op = rand_vec_op(kAll);
      if (!plan_vec(p, op, kAll, int(s))) return false;
      need = p.a_bytes;
      vecs.push_back(p);
    } else if (kind == 1) {
      for (unsigned t = 0; t < T_; ++t) {
        const uint64_t r = U(0, 3);
        if (r < 2) {
          VPlan p;
          if (!plan_vec(p, rand_vec_op(int(t)), int(t), int(s))) return false;
          need = std::max(need, p.a_bytes);
          vecs.push_back(p);
        } else if (r == 2 && s == kSp) {
          MPlan m;
          plan_mm(m, int(t));
          need = std::max(need, m.act_bytes());
          mms.push_back(m);
        } else {
          nops.push_back(int(t));
        }
      }
    } else {
      need = U(1, 1024);
      nops.push_back(kAll);
    }
    DPlan d;
    if (!place_load(d, kAll, s, need, valign(s), false)) return false;
    const int id = sem_local(kAll);
    if (!id) return false;
    for (VPlan& p : vecs) {
      p.a = d.sram;
      if (!bind_vec(p, true)) return false;
    }
    for (MPlan& m : mms) {
      m.act = d.sram;
      m.wgt = src_addr(m.tile, kSp, m.wgt_bytes(), 1, true);
      m.acc = alloc(m.tile, kAcc, m.acc_bytes(), 4, true);
      if (m.wgt == kFail || m.acc == kFail) return false;
    }
    c.push_back([this, d, id] { emit_dma(d, {}, {id}); });
    std::vector<Stage> cons;
    for (const VPlan& p : vecs) cons.push_back([this, p, id] { emit_vec(p, {id}, {}); });
    for (const MPlan& m : mms) cons.push_back([this, m, id] { emit_mm(m, {id}, {}); });
    for (int t : nops) cons.push_back([this, t, id] { emit_line("nop" + hdr(t, {id}, {})); });
    shuffle(cons);
    for (auto& x : cons) c.push_back(x);
    return true;
  }

  // one load, two consumers: signal=sA,sB -> vector op (wait sA), matmul (wait sB)
  bool chain_fanout(Chain& c) {
    const int tile = rand_tile();
    VPlan v;
    Opcode op = rand_vec_op(tile);
    if (!plan_vec(v, op, tile, int(kSp))) return false;
    MPlan m;
    plan_mm(m, tile);
    const uint64_t need = std::max(v.a_bytes, m.act_bytes());
    DPlan d;
    if (!place_load(d, tile, kSp, need, valign(kSp), false)) return false;
    v.a = m.act = d.sram;
    if (!bind_vec(v, true)) return false;
    m.wgt = src_addr(tile, kSp, m.wgt_bytes(), 1, true);
    m.acc = alloc(tile, kAcc, m.acc_bytes(), 4, true);
    if (m.wgt == kFail || m.acc == kFail) return false;
    const int sa = sem(tile), sb = sem(tile);
    if (!sa || !sb) return false;
    c.push_back([this, d, sa, sb] { emit_dma(d, {}, {sa, sb}); });
    Stage x = [this, v, sa] { emit_vec(v, {sa}, {}); };
    Stage y = [this, m, sb] { emit_mm(m, {sb}, {}); };
    if (P(0.5)) std::swap(x, y);
    c.push_back(x);
    c.push_back(y);
    return true;
  }

  // load -> store -> load back from the stored DRAM (maybe into another tile)
  bool chain_readback(Chain& c) {
    const int t = rand_tile();
    const unsigned s = P(0.7) ? kSp : kAcc;
    DPlan l1;
    if (!place_load(l1, t, s, U(1, 768), 1, true)) return false;
    const DPlan st = store_of(t, {s, l1.sram, l1.sext()});
    const int s1 = sem(t);
    const int t2 = P(0.5) ? rand_tile() : t;
    const int s2 = t2 == t ? sem(t) : sem_global();
    if (!s1 || !s2) return false;
    // read back all or part of the stored area
    DPlan l2;
    l2.tile = t2;
    l2.space = P(0.7) ? kSp : kAcc;
    const uint64_t ext = st.dext();
    const uint64_t off = P(0.5) ? 0 : U(0, ext - 1);
    if (P(0.5) || ext - off < 2) {
      l2.bytes = ext - off;
    } else {
      l2.rows = U(2, std::min<uint64_t>(4, ext - off));
      l2.bytes = U(1, (ext - off) / l2.rows);
      l2.dstride = U(0, (ext - off - l2.bytes) / (l2.rows - 1));
      l2.sstride = l2.bytes + U(0, 16);
    }
    l2.dram = st.dram + off;
    l2.sram = alloc(t2, l2.space, l2.sext(), 1, true);
    if (l2.sram == kFail) return false;
    c.push_back([this, l1, s1] { emit_dma(l1, {}, {s1}); });
    c.push_back([this, st, s1, s2] { emit_dma(st, {s1}, {s2}); });
    c.push_back([this, l2, s2] { emit_dma(l2, {s2}, {}); });
    return true;
  }

  // vector op writes matmul operands -> matmul (wait) -> [store of the result]
  bool chain_vec_mm(Chain& c) {
    const int tile = rand_tile();
    MPlan m;
    plan_mm(m, tile);
    const bool as_act = P(0.6);
    const uint64_t need = as_act ? m.act_bytes() : m.wgt_bytes();
    VPlan v;
    bool ok = false;
    for (int tries = 0; tries < 4 && !ok; ++tries) {
      const Opcode op = rand_vec_op(tile);
      ok = op != Opcode::LutLoad && !is_reduction(op) && plan_vec(v, op, tile, -1, int(kSp), need);
    }
    if (!ok && !plan_vec(v, Opcode::VMov, tile, -1, int(kSp), need)) return false;
    if (!bind_vec(v)) return false;
    (as_act ? m.act : m.wgt) = v.d;
    uint64_t& other = as_act ? m.wgt : m.act;
    other = src_addr(tile, kSp, as_act ? m.wgt_bytes() : m.act_bytes(), 1, true);
    m.acc = alloc(tile, kAcc, m.acc_bytes(), 4, true);
    if (other == kFail || m.acc == kFail) return false;
    const int sv = sem(tile);
    const bool store = P(0.6);
    const int sm = store ? sem(tile) : 0;
    if (!sv || (store && !sm)) return false;
    c.push_back([this, v, sv] { emit_vec(v, {}, {sv}); });
    c.push_back([this, m, sv, sm] { emit_mm(m, {sv}, {sm}); });
    if (store) {
      const DPlan d = store_of_result(m);
      c.push_back([this, d, sm] { emit_dma(d, {sm}, {}); });
    }
    return true;
  }

  // synchronisation through the controller: vector op -> nop / ctx.* wait,
  // nop / ctx.* signal -> vector op or matmul, two producers -> one nop
  bool chain_control(Chain& c) {
    const int tile = rand_tile();
    const unsigned kind = unsigned(U(0, 2));
    auto ctrl = [this](int t, std::vector<int> w, std::vector<int> s) {
      if (P(0.7)) {
        emit_line("nop" + hdr(t, w, s));
      } else {
        const int r = int(U(1, 7));
        const int64_t v = int64_t(U(0, 1 << 16));
        emit_line(strf("ctx.set%s reg=c%d value=%lld", hdr(t, w, s).c_str(), r, (long long)v));
        ctx_[r] = v;
      }
    };
    if (kind == 0 || kind == 2) {
      const unsigned n = kind == 0 ? 1 : 2;
      std::vector<int> ids;
      for (unsigned i = 0; i < n; ++i) {
        VPlan p;
        Opcode op = rand_vec_op(tile);
        const bool mm = kind == 2 && i == 1 && P(0.5);
        if (mm) {
          MPlan m;
          plan_mm(m, tile);
          m.act = src_addr(tile, kSp, m.act_bytes(), 1, true);
          m.wgt = src_addr(tile, kSp, m.wgt_bytes(), 1, true);
          m.acc = alloc(tile, kAcc, m.acc_bytes(), 4, true);
          const int id = sem(tile);
          if (m.act == kFail || m.wgt == kFail || m.acc == kFail || !id) return false;
          ids.push_back(id);
          c.push_back([this, m, id] { emit_mm(m, {}, {id}); });
          continue;
        }
        if (!plan_vec(p, op, tile) || !bind_vec(p)) return false;
        const int id = sem(tile);
        if (!id) return false;
        ids.push_back(id);
        c.push_back([this, p, id] { emit_vec(p, {}, {id}); });
      }
      c.push_back([ctrl, tile, ids] { ctrl(tile, ids, {}); });
    } else {
      const int id = sem(tile);
      VPlan p;
      if (!id || !plan_vec(p, rand_vec_op(tile), tile) || !bind_vec(p)) return false;
      c.push_back([ctrl, tile, id] { ctrl(tile, {}, {id}); });
      c.push_back([this, p, id] { emit_vec(p, {id}, {}); });
    }
    return true;
  }

  // ---- scheduling
  bool create() {
    struct Kind {
      unsigned weight;
      bool (Generator::*make)(Chain&);
    };
    static const Kind kinds[] = {
        {22, &Generator::item_vec},         {8, &Generator::item_mm},
        {8, &Generator::item_load},         {5, &Generator::item_control},
        {12, &Generator::chain_load_vec_store}, {10, &Generator::chain_mm},
        {6, &Generator::chain_vec_store},   {4, &Generator::chain_lut},
        {5, &Generator::chain_bcast},       {4, &Generator::chain_fanout},
        {4, &Generator::chain_readback},    {4, &Generator::chain_vec_mm},
        {3, &Generator::chain_control},
    };
    unsigned total = 0;
    for (const Kind& k : kinds) total += k.weight;
    uint64_t r = U(0, total - 1);
    const Kind* k = kinds;
    while (r >= k->weight) r -= (k++)->weight;
    const State saved = st_;
    Chain c;
    if (!(this->*(k->make))(c)) {
      st_ = saved;
      return false;
    }
    pending_.emplace_back(c.begin(), c.end());
    return true;
  }

  void advance() {
    const size_t i = U(0, pending_.size() - 1);
    Stage s = std::move(pending_[i].front());
    pending_[i].pop_front();
    if (pending_[i].empty()) pending_.erase(pending_.begin() + long(i));
    s();
  }
};

}  // namespace

std::string random_program(const hw::HwConfig& hw, uint64_t seed, unsigned epochs) {
  return Generator(hw, seed).run(epochs);
}

}  // namespace clonesim::cosim
