// Model import: Hugging Face config.json (llama, mistral, qwen2, gemma, opt,
// gpt2, phi), the project's YAML model format, the shipped models compiled
// into the library, and a printable summary.  Every problem with an input is
// a clonesim::Error with one line naming the file and the field.
// docs/models.md documents the formats and what each family honours.
#pragma once

#include <string>
#include <vector>

#include "model/model_config.h"

namespace clonesim::compiler {

// Lower-case names as the YAML format spells them: "llama", "silu",
// "gelu_tanh", "rmsnorm", "rotary", "int4".
const char* to_string(Family f);
const char* to_string(Activation a);
const char* to_string(NormKind n);
const char* to_string(PosKind p);
const char* to_string(WeightType w);

// Head dimension * heads and friends, for the unpruned model.
inline int64_t q_width(const ModelConfig& c) { return c.heads * c.head_dim; }
inline int64_t kv_width(const ModelConfig& c) { return c.kv_heads * c.head_dim; }

// cfg.layer = one entry per layer with the unpruned dimensions.
void fill_uniform_layers(ModelConfig& cfg);

// Checks the invariants every consumer relies on (positive sizes, kv_heads
// dividing heads, rotary_dim even and <= head_dim, cfg.layer consistent:
// each entry's q_heads a multiple of its kv_heads with the model's group
// size or MQA, source_layer strictly increasing and < layers, ffn <=
// intermediate).  Throws "MODEL: FIELD: expected ..., got ...".
void validate_model(const ModelConfig& cfg);

// --- Hugging Face config.json ------------------------------------------------

// Parse the text of a config.json; `source` names it in messages and becomes
// cfg.source; `name` becomes cfg.name.
ModelConfig parse_hf_config(const std::string& json_text, const std::string& source,
                            const std::string& name);
// Read a config.json file.  cfg.name is the file's stem, or its directory's
// name when the file is called config.json.
ModelConfig import_hf_config(const std::string& path);

// --- the YAML model format ---------------------------------------------------

ModelConfig parse_model_yaml(const std::string& yaml_text, const std::string& source);
ModelConfig load_model_yaml(const std::string& path);

// --- shipped models ----------------------------------------------------------

// Names of the models in configs/models/ (compiled into the library), sorted.
std::vector<std::string> shipped_model_names();
// A file path (.json: Hugging Face config, .yaml/.yml: the YAML format), or
// the name of a shipped model (with or without its extension).  An unknown
// name lists the shipped ones.
ModelConfig load_model_or_named(const std::string& path_or_name);

// --- quantisation recipes ----------------------------------------------------

// "W8A8", "W4A8", optionally "-gN" (K-group of N), e.g. "W4A8-g128"; the
// name is kept in the recipe.  kv_int8 is true.  Anything else: an Error
// listing the accepted forms.
QuantRecipe parse_recipe(const std::string& name);

// --- summary -----------------------------------------------------------------

// A few lines for `clonesim model show`: name, family, source, layers, dims,
// attention/FFN/norm/positions, parameters, weight bytes under `recipe`,
// KV-cache bytes per token, and the pruned layers if any.
std::string describe_model(const ModelConfig& cfg, const QuantRecipe& recipe);

}  // namespace clonesim::compiler
