// The SystemC model of one accelerator instance: controller, unit queues,
// DMA engine, DRAM model, per-tile MXU, VXU and banked SRAM, DVFS domains.
//
// The model advances by events: an instruction's whole latency is computed
// when it starts (sim/timing.h), so simulated time jumps from event to event
// and never ticks through idle cycles.  Several Accelerator instances may be
// elaborated in one process; each runs its own program from time zero.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <queue>
#include <string>
#include <vector>

#include <systemc>

#include "dram/dram.h"
#include "hw/hw_config.h"
#include "isa/program.h"
#include "sim/clock.h"
#include "sim/functional.h"
#include "sim/memory.h"
#include "sim/stats.h"
#include "sim/timing.h"

namespace clonesim::sim {

enum class Mode { Functional, Timing };

// A DVFS governor in the chip's DVFS manager, deciding at run time: when the
// controller begins region r - 1 of the program (at time zero for r = 0),
// `decide(r, now_ps)` returns the operating point of `domain` for region r,
// or -1 to keep the current one.  A change is applied when region r begins,
// as a `dvfs` instruction would be (after every issued instruction has
// completed; the transition costs what the design point says).
struct RuntimeGovernor {
  hw::Domain domain = hw::Domain::Compute;
  std::function<int(size_t region, uint64_t now_ps)> decide;
};

struct Options {
  Options() = default;
  Options(Mode m, const std::array<int64_t, isa::kNumContextRegs>& c = {}) : mode(m), ctx(c) {}  // NOLINT: implicit
  Mode mode = Mode::Functional;
  std::array<int64_t, isa::kNumContextRegs> ctx{};  // c1..c7 at start (c0 is ignored)
  uint64_t sample_ps = 0;     // Stats::samples every sample_ps of simulated time (0: none)
  RuntimeGovernor governor;   // none unless `decide` is set (needs the program's regions)
};

// One executed instruction (a tile copy of a broadcast counts once per tile).
struct Retirement {
  uint32_t index;   // position in the program
  int unit;         // index into Stats::units
  uint64_t start_ps, done_ps;
};

struct DvfsChange {
  hw::Domain domain;
  uint32_t point;
  uint64_t start_ps, end_ps;
  bool by_governor = false;  // applied by Options::governor, not by a dvfs instruction
};

class Accelerator : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(Accelerator);
  Accelerator(sc_core::sc_module_name name, const hw::HwConfig& hw, isa::Program program, Options opt = {});
  // The same on a program it does not copy: `*program` must outlive the
  // Accelerator (run_program: a whole-model program is a few hundred MB).
  Accelerator(sc_core::sc_module_name name, const hw::HwConfig& hw, const isa::Program* program, Options opt = {});

  // Memory images; set them up before sc_start(), read them after.
  SparseMemory& dram() { return dram_data_; }
  const SparseMemory& dram() const { return dram_data_; }
  TileMemory& tile(unsigned t) { return tiles_[t]; }
  const TileMemory& tile(unsigned t) const { return tiles_[t]; }
  const hw::HwConfig& hw() const { return hw_; }

  bool finished() const { return finished_; }
  const std::string& error() const { return error_; }  // non-empty if the run failed
  const Stats& stats() const { return stats_; }
  const std::vector<Retirement>& retirements() const { return retired_; }
  const std::vector<DvfsChange>& dvfs_changes() const { return dvfs_log_; }

 private:
  enum class Kind : uint8_t { Control, Load, Store, Matrix, Vector };
  struct Entry {
    uint32_t index;
    isa::Instruction in;  // resolved
    uint64_t visible;     // when the unit sees it
  };
  struct Unit {
    Kind kind;
    int tile;  // tile (matrix, vector), DMA channel (load, store), -1 (control)
    hw::Domain dom;
    std::deque<Entry> q;
    std::deque<uint64_t> pops_seen;  // when the controller sees each pop
    int stall = -1;                  // current stall reason, -1 none
    uint64_t stall_since = 0;
    uint64_t busy_until = 0;         // union accounting of busy time
    uint32_t inflight = 0;
    std::array<std::array<uint16_t, 64>, 2> hold{};  // [space][bank] holds by this unit
  };
  struct Flight {
    int unit;
    Entry e;
    uint64_t start, done;
    std::array<uint64_t, 2> banks;  // [space] mask, held on each tile in `tile_mask`
    uint64_t tile_mask;
  };
  // A counting semaphore as each clock domain sees it: signals reach domain
  // Y at their visibility time; a wait consumes one for everybody.  The value
  // seen by Y is arrived[Y] - consumed.
  struct Semaphore {
    std::array<std::vector<uint64_t>, hw::kNumDomains> in_flight;  // visibility times not reached yet
    std::array<uint64_t, hw::kNumDomains> arrived{};
    uint64_t consumed = 0;
    int64_t value(int d, uint64_t t) {
      auto& v = in_flight[d];
      for (size_t i = 0; i < v.size();)
        if (v[i] <= t) {
          ++arrived[d];
          v[i] = v.back();
          v.pop_back();
        } else {
          ++i;
        }
      return int64_t(arrived[d]) - int64_t(consumed);
    }
  };
  struct Event {
    uint64_t t;
    uint64_t seq;
    int kind;  // 0 = done(arg = flight slot), 1 = wake(arg = domain)
    uint32_t arg;
    bool operator>(const Event& o) const { return t != o.t ? t > o.t : seq > o.seq; }
  };

  void run();
  void step_controller(uint64_t t);
  void step_dma(uint64_t t);
  void step_matrix(int u, uint64_t t);
  void step_vector(int u, uint64_t t);
  void complete(uint32_t slot, uint64_t t);

  // helpers
  void push_event(uint64_t t, int kind, uint32_t arg);
  void wake(hw::Domain d, uint64_t t);
  void set_stall(int u, uint64_t t, int reason);
  uint64_t tile_mask_of(const isa::Instruction& in) const;
  int sem_index(int tile, int id) const;
  bool sems_ready(const isa::Instruction& in, uint64_t tiles, hw::Domain d, uint64_t t);
  void sems_take(const isa::Instruction& in, uint64_t tiles, hw::Domain d, uint64_t t);
  void sems_signal(const isa::Instruction& in, uint64_t tiles, hw::Domain from, uint64_t t);
  bool banks_free(int u, uint64_t tiles, const std::array<uint64_t, 2>& m) const;
  void banks_hold(int u, uint64_t tiles, const std::array<uint64_t, 2>& m, int delta);
  uint32_t start_flight(int u, const Entry& e, uint64_t start, uint64_t done, std::array<uint64_t, 2> banks,
                        uint64_t tiles);
  void pop_queue(int u, uint64_t t);
  [[noreturn]] void fail(uint32_t index, const isa::Instruction& in, const std::string& what) const;
  void finalize(uint64_t end);
  // Adds domain d's events since its last snapshot to its current point's activity.
  void snapshot_activity(int d);
  void init();
  void account_domain(int d, uint64_t upto);
  // Starts domain d's change to point p at t (the controller has drained);
  // returns when it ends.
  uint64_t begin_dvfs(int d, uint32_t p, uint64_t t, bool by_governor);
  // Everything a slice is priced by, cumulative from time zero, at t (no
  // state changes at t after the call).
  struct Tally {
    uint64_t t = 0, instructions = 0;
    std::array<DomainStats, hw::kNumDomains> domains;
    std::array<std::vector<PointActivity>, hw::kNumDomains> activity;
    dram::ChannelStats dram;
  };
  Tally tally(uint64_t t, bool with_activity);
  // Slice `s`'s window from a to b: start, end, instructions, domains' time
  // and transitions (and with `with_activity`, the events and the DRAM's work).
  static void fill_window(Slice& s, const Tally& a, const Tally& b, bool with_activity);
  // The events that follow are instruction `index`'s: charged to its region.
  void charge(uint32_t index) {
    if (!slice_first_.empty() && (index < ev_lo_ || index >= ev_hi_)) switch_charge(index);
  }
  void switch_charge(uint32_t index);
  void flush_charge();  // the events since the last flush to the region charged
  PointActivity cumulative_activity() const;
  // Enters every region that begins at pc_ (closing the one before at t)
  // and asks the run-time governor for the region after.
  void enter_regions(uint64_t t);
  void close_samples_before(uint64_t t);

  hw::HwConfig hw_;
  isa::Program own_;            // the program when the Accelerator holds it
  const isa::Program* prog_;    // the program run: &own_ or the caller's
  Options opt_;
  SparseMemory dram_data_;
  std::vector<TileMemory> tiles_;
  std::vector<std::array<Lut, isa::kNumLuts>> luts_;
  dram::DramModel dram_;

  std::array<DomainClock, hw::kNumDomains> clk_;
  std::array<uint32_t, hw::kNumDomains> point_{};
  std::array<uint64_t, hw::kNumDomains> trans_until_{};
  std::array<uint64_t, hw::kNumDomains> acct_from_{};  // domain time accounted up to here
  std::array<uint64_t, hw::kNumDomains> dispatched_{};
  std::array<uint64_t, hw::kNumDomains> done_seen_{};
  std::array<std::deque<uint64_t>, hw::kNumDomains> done_pending_;  // times the controller sees completions
  std::array<uint64_t, hw::kNumDomains> last_wake_{};

  // 0 control; 1+2c load[c], 2+2c store[c]; then matrix[t], vector[t] per tile
  std::vector<Unit> units_;
  std::vector<Semaphore> sems_;
  // Units holding each bank: [tile][space][bank]
  std::vector<std::array<std::array<uint8_t, 64>, 2>> holders_;

  // controller
  uint32_t pc_ = 0;
  uint32_t checked_pc_ = ~uint32_t(0);  // the instruction at pc_ passed check_against
  uint64_t ctrl_next_ = 0;
  std::array<int64_t, isa::kNumContextRegs> ctx_{};
  std::array<PointActivity, hw::kNumDomains> act_snap_{};  // cumulative events at each domain's last snapshot
  bool halted_ = false;

  // regions and samples (Stats::regions, Stats::samples)
  size_t next_region_ = 0;          // the next region to begin
  std::vector<uint32_t> slice_first_;  // first instruction of each region slice (Stats::regions)
  int open_slice_ = -1;             // the region slice whose window is open (from region_from_)
  Tally region_from_, sample_from_;
  size_t ev_slice_ = 0;             // the region slice events are charged to
  uint32_t ev_lo_ = 0, ev_hi_ = 0;  // its instructions
  PointActivity ev_snap_;           // cumulative events at the last flush
  dram::ChannelStats ev_dram_snap_;
  uint64_t next_sample_ = 0;
  int gov_point_ = -1;              // the governor's point for region gov_region_
  size_t gov_region_ = 0;

  // DMA engine
  uint64_t dma_busy_until_ = 0;
  int dma_last_ = 0;  // last served DMA queue unit (0 before the first)
  int first_tile_unit_ = 3;  // units_ index of matrix[0]

  // MXU pipeline state per tile
  struct MxuState {
    MxuPipe pipe;  // after the last accepted tile
  };
  std::vector<MxuState> mxu_;

  std::vector<Flight> flights_;
  std::vector<uint32_t> free_flights_;
  std::priority_queue<Event, std::vector<Event>, std::greater<Event>> events_;
  uint64_t seq_ = 0;
  uint64_t now_ = 0;

  std::vector<SramAccess> scratch_acc_;

  Stats stats_;
  std::vector<Retirement> retired_;
  std::vector<DvfsChange> dvfs_log_;
  bool finished_ = false;
  std::string error_;
};

// Run one program to completion in this process (elaborates one Accelerator
// and calls sc_start).  `setup` may fill memories before the run.
struct RunResult {
  Stats stats;
  std::vector<Retirement> retirements;
  std::vector<DvfsChange> dvfs_changes;
};

}  // namespace clonesim::sim
