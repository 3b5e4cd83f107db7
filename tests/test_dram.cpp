// DRAM timing model: every expected time below is computed by hand from the
// rules in docs/timing-dram.md; the comments show the arithmetic in DRAM
// clocks (ck).  The configurations are built by hand (no YAML parser).
#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <set>
#include <string>
#include <tuple>

#include "common/error.h"
#include "dram/dram.h"
#include "hw/hw_config.h"

using clonesim::Error;
using clonesim::dram::Address;
using clonesim::dram::ChannelStats;
using clonesim::dram::Completion;
using clonesim::dram::DramModel;
using clonesim::dram::RowOutcome;
using clonesim::hw::DramConfig;
using clonesim::hw::DramType;

namespace {

// The small test part: tCK 1 ns, BL16 x16 -> 32-byte bursts, 2 transfers per
// clock -> a burst holds the bus 8 ck.  tRFC = 100 ck, tREFI = 2000 ck.
// Map: 2 channels, 64-byte interleave, 256-byte page, 4 banks, so one row
// index spans 1024 bytes of a channel = 2048 bytes of address space.
DramConfig small_cfg() {
  DramConfig c;
  c.type = DramType::LPDDR4;
  c.channels = 2;
  c.banks = 4;
  c.page_bytes = 256;
  c.width_bits = 16;
  c.data_rate_mtps = 2000;
  c.ck_mhz = 1000;
  c.interleave_bytes = 64;
  c.tck_ps = 1000;
  c.timing.BL = 16;
  c.timing.CL = 10;
  c.timing.CWL = 5;
  c.timing.tRCD = 7;
  c.timing.tRP = 6;
  c.timing.tRAS = 20;
  c.timing.tRRD = 4;
  c.timing.tFAW = 20;
  c.timing.tCCD = 8;
  c.timing.tRTP = 3;
  c.timing.tWR = 9;
  c.timing.tWTR = 5;
  c.timing.tRFC_ns = 100;
  c.timing.tREFI_ns = 2000;
  return c;
}

// Ramulator's LPDDR4-3200 figures (tCK 0.625 ns), one channel.
DramConfig lpddr4_3200_cfg() {
  DramConfig c;
  c.type = DramType::LPDDR4;
  c.channels = 1;
  c.banks = 8;
  c.page_bytes = 2048;
  c.width_bits = 16;
  c.data_rate_mtps = 3200;
  c.ck_mhz = 1600;
  c.interleave_bytes = 256;
  c.tck_ps = 625;
  c.timing.BL = 16;
  c.timing.CL = 32;
  c.timing.CWL = 18;
  c.timing.tRCD = 29;
  c.timing.tRP = 27;
  c.timing.tRAS = 68;
  c.timing.tRRD = 16;
  c.timing.tFAW = 64;
  c.timing.tCCD = 8;
  c.timing.tRTP = 14;
  c.timing.tWR = 28;
  c.timing.tWTR = 16;
  c.timing.tRFC_ns = 280;
  c.timing.tREFI_ns = 3900;
  return c;
}

constexpr uint64_t NS = 1000;  // ps

// Addresses in channel 0 of the small part: bank b, row r, column c (c < 64
// keeps it inside the first interleave unit of the bank's page).
//   local = r*1024 + b*256 + c;  addr = 2*(local/64)*64 + local%64
uint64_t ch0(uint32_t bank, uint64_t row, uint32_t col) {
  const uint64_t local = row * 1024 + bank * 256 + col;
  return (local / 64) * 128 + local % 64;
}

// The address map written with plain divisions, to check the fast one.
Address reference_map(const DramConfig& c, uint64_t addr) {
  const uint64_t unit = addr / c.interleave_bytes;
  const uint64_t local = (unit / c.channels) * c.interleave_bytes + addr % c.interleave_bytes;
  Address a;
  a.channel = uint32_t(unit % c.channels);
  a.column = uint32_t(local % c.page_bytes);
  a.bank = uint32_t((local / c.page_bytes) % c.banks);
  a.row = local / (uint64_t(c.page_bytes) * c.banks);
  return a;
}

bool same(const Address& a, const Address& b) {
  return a.channel == b.channel && a.bank == b.bank && a.row == b.row && a.column == b.column;
}

bool all_zero(const ChannelStats& s) {
  return s.reads == 0 && s.writes == 0 && s.read_bytes == 0 && s.write_bytes == 0 && s.bursts == 0 &&
         s.row_hits == 0 && s.row_misses == 0 && s.row_conflicts == 0 && s.activates == 0 &&
         s.precharges == 0 && s.refreshes == 0 && s.busy_ck == 0;
}

}  // namespace

TEST_CASE("address map of chosen addresses", "[dram][map]") {
  DramModel m(small_cfg());
  auto check = [&](uint64_t addr, uint32_t ch, uint32_t bank, uint64_t row, uint32_t col) {
    INFO("addr " << addr);
    const Address a = m.map(addr);
    CHECK(a.channel == ch);
    CHECK(a.bank == bank);
    CHECK(a.row == row);
    CHECK(a.column == col);
  };
  check(0, 0, 0, 0, 0);
  check(63, 0, 0, 0, 63);       // last byte of unit 0
  check(64, 1, 0, 0, 0);        // unit 1 -> channel 1, local 0
  check(128, 0, 0, 0, 64);      // unit 2 -> channel 0, local 64
  check(448, 1, 0, 0, 192);     // unit 7 -> channel 1, local 3*64 = 192
  check(512, 0, 1, 0, 0);       // unit 8 -> channel 0, local 256: bank 1
  check(1024, 0, 2, 0, 0);      // local 512
  check(1536, 0, 3, 0, 0);      // local 768
  check(2048, 0, 0, 1, 0);      // local 1024: row 1, bank 0
  // 0x12345 = 74565: unit 1165 (1165*64 = 74560), offset 5; channel 1165%2 = 1;
  // local = 582*64 + 5 = 37253; column 37253 % 256 = 133 (145*256 = 37120);
  // bank 145 % 4 = 1; row 37253 / 1024 = 36.
  check(0x12345, 1, 1, 36, 133);

  // Non-power-of-two channels and banks: 3 channels, 6 banks.
  DramConfig c3 = small_cfg();
  c3.channels = 3;
  c3.banks = 6;
  DramModel m3(c3);
  // 777777: unit 12152 (12152*64 = 777728), offset 49; channel 12152 % 3 = 2
  // (3*4050 = 12150); local = 4050*64 + 49 = 259249; column 259249 % 256 = 177
  // (1012*256 = 259072); page 1012: bank 1012 % 6 = 4, row 1012 / 6 = 168.
  const Address a = m3.map(777777);
  CHECK(a.channel == 2);
  CHECK(a.bank == 4);
  CHECK(a.row == 168);
  CHECK(a.column == 177);
}

TEST_CASE("address map agrees with plain division and is one-to-one", "[dram][map]") {
  for (auto [chans, banks] : {std::pair<uint32_t, uint32_t>{2, 4}, {3, 6}, {1, 8}, {5, 3}}) {
    DramConfig c = small_cfg();
    c.channels = chans;
    c.banks = banks;
    DramModel m(c);
    std::set<std::tuple<uint32_t, uint32_t, uint64_t, uint32_t>> seen;
    for (uint64_t addr = 0; addr < 20000; ++addr) {
      const Address a = m.map(addr);
      REQUIRE(same(a, reference_map(c, addr)));
      REQUIRE(a.channel < chans);
      REQUIRE(a.bank < banks);
      REQUIRE(a.column < c.page_bytes);
      seen.insert({a.channel, a.bank, a.row, a.column});
    }
    CHECK(seen.size() == 20000);
    // Large addresses, including ones above the reciprocal's exact range.
    uint64_t x = 0x9E3779B97F4A7C15ull;
    for (int i = 0; i < 2000; ++i) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      REQUIRE(same(m.map(x), reference_map(c, x)));
    }
    const uint64_t max = std::numeric_limits<uint64_t>::max();
    for (uint64_t addr : {max, max - 1, max - 63, max - 64, max / 2, max / 3, max / 5 + 7})
      REQUIRE(same(m.map(addr), reference_map(c, addr)));
  }
}

TEST_CASE("first access to an idle bank is a miss", "[dram]") {
  DramModel m(small_cfg());
  // t = 0; Miss: ACT 0, col_ok = 0+tRCD = 7; one burst; data 7+CL = 17 ..
  // 17+8 = 25.
  const Completion c = m.access(0, 32, false, 0);
  CHECK(c.outcome == RowOutcome::Miss);
  CHECK(c.data_start_ps == 17 * NS);
  CHECK(c.done_ps == 25 * NS);
  CHECK(c.refreshes == 0);
}

TEST_CASE("a later access to the open row is a hit", "[dram]") {
  DramModel m(small_cfg());
  m.access(0, 32, false, 0);  // ACT 0, RD 7, next_col 15, bus free 25
  // Arrives at 100.5 ns -> t = ceil(100500/1000) = 101; Hit: col = max(101,
  // col_ok 7, next_col 15) = 101; data 111 .. 119.
  const Completion c = m.access(32, 32, false, 100500);
  CHECK(c.outcome == RowOutcome::Hit);
  CHECK(c.data_start_ps == 111 * NS);
  CHECK(c.done_ps == 119 * NS);
}

TEST_CASE("a conflict waits for tRAS before the precharge", "[dram]") {
  DramModel m(small_cfg());
  m.access(ch0(0, 0, 0), 32, false, 0);  // ACT 0 -> pre_ok = max(0+tRAS, 7+tRTP) = 20
  // Bank 0, row 1 at t = 10: Conflict; PRE = max(10, 20) = 20 (tRAS holds it);
  // ACT = 20 + tRP = 26 (tRRD: 0+4 is earlier); RD = 26 + 7 = 33;
  // data 43 .. 51.
  const Completion c = m.access(ch0(0, 1, 0), 32, false, 10 * NS);
  CHECK(c.outcome == RowOutcome::Conflict);
  CHECK(c.data_start_ps == 43 * NS);
  CHECK(c.done_ps == 51 * NS);
  const ChannelStats& s = m.channel_stats()[0];
  CHECK(s.precharges == 1);
  CHECK(s.activates == 2);
}

TEST_CASE("a request spanning two bursts", "[dram]") {
  DramModel m(small_cfg());
  // Columns 16..63: n = 63/32 - 16/32 + 1 = 2 bursts.  ACT 0, RD 7 and 15;
  // data 17 .. 15+10+8 = 33.
  const Completion c = m.access(16, 48, false, 0);
  CHECK(c.data_start_ps == 17 * NS);
  CHECK(c.done_ps == 33 * NS);
  const ChannelStats& s = m.channel_stats()[0];
  CHECK(s.bursts == 2);
  CHECK(s.busy_ck == 16);
  CHECK(s.read_bytes == 48);

  // An aligned 64-byte unit is also two bursts: the next one queues behind.
  // Channel 0, local 64: Hit, RD max(7, next_col 23) = 23 and 31; data 33 .. 49.
  const Completion d = m.access(128, 64, false, 0);
  CHECK(d.outcome == RowOutcome::Hit);
  CHECK(d.data_start_ps == 33 * NS);
  CHECK(d.done_ps == 49 * NS);
  // 16 bytes inside one burst: one burst.
  m.access(128 + 32, 16, false, 0);
  CHECK(m.channel_stats()[0].bursts == 5);
}

TEST_CASE("back-to-back reads stream one burst per tCCD", "[dram]") {
  DramModel m(small_cfg());
  // Four 32-byte reads of bank 0 row 0, channel 0, all at t = 0: RD at 7, 15,
  // 23, 31 (tCCD = 8 = burst), data back to back 17..25, 25..33, 33..41, 41..49.
  const uint64_t addrs[4] = {0, 32, 128, 160};
  for (int i = 0; i < 4; ++i) {
    const Completion c = m.access(addrs[i], 32, false, 0);
    CHECK(c.outcome == (i == 0 ? RowOutcome::Miss : RowOutcome::Hit));
    CHECK(c.data_start_ps == (17 + 8 * i) * NS);
    CHECK(c.done_ps == (25 + 8 * i) * NS);
  }
  CHECK(m.channel_stats()[0].busy_ck == 32);  // 32 busy of 49 - 17 = 32: full
}

TEST_CASE("tRRD spaces ACTs to two banks", "[dram]") {
  // With tRRD = 4 < tCCD = 8 the second ACT's delay is hidden behind the
  // column spacing (checked first); with tRRD = 12 it shows.
  {
    DramModel m(small_cfg());
    m.access(ch0(0, 0, 0), 32, false, 0);  // ACT 0, RD 7, next_col 15
    // Bank 1: ACT max(0, 0+4) = 4, col_ok 11, RD max(11, 15) = 15: data 25 .. 33.
    const Completion c = m.access(ch0(1, 0, 0), 32, false, 0);
    CHECK(c.outcome == RowOutcome::Miss);
    CHECK(c.done_ps == 33 * NS);
  }
  DramConfig cfg = small_cfg();
  cfg.timing.tRRD = 12;
  DramModel m(cfg);
  m.access(ch0(0, 0, 0), 32, false, 0);  // ACT 0, RD 7, next_col 15, bus 25
  // Bank 1: ACT = max(0, 0+12) = 12; RD = max(12+7, 15) = 19; data 29 .. 37.
  const Completion c = m.access(ch0(1, 0, 0), 32, false, 0);
  CHECK(c.outcome == RowOutcome::Miss);
  CHECK(c.data_start_ps == 29 * NS);
  CHECK(c.done_ps == 37 * NS);
  // The other channel has its own ACT history: no tRRD there.
  const Completion d = m.access(64, 32, false, 0);
  CHECK(d.done_ps == 25 * NS);
}

TEST_CASE("tFAW holds the fifth ACT", "[dram]") {
  // tFAW = 40 (the 4-bank part needs a conflict for its fifth ACT, and
  // tRAS + tRP would hide a 20-clock window).
  DramConfig cfg = small_cfg();
  cfg.timing.tFAW = 40;
  DramModel m(cfg);
  // ACTs of banks 0..3 at t = 0 are spaced by tRRD: 0, 4, 8, 12.
  // RDs: 7; max(11,15) = 15; max(15,23) = 23; max(19,31) = 31.  next_col 39,
  // bus free 31+18 = 49.  Bank 0: pre_ok = max(0+20, 7+3) = 20.
  const uint64_t done[4] = {25, 33, 41, 49};
  for (uint32_t b = 0; b < 4; ++b) CHECK(m.access(ch0(b, 0, 0), 32, false, 0).done_ps == done[b] * NS);
  // Bank 0 row 1: Conflict, PRE 20, ACT max(26, 12+4, 0+tFAW = 40) = 40;
  // RD max(47, 39) = 47; data 57 .. 65.  (Without tFAW: ACT 26, RD 39, 57.)
  const Completion c = m.access(ch0(0, 1, 0), 32, false, 0);
  CHECK(c.outcome == RowOutcome::Conflict);
  CHECK(c.data_start_ps == 57 * NS);
  CHECK(c.done_ps == 65 * NS);
  CHECK(m.channel_stats()[0].activates == 5);
}

TEST_CASE("read after write waits tWTR", "[dram]") {
  DramModel m(small_cfg());
  // Write: ACT 0, WR 7, data 7+CWL = 12 .. 20; wr_data_end 20; next_col 15;
  // bank pre_ok = max(20, 20+tWR) = 29.
  const Completion w = m.access(0, 32, true, 0);
  CHECK(w.data_start_ps == 12 * NS);
  CHECK(w.done_ps == 20 * NS);
  // Read hit: RD = max(7, next_col 15, 20+tWTR = 25) = 25; data 35 .. 43.
  const Completion r = m.access(32, 32, false, 0);
  CHECK(r.outcome == RowOutcome::Hit);
  CHECK(r.data_start_ps == 35 * NS);
  CHECK(r.done_ps == 43 * NS);
  // A second read is not held by tWTR again: RD max(33, 33) = 33; data 43 .. 51.
  CHECK(m.access(128, 32, false, 0).done_ps == 51 * NS);
}

TEST_CASE("write recovery tWR holds a conflict's precharge", "[dram]") {
  DramModel m(small_cfg());
  m.access(ch0(0, 0, 0), 32, true, 0);  // data 12 .. 20; pre_ok = 20 + tWR = 29
  // Bank 0 row 1 read: PRE max(0, 29) = 29; ACT 35; RD max(42, 15, 20+5) = 42;
  // data 52 .. 60.  (With only tRAS: PRE 20, ACT 26, RD 33, done 51.)
  const Completion c = m.access(ch0(0, 1, 0), 32, false, 0);
  CHECK(c.outcome == RowOutcome::Conflict);
  CHECK(c.data_start_ps == 52 * NS);
  CHECK(c.done_ps == 60 * NS);
}

TEST_CASE("a write after a read waits for the data bus", "[dram]") {
  DramModel m(small_cfg());
  m.access(0, 32, false, 0);  // RD 7, data 17 .. 25, next_col 15
  // WR: col = max(7, 15) = 15, but 15 + CWL = 20 < bus free 25 -> col = 20;
  // data 25 .. 33.
  const Completion c = m.access(32, 32, true, 0);
  CHECK(c.data_start_ps == 25 * NS);
  CHECK(c.done_ps == 33 * NS);
}

TEST_CASE("a refresh due before the request delays it and closes the rows", "[dram][refresh]") {
  DramModel m(small_cfg());
  m.access(0, 32, false, 0);  // bank 0 row 0 open, pre_ok 20
  // Arrives at t = 2000 = tREFI: the refresh is due.  Bank 0 is open:
  // start = max(2000, 20) + tRP = 2006, end = 2006 + tRFC = 2106.  The row is
  // closed, so the same-row request is a Miss: ACT 2106, RD 2113,
  // data 2123 .. 2131.
  const Completion c = m.access(32, 32, false, 2000 * NS);
  CHECK(c.refreshes == 1);
  CHECK(c.outcome == RowOutcome::Miss);
  CHECK(c.data_start_ps == 2123 * NS);
  CHECK(c.done_ps == 2131 * NS);
  // Next refresh is due at 4000: a request at 3999 sees none and hits.
  const Completion d = m.access(64 + 64, 32, false, 3999 * NS);
  CHECK(d.refreshes == 0);
  CHECK(d.outcome == RowOutcome::Hit);
  CHECK(d.done_ps == (3999 + 10 + 8) * NS);
  const ChannelStats& s = m.channel_stats()[0];
  CHECK(s.refreshes == 1);
  CHECK(s.precharges == 1);  // the refresh's precharge of bank 0
  CHECK(m.channel_stats()[1].refreshes == 0);  // checked only when a request arrives
}

TEST_CASE("several refreshes during a long idle gap", "[dram][refresh]") {
  DramModel m(small_cfg());
  m.access(0, 32, false, 0);
  // t = 6050: refreshes due at 2000, 4000 and 6000.  The first precharges
  // bank 0 (start 2006, end 2106); the others start on time: 4000 .. 4100,
  // 6000 .. 6100.  ACT = max(6050, 6100) = 6100; RD 6107; data 6117 .. 6125.
  const Completion c = m.access(0, 32, false, 6050 * NS);
  CHECK(c.refreshes == 3);
  CHECK(c.outcome == RowOutcome::Miss);
  CHECK(c.done_ps == 6125 * NS);
  const ChannelStats& s = m.channel_stats()[0];
  CHECK(s.refreshes == 3);
  CHECK(s.precharges == 1);
  // The next refresh is due at 8000: a request at 8000 sees exactly one.
  // Bank 0 (ACT 6100) is open: start max(8000, pre_ok max(6120, 6107+3)) + 6
  // = 8006, end 8106; ACT 8106, RD 8113, done 8131.
  const Completion d = m.access(0, 32, false, 8000 * NS);
  CHECK(d.refreshes == 1);
  CHECK(d.done_ps == 8131 * NS);

  // A very long gap: (10^9 - 10000)/2000 + 1 = 499996 refreshes due in
  // [10000, 10^9]; the last starts at 10^9 and ends 10^9 + 100.
  const Completion e = m.access(0, 32, false, 1000000000ull * NS);
  CHECK(e.refreshes == 499996);
  CHECK(e.done_ps == (1000000000ull + 100 + 7 + 10 + 8) * NS);
}

TEST_CASE("long sequential read stream, fully backlogged", "[dram][stream]") {
  DramModel m(small_cfg());
  // 2048 reads of 64 bytes at addresses 0, 64, 128, ... all arriving at t = 0:
  // they alternate channels, so each channel sees N = 1024 requests of two
  // bursts (16 busy ck each).  In channel c, request j goes to column 64j%256,
  // bank (j/4)%4, row j/16.  Hand derivation for one channel:
  //   RD pairs at col_j = 7 + 16j (first ACT at 0, tRCD 7; then tCCD-bound);
  //   data [17+16j, 33+16j): each request's data starts when the previous
  //   one's ends, so the bus never idles after the first 17 ck.
  //   Misses (j = 4, 8, 12) ACT at 4, 8, 12: col_ok <= 7 + 16j.  Conflicts
  //   (j = 16r + 4b) precharge at the previous row's last RD + tRTP
  //   = 16j - 190, ACT 16j - 184, col_ok 16j - 177 < 7 + 16j: hidden.
  //   No refresh: every request arrives at t = 0 < tREFI.
  // Last data end = 7 + 16*1023 + 8 + 18 = 16*1024 + 17 = 16401 in both
  // channels; utilisation = 16N / (16N + 17) = 16384 / 16401 > 0.998.
  const int N = 1024;
  uint64_t last = 0;
  for (int i = 0; i < 2 * N; ++i) last = std::max(last, m.access(uint64_t(i) * 64, 64, false, 0).done_ps);
  CHECK(last == 16401 * NS);
  for (int c = 0; c < 2; ++c) {
    const ChannelStats& s = m.channel_stats()[c];
    CHECK(s.busy_ck == 16384);
    CHECK(s.refreshes == 0);
    CHECK(s.row_misses == 4);            // first use of each bank
    // A new (bank, row) every 4 requests: 256 openings, 4 of them first uses.
    CHECK(s.row_conflicts == 252);
    CHECK(s.row_hits == 1024 - 256);
    CHECK(s.activates == 256);
    const double util = double(s.busy_ck) / double(last / NS);
    CHECK(util == Approx(16384.0 / 16401.0));
    CHECK(util > 0.998);
  }
}

TEST_CASE("long sequential read stream paced at the peak rate, with refresh", "[dram][stream]") {
  DramModel m(small_cfg());
  // Read i (64 bytes at 64i) arrives at 8i ns: channel 0 gets j = i/2 at
  // t = 16j, channel 1 at 16j + 8 -- exactly the 16 busy ck a request needs,
  // so every stall is permanent.  N = 512 per channel.  Channel 0, writing
  // col_j = 16j + L (L = the lag):
  //   j < 16:  ACT at the arrival, col_ok = 16j + 7 -> L = 7.
  //   j = 16 (bank 0 row 1, first conflict): PRE at t = 256 (pre_ok 66),
  //     ACT 262, RD 269 -> L = 13 (+6).  Later conflicts: ACT 16j+6, RD
  //     16j+13: no further stall.
  //   j = 125, t = 2000: refresh.  Open-bank pre_ok max: bank 3 (ACT 1990)
  //     + tRAS = 2010 (> last RD 1997+8 + tRTP = 2008).  Start 2016, end
  //     2116; j = 125 misses: ACT 2116, RD 2123 = 16*125 + 123 -> L = 123.
  //   j = 250, 375, 500 (t = 4000, 6000, 8000): the latest pre_ok is the
  //     previous request's last RD + tRTP = 16j + L - 16 + 8 + 3; start
  //     + tRP = 16j + L + 1; end + tRFC = 16j + L + 101; RD + tRCD
  //     = 16j + L + 108 -> L = 231, 339, 447.
  //   Last: j = 511: RD 16*511 + 447 = 8623, 8631; done 8631 + 18 = 8649.
  // So elapsed = 16N + 17 + 6 + 110 + 3*108 = 8649 and the utilisation is
  // 8192 / 8649 = 0.9472, below the refresh-only bound 1 - 4*tRFC/8649 = 0.9538.
  // Channel 1 is the same shifted by 8 ck (its refreshes are triggered by the
  // same j, and each starts after its pre_ok, not at the due time): 8657.
  const int N = 512;
  uint64_t done[2] = {0, 0};
  for (int i = 0; i < 2 * N; ++i) done[i % 2] = m.access(uint64_t(i) * 64, 64, false, uint64_t(i) * 8 * NS).done_ps;
  CHECK(done[0] == 8649 * NS);
  CHECK(done[1] == 8657 * NS);
  for (int c = 0; c < 2; ++c) {
    const ChannelStats& s = m.channel_stats()[c];
    CHECK(s.busy_ck == 8192);
    CHECK(s.refreshes == 4);
    // 32 rows x 4 banks = 128 openings, plus the 3 refreshes that closed the
    // row being read mid-way (j = 125, 250, 375; j = 500 starts a row).
    CHECK(s.activates == 131);
    // Misses: 4 first uses; after each refresh the next opening of the other
    // banks, plus the re-opened row: 4 + 4 + 4 + 3 (no bank-0 row 32).
    CHECK(s.row_misses == 19);
    CHECK(s.row_conflicts == 112);
    CHECK(s.row_hits == 512 - 131);
    CHECK(s.precharges == 112 + 4 * 4);  // conflicts + 4 open banks per refresh
  }
  const double util0 = 8192.0 / 8649.0;
  CHECK(double(m.channel_stats()[0].busy_ck) / double(done[0] / NS) == Approx(util0));
  CHECK(util0 < 1.0 - 4.0 * 100.0 / 8649.0);
  CHECK(util0 > 0.94);
}

TEST_CASE("stats counters and reset", "[dram][stats]") {
  DramModel m(small_cfg());
  m.access(0, 32, true, 0);                 // ch0 write, Miss, 1 burst
  m.access(32, 32, false, 0);               // ch0 read, Hit, 1 burst
  m.access(ch0(0, 1, 0), 64, false, 0);     // ch0 read, Conflict, 2 bursts
  m.access(64 + 8, 16, true, 0);            // ch1 write, Miss, 1 burst
  const ChannelStats& s0 = m.channel_stats()[0];
  CHECK(s0.reads == 2);
  CHECK(s0.writes == 1);
  CHECK(s0.read_bytes == 96);
  CHECK(s0.write_bytes == 32);
  CHECK(s0.bursts == 4);
  CHECK(s0.row_hits == 1);
  CHECK(s0.row_misses == 1);
  CHECK(s0.row_conflicts == 1);
  CHECK(s0.activates == 2);
  CHECK(s0.precharges == 1);
  CHECK(s0.refreshes == 0);
  CHECK(s0.busy_ck == 32);
  const ChannelStats& s1 = m.channel_stats()[1];
  CHECK(s1.reads == 0);
  CHECK(s1.writes == 1);
  CHECK(s1.write_bytes == 16);
  CHECK(s1.bursts == 1);
  CHECK(s1.row_misses == 1);
  CHECK(s1.activates == 1);
  CHECK(s1.busy_ck == 8);
  const ChannelStats t = m.total_stats();
  CHECK(t.reads == 2);
  CHECK(t.writes == 2);
  CHECK(t.read_bytes == 96);
  CHECK(t.write_bytes == 48);
  CHECK(t.bursts == 5);
  CHECK(t.row_hits == 1);
  CHECK(t.row_misses == 2);
  CHECK(t.row_conflicts == 1);
  CHECK(t.activates == 3);
  CHECK(t.precharges == 1);
  CHECK(t.refreshes == 0);
  CHECK(t.busy_ck == 40);

  m.reset();
  CHECK(all_zero(m.total_stats()));
  CHECK(all_zero(m.channel_stats()[0]));
  // Initial state again: a miss at t = 0 (an earlier arrival is fine after
  // reset), and the first refresh is due at tREFI again.
  const Completion c = m.access(0, 32, false, 0);
  CHECK(c.outcome == RowOutcome::Miss);
  CHECK(c.done_ps == 25 * NS);
  CHECK(m.access(0, 32, false, 2000 * NS).refreshes == 1);
}

TEST_CASE("bad requests throw one-line errors", "[dram][errors]") {
  DramModel m(small_cfg());
  auto message = [&](uint64_t addr, uint32_t bytes, uint64_t at) -> std::string {
    try {
      m.access(addr, bytes, false, at);
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  };
  const std::string zero = message(0, 0, 0);
  CHECK(zero.find("0 bytes") != std::string::npos);
  const std::string cross = message(60, 8, 0);  // 60 + 8 > 64
  CHECK(cross.find("crosses a 64-byte interleave unit") != std::string::npos);
  CHECK(message(0, 65, 0).find("crosses") != std::string::npos);
  CHECK(message(64, 64, 0).empty());  // exactly one unit is fine
  CHECK(message(0, 32, 5000).empty());
  CHECK(message(0, 32, 5000).empty());  // equal arrival is fine
  const std::string back = message(0, 32, 4999);
  CHECK(back.find("before the previous request") != std::string::npos);
  for (const std::string& s : {zero, cross, back}) {
    CHECK(!s.empty());
    CHECK(s.find('\n') == std::string::npos);
  }
  // A rejected request leaves the model untouched.
  CHECK(m.total_stats().reads == 3);
  CHECK(message(0, 32, 5000).empty());
}

TEST_CASE("bad configurations throw", "[dram][errors]") {
  auto bad = [](auto edit) {
    DramConfig c = small_cfg();
    edit(c);
    CHECK_THROWS_AS(DramModel(c), Error);
  };
  bad([](DramConfig& c) { c.channels = 0; });
  bad([](DramConfig& c) { c.banks = 0; });
  bad([](DramConfig& c) { c.page_bytes = 300; });
  bad([](DramConfig& c) { c.interleave_bytes = 48; });
  bad([](DramConfig& c) { c.interleave_bytes = 512; });  // > page: a unit would span rows
  bad([](DramConfig& c) { c.tck_ps = 0; });
  bad([](DramConfig& c) { c.ck_mhz = 0; });
  bad([](DramConfig& c) { c.timing.BL = 1; });  // less than 2 transfers per clock
  bad([](DramConfig& c) { c.timing.tREFI_ns = 0.5; });  // shorter than one clock
  bad([](DramConfig& c) { c.timing.tREFI_ns = 100; });  // tREFI 100 ck <= tRFC 100 ck
  bad([](DramConfig& c) { c.timing.tRFC_ns = -1; });
  DramConfig ok = small_cfg();
  ok.channels = 3;
  ok.banks = 6;
  CHECK_NOTHROW(DramModel(ok));
}

TEST_CASE("tREFI_ns = 0 disables refresh", "[dram][refresh]") {
  DramConfig c = small_cfg();
  c.timing.tREFI_ns = 0;
  DramModel m(c);
  m.access(0, 32, false, 0);
  const Completion d = m.access(32, 32, false, 1000000 * NS);
  CHECK(d.refreshes == 0);
  CHECK(d.outcome == RowOutcome::Hit);
}

TEST_CASE("arrival rounds up to the next clock, also for huge times", "[dram]") {
  DramConfig c = lpddr4_3200_cfg();
  c.tck_ps = 469;  // not a power of two: the reciprocal path
  c.timing.tREFI_ns = 0;
  DramModel m(c);
  // A Miss on an idle model: done = (ceil(a / 469) + tRCD 29 + CL 32 + 8) * 469.
  uint64_t x = 0x2545F4914F6CDD1Dull;
  for (int i = 0; i < 3000; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    // Arrivals below 10^6 ps, up to 2^56 ps and up to 2^58 ps: the reciprocal
    // is exact up to (2^64-1)/469 ~ 2^55.1, the plain division takes over above.
    const uint64_t a = (i % 3 == 0) ? (x >> 8) : (i % 3 == 1) ? (x >> 10) % 1000000 : (x >> 6);
    const uint64_t t = a / 469 + (a % 469 != 0);
    m.reset();
    REQUIRE(m.access(0, 32, false, a).done_ps == (t + 29 + 32 + 8) * 469);
  }
  for (uint64_t a : {uint64_t(0), uint64_t(1), uint64_t(468), uint64_t(469), uint64_t(470),
                     std::numeric_limits<uint64_t>::max() / 469, std::numeric_limits<uint64_t>::max() / 469 + 1,
                     std::numeric_limits<uint64_t>::max() / 1024}) {
    const uint64_t t = a / 469 + (a % 469 != 0);
    m.reset();
    REQUIRE(m.access(0, 32, false, a).data_start_ps == (t + 29 + 32) * 469);
  }
}

TEST_CASE("LPDDR4-3200: one miss and one hit", "[dram][lpddr4]") {
  DramModel m(lpddr4_3200_cfg());
  // tCK 625 ps, BL16 x16 = 32-byte bursts of 8 ck.  64 bytes at 0 = 2 bursts.
  // Miss: ACT 0, RD 29 (tRCD) and 37; data 29+32 = 61 .. 37+32+8 = 77 ck
  // = 38125 .. 48125 ps.
  const Completion a = m.access(0, 64, false, 0);
  CHECK(a.outcome == RowOutcome::Miss);
  CHECK(a.data_start_ps == 38125);
  CHECK(a.done_ps == 48125);
  // Hit at 100.1 ns: t = ceil(100100/625) = ceil(160.16) = 161; RD 161 and
  // 169; data 193 .. 209 ck = 120625 .. 130625 ps.
  const Completion b = m.access(64, 64, false, 100100);
  CHECK(b.outcome == RowOutcome::Hit);
  CHECK(b.data_start_ps == 120625);
  CHECK(b.done_ps == 130625);
  // tRFC = ceil(280000/625) = 448 ck, tREFI = floor(3900000/625) = 6240 ck:
  // a request at 6240 ck = 3.9 us refreshes once.  Bank 0 open (pre_ok
  // max(68, 169+14)) -> start 6240 + 27 = 6267, end 6715; Miss: ACT 6715,
  // RD 6744, done 6744 + 32 + 8 = 6784 ck = 4240000 ps.
  const Completion r = m.access(128, 32, false, 3900000);
  CHECK(r.refreshes == 1);
  CHECK(r.outcome == RowOutcome::Miss);
  CHECK(r.done_ps == 6784ull * 625);
}

// ---------------------------------------------------------------------------
// Per-bank refresh.  The small part with 8 banks (one bank per refresh group),
// tRFCpb 50 ck and tREFI 2000 ck: tREFIpb = 2000 / 8 = 250 ck.  One row index
// now spans 8 * 256 = 2048 bytes of a channel.

namespace {

DramConfig per_bank_cfg() {
  DramConfig c = small_cfg();
  c.banks = 8;
  c.refresh = clonesim::hw::RefreshMode::PerBank;
  c.timing.tRFCpb_ns = 50;
  return c;
}

// Channel 0 of the 8-bank part: local = r*2048 + b*256 + c (c < 64).
uint64_t pb0(uint32_t bank, uint64_t row, uint32_t col) {
  const uint64_t local = row * 2048 + bank * 256 + col;
  return (local / 64) * 128 + local % 64;
}

}  // namespace

TEST_CASE("per-bank refresh: other banks proceed, the refreshed bank waits", "[dram][refresh][per_bank]") {
  DramModel m(per_bank_cfg());
  m.access(pb0(0, 0, 0), 32, false, 0);  // ACT 0, RD 7, data 17..25; bank 0 pre_ok 20
  // Bank 1 at t = 250: the first REFpb is due (tREFIpb).  Round order starts at
  // group 0 = bank 0: open but idle (pre_ok 20 <= 250), and not the arriving
  // request's bank, so it is refreshed: PRE at 250, REFpb 256 .. 306.
  // Bank 1 does not wait: Miss, ACT 250 (tRRD: 0 + 4), RD 257, data 267..275.
  const Completion a = m.access(pb0(1, 0, 0), 32, false, 250 * NS);
  CHECK(a.refreshes == 1);
  CHECK(a.outcome == RowOutcome::Miss);
  CHECK(a.data_start_ps == 267 * NS);
  CHECK(a.done_ps == 275 * NS);
  // Bank 0 again at t = 260, during its refresh: the row was closed, so a Miss;
  // ACT = max(260, refresh end 306) = 306 (tRRD 250 + 4); RD 313 (next_col 265);
  // data 323..331.
  const Completion b = m.access(pb0(0, 0, 32), 32, false, 260 * NS);
  CHECK(b.refreshes == 0);
  CHECK(b.outcome == RowOutcome::Miss);
  CHECK(b.data_start_ps == 323 * NS);
  CHECK(b.done_ps == 331 * NS);
  const ChannelStats& s = m.channel_stats()[0];
  CHECK(s.refreshes == 1);
  CHECK(s.precharges == 1);  // bank 0 before its refresh
  CHECK(s.row_misses == 3);
  CHECK(s.activates == 3);
  // The other channel has had no request: nothing due has been performed there.
  CHECK(m.channel_stats()[1].refreshes == 0);
}

TEST_CASE("per-bank refresh skips the arriving request's bank", "[dram][refresh][per_bank]") {
  DramModel m(per_bank_cfg());
  m.access(pb0(0, 0, 0), 32, false, 0);  // bank 0 row 0 open, idle from 20
  // Bank 0 at t = 250: group 0 holds the arriving request's bank, so the REFpb
  // takes the next group of the round, bank 1 (closed): 250 .. 300.  Bank 0
  // stays open: Hit, RD 250, data 260..268.
  const Completion a = m.access(pb0(0, 0, 32), 32, false, 250 * NS);
  CHECK(a.refreshes == 1);
  CHECK(a.outcome == RowOutcome::Hit);
  CHECK(a.done_ps == 268 * NS);
  // Bank 1 at t = 251 waits for the end of its refresh: ACT 300, RD 307, data
  // 317..325.
  const Completion b = m.access(pb0(1, 0, 0), 32, false, 251 * NS);
  CHECK(b.outcome == RowOutcome::Miss);
  CHECK(b.done_ps == 325 * NS);
  CHECK(m.channel_stats()[0].precharges == 0);  // bank 1 was closed already
}

TEST_CASE("per-bank refresh skips a busy bank", "[dram][refresh][per_bank]") {
  DramModel m(per_bank_cfg());
  m.access(pb0(0, 0, 0), 32, false, 0);  // ACT 0, RD 7; next_col 15, bus free 25
  // A write hit to bank 0 at 240: WR 240, data 245..253; pre_ok = max(20,
  // 253 + tWR) = 262.  next_col 248, bus free 253, wr_data_end 253.
  CHECK(m.access(pb0(0, 0, 32), 32, true, 240 * NS).done_ps == 253 * NS);
  // Bank 2 at t = 250: REFpb due.  Group 0 (bank 0) has a column command
  // queued past the due time (pre_ok 262 > 250): busy, skipped.  Group 1
  // (bank 1, closed) is refreshed 250 .. 300.  Bank 2: Miss, ACT 250, col_ok
  // 257, RD = max(257, 248, wr_data_end 253 + tWTR = 258) = 258; data 268..276.
  const Completion a = m.access(pb0(2, 0, 0), 32, false, 250 * NS);
  CHECK(a.refreshes == 1);
  CHECK(a.done_ps == 276 * NS);
  // Bank 0 was not refreshed: Hit at 251, RD max(251, next_col 266) = 266,
  // data 276..284.
  const Completion b = m.access(pb0(0, 0, 64), 32, false, 251 * NS);
  CHECK(b.outcome == RowOutcome::Hit);
  CHECK(b.done_ps == 284 * NS);
  // Bank 1 was: ACT = max(252, 300) = 300, RD 307 (next_col 274), data 317..325.
  const Completion c = m.access(pb0(1, 0, 0), 32, false, 252 * NS);
  CHECK(c.outcome == RowOutcome::Miss);
  CHECK(c.done_ps == 325 * NS);
}

TEST_CASE("per-bank refresh: the round's last bank is refreshed even if busy", "[dram][refresh][per_bank]") {
  DramModel m(per_bank_cfg());
  // A read hit to bank 0 every tREFIpb.  Each arrival at 250k (k = 1..7) sees
  // one REFpb due; bank 0 is the arriving request's bank, so the round takes
  // banks 1..7 in order, each closed and refreshed on time (250k .. 250k+50),
  // and bank 0 is hit each time: RD 250k, data 250k+10 .. 250k+18.
  m.access(pb0(0, 0, 0), 32, false, 0);
  for (uint64_t k = 1; k <= 7; ++k) {
    const Completion c = m.access(pb0(0, 0, 32), 32, false, 250 * k * NS);
    INFO("k " << k);
    CHECK(c.refreshes == 1);
    CHECK(c.outcome == RowOutcome::Hit);
    CHECK(c.done_ps == (250 * k + 18) * NS);
  }
  // t = 2000: bank 0 is the only bank left in the round, so it is refreshed
  // although the request wants it.  It is open (pre_ok = max(20, 1750 + tRTP)
  // = 1753): PRE 2000, REFpb 2006 .. 2056.  The read misses: ACT 2056, RD 2063,
  // data 2073..2081.
  const Completion c = m.access(pb0(0, 0, 32), 32, false, 2000 * NS);
  CHECK(c.refreshes == 1);
  CHECK(c.outcome == RowOutcome::Miss);
  CHECK(c.done_ps == 2081 * NS);
  // A new round starts after bank 0: at t = 2250 the request's bank 0 is
  // skipped again and bank 1 is refreshed (2250 .. 2300), so bank 0 hits
  // (data 2260..2268) and bank 1 waits: ACT 2300, RD 2307, data 2317..2325.
  CHECK(m.access(pb0(0, 0, 0), 32, false, 2250 * NS).done_ps == 2268 * NS);
  CHECK(m.access(pb0(1, 0, 0), 32, false, 2251 * NS).done_ps == 2325 * NS);
  const ChannelStats& s = m.channel_stats()[0];
  CHECK(s.refreshes == 9);
  CHECK(s.precharges == 1);
}

TEST_CASE("per-bank refresh: every bank busy, and one REFpb at a time", "[dram][refresh][per_bank]") {
  DramModel m(per_bank_cfg());
  // Open all 8 banks with reads arriving at t = 232.  ACTs: tRRD 4 gives 232,
  // 236, 240, 244; then tFAW 20 holds the fifth to 252, and 256, 260, 264.
  // RDs: 239, 247, 255, 263, then 271, 279, 287, 295 (col_ok or next_col).
  for (uint32_t b = 0; b < 8; ++b) m.access(pb0(b, 0, 0), 32, false, 232 * NS);
  // 30 more reads of bank 0's open row: RD 303, 311, ..., 303 + 29*8 = 535;
  // bank 0 pre_ok = max(232 + tRAS, 535 + tRTP) = 538.  The other banks'
  // pre_ok = max(ACT + 20, RD + 3): 256, 260, 266, 274, 282, 290, 298.
  for (int i = 0; i < 30; ++i) m.access(pb0(0, 0, 32), 32, false, 232 * NS);
  // Bank 0 at t = 250: REFpb due.  Bank 0 is the request's, banks 1..7 are
  // busy (pre_ok > 250): none is free, so the round's first, bank 0, is
  // refreshed: PRE at its pre_ok 538, REFpb 544 .. 594.  The read misses:
  // ACT 594, RD 601 (next_col 543), data 611..619.
  const Completion a = m.access(pb0(0, 0, 0), 32, false, 250 * NS);
  CHECK(a.refreshes == 1);
  CHECK(a.outcome == RowOutcome::Miss);
  CHECK(a.done_ps == 619 * NS);
  // Bank 1 at t = 500: REFpb due.  Bank 1 is the request's; bank 2 is open and
  // idle (pre_ok 260): PRE 500, but the REFpb waits for the previous one:
  // max(506, 544 + tRFCpb) = 594 .. 644.  Bank 1 hits: RD max(500, next_col
  // 609) = 609, data 619..627.
  const Completion b = m.access(pb0(1, 0, 32), 32, false, 500 * NS);
  CHECK(b.refreshes == 1);
  CHECK(b.outcome == RowOutcome::Hit);
  CHECK(b.done_ps == 627 * NS);
  // Bank 2 at t = 501: Miss, ACT = max(501, 644) = 644, RD 651, data 661..669.
  const Completion c = m.access(pb0(2, 0, 0), 32, false, 501 * NS);
  CHECK(c.outcome == RowOutcome::Miss);
  CHECK(c.done_ps == 669 * NS);
  const ChannelStats& s = m.channel_stats()[0];
  CHECK(s.refreshes == 2);
  CHECK(s.precharges == 2);
  CHECK(s.activates == 10);
}

TEST_CASE("per-bank refresh: several due during an idle gap", "[dram][refresh][per_bank]") {
  DramModel m(per_bank_cfg());
  m.access(pb0(0, 0, 0), 32, false, 0);  // bank 0 open, idle from 20
  // Bank 3 at t = 1000: REFpb due at 250, 500, 750, 1000.
  //   250: bank 0 (open, idle): PRE 250, REFpb 256 .. 306.
  //   500: bank 1: max(500, 256 + 50) = 500 .. 550.   750: bank 2: 750 .. 800.
  //   1000: bank 3 is the request's: bank 4, 1000 .. 1050.
  // Bank 3: Miss, ACT 1000, RD 1007, data 1017..1025.
  const Completion a = m.access(pb0(3, 0, 0), 32, false, 1000 * NS);
  CHECK(a.refreshes == 4);
  CHECK(a.done_ps == 1025 * NS);
  // Bank 4 waits for its refresh: ACT max(1001, 1050) = 1050, RD 1057,
  // data 1067..1075.  Bank 0: ACT max(1002, 306, 1050 + tRRD) = 1054, RD
  // max(1061, next_col 1065) = 1065, data 1075..1083.
  CHECK(m.access(pb0(4, 0, 0), 32, false, 1001 * NS).done_ps == 1075 * NS);
  CHECK(m.access(pb0(0, 0, 0), 32, false, 1002 * NS).done_ps == 1083 * NS);
  const ChannelStats& s = m.channel_stats()[0];
  CHECK(s.refreshes == 4);
  CHECK(s.precharges == 1);
  CHECK(s.row_misses == 4);
}

TEST_CASE("per-bank refresh: a very long idle gap in closed form", "[dram][refresh][per_bank]") {
  DramModel m(per_bank_cfg());
  m.access(pb0(0, 0, 0), 32, false, 0);
  // Bank 5 at t = 10^6: (10^6 - 250) / 250 + 1 = 4000 REFpb due.  The first
  // round (at 250 .. 2000: banks 0 (precharged first), 1, 2, 3, 4, 6, 7 and
  // last 5, the request's) closes every bank.  Every later round refreshes
  // banks 6, 7, 0, 1, 2, 3, 4, 5, on time; the last one's bank 5 is due at
  // 10^6 and runs 10^6 .. 10^6 + 50.  Bank 5: ACT 10^6 + 50, RD +57, data +67
  // .. +75.
  const uint64_t T = 1000000;
  const Completion a = m.access(pb0(5, 0, 0), 32, false, T * NS);
  CHECK(a.refreshes == 4000);
  CHECK(a.outcome == RowOutcome::Miss);
  CHECK(a.done_ps == (T + 75) * NS);
  // Bank 4 was refreshed at T - 250 .. T - 200: it does not wait for it; ACT
  // max(T + 1, T + 50 + tRRD) = T + 54, RD T + 61 (next_col T + 65 -> T + 65),
  // data T + 75 .. T + 83.
  CHECK(m.access(pb0(4, 0, 0), 32, false, (T + 1) * NS).done_ps == (T + 83) * NS);
  // The next REFpb is due at T + 250: bank 6 (after 5, a new round).  A
  // request to bank 6 at T + 250 is its own bank, so bank 7 is taken instead:
  // bank 6 does not wait (ACT T + 250).
  const Completion c = m.access(pb0(6, 0, 0), 32, false, (T + 250) * NS);
  CHECK(c.refreshes == 1);
  CHECK(c.done_ps == (T + 250 + 25) * NS);
  const ChannelStats& s = m.channel_stats()[0];
  CHECK(s.refreshes == 4001);
  CHECK(s.precharges == 1);
}

TEST_CASE("per-bank refresh of bank pairs (16 banks)", "[dram][refresh][per_bank]") {
  DramConfig cfg = per_bank_cfg();
  cfg.banks = 16;
  DramModel m(cfg);
  // Channel 0 with 16 banks: local = r*4096 + b*256 + c.
  auto addr = [](uint32_t bank, uint32_t col) {
    const uint64_t local = uint64_t(bank) * 256 + col;
    return (local / 64) * 128 + local % 64;
  };
  m.access(addr(8, 0), 32, false, 0);  // bank 8: ACT 0, RD 7, idle from 20
  // Bank 1 at t = 250: group 0 = banks 0 and 8.  Bank 8 is open and idle:
  // PRE 250, REFpb 256 .. 306 for both.
  CHECK(m.access(addr(1, 0), 32, false, 250 * NS).refreshes == 1);
  // Bank 0 and bank 8 both wait: ACT max(260, 306) = 306 and 306 + tRRD = 310;
  // RD 313, 317 -> max(317, 321) = 321; data 323..331 and 331..339.
  CHECK(m.access(addr(0, 0), 32, false, 260 * NS).done_ps == 331 * NS);
  CHECK(m.access(addr(8, 32), 32, false, 260 * NS).done_ps == 339 * NS);
  CHECK(m.channel_stats()[0].precharges == 1);
}

TEST_CASE("per-bank refresh configuration checks", "[dram][refresh][per_bank][errors]") {
  auto bad = [](auto edit) {
    DramConfig c = per_bank_cfg();
    edit(c);
    CHECK_THROWS_AS(DramModel(c), Error);
  };
  bad([](DramConfig& c) { c.banks = 4; });              // not a multiple of 8
  bad([](DramConfig& c) { c.timing.tRFCpb_ns = 0; });   // refresh on, no tRFCpb
  bad([](DramConfig& c) { c.timing.tRFCpb_ns = 250; }); // tREFIpb 250 <= tRFCpb 250
  bad([](DramConfig& c) { c.timing.tREFI_ns = 7; });    // tREFIpb < 1 ck
  bad([](DramConfig& c) { c.timing.tRFCpb_ns = -1; });
  DramConfig off = per_bank_cfg();
  off.timing.tREFI_ns = 0;
  off.timing.tRFCpb_ns = 0;  // refresh disabled: tRFCpb unused
  CHECK_NOTHROW(DramModel(off));
  DramConfig ab = small_cfg();  // all-bank ignores tRFCpb and the bank count
  ab.timing.tRFCpb_ns = 5000;
  CHECK_NOTHROW(DramModel(ab));
  try {
    DramConfig c = per_bank_cfg();
    c.timing.tRFCpb_ns = 250;
    DramModel x(c);
  } catch (const Error& e) {
    CHECK(std::string(e.what()) == "dram: tREFIpb (250 ck) must be longer than tRFCpb (250 ck)");
  }
}

TEST_CASE("per-bank refresh: reset and the all-bank figures untouched", "[dram][refresh][per_bank]") {
  DramModel m(per_bank_cfg());
  m.access(pb0(0, 0, 0), 32, false, 0);
  m.access(pb0(1, 0, 0), 32, false, 250 * NS);
  m.reset();
  CHECK(all_zero(m.total_stats()));
  // After reset the first REFpb is due at 250 again and the round restarts at
  // bank 0 (closed, so on time: 250 .. 300).
  m.access(pb0(1, 0, 0), 32, false, 0);
  CHECK(m.access(pb0(1, 0, 0), 32, false, 250 * NS).refreshes == 1);
  CHECK(m.access(pb0(0, 0, 0), 32, false, 251 * NS).done_ps == (300 + 7 + 10 + 8) * NS);
}
