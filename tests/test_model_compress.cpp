// Compression passes: the pruning rounding rules, ratio files (format and
// errors), pruned models' dimensions, and the parameter / byte counts of the
// shipped models against figures computed by hand here (and the published
// parameter counts).
#include <catch2/catch.hpp>

#include <string>

#include "common/error.h"
#include "model/compress.h"
#include "model/model.h"
#include "test_util.h"

using namespace clonesim;
using namespace clonesim::compiler;

namespace {

using clonesim::test::error_of;

ModelConfig prune_text(const ModelConfig& c, const std::string& yaml) {
  return apply_pruning(c, parse_prune_spec(yaml, "r.yaml"));
}

std::string prune_error(const ModelConfig& c, const std::string& yaml) {
  return error_of([&] { prune_text(c, yaml); });
}

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
// Hand rules: int8 K x N = K*N bytes + 4 per output channel; int4 with
// K-groups of 128 = K*N/2 + 4 per (group, channel).
int64_t w8(int64_t k, int64_t n) { return k * n + 4 * n; }
int64_t w4g128(int64_t k, int64_t n) { return k * n / 2 + 4 * n * ceil_div(k, 128); }

const QuantRecipe kW8A8{"W8A8", WeightType::Int8, 0, true};
const QuantRecipe kW4A8g128{"W4A8-g128", WeightType::Int4, 128, true};

}  // namespace

// --- rounding rules --------------------------------------------------------------

TEST_CASE("Head pruning keeps whole KV groups under GQA", "[prune]") {
  // 32 query heads in 8 groups of 4: round(8 * (1 - r)) groups.
  CHECK(prune_heads(32, 8, 0.0).q_heads == 32);
  CHECK(prune_heads(32, 8, 0.25).q_heads == 24);   // 6 groups exactly
  CHECK(prune_heads(32, 8, 0.25).kv_heads == 6);
  CHECK(prune_heads(32, 8, 0.3).q_heads == 24);    // 5.6 -> 6 groups
  CHECK(prune_heads(32, 8, 0.3125).kv_heads == 6); // 5.5: ties keep more
  CHECK(prune_heads(32, 8, 0.35).q_heads == 20);   // 5.2 -> 5 groups
  CHECK(prune_heads(32, 8, 0.35).kv_heads == 5);
  CHECK(prune_heads(32, 8, 0.99).q_heads == 4);    // at least one group
  CHECK(prune_heads(32, 8, 0.99).kv_heads == 1);
  CHECK(prune_heads(14, 2, 0.5).q_heads == 7);     // Qwen2-0.5B: groups of 7
  CHECK(prune_heads(4, 2, 0.5).q_heads == 2);
  CHECK(prune_heads(4, 2, 0.5).kv_heads == 1);
}

TEST_CASE("Head pruning under MHA and MQA prunes single heads", "[prune]") {
  CHECK(prune_heads(32, 32, 0.3).q_heads == 22);   // 22.4
  CHECK(prune_heads(32, 32, 0.3).kv_heads == 22);
  CHECK(prune_heads(32, 32, 0.5).q_heads == 16);
  CHECK(prune_heads(12, 12, 0.125).q_heads == 11); // 10.5 -> 11
  // MQA: the one KV head stays.
  CHECK(prune_heads(8, 1, 0.5).q_heads == 4);
  CHECK(prune_heads(8, 1, 0.5).kv_heads == 1);
  CHECK(prune_heads(8, 1, 0.99).q_heads == 1);
}

TEST_CASE("FFN pruning rounds to the granularity", "[prune]") {
  CHECK(prune_ffn(11008, 0.0, 16) == 11008);
  CHECK(prune_ffn(11008, 0.3, 16) == 7712);   // 7705.6 / 16 = 481.6 -> 482
  CHECK(prune_ffn(11008, 0.5, 16) == 5504);
  CHECK(prune_ffn(5632, 0.999, 16) == 16);    // at least one granule
  CHECK(prune_ffn(48, 0.5, 16) == 32);        // 1.5 granules: ties keep more
  CHECK(prune_ffn(100, 0.01, 16) == 96);      // at most the multiples within 100
  CHECK(prune_ffn(10, 0.5, 16) == 10);        // narrower than a granule: kept
  CHECK(prune_ffn(128, 0.5, 32) == 64);
}

// --- ratio files -------------------------------------------------------------------

TEST_CASE("Ratio file: one ratio per layer applies to heads and FFN alike", "[prune]") {
  const ModelConfig tiny = load_model_or_named("tiny");
  const ModelConfig p = prune_text(tiny, "layers: [0.5, 0.0]\n");
  REQUIRE(p.layer.size() == 2);
  CHECK(p.layer[0].q_heads == 2);
  CHECK(p.layer[0].kv_heads == 1);
  CHECK(p.layer[0].ffn == 64);
  CHECK(p.layer[0].source_layer == 0);
  CHECK(p.layer[1].q_heads == 4);
  CHECK(p.layer[1].kv_heads == 2);
  CHECK(p.layer[1].ffn == 128);
  // The unpruned figures stay.
  CHECK(p.heads == 4);
  CHECK(p.intermediate == 128);
  CHECK(p.layers == 2);
}

TEST_CASE("Ratio file: separate head and FFN ratios, dropped layers, granularity", "[prune]") {
  const ModelConfig tiny = load_model_or_named("tiny");
  const ModelConfig p = prune_text(tiny,
                                   "heads: [0.5, 0.5]\n"
                                   "ffn: [0.25, 0.75]\n"
                                   "drop: [1]\n"
                                   "ffn_granularity: 32\n");
  REQUIRE(p.layer.size() == 1);
  CHECK(p.layer[0].source_layer == 0);
  CHECK(p.layer[0].q_heads == 2);
  CHECK(p.layer[0].ffn == 96);

  const ModelConfig d = prune_text(tiny, "drop: [0]\n");
  REQUIRE(d.layer.size() == 1);
  CHECK(d.layer[0].source_layer == 1);  // source_layer kept
  CHECK(d.layer[0].q_heads == 4);
  CHECK(d.layer[0].ffn == 128);

  const ModelConfig f = prune_text(tiny, "ffn: [0.5, 0.5]\n");
  CHECK(f.layer[0].q_heads == 4);  // heads untouched
  CHECK(f.layer[1].ffn == 64);

  // A file read from disk (block style), and pruning an already pruned model:
  // ratios are relative to the unpruned model; dropped layers stay dropped.
  const std::string file = std::string(CLONESIM_SOURCE_DIR) + "/tests/data/models/prune-tiny.yaml";
  const ModelConfig q = prune_model(d, file);
  REQUIRE(q.layer.size() == 1);
  CHECK(q.layer[0].source_layer == 1);
  CHECK(q.layer[0].q_heads == 2);
  CHECK(q.layer[0].ffn == 112);  // 128 * 0.875 = 112
}

TEST_CASE("Ratio file errors name file, line and key", "[prune][errors]") {
  const ModelConfig tiny = load_model_or_named("tiny");
  CHECK(prune_error(tiny, "layers: [0.1, 0.2, 0.3]\n") ==
        "r.yaml:1: layers: expected 2 ratios (one per layer of tiny), got 3");
  CHECK(prune_error(tiny, "heads: [0.1]\nffn: [0.1, 0.2]\n") ==
        "r.yaml:1: heads: expected 2 ratios (one per layer of tiny), got 1");
  CHECK(prune_error(tiny, "ffn:\n  - 0.1\n") ==
        "r.yaml:2: ffn: expected 2 ratios (one per layer of tiny), got 1");
  CHECK(prune_error(tiny, "drop: [0, 5]\n") ==
        "r.yaml:1: drop[1]: expected a layer index 0..1 (tiny has 2 layers), got 5");
  CHECK(prune_error(tiny, "drop:\n  - 0\n  - 1\n") ==
        "r.yaml:2: drop: expected at least one layer kept, got every remaining layer of tiny dropped");
  CHECK(prune_error(tiny, "drop: [1, 1]\n") ==
        "r.yaml:1: drop[1]: expected each layer once, got 1 again (first at line 1)");
  CHECK(prune_error(tiny, "layers: [0.1, 0.1]\nheads: [0.1, 0.1]\n") ==
        "r.yaml:2: heads: expected either layers (one ratio for heads and FFN) or heads/ffn, got both");
  CHECK(prune_error(tiny, "layers: [1, 0]\n") ==
        "r.yaml:1: layers[0]: expected a fraction 0 <= r < 1 (list the layer under drop to remove it), got 1");
  CHECK(prune_error(tiny, "layers: [-0.1, 0]\n") ==
        "r.yaml:1: layers[0]: expected a number 0..1, got -0.1");
  CHECK(prune_error(tiny, "layers: [\"0.1\", 0]\n") ==
        "r.yaml:1: layers[0]: expected a number 0..1, got the string \"0.1\"");
  CHECK(prune_error(tiny, "layers: []\n") ==
        "r.yaml:1: layers: expected a non-empty list of fractions removed, one per layer (0 <= r < 1), got an empty list");
  CHECK(prune_error(tiny, "ratios: [0.1, 0.1]\n") ==
        "r.yaml:1: ratios: unknown key, expected one of layers, heads, ffn, drop, ffn_granularity, got 'ratios'");
  CHECK(prune_error(tiny, "{}\n") == "r.yaml:1: expected at least one of layers, heads, ffn, drop, got none");
  CHECK(prune_error(tiny, "layers: [0.1, 0.1]\nffn_granularity: 0\n") ==
        "r.yaml:2: ffn_granularity: expected an integer 1..65536, got 0");
  CHECK(error_of([&] { prune_model(tiny, "no-such-ratios.yaml"); }) ==
        "no-such-ratios.yaml: expected a ratio file, got no such file");
}

TEST_CASE("Pruned Llama-2-7B: parameters, bytes and KV cache by hand", "[prune][stats]") {
  const ModelConfig c = load_model_or_named("llama-2-7b");
  std::string ratios = "layers: [";
  for (int i = 0; i < 32; ++i) ratios += i ? ", 0.5" : "0.5";
  ratios += "]\ndrop: [30, 31]\n";
  const ModelConfig p = prune_text(c, ratios);
  REQUIRE(p.layer.size() == 30);
  CHECK(p.layer.back().source_layer == 29);
  CHECK(p.layer[0].q_heads == 16);
  CHECK(p.layer[0].kv_heads == 16);
  CHECK(p.layer[0].ffn == 5504);

  const int64_t h = 4096, qd = 16 * 128, f = 5504, v = 32000;
  const ModelStats s = model_stats(p, kW4A8g128);
  const int64_t layer_params = 3 * h * qd + qd * h + 3 * h * f + 2 * h;
  CHECK(s.layer_params == 30 * layer_params);
  CHECK(s.total_params == 2 * v * h + 30 * layer_params + h);
  CHECK(s.total_params == 3298021376LL);
  const int64_t layer_bytes =
      3 * w4g128(h, qd) + w4g128(qd, h) + 2 * w4g128(h, f) + w4g128(f, h) + 2 * h * 2;
  CHECK(s.weight_bytes == 2 * w4g128(h, v) + 30 * layer_bytes + h * 2);
  CHECK(s.kv_bytes_per_token == 30 * 2 * qd);
  CHECK(s.layers.size() == 30);
  CHECK(s.layers[0].params == layer_params);
}

// --- byte counts of the shipped models -------------------------------------------

TEST_CASE("Parameter counts of the shipped models", "[stats]") {
  // Published: Llama-2-7B 6,738,415,616; TinyLlama-1.1B 1,100,048,384;
  // Llama-2-13B 13,015,864,320; Gemma-2B 2,506,172,416 (tied: counted once).
  CHECK(model_stats(load_model_or_named("llama-2-7b"), kW8A8).total_params == 6738415616LL);
  CHECK(model_stats(load_model_or_named("vicuna-7b"), kW8A8).total_params == 6738415616LL);
  CHECK(model_stats(load_model_or_named("tinyllama-1.1b"), kW8A8).total_params == 1100048384LL);
  CHECK(model_stats(load_model_or_named("llama-2-13b"), kW8A8).total_params == 13015864320LL);
  const ModelStats g = model_stats(load_model_or_named("gemma-2b"), kW8A8);
  CHECK(g.total_params == 2506172416LL);
  CHECK(g.lm_head_params == 0);
  CHECK(g.embedding_params == 256000LL * 2048);
  // The Gemma report's non-embedding count: layers and the final norm.
  CHECK(g.layer_params + g.final_norm_params == 1981884416LL);
  // Vicuna-68M by hand: 2 * 32000*768 + 2 * (4*768^2 + 3*768*3072 + 2*768) + 768.
  CHECK(model_stats(load_model_or_named("vicuna-68m"), kW8A8).total_params ==
        2 * 32000 * 768 + 2 * (4 * 768 * 768 + 3 * 768 * 3072 + 2 * 768) + 768);
  CHECK(model_stats(load_model_or_named("vicuna-68m"), kW8A8).total_params == 68030208);
  // tiny: 2 * 256*64 + 2 * (64*64*2 + 2*64*32 + 3*64*128 + 2*64) + 64.
  CHECK(model_stats(load_model_or_named("tiny"), kW8A8).total_params == 106816);
}

TEST_CASE("W8A8 and W4A8 group-128 bytes of Llama-2-7B by hand", "[stats]") {
  const ModelConfig c = load_model_or_named("llama-2-7b");
  const int64_t h = 4096, f = 11008, v = 32000;

  const ModelStats a = model_stats(c, kW8A8);
  const int64_t layer8 = 4 * w8(h, h) + 2 * w8(h, f) + w8(f, h) + 2 * h * 2;
  CHECK(layer8 == 202561536);
  CHECK(a.weight_bytes == 2 * w8(h, v) + 32 * layer8 + h * 2);
  CHECK(a.weight_bytes == 6744377344LL);
  CHECK(a.scale_bytes == 4 * (2 * v + 32 * (4 * h + 2 * f + h)));
  CHECK(a.kv_bytes_per_token == 32 * 2 * 4096);

  const ModelStats b = model_stats(c, kW4A8g128);
  // q/k/v/o: 4096*4096/2 + 4*4096*32; gate/up: 4096*11008/2 + 4*11008*32;
  // down: 11008*4096/2 + 4*4096*86 (11008 = 86 groups of 128).
  const int64_t layer4 = 4 * (h * h / 2 + 4 * h * 32) + 2 * (h * f / 2 + 4 * f * 32) +
                         (f * h / 2 + 4 * h * 86) + 2 * h * 2;
  CHECK(layer4 == 107528192);
  CHECK(b.embedding_bytes == v * h / 2 + 4 * v * 32);
  CHECK(b.lm_head_bytes == v * h / 2 + 4 * v * 32);
  CHECK(b.weight_bytes == 2 * (v * h / 2 + 4 * v * 32) + 32 * layer4 + h * 2);
  CHECK(b.weight_bytes == 3580174336LL);
  CHECK(b.kv_bytes_per_token == 262144);
}

TEST_CASE("W4A8 group-128 bytes of TinyLlama, Gemma-2B (tied) and Vicuna-68M by hand", "[stats]") {
  {
    const int64_t h = 2048, kv = 4 * 64, f = 5632, v = 32000;
    const int64_t layer = 2 * w4g128(h, h) + 2 * w4g128(h, kv) + 2 * w4g128(h, f) + w4g128(f, h) + 2 * h * 2;
    const ModelStats s = model_stats(load_model_or_named("tinyllama-1.1b"), kW4A8g128);
    CHECK(s.weight_bytes == 2 * w4g128(h, v) + 22 * layer + h * 2);
    CHECK(s.weight_bytes == 584536064LL);
    CHECK(s.kv_bytes_per_token == 22 * 2 * 256);
    CHECK(model_stats(load_model_or_named("tinyllama-1.1b"), kW8A8).weight_bytes ==
          2 * w8(h, v) + 22 * (2 * w8(h, h) + 2 * w8(h, kv) + 2 * w8(h, f) + w8(f, h) + 2 * h * 2) + h * 2);
  }
  {
    const int64_t h = 2048, q = 8 * 256, kv = 256, f = 16384, v = 256000;
    const int64_t layer = w4g128(h, q) + 2 * w4g128(h, kv) + w4g128(q, h) + 2 * w4g128(h, f) +
                          w4g128(f, h) + 2 * h * 2;
    const ModelStats s = model_stats(load_model_or_named("gemma-2b"), kW4A8g128);
    CHECK(s.lm_head_bytes == 0);  // tied: the embedding table serves as the LM head
    CHECK(s.weight_bytes == w4g128(h, v) + 18 * layer + h * 2);
    CHECK(s.weight_bytes == 1331515392LL);
    CHECK(s.kv_bytes_per_token == 18 * 2 * 256);
  }
  {
    const int64_t h = 768, f = 3072, v = 32000;
    const int64_t layer = 4 * w4g128(h, h) + 2 * w4g128(h, f) + w4g128(f, h) + 2 * h * 2;
    const ModelStats s = model_stats(load_model_or_named("vicuna-68m"), kW4A8g128);
    CHECK(s.weight_bytes == 2 * w4g128(h, v) + 2 * layer + h * 2);
    CHECK(s.weight_bytes == 36146688);
  }
}

TEST_CASE("Byte rules: int4 packing, scale counts, biases, LayerNorm, int16 KV", "[stats]") {
  QuantRecipe w4{"W4A8", WeightType::Int4, 0, true};
  CHECK(matrix_bytes(3, 3, w4) == 5 + 4 * 3);   // 9 nibbles -> 5 bytes
  CHECK(scale_count(130, 10, kW4A8g128) == 20); // two K-groups (128 + 2)
  CHECK(scale_count(130, 10, kW8A8) == 10);

  // GPT-2 W8A8 by hand: biases int32, LayerNorm weight+bias int16, tied head.
  const ModelConfig g = import_hf_config(std::string(CLONESIM_SOURCE_DIR) + "/tests/data/models/gpt2.json");
  const int64_t h = 768, f = 3072;
  const int64_t layer = 3 * w8(h, h) + 3 * h * 4 + w8(h, h) + h * 4 + w8(h, f) + f * 4 + w8(f, h) +
                        h * 4 + 2 * (2 * h) * 2;
  const ModelStats s = model_stats(g, kW8A8);
  CHECK(s.weight_bytes == w8(h, 50257) + w8(h, 1024) + 12 * layer + 2 * h * 2);
  CHECK(s.position_params == 1024 * 768);

  QuantRecipe kv16 = kW8A8;
  kv16.kv_int8 = false;
  CHECK(model_stats(load_model_or_named("llama-2-7b"), kv16).kv_bytes_per_token == 2 * 262144);
}
