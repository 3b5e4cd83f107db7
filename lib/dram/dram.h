// LPDDR4/LPDDR4X/LPDDR5 timing model, shared by the SystemC model and the
// RTL co-simulation (both sides are served by this one class).
//
// The model serves requests in the order they are submitted (in-order,
// open-page policy).  A request is at most one DMA burst and never crosses an
// interleave unit, so it touches exactly one channel, bank and row.  Its
// timing is computed in closed form from the bank and channel state in DRAM
// clocks (tCK); the caller passes the arrival time in picoseconds and gets the
// completion time in picoseconds.  docs/timing-dram.md gives every rule.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "hw/hw_config.h"

namespace clonesim::dram {

struct Address {
  uint32_t channel = 0;
  uint32_t bank = 0;
  uint64_t row = 0;
  uint32_t column = 0;  // byte offset within the row
};

enum class RowOutcome : uint8_t { Hit, Miss, Conflict };

struct Completion {
  uint64_t done_ps = 0;       // last data beat transferred
  uint64_t data_start_ps = 0; // first data beat
  RowOutcome outcome = RowOutcome::Hit;
  uint32_t refreshes = 0;     // refreshes (REFab or REFpb) performed before this request
};

struct ChannelStats {
  uint64_t reads = 0, writes = 0;        // requests
  uint64_t read_bytes = 0, write_bytes = 0;
  uint64_t bursts = 0;                   // column commands
  uint64_t row_hits = 0, row_misses = 0, row_conflicts = 0;
  uint64_t activates = 0, precharges = 0;
  uint64_t refreshes = 0;                // REFab commands, or REFpb commands in per-bank mode
  uint64_t busy_ck = 0;                  // clocks the data bus carried data
};

// Field by field (totals over channels, the work between two instants).
ChannelStats& operator+=(ChannelStats& a, const ChannelStats& b);
ChannelStats& operator-=(ChannelStats& a, const ChannelStats& b);

class DramModel {
 public:
  explicit DramModel(const hw::DramConfig& cfg);

  Address map(uint64_t addr) const;
  // Serve one request.  `bytes` >= 1 and [addr, addr+bytes) lies inside one
  // interleave unit.  `arrival_ps` must not decrease between calls.
  Completion access(uint64_t addr, uint32_t bytes, bool is_write, uint64_t arrival_ps);

  const std::vector<ChannelStats>& channel_stats() const { return stats_; }
  ChannelStats total_stats() const;
  const hw::DramConfig& config() const { return cfg_; }
  void reset();

 private:
  struct Bank {
    int64_t open_row = -1;
    uint64_t act_ok = 0;   // earliest ACT (after precharge + tRP)
    uint64_t col_ok = 0;   // earliest column command (ACT + tRCD)
    uint64_t pre_ok = 0;   // earliest PRE (tRAS, tRTP, tWR)
  };
  struct Channel {
    std::vector<Bank> banks;
    std::array<uint64_t, 4> act_hist{};  // last four ACT times (tFAW)
    unsigned act_pos = 0;
    uint64_t acts = 0;
    uint64_t last_act = 0;
    uint64_t next_col = 0;     // earliest next column command (tCCD)
    uint64_t bus_free = 0;     // data bus free from this clock
    uint64_t wr_data_end = 0;  // end of last write data (tWTR)
    bool last_write = false;
    uint64_t next_refresh = 0; // clock the next refresh is due
    // Per-bank refresh: the latest REFpb's group and start, and the groups
    // refreshed so far in the current round (bit g).
    uint32_t ref_last = hw::kRefreshGroups - 1;  // so that the first round starts at group 0
    uint32_t ref_done = 0;
    uint64_t ref_start = 0;    // 0: none yet (the first is due at tREFIpb > tRFCpb)
  };

  // x / d for a divisor fixed at construction: a shift for powers of two,
  // else a multiply-high by a precomputed reciprocal (exact for x <= lim,
  // a plain division above it).
  __extension__ typedef unsigned __int128 U128;
  struct Div {
    uint64_t d = 1, m = 0, lim = 0;
    int shift = 0;  // >= 0: power of two
    void init(uint64_t divisor);
    uint64_t operator()(uint64_t x) const {
      if (shift >= 0) return x >> shift;
      if (x <= lim) return uint64_t((static_cast<U128>(x) * m) >> 64);
      return x / d;
    }
  };

  // Timing and geometry in the units `access` uses, derived once from cfg_.
  struct Derived {
    uint64_t tck_ps = 0;
    uint64_t burst_ck = 0;   // BL / (data_rate / ck)
    bool per_bank = false;   // refresh mode
    uint64_t tRFC = 0;       // ceil(tRFC_ns / tck), or ceil(tRFCpb_ns / tck) per bank
    uint64_t tREFI = 0;      // floor(tREFI_ns / tck), or floor(tREFI_ns / 8 / tck) per
                             // bank; 0 = refresh disabled
    uint64_t CL = 0, CWL = 0, tRCD = 0, tRP = 0, tRAS = 0, tRRD = 0, tFAW = 0;
    uint64_t tCCD = 0, tRTP = 0, tWR = 0, tWTR = 0;
    uint64_t ilv_bytes = 0, ilv_mask = 0, page_mask = 0;
    int ilv_shift = 0, page_shift = 0;
    Div tck, channels, banks, burst;
  };

  // Step 1 of `access`: every refresh due at or before clock t.  Returns the
  // number performed.
  uint64_t refresh(Channel& ch, ChannelStats& st, uint64_t t);
  uint64_t refresh_per_bank(Channel& ch, ChannelStats& st, uint64_t t, uint32_t bank);
  uint32_t pick_group(const Channel& ch, uint64_t due, uint32_t trig) const;

  hw::DramConfig cfg_;
  Derived d_;
  std::vector<Channel> ch_;
  std::vector<ChannelStats> stats_;
  uint64_t last_arrival_ps_ = 0;
};

}  // namespace clonesim::dram
