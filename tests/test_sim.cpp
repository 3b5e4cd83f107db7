// Model-level behaviour: bad programs give one-line errors, never a hang.
#include <catch2/catch.hpp>

#include "common/error.h"
#include "sim/run.h"
#include "sim_test_util.h"

using namespace clonesim;
using namespace clonesim::test;

TEST_CASE("a program that waits on a semaphore nobody signals is reported as a deadlock", "[sim][errors]") {
  Bench b;
  auto& a = b.add(design(CLONESIM_SOURCE_DIR "/tests/data/hw/test-8x8.yaml"), "vadd dst=0x10000 a=0x0 b=0x8000 bmode=vec len=8 wait=s3\nhalt\n");
  b.run();
  CHECK_FALSE(a.finished());
  CHECK_THAT(a.error(), Catch::Contains("deadlock") && Catch::Contains("vector[0]") && Catch::Contains("test.s"));
}

TEST_CASE("an instruction the design point cannot run names the instruction and the problem", "[sim][errors]") {
  Bench b;
  // test-8x8 has an 8x8 MXU and a 128 KiB scratchpad, one tile; a 16 x 8
  // matmul is two array tiles whose 128 weight bytes run past the end
  auto& k = b.add(design(CLONESIM_SOURCE_DIR "/tests/data/hw/test-8x8.yaml"), "nop\nmatmul act=0x0 wgt=0x1ffc0 acc=0 m=1 k=16 n=8\nhalt\n");
  auto& r = b.add(design(CLONESIM_SOURCE_DIR "/tests/data/hw/test-8x8.yaml"), "load dram=0 sram=0x1fff0 bytes=64\nhalt\n");
  auto& t = b.add(design(CLONESIM_SOURCE_DIR "/tests/data/hw/test-8x8.yaml"), "vadd dst=0 a=0 b=0x100 bmode=vec len=8 tile=3\nhalt\n");
  auto& x = b.add(design(CLONESIM_SOURCE_DIR "/tests/data/hw/test-8x8.yaml"), "vadd dst=0x7ff8 a=0 b=0x100 bmode=vec len=16\nhalt\n");
  auto& al = b.add(design(CLONESIM_SOURCE_DIR "/tests/data/hw/test-8x8.yaml"), "vadd dst=0x3 a=0 b=0x100 bmode=vec len=16\nhalt\n");
  auto& dv = b.add(design(CLONESIM_SOURCE_DIR "/tests/data/hw/test-8x8.yaml"), "dvfs domain=compute point=7\nhalt\n");
  sim::Options ctx;
  ctx.ctx[2] = 0;
  auto& c0 = b.add(design(CLONESIM_SOURCE_DIR "/tests/data/hw/test-8x8.yaml"), "vadd dst=0 a=0 b=0x100 bmode=vec cnt=c2\nhalt\n", ctx);
  b.run();
  CHECK_THAT(k.error(), Catch::StartsWith("test.s: instruction 1 (matmul") && Catch::Contains("wgt: range [0x1ffc0, 0x20040) exceeds the scratchpad"));
  CHECK_THAT(r.error(), Catch::Contains("instruction 0") && Catch::Contains("exceeds the scratchpad (131072 bytes)"));
  CHECK_THAT(t.error(), Catch::Contains("tile 3 does not exist"));
  CHECK_THAT(x.error(), Catch::Contains("crosses a scratchpad bank boundary"));
  CHECK_THAT(al.error(), Catch::Contains("dst: address must be aligned to 8 bytes"));
  CHECK_THAT(dv.error(), Catch::Contains("point: 7 out of range"));
  CHECK_THAT(c0.error(), Catch::Contains("count is 0 (from context register c2)"));
}

TEST_CASE("a count from a context register must be legal as the immediate would be", "[sim][errors][ctx]") {
  const hw::HwConfig hw = design(CLONESIM_SOURCE_DIR "/tests/data/hw/test-8x8.yaml");
  sim::Options opt;
  opt.ctx[1] = 4096;   // one more than matmul k allows
  opt.ctx[2] = 0;
  opt.ctx[3] = 65536;  // one more than rows allows
  opt.ctx[4] = -1;
  Bench b;
  auto& k = b.add(hw, "nop\nmatmul act=0x8000 wgt=0x0 acc=0x0 m=1 n=8 cnt_alt=c1\nhalt\n", opt);
  auto& z = b.add(hw, "load dram=0x0 sram=0x0 bytes=64 cnt_alt=c2\nhalt\n", opt);
  auto& rows = b.add(hw, "store dram=0x0 sram=0x0 bytes=1 cnt=c3\nhalt\n", opt);
  auto& neg = b.add(hw, "ctx.add reg=c5 src=c4 value=0\nstore dram=0x0 sram=0x0 cnt_alt=c5\nhalt\n", opt);
  b.run();
  CHECK(k.error() == "test.s: instruction 1 (matmul cnt_alt=c1 act=0x8000 m=1 k=4096 n=8): k: count is 4096 (from "
                     "context register c1, cnt_alt), must be 1..4095");
  CHECK(z.error() == "test.s: instruction 0 (load cnt_alt=c2): bytes: count is 0 (from context register c2, "
                     "cnt_alt), must be 1..16777215");
  CHECK(rows.error() == "test.s: instruction 0 (store cnt=c3 rows=65536 bytes=1): rows: count is 65536 (from context "
                        "register c3), must be 1..65535");
  CHECK_THAT(neg.error(), Catch::StartsWith("test.s: instruction 1 (store cnt_alt=c5 bytes=-1)") &&
                              Catch::EndsWith("bytes: count is -1 (from context register c5, cnt_alt), must be 1..16777215"));
  for (auto* a : {&k, &z, &rows, &neg}) CHECK_FALSE(a->finished());
}

TEST_CASE("context registers supply counts and DRAM offsets at dispatch", "[sim][ctx]") {
  sim::Options opt;
  opt.ctx[1] = 3;  // e.g. a KV-cache position
  Bench b;
  auto& a = b.add(design(CLONESIM_SOURCE_DIR "/tests/data/hw/test-8x8.yaml"),
                  "ctx.mul reg=c2 src=c1 value=64\n"      // c2 = 192: byte offset of row 3
                  "ctx.add reg=c3 src=c1 value=1\n"       // c3 = 4 rows
                  "load dram=0x1000 sram=0x0 bytes=64 addr=c2 signal=s1\n"
                  "load dram=0x1000 sram=0x100 bytes=16 dstride=16 sstride=16 cnt=c3 signal=s2\n"
                  "vadd dst=0x10000 a=0x0 b=0x8000 bmode=imm imm=1 cnt=c3 wait=s1,s2\n"
                  "halt\n",
                  opt);
  std::vector<uint8_t> img(1024);
  for (size_t i = 0; i < img.size(); ++i) img[i] = uint8_t(i);
  a.dram().write(0x1000, img.data(), img.size());
  b.run();
  REQUIRE(a.error() == "");
  for (int i = 0; i < 64; ++i) CHECK(a.tile(0).sp[i] == img[192 + i]);
  for (int i = 0; i < 64; ++i) CHECK(a.tile(0).sp[0x100 + i] == img[i]);  // 4 rows of 16
  CHECK(a.tile(0).sp[0x100 + 64] == 0);
  for (int i = 0; i < 4; ++i) CHECK(int8_t(a.tile(0).sp[0x10000 + i]) == int8_t(img[192 + i] + 1));
  CHECK(a.tile(0).sp[0x10000 + 4] == 0);
}

TEST_CASE("run_program turns a failed run into a clonesim::Error", "[sim][errors]") {
  const isa::Program p = asm_program("vadd dst=0 a=0 b=0x100 bmode=vec len=8 wait=s1\nhalt\n");
  CHECK_THROWS_AS(sim::run_program(design(CLONESIM_SOURCE_DIR "/tests/data/hw/test-8x8.yaml"), p, {}, nullptr, nullptr), Error);
}
