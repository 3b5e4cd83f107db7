// Building programs: one instruction at a time, each with an optional
// comment for the assembly listing.  Every instruction is checked against the
// ISA's legal ranges as it is emitted, so a compiler bug shows up at the
// instruction that has it, with the comment that says where it came from.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "isa/isa.h"
#include "isa/program.h"

namespace clonesim::compiler {

// Fluent construction of one instruction: Ins(Opcode::Load).tile(1).wait(3)...
class Ins {
 public:
  explicit Ins(isa::Opcode op) { in_.op = op; }
  Ins& tile(unsigned t) { in_.tile = static_cast<uint8_t>(t); return *this; }
  Ins& all_tiles() { in_.tile = isa::kAllTiles; return *this; }
  // Adds a semaphore to the first free wait / signal slot (0 = none: ignored).
  Ins& wait(unsigned sem);
  Ins& signal(unsigned sem);
  Ins& cnt(unsigned reg) { in_.cnt_reg = static_cast<uint8_t>(reg); in_.cnt_alt = false; return *this; }
  // The alternate count field (matmul k, load/store bytes) from context register `reg`.
  Ins& cnt_alt(unsigned reg) { in_.cnt_reg = static_cast<uint8_t>(reg); in_.cnt_alt = true; return *this; }
  Ins& addr(unsigned reg) { in_.addr_reg = static_cast<uint8_t>(reg); return *this; }
  Ins& set(isa::Field f, int64_t v) { in_[f] = v; return *this; }
  const isa::Instruction& get() const { return in_; }

 private:
  isa::Instruction in_;
};

// Data-movement and compute shorthands (fields not named here are zero).
Ins load(unsigned tile, uint64_t dram, uint64_t sram, int space, uint64_t bytes, uint64_t rows = 1,
         uint64_t dstride = 0, uint64_t sstride = 0);
Ins store(unsigned tile, uint64_t dram, uint64_t sram, int space, uint64_t bytes, uint64_t rows = 1,
          uint64_t dstride = 0, uint64_t sstride = 0);
Ins matmul(unsigned tile, uint64_t act, uint64_t wgt, uint64_t acc, uint64_t m, uint64_t k, uint64_t n,
           bool int4, bool accum, uint64_t astride, uint64_t cstride);
// A vector op with its destination and first source; add .set(Field::B...) etc.
Ins vec(isa::Opcode op, unsigned tile, uint64_t dst, int dspace, uint64_t a, int aspace, uint64_t len);
// The same with the second operand: b in bspace, read as bmode (isa::BMode).
Ins vec(isa::Opcode op, unsigned tile, uint64_t dst, int dspace, uint64_t a, int aspace, uint64_t len, uint64_t b,
        int bspace, int bmode);

class ProgramBuilder {
 public:
  explicit ProgramBuilder(std::string source) { prog_.source = std::move(source); }
  // Appends the instruction; throws clonesim::Error "instruction N (comment): problem"
  // when it is not legal.
  void emit(const Ins& ins, const std::string& comment = "");
  // A comment line before the next instruction in the listing.
  void section(const std::string& text);
  // Starts a region (a layer, the LM head) at the next instruction; kept
  // with or without comments (isa::Region).
  void region(const std::string& name);
  const std::vector<isa::Region>& regions() const { return prog_.regions; }
  // Instructions emitted so far (those taken by take_code() included).
  size_t size() const { return taken_ + prog_.code.size(); }
  // Off: comments and sections are dropped (very large programs; the
  // listing then has the instructions only).
  void keep_comments(bool keep) { keep_comments_ = keep; }
  bool keeps_comments() const { return keep_comments_; }
  const isa::Program& program() const { return prog_; }
  // Assembly listing: re-assembles to program() (comments included).
  std::string listing() const;
  // Moves the program out (the builder is left empty).  For very large
  // programs, where a copy would double the memory.
  isa::Program take_program();
  // Moves the instructions emitted since the last call out; the numbering
  // (size(), error messages) continues.  program() and listing() then hold
  // only the instructions not taken.  Only without comments.
  std::vector<isa::Instruction> take_code();

 private:
  isa::Program prog_;
  std::vector<std::string> comment_;                        // per instruction
  std::vector<std::pair<size_t, std::string>> sections_;    // before instruction index
  bool keep_comments_ = true;
  size_t taken_ = 0;  // instructions moved out by take_code()
};

}  // namespace clonesim::compiler
