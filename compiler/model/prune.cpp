// Structured pruning from a ratio file (docs/models.md "Ratio files"):
// per-layer fractions of attention heads and FFN channels removed, and whole
// layers dropped.  Heads go in whole KV groups under GQA; FFN channels in
// multiples of a granularity.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "common/error.h"
#include "common/yaml_strict.h"
#include "model/compress.h"
#include "model/model.h"

namespace clonesim::compiler {

namespace {

using namespace clonesim::yaml;

constexpr std::uintmax_t kMaxFileBytes = uint64_t(1) << 20;
const std::vector<std::string> kKeys = {"layers", "heads", "ffn", "drop", "ffn_granularity"};

// round(units * (1 - ratio)), ties up (keep more), clamped to 1..units.  The
// small tolerance keeps decimal ties such as 0.25 * 6 = 1.5 ties in binary.
int64_t keep_units(int64_t units, double ratio) {
  const double x = double(units) * (1.0 - ratio);
  const int64_t k = static_cast<int64_t>(std::floor(x + 0.5 + 1e-9));
  return std::clamp<int64_t>(k, 1, units);
}

std::vector<double> read_ratios(const Ctx& c, const Field& f) {
  const std::string what = "a non-empty list of fractions removed, one per layer (0 <= r < 1)";
  if (!f.node.IsSequence() || f.node.size() == 0) c.expected(f, what);
  std::vector<double> out;
  size_t i = 0;
  for (const auto& n : f.node) {
    const Field it = item(f, i++, n);
    const double r = read_real(c, it, RealRule{0, 1, false});
    if (r == 1.0)
      c.expected(it, "a fraction 0 <= r < 1 (list the layer under drop to remove it)", "1");
    out.push_back(r);
  }
  return out;
}

}  // namespace

PruneSpec parse_prune_spec(const std::string& yaml_text, const std::string& source) {
  const Ctx c(source);
  const std::string what = "a ratio file (a map with keys " + join(kKeys) + ")";
  const YAML::Node root = load_one_document(c, yaml_text, what);
  PruneSpec s;
  s.source = source;
  try {
    const Field rf{root, "", line_of(root, 1), 0};
    if (!root.IsMap()) c.expected(rf, what);
    MapView m(c, rf, kKeys);
    const Field* layers = m.find("layers");
    const Field* heads = m.find("heads");
    const Field* ffn = m.find("ffn");
    const Field* drop = m.find("drop");
    if (!layers && !heads && !ffn && !drop)
      c.fail(m.line(), "", "expected at least one of layers, heads, ffn, drop, got none");
    if (layers && (heads || ffn)) {
      const Field* other = heads ? heads : ffn;
      c.fail(other->owner_line(), other->path,
             "expected either layers (one ratio for heads and FFN) or heads/ffn, got both");
    }
    if (layers) {
      s.heads = s.ffn = read_ratios(c, *layers);
      s.heads_key = s.ffn_key = "layers";
      s.heads_line = s.ffn_line = layers->line;
    }
    if (heads) {
      s.heads = read_ratios(c, *heads);
      s.heads_key = "heads";
      s.heads_line = heads->line;
    }
    if (ffn) {
      s.ffn = read_ratios(c, *ffn);
      s.ffn_key = "ffn";
      s.ffn_line = ffn->line;
    }
    if (drop) {
      s.drop_line = drop->line;
      if (!drop->node.IsSequence()) c.expected(*drop, "a list of layer indices");
      size_t i = 0;
      for (const auto& n : drop->node) {
        const Field it = item(*drop, i++, n);
        const int64_t idx = read_int(c, it, range(0, 0x7FFFFFFF));
        for (size_t j = 0; j < s.drop.size(); ++j)
          if (s.drop[j] == idx)
            c.expected(it, "each layer once", std::to_string(idx) + " again (first at line " +
                                                  std::to_string(s.drop_lines[j]) + ")");
        s.drop.push_back(idx);
        s.drop_lines.push_back(it.line);
      }
    }
    if (const Field* g = m.find("ffn_granularity"))
      s.ffn_granularity = read_int(c, *g, range(1, 65536));
  } catch (const Error&) {
    throw;
  } catch (const YAML::Exception& e) {
    c.fail(e.mark.line >= 0 ? e.mark.line + 1 : 0, "", "unreadable ratio file: " + e.msg);
  }
  return s;
}

PruneSpec load_prune_spec(const std::string& path) {
  const Ctx c(path);
  return parse_prune_spec(read_text_file(c, path, "ratio file", kMaxFileBytes), path);
}

HeadsKept prune_heads(int64_t heads, int64_t kv_heads, double ratio) {
  if (kv_heads <= 1 || kv_heads == heads) {
    // MHA: every head is its own group.  MQA: the one KV head is shared by
    // all query heads and stays; query heads go singly.
    const int64_t q = keep_units(heads, ratio);
    return {q, kv_heads <= 1 ? 1 : q};
  }
  const int64_t group = heads / kv_heads;
  const int64_t kv = keep_units(kv_heads, ratio);
  return {kv * group, kv};
}

int64_t prune_ffn(int64_t intermediate, double ratio, int64_t granularity) {
  if (ratio <= 0 || granularity < 1 || intermediate < granularity) return intermediate;
  const double x = double(intermediate) * (1.0 - ratio) / double(granularity);
  const int64_t n = static_cast<int64_t>(std::floor(x + 0.5 + 1e-9));
  const int64_t top = intermediate / granularity * granularity;
  return std::clamp<int64_t>(n * granularity, granularity, top);
}

ModelConfig apply_pruning(const ModelConfig& cfg, const PruneSpec& spec) {
  const Ctx c(spec.source);
  const int64_t n = cfg.layers;
  const std::string model = cfg.name.empty() ? "the model" : cfg.name;
  auto check_count = [&](const std::vector<double>& v, const std::string& key, int line) {
    if (!v.empty() && int64_t(v.size()) != n)
      c.fail(line, key,
             "expected " + std::to_string(n) + " ratios (one per layer of " + model + "), got " +
                 std::to_string(v.size()));
  };
  check_count(spec.heads, spec.heads_key, spec.heads_line);
  check_count(spec.ffn, spec.ffn_key, spec.ffn_line);
  for (size_t i = 0; i < spec.drop.size(); ++i)
    if (spec.drop[i] >= n)
      c.fail(i < spec.drop_lines.size() ? spec.drop_lines[i] : spec.drop_line,
             "drop[" + std::to_string(i) + "]",
             "expected a layer index 0.." + std::to_string(n - 1) + " (" + model + " has " +
                 std::to_string(n) + " layers), got " + std::to_string(spec.drop[i]));

  ModelConfig out = cfg;
  out.layer.clear();
  for (const LayerDims& d : cfg.layer) {
    const int64_t s = d.source_layer;
    if (std::find(spec.drop.begin(), spec.drop.end(), s) != spec.drop.end()) continue;
    LayerDims e = d;
    if (!spec.heads.empty() && s >= 0 && s < n) {
      const HeadsKept h = prune_heads(cfg.heads, cfg.kv_heads, spec.heads[size_t(s)]);
      e.q_heads = h.q_heads;
      e.kv_heads = h.kv_heads;
    }
    if (!spec.ffn.empty() && s >= 0 && s < n)
      e.ffn = prune_ffn(cfg.intermediate, spec.ffn[size_t(s)], spec.ffn_granularity);
    out.layer.push_back(e);
  }
  if (out.layer.empty())
    c.fail(spec.drop_line, "drop",
           "expected at least one layer kept, got every remaining layer of " + model + " dropped");
  validate_model(out);
  return out;
}

ModelConfig prune_model(const ModelConfig& cfg, const std::string& ratio_file) {
  return apply_pruning(cfg, load_prune_spec(ratio_file));
}

}  // namespace clonesim::compiler
