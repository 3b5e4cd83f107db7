// Lowering building blocks: the program builder and the weight images.
#include <catch2/catch.hpp>

#include "common/error.h"
#include "isa/program.h"
#include "lower/program_builder.h"
#include "lower/weight_image.h"

using namespace clonesim;
using namespace clonesim::compiler;
using isa::Field;
using isa::Opcode;

TEST_CASE("program builder: instructions, semaphores, listing round trip", "[lower]") {
  ProgramBuilder b("unit-test");
  b.section("load and multiply");
  b.emit(load(1, 0x1000, 0x40, isa::kScratchpad, 256, 4, 1024, 64).signal(2), "x rows");
  b.emit(matmul(1, 0x40, 0x800, 0x0, 4, 16, 8, true, false, 64, 32).wait(2).signal(3).signal(17), "q_proj");
  b.emit(vec(Opcode::VRequant, 1, 0x100, isa::kScratchpad, 0x0, isa::kAccumulator, 32).wait(3)
             .set(Field::Imm, 77).set(Field::Shift, 9));
  b.emit(Ins(Opcode::Halt));
  REQUIRE(b.size() == 4);
  const isa::Instruction& l = b.program().code[0];
  CHECK(l.op == Opcode::Load);
  CHECK(l.tile == 1);
  CHECK(l.signal[0] == 2);
  CHECK(l[Field::Rows] == 4);
  CHECK(l[Field::SStride] == 64);
  const isa::Instruction& m = b.program().code[1];
  CHECK(m.wait[0] == 2);
  CHECK(m.signal[0] == 3);
  CHECK(m.signal[1] == 17);
  CHECK(m[Field::WType] == 1);
  // The listing re-assembles to the same code, comments and sections included.
  const std::string text = b.listing();
  CHECK(text.find("; load and multiply") != std::string::npos);
  CHECK(text.find("; q_proj") != std::string::npos);
  CHECK(isa::assemble(text, "listing").code == b.program().code);
}

TEST_CASE("program builder: an illegal instruction names its index and comment", "[lower]") {
  ProgramBuilder b("prog");
  b.emit(Ins(Opcode::Nop));
  // k = 0 is illegal
  REQUIRE_THROWS_WITH(b.emit(matmul(0, 0, 0, 0, 1, 0, 4, false, false, 16, 16), "layer 3 wo"),
                      "prog: instruction 1 (layer 3 wo): k: must be 1..4095, got 0");
  REQUIRE_THROWS_WITH(Ins(Opcode::Nop).wait(1).wait(2).wait(3), "nop: more than two semaphores to wait on");
  CHECK(b.size() == 1);
}

TEST_CASE("weight image: tile-major order, int8 and int4 packing", "[lower]") {
  // K = 3, N = 5 on a 2 x 3 array: tiles (n0=0: k0=0 2x3, k0=2 1x3), (n0=3: k0=0 2x2, k0=2 1x2)
  std::vector<int8_t> w(3 * 5);
  for (int k = 0; k < 3; ++k)
    for (int n = 0; n < 5; ++n) w[k * 5 + n] = int8_t(10 * k + n - 7);  // -7..17
  const auto img8 = weight_image(w.data(), 5, 3, 5, 2, 3, false);
  const std::vector<int8_t> want8 = {-7, -6, -5, 3, 4, 5,  // tile (0,0): rows k=0,1 cols 0..2
                                     13, 14, 15,           // tile (0,1): row k=2
                                     -4, -3, 6, 7,         // tile (1,0): rows 0,1 cols 3..4
                                     16, 17};              // tile (1,1)
  REQUIRE(img8.size() == want8.size());
  CHECK(weight_image_bytes(3, 5, 2, 3, false) == 15);
  for (size_t i = 0; i < want8.size(); ++i) CHECK(int8_t(img8[i]) == want8[i]);

  // int4: values -8..7; a tile of odd element count ends in a half byte.
  std::vector<int8_t> v(3 * 5);
  for (int i = 0; i < 15; ++i) v[i] = int8_t(i % 16 - 8);  // -8..6
  const auto img4 = weight_image(v.data(), 5, 3, 5, 2, 3, true);
  // tiles: 6 elems -> 3 bytes, 3 -> 2, 4 -> 2, 2 -> 1
  CHECK(weight_image_bytes(3, 5, 2, 3, true) == 8);
  REQUIRE(img4.size() == 8);
  auto nib = [](int x) { return uint8_t(x & 0xF); };
  // tile (0,0): elements (0,0) (0,1) (0,2) (1,0) (1,1) (1,2) = v[0] v[1] v[2] v[5] v[6] v[7]
  CHECK(img4[0] == uint8_t(nib(v[0]) | nib(v[1]) << 4));
  CHECK(img4[1] == uint8_t(nib(v[2]) | nib(v[5]) << 4));
  CHECK(img4[2] == uint8_t(nib(v[6]) | nib(v[7]) << 4));
  // tile (0,1): v[10] v[11] v[12]
  CHECK(img4[3] == uint8_t(nib(v[10]) | nib(v[11]) << 4));
  CHECK(img4[4] == nib(v[12]));
  // tile (1,0): (0,3) (0,4) (1,3) (1,4) = v[3] v[4] v[8] v[9]
  CHECK(img4[5] == uint8_t(nib(v[3]) | nib(v[4]) << 4));
  CHECK(img4[6] == uint8_t(nib(v[8]) | nib(v[9]) << 4));
  // tile (1,1): v[13] v[14]
  CHECK(img4[7] == uint8_t(nib(v[13]) | nib(v[14]) << 4));

  // K <= R and N <= C: plain row-major packing (today's single-tile layout)
  const auto one = weight_image(w.data(), 5, 3, 5, 16, 16, false);
  for (int i = 0; i < 15; ++i) CHECK(int8_t(one[i]) == w[i]);

  v[4] = 9;
  REQUIRE_THROWS_WITH(weight_image(v.data(), 5, 3, 5, 2, 3, true), "int4 weight (0, 4) = 9: expected -8..7");
}
