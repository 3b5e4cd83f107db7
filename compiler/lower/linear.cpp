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

void place_decode_linear(const DecodeLinearPlan& p, SramArena& sp, SramArena& acc, DecodeLinearIO& io) {
  const uint64_t most = *std::max_element(p.cols.begin(), p.cols.end());
  // two weight buffers in the two emptiest banks
  std::vector<uint32_t> order(sp.banks());
  for (uint32_t i = 0; i < sp.banks(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](uint32_t a, uint32_t b) { return sp.free_in_bank(a) > sp.free_in_bank(b); });
  io.wbuf[0] = sp.alloc_in_bank(order[0], p.buffer_bytes, 0, "weight buffer 0");
  io.wbuf[1] = sp.alloc_in_bank(order[sp.banks() > 1 ? 1 : 0], p.buffer_bytes, 0, "weight buffer 1");
  io.y_sp = sp.alloc(most, 0, "layer output");
  for (int i = 0; i < 2; ++i) {
    io.abuf[i] = acc.alloc(4 * p.nc, 0, "matmul result");
    io.tbuf[i] = acc.alloc(8 * p.nc, 0, "requant table");
  }
}

void emit_decode_linear(ProgramBuilder& b, const hw::HwConfig& hw, const DecodeLinearPlan& p,
                        const DecodeLinearIO& io, SemPool& sems, const std::string& name) {
  const unsigned sW = sems.local(name + " weights loaded"), sWf = sems.local(name + " weight buffer free"),
                 sT = sems.local(name + " table loaded"), sTf = sems.local(name + " table buffer free"),
                 sM = sems.local(name + " matmul done"), sAf = sems.local(name + " result buffer free"),
                 sD = sems.local(name + " tile done");
  const unsigned chain = p.tiles_used() > 1 ? sems.global(name + " store chain") : 0;
  b.section(p.why);
  uint64_t most = 0;
  for (unsigned t = 0; t < p.cols.size(); ++t) most = std::max(most, p.blocks(t));
  const bool int4 = p.int4;
  for (uint64_t j = 0; j < most; ++j) {
    for (unsigned t = 0; t < p.cols.size(); ++t) {
      if (j >= p.blocks(t)) continue;
      const uint64_t n = p.block_cols(t, j);
      const uint64_t wbytes = weight_image_bytes(p.K, n, hw.mxu.rows, hw.mxu.cols, int4);
      b.emit(load(t, io.w_dram + p.image_offset(hw, t, j), io.wbuf[j % 2], isa::kScratchpad, wbytes)
                 .wait(j >= 2 ? sWf : 0)
                 .signal(sW),
             strf("%s tile %u block %llu weights", name.c_str(), t, (unsigned long long)j));
      b.emit(load(t, io.tab_dram + 8 * (p.col0[t] + j * p.nc), io.tbuf[j % 2], isa::kAccumulator, 8 * n)
                 .wait(j >= 2 ? sTf : 0)
                 .signal(sT),
             "requant table");
    }
    for (unsigned t = 0; t < p.cols.size(); ++t) {
      if (j >= p.blocks(t)) continue;
      const uint64_t n = p.block_cols(t, j);
      b.emit(matmul(t, io.x_sp, io.wbuf[j % 2], io.abuf[j % 2], 1, p.K, n, int4, false, p.K, 4 * n)
                 .wait(sW)
                 .wait(j >= 2 ? sAf : (j == 0 ? io.x_ready : 0))
                 .signal(sM)
                 .signal(j + 2 < p.blocks(t) ? sWf : 0));
    }
    for (unsigned t = 0; t < p.cols.size(); ++t) {
      if (j >= p.blocks(t)) continue;
      const uint64_t n = p.block_cols(t, j);
      const bool last = j + 1 == p.blocks(t);
      Ins v = vec(Opcode::VRequant, t, io.y_sp + j * p.nc, isa::kScratchpad, io.abuf[j % 2], isa::kAccumulator, n)
                  .set(Field::B, int64_t(io.tbuf[j % 2]))
                  .set(Field::BSpace, isa::kAccumulator)
                  .set(Field::BMode, isa::kBVector)
                  .set(Field::Imm2, int64_t(n))
                  .wait(sM)
                  .wait(sT);
      if (j + 2 < p.blocks(t)) v.signal(sAf).signal(sTf);
      if (last) v.signal(sD);
      b.emit(v);
    }
  }
  // the tiles' outputs to DRAM, chained so that the last store signals `done`
  unsigned prev = 0, left = p.tiles_used();
  for (unsigned t = 0; t < p.cols.size(); ++t) {
    if (p.cols[t] == 0) continue;
    --left;
    b.emit(store(t, io.y_dram + p.col0[t], io.y_sp, isa::kScratchpad, p.cols[t])
               .wait(sD)
               .wait(prev)
               .signal(left == 0 ? io.done : chain),
           strf("%s tile %u output", name.c_str(), t));
    prev = chain;
  }
}

}  // namespace clonesim::compiler
