// `clonesim compile`: a model (shipped name, HF config.json or YAML), an
// optional pruning ratio file, a quantisation recipe and weights (random from
// a seed, a safetensors file, or none: shapes only, for timing runs) become a
// quantized model and programs for a design point, written to a directory
// with their listings, plans, memory maps, DRAM images and a manifest
// (docs/compiler.md, "Compiling and running a model").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "golden/quant_model.h"
#include "hw/hw_config.h"
#include "isa/program.h"
#include "lower/decode_program.h"
#include "model/compress.h"

namespace clonesim::compiler {

// The default model of `clonesim run` / `compile` with no arguments.
constexpr const char* kDefaultModel = "llama-2-7b";
constexpr const char* kDefaultRecipe = "W4A8-g128";
// The prompt of `run` and of a compiled prefill: seeded tokens (golden::calibration_tokens' generator).
constexpr uint64_t kPromptSeed = 7;
// `--weights auto`: random weights up to this many parameters, shapes only above.
constexpr int64_t kAutoWeightsMaxParams = 200'000'000;

struct ModelSpec {
  std::string model = kDefaultModel;  // shipped name, config.json or YAML
  std::string prune;                  // ratio file ("" = unpruned)
  std::string quant = kDefaultRecipe;
  std::string weights = "auto";       // auto | none | random[:SEED] | FILE.safetensors
};

struct PreparedModel {
  ModelConfig cfg;          // after pruning
  QuantRecipe recipe;
  ModelStats stats;         // parameters and bytes after pruning and quantisation
  golden::QuantModel qm;    // shapes_only when no weights were used
  std::string weights;      // what was used, for reports: "none (shapes only)", "random, seed 1", a path
};

// Throws clonesim::Error (one line) for a bad model, ratio file, recipe or weights file.
PreparedModel prepare_model(const ModelSpec& spec);

// Parameter count and weight bytes after pruning and quantisation, one paragraph.
std::string model_summary(const PreparedModel& m);

// One program of a compile, as written to disk.
struct ProgramFiles {
  std::string name;  // "decode", "prefill"
  const isa::Program* program = nullptr;
  const std::string* listing = nullptr;
  const std::string* plan = nullptr;
  const DramMap* map = nullptr;
  const std::vector<DramChunk>* image = nullptr;
};

// Writes DIR/NAME.bin (the binary), NAME.s (listing), NAME.plan.txt,
// NAME.map.txt (the DRAM map) and NAME.dram.bin (the image chunks back to
// back) and returns the manifest entry: files, instruction count, DRAM end and
// the image index (chunk name, DRAM address, offset in NAME.dram.bin, bytes).
nlohmann::json write_program_files(const std::string& dir, const ProgramFiles& p);

struct CompileRequest {
  uint64_t decode_pos = 0;  // KV position of the decode step
  uint64_t prompt = 0;      // prompt tokens of the prefill program (0: no prefill program)
};

// Compiles the decode step (and the prefill when asked), writes every file
// and DIR/compile.json (the manifest), returns the manifest.
nlohmann::json compile_model(const PreparedModel& m, const hw::HwConfig& hw, const CompileRequest& req,
                             const std::string& dir);

// The manifest's description of the model: name, recipe, weights, parameters and bytes.
nlohmann::json model_json(const PreparedModel& m);

}  // namespace clonesim::compiler
