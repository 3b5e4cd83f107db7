// safetensors: half-float conversions, the Hugging Face name maps and
// layouts per family, round trips, pruned loads and every error message.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <limits>

#include "weights/prune.h"
#include "weights/safetensors.h"
#include "weights_test_util.h"

using namespace clonesim::compiler;
using namespace wtest;

namespace {

float from_bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// Rewrites a file through `edit`, which may change, drop or add tensors (all read as F32).
template <class Edit>
void rewrite(const std::string& in, const std::string& out, Edit edit) {
  const SafetensorsFile f(in);
  std::vector<RawTensor> ts;
  for (const auto& kv : f.tensors()) ts.push_back({kv.first, "F32", kv.second.shape, encode_f32(f.read_floats(kv.first))});
  edit(ts);
  write_safetensors(out, ts);
}

}  // namespace

TEST_CASE("F16 and BF16 conversions round to nearest even", "[safetensors]") {
  CHECK(float_to_f16(1.0f) == 0x3c00);
  CHECK(float_to_f16(-2.0f) == 0xc000);
  CHECK(float_to_f16(65504.0f) == 0x7bff);
  CHECK(float_to_f16(65519.0f) == 0x7bff);
  CHECK(float_to_f16(65520.0f) == 0x7c00);  // the tie rounds to even: infinity
  CHECK(float_to_f16(0.1f) == 0x2e66);
  CHECK(float_to_f16(std::ldexp(1.0f, -24)) == 0x0001);  // smallest subnormal
  CHECK(float_to_f16(std::ldexp(1.0f, -25)) == 0x0000);  // tie to even: zero
  CHECK(float_to_f16(std::ldexp(3.0f, -25)) == 0x0002);  // 1.5 units: tie to even 2
  CHECK(float_to_f16(std::ldexp(1.0f, -14)) == 0x0400);  // smallest normal
  CHECK(float_to_f16(1.0f + std::ldexp(1.0f, -11)) == 0x3c00);  // tie to even
  CHECK(float_to_f16(1.0f + std::ldexp(3.0f, -11)) == 0x3c02);  // tie to even (up)
  CHECK(float_to_f16(-std::numeric_limits<float>::infinity()) == 0xfc00);
  CHECK((float_to_f16(std::numeric_limits<float>::quiet_NaN()) & 0x7e00) == 0x7e00);
  CHECK(f16_to_float(0x3c00) == 1.0f);
  CHECK(f16_to_float(0xc000) == -2.0f);
  CHECK(f16_to_float(0x7bff) == 65504.0f);
  CHECK(f16_to_float(0x0001) == std::ldexp(1.0f, -24));
  CHECK(f16_to_float(0x8001) == -std::ldexp(1.0f, -24));
  CHECK(f16_to_float(0x03ff) == std::ldexp(1023.0f, -24));
  CHECK(std::isinf(f16_to_float(0x7c00)));
  CHECK(std::isnan(f16_to_float(0x7e00)));
  for (uint32_t h = 0; h < 0x7c00; ++h) REQUIRE(float_to_f16(f16_to_float(uint16_t(h))) == h);

  CHECK(float_to_bf16(1.0f) == 0x3f80);
  CHECK(float_to_bf16(from_bits(0x3f808000)) == 0x3f80);  // tie to even (down)
  CHECK(float_to_bf16(from_bits(0x3f818000)) == 0x3f82);  // tie to even (up)
  CHECK(float_to_bf16(from_bits(0x3f808001)) == 0x3f81);
  CHECK(bf16_to_float(0xbf80) == -1.0f);
  CHECK(bf16_to_float(0x4049) == 3.140625f);
}

TEST_CASE("Hugging Face names per family", "[safetensors]") {
  CHECK(hf_name(Family::Llama, "model.", "layers.3.up.w") == "model.layers.3.mlp.up_proj.weight");
  CHECK(hf_name(Family::Llama, "model.", "layers.0.attn_norm.w") == "model.layers.0.input_layernorm.weight");
  CHECK(hf_name(Family::Mistral, "model.", "layers.0.ffn_norm.w") == "model.layers.0.post_attention_layernorm.weight");
  CHECK(hf_name(Family::Qwen2, "model.", "layers.1.k.b") == "model.layers.1.self_attn.k_proj.bias");
  CHECK(hf_name(Family::Gemma, "model.", "final_norm.w") == "model.norm.weight");
  CHECK(hf_name(Family::Llama, "model.", "embed") == "model.embed_tokens.weight");
  CHECK(hf_name(Family::Llama, "model.", "lm_head.w") == "lm_head.weight");
  CHECK(hf_name(Family::Opt, "model.decoder.", "layers.2.o.b") == "model.decoder.layers.2.self_attn.out_proj.bias");
  CHECK(hf_name(Family::Opt, "model.decoder.", "layers.2.fc1.w") == "model.decoder.layers.2.fc1.weight");
  CHECK(hf_name(Family::Opt, "model.decoder.", "layers.2.attn_norm.b") ==
        "model.decoder.layers.2.self_attn_layer_norm.bias");
  CHECK(hf_name(Family::Opt, "model.decoder.", "layers.2.ffn_norm.w") == "model.decoder.layers.2.final_layer_norm.weight");
  CHECK(hf_name(Family::Opt, "model.decoder.", "final_norm.w") == "model.decoder.final_layer_norm.weight");
  CHECK(hf_name(Family::Opt, "model.decoder.", "pos_embed") == "model.decoder.embed_positions.weight");
  CHECK(hf_name(Family::Gpt2, "", "layers.1.q.w") == "h.1.attn.c_attn.weight");
  CHECK(hf_name(Family::Gpt2, "", "layers.1.k.w") == "");
  CHECK(hf_name(Family::Gpt2, "", "layers.1.o.b") == "h.1.attn.c_proj.bias");
  CHECK(hf_name(Family::Gpt2, "", "layers.1.fc1.w") == "h.1.mlp.c_fc.weight");
  CHECK(hf_name(Family::Gpt2, "", "layers.1.fc2.w") == "h.1.mlp.c_proj.weight");
  CHECK(hf_name(Family::Gpt2, "", "layers.1.ffn_norm.w") == "h.1.ln_2.weight");
  CHECK(hf_name(Family::Gpt2, "transformer.", "embed") == "transformer.wte.weight");
  CHECK(hf_name(Family::Gpt2, "", "pos_embed") == "wpe.weight");
  CHECK(hf_name(Family::Gpt2, "", "final_norm.b") == "ln_f.bias");
  CHECK(hf_name(Family::Phi, "model.", "layers.0.o.w") == "model.layers.0.self_attn.dense.weight");
  CHECK(hf_name(Family::Phi, "model.", "layers.0.fc1.b") == "model.layers.0.mlp.fc1.bias");
  CHECK(hf_name(Family::Phi, "model.", "final_norm.w") == "model.final_layernorm.weight");
  CHECK(hf_name(Family::Phi, "model.", "lm_head.b") == "lm_head.bias");
}

TEST_CASE("save/load round trip for every family, with the Hugging Face layouts", "[safetensors]") {
  for (const ModelConfig& cfg : {llama_cfg(), qwen2_cfg(), gemma_cfg(), opt_cfg(), gpt2_cfg(), phi_cfg()}) {
    INFO(cfg.name);
    const ModelWeights w = random_weights(cfg, 11);
    const std::string path = tmp_path(cfg.name + ".safetensors");
    save_safetensors(path, w);
    const ModelWeights back = load_safetensors(path, cfg);
    std::string diff;
    CHECK(same_weights(w, back, &diff));
    INFO(diff);

    const SafetensorsFile f(path);
    CHECK(f.metadata().at("format") == "pt");
    for (const auto& kv : f.tensors()) CHECK(kv.second.dtype == "F32");
    // nn.Linear stores [out, in]: element [n][k] is our (k, n).
    const auto check_linear = [&](const std::string& name, const Tensor& t, bool conv1d) {
      INFO(name);
      REQUIRE(f.has(name));
      const std::vector<float> v = f.read_floats(name);
      const int64_t k = t.rows(), n = t.cols();
      CHECK(f.info(name).shape == (conv1d ? std::vector<int64_t>{k, n} : std::vector<int64_t>{n, k}));
      for (int64_t r = 0; r < k; ++r)
        for (int64_t c = 0; c < n; ++c) REQUIRE(v[size_t(conv1d ? r * n + c : c * k + r)] == t.at(r, c));
    };
    switch (cfg.family) {
      case Family::Llama:
        check_linear("model.layers.1.mlp.up_proj.weight", w.layers[1].up.w, false);
        check_linear("model.layers.0.self_attn.k_proj.weight", w.layers[0].k.w, false);
        check_linear("lm_head.weight", w.lm_head.w, false);
        CHECK(f.tensors().size() == 1 + 2 * 9 + 1 + 1);
        break;
      case Family::Qwen2: CHECK(f.has("model.layers.1.self_attn.v_proj.bias")); break;
      case Family::Gemma:
        CHECK_FALSE(f.has("lm_head.weight"));
        CHECK(f.has("model.norm.weight"));
        break;
      case Family::Opt:
        CHECK(f.info("model.decoder.embed_positions.weight").shape == std::vector<int64_t>{18, 12});
        CHECK(f.read_floats("model.decoder.embed_positions.weight")[2 * 12 + 5] == w.pos_embed.at(0, 5));
        check_linear("model.decoder.layers.1.self_attn.out_proj.weight", w.layers[1].o.w, false);
        check_linear("model.decoder.layers.0.fc2.weight", w.layers[0].fc2.w, false);
        CHECK(f.has("model.decoder.layers.0.final_layer_norm.bias"));
        CHECK(f.has("model.decoder.final_layer_norm.weight"));
        break;
      case Family::Gpt2: {
        CHECK(f.info("h.0.attn.c_attn.weight").shape == std::vector<int64_t>{12, 36});
        const std::vector<float> qkv = f.read_floats("h.0.attn.c_attn.weight");
        CHECK(qkv[size_t(3 * 36 + 2)] == w.layers[0].q.w.at(3, 2));
        CHECK(qkv[size_t(3 * 36 + 12 + 2)] == w.layers[0].k.w.at(3, 2));
        CHECK(qkv[size_t(3 * 36 + 24 + 2)] == w.layers[0].v.w.at(3, 2));
        CHECK(f.read_floats("h.1.attn.c_attn.bias")[26] == w.layers[1].v.b.data[2]);
        check_linear("h.1.mlp.c_fc.weight", w.layers[1].fc1.w, true);
        check_linear("h.0.attn.c_proj.weight", w.layers[0].o.w, true);
        CHECK(f.has("wte.weight"));
        CHECK(f.info("wpe.weight").shape == std::vector<int64_t>{16, 12});
        CHECK(f.has("ln_f.bias"));
        break;
      }
      case Family::Phi:
        check_linear("model.layers.0.self_attn.dense.weight", w.layers[0].o.w, false);
        CHECK(f.has("lm_head.bias"));
        CHECK(f.has("model.final_layernorm.bias"));
        CHECK_FALSE(f.has("model.layers.0.post_attention_layernorm.weight"));
        break;
      default: break;
    }
    std::remove(path.c_str());
  }
}

TEST_CASE("Loading: alternative roots, extra tensors ignored, F16 and BF16 data", "[safetensors]") {
  const ModelConfig g = gpt2_cfg();
  const ModelWeights w = random_weights(g, 5);
  const std::string a = tmp_path("gpt2.safetensors"), b = tmp_path("gpt2t.safetensors");
  save_safetensors(a, w);
  // GPT2LMHeadModel checkpoints prefix "transformer." and may carry the causal-mask buffer.
  rewrite(a, b, [](std::vector<RawTensor>& ts) {
    for (RawTensor& t : ts) t.name = "transformer." + t.name;
    ts.push_back({"transformer.h.0.attn.bias", "U8", {1, 1, 2, 2}, {1, 0, 1, 1}});
  });
  CHECK(same_weights(w, load_safetensors(b, g)));

  const ModelConfig o = opt_cfg();
  const ModelWeights ow = random_weights(o, 5);
  save_safetensors(a, ow);
  rewrite(a, b, [](std::vector<RawTensor>& ts) {
    for (RawTensor& t : ts) t.name = t.name.substr(6);  // "decoder.layers..."
  });
  CHECK(same_weights(ow, load_safetensors(b, o)));

  // F16 / BF16: the loaded values are the rounded ones.
  const ModelConfig l = llama_cfg();
  const ModelWeights lw = random_weights(l, 5);
  save_safetensors(a, lw);
  for (const char* dtype : {"F16", "BF16"}) {
    INFO(dtype);
    rewrite(a, b, [&](std::vector<RawTensor>& ts) {
      for (RawTensor& t : ts) {
        std::vector<float> v(t.bytes.size() / 4);
        std::memcpy(v.data(), t.bytes.data(), t.bytes.size());
        t.dtype = dtype;
        t.bytes = std::string(dtype) == "F16" ? encode_f16(v) : encode_bf16(v);
      }
    });
    const ModelWeights h = load_safetensors(b, l);
    const auto round = [&](float x) {
      return std::string(dtype) == "F16" ? f16_to_float(float_to_f16(x)) : bf16_to_float(float_to_bf16(x));
    };
    CHECK(h.layers[1].v.w.at(3, 2) == round(lw.layers[1].v.w.at(3, 2)));
    CHECK(h.embed.at(7, 1) == round(lw.embed.at(7, 1)));
    CHECK(h.lm_head.w.at(5, 30) == round(lw.lm_head.w.at(5, 30)));
    CHECK(h.layers[1].v.w.at(3, 2) != lw.layers[1].v.w.at(3, 2));
  }
  std::remove(a.c_str());
  std::remove(b.c_str());
}

TEST_CASE("A hand-made file: transposition and the values", "[safetensors]") {
  ModelConfig c;
  c.name = "hand";
  c.family = Family::Llama;
  c.vocab = 2;
  c.hidden = 2;
  c.intermediate = 3;
  c.layers = 1;
  c.heads = 1;
  c.kv_heads = 1;
  c.head_dim = 2;
  c.tied_embeddings = true;
  const std::string p = tmp_path("hand.safetensors");
  std::vector<RawTensor> ts = {
      {"model.embed_tokens.weight", "F32", {2, 2}, encode_f32({1, 2, 3, 4})},
      {"model.layers.0.input_layernorm.weight", "BF16", {2}, encode_bf16({1, 1})},
      {"model.layers.0.self_attn.q_proj.weight", "F32", {2, 2}, encode_f32({1, 2, 3, 4})},
      {"model.layers.0.self_attn.k_proj.weight", "F32", {2, 2}, encode_f32({0, 0, 0, 0})},
      {"model.layers.0.self_attn.v_proj.weight", "F32", {2, 2}, encode_f32({0, 0, 0, 0})},
      {"model.layers.0.self_attn.o_proj.weight", "F32", {2, 2}, encode_f32({0, 0, 0, 0})},
      {"model.layers.0.post_attention_layernorm.weight", "F16", {2}, encode_f16({0.5f, 2})},
      {"model.layers.0.mlp.gate_proj.weight", "F32", {3, 2}, encode_f32({1, 2, 3, 4, 5, 6})},  // [out 3, in 2]
      {"model.layers.0.mlp.up_proj.weight", "F32", {3, 2}, encode_f32({0, 0, 0, 0, 0, 0})},
      {"model.layers.0.mlp.down_proj.weight", "F32", {2, 3}, encode_f32({1, 2, 3, 4, 5, 6})},  // [out 2, in 3]
      {"model.norm.weight", "F32", {2}, encode_f32({1, 1})},
  };
  write_safetensors(p, ts, {{"format", "pt"}});
  const ModelWeights w = load_safetensors(p, c);
  CHECK(w.layers[0].q.w.data == std::vector<float>{1, 3, 2, 4});
  CHECK(w.layers[0].gate.w.shape == std::vector<int64_t>{2, 3});
  CHECK(w.layers[0].gate.w.data == std::vector<float>{1, 3, 5, 2, 4, 6});
  CHECK(w.layers[0].down.w.shape == std::vector<int64_t>{3, 2});
  CHECK(w.layers[0].down.w.data == std::vector<float>{1, 4, 2, 5, 3, 6});
  CHECK(w.layers[0].ffn_norm.w.data == std::vector<float>{0.5f, 2});
  CHECK(w.embed.data == std::vector<float>{1, 2, 3, 4});
  std::remove(p.c_str());
}

TEST_CASE("Pruned loads: importance selection, dropped layers, already-pruned files", "[safetensors][prune]") {
  const ModelConfig full = llama_cfg();
  const ModelWeights w = random_weights(full, 21);
  const std::string p = tmp_path("prune.safetensors"), q = tmp_path("pruned.safetensors");
  save_safetensors(p, w);

  ModelConfig cut = full;
  cut.layer = {{2, 1, 16, 1}};  // layer 0 dropped; layer 1 keeps one KV group and 16 of 24 channels
  const ModelWeights loaded = load_safetensors(p, cut);
  CHECK(same_weights(loaded, prune_weights(w, cut)));
  const HeadSelection sel = select_heads(w.layers[1], 4, 4, 2, 2, 1);
  const std::vector<int64_t> ch = select_ffn_channels(w.layers[1], true, 16);
  REQUIRE(sel.q_heads.size() == 2);
  for (int64_t r = 0; r < 16; ++r) {
    CHECK(loaded.layers[0].q.w.at(r, 5) == w.layers[1].q.w.at(r, sel.q_heads[1] * 4 + 1));
    CHECK(loaded.layers[0].v.w.at(r, 3) == w.layers[1].v.w.at(r, sel.kv_heads[0] * 4 + 3));
    CHECK(loaded.layers[0].up.w.at(r, 9) == w.layers[1].up.w.at(r, ch[9]));
  }

  // Mixed: attention pruned only (q heads within the group) in layer 0.
  ModelConfig mixed = full;
  mixed.layer = {{2, 2, 24, 0}, {4, 2, 24, 1}};
  CHECK(same_weights(load_safetensors(p, mixed), prune_weights(w, mixed)));

  // A file of pruned weights (what save writes: pruned shapes under the source index) loads as is.
  const ModelWeights pruned = prune_weights(w, cut);
  save_safetensors(q, pruned);
  const SafetensorsFile f(q);
  CHECK(f.has("model.layers.1.mlp.up_proj.weight"));
  CHECK_FALSE(f.has("model.layers.0.mlp.up_proj.weight"));
  CHECK(f.info("model.layers.1.self_attn.q_proj.weight").shape == std::vector<int64_t>{8, 16});
  CHECK(same_weights(load_safetensors(q, cut), pruned));

  // A shape that is neither.
  rewrite(p, q, [](std::vector<RawTensor>& ts) {
    for (RawTensor& t : ts)
      if (t.name == "model.layers.1.self_attn.q_proj.weight") {
        t.shape = {12, 16};
        t.bytes.resize(12 * 16 * 4);
      }
  });
  CHECK(error_of([&] { load_safetensors(q, cut); }) ==
        q + ": model.layers.1.self_attn.q_proj.weight: expected shape [16, 16] (or the pruned [8, 16]), got [12, 16]");
  std::remove(p.c_str());
  std::remove(q.c_str());
}

TEST_CASE("Model-level errors: missing tensor, wrong shape, unsupported dtype", "[safetensors][errors]") {
  const ModelConfig cfg = llama_cfg();
  const std::string p = tmp_path("ok.safetensors"), q = tmp_path("bad.safetensors");
  save_safetensors(p, random_weights(cfg, 1));

  rewrite(p, q, [](std::vector<RawTensor>& ts) {
    ts.erase(std::remove_if(ts.begin(), ts.end(),
                            [](const RawTensor& t) { return t.name == "model.layers.1.mlp.up_proj.weight"; }),
             ts.end());
  });
  CHECK(error_of([&] { load_safetensors(q, cfg); }) == q + ": model.layers.1.mlp.up_proj.weight: missing tensor");

  rewrite(p, q, [](std::vector<RawTensor>& ts) {
    for (RawTensor& t : ts)
      if (t.name == "model.layers.1.mlp.up_proj.weight") t.shape = {16, 24};
  });
  CHECK(error_of([&] { load_safetensors(q, cfg); }) ==
        q + ": model.layers.1.mlp.up_proj.weight: expected shape [24, 16], got [16, 24]");

  rewrite(p, q, [](std::vector<RawTensor>& ts) {
    for (RawTensor& t : ts)
      if (t.name == "model.layers.0.self_attn.k_proj.weight") t.dtype = "I32";
  });
  CHECK(error_of([&] { load_safetensors(q, cfg); }) ==
        q + ": model.layers.0.self_attn.k_proj.weight: unsupported dtype I32 (expected F32, F16 or BF16)");

  rewrite(p, q, [](std::vector<RawTensor>& ts) {
    ts.erase(std::remove_if(ts.begin(), ts.end(), [](const RawTensor& t) { return t.name == "lm_head.weight"; }),
             ts.end());
  });
  CHECK(error_of([&] { load_safetensors(q, cfg); }) == q + ": lm_head.weight: missing tensor");
  ModelConfig tied = cfg;
  tied.tied_embeddings = true;
  CHECK_NOTHROW(load_safetensors(q, tied));

  // A model file cut short: the last tensor written (the LM head) runs past the data.
  std::vector<uint8_t> bytes = read_bytes(p);
  bytes.resize(bytes.size() - 10);
  write_bytes(q, bytes);
  const SafetensorsFile whole(p);
  const SafetensorInfo& lm = whole.info("lm_head.weight");
  const uint64_t header = bytes[0] | uint64_t(bytes[1]) << 8;
  CHECK(error_of([&] { load_safetensors(q, cfg); }) ==
        q + ": lm_head.weight: data_offsets [" + std::to_string(lm.begin) + ", " + std::to_string(lm.end) +
            "] run past the end of the data (" + std::to_string(lm.end - 10) + " bytes at file offset " +
            std::to_string(8 + header) + ")");

  // A GPT-2 file for a Llama config: the first tensor looked for is missing.
  const std::string g = tmp_path("g.safetensors");
  save_safetensors(g, random_weights(gpt2_cfg(), 1));
  CHECK(error_of([&] { load_safetensors(g, cfg); }) == g + ": model.embed_tokens.weight: missing tensor");
  CHECK(error_of([&] { load_safetensors(tmp_path("nope.safetensors"), cfg); }) ==
        tmp_path("nope.safetensors") + ": cannot open: No such file or directory");
  CHECK(error_of([&] { load_safetensors("/tmp", cfg); }) == "/tmp: cannot open: not a regular file");
  std::remove(p.c_str());
  std::remove(q.c_str());
  std::remove(g.c_str());
}

TEST_CASE("File-level errors name the file and the byte offset or tensor", "[safetensors][errors]") {
  const std::string p = tmp_path("raw.safetensors");
  const auto err = [&] { return error_of([&] { SafetensorsFile f(p); }); };

  write_bytes(p, {1, 2, 3, 4, 5});
  CHECK(err() == p + ": offset 0: truncated file: 5 bytes, expected at least the 8-byte header length");

  write_raw(p, "{}", 10, 1000);
  CHECK(err() == p + ": offset 0: header length 1000 runs past the end of the file (20 bytes)");

  write_raw(p, "{\"w\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]", 8);
  const std::string json_err = err();
  CHECK_THAT(json_err, Catch::StartsWith(p + ": offset 67: malformed JSON header: [json.exception.parse_error.101]"));
  CHECK(json_err.find('\n') == std::string::npos);

  write_raw(p, "[1, 2]", 0);
  CHECK(err() == p + ": offset 8: the JSON header is not an object");

  const std::string h1 = R"({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}})";
  write_raw(p, h1, 4);  // data cut short
  CHECK(err() == p + ": w: data_offsets [0, 8] run past the end of the data (4 bytes at file offset " +
                     std::to_string(8 + h1.size()) + ")");

  const std::string h2 =
      R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}})";
  write_raw(p, h2, 12);
  CHECK(err() == p + ": b: data_offsets [4, 12] overlap a's [0, 8] (file offset " + std::to_string(8 + h2.size() + 4) +
                     ")");

  write_raw(p, R"({"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}})", 8);
  CHECK(err() == p + ": w: shape [3] of F32 needs 12 bytes, data_offsets [0, 8] hold 8");

  write_raw(p, R"({"w": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}})", 8);
  CHECK(err() == p + ": w: shape: expected non-negative integers, got [-2]");

  write_raw(p, R"({"w": {"dtype": "F32", "shape": [2], "data_offsets": [8, 0]}})", 8);
  CHECK(err() == p + ": w: data_offsets: expected [begin, end] with 0 <= begin <= end, got [8,0]");

  write_raw(p, R"({"w": {"dtype": "F32", "shape": [2]}})", 8);
  CHECK(err() == p + ": w: expected an object with dtype, shape and data_offsets");

  write_raw(p, R"({"__metadata__": {"format": 1}})", 0);
  CHECK(err() == p + ": __metadata__.format: expected a string, got 1");

  // Unknown dtypes pass the header checks; reading one as float does not.
  write_raw(p, R"({"__metadata__": {"format": "pt"}, "w": {"dtype": "I64", "shape": [1], "data_offsets": [0, 8]}})", 8);
  const SafetensorsFile f(p);
  CHECK(f.metadata().at("format") == "pt");
  CHECK(error_of([&] { f.read_floats("w"); }) == p + ": w: unsupported dtype I64 (expected F32, F16 or BF16)");
  CHECK(error_of([&] { f.info("x"); }) == p + ": x: missing tensor");
  std::remove(p.c_str());
}
