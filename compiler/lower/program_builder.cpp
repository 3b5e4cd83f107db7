#include "lower/program_builder.h"

#include "common/error.h"
#include "common/strf.h"

namespace clonesim::compiler {

using isa::Field;
using isa::Opcode;

Ins& Ins::wait(unsigned sem) {
  if (sem == 0) return *this;
  if (in_.wait[0] == 0) in_.wait[0] = static_cast<uint8_t>(sem);
  else if (in_.wait[1] == 0) in_.wait[1] = static_cast<uint8_t>(sem);
  else throw Error(strf("%s: more than two semaphores to wait on", isa::opcode_info(uint8_t(in_.op))->mnemonic));
  return *this;
}

Ins& Ins::signal(unsigned sem) {
  if (sem == 0) return *this;
  if (in_.signal[0] == 0) in_.signal[0] = static_cast<uint8_t>(sem);
  else if (in_.signal[1] == 0) in_.signal[1] = static_cast<uint8_t>(sem);
  else throw Error(strf("%s: more than two semaphores to signal", isa::opcode_info(uint8_t(in_.op))->mnemonic));
  return *this;
}

namespace {
Ins dma(Opcode op, unsigned tile, uint64_t dram, uint64_t sram, int space, uint64_t bytes, uint64_t rows,
        uint64_t dstride, uint64_t sstride) {
  return Ins(op)
      .tile(tile)
      .set(Field::Dram, int64_t(dram))
      .set(Field::Sram, int64_t(sram))
      .set(Field::Space, space)
      .set(Field::Bytes, int64_t(bytes))
      .set(Field::Rows, int64_t(rows))
      .set(Field::DStride, rows > 1 ? int64_t(dstride) : 0)
      .set(Field::SStride, rows > 1 ? int64_t(sstride) : 0);
}
}  // namespace

Ins load(unsigned tile, uint64_t dram, uint64_t sram, int space, uint64_t bytes, uint64_t rows, uint64_t dstride,
         uint64_t sstride) {
  return dma(Opcode::Load, tile, dram, sram, space, bytes, rows, dstride, sstride);
}

Ins store(unsigned tile, uint64_t dram, uint64_t sram, int space, uint64_t bytes, uint64_t rows, uint64_t dstride,
          uint64_t sstride) {
  return dma(Opcode::Store, tile, dram, sram, space, bytes, rows, dstride, sstride);
}

Ins matmul(unsigned tile, uint64_t act, uint64_t wgt, uint64_t acc, uint64_t m, uint64_t k, uint64_t n, bool int4,
           bool accum, uint64_t astride, uint64_t cstride) {
  return Ins(Opcode::Matmul)
      .tile(tile)
      .set(Field::Act, int64_t(act))
      .set(Field::Wgt, int64_t(wgt))
      .set(Field::Acc, int64_t(acc))
      .set(Field::M, int64_t(m))
      .set(Field::K, int64_t(k))
      .set(Field::N, int64_t(n))
      .set(Field::WType, int4 ? 1 : 0)
      .set(Field::Accum, accum ? 1 : 0)
      .set(Field::AStride, int64_t(astride))
      .set(Field::CStride, int64_t(cstride));
}

Ins vec(Opcode op, unsigned tile, uint64_t dst, int dspace, uint64_t a, int aspace, uint64_t len) {
  return Ins(op)
      .tile(tile)
      .set(Field::Dst, int64_t(dst))
      .set(Field::DSpace, dspace)
      .set(Field::A, int64_t(a))
      .set(Field::ASpace, aspace)
      .set(Field::Len, int64_t(len));
}

Ins vec(Opcode op, unsigned tile, uint64_t dst, int dspace, uint64_t a, int aspace, uint64_t len, uint64_t b,
        int bspace, int bmode) {
  return vec(op, tile, dst, dspace, a, aspace, len)
      .set(Field::B, int64_t(b))
      .set(Field::BSpace, bspace)
      .set(Field::BMode, bmode);
}

void ProgramBuilder::emit(const Ins& ins, const std::string& comment) {
  const std::string problem = isa::check(ins.get());
  if (!problem.empty()) {
    const std::string where = comment.empty() ? "" : " (" + comment + ")";
    throw Error(strf("%s: instruction %zu%s: %s", prog_.source.c_str(), size(), where.c_str(),
                     problem.c_str()));
  }
  prog_.code.push_back(ins.get());
  if (keep_comments_) {
    comment_.resize(prog_.code.size() - 1);
    comment_.push_back(comment);
  }
}

void ProgramBuilder::section(const std::string& text) {
  if (keep_comments_) sections_.emplace_back(prog_.code.size(), text);
}

void ProgramBuilder::region(const std::string& name) {
  prog_.regions.push_back({name, static_cast<uint32_t>(size())});
}

isa::Program ProgramBuilder::take_program() {
  isa::Program p;
  p.source = prog_.source;
  p.code = std::move(prog_.code);
  p.regions = std::move(prog_.regions);
  prog_.regions.clear();
  std::vector<isa::Instruction>().swap(prog_.code);
  std::vector<std::string>().swap(comment_);
  std::vector<std::pair<size_t, std::string>>().swap(sections_);
  return p;
}

std::vector<isa::Instruction> ProgramBuilder::take_code() {
  if (keep_comments_) throw Error(prog_.source + ": take_code needs comments off (the listing needs every instruction)");
  std::vector<isa::Instruction> c = std::move(prog_.code);
  std::vector<isa::Instruction>().swap(prog_.code);
  taken_ += c.size();
  return c;
}

std::string ProgramBuilder::listing() const {
  std::string out = "; " + prog_.source + "\n";
  size_t s = 0, r = 0;
  for (size_t i = 0; i <= prog_.code.size(); ++i) {
    for (; r < prog_.regions.size() && prog_.regions[r].first == taken_ + i; ++r)
      out += "\n.region " + prog_.regions[r].name + "\n";
    for (; s < sections_.size() && sections_[s].first == i; ++s) out += "\n; " + sections_[s].second + "\n";
    if (i == prog_.code.size()) break;
    out += isa::disassemble(prog_.code[i]);
    if (i < comment_.size() && !comment_[i].empty()) out += "    ; " + comment_[i];
    out += '\n';
  }
  return out;
}

}  // namespace clonesim::compiler
