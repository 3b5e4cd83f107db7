// The scratchpad image of a matmul's weight block, which the compiler also
// writes to DRAM unchanged (docs/compiler.md, "Weights in DRAM are SRAM
// images"): the R x C array tiles of a K x N block, n-slice outer and k-slice
// inner, each packed row-major (int8: a byte each; int4: two per byte, low
// nibble first) and starting on a byte boundary (docs/isa.md, matmul).
#pragma once

#include <cstdint>
#include <vector>

namespace clonesim::compiler {

// Bytes of the image of a K x N block on an R x C array.
uint64_t weight_image_bytes(uint64_t K, uint64_t N, uint64_t R, uint64_t C, bool int4);

// `w` is the K x N block row-major (element (k, n) at w[k * ld + n]; int4
// values must lie in -8..7).  Throws clonesim::Error for an int4 value out of
// range.
std::vector<uint8_t> weight_image(const int8_t* w, uint64_t ld, uint64_t K, uint64_t N, uint64_t R, uint64_t C,
                                  bool int4);

}  // namespace clonesim::compiler
