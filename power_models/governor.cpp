#include "power_models/governor.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "common/error.h"
#include "common/strf.h"

namespace clonesim::power {

namespace {

using ull = unsigned long long;

SwitchCost sw(const GovernorProblem& p, size_t a, size_t b) {
  if (a == b) return {};
  return p.switch_cost ? p.switch_cost(a, b) : SwitchCost{};
}

SwitchCost sw(const GovernorProblem& p, size_t layer, size_t a, size_t b) { return p.switch_before(layer, a, b); }

size_t fastest(const GovernorProblem& p) { return p.points() - 1; }

size_t least_idle(const GovernorProblem& p) {
  return size_t(std::min_element(p.idle_power_w.begin(), p.idle_power_w.end()) - p.idle_power_w.begin());
}

// The idle tail after a phase that ends at `t` at point `last`, idling at
// `q`: its energy, or infinity when the switch to q does not fit.
double tail(const GovernorProblem& p, double t, size_t last, size_t q) {
  const double slack = p.deadline_s - t;
  if (slack <= 0) return q == last ? 0.0 : std::numeric_limits<double>::infinity();
  const SwitchCost s = sw(p, last, q);
  if (s.time_s > slack) return std::numeric_limits<double>::infinity();
  return s.energy_j + p.idle_power_w[q] * (slack - s.time_s);
}

}  // namespace

SwitchCost GovernorProblem::switch_before(size_t layer, size_t a, size_t b) const {
  if (a == b) return {};
  if (layer_switch_cost) return layer_switch_cost(layer, a, b);
  return switch_cost ? switch_cost(a, b) : SwitchCost{};
}

void check_problem(const GovernorProblem& p) {
  const size_t P = p.points();
  if (P == 0) throw Error("governor: no operating points (idle_power_w is empty)");
  if (p.initial >= P) throw Error(strf("governor: initial point %zu, expected 0..%zu", p.initial, P - 1));
  if (!(p.deadline_s > 0)) throw Error("governor: deadline must be > 0 s");
  for (size_t q = 0; q < P; ++q)
    if (!(p.idle_power_w[q] >= 0)) throw Error(strf("governor: idle power of point %zu must be >= 0", q));
  for (size_t i = 0; i < p.layers.size(); ++i) {
    const LayerCost& l = p.layers[i];
    if (l.time_s.size() != P || l.energy_j.size() != P)
      throw Error(strf("governor: layer %zu has %zu times and %zu energies, expected %zu (one per point)", i,
                       l.time_s.size(), l.energy_j.size(), P));
    for (size_t q = 0; q < P; ++q)
      if (!(l.time_s[q] >= 0) || !(l.energy_j[q] >= 0))
        throw Error(strf("governor: layer %zu at point %zu: time and energy must be >= 0", i, q));
  }
  for (size_t a = 0; a < P; ++a)
    for (size_t b = 0; b < P; ++b) {
      const SwitchCost s = sw(p, a, b);
      if (!(s.time_s >= 0) || !(s.energy_j >= 0))
        throw Error(strf("governor: switch %zu -> %zu: time and energy must be >= 0", a, b));
      if (p.layer_switch_cost)
        for (size_t i = 0; i < p.layers.size(); ++i) {
          const SwitchCost c = sw(p, i, a, b);
          if (!(c.time_s >= 0) || !(c.energy_j >= 0))
            throw Error(strf("governor: switch %zu -> %zu before layer %zu: time and energy must be >= 0", a, b, i));
        }
    }
}

Schedule evaluate(const GovernorProblem& p, const std::vector<size_t>& point, size_t idle_point,
                  const std::string& governor) {
  check_problem(p);
  if (point.size() != p.layers.size())
    throw Error(strf("governor: %zu points for %zu layers", point.size(), p.layers.size()));
  Schedule s;
  s.governor = governor;
  s.point = point;
  size_t cur = p.initial;
  for (size_t i = 0; i < point.size(); ++i) {
    const size_t q = point[i];
    if (q >= p.points()) throw Error(strf("governor: layer %zu at point %zu, expected 0..%zu", i, q, p.points() - 1));
    if (q != cur) {
      const SwitchCost c = sw(p, i, cur, q);
      s.time_s += c.time_s;
      s.energy_j += c.energy_j;
      ++s.switches;
    }
    s.time_s += p.layers[i].time_s[q];
    s.energy_j += p.layers[i].energy_j[q];
    cur = q;
  }
  // idle at idle_point if the switch fits, else where the last layer ran
  double e = tail(p, s.time_s, cur, idle_point);
  s.idle_point = idle_point;
  if (std::isinf(e)) {
    e = tail(p, s.time_s, cur, cur);
    s.idle_point = cur;
  } else if (idle_point != cur) {
    ++s.switches;
  }
  s.energy_j += e;
  s.meets = s.time_s <= p.deadline_s;
  return s;
}

Schedule fixed_point(const GovernorProblem& p, size_t q) {
  check_problem(p);
  if (q >= p.points()) throw Error(strf("governor: point %zu, expected 0..%zu", q, p.points() - 1));
  return evaluate(p, std::vector<size_t>(p.layers.size(), q), q, strf("fixed point %zu", q));
}

Schedule race_to_idle(const GovernorProblem& p) {
  check_problem(p);
  return evaluate(p, std::vector<size_t>(p.layers.size(), fastest(p)), least_idle(p), "race-to-idle");
}

Schedule offline_optimum(const GovernorProblem& p) {
  check_problem(p);
  const size_t P = p.points(), L = p.layers.size();
  const double pmax = *std::max_element(p.idle_power_w.begin(), p.idle_power_w.end());
  // A state: the phase so far ends at point q at time t with energy e.
  // State 1 dominates state 2 (same point) when t1 <= t2 and
  // e1 + pmax (t2 - t1) <= e2: whatever follows costs both the same, and
  // the longer idle tail of state 1 costs at most pmax (t2 - t1) more.
  struct State {
    double t, e;
    size_t parent;  // index in the previous layer's state list
    size_t q;
  };
  std::vector<std::vector<State>> layers;  // per layer, every kept state (all points)
  std::vector<State> prev{{0.0, 0.0, 0, p.initial}};
  for (size_t i = 0; i < L; ++i) {
    std::vector<std::vector<State>> by_point(P);
    for (size_t k = 0; k < prev.size(); ++k) {
      const State& s = prev[k];
      for (size_t q = 0; q < P; ++q) {
        const SwitchCost c = sw(p, i, s.q, q);
        const double t = s.t + c.time_s + p.layers[i].time_s[q];
        if (t > p.deadline_s) continue;
        by_point[q].push_back({t, s.e + c.energy_j + p.layers[i].energy_j[q], k, q});
      }
    }
    std::vector<State> next;
    for (auto& v : by_point) {
      std::sort(v.begin(), v.end(), [](const State& a, const State& b) { return a.t < b.t || (a.t == b.t && a.e < b.e); });
      double best = std::numeric_limits<double>::infinity();  // least e - pmax t kept so far
      for (const State& s : v) {
        const double a = s.e - pmax * s.t;
        if (a < best) {
          best = a;
          next.push_back(s);
        }
      }
    }
    if (next.empty()) {
      // no schedule meets the deadline: the fastest one (a time-only search)
      std::vector<double> tq(P, std::numeric_limits<double>::infinity());
      std::vector<std::vector<size_t>> path(P);
      tq[p.initial] = 0;
      for (size_t j = 0; j < L; ++j) {
        std::vector<double> nt(P, std::numeric_limits<double>::infinity());
        std::vector<std::vector<size_t>> np(P);
        for (size_t a = 0; a < P; ++a)
          if (!std::isinf(tq[a]))
            for (size_t b = 0; b < P; ++b) {
              const double t = tq[a] + sw(p, j, a, b).time_s + p.layers[j].time_s[b];
              if (t < nt[b]) {
                nt[b] = t;
                np[b] = path[a];
                np[b].push_back(b);
              }
            }
        tq = nt;
        path = np;
      }
      const size_t b = size_t(std::min_element(tq.begin(), tq.end()) - tq.begin());
      Schedule s = evaluate(p, path[b], b, "offline optimum");
      return s;
    }
    layers.push_back(std::move(prev));
    prev = std::move(next);
  }
  layers.push_back(prev);
  // the idle tail: the best (state, idle point)
  double best = std::numeric_limits<double>::infinity();
  size_t bk = 0, bq = 0;
  for (size_t k = 0; k < prev.size(); ++k)
    for (size_t q = 0; q < P; ++q) {
      const double e = prev[k].e + tail(p, prev[k].t, prev[k].q, q);
      if (e < best) {
        best = e;
        bk = k;
        bq = q;
      }
    }
  std::vector<size_t> point(L);
  size_t k = bk;
  for (size_t i = L; i-- > 0;) {
    const State& s = layers[i + 1][k];
    point[i] = s.q;
    k = s.parent;
  }
  return evaluate(p, point, bq, "offline optimum");
}

Schedule brute_force(const GovernorProblem& p) {
  check_problem(p);
  const size_t P = p.points(), L = p.layers.size();
  double n = std::pow(double(P), double(L)) * double(P);
  if (n > double(1u << 22)) throw Error(strf("governor: brute force over %.3g schedules: too many", n));
  std::vector<size_t> point(L, 0);
  Schedule best;
  bool have = false;
  for (;;) {
    for (size_t q = 0; q < P; ++q) {
      const Schedule s = evaluate(p, point, q, "brute force");
      const bool better = !have || (s.meets && !best.meets) ||
                          (s.meets == best.meets && (s.meets ? s.energy_j < best.energy_j : s.time_s < best.time_s));
      if (better) {
        best = s;
        have = true;
      }
    }
    size_t i = 0;
    while (i < L && ++point[i] == P) point[i++] = 0;
    if (i == L) break;
  }
  return best;
}

OnlineGovernor::OnlineGovernor(const GovernorProblem& p, std::vector<LayerCost> predicted)
    : p_(p), pred_(std::move(predicted)) {
  const size_t P = p.points();
  if (P == 0 || p.initial >= P) throw Error("governor: no operating points, or the initial point out of range");
  for (size_t i = 0; i < pred_.size(); ++i)
    if (pred_[i].time_s.size() != P || pred_[i].energy_j.size() != P)
      throw Error(strf("governor: predicted layer %zu has no cost per point", i));
}

size_t OnlineGovernor::decide(size_t i, double now_s) {
  const size_t P = p_.points(), L = pred_.size(), top = P - 1;
  if (i != point_.size() || i >= L)
    throw Error(strf("governor: layer %zu decided after %zu of %zu layers", i, point_.size(), L));
  auto prev = [&](size_t j) { return j ? point_[j - 1] : p_.initial; };
  // the predictor: actual over predicted time of layers 0..i-2 (switches included)
  double done_pred = 0;
  for (size_t j = 0; j + 1 < i; ++j) done_pred += p_.switch_before(j, prev(j), point_[j]).time_s + pred_[j].time_s[point_[j]];
  const double ratio = i >= 2 && done_pred > 0 && now_s > 0 ? now_s / done_pred : 1.0;
  auto pt = [&](size_t j, size_t q) { return pred_[j].time_s[q] * ratio; };
  double left = p_.deadline_s - now_s;
  size_t from = p_.initial;
  if (i > 0) {
    // layer i - 1 is running (its switch made)
    left -= p_.switch_before(i - 1, prev(i - 1), point_[i - 1]).time_s + pt(i - 1, point_[i - 1]);
    from = point_[i - 1];
  }
  double rest_top = 0;
  for (size_t j = i; j < L; ++j) rest_top += pt(j, top);
  const double share = rest_top > 0 ? left * pt(i, top) / rest_top : left;
  size_t choice = top;
  double best = std::numeric_limits<double>::infinity();
  for (size_t q = 0; q < P; ++q) {
    const SwitchCost c = p_.switch_before(i, from, q);
    if (pt(i, q) + c.time_s > share) continue;
    const double e = pred_[i].energy_j[q] * ratio + c.energy_j;
    if (e < best) {
      best = e;
      choice = q;
    }
  }
  point_.push_back(choice);
  return choice;
}

Schedule online_governor(const GovernorProblem& p, const std::vector<LayerCost>& predicted) {
  check_problem(p);
  const size_t L = p.layers.size();
  if (predicted.size() != L) throw Error(strf("governor: %zu predicted layers for %zu", predicted.size(), L));
  OnlineGovernor g(p, predicted);
  double now = 0;  // when layer i - 1 begins: after layers 0..i-2, actual costs
  for (size_t i = 0; i < L; ++i) {
    if (i >= 2) {
      const size_t j = i - 2, a = j ? g.points()[j - 1] : p.initial, q = g.points()[j];
      now += p.switch_before(j, a, q).time_s + p.layers[j].time_s[q];
    }
    g.decide(i, now);
  }
  return evaluate(p, g.points(), least_idle(p), "online");
}

}  // namespace clonesim::power
