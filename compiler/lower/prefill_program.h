// The prefill of a prompt (N tokens known at compile time, positions
// 0..N-1) as one program for a design point, and the DRAM image it runs on
// (docs/compiler.md, "The prefill program").
//
// The program runs in phases, each over all N rows, separated by barriers
// (control nops that wait until the phase's last stores are in DRAM); every
// phase lays out the SRAM of the tiles for itself.  Per layer:
//   attn_norm (rows split over the tiles) -> q, k, v as GEMMs (row blocks of
//   M_b rows, weights streamed per block of columns, columns split over the
//   tiles) -> RoPE and the KV-cache append (rows split) -> causal attention
//   (KV heads split; per query row) -> o as a GEMM to T, added into the
//   residual rows in DRAM -> ffn_norm -> gate/up (or fc1) GEMM with the
//   activation -> down (fc2) GEMM added into the residual;
// then the final norm and the LM head for the last token.  The residual
// stream (N x hidden int32) lives in DRAM.  Every kernel follows its golden
// kernel's instruction sequence, so the logits of the last token and every
// KV-cache byte equal GoldenModel::prefill's bit for bit.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "golden/quant_model.h"
#include "hw/hw_config.h"
#include "isa/program.h"
#include "lower/decode_program.h"
#include "lower/layout.h"

namespace clonesim::compiler {

struct PrefillProgram {
  isa::Program program;
  std::string listing, plan;             // listing: empty when PrefillOptions::listing is false
  DramMap map;
  std::vector<DramChunk> image;          // weights, tables, norms, LUTs, RoPE tables, embedding (not the KV cache)
  std::vector<DecodeLayerMap> layers;    // the KV cache per layer, the decode program's layout
  uint64_t logits = 0;                   // int32 logits of the last token (vocab) in DRAM
  uint64_t tokens = 0;                   // prompt length
  bool timing_only = false;              // from a shapes-only model: `image` is empty; run in timing mode
};

struct PrefillOptions {
  // false: no listing and no comments (a timing run needs neither); the
  // program is then assembled from per-phase pieces, so building it takes
  // about one copy of the program at its peak (the instructions alone are
  // 280 bytes each in memory: a 512-token Llama-2-7B prefill has tens of
  // millions of them).
  bool listing = true;
  // Programs with more instructions than this are built without comments
  // (the listing then has the instructions only).
  uint64_t listing_limit = 2000000;
  // Upper bound on the GEMM row block and the attention's query-row block
  // (0: as the SRAM allows).  Tests use it to run several blocks on tiny prompts.
  uint64_t max_row_block = 0;
  // Upper bound on the elements of a norm's row piece (0: the whole row when
  // it fits the accumulator).  Tests use it to run the pieces on tiny.
  uint64_t max_norm_piece = 0;
};

// Throws clonesim::Error (one line, naming the model, the design point, the
// kernel and the buffer) for an unsupported model or a buffer the design
// point cannot hold.
PrefillProgram build_prefill_program(const golden::QuantModel& qm, const hw::HwConfig& hw,
                                     const std::vector<int64_t>& tokens, const PrefillOptions& opt);
inline PrefillProgram build_prefill_program(const golden::QuantModel& qm, const hw::HwConfig& hw,
                                            const std::vector<int64_t>& tokens) {
  return build_prefill_program(qm, hw, tokens, PrefillOptions{});
}

// DRAM address of element e of KV head j at position pos in layer `layer`
// (the decode program's layout: kv_cache_image, k_cache_addr, v_cache_addr).
inline uint64_t k_cache_addr(const PrefillProgram& p, size_t layer, uint64_t pos, uint64_t j, uint64_t e) {
  return k_cache_addr(p.layers, layer, pos, j, e);
}
inline uint64_t v_cache_addr(const hw::HwConfig& hw, const PrefillProgram& p, size_t layer, uint64_t pos, uint64_t j,
                             uint64_t e) {
  return v_cache_addr(hw, p.layers, layer, pos, j, e);
}

}  // namespace clonesim::compiler
