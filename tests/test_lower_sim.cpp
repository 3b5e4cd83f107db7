// Generated code on the SystemC model: the bits match the golden kernels.
#include <catch2/catch.hpp>

#include <random>

#include "golden/kernels.h"
#include "lower/layout.h"
#include "lower/linear.h"
#include "lower/program_builder.h"
#include "sim_test_util.h"

using namespace clonesim;
using namespace clonesim::compiler;

namespace {

// A decode linear layer y = requant(x W) on `hw`, checked bit for bit against
// golden::linear_per_channel.  Returns the simulated cycles.
uint64_t run_decode_linear(const hw::HwConfig& hw, uint64_t K, uint64_t N, bool int4, uint64_t max_buffer,
                           uint64_t seed, DecodeLinearPlan* plan_out = nullptr) {
  std::mt19937_64 rng(seed);
  std::vector<int8_t> x(K), w(K * N);
  for (auto& v : x) v = int8_t(int64_t(rng() % 255) - 127);
  for (auto& v : w) v = int4 ? int8_t(int64_t(rng() % 16) - 8) : int8_t(int64_t(rng() % 255) - 127);
  std::vector<int32_t> mult(N), shift(N);
  for (uint64_t n = 0; n < N; ++n) {
    mult[n] = int32_t(1000 + rng() % 30000);
    shift[n] = int32_t(14 + rng() % 8);
  }
  const DecodeLinearPlan p = plan_decode_linear(hw, K, N, int4, max_buffer);
  if (plan_out) *plan_out = p;
  DramMap dram;
  DecodeLinearIO io;
  const uint64_t x_dram = dram.alloc("x", K);
  io.w_dram = dram.alloc("weights", p.image_bytes(hw));
  io.tab_dram = dram.alloc("requant table", 8 * N);
  io.y_dram = dram.alloc("y", N);
  SramArena sp(hw.scratchpad, "scratchpad"), acc(hw.accumulator, "accumulator");
  io.x_sp = sp.alloc(K, 0, "x");
  place_decode_linear(p, sp, acc, io);
  SemPool sems;
  io.x_ready = sems.local("x");
  io.done = sems.global("done");
  ProgramBuilder b("decode-linear");
  b.emit(load(0, x_dram, io.x_sp, isa::kScratchpad, K).all_tiles().signal(io.x_ready), "x to every tile");
  emit_decode_linear(b, hw, p, io, sems, "fc");
  b.emit(Ins(isa::Opcode::Halt).wait(io.done));

  const auto wimg = decode_linear_weights(hw, p, w.data());
  const auto tab = requant_table(mult, shift);
  sim::Accelerator a("acc", hw, b.program(), sim::Options{});
  a.dram().write(x_dram, x.data(), K);
  a.dram().write(io.w_dram, wimg.data(), wimg.size());
  a.dram().write(io.tab_dram, tab.data(), tab.size());
  sc_core::sc_start();
  REQUIRE(a.finished());
  std::vector<int8_t> y(N);
  a.dram().read(io.y_dram, y.data(), N);
  const auto want = golden::linear_per_channel(x, w, 1, int64_t(K), int64_t(N), mult, shift);
  CHECK(y == want);
  return a.stats().cycles;
}

}  // namespace

TEST_CASE("decode linear, int8, two tiles, four double-buffered blocks per tile", "[lower][sim]") {
  const hw::HwConfig hw = test::design("clone-28nm");
  DecodeLinearPlan p;
  run_decode_linear(hw, 16, 128, false, 256, 1, &p);
  CHECK(p.tiles_used() == 2);
  CHECK(p.nc == 16);
  CHECK(p.blocks(0) == 4);
}

TEST_CASE("decode linear, int4, one tile with an uneven column split", "[lower][sim]") {
  const hw::HwConfig hw = test::design("clone-28nm");
  DecodeLinearPlan p;
  run_decode_linear(hw, 16, 48, true, 128, 2, &p);  // 3 lane groups: tile 0 gets 2, tile 1 gets 1
  CHECK(p.cols[0] == 32);
  CHECK(p.cols[1] == 16);
  CHECK(p.blocks(0) == 2);
  CHECK(p.blocks(1) == 1);
}
