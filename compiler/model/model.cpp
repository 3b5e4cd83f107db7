// Names, the model invariants, the shipped models (configs/models/, compiled
// into the library by lib/hw/embed_configs.cmake), recipes and the summary.
#include "model/model.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <iomanip>
#include <sstream>
#include <system_error>

#include "common/error.h"
#include "common/yaml_strict.h"
#include "model/compress.h"
#include "model/embedded_models.h"

namespace clonesim::compiler {

using clonesim::yaml::join;
using clonesim::yaml::num;
using clonesim::yaml::one_line;

const char* to_string(Family f) {
  switch (f) {
    case Family::Llama: return "llama";
    case Family::Mistral: return "mistral";
    case Family::Qwen2: return "qwen2";
    case Family::Gemma: return "gemma";
    case Family::Opt: return "opt";
    case Family::Gpt2: return "gpt2";
    case Family::Phi: return "phi";
    case Family::Custom: return "custom";
  }
  return "?";
}

const char* to_string(Activation a) {
  switch (a) {
    case Activation::Silu: return "silu";
    case Activation::Gelu: return "gelu";
    case Activation::GeluTanh: return "gelu_tanh";
    case Activation::Relu: return "relu";
  }
  return "?";
}

const char* to_string(NormKind n) { return n == NormKind::RmsNorm ? "rmsnorm" : "layernorm"; }
const char* to_string(PosKind p) { return p == PosKind::Rotary ? "rotary" : "learned"; }
const char* to_string(WeightType w) { return w == WeightType::Int4 ? "int4" : "int8"; }

namespace {

[[noreturn]] void model_error(const ModelConfig& c, const std::string& field,
                              const std::string& what, const std::string& got) {
  const std::string who = c.source.empty() ? (c.name.empty() ? "model" : c.name) : c.source;
  throw Error(one_line(who + ": " + field + ": expected " + what + ", got " + got));
}

// The model-wide fields (everything but cfg.layer).
void validate_scalars(const ModelConfig& c) {
  auto bad = [&](const std::string& field, const std::string& what, const std::string& got) {
    model_error(c, field, what, got);
  };
  auto positive = [&](const char* field, int64_t v) {
    if (v < 1) bad(field, "a positive integer", std::to_string(v));
  };
  positive("vocab", c.vocab);
  positive("hidden", c.hidden);
  positive("intermediate", c.intermediate);
  positive("layers", c.layers);
  positive("heads", c.heads);
  positive("kv_heads", c.kv_heads);
  positive("head_dim", c.head_dim);
  positive("max_positions", c.max_positions);
  if (c.heads % c.kv_heads != 0)
    bad("kv_heads", "a divisor of heads (" + std::to_string(c.heads) + ")", std::to_string(c.kv_heads));
  if (!(c.norm_eps > 0) || !std::isfinite(c.norm_eps)) bad("norm_eps", "a number > 0", num(c.norm_eps));
  if (c.pos == PosKind::Rotary) {
    if (c.rotary_dim < 2 || c.rotary_dim > c.head_dim || c.rotary_dim % 2 != 0)
      bad("rotary_dim", "an even integer 2..head_dim (" + std::to_string(c.head_dim) + ")",
          std::to_string(c.rotary_dim));
    if (!(c.rope_theta > 0) || !std::isfinite(c.rope_theta))
      bad("rope_theta", "a number > 0", num(c.rope_theta));
  } else if (c.learned_pos_offset < 0) {
    bad("learned_pos_offset", "an integer >= 0", std::to_string(c.learned_pos_offset));
  }
  if (c.sliding_window < 0) bad("sliding_window", "an integer >= 0", std::to_string(c.sliding_window));
  if (c.post_norm && c.parallel_block) bad("post_norm", "false with parallel_block", "true");

  // Every count downstream is int64: keep the model far from overflowing it.
  {
    const double h = double(c.hidden), q = double(c.heads) * double(c.head_dim),
                 kv = double(c.kv_heads) * double(c.head_dim);
    const double per_layer = h * (q + 2 * kv) + q * h + 3 * h * double(c.intermediate) +
                             2 * double(c.max_positions) * kv;
    const double total = double(c.layers) * per_layer +
                         (double(c.vocab) * 2 + double(c.max_positions + c.learned_pos_offset)) * h;
    if (total > 1e15) {
      std::ostringstream os;
      os << std::setprecision(2) << total;
      bad("model size", "at most 1e15 weights and KV-cache entries", "about " + os.str());
    }
  }
}

}  // namespace

void fill_uniform_layers(ModelConfig& cfg) {
  validate_scalars(cfg);
  cfg.layer.clear();
  for (int64_t i = 0; i < cfg.layers; ++i)
    cfg.layer.push_back(LayerDims{cfg.heads, cfg.kv_heads, cfg.intermediate, i});
}

void validate_model(const ModelConfig& c) {
  validate_scalars(c);
  auto bad = [&](const std::string& field, const std::string& what, const std::string& got) {
    model_error(c, field, what, got);
  };
  if (c.layer.empty()) bad("layer", "at least one layer", "none");
  if (int64_t(c.layer.size()) > c.layers)
    bad("layer", "at most layers (" + std::to_string(c.layers) + ") entries",
        std::to_string(c.layer.size()));
  const int64_t group = c.heads / c.kv_heads;
  int64_t prev = -1;
  for (size_t i = 0; i < c.layer.size(); ++i) {
    const LayerDims& d = c.layer[i];
    const std::string f = "layer[" + std::to_string(i) + "].";
    if (d.source_layer <= prev || d.source_layer >= c.layers)
      bad(f + "source_layer",
          "an index " + std::to_string(prev + 1) + ".." + std::to_string(c.layers - 1) +
              " (increasing)",
          std::to_string(d.source_layer));
    prev = d.source_layer;
    if (d.kv_heads < 1 || d.kv_heads > c.kv_heads)
      bad(f + "kv_heads", "1.." + std::to_string(c.kv_heads), std::to_string(d.kv_heads));
    if (c.kv_heads == 1) {
      // MQA: the one KV head stays; query heads are pruned singly.
      if (d.q_heads < 1 || d.q_heads > c.heads)
        bad(f + "q_heads", "1.." + std::to_string(c.heads), std::to_string(d.q_heads));
    } else if (d.q_heads != d.kv_heads * group) {
      bad(f + "q_heads",
          "kv_heads * " + std::to_string(group) + " (whole groups of the model's " +
              std::to_string(group) + " query heads per KV head) = " +
              std::to_string(d.kv_heads * group),
          std::to_string(d.q_heads));
    }
    if (d.ffn < 1 || d.ffn > c.intermediate)
      bad(f + "ffn", "1.." + std::to_string(c.intermediate), std::to_string(d.ffn));
  }
}

// --- shipped models ------------------------------------------------------------

namespace {

bool ends_with(const std::string& s, const std::string& suf) {
  return s.size() >= suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0;
}

std::string stem_of(const std::string& file) {
  const auto dot = file.rfind('.');
  return dot == std::string::npos ? file : file.substr(0, dot);
}

ModelConfig parse_by_extension(const std::string& text, const std::string& file,
                               const std::string& source, const std::string& name) {
  if (ends_with(file, ".json")) return parse_hf_config(text, source, name);
  return parse_model_yaml(text, source);
}

}  // namespace

std::vector<std::string> shipped_model_names() {
  std::vector<std::string> names;
  for (size_t i = 0; i < detail::kNumEmbeddedModels; ++i)
    names.push_back(stem_of(detail::kEmbeddedModels[i].name));
  std::sort(names.begin(), names.end());
  return names;
}

ModelConfig load_model_or_named(const std::string& path_or_name) {
  std::error_code ec;
  if (std::filesystem::is_regular_file(path_or_name, ec)) {
    if (ends_with(path_or_name, ".json")) return import_hf_config(path_or_name);
    if (ends_with(path_or_name, ".yaml") || ends_with(path_or_name, ".yml"))
      return load_model_yaml(path_or_name);
    throw Error(one_line(path_or_name +
                         ": expected a .json (Hugging Face config.json) or .yaml (model) file, "
                         "got neither extension"));
  }
  std::string name = path_or_name;
  for (const char* ext : {".json", ".yaml"})
    if (ends_with(name, ext) && name.size() > std::string(ext).size()) name = stem_of(name);
  for (size_t i = 0; i < detail::kNumEmbeddedModels; ++i) {
    const std::string file = detail::kEmbeddedModels[i].name;
    if (stem_of(file) == name)
      return parse_by_extension(detail::kEmbeddedModels[i].text, file, "configs/models/" + file,
                                name);
  }
  throw Error(one_line("unknown model '" + path_or_name + "': not a file, and not one of " +
                       join(shipped_model_names())));
}

// --- recipes -------------------------------------------------------------------

QuantRecipe parse_recipe(const std::string& name) {
  auto fail = [&]() -> QuantRecipe {
    throw Error(one_line("recipe: expected W8A8 or W4A8, optionally with -gN for K-groups of N "
                         "(e.g. W4A8-g128), got '" +
                         clonesim::yaml::clip(name) + "'"));
  };
  std::string u;
  for (char ch : name) u += char(std::toupper(static_cast<unsigned char>(ch)));
  QuantRecipe r;
  std::string base = u, suffix;
  const auto dash = u.find('-');
  if (dash != std::string::npos) {
    base = u.substr(0, dash);
    suffix = u.substr(dash + 1);
  }
  if (base == "W8A8") r.weights = WeightType::Int8;
  else if (base == "W4A8") r.weights = WeightType::Int4;
  else return fail();
  if (dash != std::string::npos) {
    if (suffix.size() < 2 || suffix[0] != 'G') return fail();
    long long g = 0;
    if (!clonesim::yaml::parse_integer(suffix.substr(1), g) || g < 1 || g > (1 << 20) ||
        suffix[1] == '+' || suffix[1] == '-')
      return fail();
    r.group = g;
  }
  r.name = base + (r.group ? "-g" + std::to_string(r.group) : "");
  r.kv_int8 = true;
  return r;
}

// --- summary -------------------------------------------------------------------

namespace {

std::string grouped(int64_t v) {
  std::string s = std::to_string(v < 0 ? -v : v), out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i && (s.size() - i) % 3 == 0) out += ',';
    out += s[i];
  }
  return v < 0 ? "-" + out : out;
}

std::string mib(int64_t bytes) {
  std::ostringstream os;
  os << std::fixed << std::setprecision(1) << double(bytes) / (1024.0 * 1024.0) << " MiB";
  return os.str();
}

}  // namespace

std::string describe_model(const ModelConfig& c, const QuantRecipe& recipe) {
  const ModelStats s = model_stats(c, recipe);
  std::ostringstream os;
  auto row = [&](const std::string& label, const std::string& value) {
    os << std::left << std::setw(13) << label << value << "\n";
  };
  row("model", c.name + " (" + to_string(c.family) + ")");
  row("source", c.source.empty() ? "(built in)" : c.source);
  row("layers", std::to_string(c.layer.size()) + " of " + std::to_string(c.layers));
  row("dims", "hidden " + std::to_string(c.hidden) + ", FFN " + std::to_string(c.intermediate) +
                  ", vocab " + std::to_string(c.vocab) + ", max positions " +
                  std::to_string(c.max_positions));
  std::string kind = c.kv_heads == c.heads ? "MHA" : (c.kv_heads == 1 ? "MQA" : "GQA");
  std::string attn = std::to_string(c.heads) + " heads x " + std::to_string(c.head_dim) + ", " +
                     std::to_string(c.kv_heads) + " KV heads (" + kind + ")";
  if (c.qkv_bias) attn += ", q/k/v bias";
  if (c.out_bias) attn += ", out bias";
  if (c.sliding_window) attn += ", sliding window " + std::to_string(c.sliding_window);
  row("attention", attn);
  row("FFN", std::string(c.gated_ffn ? "gated" : "plain") + ", " + to_string(c.act) +
                 (c.mlp_bias ? ", bias" : ""));
  std::string norm = std::string(to_string(c.norm)) + " eps " + num(c.norm_eps);
  if (c.norm_plus_one) norm += ", (1 + w)";
  norm += c.post_norm ? ", after the residual add" : ", before each sublayer";
  if (!c.final_norm) norm += ", no final norm";
  row("norm", norm);
  std::string pos;
  if (c.pos == PosKind::Rotary)
    pos = "rotary, " + std::to_string(c.rotary_dim) + " of " + std::to_string(c.head_dim) +
          " dims, theta " + num(c.rope_theta);
  else
    pos = "learned" + (c.learned_pos_offset ? " (offset " + std::to_string(c.learned_pos_offset) + ")"
                                            : std::string());
  row("positions", pos);
  std::string block = c.parallel_block ? "parallel attention + FFN" : "sequential";
  block += c.tied_embeddings ? ", tied embeddings" : ", separate LM head";
  if (c.lm_head_bias) block += " (bias)";
  if (c.embed_scale) block += ", embeddings x sqrt(hidden)";
  row("block", block);
  row("parameters", grouped(s.total_params) + " (embedding " + grouped(s.embedding_params) +
                        ", layers " + grouped(s.layer_params) + ", LM head " +
                        grouped(s.lm_head_params) + ")");
  row("weights", recipe.name + ": " + grouped(s.weight_bytes) + " bytes (" + mib(s.weight_bytes) +
                     ", scales " + grouped(s.scale_bytes) + " bytes)");
  row("KV cache", grouped(s.kv_bytes_per_token) + " bytes per token (" +
                      (recipe.kv_int8 ? "int8" : "int16") + ")");

  bool pruned = int64_t(c.layer.size()) != c.layers;
  for (const auto& d : c.layer)
    if (d.q_heads != c.heads || d.ffn != c.intermediate) pruned = true;
  if (pruned) {
    std::string dropped;
    int64_t next = 0;
    for (const auto& d : c.layer) {
      for (; next < d.source_layer; ++next) dropped += (dropped.empty() ? "" : ", ") + std::to_string(next);
      next = d.source_layer + 1;
    }
    for (; next < c.layers; ++next) dropped += (dropped.empty() ? "" : ", ") + std::to_string(next);
    if (!dropped.empty()) row("dropped", dropped);
    for (const auto& d : c.layer)
      row(d.source_layer == c.layer.front().source_layer ? "kept" : "",
          "layer " + std::to_string(d.source_layer) + ": " + std::to_string(d.q_heads) + " heads, " +
              std::to_string(d.kv_heads) + " KV heads, FFN " + std::to_string(d.ffn));
  }
  return os.str();
}

}  // namespace clonesim::compiler
