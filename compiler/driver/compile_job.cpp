#include "driver/compile_job.h"

#include <filesystem>
#include <fstream>

#include "common/error.h"
#include "common/file_io.h"
#include "common/strf.h"
#include "lower/prefill_program.h"
#include "model/model.h"
#include "weights/model_weights.h"
#include "weights/quantize.h"
#include "weights/safetensors.h"

namespace clonesim::compiler {

namespace fs = std::filesystem;
using ull = unsigned long long;

namespace {

bool starts_with(const std::string& s, const std::string& p) { return s.rfind(p, 0) == 0; }

// "random" or "random:SEED" -> the seed; else -1.
int64_t random_seed(const std::string& w) {
  if (w == "random") return 1;
  if (!starts_with(w, "random:")) return -1;
  const std::string n = w.substr(7);
  if (n.empty() || n.find_first_not_of("0123456789") != std::string::npos || n.size() > 18)
    throw Error("--weights " + w + ": expected random:SEED with SEED a non-negative integer");
  return int64_t(std::stoll(n));
}

std::string human_bytes(int64_t b) {
  if (b >= (int64_t(1) << 30)) return strf("%.2f GiB", double(b) / double(int64_t(1) << 30));
  if (b >= (int64_t(1) << 20)) return strf("%.2f MiB", double(b) / double(int64_t(1) << 20));
  if (b >= 1024) return strf("%.2f KiB", double(b) / 1024.0);
  return strf("%lld B", (long long)b);
}

std::string human_count(int64_t n) {
  if (n >= 1000000000) return strf("%.3f B", double(n) / 1e9);
  if (n >= 1000000) return strf("%.2f M", double(n) / 1e6);
  if (n >= 1000) return strf("%.1f K", double(n) / 1e3);
  return strf("%lld", (long long)n);
}

}  // namespace

PreparedModel prepare_model(const ModelSpec& spec) {
  PreparedModel m;
  const ModelConfig full = load_model_or_named(spec.model);
  m.cfg = spec.prune.empty() ? full : prune_model(full, spec.prune);
  m.recipe = parse_recipe(spec.quant);
  m.stats = model_stats(m.cfg, m.recipe);
  std::string w = spec.weights.empty() ? "auto" : spec.weights;
  if (w == "auto") w = m.stats.total_params <= kAutoWeightsMaxParams ? "random" : "none";
  if (w == "none") {
    m.qm = golden::plan_quant_shapes(m.cfg, m.recipe);
    m.weights = "none (shapes only: timing runs)";
    return m;
  }
  ModelWeights fw;
  const int64_t seed = random_seed(w);
  if (seed >= 0) {
    fw = random_weights(m.cfg, uint64_t(seed));
    m.weights = strf("random, seed %lld", (long long)seed);
  } else {
    if (!fs::is_regular_file(w))
      throw Error("--weights " + w + ": not a file (expected auto, none, random[:SEED] or a .safetensors file)");
    fw = load_safetensors(w, m.cfg);
    m.weights = w;
  }
  const QuantizedWeights q = quantize(fw, m.recipe);
  const golden::Calibration cal = golden::calibrate(fw, golden::calibration_tokens(m.cfg));
  m.qm = golden::plan_quant_model(fw, q, m.recipe, cal);
  return m;
}

std::string model_summary(const PreparedModel& m) {
  const ModelStats& s = m.stats;
  std::string o = strf("model        %s (%s), %zu layers", m.cfg.name.c_str(), m.recipe.name.c_str(),
                       m.cfg.layer.size());
  o += strf("\nparameters   %s (%lld)", human_count(s.total_params).c_str(), (long long)s.total_params);
  o += strf("\nweight bytes %s (%lld, of which scales %lld)", human_bytes(s.weight_bytes).c_str(),
            (long long)s.weight_bytes, (long long)s.scale_bytes);
  o += strf("\nKV cache     %lld B per token (int8)", (long long)s.kv_bytes_per_token);
  o += "\nweights      " + m.weights + "\n";
  return o;
}

nlohmann::json model_json(const PreparedModel& m) {
  return {{"name", m.cfg.name},
          {"recipe", m.recipe.name},
          {"weights", m.weights},
          {"layers", m.cfg.layer.size()},
          {"params", m.stats.total_params},
          {"weight_bytes", m.stats.weight_bytes},
          {"scale_bytes", m.stats.scale_bytes},
          {"kv_bytes_per_token", m.stats.kv_bytes_per_token}};
}

nlohmann::json write_program_files(const std::string& dir, const ProgramFiles& p) {
  const fs::path d(dir);
  const std::string bin = p.name + ".bin", lst = p.name + ".s", plan = p.name + ".plan.txt",
                    map = p.name + ".map.txt", img = p.name + ".dram.bin";
  isa::save_binary(*p.program, (d / bin).string());
  write_text_file((d / lst).string(), *p.listing);
  write_text_file((d / plan).string(), *p.plan);
  write_text_file((d / map).string(), p.map->to_string());
  nlohmann::json chunks = nlohmann::json::array();
  {
    const std::string path = (d / img).string();
    std::ofstream f(path, std::ios::binary);
    if (!f) throw Error(path + ": cannot open for writing");
    uint64_t off = 0;
    for (const DramChunk& c : *p.image) {
      f.write(reinterpret_cast<const char*>(c.bytes.data()), std::streamsize(c.bytes.size()));
      chunks.push_back({{"name", c.name}, {"dram", c.addr}, {"offset", off}, {"bytes", c.bytes.size()}});
      off += c.bytes.size();
    }
    f.close();
    if (!f) throw Error(path + ": write failed");
  }
  return {{"binary", bin},        {"listing", lst},
          {"plan", plan},         {"memory_map", map},
          {"dram_image", img},    {"instructions", p.program->code.size()},
          {"dram_bytes", p.map->end()}, {"image", chunks}};
}

nlohmann::json compile_model(const PreparedModel& m, const hw::HwConfig& hw, const CompileRequest& req,
                             const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir)) throw Error(dir + ": cannot create the output directory");
  nlohmann::json j;
  j["model"] = model_json(m);
  j["design_point"] = hw.name;
  j["timing_only"] = m.qm.shapes_only;
  const DecodeProgram d = build_decode_program(m.qm, hw, req.decode_pos);
  nlohmann::json dj = write_program_files(
      dir, {"decode", &d.program, &d.listing, &d.plan, &d.map, &d.image});
  dj["position"] = req.decode_pos;
  dj["positions"] = {d.first_pos, d.last_pos};
  dj["token_register"] = strf("c%u", d.token_reg);
  dj["position_register"] = strf("c%u", d.pos_reg);
  // the context registers of a run at the position asked for (token 0)
  nlohmann::json ctx = nlohmann::json::object();
  const std::array<int64_t, 8> c = decode_context(d, req.decode_pos, 0);
  for (unsigned r = 1; r < 8; ++r)
    if (r == d.token_reg || r == d.pos_reg) ctx[strf("c%u", r)] = c[r];
  dj["context"] = ctx;
  dj["logits"] = d.logits.at(0);
  j["programs"]["decode"] = dj;
  if (req.prompt > 0) {
    const std::vector<int64_t> tokens = golden::calibration_tokens(m.cfg, kPromptSeed, int64_t(req.prompt));
    if (tokens.size() != req.prompt)
      throw Error(strf("--prompt %llu: beyond %s's max_positions %lld", (ull)req.prompt, m.cfg.name.c_str(),
                       (long long)m.cfg.max_positions));
    const PrefillProgram p = build_prefill_program(m.qm, hw, tokens);
    nlohmann::json pj = write_program_files(dir, {"prefill", &p.program, &p.listing, &p.plan, &p.map, &p.image});
    pj["tokens"] = tokens;
    pj["logits"] = p.logits;
    j["programs"]["prefill"] = pj;
  }
  write_text_file((fs::path(dir) / "compile.json").string(), j.dump(2) + "\n");
  return j;
}

}  // namespace clonesim::compiler
