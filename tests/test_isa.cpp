// Tests of the ISA: field layout, encoder/decoder, legality check, assembler,
// disassembler and the binary container.
#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <unistd.h>

#include "common/error.h"
#include "isa/isa.h"
#include "isa/program.h"

using namespace clonesim::isa;
using clonesim::Error;

namespace {

// Runs f, which must throw clonesim::Error; returns its message.
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  FAIL("expected a clonesim::Error");
  return "";
}

bool starts_with(const std::string& s, const std::string& prefix) { return s.compare(0, prefix.size(), prefix) == 0; }
bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

Instruction make(Opcode op) {
  Instruction in;
  in.op = op;
  if (count_field(op) != kNumFields) in[count_field(op)] = 1;
  return in;
}

int64_t fmax(const FieldLayout& l) {
  if (l.is_signed) return l.width == 64 ? INT64_MAX : (int64_t(1) << (l.width - 1)) - 1;
  return (int64_t(1) << l.width) - 1;
}
int64_t fmin(const FieldLayout& l) {
  if (!l.is_signed) return 0;
  return l.width == 64 ? INT64_MIN : -(int64_t(1) << (l.width - 1));
}

bool is_binary(Opcode op) {
  return op == Opcode::VAdd || op == Opcode::VSub || op == Opcode::VMul || op == Opcode::VMax || op == Opcode::VMin;
}

// Turn an instruction with arbitrary in-width field values into a legal one.
void legalize(Instruction& in, std::mt19937_64& rng) {
  const Opcode op = in.op;
  const int cf = count_field(op);
  if (alt_count_field(op) == kNumFields) in.cnt_alt = false;
  if (cf == kNumFields && !in.cnt_alt) in.cnt_reg = 0;
  if (in.cnt_reg == 0) in.cnt_alt = false;
  if (op != Opcode::Load && op != Opcode::Store) in.addr_reg = 0;
  // the field ctx[cnt_reg] replaces may be 0; every other count is >= 1
  const bool from_reg = in.cnt_reg != 0 && !in.cnt_alt;
  const bool alt_from_reg = in.cnt_reg != 0 && in.cnt_alt;
  if (cf != kNumFields && !from_reg && in[cf] == 0) in[cf] = 1;
  switch (op) {
    case Opcode::Load:
    case Opcode::Store:
      if (in[Field::Bytes] == 0 && !alt_from_reg) in[Field::Bytes] = 1;
      break;
    case Opcode::Matmul:
      if (in[Field::K] == 0 && !alt_from_reg) in[Field::K] = 1;
      if (in[Field::N] == 0) in[Field::N] = 1;
      break;
    case Opcode::CtxSet:
    case Opcode::CtxAdd:
    case Opcode::CtxMul:
      if (in[Field::Reg] == 0) in[Field::Reg] = 1 + int64_t(rng() % 7);
      break;
    case Opcode::Dvfs: in[Field::DomainF] %= 3; break;
    default: break;
  }
  if (unit_of(op) != Unit::Vector) return;
  if (is_binary(op)) {
    if (in[Field::BMode] == 0) in[Field::BMode] = 1 + int64_t(rng() % 3);
  } else if (op == Opcode::VRequant) {
    in[Field::BMode] &= 1;
    if (in[Field::BMode] == 1 && in[Field::Imm2] < 1) in[Field::Imm2] = 1 + int64_t(rng() % 4096);
    if (in[Field::BMode] == 1) in[Field::BSpace] = kAccumulator;
  } else {
    in[Field::BMode] = 0;
  }
  if (op == Opcode::VLut || op == Opcode::LutLoad) in[Field::Imm] = int64_t(rng() % 4);
  if (op == Opcode::LutLoad) in[Field::ASpace] = 0;
  if (op == Opcode::VRot) {
    const int64_t h = rng() % 8 == 0 ? (int64_t(1) << 22) - 1 : 1 + int64_t(rng() % 64);
    in[Field::Imm] = h;
    if (!from_reg) {
      const int64_t groups_max = ((int64_t(1) << 24) - 1) / (2 * h);
      in[Field::Len] = 2 * h * (1 + int64_t(rng() % uint64_t(groups_max)));
    }
  }
  if (op == Opcode::VRecip) in[Field::Shift] %= 63;
  if (op == Opcode::VRsqrt || op == Opcode::VShl) in[Field::Shift] %= 32;
  if (op == Opcode::VClamp && in[Field::Imm] > in[Field::Imm2]) std::swap(in[Field::Imm], in[Field::Imm2]);
}

int64_t random_value(const FieldLayout& l, std::mt19937_64& rng) {
  switch (rng() % 6) {
    case 0: return fmax(l);
    case 1: return fmin(l);
    case 2: return l.is_signed ? -1 : 1;
    case 3: return 0;
    default: {
      const uint64_t range = uint64_t(fmax(l)) - uint64_t(fmin(l));
      const uint64_t r = range == UINT64_MAX ? rng() : rng() % (range + 1);
      return static_cast<int64_t>(uint64_t(fmin(l)) + r);
    }
  }
}

Instruction random_instruction(std::mt19937_64& rng) {
  const auto& ops = all_opcodes();
  Instruction in;
  in.op = ops[rng() % ops.size()].op;
  in.wait = {uint8_t(rng() % 32), uint8_t(rng() % 32)};
  in.signal = {uint8_t(rng() % 32), uint8_t(rng() % 32)};
  in.tile = uint8_t(rng() % 64);
  in.cnt_reg = rng() % 2 ? uint8_t(rng() % 8) : 0;
  in.cnt_alt = rng() % 3 == 0;
  in.addr_reg = rng() % 2 ? uint8_t(rng() % 8) : 0;
  for (const FieldLayout& l : fields_of(in.op)) in[l.field] = random_value(l, rng);
  legalize(in, rng);
  return in;
}

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("clonesim_test_isa_" + std::to_string(::getpid()) + "_" + name))
      .string();
}

void write_file(const std::string& path, const std::string& data) {
  std::ofstream f(path, std::ios::binary);
  f.write(data.data(), std::streamsize(data.size()));
}

// A program that uses every opcode (and most keys and symbols).
const char* kEveryOpcode = R"(
; every opcode once, with a spread of keys
nop
ctx.set reg=c1 value=-9223372036854775808
ctx.set reg=c7 value=9223372036854775807
ctx.add reg=c2 src=c1 value=-5      # c2 = c1 - 5
ctx.mul reg=c3 src=c2 value=0x10
dvfs domain=memory point=255
dvfs domain=always_on point=3
load tile=all signal=s1 dram=0xFFFFFFFFFFFF rows=65535 sram=0xffffff space=acc bytes=16777215 dstride=0xFFFFFFFFFF sstride=16777215
load tile=5 wait=s16 signal=s2,s31 cnt=c3 addr=c4 dram=0x1000 rows=0 sram=0x40 bytes=64
store tile=62 wait=s2,s3 dram=0x2000 sram=0x100 space=sp bytes=128 rows=4 dstride=4096 sstride=128
matmul tile=all wait=1,2 signal=3 act=0x0 wgt=0x800 m=65535 acc=0x0 k=4095 n=4095 wtype=int4 accum=1 astride=0xffffff cstride=16777215
matmul cnt=c7 m=0 k=1 n=1 wtype=int8
vadd dst=0x10 dspace=acc a=0x20 aspace=acc b=0x30 bspace=acc bmode=vec len=16777215 shift=63
vsub dst=1 a=2 b=3 bmode=scalar len=8
vmul dst=1 a=2 bmode=imm imm=-2147483648 len=8 shift=7
vmax dst=1 a=2 bmode=imm imm=2147483647 len=8
vmin dst=1 a=2 bmode=vec b=0x400 len=8 cnt=c1
vshl dst=0 a=0 len=1 shift=31
vshr dst=0 a=0 len=1 shift=63
vclamp dst=0 a=0 len=1 imm=-128 imm2=127
vmov dst=0 dspace=sp a=0 aspace=acc len=32 shift=8
vrequant dst=0 a=0 aspace=acc len=64 imm=1234567 shift=40
vrequant dst=0 a=0 aspace=acc b=0x100 bspace=acc bmode=vec imm2=64 len=64
vlut dst=0 a=0 len=32 imm=3
lutld a=0x200 imm=2 len=256
vrecip dst=0 dspace=acc a=0 aspace=acc len=4 shift=62
vrsqrt dst=0 dspace=acc a=0 aspace=acc len=4 shift=31
vrot dst=0 a=0 len=128 imm=64
vrot dst=0 a=0 len=6 imm=1
vrot dst=0 a=0 len=0 imm=5 cnt=c2
vredsum dst=0 dspace=acc a=0 aspace=acc len=4096 shift=12
vredmax dst=0 a=0 len=100
matmul cnt_alt=c5 m=3 k=0 n=7          ; k from c5
load tile=2 cnt_alt=c6 addr=c1 dram=0x100 rows=2 sram=0x80 dstride=64 sstride=64
store cnt_alt=c7 dram=0x300 sram=0x0 bytes=12
halt
)";

}  // namespace

TEST_CASE("opcode table and field layout are consistent", "[isa]") {
  const auto& ops = all_opcodes();
  REQUIRE(ops.size() == 26);
  std::set<uint8_t> codes;
  std::set<std::string> mnemonics;
  for (const OpcodeInfo& oi : ops) {
    CHECK(codes.insert(oi.code).second);
    CHECK(mnemonics.insert(oi.mnemonic).second);
    REQUIRE(opcode_info(oi.code) == &oi);
    REQUIRE(opcode_by_mnemonic(oi.mnemonic) == &oi);
    CHECK(unit_of(oi.op) == oi.unit);
    // Fields of one opcode never overlap and stay inside words 1..3.
    uint64_t used[4] = {0, 0, 0, 0};
    for (const FieldLayout& l : fields_of(oi.op)) {
      INFO(oi.mnemonic << " " << l.name);
      CHECK(std::string(l.name) == field_name(l.field));
      REQUIRE(l.word >= 1);
      REQUIRE(l.word <= 3);
      REQUIRE(l.width >= 1);
      REQUIRE(l.lsb + l.width <= 64);
      const uint64_t m = (l.width == 64 ? ~uint64_t(0) : ((uint64_t(1) << l.width) - 1)) << l.lsb;
      CHECK((used[l.word] & m) == 0);
      used[l.word] |= m;
    }
  }
  CHECK(opcode_info(0xFF) == nullptr);
  CHECK(opcode_info(0x3F) == nullptr);
  CHECK(opcode_by_mnemonic("vfoo") == nullptr);
  CHECK(std::string(to_string(Unit::Matrix)) == "matrix");

  CHECK(fields_of(Opcode::Nop).empty());
  CHECK(fields_of(Opcode::Halt).empty());
  CHECK(fields_of(Opcode::Load).size() == 7);
  CHECK(fields_of(Opcode::Matmul).size() == 10);
  CHECK(fields_of(Opcode::VRedMax).size() == 11);
  CHECK(fields_of(Opcode::LutLoad).size() == 11);
  CHECK(fields_of(Opcode::CtxSet).size() == 2);
  CHECK(fields_of(Opcode::CtxMul).size() == 3);
  CHECK(fields_of(Opcode::Dvfs).size() == 2);

  CHECK(count_field(Opcode::Load) == int(Field::Rows));
  CHECK(count_field(Opcode::Store) == int(Field::Rows));
  CHECK(count_field(Opcode::Matmul) == int(Field::M));
  CHECK(count_field(Opcode::VRedSum) == int(Field::Len));
  CHECK(count_field(Opcode::LutLoad) == kNumFields);  // lutld always loads 256 entries
  CHECK(count_field(Opcode::Halt) == kNumFields);
  CHECK(count_field(Opcode::CtxSet) == kNumFields);

  CHECK(is_vector_elementwise(Opcode::VAdd));
  CHECK(is_vector_elementwise(Opcode::VRot));
  CHECK(is_vector_elementwise(Opcode::VLut));
  CHECK_FALSE(is_vector_elementwise(Opcode::LutLoad));
  CHECK_FALSE(is_vector_elementwise(Opcode::VRedSum));
  CHECK_FALSE(is_vector_elementwise(Opcode::Matmul));
  CHECK(is_vector_reduction(Opcode::VRedSum));
  CHECK(is_vector_reduction(Opcode::VRedMax));
  CHECK_FALSE(is_vector_reduction(Opcode::VAdd));
}

TEST_CASE("fields land on the documented bits", "[isa]") {
  SECTION("load header and DMA fields") {
    Instruction in = make(Opcode::Load);
    in.wait = {3, 17};
    in.signal = {31, 1};
    in.tile = 63;
    in.cnt_reg = 5;
    in.addr_reg = 7;
    in[Field::Dram] = 0x123456789A;
    in[Field::Rows] = 0xBEEF;
    in[Field::Sram] = 0xABCDEF;
    in[Field::Space] = 1;
    in[Field::Bytes] = 0x654321;
    in[Field::DStride] = 0xFEDCBA9876;
    in[Field::SStride] = 0x13579B;
    const Word256 w = encode(in);
    const uint64_t h = 0x10ull | 3ull << 8 | 17ull << 13 | 31ull << 18 | 1ull << 23 | 63ull << 28 | 5ull << 34 |
                       7ull << 37;
    CHECK(w[0] == h);
    CHECK((w[1] & 0xFFFFFFFFFFFFull) == 0x123456789Aull);  // dram in word1 bits 0..47
    CHECK(w[1] == 0xBEEF00123456789Aull);
    CHECK(w[2] == 0x0065432101ABCDEFull);
    CHECK(w[3] == 0x13579BFEDCBA9876ull);
    CHECK(decode(w) == in);
  }
  SECTION("cnt_alt is header bit 40") {
    Instruction in = make(Opcode::Matmul);
    in.cnt_reg = 2;
    in.cnt_alt = true;
    in[Field::M] = 4;
    in[Field::K] = 0;  // replaced by c2
    in[Field::N] = 8;
    const Word256 w = encode(in);
    CHECK(w[0] == (0x20ull | 2ull << 34 | 1ull << 40));
    CHECK(w[2] == 8ull << 36);
    const Instruction back = decode(w);
    CHECK(back.cnt_alt);
    CHECK(back.cnt_reg == 2);
    CHECK(back == in);
    // the same instruction with cnt= (no bit 40) is a different instruction
    Instruction prim = in;
    prim.cnt_alt = false;
    CHECK(prim != in);
    CHECK(check(prim) == "k: must be 1..4095, got 0");
    prim[Field::K] = 16;
    CHECK(encode(prim)[0] == (0x20ull | 2ull << 34));
  }
  SECTION("matmul") {
    Instruction in = make(Opcode::Matmul);
    in[Field::Act] = 0x000123;
    in[Field::Wgt] = 0x456789;
    in[Field::M] = 0x0ABC;
    in[Field::Acc] = 0x111111;
    in[Field::K] = 4095;
    in[Field::N] = 0x801;
    in[Field::WType] = 1;
    in[Field::Accum] = 1;
    in[Field::AStride] = 0x222222;
    in[Field::CStride] = 0x333333;
    const Word256 w = encode(in);
    CHECK(w[0] == 0x20);
    CHECK(w[1] == 0x0ABC456789000123ull);
    CHECK(w[2] == (0x111111ull | 0xFFFull << 24 | 0x801ull << 36 | 1ull << 48 | 1ull << 49));
    CHECK(w[3] == 0x0000333333222222ull);
  }
  SECTION("vector, signed immediates") {
    Instruction in = make(Opcode::VAdd);
    in[Field::Dst] = 0xFFFFFF;
    in[Field::DSpace] = 1;
    in[Field::A] = 0x000001;
    in[Field::ASpace] = 1;
    in[Field::B] = 0x123456;
    in[Field::BSpace] = 1;
    in[Field::BMode] = kBImm;
    in[Field::Len] = 0xABCDEF;
    in[Field::Shift] = 63;
    in[Field::Imm] = -1;
    in[Field::Imm2] = INT32_MIN;
    const Word256 w = encode(in);
    CHECK(w[0] == 0x30);
    CHECK(w[1] == (0xFFFFFFull | 1ull << 24 | 1ull << 32 | 1ull << 56));
    CHECK(w[2] == (0x123456ull | 1ull << 24 | 3ull << 25 | 0xABCDEFull << 32 | 63ull << 56));
    CHECK(w[3] == 0x80000000FFFFFFFFull);
    const Instruction back = decode(w);
    CHECK(back[Field::Imm] == -1);
    CHECK(back[Field::Imm2] == INT32_MIN);
    CHECK(back == in);
  }
  SECTION("ctx and dvfs") {
    Instruction in = make(Opcode::CtxAdd);
    in[Field::Reg] = 7;
    in[Field::Src] = 6;
    in[Field::Value] = -2;
    Word256 w = encode(in);
    CHECK(w[0] == 0x03);
    CHECK(w[1] == (7ull | 6ull << 8));
    CHECK(w[2] == 0xFFFFFFFFFFFFFFFEull);
    CHECK(w[3] == 0);
    CHECK(decode(w)[Field::Value] == -2);

    Instruction d = make(Opcode::Dvfs);
    d[Field::DomainF] = 2;
    d[Field::Point] = 0xA5;
    w = encode(d);
    CHECK(w[1] == (2ull | 0xA5ull << 8));
    CHECK(w[2] == 0);
  }
}

TEST_CASE("every opcode round-trips with extreme field values", "[isa]") {
  for (const OpcodeInfo& oi : all_opcodes()) {
    for (int extreme = 0; extreme < 2; ++extreme) {
      Instruction in = make(oi.op);
      in.wait = {31, 16};
      in.signal = {15, 1};
      in.tile = extreme ? 63 : 62;
      for (const FieldLayout& l : fields_of(oi.op)) in[l.field] = extreme ? fmax(l) : fmin(l);
      std::mt19937_64 rng(1);
      legalize(in, rng);
      INFO(oi.mnemonic << " extreme=" << extreme << ": " << check(in));
      REQUIRE(check(in).empty());
      const Word256 w = encode(in);
      const Instruction back = decode(w, 64);
      CHECK(back == in);
      CHECK(encode(back) == w);
      // Text round trip of the single instruction.
      const Program p = assemble(disassemble(in), "x.s");
      REQUIRE(p.code.size() == 1);
      CHECK(p.code[0] == in);
    }
  }
  // Specific extremes.
  Instruction s = make(Opcode::CtxSet);
  s[Field::Reg] = 1;
  s[Field::Value] = INT64_MIN;
  CHECK(decode(encode(s))[Field::Value] == INT64_MIN);
  s[Field::Value] = INT64_MAX;
  CHECK(decode(encode(s))[Field::Value] == INT64_MAX);
  Instruction v = make(Opcode::VClamp);
  v[Field::Imm] = INT32_MIN;
  v[Field::Imm2] = INT32_MAX;
  CHECK(decode(encode(v)) == v);
}

TEST_CASE("check names the field and the legal range", "[isa]") {
  Instruction mm = make(Opcode::Matmul);
  mm[Field::K] = 0;
  mm[Field::N] = 16;
  CHECK(check(mm) == "k: must be 1..4095, got 0");
  CHECK(error_of([&] { encode(mm); }) == "k: must be 1..4095, got 0");
  mm[Field::K] = 4096;
  CHECK(check(mm) == "k: must be 1..4095, got 4096");
  mm[Field::K] = 16;
  mm[Field::N] = 0;
  CHECK(starts_with(check(mm), "n: must be 1..4095"));
  mm[Field::N] = 16;
  mm[Field::M] = 0;
  CHECK(check(mm) == "m: must be 1..65535, got 0");
  mm.cnt_reg = 2;
  CHECK(check(mm).empty());
  mm[Field::WType] = 2;
  CHECK(check(mm) == "wtype: must be 0..1, got 2");
  mm[Field::WType] = 0;
  mm[Field::Act] = -1;
  CHECK(check(mm) == "act: must be 0..16777215, got -1");
  mm[Field::Act] = 0;
  mm.addr_reg = 1;
  CHECK(starts_with(check(mm), "addr: "));

  Instruction ld = make(Opcode::Load);
  CHECK(check(ld) == "bytes: must be 1..16777215, got 0");
  ld[Field::Bytes] = 1;
  CHECK(check(ld).empty());
  ld[Field::Dram] = int64_t(1) << 48;
  CHECK(check(ld) == "dram: must be 0..281474976710655, got 281474976710656");
  ld[Field::Dram] = 0;
  ld[Field::Rows] = 0;
  CHECK(check(ld) == "rows: must be 1..65535, got 0");
  ld.cnt_reg = 3;
  CHECK(check(ld).empty());
  ld.cnt_reg = 8;
  CHECK(starts_with(check(ld), "cnt: "));
  ld.cnt_reg = 0;
  ld[Field::Rows] = 1;
  ld.tile = 64;
  CHECK(starts_with(check(ld), "tile: "));
  ld.tile = 0;
  ld.wait[1] = 32;
  CHECK(check(ld) == "wait: semaphore must be 0..31, got 32");
  ld.wait[1] = 0;
  ld.signal[0] = 40;
  CHECK(starts_with(check(ld), "signal: "));

  Instruction nop = make(Opcode::Nop);
  nop.cnt_reg = 1;
  CHECK(check(nop) == "cnt: nop has no count field, got c1");
  Instruction bad;
  bad.op = static_cast<Opcode>(0x7F);
  CHECK(check(bad) == "opcode: unknown opcode 0x7f");

  Instruction va = make(Opcode::VAdd);
  CHECK(starts_with(check(va), "bmode: must be 1..3"));
  va[Field::BMode] = kBVector;
  CHECK(check(va).empty());
  va[Field::Len] = 0;
  CHECK(starts_with(check(va), "len: must be 1.."));
  va[Field::Len] = 1;
  va[Field::Shift] = 64;
  CHECK(starts_with(check(va), "shift: must be 0..63"));
  va[Field::Shift] = 0;
  va[Field::DSpace] = 2;
  CHECK(starts_with(check(va), "dspace: must be 0..1"));

  Instruction sh = make(Opcode::VShl);
  sh[Field::BMode] = kBScalar;
  CHECK(starts_with(check(sh), "bmode: must be 0"));
  sh[Field::BMode] = 0;
  sh[Field::Shift] = 32;
  CHECK(starts_with(check(sh), "shift: must be 0..31"));
  Instruction rc = make(Opcode::VRecip);
  rc[Field::Shift] = 63;
  CHECK(starts_with(check(rc), "shift: must be 0..62"));
  rc[Field::Shift] = 62;
  CHECK(check(rc).empty());
  Instruction rs = make(Opcode::VRsqrt);
  rs[Field::Shift] = 32;
  CHECK(starts_with(check(rs), "shift: must be 0..31"));

  Instruction rq = make(Opcode::VRequant);
  rq[Field::BMode] = 2;
  CHECK(starts_with(check(rq), "bmode: must be 0..1"));
  rq[Field::BMode] = 1;
  rq[Field::BSpace] = kAccumulator;
  CHECK(starts_with(check(rq), "imm2: must be 1..2147483647 (channels"));
  rq[Field::Imm2] = 8;
  CHECK(check(rq).empty());
  rq[Field::BSpace] = kScratchpad;
  CHECK(check(rq) == "bspace: must be 1 (the per-channel table is in the accumulator: acc), got 0");
  rq[Field::BMode] = 0;  // per-tensor: b and bspace unused
  CHECK(check(rq).empty());

  Instruction lut = make(Opcode::VLut);
  lut[Field::Imm] = 4;
  CHECK(starts_with(check(lut), "imm: must be 0..3"));
  Instruction lutld = make(Opcode::LutLoad);
  lutld[Field::Imm] = -1;
  CHECK(starts_with(check(lutld), "imm: must be 0..3"));
  lutld[Field::Imm] = 3;
  lutld[Field::ASpace] = 1;
  CHECK(starts_with(check(lutld), "aspace: must be 0"));

  Instruction rot = make(Opcode::VRot);
  rot[Field::Len] = 12;
  CHECK(starts_with(check(rot), "imm: must be 1..2147483647 (rotation half size)"));
  rot[Field::Imm] = 4;
  CHECK(check(rot) == "len: vrot needs a multiple of 2*imm = 8, got 12");
  rot[Field::Imm] = 3;
  CHECK(check(rot).empty());
  rot[Field::Imm] = 4;
  rot.cnt_reg = 1;
  CHECK(check(rot).empty());

  Instruction cl = make(Opcode::VClamp);
  cl[Field::Imm] = 5;
  cl[Field::Imm2] = 4;
  CHECK(starts_with(check(cl), "imm: vclamp needs imm (lo) <= imm2 (hi)"));

  Instruction cs = make(Opcode::CtxSet);
  CHECK(starts_with(check(cs), "reg: must be 1..7"));
  Instruction ca = make(Opcode::CtxAdd);
  ca[Field::Reg] = 1;
  ca[Field::Src] = 8;
  CHECK(starts_with(check(ca), "src: must be 0..7"));
  Instruction dv = make(Opcode::Dvfs);
  dv[Field::DomainF] = 3;
  CHECK(starts_with(check(dv), "domain: must be 0..2"));
  dv[Field::DomainF] = 0;
  dv[Field::Point] = 256;
  CHECK(starts_with(check(dv), "point: must be 0..255"));
}

TEST_CASE("cnt_alt: the alternate count field from the count register", "[isa][cnt_alt]") {
  CHECK(alt_count_field(Opcode::Matmul) == int(Field::K));
  CHECK(alt_count_field(Opcode::Load) == int(Field::Bytes));
  CHECK(alt_count_field(Opcode::Store) == int(Field::Bytes));
  CHECK(alt_count_field(Opcode::VRedSum) == kNumFields);
  CHECK(alt_count_field(Opcode::LutLoad) == kNumFields);
  CHECK(alt_count_field(Opcode::Nop) == kNumFields);
  CHECK(alt_count_field(Opcode::CtxSet) == kNumFields);

  Instruction mm = make(Opcode::Matmul);
  mm[Field::M] = 4;
  mm[Field::N] = 8;
  CHECK(cnt_reg_field(mm) == kNumFields);  // no count register
  mm.cnt_reg = 3;
  CHECK(cnt_reg_field(mm) == int(Field::M));
  mm.cnt_alt = true;
  CHECK(cnt_reg_field(mm) == int(Field::K));
  // k comes from c3: its immediate is ignored and may be 0 (or anything in width)
  CHECK(check(mm).empty());
  mm[Field::K] = 4095;
  CHECK(check(mm).empty());
  mm[Field::K] = 4096;
  CHECK(check(mm) == "k: must be 0..4095, got 4096");
  mm[Field::K] = 0;
  // m is an immediate again and must be legal
  mm[Field::M] = 0;
  CHECK(check(mm) == "m: must be 1..65535, got 0");
  mm[Field::M] = 4;
  // the legal range of a resolved count is the immediate's
  CHECK(immediate_range(mm, Field::K).lo == 1);
  CHECK(immediate_range(mm, Field::K).hi == 4095);
  CHECK(immediate_range(mm, Field::M).lo == 1);
  CHECK(immediate_range(mm, Field::M).hi == 65535);
  // cnt_alt needs a count register
  mm.cnt_reg = 0;
  CHECK(check(mm) == "cnt_alt: needs a count register (cnt_alt=c1..c7), got c0");
  CHECK(error_of([&] { encode(mm); }) == "cnt_alt: needs a count register (cnt_alt=c1..c7), got c0");

  Instruction ld = make(Opcode::Load);
  ld.cnt_reg = 6;
  ld.cnt_alt = true;
  CHECK(cnt_reg_field(ld) == int(Field::Bytes));
  CHECK(check(ld).empty());  // bytes from c6
  ld[Field::Rows] = 0;
  CHECK(check(ld) == "rows: must be 1..65535, got 0");
  ld[Field::Rows] = 3;
  CHECK(immediate_range(ld, Field::Bytes).lo == 1);
  CHECK(immediate_range(ld, Field::Bytes).hi == 16777215);
  ld.op = Opcode::Store;
  CHECK(check(ld).empty());

  // only matmul, load and store have an alternate count field
  Instruction va = make(Opcode::VAdd);
  va[Field::BMode] = kBVector;
  va.cnt_reg = 1;
  va.cnt_alt = true;
  CHECK(check(va) == "cnt_alt: vadd has no alternate count field (only matmul k, load/store bytes), got c1");
  CHECK(cnt_reg_field(va) == kNumFields);
  Instruction lutld = make(Opcode::LutLoad);
  lutld.cnt_reg = 2;
  lutld.cnt_alt = true;
  CHECK(check(lutld) == "cnt_alt: lutld has no alternate count field (only matmul k, load/store bytes), got c2");
  Instruction nop = make(Opcode::Nop);
  nop.cnt_alt = true;
  CHECK(check(nop) == "cnt_alt: needs a count register (cnt_alt=c1..c7), got c0");

  // assembler and disassembler
  const Program p = assemble("matmul cnt_alt=c3 m=4 n=8\nload bytes=0 cnt_alt=C6 rows=3\nstore cnt_alt=c1 bytes=77\n", "a.s");
  REQUIRE(p.code.size() == 3);
  CHECK(p.code[0].cnt_reg == 3);
  CHECK(p.code[0].cnt_alt);
  CHECK(p.code[0][Field::K] == 0);
  CHECK(p.code[0][Field::M] == 4);
  CHECK(p.code[1].cnt_reg == 6);
  CHECK(p.code[1].cnt_alt);
  CHECK(p.code[1][Field::Rows] == 3);
  CHECK(p.code[2][Field::Bytes] == 77);  // ignored at run time, kept in the encoding
  CHECK(disassemble(p.code[0]) == "matmul cnt_alt=c3 m=4 n=8");
  CHECK(disassemble(p.code[1]) == "load cnt_alt=c6 rows=3");
  CHECK(disassemble(p.code[2]) == "store cnt_alt=c1 bytes=77");
  CHECK(assemble(disassemble(p), "b.s").code == p.code);
  CHECK(from_binary(to_binary(p), "p.bin").code == p.code);
  CHECK(encode(p.code[1])[0] == (0x10ull | 6ull << 34 | 1ull << 40));
  // cnt= on the same instructions is the primary count field
  const Program q = assemble("matmul cnt=c3 k=4 n=8\n", "q.s");
  CHECK_FALSE(q.code[0].cnt_alt);
  CHECK(disassemble(q.code[0]) == "matmul cnt=c3 k=4 n=8");

  auto err = [](const std::string& text) { return error_of([&] { assemble(text, "t.s"); }); };
  CHECK(err("load cnt_alt=c0 bytes=4") == "t.s:1: cnt_alt: needs a count register (cnt_alt=c1..c7), got c0");
  CHECK(err("matmul cnt=c1 cnt_alt=c2 k=1 n=1 m=1") ==
        "t.s:1: cnt_alt: cnt= and cnt_alt= exclude each other (one count register per instruction)");
  CHECK(err("matmul cnt_alt=c2 cnt=c1 k=1 n=1 m=1") ==
        "t.s:1: cnt: cnt= and cnt_alt= exclude each other (one count register per instruction)");
  CHECK(err("matmul cnt_alt=c1 cnt_alt=c2 n=1 m=1") == "t.s:1: duplicate key 'cnt_alt'");
  CHECK(err("matmul cnt_alt=c8 n=1 m=1") == "t.s:1: cnt_alt: value 8 out of range 0..7");
  CHECK(err("matmul cnt_alt=c2 n=1") == "t.s:1: m: must be 1..65535, got 0");
  CHECK(starts_with(err("vadd cnt_alt=c1 bmode=vec len=4"),
                    "t.s:1: unknown key 'cnt_alt' for vadd (allowed: tile wait signal cnt dst"));
  CHECK(starts_with(err("nop cnt_alt=c1"), "t.s:1: unknown key 'cnt_alt' for nop (allowed: tile wait signal)"));
  CHECK(starts_with(err("load cnt_al=c1 bytes=1"),
                    "t.s:1: unknown key 'cnt_al' for load (allowed: tile wait signal cnt cnt_alt addr dram rows"));
}

TEST_CASE("decode rejects bad words with the byte offset", "[isa]") {
  Instruction mm = make(Opcode::Matmul);
  mm[Field::K] = 8;
  mm[Field::N] = 8;
  const Word256 good = encode(mm);

  Word256 w = good;
  w[0] = (w[0] & ~0xFFull) | 0x42;
  CHECK(error_of([&] { decode(w, 48); }) == "offset 48: opcode: unknown opcode 0x42");
  w = good;
  w[0] |= 1ull << 41;
  CHECK(starts_with(error_of([&] { decode(w, 16); }), "offset 16: reserved header bits [63:41] must be zero"));
  w = good;
  w[0] |= 1ull << 63;
  CHECK(error_of([&] { decode(w, 16); }) == "offset 16: reserved header bits [63:41] must be zero, got 0x400000");
  w = good;
  w[0] |= 1ull << 40;  // cnt_alt without a count register
  CHECK(error_of([&] { decode(w, 16); }) == "offset 16: cnt_alt: needs a count register (cnt_alt=c1..c7), got c0");
  w = good;
  w[2] |= 1ull << 50;  // matmul word 2 uses bits 0..49 only
  CHECK(starts_with(error_of([&] { decode(w, 80); }), "offset 80: word 2: bits 0x0004000000000000"));
  w = good;
  w[3] |= 1ull << 63;
  CHECK(contains(error_of([&] { decode(w, 80); }), "word 3"));
  w = good;
  w[2] &= ~(0xFFFull << 24);  // k = 0
  CHECK(error_of([&] { decode(w, 112); }) == "offset 112: k: must be 1..4095, got 0");

  Word256 nop{};
  CHECK(decode(nop).op == Opcode::Nop);
  nop[1] = 1;
  CHECK(starts_with(error_of([&] { decode(nop, 0); }), "offset 0: word 1:"));
  Word256 cnt{};
  cnt[0] = 0x01 | 1ull << 34;  // halt with cnt_reg
  CHECK(error_of([&] { decode(cnt, 32); }) == "offset 32: cnt: halt has no count field, got c1");
  cnt[0] |= 1ull << 40;  // halt with cnt_alt
  CHECK(error_of([&] { decode(cnt, 32); }) ==
        "offset 32: cnt_alt: halt has no alternate count field (only matmul k, load/store bytes), got c1");
}

TEST_CASE("assembler parses every opcode, symbols and header keys", "[isa][asm]") {
  const Program p = assemble(kEveryOpcode, "every.s");
  REQUIRE(p.source == "every.s");
  std::set<Opcode> seen;
  for (const Instruction& in : p.code) seen.insert(in.op);
  CHECK(seen.size() == all_opcodes().size());

  const Instruction& set1 = p.code[1];
  CHECK(set1.op == Opcode::CtxSet);
  CHECK(set1[Field::Reg] == 1);
  CHECK(set1[Field::Value] == INT64_MIN);
  const Instruction& add = p.code[3];
  CHECK(add[Field::Src] == 1);
  CHECK(add[Field::Value] == -5);
  CHECK(p.code[4][Field::Value] == 16);
  CHECK(p.code[5][Field::DomainF] == 1);
  CHECK(p.code[6][Field::DomainF] == 2);
  const Instruction& ld = p.code[7];
  CHECK(ld.tile == kAllTiles);
  CHECK(ld.signal[0] == 1);
  CHECK(ld[Field::Dram] == 0xFFFFFFFFFFFFll);
  CHECK(ld[Field::Space] == kAccumulator);
  const Instruction& ld2 = p.code[8];
  CHECK(ld2.tile == 5);
  CHECK(ld2.wait[0] == 16);
  CHECK(ld2.signal[0] == 2);
  CHECK(ld2.signal[1] == 31);
  CHECK(ld2.cnt_reg == 3);
  CHECK(ld2.addr_reg == 4);
  CHECK(ld2[Field::Rows] == 0);
  const Instruction& st = p.code[9];
  CHECK(st.op == Opcode::Store);
  CHECK(st.wait[0] == 2);
  CHECK(st.wait[1] == 3);
  const Instruction& mm = p.code[10];
  CHECK(mm.wait[0] == 1);
  CHECK(mm.wait[1] == 2);
  CHECK(mm.signal[0] == 3);
  CHECK(mm[Field::WType] == 1);
  CHECK(mm[Field::K] == 4095);
  const Instruction& vadd = p.code[12];
  CHECK(vadd[Field::BMode] == kBVector);
  CHECK(vadd[Field::DSpace] == 1);
  CHECK(p.code[14][Field::Imm] == INT32_MIN);
  // Defaults: rows = 1, everything else 0.
  const Program d = assemble("load bytes=4\n", "d.s");
  CHECK(d.code[0][Field::Rows] == 1);
  CHECK(d.code[0][Field::Dram] == 0);
  CHECK(d.code[0].tile == 0);
}

TEST_CASE("assemble -> disassemble -> assemble round trip", "[isa][asm]") {
  const Program p = assemble(kEveryOpcode, "every.s");
  const std::string text = disassemble(p);
  const Program q = assemble(text, "dis.s");
  REQUIRE(q.code.size() == p.code.size());
  CHECK(q.code == p.code);
  CHECK(disassemble(q.code[7]) ==
        "load tile=all signal=s1 dram=0xffffffffffff rows=65535 sram=0xffffff space=acc bytes=16777215 "
        "dstride=1099511627775 sstride=16777215");
  CHECK(disassemble(q.code[1]) == "ctx.set reg=c1 value=-9223372036854775808");
  CHECK(disassemble(q.code[0]) == "nop");
  CHECK(disassemble(q.code[8]) ==
        "load tile=5 wait=s16 signal=s2,s31 cnt=c3 addr=c4 dram=0x1000 rows=0 sram=0x40 bytes=64");
  CHECK(disassemble(q.code[11]) == "matmul cnt=c7 k=1 n=1");
  CHECK(disassemble(q.code[14]) == "vmul dst=0x1 a=0x2 bmode=imm len=8 shift=7 imm=-2147483648");
  CHECK(disassemble(q.code[5]) == "dvfs domain=memory point=255");
  CHECK(disassemble(q.code[3]) == "ctx.add reg=c2 src=c1 value=-5");
  CHECK(disassemble(q.code[32]) == "matmul cnt_alt=c5 m=3 n=7");
  CHECK(disassemble(q.code[33]) == "load tile=2 cnt_alt=c6 addr=c1 dram=0x100 rows=2 sram=0x80 dstride=64 sstride=64");
  CHECK(disassemble(q.code[34]) == "store cnt_alt=c7 dram=0x300 bytes=12");
  // The binary container round trip as well.
  CHECK(from_binary(to_binary(p), "b").code == p.code);
}

TEST_CASE("assembler errors carry SOURCE:LINE", "[isa][asm]") {
  auto err = [](const std::string& text) { return error_of([&] { assemble(text, "t.s"); }); };
  CHECK(err("nop\n\n  vfoo dst=1\n") == "t.s:3: unknown mnemonic 'vfoo'");
  CHECK(starts_with(err("; c\nvadd dst=1 bogus=3 bmode=vec len=1\n"),
                    "t.s:2: unknown key 'bogus' for vadd (allowed: tile wait signal cnt dst dspace a aspace b"));
  CHECK(starts_with(err("nop cnt=c1"), "t.s:1: unknown key 'cnt' for nop (allowed: tile wait signal)"));
  CHECK(starts_with(err("matmul addr=c1 k=1 n=1 m=1"), "t.s:1: unknown key 'addr' for matmul"));
  CHECK(err("nop\nmatmul k=1 k=2 n=1\n") == "t.s:2: duplicate key 'k'");
  CHECK(err("nop\nnop\nmatmul k=abc n=1\n") == "t.s:3: k: malformed value 'abc'");
  CHECK(err("matmul k=12x n=1") == "t.s:1: k: malformed value '12x'");
  CHECK(err("matmul k=0x n=1") == "t.s:1: k: malformed value '0x'");
  CHECK(starts_with(err("load bytes=1 space=foo"), "t.s:1: space: malformed value 'foo' (expected a number or one of sp acc)"));
  CHECK(err("matmul k=5000 n=1") == "t.s:1: k: value 5000 out of range 0..4095");
  CHECK(err("matmul k=-1 n=1") == "t.s:1: k: value -1 out of range 0..4095");
  CHECK(err("vadd bmode=imm len=1 imm=2147483648") == "t.s:1: imm: value 2147483648 out of range -2147483648..2147483647");
  CHECK(starts_with(err("ctx.set reg=c1 value=9223372036854775808"), "t.s:1: value: value 9223372036854775808 out of range"));
  CHECK(starts_with(err("ctx.set reg=c1 value=99999999999999999999999"), "t.s:1: value: value "));
  CHECK(err("load tile=64 bytes=1") == "t.s:1: tile: value 64 out of range 0..63");
  CHECK(err("load wait=s32 bytes=1") == "t.s:1: wait: value 32 out of range 0..31");
  CHECK(starts_with(err("load wait=s1,s2,s3 bytes=1"), "t.s:1: wait: at most two semaphores"));
  CHECK(starts_with(err("load signal=x1 bytes=1"), "t.s:1: signal: malformed"));
  CHECK(starts_with(err("load cnt=c8 bytes=1"), "t.s:1: cnt: value 8 out of range 0..7"));
  CHECK(starts_with(err("ctx.set reg=r1"), "t.s:1: reg: malformed value 'r1'"));
  CHECK(err("matmul k n=1") == "t.s:1: expected key=value, got 'k' (missing '=')");
  CHECK(err("matmul k= n=1") == "t.s:1: k: missing value after '='");
  CHECK(starts_with(err("matmul =3 n=1"), "t.s:1: missing key"));
  // check() failures.
  CHECK(err("\n\nmatmul k=0 n=1 m=1  ; oops\n") == "t.s:3: k: must be 1..4095, got 0");
  CHECK(err("load bytes=1 rows=0") == "t.s:1: rows: must be 1..65535, got 0");
  CHECK(starts_with(err("vadd len=4"), "t.s:1: bmode: must be 1..3"));
  CHECK(err("vrot len=12 imm=4") == "t.s:1: len: vrot needs a multiple of 2*imm = 8, got 12");
  CHECK(starts_with(err("ctx.set value=1"), "t.s:1: reg: must be 1..7"));
  CHECK(starts_with(err("dvfs domain=3"), "t.s:1: domain: must be 0..2"));
  // Empty source name.
  CHECK(error_of([] { assemble("bad", ""); }) == "<input>:1: unknown mnemonic 'bad'");
  // Comments, blank lines, CRLF and tabs are fine.
  const Program ok = assemble("# header\r\n\r\n\tnop ; x\r\nhalt#y\n; only comment", "ok.s");
  REQUIRE(ok.code.size() == 2);
  CHECK(ok.code[1].op == Opcode::Halt);
  CHECK(assemble("", "e.s").code.empty());
}

TEST_CASE("10^4 random legal instructions round-trip through binary and text", "[isa][random]") {
  std::mt19937_64 rng(0xC10E5EEDull);
  Program p;
  p.source = "random";
  for (int i = 0; i < 10000; ++i) {
    Instruction in = random_instruction(rng);
    INFO("instruction " << i << ": " << disassemble(in) << " -> " << check(in));
    REQUIRE(check(in).empty());
    p.code.push_back(in);
  }
  // Per-instruction encode/decode.
  for (size_t i = 0; i < p.code.size(); ++i) {
    const Word256 w = encode(p.code[i]);
    const Instruction back = decode(w, i);
    if (back != p.code[i]) FAIL("decode mismatch at " << i << ": " << disassemble(p.code[i]));
    if (encode(back) != w) FAIL("re-encode mismatch at " << i);
  }
  const std::vector<uint8_t> bin = to_binary(p);
  REQUIRE(bin.size() == kHeaderBytes + 32 * p.code.size());
  const Program b = from_binary(bin, "random.bin");
  CHECK(b.code == p.code);
  CHECK(b.source == "random.bin");
  const std::string text = disassemble(p);
  const Program t = assemble(text, "random.s");
  REQUIRE(t.code.size() == p.code.size());
  for (size_t i = 0; i < p.code.size(); ++i)
    if (t.code[i] != p.code[i]) FAIL("text mismatch at " << i << ": " << disassemble(p.code[i]));
  CHECK(to_binary(t) == bin);
}

TEST_CASE("binary container layout and errors", "[isa][binary]") {
  const Program p = assemble("nop\nmatmul k=2 n=3 m=1\nhalt\n", "p.s");
  const std::vector<uint8_t> bin = to_binary(p);
  REQUIRE(bin.size() == 16 + 3 * 32);
  CHECK(std::string(bin.begin(), bin.begin() + 8) == "CLONEISA");
  CHECK(bin[8] == 1);
  CHECK(bin[9] == 0);
  CHECK(bin[12] == 3);
  CHECK(bin[16 + 32] == 0x20);  // opcode of instruction 1, little-endian word 0
  CHECK(bin[16 + 64] == 0x01);

  auto err = [](const std::vector<uint8_t>& b) { return error_of([&] { from_binary(b, "f.bin"); }); };
  std::vector<uint8_t> b = bin;
  b[3] = 'X';
  CHECK(starts_with(err(b), "f.bin: offset 0: bad magic"));
  CHECK(starts_with(err({}), "f.bin: offset 0: bad magic"));
  CHECK(starts_with(err({'n', 'o', 'p'}), "f.bin: offset 0: bad magic"));
  CHECK(starts_with(err({'C', 'L', 'O'}), "f.bin: offset 3: truncated header"));
  CHECK(starts_with(err(std::vector<uint8_t>(bin.begin(), bin.begin() + 12)), "f.bin: offset 12: truncated header"));
  b = bin;
  b[8] = 2;
  CHECK(err(b) == "f.bin: offset 8: unsupported version 2 (this build reads version 1)");
  b = bin;
  b.resize(bin.size() - 5);  // instruction 2 (offset 80) incomplete
  CHECK(starts_with(err(b), "f.bin: offset 80: truncated: instruction 2 of the 3"));
  b = std::vector<uint8_t>(bin.begin(), bin.begin() + 16);  // header only
  CHECK(starts_with(err(b), "f.bin: offset 16: truncated: instruction 0 of the 3"));
  b = bin;
  b[12] = 2;  // header declares 2 instructions; 32 bytes left over
  CHECK(err(b) == "f.bin: offset 80: trailing bytes: 32 bytes after the 2 instructions the header declares");
  b = bin;
  b.push_back(0);
  CHECK(starts_with(err(b), "f.bin: offset 112: trailing bytes: 1 bytes"));
  b = bin;
  b[12] = 0xFF;
  b[13] = 0xFF;
  b[14] = 0xFF;
  b[15] = 0xFF;  // absurd count, must not allocate or overflow
  CHECK(starts_with(err(b), "f.bin: offset 112: truncated: instruction 3 of the 4294967295"));
  b = bin;
  b[16 + 32 + 16 + 3] = 0;  // word 2 byte 3 = k bits 0..7 -> k = 0 (k = 2)
  CHECK(err(b) == "f.bin: offset 48: k: must be 1..4095, got 0");
  b = bin;
  b[16 + 64] = 0x99;  // unknown opcode in instruction 2
  CHECK(err(b) == "f.bin: offset 80: opcode: unknown opcode 0x99");
  b = bin;
  b[16 + 5] = 2;  // reserved header bit 41 of instruction 0
  CHECK(starts_with(err(b), "f.bin: offset 16: reserved header bits [63:41]"));
  b = bin;
  b[16 + 5] = 1;  // header bit 40 (cnt_alt) on a nop
  CHECK(starts_with(err(b), "f.bin: offset 16: cnt_alt: "));

  // Empty program.
  Program empty;
  CHECK(from_binary(to_binary(empty), "e").code.empty());
  // to_binary refuses an illegal instruction.
  Program ill;
  ill.source = "ill";
  ill.code.push_back(make(Opcode::Matmul));
  CHECK(error_of([&] { to_binary(ill); }) == "ill: instruction 0: k: must be 1..4095, got 0");
}

TEST_CASE("load_program and save_binary", "[isa][file]") {
  const std::string missing = temp_path("does_not_exist.s");
  CHECK(error_of([&] { load_program(missing); }) == missing + ": cannot open");

  const Program p = assemble(kEveryOpcode, "every.s");
  const std::string bin_path = temp_path("every.bin");
  save_binary(p, bin_path);
  const Program b = load_program(bin_path);
  CHECK(b.code == p.code);
  CHECK(b.source == bin_path);

  const std::string txt_path = temp_path("every.s");
  write_file(txt_path, disassemble(p));
  CHECK(load_program(txt_path).code == p.code);

  const std::string bad_txt = temp_path("bad.s");
  write_file(bad_txt, "nop\nhalt\nmatmul k=0 n=1 m=4\n");
  CHECK(error_of([&] { load_program(bad_txt); }) == bad_txt + ":3: k: must be 1..4095, got 0");

  const std::string nul = temp_path("nul.s");
  write_file(nul, std::string("nop\n\0\0\x01", 7));
  CHECK(starts_with(error_of([&] { load_program(nul); }), nul + ": not an assembly file (NUL byte at offset 4)"));
  const std::string utf = temp_path("utf.s");
  write_file(utf, "nop ; caf\xc3\xa9\nhalt ; \xff\xfe\n");
  CHECK(starts_with(error_of([&] { load_program(utf); }), utf + ": not an assembly file (invalid UTF-8 at offset 19)"));
  const std::string ok_utf = temp_path("okutf.s");
  write_file(ok_utf, "nop ; caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\n");
  CHECK(load_program(ok_utf).code.size() == 1);

  // A corrupt binary is reported as a binary problem.
  std::vector<uint8_t> bytes = to_binary(p);
  bytes.resize(bytes.size() - 1);
  const std::string trunc = temp_path("trunc.bin");
  write_file(trunc, std::string(bytes.begin(), bytes.end()));
  CHECK(contains(error_of([&] { load_program(trunc); }), trunc + ": offset "));
  CHECK(contains(error_of([&] { load_program(trunc); }), "truncated"));

  // A directory cannot be read as a program.
  CHECK(starts_with(error_of([&] { load_program(std::filesystem::temp_directory_path().string()); }),
                    std::filesystem::temp_directory_path().string() + ": cannot"));

  CHECK(starts_with(error_of([&] { save_binary(p, "/nonexistent_dir_xyz/p.bin"); }), "/nonexistent_dir_xyz/p.bin: cannot"));

  for (const std::string& f : {bin_path, txt_path, bad_txt, nul, utf, ok_utf, trunc}) std::remove(f.c_str());
}

TEST_CASE("from_binary and the assembler never crash on garbage", "[isa][fuzz]") {
  std::mt19937_64 rng(12345);
  Program p;
  for (int i = 0; i < 64; ++i) p.code.push_back(random_instruction(rng));
  const std::vector<uint8_t> valid = to_binary(p);
  size_t accepted = 0, rejected = 0;
  auto try_bytes = [&](const std::vector<uint8_t>& b) {
    try {
      const Program q = from_binary(b, "fuzz");
      ++accepted;
      // Whatever decodes re-encodes to exactly the same bytes (canonical form).
      if (to_binary(q) != b) FAIL("accepted input does not re-encode to itself");
    } catch (const Error& e) {
      ++rejected;
      if (!starts_with(e.what(), "fuzz: offset ")) FAIL("unexpected message: " << e.what());
    }
  };

  // Truncation at every length.
  for (size_t n = 0; n <= valid.size(); ++n) try_bytes(std::vector<uint8_t>(valid.begin(), valid.begin() + n));
  CHECK(accepted == 1);  // only the full file
  // Single bit flips at every position.
  for (size_t bit = 0; bit < valid.size() * 8; ++bit) {
    std::vector<uint8_t> b = valid;
    b[bit / 8] ^= uint8_t(1u << (bit % 8));
    try_bytes(b);
  }
  // Random multi-byte corruption.
  for (int i = 0; i < 3000; ++i) {
    std::vector<uint8_t> b = valid;
    const int flips = 1 + int(rng() % 8);
    for (int k = 0; k < flips; ++k) b[rng() % b.size()] = uint8_t(rng());
    try_bytes(b);
  }
  // Random bytes, with and without a plausible header.
  for (int i = 0; i < 3000; ++i) {
    std::vector<uint8_t> b(rng() % 300);
    for (auto& x : b) x = uint8_t(rng());
    if (i % 2 && b.size() >= 16) {
      std::copy(kMagic, kMagic + 8, b.begin());
      b[8] = 1;
      b[9] = b[10] = b[11] = 0;
      const uint32_t n = uint32_t((b.size() - 16) / 32 + (rng() % 3 == 0 ? rng() % 3 : 0));
      for (int k = 0; k < 4; ++k) b[12 + k] = uint8_t(n >> (8 * k));
    }
    try_bytes(b);
  }
  // Random instruction words that are mostly zero (more likely to decode).
  for (int i = 0; i < 20000; ++i) {
    Word256 w{};
    w[0] = all_opcodes()[rng() % all_opcodes().size()].code | (rng() & 0x1FFFFFFFF00ull);  // header bits 8..40
    for (int k = 1; k < 4; ++k) w[k] = rng() % 4 ? rng() & rng() & rng() : 0;
    try {
      const Instruction in = decode(w, 16);
      if (encode(in) != w) FAIL("decode/encode not canonical");
      if (!check(in).empty()) FAIL("decoded an illegal instruction");
    } catch (const Error& e) {
      if (!starts_with(e.what(), "offset 16: ")) FAIL("unexpected message: " << e.what());
    }
  }
  CHECK(rejected > 0);

  // Assembler fuzz: random token soup.
  const std::vector<std::string> pieces = {"nop",  "halt", "vadd",  "load", "matmul", "ctx.set", "vrot", "=",
                                           "k=",   "=1",   "len=",  "0x",   "-",      "tile=all", "wait=s", ",",
                                           "s31",  "c9",   "imm=-", "999999999999999999999", ";", "#", "\t",
                                           "bmode=vec", "bytes=1", "reg=c1", "\xff", "\n", "cnt_alt=c1", "cnt=c2"};
  for (int i = 0; i < 5000; ++i) {
    std::string text;
    const int n = int(rng() % 12);
    for (int k = 0; k < n; ++k) text += pieces[rng() % pieces.size()] + (rng() % 2 ? " " : "");
    try {
      const Program q = assemble(text, "soup");
      for (const Instruction& in : q.code) REQUIRE(check(in).empty());
    } catch (const Error& e) {
      if (!starts_with(e.what(), "soup:")) FAIL("unexpected message: " << e.what());
    }
  }
}

TEST_CASE("compact instructions: has_field and the slots agree with every opcode's layout", "[isa]") {
  for (const OpcodeInfo& oi : all_opcodes()) {
    INFO(oi.mnemonic);
    std::set<int> slots;
    std::set<Field> in_layout;
    for (const FieldLayout& l : fields_of(oi.op)) {
      in_layout.insert(l.field);
      CHECK(has_field(oi.op, l.field));
      CHECK(field_slot(l.field) < kMaxOpFields);
      CHECK(slots.insert(field_slot(l.field)).second);  // no two fields of an opcode share a slot
    }
    for (int f = 0; f < kNumFields; ++f)
      if (!in_layout.count(static_cast<Field>(f))) CHECK_FALSE(has_field(oi.op, static_cast<Field>(f)));
  }
  // a field the opcode does not have reads 0 and a write to it is dropped
  Instruction in;
  in.op = Opcode::Matmul;
  in[Field::K] = 7;
  in[Field::Len] = 9;
  CHECK(in[Field::K] == 7);
  CHECK(in[Field::Len] == 0);
  CHECK(in[Field::M] == 0);
  // load and store share their slots
  in = Instruction{};
  in.op = Opcode::Load;
  in[Field::Bytes] = 64;
  in.op = Opcode::Store;
  CHECK(in[Field::Bytes] == 64);
  CHECK(sizeof(Instruction) <= 104);
}

TEST_CASE("regions: .region lines in the assembly, kept through disassembly, checked", "[isa][regions]") {
  const Program p = assemble(
      "  .region embedding   ; the token's row\n"
      "nop\n"
      ".region layers.0\n"
      "nop\nnop\n"
      ".region empty\n"
      ".region lm_head\n"
      "halt\n",
      "r.s");
  REQUIRE(p.regions.size() == 4);
  CHECK(p.regions[0] == Region{"embedding", 0});
  CHECK(p.regions[1] == Region{"layers.0", 1});
  CHECK(p.regions[2] == Region{"empty", 3});
  CHECK(p.regions[3] == Region{"lm_head", 3});
  const Program q = assemble(disassemble(p), "again.s");
  CHECK(q.regions == p.regions);
  CHECK(q.code == p.code);
  CHECK(error_of([] { assemble("nop\n.region\n", "x.s"); }) == "x.s:2: .region needs a name");
  CHECK(error_of([] { assemble(".regions a\n", "x.s"); }) ==
        "x.s:1: unknown directive .regions a (expected .region NAME)");
  Program bad = p;
  bad.regions[2].first = 0;
  CHECK(error_of([&] { check_regions(bad); }) ==
        "r.s: region 2 (empty): starts at instruction 0, before the region ahead of it (1)");
  bad = p;
  bad.regions[3].first = 9;
  CHECK(error_of([&] { check_regions(bad); }) ==
        "r.s: region 3 (lm_head): starts at instruction 9, past the end (4 instructions)");
}
