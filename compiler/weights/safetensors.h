// The safetensors format (docs/weights.md): an 8-byte little-endian header
// length, a JSON header of name -> {dtype, shape, data_offsets} (and an
// optional "__metadata__" of strings), then the raw little-endian data;
// data_offsets are [begin, end) relative to the start of the data.
// F32, F16 and BF16 tensors are read; every bad input is a one-line
// clonesim::Error naming the file and the tensor or byte offset.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "model/model_config.h"
#include "weights/model_weights.h"

namespace clonesim::compiler {

// IEEE half and bfloat16 <-> float.  To-half/bf16 round to nearest even
// (overflow to infinity, NaN kept quiet).
float f16_to_float(uint16_t h);
float bf16_to_float(uint16_t b);
uint16_t float_to_f16(float f);
uint16_t float_to_bf16(float f);

struct SafetensorInfo {
  std::string dtype;               // "F32", "F16", "BF16", "I64", ...
  std::vector<int64_t> shape;
  uint64_t begin = 0, end = 0;     // data_offsets, relative to the data section
};

// An opened safetensors file: the header is parsed and checked on open (offsets
// inside the data section, consistent with dtype and shape for the standard
// dtypes, no two tensors overlapping); data is read on demand.
class SafetensorsFile {
 public:
  explicit SafetensorsFile(const std::string& path);

  const std::string& path() const { return path_; }
  bool has(const std::string& name) const { return tensors_.count(name) != 0; }
  const SafetensorInfo& info(const std::string& name) const;  // throws "missing tensor NAME"
  const std::map<std::string, SafetensorInfo>& tensors() const { return tensors_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  // The tensor's values as float (F32, F16 or BF16; any other dtype throws).
  std::vector<float> read_floats(const std::string& name) const;

 private:
  std::string path_;
  uint64_t data_start_ = 0;  // file offset of the data section
  std::map<std::string, SafetensorInfo> tensors_;
  std::map<std::string, std::string> metadata_;
};

// A tensor to write: bytes already in the dtype's little-endian encoding.
struct RawTensor {
  std::string name;
  std::string dtype;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;
};
// Encodings of float values.
std::vector<uint8_t> encode_f32(const std::vector<float>& v);
std::vector<uint8_t> encode_f16(const std::vector<float>& v);
std::vector<uint8_t> encode_bf16(const std::vector<float>& v);

// Writes a safetensors file: tensors in the given order, contiguous from data
// offset 0, header padded with spaces to a multiple of 8 bytes.
void write_safetensors(const std::string& path, const std::vector<RawTensor>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

// The Hugging Face tensor name of a canonical tensor for a family
// ("layers.3.up.w" -> "model.layers.3.mlp.up_proj.weight"); the layer index
// is the file's (source) layer.  GPT-2's q/k/v live in one fused c_attn
// tensor: its name is returned for "layers.{i}.q.w"/"q.b" and k/v give "".
// `root` is the prefix of the model's tensors ("model.", "model.decoder.",
// "" or "transformer." for gpt2); lm_head is never prefixed.
std::string hf_name(Family family, const std::string& root, const std::string& canonical);
// The roots tried in order when loading: the first one whose embedding exists wins.
std::vector<std::string> hf_roots(Family family);

// Loads a model's float weights from a Hugging Face safetensors file and
// checks each needed tensor's presence, dtype and shape against cfg (extra
// tensors are ignored).  Pruned configs: cfg.layer[i] reads file layer
// source_layer; a layer whose tensors have the unpruned shapes keeps its most
// important KV groups / q heads / FFN channels by the L2 rule of
// docs/weights.md; a layer whose tensors already have the pruned shapes is
// taken as is (what save_safetensors writes).
ModelWeights load_safetensors(const std::string& path, const ModelConfig& cfg);

// Writes weights as F32 under the Hugging Face names and layouts of
// weights.cfg.family (layers under their source_layer index), so that
// load_safetensors(path, weights.cfg) gives the same weights back.
void save_safetensors(const std::string& path, const ModelWeights& weights);

}  // namespace clonesim::compiler
