// DVFS governors over a sequence of layers (docs/energy-model.md,
// "Governors"): which operating point of one DVFS domain each layer of a
// phase (a prefill, or one decode step) runs at, so that the phase ends by
// its deadline (a TTFT or TPOT target) at the least energy.
//
// The input is a profile: per layer and operating point the layer's time and
// energy (dynamic at that point's voltage plus leakage over its time), the
// cost of switching between two points, and the domain's idle power at each
// point (what it draws between the last layer and the deadline).  The
// governors return a schedule (a point per layer, and the point to idle at);
// `evaluate` prices any schedule the same way, so schedules compare exactly.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace clonesim::power {

// One layer at each operating point (index = point, ascending frequency).
struct LayerCost {
  std::vector<double> time_s, energy_j;
};

struct SwitchCost {
  double time_s = 0, energy_j = 0;
};

struct GovernorProblem {
  std::vector<LayerCost> layers;
  size_t initial = 0;                 // the point before the first layer
  double deadline_s = 0;              // the phase must end (last layer done) by then
  std::vector<double> idle_power_w;   // per point: power while idle until the deadline
  // Switching from point a to point b (a != b); both the time (added to the
  // phase, nothing runs meanwhile) and the energy count.
  std::function<SwitchCost(size_t a, size_t b)> switch_cost;
  // Optional: switching to point b before layer i, when it differs by layer
  // (a measured profile: the drain of the pipeline before a change costs
  // each layer differently).  Overrides switch_cost for the layers; the
  // switch to the idle point after the last layer keeps switch_cost.
  std::function<SwitchCost(size_t layer, size_t a, size_t b)> layer_switch_cost;
  size_t points() const { return idle_power_w.size(); }
  SwitchCost switch_before(size_t layer, size_t a, size_t b) const;  // none when a == b
};

struct Schedule {
  std::string governor;
  std::vector<size_t> point;  // per layer
  size_t idle_point = 0;      // the point between the last layer and the deadline
  double time_s = 0;          // end of the last layer (switches included)
  double energy_j = 0;        // layers + switches + idle until the deadline (or until time_s if later)
  size_t switches = 0;
  bool meets = false;         // time_s <= deadline_s
};

// Throws clonesim::Error for an inconsistent problem (a layer without a cost
// per point, a negative figure, an initial point out of range).
void check_problem(const GovernorProblem& p);

// Prices `point` (per layer) with the domain idling at `idle_point` after the
// last layer (a switch to it counted when it differs and there is slack).
Schedule evaluate(const GovernorProblem& p, const std::vector<size_t>& point, size_t idle_point,
                  const std::string& governor = "given");

// Every layer at point `q`, idling there.
Schedule fixed_point(const GovernorProblem& p, size_t q);
// Every layer at the fastest point, then idle at the point of least idle
// power (when the switch fits before the deadline).
Schedule race_to_idle(const GovernorProblem& p);
// The least-energy schedule that meets the deadline, exactly: a dynamic
// programme over layers x points keeping, per point, the (time, energy)
// states no other state dominates (switch costs and the idle tail
// included).  When no schedule meets the deadline: the fastest one
// (`meets` false).
Schedule offline_optimum(const GovernorProblem& p);
// Every schedule (points^layers x idle points), for checking offline_optimum
// on small problems; throws clonesim::Error beyond 2^22 schedules.
Schedule brute_force(const GovernorProblem& p);

// The online governor: decides layer i's point when layer i - 1 starts (off
// the critical path), from the time left and a predictor.  `predicted` is
// the profile it believes.  The predictor scales the profile by the ratio of
// the actual to the predicted time of the layers finished so far (switches
// included).  Each layer gets a share of the time left in proportion to its
// predicted time at the fastest point; it runs at the least-energy point
// whose predicted time (with the switch) fits its share, at the fastest when
// none does.  Step by step, as the DVFS manager runs it (the simulator's
// sim::RuntimeGovernor calls decide at each region).
class OnlineGovernor {
 public:
  // `p` gives the deadline, the initial point, the points and the switch
  // costs (its layers are not read: the governor knows only `predicted`).
  OnlineGovernor(const GovernorProblem& p, std::vector<LayerCost> predicted);
  // Layer i's point, decided when layer i - 1 begins at `now_s` (seconds
  // since the phase began; for layer 0, the phase's start).  Layers are
  // decided in order 0, 1, ...
  size_t decide(size_t i, double now_s);
  const std::vector<size_t>& points() const { return point_; }

 private:
  const GovernorProblem& p_;
  std::vector<LayerCost> pred_;
  std::vector<size_t> point_;
};

// The online governor on the actual costs `p` (each decision sees the actual
// time of the layers done), priced by evaluate.
Schedule online_governor(const GovernorProblem& p, const std::vector<LayerCost>& predicted);

}  // namespace clonesim::power
