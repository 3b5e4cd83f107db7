// Hugging Face config.json import (nlohmann::json).  One reader per family;
// each takes the fields that change the graph, applies the family's defaults
// for the ones left out (as the family's configuration class does), and
// rejects what the IR does not model (RoPE scaling, projected embeddings,
// QK-norm...) instead of ignoring it.  Every problem is one line
// "FILE: FIELD: expected ..., got ..."; malformed JSON is
// "FILE: offset N: JSON syntax error: ...".  docs/models.md lists per family
// the fields read and their defaults.
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/yaml_strict.h"
#include "model/model.h"

namespace clonesim::compiler {

namespace {

using json = nlohmann::json;
using clonesim::yaml::clip;
using clonesim::yaml::join;
using clonesim::yaml::num;
using clonesim::yaml::one_line;

constexpr int64_t kMaxSize = std::numeric_limits<int32_t>::max();
constexpr std::uintmax_t kMaxFileBytes = uint64_t(4) << 20;

const std::vector<std::string> kFamilies = {"llama", "mistral", "qwen2", "gemma",
                                            "opt",   "gpt2",    "phi"};

// What a JSON value is, for "got ..." in a message.
std::string got(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return "null";
    case json::value_t::object: return v.empty() ? "an empty object" : "an object";
    case json::value_t::array: return v.empty() ? "an empty list" : "a list";
    case json::value_t::string: return "the string \"" + clip(v.get<std::string>()) + "\"";
    case json::value_t::boolean: return v.get<bool>() ? "true" : "false";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float: return clip(v.dump());
    default: break;
  }
  return "?";
}

// The config being read: field look-ups with type and range checks.
class Reader {
 public:
  Reader(const json& j, std::string file) : j_(j), file_(std::move(file)) {}

  [[noreturn]] void fail(const std::string& key, const std::string& msg) const {
    throw Error(one_line(where(file_, 0, key) + ": " + msg));
  }
  [[noreturn]] void expected(const std::string& key, const std::string& what,
                             const std::string& g) const {
    fail(key, "expected " + what + ", got " + g);
  }
  [[noreturn]] void unsupported(const std::string& key, const std::string& why,
                                const std::string& g) const {
    fail(key, "unsupported: " + why + ", got " + g);
  }

  // The field's value, or nullptr when absent or null (null means "default"
  // in Hugging Face configs: n_inner, num_key_value_heads, sliding_window).
  const json* find(const std::string& key) const {
    const auto it = j_.find(key);
    if (it == j_.end() || it->is_null()) return nullptr;
    return &*it;
  }
  bool has(const std::string& key) const { return find(key) != nullptr; }

  // The first of `keys` present (aliases, e.g. n_embd / hidden_size); two
  // present with different values contradict each other.  "" when none.
  std::string pick(const std::vector<std::string>& keys) const {
    std::string first;
    for (const auto& k : keys) {
      const json* v = find(k);
      if (!v) continue;
      if (first.empty()) {
        first = k;
      } else if (*v != *find(first)) {
        expected(k, "the same value as " + first + " (" + clip(find(first)->dump()) + ")",
                 got(*v));
      }
    }
    return first;
  }

  int64_t as_int(const std::string& key, const json& v, int64_t lo) const {
    const std::string what = lo == 1 ? "a positive integer" : "an integer >= " + std::to_string(lo);
    int64_t x = 0;
    if (v.is_number_integer() && !v.is_number_unsigned()) {
      x = v.get<int64_t>();
    } else if (v.is_number_unsigned()) {
      const uint64_t u = v.get<uint64_t>();
      if (u > uint64_t(kMaxSize)) expected(key, what + " <= " + std::to_string(kMaxSize), got(v));
      x = int64_t(u);
    } else {
      expected(key, what, got(v));
    }
    if (x < lo) expected(key, what, got(v));
    if (x > kMaxSize) expected(key, what + " <= " + std::to_string(kMaxSize), got(v));
    return x;
  }

  int64_t need_int(const std::vector<std::string>& keys, int64_t lo = 1) const {
    const std::string k = pick(keys);
    if (k.empty())
      fail(keys.front(), std::string("missing required field, expected ") +
                             (lo == 1 ? "a positive integer" : "an integer"));
    return as_int(k, *find(k), lo);
  }
  int64_t opt_int(const std::vector<std::string>& keys, int64_t dflt, int64_t lo = 1) const {
    const std::string k = pick(keys);
    return k.empty() ? dflt : as_int(k, *find(k), lo);
  }

  // A finite number in (lo, hi] (lo_open) or [lo, hi].
  double opt_real(const std::string& key, double dflt, double lo, double hi, bool lo_open) const {
    const json* v = find(key);
    if (!v) return dflt;
    const std::string what = lo_open ? "a number > " + num(lo) + " and <= " + num(hi)
                                     : "a number " + num(lo) + ".." + num(hi);
    if (!v->is_number()) expected(key, what, got(*v));
    const double x = v->get<double>();
    if (!std::isfinite(x) || x > hi || x < lo || (lo_open && x == lo)) expected(key, what, got(*v));
    return x;
  }

  bool opt_bool(const std::string& key, bool dflt) const {
    const json* v = find(key);
    if (!v) return dflt;
    if (!v->is_boolean()) expected(key, "true or false", got(*v));
    return v->get<bool>();
  }

  std::string opt_string(const std::string& key, const std::string& dflt) const {
    const json* v = find(key);
    if (!v) return dflt;
    if (!v->is_string()) expected(key, "a string", got(*v));
    return v->get<std::string>();
  }

  const std::string& file() const { return file_; }

 private:
  const json& j_;
  std::string file_;
};

Activation read_activation(const Reader& r, const std::string& key, const std::string& dflt) {
  const std::vector<std::string> names = {"silu", "swish", "gelu", "gelu_new",
                                          "gelu_pytorch_tanh", "gelu_fast", "relu"};
  const json* v = r.find(key);
  if (v && !v->is_string()) r.expected(key, "one of " + join(names), got(*v));
  const std::string s = v ? v->get<std::string>() : dflt;
  if (s == "silu" || s == "swish") return Activation::Silu;
  if (s == "gelu") return Activation::Gelu;
  if (s == "gelu_new" || s == "gelu_pytorch_tanh" || s == "gelu_fast") return Activation::GeluTanh;
  if (s == "relu") return Activation::Relu;
  r.expected(key, "one of " + join(names), v ? got(*v) : s);
}

// rope_scaling changes the rotary frequencies; not modelled.
void no_rope_scaling(const Reader& r) {
  if (const json* v = r.find("rope_scaling"))
    r.unsupported("rope_scaling", "RoPE scaling is not modelled, expected null", got(*v));
}

// head_dim: the field if given, else `dflt` (> 0), else hidden / heads,
// which then must divide.
int64_t read_head_dim(const Reader& r, const ModelConfig& c, const std::string& heads_key,
                      const std::string& hidden_key, int64_t dflt, bool allow_field) {
  if (allow_field && r.has("head_dim")) return r.opt_int({"head_dim"}, 0);
  if (dflt > 0) return dflt;
  if (c.hidden % c.heads != 0)
    r.expected(heads_key,
               "a divisor of " + hidden_key + " (" + std::to_string(c.hidden) + ")" +
                   (allow_field ? " when head_dim is not given" : ""),
               std::to_string(c.heads));
  return c.hidden / c.heads;
}

void read_kv_heads(const Reader& r, ModelConfig& c, const std::string& heads_key) {
  c.kv_heads = r.opt_int({"num_key_value_heads"}, c.heads);
  if (c.heads % c.kv_heads != 0)
    r.expected("num_key_value_heads",
               "a divisor of " + heads_key + " (" + std::to_string(c.heads) + ")",
               std::to_string(c.kv_heads));
}

// Fields that only some families honour: where a family does not, a value
// that would change the graph is rejected rather than silently ignored.
void no_partial_rotary(const Reader& r) {
  if (const json* v = r.find("partial_rotary_factor"))
    if (!(v->is_number() && v->get<double>() == 1.0))
      r.unsupported("partial_rotary_factor", "partial rotary embedding in this family, expected 1",
                    got(*v));
}

// The dimensions llama-style and phi configs name alike (read in this order,
// so the first missing key is the one reported).
void read_hf_dims(const Reader& r, ModelConfig& c) {
  c.vocab = r.need_int({"vocab_size"});
  c.hidden = r.need_int({"hidden_size"});
  c.intermediate = r.need_int({"intermediate_size"});
  c.layers = r.need_int({"num_hidden_layers"});
  c.heads = r.need_int({"num_attention_heads"});
  c.max_positions = r.need_int({"max_position_embeddings"});
  read_kv_heads(r, c, "num_attention_heads");
}

// llama, mistral, qwen2, gemma: the Llama-style decoder.
void read_llama_like(const Reader& r, ModelConfig& c) {
  read_hf_dims(r, c);
  // GemmaConfig's default head_dim is 256 (not hidden / heads).
  c.head_dim = read_head_dim(r, c, "num_attention_heads", "hidden_size",
                             c.family == Family::Gemma ? 256 : 0, true);

  c.gated_ffn = true;
  c.norm = NormKind::RmsNorm;
  c.norm_eps = r.opt_real("rms_norm_eps", 1e-6, 0, 1, true);
  c.pos = PosKind::Rotary;
  c.rope_theta = r.opt_real("rope_theta", 10000.0, 0, 1e12, true);
  no_rope_scaling(r);
  no_partial_rotary(r);
  c.rotary_dim = c.head_dim;

  if (c.family == Family::Gemma) {
    // Gemma's MLP uses hidden_activation, defaulting to the tanh-approximate
    // GELU whatever hidden_act says (the original config.json has "gelu";
    // the Hugging Face implementation overrides it).
    c.act = read_activation(r, "hidden_activation", "gelu_pytorch_tanh");
    c.norm_plus_one = true;
    c.embed_scale = true;
  } else {
    c.act = read_activation(r, "hidden_act", "silu");
  }

  if (c.family == Family::Qwen2) {
    // Qwen2 has q/k/v biases and none on o_proj or the MLP, fixed by the
    // architecture (attention_bias is not read).
    c.qkv_bias = true;
    c.out_bias = false;
    c.mlp_bias = false;
    if (r.opt_bool("use_sliding_window", false))
      r.unsupported("use_sliding_window", "per-layer sliding-window attention is not modelled, expected false", "true");
  } else {
    c.qkv_bias = c.out_bias = r.opt_bool("attention_bias", false);
    c.mlp_bias = r.opt_bool("mlp_bias", false);
  }
  if (c.family == Family::Mistral) c.sliding_window = r.opt_int({"sliding_window"}, 0);

  c.tied_embeddings = r.opt_bool("tie_word_embeddings", c.family == Family::Gemma);
}

void read_opt(const Reader& r, ModelConfig& c) {
  c.vocab = r.need_int({"vocab_size"});
  c.hidden = r.need_int({"hidden_size"});
  c.intermediate = r.need_int({"ffn_dim"});
  c.layers = r.need_int({"num_hidden_layers"});
  c.heads = r.need_int({"num_attention_heads"});
  c.max_positions = r.need_int({"max_position_embeddings"});
  const int64_t proj = r.opt_int({"word_embed_proj_dim"}, c.hidden);
  if (proj != c.hidden)
    r.unsupported("word_embed_proj_dim",
                  "projected embeddings (project_in / project_out) are not modelled, expected "
                  "hidden_size (" + std::to_string(c.hidden) + ")",
                  std::to_string(proj));
  if (r.has("num_key_value_heads")) read_kv_heads(r, c, "num_attention_heads");
  else c.kv_heads = c.heads;
  if (c.kv_heads != c.heads)
    r.expected("num_key_value_heads", "num_attention_heads (" + std::to_string(c.heads) +
                                          "): OPT has multi-head attention",
               std::to_string(c.kv_heads));
  c.head_dim = read_head_dim(r, c, "num_attention_heads", "hidden_size", 0, false);
  if (!r.opt_bool("layer_norm_elementwise_affine", true))
    r.unsupported("layer_norm_elementwise_affine", "LayerNorm without weights, expected true",
                  "false");

  c.act = read_activation(r, "activation_function", "relu");
  c.gated_ffn = false;
  c.norm = NormKind::LayerNorm;
  c.norm_eps = 1e-5;  // torch.nn.LayerNorm's default; OPT has no field for it
  const bool before = r.opt_bool("do_layer_norm_before", true);
  c.post_norm = !before;
  c.final_norm = before && !r.opt_bool("_remove_final_layer_norm", false);
  const bool bias = r.opt_bool("enable_bias", true);
  c.qkv_bias = c.out_bias = c.mlp_bias = bias;
  c.pos = PosKind::Learned;
  c.learned_pos_offset = 2;  // OPTLearnedPositionalEmbedding's offset
  c.rotary_dim = 0;
  c.rope_theta = 0;
  c.tied_embeddings = r.opt_bool("tie_word_embeddings", true);
}

void read_gpt2(const Reader& r, ModelConfig& c) {
  c.vocab = r.need_int({"vocab_size"});
  const std::string hidden_key = r.pick({"n_embd", "hidden_size"});
  c.hidden = r.need_int({"n_embd", "hidden_size"});
  c.layers = r.need_int({"n_layer", "num_hidden_layers"});
  const std::string heads_key = r.pick({"n_head", "num_attention_heads"});
  c.heads = r.need_int({"n_head", "num_attention_heads"});
  c.max_positions = r.need_int({"n_positions", "max_position_embeddings"});
  c.intermediate = r.opt_int({"n_inner"}, 4 * c.hidden);
  c.kv_heads = c.heads;
  c.head_dim = read_head_dim(r, c, heads_key, hidden_key, 0, false);
  if (r.opt_bool("scale_attn_by_inverse_layer_idx", false))
    r.unsupported("scale_attn_by_inverse_layer_idx", "per-layer attention scaling is not modelled, expected false", "true");
  if (!r.opt_bool("scale_attn_weights", true))
    r.unsupported("scale_attn_weights", "unscaled attention scores are not modelled, expected true", "false");
  if (r.opt_bool("add_cross_attention", false))
    r.unsupported("add_cross_attention", "cross-attention (an encoder-decoder) is not modelled, expected false", "true");

  c.act = read_activation(r, "activation_function", "gelu_new");
  c.gated_ffn = false;
  c.norm = NormKind::LayerNorm;
  c.norm_eps = r.opt_real("layer_norm_epsilon", 1e-5, 0, 1, true);
  c.qkv_bias = c.out_bias = c.mlp_bias = true;
  c.pos = PosKind::Learned;
  c.rotary_dim = 0;
  c.rope_theta = 0;
  c.tied_embeddings = r.opt_bool("tie_word_embeddings", true);
}

void read_phi(const Reader& r, ModelConfig& c) {
  read_hf_dims(r, c);
  c.head_dim = read_head_dim(r, c, "num_attention_heads", "hidden_size", 0, false);
  if (r.opt_bool("qk_layernorm", false))
    r.unsupported("qk_layernorm", "LayerNorm on queries and keys is not modelled, expected false", "true");
  no_rope_scaling(r);

  const double f = r.opt_real("partial_rotary_factor", 0.5, 0, 1, true);
  // int(partial_rotary_factor * head_dim), as PhiAttention computes it.
  c.rotary_dim = static_cast<int64_t>(std::floor(f * double(c.head_dim)));
  if (c.rotary_dim < 2 || c.rotary_dim % 2 != 0)
    r.expected("partial_rotary_factor",
               "a factor giving an even rotary dimension >= 2 of head_dim (" +
                   std::to_string(c.head_dim) + ")",
               num(f) + " (rotary dimension " + std::to_string(c.rotary_dim) + ")");
  c.rope_theta = r.opt_real("rope_theta", 10000.0, 0, 1e12, true);
  c.pos = PosKind::Rotary;

  c.act = read_activation(r, "hidden_act", "gelu_new");
  c.gated_ffn = false;
  c.norm = NormKind::LayerNorm;
  c.norm_eps = r.opt_real("layer_norm_eps", 1e-5, 0, 1, true);
  c.qkv_bias = c.out_bias = c.mlp_bias = true;
  c.lm_head_bias = true;
  c.parallel_block = true;
  c.tied_embeddings = r.opt_bool("tie_word_embeddings", false);
}

// Parse, rejecting duplicate keys (nlohmann keeps the last silently).
json parse_json(const std::string& text, const std::string& file) {
  std::vector<std::set<std::string>> keys;
  json::parser_callback_t cb = [&](int, json::parse_event_t ev, json& parsed) {
    switch (ev) {
      case json::parse_event_t::object_start: keys.emplace_back(); break;
      case json::parse_event_t::object_end:
        if (!keys.empty()) keys.pop_back();
        break;
      case json::parse_event_t::key:
        if (!keys.empty() && parsed.is_string() &&
            !keys.back().insert(parsed.get<std::string>()).second)
          throw Error(one_line(where(file, 0, parsed.get<std::string>()) +
                               ": expected each field once, got a duplicate"));
        break;
      default: break;
    }
    return true;
  };
  try {
    return json::parse(text, cb);
  } catch (const json::parse_error& e) {
    // e.byte: 1-based index of the last character read; report the 0-based
    // offset of that character.  The message without nlohmann's prefix.
    std::string msg = e.what();
    const auto p = msg.find("parse error");
    if (p != std::string::npos) {
      const auto colon = msg.find(": ", p);
      if (colon != std::string::npos) msg = msg.substr(colon + 2);
    }
    const uint64_t off = e.byte > 0 ? uint64_t(e.byte - 1) : 0;
    throw Error(one_line(file + ": offset " + std::to_string(off) + ": JSON syntax error: " + msg));
  } catch (const json::exception& e) {
    throw Error(one_line(file + ": JSON error: " + e.what()));
  }
}

}  // namespace

ModelConfig parse_hf_config(const std::string& json_text, const std::string& source,
                            const std::string& name) {
  const json j = parse_json(json_text, source);
  const Reader r(j, source);
  if (!j.is_object())
    throw Error(one_line(source + ": expected a JSON object (a Hugging Face config.json), got " + got(j)));

  ModelConfig c;
  c.name = name;
  c.source = source;

  const json* mt = r.find("model_type");
  const std::string families = "one of " + join(kFamilies);
  if (!mt) r.fail("model_type", "missing required field, expected " + families);
  if (!mt->is_string())
    r.expected("model_type", families + " (a supported decoder-only architecture)", got(*mt));
  const std::string type = mt->get<std::string>();
  if (type == "llama") c.family = Family::Llama;
  else if (type == "mistral") c.family = Family::Mistral;
  else if (type == "qwen2") c.family = Family::Qwen2;
  else if (type == "gemma") c.family = Family::Gemma;
  else if (type == "opt") c.family = Family::Opt;
  else if (type == "gpt2") c.family = Family::Gpt2;
  else if (type == "phi") c.family = Family::Phi;
  else r.expected("model_type", families + " (a supported decoder-only architecture)", got(*mt));

  if (r.opt_bool("is_encoder_decoder", false))
    r.unsupported("is_encoder_decoder", "an encoder-decoder model, expected false", "true");
  if (const json* a = r.find("architectures")) {
    if (!a->is_array()) r.expected("architectures", "a list of class names", got(*a));
    for (const auto& e : *a) {
      if (!e.is_string()) r.expected("architectures", "a list of class names", "a list holding " + got(e));
      const std::string s = e.get<std::string>();
      auto ends = [&](const std::string& suf) {
        return s.size() >= suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0;
      };
      if (!ends("ForCausalLM") && !ends("LMHeadModel"))
        r.unsupported("architectures",
                      "not a causal language model, expected a class ending in ForCausalLM or LMHeadModel",
                      got(e));
    }
  }

  switch (c.family) {
    case Family::Llama:
    case Family::Mistral:
    case Family::Qwen2:
    case Family::Gemma: read_llama_like(r, c); break;
    case Family::Opt: read_opt(r, c); break;
    case Family::Gpt2: read_gpt2(r, c); break;
    case Family::Phi: read_phi(r, c); break;
    case Family::Custom: break;
  }
  fill_uniform_layers(c);
  validate_model(c);
  return c;
}

ModelConfig import_hf_config(const std::string& path) {
  const yaml::Ctx ctx(path);
  const std::string text = yaml::read_text_file(ctx, path, "Hugging Face config.json", kMaxFileBytes);
  namespace fs = std::filesystem;
  const fs::path p(path);
  std::string name = p.stem().string();
  if (name == "config") {
    const std::string dir = fs::absolute(p).parent_path().filename().string();
    name = dir.empty() ? "model" : dir;
  }
  return parse_hf_config(text, path, name);
}

}  // namespace clonesim::compiler
