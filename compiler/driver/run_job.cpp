#include "driver/run_job.h"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <memory>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ostream>

#include "common/error.h"
#include "common/strf.h"
#include "golden/golden_model.h"
#include "lower/prefill_program.h"
#include "power_models/energy_model.h"
#include "sim/run.h"
#include "sim/stats.h"

namespace clonesim::compiler {

using json = nlohmann::json;
using ull = unsigned long long;

namespace {

void write_all(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    const ssize_t n = ::write(fd, s.data() + off, s.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    off += size_t(n);
  }
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Sum over units whose name starts with `prefix` of busy_ps, and their count.
std::pair<double, unsigned> busy_of(const json& stats, const std::string& prefix) {
  double busy = 0;
  unsigned n = 0;
  for (const json& u : stats.at("units"))
    if (u.at("name").get<std::string>().rfind(prefix, 0) == 0) {
      busy += u.at("busy_ps").get<double>();
      ++n;
    }
  return {busy, n};
}

std::vector<int32_t> int32s(const std::vector<uint8_t>& b) {
  std::vector<int32_t> v(b.size() / 4);
  for (size_t i = 0; i < v.size(); ++i)
    v[i] = int32_t(uint32_t(b[4 * i]) | uint32_t(b[4 * i + 1]) << 8 | uint32_t(b[4 * i + 2]) << 16 |
                   uint32_t(b[4 * i + 3]) << 24);
  return v;
}

// The greedy choice: the first largest logit.
int64_t argmax(const std::vector<int32_t>& v) {
  return int64_t(std::max_element(v.begin(), v.end()) - v.begin());
}


void check_logits(const std::string& what, const std::vector<int32_t>& got, const std::vector<int32_t>& want) {
  for (size_t k = 0; k < want.size(); ++k)
    if (got.at(k) != want[k])
      throw Error(what + strf(": logit %zu is %d on the simulator, %d in the golden interpreter", k, got[k], want[k]));
}

// dumps[1 + 2l], dumps[2 + 2l]: layer l's K and V regions after the run.
void check_kv(const std::string& what, const hw::HwConfig& hw, const std::vector<DecodeLayerMap>& layers,
              const golden::GoldenModel& g, uint64_t positions, const std::vector<std::vector<uint8_t>>& dumps) {
  for (size_t l = 0; l < layers.size(); ++l) {
    const std::vector<DramChunk> kv = kv_cache_image(hw, layers, l, g.k_cache(l), g.v_cache(l), positions);
    for (size_t c = 0; c < 2; ++c)
      if (dumps.at(1 + 2 * l + c) != kv[c].bytes)
        throw Error(what + ": " + kv[c].name + " differs from the golden interpreter's");
  }
}

// The technology file of a node (parsed once per node; nullptr when none is
// shipped): what the energy of runs is priced with.
const power::Tech* tech_for(uint32_t nm) {
  static std::map<uint32_t, std::unique_ptr<power::Tech>> cache;
  auto it = cache.find(nm);
  if (it == cache.end()) {
    std::unique_ptr<power::Tech> t;
    try {
      t = std::make_unique<power::Tech>(power::load_tech_or_named(power::default_tech_name(nm)));
    } catch (const Error&) {
    }
    it = cache.emplace(nm, std::move(t)).first;
  }
  return it->second.get();
}

// A program under the run's governor, or as it is when there is none.
struct Governed {
  std::unique_ptr<GovernedProgram> gp;
  const hw::HwConfig& hw(const hw::HwConfig& h) const { return gp ? gp->hw : h; }
  const isa::Program& program(const isa::Program& p) const { return gp ? gp->program : p; }
  const sim::Options& opt(const sim::Options& o) const { return gp ? gp->opt : o; }
  void annotate(json& s, const RunOptions& ro) const {
    if (gp) s["governor"] = governed_phase_json(*gp, ro.governor, s);
  }
};

Governed governed(const hw::HwConfig& hw, const isa::Program& p, const sim::Options& so, const RunOptions& ro,
                  double target_s, const std::string& tag, const std::string& what) {
  Governed g;
  if (ro.governor.kind == GovernorKind::None) return g;
  const auto t0 = std::chrono::steady_clock::now();
  g.gp = std::make_unique<GovernedProgram>(govern(hw, p, so, ro.governor, target_s, what));
  if (ro.progress)
    *ro.progress << strf("%s governor %s: profiled %zu %s points in %.2f s; target %.3f ms, planned %.3f ms\n",
                         tag.c_str(), to_string(ro.governor.kind), g.gp->profile->free.size(),
                         hw::to_string(ro.governor.domain), seconds_since(t0), g.gp->target_s * 1e3,
                         g.gp->plan.time_s * 1e3)
                 << std::flush;
  return g;
}

// The run's governor summary from its phases' "governor" objects.
json governor_summary(const std::vector<json>& phases, const GovernorOptions& g) {
  json j;
  j["name"] = to_string(g.kind);
  j["domain"] = hw::to_string(g.domain);
  j["slack"] = g.slack;
  double w = 0, wc = 0, tw = 0, twc = 0, tpot_target = 0;
  unsigned met = 0, decode = 0, decode_met = 0;
  for (const json& p : phases) {
    const json& gv = p.at("governor");
    w += gv.at("window_energy_j").get<double>();
    wc += gv.at("window_chip_energy_j").get<double>();
    tw += gv.at("top_window_energy_j").get<double>();
    twc += gv.at("top_window_chip_energy_j").get<double>();
    const bool m = gv.at("met").get<bool>();
    met += m;
    if (p.at("phase") == "prefill") {
      j["ttft_target_s"] = gv.at("target_s");
      j["ttft_met"] = m;
    } else {
      ++decode;
      decode_met += m;
      tpot_target += gv.at("target_s").get<double>();
    }
  }
  if (decode) {
    j["tpot_target_s"] = tpot_target / decode;  // the mean of the steps' targets
    j["decode_steps_met"] = decode_met;
  }
  j["phases_met"] = met;
  j["all_met"] = met == phases.size();
  j["window_energy_j"] = w;
  j["window_chip_energy_j"] = wc;
  j["top_window_energy_j"] = tw;
  j["top_window_chip_energy_j"] = twc;
  j["saved"] = tw > 0 ? 1 - w / tw : 0.0;
  j["chip_saved"] = twc > 0 ? 1 - wc / twc : 0.0;
  return j;
}

}  // namespace

ChildRun simulate_in_child(const hw::HwConfig& hw, const isa::Program& program, const std::vector<DramChunk>& image,
                           const sim::Options& opt, const std::string& what,
                           const std::vector<std::pair<uint64_t, uint64_t>>& dumps) {
  uint64_t dump_bytes = 0;
  for (const auto& d : dumps) dump_bytes += d.second;
  if (dump_bytes && opt.mode != sim::Mode::Functional) throw Error(what + ": DRAM read-back needs functional mode");
  int fds[2];
  if (::pipe(fds) != 0) throw Error(what + ": cannot create a pipe: " + std::strerror(errno));
  const power::Tech* tech = tech_for(hw.technology_nm);  // in the parent: parsed once per node, not per program
  const std::unique_ptr<power::AreaBreakdown> area =
      tech ? std::make_unique<power::AreaBreakdown>(power::area_model(hw, *tech)) : nullptr;
  std::fflush(nullptr);  // the child must not repeat what the parent has buffered
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    throw Error(what + ": cannot start the simulation process: " + std::strerror(errno));
  }
  if (pid == 0) {  // the child: one SystemC kernel, the statistics back as JSON
    ::close(fds[0]);
    int rc = 0;
    try {
      sim::run_program(
          hw, program, opt,
          [&](sim::Accelerator& acc) {
            if (opt.mode == sim::Mode::Functional)
              for (const DramChunk& c : image) acc.dram().write(c.addr, c.bytes.data(), c.bytes.size());
          },
          [&](const sim::Accelerator& acc) {
            // 'J', the JSON's length (8 bytes, little-endian), the JSON, then the dumps back to back
            nlohmann::json sj = sim::to_json(acc.stats(), hw);
            // the energy with the design point's node's technology file (none shipped: no energy)
            if (tech) {
              const sim::Stats& st = acc.stats();
              sj["energy"] = power::energy_json(power::energy_report(st, hw, *tech, *area));
              if (!st.regions.empty()) sj["regions"] = power::regions_json(st, hw, *tech, *area);
              if (!st.samples.empty()) sj["power"] = power::power_json(st, hw, *tech, *area);
            }
            if (!acc.dvfs_changes().empty()) {
              nlohmann::json ch = nlohmann::json::array();
              for (const sim::DvfsChange& c : acc.dvfs_changes()) {
                const hw::OperatingPoint& op = hw.domain(c.domain).points.at(c.point);
                ch.push_back({{"domain", hw::to_string(c.domain)},
                              {"point", c.point},
                              {"mhz", op.mhz},
                              {"volts", op.volts},
                              {"start_s", double(c.start_ps) * 1e-12},
                              {"end_s", double(c.end_ps) * 1e-12},
                              {"by", c.by_governor ? "governor" : "instruction"}});
              }
              sj["dvfs_changes"] = ch;
            }
            const std::string js = sj.dump();
            std::string msg = "J";
            for (int k = 0; k < 8; ++k) msg += char(uint64_t(js.size()) >> (8 * k));
            msg += js;
            for (const auto& [addr, n] : dumps) {
              std::string b(n, '\0');
              acc.dram().read(addr, reinterpret_cast<uint8_t*>(b.data()), n);
              msg += b;
            }
            write_all(fds[1], msg);
          });
    } catch (const std::exception& e) {
      write_all(fds[1], std::string("E") + e.what());
      rc = 1;
    }
    ::close(fds[1]);
    std::fflush(nullptr);
    ::_exit(rc);
  }
  ::close(fds[1]);
  std::string out;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, size_t(n));
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFSIGNALED(status))
    throw Error(what + strf(": the simulation process died (signal %d, %s)", WTERMSIG(status),
                            strsignal(WTERMSIG(status))));
  if (!out.empty() && out[0] == 'E') throw Error(what + ": " + out.substr(1));
  uint64_t jn = 0;
  for (int k = 0; k < 8 && out.size() >= 9; ++k) jn |= uint64_t(uint8_t(out[size_t(1 + k)])) << (8 * k);
  if (out.empty() || out[0] != 'J' || !WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
      out.size() != 9 + jn + dump_bytes)
    throw Error(what + ": the simulation process ended without results");
  ChildRun r;
  r.stats = json::parse(out.begin() + 9, out.begin() + long(9 + jn));
  size_t off = size_t(9 + jn);
  for (const auto& d : dumps) {
    r.dumps.emplace_back(out.begin() + long(off), out.begin() + long(off + d.second));
    off += size_t(d.second);
  }
  return r;
}

json combine_phases(const std::vector<json>& phases, const hw::HwConfig& hw) {
  double time = 0, macs_time = 0, dram_bytes = 0, prefill = 0, decode = 0;
  double mxu_busy = 0, vxu_busy = 0, dma_busy = 0;
  unsigned n_mxu = 0, n_vxu = 0, n_dma = 0, decode_steps = 0;
  uint64_t cycles = 0, sram_r = 0, sram_w = 0, instrs = 0;
  double roof_time = 0;
  double energy = 0, prefill_e = 0, decode_e = 0, ops = 0, area = 0;
  bool have_energy = !phases.empty();
  json components = json::object();
  for (const json& p : phases) {
    const double t = p.at("time_s").get<double>();
    time += t;
    cycles += p.at("cycles").get<uint64_t>();
    instrs += p.at("instructions").get<uint64_t>();
    macs_time += p.at("mxu_util").get<double>() * t;
    const json& dt = p.at("dram").at("total");
    dram_bytes += dt.at("read_bytes").get<double>() + dt.at("write_bytes").get<double>();
    auto [mb, mn] = busy_of(p, "matrix[");
    auto [vb, vn] = busy_of(p, "vector[");
    auto [lb, ln] = busy_of(p, "load[");
    auto [sb, sn] = busy_of(p, "store[");
    mxu_busy += mb * 1e-12;
    vxu_busy += vb * 1e-12;
    dma_busy += (lb + sb) * 1e-12;
    n_mxu = mn;
    n_vxu = vn;
    n_dma = ln + sn;
    for (const json& tile : p.at("sram"))
      for (const char* space : {"scratchpad", "accumulator"}) {
        const uint64_t line = space[0] == 's' ? hw.scratchpad.line_bytes() : hw.accumulator.line_bytes();
        for (const json& b : tile.at(space)) {
          sram_r += b.at("reads").get<uint64_t>() * line;
          sram_w += b.at("writes").get<uint64_t>() * line;
        }
      }
    const std::string ph = p.at("phase").get<std::string>();
    double e = 0;
    if (p.contains("energy")) {
      const json& en = p.at("energy");
      e = en.at("energy_j").get<double>();
      ops += en.at("ops").get<double>();
      area = en.at("area_mm2").get<double>();
      for (const auto& [k, c] : en.at("components").items())
        components[k] = components.value(k, 0.0) + c.at("energy_j").get<double>();
    } else {
      have_energy = false;
    }
    energy += e;
    if (ph == "prefill") prefill_e += e;
    if (ph == "decode") decode_e += e;
    if (ph == "prefill") prefill += t;
    if (ph == "decode") {
      decode += t;
      ++decode_steps;
      roof_time += p.value("roofline_s", 0.0);
    }
  }
  json j;
  j["time_s"] = time;
  j["cycles"] = cycles;
  j["instructions"] = instrs;
  j["mxu_util"] = time > 0 ? macs_time / time : 0.0;
  j["mxu_busy"] = time > 0 && n_mxu ? mxu_busy / (time * n_mxu) : 0.0;
  j["vxu_util"] = time > 0 && n_vxu ? vxu_busy / (time * n_vxu) : 0.0;
  j["dma_util"] = time > 0 && n_dma ? dma_busy / (time * n_dma) : 0.0;
  j["dram_bytes"] = dram_bytes;
  j["dram_bw_gbps"] = time > 0 ? dram_bytes / time / 1e9 : 0.0;
  j["dram_bw_util"] = time > 0 ? dram_bytes / time / 1e9 / hw.dram.peak_gbps() : 0.0;
  j["sram_read_bytes"] = sram_r;
  j["sram_write_bytes"] = sram_w;
  j["prefill_s"] = prefill;
  j["decode_s"] = decode;
  j["decode_steps"] = decode_steps;
  j["decode_dram_roofline"] = decode > 0 ? roof_time / decode : 0.0;
  if (have_energy) {
    j["energy_j"] = energy;
    j["prefill_energy_j"] = prefill_e;
    j["decode_energy_j"] = decode_e;
    // a decode token's energy (the prefill's when there is no decode step)
    j["energy_per_token_j"] = decode_steps ? decode_e / decode_steps : prefill_e;
    j["avg_power_w"] = time > 0 ? energy / time : 0.0;
    j["area_mm2"] = area;
    j["tops_per_w"] = energy > 0 ? ops / energy / 1e12 : 0.0;
    j["energy_components_j"] = components;
  }
  return j;
}

uint64_t decode_roofline_bytes(const PreparedModel& m, uint64_t pos) {
  const int64_t stream = m.stats.weight_bytes - (m.cfg.tied_embeddings ? 0 : m.stats.embedding_bytes);
  return uint64_t(stream + m.stats.kv_bytes_per_token * int64_t(pos + 1));
}

json run_model(const PreparedModel& m, const hw::HwConfig& hw, const RunOptions& opt) {
  if (opt.gen < 1) throw Error("--gen must be at least 1 (the first token comes from the prefill)");
  if (opt.prompt < 1) throw Error("--prompt must be at least 1 token");
  if (int64_t(opt.prompt + opt.gen - 1) > m.cfg.max_positions)
    throw Error(strf("--prompt %llu + --gen %llu: %llu positions, beyond %s's max_positions %lld", (ull)opt.prompt,
                     (ull)opt.gen, (ull)(opt.prompt + opt.gen - 1), m.cfg.name.c_str(),
                     (long long)m.cfg.max_positions));
  if (opt.mode == sim::Mode::Functional && m.qm.shapes_only)
    throw Error("--mode functional needs weights (--weights random[:SEED] or a safetensors file)");
  sim::Options so;
  so.mode = opt.mode;
  so.sample_ps = uint64_t(opt.sample_us * 1e6 + 0.5);
  std::vector<json> phases;
  const double peak = hw.dram.peak_gbps() * 1e9;
  const uint64_t steps = opt.gen - 1;
  // Functional runs generate greedily and check every step against the golden
  // interpreter: the logits and the whole KV cache, bit for bit.
  const bool functional = opt.mode == sim::Mode::Functional;
  std::unique_ptr<golden::GoldenModel> g;
  const std::vector<int64_t> tokens = golden::calibration_tokens(m.cfg, kPromptSeed, int64_t(opt.prompt));
  if (functional) g = std::make_unique<golden::GoldenModel>(m.qm);
  int64_t next = 0;
  {  // the prefill: the prompt at positions 0..N-1, and the first generated token
    const std::string what = strf("prefill of %llu tokens", (ull)opt.prompt);
    if (opt.progress) *opt.progress << "[prefill] " << what << ": compiling\n" << std::flush;
    const auto t0 = std::chrono::steady_clock::now();
    PrefillOptions po;
    po.listing = false;  // run writes no listing
    const PrefillProgram pf = build_prefill_program(m.qm, hw, tokens, po);
    const double tc = seconds_since(t0);
    if (opt.progress)
      *opt.progress << strf("[prefill] %zu instructions in %.2f s; simulating\n", pf.program.code.size(), tc)
                    << std::flush;
    std::vector<std::pair<uint64_t, uint64_t>> dumps;
    if (functional) {
      dumps.push_back({pf.logits, 4 * uint64_t(m.cfg.vocab)});
      for (const DecodeLayerMap& l : pf.layers) {
        dumps.push_back({l.k_cache, k_cache_bytes(l.attn)});
        dumps.push_back({l.v_cache, v_cache_bytes(l.attn)});
      }
    }
    const Governed gv = governed(hw, pf.program, so, opt, opt.governor.ttft_target_s, "[prefill]", what);
    ChildRun cr = simulate_in_child(gv.hw(hw), gv.program(pf.program), pf.image, gv.opt(so), what, dumps);
    json s = std::move(cr.stats);
    gv.annotate(s, opt);
    if (functional) {
      const std::vector<int32_t> got = int32s(cr.dumps[0]);
      check_logits(what, got, g->prefill(tokens));
      check_kv(what, hw, pf.layers, *g, opt.prompt, cr.dumps);
      next = argmax(got);
      s["token_out"] = next;
      s["golden_check"] = "bit-exact";
    }
    s["phase"] = "prefill";
    s["tokens"] = opt.prompt;
    s["compile_wall_s"] = tc;
    s["sim_wall_s"] = seconds_since(t0) - tc;
    if (opt.progress)
      *opt.progress << strf("[prefill] %llu tokens: %.3f ms simulated, MXU %.1f%%; simulate %.2f s%s\n",
                            (ull)opt.prompt, s["time_s"].get<double>() * 1e3, 100.0 * s["mxu_util"].get<double>(),
                            s["sim_wall_s"].get<double>(), functional ? "; bit-exact against the golden model" : "")
                    << std::flush;
    phases.push_back(std::move(s));
  }
  // One decode program serves every position with as many KV blocks: it is
  // compiled again only when the position leaves its range.
  std::unique_ptr<DecodeProgram> dp;
  for (uint64_t i = 0; i < steps; ++i) {
    const uint64_t pos = opt.prompt + i;
    const auto t0 = std::chrono::steady_clock::now();
    const bool compile = !dp || pos < dp->first_pos || pos > dp->last_pos;
    if (compile) dp = std::make_unique<DecodeProgram>(build_decode_program(m.qm, hw, pos));
    const DecodeProgram& d = *dp;
    const double tc = seconds_since(t0);
    so.ctx = decode_context(d, pos, next);
    const std::string what = strf("decode step at position %llu", (ull)pos);
    std::vector<DramChunk> with_kv;  // functional: the image and the golden KV cache so far
    std::vector<std::pair<uint64_t, uint64_t>> dumps;
    if (functional) {
      with_kv = d.image;
      for (size_t l = 0; l < d.layers.size(); ++l)
        for (DramChunk& c : kv_cache_image(hw, d, l, g->k_cache(l), g->v_cache(l), pos)) with_kv.push_back(std::move(c));
      dumps.push_back({d.logits.at(0), 4 * uint64_t(m.cfg.vocab)});
      for (size_t l = 0; l < d.layers.size(); ++l) {
        dumps.push_back({d.layers[l].k_cache, k_cache_bytes(d.layers[l].attn)});
        dumps.push_back({d.layers[l].v_cache, v_cache_bytes(d.layers[l].attn)});
      }
    }
    const std::string tag = strf("[decode %llu/%llu]", (ull)(i + 1), (ull)steps);
    const Governed gv = governed(hw, d.program, so, opt, opt.governor.tpot_target_s, tag, what);
    ChildRun cr = simulate_in_child(gv.hw(hw), gv.program(d.program), functional ? with_kv : d.image, gv.opt(so),
                                    what, dumps);
    json s = std::move(cr.stats);
    gv.annotate(s, opt);
    if (functional) {
      const std::vector<int32_t> got = int32s(cr.dumps[0]);
      check_logits(what, got, g->decode(next));
      check_kv(what, hw, d.layers, *g, pos + 1, cr.dumps);
      s["token_in"] = next;
      next = argmax(got);
      s["token_out"] = next;
      s["golden_check"] = "bit-exact";
    }
    s["phase"] = "decode";
    s["position"] = pos;
    s["roofline_s"] = double(decode_roofline_bytes(m, pos)) / peak;
    s["compile_wall_s"] = tc;
    s["program_positions"] = {d.first_pos, d.last_pos};
    s["sim_wall_s"] = seconds_since(t0) - tc;
    if (opt.progress)
      *opt.progress << strf("[decode %llu/%llu] position %llu: %.3f ms simulated (%.1f%% of the DRAM roofline); "
                            "%s, simulate %.2f s%s\n",
                            (ull)(i + 1), (ull)steps, (ull)pos, s["time_s"].get<double>() * 1e3,
                            100.0 * s["roofline_s"].get<double>() / s["time_s"].get<double>(),
                            compile ? strf("compile %.2f s (positions %llu..%llu)", tc, (ull)d.first_pos,
                                           (ull)d.last_pos).c_str()
                                    : "program reused",
                            s["sim_wall_s"].get<double>(), functional ? "; bit-exact against the golden model" : "")
                    << std::flush;
    phases.push_back(std::move(s));
  }
  json j = combine_phases(phases, hw);
  if (opt.governor.kind != GovernorKind::None) j["governor"] = governor_summary(phases, opt.governor);
  for (json& p : phases)
    for (const char* k : {"sram", "domains"}) p.erase(k);  // in the totals; per bank they would swamp the report
  j["model"] = model_json(m);
  j["design_point"] = hw.name;
  j["mode"] = opt.mode == sim::Mode::Timing ? "timing" : "functional";
  j["prompt"] = opt.prompt;
  if (functional)
    j["golden_check"] = strf("bit-exact: logits and KV cache of the prefill and %llu decode step(s)", (ull)steps);
  j["gen"] = opt.gen;
  const double tpot = steps ? j["decode_s"].get<double>() / double(steps) : 0.0;
  const double ttft = j["prefill_s"].get<double>();
  j["ttft_s"] = ttft;
  j["tpot_s"] = tpot;
  j["tokens_per_s"] = ttft + tpot * double(steps) > 0 ? double(opt.gen) / (ttft + tpot * double(steps)) : 0.0;
  j["decode_tokens_per_s"] = tpot > 0 ? 1.0 / tpot : 0.0;
  j["phases"] = phases;
  return j;
}

std::string run_summary(const json& r) {
  std::string o;
  o += strf("run          %s on %s, prompt %llu, gen %llu (%s)\n", r["model"]["name"].get<std::string>().c_str(),
            r["design_point"].get<std::string>().c_str(), r["prompt"].get<ull>(), r["gen"].get<ull>(),
            r["mode"].get<std::string>().c_str());
  o += strf("TTFT         %.3f ms\n", r["ttft_s"].get<double>() * 1e3);
  o += strf("TPOT         %.3f ms  (%.1f tokens/s in decode, %.1f%% of the DRAM roofline)\n",
            r["tpot_s"].get<double>() * 1e3, r["decode_tokens_per_s"].get<double>(),
            100.0 * r["decode_dram_roofline"].get<double>());
  o += strf("tokens/s     %.2f (prompt and generation, end to end)\n", r["tokens_per_s"].get<double>());
  o += strf("cycles       %llu (%.3f ms simulated, %llu instructions)\n", r["cycles"].get<ull>(),
            r["time_s"].get<double>() * 1e3, r["instructions"].get<ull>());
  o += strf("utilisation  MXU %.1f%% (MACs of peak), VXU %.1f%%, DMA %.1f%% (busy)\n",
            100.0 * r["mxu_util"].get<double>(), 100.0 * r["vxu_util"].get<double>(),
            100.0 * r["dma_util"].get<double>());
  o += strf("DRAM         %.3f GB moved, %.2f GB/s = %.1f%% of peak\n", r["dram_bytes"].get<double>() / 1e9,
            r["dram_bw_gbps"].get<double>(), 100.0 * r["dram_bw_util"].get<double>());
  o += strf("SRAM         %.3f GB read, %.3f GB written\n", r["sram_read_bytes"].get<double>() / 1e9,
            r["sram_write_bytes"].get<double>() / 1e9);
  if (r.contains("energy_j"))
    o += strf("energy       %.4g J (prefill %.4g J, %.4g J per decode token), %.3f W average, %.3f TOPS/W, "
              "%.3f mm2\n",
              r["energy_j"].get<double>(), r["prefill_energy_j"].get<double>(), r["energy_per_token_j"].get<double>(),
              r["avg_power_w"].get<double>(), r["tops_per_w"].get<double>(), r["area_mm2"].get<double>());
  if (r.contains("governor")) {
    const json& g = r["governor"];
    std::string targets;
    if (g.contains("ttft_target_s"))
      targets += strf("TTFT target %.3f ms %s", g["ttft_target_s"].get<double>() * 1e3,
                      g["ttft_met"].get<bool>() ? "met" : "MISSED");
    if (g.contains("tpot_target_s"))
      targets += strf("%sTPOT target %.3f ms met in %u of %llu steps", targets.empty() ? "" : ", ",
                      g["tpot_target_s"].get<double>() * 1e3, g["decode_steps_met"].get<unsigned>(),
                      r["decode_steps"].get<ull>());
    o += strf("governor     %s on the %s domain (targets %.2f x the top point's time unless given): %s\n",
              g["name"].get<std::string>().c_str(), g["domain"].get<std::string>().c_str(),
              g["slack"].get<double>(), targets.c_str());
    o += strf("             over the target windows: accelerator %.4g J (%.4g J at the top point, %+.1f%%), "
              "with DRAM %.4g J (%.4g J, %+.1f%%)\n",
              g["window_chip_energy_j"].get<double>(), g["top_window_chip_energy_j"].get<double>(),
              -100.0 * g["chip_saved"].get<double>(), g["window_energy_j"].get<double>(),
              g["top_window_energy_j"].get<double>(), -100.0 * g["saved"].get<double>());
  }
  return o;
}

}  // namespace clonesim::compiler
