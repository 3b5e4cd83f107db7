// A DVFS domain's clock: edges at base + k * period.  A transition ends at a
// new base with a new period; until then the domain has no edges.
#pragma once

#include <cstdint>

namespace clonesim::sim {

// n / d for a divisor fixed in advance, by a shift when d is a power of two,
// else by multiplication (Granlund and Montgomery, "Division by invariant
// integers using multiplication", 1994, figure 4.1: exact for every 64-bit n).
class FastDiv {
 public:
  explicit FastDiv(uint64_t d) : d_(d) {
    if ((d & (d - 1)) == 0) {
      shift_ = __builtin_ctzll(d);
      return;
    }
    const int l = 64 - __builtin_clzll(d - 1);  // ceil(log2 d), 2..64
    if (l == 64) {
      shift_ = kPlain;
      return;
    }
    m_ = static_cast<uint64_t>(((static_cast<unsigned __int128>((uint64_t(1) << l) - d)) << 64) / d) + 1;
    shift_ = -(l - 1);
  }
  uint64_t operator()(uint64_t n) const {
    if (shift_ >= 0) return n >> shift_;
    if (shift_ == kPlain) return n / d_;
    const uint64_t t = static_cast<uint64_t>((static_cast<unsigned __int128>(m_) * n) >> 64);
    return (t + ((n - t) >> 1)) >> (-shift_);
  }
  uint64_t divisor() const { return d_; }

 private:
  uint64_t d_;
  uint64_t m_ = 0;
  static constexpr int kPlain = -100;
  int shift_ = 0;  // >= 0: n >> shift_; kPlain: n / d_; else multiply, then shift by -shift_
};

class DomainClock {
 public:
  uint64_t base = 0;  // time of an edge; the next period starts here

  uint64_t period() const { return period_; }  // ps
  void set_period(uint64_t ps) {
    period_ = ps;
    div_ = FastDiv(ps);
  }

  // First edge at or after t.
  uint64_t next_edge(uint64_t t) const {
    if (t <= base) return base;
    return base + div_(t - base + period_ - 1) * period_;
  }
  // The n-th edge strictly after t (n >= 1): how long a signal raised at t
  // takes through an n-flop synchroniser into this domain.
  uint64_t edge_after(uint64_t t, unsigned n) const { return next_edge(t + 1) + uint64_t(n - 1) * period_; }
  bool is_edge(uint64_t t) const { return t >= base && t - base == div_(t - base) * period_; }

 private:
  uint64_t period_ = 1;
  FastDiv div_{1};  // by period_
};

}  // namespace clonesim::sim
