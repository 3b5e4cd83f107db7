// Where things live: the DRAM memory map, the per-tile SRAM arenas and the
// semaphore pool of a program being generated.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hw/hw_config.h"

namespace clonesim::compiler {

struct Region {
  std::string name;
  uint64_t addr = 0, bytes = 0;
};

// DRAM regions, allocated upwards from `base`, each aligned.
// Little-endian int32 values of a DRAM image (tables, multipliers, norms).
void put32(std::vector<uint8_t>& out, int32_t v);
std::vector<uint8_t> bytes32(const std::vector<int32_t>& v);

class DramMap {
 public:
  explicit DramMap(uint64_t base = 0) : next_(base) {}
  uint64_t alloc(const std::string& name, uint64_t bytes, uint64_t align = 256);
  const std::vector<Region>& regions() const { return regions_; }
  uint64_t end() const { return next_; }
  std::string to_string() const;  // the memory map, one region per line

 private:
  uint64_t next_;
  std::vector<Region> regions_;
};

// One SRAM space (scratchpad or accumulator) of a tile: buffers allocated
// bank by bank, so a buffer never crosses a bank boundary (vector operands
// must not) and double buffers can be put in different banks.
class SramArena {
 public:
  SramArena(const hw::SramConfig& c, std::string what);
  // `bytes` in bank `bank`, aligned to `align` (default: a line).  Throws
  // clonesim::Error naming the arena when it does not fit.
  uint64_t alloc_in_bank(uint32_t bank, uint64_t bytes, uint64_t align = 0, const std::string& name = "");
  // In the first bank with room, preferring banks not marked `avoid`.
  uint64_t alloc(uint64_t bytes, uint64_t align = 0, const std::string& name = "");
  // Later alloc() calls use this bank only when no other has room (it holds
  // buffers another unit streams through).
  void avoid(uint32_t bank);
  uint64_t free_in_bank(uint32_t bank) const;
  uint32_t banks() const { return c_.banks; }
  uint64_t bank_bytes() const { return c_.bank_bytes(); }
  uint32_t line_bytes() const { return c_.line_bytes(); }
  uint64_t used_bytes() const;
  // Every buffer allocated so far, in allocation order.
  const std::vector<Region>& allocations() const { return allocs_; }
  // The allocations, one per line: address, bytes, name; then the use per bank.
  std::string to_string() const;

 private:
  hw::SramConfig c_;
  std::string what_;
  std::vector<uint64_t> used_;  // bytes used per bank
  std::vector<bool> avoid_;
  std::vector<Region> allocs_;
};

// Semaphore ids: tile-local 1..15, global 16..31.
class SemPool {
 public:
  unsigned local(const std::string& why);
  unsigned global(const std::string& why);

 private:
  unsigned next_local_ = 1, next_global_ = 16;
};

}  // namespace clonesim::compiler
