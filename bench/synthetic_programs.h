// Synthetic programs for benchmarks and examples, written as assembly text.
#pragma once

#include <string>

#include "hw/hw_config.h"

namespace clonesim::bench {

// A double-buffered tiled GEMM per tile: C[M x N] = A[M x K] * W[K x N] with
// K = k_tiles * R.  Each tile takes every `tiles`-th column block of N; for
// each block one DMA load brings its k_tiles packed weight tiles into one of
// two scratchpad buffers while the MXU works on the other, results
// accumulate in one of two accumulator buffers that a store drains.
// Semaphores (tile-local): 1,2 weights full; 3,4 weights free; 5,6 results
// ready; 7,8 results free.
std::string tiled_gemm(const hw::HwConfig& hw, unsigned m, unsigned k_tiles, unsigned n_blocks, bool int4);

// A DRAM-bound stream: `loads` loads of `bytes` each into alternating
// scratchpad banks, no compute.
std::string dram_stream(const hw::HwConfig& hw, unsigned loads, unsigned bytes);

}  // namespace clonesim::bench
