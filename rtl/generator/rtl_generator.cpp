#include "rtl/generator/rtl_generator.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "common/error.h"
#include "isa/isa.h"
#include "sim/timing.h"

namespace clonesim::rtl {

namespace fs = std::filesystem;

namespace {

unsigned clog2(uint64_t x) {
  unsigned r = 0;
  while ((uint64_t(1) << r) < x) ++r;
  return r;
}

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (char& c : s)
    if (c == '.') c = '_';
  return s;
}

void write_file(const fs::path& p, const std::string& text) {
  std::ofstream f(p, std::ios::binary);
  if (!f) throw Error(p.string() + ": cannot open for writing");
  f << text;
  if (!f) throw Error(p.string() + ": write failed");
}

}  // namespace

const std::vector<std::string>& rtl_sources() {
  static const std::vector<std::string> v = {"cs_sram_bank.sv", "cs_sram.sv", "cs_dma.sv",
                                             "cs_mxu.sv",       "cs_vxu.sv",  "cs_top.sv"};
  return v;
}

std::string check_buildable(const hw::HwConfig& hw) {
  const uint32_t lsp = hw.scratchpad.line_bytes(), lacc = hw.accumulator.line_bytes();
  auto bad = [&](const std::string& why) { return hw.source + ": the RTL cannot build this design point: " + why; };
  if (hw.mxu.rows > lsp)
    return bad("mxu.rows (" + std::to_string(hw.mxu.rows) + ") must not exceed the scratchpad line (" +
               std::to_string(lsp) + " bytes): an activation row is read in at most two lines");
  if (4 * hw.mxu.cols > lacc)
    return bad("4 * mxu.cols (" + std::to_string(4 * hw.mxu.cols) + " bytes of int32 results) must fit one accumulator line (" +
               std::to_string(lacc) + " bytes)");
  if (hw.vxu.lanes > lsp || 4 * hw.vxu.lanes > lacc)
    return bad("vxu.lanes (" + std::to_string(hw.vxu.lanes) + ") elements must fit one scratchpad line and one accumulator line");
  if (8 * hw.vxu.lanes > 2 * lacc)
    return bad("a per-channel requantisation table step (8 * vxu.lanes bytes) must fit two accumulator lines");
  if (hw.scratchpad.banks > 64 || hw.accumulator.banks > 64) return bad("at most 64 banks per SRAM");
  if (hw.dma.burst_bytes > 4096) return bad("dma.burst_bytes must be at most 4096");
  return "";
}

namespace {

std::string config_body(const hw::HwConfig& hw, const GenOptions& opt) {
  const uint32_t imem_depth = hw::imem_depth_or(hw, opt.imem_depth, "rtl generator");
  std::ostringstream o;
  const auto& sp = hw.scratchpad;
  const auto& acc = hw.accumulator;
  const uint64_t P = hw.domain(hw::Domain::Compute).points[hw.domain(hw::Domain::Compute).initial].period_ps;
  o << "  localparam int TILES = " << hw.tiles << ";\n"
    << "  localparam int MXU_R = " << hw.mxu.rows << ";\n"
    << "  localparam int MXU_C = " << hw.mxu.cols << ";\n"
    << "  localparam bit MXU_INT8 = " << (hw.mxu.supports(hw::WeightType::Int8) ? 1 : 0) << ";\n"
    << "  localparam bit MXU_INT4 = " << (hw.mxu.supports(hw::WeightType::Int4) ? 1 : 0) << ";\n"
    << "  localparam int VXU_L = " << hw.vxu.lanes << ";\n"
    << "  localparam int SFU_CYCLES = " << sim::kSfuCycles << ";\n"
    << "  localparam int SP_BANKS = " << sp.banks << ";\n"
    << "  localparam int SP_LB = " << sp.line_bytes() << ";\n"
    << "  localparam int SP_DEPTH = " << sp.depth << ";\n"
    << "  localparam int SP_PORTS = " << sp.ports << ";\n"
    << "  localparam int SP_LAW = " << std::max(1u, clog2(uint64_t(sp.banks) * sp.depth)) << ";\n"
    << "  localparam int ACC_BANKS = " << acc.banks << ";\n"
    << "  localparam int ACC_LB = " << acc.line_bytes() << ";\n"
    << "  localparam int ACC_DEPTH = " << acc.depth << ";\n"
    << "  localparam int ACC_PORTS = " << acc.ports << ";\n"
    << "  localparam int ACC_LAW = " << std::max(1u, clog2(uint64_t(acc.banks) * acc.depth)) << ";\n"
    << "  localparam int LB_MAX = " << std::max(sp.line_bytes(), acc.line_bytes()) << ";\n"
    << "  localparam int DMA_CH = " << hw.dma.channels << ";\n"
    << "  localparam int DMA_BURST = " << hw.dma.burst_bytes << ";\n"
    << "  localparam int DMA_OUT = " << hw.dma.outstanding << ";\n"
    << "  localparam int QDEPTH = " << hw.controller.queue_depth << ";\n"
    << "  localparam int SYNC = " << hw.controller.sync_cycles << ";\n"
    << "  localparam int IMEM_DEPTH = " << imem_depth << ";\n"
    << "  localparam int IMEM_AW = " << std::max(1u, clog2(imem_depth)) << ";\n"
    << "  localparam int NSEM = " << hw.tiles * 16 + 16 << ";\n"
    << "  localparam int NU = " << 1 + 2 * hw.dma.channels + 2 * hw.tiles << ";\n"
    << "  // clock period of the one RTL clock: the compute domain's initial point\n"
    << "  localparam longint PERIOD_PS = " << P << ";\n"
    << "  // per domain (0 compute, 1 memory, 2 always-on): initial point, transition cycles\n"
    << "  // (byte d of INIT_POINT, bits [64d+63:64d] of TRANS_CYCLES)\n"
    << "  localparam logic [23:0] INIT_POINT = {";
  for (int d = hw::kNumDomains - 1; d >= 0; --d) o << "8'd" << hw.domains[d].initial << (d ? ", " : "");
  o << "};\n  localparam logic [191:0] TRANS_CYCLES = {";
  for (int d = hw::kNumDomains - 1; d >= 0; --d) o << "64'd" << (hw.domains[d].transition_ps + P - 1) / P << (d ? ", " : "");
  o << "};\n";
  return o.str();
}

}  // namespace

std::string config_header(const hw::HwConfig& hw, const GenOptions& opt) {
  // the body's declarations as a parameter port list: "a;\n b;\n" -> "a,\n b\n"
  std::string list = config_body(hw, opt), out;
  size_t last = list.rfind(';');
  for (size_t i = 0; i < list.size(); ++i) out += list[i] == ';' ? (i == last ? ' ' : ',') : list[i];
  return "// Generated by clonesim rtl generate from " + hw.source + " (design point " + hw.name +
         "). Do not edit.\n// The design point's parameters: each module's parameter port list is\n"
         "//   module cs_x #(\n//   `include \"cs_cfg.svh\"\n//   ) (...);\n"
         "/* verilator lint_off UNUSEDPARAM */\n" +
         out + "/* verilator lint_on UNUSEDPARAM */\n";
}

namespace {

std::string isa_body() {
  std::ostringstream o;
  for (const auto& info : isa::all_opcodes()) {
    char buf[96];
    snprintf(buf, sizeof buf, "  localparam logic [7:0] OP_%s = 8'h%02X;\n", upper(info.mnemonic).c_str(), info.code);
    o << buf;
  }
  o << "  localparam logic [1:0] BM_NONE = 2'd0, BM_VEC = 2'd1, BM_SCALAR = 2'd2, BM_IMM = 2'd3;\n"
    << "  // header fields (word 0)\n";
  for (const auto& h : isa::header_fields()) {
    const std::string n = upper(h.name);
    o << "  localparam int FW_" << n << " = 0, FL_" << n << " = " << int(h.lsb) << ", FB_" << n << " = " << int(h.width)
      << ";\n";
  }
  o << "  // operand fields (one placement per name across all opcodes)\n";
  std::map<std::string, isa::FieldLayout> seen;
  for (const auto& info : isa::all_opcodes())
    for (const auto& f : isa::fields_of(info.op)) {
      auto it = seen.find(f.name);
      if (it != seen.end()) {
        if (it->second.word != f.word || it->second.lsb != f.lsb || it->second.width != f.width)
          throw Error(std::string("isa.h: field '") + f.name + "' has two placements; the RTL package needs one");
        continue;
      }
      seen.emplace(f.name, f);
    }
  for (const auto& kv : seen) {
    const auto& f = kv.second;
    const std::string n = upper(f.name);
    o << "  localparam int FW_" << n << " = " << int(f.word) << ", FL_" << n << " = " << int(f.lsb) << ", FB_" << n
      << " = " << int(f.width) << ";\n";
  }
  o << R"(
  // Unsigned field value (a signed field is sign-extended by its user).
  function automatic logic [63:0] fld(input logic [255:0] w, input int wi, input int lsb, input int width);
    fld = 64'(w >> (64 * wi + lsb)) & (width >= 64 ? ~64'd0 : (64'd1 << width) - 64'd1);
  endfunction
  // `w` with field (64-bit word wi, lsb, width) set to `v`.
  function automatic logic [255:0] setf(input logic [255:0] w, input int wi, input int lsb, input int width,
                                        input logic [63:0] v);
    logic [255:0] m;
    m = (width >= 64 ? {192'd0, ~64'd0} : {192'd0, (64'd1 << width) - 64'd1}) << (64 * wi + lsb);
    setf = (w & ~m) | (({192'd0, v} << (64 * wi + lsb)) & m);
  endfunction
)";
  return o.str();
}

}  // namespace

std::string isa_header() {
  return "// Generated by clonesim rtl generate from lib/isa/isa.h. Do not edit.\n"
         "// Opcodes, instruction field placements and field access, included inside each module.\n"
         "/* verilator lint_off UNUSEDPARAM */\n" +
         isa_body() + "/* verilator lint_on UNUSEDPARAM */\n";
}

std::vector<std::string> generate(const hw::HwConfig& hw, const std::string& dir, const GenOptions& opt) {
  const std::string why = check_buildable(hw);
  if (!why.empty()) throw Error(why);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw Error(dir + ": cannot create: " + ec.message());
  // the headers every module includes (not compiled on their own)
  write_file(fs::path(dir) / "cs_cfg.svh", config_header(hw, opt));
  write_file(fs::path(dir) / "cs_isa.svh", isa_header());
  std::vector<std::string> files = {"cs_cfg.svh", "cs_isa.svh"};
  const fs::path src = fs::path(CLONESIM_RTL_SRC_DIR);
  for (const auto& f : rtl_sources()) {
    std::ifstream in(src / f, std::ios::binary);
    if (!in) throw Error((src / f).string() + ": RTL source missing");
    std::stringstream ss;
    ss << in.rdbuf();
    write_file(fs::path(dir) / f, ss.str());
    files.push_back(f);
  }
  // +incdir+. : the modules include cs_cfg.svh and cs_isa.svh (Verilator -F
  // reads paths in files.f relative to its directory)
  std::string list = "+incdir+.\n";
  for (const auto& f : files)
    if (f.size() < 4 || f.compare(f.size() - 4, 4, ".svh") != 0) list += f + "\n";
  write_file(fs::path(dir) / "files.f", list);
  return files;
}

}  // namespace clonesim::rtl
