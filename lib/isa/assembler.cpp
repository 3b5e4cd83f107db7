// Text assembly language: the assembler and the disassembler.
//
//   mnemonic key=value key=value ...   ; comment (also '#')
//
// Header keys: tile=N|all, wait=sA[,sB], signal=sA[,sB], cnt=cN, cnt_alt=cN,
// addr=cN.
// Operand keys are the FieldLayout names of the opcode (isa.cpp).  See
// docs/isa.md for the full reference.
#include <cinttypes>
#include <cstdio>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include "common/error.h"
#include "isa/isa.h"
#include "isa/program.h"

namespace clonesim::isa {

namespace {

struct Symbol {
  const char* name;
  int64_t value;
};

const std::vector<Symbol> kSpaceSyms = {{"sp", 0}, {"acc", 1}};
const std::vector<Symbol> kWTypeSyms = {{"int8", 0}, {"int4", 1}};
const std::vector<Symbol> kBModeSyms = {{"none", 0}, {"vec", 1}, {"scalar", 2}, {"imm", 3}};
const std::vector<Symbol> kDomainSyms = {{"compute", 0}, {"memory", 1}, {"always_on", 2}};
const std::vector<Symbol> kRegSyms = {{"c0", 0}, {"c1", 1}, {"c2", 2}, {"c3", 3},
                                      {"c4", 4}, {"c5", 5}, {"c6", 6}, {"c7", 7}};
const std::vector<Symbol> kNoSyms = {};

const std::vector<Symbol>& symbols_of(Field f) {
  switch (f) {
    case Field::Space:
    case Field::DSpace:
    case Field::ASpace:
    case Field::BSpace: return kSpaceSyms;
    case Field::WType: return kWTypeSyms;
    case Field::BMode: return kBModeSyms;
    case Field::DomainF: return kDomainSyms;
    case Field::Reg:
    case Field::Src: return kRegSyms;
    default: return kNoSyms;
  }
}

bool is_address(Field f) {
  switch (f) {
    case Field::Dram:
    case Field::Sram:
    case Field::Act:
    case Field::Wgt:
    case Field::Acc:
    case Field::Dst:
    case Field::A:
    case Field::B: return true;
    default: return false;
  }
}

int64_t default_of(Field f) { return f == Field::Rows ? 1 : 0; }

// Parse an integer: optional '-', then decimal digits or 0x + hex digits.
// Returns false on a malformed string; `overflow` is set when the magnitude
// does not fit an int64 (with the sign).
bool parse_int(const std::string& s, int64_t& out, bool& overflow) {
  overflow = false;
  size_t i = 0;
  bool neg = false;
  if (i < s.size() && s[i] == '-') {
    neg = true;
    ++i;
  }
  unsigned base = 10;
  if (i + 1 < s.size() && s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X')) {
    base = 16;
    i += 2;
  }
  if (i >= s.size()) return false;
  uint64_t mag = 0;
  bool big = false;
  for (; i < s.size(); ++i) {
    const char c = s[i];
    unsigned d;
    if (c >= '0' && c <= '9')
      d = unsigned(c - '0');
    else if (base == 16 && c >= 'a' && c <= 'f')
      d = unsigned(c - 'a' + 10);
    else if (base == 16 && c >= 'A' && c <= 'F')
      d = unsigned(c - 'A' + 10);
    else
      return false;
    if (mag > (std::numeric_limits<uint64_t>::max() - d) / base)
      big = true;
    else
      mag = mag * base + d;
  }
  const uint64_t limit = neg ? uint64_t(1) << 63 : (uint64_t(1) << 63) - 1;
  if (big || mag > limit) {
    overflow = true;
    return true;
  }
  out = neg ? static_cast<int64_t>(0 - mag) : static_cast<int64_t>(mag);
  return true;
}

struct LineError {
  std::string msg;
};

[[noreturn]] void fail(const std::string& msg) { throw LineError{msg}; }

int64_t width_min(const FieldLayout& l) {
  if (!l.is_signed) return 0;
  if (l.width >= 64) return std::numeric_limits<int64_t>::min();
  return -(int64_t(1) << (l.width - 1));
}
int64_t width_max(const FieldLayout& l) {
  if (l.is_signed) return l.width >= 64 ? std::numeric_limits<int64_t>::max() : (int64_t(1) << (l.width - 1)) - 1;
  return l.width >= 63 ? std::numeric_limits<int64_t>::max() : (int64_t(1) << l.width) - 1;
}

// A plain number in lo..hi, named `key` in errors.
int64_t parse_number(const std::string& key, const std::string& v, int64_t lo, int64_t hi) {
  int64_t x = 0;
  bool overflow = false;
  if (!parse_int(v, x, overflow)) fail(key + ": malformed value '" + v + "'");
  if (overflow || x < lo || x > hi)
    fail(key + ": value " + v + " out of range " + std::to_string(lo) + ".." + std::to_string(hi));
  return x;
}

int64_t parse_field(const FieldLayout& l, const std::string& v) {
  for (const Symbol& s : symbols_of(l.field))
    if (v == s.name) return s.value;
  const std::string key = l.name;
  if (v.empty()) fail(key + ": missing value");
  const bool numeric = v[0] == '-' || (v[0] >= '0' && v[0] <= '9');
  if (!numeric) {
    std::string msg = key + ": malformed value '" + v + "'";
    const auto& syms = symbols_of(l.field);
    if (!syms.empty()) {
      msg += " (expected a number or one of";
      for (const Symbol& s : syms) msg += std::string(" ") + s.name;
      msg += ")";
    }
    fail(msg);
  }
  if (v[0] == '-' && !l.is_signed) {
    int64_t x;
    bool ov;
    if (!parse_int(v, x, ov)) fail(key + ": malformed value '" + v + "'");
    fail(key + ": value " + v + " out of range 0.." + std::to_string(width_max(l)));
  }
  return parse_number(key, v, width_min(l), width_max(l));
}

// "s5" or "5" -> 5; "wait=sA,sB".
void parse_semaphores(const std::string& key, const std::string& v, std::array<uint8_t, 2>& out) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    const size_t comma = v.find(',', start);
    parts.push_back(v.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (parts.size() > 2) fail(key + ": at most two semaphores, got '" + v + "'");
  for (size_t i = 0; i < parts.size(); ++i) {
    std::string p = parts[i];
    if (p.size() > 1 && (p[0] == 's' || p[0] == 'S')) p = p.substr(1);
    if (p.empty() || p[0] == '-') fail(key + ": malformed semaphore '" + parts[i] + "' (expected s0..s31)");
    out[i] = static_cast<uint8_t>(parse_number(key, p, 0, kNumSemaphores - 1));
  }
}

uint8_t parse_ctx_reg(const std::string& key, const std::string& v) {
  std::string p = v;
  if (p.size() > 1 && (p[0] == 'c' || p[0] == 'C')) p = p.substr(1);
  if (p.empty() || p[0] == '-') fail(key + ": malformed context register '" + v + "' (expected c0..c7)");
  return static_cast<uint8_t>(parse_number(key, p, 0, kNumContextRegs - 1));
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

std::vector<std::string> tokenize(const std::string& line) {
  std::vector<std::string> toks;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && is_space(line[i])) ++i;
    if (i >= line.size()) break;
    size_t j = i;
    while (j < line.size() && !is_space(line[j])) ++j;
    toks.push_back(line.substr(i, j - i));
    i = j;
  }
  return toks;
}

std::vector<std::string> allowed_keys(const OpcodeInfo& oi) {
  std::vector<std::string> keys = {"tile", "wait", "signal"};
  if (count_field(oi.op) != kNumFields) keys.push_back("cnt");
  if (alt_count_field(oi.op) != kNumFields) keys.push_back("cnt_alt");
  if (oi.op == Opcode::Load || oi.op == Opcode::Store) keys.push_back("addr");
  for (const FieldLayout& l : fields_of(oi.op)) keys.push_back(l.name);
  return keys;
}

Instruction assemble_line(const std::vector<std::string>& toks) {
  const OpcodeInfo* oi = opcode_by_mnemonic(toks[0]);
  if (!oi) fail("unknown mnemonic '" + toks[0] + "'");
  Instruction in;
  in.op = oi->op;
  const auto layout = fields_of(in.op);
  for (const FieldLayout& l : layout) in[l.field] = default_of(l.field);
  const std::vector<std::string> allowed = allowed_keys(*oi);
  std::set<std::string> seen;
  for (size_t t = 1; t < toks.size(); ++t) {
    const std::string& tok = toks[t];
    const size_t eq = tok.find('=');
    if (eq == std::string::npos) fail("expected key=value, got '" + tok + "' (missing '=')");
    const std::string key = tok.substr(0, eq);
    const std::string val = tok.substr(eq + 1);
    if (key.empty()) fail("missing key before '=' in '" + tok + "'");
    bool ok = false;
    for (const std::string& k : allowed) ok = ok || k == key;
    if (!ok) {
      std::string msg = "unknown key '" + key + "' for " + oi->mnemonic + " (allowed:";
      for (const std::string& k : allowed) msg += " " + k;
      fail(msg + ")");
    }
    if (!seen.insert(key).second) fail("duplicate key '" + key + "'");
    if (val.empty()) fail(key + ": missing value after '='");
    if (key == "tile") {
      in.tile = val == "all" ? static_cast<uint8_t>(kAllTiles)
                             : static_cast<uint8_t>(parse_number(key, val, 0, kAllTiles));
    } else if (key == "wait") {
      parse_semaphores(key, val, in.wait);
    } else if (key == "signal") {
      parse_semaphores(key, val, in.signal);
    } else if (key == "cnt" || key == "cnt_alt") {
      // one count register per instruction: it replaces either field
      if (seen.count(key == "cnt" ? "cnt_alt" : "cnt"))
        fail(key + ": cnt= and cnt_alt= exclude each other (one count register per instruction)");
      in.cnt_reg = parse_ctx_reg(key, val);
      in.cnt_alt = key == "cnt_alt";
    } else if (key == "addr") {
      in.addr_reg = parse_ctx_reg(key, val);
    } else {
      for (const FieldLayout& l : layout)
        if (key == l.name) in[l.field] = parse_field(l, val);
    }
  }
  const std::string problem = check(in);
  if (!problem.empty()) fail(problem);
  return in;
}

std::string hex(int64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%" PRIx64, static_cast<uint64_t>(v));
  return buf;
}

std::string sem_list(const std::array<uint8_t, 2>& s) {
  std::string r = "s" + std::to_string(s[0]);
  if (s[1] != 0) r += ",s" + std::to_string(s[1]);
  return r;
}

}  // namespace

Program assemble(const std::string& text, const std::string& source) {
  Program p;
  p.source = source;
  size_t pos = 0;
  int line_no = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    std::string line = text.substr(pos, nl - pos);
    ++line_no;
    pos = nl + 1;
    const size_t c = line.find_first_of(";#");
    if (c != std::string::npos) line.resize(c);
    {
      const size_t b = line.find_first_not_of(" \t\r");
      if (b != std::string::npos && line.compare(b, 7, ".region") == 0) {
        std::string name = line.substr(b + 7);
        if (!name.empty() && name[0] != ' ' && name[0] != '\t')
          throw Error(where(source, line_no, "") + ": unknown directive " + line.substr(b) + " (expected .region NAME)");
        const size_t nb = name.find_first_not_of(" \t"), ne = name.find_last_not_of(" \t\r");
        if (nb == std::string::npos) throw Error(where(source, line_no, "") + ": .region needs a name");
        p.regions.push_back({name.substr(nb, ne - nb + 1), static_cast<uint32_t>(p.code.size())});
        continue;
      }
    }
    const auto toks = tokenize(line);
    if (toks.empty()) continue;
    try {
      p.code.push_back(assemble_line(toks));
    } catch (const LineError& e) {
      throw Error(where(source, line_no, "") + ": " + e.msg);
    }
  }
  return p;
}

std::string disassemble(const Instruction& in) {
  const OpcodeInfo* oi = opcode_info(static_cast<uint8_t>(in.op));
  if (!oi) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "<invalid opcode 0x%02x>", static_cast<unsigned>(in.op));
    return buf;
  }
  std::string s = oi->mnemonic;
  if (in.tile != 0) s += in.tile == kAllTiles ? std::string(" tile=all") : " tile=" + std::to_string(in.tile);
  if (in.wait[0] || in.wait[1]) s += " wait=" + sem_list(in.wait);
  if (in.signal[0] || in.signal[1]) s += " signal=" + sem_list(in.signal);
  if (in.cnt_reg || in.cnt_alt) s += (in.cnt_alt ? " cnt_alt=c" : " cnt=c") + std::to_string(in.cnt_reg);
  if (in.addr_reg) s += " addr=c" + std::to_string(in.addr_reg);
  for (const FieldLayout& l : fields_of(in.op)) {
    const int64_t v = in[l.field];
    if (v == default_of(l.field)) continue;
    s += " ";
    s += l.name;
    s += "=";
    const char* sym = nullptr;
    for (const Symbol& y : symbols_of(l.field))
      if (y.value == v) sym = y.name;
    if (sym)
      s += sym;
    else if (is_address(l.field) && v >= 0)
      s += hex(v);
    else
      s += std::to_string(v);
  }
  return s;
}

std::string disassemble(const Program& p) {
  std::string out;
  if (!p.source.empty()) {
    std::string src = p.source;
    for (char& c : src)
      if (c == '\n' || c == '\r') c = ' ';
    out += "; disassembly of " + src + "\n";
  }
  size_t r = 0;
  for (size_t i = 0; i <= p.code.size(); ++i) {
    for (; r < p.regions.size() && p.regions[r].first == i; ++r) out += ".region " + p.regions[r].name + "\n";
    if (i == p.code.size()) break;
    if (i % 16 == 0) out += "; [" + std::to_string(i) + "]\n";
    out += disassemble(p.code[i]);
    out += "\n";
  }
  return out;
}

void check_regions(const Program& p) {
  for (size_t r = 0; r < p.regions.size(); ++r) {
    const Region& g = p.regions[r];
    auto bad = [&](const std::string& what) {
      throw Error(p.source + ": region " + std::to_string(r) + " (" + g.name + "): " + what);
    };
    if (g.name.empty() || g.name.find_first_of("\n\r;#") != std::string::npos)
      bad("a name must be one line without ';' or '#'");
    if (g.first > p.code.size())
      bad("starts at instruction " + std::to_string(g.first) + ", past the end (" + std::to_string(p.code.size()) +
          " instructions)");
    if (r > 0 && g.first < p.regions[r - 1].first)
      bad("starts at instruction " + std::to_string(g.first) + ", before the region ahead of it (" +
          std::to_string(p.regions[r - 1].first) + ")");
  }
}

}  // namespace clonesim::isa
