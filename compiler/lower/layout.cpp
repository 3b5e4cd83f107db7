#include "lower/layout.h"

#include "common/error.h"
#include "common/strf.h"

namespace clonesim::compiler {

namespace {
uint64_t align_up(uint64_t x, uint64_t a) { return a <= 1 ? x : (x + a - 1) / a * a; }
}  // namespace

uint64_t DramMap::alloc(const std::string& name, uint64_t bytes, uint64_t align) {
  const uint64_t a = align_up(next_, align);
  if (a + bytes >= (uint64_t(1) << 48)) throw Error(strf("DRAM map: %s does not fit the 48-bit address space", name.c_str()));
  regions_.push_back({name, a, bytes});
  next_ = a + bytes;
  return a;
}

std::string DramMap::to_string() const {
  std::string out;
  for (const Region& r : regions_)
    out += strf("0x%012llx  %12llu  %s\n", (unsigned long long)r.addr, (unsigned long long)r.bytes, r.name.c_str());
  return out;
}

SramArena::SramArena(const hw::SramConfig& c, std::string what)
    : c_(c), what_(std::move(what)), used_(c.banks, 0), avoid_(c.banks, false) {}

void SramArena::avoid(uint32_t bank) {
  if (bank < c_.banks) avoid_[bank] = true;
}

uint64_t SramArena::alloc_in_bank(uint32_t bank, uint64_t bytes, uint64_t align, const std::string& name) {
  if (bank >= c_.banks) throw Error(strf("%s: no bank %u (%u banks)", what_.c_str(), bank, c_.banks));
  const uint64_t a = align_up(used_[bank], align ? align : c_.line_bytes());
  if (a + bytes > c_.bank_bytes())
    throw Error(strf("%s: %s needs %llu bytes, bank %u has %llu free (banks of %llu bytes)", what_.c_str(),
                     name.empty() ? "a buffer" : name.c_str(), (unsigned long long)bytes, bank,
                     (unsigned long long)(c_.bank_bytes() - std::min(a, c_.bank_bytes())),
                     (unsigned long long)c_.bank_bytes()));
  used_[bank] = a + bytes;
  allocs_.push_back({name, bank * c_.bank_bytes() + a, bytes});
  return bank * c_.bank_bytes() + a;
}

uint64_t SramArena::used_bytes() const {
  uint64_t n = 0;
  for (uint64_t u : used_) n += u;
  return n;
}

std::string SramArena::to_string() const {
  std::string out;
  for (const Region& r : allocs_)
    out += strf("  0x%06llx  %8llu  %s\n", (unsigned long long)r.addr, (unsigned long long)r.bytes, r.name.c_str());
  out += strf("  %s: %llu of %llu bytes used (banks of %llu:", what_.c_str(), (unsigned long long)used_bytes(),
              (unsigned long long)c_.total_bytes(), (unsigned long long)c_.bank_bytes());
  for (uint64_t u : used_) out += strf(" %llu", (unsigned long long)u);
  out += ")\n";
  return out;
}

uint64_t SramArena::alloc(uint64_t bytes, uint64_t align, const std::string& name) {
  for (int pass = 0; pass < 2; ++pass)
    for (uint32_t b = 0; b < c_.banks; ++b)
      if ((pass == 1 || !avoid_[b]) && align_up(used_[b], align ? align : c_.line_bytes()) + bytes <= c_.bank_bytes())
        return alloc_in_bank(b, bytes, align, name);
  throw Error(strf("%s: %s needs %llu bytes in one bank; no bank (of %llu bytes) has room", what_.c_str(),
                   name.empty() ? "a buffer" : name.c_str(), (unsigned long long)bytes,
                   (unsigned long long)c_.bank_bytes()));
}

uint64_t SramArena::free_in_bank(uint32_t bank) const { return c_.bank_bytes() - used_.at(bank); }

unsigned SemPool::local(const std::string& why) {
  if (next_local_ > 15) throw Error("out of tile-local semaphores (15) at " + why);
  return next_local_++;
}

unsigned SemPool::global(const std::string& why) {
  if (next_global_ > 31) throw Error("out of global semaphores (16) at " + why);
  return next_global_++;
}

void put32(std::vector<uint8_t>& out, int32_t v) {
  for (int k = 0; k < 4; ++k) out.push_back(uint8_t(uint32_t(v) >> (8 * k)));
}

std::vector<uint8_t> bytes32(const std::vector<int32_t>& v) {
  std::vector<uint8_t> out;
  out.reserve(4 * v.size());
  for (int32_t x : v) put32(out, x);
  return out;
}

}  // namespace clonesim::compiler
