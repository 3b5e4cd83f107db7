#include "lower/decode_program.h"

#include <algorithm>
#include <deque>
#include <map>

#include "common/error.h"
#include "common/strf.h"
#include "isa/isa.h"
#include "lower/embedding.h"
#include "lower/ffn.h"
#include "lower/linear.h"
#include "lower/norm.h"
#include "lower/program_builder.h"

namespace clonesim::compiler {

using isa::Field;
using isa::Opcode;

namespace {

using ull = unsigned long long;
constexpr int SP = isa::kScratchpad, ACC = isa::kAccumulator;
constexpr unsigned kAll = isa::kAllTiles;
constexpr unsigned kExpLut = 0, kActLut = 1;
// Context registers: c1 the token (host), c2 = token * hidden, c3 = token * 4.
constexpr unsigned kTokenReg = 1, kRowReg = 2, kMultReg = 3;

// One linear layer of the program.
struct Lin {
  const golden::QLinear* q = nullptr;
  DecodeLinearPlan plan;
  uint64_t w_dram = 0, tab_dram = 0;
};

struct LayerLins {
  Lin q, k, v, o, f1, f2, up;  // f1: gate or fc1; f2: down or fc2; up: gated only
};

// How much of the accumulator the larger buffers may take (build_decode_program
// tries the ladder from the top until the buffers fit the design point).
struct Budget {
  bool table_pairs = true;  // the weight stream's tables two steps at a time
  unsigned cols_shift = 0;  // stream blocks of at most acc / 64 / 2^cols_shift columns
  int att_shift = 0;        // attention blocks of at most acc / 128 / 2^att_shift positions (< 0: no limit)
};

class Gen {
 public:
  Gen(const golden::QuantModel& qm, const hw::HwConfig& hw, const std::vector<DecodeStep>& steps, const Budget& budget)
      : qm_(qm), cfg_(qm.cfg), hw_(hw), steps_(steps), bud_(budget), sp_(hw.scratchpad, "scratchpad"),
        acc_(hw.accumulator, "accumulator"), b_("decode " + (qm.cfg.name.empty() ? std::string("model") : qm.cfg.name)) {}

  DecodeProgram run() {
    check();
    plan_linears();
    place_sram();
    place_dram();
    for (size_t s = 0; s < steps_.size(); ++s) emit_step(s);
    b_.emit(Ins(Opcode::Halt));
    out_.program = b_.program();
    out_.listing = b_.listing();
    out_.steps = steps_;
    out_.token_reg = kTokenReg;
    out_.pos_reg = kPosReg;
    out_.first_pos = first_pos_;
    out_.last_pos = last_pos_;
    out_.timing_only = qm_.shapes_only;
    if (!qm_.shapes_only) build_image();
    describe();
    return std::move(out_);
  }

 private:
  // ---- checks ---------------------------------------------------------------
  void check() {
    if (steps_.empty()) throw Error("no decode step asked for");
    if (cfg_.pos != PosKind::Rotary)
      throw Error("learned positions: not supported yet (the decode attention applies RoPE)");
    if (qm_.rotary_dim != cfg_.head_dim)
      throw Error(strf("partial rotary (%lld of %lld dims): not supported yet", (long long)qm_.rotary_dim,
                       (long long)cfg_.head_dim));
    if (cfg_.parallel_block) throw Error("parallel_block: not supported yet");
    for (const DecodeStep& s : steps_) {
      if (int64_t(s.pos) >= qm_.position_limit)
        throw Error(strf("position %llu is beyond max_positions %lld", (ull)s.pos, (long long)qm_.position_limit));
      if (cfg_.sliding_window > 0 && int64_t(s.pos) >= cfg_.sliding_window)
        throw Error(strf("sliding window %lld: position %llu needs it, the decode attention attends to every position",
                         (long long)cfg_.sliding_window, (ull)s.pos));
      if (s.token >= cfg_.vocab) throw Error(strf("token %lld is outside the vocabulary", (long long)s.token));
      if (s.token < 0 && &s != &steps_.front())
        throw Error("decode steps after the first take their token from the program (ctx.set), not the host");
    }
    if (qm_.recipe.weights == WeightType::Int4 && !hw_.mxu.supports(hw::WeightType::Int4))
      throw Error("int4 weights: the design point's matrix unit does not support them");
  }

  // ---- plans ------------------------------------------------------------------
  Lin lin(const golden::QLinear& l, const std::string& name) {
    Lin x;
    x.q = &l;
    try {
      x.plan = plan_decode_linear(hw_, uint64_t(l.k), uint64_t(l.n), l.type == WeightType::Int4, max_buffer_,
                                  linear_form(l), max_cols_);
    } catch (const Error& e) {
      throw Error(name + ": " + e.what());
    }
    names_[&l] = name;
    return x;
  }

  void plan_linears() {
    const uint64_t L = hw_.vxu.lanes;
    max_buffer_ = std::min(hw_.scratchpad.bank_bytes(), hw_.scratchpad.total_bytes() / 4);
    // the stream's blocks: at most acc / 64 / 2^cols_shift columns (2
    // results, 2 tables of 4 (group-wise) or 8 (per channel) bytes per
    // column, a T scratch: 20 or 28 bytes per column, under half the
    // accumulator; twice the tables with table pairs)
    max_cols_ = std::max<uint64_t>(L, (hw_.accumulator.total_bytes() / 64 >> bud_.cols_shift) / L * L);
    for (size_t i = 0; i < qm_.layers.size(); ++i) {
      const golden::QLayer& Q = qm_.layers[i];
      const std::string p = "layers." + std::to_string(i) + ".";
      LayerLins l;
      l.q = lin(Q.q, p + "q");
      l.k = lin(Q.k, p + "k");
      l.v = lin(Q.v, p + "v");
      l.o = lin(Q.o, p + "o");
      if (cfg_.gated_ffn) {
        l.f1 = lin(Q.gate, p + "gate");
        l.up = lin(Q.up, p + "up");
        l.f2 = lin(Q.down, p + "down");
        if (l.up.plan.cols != l.f1.plan.cols) throw Error(p + "up: its columns are split unlike gate's");
      } else {
        l.f1 = lin(Q.fc1, p + "fc1");
        l.f2 = lin(Q.fc2, p + "fc2");
      }
      if (l.o.plan.cols != l.f2.plan.cols)
        throw Error(p + "o: its columns are split unlike the FFN output's (the residual slices)");
      lins_.push_back(std::move(l));
    }
    plan_head();
    for (size_t i = 0; i < lins_.size(); ++i)
      if (lins_[i].o.plan.cols != lins_.front().o.plan.cols) throw Error("layers split the residual differently");
  }

  // The columns [c0, c0 + n) of a layer as a layer of its own.
  static golden::QLinear columns(const golden::QLinear& l, int64_t c0, int64_t n) {
    golden::QLinear s;
    s.name = l.name;
    s.k = l.k;
    s.n = n;
    s.type = l.type;
    s.group = l.group;
    s.a = l.a;
    s.b = l.b;
    s.to_int8 = l.to_int8;
    s.s_x = l.s_x;
    s.s_y = l.s_y;
    if (!l.w.empty()) s.w.resize(size_t(l.k * n));  // a shapes-only model has no weights
    for (int64_t k = 0; k < l.k && !l.w.empty(); ++k)
      std::copy_n(l.w.begin() + long(k * l.n + c0), n, s.w.begin() + long(k * n));
    for (int64_t g = 0; g < int64_t(l.mult.size()) / l.n; ++g)
      s.mult.insert(s.mult.end(), l.mult.begin() + long(g * l.n + c0), l.mult.begin() + long(g * l.n + c0 + n));
    if (!l.shift.empty()) s.shift.assign(l.shift.begin() + c0, l.shift.begin() + c0 + n);
    if (!l.bias.empty()) s.bias.assign(l.bias.begin() + c0, l.bias.begin() + c0 + n);
    return s;
  }

  // The LM head in chunks of columns whose T fits a 32nd of the accumulator
  // per tile (two such buffers alternate); one chunk when it all fits.
  void plan_head() {
    const uint64_t L = hw_.vxu.lanes, V = uint64_t(qm_.lm_head.n);
    const uint64_t cpt = std::max<uint64_t>(L, hw_.accumulator.total_bytes() / 32 / 4 / L * L);
    Lin full = lin(qm_.lm_head, "lm_head");
    if (full.plan.most_cols() <= cpt) {
      heads_.push_back(std::move(full));
      return;
    }
    const uint64_t width = cpt * std::min<uint64_t>(hw_.tiles, V / L);
    for (uint64_t c0 = 0; c0 < V; c0 += width) {
      const uint64_t n = std::min(width, V - c0);
      sub_.push_back(columns(qm_.lm_head, int64_t(c0), int64_t(n)));
      heads_.push_back(lin(sub_.back(), strf("lm_head[%llu:%llu]", (ull)c0, (ull)(c0 + n))));
      head_col0_.push_back(c0);
    }
  }

  std::vector<Lin*> all_lins() {
    std::vector<Lin*> v;
    for (LayerLins& l : lins_) {
      for (Lin* x : {&l.q, &l.k, &l.v, &l.o, &l.f1}) v.push_back(x);
      if (cfg_.gated_ffn) v.push_back(&l.up);
      v.push_back(&l.f2);
    }
    for (Lin& h : heads_) v.push_back(&h);
    return v;
  }

  // ---- SRAM -------------------------------------------------------------------
  void place_sram() {
    const uint64_t H = uint64_t(cfg_.hidden), hd = uint64_t(cfg_.head_dim), L = hw_.vxu.lanes;
    // the residual slices: tile t keeps the columns o and down compute on it
    rc0_ = lins_.front().o.plan.col0;
    rn_ = lins_.front().o.plan.cols;
    U_ = lins_.front().o.plan.tiles_used();
    uint64_t rmost = lins_.front().o.plan.most_cols();
    uint64_t buf = 0, cols = 0, tab = 0;
    bool partial = false;
    for (Lin* x : all_lins()) {
      buf = std::max(buf, x->plan.buffer_bytes);
      cols = std::max(cols, x->plan.nc);
      tab = std::max(tab, x->plan.max_step_table_bytes());
      partial |= x->plan.form.group == 0 && x->plan.chunks() > 1;
    }
    // a norm runs in pieces of columns whose gamma [beta] fits a table buffer
    const bool ln = cfg_.norm == NormKind::LayerNorm;
    norm_piece_ = std::max(L, std::min(std::min<uint64_t>(256, std::max(cols, L)), rmost) / L * L);
    tab = std::max(tab, sliced_norm_table_bytes(ln, norm_piece_));
    // T scratch: narrowed layers and the residual adds of o and down
    ws_ = make_weight_stream(hw_, buf, cols, sp_, acc_, sems_, tab, true, partial, bud_.table_pairs);
    x_ready_ = sems_.local("layer input in place");
    tile_done_ = sems_.local("tile outputs complete");
    qmax_ = kvmax_ = fmax_ = 0;
    uint64_t ycols[3] = {0, 0, 0}, fcols = 0;
    for (size_t i = 0; i < qm_.layers.size(); ++i) {
      const LayerDims& d = qm_.layers[i].dims;
      qmax_ = std::max(qmax_, uint64_t(d.q_heads));
      kvmax_ = std::max(kvmax_, uint64_t(d.kv_heads));
      fmax_ = std::max(fmax_, uint64_t(d.ffn));
      ycols[0] = std::max(ycols[0], lins_[i].q.plan.most_cols());
      ycols[1] = std::max(ycols[1], lins_[i].k.plan.most_cols());
      ycols[2] = std::max(ycols[2], lins_[i].v.plan.most_cols());
      fcols = std::max(fcols, lins_[i].f1.plan.most_cols());
    }
    // the tile's residual columns (int32), then the attention (its KV block
    // buffers are the largest scratchpad buffers after the weight stream's)
    R_ = acc_.alloc(4 * rmost, 0, "residual stream: the tile's columns (those o and down compute)");
    // the attention (its heads split across the tiles): the largest layer at
    // the last step's position
    DecodeAttentionShape s;
    s.q_heads = qmax_;
    s.kv_heads = kvmax_;
    s.hd = hd;
    s.max_pos = uint64_t(qm_.position_limit);
    for (const DecodeStep& st : steps_) s.pos = std::max(s.pos, st.pos);
    {
      // a block's keys fill at most a scratchpad bank or an eighth of the
      // scratchpad; its int32 scores (two buffers and the digit scratch) at
      // most acc / 128 / 2^att_shift positions, or (att_shift < 0) any
      // number: every position in one block shares a GQA group's KV loads
      const uint64_t by_acc = bud_.att_shift < 0 ? UINT64_MAX : hw_.accumulator.total_bytes() / 128 >> bud_.att_shift;
      const uint64_t by_sp = std::min(sp_.bank_bytes(), hw_.scratchpad.total_bytes() / 8) / hd;
      s.block = std::max(L, std::min(by_acc, by_sp) / L * L);
    }
    // One step: the program serves every position with as many KV blocks
    // as steps_[0].pos (the host sets c4); several: each step's own.
    first_pos_ = last_pos_ = steps_.front().pos;
    if (steps_.size() == 1) {
      first_pos_ = s.pos / s.block * s.block;
      last_pos_ = std::min(first_pos_ + s.block, uint64_t(qm_.position_limit)) - 1;
      s.pos = last_pos_;
    }
    ab_ = place_decode_attention(hw_, s, sp_, acc_);
    // scratchpad
    x_n_ = sp_.alloc(H, 0, "norm output (q/k/v, FFN and LM head input)");
    x_o_ = sp_.alloc(qmax_ * hd, 0, "o input (attention output)");
    x_d_ = sp_.alloc(fmax_, 0, "down input (FFN activation)");
    y_q_ = sp_.alloc(ycols[0], 0, "q output");
    y_k_ = sp_.alloc(ycols[1], 0, "k output");
    y_v_ = sp_.alloc(ycols[2], 0, "v output");
    y_g_ = sp_.alloc(fcols, 0, cfg_.gated_ffn ? "gate output" : "fc1 output");
    if (cfg_.gated_ffn) y_u_ = sp_.alloc(fcols, 0, "up output");
    prod_ = sp_.alloc(fcols, 0, "FFN activation of the tile's columns");
    lut_sp_ = sp_.alloc(512, 0, "FFN activation table");
    // accumulator
    // The norm's two pieces and the FFN's act(gate) live in the attention's
    // score and digit buffers when those are large enough: vector-unit
    // scratch of kernels that never overlap on a tile (the attention's
    // matrix writes to its score buffers end before its output is stored,
    // which every later kernel waits for, and begin after the vector unit's
    // RoPE, which follows the norm).
    const uint64_t np = 4 * norm_piece_;
    const bool alias_norm = 4 * ab_.block >= np, alias_act = ab_.x_bytes >= 4 * std::min<uint64_t>(fcols, 256);
    snb_ = place_sliced_norm(hw_, H, ln, norm_piece_, U_, acc_, ln ? "layernorm" : "rmsnorm",
                             alias_norm ? ab_.ring[0] : 0, alias_norm ? ab_.ring[1] : 0);
    piece_ = std::min<uint64_t>(fcols, 256);  // the product runs in pieces of columns
    if (cfg_.gated_ffn)
      a_acc_ = alias_act ? ab_.x1 : acc_.alloc(4 * piece_, 0, "FFN: act(gate) of a piece of columns, int16 in int32");
    uint64_t hcols = 0;
    for (const Lin& h : heads_) hcols = std::max(hcols, h.plan.most_cols());
    for (size_t i = 0; i < std::min<size_t>(2, heads_.size()); ++i)
      T_lm_[i] = acc_.alloc(4 * hcols, 0, strf("lm_head: logits (T) of the tile's columns%s",
                                               heads_.size() > 1 ? (i ? ", odd chunks" : ", even chunks") : ""));
    const uint64_t slot = std::min<uint64_t>(uint64_t(hw_.vxu.lanes) * 4, hw_.accumulator.line_bytes());
    sink_ = acc_.alloc(slot, slot, "sink of an unused tile's input signal");
    eb_ = place_embedding(hw_, H, false, sp_, acc_, "embedding");
    as_ = make_attention_sems(sems_);
    in_ = as_.in;  // the vector unit's input loads (every kernel's; one load queue signals it in order)
    chain_ = sems_.global("tile stores chained");
    G_ = sems_.global("data in DRAM (consumed by the broadcast load queue)");
    Gl_ = sems_.global("LM head chunk stored (consumed by the controller)");
    // the norms' pieces, tile by tile (the order of their table images)
    tile_pieces_.assign(hw_.tiles, {});
    uint64_t off = 0;
    for (unsigned t = 0; t < hw_.tiles; ++t)
      for (uint64_t c = 0; c < rn_[t]; c += norm_piece_) {
        NormPiece pc;
        pc.tile = t;
        pc.c = c;
        pc.m = std::min(norm_piece_, rn_[t] - c);
        pc.off = off;
        pc.bytes = sliced_norm_table_bytes(ln, pc.m);
        off += pc.bytes;
        tile_pieces_[t].push_back(pieces_.size());
        pieces_.push_back(pc);
      }
  }

  // ---- DRAM -------------------------------------------------------------------
  void place_dram() {
    DramMap& m = out_.map;
    const uint64_t H = uint64_t(cfg_.hidden), V = uint64_t(cfg_.vocab), hd = uint64_t(cfg_.head_dim);
    for (Lin* x : all_lins()) x->w_dram = m.alloc(names_[x->q] + " weights", x->plan.image_bytes(hw_));
    for (Lin* x : all_lins()) x->tab_dram = m.alloc(names_[x->q] + " table", x->plan.table_bytes());
    embed_ = m.alloc("embedding rows (int8)", V * H);
    embed_mult_ = m.alloc("embedding multipliers (int32)", 4 * V);
    const bool ln = cfg_.norm == NormKind::LayerNorm;
    for (size_t i = 0; i < qm_.layers.size(); ++i) {
      const std::string p = "layers." + std::to_string(i) + ".";
      attn_norm_.push_back(m.alloc(p + "attn_norm", norm_params_bytes(H, ln)));
      ffn_norm_.push_back(m.alloc(p + "ffn_norm", norm_params_bytes(H, ln)));
      act_.push_back(m.alloc(p + "activation table", 512));
      exp_.push_back(m.alloc(p + "exp table", 512));
    }
    if (cfg_.final_norm) final_norm_ = m.alloc("final_norm", norm_params_bytes(H, ln));
    for (size_t i = 0; i < qm_.layers.size(); ++i) {
      const std::string p = "layers." + std::to_string(i) + ".";
      DecodeLayerMap l;
      l.attn.q_heads = uint64_t(qm_.layers[i].dims.q_heads);
      l.attn.kv_heads = uint64_t(qm_.layers[i].dims.kv_heads);
      l.attn.hd = hd;
      l.attn.max_pos = uint64_t(qm_.position_limit);
      l.k_cache = m.alloc(p + "K cache", k_cache_bytes(l.attn));
      l.v_cache = m.alloc(p + "V cache", v_cache_bytes(l.attn));
      out_.layers.push_back(l);
    }
    rope_first_ = first_pos_;
    rope_last_ = last_pos_;
    for (const DecodeStep& st : steps_) {
      rope_first_ = std::min(rope_first_, st.pos);
      rope_last_ = std::max(rope_last_, st.pos);
    }
    const uint64_t rows = rope_last_ - rope_first_ + 1;
    cos_ = m.alloc(strf("RoPE cos, positions %llu..%llu (one head)", (ull)rope_first_, (ull)rope_last_), rows * 4 * hd);
    sin_ = m.alloc(strf("RoPE sin, positions %llu..%llu (one head)", (ull)rope_first_, (ull)rope_last_), rows * 4 * hd);
    q_dram_ = m.alloc("q", qmax_ * hd);
    k_dram_ = m.alloc("k", kvmax_ * hd);
    v_dram_ = m.alloc("v", kvmax_ * hd);
    attn_dram_ = m.alloc("attention output", qmax_ * hd);
    prod_dram_ = m.alloc("FFN activation", fmax_);
    part_row_ = (4 * uint64_t(U_) + 63) / 64 * 64;
    part_dram_ = m.alloc("norm partial sums exchange (int32: the tiles' H, then L)", 2 * part_row_);
    xn_dram_ = m.alloc("norm output exchange (int8)", H);
    for (size_t s = 0; s < steps_.size(); ++s)
      out_.logits.push_back(m.alloc(strf("logits, step %zu (int32)", s), 4 * V));
  }

  // ---- code -------------------------------------------------------------------
  void emit_lin(const Lin& x, DecodeLinearIO io) {
    io.w_dram = x.w_dram;
    io.tab_dram = x.tab_dram;
    io.tile_done = tile_done_;
    io.chain = chain_;
    io.join_by_controller = hw_.tiles > 2;  // the one consumer of chain_: the controller
    const auto it = pre_.find(&x);
    io.prefetched = it == pre_.end() ? 0 : it->second;
    pre_.erase(&x);
    emit_decode_linear(b_, hw_, x.plan, io, ws_, names_.at(x.q));
  }

  // The first weight blocks of `x` ahead of the loads that wait for data in
  // DRAM (the load queue is in order), right after the layer before it.
  void prefetch(const Lin& x) {
    DecodeLinearIO io;
    io.w_dram = x.w_dram;
    io.tab_dram = x.tab_dram;
    pre_[&x] = emit_decode_linear_prefetch(b_, x.plan, io, ws_, names_.at(x.q));
  }

  // The input of a linear from DRAM to every tile; tiles the layer does not
  // use take the signal with a one-element matmul (every signal consumed).
  void broadcast_input(uint64_t dram, uint64_t sp, uint64_t bytes, const std::string& what) {
    b_.emit(load(kAll, dram, sp, SP, bytes).wait(G_).signal(x_ready_), what + " to every tile");
  }
  void sinks(const Lin& x) {
    for (unsigned t = 0; t < hw_.tiles; ++t)
      if (x.plan.cols[t] == 0)
        b_.emit(matmul(t, x_n_, x_n_, sink_, 1, 1, 1, false, false, 1, 4).wait(x_ready_),
                strf("tile %u: unused by %s, takes its input signal", t, names_.at(x.q).c_str()));
  }

  // Tiles without residual columns take a broadcast's `in` signals.
  void idle_tiles_take_in(unsigned count, const std::string& what) {
    for (unsigned t = 0; t < hw_.tiles; ++t)
      if (rn_[t] == 0) {
        Ins i = vec(Opcode::VMov, t, sink_, ACC, sink_, ACC, 1);
        for (unsigned k = 0; k < count; ++k) i.wait(in_);
        b_.emit(i, strf("tile %u: no residual columns, takes the signal of %s", t, what.c_str()));
      }
  }

  // The table steps of a norm (its gamma [beta] in pieces) ride the weight
  // stream; the first two per tile are emitted ahead, right after the layer
  // before the norm.
  void prefetch_norm(uint64_t table_dram, const std::string& name) {
    b_.section(name + ": the first gamma pieces, ahead");
    norm_pre_ = 0;
    for (size_t j = 0; j < 2; ++j)
      for (unsigned t = 0; t < hw_.tiles; ++t)
        if (j < tile_pieces_[t].size()) {
          const NormPiece& pc = pieces_[tile_pieces_[t][j]];
          b_.emit(stream_table_load(ws_, t, ws_.next[t] + j, table_dram + pc.off, pc.bytes),
                  strf("%s tile %u piece %zu: gamma%s", name.c_str(), t, j, cfg_.norm == NormKind::LayerNorm ? ", beta" : ""));
          norm_pre_ = j + 1;
        }
  }

  // The tiles' partial sums of one pass meet: each tile stores its (H, L)
  // into a row each, one broadcast brings all of them to every tile.
  void exchange_partials(unsigned rows, const std::string& name) {
    std::vector<Ins> st;
    for (unsigned t = 0; t < hw_.tiles; ++t)
      if (rn_[t]) st.push_back(store(t, part_dram_ + 4 * t, snb_.own_h(), ACC, 4, rows, part_row_, snb_.slot));
    emit_joined_stores(b_, std::move(st), tile_done_, chain_, G_, name + ": partial sums", hw_.tiles > 2);
    b_.emit(load(kAll, part_dram_, snb_.gather_h, ACC, 4 * U_, rows, part_row_, snb_.gather_stride())
                .wait(G_).signal(in_),
            "every tile's partial sums to every tile");
    idle_tiles_take_in(1, "the partial sums");
  }

  // One pass of sums over every tile's columns, met across the tiles and
  // finished on each (the mean, or 1/rms).
  void norm_sums(const golden::QNorm& n, NormSum kind, const std::string& name) {
    const bool multi = U_ > 1;
    const unsigned s = norm_sum_shift(n, kind);
    for (unsigned t = 0; t < hw_.tiles; ++t)
      if (rn_[t])
        emit_norm_partial_sums(b_, t, n, kind, R_, rn_[t], snb_, 0, multi ? tile_done_ : 0,
                               strf("%s tile %u", name.c_str(), t));
    if (multi) exchange_partials(s ? 2 : 1, name);
    for (unsigned t = 0; t < hw_.tiles; ++t)
      if (rn_[t]) emit_norm_combine(b_, t, n, kind, snb_, multi ? in_ : 0, strf("%s tile %u", name.c_str(), t));
  }

  // A norm of the residual (each tile its columns) into x_n on every tile:
  // the sums' passes, then the normalised pieces (table steps on the weight
  // stream) into the tile's columns of x_n; with several tiles the columns
  // meet in DRAM and come back to every tile with one broadcast (signalling
  // x_ready; tiles `next` does not use take it with a sink).  n == nullptr:
  // the final requant of a model without a final norm.  Then `next`'s first
  // blocks are emitted ahead and, for an FFN norm, the activation table loaded.
  void norm_stage(const golden::QNorm* n, uint64_t table_dram, const Lin& next, int64_t act_layer,
                  const std::string& name) {
    b_.section(name);
    const bool exchange = hw_.tiles > 1;
    if (n) {
      if (n->kind == NormKind::LayerNorm) {
        norm_sums(*n, NormSum::X, name + " (mean)");
        norm_sums(*n, NormSum::CentredSquares, name + " (variance)");
      } else {
        norm_sums(*n, NormSum::Squares, name);
      }
      size_t most = 0;
      for (unsigned t = 0; t < hw_.tiles; ++t) most = std::max(most, tile_pieces_[t].size());
      for (size_t j = 0; j < most; ++j) {
        for (unsigned t = 0; t < hw_.tiles; ++t)
          if (j < tile_pieces_[t].size() && j >= norm_pre_) {
            const NormPiece& pc = pieces_[tile_pieces_[t][j]];
            b_.emit(stream_table_load(ws_, t, ws_.next[t] + j, table_dram + pc.off, pc.bytes),
                    strf("%s tile %u piece %zu: gamma%s", name.c_str(), t, j, n->kind == NormKind::LayerNorm ? ", beta" : ""));
          }
        for (unsigned t = 0; t < hw_.tiles; ++t)
          if (j < tile_pieces_[t].size()) {
            const NormPiece& pc = pieces_[tile_pieces_[t][j]];
            const uint64_t g = ws_.next[t] + j;
            emit_stream_vector(b_, ws_,
                               norm_piece_ops(t, *n, R_ + 4 * pc.c, pc.m, x_n_ + rc0_[t] + pc.c, stream_table_addr(ws_, g),
                                              snb_),
                               {strf("%s tile %u columns %llu..: normalised", name.c_str(), t, (ull)(rc0_[t] + pc.c))});
          }
      }
      for (unsigned t = 0; t < hw_.tiles; ++t) ws_.next[t] += tile_pieces_[t].size();
      norm_pre_ = 0;
    } else {
      for (unsigned t = 0; t < hw_.tiles; ++t)
        if (rn_[t])
          b_.emit(vec(Opcode::VRequant, t, x_n_ + rc0_[t], SP, R_, ACC, rn_[t])
                      .set(Field::Imm, qm_.final_mult)
                      .set(Field::Shift, qm_.final_shift),
                  strf("%s tile %u: requant to int8", name.c_str(), t));
    }
    // the tile's int8 columns complete: for the store, or (one tile) for the next layer
    for (unsigned t = 0; t < hw_.tiles; ++t)
      if (rn_[t]) {
        const unsigned sig = exchange ? tile_done_ : (next.plan.cols[t] ? x_ready_ : 0);
        b_.emit(vec(Opcode::VMov, t, x_n_ + rc0_[t], SP, x_n_ + rc0_[t], SP, 1).signal(sig),
                strf("%s tile %u: its columns complete", name.c_str(), t));
      }
    prefetch(next);
    if (exchange) {
      std::vector<Ins> st;
      for (unsigned t = 0; t < hw_.tiles; ++t)
        if (rn_[t]) st.push_back(store(t, xn_dram_ + rc0_[t], x_n_ + rc0_[t], SP, rn_[t]));
      emit_joined_stores(b_, std::move(st), tile_done_, chain_, G_, name + ": normalised columns", hw_.tiles > 2);
      broadcast_input(xn_dram_, x_n_, uint64_t(cfg_.hidden), name + " output");
      sinks(next);
    }
    if (act_layer >= 0) {
      b_.emit(load(kAll, act_[size_t(act_layer)], lut_sp_, SP, 512).signal(in_), "activation table");
      for (unsigned t = 0; t < hw_.tiles; ++t) emit_lut_load(b_, t, lut_sp_, kActLut, in_, strf("tile %u", t));
    }
  }

  void emit_step(size_t si) {
    const DecodeStep& st = steps_[si];
    const uint64_t H = uint64_t(cfg_.hidden), hd = uint64_t(cfg_.head_dim);
    // regions: the embedding, each layer, the LM head (per step when several)
    const std::string rp = steps_.size() > 1 ? strf("step %zu: ", si) : std::string();
    b_.region(rp + "embedding");
    if (steps_.size() == 1)
      b_.section(strf("==== decode step: position p in %llu..%llu (c%u, set by the host)", (ull)first_pos_,
                      (ull)last_pos_, kPosReg));
    else
      b_.section(strf("==== decode step %zu: position %llu", si, (ull)st.pos));
    if (steps_.size() > 1)
      b_.emit(Ins(Opcode::CtxSet).set(Field::Reg, kPosReg).set(Field::Value, int64_t(st.pos)), "the position");
    if (st.token >= 0) b_.emit(Ins(Opcode::CtxSet).set(Field::Reg, kTokenReg).set(Field::Value, st.token), "the token");
    b_.emit(Ins(Opcode::CtxMul).set(Field::Reg, kRowReg).set(Field::Src, kTokenReg).set(Field::Value, int64_t(H)),
            "token * hidden: its embedding row");
    b_.emit(Ins(Opcode::CtxMul).set(Field::Reg, kMultReg).set(Field::Src, kTokenReg).set(Field::Value, 4),
            "token * 4: its multiplier");
    // the token's row to every tile, each widens its residual columns (golden::widen)
    b_.section("embedding: the token's row, widened into each tile's residual columns");
    b_.emit(load(kAll, embed_, eb_.e, SP, H).addr(kRowReg).signal(in_), "embedding: token row");
    b_.emit(load(kAll, embed_mult_, eb_.m, ACC, 4).addr(kMultReg).signal(in_), "token multiplier");
    for (unsigned t = 0; t < hw_.tiles; ++t)
      if (rn_[t])
        b_.emit(vec(Opcode::VMul, t, R_, ACC, eb_.e + rc0_[t], SP, rn_[t])
                    .set(Field::B, int64_t(eb_.m)).set(Field::BSpace, ACC).set(Field::BMode, isa::kBScalar)
                    .set(Field::Shift, qm_.embed_shift)
                    .wait(in_).wait(in_),
                strf("tile %u: widen columns %llu..%llu", t, (ull)rc0_[t], (ull)(rc0_[t] + rn_[t] - 1)));
    idle_tiles_take_in(2, "the embedding loads");
    for (size_t i = 0; i < qm_.layers.size(); ++i) {
      const golden::QLayer& Q = qm_.layers[i];
      const LayerLins& l = lins_[i];
      const std::string p = "layers." + std::to_string(i) + ".";
      b_.region(rp + "layers." + std::to_string(i));
      if (i == 0) prefetch_norm(attn_norm_[i], p + "attn_norm");  // later layers': after the previous down
      norm_stage(&Q.attn_norm, attn_norm_[i], l.q, -1, p + "attn_norm");
      DecodeLinearIO io;
      io.x_sp = x_n_;
      io.x_ready = x_ready_;
      io.y_dram = q_dram_;
      io.y_sp = y_q_;
      emit_lin(l.q, io);
      io.x_ready = 0;  // the same input: the matrix unit is past q's first matmul
      io.y_dram = k_dram_;
      io.y_sp = y_k_;
      emit_lin(l.k, io);
      io.y_dram = v_dram_;
      io.y_sp = y_v_;
      io.done = G_;  // v's last store follows q's and k's in every tile's store queue
      emit_lin(l.v, io);
      prefetch(l.o);
      // the attention, its heads split across the tiles
      DecodeAttentionShape s = out_.layers[i].attn;
      s.pos = steps_.size() == 1 ? last_pos_ : st.pos;
      s.d_shift = Q.softmax.d_shift;
      s.recip_shift = Q.softmax.recip_shift;
      s.lut = kExpLut;
      DecodeAttentionIO aio;
      aio.q_dram = q_dram_;
      aio.k_dram = k_dram_;
      aio.v_dram = v_dram_;
      aio.cos_dram = cos_;
      aio.sin_dram = sin_;
      aio.rope_first = rope_first_;
      aio.exp_dram = exp_[i];
      aio.kc_dram = out_.layers[i].k_cache;
      aio.vc_dram = out_.layers[i].v_cache;
      aio.out_dram = attn_dram_;
      aio.in_ready = G_;
      aio.tile_done = tile_done_;
      aio.done = G_;
      aio.chain = chain_;
      aio.join_by_controller = hw_.tiles > 2;  // as every other join of the program
      emit_decode_attention_tiles(b_, hw_, s, aio, ab_, as_, hw_.tiles, p + "attention");
      // o into the residual
      b_.section(p + "o");
      broadcast_input(attn_dram_, x_o_, s.q_heads * hd, "attention output");
      DecodeLinearIO oio;
      oio.x_sp = x_o_;
      oio.x_ready = x_ready_;
      oio.store = false;
      oio.add_acc = R_;  // each block's T into the tile's residual columns
      emit_lin(l.o, oio);
      prefetch_norm(ffn_norm_[i], p + "ffn_norm");
      sinks(l.o);
      // FFN
      norm_stage(&Q.ffn_norm, ffn_norm_[i], l.f1, int64_t(i), p + "ffn_norm");
      DecodeLinearIO fio;
      fio.x_sp = x_n_;
      fio.x_ready = x_ready_;
      fio.store = false;
      fio.y_sp = y_g_;
      emit_lin(l.f1, fio);
      if (cfg_.gated_ffn) {
        fio.x_ready = 0;
        fio.y_sp = y_u_;
        emit_lin(l.up, fio);
      }
      prefetch(l.f2);
      b_.section(p + "FFN activation");
      std::vector<Ins> stores;
      for (unsigned t = 0; t < hw_.tiles; ++t) {
        const uint64_t n = l.f1.plan.cols[t];
        if (!n) continue;
        if (cfg_.gated_ffn)
          for (uint64_t c = 0; c < n; c += piece_) {
            const uint64_t m = std::min(piece_, n - c);
            emit_gated_product(b_, t, m, y_g_ + c, y_u_ + c, a_acc_, prod_ + c, kActLut, Q.product_shift, 0,
                               c + m == n ? tile_done_ : 0, strf("%stile %u columns %llu..", p.c_str(), t, (ull)c));
          }
        else
          emit_lut_activation(b_, t, n, y_g_, prod_, kActLut, 0, tile_done_, strf("%stile %u", p.c_str(), t));
        stores.push_back(store(t, prod_dram_ + l.f1.plan.col0[t], prod_, SP, n));
      }
      emit_joined_stores(b_, std::move(stores), tile_done_, chain_, G_, p + "FFN activation", hw_.tiles > 2);
      b_.section(p + (cfg_.gated_ffn ? "down" : "fc2"));
      broadcast_input(prod_dram_, x_d_, uint64_t(Q.dims.ffn), "FFN activation");
      DecodeLinearIO dio;
      dio.x_sp = x_d_;
      dio.x_ready = x_ready_;
      dio.store = false;
      dio.add_acc = R_;
      emit_lin(l.f2, dio);
      if (i + 1 < qm_.layers.size()) prefetch_norm(attn_norm_[i + 1], "layers." + std::to_string(i + 1) + ".attn_norm");
      else if (cfg_.final_norm) prefetch_norm(final_norm_, "final_norm");
      sinks(l.f2);
    }
    b_.region(rp + "lm_head");
    norm_stage(cfg_.final_norm ? &qm_.final_norm : nullptr, final_norm_, heads_.front(), -1,
               cfg_.final_norm ? "final_norm" : "final requant");
    // the LM head, chunk by chunk: chunk c reuses chunk c - 2's T buffer once
    // its stores are done (a control nop holds dispatch until then)
    const size_t C = heads_.size();
    for (size_t c = 0; c < C; ++c) {
      if (c >= 2) b_.emit(Ins(Opcode::Nop).wait(Gl_), strf("LM head chunk %zu stored: its T buffer is free", c - 2));
      DecodeLinearIO hio;
      hio.x_sp = x_n_;
      hio.x_ready = c == 0 ? x_ready_ : 0;
      hio.y_dram = out_.logits[si] + 4 * (C > 1 ? head_col0_[c] : 0);
      hio.y_acc = T_lm_[c % 2];
      hio.done = c + 2 < C ? Gl_ : 0;
      emit_lin(heads_[c], hio);
      if (c + 1 < C) prefetch(heads_[c + 1]);
    }
  }

  // ---- image ----------------------------------------------------------------
  void put(const std::string& name, uint64_t addr, std::vector<uint8_t> bytes) {
    out_.image.push_back({name, addr, std::move(bytes)});
  }

  void build_image() {
    const uint64_t hd = uint64_t(cfg_.head_dim);
    for (Lin* x : all_lins()) {
      const golden::QLinear& l = *x->q;
      put(names_[x->q] + " weights", x->w_dram, decode_linear_weights(hw_, x->plan, l.w.data()));
      put(names_[x->q] + " table", x->tab_dram, decode_linear_table(x->plan, l.mult, l.shift, l.bias));
    }
    put("embedding rows", embed_, std::vector<uint8_t>(qm_.embed.begin(), qm_.embed.end()));
    put("embedding multipliers", embed_mult_, bytes32(qm_.embed_mult));
    for (size_t i = 0; i < qm_.layers.size(); ++i) {
      const golden::QLayer& Q = qm_.layers[i];
      const std::string p = "layers." + std::to_string(i) + ".";
      put(p + "attn_norm", attn_norm_[i], norm_table_image(Q.attn_norm));
      put(p + "ffn_norm", ffn_norm_[i], norm_table_image(Q.ffn_norm));
      put(p + "activation table", act_[i], lut_image(Q.act_table));
      put(p + "exp table", exp_[i], lut_image(Q.softmax.exp_table));
    }
    if (cfg_.final_norm) put("final_norm", final_norm_, norm_table_image(qm_.final_norm));
    {
      // one head's tables (they repeat per head), rows rope_first_..rope_last_
      const long a = long(rope_first_ * hd), z = long((rope_last_ + 1) * hd);
      const std::vector<int32_t> c(qm_.rope_cos.begin() + a, qm_.rope_cos.begin() + z);
      const std::vector<int32_t> sn(qm_.rope_sin.begin() + a, qm_.rope_sin.begin() + z);
      put(strf("RoPE cos, positions %llu..%llu", (ull)rope_first_, (ull)rope_last_), cos_, bytes32(c));
      put(strf("RoPE sin, positions %llu..%llu", (ull)rope_first_, (ull)rope_last_), sin_, bytes32(sn));
    }
  }

  // A norm's table image: its pieces' gamma [beta], in the order of the stream's steps.
  std::vector<uint8_t> norm_table_image(const golden::QNorm& n) {
    std::vector<uint8_t> out;
    for (const NormPiece& pc : pieces_) {
      const std::vector<uint8_t> t = sliced_norm_table(n, rc0_[pc.tile] + pc.c, pc.m);
      out.insert(out.end(), t.begin(), t.end());
    }
    return out;
  }

  void describe() {
    std::string& o = out_.plan;
    o += strf("decode program: %zu step(s), %zu instructions, %u tile(s)\n", steps_.size(), out_.program.code.size(),
              hw_.tiles);
    for (Lin* x : all_lins()) {
      const std::string& n = names_[x->q];
      if (n.rfind("layers.0.", 0) == 0 || n.rfind("lm_head", 0) == 0) o += "  " + n + ": " + x->plan.why + "\n";
    }
    o += strf("weight stream: buffers of %llu B, blocks up to %llu columns, tables of %llu B%s\n",
              (ull)ws_.buffer_bytes, (ull)ws_.max_cols, (ull)ws_.table_bytes,
              ws_.table_pairs ? ", loaded two steps at a time" : "");
    o += "scratchpad (every tile):\n" + sp_.to_string();
    o += "accumulator (every tile):\n" + acc_.to_string();
  }

  const golden::QuantModel& qm_;
  const ModelConfig& cfg_;
  const hw::HwConfig& hw_;
  std::vector<DecodeStep> steps_;
  Budget bud_;
  SramArena sp_, acc_;
  SemPool sems_;
  ProgramBuilder b_;
  DecodeProgram out_;

  uint64_t max_buffer_ = 0, max_cols_ = 0;
  std::vector<LayerLins> lins_;
  std::vector<Lin> heads_;             // the LM head, in chunks of columns
  std::deque<golden::QLinear> sub_;    // the chunks' weights
  std::vector<uint64_t> head_col0_;
  std::map<const golden::QLinear*, std::string> names_;
  std::map<const Lin*, size_t> pre_;  // prefetched steps of the linears about to be emitted

  WeightStream ws_;
  unsigned x_ready_ = 0, tile_done_ = 0, in_ = 0, chain_ = 0, G_ = 0, Gl_ = 0;
  AttentionSems as_;
  DecodeAttentionBuffers ab_;
  SlicedNormBuffers snb_;
  EmbeddingBuffers eb_;
  // the residual slices (the columns of o and down per tile) and the norms' pieces
  std::vector<uint64_t> rc0_, rn_;
  unsigned U_ = 0;
  uint64_t norm_piece_ = 0;
  struct NormPiece {
    unsigned tile = 0;
    uint64_t c = 0, m = 0, off = 0, bytes = 0;  // columns [c, c + m) of the tile's slice; table image offset
  };
  std::vector<NormPiece> pieces_;
  std::vector<std::vector<size_t>> tile_pieces_;
  size_t norm_pre_ = 0;  // table steps per tile of the next norm emitted ahead
  uint64_t qmax_ = 0, kvmax_ = 0, fmax_ = 0, piece_ = 0;
  uint64_t x_n_ = 0, x_o_ = 0, x_d_ = 0, y_q_ = 0, y_k_ = 0, y_v_ = 0, y_g_ = 0, y_u_ = 0, prod_ = 0, lut_sp_ = 0;
  uint64_t R_ = 0, T_lm_[2] = {0, 0}, a_acc_ = 0, sink_ = 0;

  uint64_t embed_ = 0, embed_mult_ = 0, final_norm_ = 0;
  std::vector<uint64_t> attn_norm_, ffn_norm_, act_, exp_;
  uint64_t cos_ = 0, sin_ = 0;                 // RoPE tables, rows rope_first_..rope_last_
  uint64_t first_pos_ = 0, last_pos_ = 0, rope_first_ = 0, rope_last_ = 0;
  uint64_t q_dram_ = 0, k_dram_ = 0, v_dram_ = 0, attn_dram_ = 0, prod_dram_ = 0;
  uint64_t part_dram_ = 0, part_row_ = 0, xn_dram_ = 0;
};

}  // namespace

DecodeProgram build_decode_program(const golden::QuantModel& qm, const hw::HwConfig& hw,
                                   const std::vector<DecodeStep>& steps) {
  const std::string where =
      "decode program for " + (qm.cfg.name.empty() ? std::string("<model>") : qm.cfg.name) + " on " + hw.name;
  try {
    // The largest weight-stream blocks whose buffers, with everything else,
    // fit the design point's SRAM; the error of the smallest, when none does.
    const unsigned L = hw.vxu.lanes;
    std::vector<Budget> ladder = {{true, 0, -1}, {true, 0, 0}, {false, 0, 0}};
    for (unsigned k = 1; (hw.accumulator.total_bytes() / 64 >> k) >= L; ++k) ladder.push_back({false, k, int(k) - 1});
    for (size_t i = 0; i < ladder.size(); ++i) {
      const bool last = i + 1 == ladder.size();
      try {
        return Gen(qm, hw, steps, ladder[i]).run();
      } catch (const Error& e) {
        const std::string w = e.what();
        const bool sram = w.rfind("accumulator: ", 0) == 0 || w.rfind("scratchpad: ", 0) == 0;
        if (!sram || last) throw;
      }
    }
    throw Error("no accumulator budget to try");
  } catch (const Error& e) {
    throw Error(where + ": " + e.what());
  }
}

std::vector<DramChunk> kv_cache_image(const hw::HwConfig& hw, const DecodeProgram& p, size_t layer,
                                      const std::vector<int8_t>& k, const std::vector<int8_t>& v, uint64_t positions) {
  return kv_cache_image(hw, p.layers, layer, k, v, positions);
}

std::vector<DramChunk> kv_cache_image(const hw::HwConfig& hw, const std::vector<DecodeLayerMap>& layers, size_t layer,
                                      const std::vector<int8_t>& k, const std::vector<int8_t>& v, uint64_t positions) {
  const DecodeLayerMap& l = layers.at(layer);
  const uint64_t kvh = l.attn.kv_heads, hd = l.attn.hd;
  if (k.size() < positions * kvh * hd || v.size() < positions * kvh * hd)
    throw Error(strf("KV cache of layer %zu: fewer than %llu positions given", layer, (ull)positions));
  std::vector<uint8_t> kb(k_cache_bytes(l.attn), 0), vb(v_cache_bytes(l.attn), 0);
  for (uint64_t pos = 0; pos < positions; ++pos)
    for (uint64_t j = 0; j < kvh; ++j)
      for (uint64_t e = 0; e < hd; ++e) {
        const size_t src = size_t((pos * kvh + j) * hd + e);
        kb[(j * l.attn.max_pos + pos) * hd + e] = uint8_t(k[src]);
        vb[v_cache_offset(hw, l.attn, j, pos, e)] = uint8_t(v[src]);
      }
  const std::string n = "layers." + std::to_string(layer) + ".";
  return {{n + "K cache", l.k_cache, std::move(kb)}, {n + "V cache", l.v_cache, std::move(vb)}};
}

std::array<int64_t, 8> decode_context(const DecodeProgram& p, uint64_t pos, int64_t token) {
  if (pos < p.first_pos || pos > p.last_pos)
    throw Error(strf("decode program for positions %llu..%llu: position %llu is outside them", (ull)p.first_pos,
                     (ull)p.last_pos, (ull)pos));
  std::array<int64_t, 8> c{};
  c[p.token_reg] = token;
  c[p.pos_reg] = int64_t(pos);
  return c;
}

uint64_t k_cache_addr(const std::vector<DecodeLayerMap>& layers, size_t layer, uint64_t pos, uint64_t j, uint64_t e) {
  const DecodeLayerMap& l = layers.at(layer);
  return l.k_cache + (j * l.attn.max_pos + pos) * l.attn.hd + e;
}

uint64_t v_cache_addr(const hw::HwConfig& hw, const std::vector<DecodeLayerMap>& layers, size_t layer, uint64_t pos,
                      uint64_t j, uint64_t e) {
  const DecodeLayerMap& l = layers.at(layer);
  return l.v_cache + v_cache_offset(hw, l.attn, j, pos, e);
}

}  // namespace clonesim::compiler
