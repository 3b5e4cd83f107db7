// The graph IR: build_graph for prefill and decode, shapes and dtypes under
// the recipes, the family variants (learned positions, post-norm, parallel
// block, tied head, partial rotary, sliding window), pruned and dropped
// layers, the totals against model_stats, the verifier and the printer.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "common/error.h"
#include "ir/graph.h"
#include "model/compress.h"
#include "model/model.h"
#include "test_util.h"

using namespace clonesim;
using namespace clonesim::compiler;
using namespace clonesim::compiler::ir;
using Shape = std::vector<int64_t>;

namespace {

const std::string kData = std::string(CLONESIM_SOURCE_DIR) + "/tests/data/models/";
const QuantRecipe kW8A8{"W8A8", WeightType::Int8, 0, true};
const QuantRecipe kW4A8g128{"W4A8-g128", WeightType::Int4, 128, true};

using clonesim::test::error_of;

const Shape& shape(const Graph& g, const std::string& name) { return g.tensor(name).shape; }

std::vector<std::string> input_names(const Graph& g, const Op& op) {
  std::vector<std::string> v;
  for (TensorId id : op.inputs) v.push_back(g.tensor(id).name);
  return v;
}

size_t op_index(const Graph& g, const std::string& name) {
  for (size_t i = 0; i < g.ops.size(); ++i)
    if (g.ops[i].name == name) return i;
  FAIL("no op " << name);
  return 0;
}

size_t count_kind(const Graph& g, OpKind k) {
  return size_t(std::count_if(g.ops.begin(), g.ops.end(), [&](const Op& o) { return o.kind == k; }));
}

}  // namespace

TEST_CASE("tiny prefill: ops in order, shapes and dtypes", "[ir]") {
  const ModelConfig c = load_model_or_named("tiny");
  const Graph g = build_graph(c, kW8A8, Phase::prefill(8));
  CHECK(g.model == "tiny");
  // embed, 2 x 20 per layer, take_last, final_norm, lm_head
  CHECK(g.ops.size() == 1 + 2 * 20 + 3);
  CHECK(g.ops.front().kind == OpKind::Embedding);
  CHECK(g.ops.back().name == "lm_head");

  CHECK(g.tensor("tokens").dtype == DType::Int32);
  CHECK(g.tensor("tokens").role == Role::Input);
  CHECK(shape(g, "tokens") == Shape{8});
  CHECK(shape(g, "embed.weight") == Shape{256, 64});
  CHECK(shape(g, "embed.out") == Shape{8, 64});
  CHECK(g.tensor("layers.0.attn_norm.weight").dtype == DType::Int16);
  CHECK(shape(g, "layers.0.q_proj.weight") == Shape{64, 64});  // K x N
  CHECK(shape(g, "layers.0.k_proj.weight") == Shape{64, 32});  // 2 KV heads x 16
  CHECK(shape(g, "layers.0.q") == Shape{8, 64});
  CHECK(shape(g, "layers.0.k") == Shape{8, 32});
  CHECK(shape(g, "layers.0.k_cache") == Shape{128, 2, 16});
  CHECK(g.tensor("layers.0.k_cache").dtype == DType::Int8);
  CHECK(g.tensor("layers.0.k_cache").role == Role::KvCache);
  CHECK(shape(g, "layers.0.k_ctx") == Shape{8, 2, 16});
  CHECK(shape(g, "layers.0.scores") == Shape{4, 8, 8});
  CHECK(g.tensor("layers.0.scores").dtype == DType::Int32);
  CHECK(g.tensor("layers.0.probs").dtype == DType::Int8);
  CHECK(shape(g, "layers.0.attn") == Shape{8, 64});
  CHECK(shape(g, "layers.0.gate") == Shape{8, 128});
  CHECK(shape(g, "layers.0.down_proj.weight") == Shape{128, 64});
  CHECK(shape(g, "last") == Shape{1, 64});
  CHECK(shape(g, "logits") == Shape{1, 256});
  CHECK(g.tensor("logits").dtype == DType::Int32);
  CHECK(g.tensor("logits").role == Role::Output);

  const Op& sc = g.op("layers.1.scores");
  CHECK(sc.kind == OpKind::AttnScores);
  CHECK(sc.attr_int("heads") == 4);
  CHECK(sc.attr_int("kv_heads") == 2);
  CHECK(sc.attr_real("scale") == 0.25);
  CHECK(sc.attr_int("causal") == 1);
  CHECK(sc.attr_int("q_start") == 0);
  const Op& rope = g.op("layers.0.q_rope");
  CHECK(rope.attr_int("rotary_dim") == 16);
  CHECK(rope.attr_real("theta") == 10000.0);
  CHECK(rope.attr_str("style") == "half");
  CHECK(g.op("layers.0.act").attr_str("fn") == "silu");
  CHECK(input_names(g, g.op("layers.0.mul")) == std::vector<std::string>{"layers.0.gate_act", "layers.0.up"});
  CHECK(input_names(g, g.op("layers.1.add_attn")) ==
        std::vector<std::string>{"layers.0.add_ffn", "layers.1.attn_out"});
  CHECK(count_kind(g, OpKind::Rope) == 4);
  CHECK(count_kind(g, OpKind::KvAppend) == 4);

  // All logits (speculative verification): no take_last.
  const Graph all = build_graph(c, kW8A8, Phase::prefill(8, true));
  CHECK(shape(all, "logits") == Shape{8, 256});
  CHECK(count_kind(all, OpKind::TakeLast) == 0);
}

TEST_CASE("Decode step at KV position p attends to 0..p", "[ir]") {
  const ModelConfig c = load_model_or_named("llama-2-7b");
  const Graph g = build_graph(c, kW8A8, Phase::decode(100));
  CHECK(g.phase.kind == Phase::Kind::Decode);
  CHECK(shape(g, "tokens") == Shape{1});
  CHECK(shape(g, "layers.0.q") == Shape{1, 4096});
  CHECK(shape(g, "layers.31.k_ctx") == Shape{101, 32, 128});
  CHECK(shape(g, "layers.31.scores") == Shape{32, 1, 101});
  CHECK(shape(g, "layers.31.k_cache") == Shape{4096, 32, 128});
  CHECK(shape(g, "logits") == Shape{1, 32000});
  CHECK(g.op("layers.0.k_rope").attr_int("start") == 100);
  CHECK(g.op("layers.0.k_append").attr_int("start") == 100);
  CHECK(g.op("layers.0.k_append").attr_int("begin") == 0);
  CHECK(g.op("layers.0.scores").attr_int("q_start") == 100);
  CHECK(count_kind(g, OpKind::TakeLast) == 0);
  CHECK(g.find("layers.32.q") == -1);
}

TEST_CASE("Quantised tensors carry their dtype and scale shapes", "[ir]") {
  const ModelConfig c = load_model_or_named("llama-2-7b");
  const Graph a = build_graph(c, kW8A8, Phase::decode(0));
  CHECK(a.tensor("layers.0.q_proj.weight").dtype == DType::Int8);
  CHECK(shape(a, "layers.0.q_proj.scale") == Shape{4096});  // one per output channel
  CHECK(a.tensor("layers.0.q_proj.scale").dtype == DType::Int32);
  CHECK(a.tensor("layers.0.q_proj.scale").role == Role::Scale);
  CHECK_FALSE(a.op("layers.0.q_proj").has("group"));

  const Graph b = build_graph(c, kW4A8g128, Phase::decode(0));
  CHECK(b.tensor("layers.0.q_proj.weight").dtype == DType::Int4);
  CHECK(b.tensor("layers.0.q_proj.weight").bytes() == 4096 * 4096 / 2);
  CHECK(shape(b, "layers.0.q_proj.scale") == Shape{32, 4096});     // (K-group, channel)
  CHECK(shape(b, "layers.0.down_proj.scale") == Shape{86, 4096});  // 11008 = 86 x 128
  CHECK(shape(b, "lm_head.weight") == Shape{4096, 32000});
  CHECK(shape(b, "lm_head.scale") == Shape{32, 32000});
  CHECK(shape(b, "embed.scale") == Shape{32, 32000});
  CHECK(b.op("layers.0.q_proj").attr_int("group") == 128);
  CHECK(b.tensor("layers.0.attn").dtype == DType::Int8);  // int8 activations

  QuantRecipe kv16 = kW8A8;
  kv16.kv_int8 = false;
  const Graph d = build_graph(c, kv16, Phase::decode(0));
  CHECK(d.tensor("layers.0.k_cache").dtype == DType::Int16);
  CHECK(d.tensor("layers.0.v_ctx").dtype == DType::Int16);
}

TEST_CASE("Graph totals equal model_stats for every shipped model", "[ir][stats]") {
  for (const auto& name : shipped_model_names()) {
    const ModelConfig c = load_model_or_named(name);
    for (const QuantRecipe& r : {kW8A8, kW4A8g128}) {
      INFO(name << " " << r.name);
      const Graph g = build_graph(c, r, Phase::decode(0));
      const ModelStats s = model_stats(c, r);
      CHECK(g.param_count() == s.total_params);
      CHECK(g.weight_bytes() == s.weight_bytes);
      CHECK(g.kv_cache_bytes() == s.kv_bytes_per_token * c.max_positions);
    }
  }
}

TEST_CASE("Pruned heads, FFN channels and dropped layers give the graph's shapes", "[ir][prune]") {
  const ModelConfig tiny = load_model_or_named("tiny");
  const ModelConfig p = apply_pruning(tiny, parse_prune_spec("layers: [0.5, 0.0]\n", "r.yaml"));
  const Graph g = build_graph(p, kW8A8, Phase::prefill(4));
  // Layer 0: one KV group of two query heads, FFN 64.
  CHECK(shape(g, "layers.0.q_proj.weight") == Shape{64, 32});
  CHECK(shape(g, "layers.0.k_proj.weight") == Shape{64, 16});
  CHECK(shape(g, "layers.0.v_proj.weight") == Shape{64, 16});
  CHECK(shape(g, "layers.0.o_proj.weight") == Shape{32, 64});
  CHECK(shape(g, "layers.0.gate_proj.weight") == Shape{64, 64});
  CHECK(shape(g, "layers.0.up_proj.weight") == Shape{64, 64});
  CHECK(shape(g, "layers.0.down_proj.weight") == Shape{64, 64});
  CHECK(shape(g, "layers.0.k_cache") == Shape{128, 1, 16});
  CHECK(shape(g, "layers.0.scores") == Shape{2, 4, 4});
  CHECK(shape(g, "layers.0.attn") == Shape{4, 32});
  CHECK(g.op("layers.0.scores").attr_int("heads") == 2);
  CHECK(g.op("layers.0.scores").attr_int("kv_heads") == 1);
  CHECK(g.op("layers.0.q_rope").attr_int("heads") == 2);
  // Layer 1 unpruned.
  CHECK(shape(g, "layers.1.q_proj.weight") == Shape{64, 64});
  CHECK(shape(g, "layers.1.k_cache") == Shape{128, 2, 16});
  CHECK(g.weight_bytes() == model_stats(p, kW8A8).weight_bytes);

  const ModelConfig d = apply_pruning(tiny, parse_prune_spec("drop: [0]\n", "r.yaml"));
  const Graph h = build_graph(d, kW8A8, Phase::prefill(4));
  CHECK(h.find("layers.0.q_proj.weight") == -1);
  CHECK(h.find("layers.0.k_cache") == -1);
  CHECK(shape(h, "layers.1.q_proj.weight") == Shape{64, 64});
  CHECK(input_names(h, h.op("layers.1.attn_norm")) ==
        std::vector<std::string>{"embed.out", "layers.1.attn_norm.weight"});
  CHECK(input_names(h, h.op("take_last")) == std::vector<std::string>{"layers.1.add_ffn"});

  // GQA: TinyLlama pruned by a quarter keeps 3 of 4 groups of 8.
  ModelConfig t = load_model_or_named("tinyllama-1.1b");
  std::string r = "heads: [";
  for (int i = 0; i < 22; ++i) r += i ? ", 0.25" : "0.25";
  r += "]\n";
  t = apply_pruning(t, parse_prune_spec(r, "r.yaml"));
  const Graph tg = build_graph(t, kW4A8g128, Phase::decode(10));
  CHECK(shape(tg, "layers.5.q_proj.weight") == Shape{2048, 24 * 64});
  CHECK(shape(tg, "layers.5.k_proj.weight") == Shape{2048, 3 * 64});
  CHECK(shape(tg, "layers.5.scores") == Shape{24, 1, 11});
  CHECK(tg.op("layers.5.context").attr_int("kv_heads") == 3);
}

TEST_CASE("Gemma: embedding scale, (1 + w) norms, MQA, tied LM head", "[ir][gemma]") {
  const Graph g = build_graph(load_model_or_named("gemma-2b"), kW4A8g128, Phase::prefill(3));
  CHECK(g.op("embed").attr_real("embed_scale") == std::sqrt(2048.0));
  CHECK(g.op("layers.0.attn_norm").kind == OpKind::RmsNorm);
  CHECK(g.op("layers.0.attn_norm").attr_int("plus_one") == 1);
  CHECK(g.op("final_norm").attr_int("plus_one") == 1);
  CHECK(shape(g, "layers.0.q_proj.weight") == Shape{2048, 2048});
  CHECK(shape(g, "layers.0.k_proj.weight") == Shape{2048, 256});
  CHECK(shape(g, "layers.0.k_cache") == Shape{8192, 1, 256});
  CHECK(g.op("layers.0.scores").attr_real("scale") == 1.0 / 16.0);
  CHECK(g.op("layers.0.act").attr_str("fn") == "gelu_tanh");
  CHECK(g.find("lm_head.weight") == -1);
  const Op& head = g.op("lm_head");
  CHECK(head.attr_int("transposed") == 1);
  CHECK(input_names(g, head) == std::vector<std::string>{"final_norm.out", "embed.weight", "embed.scale"});
  CHECK(shape(g, "logits") == Shape{1, 256000});
}

TEST_CASE("OPT: learned positions with offset, LayerNorm, biases, ReLU, tied head", "[ir][opt]") {
  const ModelConfig c = import_hf_config(kData + "opt-125m.json");
  const Graph g = build_graph(c, kW8A8, Phase::decode(7));
  CHECK(shape(g, "pos_embed.weight") == Shape{2050, 768});
  const Op& pe = g.op("pos_embed");
  CHECK(pe.attr_int("start") == 7);
  CHECK(pe.attr_int("offset") == 2);
  CHECK(input_names(g, g.op("embed.add_pos")) == std::vector<std::string>{"embed.out", "pos_embed.out"});
  CHECK(count_kind(g, OpKind::Rope) == 0);
  CHECK(g.op("layers.0.attn_norm").kind == OpKind::LayerNorm);
  CHECK(g.tensor("layers.0.attn_norm.bias").dtype == DType::Int16);
  CHECK(shape(g, "layers.0.q_proj.bias") == Shape{768});
  CHECK(g.tensor("layers.0.q_proj.bias").dtype == DType::Int32);
  CHECK(g.find("layers.0.o_proj.bias") >= 0);
  CHECK(shape(g, "layers.0.fc1.weight") == Shape{768, 3072});
  CHECK(shape(g, "layers.0.fc2.bias") == Shape{768});
  CHECK(g.op("layers.0.act").attr_str("fn") == "relu");
  CHECK(g.find("layers.0.gate_proj.weight") == -1);
  CHECK(g.op("lm_head").attr_int("transposed") == 1);
  CHECK(g.find("final_norm.weight") >= 0);
}

TEST_CASE("OPT post-norm: norms after the residual adds, no final norm", "[ir][opt]") {
  const ModelConfig c = import_hf_config(kData + "opt-postnorm.json");
  const Graph g = build_graph(c, kW8A8, Phase::prefill(2));
  CHECK(input_names(g, g.op("layers.0.q_proj")) ==
        std::vector<std::string>{"embed.sum", "layers.0.q_proj.weight", "layers.0.q_proj.scale"});
  CHECK(op_index(g, "layers.0.add_attn") < op_index(g, "layers.0.attn_norm"));
  CHECK(input_names(g, g.op("layers.0.attn_norm"))[0] == "layers.0.add_attn");
  CHECK(input_names(g, g.op("layers.0.fc1"))[0] == "layers.0.attn_norm.out");
  CHECK(input_names(g, g.op("layers.0.add_ffn")) ==
        std::vector<std::string>{"layers.0.attn_norm.out", "layers.0.ffn_out"});
  CHECK(input_names(g, g.op("layers.0.ffn_norm"))[0] == "layers.0.add_ffn");
  CHECK(input_names(g, g.op("layers.1.q_proj"))[0] == "layers.0.ffn_norm.out");
  CHECK(g.find_op("final_norm") == nullptr);
  CHECK(g.find("layers.0.q_proj.bias") == -1);  // enable_bias: false
  CHECK(shape(g, "lm_head.weight") == Shape{64, 512});
}

TEST_CASE("Phi: parallel block, partial rotary, LM head bias", "[ir][phi]") {
  const ModelConfig c = import_hf_config(kData + "phi-2.json");
  const Graph g = build_graph(c, kW8A8, Phase::prefill(5));
  CHECK(g.find("layers.0.ffn_norm.weight") == -1);  // one norm per layer
  CHECK(input_names(g, g.op("layers.0.fc1"))[0] == "layers.0.attn_norm.out");
  CHECK(input_names(g, g.op("layers.0.q_proj"))[0] == "layers.0.attn_norm.out");
  CHECK(input_names(g, g.op("layers.0.add_attn")) ==
        std::vector<std::string>{"embed.out", "layers.0.attn_out"});
  CHECK(input_names(g, g.op("layers.0.add_ffn")) ==
        std::vector<std::string>{"layers.0.add_attn", "layers.0.ffn_out"});
  CHECK(g.op("layers.0.q_rope").attr_int("rotary_dim") == 32);
  CHECK(g.op("layers.0.q_rope").attr_int("head_dim") == 80);
  CHECK(g.op("layers.0.act").attr_str("fn") == "gelu_tanh");
  CHECK(shape(g, "lm_head.bias") == Shape{51200});
  CHECK(input_names(g, g.op("lm_head")).size() == 4);
}

TEST_CASE("GPT-2: learned positions without offset, biases everywhere", "[ir][gpt2]") {
  const ModelConfig c = import_hf_config(kData + "gpt2.json");
  const Graph g = build_graph(c, kW8A8, Phase::prefill(16));
  CHECK(shape(g, "pos_embed.weight") == Shape{1024, 768});
  CHECK(g.op("pos_embed").attr_int("offset") == 0);
  CHECK(g.find("layers.11.fc2.bias") >= 0);
  CHECK(g.find("layers.11.ffn_norm.bias") >= 0);
  CHECK(shape(g, "layers.11.scores") == Shape{12, 16, 16});
  CHECK(g.param_count() == 124439808LL);
}

TEST_CASE("Mistral's sliding window limits the attended positions", "[ir][mistral]") {
  const ModelConfig c = import_hf_config(kData + "mistral-7b-v0.1.json");
  const Graph g = build_graph(c, kW8A8, Phase::decode(5000));
  CHECK(shape(g, "layers.0.k_ctx") == Shape{4096, 8, 128});
  CHECK(shape(g, "layers.0.scores") == Shape{32, 1, 4096});
  // Position 5000 sees the 4096 positions 905..5000.
  CHECK(g.op("layers.0.k_append").attr_int("begin") == 905);
  CHECK(g.op("layers.0.scores").attr_int("k_start") == 905);
  CHECK(g.op("layers.0.scores").attr_int("window") == 4096);
  const Graph p = build_graph(c, kW8A8, Phase::prefill(10));
  CHECK(shape(p, "layers.0.scores") == Shape{32, 10, 10});
  CHECK(p.op("layers.0.k_append").attr_int("begin") == 0);
}

TEST_CASE("Phase errors", "[ir][errors]") {
  const ModelConfig c = load_model_or_named("tiny");
  CHECK_NOTHROW(build_graph(c, kW8A8, Phase::prefill(128)));
  CHECK_NOTHROW(build_graph(c, kW8A8, Phase::decode(127)));
  CHECK(error_of([&] { build_graph(c, kW8A8, Phase::prefill(129)); }) ==
        "graph tiny: phase: expected positions within max_positions (128), got up to position 128");
  CHECK(error_of([&] { build_graph(c, kW8A8, Phase::decode(128)); }) ==
        "graph tiny: phase: expected positions within max_positions (128), got up to position 128");
  CHECK(error_of([&] { build_graph(c, kW8A8, Phase::prefill(0)); }) ==
        "graph tiny: phase: expected at least 1 token, got 0");
  ModelConfig bad = c;
  bad.layer[1].ffn = 1000;
  CHECK(error_of([&] { build_graph(bad, kW8A8, Phase::prefill(1)); }) ==
        "configs/models/tiny.yaml: layer[1].ffn: expected 1..128, got 1000");
  bad = c;
  bad.layer[0].q_heads = 3;
  CHECK(error_of([&] { build_graph(bad, kW8A8, Phase::prefill(1)); }) ==
        "configs/models/tiny.yaml: layer[0].q_heads: expected kv_heads * 2 (whole groups of the "
        "model's 2 query heads per KV head) = 4, got 3");
}

TEST_CASE("The verifier rejects broken graphs", "[ir]") {
  const Graph good = build_graph(load_model_or_named("tiny"), kW8A8, Phase::prefill(2));
  CHECK_NOTHROW(verify(good));

  Graph g = good;
  std::swap(g.ops[1], g.ops[2]);  // q_proj before the norm it reads
  CHECK(error_of([&] { verify(g); }) ==
        "graph tiny: op layers.0.q_proj (linear): reads layers.0.attn_norm.out before it is produced");

  g = good;
  g.tensors[size_t(g.find("layers.0.k_proj.weight"))].shape = {64, 33};
  CHECK(error_of([&] { verify(g); }) ==
        "graph tiny: op layers.0.k_proj (linear): output shape: [2,32] vs [2,33]");

  g = good;
  g.ops[3].name = g.ops[2].name;
  CHECK(error_of([&] { verify(g); }).find("op name used twice") != std::string::npos);
}

TEST_CASE("to_string: one line per op with shapes and dtypes", "[ir]") {
  const Graph g = build_graph(load_model_or_named("tiny"), kW4A8g128, Phase::prefill(8));
  const std::string s = to_string(g);
  std::vector<std::string> lines;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  REQUIRE(lines.size() == g.ops.size() + 2);
  CHECK(lines[0] ==
        "graph tiny: prefill, 8 tokens at positions 0..7; recipe W4A8-g128 (int4 weights, K-groups "
        "of 128, int8 KV cache)");
  CHECK(lines[3] ==
        "  layers.0.q:int8[8,64] = linear(layers.0.attn_norm.out:int8[8,64], "
        "layers.0.q_proj.weight:int4[64,64], layers.0.q_proj.scale:int32[1,64]) {group=128}");
  CHECK(std::find(lines.begin(), lines.end(),
                  "  layers.1.scores:int32[4,8,8] = attn_scores(layers.1.q_rope:int8[8,64], "
                  "layers.1.k_ctx:int8[8,2,16]) {heads=4, kv_heads=2, head_dim=16, scale=0.25, "
                  "q_start=0, k_start=0, causal=1, window=0}") != lines.end());
  CHECK(lines.back().rfind("# 44 ops, ", 0) == 0);
}
