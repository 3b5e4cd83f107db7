#include "weights/quantize.h"

#include <algorithm>
#include <cmath>

#include "common/error.h"

namespace clonesim::compiler {

int64_t qmax(WeightType t) { return t == WeightType::Int8 ? 127 : 7; }

int64_t QuantTensor::weight_bytes() const {
  return type == WeightType::Int8 ? k * n : int4_bytes(k * n);
}

std::vector<uint8_t> QuantTensor::packed() const {
  if (type == WeightType::Int4) return pack_int4(q);
  return std::vector<uint8_t>(q.begin(), q.end());
}

QuantTensor quantize_tensor(const std::string& name, const Tensor& w, WeightType type, int64_t group) {
  if (w.shape.size() != 2) throw Error(name + ": quantize: expected a K x N tensor, got " + shape_str(w.shape));
  if (group < 0) throw Error(name + ": quantize: group size " + std::to_string(group) + " is negative");
  QuantTensor qt;
  qt.name = name;
  qt.type = type;
  qt.k = w.rows();
  qt.n = w.cols();
  qt.group = (group == 0 || group > qt.k) ? qt.k : group;
  const double qm = double(qmax(type));
  qt.q.assign(size_t(qt.k * qt.n), 0);
  qt.scale.assign(size_t(qt.groups() * qt.n), 1.0f);
  for (int64_t g = 0; g < qt.groups(); ++g) {
    const int64_t r0 = g * qt.group, r1 = std::min(qt.k, r0 + qt.group);
    for (int64_t c = 0; c < qt.n; ++c) {
      double amax = 0;
      for (int64_t r = r0; r < r1; ++r) amax = std::max(amax, std::fabs(double(w.at(r, c))));
      if (amax == 0) continue;  // scale 1, q 0
      const float s = float(amax / qm);
      qt.scale[size_t(g * qt.n + c)] = s;
      for (int64_t r = r0; r < r1; ++r) {
        const double v = std::round(double(w.at(r, c)) / double(s));  // half away from zero
        qt.q[size_t(r * qt.n + c)] = int8_t(std::clamp(v, -qm, qm));
      }
    }
  }
  return qt;
}

Tensor dequantize(const QuantTensor& qt) {
  Tensor t({qt.k, qt.n});
  for (int64_t r = 0; r < qt.k; ++r)
    for (int64_t c = 0; c < qt.n; ++c) t.at(r, c) = float(double(qt.at(r, c)) * double(qt.scale_at(r, c)));
  return t;
}

int64_t int4_bytes(int64_t count) { return (count + 1) / 2; }

std::vector<uint8_t> pack_int4(const int8_t* values, size_t count) {
  std::vector<uint8_t> out(size_t(int4_bytes(int64_t(count))), 0);
  for (size_t i = 0; i < count; ++i) {
    const int v = values[i];
    if (v < -8 || v > 7)
      throw Error("pack_int4: value " + std::to_string(v) + " at index " + std::to_string(i) + " is outside -8..7");
    out[i / 2] |= uint8_t((v & 0xF) << (i % 2 ? 4 : 0));
  }
  return out;
}

std::vector<int8_t> unpack_int4(const uint8_t* bytes, size_t count) {
  std::vector<int8_t> out(count);
  for (size_t i = 0; i < count; ++i) {
    const int v = (i % 2 ? bytes[i / 2] >> 4 : bytes[i / 2]) & 0xF;
    out[i] = int8_t(v >= 8 ? v - 16 : v);
  }
  return out;
}

const QuantTensor& QuantizedWeights::get(const std::string& name) const {
  for (const QuantTensor& t : tensors)
    if (t.name == name) return t;
  throw Error(name + ": no such quantised tensor");
}

int64_t QuantizedWeights::weight_bytes() const {
  int64_t s = 0;
  for (const QuantTensor& t : tensors) s += t.weight_bytes();
  return s;
}

int64_t QuantizedWeights::scale_bytes() const {
  int64_t s = 0;
  for (const QuantTensor& t : tensors) s += t.scale_bytes();
  return s;
}

QuantizedWeights quantize(const ModelWeights& w, const QuantRecipe& recipe) {
  if (recipe.group < 0)
    throw Error(where(recipe.name, 0, "group") + ": expected 0 or a positive K-group size, got " +
                std::to_string(recipe.group));
  check_weights(w);
  QuantizedWeights out;
  out.recipe = recipe;
  for (const NamedLinear& l : linears(w)) {
    if (l.name == "lm_head") continue;
    out.tensors.push_back(quantize_tensor(l.name, l.linear->w, recipe.weights, recipe.group));
  }
  out.tensors.push_back(quantize_tensor("lm_head", lm_head_matrix(w), recipe.weights, recipe.group));
  return out;
}

ModelWeights fake_quantized(const ModelWeights& w, const QuantizedWeights& q) {
  ModelWeights f = w;
  for (size_t i = 0; i < f.layers.size(); ++i) {
    LayerWeights& l = f.layers[i];
    const std::string p = "layers." + std::to_string(i) + ".";
    Linear* ls[] = {&l.q, &l.k, &l.v, &l.o, &l.gate, &l.up, &l.down, &l.fc1, &l.fc2};
    const char* ns[] = {"q", "k", "v", "o", "gate", "up", "down", "fc1", "fc2"};
    for (size_t j = 0; j < 9; ++j)
      if (!ls[j]->w.empty()) ls[j]->w = dequantize(q.get(p + ns[j]));
  }
  f.lm_head.w = dequantize(q.get("lm_head"));
  f.cfg.tied_embeddings = false;
  return f;
}

}  // namespace clonesim::compiler
