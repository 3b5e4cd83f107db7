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

struct Program {
  std::vector<Instruction> code;
  std::string source;  // where it came from, for error messages
};

constexpr char kMagic[8] = {'C', 'L', 'O', 'N', 'E', 'I', 'S', 'A'};
constexpr uint32_t kFormatVersion = 1;
constexpr unsigned kHeaderBytes = 16;

std::vector<uint8_t> to_binary(const Program& p);
// Throws clonesim::Error "SOURCE: offset N: ..." on a bad magic, version,
// truncation, trailing bytes or an undecodable instruction.
Program from_binary(const std::vector<uint8_t>& bytes, const std::string& source);

// Text assembly.  Throws clonesim::Error "SOURCE:LINE: ..." on any problem.
Program assemble(const std::string& text, const std::string& source);
// One instruction per line; assemble(disassemble(p)) == p for every legal p.
std::string disassemble(const Program& p);
std::string disassemble(const Instruction& in);

// Read a program file: binary if it starts with the magic, assembly otherwise.
Program load_program(const std::string& path);
void save_binary(const Program& p, const std::string& path);

}  // namespace clonesim::isa
