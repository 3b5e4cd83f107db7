#include "lower/prefill_program.h"

#include <algorithm>
#include <deque>
#include <map>
#include <numeric>

#include "common/error.h"
#include "common/strf.h"
#include "isa/isa.h"
#include "lower/attention.h"
#include "lower/ffn.h"
#include "lower/linear.h"
#include "lower/norm.h"
#include "lower/program_builder.h"
#include "lower/weight_image.h"

namespace clonesim::compiler {

using isa::Field;
using isa::Opcode;

namespace {

using ull = unsigned long long;
constexpr int SP = isa::kScratchpad, ACC = isa::kAccumulator;
constexpr unsigned kAll = isa::kAllTiles;
constexpr unsigned kExpLut = 0, kActLut = 1;
constexpr unsigned kPhaseDone = 16;  // global: the last stores of a phase, one signal per tile with work

// Rows [first, first + count) of tile t when n rows are split into contiguous ranges.
std::pair<uint64_t, uint64_t> row_range(uint64_t n, unsigned tiles, unsigned t) {
  const uint64_t base = n / tiles, extra = n % tiles;
  const uint64_t first = t * base + std::min<uint64_t>(t, extra);
  return {first, base + (t < extra)};
}

// A buffer that may span banks (matmul operands and DMA transfers may; vector
// operands may not): in one bank when it fits, else whole empty banks in a row.
uint64_t alloc_span(SramArena& a, uint64_t bytes, const std::string& name, const std::string& space) {
  if (bytes <= a.bank_bytes()) return a.alloc(bytes, 0, name);
  const uint64_t need = (bytes + a.bank_bytes() - 1) / a.bank_bytes();
  for (uint32_t b0 = 0; b0 + need <= a.banks(); ++b0) {
    bool empty = true;
    for (uint32_t b = b0; b < b0 + need; ++b) empty &= a.free_in_bank(b) == a.bank_bytes();
    if (!empty) continue;
    uint64_t left = bytes, first = 0;
    for (uint32_t b = b0; left > 0; ++b) {
      const uint64_t take = std::min(left, a.bank_bytes());
      const uint64_t at = a.alloc_in_bank(b, take, 0, name);
      if (b == b0) first = at;
      left -= take;
    }
    return first;
  }
  throw Error(strf("%s: %s needs %llu bytes in %llu empty banks in a row; there are none (banks of %llu bytes)",
                   space.c_str(), name.c_str(), (ull)bytes, (ull)need, (ull)a.bank_bytes()));
}

// Tile-local semaphores of one phase: phases are separated by barriers and
// balance their own semaphores, so every phase numbers them from 1.
struct PhaseSems {
  unsigned next = 1;
  unsigned get(const std::string& why) {
    if (next > 15) throw Error("out of tile-local semaphores (15) at " + why);
    return next++;
  }
};

// The instructions of one phase, one tile's stream at a time, each with the
// key that places it among the other tiles' (stable: equal keys keep their
// generation order).  The sort moves 16-byte keys, not the instructions.
class Stream {
 public:
  explicit Stream(bool notes = true) : notes_(notes) {}
  void add(int64_t key, unsigned tile, const Ins& ins, std::string note = "") {
    const uint64_t seq = ins_.size();
    if (seq >= (uint64_t(1) << 48)) throw Error("a phase beyond 2^48 instructions");
    keys_.push_back({key, uint64_t(tile) << 48 | seq});
    ins_.push_back(ins.get());
    if (notes_) notes_of_.push_back(std::move(note));
  }
  void flush(ProgramBuilder& b) {
    std::sort(keys_.begin(), keys_.end());  // (key, tile, seq): seq is unique, so the order is total
    static const std::string none;
    for (const auto& [key, ts] : keys_) {
      const uint64_t seq = ts & ((uint64_t(1) << 48) - 1);
      Ins w(ins_[seq].op);
      const_cast<isa::Instruction&>(w.get()) = ins_[seq];
      b.emit(w, notes_ ? notes_of_[seq] : none);
    }
    // release the memory (assigning {} would keep the capacity)
    std::vector<std::pair<int64_t, uint64_t>>().swap(keys_);
    std::vector<isa::Instruction>().swap(ins_);
    std::vector<std::string>().swap(notes_of_);
  }

 private:
  bool notes_;
  std::vector<std::pair<int64_t, uint64_t>> keys_;  // key, tile << 48 | seq
  std::vector<isa::Instruction> ins_;
  std::vector<std::string> notes_of_;
};

// ---- GEMM jobs ------------------------------------------------------------------

enum class OutKind { Int8, Residual, Logits, Gated, PlainAct };

struct GLin {
  const golden::QLinear* q = nullptr;
  std::string name;
  LinearForm form;
  bool int4 = false;
  uint64_t K = 0, N = 0;
  std::vector<uint64_t> col0, cols;  // per tile
  uint64_t y_dram = 0, y_pitch = 0;  // Int8 outputs: base and row pitch (bytes)
};

struct Slot {
  int lin = -1;
  uint64_t c = 0, n = 0;  // absolute first column of the linear, columns
};

struct GStep {
  uint64_t p0 = 0, p1 = 0;               // pieces [p0, p1)
  uint64_t w_off = 0, w_bytes = 0;       // in the tile's weight image
  uint64_t t_off = 0, t_bytes = 0;       // in the tile's table image
  std::vector<int64_t> unit_tab;         // per (piece - p0) * 2 + slot: offset in the slot's part, -1: none
  uint64_t t_part[2] = {0, 0};           // the step's table: slot 0's entries, then slot 1's (each its own load)
};

struct GPair {
  Slot s[2];
  int ns = 1;
  std::vector<GStep> steps;
};

struct GemmJob {
  std::string name;
  OutKind kind = OutKind::Int8;
  std::vector<GLin> lins;
  uint64_t K = 0, rows = 0, x_dram = 0;
  uint64_t out_dram = 0, out_pitch = 0;  // Residual / Logits / Gated / PlainAct outputs
  unsigned product_shift = 0;
  const std::vector<int16_t>* act_table = nullptr;
  uint64_t act_dram = 0;                 // the activation table (Gated, PlainAct)
  // the plan
  uint64_t mb = 0, nc = 0, piece = 0, pieces = 0, gc = 0;
  std::vector<std::vector<GPair>> pairs;  // per tile
  std::vector<uint64_t> w_off, t_off;     // per tile, in the job's images
  uint64_t w_bytes = 0, t_bytes = 0, wbuf = 0, tbuf = 0;
  uint64_t w_dram = 0, tab_dram = 0;
  std::string why;

  bool group_wise() const { return lins.front().form.group != 0; }
  bool needs_T() const {
    for (const GLin& l : lins)
      if (!l.form.plain()) return true;
    return false;
  }
  uint64_t piece_rows(uint64_t p) const { return std::min(piece, K - p * piece); }
};

// ---- the generator ------------------------------------------------------------------

class Gen {
 public:
  Gen(const golden::QuantModel& qm, const hw::HwConfig& hw, const std::vector<int64_t>& tokens,
      const PrefillOptions& opt)
      : qm_(qm), cfg_(qm.cfg), hw_(hw), tokens_(tokens), opt_(opt),
        b_("prefill " + (qm.cfg.name.empty() ? std::string("model") : qm.cfg.name)) {}

  PrefillProgram run() {
    check();
    N_ = tokens_.size();
    plan_all();
    place_dram();
    if (!opt_.listing || estimated_instructions_ > opt_.listing_limit) b_.keep_comments(false);
    emit_all();
    b_.emit(Ins(Opcode::Halt));
    if (opt_.listing) out_.listing = b_.listing();
    if (chunks_.empty()) {
      out_.program = b_.take_program();
    } else {
      // the phases' pieces into one program, each freed once copied: at the peak, one program and a piece
      chunks_.push_back(b_.take_code());
      out_.program = b_.take_program();
      size_t total = 0;
      for (const auto& c : chunks_) total += c.size();
      out_.program.code.reserve(total);
      for (auto& c : chunks_) {
        out_.program.code.insert(out_.program.code.end(), c.begin(), c.end());
        std::vector<isa::Instruction>().swap(c);  // freed as soon as copied
      }
      chunks_.clear();
    }
    out_.tokens = N_;
    out_.timing_only = qm_.shapes_only;
    if (!qm_.shapes_only) build_image();
    describe();
    return std::move(out_);
  }

 private:
  // ---- checks ---------------------------------------------------------------
  void check() {
    if (tokens_.empty()) throw Error("the prompt is empty");
    if (cfg_.pos != PosKind::Rotary) throw Error("learned positions: not supported yet (the prefill applies RoPE)");
    if (qm_.rotary_dim != cfg_.head_dim)
      throw Error(strf("partial rotary (%lld of %lld dims): not supported yet", (long long)qm_.rotary_dim,
                       (long long)cfg_.head_dim));
    if (cfg_.parallel_block) throw Error("parallel_block: not supported yet");
    if (int64_t(tokens_.size()) > qm_.position_limit)
      throw Error(strf("%zu tokens: beyond max_positions %lld", tokens_.size(), (long long)qm_.position_limit));
    if (cfg_.sliding_window > 0 && int64_t(tokens_.size()) > cfg_.sliding_window)
      throw Error(strf("sliding window %lld: a prompt of %zu tokens needs it, the prefill attends to every position",
                       (long long)cfg_.sliding_window, tokens_.size()));
    for (int64_t t : tokens_)
      if (t < 0 || t >= cfg_.vocab) throw Error(strf("token %lld is outside the vocabulary", (long long)t));
    if (qm_.recipe.weights == WeightType::Int4 && !hw_.mxu.supports(hw::WeightType::Int4))
      throw Error("int4 weights: the design point's matrix unit does not support them");
    const uint64_t hd = uint64_t(cfg_.head_dim);
    if (hd % hw_.mxu.cols || hd % hw_.mxu.rows || hd % hw_.vxu.lanes || hd % 2)
      throw Error(strf("attention: head dim %llu must be a multiple of the array's %u x %u and the %u lanes", (ull)hd,
                       hw_.mxu.rows, hw_.mxu.cols, hw_.vxu.lanes));
  }

  // ---- GEMM planning -------------------------------------------------------------
  GLin glin(const golden::QLinear& l, const std::string& name) {
    GLin g;
    g.q = &l;
    g.name = name;
    g.form = linear_form(l);
    g.int4 = l.type == WeightType::Int4;
    g.K = uint64_t(l.k);
    g.N = uint64_t(l.n);
    const uint64_t L = hw_.vxu.lanes;
    if (g.N % L) throw Error(strf("%s: N = %llu is not a multiple of the %llu vector lanes", name.c_str(), (ull)g.N, (ull)L));
    if (g.form.group > 4095) throw Error(strf("%s: groups of %llu rows exceed one matmul (4095)", name.c_str(), (ull)g.form.group));
    const uint64_t groups = g.N / L, T = std::min<uint64_t>(hw_.tiles, groups);
    g.col0.assign(hw_.tiles, 0);
    g.cols.assign(hw_.tiles, 0);
    for (uint64_t t = 0, c = 0; t < T; ++t) {
      const uint64_t n = (groups / T + (t < groups % T)) * L;
      g.col0[t] = c;
      g.cols[t] = n;
      c += n;
    }
    return g;
  }

  // Bytes of one step's table for a pair (gc pieces).
  uint64_t table_bytes_per_piece(const GemmJob& j, uint64_t nc) const {
    const bool bias = std::any_of(j.lins.begin(), j.lins.end(), [](const GLin& l) { return l.form.bias; });
    return 2 * (8 * nc + (bias ? 4 * nc : 0));
  }

  void plan_gemm(GemmJob& j) {
    const uint64_t R = hw_.mxu.rows, C = hw_.mxu.cols, L = hw_.vxu.lanes, T = hw_.tiles;
    const uint64_t u0 = std::max<uint64_t>(L, C) % std::min<uint64_t>(L, C) == 0 ? std::max<uint64_t>(L, C)
                                                                                   : L * C;
    const uint64_t sp_total = hw_.scratchpad.total_bytes(), acc_total = hw_.accumulator.total_bytes();
    const uint64_t sp_bank = hw_.scratchpad.bank_bytes(), acc_bank = hw_.accumulator.bank_bytes();
    const bool gw = j.group_wise(), int4 = j.lins.front().int4;
    uint64_t most_cols = 0;
    for (const GLin& l : j.lins) most_cols = std::max(most_cols, *std::max_element(l.cols.begin(), l.cols.end()));
    // the weight buffer: a bank or an eighth of the scratchpad
    const uint64_t wb_target = std::max<uint64_t>(std::min(sp_bank, sp_total / 8), 256);
    // rows per block: the input block takes at most half the scratchpad
    uint64_t mb = std::min<uint64_t>(j.rows, std::max<uint64_t>(1, sp_total / 2 / j.K));
    if (opt_.max_row_block) mb = std::min(mb, opt_.max_row_block);
    if (j.K > sp_total / 2)
      throw Error(strf("%s: scratchpad: gemm input: one row of %llu bytes exceeds half the scratchpad (%llu bytes)",
                       j.name.c_str(), (ull)j.K, (ull)sp_total));
    const uint64_t per_elem = 4 * (2 + (j.needs_T() ? 2 : 0) +
                                   (j.kind == OutKind::Residual || j.kind == OutKind::Logits ? 2 : 0) +
                                   (j.kind == OutKind::Gated ? 1 : 0));
    for (;; mb = (mb + 1) / 2) {
      uint64_t best = 0, best_gc = 0, best_piece = 0;
      std::string last_error;
      for (uint64_t nc = std::min<uint64_t>(std::max(most_cols, u0), 4095 / u0 * u0); nc >= u0; nc -= u0) {
        if (4 * mb * nc > acc_bank) continue;
        // rows per piece: a group, or (per channel) a chunk of K (a multiple of the array rows, <= 4095)
        uint64_t piece = gw ? std::min<uint64_t>(j.lins.front().form.group, j.K) : std::min<uint64_t>(j.K, 4095 / R * R);
        const auto pair_bytes = [&](uint64_t rows) { return 2 * weight_image_bytes(rows, nc, R, C, int4); };
        if (!gw)
          while (piece > R && pair_bytes(piece) > wb_target) piece -= R;
        if (!gw && piece > j.K) piece = j.K;
        const uint64_t gc = std::max<uint64_t>(1, wb_target / std::max<uint64_t>(1, pair_bytes(piece)));
        const uint64_t pieces = (j.K + piece - 1) / piece;
        // pieces per load: as many as fill the weight buffer; when their tables do not fit beside the results,
        // fewer (down to 2), rather than narrower column blocks (more instructions per MAC)
        uint64_t g = std::min(gc, pieces);
        const uint64_t g_min = std::min<uint64_t>(g, 2);
        bool placed = false;
        for (;; --g) {
          const uint64_t tab = g * table_bytes_per_piece(j, nc) / 2;  // one slot's part
          try {
            if (tab > acc_bank) throw Error("tables beyond a bank");
            SramArena tsp(hw_.scratchpad, "scratchpad"), tacc(hw_.accumulator, "accumulator");
            place_gemm(j, mb, nc, std::max<uint64_t>(pair_bytes(piece) * g, 1), std::max<uint64_t>(tab, 4), tsp, tacc);
            placed = true;
            break;
          } catch (const Error& e) {
            if (nc == u0 && g == g_min) last_error = e.what();
          }
          if (g == g_min) break;
        }
        if (!placed) continue;
        // the largest n_c that fits; among those down to 3/4 of it, one that gives every tile an even
        // number of column blocks per linear (pairs of blocks alternate the accumulator banks; a lone
        // block's units use both)
        const auto even = [&](uint64_t c) {
          if (j.kind == OutKind::Gated) return true;
          for (const GLin& l : j.lins)
            for (uint64_t n : l.cols)
              if (((n + c - 1) / c) % 2) return false;
          return true;
        };
        if (!best) {
          best = nc;
          best_gc = g;
          best_piece = piece;
          if (even(nc)) break;
          continue;
        }
        if (4 * nc < 3 * best) break;
        if (even(nc)) {
          best = nc;
          best_gc = g;
          best_piece = piece;
          break;
        }
      }
      if (best) {
        j.mb = mb;
        j.nc = best;
        j.gc = best_gc;
        j.piece = best_piece;
        j.pieces = (j.K + best_piece - 1) / best_piece;
        break;
      }
      if (mb == 1)
        throw Error(last_error.empty() ? strf("accumulator: %s: matmul results, T and outputs of one row of %llu "
                                              "columns: the GEMM needs %llu bytes, the accumulator has %llu",
                                              j.name.c_str(), (ull)u0, (ull)(per_elem * u0), (ull)acc_total)
                                       : last_error);
    }
    // pairs of column blocks per tile
    j.pairs.assign(T, {});
    j.w_off.assign(T, 0);
    j.t_off.assign(T, 0);
    for (unsigned t = 0; t < T; ++t) {
      std::vector<GPair>& ps = j.pairs[t];
      if (j.kind == OutKind::Gated) {
        const GLin& g = j.lins[0];
        for (uint64_t c = 0; c < g.cols[t]; c += j.nc) {
          GPair p;
          p.ns = 2;
          const uint64_t n = std::min(j.nc, g.cols[t] - c);
          p.s[0] = {0, g.col0[t] + c, n};
          p.s[1] = {1, j.lins[1].col0[t] + c, n};
          ps.push_back(p);
        }
      } else {
        for (size_t li = 0; li < j.lins.size(); ++li) {
          const GLin& l = j.lins[li];
          std::vector<Slot> blocks;
          for (uint64_t c = 0; c < l.cols[t]; c += j.nc) blocks.push_back({int(li), l.col0[t] + c, std::min(j.nc, l.cols[t] - c)});
          for (size_t b = 0; b < blocks.size(); b += 2) {
            GPair p;
            p.s[0] = blocks[b];
            p.ns = b + 1 < blocks.size() ? 2 : 1;
            if (p.ns == 2) p.s[1] = blocks[b + 1];
            ps.push_back(p);
          }
        }
      }
    }
    // steps and image offsets
    uint64_t w_off = 0, t_off = 0;
    for (unsigned t = 0; t < T; ++t) {
      j.w_off[t] = w_off;
      j.t_off[t] = t_off;
      uint64_t tw = 0, tt = 0;
      for (GPair& p : j.pairs[t]) {
        for (uint64_t p0 = 0; p0 < j.pieces; p0 += j.gc) {
          GStep s;
          s.p0 = p0;
          s.p1 = std::min(j.pieces, p0 + j.gc);
          s.w_off = tw;
          s.t_off = tt;
          s.unit_tab.assign(2 * (s.p1 - s.p0), -1);
          for (uint64_t q = s.p0; q < s.p1; ++q)
            for (int sl = 0; sl < p.ns; ++sl)
              s.w_bytes += weight_image_bytes(j.piece_rows(q), p.s[sl].n, R, C, j.lins[size_t(p.s[sl].lin)].int4);
          for (int sl = 0; sl < p.ns; ++sl)
            for (uint64_t q = s.p0; q < s.p1; ++q) {
              const GLin& l = j.lins[size_t(p.s[sl].lin)];
              const bool last = q + 1 == j.pieces;
              if (gw || last) {
                s.unit_tab[size_t((q - s.p0) * 2 + uint64_t(sl))] = int64_t(s.t_part[sl]);
                const uint64_t b = 8 * p.s[sl].n + (last && l.form.bias ? 4 * p.s[sl].n : 0);
                s.t_part[sl] += b;
                s.t_bytes += b;
              }
            }
          tw += s.w_bytes;
          tt += s.t_bytes;
          j.wbuf = std::max(j.wbuf, s.w_bytes);
          j.tbuf = std::max(j.tbuf, std::max(s.t_part[0], s.t_part[1]));
          p.steps.push_back(s);
        }
      }
      w_off += tw;
      t_off += tt;
    }
    j.w_bytes = w_off;
    j.t_bytes = t_off;
    const uint64_t macs_per_mm = j.mb * std::min(j.piece, j.K) * j.nc;
    j.why = strf("%s: GEMM K %llu, %zu linear(s)%s; rows in blocks of %llu (input block %llu B, at most half the "
                 "scratchpad), columns in blocks of %llu per tile (the largest with M_b x n_c int32 results, T and "
                 "outputs double-buffered in the accumulator), %s of %llu rows, %llu per weight load (%llu B "
                 "buffers, double-buffered); %llu MACs per matmul",
                 j.name.c_str(), (ull)j.K, j.lins.size(), int4 ? " int4" : " int8", (ull)j.mb, (ull)(j.mb * j.K),
                 (ull)j.nc, gw ? "groups" : "K chunks", (ull)j.piece, (ull)j.gc, (ull)j.wbuf, (ull)macs_per_mm);
  }

  // ---- the model's jobs ---------------------------------------------------------
  struct LayerJobs {
    GemmJob qkv, o, up, down;
  };

  void plan_all() {
    const uint64_t H = uint64_t(cfg_.hidden);
    for (size_t i = 0; i < qm_.layers.size(); ++i) {
      const golden::QLayer& Q = qm_.layers[i];
      const std::string p = "layers." + std::to_string(i) + ".";
      LayerJobs L;
      L.qkv.name = p + "qkv";
      L.qkv.kind = OutKind::Int8;
      L.qkv.lins = {glin(Q.q, p + "q"), glin(Q.k, p + "k"), glin(Q.v, p + "v")};
      L.qkv.K = H;
      L.o.name = p + "o";
      L.o.kind = OutKind::Residual;
      L.o.lins = {glin(Q.o, p + "o")};
      L.o.K = uint64_t(Q.o.k);
      if (cfg_.gated_ffn) {
        L.up.name = p + "gate_up";
        L.up.kind = OutKind::Gated;
        L.up.lins = {glin(Q.gate, p + "gate"), glin(Q.up, p + "up")};
        L.up.product_shift = Q.product_shift;
        L.down.name = p + "down";
        L.down.lins = {glin(Q.down, p + "down")};
        L.down.K = uint64_t(Q.down.k);
      } else {
        L.up.name = p + "fc1";
        L.up.kind = OutKind::PlainAct;
        L.up.lins = {glin(Q.fc1, p + "fc1")};
        L.down.name = p + "fc2";
        L.down.lins = {glin(Q.fc2, p + "fc2")};
        L.down.K = uint64_t(Q.fc2.k);
      }
      L.up.act_table = &Q.act_table;
      L.up.K = H;
      L.down.kind = OutKind::Residual;
      for (GemmJob* j : {&L.qkv, &L.o, &L.up, &L.down}) {
        j->rows = N_;
        for (const GLin& l : j->lins)
          if (l.int4 != j->lins.front().int4 || l.form.group != j->lins.front().form.group)
            throw Error(j->name + ": its linears mix weight forms");
        plan_gemm(*j);
      }
      jobs_.push_back(std::move(L));
    }
    head_.name = "lm_head";
    head_.kind = OutKind::Logits;
    head_.lins = {glin(qm_.lm_head, "lm_head")};
    head_.K = H;
    head_.rows = 1;
    plan_gemm(head_);
    // rough instruction count (to decide on comments)
    uint64_t mm = 0;
    for (const LayerJobs& L : jobs_)
      for (const GemmJob* j : {&L.qkv, &L.o, &L.up, &L.down}) {
        uint64_t units = 0;
        for (const auto& ps : j->pairs)
          for (const GPair& p : ps) units += uint64_t(p.ns) * j->pieces;
        mm += units * ((N_ + j->mb - 1) / j->mb);
      }
    const uint64_t hd = uint64_t(cfg_.head_dim);
    estimated_instructions_ = 4 * mm + N_ * uint64_t(cfg_.heads) * (10 + hd / hw_.mxu.cols) * qm_.layers.size() +
                              N_ * 3 * uint64_t(cfg_.heads) * 4 * qm_.layers.size();
  }

  // ---- DRAM ------------------------------------------------------------------------
  void place_dram() {
    DramMap& m = out_.map;
    const uint64_t H = uint64_t(cfg_.hidden), V = uint64_t(cfg_.vocab), hd = uint64_t(cfg_.head_dim);
    auto images = [&](GemmJob& j) {
      j.w_dram = m.alloc(j.name + " weights (prefill image)", std::max<uint64_t>(1, j.w_bytes));
      j.tab_dram = m.alloc(j.name + " tables (prefill image)", std::max<uint64_t>(1, j.t_bytes));
    };
    for (LayerJobs& L : jobs_)
      for (GemmJob* j : {&L.qkv, &L.o, &L.up, &L.down}) images(*j);
    images(head_);
    embed_ = m.alloc("embedding rows (int8)", V * H);
    embed_mult_ = m.alloc("embedding multipliers (int32)", 4 * V);
    uint64_t qmax = 0, kvmax = 0, fmax = 0;
    for (size_t i = 0; i < qm_.layers.size(); ++i) {
      const golden::QLayer& Q = qm_.layers[i];
      const std::string p = "layers." + std::to_string(i) + ".";
      attn_norm_.push_back(m.alloc(p + "attn_norm", norm_params_bytes(H, cfg_.norm == NormKind::LayerNorm)));
      ffn_norm_.push_back(m.alloc(p + "ffn_norm", norm_params_bytes(H, cfg_.norm == NormKind::LayerNorm)));
      act_.push_back(m.alloc(p + "activation table", 512));
      exp_.push_back(m.alloc(p + "exp table", 512));
      qmax = std::max(qmax, uint64_t(Q.dims.q_heads));
      kvmax = std::max(kvmax, uint64_t(Q.dims.kv_heads));
      fmax = std::max(fmax, uint64_t(Q.dims.ffn));
    }
    if (cfg_.final_norm) final_norm_ = m.alloc("final_norm", norm_params_bytes(H, cfg_.norm == NormKind::LayerNorm));
    for (size_t i = 0; i < qm_.layers.size(); ++i) {
      const std::string p = "layers." + std::to_string(i) + ".";
      DecodeLayerMap l;
      l.attn.q_heads = uint64_t(qm_.layers[i].dims.q_heads);
      l.attn.kv_heads = uint64_t(qm_.layers[i].dims.kv_heads);
      l.attn.hd = hd;
      l.attn.max_pos = uint64_t(qm_.position_limit);
      l.k_cache = m.alloc(p + "K cache", std::max<uint64_t>(1, k_cache_bytes(l.attn)));
      l.v_cache = m.alloc(p + "V cache", std::max<uint64_t>(1, v_cache_bytes(l.attn)));
      out_.layers.push_back(l);
    }
    kt_ = m.alloc("keys of a layer, transposed (K^T per KV head, tile-major)", std::max<uint64_t>(1, kvmax * npad() * hd));
    cos_ = m.alloc("RoPE cos, positions 0..N-1 (Q14 int32, one head)", 4 * N_ * hd);
    sin_ = m.alloc("RoPE sin, positions 0..N-1 (Q14 int32, one head)", 4 * N_ * hd);
    resid_ = m.alloc("residual stream rows (int32)", 4 * N_ * H);
    xn_ = m.alloc("norm output rows (int8)", N_ * H);
    q_ = m.alloc("q rows", N_ * qmax * hd);
    k_ = m.alloc("k rows", N_ * kvmax * hd);
    v_ = m.alloc("v rows", N_ * kvmax * hd);
    qrot_ = m.alloc("q rows after RoPE", N_ * qmax * hd);
    attn_ = m.alloc("attention output rows", N_ * qmax * hd);
    act_rows_ = m.alloc("FFN activation rows", N_ * fmax);
    xlast_ = m.alloc("final norm of the last row", H);
    out_.logits = m.alloc("logits of the last token (int32)", 4 * V);
  }

  // ---- phases -------------------------------------------------------------------------
  void barrier(unsigned signals, const std::string& what) {
    for (unsigned i = 0; i < signals; ++i)
      b_.emit(Ins(Opcode::Nop).wait(kPhaseDone), i == 0 ? "barrier: " + what + " in DRAM" : "");
  }

  // A 1-element vector op on a scratch slot: waits or signals for the vector unit.
  Ins vnop(unsigned t, uint64_t slot) const { return vec(Opcode::VMov, t, slot, ACC, slot, ACC, 1); }

  // The embedding rows of the prompt widened into the residual rows.
  void emit_embedding_phase() {
    const uint64_t H = uint64_t(cfg_.hidden);
    b_.section("==== embedding: the prompt's rows into the residual stream (rows split over the tiles)");
    SramArena sp(hw_.scratchpad, "scratchpad"), acc(hw_.accumulator, "accumulator");
    const uint64_t slot = lane_slot();
    const uint64_t e = sp.alloc(H, 0, "embedding: token row");
    const uint64_t x = acc.alloc(4 * H, 0, "embedding: widened row");
    const uint64_t m = acc.alloc(slot, slot, "embedding: multiplier");
    PhaseSems ps;
    const unsigned sIn = ps.get("row loaded"), sOut = ps.get("row widened"), sFree = ps.get("buffers free");
    Stream st(b_.keeps_comments());
    unsigned workers = 0;
    for (unsigned t = 0; t < hw_.tiles; ++t) {
      const auto [r0, n] = row_range(N_, hw_.tiles, t);
      if (!n) continue;
      ++workers;
      for (uint64_t r = r0; r < r0 + n; ++r) {
        const int64_t tok = tokens_[r], key = int64_t(r - r0) * 4;
        st.add(key, t, load(t, embed_ + uint64_t(tok) * H, e, SP, H).wait(r > r0 ? sFree : 0),
               strf("tile %u row %llu: token %lld", t, (ull)r, (long long)tok));
        st.add(key, t, load(t, embed_mult_ + 4 * uint64_t(tok), m, ACC, 4).signal(sIn), "its multiplier");
        st.add(key + 1, t, vec(Opcode::VMul, t, x, ACC, e, SP, H, m, ACC, isa::kBScalar)
                               .set(Field::Shift, qm_.embed_shift).wait(sIn).signal(sOut), "widen");
        st.add(key + 2, t, store(t, resid_ + 4 * r * H, x, ACC, 4 * H).wait(sOut).signal(r + 1 < r0 + n ? sFree : kPhaseDone),
               "residual row");
      }
    }
    flush(st);
    barrier(workers, "residual rows");
    note_sram("embedding", sp, acc);
  }

  uint64_t lane_slot() const { return std::min<uint64_t>(uint64_t(hw_.vxu.lanes) * 4, hw_.accumulator.line_bytes()); }

  // Norm of rows [r0, r0 + rows) of `x_dram` (int32, pitch 4H) into `y_dram`
  // (int8, pitch H); rows split over the tiles.
  void emit_norm_phase(const golden::QNorm* n, uint64_t params_dram, uint64_t x_dram, uint64_t y_dram, uint64_t r0,
                       uint64_t rows, const std::string& name) {
    const uint64_t H = uint64_t(cfg_.hidden);
    b_.section("==== " + name + ": " + std::to_string(rows) + " row(s) split over the tiles");
    SramArena sp(hw_.scratchpad, "scratchpad"), acc(hw_.accumulator, "accumulator");
    const bool ln = n && n->kind == NormKind::LayerNorm;
    const uint64_t slot = lane_slot();
    // the whole row when it fits: x, the squares, gamma [beta, the centred row]
    const uint64_t whole = 4 * H * (ln ? 5 : 3) + 3 * slot + 4 * hw_.accumulator.line_bytes();
    const bool pieces = n && (whole > hw_.accumulator.total_bytes() || 4 * H > hw_.accumulator.bank_bytes() ||
                              (opt_.max_norm_piece && opt_.max_norm_piece < H));
    PhaseSems ps;
    Stream st(b_.keeps_comments());
    unsigned workers = 0;
    if (!pieces) {
      const uint64_t x = acc.alloc(4 * H, 0, name + ": row");
      NormBuffers nb;
      if (n) nb = place_norm(hw_, H, ln, acc, name);
      const uint64_t y = sp.alloc(H, 0, name + ": output row");
      const unsigned sIn = ps.get("row loaded"), sP = ps.get("parameters loaded"), sOut = ps.get("row normed"),
                     sFree = ps.get("buffers free");
      for (unsigned t = 0; t < hw_.tiles; ++t) {
        const auto [f, cnt] = row_range(rows, hw_.tiles, t);
        if (!cnt) continue;
        ++workers;
        if (n) st.add(-1, t, load(t, params_dram, nb.params, ACC, norm_params_bytes(H, ln)).signal(sP), name + " parameters");
        for (uint64_t r = r0 + f; r < r0 + f + cnt; ++r) {
          const int64_t key = int64_t(r - r0 - f) * 4;
          const bool last = r + 1 == r0 + f + cnt;
          st.add(key, t, load(t, x_dram + 4 * r * H, x, ACC, 4 * H).wait(r > r0 + f ? sFree : 0).signal(sIn),
                 strf("tile %u row %llu", t, (ull)r));
          // the instructions of the kernel go through a builder of their own, then into the stream
          ProgramBuilder kb("kernel");
          NormSync sync;
          sync.wait_x = sIn;
          sync.wait_params = r == r0 + f ? sP : 0;
          sync.signal = sOut;
          if (n) emit_norm(kb, t, *n, x, y, nb, sync, name);
          else emit_requant8(kb, t, H, qm_.final_mult, qm_.final_shift, x, y, sync, name);
          for (const isa::Instruction& in : kb.program().code) st.add(key + 1, t, from(in));
          st.add(key + 2, t, store(t, y_dram + r * H, y, SP, H).wait(sOut).signal(last ? kPhaseDone : sFree), "output row");
        }
      }
    } else {
      if (ln) throw Error(strf("%s: accumulator: layernorm: a row of %llu int32 does not fit; LayerNorm in pieces is "
                               "not supported yet", name.c_str(), (ull)H));
      const golden::RmsNormParams& p = n->rms;
      const uint64_t L = hw_.vxu.lanes;
      uint64_t c = std::min<uint64_t>(H, std::max<uint64_t>(L, hw_.accumulator.bank_bytes() / 4 / 4 / L * L));
      if (opt_.max_norm_piece) c = std::min<uint64_t>(c, std::max<uint64_t>(L, opt_.max_norm_piece / L * L));
      while (H % c) c -= L;
      const uint64_t xc = acc.alloc(4 * c, 0, name + ": row piece");
      const uint64_t ac = acc.alloc(4 * c, 0, name + ": piece / 2^sum_shift");
      const uint64_t gc = acc.alloc(4 * c, 0, name + ": gamma piece");
      const uint64_t sc = acc.alloc(5 * slot, slot, name + ": scalars");
      const uint64_t Sa = sc, Sb = sc + slot, tmp = sc + 2 * slot, rr = sc + 3 * slot;
      const uint64_t y = sp.alloc(H, 0, name + ": output row");
      const unsigned sIn = ps.get("piece loaded"), sFree = ps.get("piece buffers free"), sOut = ps.get("row normed"),
                     sYf = ps.get("output row stored");
      const unsigned s = p.sum_shift;
      const uint64_t J = H / c;
      for (unsigned t = 0; t < hw_.tiles; ++t) {
        const auto [f, cnt] = row_range(rows, hw_.tiles, t);
        if (!cnt) continue;
        ++workers;
        int64_t key = 0;
        bool first_load = true;
        for (uint64_t r = r0 + f; r < r0 + f + cnt; ++r) {
          const bool last_row = r + 1 == r0 + f + cnt;
          // pass 1: the sum of squares, piece by piece, exact (docs/compiler.md)
          for (uint64_t jj = 0; jj < J; ++jj, key += 4) {
            st.add(key, t, load(t, x_dram + 4 * (r * H + jj * c), xc, ACC, 4 * c).wait(first_load ? 0 : sFree).signal(sIn),
                   strf("tile %u row %llu piece %llu", t, (ull)r, (ull)jj));
            first_load = false;
            std::vector<Ins> v;
            v.push_back(vec(Opcode::VMul, t, xc, ACC, xc, ACC, c, xc, ACC, isa::kBVector).set(Field::Shift, p.sq_shift).wait(sIn));
            if (s > 0) {
              v.push_back(vec(Opcode::VSub, t, ac, ACC, xc, ACC, c).set(Field::BMode, isa::kBImm)
                              .set(Field::Imm, int64_t(1) << (s - 1)).set(Field::Shift, s));  // floor(q / 2^s)
              v.push_back(vec(Opcode::VRedSum, t, jj ? tmp : Sa, ACC, ac, ACC, c));
              if (jj) v.push_back(vec(Opcode::VAdd, t, Sa, ACC, Sa, ACC, 1, tmp, ACC, isa::kBVector));
              v.push_back(vec(Opcode::VShl, t, ac, ACC, ac, ACC, c).set(Field::Shift, s));
              v.push_back(vec(Opcode::VSub, t, xc, ACC, xc, ACC, c, ac, ACC, isa::kBVector));  // q mod 2^s
              v.push_back(vec(Opcode::VRedSum, t, jj ? tmp : Sb, ACC, xc, ACC, c));
              if (jj) v.push_back(vec(Opcode::VAdd, t, Sb, ACC, Sb, ACC, 1, tmp, ACC, isa::kBVector));
            } else {
              v.push_back(vec(Opcode::VRedSum, t, jj ? tmp : Sa, ACC, xc, ACC, c));
              if (jj) v.push_back(vec(Opcode::VAdd, t, Sa, ACC, Sa, ACC, 1, tmp, ACC, isa::kBVector));
            }
            v.back().signal(sFree);
            for (size_t i = 0; i < v.size(); ++i) st.add(key + 1, t, v[i], i == 0 ? name + ": x.x of the piece" : "");
          }
          std::vector<Ins> v;
          if (s > 0) {
            v.push_back(vec(Opcode::VShr, t, Sb, ACC, Sb, ACC, 1).set(Field::Shift, s));
            v.push_back(vec(Opcode::VAdd, t, Sa, ACC, Sa, ACC, 1, Sb, ACC, isa::kBVector));
          }
          v.push_back(vec(Opcode::VAdd, t, Sa, ACC, Sa, ACC, 1).set(Field::BMode, isa::kBImm).set(Field::Imm, p.eps));
          v.push_back(vec(Opcode::VRsqrt, t, rr, ACC, Sa, ACC, 1).set(Field::Shift, p.rs_shift));
          for (const Ins& i : v) st.add(key + 1, t, i, "");
          // pass 2: x / rms and gamma, piece by piece
          for (uint64_t jj = 0; jj < J; ++jj, key += 4) {
            st.add(key, t, load(t, x_dram + 4 * (r * H + jj * c), xc, ACC, 4 * c).wait(sFree), "piece again");
            st.add(key, t, load(t, params_dram + 4 * jj * c, gc, ACC, 4 * c).signal(sIn), "gamma piece");
            st.add(key + 1, t, vec(Opcode::VMul, t, xc, ACC, xc, ACC, c, rr, ACC, isa::kBScalar).set(Field::Shift, p.u_shift).wait(sIn),
                   "x / rms");
            Ins g = vec(Opcode::VMul, t, y + jj * c, SP, xc, ACC, c, gc, ACC, isa::kBVector).set(Field::Shift, p.out_shift);
            if (jj == 0 && r > r0 + f) g.wait(sYf);
            const bool more_loads = !(last_row && jj + 1 == J);
            if (more_loads) g.signal(sFree);
            if (jj + 1 == J) g.signal(sOut);
            st.add(key + 1, t, g, "gamma, to int8");
          }
          st.add(key, t, store(t, y_dram + r * H, y, SP, H).wait(sOut).signal(last_row ? kPhaseDone : sYf), "output row");
        }
      }
    }
    flush(st);
    barrier(workers, name);
    note_sram(pieces ? "norm (in pieces)" : "norm", sp, acc);
  }

  // A phase's instructions into the program; without a listing, moved out of
  // the builder as a piece (run() joins the pieces).
  void flush(Stream& st) {
    st.flush(b_);
    if (!opt_.listing) {
      chunks_.push_back(b_.take_code());
      chunks_.back().shrink_to_fit();  // no capacity beyond the piece (the builder's vector grew by doubling)
    }
  }

  static Ins from(const isa::Instruction& in) {
    Ins w(in.op);
    const_cast<isa::Instruction&>(w.get()) = in;
    return w;
  }

  // RoPE of q and k, the K/V cache append; rows split over the tiles.
  void emit_rope_phase(size_t li) {
    const golden::QLayer& Q = qm_.layers[li];
    const DecodeLayerMap& lm = out_.layers[li];
    const uint64_t hd = uint64_t(cfg_.head_dim), qh = uint64_t(Q.dims.q_heads), kvh = uint64_t(Q.dims.kv_heads);
    const uint64_t qw = qh * hd, kw = kvh * hd, C = hw_.mxu.cols, blocks = hd / C;
    const std::string name = "layers." + std::to_string(li) + ".rope";
    b_.section("==== " + name + ": RoPE of q and k, the KV-cache append (rows split over the tiles)");
    SramArena sp(hw_.scratchpad, "scratchpad"), acc(hw_.accumulator, "accumulator");
    const uint64_t qb = sp.alloc(qw, 0, "rope: q"), qr = sp.alloc(qw, 0, "rope: q after RoPE");
    const uint64_t kb = sp.alloc(kw, 0, "rope: k"), vb = sp.alloc(kw, 0, "rope: v");
    const uint64_t rb = sp.alloc(qw, 0, "rope: rotated half");
    const uint64_t cb = acc.alloc(4 * hd, 0, "rope: cos"), sb = acc.alloc(4 * hd, 0, "rope: sin");
    const uint64_t pc = acc.alloc(4 * hd, 0, "rope: x cos"), pt = acc.alloc(4 * hd, 0, "rope: rot(x) sin");
    PhaseSems ps;
    const unsigned sIn = ps.get("row loaded"), sOut = ps.get("row rotated"), sFree = ps.get("row stored");
    Stream st(b_.keeps_comments());
    unsigned workers = 0;
    auto rope = [&](std::vector<Ins>& v, unsigned t, uint64_t x, uint64_t dst, uint64_t len) {
      for (uint64_t h = 0; h * hd < len; ++h) {
        v.push_back(vec(Opcode::VMul, t, pc, ACC, x + h * hd, SP, hd, cb, ACC, isa::kBVector));
        if (h == 0) v.push_back(vec(Opcode::VRot, t, rb, SP, x, SP, len).set(Field::Imm, int64_t(hd / 2)));
        v.push_back(vec(Opcode::VMul, t, pt, ACC, rb + h * hd, SP, hd, sb, ACC, isa::kBVector));
        v.push_back(vec(Opcode::VAdd, t, dst + h * hd, SP, pc, ACC, hd, pt, ACC, isa::kBVector).set(Field::Shift, 14));
      }
    };
    for (unsigned t = 0; t < hw_.tiles; ++t) {
      const auto [r0, n] = row_range(N_, hw_.tiles, t);
      if (!n) continue;
      ++workers;
      for (uint64_t r = r0; r < r0 + n; ++r) {
        const int64_t key = int64_t(r - r0) * 4;
        st.add(key, t, load(t, q_ + r * qw, qb, SP, qw).wait(r > r0 ? sFree : 0), strf("tile %u row %llu: q", t, (ull)r));
        st.add(key, t, load(t, k_ + r * kw, kb, SP, kw), "k");
        st.add(key, t, load(t, v_ + r * kw, vb, SP, kw), "v");
        st.add(key, t, load(t, cos_ + 4 * r * hd, cb, ACC, 4 * hd), "cos of the position");
        st.add(key, t, load(t, sin_ + 4 * r * hd, sb, ACC, 4 * hd).signal(sIn), "sin of the position");
        std::vector<Ins> v;
        rope(v, t, qb, qr, qw);
        rope(v, t, kb, kb, kw);  // in place: vrot writes the rotated half elsewhere
        v.front().wait(sIn);
        v.back().signal(sOut);
        for (size_t i = 0; i < v.size(); ++i) st.add(key + 1, t, v[i], i == 0 ? "RoPE of q, then k" : "");
        const bool last = r + 1 == r0 + n;
        st.add(key + 2, t, store(t, qrot_ + r * qw, qr, SP, qw).wait(sOut), "q after RoPE");
        st.add(key + 2, t, store(t, lm.k_cache + r * hd, kb, SP, hd, kvh, lm.attn.max_pos * hd, hd), "append keys");
        // the keys transposed for the attention's score matmuls: K^T (hd x positions) as a tile-major weight,
        // element (e, pos) at (pos / C) * hd * C + e * C + pos % C: one byte per request
        for (uint64_t j = 0; j < kvh; ++j)
          st.add(key + 2, t, store(t, kt_ + j * npad() * hd + r / C * hd * C + r % C, kb + j * hd, SP, 1, hd, C, 1),
                 j == 0 ? "keys, transposed" : "");
        st.add(key + 2, t, store(t, lm.v_cache + v_cache_offset(hw_, lm.attn, 0, r, 0), vb, SP, C, kvh * blocks,
                                 lm.attn.max_pos * C, C)
                               .signal(last ? kPhaseDone : sFree),
               "append values");
      }
    }
    flush(st);
    barrier(workers, name);
    note_sram("rope and KV append", sp, acc);
  }

  // Causal attention: KV heads split over the tiles; per query head, blocks
  // of m query rows: the scores of the block as one matmul (the q rows as
  // activations, the keys transposed (K^T, written by the RoPE phase) as the
  // weight), the softmax row by row with deferred normalisation, and the
  // value product as one matmul per column block of the array width (the
  // block's probabilities as activations, the values in the KV cache's
  // layout as the weight); the probabilities beyond a row's position are
  // zero, so a row's sums cover exactly its positions 0..i, as
  // golden::attention_row's.
  void emit_attention_phase(size_t li) {
    const golden::QLayer& Q = qm_.layers[li];
    const DecodeLayerMap& lm = out_.layers[li];
    const uint64_t hd = uint64_t(cfg_.head_dim), qh = uint64_t(Q.dims.q_heads), kvh = uint64_t(Q.dims.kv_heads);
    const uint64_t qw = qh * hd, C = hw_.mxu.cols, blocks = hd / C, group = qh / kvh, N = N_, NP = npad();
    const std::string name = "layers." + std::to_string(li) + ".attention";
    SramArena sp(hw_.scratchpad, "scratchpad"), acc(hw_.accumulator, "accumulator");
    const uint64_t kt = alloc_span(sp, NP * hd, "attention: keys of the KV head, transposed", "scratchpad");
    const uint64_t vreg = alloc_span(sp, NP * hd, "attention: values of the KV head (column blocks)", "scratchpad");
    const uint64_t lut = sp.alloc(512, 0, "attention: exp table");
    const uint64_t slot = lane_slot();
    // rows per block: the scores (m x NP int32) and value products (m x hd) double-buffered in the accumulator
    uint64_t m = std::min<uint64_t>(N, 64);
    if (opt_.max_row_block) m = std::min(m, opt_.max_row_block);
    while (m > 1 && (4 * m * NP > acc.bank_bytes() / 2 || 2 * (4 * m * NP + 4 * m * hd) + 2 * m * slot + 4 * slot >
                                                              hw_.accumulator.total_bytes() * 3 / 4))
      --m;
    const uint64_t S[2] = {acc.alloc(4 * m * NP, 0, "attention: scores 0"), acc.alloc(4 * m * NP, 0, "attention: scores 1")};
    const uint64_t O[2] = {acc.alloc(4 * m * hd, 0, "attention: value products 0"),
                           acc.alloc(4 * m * hd, 0, "attention: value products 1")};
    const uint64_t sc = acc.alloc((2 * m + 3) * slot, slot, "attention: max, sum, reciprocals, sink");
    const uint64_t mx = sc, sum = sc + slot, sink = sc + 2 * slot;
    const auto inv = [&](uint64_t par, uint64_t k) { return sc + (3 + par * m + k) * slot; };
    const uint64_t E[2] = {sp.alloc(m * NP, 0, "attention: probabilities 0"), sp.alloc(m * NP, 0, "attention: probabilities 1")};
    const uint64_t d = sp.alloc(NP, 0, "attention: score differences");
    const uint64_t QB[2] = {sp.alloc(m * hd, 0, "attention: q rows 0"), sp.alloc(m * hd, 0, "attention: q rows 1")};
    const uint64_t OB[2] = {sp.alloc(m * hd, 0, "attention: output rows 0"), sp.alloc(m * hd, 0, "attention: output rows 1")};
    b_.section(strf("==== %s: causal attention over %llu rows in blocks of %llu (KV heads split over the tiles)",
                    name.c_str(), (ull)N, (ull)m));
    PhaseSems ps;
    const unsigned sLut = ps.get("exp table"), sKV = ps.get("keys, values loaded"), sKVf = ps.get("keys, values free"),
                   sQ = ps.get("q rows loaded"), sQf = ps.get("q rows free"), sS = ps.get("scores"),
                   sSf = ps.get("scores read"), sE = ps.get("probabilities"), sEf = ps.get("probabilities read"),
                   sO = ps.get("value products"), sOf = ps.get("value products read"), sOut = ps.get("output rows"),
                   sOutF = ps.get("output rows stored");
    const unsigned sh = Q.softmax.d_shift, rs = Q.softmax.recip_shift;
    const uint64_t L = hw_.vxu.lanes;
    Stream st(b_.keeps_comments());
    unsigned workers = 0;
    for (unsigned t = 0; t < hw_.tiles; ++t) {
      std::vector<uint64_t> mine;
      for (uint64_t j = t; j < kvh; j += hw_.tiles) mine.push_back(j);
      if (mine.empty()) continue;
      ++workers;
      st.add(-100, t, load(t, exp_[li], lut, SP, 512).signal(sLut), strf("tile %u: exp table", t));
      st.add(-100, t, vec(Opcode::LutLoad, t, 0, SP, lut, SP, 256).set(Field::Imm, kExpLut).wait(sLut), "exp table to LUT");
      struct Blk { uint64_t j, h, r0, rows; };
      std::vector<Blk> seq;
      for (uint64_t j : mine)
        for (uint64_t h = j * group; h < (j + 1) * group; ++h)
          for (uint64_t r0 = 0; r0 < N; r0 += m) seq.push_back({j, h, r0, std::min(m, N - r0)});
      const uint64_t total = seq.size();
      for (uint64_t b = 0; b < total; ++b) {
        const Blk& w = seq[b];
        const bool head_first = w.r0 == 0 && w.h == w.j * group;
        const bool head_last = w.r0 + w.rows == N && w.h + 1 == (w.j + 1) * group;
        const uint64_t par = b % 2, n = std::min(NP, (w.r0 + w.rows + C - 1) / C * C);
        const int64_t kS = int64_t(b) * 8 + (head_first && b > 0 ? 3 : 0);
        if (head_first) {
          const int64_t k0 = b > 0 ? int64_t(b) * 8 + 2 : -50;
          st.add(k0, t, load(t, kt_ + w.j * NP * hd, kt, SP, NP * hd).wait(b > 0 ? sKVf : 0),
                 strf("tile %u: keys of KV head %llu, transposed", t, (ull)w.j));
          st.add(k0, t, load(t, lm.v_cache + v_cache_offset(hw_, lm.attn, w.j, 0, 0), vreg, SP, NP * C, blocks,
                             lm.attn.max_pos * C, NP * C)
                            .signal(sKV),
                 "values (column blocks)");
          st.add(kS, t, matmul(t, kt, kt, sink, 1, 1, 1, false, false, 1, 4).wait(sKV), "keys and values in place");
        }
        // q rows of the block (two blocks ahead at most: the buffer of block b - 2 is free after its scores)
        st.add(b > 0 ? (int64_t(b) - 1) * 8 + 1 : -40, t,
               load(t, qrot_ + w.r0 * qw + w.h * hd, QB[par], SP, hd, w.rows, qw, hd).wait(b >= 2 ? sQf : 0).signal(sQ),
               strf("head %llu: q rows %llu..%llu", (ull)w.h, (ull)w.r0, (ull)(w.r0 + w.rows - 1)));
        Ins s = matmul(t, QB[par], kt, S[par], w.rows, hd, n, false, false, hd, 4 * NP).wait(sQ).wait(b >= 2 ? sSf : 0).signal(sS);
        if (b + 2 < total) s.signal(sQf);
        st.add(kS, t, s, strf("head %llu rows %llu..: scores over positions 0..%llu", (ull)w.h, (ull)w.r0, (ull)(n - 1)));
        // softmax, row by row
        const int64_t kV = int64_t(b) * 8 + 4;
        for (uint64_t k = 0; k < w.rows; ++k) {
          const uint64_t i = w.r0 + k, len = i + 1, row = S[par] + 4 * k * NP, e = E[par] + k * NP;
          Ins a = vec(Opcode::VRedMax, t, mx, ACC, row, ACC, len);
          if (k == 0) a.wait(sS);
          st.add(kV, t, a, k == 0 ? "softmax, row by row" : "");
          Ins sub = vec(Opcode::VSub, t, d, SP, row, ACC, len, mx, ACC, isa::kBScalar).set(Field::Shift, sh);
          if (k + 1 == w.rows && b + 2 < total) sub.signal(sSf);
          st.add(kV, t, sub);
          // zeros beyond the row's position (up to the block's n), then the probabilities
          const uint64_t z0 = len / L * L;
          Ins z = vec(Opcode::VMul, t, e + z0, SP, e + z0, SP, n - z0).set(Field::BMode, isa::kBImm).set(Field::Imm, 0);
          if (k == 0 && b >= 2) z.wait(sEf);
          if (z0 < n) st.add(kV, t, z);
          else if (k == 0 && b >= 2) st.add(kV, t, vnop(t, sink + 4 * 0).wait(sEf));
          Ins ex = vec(Opcode::VLut, t, e, SP, d, SP, len).set(Field::Imm, kExpLut);
          st.add(kV, t, ex);
          st.add(kV, t, vec(Opcode::VRedSum, t, sum, ACC, e, SP, len));
          Ins rc = vec(Opcode::VRecip, t, inv(par, k), ACC, sum, ACC, 1).set(Field::Shift, rs);
          if (k + 1 == w.rows) rc.signal(sE);
          st.add(kV, t, rc);
        }
        // value products (after the next block's scores, so the matrix unit overlaps the softmax)
        const int64_t kP = int64_t(b + 1) * 8 + 2;
        for (uint64_t jb = 0; jb < blocks; ++jb) {
          Ins mm = matmul(t, E[par], vreg + jb * NP * C, O[par] + 4 * jb * C, w.rows, n, C, false, false, NP, 4 * hd);
          if (jb == 0) mm.wait(sE).wait(b >= 2 ? sOf : 0);
          if (jb + 1 == blocks) mm.signal(sO).signal(b + 2 < total ? sEf : 0);
          st.add(kP, t, mm, jb == 0 ? "probabilities x values" : "");
        }
        if (head_last && b + 1 < total)
          st.add(kP, t, matmul(t, kt, kt, sink, 1, 1, 1, false, false, 1, 4).signal(sKVf), "keys, values free");
        // normalise into the output rows, store
        const int64_t kN = int64_t(b + 1) * 8 + 5;
        for (uint64_t k = 0; k < w.rows; ++k) {
          Ins v = vec(Opcode::VMul, t, OB[par] + k * hd, SP, O[par] + 4 * k * hd, ACC, hd, inv(par, k), ACC, isa::kBScalar)
                      .set(Field::Shift, rs);
          if (k == 0) v.wait(sO).wait(b >= 2 ? sOutF : 0);
          if (k + 1 == w.rows) v.signal(sOut).signal(b + 2 < total ? sOf : 0);
          st.add(kN, t, v, k == 0 ? "normalise" : "");
        }
        st.add(kN, t, store(t, attn_ + w.r0 * qw + w.h * hd, OB[par], SP, hd, w.rows, qw, hd)
                          .wait(sOut).signal(b + 2 < total ? sOutF : (b + 1 == total ? kPhaseDone : 0)),
               "output rows");
      }
    }
    flush(st);
    barrier(workers, name);
    note_sram("attention", sp, acc);
  }

  // Positions of the transposed keys: N rounded up to 16-column slices of the array.
  uint64_t npad() const { return (N_ + hw_.mxu.cols - 1) / hw_.mxu.cols * hw_.mxu.cols; }

  struct GemmBufs {
    uint64_t X = 0, W[2] = {0, 0}, R[2] = {0, 0}, T[2] = {0, 0}, TAB[2][2] = {{0, 0}, {0, 0}}, OB[2] = {0, 0}, Y[2] = {0, 0};
    uint64_t Ea = 0, lut = 0, scratch = 0;
  };
  // The SRAM of a GEMM phase (the planner tries it on fresh arenas to choose
  // M_b and n_c; an Error names the buffer that does not fit).
  GemmBufs place_gemm(const GemmJob& j, uint64_t mb, uint64_t nc, uint64_t wbuf, uint64_t tbuf, SramArena& sp,
                      SramArena& acc) const {
    GemmBufs g;
    // the input block: whole banks from bank 0 on (a matmul's activations may span banks)
    const uint64_t xb = mb * j.K;
    {
      uint64_t left = xb, bank = 0;
      while (left > 0) {
        if (bank >= sp.banks())
          throw Error(strf("scratchpad: %s: input rows need %llu bytes, the scratchpad has %llu", j.name.c_str(),
                           (ull)xb, (ull)hw_.scratchpad.total_bytes()));
        const uint64_t take = std::min(left, sp.bank_bytes());
        const uint64_t a = sp.alloc_in_bank(uint32_t(bank), take, 0, j.name + ": input rows");
        if (bank == 0) g.X = a;
        left -= take;
        ++bank;
      }
      for (uint64_t b = 0; b < (xb + sp.bank_bytes() - 1) / sp.bank_bytes() && sp.banks() > 3; ++b) sp.avoid(uint32_t(b));
    }
    std::vector<uint32_t> order(sp.banks());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return sp.free_in_bank(a) > sp.free_in_bank(b); });
    g.W[0] = sp.alloc_in_bank(order[0], wbuf, 0, j.name + ": weight buffer 0");
    g.W[1] = sp.alloc_in_bank(order[sp.banks() > 1 ? 1 : 0], wbuf, 0, j.name + ": weight buffer 1");
    const uint64_t mn = mb * nc;
    for (int i = 0; i < 2; ++i) {
      const uint32_t bank = uint32_t(i) % acc.banks();
      const auto put = [&](uint64_t bytes, const std::string& what) {
        return acc.free_in_bank(bank) >= bytes ? acc.alloc_in_bank(bank, bytes, 0, what) : acc.alloc(bytes, 0, what);
      };
      g.R[i] = put(4 * mn, j.name + strf(": matmul results %d", i));
      if (j.needs_T()) g.T[i] = put(4 * mn, j.name + strf(": T of column slot %d", i));
      for (int par = 0; par < 2; ++par)
        g.TAB[par][i] = put(std::max<uint64_t>(tbuf, 4), j.name + strf(": tables %d of the units in this bank", par));
    }
    const bool out_acc = j.kind == OutKind::Residual || j.kind == OutKind::Logits;
    for (int i = 0; i < 2; ++i) {
      const uint32_t bank = uint32_t(i) % acc.banks();
      const std::string what = j.name + strf(": output block %d", i);
      g.OB[i] = !out_acc ? sp.alloc(mn, 0, what)
                         : acc.free_in_bank(bank) >= 4 * mn ? acc.alloc_in_bank(bank, 4 * mn, 0, what) : acc.alloc(4 * mn, 0, what);
    }
    if (j.kind == OutKind::Gated || j.kind == OutKind::PlainAct) {
      g.Y[0] = sp.alloc(mn, 0, j.name + ": int8 outputs 0");
      g.Y[1] = sp.alloc(mn, 0, j.name + ": int8 outputs 1");
      g.lut = sp.alloc(512, 0, j.name + ": activation table");
    }
    // act(gate) goes to the gate slot's T once the gate is narrowed (the vector unit runs in order: the next
    // pair's first write of that T comes after the product)
    if (j.kind == OutKind::Gated) g.Ea = j.needs_T() ? g.T[0] : acc.alloc(4 * mn, 0, j.name + ": act(gate), int16 in int32");
    const uint64_t slot = lane_slot();
    g.scratch = acc.alloc(2 * slot, slot, j.name + ": sink slots");
    return g;
  }

  // ---- GEMM emission -----------------------------------------------------------------
  void emit_gemm(GemmJob& j) {
    const uint64_t R = hw_.mxu.rows, C = hw_.mxu.cols;
    b_.section("==== " + j.why);
    SramArena sp(hw_.scratchpad, "scratchpad"), acc(hw_.accumulator, "accumulator");
    const GemmBufs gb = place_gemm(j, j.mb, j.nc, j.wbuf, j.tbuf, sp, acc);
    const uint64_t X = gb.X, W[2] = {gb.W[0], gb.W[1]}, Rb[2] = {gb.R[0], gb.R[1]}, Tb[2] = {gb.T[0], gb.T[1]};
    const uint64_t OB[2] = {gb.OB[0], gb.OB[1]}, Y[2] = {gb.Y[0], gb.Y[1]};
    const uint64_t Ea = gb.Ea, lut = gb.lut, scratch = gb.scratch, slot = lane_slot();
    const bool out_acc = j.kind == OutKind::Residual || j.kind == OutKind::Logits;
    const uint64_t esz = out_acc ? 4 : 1;
    PhaseSems ps;
    const unsigned sX = ps.get("input rows loaded"), sXf = ps.get("input rows free"), sW = ps.get("weights loaded"),
                   sWf = ps.get("weight buffer free"), sT = ps.get("tables loaded"), sTf = ps.get("table buffer free"),
                   sM = ps.get("matmul done"), sRf = ps.get("result buffer free"), sY = ps.get("output block ready"),
                   sYf = ps.get("output block stored"), sE = ps.get("residual rows / table loaded"),
                   sEf = ps.get("residual block stored");
    const uint64_t nrb = (j.rows + j.mb - 1) / j.mb;
    Stream st(b_.keeps_comments());
    unsigned workers = 0;
    if (j.kind == OutKind::Gated || j.kind == OutKind::PlainAct) {
      st.add(-(int64_t(1) << 40), 0, load(kAll, j.act_dram, lut, SP, 512).signal(sE), "activation table to every tile");
      for (unsigned t = 0; t < hw_.tiles; ++t)
        st.add(-(int64_t(1) << 40), t, vec(Opcode::LutLoad, t, 0, SP, lut, SP, 256).set(Field::Imm, kActLut).wait(sE),
               "activation table to LUT");
    }
    const int64_t RB = int64_t(1) << 40;  // key space of a row block
    for (uint64_t rb = 0; rb < nrb; ++rb) {
      const uint64_t row0 = rb * j.mb, mr = std::min(j.mb, j.rows - row0);
      st.add(int64_t(rb) * RB - 10, 0,
             load(kAll, j.x_dram + row0 * j.K, X, SP, mr * j.K).wait(rb > 0 ? sXf : 0).signal(sX),
             strf("%s: input rows %llu..%llu to every tile", j.name.c_str(), (ull)row0, (ull)(row0 + mr - 1)));
    }
    for (unsigned t = 0; t < hw_.tiles; ++t) {
      const std::vector<GPair>& ps_t = j.pairs[t];
      if (ps_t.empty()) {
        for (uint64_t rb = 0; rb < nrb; ++rb)
          st.add(int64_t(rb) * RB, t, matmul(t, X, X, scratch, 1, 1, 1, false, false, 1, 4).wait(sX).signal(rb + 1 < nrb ? sXf : 0),
                 strf("tile %u: unused by %s, takes its input signal", t, j.name.c_str()));
        continue;
      }
      ++workers;
      // counts over the whole job (for "is there a later waiter")
      uint64_t tsteps_per_rb = 0, units_per_rb = 0, outs_per_rb = 0;
      for (const GPair& p : ps_t) {
        for (const GStep& s : p.steps) tsteps_per_rb += s.t_bytes > 0;
        units_per_rb += j.group_wise() ? uint64_t(p.ns) * j.pieces : uint64_t(p.ns);
        outs_per_rb += j.kind == OutKind::Gated ? 1 : uint64_t(p.ns);
      }
      const uint64_t TS_tot = tsteps_per_rb * nrb, U_tot = units_per_rb * nrb,
                     O_tot = outs_per_rb * nrb;
      uint64_t u = 0, o = 0;  // running: unit, output
      // key of matmul number m within its row block
      uint64_t m_local = 0;
      // residual loads for the first two outputs
      auto resid_load = [&](uint64_t oo, int64_t key, uint64_t row0, uint64_t mr, const Slot& sl) {
        st.add(key, t, load(t, j.out_dram + row0 * j.out_pitch + 4 * sl.c, OB[oo % 2], ACC, 4 * sl.n, mr, j.out_pitch, 4 * sl.n)
                           .wait(oo >= 2 ? sEf : 0).signal(sE),
               strf("residual rows %llu.., columns %llu..", (ull)row0, (ull)sl.c));
      };
      // the outputs in order, to issue residual loads two ahead
      struct OutRef { uint64_t rb; Slot sl; };
      std::vector<OutRef> outs;
      for (uint64_t rb = 0; rb < nrb; ++rb)
        for (const GPair& p : ps_t) {
          if (j.kind == OutKind::Gated) outs.push_back({rb, p.s[0]});
          else
            for (int q = 0; q < p.ns; ++q) outs.push_back({rb, p.s[q]});
        }
      if (j.kind == OutKind::Residual)
        for (uint64_t oo = 0; oo < std::min<uint64_t>(2, O_tot); ++oo)
          resid_load(oo, -RB + int64_t(oo), outs[oo].rb * j.mb, std::min(j.mb, j.rows - outs[oo].rb * j.mb), outs[oo].sl);
      // step loads
      auto step_loads = [&](uint64_t gs, const GStep& stp, int64_t key, const std::string& what) {
        st.add(key, t, load(t, j.w_dram + j.w_off[t] + stp.w_off, W[gs % 2], SP, stp.w_bytes).wait(gs >= 2 ? sWf : 0).signal(sW),
               what + " weights");
        if (stp.t_bytes) {
          // the table step number of this step; each slot's part goes to the bank of its units' results
          const uint64_t my_ts = ts_of_step_[gs];
          const int parts = stp.t_part[1] ? 2 : 1;
          for (int sl = 0; sl < parts; ++sl) {
            if (!stp.t_part[sl]) continue;
            const uint32_t bank = uint32_t((unit_at_step_[gs] + uint64_t(sl)) % 2);
            Ins ld = load(t, j.tab_dram + j.t_off[t] + stp.t_off + (sl ? stp.t_part[0] : 0), gb.TAB[my_ts % 2][bank],
                          ACC, stp.t_part[sl]);
            if (sl == 0 || !stp.t_part[0]) ld.wait(my_ts >= 2 ? sTf : 0);
            if (sl + 1 == parts) ld.signal(sT);
            st.add(key, t, ld, "tables");
          }
        }
      };
      // precompute the table-step index of every step, and the flat step list
      struct FlatStep { uint64_t rb; const GPair* p; const GStep* s; };
      std::vector<FlatStep> flat;
      ts_of_step_.clear();
      {
        uint64_t tcount = 0, ucount = 0;
        unit_at_step_.clear();
        for (uint64_t rb = 0; rb < nrb; ++rb)
          for (const GPair& p : ps_t)
            for (const GStep& x : p.steps) {
              flat.push_back({rb, &p, &x});
              ts_of_step_.push_back(tcount);
              tcount += x.t_bytes > 0;
              unit_at_step_.push_back(ucount);
              ucount += j.group_wise() ? (x.p1 - x.p0) * uint64_t(p.ns) : (x.p1 == j.pieces ? uint64_t(p.ns) : 0);
            }
      }
      const auto step_name = [&](const FlatStep& f) {
        return strf("%s tile %u rows %llu.. cols %llu.. pieces %llu..%llu", j.name.c_str(), t, (ull)(f.rb * j.mb),
                    (ull)f.p->s[0].c, (ull)f.s->p0, (ull)(f.s->p1 - 1));
      };
      // step 0's loads ahead of everything
      step_loads(0, *flat[0].s, -RB + 5, step_name(flat[0]));
      uint64_t cur_rb = ~uint64_t(0);
      uint64_t block_unit[2] = {0, 0};  // the first unit of the block in each slot: its T buffer's bank
      // per unit bookkeeping for per-channel accumulation
      for (uint64_t fs = 0; fs < flat.size(); ++fs) {
        const FlatStep& f = flat[fs];
        const GPair& p = *f.p;
        const GStep& stp = *f.s;
        if (f.rb != cur_rb) {
          cur_rb = f.rb;
          m_local = 0;
        }
        const uint64_t row0 = f.rb * j.mb, mr = std::min(j.mb, j.rows - row0);
        const int64_t base = int64_t(f.rb) * RB;
        const int64_t first_key = base + 4 * int64_t(m_local);
        // the next step's loads, as this step begins
        if (fs + 1 < flat.size()) step_loads(fs + 1, *flat[fs + 1].s, first_key + 3, step_name(flat[fs + 1]));
        const bool first_of_rb = fs == 0 || flat[fs - 1].rb != f.rb;
        const bool last_of_rb = fs + 1 == flat.size() || flat[fs + 1].rb != f.rb;
        bool table_waited = false;
        for (uint64_t q = stp.p0; q < stp.p1; ++q)
          for (int sl = 0; sl < p.ns; ++sl) {
            const Slot& slt = p.s[sl];
            const GLin& l = j.lins[size_t(slt.lin)];
            const bool gw = j.group_wise();
            const bool unit_first_mm = gw || q == 0, unit_last_mm = gw || q + 1 == j.pieces;
            // the unit number of this matmul
            const uint64_t unit = gw ? u : u + uint64_t(sl);  // per channel: the pair's units are u, u+1
            const uint64_t k0 = q * j.piece, kn = j.piece_rows(q);
            // weight offset of (q, sl) within the step
            uint64_t woff = 0;
            for (uint64_t qq = stp.p0; qq <= q; ++qq)
              for (int ss = 0; ss < p.ns; ++ss) {
                if (qq == q && ss == sl) break;
                woff += weight_image_bytes(j.piece_rows(qq), p.s[ss].n, R, C, j.lins[size_t(p.s[ss].lin)].int4);
              }
            const bool first_mm_step = q == stp.p0 && sl == 0, last_mm_step = q + 1 == stp.p1 && sl + 1 == p.ns;
            Ins mm = matmul(t, X + k0, W[fs % 2] + woff, Rb[unit % 2], mr, kn, slt.n, l.int4, !unit_first_mm, j.K, 4 * slt.n);
            std::vector<unsigned> waits, sigs;
            if (unit_first_mm && unit >= 2) waits.push_back(sRf);
            if (first_mm_step) waits.push_back(sW);
            if (first_of_rb && first_mm_step) waits.push_back(sX);
            if (unit_last_mm) sigs.push_back(sM);
            if (last_mm_step && fs + 2 < flat.size()) sigs.push_back(sWf);
            const int64_t key = base + 4 * int64_t(m_local);
            // a third wait goes on a one-element matmul before it
            while (waits.size() > 2) {
              st.add(key, t, matmul(t, X, X, scratch, 1, 1, 1, false, false, 1, 4).wait(waits.back()), "wait");
              waits.pop_back();
            }
            for (unsigned w : waits) mm.wait(w);
            for (unsigned g : sigs) mm.signal(g);
            st.add(key, t, mm, first_mm_step ? step_name(f) : "");
            ++m_local;
            // the vector side of the unit, after the next matmul
            if (!unit_last_mm) continue;
            const int64_t vkey = key + 6;
            const int64_t toff = stp.unit_tab[size_t((q - stp.p0) * 2 + uint64_t(sl))];
            const uint32_t tbank = uint32_t((unit_at_step_[fs] + uint64_t(sl)) % 2);
            const uint64_t tab = gb.TAB[ts_of_step_[fs] % 2][tbank] + uint64_t(std::max<int64_t>(0, toff));
            const uint64_t n = slt.n, len = mr * n;
            if (q == 0) block_unit[sl] = unit;
            const uint64_t Rr = Rb[unit % 2], TT = Tb[block_unit[sl] % 2];
            const bool last_piece = q + 1 == j.pieces;
            std::vector<std::pair<Ins, std::string>> v;
            auto vreq = [&](uint64_t dst, int ds) {
              return vec(Opcode::VRequant, t, dst, ds, Rr, ACC, len, tab, ACC, isa::kBVector).set(Field::Imm2, int64_t(n));
            };
            const bool to_y = j.kind == OutKind::Gated || j.kind == OutKind::PlainAct;
            const uint64_t out_o = o;  // the output this block produces (for Int8 / Residual / Logits / PlainAct)
            const bool writes_ob_now = !to_y && j.kind == OutKind::Int8 && l.form.plain();
            if (l.form.plain()) {
              // per channel, no bias, b = 0: straight to int8
              if (writes_ob_now && out_o >= 2) v.push_back({vnop(t, scratch).wait(sYf), "output block free"});
              v.push_back({vreq(to_y ? Y[sl] : OB[out_o % 2], SP), "requant to int8"});
            } else if (gw) {
              if (q == 0) v.push_back({vreq(TT, ACC), strf("group 0: T = acc * M_0 >> %u", l.form.a)});
              else {
                v.push_back({vreq(Rr, ACC), strf("group %llu: P = acc * M_g >> %u", (ull)q, l.form.a)});
                v.push_back({vec(Opcode::VAdd, t, TT, ACC, TT, ACC, len, Rr, ACC, isa::kBVector), "T += P"});
              }
            } else {
              v.push_back({vreq(TT, ACC), "T = requant(acc)"});
            }
            if (last_piece && l.form.bias)
              for (uint64_t rr = 0; rr < mr; ++rr)
                v.push_back({vec(Opcode::VAdd, t, TT + 4 * rr * n, ACC, TT + 4 * rr * n, ACC, n, tab + 8 * n, ACC, isa::kBVector),
                             rr == 0 ? "T += bias, row by row" : ""});
            // waits of the first, signals of the last core op
            {
              std::vector<unsigned> w{sM};
              if (toff >= 0 && !table_waited) {
                w.push_back(sT);
                table_waited = true;
              }
              Ins& first = v[writes_ob_now && out_o >= 2 ? 1 : 0].first;
              for (unsigned x : w) first.wait(x);
              Ins& lastv = v.back().first;
              if (unit + 2 < U_tot) lastv.signal(sRf);
            }
            // is this the last table reader of the step?  (the last unit with a table in the step)
            bool last_reader = false;
            if (toff >= 0) {
              last_reader = true;
              for (uint64_t qq = q; qq < stp.p1; ++qq)
                for (int ss = (qq == q ? sl + 1 : 0); ss < p.ns; ++ss)
                  if (stp.unit_tab[size_t((qq - stp.p0) * 2 + uint64_t(ss))] >= 0) last_reader = false;
              if (last_reader && ts_of_step_[fs] + 2 < TS_tot) v.back().first.signal(sTf);
            }
            // finishing the block
            if (last_piece) {
              auto out_store = [&](uint64_t oo, uint64_t buf, int space, const Slot& os, uint64_t pitch, uint64_t dram) {
                const unsigned sig = oo + 2 < O_tot ? (j.kind == OutKind::Residual ? sEf : sYf) : (oo + 1 == O_tot ? kPhaseDone : 0);
                v.push_back({store(t, dram + row0 * pitch + esz * os.c, buf, space, esz * os.n, mr, pitch, esz * os.n)
                                 .wait(sY).signal(sig),
                             "output block"});
              };
              switch (j.kind) {
                case OutKind::Int8: {
                  if (l.form.plain()) v.push_back({vnop(t, scratch + slot).signal(sY), "output block ready"});
                  else v.push_back({vec(Opcode::VMov, t, OB[out_o % 2], SP, TT, ACC, len).set(Field::Shift, l.form.b)
                                        .wait(out_o >= 2 ? sYf : 0).signal(sY),
                                    strf("narrow: y = T >> %u", l.form.b)});
                  out_store(out_o, OB[out_o % 2], SP, slt, l.y_pitch, l.y_dram);
                  ++o;
                  break;
                }
                case OutKind::Residual: {
                  v.push_back({vec(Opcode::VAdd, t, OB[out_o % 2], ACC, OB[out_o % 2], ACC, len, TT, ACC, isa::kBVector)
                                   .wait(sE).signal(sY),
                               "residual += T"});
                  out_store(out_o, OB[out_o % 2], ACC, slt, j.out_pitch, j.out_dram);
                  ++o;
                  if (out_o + 2 < O_tot) {
                    const OutRef& nx = outs[out_o + 2];
                    // after this store: the residual rows of the output two ahead
                    for (auto& pr : v) st.add(vkey, t, pr.first, pr.second);
                    v.clear();
                    resid_load(out_o + 2, vkey, nx.rb * j.mb, std::min(j.mb, j.rows - nx.rb * j.mb), nx.sl);
                  }
                  break;
                }
                case OutKind::Logits: {
                  v.push_back({vec(Opcode::VMov, t, OB[out_o % 2], ACC, TT, ACC, len).wait(out_o >= 2 ? sYf : 0).signal(sY),
                               "logits"});
                  out_store(out_o, OB[out_o % 2], ACC, slt, j.out_pitch, j.out_dram);
                  ++o;
                  break;
                }
                case OutKind::PlainAct: {
                  if (!l.form.plain())
                    v.push_back({vec(Opcode::VMov, t, Y[sl], SP, TT, ACC, len).set(Field::Shift, l.form.b), "narrow"});
                  v.push_back({vec(Opcode::VLut, t, OB[out_o % 2], SP, Y[sl], SP, len).set(Field::Imm, kActLut)
                                   .wait(out_o >= 2 ? sYf : 0).signal(sY),
                               "activation"});
                  out_store(out_o, OB[out_o % 2], SP, slt, j.out_pitch, j.out_dram);
                  ++o;
                  break;
                }
                case OutKind::Gated: {
                  if (!l.form.plain())
                    v.push_back({vec(Opcode::VMov, t, Y[sl], SP, TT, ACC, len).set(Field::Shift, l.form.b),
                                 sl == 0 ? "narrow gate" : "narrow up"});
                  if (sl == 1) {
                    v.push_back({vec(Opcode::VLut, t, Ea, ACC, Y[0], SP, len).set(Field::Imm, kActLut), "act(gate), int16"});
                    v.push_back({vec(Opcode::VMul, t, OB[out_o % 2], SP, Ea, ACC, len, Y[1], SP, isa::kBVector)
                                     .set(Field::Shift, j.product_shift).wait(out_o >= 2 ? sYf : 0).signal(sY),
                                 "x up, to int8"});
                    out_store(out_o, OB[out_o % 2], SP, p.s[0], j.out_pitch, j.out_dram);
                    ++o;
                  }
                  break;
                }
              }
            }
            for (auto& pr : v) st.add(vkey, t, pr.first, pr.second);
            if (gw) ++u;
          }
        if (!j.group_wise() && stp.p1 == j.pieces) u += uint64_t(p.ns);
        if (last_of_rb && f.rb + 1 < nrb)
          st.add(base + 4 * int64_t(m_local) - 3, t, matmul(t, X, X, scratch, 1, 1, 1, false, false, 1, 4).signal(sXf),
                 "input rows free");
      }
    }
    flush(st);
    barrier(workers, j.name);
    note_sram("gemm " + j.name, sp, acc);
  }

  void note_sram(const std::string& kind, const SramArena& sp, const SramArena& acc) {
    // the first layer's (and the LM head's): later layers repeat them
    if (sram_notes_.count(kind) || (kind.find("layers.") != std::string::npos && kind.find("layers.0.") == std::string::npos))
      return;
    sram_notes_[kind] = "scratchpad:\n" + sp.to_string() + "accumulator:\n" + acc.to_string();
  }

  void emit_all() {
    const uint64_t H = uint64_t(cfg_.hidden), hd = uint64_t(cfg_.head_dim);
    b_.region("embedding");
    emit_embedding_phase();
    for (size_t i = 0; i < qm_.layers.size(); ++i) {
      const golden::QLayer& Q = qm_.layers[i];
      LayerJobs& L = jobs_[i];
      const std::string p = "layers." + std::to_string(i) + ".";
      b_.region("layers." + std::to_string(i));
      emit_norm_phase(&Q.attn_norm, attn_norm_[i], resid_, xn_, 0, N_, p + "attn_norm");
      L.qkv.x_dram = xn_;
      L.qkv.lins[0].y_dram = q_;
      L.qkv.lins[0].y_pitch = uint64_t(Q.dims.q_heads) * hd;
      L.qkv.lins[1].y_dram = k_;
      L.qkv.lins[1].y_pitch = uint64_t(Q.dims.kv_heads) * hd;
      L.qkv.lins[2].y_dram = v_;
      L.qkv.lins[2].y_pitch = uint64_t(Q.dims.kv_heads) * hd;
      emit_gemm(L.qkv);
      emit_rope_phase(i);
      emit_attention_phase(i);
      L.o.x_dram = attn_;
      L.o.out_dram = resid_;
      L.o.out_pitch = 4 * H;
      emit_gemm(L.o);
      emit_norm_phase(&Q.ffn_norm, ffn_norm_[i], resid_, xn_, 0, N_, p + "ffn_norm");
      L.up.x_dram = xn_;
      L.up.out_dram = act_rows_;
      L.up.out_pitch = uint64_t(Q.dims.ffn);
      L.up.act_dram = act_[i];
      emit_gemm(L.up);
      L.down.x_dram = act_rows_;
      L.down.out_dram = resid_;
      L.down.out_pitch = 4 * H;
      emit_gemm(L.down);
    }
    // the last row only: row N-1 of the residual into xlast_ (y_dram + r * H with r = N - 1)
    b_.region("lm_head");
    emit_norm_phase(cfg_.final_norm ? &qm_.final_norm : nullptr, final_norm_, resid_, xlast_ - (N_ - 1) * H, N_ - 1, 1,
                    cfg_.final_norm ? "final_norm" : "final requant");
    head_.x_dram = xlast_;
    head_.out_dram = out_.logits;
    head_.out_pitch = 4 * uint64_t(cfg_.vocab);
    emit_gemm(head_);
  }

  // ---- images ---------------------------------------------------------------------------
  void put(const std::string& name, uint64_t addr, std::vector<uint8_t> bytes) {
    if (!bytes.empty()) out_.image.push_back({name, addr, std::move(bytes)});
  }

  void job_images(const GemmJob& j) {
    const uint64_t R = hw_.mxu.rows, C = hw_.mxu.cols;
    std::vector<uint8_t> w, tb;
    w.reserve(j.w_bytes);
    tb.reserve(j.t_bytes);
    for (unsigned t = 0; t < hw_.tiles; ++t)
      for (const GPair& p : j.pairs[t])
        for (const GStep& s : p.steps) {
          for (uint64_t q = s.p0; q < s.p1; ++q)
            for (int sl = 0; sl < p.ns; ++sl) {
              const Slot& x = p.s[sl];
              const golden::QLinear& l = *j.lins[size_t(x.lin)].q;
              const auto blk = weight_image(l.w.data() + q * j.piece * uint64_t(l.n) + x.c, uint64_t(l.n), j.piece_rows(q),
                                            x.n, R, C, j.lins[size_t(x.lin)].int4);
              w.insert(w.end(), blk.begin(), blk.end());
            }
          for (int sl = 0; sl < p.ns; ++sl)
            for (uint64_t q = s.p0; q < s.p1; ++q) {
              if (s.unit_tab[size_t((q - s.p0) * 2 + uint64_t(sl))] < 0) continue;
              const Slot& x = p.s[sl];
              const golden::QLinear& l = *j.lins[size_t(x.lin)].q;
              for (uint64_t i = 0; i < x.n; ++i) {
                if (l.group) {
                  put32(tb, l.mult[q * uint64_t(l.n) + x.c + i]);
                  put32(tb, int32_t(l.a));
                } else {
                  put32(tb, l.mult[x.c + i]);
                  put32(tb, l.shift[x.c + i]);
                }
              }
              if (q + 1 == j.pieces && !l.bias.empty())
                for (uint64_t i = 0; i < x.n; ++i) put32(tb, l.bias[x.c + i]);
            }
        }
    if (w.size() != j.w_bytes || tb.size() != j.t_bytes) throw Error(j.name + ": image sizes disagree with the plan");
    put(j.name + " weights", j.w_dram, std::move(w));
    put(j.name + " tables", j.tab_dram, std::move(tb));
  }

  void build_image() {
    const uint64_t hd = uint64_t(cfg_.head_dim);
    for (const LayerJobs& L : jobs_)
      for (const GemmJob* j : {&L.qkv, &L.o, &L.up, &L.down}) job_images(*j);
    job_images(head_);
    put("embedding rows", embed_, std::vector<uint8_t>(qm_.embed.begin(), qm_.embed.end()));
    put("embedding multipliers", embed_mult_, bytes32(qm_.embed_mult));
    for (size_t i = 0; i < qm_.layers.size(); ++i) {
      const golden::QLayer& Q = qm_.layers[i];
      const std::string p = "layers." + std::to_string(i) + ".";
      put(p + "attn_norm", attn_norm_[i], norm_params_image(Q.attn_norm));
      put(p + "ffn_norm", ffn_norm_[i], norm_params_image(Q.ffn_norm));
      put(p + "activation table", act_[i], lut_image(Q.act_table));
      put(p + "exp table", exp_[i], lut_image(Q.softmax.exp_table));
    }
    if (cfg_.final_norm) put("final_norm", final_norm_, norm_params_image(qm_.final_norm));
    put("RoPE cos", cos_, bytes32(std::vector<int32_t>(qm_.rope_cos.begin(), qm_.rope_cos.begin() + long(N_ * hd))));
    put("RoPE sin", sin_, bytes32(std::vector<int32_t>(qm_.rope_sin.begin(), qm_.rope_sin.begin() + long(N_ * hd))));
  }

  void describe() {
    std::string& o = out_.plan;
    o += strf("prefill program: %llu tokens, %zu instructions, %u tile(s)\n", (ull)N_, out_.program.code.size(), hw_.tiles);
    o += "phases per layer, each ended by a barrier: attn_norm, q/k/v GEMM, RoPE + KV append, attention, o GEMM "
         "(+ residual), ffn_norm, FFN up GEMM (+ activation), down GEMM (+ residual); then the final norm of the last "
         "row and the LM head\n";
    if (!jobs_.empty())
      for (const GemmJob* j : {&jobs_[0].qkv, &jobs_[0].o, &jobs_[0].up, &jobs_[0].down}) o += "  " + j->why + "\n";
    o += "  " + head_.why + "\n";
    for (const auto& [k, v] : sram_notes_) o += "SRAM of the " + k + " phase (every tile):\n" + v;
  }

  const golden::QuantModel& qm_;
  const ModelConfig& cfg_;
  const hw::HwConfig& hw_;
  std::vector<int64_t> tokens_;
  PrefillOptions opt_;
  ProgramBuilder b_;
  PrefillProgram out_;
  uint64_t N_ = 0, estimated_instructions_ = 0;
  std::vector<LayerJobs> jobs_;
  GemmJob head_;
  std::vector<uint64_t> ts_of_step_, unit_at_step_;
  std::vector<std::vector<isa::Instruction>> chunks_;  // without a listing: the program's pieces so far
  std::map<std::string, std::string> sram_notes_;
  uint64_t embed_ = 0, embed_mult_ = 0, final_norm_ = 0, cos_ = 0, sin_ = 0;
  std::vector<uint64_t> attn_norm_, ffn_norm_, act_, exp_;
  uint64_t kt_ = 0;
  uint64_t resid_ = 0, xn_ = 0, q_ = 0, k_ = 0, v_ = 0, qrot_ = 0, attn_ = 0, act_rows_ = 0, xlast_ = 0;
};

}  // namespace

PrefillProgram build_prefill_program(const golden::QuantModel& qm, const hw::HwConfig& hw,
                                     const std::vector<int64_t>& tokens, const PrefillOptions& opt) {
  const std::string where =
      "prefill program for " + (qm.cfg.name.empty() ? std::string("<model>") : qm.cfg.name) + " on " + hw.name;
  try {
    return Gen(qm, hw, tokens, opt).run();
  } catch (const Error& e) {
    throw Error(where + ": " + e.what());
  }
}

}  // namespace clonesim::compiler
