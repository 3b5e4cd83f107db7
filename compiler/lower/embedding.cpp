#include "lower/embedding.h"

#include <algorithm>

#include "isa/isa.h"

namespace clonesim::compiler {

using isa::Field;
using isa::Opcode;
namespace {
constexpr int SP = isa::kScratchpad, ACC = isa::kAccumulator;
}

EmbeddingBuffers place_embedding(const hw::HwConfig& hw, uint64_t d, bool learned, SramArena& sp, SramArena& acc,
                                 const std::string& kernel) {
  const uint64_t slot = std::min<uint64_t>(uint64_t(hw.vxu.lanes) * 4, hw.accumulator.line_bytes());
  EmbeddingBuffers b;
  b.e = sp.alloc(d, 0, kernel + ": token row");
  b.m = acc.alloc(slot, slot, kernel + ": token multiplier");
  if (learned) {
    b.pe = sp.alloc(d, 0, kernel + ": position row");
    b.pm = acc.alloc(slot, slot, kernel + ": position multiplier");
    b.p = acc.alloc(4 * d, 0, kernel + ": widened position row");
  }
  return b;
}

void emit_embedding(ProgramBuilder& b, unsigned tile, const EmbeddingIO& io, const EmbeddingBuffers& buf,
                    uint64_t x_acc, unsigned in, const std::string& name) {
  b.section(name + ": embedding row of the token, widened into the residual stream");
  b.emit(load(tile, io.rows_dram, buf.e, SP, io.d).addr(io.row_reg).signal(in), name + ": token row");
  b.emit(load(tile, io.mult_dram, buf.m, ACC, 4).addr(io.mult_reg).signal(in), "token multiplier");
  if (io.learned) {
    b.emit(load(tile, io.pos_row_dram, buf.pe, SP, io.d).signal(in), "position row");
    b.emit(load(tile, io.pos_mult_dram, buf.pm, ACC, 4).signal(in), "position multiplier");
  }
  b.emit(vec(Opcode::VMul, tile, x_acc, ACC, buf.e, SP, io.d)
             .set(Field::B, int64_t(buf.m)).set(Field::BSpace, ACC).set(Field::BMode, isa::kBScalar)
             .set(Field::Shift, io.shift)
             .wait(in).wait(in),
         "widen");
  if (io.learned) {
    b.emit(vec(Opcode::VMul, tile, buf.p, ACC, buf.pe, SP, io.d)
               .set(Field::B, int64_t(buf.pm)).set(Field::BSpace, ACC).set(Field::BMode, isa::kBScalar)
               .set(Field::Shift, io.pos_shift)
               .wait(in).wait(in),
           "widen the position row");
    b.emit(vec(Opcode::VAdd, tile, x_acc, ACC, x_acc, ACC, io.d)
               .set(Field::B, int64_t(buf.p)).set(Field::BSpace, ACC).set(Field::BMode, isa::kBVector),
           "+ position");
  }
}

}  // namespace clonesim::compiler
