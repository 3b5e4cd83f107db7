#include "sim/functional.h"

#include <algorithm>
#include <cstring>

#include "numerics/numerics.h"
#include "sim/timing.h"

namespace clonesim::sim {

using isa::Field;
using isa::Instruction;
using isa::Opcode;

void exec_load(const Instruction& in, const SparseMemory& dram, std::vector<TileMemory*> tiles) {
  const int sp = static_cast<int>(in[Field::Space]);
  const uint64_t rows = in[Field::Rows], bytes = in[Field::Bytes];
  std::vector<uint8_t> buf(bytes);
  for (uint64_t r = 0; r < rows; ++r) {
    dram.read(in[Field::Dram] + r * in[Field::DStride], buf.data(), bytes);
    for (TileMemory* t : tiles) std::memcpy(&t->space(sp)[in[Field::Sram] + r * in[Field::SStride]], buf.data(), bytes);
  }
}

void exec_store(const Instruction& in, SparseMemory& dram, const TileMemory& tile) {
  const int sp = static_cast<int>(in[Field::Space]);
  const uint64_t rows = in[Field::Rows], bytes = in[Field::Bytes];
  for (uint64_t r = 0; r < rows; ++r)
    dram.write(in[Field::Dram] + r * in[Field::DStride], &tile.space(sp)[in[Field::Sram] + r * in[Field::SStride]], bytes);
}

void exec_matmul(const hw::HwConfig& hw, const Instruction& in, TileMemory& tile) {
  const uint64_t M = in[Field::M];
  const uint64_t as = in[Field::AStride], cs = in[Field::CStride];
  const bool int4 = in[Field::WType] == 1;
  std::vector<int32_t> w;
  std::vector<int64_t> row;
  // The array tiles in the MXU's order (sim/timing.h): each is a k_i x n_j
  // matmul on its own weights, activation slice and result columns, so
  // tiles after the first k-slice add to what the previous ones wrote.
  for_each_mxu_tile(hw, in, [&](const MxuTile& tl) {
    const uint64_t K = tl.k, N = tl.n;
    // Unpack the tile's packed k x n weights.
    w.resize(K * N);
    const uint8_t* wp = &tile.sp[tl.wgt];
    for (uint64_t i = 0; i < K * N; ++i)
      w[i] = int4 ? static_cast<int32_t>(num::int4_at(wp[i / 2], i & 1)) : static_cast<int8_t>(wp[i]);
    row.resize(N);
    for (uint64_t m = 0; m < M; ++m) {
      const int8_t* a = reinterpret_cast<const int8_t*>(&tile.sp[tl.act + m * as]);
      std::fill(row.begin(), row.end(), 0);
      for (uint64_t k = 0; k < K; ++k) {
        const int64_t av = a[k];
        if (av == 0) continue;
        const int32_t* wr = &w[k * N];
        for (uint64_t n = 0; n < N; ++n) row[n] += av * wr[n];
      }
      uint8_t* c = &tile.acc[tl.acc + m * cs];
      for (uint64_t n = 0; n < N; ++n) {
        int32_t old = 0;
        if (tl.accumulate) std::memcpy(&old, c + 4 * n, 4);
        // INT32 accumulation wraps (two's complement), as the adders do.
        const int32_t v = static_cast<int32_t>(static_cast<uint32_t>(old) + static_cast<uint32_t>(row[n]));
        std::memcpy(c + 4 * n, &v, 4);
      }
    }
  });
}

namespace {

struct Operand {
  const std::vector<uint8_t>* mem;
  uint64_t addr;
  bool is32;
  int64_t at(uint64_t i) const {
    if (is32) {
      int32_t v;
      std::memcpy(&v, &(*mem)[addr + 4 * i], 4);
      return v;
    }
    return static_cast<int8_t>((*mem)[addr + i]);
  }
};

}  // namespace

void exec_vector(const Instruction& in, TileMemory& tile, std::array<Lut, isa::kNumLuts>& luts) {
  if (in.op == Opcode::LutLoad) {
    Lut& l = luts[in[Field::Imm]];
    for (unsigned i = 0; i < isa::kLutEntries; ++i) {
      uint16_t u = uint16_t(tile.sp[in[Field::A] + 2 * i]) | uint16_t(tile.sp[in[Field::A] + 2 * i + 1]) << 8;
      l[i] = static_cast<int16_t>(u);
    }
    return;
  }
  const uint64_t n = in[Field::Len];
  const unsigned shift = static_cast<unsigned>(in[Field::Shift]);
  const int64_t imm = in[Field::Imm], imm2 = in[Field::Imm2];
  const int aspace = static_cast<int>(in[Field::ASpace]), dspace = static_cast<int>(in[Field::DSpace]);
  const bool d32 = dspace == isa::kAccumulator;
  const Operand a{&tile.space(aspace), uint64_t(in[Field::A]), aspace == isa::kAccumulator};
  const int bspace = static_cast<int>(in[Field::BSpace]);
  const Operand b{&tile.space(bspace), uint64_t(in[Field::B]), bspace == isa::kAccumulator};
  const int64_t bmode = in[Field::BMode];
  const int64_t bscalar = bmode == isa::kBScalar ? b.at(0) : imm;

  // Results are computed into a buffer first: a destination may overlap a source.
  std::vector<int64_t> r;
  if (in.op == Opcode::VRedSum || in.op == Opcode::VRedMax) {
    int64_t acc = in.op == Opcode::VRedSum ? 0 : a.at(0);
    for (uint64_t i = 0; i < n; ++i) acc = in.op == Opcode::VRedSum ? acc + a.at(i) : std::max(acc, a.at(i));
    if (in.op == Opcode::VRedSum) acc = num::rshr(acc, shift);
    r.push_back(num::sat_to(d32, acc));
  } else {
    r.resize(n);
    for (uint64_t i = 0; i < n; ++i) {
      const int64_t x = a.at(i);
      const int64_t y = bmode == isa::kBVector ? b.at(i) : bscalar;
      int64_t v = 0;
      switch (in.op) {
        case Opcode::VAdd: v = num::rshr(x + y, shift); break;
        case Opcode::VSub: v = num::rshr(x - y, shift); break;
        case Opcode::VMul: v = num::rshr(x * y, shift); break;
        case Opcode::VMax: v = num::rshr(std::max(x, y), shift); break;
        case Opcode::VMin: v = num::rshr(std::min(x, y), shift); break;
        case Opcode::VShl: v = num::shl_sat(x, shift); break;
        case Opcode::VShr: v = num::rshr(x, shift); break;
        case Opcode::VClamp: v = std::min(std::max(x, imm), imm2); break;
        case Opcode::VMov: v = num::rshr(x, shift); break;
        case Opcode::VRequant:
          if (bmode == isa::kBVector) {
            const uint64_t c = i % uint64_t(imm2);
            const int64_t m = b.at(2 * c), s = b.at(2 * c + 1);
            v = num::requant(x, m, static_cast<unsigned>(std::min<int64_t>(std::max<int64_t>(s, 0), 63)));
          } else {
            v = num::requant(x, imm, shift);
          }
          break;
        case Opcode::VLut: v = luts[imm][num::sat8(x) + 128]; break;
        case Opcode::VRecip: v = num::recip(x, shift); break;
        case Opcode::VRsqrt: v = num::rsqrt(x, shift); break;
        case Opcode::VRot: {
          const uint64_t h = uint64_t(imm), j = i % (2 * h);
          v = j < h ? -a.at(i + h) : a.at(i - h);
          break;
        }
        default: break;
      }
      r[i] = num::sat_to(d32, v);
    }
  }
  std::vector<uint8_t>& dm = tile.space(dspace);
  const uint64_t dst = in[Field::Dst];
  for (uint64_t i = 0; i < r.size(); ++i) {
    if (d32) {
      const int32_t v = static_cast<int32_t>(r[i]);
      std::memcpy(&dm[dst + 4 * i], &v, 4);
    } else {
      dm[dst + i] = static_cast<uint8_t>(static_cast<int8_t>(r[i]));
    }
  }
}

}  // namespace clonesim::sim
