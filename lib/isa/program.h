// A program: a sequence of decoded instructions, read from and written to
// the binary container or the text assembly language (docs/isa.md).
//
// Binary container (little-endian):
//   bytes 0..7   magic "CLONEISA"
//   bytes 8..11  format version (1)
//   bytes 12..15 instruction count N
//   then N x 32-byte instructions (isa.h)
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "isa/isa.h"

namespace clonesim::isa {

// A named part of a program (a layer, the LM head): the instructions from
// `first` to the next region's first (or the end).  The simulator accounts
// time and energy per region and a DVFS governor picks an operating point
// per region (docs/isa.md, "Regions").  Regions are metadata: the assembly
// language writes them as `.region NAME` lines; the binary container has none.
struct Region {
  std::string name;
  uint32_t first = 0;
  bool operator==(const Region& o) const { return name == o.name && first == o.first; }
};

struct Program {
  std::vector<Instruction> code;
  std::string source;          // where it came from, for error messages
  std::vector<Region> regions;  // ascending `first`, each <= code.size()
};

// Throws clonesim::Error "SOURCE: region N (NAME): ..." when the regions are
// not in ascending order, start past the end or have an empty or multi-line name.
void check_regions(const Program& p);

constexpr char kMagic[8] = {'C', 'L', 'O', 'N', 'E', 'I', 'S', 'A'};
constexpr uint32_t kFormatVersion = 1;
constexpr unsigned kHeaderBytes = 16;

std::vector<uint8_t> to_binary(const Program& p);
// Throws clonesim::Error "SOURCE: offset N: ..." on a bad magic, version,
// truncation, trailing bytes or an undecodable instruction.
Program from_binary(const std::vector<uint8_t>& bytes, const std::string& source);

// Text assembly.  Throws clonesim::Error "SOURCE:LINE: ..." on any problem.
// A line `.region NAME` starts a region at the next instruction.
Program assemble(const std::string& text, const std::string& source);
// One instruction per line; assemble(disassemble(p)) == p for every legal p.
std::string disassemble(const Program& p);
std::string disassemble(const Instruction& in);

// Read a program file: binary if it starts with the magic, assembly otherwise.
Program load_program(const std::string& path);
void save_binary(const Program& p, const std::string& path);

}  // namespace clonesim::isa
