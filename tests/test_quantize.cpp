// Weight quantisation: values and scales on hand-made tensors, rounding half
// away from zero, groups, int4 packing in the accelerator's layout, the
// reconstruction bound and byte counts.
#include <catch2/catch.hpp>

#include <cmath>

#include "numerics/numerics.h"
#include "weights/float_model.h"
#include "weights/quantize.h"
#include "weights_test_util.h"

using namespace clonesim::compiler;
using namespace wtest;

namespace {

Tensor make(int64_t k, int64_t n, const std::vector<float>& v) {
  Tensor t({k, n});
  t.data = v;
  return t;
}

}  // namespace

TEST_CASE("int8 per output channel: scales absmax/127, round half away from zero", "[quantize]") {
  // K=4 x N=2; column 0 absmax 127 (scale 1), column 1 absmax 63.5 (scale 0.5).
  const Tensor w = make(4, 2, {127.0f, 63.5f,  //
                               -63.5f, -31.25f,  // -63.5 -> -64; -62.5 -> -63 (half-even would give -62)
                               0.5f, 0.25f,      // 0.5 -> 1 (half-even: 0)
                               -1.0f, 10.0f});
  const QuantTensor q = quantize_tensor("t", w, WeightType::Int8, 0);
  CHECK(q.k == 4);
  CHECK(q.n == 2);
  CHECK(q.group == 4);
  CHECK(q.groups() == 1);
  CHECK(q.scale == std::vector<float>{1.0f, 0.5f});
  CHECK(q.q == std::vector<int8_t>{127, 127, -64, -63, 1, 1, -1, 20});
  CHECK(q.weight_bytes() == 8);
  CHECK(q.scale_bytes() == 8);
  CHECK(q.packed() == std::vector<uint8_t>{127, 127, 0xc0, 0xc1, 1, 1, 0xff, 20});
  const Tensor d = dequantize(q);
  CHECK(d.data == std::vector<float>{127, 63.5f, -64, -31.5f, 1, 0.5f, -1, 10});
}

TEST_CASE("int4: -7..7, scales absmax/7", "[quantize]") {
  const Tensor w = make(4, 1, {7.0f, -3.5f, 2.5f, -7.0f});
  const QuantTensor q = quantize_tensor("t", w, WeightType::Int4, 0);
  CHECK(q.scale == std::vector<float>{1.0f});
  CHECK(q.q == std::vector<int8_t>{7, -4, 3, -7});
  CHECK(q.weight_bytes() == 2);
  CHECK(q.packed() == std::vector<uint8_t>{0xc7, 0x93});  // (7, -4 = 0xc), (3, -7 = 0x9)
  CHECK(qmax(WeightType::Int4) == 7);
  CHECK(qmax(WeightType::Int8) == 127);

  // Negative and positive extremes quantise to -7 and 7 (never -8).
  const QuantTensor n = quantize_tensor("n", make(2, 1, {-1.0f, 0.9f}), WeightType::Int4, 0);
  CHECK(n.q == std::vector<int8_t>{-7, 6});
  CHECK(n.scale[0] == float(1.0 / 7));
}

TEST_CASE("K-groups: one scale per (group, output channel), the last group may be short", "[quantize]") {
  // K=5, N=2, group 2 -> groups rows {0,1}, {2,3}, {4}; every absmax is 7 * 2^e, so scales are exact.
  const Tensor w = make(5, 2, {7, -3,       // group 0: column absmax 7 and 14
                               -3.5f, 14,   //
                               3.5f, 0,     // group 1: absmax 3.5; column 1 all zero
                               -1.25f, 0,   //
                               -0.875f, 10});  // group 2 (one row): absmax 0.875 and 10
  const QuantTensor q = quantize_tensor("g", w, WeightType::Int4, 2);
  CHECK(q.group == 2);
  CHECK(q.groups() == 3);
  CHECK(q.scale == std::vector<float>{1, 2, 0.5f, 1, 0.125f, float(10.0 / 7)});
  // -1.5 -> -2, -3.5 -> -4, -2.5 -> -3 (half away from zero); 10 / (10/7) = 7.
  CHECK(q.q == std::vector<int8_t>{7, -2, -4, 7, 7, 0, -3, 0, -7, 7});
  CHECK(q.scale_at(3, 0) == 0.5f);
  CHECK(q.scale_at(4, 1) == float(10.0 / 7));
  CHECK(q.weight_bytes() == 5);
  CHECK(q.scale_bytes() == 24);
  // group >= K is one scale per channel.
  CHECK(quantize_tensor("g", w, WeightType::Int8, 9).groups() == 1);
  CHECK(error_of([&] { quantize_tensor("g", w, WeightType::Int8, -1); }) == "g: quantize: group size -1 is negative");
}

TEST_CASE("int4 packing: two per byte, low nibble first, as the matrix unit reads it", "[quantize]") {
  const std::vector<int8_t> v = {1, -1, -8, 7, 3};
  const std::vector<uint8_t> b = pack_int4(v);
  CHECK(b == std::vector<uint8_t>{0xf1, 0x78, 0x03});
  CHECK(int4_bytes(5) == 3);
  CHECK(unpack_int4(b.data(), 5) == v);
  for (size_t i = 0; i < v.size(); ++i) CHECK(clonesim::num::int4_at(b[i / 2], i % 2 == 1) == v[i]);
  for (int x = -8; x <= 7; ++x)
    for (int y = -8; y <= 7; ++y) {
      const std::vector<int8_t> pair = {int8_t(x), int8_t(y)};
      const uint8_t byte = pack_int4(pair)[0];
      REQUIRE(clonesim::num::int4_at(byte, false) == x);
      REQUIRE(clonesim::num::int4_at(byte, true) == y);
    }
  CHECK(error_of([] { pack_int4(std::vector<int8_t>{0, 8}); }) == "pack_int4: value 8 at index 1 is outside -8..7");

  // A quantised K x N tensor packs element k*N+n in row-major order.
  const QuantTensor q = quantize_tensor("t", make(3, 3, {7, 1, 2, 3, 4, 5, 6, 7, -7}), WeightType::Int4, 0);
  const std::vector<uint8_t> p = q.packed();
  REQUIRE(p.size() == 5);
  for (int64_t i = 0; i < 9; ++i) CHECK(clonesim::num::int4_at(p[size_t(i / 2)], i % 2 == 1) == q.q[size_t(i)]);
}

TEST_CASE("Reconstruction error |w - q*s| <= s/2 for every recipe", "[quantize]") {
  const ModelWeights w = random_weights(llama_cfg(), 9);
  for (WeightType t : {WeightType::Int8, WeightType::Int4})
    for (int64_t group : {int64_t(0), int64_t(4), int64_t(5)}) {
      QuantRecipe r;
      r.weights = t;
      r.group = group;
      const QuantizedWeights qw = quantize(w, r);
      for (const QuantTensor& q : qw.tensors) {
        INFO(q.name << " group " << group);
        const Tensor src = q.name == "lm_head" ? lm_head_matrix(w) : [&] {
          for (const NamedLinear& l : linears(w))
            if (l.name == q.name) return l.linear->w;
          return Tensor();
        }();
        REQUIRE(src.shape == std::vector<int64_t>{q.k, q.n});
        double worst = 0;
        for (int64_t k = 0; k < q.k; ++k)
          for (int64_t n = 0; n < q.n; ++n) {
            const double s = q.scale_at(k, n);
            REQUIRE(std::abs(int(q.at(k, n))) <= qmax(t));
            worst = std::max(worst, std::fabs(double(src.at(k, n)) - q.at(k, n) * s) / s);
          }
        CHECK(worst <= 0.5 * (1 + 1e-12));
        CHECK(worst > 0.3);  // the bound is reached nearly, not trivially
      }
    }
}

TEST_CASE("quantize(model): every linear and the LM head, byte counts, fake quantisation", "[quantize]") {
  const ModelConfig cfg = gemma_cfg();  // tied LM head
  const ModelWeights w = random_weights(cfg, 4);
  QuantRecipe r;
  r.name = "W4A8";
  r.weights = WeightType::Int4;
  r.group = 8;
  const QuantizedWeights q = quantize(w, r);
  std::vector<std::string> names;
  for (const QuantTensor& t : q.tensors) names.push_back(t.name);
  CHECK(names == std::vector<std::string>{"layers.0.q", "layers.0.k", "layers.0.v", "layers.0.o", "layers.0.gate",
                                          "layers.0.up", "layers.0.down", "layers.1.q", "layers.1.k", "layers.1.v",
                                          "layers.1.o", "layers.1.gate", "layers.1.up", "layers.1.down", "lm_head"});
  const QuantTensor& lm = q.get("lm_head");
  CHECK(lm.k == 16);
  CHECK(lm.n == 37);
  CHECK(q.get("layers.1.o").k == 32);
  // int4: ceil(K*N/2) bytes; scales ceil(K/8) x N fp32.
  int64_t bytes = 0, scales = 0;
  for (const QuantTensor& t : q.tensors) {
    bytes += (t.k * t.n + 1) / 2;
    scales += 4 * ((t.k + 7) / 8) * t.n;
  }
  CHECK(q.weight_bytes() == bytes);
  CHECK(q.scale_bytes() == scales);
  CHECK(q.get("layers.0.q").weight_bytes() == 16 * 32 / 2);
  CHECK(error_of([&] { q.get("layers.9.q"); }) == "layers.9.q: no such quantised tensor");
  QuantRecipe bad = r;
  bad.group = -4;
  CHECK(error_of([&] { quantize(w, bad); }) == "W4A8: group: expected 0 or a positive K-group size, got -4");

  // Fake quantisation: the float model on dequantised weights stays close (W8 per channel).
  QuantRecipe w8;
  const ModelWeights fq = fake_quantized(w, quantize(w, w8));
  CHECK_FALSE(fq.cfg.tied_embeddings);
  CHECK(fq.lm_head.w.shape == std::vector<int64_t>{16, 37});
  FloatModel a(w), b(fq);
  const std::vector<std::vector<double>> la = a.prefill({1, 5, 9, 2}), lb = b.prefill({1, 5, 9, 2});
  double amax = 0, diff = 0;
  for (size_t t = 0; t < la.size(); ++t)
    for (size_t v = 0; v < la[t].size(); ++v) {
      amax = std::max(amax, std::fabs(la[t][v]));
      diff = std::max(diff, std::fabs(la[t][v] - lb[t][v]));
    }
  CHECK(diff > 0);
  CHECK(diff < 0.05 * amax);
}
