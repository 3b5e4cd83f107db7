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

// Decode linear layers chained y1 = requant(x W1), y2 = requant(y1 W2), ...
// on one weight stream, each checked bit for bit against
// golden::linear_per_channel.  dims = {K0, N0 (= K1), N1, ...}.
std::vector<DecodeLinearPlan> run_decode_chain(const hw::HwConfig& hw, const std::vector<uint64_t>& dims, bool int4,
                                               uint64_t max_buffer, uint64_t seed) {
  std::mt19937_64 rng(seed);
  const size_t layers = dims.size() - 1;
  std::vector<std::vector<int8_t>> w(layers);
  std::vector<std::vector<int32_t>> mult(layers), shift(layers);
  std::vector<int8_t> x(dims[0]);
  for (auto& v : x) v = int8_t(int64_t(rng() % 255) - 127);
  std::vector<DecodeLinearPlan> plans;
  uint64_t most_cols = 0, most_bytes = 0;
  for (size_t l = 0; l < layers; ++l) {
    const uint64_t K = dims[l], N = dims[l + 1];
    w[l].resize(K * N);
    for (auto& v : w[l]) v = int4 ? int8_t(int64_t(rng() % 16) - 8) : int8_t(int64_t(rng() % 255) - 127);
    for (uint64_t n = 0; n < N; ++n) {
      mult[l].push_back(int32_t(1000 + rng() % 30000));
      shift[l].push_back(int32_t(int4 ? 12 + rng() % 4 : 15 + rng() % 4));
    }
    plans.push_back(plan_decode_linear(hw, K, N, int4, max_buffer));
    most_cols = std::max(most_cols, plans.back().nc);
    most_bytes = std::max(most_bytes, plans.back().buffer_bytes);
  }
  DramMap dram;
  SramArena sp(hw.scratchpad, "scratchpad"), acc(hw.accumulator, "accumulator");
  SemPool sems;
  WeightStream ws = make_weight_stream(hw, most_bytes, most_cols, sp, acc, sems);
  const unsigned x_ready = sems.local("x"), tile_done = sems.local("tile done");
  const unsigned chain = sems.global("chain"), done = sems.global("done");
  std::vector<DecodeLinearIO> io(layers);
  std::vector<uint64_t> in_dram(layers + 1);
  in_dram[0] = dram.alloc("x", dims[0]);
  for (size_t l = 0; l < layers; ++l) {
    io[l].x_sp = sp.alloc(dims[l], 0, "input");
    io[l].w_dram = dram.alloc("weights", plans[l].image_bytes(hw));
    io[l].tab_dram = dram.alloc("requant table", 8 * dims[l + 1]);
    io[l].y_dram = in_dram[l + 1] = dram.alloc("y", dims[l + 1]);
    io[l].y_sp = sp.alloc(*std::max_element(plans[l].cols.begin(), plans[l].cols.end()), 0, "output");
    io[l].x_ready = x_ready;
    io[l].tile_done = tile_done;
    io[l].chain = chain;
    io[l].done = done;
  }
  ProgramBuilder b("decode-chain");
  for (size_t l = 0; l < layers; ++l) {
    // the input to every tile: x from the host, then the previous layer's output
    b.emit(load(0, in_dram[l], io[l].x_sp, isa::kScratchpad, dims[l]).all_tiles().wait(l ? done : 0).signal(x_ready),
           "input to every tile");
    emit_decode_linear(b, hw, plans[l], io[l], ws, "fc" + std::to_string(l));
  }
  b.emit(Ins(isa::Opcode::Halt).wait(done));

  sim::Accelerator a("acc", hw, b.program(), sim::Options{});
  a.dram().write(in_dram[0], x.data(), x.size());
  for (size_t l = 0; l < layers; ++l) {
    const auto wimg = decode_linear_weights(hw, plans[l], w[l].data());
    const auto tab = requant_table(mult[l], shift[l]);
    a.dram().write(io[l].w_dram, wimg.data(), wimg.size());
    a.dram().write(io[l].tab_dram, tab.data(), tab.size());
  }
  sc_core::sc_start();
  REQUIRE(a.finished());
  std::vector<int8_t> want = x;
  for (size_t l = 0; l < layers; ++l) {
    want = golden::linear_per_channel(want, w[l], 1, int64_t(dims[l]), int64_t(dims[l + 1]), mult[l], shift[l]);
    std::vector<int8_t> y(dims[l + 1]);
    a.dram().read(io[l].y_dram, y.data(), y.size());
    INFO("layer " << l);
    CHECK(y == want);
  }
  return plans;
}

}  // namespace

TEST_CASE("decode linear, int8, two tiles, four double-buffered blocks per tile", "[lower][sim]") {
  const auto p = run_decode_chain(test::design("clone-28nm"), {16, 128}, false, 256, 1);
  CHECK(p[0].tiles_used() == 2);
  CHECK(p[0].nc == 16);
  CHECK(p[0].blocks(0) == 4);
}

TEST_CASE("decode linear, int4, uneven column split", "[lower][sim]") {
  const auto p = run_decode_chain(test::design("clone-28nm"), {16, 48}, true, 128, 2);
  CHECK(p[0].cols[0] == 32);  // 3 lane groups: tile 0 gets 2, tile 1 gets 1
  CHECK(p[0].cols[1] == 16);
  CHECK(p[0].blocks(0) == 2);
  CHECK(p[0].blocks(1) == 1);
}

TEST_CASE("decode linear chain: the weight stream runs across layers", "[lower][sim]") {
  // four one-block layers on tile 0: blocks 2 and 3 reuse the buffers of the
  // previous layers' blocks 0 and 1
  const auto p = run_decode_chain(test::design("clone-28nm"), {16, 16, 16, 16, 16}, false, 256, 3);
  CHECK(p[0].tiles_used() == 1);
  CHECK(p[3].blocks(0) == 1);
}
