// The clonesim ISA, defined once.  Every instruction is 256 bits (four
// little-endian 64-bit words).  Word 0 is a common header; words 1..3 hold the
// opcode's operand fields, placed by the table kFieldLayout below.  The
// encoder, the decoder, the assembler, the disassembler, the SystemC model and
// the RTL generator all read this table; nothing else knows a bit position.
//
// Header (word 0):
//   [7:0]   opcode
//   [12:8]  wait0    semaphore to wait on (0 = none)
//   [17:13] wait1
//   [22:18] signal0  semaphore to signal on completion (0 = none)
//   [27:23] signal1
//   [33:28] tile     0..62, or 63 = every tile (kAllTiles)
//   [36:34] cnt_reg  context register that supplies the count field (0 = immediate)
//   [39:37] addr_reg context register added to the DRAM address (0 = none)
//   [40]    cnt_alt  ctx[cnt_reg] replaces the alternate count field instead
//                    (k of matmul, bytes of load/store; needs cnt_reg != 0)
//   [63:41] reserved, must be zero
//
// Semaphores 1..15 are tile-local (each tile has its own), 16..31 are global.
// See docs/isa.md for the semantics of every opcode and docs/timing.md for
// its latency.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace clonesim::isa {

constexpr unsigned kInstrBytes = 32;
constexpr unsigned kInstrWords = 4;
constexpr unsigned kNumSemaphores = 32;   // ids 0..31, 0 means "none"
constexpr unsigned kFirstGlobalSemaphore = 16;
constexpr unsigned kNumContextRegs = 8;   // c0..c7, c0 reads as zero
constexpr unsigned kAllTiles = 63;
constexpr unsigned kNumLuts = 4;
constexpr unsigned kLutEntries = 256;     // int16 entries, indexed by sat8(x) + 128

// Placement of the header fields in word 0.
struct HeaderField {
  const char* name;
  uint8_t lsb;
  uint8_t width;
};
constexpr HeaderField kHdrOpcode{"opcode", 0, 8};
constexpr HeaderField kHdrWait0{"wait0", 8, 5};
constexpr HeaderField kHdrWait1{"wait1", 13, 5};
constexpr HeaderField kHdrSignal0{"signal0", 18, 5};
constexpr HeaderField kHdrSignal1{"signal1", 23, 5};
constexpr HeaderField kHdrTile{"tile", 28, 6};
constexpr HeaderField kHdrCntReg{"cnt_reg", 34, 3};
constexpr HeaderField kHdrAddrReg{"addr_reg", 37, 3};
constexpr HeaderField kHdrCntAlt{"cnt_alt", 40, 1};
constexpr unsigned kHdrReservedLsb = 41;  // bits [63:41] must be zero
// Every header field, in bit order.
const std::vector<HeaderField>& header_fields();

// The queue (and so the unit) an instruction is dispatched to.
enum class Unit : uint8_t { Control = 0, Load = 1, Store = 2, Matrix = 3, Vector = 4 };
constexpr int kNumUnits = 5;
const char* to_string(Unit u);

#define CLONESIM_OPCODES(X)                                                   \
  /*  name       code  unit     mnemonic  */                                  \
  X(Nop,        0x00, Control, "nop")                                         \
  X(Halt,       0x01, Control, "halt")                                        \
  X(CtxSet,     0x02, Control, "ctx.set")                                     \
  X(CtxAdd,     0x03, Control, "ctx.add")                                     \
  X(CtxMul,     0x04, Control, "ctx.mul")                                     \
  X(Dvfs,       0x05, Control, "dvfs")                                        \
  X(Load,       0x10, Load,    "load")                                        \
  X(Store,      0x11, Store,   "store")                                       \
  X(Matmul,     0x20, Matrix,  "matmul")                                      \
  X(VAdd,       0x30, Vector,  "vadd")                                        \
  X(VSub,       0x31, Vector,  "vsub")                                        \
  X(VMul,       0x32, Vector,  "vmul")                                        \
  X(VMax,       0x33, Vector,  "vmax")                                        \
  X(VMin,       0x34, Vector,  "vmin")                                        \
  X(VShl,       0x35, Vector,  "vshl")                                        \
  X(VShr,       0x36, Vector,  "vshr")                                        \
  X(VClamp,     0x37, Vector,  "vclamp")                                      \
  X(VMov,       0x38, Vector,  "vmov")                                        \
  X(VRequant,   0x39, Vector,  "vrequant")                                    \
  X(VLut,       0x3A, Vector,  "vlut")                                        \
  X(LutLoad,    0x3B, Vector,  "lutld")                                       \
  X(VRecip,     0x3C, Vector,  "vrecip")                                      \
  X(VRsqrt,     0x3D, Vector,  "vrsqrt")                                      \
  X(VRot,       0x3E, Vector,  "vrot")                                        \
  X(VRedSum,    0x40, Vector,  "vredsum")                                     \
  X(VRedMax,    0x41, Vector,  "vredmax")

enum class Opcode : uint8_t {
#define X(name, code, unit, mn) name = code,
  CLONESIM_OPCODES(X)
#undef X
};

// Operand fields.  The count field of an instruction (rows, m, len) -- or,
// with header bit cnt_alt, its alternate count field (bytes, k) -- can be
// replaced at dispatch by a context register (header cnt_reg).
enum class Field : uint8_t {
  // DMA (load/store)
  Dram,      // DRAM byte address (+ ctx[addr_reg])
  Rows,      // rows of a 2D transfer (count field); 1 for 1D
  Sram,      // scratchpad/accumulator byte address
  Space,     // 0 = scratchpad, 1 = accumulator
  Bytes,     // bytes per row
  DStride,   // DRAM bytes between row starts
  SStride,   // SRAM bytes between row starts
  // matmul
  Act,       // scratchpad address of activations: M rows x K int8
  Wgt,       // scratchpad address of weights: K x N, packed tile-major (array tiles in MXU order)
  M,         // activation rows (count field)
  Acc,       // accumulator byte address of the M x N int32 result
  K,         // reduction depth (any; the MXU splits it into k-slices of mxu.rows)
  N,         // output columns (any; the MXU splits them into n-slices of mxu.cols)
  WType,     // 0 = int8, 1 = int4 (two per byte, low nibble first)
  Accum,     // 0 = overwrite, 1 = add into the accumulator
  AStride,   // scratchpad bytes between activation rows
  CStride,   // accumulator bytes between result rows
  // vector
  Dst, DSpace,         // destination address and space
  A, ASpace,           // first source
  B, BSpace, BMode,    // second source: BMode 0 none, 1 vector, 2 scalar in memory, 3 immediate
  Len,                 // elements (count field)
  Shift,               // rounding right shift applied to the result (vshl: left shift)
  Imm,                 // signed 32-bit immediate (b operand, clamp lo, requant multiplier, LUT id, rot half)
  Imm2,                // signed 32-bit immediate (clamp hi, requant channels)
  // control
  Reg,       // destination context register
  Src,       // source context register
  Value,     // 64-bit immediate (ctx.*)
  DomainF,   // DVFS domain (0 compute, 1 memory, 2 always-on)
  Point,     // DVFS operating point index
  kCount
};
constexpr int kNumFields = static_cast<int>(Field::kCount);

enum BMode : uint8_t { kBNone = 0, kBVector = 1, kBScalar = 2, kBImm = 3 };
enum Space : uint8_t { kScratchpad = 0, kAccumulator = 1 };

struct FieldLayout {
  Field field;
  const char* name;  // assembly key
  uint8_t word;      // 1..3
  uint8_t lsb;
  uint8_t width;
  bool is_signed;
};

// Placement of every field, per opcode class.  Fields of one class never
// overlap; bits an opcode does not use must be zero.
std::vector<FieldLayout> fields_of(Opcode op);

struct OpcodeInfo {
  Opcode op;
  uint8_t code;
  Unit unit;
  const char* mnemonic;
};
const std::vector<OpcodeInfo>& all_opcodes();
const OpcodeInfo* opcode_info(uint8_t code);       // nullptr if not an opcode
const OpcodeInfo* opcode_by_mnemonic(const std::string& m);
inline Unit unit_of(Opcode op) { return opcode_info(static_cast<uint8_t>(op))->unit; }
const char* field_name(Field f);

// The operand fields an opcode has, and where a decoded instruction keeps
// them: each field belongs to one class of opcodes (DMA, matmul, vector,
// ctx.*, dvfs) and has a fixed slot, its index within that class, so an
// instruction holds at most kMaxOpFields values whatever its opcode.
enum class FieldClass : uint8_t { None, Dma, Matmul, Vector, Ctx, Dvfs };
constexpr FieldClass field_class(Field f) {
  const int i = static_cast<int>(f);
  return i <= static_cast<int>(Field::SStride)   ? FieldClass::Dma
         : i <= static_cast<int>(Field::CStride) ? FieldClass::Matmul
         : i <= static_cast<int>(Field::Imm2)    ? FieldClass::Vector
         : i <= static_cast<int>(Field::Value)   ? FieldClass::Ctx
                                                 : FieldClass::Dvfs;
}
constexpr int field_slot(Field f) {
  const int i = static_cast<int>(f);
  switch (field_class(f)) {
    case FieldClass::Dma: return i;
    case FieldClass::Matmul: return i - static_cast<int>(Field::Act);
    case FieldClass::Vector: return i - static_cast<int>(Field::Dst);
    case FieldClass::Ctx: return i - static_cast<int>(Field::Reg);
    default: return i - static_cast<int>(Field::DomainF);
  }
}
constexpr FieldClass opcode_class(Opcode op) {
  switch (op) {
    case Opcode::Load:
    case Opcode::Store: return FieldClass::Dma;
    case Opcode::Matmul: return FieldClass::Matmul;
    case Opcode::CtxSet:
    case Opcode::CtxAdd:
    case Opcode::CtxMul: return FieldClass::Ctx;
    case Opcode::Dvfs: return FieldClass::Dvfs;
    default: {
      const uint8_t c = static_cast<uint8_t>(op);
      return c >= static_cast<uint8_t>(Opcode::VAdd) && c <= static_cast<uint8_t>(Opcode::VRedMax) ? FieldClass::Vector
                                                                                                    : FieldClass::None;
    }
  }
}
// Whether `op` has field `f` (the fields of fields_of(op); tests check they agree).
constexpr bool has_field(Opcode op, Field f) {
  return opcode_class(op) != FieldClass::None && field_class(f) == opcode_class(op) &&
         !(op == Opcode::CtxSet && f == Field::Src) && f != Field::kCount;
}
constexpr int kMaxOpFields = 11;  // the vector class's

// The decoded form every consumer works with.
struct Instruction {
  Opcode op = Opcode::Nop;
  std::array<uint8_t, 2> wait{0, 0};
  std::array<uint8_t, 2> signal{0, 0};
  uint8_t tile = 0;
  uint8_t cnt_reg = 0;
  uint8_t addr_reg = 0;
  bool cnt_alt = false;  // ctx[cnt_reg] replaces the alternate count field (alt_count_field)
  // The operand fields of `op`, each in its slot (field_slot).  Reading a
  // field the opcode does not have gives 0; writing one is ignored.  (Set
  // `op` first; load and store, and the ctx.* opcodes, share their slots.)
  std::array<int64_t, kMaxOpFields> f{};

  int64_t operator[](Field x) const { return has_field(op, x) ? f[size_t(field_slot(x))] : 0; }
  int64_t& operator[](Field x) {
    if (has_field(op, x)) return f[size_t(field_slot(x))];
    static thread_local int64_t ignored;
    ignored = 0;
    return ignored;
  }
  int64_t operator[](int x) const { return (*this)[static_cast<Field>(x)]; }
  int64_t& operator[](int x) { return (*this)[static_cast<Field>(x)]; }
  bool operator==(const Instruction& o) const;
  bool operator!=(const Instruction& o) const { return !(*this == o); }
};

using Word256 = std::array<uint64_t, kInstrWords>;

// Encode an instruction.  Throws clonesim::Error naming the field when a value
// does not fit its width or is out of the opcode's legal range.
Word256 encode(const Instruction& in);
// Decode.  Throws clonesim::Error (message starts with "offset N:" where N is
// `byte_offset`) for an unknown opcode, non-zero reserved bits or an illegal
// field value.
Instruction decode(const Word256& w, uint64_t byte_offset = 0);
// Checks the opcode-independent rules and every field's legal range
// (see docs/isa.md).  Returns an empty string when legal, else the problem.
std::string check(const Instruction& in);

// Semantic groups used by the model and the generator.
bool is_vector_elementwise(Opcode op);  // vadd..vrot except lutld (one result per element)
bool is_vector_reduction(Opcode op);    // vredsum, vredmax (one result)
// Index of the count field of an opcode (Rows, M, Len), or kNumFields if none.
int count_field(Opcode op);
// Index of the alternate count field (Bytes of load/store, K of matmul), or
// kNumFields if none: the field ctx[cnt_reg] replaces when cnt_alt is set.
int alt_count_field(Opcode op);
// Index of the field ctx[in.cnt_reg] replaces at dispatch (the count field,
// or the alternate one with cnt_alt), or kNumFields when cnt_reg == 0.
int cnt_reg_field(const Instruction& in);

// Legal range of field `f` of `in` written as an immediate (cnt_reg ignored).
// A count resolved from a context register must lie in it too.
struct FieldRange {
  int64_t lo, hi;
};
FieldRange immediate_range(const Instruction& in, Field f);

}  // namespace clonesim::isa
