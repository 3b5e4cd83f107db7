// Strict YAML helpers (see yaml_strict.h).  Moved here from lib/hw/hw_config.cpp
// so that every input file the tools read gives the same one-line messages.
#include "common/yaml_strict.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <sstream>
#include <system_error>

#include <yaml-cpp/eventhandler.h>

#include "common/error.h"

namespace clonesim::yaml {

bool is_pow2(long long v) { return v > 0 && (v & (v - 1)) == 0; }

std::string one_line(std::string s) {
  for (char& ch : s)
    if (ch == '\n' || ch == '\r' || ch == '\t' || ch == '\v' || ch == '\f') ch = ' ';
  return s;
}

std::string clip(const std::string& s) {
  std::string t = one_line(s);
  if (t.size() > 40) t = t.substr(0, 37) + "...";
  return t;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + v[i];
  return s;
}

// Shortest decimal form that round-trips the figures we print (0.6, 1.024, 625).
std::string num(double v) {
  std::ostringstream os;
  os << std::setprecision(10) << v;
  return os.str();
}

bool quoted(const YAML::Node& n) {
  return n.IsScalar() && (n.Tag() == "!" || n.Tag() == "tag:yaml.org,2002:str");
}

std::string got(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map: return n.size() ? "a map" : "an empty map";
    case YAML::NodeType::Sequence: return n.size() ? "a list" : "an empty list";
    case YAML::NodeType::Scalar:
      if (quoted(n)) return "the string \"" + clip(n.Scalar()) + "\"";
      return "'" + clip(n.Scalar()) + "'";
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      break;
  }
  return "nothing";
}

int line_of(const YAML::Node& n, int fallback) {
  try {
    const YAML::Mark m = n.Mark();
    return m.line >= 0 ? m.line + 1 : fallback;
  } catch (...) {
    return fallback;
  }
}

void Ctx::fail(int line, const std::string& path, const std::string& msg) const {
  throw Error(one_line(where(file_, line, path) + ": " + msg));
}
void Ctx::expected(const Field& f, const std::string& what) const {
  fail(f.line, f.path, "expected " + what + ", got " + got(f.node));
}
void Ctx::expected(const Field& f, const std::string& what, const std::string& g) const {
  fail(f.line, f.path, "expected " + what + ", got " + g);
}

MapView::MapView(const Ctx& ctx, const Field& f, std::vector<std::string> allowed)
    : ctx_(ctx), path_(f.path), line_(f.owner_line()), allowed_(std::move(allowed)) {
  if (!f.node.IsMap()) ctx.expected(f, "a map with keys " + join(allowed_));
  for (auto it = f.node.begin(); it != f.node.end(); ++it) {
    const YAML::Node k = it->first;
    const int kline = line_of(k, line_);
    if (!k.IsScalar())
      ctx.fail(kline, path_.empty() ? "<key>" : path_,
               "expected a key name (one of " + join(allowed_) + "), got " + got(k));
    const std::string key = k.Scalar();
    const std::string cp = child(key);
    if (std::find(allowed_.begin(), allowed_.end(), key) == allowed_.end())
      ctx.fail(kline, cp, "unknown key, expected one of " + join(allowed_) + ", got '" +
                              clip(key) + "'");
    for (const auto& e : entries_)
      if (e.path == cp)
        ctx.fail(kline, cp, "expected each key once, got a duplicate (first at line " +
                                std::to_string(e.line) + ")");
    const YAML::Node v = it->second;
    const int vline = v.IsNull() ? kline : line_of(v, kline);
    entries_.push_back(Field{v, cp, vline, kline});
    keys_.push_back(key);
  }
}

std::string MapView::child(const std::string& key) const {
  return path_.empty() ? key : path_ + "." + key;
}
const Field* MapView::find(const std::string& key) const {
  for (size_t i = 0; i < keys_.size(); ++i)
    if (keys_[i] == key) return &entries_[i];
  return nullptr;
}
const Field& MapView::need(const std::string& key, const std::string& what) const {
  if (const Field* f = find(key)) return *f;
  ctx_.fail(line_, child(key), "missing required key, expected " + what);
}

// Plain decimal integers only: no 0x, no 1e3, no 2.0.
bool parse_integer(const std::string& s, long long& out) {
  size_t i = (!s.empty() && (s[0] == '+' || s[0] == '-')) ? 1 : 0;
  if (i == s.size()) return false;
  for (size_t j = i; j < s.size(); ++j)
    if (!std::isdigit(static_cast<unsigned char>(s[j]))) return false;
  errno = 0;
  char* end = nullptr;
  const long long v = std::strtoll(s.c_str(), &end, 10);
  if (errno == ERANGE || end == nullptr || *end != '\0') return false;
  out = v;
  return true;
}

// Decimal numbers: 0.6, 400, 1e3, .5 -- no hex, inf or nan.
bool parse_real(const std::string& s, double& out) {
  if (s.empty()) return false;
  bool digit = false;
  for (char ch : s) {
    if (std::isdigit(static_cast<unsigned char>(ch))) digit = true;
    else if (ch != '+' && ch != '-' && ch != '.' && ch != 'e' && ch != 'E') return false;
  }
  if (!digit) return false;
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (end == s.c_str() || *end != '\0' || !std::isfinite(v)) return false;
  out = v;
  return true;
}

std::string IntRule::describe() const {
  if (!what.empty()) return what;
  std::string s = pow2 ? "a power of two " : "an integer ";
  s += hi == kNoMax ? ">= " + std::to_string(lo)
                    : std::to_string(lo) + ".." + std::to_string(hi);
  if (multiple) s += " that is a multiple of " + std::to_string(multiple);
  return s;
}

IntRule range(long long lo, long long hi) { return IntRule{lo, hi, false, 0, {}}; }
IntRule pow2_range(long long lo, long long hi) { return IntRule{lo, hi, true, 0, {}}; }

uint32_t read_int(const Ctx& c, const Field& f, const IntRule& r) {
  long long v = 0;
  if (!f.node.IsScalar() || quoted(f.node) || !parse_integer(f.node.Scalar(), v))
    c.expected(f, r.describe());
  if (v < r.lo || v > r.hi || v > 0xFFFFFFFFLL || (r.pow2 && !is_pow2(v)) || (r.multiple && v % r.multiple != 0))
    c.expected(f, r.describe(), std::to_string(v));
  return static_cast<uint32_t>(v);
}

uint32_t need_int(const Ctx& c, const MapView& m, const std::string& key, const IntRule& r) {
  return read_int(c, m.need(key, r.describe()), r);
}

std::string RealRule::describe() const {
  return lo_open ? "a number > " + num(lo) + " and <= " + num(hi)
                 : "a number " + num(lo) + ".." + num(hi);
}

double read_real(const Ctx& c, const Field& f, const RealRule& r) {
  double v = 0;
  if (!f.node.IsScalar() || quoted(f.node) || !parse_real(f.node.Scalar(), v))
    c.expected(f, r.describe());
  if (v > r.hi || v < r.lo || (r.lo_open && v == r.lo)) c.expected(f, r.describe(), num(v));
  return v;
}

double need_real(const Ctx& c, const MapView& m, const std::string& key, const RealRule& r) {
  return read_real(c, m.need(key, r.describe()), r);
}

// One of `names` (exact spelling); returns its index.
size_t read_enum(const Ctx& c, const Field& f, const std::vector<std::string>& names) {
  const std::string what = "one of " + join(names);
  if (!f.node.IsScalar()) c.expected(f, what);
  const auto it = std::find(names.begin(), names.end(), f.node.Scalar());
  if (it == names.end()) c.expected(f, what);
  return static_cast<size_t>(it - names.begin());
}

std::string read_name(const Ctx& c, const Field& f) {
  const std::string what = "a non-empty one-line string";
  if (!f.node.IsScalar()) c.expected(f, what);
  const std::string s = f.node.Scalar();
  if (s.empty() || s.find_first_of("\n\r") != std::string::npos) c.expected(f, what);
  return s;
}

Field item(const Field& list, size_t i, const YAML::Node& n) {
  const int l = line_of(n, list.line);
  return Field{n, list.path + "[" + std::to_string(i) + "]", l, l};
}

// --- documents and files ------------------------------------------------------

namespace {

// Records what one YAML document held: its start, and whether it was nothing
// but a single null node (and where that node sat).
class DocProbe : public YAML::EventHandler {
 public:
  YAML::Mark start;
  YAML::Mark first;
  int nodes = 0;
  bool bare_null = false;

  void OnDocumentStart(const YAML::Mark& m) override {
    start = m;
    nodes = 0;
    bare_null = false;
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& m, YAML::anchor_t) override { note(m, true); }
  void OnAlias(const YAML::Mark& m, YAML::anchor_t) override { note(m, false); }
  void OnScalar(const YAML::Mark& m, const std::string&, YAML::anchor_t,
                const std::string&) override {
    note(m, false);
  }
  void OnSequenceStart(const YAML::Mark& m, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    note(m, false);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& m, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    note(m, false);
  }
  void OnMapEnd() override {}

 private:
  void note(const YAML::Mark& m, bool null) {
    if (nodes++ == 0) {
      first = m;
      bare_null = null;
    } else {
      bare_null = false;
    }
  }
};

}  // namespace

// Parse the text into its one document.  yaml-cpp 0.7's LoadAll loops
// forever, allocating, on a stray ',' where a document should start
// (jbeder/yaml-cpp#1040; fixed upstream by PR #1319, after 0.8): the event
// parser keeps reporting an empty document without consuming the token.  So
// the documents are counted by a bounded loop over the event parser, a
// repeated empty document at the same position is reported as the syntax
// error it is, and the first document is then built with YAML::Load (which
// parses exactly one document).
YAML::Node load_one_document(const Ctx& c, const std::string& text, const std::string& what) {
  auto syntax = [&](const YAML::Mark& m, const std::string& msg) {
    c.fail(m.line >= 0 ? m.line + 1 : 0, "", "YAML syntax error: " + msg);
  };
  try {
    std::istringstream in(text);
    YAML::Parser parser(in);
    DocProbe probe;
    int docs = 0;
    bool prev_null = false;
    YAML::Mark prev_mark;
    YAML::Mark second_start;
    for (int i = 0; i < 3; ++i) {
      if (!parser.HandleNextDocument(probe)) break;
      if (probe.bare_null && prev_null && probe.first.pos == prev_mark.pos) {
        const int pos = probe.first.pos;
        const char ch = pos >= 0 && size_t(pos) < text.size() ? text[size_t(pos)] : '?';
        syntax(probe.first, std::string("unexpected '") + ch + "' where a value should start");
      }
      prev_null = probe.bare_null;
      prev_mark = probe.first;
      if (++docs == 2) second_start = probe.start;
    }
    if (docs > 1)
      c.fail(second_start.line >= 0 ? second_start.line + 1 : 0, "",
             "expected one YAML document, got a second one");
    const YAML::Node root = docs ? YAML::Load(text) : YAML::Node();
    if (root.IsNull()) c.fail(1, "", "expected " + what + ", got an empty file");
    return root;
  } catch (const Error&) {
    throw;
  } catch (const YAML::Exception& e) {
    syntax(e.mark, e.msg);
  } catch (const std::exception& e) {
    c.fail(0, "", std::string("YAML syntax error: ") + e.what());
  }
  return YAML::Node();
}


std::string read_text_file(const Ctx& c, const std::string& path, const std::string& what,
                           std::uintmax_t max_bytes) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const auto st = fs::status(path, ec);
  if (!fs::exists(st)) c.fail(0, "", "expected a " + what + ", got no such file");
  if (!fs::is_regular_file(st))
    c.fail(0, "", "expected a " + what + ", got " +
                      (fs::is_directory(st) ? "a directory" : "a special file"));
  const auto size = fs::file_size(path, ec);
  if (!ec && size > max_bytes)
    c.fail(0, "", "expected a " + what + " (<= " + std::to_string(max_bytes >> 20) +
                      " MiB), got " + std::to_string(size) + " bytes");
  std::ifstream in(path, std::ios::binary);
  if (!in) c.fail(0, "", "expected a readable " + what + ", got an error opening it");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) c.fail(0, "", "expected a readable " + what + ", got a read error");
  return ss.str();
}

}  // namespace clonesim::yaml
