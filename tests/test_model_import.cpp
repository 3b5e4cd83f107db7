// Model import: one test per Hugging Face family (fixtures in
// tests/data/models/, the published config.json of a model of that family
// unless named otherwise), the error messages (exact text), the YAML model
// format, and the shipped models resolved by name.
#include <catch2/catch.hpp>

#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "common/error.h"
#include "model/compress.h"
#include "model/model.h"
#include "test_util.h"

using namespace clonesim;
using namespace clonesim::compiler;

namespace {

const std::string kData = std::string(CLONESIM_SOURCE_DIR) + "/tests/data/models/";

ModelConfig fixture(const std::string& file) { return import_hf_config(kData + file); }

using clonesim::test::error_of;

std::string hf_error(const std::string& json) {
  return error_of([&] { parse_hf_config(json, "config.json", "m"); });
}

std::string yaml_error(const std::string& yaml) {
  return error_of([&] { parse_model_yaml(yaml, "m.yaml"); });
}

void check_uniform(const ModelConfig& c) {
  REQUIRE(int64_t(c.layer.size()) == c.layers);
  for (size_t i = 0; i < c.layer.size(); ++i) {
    CHECK(c.layer[i].q_heads == c.heads);
    CHECK(c.layer[i].kv_heads == c.kv_heads);
    CHECK(c.layer[i].ffn == c.intermediate);
    CHECK(c.layer[i].source_layer == int64_t(i));
  }
}

// A minimal llama config; `extra` is spliced in before the closing brace.
std::string llama_json(const std::string& extra = "") {
  return R"({"model_type": "llama", "vocab_size": 32000, "hidden_size": 4096,
  "intermediate_size": 11008, "num_hidden_layers": 32, "num_attention_heads": 32,
  "max_position_embeddings": 4096)" +
         extra + "}";
}

}  // namespace

// --- families ----------------------------------------------------------------

TEST_CASE("llama: Llama-2-7B (shipped) as published", "[model][llama]") {
  const ModelConfig c = load_model_or_named("llama-2-7b");
  CHECK(c.name == "llama-2-7b");
  CHECK(c.source == "configs/models/llama-2-7b.json");
  CHECK(c.family == Family::Llama);
  CHECK(c.vocab == 32000);
  CHECK(c.hidden == 4096);
  CHECK(c.intermediate == 11008);
  CHECK(c.layers == 32);
  CHECK(c.heads == 32);
  CHECK(c.kv_heads == 32);
  CHECK(c.head_dim == 128);
  CHECK(c.max_positions == 4096);
  CHECK(c.act == Activation::Silu);
  CHECK(c.gated_ffn);
  CHECK(c.norm == NormKind::RmsNorm);
  CHECK(c.norm_eps == 1e-5);
  CHECK_FALSE(c.norm_plus_one);
  CHECK_FALSE(c.qkv_bias);
  CHECK_FALSE(c.out_bias);
  CHECK_FALSE(c.mlp_bias);
  CHECK(c.pos == PosKind::Rotary);
  CHECK(c.rope_theta == 10000.0);  // the default: the file has no rope_theta
  CHECK(c.rotary_dim == 128);
  CHECK_FALSE(c.tied_embeddings);
  CHECK_FALSE(c.parallel_block);
  CHECK(c.final_norm);
  CHECK_FALSE(c.embed_scale);
  CHECK(c.sliding_window == 0);
  check_uniform(c);
}

TEST_CASE("llama: attention_bias, mlp_bias, head_dim, MQA, tied, rope_theta, activation",
          "[model][llama]") {
  // A made-up llama config exercising the optional fields.
  const ModelConfig c = fixture("llama-variant.json");
  CHECK(c.name == "llama-variant");
  CHECK(c.family == Family::Llama);
  CHECK(c.hidden == 96);
  CHECK(c.heads == 4);
  CHECK(c.kv_heads == 1);     // MQA
  CHECK(c.head_dim == 32);    // from head_dim: 4 x 32 = 128 != hidden 96
  CHECK(c.rotary_dim == 32);
  CHECK(c.qkv_bias);
  CHECK(c.out_bias);
  CHECK(c.mlp_bias);
  CHECK_FALSE(c.lm_head_bias);
  CHECK(c.tied_embeddings);
  CHECK(c.act == Activation::Gelu);
  CHECK(c.rope_theta == 500000.0);
  check_uniform(c);
  // By hand: embedding 1000*96; per layer q 96*128+128, k and v 96*32+32,
  // o 128*96+96, gate/up/down 3*96*256 + 256+256+96, norms 2*96; final 96.
  const int64_t layer = (96 * 128 + 128) + 2 * (96 * 32 + 32) + (128 * 96 + 96) +
                        3 * 96 * 256 + (256 + 256 + 96) + 2 * 96;
  CHECK(model_stats(c, QuantRecipe{}).total_params == 1000 * 96 + 3 * layer + 96);
}

TEST_CASE("TinyLlama-1.1B (shipped): grouped-query attention", "[model][llama]") {
  const ModelConfig c = load_model_or_named("tinyllama-1.1b");
  CHECK(c.family == Family::Llama);
  CHECK(c.hidden == 2048);
  CHECK(c.intermediate == 5632);
  CHECK(c.layers == 22);
  CHECK(c.heads == 32);
  CHECK(c.kv_heads == 4);
  CHECK(c.head_dim == 64);
  CHECK(c.max_positions == 2048);
  CHECK(c.norm_eps == 1e-5);
  CHECK_FALSE(c.tied_embeddings);
  check_uniform(c);
}

TEST_CASE("mistral: Mistral-7B-v0.1, GQA and the sliding window", "[model][mistral]") {
  const ModelConfig c = fixture("mistral-7b-v0.1.json");
  CHECK(c.family == Family::Mistral);
  CHECK(c.hidden == 4096);
  CHECK(c.intermediate == 14336);
  CHECK(c.heads == 32);
  CHECK(c.kv_heads == 8);
  CHECK(c.head_dim == 128);
  CHECK(c.max_positions == 32768);
  CHECK(c.sliding_window == 4096);
  CHECK(c.act == Activation::Silu);
  CHECK(c.norm == NormKind::RmsNorm);
  CHECK_FALSE(c.qkv_bias);
  CHECK_FALSE(c.tied_embeddings);
  // Published: 7,241,732,096 parameters.
  CHECK(model_stats(c, QuantRecipe{}).total_params == 7241732096LL);
}

TEST_CASE("qwen2: Qwen2-0.5B, q/k/v biases and tied embeddings", "[model][qwen2]") {
  const ModelConfig c = fixture("qwen2-0.5b.json");
  CHECK(c.family == Family::Qwen2);
  CHECK(c.hidden == 896);
  CHECK(c.heads == 14);
  CHECK(c.kv_heads == 2);
  CHECK(c.head_dim == 64);
  CHECK(c.qkv_bias);
  CHECK_FALSE(c.out_bias);
  CHECK_FALSE(c.mlp_bias);
  CHECK(c.tied_embeddings);
  CHECK(c.rope_theta == 1000000.0);
  CHECK(c.norm_eps == 1e-6);
  CHECK(c.sliding_window == 0);  // use_sliding_window: false
  // Published: 494,032,768 parameters (tied embeddings counted once).
  CHECK(model_stats(c, QuantRecipe{}).total_params == 494032768LL);
}

TEST_CASE("gemma: Gemma-2B (shipped): MQA, head_dim 256, (1 + w), sqrt(hidden), tied",
          "[model][gemma]") {
  const ModelConfig c = load_model_or_named("gemma-2b");
  CHECK(c.family == Family::Gemma);
  CHECK(c.vocab == 256000);
  CHECK(c.hidden == 2048);
  CHECK(c.intermediate == 16384);
  CHECK(c.layers == 18);
  CHECK(c.heads == 8);
  CHECK(c.kv_heads == 1);
  CHECK(c.head_dim == 256);
  CHECK(c.max_positions == 8192);
  CHECK(c.norm_plus_one);
  CHECK(c.embed_scale);
  CHECK(c.tied_embeddings);  // Gemma's default: the file does not say
  CHECK(c.norm_eps == 1e-6);
  // hidden_act "gelu" is overridden: Gemma runs the tanh approximation unless
  // hidden_activation says otherwise.
  CHECK(c.act == Activation::GeluTanh);
  CHECK(c.gated_ffn);
  check_uniform(c);
}

TEST_CASE("gemma: Gemma-7B, heads x head_dim != hidden; hidden_activation honoured",
          "[model][gemma]") {
  const ModelConfig c = fixture("gemma-7b.json");
  CHECK(c.hidden == 3072);
  CHECK(c.heads == 16);
  CHECK(c.kv_heads == 16);
  CHECK(c.head_dim == 256);
  // Published: 8,537,680,896 parameters.
  CHECK(model_stats(c, QuantRecipe{}).total_params == 8537680896LL);

  const std::string g = R"({"model_type": "gemma", "vocab_size": 100, "hidden_size": 64,
    "intermediate_size": 128, "num_hidden_layers": 1, "num_attention_heads": 2,
    "max_position_embeddings": 64)";
  const ModelConfig d = parse_hf_config(g + "}", "g.json", "g");
  CHECK(d.head_dim == 256);  // GemmaConfig's default head_dim
  CHECK(d.act == Activation::GeluTanh);
  CHECK(d.tied_embeddings);
  const ModelConfig e = parse_hf_config(
      g + R"(, "hidden_activation": "gelu", "tie_word_embeddings": false, "head_dim": 32})", "g.json", "g");
  CHECK(e.act == Activation::Gelu);
  CHECK(e.head_dim == 32);
  CHECK_FALSE(e.tied_embeddings);
}

TEST_CASE("opt: OPT-125m, learned positions with offset 2, biases, ReLU, LayerNorm, tied",
          "[model][opt]") {
  const ModelConfig c = fixture("opt-125m.json");
  CHECK(c.family == Family::Opt);
  CHECK(c.vocab == 50272);
  CHECK(c.hidden == 768);
  CHECK(c.intermediate == 3072);  // ffn_dim
  CHECK(c.heads == 12);
  CHECK(c.kv_heads == 12);
  CHECK(c.head_dim == 64);
  CHECK(c.max_positions == 2048);
  CHECK(c.pos == PosKind::Learned);
  CHECK(c.learned_pos_offset == 2);
  CHECK(c.act == Activation::Relu);
  CHECK_FALSE(c.gated_ffn);
  CHECK(c.norm == NormKind::LayerNorm);
  CHECK(c.norm_eps == 1e-5);
  CHECK(c.qkv_bias);
  CHECK(c.out_bias);
  CHECK(c.mlp_bias);
  CHECK(c.tied_embeddings);  // OPT's default
  CHECK_FALSE(c.post_norm);
  CHECK(c.final_norm);
  // Published: 125,239,296 parameters (the position table has 2050 rows).
  CHECK(model_stats(c, QuantRecipe{}).total_params == 125239296LL);
}

TEST_CASE("opt: do_layer_norm_before false, enable_bias false; projected embeddings rejected",
          "[model][opt]") {
  const ModelConfig c = fixture("opt-postnorm.json");
  CHECK(c.post_norm);
  CHECK_FALSE(c.final_norm);
  CHECK_FALSE(c.qkv_bias);
  CHECK_FALSE(c.out_bias);
  CHECK_FALSE(c.mlp_bias);
  CHECK_FALSE(c.tied_embeddings);

  CHECK(error_of([] { fixture("opt-350m.json"); }) ==
        kData + "opt-350m.json: word_embed_proj_dim: unsupported: projected embeddings "
                "(project_in / project_out) are not modelled, expected hidden_size (1024), got 512");
}

TEST_CASE("gpt2: GPT-2 names, n_inner default, gelu_new, learned positions, tied",
          "[model][gpt2]") {
  const ModelConfig c = fixture("gpt2.json");
  CHECK(c.family == Family::Gpt2);
  CHECK(c.vocab == 50257);
  CHECK(c.hidden == 768);          // n_embd
  CHECK(c.layers == 12);           // n_layer
  CHECK(c.heads == 12);            // n_head
  CHECK(c.intermediate == 3072);   // n_inner null: 4 * n_embd
  CHECK(c.max_positions == 1024);  // n_positions
  CHECK(c.head_dim == 64);
  CHECK(c.act == Activation::GeluTanh);
  CHECK(c.norm == NormKind::LayerNorm);
  CHECK(c.norm_eps == 1e-5);
  CHECK(c.pos == PosKind::Learned);
  CHECK(c.learned_pos_offset == 0);
  CHECK(c.qkv_bias);
  CHECK(c.out_bias);
  CHECK(c.mlp_bias);
  CHECK_FALSE(c.lm_head_bias);
  CHECK(c.tied_embeddings);
  CHECK_FALSE(c.gated_ffn);
  // Published: 124,439,808 parameters.
  CHECK(model_stats(c, QuantRecipe{}).total_params == 124439808LL);

  const std::string base = R"({"model_type": "gpt2", "vocab_size": 100, "n_embd": 64,
    "n_layer": 2, "n_head": 4, "n_positions": 32)";
  CHECK(parse_hf_config(base + R"(, "n_inner": 100})", "c.json", "c").intermediate == 100);
  CHECK(parse_hf_config(base + R"(, "hidden_size": 64})", "c.json", "c").hidden == 64);
}

TEST_CASE("phi: Phi-2, partial rotary, parallel block, biases incl. LM head", "[model][phi]") {
  const ModelConfig c = fixture("phi-2.json");
  CHECK(c.family == Family::Phi);
  CHECK(c.hidden == 2560);
  CHECK(c.intermediate == 10240);
  CHECK(c.heads == 32);
  CHECK(c.kv_heads == 32);
  CHECK(c.head_dim == 80);
  CHECK(c.rotary_dim == 32);  // 0.4 * 80
  CHECK(c.pos == PosKind::Rotary);
  CHECK(c.parallel_block);
  CHECK(c.act == Activation::GeluTanh);
  CHECK(c.norm == NormKind::LayerNorm);
  CHECK_FALSE(c.gated_ffn);
  CHECK(c.qkv_bias);
  CHECK(c.out_bias);
  CHECK(c.mlp_bias);
  CHECK(c.lm_head_bias);
  CHECK_FALSE(c.tied_embeddings);
  // Published: 2,779,683,840 parameters.
  CHECK(model_stats(c, QuantRecipe{}).total_params == 2779683840LL);
}

// --- errors --------------------------------------------------------------------

TEST_CASE("HF import errors: unsupported architectures", "[model][errors]") {
  CHECK(hf_error(R"({"model_type": "t5", "d_model": 512})") ==
        "config.json: model_type: expected one of llama, mistral, qwen2, gemma, opt, gpt2, phi "
        "(a supported decoder-only architecture), got the string \"t5\"");
  CHECK(hf_error(R"({"model_type": "bert", "hidden_size": 768})") ==
        "config.json: model_type: expected one of llama, mistral, qwen2, gemma, opt, gpt2, phi "
        "(a supported decoder-only architecture), got the string \"bert\"");
  CHECK(hf_error(llama_json(R"(, "architectures": ["LlamaForSequenceClassification"])")) ==
        "config.json: architectures: unsupported: not a causal language model, expected a class "
        "ending in ForCausalLM or LMHeadModel, got the string \"LlamaForSequenceClassification\"");
  CHECK(hf_error(llama_json(R"(, "is_encoder_decoder": true)")) ==
        "config.json: is_encoder_decoder: unsupported: an encoder-decoder model, expected false, got true");
  CHECK(hf_error(llama_json(R"(, "rope_scaling": {"type": "linear", "factor": 2.0})")) ==
        "config.json: rope_scaling: unsupported: RoPE scaling is not modelled, expected null, got an object");
  CHECK(hf_error(llama_json(R"(, "hidden_act": "quick_gelu")")) ==
        "config.json: hidden_act: expected one of silu, swish, gelu, gelu_new, gelu_pytorch_tanh, "
        "gelu_fast, relu, got the string \"quick_gelu\"");
  CHECK(hf_error(R"({"model_type": "phi", "vocab_size": 10, "hidden_size": 64, "intermediate_size": 64,
      "num_hidden_layers": 1, "num_attention_heads": 4, "max_position_embeddings": 16,
      "qk_layernorm": true})") ==
        "config.json: qk_layernorm: unsupported: LayerNorm on queries and keys is not modelled, "
        "expected false, got true");
}

TEST_CASE("HF import errors: missing and contradictory fields", "[model][errors]") {
  CHECK(hf_error(R"({"hidden_size": 4096})") ==
        "config.json: model_type: missing required field, expected one of llama, mistral, qwen2, "
        "gemma, opt, gpt2, phi");
  CHECK(hf_error(R"({"model_type": "llama", "vocab_size": 32000})") ==
        "config.json: hidden_size: missing required field, expected a positive integer");
  CHECK(hf_error(R"({"model_type": "opt", "vocab_size": 100, "hidden_size": 64,
      "num_hidden_layers": 2, "num_attention_heads": 4, "max_position_embeddings": 64})") ==
        "config.json: ffn_dim: missing required field, expected a positive integer");
  CHECK(hf_error(llama_json(R"(, "num_key_value_heads": 5)")) ==
        "config.json: num_key_value_heads: expected a divisor of num_attention_heads (32), got 5");
  CHECK(hf_error(R"({"model_type": "llama", "vocab_size": 32000, "hidden_size": 4096,
      "intermediate_size": 11008, "num_hidden_layers": 32, "num_attention_heads": 30,
      "max_position_embeddings": 4096})") ==
        "config.json: num_attention_heads: expected a divisor of hidden_size (4096) when head_dim "
        "is not given, got 30");
  CHECK(hf_error(R"({"model_type": "gpt2", "vocab_size": 100, "n_embd": 64, "hidden_size": 128,
      "n_layer": 2, "n_head": 4, "n_positions": 32})") ==
        "config.json: hidden_size: expected the same value as n_embd (64), got 128");
  CHECK(hf_error(R"({"model_type": "gpt2", "vocab_size": 100, "n_embd": 64, "n_layer": 2,
      "n_head": 5, "n_positions": 32})") ==
        "config.json: n_head: expected a divisor of n_embd (64), got 5");
  CHECK(hf_error(R"({"model_type": "phi", "vocab_size": 10, "hidden_size": 64, "intermediate_size": 64,
      "num_hidden_layers": 1, "num_attention_heads": 4, "max_position_embeddings": 16,
      "partial_rotary_factor": 0.1})") ==
        "config.json: partial_rotary_factor: expected a factor giving an even rotary dimension >= 2 "
        "of head_dim (16), got 0.1 (rotary dimension 1)");
  CHECK(hf_error(llama_json(R"(, "hidden_size": 4096)")) ==
        "config.json: hidden_size: expected each field once, got a duplicate");
}

TEST_CASE("HF import errors: wrong types and values", "[model][errors]") {
  CHECK(hf_error(R"({"model_type": "llama", "vocab_size": 32000, "hidden_size": "4096"})") ==
        "config.json: hidden_size: expected a positive integer, got the string \"4096\"");
  CHECK(hf_error(R"({"model_type": "llama", "vocab_size": 32000, "hidden_size": 4096,
      "intermediate_size": -1})") ==
        "config.json: intermediate_size: expected a positive integer, got -1");
  CHECK(hf_error(R"({"model_type": "llama", "vocab_size": 32000.5})") ==
        "config.json: vocab_size: expected a positive integer, got 32000.5");
  CHECK(hf_error(R"({"model_type": "llama", "vocab_size": true})") ==
        "config.json: vocab_size: expected a positive integer, got true");
  CHECK(hf_error(R"({"model_type": "llama", "vocab_size": 99999999999})") ==
        "config.json: vocab_size: expected a positive integer <= 2147483647, got 99999999999");
  CHECK(hf_error(llama_json(R"(, "tie_word_embeddings": "yes")")) ==
        "config.json: tie_word_embeddings: expected true or false, got the string \"yes\"");
  CHECK(hf_error(llama_json(R"(, "rms_norm_eps": 0)")) ==
        "config.json: rms_norm_eps: expected a number > 0 and <= 1, got 0");
  CHECK(hf_error(R"({"model_type": 7})") ==
        "config.json: model_type: expected one of llama, mistral, qwen2, gemma, opt, gpt2, phi "
        "(a supported decoder-only architecture), got 7");
  CHECK(hf_error(R"({"model_type": "llama", "vocab_size": 2000000000, "hidden_size": 2000000000,
      "intermediate_size": 2000000000, "num_hidden_layers": 2000000000, "num_attention_heads": 1,
      "max_position_embeddings": 2000000000})") ==
        "config.json: model size: expected at most 1e15 weights and KV-cache entries, got "
        "about 7.2e+28");
  CHECK(hf_error("[1, 2]") == "config.json: expected a JSON object (a Hugging Face config.json), got a list");
}

TEST_CASE("HF import errors: malformed JSON gives the file and the byte offset", "[model][errors]") {
  const std::string text = "{\n  \"model_type\": \"llama\",\n  \"hidden_size\": 4096,,\n}\n";
  const size_t bad = text.find(",,") + 1;  // the second comma
  CHECK(hf_error(text) == "config.json: offset " + std::to_string(bad) +
                              ": JSON syntax error: syntax error while parsing object key - "
                              "unexpected ','; expected string literal");
  const std::string msg = error_of([] { fixture("malformed.json"); });
  CHECK(msg.rfind(kData + "malformed.json: offset 49: JSON syntax error: ", 0) == 0);
  CHECK(hf_error("{\"model_type\": \"llama\"") ==
        "config.json: offset 22: JSON syntax error: syntax error while parsing object - "
        "unexpected end of input; expected '}'");
  CHECK(error_of([] { import_hf_config(kData + "no-such.json"); }) ==
        kData + "no-such.json: expected a Hugging Face config.json, got no such file");
}

// --- the YAML model format ----------------------------------------------------

TEST_CASE("YAML model format: tiny (shipped) and every key", "[model][yaml]") {
  const ModelConfig t = load_model_or_named("tiny");
  CHECK(t.name == "tiny");
  CHECK(t.source == "configs/models/tiny.yaml");
  CHECK(t.family == Family::Llama);
  CHECK(t.vocab == 256);
  CHECK(t.hidden == 64);
  CHECK(t.intermediate == 128);
  CHECK(t.layers == 2);
  CHECK(t.heads == 4);
  CHECK(t.kv_heads == 2);
  CHECK(t.head_dim == 16);
  CHECK(t.max_positions == 128);
  CHECK(t.rotary_dim == 16);
  CHECK(t.act == Activation::Silu);
  check_uniform(t);

  const ModelConfig c = parse_model_yaml(R"(name: every-key
family: phi
vocab: 1000
hidden: 96
intermediate: 384
layers: 3
heads: 6
kv_heads: 3
head_dim: 16
max_positions: 256
activation: gelu_tanh
gated_ffn: false
norm: layernorm
norm_eps: 1e-6
norm_plus_one: true
qkv_bias: true
out_bias: true
mlp_bias: true
lm_head_bias: true
positions: rotary
rope_theta: 500000
rotary_dim: 8
sliding_window: 64
tied_embeddings: true
parallel_block: true
post_norm: false
final_norm: false
embed_scale: true
)", "e.yaml");
  CHECK(c.name == "every-key");
  CHECK(c.source == "e.yaml");
  CHECK(c.family == Family::Phi);
  CHECK(c.kv_heads == 3);
  CHECK(c.head_dim == 16);
  CHECK(c.act == Activation::GeluTanh);
  CHECK_FALSE(c.gated_ffn);
  CHECK(c.norm == NormKind::LayerNorm);
  CHECK(c.norm_eps == 1e-6);
  CHECK(c.norm_plus_one);
  CHECK(c.qkv_bias);
  CHECK(c.out_bias);
  CHECK(c.mlp_bias);
  CHECK(c.lm_head_bias);
  CHECK(c.rope_theta == 500000);
  CHECK(c.rotary_dim == 8);
  CHECK(c.sliding_window == 64);
  CHECK(c.tied_embeddings);
  CHECK(c.parallel_block);
  CHECK_FALSE(c.final_norm);
  CHECK(c.embed_scale);
  check_uniform(c);

  const ModelConfig l = parse_model_yaml(R"(name: learned
vocab: 100
hidden: 32
intermediate: 64
layers: 1
heads: 2
max_positions: 16
positions: learned
learned_pos_offset: 2
post_norm: true
)", "l.yaml");
  CHECK(l.family == Family::Custom);
  CHECK(l.kv_heads == 2);
  CHECK(l.head_dim == 16);
  CHECK(l.pos == PosKind::Learned);
  CHECK(l.learned_pos_offset == 2);
  CHECK(l.rotary_dim == 0);
  CHECK(l.post_norm);
  CHECK(l.gated_ffn);  // the defaults
  CHECK(l.norm == NormKind::RmsNorm);
  CHECK(l.final_norm);
}

TEST_CASE("YAML model format: errors name file, line and key", "[model][yaml][errors]") {
  const std::string head = "name: t\nvocab: 100\nhidden: 64\nintermediate: 128\nlayers: 2\n";
  CHECK(yaml_error(head + "heads: 4\nmax_positions: 32\nkv_head: 2\n") ==
        "m.yaml:8: kv_head: unknown key, expected one of name, family, vocab, hidden, intermediate, "
        "layers, heads, kv_heads, head_dim, max_positions, activation, gated_ffn, norm, norm_eps, "
        "norm_plus_one, qkv_bias, out_bias, mlp_bias, lm_head_bias, positions, rope_theta, "
        "rotary_dim, learned_pos_offset, sliding_window, tied_embeddings, parallel_block, "
        "post_norm, final_norm, embed_scale, got 'kv_head'");
  CHECK(yaml_error(head + "heads: 4\n") ==
        "m.yaml:1: max_positions: missing required key, expected an integer 1..2147483647");
  CHECK(yaml_error(head + "heads: 4\nmax_positions: 32\nkv_heads: 3\n") ==
        "m.yaml:8: kv_heads: expected a divisor of heads (4), got 3");
  CHECK(yaml_error(head + "heads: 5\nmax_positions: 32\n") ==
        "m.yaml:6: heads: expected a divisor of hidden (64) when head_dim is not given, got 5");
  CHECK(yaml_error(head + "heads: \"4\"\nmax_positions: 32\n") ==
        "m.yaml:6: heads: expected an integer 1..2147483647, got the string \"4\"");
  CHECK(yaml_error(head + "heads: 4\nmax_positions: 32\nactivation: swiglu\n") ==
        "m.yaml:8: activation: expected one of silu, gelu, gelu_tanh, relu, got 'swiglu'");
  CHECK(yaml_error(head + "heads: 4\nmax_positions: 32\ngated_ffn: yes\n") ==
        "m.yaml:8: gated_ffn: expected true or false, got 'yes'");
  CHECK(yaml_error(head + "heads: 4\nmax_positions: 32\nrotary_dim: 7\n") ==
        "m.yaml:8: rotary_dim: expected an even integer 2..head_dim (16), got 7");
  CHECK(yaml_error(head + "heads: 4\nmax_positions: 32\npositions: learned\nrope_theta: 10000\n") ==
        "m.yaml:9: rope_theta: expected no rope_theta with positions: learned");
  CHECK(yaml_error(head + "heads: 4\nmax_positions: 32\nnorm_eps: 0\n") ==
        "m.yaml:8: norm_eps: expected a number > 0 and <= 1, got 0");
  CHECK(yaml_error(head + "heads: 4\nmax_positions: 32\nhidden: 32\n") ==
        "m.yaml:8: hidden: expected each key once, got a duplicate (first at line 3)");
  CHECK(yaml_error("- a\n- b\n").rfind("m.yaml:1: expected a model (a map with keys name, ", 0) == 0);
  CHECK(error_of([] { load_model_yaml(kData + "none.yaml"); }) ==
        kData + "none.yaml: expected a YAML model file, got no such file");
}

// --- shipped models -------------------------------------------------------------

TEST_CASE("Shipped models resolve by name, with or without extension, and by path",
          "[model][shipped]") {
  CHECK(shipped_model_names() == std::vector<std::string>{"gemma-2b", "llama-2-13b", "llama-2-7b",
                                                          "tiny", "tinyllama-1.1b", "vicuna-68m",
                                                          "vicuna-7b"});
  for (const auto& n : shipped_model_names()) {
    const ModelConfig c = load_model_or_named(n);
    CHECK(c.name == n);
    CHECK_NOTHROW(validate_model(c));
  }
  CHECK(load_model_or_named("llama-2-7b.json").hidden == 4096);
  CHECK(load_model_or_named("tiny.yaml").hidden == 64);
  const std::string src = CLONESIM_SOURCE_DIR;
  const ModelConfig f = load_model_or_named(src + "/configs/models/vicuna-68m.json");
  CHECK(f.name == "vicuna-68m");
  CHECK(f.source == src + "/configs/models/vicuna-68m.json");
  CHECK(load_model_or_named(kData + "gpt2.json").family == Family::Gpt2);
  CHECK(load_model_or_named(src + "/configs/models/tiny.yaml").kv_heads == 2);
  CHECK(error_of([] { load_model_or_named("llama-3-8b"); }) ==
        "unknown model 'llama-3-8b': not a file, and not one of gemma-2b, llama-2-13b, llama-2-7b, "
        "tiny, tinyllama-1.1b, vicuna-68m, vicuna-7b");
}

TEST_CASE("Vicuna-7B v1.5 and Vicuna-68M (shipped)", "[model][shipped]") {
  const ModelConfig v = load_model_or_named("vicuna-7b");
  CHECK(v.family == Family::Llama);
  CHECK(v.hidden == 4096);
  CHECK(v.layers == 32);
  CHECK(v.max_positions == 4096);
  const ModelConfig d = load_model_or_named("vicuna-68m");
  CHECK(d.family == Family::Llama);
  CHECK(d.hidden == 768);
  CHECK(d.intermediate == 3072);
  CHECK(d.layers == 2);
  CHECK(d.heads == 12);
  CHECK(d.kv_heads == 12);
  CHECK(d.head_dim == 64);
  CHECK(d.vocab == 32000);
  CHECK(d.norm_eps == 1e-6);
  CHECK_FALSE(d.tied_embeddings);
}

TEST_CASE("Recipes by name and the model summary", "[model][summary]") {
  const QuantRecipe a = parse_recipe("W8A8");
  CHECK(a.weights == WeightType::Int8);
  CHECK(a.group == 0);
  CHECK(a.kv_int8);
  const QuantRecipe b = parse_recipe("w4a8-g128");
  CHECK(b.name == "W4A8-g128");
  CHECK(b.weights == WeightType::Int4);
  CHECK(b.group == 128);
  CHECK(error_of([] { parse_recipe("W4A16"); }) ==
        "recipe: expected W8A8 or W4A8, optionally with -gN for K-groups of N (e.g. W4A8-g128), "
        "got 'W4A16'");
  CHECK_FALSE(error_of([] { parse_recipe("W4A8-g0"); }).empty());

  const std::string s = describe_model(load_model_or_named("llama-2-7b"), b);
  CHECK(s.find("model        llama-2-7b (llama)\n") != std::string::npos);
  CHECK(s.find("layers       32 of 32\n") != std::string::npos);
  CHECK(s.find("parameters   6,738,415,616 (embedding 131,072,000, layers 6,476,267,520, LM head "
               "131,072,000)\n") != std::string::npos);
  CHECK(s.find("weights      W4A8-g128: 3,580,174,336 bytes") != std::string::npos);
  CHECK(s.find("KV cache     262,144 bytes per token (int8)\n") != std::string::npos);
}

// --- robustness -------------------------------------------------------------------

TEST_CASE("Truncated and mutated inputs give an Error or a model, never a crash", "[model][errors]") {
  auto read = [](const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  const std::string src = CLONESIM_SOURCE_DIR;
  const std::vector<std::string> files = {
      kData + "gpt2.json", kData + "phi-2.json", kData + "opt-125m.json",
      src + "/configs/models/gemma-2b.json", src + "/configs/models/tiny.yaml"};
  std::mt19937 rng(7);
  const std::string junk = "{}[],:\"0123456789-.eE truefalsnul\n#-";
  int errors = 0, models = 0;
  for (const auto& f : files) {
    const std::string text = read(f);
    REQUIRE_FALSE(text.empty());
    const bool json = f.size() > 5 && f.compare(f.size() - 5, 5, ".json") == 0;
    auto attempt = [&](const std::string& t) {
      try {
        if (json) parse_hf_config(t, "m.json", "m");
        else parse_model_yaml(t, "m.yaml");
        ++models;
      } catch (const Error& e) {
        ++errors;
        CHECK(std::string(e.what()).find('\n') == std::string::npos);
      }
    };
    for (size_t n = 0; n < text.size(); n += 7) attempt(text.substr(0, n));
    for (int i = 0; i < 300; ++i) {
      std::string t = text;
      for (int k = 0; k < 3; ++k) t[rng() % t.size()] = junk[rng() % junk.size()];
      attempt(t);
    }
  }
  CHECK(errors > 0);
  CHECK(models > 0);
}
