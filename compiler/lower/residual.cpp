#include "lower/residual.h"

#include "isa/isa.h"

namespace clonesim::compiler {

void emit_residual_add(ProgramBuilder& b, unsigned tile, uint64_t r_acc, uint64_t t_acc, uint64_t n, unsigned wait,
                       unsigned signal, const std::string& name) {
  b.emit(vec(isa::Opcode::VAdd, tile, r_acc, isa::kAccumulator, r_acc, isa::kAccumulator, n)
             .set(isa::Field::B, int64_t(t_acc)).set(isa::Field::BSpace, isa::kAccumulator)
             .set(isa::Field::BMode, isa::kBVector)
             .wait(wait)
             .signal(signal),
         name + ": residual += T");
}

}  // namespace clonesim::compiler
