#include "sim/run.h"

#include "common/error.h"

namespace clonesim::sim {

void run_program(const hw::HwConfig& hw, const isa::Program& program, const Options& opt,
                 const std::function<void(Accelerator&)>& setup,
                 const std::function<void(const Accelerator&)>& inspect) {
  Accelerator acc("accelerator", hw, &program, opt);
  if (setup) setup(acc);
  sc_core::sc_start();
  if (!acc.error().empty()) throw Error(acc.error());
  if (!acc.finished()) throw Error(program.source + ": simulation ended before the program halted");
  if (inspect) inspect(acc);
}

}  // namespace clonesim::sim
