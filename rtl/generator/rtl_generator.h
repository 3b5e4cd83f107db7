// The RTL generator: a design point -> SystemVerilog (configuration header,
// ISA header from the one field table in lib/isa/isa.h, the RTL sources, and
// a file list in compile order).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "hw/hw_config.h"

namespace clonesim::rtl {

struct GenOptions {
  // Instructions the RTL's program memory holds, in place of the design
  // point's controller.imem_depth.  Unset: the design point's.
  std::optional<uint32_t> imem_depth;
};

// Empty when the RTL can build this design point, else why not.
std::string check_buildable(const hw::HwConfig& hw);

// Write the design point's RTL into `dir` (created if needed).  Returns the
// files written: the two headers, then the sources in compile order (which
// dir/files.f lists after +incdir+.).  Throws
// clonesim::Error if the design point cannot be built.
std::vector<std::string> generate(const hw::HwConfig& hw, const std::string& dir, const GenOptions& opt = {});

// The design point's parameters as the parameter port list each module
// includes, and the ISA (opcodes, field placements, field accessors) as
// body items: headers rather than packages, the form yosys 0.23 reads.
std::string config_header(const hw::HwConfig& hw, const GenOptions& opt);
std::string isa_header();

// The RTL sources shipped with clonesim, in compile order (file names).
const std::vector<std::string>& rtl_sources();

}  // namespace clonesim::rtl
