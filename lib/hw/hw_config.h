// The hardware design point: one struct, parsed and validated by one library,
// consumed by the SystemC model, the compiler, the RTL generator and the
// power models.  Every timing-relevant figure is stored here in the integer
// unit the timing rules use (picoseconds, clocks, bytes), derived once at load.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace clonesim::hw {

enum class WeightType : uint8_t { Int8 = 0, Int4 = 1 };
const char* to_string(WeightType t);
inline unsigned weight_bits(WeightType t) { return t == WeightType::Int4 ? 4 : 8; }

enum class DramType : uint8_t { LPDDR4, LPDDR4X, LPDDR5 };
const char* to_string(DramType t);

// How the DRAM is refreshed (docs/timing-dram.md, "Refresh").  AllBank: one
// REFab per channel every tREFI, all banks closed for tRFC.  PerBank: one
// REFpb every tREFIpb = tREFI / 8, refreshing banks b with b % 8 == k
// (one bank of LPDDR4's 8, a bank pair of LPDDR5's 16) for tRFCpb while the
// other banks keep serving.
enum class RefreshMode : uint8_t { AllBank, PerBank };
const char* to_string(RefreshMode m);  // "all_bank", "per_bank"
// REFpb commands per tREFI (JEDEC LPDDR4 and LPDDR5: 8).
constexpr uint32_t kRefreshGroups = 8;

// DVFS domains.  The numbering is part of the ISA (the DVFS instruction names
// a domain by this index).
enum class Domain : uint8_t { Compute = 0, Memory = 1, AlwaysOn = 2 };
constexpr int kNumDomains = 3;
const char* to_string(Domain d);

// One SRAM kind (scratchpad or accumulator) of one tile: `banks` banks, each
// `depth` lines of `width_bits`, each with `ports` read/write ports.
// Addresses are byte addresses; bank = addr / bank_bytes() (block banking).
struct SramConfig {
  uint32_t banks = 0;
  uint32_t width_bits = 0;  // power of two, 32..4096 (accumulator: multiple of 32)
  uint32_t depth = 0;       // lines per bank, power of two
  uint32_t ports = 1;       // 1 or 2

  uint32_t line_bytes() const { return width_bits / 8; }
  uint64_t bank_bytes() const { return uint64_t(line_bytes()) * depth; }
  uint64_t total_bytes() const { return bank_bytes() * banks; }
};

struct MxuConfig {
  uint32_t rows = 0;  // R: the reduction (K) dimension held in the array
  uint32_t cols = 0;  // C: the output (N) dimension
  std::vector<WeightType> weight_types;  // at least one of int8, int4
  bool supports(WeightType t) const;
};

struct VxuConfig {
  uint32_t lanes = 0;  // L: elements per step, power of two
};

// One DMA engine with `channels` channels.  Each channel has a load queue and
// a store queue; a load/store goes to channel (tile mod channels), a
// broadcast load to channel 0.  The engine moves one transfer at a time and
// takes the channels' ready queues in round-robin order (docs/timing.md).
struct DmaConfig {
  uint32_t channels = 1;     // 1..8
  uint32_t burst_bytes = 0;  // largest DRAM request; power of two, <= dram.interleave_bytes
  uint32_t outstanding = 0;  // requests in flight at once (>= 1)
};

// Instruction memory depth (256-bit instructions): a power of two in
// kMinImemDepth..kMaxImemDepth (the RTL addresses it with log2(depth) bits).
constexpr uint32_t kDefaultImemDepth = 16384, kMinImemDepth = 16, kMaxImemDepth = 1u << 24;
// The rule of controller.imem_depth ("a power of two 16..16777216"), and
// the check of a depth that does not come from a design point's YAML (an
// option of the area model or the RTL generator): empty when legal, else
// "RULE, got DEPTH".
std::string imem_depth_rule();
std::string check_imem_depth(uint64_t depth);

struct ControllerConfig {
  uint32_t queue_depth = 0;   // entries in each unit queue (>= 1)
  uint32_t sync_cycles = 0;   // synchroniser depth for a signal crossing domains (>= 1)
  // Instructions the instruction memory holds (its area, fetch energy and
  // leakage; the RTL's program memory).  The timing model does not depend on it.
  uint32_t imem_depth = kDefaultImemDepth;
};

// JEDEC timings in DRAM clocks (tCK) unless the name says ns.
struct DramTiming {
  uint32_t BL = 16;  // burst length (transfers)
  uint32_t CL = 0;   // read latency
  uint32_t CWL = 0;  // write latency
  uint32_t tRCD = 0, tRP = 0, tRAS = 0, tRRD = 0, tFAW = 0;
  uint32_t tCCD = 0, tRTP = 0, tWR = 0, tWTR = 0;
  double tRFC_ns = 0;   // all-bank refresh cycle time (tRFCab)
  double tRFCpb_ns = 0; // per-bank refresh cycle time (used with RefreshMode::PerBank)
  double tREFI_ns = 0;  // refresh interval (all-bank; tREFIpb = tREFI / 8)
};

struct DramConfig {
  DramType type = DramType::LPDDR4X;
  uint32_t channels = 0;
  uint32_t banks = 0;            // per channel
  uint32_t page_bytes = 0;       // row size per bank, power of two
  uint32_t width_bits = 16;      // channel data width
  uint32_t data_rate_mtps = 0;   // transfers per second per pin, in millions
  uint32_t ck_mhz = 0;           // command clock
  uint32_t interleave_bytes = 0; // consecutive bytes kept in one channel, power of two
  RefreshMode refresh = RefreshMode::AllBank;
  DramTiming timing;

  // Derived at load (see docs/timing.md).
  uint64_t tck_ps = 0;           // round(1e6 / ck_mhz)
  uint32_t burst_bytes() const { return timing.BL * width_bits / 8; }
  uint32_t burst_clocks() const;  // BL / (data_rate / ck), clocks a burst holds the bus
  uint64_t tRFC_ck() const;       // ceil(tRFC_ns / tck)
  uint64_t tREFI_ck() const;      // floor(tREFI_ns / tck)
  uint64_t tRFCpb_ck() const;     // ceil(tRFCpb_ns / tck)
  uint64_t tREFIpb_ck() const;    // floor(tREFI_ns / 8 / tck)
  double peak_gbps() const;       // channels * data_rate * width / 8 / 1000
};

struct OperatingPoint {
  double volts = 0;
  double mhz = 0;
  uint64_t period_ps = 0;  // derived: round(1e6 / mhz)
};

struct DomainConfig {
  std::vector<OperatingPoint> points;  // ascending frequency
  uint32_t initial = 0;                // index into points
  double transition_ns = 0;            // LDO settling + ADPLL relock
  double transition_nj = 0;            // energy per transition
  uint64_t transition_ps = 0;          // derived: round(transition_ns * 1000)
};

struct HwConfig {
  std::string name;
  std::string source;  // file it came from ("configs/hw/NAME.yaml" for built-ins)
  uint32_t technology_nm = 28;
  uint32_t tiles = 0;  // <= 63
  MxuConfig mxu;
  VxuConfig vxu;
  SramConfig scratchpad;
  SramConfig accumulator;  // holds int32
  DmaConfig dma;
  ControllerConfig controller;
  DramConfig dram;
  std::array<DomainConfig, kNumDomains> domains;

  const DomainConfig& domain(Domain d) const { return domains[static_cast<int>(d)]; }
  // Peak MAC throughput of all tiles at the compute domain's fastest point,
  // counting a MAC as two operations.
  double peak_tops(WeightType t) const;
  uint64_t sram_total_bytes() const;  // scratchpad + accumulator, all tiles
};

// The instruction-memory depth to count or build: `depth` when given (an
// option of the area model or the RTL generator, `who` naming it in the
// error), else the design point's controller.imem_depth.  Throws Error when
// it breaks the key's rule.
uint32_t imem_depth_or(const HwConfig& hw, std::optional<uint32_t> depth, const std::string& who);

// Parse and validate.  Any problem throws clonesim::Error with a one-line
// message "FILE:LINE: KEY: expected ...".
HwConfig load_hw_config(const std::string& path);
HwConfig parse_hw_config(const std::string& yaml_text, const std::string& source_name);

// Resolve a design-point argument: an existing file path, or the name of a
// shipped design point, with or without ".yaml" ("clone-28nm" -> the copy of
// configs/hw/clone-28nm.yaml compiled into the library; source is set to
// "configs/hw/clone-28nm.yaml").
HwConfig load_hw_config_or_named(const std::string& path_or_name);
std::string default_hw_name();  // "clone-28nm"
// Names of the design points compiled into the library, sorted
// ("clone-28nm", "edge-large", "edge-small").
std::vector<std::string> shipped_hw_names();

// The per-type DRAM defaults (geometry, data rate, JEDEC timings, interleave
// 256 B) with the derived fields filled in: what a design point gets when its
// `dram:` section names only `type` and `channels`.
DramConfig default_dram(DramType type, uint32_t channels = 1);

// Human-readable derived figures (what `clonesim hw show` prints).
std::string describe(const HwConfig& hw);

}  // namespace clonesim::hw
