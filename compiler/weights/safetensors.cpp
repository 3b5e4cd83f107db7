#include "weights/safetensors.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "weights/prune.h"

namespace clonesim::compiler {

// ---------------------------------------------------------------- half floats

namespace {

uint32_t float_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

float bits_float(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

}  // namespace

float f16_to_float(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu, mant = h & 0x3ffu;
  if (exp == 0) {  // zero or subnormal: mant * 2^-24, exact in a float
    const float v = float(mant) * (1.0f / 16777216.0f);
    return bits_float(float_bits(v) | sign);
  }
  if (exp == 31) return bits_float(sign | 0x7f800000u | (mant << 13));
  return bits_float(sign | ((exp + 112) << 23) | (mant << 13));
}

float bf16_to_float(uint16_t b) { return bits_float(uint32_t(b) << 16); }

uint16_t float_to_f16(float f) {
  const uint32_t x = float_bits(f);
  const uint16_t sign = uint16_t((x >> 16) & 0x8000u);
  const uint32_t ax = x & 0x7fffffffu;
  if (ax > 0x7f800000u) return uint16_t(sign | 0x7e00u | ((ax >> 13) & 0x3ffu));  // NaN, quiet
  if (ax >= 0x477ff000u) return uint16_t(sign | 0x7c00u);  // >= 65520 rounds to infinity
  if (ax < 0x38800000u) {  // below 2^-14: a half subnormal (or zero), units of 2^-24
    const uint32_t e = ax >> 23;
    const uint32_t m = e ? ((ax & 0x7fffffu) | 0x800000u) : (ax & 0x7fffffu);
    const uint32_t s = 126 - (e ? e : 1);  // value = m * 2^(e-150) = (m >> s) units
    if (s >= 25) return sign;
    uint32_t q = m >> s;
    const uint32_t rem = m & ((1u << s) - 1), half = 1u << (s - 1);
    if (rem > half || (rem == half && (q & 1))) ++q;
    return uint16_t(sign | q);
  }
  uint32_t h = (ax - 0x38000000u) >> 13;  // rebias 127 -> 15
  const uint32_t rem = ax & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1))) ++h;
  return uint16_t(sign | h);
}

uint16_t float_to_bf16(float f) {
  const uint32_t x = float_bits(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return uint16_t((x >> 16) | 0x40u);  // NaN, quiet
  return uint16_t((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}

// --------------------------------------------------------------- the reader

namespace {

using json = nlohmann::json;

std::string err(const std::string& path, const std::string& key, const std::string& msg) {
  return where(path, 0, key) + ": " + msg;
}

std::string at_offset(const std::string& path, uint64_t off, const std::string& msg) {
  return path + ": offset " + std::to_string(off) + ": " + msg;
}

// Bytes per element of the standard safetensors dtypes (0: unknown).
uint64_t dtype_size(const std::string& d) {
  if (d == "F64" || d == "I64" || d == "U64") return 8;
  if (d == "F32" || d == "I32" || d == "U32") return 4;
  if (d == "F16" || d == "BF16" || d == "I16" || d == "U16") return 2;
  if (d == "I8" || d == "U8" || d == "BOOL" || d == "F8_E4M3" || d == "F8_E5M2") return 1;
  return 0;
}

std::string offsets_str(const SafetensorInfo& t) {
  return "[" + std::to_string(t.begin) + ", " + std::to_string(t.end) + "]";
}

std::string one_line(std::string s) {
  std::replace(s.begin(), s.end(), '\n', ' ');
  std::replace(s.begin(), s.end(), '\r', ' ');
  return s;
}

}  // namespace

SafetensorsFile::SafetensorsFile(const std::string& path) : path_(path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Error(path + ": cannot open: " + std::strerror(errno));
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) throw Error(path + ": cannot open: not a regular file");
  f.seekg(0, std::ios::end);
  const uint64_t size = uint64_t(f.tellg());
  f.seekg(0);
  if (size < 8)
    throw Error(at_offset(path, 0, "truncated file: " + std::to_string(size) +
                                       " bytes, expected at least the 8-byte header length"));
  unsigned char len_bytes[8];
  f.read(reinterpret_cast<char*>(len_bytes), 8);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | len_bytes[i];
  if (n > size - 8)
    throw Error(at_offset(path, 0, "header length " + std::to_string(n) + " runs past the end of the file (" +
                                       std::to_string(size) + " bytes)"));
  std::string header(size_t(n), '\0');
  f.read(&header[0], std::streamsize(n));
  if (!f) throw Error(at_offset(path, 8, "cannot read the header"));
  data_start_ = 8 + n;
  const uint64_t data_size = size - data_start_;

  json h;
  try {
    h = json::parse(header);
  } catch (const json::parse_error& e) {
    throw Error(at_offset(path, 8 + (e.byte > 0 ? e.byte - 1 : 0), "malformed JSON header: " + one_line(e.what())));
  }
  if (!h.is_object()) throw Error(at_offset(path, 8, "the JSON header is not an object"));

  for (auto it = h.begin(); it != h.end(); ++it) {
    const std::string& name = it.key();
    const json& v = it.value();
    if (name == "__metadata__") {
      if (!v.is_object()) throw Error(err(path, name, "expected an object of strings"));
      for (auto m = v.begin(); m != v.end(); ++m) {
        if (!m.value().is_string())
          throw Error(err(path, "__metadata__." + m.key(), "expected a string, got " + m.value().dump()));
        metadata_[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    if (!v.is_object() || !v.contains("dtype") || !v.contains("shape") || !v.contains("data_offsets"))
      throw Error(err(path, name, "expected an object with dtype, shape and data_offsets"));
    SafetensorInfo t;
    if (!v["dtype"].is_string()) throw Error(err(path, name, "dtype: expected a string, got " + v["dtype"].dump()));
    t.dtype = v["dtype"].get<std::string>();
    const json& shape = v["shape"];
    if (!shape.is_array()) throw Error(err(path, name, "shape: expected an array, got " + shape.dump()));
    unsigned __int128 numel = 1;
    for (const json& d : shape) {
      if (!d.is_number_unsigned() || d.get<uint64_t>() > (uint64_t(1) << 62))
        throw Error(err(path, name, "shape: expected non-negative integers, got " + shape.dump()));
      t.shape.push_back(int64_t(d.get<uint64_t>()));
      numel *= d.get<uint64_t>();
      if (numel > (unsigned __int128)(uint64_t(1) << 62))
        throw Error(err(path, name, "shape " + shape.dump() + " is too large"));
    }
    const json& off = v["data_offsets"];
    if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() || !off[1].is_number_unsigned() ||
        off[0].get<uint64_t>() > off[1].get<uint64_t>())
      throw Error(err(path, name, "data_offsets: expected [begin, end] with 0 <= begin <= end, got " + off.dump()));
    t.begin = off[0].get<uint64_t>();
    t.end = off[1].get<uint64_t>();
    if (t.end > data_size)
      throw Error(err(path, name,
                      "data_offsets " + offsets_str(t) + " run past the end of the data (" +
                          std::to_string(data_size) + " bytes at file offset " + std::to_string(data_start_) + ")"));
    const uint64_t es = dtype_size(t.dtype);
    if (es != 0 && numel * es != t.end - t.begin)
      throw Error(err(path, name,
                      "shape " + shape_str(t.shape) + " of " + t.dtype + " needs " +
                          std::to_string(uint64_t(numel * es)) + " bytes, data_offsets " + offsets_str(t) + " hold " +
                          std::to_string(t.end - t.begin)));
    tensors_[name] = t;
  }

  // No two tensors share a byte.
  std::vector<const std::pair<const std::string, SafetensorInfo>*> order;
  for (const auto& kv : tensors_)
    if (kv.second.end > kv.second.begin) order.push_back(&kv);
  std::sort(order.begin(), order.end(), [](auto* a, auto* b) {
    return a->second.begin != b->second.begin ? a->second.begin < b->second.begin : a->first < b->first;
  });
  for (size_t i = 1; i < order.size(); ++i)
    if (order[i]->second.begin < order[i - 1]->second.end)
      throw Error(err(path, order[i]->first,
                      "data_offsets " + offsets_str(order[i]->second) + " overlap " + order[i - 1]->first + "'s " +
                          offsets_str(order[i - 1]->second) + " (file offset " +
                          std::to_string(data_start_ + order[i]->second.begin) + ")"));
}

const SafetensorInfo& SafetensorsFile::info(const std::string& name) const {
  const auto it = tensors_.find(name);
  if (it == tensors_.end()) throw Error(err(path_, name, "missing tensor"));
  return it->second;
}

std::vector<float> SafetensorsFile::read_floats(const std::string& name) const {
  const SafetensorInfo& t = info(name);
  const uint64_t es = t.dtype == "F32" ? 4 : (t.dtype == "F16" || t.dtype == "BF16") ? 2 : 0;
  if (es == 0) throw Error(err(path_, name, "unsupported dtype " + t.dtype + " (expected F32, F16 or BF16)"));
  const uint64_t bytes = t.end - t.begin;
  std::vector<unsigned char> buf(static_cast<size_t>(bytes));
  std::ifstream f(path_, std::ios::binary);
  f.seekg(std::streamoff(data_start_ + t.begin));
  f.read(reinterpret_cast<char*>(buf.data()), std::streamsize(bytes));
  if (!f)
    throw Error(at_offset(path_, data_start_ + t.begin, name + ": cannot read " + std::to_string(bytes) + " bytes"));
  std::vector<float> out(size_t(bytes / es));
  for (size_t i = 0; i < out.size(); ++i) {
    const unsigned char* p = buf.data() + i * es;
    if (es == 4)
      out[i] = bits_float(uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24);
    else if (t.dtype == "F16")
      out[i] = f16_to_float(uint16_t(p[0] | p[1] << 8));
    else
      out[i] = bf16_to_float(uint16_t(p[0] | p[1] << 8));
  }
  return out;
}

// --------------------------------------------------------------- the writer

std::vector<uint8_t> encode_f32(const std::vector<float>& v) {
  std::vector<uint8_t> b(v.size() * 4);
  for (size_t i = 0; i < v.size(); ++i) {
    const uint32_t u = float_bits(v[i]);
    for (int j = 0; j < 4; ++j) b[i * 4 + size_t(j)] = uint8_t(u >> (8 * j));
  }
  return b;
}

namespace {

std::vector<uint8_t> encode16(const std::vector<float>& v, uint16_t (*conv)(float)) {
  std::vector<uint8_t> b(v.size() * 2);
  for (size_t i = 0; i < v.size(); ++i) {
    const uint16_t u = conv(v[i]);
    b[i * 2] = uint8_t(u);
    b[i * 2 + 1] = uint8_t(u >> 8);
  }
  return b;
}

}  // namespace

std::vector<uint8_t> encode_f16(const std::vector<float>& v) { return encode16(v, float_to_f16); }
std::vector<uint8_t> encode_bf16(const std::vector<float>& v) { return encode16(v, float_to_bf16); }

void write_safetensors(const std::string& path, const std::vector<RawTensor>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  json h = json::object();
  if (!metadata.empty()) h["__metadata__"] = metadata;
  uint64_t off = 0;
  for (const RawTensor& t : tensors) {
    uint64_t numel = 1;
    for (int64_t d : t.shape) numel *= uint64_t(d);
    const uint64_t es = dtype_size(t.dtype);
    if (es != 0 && numel * es != t.bytes.size())
      throw Error(err(path, t.name, "shape " + shape_str(t.shape) + " of " + t.dtype + " needs " +
                                        std::to_string(numel * es) + " bytes, given " +
                                        std::to_string(t.bytes.size())));
    h[t.name] = {{"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {off, off + t.bytes.size()}}};
    off += t.bytes.size();
  }
  std::string header = h.dump();
  header.append((8 - header.size() % 8) % 8, ' ');
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f) throw Error(path + ": cannot write: " + std::strerror(errno));
  unsigned char len[8];
  for (int i = 0; i < 8; ++i) len[i] = uint8_t(uint64_t(header.size()) >> (8 * i));
  f.write(reinterpret_cast<const char*>(len), 8);
  f.write(header.data(), std::streamsize(header.size()));
  for (const RawTensor& t : tensors) f.write(reinterpret_cast<const char*>(t.bytes.data()), std::streamsize(t.bytes.size()));
  if (!f) throw Error(path + ": write failed");
}

// ------------------------------------------------------ Hugging Face names

namespace {

// The per-layer module name of a canonical part.
std::string layer_part(Family f, const std::string& part) {
  if (f == Family::Gpt2) {
    if (part == "attn_norm") return "ln_1";
    if (part == "q") return "attn.c_attn";
    if (part == "k" || part == "v") return "";
    if (part == "o") return "attn.c_proj";
    if (part == "ffn_norm") return "ln_2";
    if (part == "fc1") return "mlp.c_fc";
    if (part == "fc2") return "mlp.c_proj";
  } else if (f == Family::Opt) {
    if (part == "attn_norm") return "self_attn_layer_norm";
    if (part == "q" || part == "k" || part == "v") return "self_attn." + part + "_proj";
    if (part == "o") return "self_attn.out_proj";
    if (part == "ffn_norm") return "final_layer_norm";
    if (part == "fc1" || part == "fc2") return part;
  } else {
    if (part == "attn_norm") return "input_layernorm";
    if (part == "q" || part == "k" || part == "v") return "self_attn." + part + "_proj";
    if (part == "o") return f == Family::Phi ? "self_attn.dense" : "self_attn.o_proj";
    if (part == "ffn_norm") return "post_attention_layernorm";
    if (part == "fc1" || part == "fc2") return "mlp." + part;
  }
  if (part == "gate" || part == "up" || part == "down") return "mlp." + part + "_proj";
  return "";
}

}  // namespace

std::vector<std::string> hf_roots(Family family) {
  if (family == Family::Opt) return {"model.decoder.", "decoder."};
  if (family == Family::Gpt2) return {"", "transformer."};
  return {"model."};
}

std::string hf_name(Family f, const std::string& root, const std::string& canonical) {
  const auto suffix = [](const std::string& s) { return s == "b" ? ".bias" : ".weight"; };
  if (canonical == "embed") return root + (f == Family::Gpt2 ? "wte.weight" : "embed_tokens.weight");
  if (canonical == "pos_embed") return root + (f == Family::Gpt2 ? "wpe.weight" : "embed_positions.weight");
  const size_t last = canonical.rfind('.');
  const std::string head = canonical.substr(0, last), wb = canonical.substr(last + 1);
  if (head == "lm_head") return "lm_head" + std::string(suffix(wb));
  if (head == "final_norm") {
    const char* n = f == Family::Gpt2 ? "ln_f" : f == Family::Opt ? "final_layer_norm"
                                                 : f == Family::Phi ? "final_layernorm"
                                                                    : "norm";
    return root + n + suffix(wb);
  }
  if (canonical.compare(0, 7, "layers.") == 0) {
    const size_t dot = canonical.find('.', 7);
    const std::string idx = canonical.substr(7, dot - 7), part = canonical.substr(dot + 1, last - dot - 1);
    const std::string mod = layer_part(f, part);
    if (mod.empty()) return "";
    return root + (f == Family::Gpt2 ? "h." : "layers.") + idx + "." + mod + suffix(wb);
  }
  return "";
}

// ----------------------------------------------------------------- loading

namespace {

Tensor transposed(const std::vector<float>& v, int64_t rows, int64_t cols) {  // v is rows x cols
  Tensor t({cols, rows});
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) t.data[size_t(c * rows + r)] = v[size_t(r * cols + c)];
  return t;
}

class Loader {
 public:
  Loader(const std::string& path, const ModelConfig& cfg) : f_(path), cfg_(cfg) {
    check_weights_config(cfg);
    const std::vector<std::string> roots = hf_roots(cfg.family);
    root_ = roots[0];
    for (const std::string& r : roots)
      if (f_.has(hf_name(cfg.family, r, "embed"))) {
        root_ = r;
        break;
      }
  }

  ModelWeights load() {
    ModelWeights w;
    w.cfg = cfg_;
    const int64_t h = cfg_.hidden;
    w.embed = plain("embed", {cfg_.vocab, h});
    if (cfg_.pos == PosKind::Learned) {
      const int64_t off = cfg_.family == Family::Opt ? 2 : 0;
      Tensor p = plain("pos_embed", {cfg_.max_positions + off, h});
      p.data.erase(p.data.begin(), p.data.begin() + off * h);
      p.shape[0] -= off;
      w.pos_embed = std::move(p);
    }
    for (const LayerDims& d : layer_dims(cfg_)) w.layers.push_back(layer(d));
    if (cfg_.final_norm) w.final_norm = norm("final_norm");
    if (!cfg_.tied_embeddings) w.lm_head.w = linear_w("lm_head.w", h, cfg_.vocab);
    if (cfg_.lm_head_bias) w.lm_head.b = plain("lm_head.b", {cfg_.vocab});
    return w;
  }

 private:
  std::string name(const std::string& canonical) const { return hf_name(cfg_.family, root_, canonical); }

  const SafetensorInfo& present(const std::string& hf) const {
    if (!f_.has(hf)) throw Error(err(f_.path(), hf, "missing tensor"));
    const SafetensorInfo& t = f_.info(hf);
    if (t.dtype != "F32" && t.dtype != "F16" && t.dtype != "BF16")
      throw Error(err(f_.path(), hf, "unsupported dtype " + t.dtype + " (expected F32, F16 or BF16)"));
    return t;
  }

  // Reads a tensor of exactly `shape` (file layout).
  std::vector<float> read(const std::string& hf, const std::vector<int64_t>& shape) const {
    const SafetensorInfo& t = present(hf);
    if (t.shape != shape)
      throw Error(err(f_.path(), hf, "expected shape " + shape_str(shape) + ", got " + shape_str(t.shape)));
    return f_.read_floats(hf);
  }

  Tensor plain(const std::string& canonical, const std::vector<int64_t>& shape) const {
    Tensor t;
    t.shape = shape;
    t.data = read(name(canonical), shape);
    return t;
  }

  Norm norm(const std::string& canonical) const {
    Norm n;
    n.w = plain(canonical + ".w", {cfg_.hidden});
    if (cfg_.norm == NormKind::LayerNorm) n.b = plain(canonical + ".b", {cfg_.hidden});
    return n;
  }

  // A K x N weight: nn.Linear stores [N, K] (transposed here), GPT-2's Conv1D [K, N].
  bool conv1d(const std::string& canonical) const {
    return cfg_.family == Family::Gpt2 && canonical.compare(0, 7, "layers.") == 0;
  }
  std::vector<int64_t> file_shape(const std::string& canonical, int64_t k, int64_t n) const {
    return conv1d(canonical) ? std::vector<int64_t>{k, n} : std::vector<int64_t>{n, k};
  }
  Tensor linear_w(const std::string& canonical, int64_t k, int64_t n) const {
    const std::vector<float> v = read(name(canonical), file_shape(canonical, k, n));
    if (conv1d(canonical)) {
      Tensor t;
      t.shape = {k, n};
      t.data = v;
      return t;
    }
    return transposed(v, n, k);
  }
  Linear linear(const std::string& canonical, int64_t k, int64_t n, bool bias) const {
    Linear l;
    l.w = linear_w(canonical + ".w", k, n);
    if (bias) l.b = plain(canonical + ".b", {n});
    return l;
  }

  // Which dims a layer's tensors have: the unpruned `full` or the pruned
  // `kept`, judged by the shape of the tensor `canonical` (K x N from `kn`).
  template <class KN>
  bool is_full(const std::string& canonical, KN kn, int64_t full, int64_t kept) const {
    const std::string hf = name(canonical);
    const SafetensorInfo& t = present(hf);
    const auto [kf, nf] = kn(full);
    const std::vector<int64_t> fs = file_shape(canonical, kf, nf);
    if (t.shape == fs) return true;
    const auto [kk, nk] = kn(kept);
    const std::vector<int64_t> ks = file_shape(canonical, kk, nk);
    if (t.shape == ks) return false;
    throw Error(err(f_.path(), hf,
                    "expected shape " + shape_str(fs) + (fs != ks ? " (or the pruned " + shape_str(ks) + ")" : "") +
                        ", got " + shape_str(t.shape)));
  }

  LayerWeights layer(const LayerDims& keep) const {
    const std::string p = "layers." + std::to_string(keep.source_layer) + ".";
    const int64_t h = cfg_.hidden, hd = cfg_.head_dim;
    LayerWeights l;
    l.attn_norm = norm(p + "attn_norm");
    if (!cfg_.parallel_block) l.ffn_norm = norm(p + "ffn_norm");

    // Attention: judged by q (GPT-2: the fused c_attn).
    LayerDims have = keep;
    const bool gpt2 = cfg_.family == Family::Gpt2;
    const int64_t qkv_full = gpt2 ? (cfg_.heads + 2 * cfg_.kv_heads) * hd : cfg_.heads * hd;
    const int64_t qkv_kept = gpt2 ? (keep.q_heads + 2 * keep.kv_heads) * hd : keep.q_heads * hd;
    if (is_full(p + "q.w", [h](int64_t n) { return std::pair<int64_t, int64_t>{h, n}; }, qkv_full, qkv_kept)) {
      have.q_heads = cfg_.heads;
      have.kv_heads = cfg_.kv_heads;
    }
    const int64_t qn = have.q_heads * hd, kvn = have.kv_heads * hd;
    if (gpt2) {
      const Linear qkv = linear(p + "q", h, qn + 2 * kvn, cfg_.qkv_bias);
      const auto cols = [&](int64_t c0, int64_t n) {
        Linear l2;
        l2.w = Tensor({h, n});
        for (int64_t r = 0; r < h; ++r)
          std::copy_n(qkv.w.data.begin() + r * (qn + 2 * kvn) + c0, n, l2.w.data.begin() + r * n);
        if (!qkv.b.empty()) {
          l2.b = Tensor({n});
          std::copy_n(qkv.b.data.begin() + c0, n, l2.b.data.begin());
        }
        return l2;
      };
      l.q = cols(0, qn);
      l.k = cols(qn, kvn);
      l.v = cols(qn + kvn, kvn);
    } else {
      l.q = linear(p + "q", h, qn, cfg_.qkv_bias);
      l.k = linear(p + "k", h, kvn, cfg_.qkv_bias);
      l.v = linear(p + "v", h, kvn, cfg_.qkv_bias);
    }
    l.o = linear(p + "o", qn, h, cfg_.out_bias);

    // FFN: judged by up (or fc1).
    const std::string first = cfg_.gated_ffn ? "up" : "fc1";
    if (is_full(p + first + ".w", [h](int64_t n) { return std::pair<int64_t, int64_t>{h, n}; },
                cfg_.intermediate, keep.ffn))
      have.ffn = cfg_.intermediate;
    if (cfg_.gated_ffn) {
      l.gate = linear(p + "gate", h, have.ffn, cfg_.mlp_bias);
      l.up = linear(p + "up", h, have.ffn, cfg_.mlp_bias);
      l.down = linear(p + "down", have.ffn, h, cfg_.mlp_bias);
    } else {
      l.fc1 = linear(p + "fc1", h, have.ffn, cfg_.mlp_bias);
      l.fc2 = linear(p + "fc2", have.ffn, h, cfg_.mlp_bias);
    }

    if (have.q_heads == keep.q_heads && have.kv_heads == keep.kv_heads && have.ffn == keep.ffn) return l;
    ModelConfig c = cfg_;  // prune from what the file has
    c.heads = have.q_heads;
    c.kv_heads = have.kv_heads;
    c.intermediate = have.ffn;
    return prune_layer(l, c, keep);
  }

  SafetensorsFile f_;
  const ModelConfig& cfg_;
  std::string root_;
};

}  // namespace

ModelWeights load_safetensors(const std::string& path, const ModelConfig& cfg) { return Loader(path, cfg).load(); }

// ------------------------------------------------------------------ saving

void save_safetensors(const std::string& path, const ModelWeights& w) {
  check_weights(w);
  const ModelConfig& cfg = w.cfg;
  const Family fam = cfg.family;
  const std::string root = hf_roots(fam)[0];
  const std::vector<LayerDims> dims = layer_dims(cfg);
  std::vector<RawTensor> out;
  const auto put = [&](const std::string& canonical, const std::vector<int64_t>& shape, const std::vector<float>& v) {
    out.push_back({hf_name(fam, root, canonical), "F32", shape, encode_f32(v)});
  };
  // K x N -> nn.Linear's [N, K].
  const auto put_t = [&](const std::string& canonical, const Tensor& t) {
    const Tensor tt = transposed(t.data, t.rows(), t.cols());
    put(canonical, tt.shape, tt.data);
  };
  const bool gpt2 = fam == Family::Gpt2;
  for_each_tensor(w, [&](const std::string& name, const Tensor& t) {
    std::string canonical = name;
    if (canonical.compare(0, 7, "layers.") == 0) {  // file index = source layer
      const size_t dot = canonical.find('.', 7);
      const size_t i = size_t(std::stoul(canonical.substr(7, dot - 7)));
      canonical = "layers." + std::to_string(dims[i].source_layer) + canonical.substr(dot);
      const std::string part = canonical.substr(canonical.find('.', 7) + 1);
      const bool weight2d = t.shape.size() == 2;
      if (gpt2 && (part == "k.w" || part == "k.b" || part == "v.w" || part == "v.b")) return;  // fused into q
      if (gpt2 && (part == "q.w" || part == "q.b")) {
        const LayerWeights& l = w.layers[i];
        const int64_t qn = l.q.w.cols(), kvn = l.k.w.cols(), n = qn + 2 * kvn;
        if (part == "q.b") {
          std::vector<float> b = l.q.b.data;
          b.insert(b.end(), l.k.b.data.begin(), l.k.b.data.end());
          b.insert(b.end(), l.v.b.data.begin(), l.v.b.data.end());
          put(canonical, {n}, b);
        } else {
          const int64_t h = l.q.w.rows();
          std::vector<float> m(size_t(h * n));
          for (int64_t r = 0; r < h; ++r) {
            std::copy_n(l.q.w.data.begin() + r * qn, qn, m.begin() + r * n);
            std::copy_n(l.k.w.data.begin() + r * kvn, kvn, m.begin() + r * n + qn);
            std::copy_n(l.v.w.data.begin() + r * kvn, kvn, m.begin() + r * n + qn + kvn);
          }
          put(canonical, {h, n}, m);
        }
        return;
      }
      if (weight2d && !gpt2) return put_t(canonical, t);
      return put(canonical, t.shape, t.data);
    }
    if (name == "lm_head.w") return put_t(canonical, t);
    if (name == "pos_embed" && fam == Family::Opt) {  // two leading rows the model never reads
      std::vector<float> v(size_t(2 * t.cols()), 0.0f);
      v.insert(v.end(), t.data.begin(), t.data.end());
      return put(canonical, {t.rows() + 2, t.cols()}, v);
    }
    put(canonical, t.shape, t.data);
  });
  write_safetensors(path, out, {{"format", "pt"}});
}

}  // namespace clonesim::compiler
