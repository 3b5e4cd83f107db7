#include "lower/linear.h"

#include <algorithm>

#include "common/error.h"
#include "common/strf.h"
#include "isa/isa.h"
#include "lower/weight_image.h"

namespace clonesim::compiler {

using isa::Field;
using isa::Opcode;

namespace {
constexpr int SP = isa::kScratchpad, ACC = isa::kAccumulator;
using ull = unsigned long long;

// Table bytes of one step.
uint64_t step_table_bytes(const LinearForm& f, uint64_t n, bool last_step) {
  return (f.group == 0 ? 8 * n : 4 * n) + (f.bias && last_step ? 4 * n : 0);
}
}  // namespace

LinearForm linear_form(const golden::QLinear& l) {
  LinearForm f;
  f.group = uint64_t(l.group);
  f.a = l.a;
  f.b = l.b;
  f.bias = !l.bias.empty();
  f.wide = !l.to_int8;
  return f;
}

unsigned DecodeLinearPlan::tiles_used() const {
  unsigned n = 0;
  for (uint64_t c : cols) n += c > 0;
  return n;
}

uint64_t DecodeLinearPlan::most_cols() const { return cols.empty() ? 0 : *std::max_element(cols.begin(), cols.end()); }

uint64_t DecodeLinearPlan::block_cols(unsigned tile, uint64_t b) const {
  return std::min(nc, cols[tile] - b * nc);
}

uint64_t DecodeLinearPlan::groups() const { return form.group == 0 ? 1 : (K + form.group - 1) / form.group; }

uint64_t DecodeLinearPlan::chunks() const { return (K + krows - 1) / krows; }

uint64_t DecodeLinearPlan::image_offset(const hw::HwConfig&, unsigned tile, uint64_t b) const {
  for (const LinearStep& s : steps)
    if (s.tile >= tile && (s.tile > tile || s.block >= b)) return s.w_off;
  return image_bytes(hw::HwConfig{});
}

uint64_t DecodeLinearPlan::image_bytes(const hw::HwConfig&) const {
  return steps.empty() ? 0 : steps.back().w_off + steps.back().w_bytes;
}

uint64_t DecodeLinearPlan::table_bytes() const {
  return steps.empty() ? 0 : steps.back().t_off + steps.back().t_bytes;
}

uint64_t DecodeLinearPlan::max_step_table_bytes() const {
  uint64_t m = 0;
  for (const LinearStep& s : steps) m = std::max(m, s.t_bytes);
  return m;
}

DecodeLinearPlan plan_decode_linear(const hw::HwConfig& hw, uint64_t K, uint64_t N, bool int4, uint64_t max_buffer,
                                    const LinearForm& form, uint64_t max_cols) {
  const uint64_t L = hw.vxu.lanes, R = hw.mxu.rows, C = hw.mxu.cols;
  // Per channel, K beyond one matmul (or one block of L columns beyond the
  // buffer) is split into chunks whose partial sums the vector unit adds: no
  // partial or total sum of K int8 products reaches 2^31 while K < 2^17, so
  // the saturating vadd equals the matmul's wrapping sum.
  if (K < 1 || (form.group == 0 && K > 131071) || (form.group > 4095 && K > 4095))
    throw Error(strf("linear %llux%llu: K must be 1..131071 and a group at most 4095 rows", (ull)K, (ull)N));
  if (N < 1 || N % L) throw Error(strf("linear %llux%llu: N must be a multiple of the %llu vector lanes", (ull)K, (ull)N, (ull)L));
  DecodeLinearPlan p;
  p.K = K;
  p.N = N;
  p.int4 = int4;
  p.form = form;
  // columns per tile: whole lane groups, as even as possible
  const uint64_t groups = N / L, T = std::min<uint64_t>(hw.tiles, groups);
  p.col0.assign(hw.tiles, 0);
  p.cols.assign(hw.tiles, 0);
  for (uint64_t t = 0, c = 0; t < T; ++t) {
    const uint64_t g = groups / T + (t < groups % T);
    p.col0[t] = c;
    p.cols[t] = g * L;
    c += g * L;
  }
  // rows per step: a K-group, or (per channel) all of K or its largest chunk
  // (a multiple of the array rows) that fits one matmul and the buffer
  uint64_t kstep = form.group == 0 ? K : std::min(form.group, K);
  if (form.group == 0 && (K > 4095 || weight_image_bytes(K, L, R, C, int4) > max_buffer)) {
    kstep = std::min<uint64_t>(4095, K) / R * R;
    while (kstep > R && weight_image_bytes(kstep, L, R, C, int4) > max_buffer) kstep -= R;
    if (kstep == 0) kstep = std::min<uint64_t>(K, 4095);
  }
  p.krows = kstep;
  // block: the most columns (a multiple of the lanes, <= 4095, <= max_cols)
  // whose step image fits the buffer
  uint64_t nc = std::min<uint64_t>(p.most_cols(), std::min<uint64_t>(4095, std::max(max_cols, L)) / L * L);
  while (nc > L && weight_image_bytes(kstep, nc, R, C, int4) > max_buffer) nc -= L;
  if (weight_image_bytes(kstep, nc, R, C, int4) > max_buffer)
    throw Error(strf("linear %llux%llu: one block of %llu columns needs %llu scratchpad bytes, the buffer has %llu",
                     (ull)K, (ull)N, (ull)nc, (ull)weight_image_bytes(kstep, nc, R, C, int4), (ull)max_buffer));
  p.nc = nc;
  // the steps, in image order
  const uint64_t G = p.chunks();
  uint64_t w_off = 0, t_off = 0;
  for (unsigned t = 0; t < hw.tiles; ++t)
    for (uint64_t j = 0; j < p.blocks(t); ++j)
      for (uint64_t g = 0; g < G; ++g) {
        LinearStep s;
        s.tile = t;
        s.block = j;
        s.group = g;
        s.groups = G;
        s.k0 = g * kstep;
        s.kn = std::min(kstep, K - s.k0);
        s.c = j * nc;
        s.n = p.block_cols(t, j);
        s.w_off = w_off;
        s.w_bytes = weight_image_bytes(s.kn, s.n, R, C, int4);
        s.t_off = t_off;
        s.t_bytes = step_table_bytes(form, s.n, g + 1 == G);
        w_off += s.w_bytes;
        t_off += s.t_bytes;
        p.buffer_bytes = std::max(p.buffer_bytes, s.w_bytes);
        p.steps.push_back(s);
      }
  const std::string how =
      form.group ? strf("groups of %llu, vmul shift %u", (ull)form.group, form.a)
                 : (G > 1 ? strf("per channel, K in %llu chunks of %llu", (ull)G, (ull)kstep) : std::string("per channel"));
  p.why = strf("decode linear %llux%llu %s %s%s%s: %llu tile(s) x %llu columns, blocks of %llu columns (%llu B of a "
               "%llu B buffer), double-buffered",
               (ull)K, (ull)N, int4 ? "int4" : "int8", how.c_str(), form.bias ? ", bias" : "",
               form.wide ? ", to T" : (form.plain() ? "" : strf(", T narrowed by %u", form.b).c_str()), (ull)T,
               (ull)p.cols[0], (ull)nc, (ull)p.buffer_bytes, (ull)max_buffer);
  return p;
}

std::vector<uint8_t> decode_linear_weights(const hw::HwConfig& hw, const DecodeLinearPlan& p, const int8_t* w) {
  std::vector<uint8_t> img;
  img.reserve(p.image_bytes(hw));
  for (const LinearStep& s : p.steps) {
    const auto blk = weight_image(w + s.k0 * p.N + p.col0[s.tile] + s.c, p.N, s.kn, s.n, hw.mxu.rows, hw.mxu.cols,
                                  p.int4);
    img.insert(img.end(), blk.begin(), blk.end());
  }
  return img;
}

std::vector<uint8_t> requant_table(const std::vector<int32_t>& mult, const std::vector<int32_t>& shift) {
  std::vector<uint8_t> t;
  t.reserve(mult.size() * 8);
  for (size_t i = 0; i < mult.size(); ++i) {
    put32(t, mult[i]);
    put32(t, shift[i]);
  }
  return t;
}

std::vector<uint8_t> decode_linear_table(const DecodeLinearPlan& p, const std::vector<int32_t>& mult,
                                         const std::vector<int32_t>& shift, const std::vector<int32_t>& bias) {
  const LinearForm& f = p.form;
  if (f.bias && bias.size() != p.N) throw Error("decode_linear_table: the plan has a bias, the layer has none");
  if (mult.size() != p.N * p.groups() || (f.group == 0 && shift.size() != p.N))
    throw Error("decode_linear_table: multipliers do not match the plan");
  std::vector<uint8_t> t;
  t.reserve(p.table_bytes());
  for (const LinearStep& s : p.steps) {
    const uint64_t c0 = p.col0[s.tile] + s.c;
    for (uint64_t i = 0; i < s.n; ++i) {
      if (f.group == 0) {
        put32(t, mult[c0 + i]);
        put32(t, shift[c0 + i]);
      } else {
        put32(t, mult[s.group * p.N + c0 + i]);
      }
    }
    if (f.bias && s.group + 1 == s.groups)  // the last step of the block
      for (uint64_t i = 0; i < s.n; ++i) put32(t, bias[c0 + i]);
  }
  return t;
}

WeightStream make_weight_stream(const hw::HwConfig& hw, uint64_t buffer_bytes, uint64_t max_cols, SramArena& sp,
                                SramArena& acc, SemPool& sems, uint64_t table_bytes, bool t_scratch, bool k_partial,
                                bool table_pairs) {
  WeightStream ws;
  ws.buffer_bytes = buffer_bytes;
  ws.max_cols = max_cols;
  ws.table_bytes = table_bytes ? table_bytes : 8 * max_cols;
  ws.table_pairs = table_pairs;
  ws.table_half = (ws.table_bytes + acc.line_bytes() - 1) / acc.line_bytes() * acc.line_bytes();
  const uint64_t tb = table_pairs ? 2 * ws.table_half : ws.table_bytes;
  std::vector<uint32_t> order(sp.banks());
  for (uint32_t i = 0; i < sp.banks(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](uint32_t a, uint32_t b) { return sp.free_in_bank(a) > sp.free_in_bank(b); });
  ws.wbuf[0] = sp.alloc_in_bank(order[0], buffer_bytes, 0, "weight stream: weight buffer 0");
  ws.wbuf[1] = sp.alloc_in_bank(order[sp.banks() > 1 ? 1 : 0], buffer_bytes, 0, "weight stream: weight buffer 1");
  // the loads stream into these banks: other buffers go elsewhere when they can
  if (sp.banks() > 2) {
    sp.avoid(order[0]);
    sp.avoid(order[1]);
  }
  // step g's result and table in bank g % 2 (when there are two), so the
  // matrix unit writes one bank while the vector unit reads the other
  for (int i = 0; i < 2; ++i) {
    const uint32_t bank = uint32_t(i) % acc.banks();
    const std::string r = strf("weight stream: matmul result %d", i), t = strf("weight stream: requant table %d", i);
    const bool fits = acc.free_in_bank(bank) >= 4 * max_cols + tb + 2 * acc.line_bytes();
    ws.abuf[i] = fits ? acc.alloc_in_bank(bank, 4 * max_cols, 0, r) : acc.alloc(4 * max_cols, 0, r);
    ws.tbuf[i] = fits ? acc.alloc_in_bank(bank, tb, 0, t) : acc.alloc(tb, 0, t);
  }
  if (t_scratch) ws.tw = acc.alloc(4 * max_cols, 0, "weight stream: T of a block");
  if (k_partial) ws.pbuf = acc.alloc(4 * max_cols, 0, "weight stream: partial sums of a block's K chunks");
  ws.sW = sems.local("weights loaded");
  ws.sT = sems.local("table loaded");
  ws.sM = sems.local("matmul done");
  ws.sAf = sems.local("buffers free");
  ws.sTf = sems.local("table buffer free");
  ws.next.assign(hw.tiles, 0);
  return ws;
}

uint64_t stream_table_addr(const WeightStream& ws, uint64_t g) {
  return ws.table_pairs ? ws.tbuf[(g / 2) % 2] + (g % 2) * ws.table_half : ws.tbuf[g % 2];
}

namespace {

// The vector instructions of one step, per the layer's form; the first waits
// for the matmul and the table, the last frees the step's buffers.
void emit_step_vector(ProgramBuilder& b, const DecodeLinearPlan& p, const DecodeLinearIO& io, const WeightStream& ws,
                      const LinearStep& s, uint64_t g) {
  const LinearForm& f = p.form;
  const unsigned t = s.tile;
  const uint64_t n = s.n, abuf = ws.abuf[g % 2], tbuf = stream_table_addr(ws, g);
  std::vector<Ins> ops;
  std::vector<std::string> notes;
  if (f.plain() && s.groups == 1) {
    ops.push_back(vec(Opcode::VRequant, t, io.y_sp + s.c, SP, abuf, ACC, n)
                      .set(Field::B, int64_t(tbuf)).set(Field::BSpace, ACC).set(Field::BMode, isa::kBVector)
                      .set(Field::Imm2, int64_t(n)));
    notes.push_back("");
  } else if (f.group == 0 && s.groups > 1 && s.group + 1 < s.groups) {
    // a K chunk but the last: its partial sums into P
    if (s.group == 0) ops.push_back(vec(Opcode::VMov, t, ws.pbuf, ACC, abuf, ACC, n));
    else ops.push_back(vec(Opcode::VAdd, t, ws.pbuf, ACC, ws.pbuf, ACC, n)
                           .set(Field::B, int64_t(abuf)).set(Field::BSpace, ACC).set(Field::BMode, isa::kBVector));
    notes.push_back(strf("K chunk %llu: partial sums", (ull)s.group));
  } else {
    if ((!f.wide || io.add_acc) && !f.plain() && ws.tw == 0)
      throw Error("decode linear: the weight stream has no T scratch for a narrowed or residual-adding layer");
    const uint64_t T = f.wide && !io.add_acc ? io.y_acc + 4 * s.c : ws.tw;
    uint64_t bias_at = 0;
    uint64_t src = abuf;
    if (f.group == 0 && s.groups > 1) {  // the last K chunk: the sum of all
      ops.push_back(vec(Opcode::VAdd, t, ws.pbuf, ACC, ws.pbuf, ACC, n)
                        .set(Field::B, int64_t(abuf)).set(Field::BSpace, ACC).set(Field::BMode, isa::kBVector));
      notes.push_back("last K chunk: the sum");
      src = ws.pbuf;
    }
    if (f.plain()) {
      ops.push_back(vec(Opcode::VRequant, t, io.y_sp + s.c, SP, src, ACC, n)
                        .set(Field::B, int64_t(tbuf)).set(Field::BSpace, ACC).set(Field::BMode, isa::kBVector)
                        .set(Field::Imm2, int64_t(n)));
      notes.push_back("");
    } else if (f.group == 0) {
      ops.push_back(vec(Opcode::VRequant, t, T, ACC, src, ACC, n)
                        .set(Field::B, int64_t(tbuf)).set(Field::BSpace, ACC).set(Field::BMode, isa::kBVector)
                        .set(Field::Imm2, int64_t(n)));
      notes.push_back("T = requant(acc)");
      bias_at = tbuf + 8 * n;
    } else {
      const auto gm = [&](uint64_t dst) {
        return vec(Opcode::VMul, t, dst, ACC, abuf, ACC, n)
            .set(Field::B, int64_t(tbuf)).set(Field::BSpace, ACC).set(Field::BMode, isa::kBVector)
            .set(Field::Shift, f.a);
      };
      if (s.group == 0) {
        ops.push_back(gm(T));
        notes.push_back(strf("group 0: T = acc * M_0 >> %u", f.a));
      } else {
        ops.push_back(gm(abuf));
        notes.push_back(strf("group %llu: P = acc * M_g >> %u", (ull)s.group, f.a));
        ops.push_back(vec(Opcode::VAdd, t, T, ACC, T, ACC, n)
                          .set(Field::B, int64_t(abuf)).set(Field::BSpace, ACC).set(Field::BMode, isa::kBVector));
        notes.push_back("T += P");
      }
      bias_at = tbuf + 4 * n;
    }
    if (!f.plain() && s.group + 1 == s.groups) {
      if (f.bias) {
        ops.push_back(vec(Opcode::VAdd, t, T, ACC, T, ACC, n)
                          .set(Field::B, int64_t(bias_at)).set(Field::BSpace, ACC).set(Field::BMode, isa::kBVector));
        notes.push_back("T += bias");
      }
      if (!f.wide) {
        ops.push_back(vec(Opcode::VMov, t, io.y_sp + s.c, SP, T, ACC, n).set(Field::Shift, f.b));
        notes.push_back(strf("narrow: y = T >> %u", f.b));
      } else if (io.add_acc) {  // golden::residual_add on the block's columns
        ops.push_back(vec(Opcode::VAdd, t, io.add_acc + 4 * s.c, ACC, io.add_acc + 4 * s.c, ACC, n)
                          .set(Field::B, int64_t(T)).set(Field::BSpace, ACC).set(Field::BMode, isa::kBVector));
        notes.push_back("residual += T");
      }
    }
  }
  ops.front().wait(ws.sM).wait(ws.sT);
  ops.back().signal(ws.sAf).signal(ws.sTf);
  for (size_t i = 0; i < ops.size(); ++i) b.emit(ops[i], notes[i]);
}

// With table pairs: does step j of a tile's steps (stream number g) load its
// table together with step j + 1's?
bool first_of_pair(const WeightStream& ws, const std::vector<const LinearStep*>& per, size_t j, uint64_t g) {
  return ws.table_pairs && g % 2 == 0 && j + 1 < per.size() && per[j]->t_bytes == per[j + 1]->t_bytes;
}

// The loads of step j of a tile's steps `per` (stream number g): its weights,
// and its table unless the previous step's pair load brought it.
void emit_step_loads(ProgramBuilder& b, const DecodeLinearPlan& p, const DecodeLinearIO& io, const WeightStream& ws,
                     const std::vector<const LinearStep*>& per, size_t j, uint64_t g, const std::string& name) {
  const LinearStep& s = *per[j];
  const unsigned t = s.tile;
  b.emit(load(t, io.w_dram + s.w_off, ws.wbuf[g % 2], SP, s.w_bytes).wait(g >= 2 ? ws.sAf : 0).signal(ws.sW),
         p.chunks() > 1
             ? strf("%s tile %u block %llu %s %llu weights", name.c_str(), t, (ull)s.block,
                    p.form.group ? "group" : "K chunk", (ull)s.group)
             : strf("%s tile %u block %llu weights", name.c_str(), t, (ull)s.block));
  const char* what = p.form.group ? "group multipliers" : "requant table";
  if (!ws.table_pairs) {
    b.emit(load(t, io.tab_dram + s.t_off, ws.tbuf[g % 2], ACC, s.t_bytes).wait(g >= 2 ? ws.sTf : 0).signal(ws.sT),
           what);
  } else if (first_of_pair(ws, per, j, g)) {
    b.emit(load(t, io.tab_dram + s.t_off, stream_table_addr(ws, g), ACC, s.t_bytes, 2, s.t_bytes, ws.table_half)
               .wait(g >= 4 ? ws.sTf : 0)
               .wait(g + 1 >= 4 ? ws.sTf : 0)
               .signal(ws.sT)
               .signal(ws.sT),
           strf("%s of this step and the next", what));
  } else if (!(j > 0 && first_of_pair(ws, per, j - 1, g - 1))) {
    b.emit(load(t, io.tab_dram + s.t_off, stream_table_addr(ws, g), ACC, s.t_bytes).wait(g >= 4 ? ws.sTf : 0)
               .signal(ws.sT),
           what);
  }
}

std::vector<std::vector<const LinearStep*>> steps_per_tile(const DecodeLinearPlan& p) {
  std::vector<std::vector<const LinearStep*>> per(p.cols.size());
  for (const LinearStep& s : p.steps) per[s.tile].push_back(&s);
  return per;
}

}  // namespace

size_t emit_decode_linear_prefetch(ProgramBuilder& b, const DecodeLinearPlan& p, const DecodeLinearIO& io,
                                   const WeightStream& ws, const std::string& name, size_t steps) {
  steps = std::min<size_t>(steps, 2);
  const auto per = steps_per_tile(p);
  b.section(name + ": the first weight blocks, ahead");
  for (size_t j = 0; j < steps; ++j)
    for (unsigned t = 0; t < per.size(); ++t)
      if (j < per[t].size()) emit_step_loads(b, p, io, ws, per[t], j, ws.next[t] + j, name);
  return steps;
}

void emit_decode_linear(ProgramBuilder& b, const hw::HwConfig&, const DecodeLinearPlan& p,
                        const DecodeLinearIO& io, WeightStream& ws, const std::string& name) {
  if (p.buffer_bytes > ws.buffer_bytes || p.nc > ws.max_cols || p.max_step_table_bytes() > ws.table_bytes)
    throw Error(strf("%s: blocks of %llu columns / %llu bytes / %llu table bytes exceed the weight stream's buffers "
                     "(%llu / %llu / %llu)",
                     name.c_str(), (ull)p.nc, (ull)p.buffer_bytes, (ull)p.max_step_table_bytes(), (ull)ws.max_cols,
                     (ull)ws.buffer_bytes, (ull)ws.table_bytes));
  b.section(name + ": " + p.why);
  // the steps of each tile, in order
  const auto per = steps_per_tile(p);
  size_t most = 0;
  for (const auto& v : per) most = std::max(most, v.size());
  // Program order per step: every tile's loads, then the matmuls, then the
  // vector ops, so the controller dispatches loads well ahead of their use.
  for (size_t j = 0; j < most; ++j) {
    for (unsigned t = 0; t < per.size(); ++t) {
      if (j >= per[t].size()) continue;
      if (j < io.prefetched) continue;
      emit_step_loads(b, p, io, ws, per[t], j, ws.next[t] + j, name);
    }
    for (unsigned t = 0; t < per.size(); ++t) {
      if (j >= per[t].size()) continue;
      const LinearStep& s = *per[t][j];
      const uint64_t g = ws.next[t] + j;
      b.emit(matmul(t, io.x_sp + s.k0, ws.wbuf[g % 2], ws.abuf[g % 2], 1, s.kn, s.n, p.int4, false, s.kn, 4 * s.n)
                 .wait(ws.sW)
                 .wait(j == 0 ? io.x_ready : 0)
                 .signal(ws.sM));
    }
    for (unsigned t = 0; t < per.size(); ++t) {
      if (j >= per[t].size()) continue;
      emit_step_vector(b, p, io, ws, *per[t][j], ws.next[t] + j);
      if (io.store && j + 1 == per[t].size()) {  // the vector unit is in order: this follows every step of the layer
        const uint64_t at = p.form.wide ? io.y_acc : io.y_sp;
        const int space = p.form.wide ? ACC : SP;
        b.emit(vec(Opcode::VMov, t, at, space, at, space, 1).signal(io.tile_done),
               strf("%s tile %u outputs complete", name.c_str(), t));
      }
    }
  }
  for (unsigned t = 0; t < per.size(); ++t) ws.next[t] += per[t].size();
  if (!io.store) return;
  // The tiles' outputs to DRAM, then `done` once all are there.
  std::vector<Ins> stores;
  const uint64_t eb = p.form.wide ? 4 : 1;
  for (unsigned t = 0; t < p.cols.size(); ++t)
    if (p.cols[t])
      stores.push_back(store(t, io.y_dram + eb * p.col0[t], p.form.wide ? io.y_acc : io.y_sp, p.form.wide ? ACC : SP,
                             eb * p.cols[t]));
  emit_joined_stores(b, std::move(stores), io.tile_done, io.chain, io.done, name + " output", io.join_by_controller);
}

Ins stream_table_load(const WeightStream& ws, unsigned tile, uint64_t g, uint64_t dram, uint64_t bytes) {
  if (bytes > ws.table_bytes)
    throw Error(strf("a table step of %llu bytes exceeds the weight stream's table buffers (%llu)", (ull)bytes,
                     (ull)ws.table_bytes));
  return load(tile, dram, stream_table_addr(ws, g), ACC, bytes)
      .wait(g >= 2 ? ws.sAf : 0)
      .wait(g >= (ws.table_pairs ? 4u : 2u) ? ws.sTf : 0)
      .signal(ws.sT);
}

void emit_stream_vector(ProgramBuilder& b, const WeightStream& ws, std::vector<Ins> ops,
                        const std::vector<std::string>& notes) {
  if (ops.empty()) throw Error("a table step without vector instructions");
  ops.front().wait(ws.sT);
  ops.back().signal(ws.sAf).signal(ws.sTf);
  for (size_t i = 0; i < ops.size(); ++i) b.emit(ops[i], i < notes.size() ? notes[i] : "");
}

void emit_joined_stores(ProgramBuilder& b, std::vector<Ins> stores, unsigned tile_done, unsigned chain, unsigned done,
                        const std::string& name, bool by_controller) {
  const size_t used = stores.size();
  const bool nops = used > 2 || (by_controller && used > 1);
  if (done == 0) {  // nobody waits: in-order queues keep them ahead of later stores of the same tiles
    for (Ins& st : stores) b.emit(st.wait(tile_done), strf("%s tile %u", name.c_str(), unsigned(st.get().tile)));
    return;
  }
  unsigned prev = 0;
  for (size_t i = 0; i < used; ++i) {
    Ins& st = stores[i];
    st.wait(tile_done);
    const bool last = i + 1 == used;
    if (!nops) {
      st.wait(prev).signal(last ? done : chain);
      prev = chain;
    } else {
      st.signal(chain);
    }
    b.emit(st, strf("%s tile %u", name.c_str(), unsigned(st.get().tile)));
  }
  if (nops)
    for (size_t i = 0; i < used; ++i)
      b.emit(Ins(Opcode::Nop).wait(chain).signal(i + 1 == used ? done : 0), "join the tiles' outputs");
}

}  // namespace clonesim::compiler
