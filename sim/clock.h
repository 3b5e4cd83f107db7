// A DVFS domain's clock: edges at base + k * period.  A transition ends at a
// new base with a new period; until then the domain has no edges.
#pragma once

#include <cstdint>

namespace clonesim::sim {

struct DomainClock {
  uint64_t base = 0;    // time of an edge; the next period starts here
  uint64_t period = 1;  // ps

  // First edge at or after t.
  uint64_t next_edge(uint64_t t) const {
    if (t <= base) return base;
    return base + (t - base + period - 1) / period * period;
  }
  // The n-th edge strictly after t (n >= 1): how long a signal raised at t
  // takes through an n-flop synchroniser into this domain.
  uint64_t edge_after(uint64_t t, unsigned n) const { return next_edge(t + 1) + uint64_t(n - 1) * period; }
  bool is_edge(uint64_t t) const { return t >= base && (t - base) % period == 0; }
};

}  // namespace clonesim::sim
