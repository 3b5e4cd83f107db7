// Backing stores for functional simulation: DRAM as sparse 64 KiB pages
// (unwritten bytes read as zero), and each tile's scratchpad and accumulator.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <unordered_map>
#include <vector>

namespace clonesim::sim {

class SparseMemory {
 public:
  static constexpr uint64_t kPageBits = 16;
  static constexpr uint64_t kPageBytes = uint64_t(1) << kPageBits;

  void read(uint64_t addr, void* dst, uint64_t n) const;
  void write(uint64_t addr, const void* src, uint64_t n);
  uint64_t pages() const { return pages_.size(); }
  // Every allocated page, sorted by address (for dumps and comparisons).
  std::vector<uint64_t> page_addresses() const;
  bool operator==(const SparseMemory& o) const;

 private:
  std::unordered_map<uint64_t, std::unique_ptr<uint8_t[]>> pages_;
};

struct TileMemory {
  std::vector<uint8_t> sp;   // int8 data
  std::vector<uint8_t> acc;  // int32 data, little-endian
  std::vector<uint8_t>& space(int s) { return s == 1 ? acc : sp; }
  const std::vector<uint8_t>& space(int s) const { return s == 1 ? acc : sp; }
  int32_t acc_at(uint64_t byte_addr) const {
    int32_t v;
    std::memcpy(&v, &acc[byte_addr], 4);
    return v;
  }
};

}  // namespace clonesim::sim
