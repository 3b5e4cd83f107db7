// Strict YAML reading shared by every input file the tools parse (design
// points, technology files): yaml-cpp 0.7 underneath, but every problem is a
// clonesim::Error with a one-line message "FILE:LINE: KEY.PATH: expected ...,
// got ...".  Nothing in the input may crash a parser built on these helpers:
// yaml-cpp exceptions are converted, scalars are parsed by hand (no yaml-cpp
// as<T>() with its silent wrap-around), maps reject unknown and duplicate keys.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

namespace clonesim::yaml {

constexpr long long kNoMax = std::numeric_limits<long long>::max();

bool is_pow2(long long v);

// Control characters (newline, tab...) become spaces: messages stay one line.
std::string one_line(std::string s);
// one_line, cut to 40 characters ("..." marks a cut).
std::string clip(const std::string& s);
std::string join(const std::vector<std::string>& v);
// Shortest decimal form that round-trips the figures we print (0.6, 1.024, 625).
std::string num(double v);

// A scalar written in quotes (so never a number).
bool quoted(const YAML::Node& n);
// What a node is, for "got ..." in a message: a map, a list, 'text', the string "text".
std::string got(const YAML::Node& n);
// 1-based line of a node, or `fallback` when yaml-cpp has none.
int line_of(const YAML::Node& n, int fallback);

// A value together with where it sits: its key path and its 1-based line.
struct Field {
  YAML::Node node;
  std::string path;
  int line = 0;      // the value's line
  int key_line = 0;  // the line of the key holding it (0: same as line)
  int owner_line() const { return key_line ? key_line : line; }
};

// The file being read: turns a problem into the one-line Error.
class Ctx {
 public:
  explicit Ctx(std::string file) : file_(std::move(file)) {}

  [[noreturn]] void fail(int line, const std::string& path, const std::string& msg) const;
  [[noreturn]] void expected(const Field& f, const std::string& what) const;
  [[noreturn]] void expected(const Field& f, const std::string& what, const std::string& g) const;
  const std::string& file() const { return file_; }

 private:
  std::string file_;
};

// A YAML map checked against its allowed keys: rejects non-maps, unknown keys
// (naming the allowed ones), non-scalar keys and duplicate keys.
class MapView {
 public:
  MapView(const Ctx& ctx, const Field& f, std::vector<std::string> allowed);

  std::string child(const std::string& key) const;
  const Field* find(const std::string& key) const;
  // The key's value, or "missing required key, expected WHAT" at the map's line.
  const Field& need(const std::string& key, const std::string& what) const;
  int line() const { return line_; }
  const std::string& path() const { return path_; }
  const std::vector<std::string>& keys() const { return keys_; }  // in file order

 private:
  const Ctx& ctx_;
  std::string path_;
  int line_;
  std::vector<std::string> allowed_;
  std::vector<std::string> keys_;
  std::vector<Field> entries_;
};

// Plain decimal integers only: no 0x, no 1e3, no 2.0.
bool parse_integer(const std::string& s, long long& out);
// Decimal numbers: 0.6, 400, 1e3, .5 -- no hex, inf or nan.
bool parse_real(const std::string& s, double& out);

struct IntRule {
  long long lo = 1;
  long long hi = kNoMax;
  bool pow2 = false;
  long long multiple = 0;  // 0: no constraint
  std::string what;        // overrides the generated description

  std::string describe() const;
};

IntRule range(long long lo, long long hi);
IntRule pow2_range(long long lo, long long hi);

uint32_t read_int(const Ctx& c, const Field& f, const IntRule& r);
uint32_t need_int(const Ctx& c, const MapView& m, const std::string& key, const IntRule& r);

struct RealRule {
  double lo = 0;
  double hi = 0;
  bool lo_open = false;  // lo itself excluded
  std::string describe() const;
};

double read_real(const Ctx& c, const Field& f, const RealRule& r);
double need_real(const Ctx& c, const MapView& m, const std::string& key, const RealRule& r);

// One of `names` (exact spelling); returns its index.
size_t read_enum(const Ctx& c, const Field& f, const std::vector<std::string>& names);
// A non-empty one-line string.
std::string read_name(const Ctx& c, const Field& f);
// Element i of a list field, as a field of its own ("path[i]", its line).
Field item(const Field& list, size_t i, const YAML::Node& n);

// Parse the text into its one document (a second document, an empty file or a
// syntax error is a one-line Error; `what` names what the file should hold).
YAML::Node load_one_document(const Ctx& c, const std::string& text, const std::string& what);

// The whole text of a regular file of at most `max_bytes`; `what` names the
// kind of file in messages ("design-point file").
std::string read_text_file(const Ctx& c, const std::string& path, const std::string& what,
                           std::uintmax_t max_bytes);

}  // namespace clonesim::yaml
