#include "lower/ffn.h"

#include "isa/isa.h"

namespace clonesim::compiler {

using isa::Field;
using isa::Opcode;
namespace {
constexpr int SP = isa::kScratchpad, ACC = isa::kAccumulator;
}

std::vector<uint8_t> lut_image(const std::vector<int16_t>& table) {
  std::vector<uint8_t> out(512, 0);
  for (size_t i = 0; i < table.size() && i < 256; ++i) {
    out[2 * i] = uint8_t(uint16_t(table[i]));
    out[2 * i + 1] = uint8_t(uint16_t(table[i]) >> 8);
  }
  return out;
}

void emit_lut_load(ProgramBuilder& b, unsigned tile, uint64_t table_sp, unsigned lut, unsigned wait,
                   const std::string& name) {
  b.emit(vec(Opcode::LutLoad, tile, 0, SP, table_sp, SP, 256).set(Field::Imm, lut).wait(wait),
         name + ": activation table to LUT");
}

void emit_gated_product(ProgramBuilder& b, unsigned tile, uint64_t n, uint64_t gate_sp, uint64_t up_sp,
                        uint64_t a_acc, uint64_t y_sp, unsigned lut, unsigned shift, unsigned wait, unsigned signal,
                        const std::string& name) {
  b.emit(vec(Opcode::VLut, tile, a_acc, ACC, gate_sp, SP, n).set(Field::Imm, lut).wait(wait),
         name + ": act(gate), int16 into the accumulator");
  b.emit(vec(Opcode::VMul, tile, y_sp, SP, a_acc, ACC, n)
             .set(Field::B, int64_t(up_sp)).set(Field::BSpace, SP).set(Field::BMode, isa::kBVector)
             .set(Field::Shift, shift)
             .signal(signal),
         "x up, to int8");
}

void emit_lut_activation(ProgramBuilder& b, unsigned tile, uint64_t n, uint64_t x_sp, uint64_t y_sp, unsigned lut,
                         unsigned wait, unsigned signal, const std::string& name) {
  b.emit(vec(Opcode::VLut, tile, y_sp, SP, x_sp, SP, n).set(Field::Imm, lut).wait(wait).signal(signal),
         name + ": act(x), int8");
}

}  // namespace clonesim::compiler
