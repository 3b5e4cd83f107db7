// The RTL generator: a design point -> SystemVerilog (configuration package,
// ISA package from the one field table in lib/isa/isa.h, the RTL sources, and
// a file list in compile order).
#pragma once

#include <string>
#include <vector>

#include "hw/hw_config.h"

namespace clonesim::rtl {

struct GenOptions {
  unsigned imem_depth = 16384;  // instructions the RTL's program memory holds
};

// Empty when the RTL can build this design point, else why not.
std::string check_buildable(const hw::HwConfig& hw);

// Write the design point's RTL into `dir` (created if needed).  Returns the
// files in compile order (also written to dir/files.f).  Throws
// clonesim::Error if the design point cannot be built.
std::vector<std::string> generate(const hw::HwConfig& hw, const std::string& dir, const GenOptions& opt = {});

std::string config_package(const hw::HwConfig& hw, const GenOptions& opt);
std::string isa_package();
// The same parameters as headers included inside each module (the form
// yosys's SystemVerilog front end reads: it has no package import).
std::string config_header(const hw::HwConfig& hw, const GenOptions& opt);
std::string isa_header();

// The RTL sources shipped with clonesim, in compile order (file names).
const std::vector<std::string>& rtl_sources();

}  // namespace clonesim::rtl
