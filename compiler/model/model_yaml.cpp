// The project's YAML model format (docs/models.md "YAML model format"): every
// ModelConfig field under its own key, strict like the design points (unknown,
// duplicate and missing keys, wrong types and bad values are one-line
// "FILE:LINE: KEY: expected ..., got ..." errors via common/yaml_strict.h).
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "common/error.h"
#include "common/yaml_strict.h"
#include "model/model.h"

namespace clonesim::compiler {

namespace {

using namespace clonesim::yaml;

constexpr std::uintmax_t kMaxFileBytes = uint64_t(1) << 20;
constexpr long long kMaxSize = 0x7FFFFFFF;

const std::vector<std::string> kKeys = {
    "name",          "family",        "vocab",          "hidden",
    "intermediate",  "layers",        "heads",          "kv_heads",
    "head_dim",      "max_positions", "activation",     "gated_ffn",
    "norm",          "norm_eps",      "norm_plus_one",  "qkv_bias",
    "out_bias",      "mlp_bias",      "lm_head_bias",   "positions",
    "rope_theta",    "rotary_dim",    "learned_pos_offset", "sliding_window",
    "tied_embeddings", "parallel_block", "post_norm",   "final_norm",
    "embed_scale"};

bool read_bool(const Ctx& c, const Field& f) {
  if (f.node.IsScalar() && !quoted(f.node)) {
    if (f.node.Scalar() == "true") return true;
    if (f.node.Scalar() == "false") return false;
  }
  c.expected(f, "true or false");
}

ModelConfig read_root(const Ctx& c, const YAML::Node& root) {
  const Field rf{root, "", line_of(root, 1), 0};
  if (!root.IsMap()) c.expected(rf, "a model (a map with keys " + join(kKeys) + ")");
  MapView m(c, rf, kKeys);
  ModelConfig cfg;
  cfg.source = c.file();

  auto opt_bool = [&](const char* key, bool& dst) {
    if (const Field* f = m.find(key)) dst = read_bool(c, *f);
  };
  auto size = [&](const char* key) -> int64_t { return need_int(c, m, key, range(1, kMaxSize)); };

  cfg.name = read_name(c, m.need("name", "a non-empty one-line string"));
  if (const Field* f = m.find("family"))
    cfg.family = static_cast<Family>(
        read_enum(c, *f, {"llama", "mistral", "qwen2", "gemma", "opt", "gpt2", "phi", "custom"}));
  cfg.vocab = size("vocab");
  cfg.hidden = size("hidden");
  cfg.intermediate = size("intermediate");
  cfg.layers = size("layers");
  const Field& heads_f = m.need("heads", range(1, kMaxSize).describe());
  cfg.heads = read_int(c, heads_f, range(1, kMaxSize));
  cfg.kv_heads = cfg.heads;
  if (const Field* f = m.find("kv_heads")) {
    cfg.kv_heads = read_int(c, *f, range(1, kMaxSize));
    if (cfg.heads % cfg.kv_heads != 0)
      c.expected(*f, "a divisor of heads (" + std::to_string(cfg.heads) + ")",
                 std::to_string(cfg.kv_heads));
  }
  if (const Field* f = m.find("head_dim")) {
    cfg.head_dim = read_int(c, *f, range(1, kMaxSize));
  } else {
    if (cfg.hidden % cfg.heads != 0)
      c.expected(heads_f,
                 "a divisor of hidden (" + std::to_string(cfg.hidden) +
                     ") when head_dim is not given",
                 std::to_string(cfg.heads));
    cfg.head_dim = cfg.hidden / cfg.heads;
  }
  cfg.max_positions = size("max_positions");

  if (const Field* f = m.find("activation"))
    cfg.act = static_cast<Activation>(read_enum(c, *f, {"silu", "gelu", "gelu_tanh", "relu"}));
  opt_bool("gated_ffn", cfg.gated_ffn);
  if (const Field* f = m.find("norm"))
    cfg.norm = static_cast<NormKind>(read_enum(c, *f, {"rmsnorm", "layernorm"}));
  if (const Field* f = m.find("norm_eps")) cfg.norm_eps = read_real(c, *f, RealRule{0, 1, true});
  opt_bool("norm_plus_one", cfg.norm_plus_one);
  opt_bool("qkv_bias", cfg.qkv_bias);
  opt_bool("out_bias", cfg.out_bias);
  opt_bool("mlp_bias", cfg.mlp_bias);
  opt_bool("lm_head_bias", cfg.lm_head_bias);

  if (const Field* f = m.find("positions"))
    cfg.pos = static_cast<PosKind>(read_enum(c, *f, {"rotary", "learned"}));
  const bool rotary = cfg.pos == PosKind::Rotary;
  auto only_with = [&](const char* key, bool ok, const char* when) {
    if (const Field* f = m.find(key); f && !ok)
      c.fail(f->owner_line(), f->path, std::string("expected no ") + key + " with " + when);
  };
  only_with("rope_theta", rotary, "positions: learned");
  only_with("rotary_dim", rotary, "positions: learned");
  only_with("learned_pos_offset", !rotary, "positions: rotary");
  if (rotary) {
    cfg.rope_theta = 10000.0;
    if (const Field* f = m.find("rope_theta")) cfg.rope_theta = read_real(c, *f, RealRule{0, 1e12, true});
    cfg.rotary_dim = cfg.head_dim;
    if (const Field* f = m.find("rotary_dim")) {
      IntRule r = range(2, cfg.head_dim);
      r.multiple = 2;
      r.what = "an even integer 2..head_dim (" + std::to_string(cfg.head_dim) + ")";
      cfg.rotary_dim = read_int(c, *f, r);
    }
  } else {
    cfg.rope_theta = 0;
    cfg.rotary_dim = 0;
    if (const Field* f = m.find("learned_pos_offset"))
      cfg.learned_pos_offset = read_int(c, *f, range(0, 1 << 20));
  }
  if (const Field* f = m.find("sliding_window"))
    cfg.sliding_window = read_int(c, *f, range(0, kMaxSize));

  opt_bool("tied_embeddings", cfg.tied_embeddings);
  opt_bool("parallel_block", cfg.parallel_block);
  opt_bool("post_norm", cfg.post_norm);
  opt_bool("final_norm", cfg.final_norm);
  opt_bool("embed_scale", cfg.embed_scale);
  if (cfg.post_norm && cfg.parallel_block) {
    const Field* f = m.find("post_norm");
    c.expected(*f, "false with parallel_block: true (a parallel block normalises its input)", "true");
  }

  fill_uniform_layers(cfg);
  validate_model(cfg);
  return cfg;
}

}  // namespace

ModelConfig parse_model_yaml(const std::string& yaml_text, const std::string& source) {
  const Ctx c(source);
  const YAML::Node root =
      load_one_document(c, yaml_text, "a model (a map with keys " + join(kKeys) + ")");
  try {
    return read_root(c, root);
  } catch (const Error&) {
    throw;
  } catch (const YAML::Exception& e) {
    c.fail(e.mark.line >= 0 ? e.mark.line + 1 : 0, "", "unreadable model: " + e.msg);
  }
}

ModelConfig load_model_yaml(const std::string& path) {
  const Ctx c(path);
  return parse_model_yaml(read_text_file(c, path, "YAML model file", kMaxFileBytes), path);
}

}  // namespace clonesim::compiler
