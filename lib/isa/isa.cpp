// The clonesim ISA: opcode table, field layout, encoder, decoder and the
// legality check.  See isa.h for the header layout and docs/isa.md for the
// semantics.
#include "isa/isa.h"

#include <cinttypes>
#include <cstdio>
#include <limits>

#include "common/error.h"

namespace clonesim::isa {

const char* to_string(Unit u) {
  switch (u) {
    case Unit::Control: return "control";
    case Unit::Load: return "load";
    case Unit::Store: return "store";
    case Unit::Matrix: return "matrix";
    case Unit::Vector: return "vector";
  }
  return "?";
}

// ---------------------------------------------------------------------------
// Header and opcode tables

const std::vector<HeaderField>& header_fields() {
  static const std::vector<HeaderField> table = {kHdrOpcode, kHdrWait0,  kHdrWait1,   kHdrSignal0, kHdrSignal1,
                                                 kHdrTile,   kHdrCntReg, kHdrAddrReg, kHdrCntAlt};
  return table;
}

const std::vector<OpcodeInfo>& all_opcodes() {
  static const std::vector<OpcodeInfo> table = {
#define X(name, code, unit, mn) {Opcode::name, code, Unit::unit, mn},
      CLONESIM_OPCODES(X)
#undef X
  };
  return table;
}

const OpcodeInfo* opcode_info(uint8_t code) {
  static const std::array<const OpcodeInfo*, 256> by_code = [] {
    std::array<const OpcodeInfo*, 256> t{};
    for (const OpcodeInfo& oi : all_opcodes()) t[oi.code] = &oi;
    return t;
  }();
  return by_code[code];
}

const OpcodeInfo* opcode_by_mnemonic(const std::string& m) {
  for (const OpcodeInfo& oi : all_opcodes())
    if (m == oi.mnemonic) return &oi;
  return nullptr;
}

const char* field_name(Field f) {
  switch (f) {
    case Field::Dram: return "dram";
    case Field::Rows: return "rows";
    case Field::Sram: return "sram";
    case Field::Space: return "space";
    case Field::Bytes: return "bytes";
    case Field::DStride: return "dstride";
    case Field::SStride: return "sstride";
    case Field::Act: return "act";
    case Field::Wgt: return "wgt";
    case Field::M: return "m";
    case Field::Acc: return "acc";
    case Field::K: return "k";
    case Field::N: return "n";
    case Field::WType: return "wtype";
    case Field::Accum: return "accum";
    case Field::AStride: return "astride";
    case Field::CStride: return "cstride";
    case Field::Dst: return "dst";
    case Field::DSpace: return "dspace";
    case Field::A: return "a";
    case Field::ASpace: return "aspace";
    case Field::B: return "b";
    case Field::BSpace: return "bspace";
    case Field::BMode: return "bmode";
    case Field::Len: return "len";
    case Field::Shift: return "shift";
    case Field::Imm: return "imm";
    case Field::Imm2: return "imm2";
    case Field::Reg: return "reg";
    case Field::Src: return "src";
    case Field::Value: return "value";
    case Field::DomainF: return "domain";
    case Field::Point: return "point";
    case Field::kCount: break;
  }
  return "?";
}

// ---------------------------------------------------------------------------
// Field layout

namespace {

const std::vector<FieldLayout> kDmaLayout = {
    {Field::Dram, "dram", 1, 0, 48, false},     {Field::Rows, "rows", 1, 48, 16, false},
    {Field::Sram, "sram", 2, 0, 24, false},     {Field::Space, "space", 2, 24, 1, false},
    {Field::Bytes, "bytes", 2, 32, 24, false},  {Field::DStride, "dstride", 3, 0, 40, false},
    {Field::SStride, "sstride", 3, 40, 24, false},
};

const std::vector<FieldLayout> kMatmulLayout = {
    {Field::Act, "act", 1, 0, 24, false},         {Field::Wgt, "wgt", 1, 24, 24, false},
    {Field::M, "m", 1, 48, 16, false},            {Field::Acc, "acc", 2, 0, 24, false},
    {Field::K, "k", 2, 24, 12, false},            {Field::N, "n", 2, 36, 12, false},
    {Field::WType, "wtype", 2, 48, 1, false},     {Field::Accum, "accum", 2, 49, 1, false},
    {Field::AStride, "astride", 3, 0, 24, false}, {Field::CStride, "cstride", 3, 24, 24, false},
};

const std::vector<FieldLayout> kVectorLayout = {
    {Field::Dst, "dst", 1, 0, 24, false},      {Field::DSpace, "dspace", 1, 24, 1, false},
    {Field::A, "a", 1, 32, 24, false},         {Field::ASpace, "aspace", 1, 56, 1, false},
    {Field::B, "b", 2, 0, 24, false},          {Field::BSpace, "bspace", 2, 24, 1, false},
    {Field::BMode, "bmode", 2, 25, 2, false},  {Field::Len, "len", 2, 32, 24, false},
    {Field::Shift, "shift", 2, 56, 6, false},  {Field::Imm, "imm", 3, 0, 32, true},
    {Field::Imm2, "imm2", 3, 32, 32, true},
};

const std::vector<FieldLayout> kCtxSetLayout = {
    {Field::Reg, "reg", 1, 0, 3, false},
    {Field::Value, "value", 2, 0, 64, true},
};

const std::vector<FieldLayout> kCtxArithLayout = {
    {Field::Reg, "reg", 1, 0, 3, false},
    {Field::Src, "src", 1, 8, 3, false},
    {Field::Value, "value", 2, 0, 64, true},
};

const std::vector<FieldLayout> kDvfsLayout = {
    {Field::DomainF, "domain", 1, 0, 2, false},
    {Field::Point, "point", 1, 8, 8, false},
};

const std::vector<FieldLayout> kNoFields = {};

const std::vector<FieldLayout>& layout_ref(Opcode op) {
  switch (op) {
    case Opcode::Nop:
    case Opcode::Halt: return kNoFields;
    case Opcode::CtxSet: return kCtxSetLayout;
    case Opcode::CtxAdd:
    case Opcode::CtxMul: return kCtxArithLayout;
    case Opcode::Dvfs: return kDvfsLayout;
    case Opcode::Load:
    case Opcode::Store: return kDmaLayout;
    case Opcode::Matmul: return kMatmulLayout;
    default: break;
  }
  const OpcodeInfo* oi = opcode_info(static_cast<uint8_t>(op));
  if (oi && oi->unit == Unit::Vector) return kVectorLayout;
  return kNoFields;
}

uint64_t mask_of(unsigned width) { return width >= 64 ? ~uint64_t(0) : ((uint64_t(1) << width) - 1); }

int64_t field_min(const FieldLayout& l) {
  if (!l.is_signed) return 0;
  if (l.width >= 64) return std::numeric_limits<int64_t>::min();
  return -(int64_t(1) << (l.width - 1));
}

int64_t field_max(const FieldLayout& l) {
  if (l.is_signed) {
    if (l.width >= 64) return std::numeric_limits<int64_t>::max();
    return (int64_t(1) << (l.width - 1)) - 1;
  }
  if (l.width >= 63) return std::numeric_limits<int64_t>::max();
  return (int64_t(1) << l.width) - 1;
}

std::string num(int64_t v) { return std::to_string(v); }

bool is_binary_vector(Opcode op) {
  switch (op) {
    case Opcode::VAdd:
    case Opcode::VSub:
    case Opcode::VMul:
    case Opcode::VMax:
    case Opcode::VMin: return true;
    default: return false;
  }
}

// Legal range of one field of one instruction, with an optional reason.
struct Range {
  int64_t lo, hi;
  const char* note = nullptr;
};

Range legal_range(const Instruction& in, const FieldLayout& l) {
  Range r{field_min(l), field_max(l)};
  const Opcode op = in.op;
  // the field ctx[cnt_reg] replaces: its immediate is ignored (may be 0)
  const bool from_reg = in.cnt_reg != 0 && static_cast<int>(l.field) == cnt_reg_field(in);
  switch (l.field) {
    case Field::Rows:
    case Field::M:
    case Field::Len:
      if (!from_reg && op != Opcode::LutLoad) r.lo = 1;  // lutld has no count (it loads 256 entries)
      break;
    case Field::Bytes:
    case Field::K:
      if (!from_reg) r.lo = 1;
      break;
    case Field::N: r.lo = 1; break;
    case Field::BMode:
      if (is_binary_vector(op)) {
        r.lo = 1;
        r.note = "a binary op needs a b operand: vec, scalar or imm";
      } else if (op == Opcode::VRequant) {
        r.hi = 1;
        r.note = "vrequant: none = per-tensor, vec = per-channel table";
      } else {
        r.hi = 0;
        r.note = "this op takes no b operand";
      }
      break;
    case Field::BSpace:
      if (op == Opcode::VRequant && in[Field::BMode] == kBVector) {
        r.lo = 1;
        r.note = "the per-channel table is in the accumulator: acc";
      }
      break;
    case Field::ASpace:
      if (op == Opcode::LutLoad) {
        r.hi = 0;
        r.note = "lutld reads the table from the scratchpad";
      }
      break;
    case Field::Imm:
      if (op == Opcode::VLut || op == Opcode::LutLoad) {
        r.lo = 0;
        r.hi = kNumLuts - 1;
        r.note = "LUT id";
      } else if (op == Opcode::VRot) {
        r.lo = 1;
        r.note = "rotation half size";
      }
      break;
    case Field::Imm2:
      if (op == Opcode::VRequant && in[Field::BMode] == kBVector) {
        r.lo = 1;
        r.note = "channels of the per-channel table";
      }
      break;
    case Field::Shift:
      if (op == Opcode::VRecip) r.hi = 62;
      if (op == Opcode::VRsqrt) r.hi = 31;
      if (op == Opcode::VShl) r.hi = 31;
      break;
    case Field::Reg:
      r.lo = 1;
      r.note = "c0 is hard-wired to zero";
      break;
    case Field::DomainF:
      r.hi = 2;
      r.note = "0 compute, 1 memory, 2 always_on";
      break;
    default: break;
  }
  return r;
}

std::string range_problem(const char* name, const Range& r, int64_t v) {
  std::string s = std::string(name) + ": must be ";
  if (r.lo == r.hi)
    s += num(r.lo);
  else if (r.hi == std::numeric_limits<int64_t>::max())
    s += ">= " + num(r.lo);
  else
    s += num(r.lo) + ".." + num(r.hi);
  if (r.note) s += std::string(" (") + r.note + ")";
  s += ", got " + num(v);
  return s;
}

}  // namespace

std::vector<FieldLayout> fields_of(Opcode op) { return layout_ref(op); }

bool Instruction::operator==(const Instruction& o) const {
  if (op != o.op || wait != o.wait || signal != o.signal || tile != o.tile || cnt_reg != o.cnt_reg ||
      addr_reg != o.addr_reg || cnt_alt != o.cnt_alt)
    return false;
  for (const FieldLayout& l : layout_ref(op))
    if ((*this)[l.field] != o[l.field]) return false;
  return true;
}

bool is_vector_elementwise(Opcode op) {
  const uint8_t c = static_cast<uint8_t>(op);
  return c >= static_cast<uint8_t>(Opcode::VAdd) && c <= static_cast<uint8_t>(Opcode::VRot) &&
         op != Opcode::LutLoad;
}

bool is_vector_reduction(Opcode op) { return op == Opcode::VRedSum || op == Opcode::VRedMax; }

int count_field(Opcode op) {
  switch (op) {
    case Opcode::Load:
    case Opcode::Store: return static_cast<int>(Field::Rows);
    case Opcode::Matmul: return static_cast<int>(Field::M);
    default: break;
  }
  const OpcodeInfo* oi = opcode_info(static_cast<uint8_t>(op));
  if (oi && oi->unit == Unit::Vector && op != Opcode::LutLoad) return static_cast<int>(Field::Len);
  return kNumFields;
}

int alt_count_field(Opcode op) {
  switch (op) {
    case Opcode::Load:
    case Opcode::Store: return static_cast<int>(Field::Bytes);
    case Opcode::Matmul: return static_cast<int>(Field::K);
    default: return kNumFields;
  }
}

int cnt_reg_field(const Instruction& in) {
  if (in.cnt_reg == 0) return kNumFields;
  return in.cnt_alt ? alt_count_field(in.op) : count_field(in.op);
}

FieldRange immediate_range(const Instruction& in, Field f) {
  Instruction imm = in;
  imm.cnt_reg = 0;
  imm.cnt_alt = false;
  for (const FieldLayout& l : layout_ref(in.op))
    if (l.field == f) {
      const Range r = legal_range(imm, l);
      return {r.lo, r.hi};
    }
  return {0, -1};  // not a field of the opcode: nothing is legal
}

// ---------------------------------------------------------------------------
// Legality

std::string check(const Instruction& in) {
  const OpcodeInfo* oi = opcode_info(static_cast<uint8_t>(in.op));
  if (!oi) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "opcode: unknown opcode 0x%02x", static_cast<unsigned>(in.op));
    return buf;
  }
  const char* mn = oi->mnemonic;
  for (int i = 0; i < 2; ++i) {
    if (in.wait[i] >= kNumSemaphores)
      return "wait: semaphore must be 0..31, got " + num(in.wait[i]);
    if (in.signal[i] >= kNumSemaphores)
      return "signal: semaphore must be 0..31, got " + num(in.signal[i]);
  }
  if (in.tile > kAllTiles) return "tile: must be 0..62 or 63 (all), got " + num(in.tile);
  if (in.cnt_reg >= kNumContextRegs) return "cnt: context register must be c0..c7, got " + num(in.cnt_reg);
  if (in.addr_reg >= kNumContextRegs)
    return "addr: context register must be c0..c7, got " + num(in.addr_reg);
  if (in.cnt_alt && in.cnt_reg == 0)
    return "cnt_alt: needs a count register (cnt_alt=c1..c7), got c0";
  if (in.cnt_alt && alt_count_field(in.op) == kNumFields)
    return std::string("cnt_alt: ") + mn + " has no alternate count field (only matmul k, load/store bytes), got c" +
           num(in.cnt_reg);
  if (in.cnt_reg != 0 && !in.cnt_alt && count_field(in.op) == kNumFields)
    return std::string("cnt: ") + mn + " has no count field, got c" + num(in.cnt_reg);
  if (in.addr_reg != 0 && in.op != Opcode::Load && in.op != Opcode::Store)
    return std::string("addr: only load and store take an address register, got c") + num(in.addr_reg) +
           " on " + mn;

  const auto& layout = layout_ref(in.op);
  for (const FieldLayout& l : layout) {
    const int64_t v = in[l.field];
    const Range w{field_min(l), field_max(l)};
    if (v < w.lo || v > w.hi) {
      // Prefer the opcode's tighter range in the message when there is one.
      return range_problem(l.name, legal_range(in, l), v);
    }
  }
  for (const FieldLayout& l : layout) {
    const int64_t v = in[l.field];
    const Range r = legal_range(in, l);
    if (v < r.lo || v > r.hi) return range_problem(l.name, r, v);
  }

  if (in.op == Opcode::VRot && in.cnt_reg == 0) {
    const int64_t h = in[Field::Imm];
    const int64_t len = in[Field::Len];
    if (len % (2 * h) != 0)
      return "len: vrot needs a multiple of 2*imm = " + num(2 * h) + ", got " + num(len);
  }
  if (in.op == Opcode::VClamp && in[Field::Imm] > in[Field::Imm2])
    return "imm: vclamp needs imm (lo) <= imm2 (hi), got " + num(in[Field::Imm]) + " > " + num(in[Field::Imm2]);
  return "";
}

// ---------------------------------------------------------------------------
// Encode / decode

Word256 encode(const Instruction& in) {
  const std::string problem = check(in);
  if (!problem.empty()) throw Error(problem);
  Word256 w{};
  auto put = [&](const HeaderField& h, uint64_t v) { w[0] |= (v & mask_of(h.width)) << h.lsb; };
  put(kHdrOpcode, static_cast<uint8_t>(in.op));
  put(kHdrWait0, in.wait[0]);
  put(kHdrWait1, in.wait[1]);
  put(kHdrSignal0, in.signal[0]);
  put(kHdrSignal1, in.signal[1]);
  put(kHdrTile, in.tile);
  put(kHdrCntReg, in.cnt_reg);
  put(kHdrAddrReg, in.addr_reg);
  put(kHdrCntAlt, in.cnt_alt);
  for (const FieldLayout& l : layout_ref(in.op)) {
    const uint64_t bits = static_cast<uint64_t>(in[l.field]) & mask_of(l.width);
    w[l.word] |= bits << l.lsb;
  }
  return w;
}

Instruction decode(const Word256& w, uint64_t byte_offset) {
  auto fail = [&](const std::string& what) -> Error {
    return Error("offset " + std::to_string(byte_offset) + ": " + what);
  };
  auto get = [&](const HeaderField& h) { return static_cast<uint8_t>((w[0] >> h.lsb) & mask_of(h.width)); };
  const uint8_t code = get(kHdrOpcode);
  const OpcodeInfo* oi = opcode_info(code);
  if (!oi) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "opcode: unknown opcode 0x%02x", code);
    throw fail(buf);
  }
  if (w[0] >> kHdrReservedLsb) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "reserved header bits [63:%u] must be zero, got 0x%06" PRIx64, kHdrReservedLsb,
                  w[0] >> kHdrReservedLsb);
    throw fail(buf);
  }
  Instruction in;
  in.op = oi->op;
  in.wait[0] = get(kHdrWait0);
  in.wait[1] = get(kHdrWait1);
  in.signal[0] = get(kHdrSignal0);
  in.signal[1] = get(kHdrSignal1);
  in.tile = get(kHdrTile);
  in.cnt_reg = get(kHdrCntReg);
  in.addr_reg = get(kHdrAddrReg);
  in.cnt_alt = get(kHdrCntAlt) != 0;

  const auto& layout = layout_ref(in.op);
  uint64_t covered[kInstrWords] = {~uint64_t(0), 0, 0, 0};
  for (const FieldLayout& l : layout) covered[l.word] |= mask_of(l.width) << l.lsb;
  for (unsigned i = 1; i < kInstrWords; ++i) {
    const uint64_t stray = w[i] & ~covered[i];
    if (stray) {
      char buf[160];
      std::snprintf(buf, sizeof buf, "word %u: bits 0x%016" PRIx64 " are not used by %s and must be zero", i, stray,
                    oi->mnemonic);
      throw fail(buf);
    }
  }
  for (const FieldLayout& l : layout) {
    uint64_t raw = (w[l.word] >> l.lsb) & mask_of(l.width);
    if (l.is_signed && l.width < 64 && (raw >> (l.width - 1)) & 1) raw |= ~mask_of(l.width);
    in[l.field] = static_cast<int64_t>(raw);
  }
  const std::string problem = check(in);
  if (!problem.empty()) throw fail(problem);
  return in;
}

}  // namespace clonesim::isa
