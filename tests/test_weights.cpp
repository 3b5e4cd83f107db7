// Compiler weights: the layout, the deterministic generator, config checks and
// structured pruning (docs/weights.md).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <random>

#include "weights/model_weights.h"
#include "weights/prune.h"
#include "weights_test_util.h"

using namespace clonesim::compiler;
using namespace wtest;

namespace {

uint32_t bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

// The documented generator, written out again: FNV-1a 64 of the name, a
// mt19937_64 seeded with seed ^ hash, each normal = (sum of the 32-bit halves
// of six draws - 6 * 2^32) / 2^32.
std::vector<float> reference_stream(uint64_t seed, const std::string& name, double mean, double stddev, size_t n) {
  uint64_t h = 14695981039346656037ULL;
  for (unsigned char c : name) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  std::mt19937_64 rng(seed ^ h);
  std::vector<float> out;
  for (size_t i = 0; i < n; ++i) {
    int64_t s = 0;
    for (int j = 0; j < 6; ++j) {
      const uint64_t d = rng();
      s += int64_t(d >> 32) + int64_t(d & 0xffffffffu);
    }
    out.push_back(float(mean + stddev * (double(s - 6 * 4294967296LL) / 4294967296.0)));
  }
  return out;
}

}  // namespace

TEST_CASE("The generator's parts: FNV-1a 64 and mt19937_64 are the standard ones", "[weights]") {
  CHECK(fnv1a64("") == 0xcbf29ce484222325ULL);
  CHECK(fnv1a64("a") == 0xaf63dc4c8601ec8cULL);
  CHECK(fnv1a64("foobar") == 0x85944171f73967e8ULL);
  std::mt19937_64 rng;  // default seed 5489: the standard pins its 10000th output
  rng.discard(9999);
  CHECK(rng() == 9981545732273789042ULL);
  const uint64_t mid[6] = {0x8000000080000000ULL, 0x8000000080000000ULL, 0x8000000080000000ULL,
                           0x8000000080000000ULL, 0x8000000080000000ULL, 0x8000000080000000ULL};
  CHECK(irwin_hall_normal(mid) == 0.0);  // twelve halves of exactly 1/2
  const uint64_t top[6] = {~0ULL, ~0ULL, ~0ULL, ~0ULL, ~0ULL, ~0ULL};
  CHECK(irwin_hall_normal(top) == 6.0 - 12.0 / 4294967296.0);
}

TEST_CASE("random_weights is deterministic and follows the documented generator", "[weights]") {
  const ModelConfig cfg = llama_cfg();
  const ModelWeights a = random_weights(cfg, 42), b = random_weights(cfg, 42), c = random_weights(cfg, 43);
  CHECK(same_weights(a, b));
  CHECK_FALSE(same_weights(a, c));

  // First values of three tensors recomputed from the documented rule.
  const double emb_sd = 1.0 / std::sqrt(16.0);
  const std::vector<float> e = reference_stream(42, "embed", 0.0, emb_sd, 8);
  for (size_t i = 0; i < e.size(); ++i) CHECK(bits(a.embed.data[i]) == bits(e[i]));
  const std::vector<float> q = reference_stream(42, "layers.1.q.w", 0.0, 1.0 / std::sqrt(16.0), 8);
  for (size_t i = 0; i < q.size(); ++i) CHECK(bits(a.layers[1].q.w.data[i]) == bits(q[i]));
  const std::vector<float> down = reference_stream(42, "layers.0.down.w", 0.0, 1.0 / std::sqrt(24.0), 8);
  for (size_t i = 0; i < down.size(); ++i) CHECK(bits(a.layers[0].down.w.data[i]) == bits(down[i]));
  const std::vector<float> nw = reference_stream(42, "layers.0.attn_norm.w", 1.0, 0.1, 4);
  for (size_t i = 0; i < nw.size(); ++i) CHECK(bits(a.layers[0].attn_norm.w.data[i]) == bits(nw[i]));

  // A pinned checksum of the first 64 embedding values (FNV-1a over their
  // little-endian bits), so a change of the generator cannot go unnoticed even
  // if the two implementations above changed together.
  uint64_t h = 14695981039346656037ULL;
  for (size_t i = 0; i < 64; ++i)
    for (int j = 0; j < 4; ++j) {
      h ^= (bits(a.embed.data[i]) >> (8 * j)) & 0xff;
      h *= 1099511628211ULL;
    }
  CHECK(h == 0x8bf63b872514cde6ULL);
  CHECK(bits(a.embed.data[0]) == 0x3d9d44cdu);  // 0.0768...: z = 0.307 at stddev 1/4
}

TEST_CASE("random_weights: shapes follow the pruned per-layer dims, scales as documented", "[weights]") {
  ModelConfig cfg = llama_cfg();
  cfg.layers = 3;
  cfg.layer = {{4, 2, 24, 0}, {2, 1, 10, 2}};  // layer 1 dropped; layer 2 keeps one KV group
  const ModelWeights w = random_weights(cfg, 7);
  REQUIRE(w.layers.size() == 2);
  CHECK(w.embed.shape == std::vector<int64_t>{37, 16});
  CHECK(w.pos_embed.empty());
  CHECK(w.layers[0].q.w.shape == std::vector<int64_t>{16, 16});
  CHECK(w.layers[0].k.w.shape == std::vector<int64_t>{16, 8});
  CHECK(w.layers[1].q.w.shape == std::vector<int64_t>{16, 8});
  CHECK(w.layers[1].k.w.shape == std::vector<int64_t>{16, 4});
  CHECK(w.layers[1].v.w.shape == std::vector<int64_t>{16, 4});
  CHECK(w.layers[1].o.w.shape == std::vector<int64_t>{8, 16});
  CHECK(w.layers[1].gate.w.shape == std::vector<int64_t>{16, 10});
  CHECK(w.layers[1].up.w.shape == std::vector<int64_t>{16, 10});
  CHECK(w.layers[1].down.w.shape == std::vector<int64_t>{10, 16});
  CHECK(w.layers[1].q.b.empty());
  CHECK(w.layers[1].fc1.w.empty());
  CHECK(w.final_norm.w.shape == std::vector<int64_t>{16});
  CHECK(w.lm_head.w.shape == std::vector<int64_t>{16, 37});
  CHECK_NOTHROW(check_weights(w));

  // Standard deviations of large tensors near the documented values.
  ModelConfig big = llama_cfg();
  big.hidden = 256;
  big.intermediate = 512;
  big.heads = 8;
  big.kv_heads = 8;
  big.head_dim = 32;
  big.rotary_dim = 32;
  big.layers = 1;
  uniform_layers(big);
  const ModelWeights bw = random_weights(big, 1);
  const auto sd = [](const Tensor& t, double mean) {
    double s = 0;
    for (float v : t.data) s += (v - mean) * (v - mean);
    return std::sqrt(s / double(t.data.size()));
  };
  CHECK(sd(bw.layers[0].q.w, 0) == Approx(1.0 / 16).epsilon(0.02));
  CHECK(sd(bw.layers[0].down.w, 0) == Approx(1.0 / std::sqrt(512.0)).epsilon(0.02));
  CHECK(sd(bw.embed, 0) == Approx(1.0 / 16).epsilon(0.05));
  CHECK(sd(bw.layers[0].attn_norm.w, 1.0) == Approx(0.1).epsilon(0.2));

  // Gemma stores w of a (1 + w) norm: centred on 0.
  const ModelWeights g = random_weights(gemma_cfg(), 1);
  double mean = 0;
  for (float v : g.layers[0].attn_norm.w.data) mean += v;
  CHECK(std::fabs(mean / 16) < 0.1);
  CHECK(g.lm_head.w.empty());  // tied
}

TEST_CASE("Tensor sets per family: biases, LayerNorm, learned positions, parallel block", "[weights]") {
  const ModelWeights o = random_weights(opt_cfg(), 1);
  CHECK(o.pos_embed.shape == std::vector<int64_t>{16, 12});
  CHECK(o.layers[0].attn_norm.b.shape == std::vector<int64_t>{12});
  CHECK(o.layers[0].q.b.shape == std::vector<int64_t>{12});
  CHECK(o.layers[0].o.b.shape == std::vector<int64_t>{12});
  CHECK(o.layers[0].fc1.w.shape == std::vector<int64_t>{12, 20});
  CHECK(o.layers[0].fc1.b.shape == std::vector<int64_t>{20});
  CHECK(o.layers[0].fc2.w.shape == std::vector<int64_t>{20, 12});
  CHECK(o.layers[0].gate.w.empty());
  CHECK(o.final_norm.b.shape == std::vector<int64_t>{12});
  CHECK(o.lm_head.w.empty());

  const ModelWeights p = random_weights(phi_cfg(), 1);
  CHECK(p.layers[0].ffn_norm.w.empty());
  CHECK(p.lm_head.b.shape == std::vector<int64_t>{31});
  CHECK(p.lm_head.w.shape == std::vector<int64_t>{16, 31});

  std::vector<std::string> names;
  for (const NamedLinear& l : linears(p)) names.push_back(l.name);
  CHECK(names == std::vector<std::string>{"layers.0.q", "layers.0.k", "layers.0.v", "layers.0.o", "layers.0.fc1",
                                          "layers.0.fc2", "layers.1.q", "layers.1.k", "layers.1.v", "layers.1.o",
                                          "layers.1.fc1", "layers.1.fc2", "lm_head"});
  // The tied LM head matrix is the embedding transposed.
  const Tensor lm = lm_head_matrix(o);
  CHECK(lm.shape == std::vector<int64_t>{12, 29});
  CHECK(lm.at(3, 5) == o.embed.at(5, 3));
}

TEST_CASE("Config checks name the key", "[weights]") {
  ModelConfig c = llama_cfg();
  c.layer[1].q_heads = 3;
  CHECK(error_of([&] { random_weights(c, 1); }) ==
        "tiny-llama: layer[1].q_heads: expected a multiple of kv_heads 2 with at most 2 query heads per kv head, got 3");
  c = llama_cfg();
  c.layer[0].ffn = 25;
  CHECK(error_of([&] { random_weights(c, 1); }) == "tiny-llama: layer[0].ffn: expected 1..24, got 25");
  c = llama_cfg();
  c.source = "cfg/tiny.json";
  c.layer[1].source_layer = 0;
  CHECK(error_of([&] { random_weights(c, 1); }) ==
        "cfg/tiny.json: layer[1].source_layer: expected 1..1 (increasing), got 0");
  c = llama_cfg();
  c.rotary_dim = 3;
  CHECK(error_of([&] { random_weights(c, 1); }) == "tiny-llama: rotary_dim: expected an even value <= head_dim 4, got 3");
  c = llama_cfg();
  c.kv_heads = 3;
  CHECK(error_of([&] { random_weights(c, 1); }) == "tiny-llama: kv_heads: heads 4 is not a multiple of kv_heads 3");

  ModelWeights w = random_weights(llama_cfg(), 1);
  w.layers[0].up.w = Tensor({24, 16});
  CHECK(error_of([&] { check_weights(w); }) == "weights of tiny-llama: layers.0.up.w: expected shape [16, 24], got [24, 16]");
  w = random_weights(llama_cfg(), 1);
  w.layers[1].q.b = Tensor({16});
  CHECK(error_of([&] { check_weights(w); }) ==
        "weights of tiny-llama: layers.1.q.b: unexpected tensor of shape [16] for this config");
}

TEST_CASE("Pruning keeps whole KV groups, then q heads, then FFN channels by L2 norm", "[weights][prune]") {
  // heads 4 on kv 2 (groups {0,1} and {2,3}), head_dim 4.
  ModelConfig full = llama_cfg();
  ModelWeights w = random_weights(full, 3);
  LayerWeights& l = w.layers[1];
  // Make KV group 1 clearly more important, and within it q head 2 over head 3.
  for (int64_t r = 0; r < 16; ++r)
    for (int64_t c = 4; c < 8; ++c) l.v.w.at(r, c) *= 10;
  for (int64_t r = 8; r < 12; ++r)
    for (int64_t c = 0; c < 16; ++c) l.o.w.at(r, c) *= 10;  // o rows of q head 2
  // FFN channels 5, 17, 20 most important (gate col, up col, down row in turn).
  for (int64_t r = 0; r < 16; ++r) l.gate.w.at(r, 5) *= 10;
  for (int64_t r = 0; r < 16; ++r) l.up.w.at(r, 17) *= 10;
  for (int64_t c = 0; c < 16; ++c) l.down.w.at(20, c) *= 10;

  const HeadSelection sel = select_heads(l, 4, 4, 2, 1, 1);
  CHECK(sel.kv_heads == std::vector<int64_t>{1});
  CHECK(sel.q_heads == std::vector<int64_t>{2});
  const HeadSelection both = select_heads(l, 4, 4, 2, 2, 1);
  CHECK(both.q_heads == std::vector<int64_t>{2, 3});
  CHECK(select_ffn_channels(l, true, 3) == std::vector<int64_t>{5, 17, 20});

  ModelConfig cut = full;
  cut.layer = {{2, 1, 3, 1}};  // keep only layer 1: one group, both its q heads, 3 channels
  const ModelWeights p = prune_weights(w, cut);
  REQUIRE(p.layers.size() == 1);
  const LayerWeights& pl = p.layers[0];
  for (int64_t r = 0; r < 16; ++r) {
    for (int64_t c = 0; c < 8; ++c) CHECK(pl.q.w.at(r, c) == l.q.w.at(r, 8 + c));  // q heads 2, 3
    for (int64_t c = 0; c < 4; ++c) CHECK(pl.k.w.at(r, c) == l.k.w.at(r, 4 + c));  // kv head 1
    CHECK(pl.gate.w.at(r, 0) == l.gate.w.at(r, 5));
    CHECK(pl.up.w.at(r, 1) == l.up.w.at(r, 17));
    CHECK(pl.down.w.at(2, r) == l.down.w.at(20, r));
    CHECK(pl.o.w.at(0, r) == l.o.w.at(8, r));
  }
  CHECK(pl.attn_norm.w.data == l.attn_norm.w.data);
  CHECK_NOTHROW(check_weights(p));
  CHECK(error_of([&] { prune_weights(p, cut); }) == "tiny-llama: layer: prune_weights needs the unpruned weights of the same model");
}
