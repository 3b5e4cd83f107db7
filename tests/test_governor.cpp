// DVFS governors over a phase's layers: the exact offline optimum against
// brute force, the online governor's deadline, and hand-computed schedules.
#include <catch2/catch.hpp>

#include <random>

#include "power_models/governor.h"
#include "test_util.h"

using namespace clonesim;
using namespace clonesim::power;

namespace {

// Two points: slow (0) takes 2 s and 1 J per layer, fast (1) 1 s and 2 J;
// idle 0.1 W slow, 0.5 W fast; a switch 0.25 s and 0.5 J.
GovernorProblem two_points(size_t layers, double deadline) {
  GovernorProblem p;
  for (size_t i = 0; i < layers; ++i) p.layers.push_back({{2.0, 1.0}, {1.0, 2.0}});
  p.initial = 1;
  p.deadline_s = deadline;
  p.idle_power_w = {0.1, 0.5};
  p.switch_cost = [](size_t, size_t) { return SwitchCost{0.25, 0.5}; };
  return p;
}

GovernorProblem random_problem(std::mt19937_64& rng, size_t L, size_t P) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  GovernorProblem p;
  // faster points: less time, more dynamic energy (roughly V^2), plus noise
  for (size_t i = 0; i < L; ++i) {
    LayerCost c;
    const double work = 0.5 + u(rng);
    for (size_t q = 0; q < P; ++q) {
      const double f = 0.4 + 0.6 * double(q + 1) / double(P);
      c.time_s.push_back(work / f * (0.9 + 0.2 * u(rng)));
      c.energy_j.push_back(work * f * f * (0.9 + 0.2 * u(rng)) + 0.05 * u(rng));
    }
    p.layers.push_back(c);
  }
  for (size_t q = 0; q < P; ++q) p.idle_power_w.push_back(0.02 + 0.1 * double(q) * u(rng));
  std::vector<SwitchCost> m(P * P);
  for (auto& s : m) s = {0.05 * u(rng), 0.05 * u(rng)};
  p.switch_cost = [m, P](size_t a, size_t b) { return m[a * P + b]; };
  p.initial = size_t(rng() % P);
  double tmin = 0, tmax = 0;
  for (const LayerCost& c : p.layers) {
    tmin += *std::min_element(c.time_s.begin(), c.time_s.end());
    tmax += *std::max_element(c.time_s.begin(), c.time_s.end());
  }
  p.deadline_s = tmin * 0.95 + (tmax * 1.1 - tmin * 0.95) * u(rng);  // sometimes infeasible
  return p;
}

}  // namespace

TEST_CASE("governor: hand-computed schedules of two layers at two points", "[governor]") {
  const GovernorProblem p = two_points(2, 3.5);
  // fixed fast: 2 s, 4 J, then 1.5 s idle at 0.5 W = 0.75 J
  const Schedule f = fixed_point(p, 1);
  CHECK(f.time_s == Approx(2.0).epsilon(1e-12));
  CHECK(f.energy_j == Approx(4.75).epsilon(1e-12));
  CHECK(f.meets);
  CHECK(f.switches == 0);
  // race to idle: 2 s, 4 J, a switch (0.5 J, 0.25 s) then 1.25 s at 0.1 W
  const Schedule r = race_to_idle(p);
  CHECK(r.idle_point == 0);
  CHECK(r.energy_j == Approx(4.0 + 0.5 + 0.125).epsilon(1e-12));
  CHECK(r.switches == 1);
  // the optimum: one layer slow.  fast then slow: 1 + 0.25 + 2 = 3.25 s,
  // 2 + 0.5 + 1 = 3.5 J, 0.25 s idle at 0.1 W: 3.525 J.  Slow first needs
  // the switch first: 0.25 + 2 + 0.25 + 1 = 3.5 s, 0.5 + 1 + 0.5 + 2 = 4 J.
  const Schedule o = offline_optimum(p);
  CHECK(o.point == std::vector<size_t>{1, 0});
  CHECK(o.time_s == Approx(3.25).epsilon(1e-12));
  CHECK(o.energy_j == Approx(3.525).epsilon(1e-12));
  CHECK(o.meets);
  // both slow: 0.25 + 4 = 4.25 s > 3.5: not a candidate
  CHECK_FALSE(evaluate(p, {0, 0}, 0).meets);
  // a deadline nothing meets: the fastest schedule, marked
  const Schedule x = offline_optimum(two_points(2, 1.5));
  CHECK_FALSE(x.meets);
  CHECK(x.point == std::vector<size_t>{1, 1});
  CHECK(x.time_s == Approx(2.0).epsilon(1e-12));
}

TEST_CASE("governor: the offline optimum equals brute force on random small problems", "[governor]") {
  std::mt19937_64 rng(20261121);
  int feasible = 0, beaten_fixed = 0;
  for (int n = 0; n < 300; ++n) {
    const size_t L = 1 + rng() % 6, P = 1 + rng() % 4;
    const GovernorProblem p = random_problem(rng, L, P);
    const Schedule o = offline_optimum(p), b = brute_force(p);
    INFO("problem " << n << ": " << L << " layers, " << P << " points, deadline " << p.deadline_s);
    REQUIRE(o.meets == b.meets);
    if (b.meets) {
      ++feasible;
      CHECK(o.energy_j == Approx(b.energy_j).epsilon(1e-12));
      CHECK(o.time_s <= p.deadline_s);
      // never worse than any fixed point that meets the deadline, nor race-to-idle
      for (size_t q = 0; q < P; ++q) {
        const Schedule f = fixed_point(p, q);
        if (f.meets) CHECK(o.energy_j <= f.energy_j * (1 + 1e-12));
        if (f.meets && o.energy_j < f.energy_j * (1 - 1e-9)) ++beaten_fixed;
      }
      const Schedule r = race_to_idle(p);
      if (r.meets) CHECK(o.energy_j <= r.energy_j * (1 + 1e-12));
    } else {
      CHECK(o.time_s == Approx(b.time_s).epsilon(1e-12));
    }
  }
  // the generator is not degenerate: most problems are feasible and the
  // optimum often beats every fixed point
  CHECK(feasible > 150);
  CHECK(beaten_fixed > 100);
}

TEST_CASE("governor: the online governor meets every deadline the fastest point meets (exact predictor, free "
          "switches)",
          "[governor]") {
  std::mt19937_64 rng(7);
  int checked = 0, saved = 0;
  for (int n = 0; n < 300; ++n) {
    const size_t L = 1 + rng() % 12, P = 2 + rng() % 4;
    GovernorProblem p = random_problem(rng, L, P);
    p.switch_cost = nullptr;  // free switches
    const Schedule top = fixed_point(p, P - 1);
    if (!top.meets) continue;
    ++checked;
    const Schedule on = online_governor(p, p.layers);
    INFO("problem " << n);
    CHECK(on.meets);
    CHECK(on.energy_j >= offline_optimum(p).energy_j * (1 - 1e-12));  // the optimum is a lower bound
    saved += on.energy_j < top.energy_j * (1 - 1e-9);
  }
  CHECK(checked > 100);
  CHECK(saved > checked / 2);
}

TEST_CASE("governor: the online predictor corrects a profile that is uniformly off", "[governor]") {
  // every layer really takes 1.5x its profile at every point: after the first
  // layers the predictor has learnt the ratio and the schedule still meets
  // the deadline (the profile alone would pick points too slow)
  GovernorProblem p;
  std::vector<LayerCost> pred;
  for (int i = 0; i < 16; ++i) {
    pred.push_back({{4.0, 2.0, 1.0}, {1.0, 2.0, 4.0}});
    p.layers.push_back({{6.0, 3.0, 1.5}, {1.0, 2.0, 4.0}});
  }
  p.idle_power_w = {0.0, 0.0, 0.0};
  p.initial = 2;
  p.deadline_s = 16 * 3.0;  // all at the middle point, in reality
  const Schedule on = online_governor(p, pred);
  CHECK(on.meets);
  CHECK(on.time_s <= p.deadline_s);
  CHECK(on.energy_j < fixed_point(p, 2).energy_j);
}

TEST_CASE("governor: an inconsistent problem is one clear error", "[governor]") {
  GovernorProblem p = two_points(2, 3.0);
  p.layers[1].time_s.pop_back();
  CHECK(test::error_of([&] { offline_optimum(p); }) ==
        "governor: layer 1 has 1 times and 2 energies, expected 2 (one per point)");
  p = two_points(2, 3.0);
  p.initial = 2;
  CHECK(test::error_of([&] { race_to_idle(p); }) == "governor: initial point 2, expected 0..1");
  p = two_points(2, 0.0);
  CHECK(test::error_of([&] { fixed_point(p, 0); }) == "governor: deadline must be > 0 s");
  p = two_points(2, 3.0);
  CHECK(test::error_of([&] { evaluate(p, {0, 5}, 0); }) == "governor: layer 1 at point 5, expected 0..1");
  CHECK(test::error_of([&] { brute_force(two_points(30, 100.0)); }).find("too many") != std::string::npos);
}

TEST_CASE("governor: the online governor step by step decides as online_governor does", "[governor]") {
  std::mt19937_64 rng(11);
  for (int n = 0; n < 50; ++n) {
    const size_t L = 1 + rng() % 10, P = 2 + rng() % 3;
    GovernorProblem p = random_problem(rng, L, P);
    const Schedule on = online_governor(p, p.layers);
    OnlineGovernor g(p, p.layers);
    double now = 0;  // layer i decided when layer i - 1 begins
    for (size_t i = 0; i < L; ++i) {
      if (i >= 2) {
        const size_t a = i >= 3 ? g.points()[i - 3] : p.initial, q = g.points()[i - 2];
        now += p.switch_before(i - 2, a, q).time_s + p.layers[i - 2].time_s[q];
      }
      CHECK(g.decide(i, now) == on.point[i]);
    }
  }
  GovernorProblem p = two_points(3, 10.0);
  OnlineGovernor g(p, p.layers);
  CHECK(test::error_of([&] { g.decide(1, 0.0); }) == "governor: layer 1 decided after 0 of 3 layers");
}

TEST_CASE("governor: per-layer switch costs: the offline optimum still equals brute force", "[governor]") {
  std::mt19937_64 rng(5);
  int checked = 0;
  for (int n = 0; n < 150; ++n) {
    const size_t L = 1 + rng() % 6, P = 2 + rng() % 3;
    GovernorProblem p = random_problem(rng, L, P);
    std::vector<double> extra(L * P);
    for (double& x : extra) x = double(rng() % 1000) / 1000.0 * 0.3;
    p.layer_switch_cost = [extra, P](size_t i, size_t, size_t b) { return SwitchCost{extra[i * P + b], extra[i * P + b]}; };
    const Schedule bf = brute_force(p), off = offline_optimum(p);
    INFO("problem " << n);
    CHECK(off.meets == bf.meets);
    if (!bf.meets) continue;
    ++checked;
    CHECK(off.energy_j == Approx(bf.energy_j).epsilon(1e-12));
    CHECK(off.time_s <= p.deadline_s);
  }
  CHECK(checked > 50);
}
