#include "sim/memory.h"

#include <algorithm>

namespace clonesim::sim {

void SparseMemory::read(uint64_t addr, void* dst, uint64_t n) const {
  auto* out = static_cast<uint8_t*>(dst);
  while (n > 0) {
    const uint64_t page = addr >> kPageBits, off = addr & (kPageBytes - 1);
    const uint64_t k = std::min(n, kPageBytes - off);
    auto it = pages_.find(page);
    if (it == pages_.end()) std::memset(out, 0, k);
    else std::memcpy(out, it->second.get() + off, k);
    out += k;
    addr += k;
    n -= k;
  }
}

void SparseMemory::write(uint64_t addr, const void* src, uint64_t n) {
  auto* in = static_cast<const uint8_t*>(src);
  while (n > 0) {
    const uint64_t page = addr >> kPageBits, off = addr & (kPageBytes - 1);
    const uint64_t k = std::min(n, kPageBytes - off);
    auto& p = pages_[page];
    if (!p) {
      p.reset(new uint8_t[kPageBytes]);
      std::memset(p.get(), 0, kPageBytes);
    }
    std::memcpy(p.get() + off, in, k);
    in += k;
    addr += k;
    n -= k;
  }
}

std::vector<uint64_t> SparseMemory::page_addresses() const {
  std::vector<uint64_t> v;
  v.reserve(pages_.size());
  for (auto& kv : pages_) v.push_back(kv.first << kPageBits);
  std::sort(v.begin(), v.end());
  return v;
}

bool SparseMemory::operator==(const SparseMemory& o) const {
  // Equal as byte images: a missing page equals an all-zero page.
  static const std::vector<uint8_t> zero(kPageBytes, 0);
  auto covers = [](const SparseMemory& a, const SparseMemory& b) {
    for (auto& kv : a.pages_) {
      auto it = b.pages_.find(kv.first);
      const uint8_t* other = it == b.pages_.end() ? zero.data() : it->second.get();
      if (std::memcmp(kv.second.get(), other, kPageBytes) != 0) return false;
    }
    return true;
  };
  return covers(*this, o) && covers(o, *this);
}

}  // namespace clonesim::sim
