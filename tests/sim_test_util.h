// Helpers for SystemC model tests: build several accelerators, run the kernel
// once (one kernel per process), then inspect each.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "hw/hw_config.h"
#include "isa/program.h"
#include "sim/accelerator.h"

namespace clonesim::test {

inline isa::Program asm_program(const std::string& text) { return isa::assemble(text, "test.s"); }

inline hw::HwConfig design(const std::string& name) { return hw::load_hw_config_or_named(name); }

// Make every domain run at `mhz` (one shared clock) on a copy of `hw`.
inline hw::HwConfig single_clock(hw::HwConfig hw, double mhz) {
  for (auto& d : hw.domains) {
    d.points = {{0.9, mhz, static_cast<uint64_t>(1e6 / mhz + 0.5)}};
    d.initial = 0;
  }
  return hw;
}

// The queue that runs tile `t`'s copy of `in` (docs/architecture.md): the
// controller, load/store channel `t mod dma.channels` (a broadcast load:
// channel 0), or the tile's matrix or vector unit.
inline std::string queue_of(const isa::Instruction& in, unsigned t, const hw::HwConfig& hw) {
  switch (isa::unit_of(in.op)) {
    case isa::Unit::Control: return "control";
    case isa::Unit::Load: return "load " + std::to_string(in.tile == isa::kAllTiles ? 0 : t % hw.dma.channels);
    case isa::Unit::Store: return "store " + std::to_string(t % hw.dma.channels);
    case isa::Unit::Matrix: return "matrix " + std::to_string(t);
    case isa::Unit::Vector: return "vector " + std::to_string(t);
  }
  return "";
}

struct Bench {
  std::vector<std::unique_ptr<sim::Accelerator>> accs;
  sim::Accelerator& add(const hw::HwConfig& hw, const std::string& text, sim::Options opt = {}) {
    accs.push_back(std::make_unique<sim::Accelerator>(("acc" + std::to_string(accs.size())).c_str(), hw,
                                                       asm_program(text), opt));
    return *accs.back();
  }
  void run() { sc_core::sc_start(); }
};

// The retirement of program instruction `index` (first one found).
inline const sim::Retirement& retired(const sim::Accelerator& a, uint32_t index) {
  for (const auto& r : a.retirements())
    if (r.index == index) return r;
  throw std::runtime_error("instruction " + std::to_string(index) + " did not retire");
}

inline int unit_index(const sim::Accelerator& a, const std::string& name) {
  const auto& u = a.stats().units;
  for (size_t i = 0; i < u.size(); ++i)
    if (u[i].name == name) return static_cast<int>(i);
  throw std::runtime_error("no unit " + name);
}

}  // namespace clonesim::test
