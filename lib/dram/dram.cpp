// LPDDR4/LPDDR4X/LPDDR5 timing model.  docs/timing-dram.md states every rule
// implemented here; the step numbers in the comments refer to it.
//
// `access` is on the simulator's hot path: it allocates nothing, divides by a
// configuration constant only through a precomputed shift or reciprocal, and
// keeps refresh (rare) out of line.
#include "dram/dram.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>

#include "common/error.h"

namespace clonesim::dram {

namespace {

bool is_pow2(uint64_t x) { return x != 0 && (x & (x - 1)) == 0; }

int log2u(uint64_t x) {
  int s = 0;
  while ((uint64_t(1) << s) < x) ++s;
  return s;
}

[[noreturn]] void fail(const std::string& msg) { throw Error("dram: " + msg); }

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

// Nanoseconds to whole picoseconds (the configuration's figures are exact in
// ps; rounding first keeps 210 ns / 1250 ps from landing on 168.0000001).
uint64_t ns_to_ps(double ns, const char* what) {
  if (!(ns >= 0) || !std::isfinite(ns)) fail(std::string(what) + " must be a finite number >= 0");
  return static_cast<uint64_t>(std::llround(ns * 1000.0));
}

}  // namespace

void DramModel::Div::init(uint64_t divisor) {
  d = divisor;
  if (is_pow2(divisor)) {
    shift = log2u(divisor);
    m = 0;
    lim = 0;
    return;
  }
  // m = floor(2^64 / d) + 1, so m*d = 2^64 + e with 0 < e < d.  For
  // x = q*d + r: x*m / 2^64 = q + (r + x*e/2^64) / d, and r + x*e/2^64 < d
  // whenever x*e < 2^64, which x <= (2^64-1)/d guarantees.
  shift = -1;
  m = std::numeric_limits<uint64_t>::max() / divisor + 1;
  lim = std::numeric_limits<uint64_t>::max() / divisor;
}

DramModel::DramModel(const hw::DramConfig& cfg) : cfg_(cfg) {
  const hw::DramTiming& tm = cfg.timing;
  if (cfg.channels == 0) fail("channels must be >= 1");
  if (cfg.banks == 0) fail("banks must be >= 1");
  if (!is_pow2(cfg.page_bytes)) fail("page_bytes (" + std::to_string(cfg.page_bytes) + ") must be a power of two");
  if (!is_pow2(cfg.interleave_bytes))
    fail("interleave_bytes (" + std::to_string(cfg.interleave_bytes) + ") must be a power of two");
  if (cfg.interleave_bytes > cfg.page_bytes)
    fail("interleave_bytes (" + std::to_string(cfg.interleave_bytes) + ") must not exceed page_bytes (" +
         std::to_string(cfg.page_bytes) + "), or a request could span two rows");
  if (cfg.tck_ps == 0) fail("tck_ps is 0 (the clock period must be derived before building the model)");
  if (cfg.ck_mhz == 0) fail("ck_mhz must be >= 1");
  if (cfg.data_rate_mtps < cfg.ck_mhz)
    fail("data_rate_mtps (" + std::to_string(cfg.data_rate_mtps) + ") must be >= ck_mhz (" +
         std::to_string(cfg.ck_mhz) + ")");
  const uint64_t bb = uint64_t(tm.BL) * cfg.width_bits / 8;
  if (bb == 0) fail("BL * width_bits / 8 (the burst size) must be >= 1 byte");
  const uint64_t per_ck = cfg.data_rate_mtps / cfg.ck_mhz;
  const uint64_t burst_ck = tm.BL / per_ck;
  if (burst_ck == 0)
    fail("BL (" + std::to_string(tm.BL) + ") must be at least the transfers per clock (" + std::to_string(per_ck) + ")");

  d_.tck_ps = cfg.tck_ps;
  d_.burst_ck = burst_ck;
  // Refresh: all-bank uses tRFC every tREFI; per-bank uses tRFCpb every
  // tREFIpb = tREFI / 8 (floor of tREFI_ps / (8 * tck_ps)).
  d_.per_bank = cfg.refresh == hw::RefreshMode::PerBank;
  const uint64_t rfc_ab_ps = ns_to_ps(tm.tRFC_ns, "tRFC_ns");
  const uint64_t rfc_pb_ps = ns_to_ps(tm.tRFCpb_ns, "tRFCpb_ns");
  const uint64_t refi_ps = ns_to_ps(tm.tREFI_ns, "tREFI_ns");
  const uint64_t rfc_ps = d_.per_bank ? rfc_pb_ps : rfc_ab_ps;
  const uint64_t groups = d_.per_bank ? hw::kRefreshGroups : 1;
  d_.tRFC = (rfc_ps + cfg.tck_ps - 1) / cfg.tck_ps;
  d_.tREFI = refi_ps / (groups * cfg.tck_ps);
  const char* refi_name = d_.per_bank ? "tREFIpb" : "tREFI";
  const char* rfc_name = d_.per_bank ? "tRFCpb" : "tRFC";
  if (d_.per_bank && cfg.banks % hw::kRefreshGroups != 0)
    fail("per-bank refresh needs a multiple of 8 banks (8 REFpb per tREFI), not " + std::to_string(cfg.banks));
  if (refi_ps != 0 && d_.tREFI == 0) fail(std::string(refi_name) + " is shorter than one clock");
  if (d_.per_bank && d_.tREFI != 0 && d_.tRFC == 0) fail("tRFCpb_ns must be > 0 with per-bank refresh");
  if (d_.tREFI != 0 && d_.tREFI <= d_.tRFC)
    fail(std::string(refi_name) + " (" + std::to_string(d_.tREFI) + " ck) must be longer than " + rfc_name + " (" +
         std::to_string(d_.tRFC) + " ck)");
  d_.CL = tm.CL;
  d_.CWL = tm.CWL;
  d_.tRCD = tm.tRCD;
  d_.tRP = tm.tRP;
  d_.tRAS = tm.tRAS;
  d_.tRRD = tm.tRRD;
  d_.tFAW = tm.tFAW;
  d_.tCCD = tm.tCCD;
  d_.tRTP = tm.tRTP;
  d_.tWR = tm.tWR;
  d_.tWTR = tm.tWTR;
  d_.ilv_bytes = cfg.interleave_bytes;
  d_.ilv_mask = cfg.interleave_bytes - 1;
  d_.ilv_shift = log2u(cfg.interleave_bytes);
  d_.page_mask = cfg.page_bytes - 1;
  d_.page_shift = log2u(cfg.page_bytes);
  d_.tck.init(cfg.tck_ps);
  d_.channels.init(cfg.channels);
  d_.banks.init(cfg.banks);
  d_.burst.init(bb);

  ch_.resize(cfg.channels);
  stats_.resize(cfg.channels);
  reset();
}

void DramModel::reset() {
  for (Channel& c : ch_) {
    c = Channel{};
    c.banks.assign(cfg_.banks, Bank{});
    c.next_refresh = d_.tREFI ? d_.tREFI : std::numeric_limits<uint64_t>::max();
  }
  std::fill(stats_.begin(), stats_.end(), ChannelStats{});
  last_arrival_ps_ = 0;
}

Address DramModel::map(uint64_t addr) const {
  const uint64_t unit = addr >> d_.ilv_shift;
  const uint64_t q = d_.channels(unit);  // unit / C
  Address a;
  a.channel = static_cast<uint32_t>(unit - q * cfg_.channels);
  const uint64_t local = (q << d_.ilv_shift) | (addr & d_.ilv_mask);
  a.column = static_cast<uint32_t>(local & d_.page_mask);
  const uint64_t page = local >> d_.page_shift;
  const uint64_t row = d_.banks(page);  // page / B
  a.bank = static_cast<uint32_t>(page - row * cfg_.banks);
  a.row = row;
  return a;
}

// All-bank refresh (step 1, REFab).
uint64_t DramModel::refresh(Channel& ch, ChannelStats& st, uint64_t t) {
  // The first refresh due: precharge-all first if any bank is open.
  uint64_t start = ch.next_refresh;
  uint64_t pre = 0, open = 0;
  for (const Bank& b : ch.banks) {
    if (b.open_row >= 0) {
      ++open;
      pre = std::max(pre, b.pre_ok);
    }
  }
  if (open) start = std::max(start, pre) + d_.tRP;
  uint64_t end = start + d_.tRFC;
  uint64_t n = 1;
  ch.next_refresh += d_.tREFI;
  // Any further refreshes due find every bank closed, so each starts on time
  // and the last one's end bounds the ACT; take them in closed form.
  if (ch.next_refresh <= t) {
    const uint64_t k = (t - ch.next_refresh) / d_.tREFI + 1;
    end = std::max(end, ch.next_refresh + (k - 1) * d_.tREFI + d_.tRFC);
    ch.next_refresh += k * d_.tREFI;
    n += k;
  }
  for (Bank& b : ch.banks) {
    b.open_row = -1;
    b.act_ok = std::max(b.act_ok, end);
  }
  st.precharges += open;
  st.refreshes += n;
  return n;
}

// Per-bank refresh (step 1, REFpb).  The k-th REFpb of a channel is due at
// (k+1) * tREFIpb.  It refreshes one group (the banks b with b % 8 == g): the
// first group after the latest one, in round-robin order, that is not yet
// refreshed in the current round and is idle; the round's last group is
// refreshed even if busy.  `trig` is the group of the arriving request.
uint32_t DramModel::pick_group(const Channel& ch, uint64_t due, uint32_t trig) const {
  constexpr uint32_t G = hw::kRefreshGroups;
  uint32_t fallback = G;
  for (uint32_t k = 1; k <= G; ++k) {
    const uint32_t g = (ch.ref_last + k) % G;
    if (ch.ref_done & (1u << g)) continue;
    if (fallback == G) fallback = g;
    if (g == trig) continue;
    bool busy = false;
    for (uint32_t b = g; b < cfg_.banks && !busy; b += G)
      busy = ch.banks[b].open_row >= 0 && ch.banks[b].pre_ok > due;
    if (!busy) return g;
  }
  return fallback;
}

uint64_t DramModel::refresh_per_bank(Channel& ch, ChannelStats& st, uint64_t t, uint32_t bank) {
  constexpr uint32_t G = hw::kRefreshGroups;
  const uint32_t B = cfg_.banks;
  const uint32_t trig = bank % G;
  const uint64_t n = (t - ch.next_refresh) / d_.tREFI + 1;  // REFpb due at or before t
  uint64_t open_total = 0;
  for (uint64_t i = 0; i < n;) {
    if (ch.ref_done == 0 && n - i >= 2 * G) {
      bool closed = true;
      for (const Bank& b : ch.banks) closed = closed && b.open_row < 0;
      if (closed) {
        // A long idle gap.  Every bank is closed and a round starts: every
        // round from here is the same (the arriving request's group last),
        // and the refreshes start at max(due, S + j * tRFCpb) (j = 1, 2, ...;
        // start_j = max(due_j, start_{j-1} + tRFCpb) unrolled, as tREFIpb >
        // tRFCpb).  Skip whole rounds, keeping at least one to do in full so
        // that each group's ACT bound comes from its last refresh.
        const uint64_t k = ((n - i) / G - 1) * G;
        const uint64_t S = ch.ref_start, D = ch.next_refresh;
        ch.ref_start = std::max(D + (k - 1) * d_.tREFI, S + k * d_.tRFC);
        ch.next_refresh = D + k * d_.tREFI;
        ch.ref_last = trig;
        i += k;
        continue;
      }
    }
    const uint64_t due = ch.next_refresh;
    const uint32_t g = pick_group(ch, due, trig);
    uint64_t start = due, pre = 0, open = 0;
    for (uint32_t b = g; b < B; b += G) {
      const Bank& bk = ch.banks[b];
      if (bk.open_row >= 0) {
        ++open;
        pre = std::max(pre, bk.pre_ok);
      }
    }
    if (open) start = std::max(start, pre) + d_.tRP;
    start = std::max(start, ch.ref_start + d_.tRFC);  // one REFpb at a time
    const uint64_t end = start + d_.tRFC;
    for (uint32_t b = g; b < B; b += G) {
      Bank& bk = ch.banks[b];
      bk.open_row = -1;
      bk.act_ok = std::max(bk.act_ok, end);
    }
    open_total += open;
    ch.ref_start = start;
    ch.ref_last = g;
    ch.ref_done |= 1u << g;
    if (ch.ref_done == (1u << G) - 1) ch.ref_done = 0;
    ch.next_refresh += d_.tREFI;
    ++i;
  }
  st.precharges += open_total;
  st.refreshes += n;
  return n;
}

Completion DramModel::access(uint64_t addr, uint32_t bytes, bool is_write, uint64_t arrival_ps) {
  if (bytes == 0) fail("request at " + hex(addr) + " has 0 bytes");
  if ((addr & d_.ilv_mask) + bytes > d_.ilv_bytes)
    fail("request of " + std::to_string(bytes) + " bytes at " + hex(addr) + " crosses a " +
         std::to_string(d_.ilv_bytes) + "-byte interleave unit");
  if (arrival_ps < last_arrival_ps_)
    fail("request at " + hex(addr) + " arrives at " + std::to_string(arrival_ps) +
         " ps, before the previous request (" + std::to_string(last_arrival_ps_) + " ps)");
  last_arrival_ps_ = arrival_ps;

  // t = ceil(arrival / tCK)
  uint64_t t = d_.tck(arrival_ps);
  t += (t * d_.tck_ps != arrival_ps);

  const Address a = map(addr);
  Channel& ch = ch_[a.channel];
  ChannelStats& st = stats_[a.channel];
  Completion out;

  // 1. Refresh.
  if (ch.next_refresh <= t) {
    const uint64_t n = d_.per_bank ? refresh_per_bank(ch, st, t, a.bank) : refresh(ch, st, t);
    out.refreshes = n > std::numeric_limits<uint32_t>::max() ? std::numeric_limits<uint32_t>::max()
                                                             : static_cast<uint32_t>(n);
  }

  // 2. Row.
  Bank& bank = ch.banks[a.bank];
  const int64_t row = static_cast<int64_t>(a.row);
  uint64_t col;
  if (bank.open_row == row) {
    out.outcome = RowOutcome::Hit;
    ++st.row_hits;
    col = std::max(t, bank.col_ok);
  } else {
    uint64_t act;
    if (bank.open_row >= 0) {
      out.outcome = RowOutcome::Conflict;
      ++st.row_conflicts;
      ++st.precharges;
      act = std::max(t, bank.pre_ok) + d_.tRP;
    } else {
      out.outcome = RowOutcome::Miss;
      ++st.row_misses;
      act = std::max(t, bank.act_ok);
    }
    if (ch.acts) act = std::max(act, ch.last_act + d_.tRRD);
    if (ch.acts >= 4) act = std::max(act, ch.act_hist[ch.act_pos] + d_.tFAW);
    ch.act_hist[ch.act_pos] = act;
    ch.act_pos = (ch.act_pos + 1) & 3;
    ++ch.acts;
    ch.last_act = act;
    ++st.activates;
    bank.open_row = row;
    bank.col_ok = act + d_.tRCD;
    bank.pre_ok = act + d_.tRAS;
    col = bank.col_ok;
  }

  // 3. Column bursts.
  const uint64_t n = d_.burst(uint64_t(a.column) + bytes - 1) - d_.burst(a.column) + 1;
  const uint64_t lat = is_write ? d_.CWL : d_.CL;
  col = std::max(col, ch.next_col);
  if (!is_write && ch.last_write) col = std::max(col, ch.wr_data_end + d_.tWTR);
  if (col + lat < ch.bus_free) col = ch.bus_free - lat;
  const uint64_t data_start = col + lat;
  const uint64_t last_col = col + (n - 1) * d_.tCCD;
  const uint64_t data_end = last_col + lat + d_.burst_ck;
  ch.next_col = last_col + d_.tCCD;
  ch.bus_free = data_end;
  if (is_write) {
    bank.pre_ok = std::max(bank.pre_ok, data_end + d_.tWR);
    ch.wr_data_end = data_end;
    ++st.writes;
    st.write_bytes += bytes;
  } else {
    bank.pre_ok = std::max(bank.pre_ok, last_col + d_.tRTP);
    ++st.reads;
    st.read_bytes += bytes;
  }
  ch.last_write = is_write;
  st.bursts += n;
  st.busy_ck += n * d_.burst_ck;

  // 4. Result.
  out.done_ps = data_end * d_.tck_ps;
  out.data_start_ps = data_start * d_.tck_ps;
  return out;
}

namespace {
template <class Op>
void each_field(ChannelStats& a, const ChannelStats& b, Op op) {
  op(a.reads, b.reads);
  op(a.writes, b.writes);
  op(a.read_bytes, b.read_bytes);
  op(a.write_bytes, b.write_bytes);
  op(a.bursts, b.bursts);
  op(a.row_hits, b.row_hits);
  op(a.row_misses, b.row_misses);
  op(a.row_conflicts, b.row_conflicts);
  op(a.activates, b.activates);
  op(a.precharges, b.precharges);
  op(a.refreshes, b.refreshes);
  op(a.busy_ck, b.busy_ck);
}
}  // namespace

ChannelStats& operator+=(ChannelStats& a, const ChannelStats& b) {
  each_field(a, b, [](uint64_t& x, uint64_t y) { x += y; });
  return a;
}

ChannelStats& operator-=(ChannelStats& a, const ChannelStats& b) {
  each_field(a, b, [](uint64_t& x, uint64_t y) { x -= y; });
  return a;
}

ChannelStats DramModel::total_stats() const {
  ChannelStats s;
  for (const ChannelStats& c : stats_) s += c;
  return s;
}

}  // namespace clonesim::dram
