// One decode step of a quantized decoder-only model as one program for a
// design point, and the DRAM image it runs on (docs/compiler.md, "The decode
// program").  The token comes from context register c1 and the KV position
// from c4, both set by the host, so one program of one step serves every
// token at every position from `first_pos` to `last_pos`: the positions with
// as many KV blocks as the position it was built for (decode_context makes
// the registers).  Several steps in a row (positions p, p+1, ...) can be
// generated as one program: each step is the same code with its position and
// token set by ctx.set, and reads the KV cache the steps before it appended
// in DRAM.
//
// Per step: the embedding row widened into the residual stream (int32; each
// tile keeps the columns o and down compute on it); per layer the norm (exact
// partial sums met across the tiles) -> q, k, v (decode linears on the shared
// weight stream) -> decode attention (heads split across the tiles, the KV
// cache streamed in blocks) -> o to T, added into the residual columns ->
// norm -> gate, up -> activation and product -> down to T, added; then the
// final norm and the LM head to int32 logits in DRAM.  Every kernel follows
// its golden kernel's instruction sequence, so the logits and the KV-cache
// row equal GoldenModel::decode's bit for bit.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "golden/quant_model.h"
#include "hw/hw_config.h"
#include "isa/program.h"
#include "lower/attention.h"
#include "lower/layout.h"

namespace clonesim::compiler {

// Bytes the host writes to DRAM before a run.
struct DramChunk {
  std::string name;
  uint64_t addr = 0;
  std::vector<uint8_t> bytes;
};

struct DecodeStep {
  uint64_t pos = 0;    // the token's KV position (it attends to 0..pos)
  int64_t token = -1;  // < 0: the token is in context register c1, set by the host
};

struct DecodeLayerMap {
  DecodeAttentionShape attn;       // q_heads, kv_heads, hd, max_pos (the cache's capacity)
  uint64_t k_cache = 0, v_cache = 0;
};

struct DecodeProgram {
  isa::Program program;
  std::string listing;             // assembly with comments; re-assembles to `program`
  std::string plan;                // per kernel: tiles, blocks, buffers; the SRAM plan
  DramMap map;                     // every DRAM region
  std::vector<DramChunk> image;    // weights, tables, norms, LUTs, RoPE tables, embedding (not the KV cache)
  std::vector<DecodeLayerMap> layers;
  std::vector<DecodeStep> steps;
  std::vector<uint64_t> logits;    // per step: vocab int32 logits (T of the LM head)
  unsigned token_reg = 1;          // the context register that holds the token
  unsigned pos_reg = 4;            // the context register that holds the position (one-step programs)
  uint64_t first_pos = 0, last_pos = 0;  // the positions a one-step program serves (several steps: the first's)
  bool timing_only = false;        // built from a shapes-only model: `image` is empty, run it in timing mode
};

// Throws clonesim::Error (one line, naming the model, the design point and
// the kernel) for an unsupported model feature or a buffer the design point
// cannot hold.  Only the first step may take its token from the host.
DecodeProgram build_decode_program(const golden::QuantModel& qm, const hw::HwConfig& hw,
                                   const std::vector<DecodeStep>& steps);
inline DecodeProgram build_decode_program(const golden::QuantModel& qm, const hw::HwConfig& hw, uint64_t pos) {
  return build_decode_program(qm, hw, std::vector<DecodeStep>{{pos, -1}});
}

// The context registers of a run of `p` at position `pos` with `token`
// (c1, c4); throws clonesim::Error when `pos` is outside first_pos..last_pos.
std::array<int64_t, 8> decode_context(const DecodeProgram& p, uint64_t pos, int64_t token);

// The KV cache of one layer for positions 0..positions-1 in the program's
// layout, from GoldenModel's (k_cache / v_cache: [pos][kv_head][head_dim]).
std::vector<DramChunk> kv_cache_image(const hw::HwConfig& hw, const DecodeProgram& p, size_t layer,
                                      const std::vector<int8_t>& k, const std::vector<int8_t>& v, uint64_t positions);
// The same for any program with this KV-cache layout (the prefill program's `layers`).
std::vector<DramChunk> kv_cache_image(const hw::HwConfig& hw, const std::vector<DecodeLayerMap>& layers, size_t layer,
                                      const std::vector<int8_t>& k, const std::vector<int8_t>& v, uint64_t positions);
// DRAM address of element e of KV head j at position pos in layer `layer`
// of a KV-cache layout (a decode or prefill program's `layers`).
uint64_t k_cache_addr(const std::vector<DecodeLayerMap>& layers, size_t layer, uint64_t pos, uint64_t j, uint64_t e);
uint64_t v_cache_addr(const hw::HwConfig& hw, const std::vector<DecodeLayerMap>& layers, size_t layer, uint64_t pos,
                      uint64_t j, uint64_t e);
inline uint64_t k_cache_addr(const DecodeProgram& p, size_t layer, uint64_t pos, uint64_t j, uint64_t e) {
  return k_cache_addr(p.layers, layer, pos, j, e);
}
inline uint64_t v_cache_addr(const hw::HwConfig& hw, const DecodeProgram& p, size_t layer, uint64_t pos, uint64_t j,
                             uint64_t e) {
  return v_cache_addr(hw, p.layers, layer, pos, j, e);
}

}  // namespace clonesim::compiler
