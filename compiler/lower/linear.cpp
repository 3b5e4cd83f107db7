#include "lower/linear.h"

#include <algorithm>

#include "common/error.h"
#include "common/strf.h"
#include "isa/isa.h"
#include "lower/weight_image.h"

namespace clonesim::compiler {

using isa::Field;
using isa::Opcode;

unsigned DecodeLinearPlan::tiles_used() const {
  unsigned n = 0;
  for (uint64_t c : cols) n += c > 0;
  return n;
}

uint64_t DecodeLinearPlan::block_cols(unsigned tile, uint64_t b) const {
  return std::min(nc, cols[tile] - b * nc);
}

uint64_t DecodeLinearPlan::image_offset(const hw::HwConfig& hw, unsigned tile, uint64_t b) const {
  uint64_t off = 0;
  for (unsigned t = 0; t < cols.size(); ++t)
    for (uint64_t j = 0; j < blocks(t); ++j) {
      if (t == tile && j == b) return off;
      off += weight_image_bytes(K, block_cols(t, j), hw.mxu.rows, hw.mxu.cols, int4);
    }
  return off;
}

uint64_t DecodeLinearPlan::image_bytes(const hw::HwConfig& hw) const {
  return image_offset(hw, unsigned(cols.size()), 0);
}

DecodeLinearPlan plan_decode_linear(const hw::HwConfig& hw, uint64_t K, uint64_t N, bool int4, uint64_t max_buffer) {
  const uint64_t L = hw.vxu.lanes, R = hw.mxu.rows, C = hw.mxu.cols;
  if (K < 1 || K > 4095) throw Error(strf("linear %llux%llu: K must be 1..4095 (split larger K)", (unsigned long long)K, (unsigned long long)N));
  if (N < 1 || N % L) throw Error(strf("linear %llux%llu: N must be a multiple of the %llu vector lanes", (unsigned long long)K, (unsigned long long)N, (unsigned long long)L));
  DecodeLinearPlan p;
  p.K = K;
  p.N = N;
  p.int4 = int4;
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
  // block: the most columns (a multiple of the lanes, <= 4095) whose image fits the buffer
  const uint64_t most = *std::max_element(p.cols.begin(), p.cols.end());
  uint64_t nc = std::min<uint64_t>(most, 4095 / L * L);
  while (nc > L && weight_image_bytes(K, nc, R, C, int4) > max_buffer) nc -= L;
  if (weight_image_bytes(K, nc, R, C, int4) > max_buffer)
    throw Error(strf("linear %llux%llu: one block of %llu columns needs %llu scratchpad bytes, the buffer has %llu",
                     (unsigned long long)K, (unsigned long long)N, (unsigned long long)nc,
                     (unsigned long long)weight_image_bytes(K, nc, R, C, int4), (unsigned long long)max_buffer));
  p.nc = nc;
  p.buffer_bytes = weight_image_bytes(K, nc, R, C, int4);
  p.why = strf("decode linear %llux%llu %s: %llu tile(s) x %llu columns, blocks of %llu columns (%llu B of a %llu B "
               "buffer), double-buffered",
               (unsigned long long)K, (unsigned long long)N, int4 ? "int4" : "int8", (unsigned long long)T,
               (unsigned long long)p.cols[0], (unsigned long long)nc, (unsigned long long)p.buffer_bytes,
               (unsigned long long)max_buffer);
  return p;
}

std::vector<uint8_t> decode_linear_weights(const hw::HwConfig& hw, const DecodeLinearPlan& p, const int8_t* w) {
  std::vector<uint8_t> img;
  img.reserve(p.image_bytes(hw));
  for (unsigned t = 0; t < p.cols.size(); ++t)
    for (uint64_t b = 0; b < p.blocks(t); ++b) {
      const auto blk = weight_image(w + p.col0[t] + b * p.nc, p.N, p.K, p.block_cols(t, b), hw.mxu.rows,
                                    hw.mxu.cols, p.int4);
      img.insert(img.end(), blk.begin(), blk.end());
    }
  return img;
}

std::vector<uint8_t> requant_table(const std::vector<int32_t>& mult, const std::vector<int32_t>& shift) {
  std::vector<uint8_t> t(mult.size() * 8);
  for (size_t i = 0; i < mult.size(); ++i)
    for (int k = 0; k < 4; ++k) {
      t[8 * i + size_t(k)] = uint8_t(uint32_t(mult[i]) >> (8 * k));
      t[8 * i + 4 + size_t(k)] = uint8_t(uint32_t(shift[i]) >> (8 * k));
    }
  return t;
}

WeightStream make_weight_stream(const hw::HwConfig& hw, uint64_t buffer_bytes, uint64_t max_cols, SramArena& sp,
                                SramArena& acc, SemPool& sems) {
  WeightStream ws;
  ws.buffer_bytes = buffer_bytes;
  ws.max_cols = max_cols;
  std::vector<uint32_t> order(sp.banks());
  for (uint32_t i = 0; i < sp.banks(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](uint32_t a, uint32_t b) { return sp.free_in_bank(a) > sp.free_in_bank(b); });
  ws.wbuf[0] = sp.alloc_in_bank(order[0], buffer_bytes, 0, "weight buffer 0");
  ws.wbuf[1] = sp.alloc_in_bank(order[sp.banks() > 1 ? 1 : 0], buffer_bytes, 0, "weight buffer 1");
  for (int i = 0; i < 2; ++i) {
    ws.abuf[i] = acc.alloc(4 * max_cols, 0, "matmul result");
    ws.tbuf[i] = acc.alloc(8 * max_cols, 0, "requant table");
  }
  ws.sW = sems.local("weights loaded");
  ws.sT = sems.local("table loaded");
  ws.sM = sems.local("matmul done");
  ws.sAf = sems.local("buffers free");
  ws.sTf = sems.local("table buffer free");
  ws.next.assign(hw.tiles, 0);
  return ws;
}

void emit_decode_linear(ProgramBuilder& b, const hw::HwConfig& hw, const DecodeLinearPlan& p,
                        const DecodeLinearIO& io, WeightStream& ws, const std::string& name) {
  if (p.buffer_bytes > ws.buffer_bytes || p.nc > ws.max_cols)
    throw Error(strf("%s: blocks of %llu columns / %llu bytes exceed the weight stream's buffers (%llu / %llu)",
                     name.c_str(), (unsigned long long)p.nc, (unsigned long long)p.buffer_bytes,
                     (unsigned long long)ws.max_cols, (unsigned long long)ws.buffer_bytes));
  b.section(name + ": " + p.why);
  uint64_t most = 0;
  for (unsigned t = 0; t < p.cols.size(); ++t) most = std::max(most, p.blocks(t));
  // Program order per block: every tile's loads, then the matmuls, then the
  // vrequants, so the controller dispatches loads well ahead of their use.
  for (uint64_t j = 0; j < most; ++j) {
    for (unsigned t = 0; t < p.cols.size(); ++t) {
      if (j >= p.blocks(t)) continue;
      const uint64_t g = ws.next[t] + j, n = p.block_cols(t, j);
      const uint64_t wbytes = weight_image_bytes(p.K, n, hw.mxu.rows, hw.mxu.cols, p.int4);
      b.emit(load(t, io.w_dram + p.image_offset(hw, t, j), ws.wbuf[g % 2], isa::kScratchpad, wbytes)
                 .wait(g >= 2 ? ws.sAf : 0)
                 .signal(ws.sW),
             strf("%s tile %u block %llu weights", name.c_str(), t, (unsigned long long)j));
      b.emit(load(t, io.tab_dram + 8 * (p.col0[t] + j * p.nc), ws.tbuf[g % 2], isa::kAccumulator, 8 * n)
                 .wait(g >= 2 ? ws.sTf : 0)
                 .signal(ws.sT),
             "requant table");
    }
    for (unsigned t = 0; t < p.cols.size(); ++t) {
      if (j >= p.blocks(t)) continue;
      const uint64_t g = ws.next[t] + j, n = p.block_cols(t, j);
      b.emit(matmul(t, io.x_sp, ws.wbuf[g % 2], ws.abuf[g % 2], 1, p.K, n, p.int4, false, p.K, 4 * n)
                 .wait(ws.sW)
                 .wait(j == 0 ? io.x_ready : 0)
                 .signal(ws.sM));
    }
    for (unsigned t = 0; t < p.cols.size(); ++t) {
      if (j >= p.blocks(t)) continue;
      const uint64_t g = ws.next[t] + j, n = p.block_cols(t, j);
      b.emit(vec(Opcode::VRequant, t, io.y_sp + j * p.nc, isa::kScratchpad, ws.abuf[g % 2], isa::kAccumulator, n)
                 .set(Field::B, int64_t(ws.tbuf[g % 2]))
                 .set(Field::BSpace, isa::kAccumulator)
                 .set(Field::BMode, isa::kBVector)
                 .set(Field::Imm2, int64_t(n))
                 .wait(ws.sM)
                 .wait(ws.sT)
                 .signal(ws.sAf)
                 .signal(ws.sTf));
      if (j + 1 == p.blocks(t))  // the vector unit is in order: this follows every vrequant of the layer
        b.emit(vec(Opcode::VMov, t, io.y_sp, isa::kScratchpad, io.y_sp, isa::kScratchpad, 1).signal(io.tile_done),
               strf("%s tile %u outputs complete", name.c_str(), t));
    }
  }
  for (unsigned t = 0; t < p.cols.size(); ++t) ws.next[t] += p.blocks(t);
  // The tiles' outputs to DRAM, then `done` once all are there.  With two
  // tiles the second store waits for the first (one consumer of `chain`, so
  // the signal cannot be taken by another queue).  With more, each store
  // signals `chain` and control nops (consumed in program order by the one
  // controller) join them; they hold up dispatch until the stores are done.
  const unsigned used = p.tiles_used();
  unsigned prev = 0, left = used;
  for (unsigned t = 0; t < p.cols.size(); ++t) {
    if (p.cols[t] == 0) continue;
    --left;
    Ins st = store(t, io.y_dram + p.col0[t], io.y_sp, isa::kScratchpad, p.cols[t]).wait(io.tile_done);
    if (used <= 2) {
      st.wait(prev).signal(left == 0 ? io.done : io.chain);
      prev = io.chain;
    } else {
      st.signal(io.chain);
    }
    b.emit(st, strf("%s tile %u output", name.c_str(), t));
  }
  if (used > 2)
    for (unsigned i = 0; i < used; ++i)
      b.emit(Ins(Opcode::Nop).wait(io.chain).signal(i + 1 == used ? io.done : 0), "join the tiles' outputs");
}

}  // namespace clonesim::compiler
