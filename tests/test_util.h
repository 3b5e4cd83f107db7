// Small helpers shared by the plain (non-SystemC) tests.
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <string>

#include "common/error.h"

namespace clonesim::test {

// The whole file ("" when it cannot be read: the test's own checks then fail).
inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The message of the clonesim::Error `f` throws ("" when it does not throw).
template <class F>
std::string error_of(F f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// `msg` is one line that starts with `head` and contains `tail`.
inline void check_one_line(const std::string& msg, const std::string& head, const std::string& tail) {
  INFO(msg);
  CHECK(msg.find('\n') == std::string::npos);
  CHECK_THAT(msg, Catch::StartsWith(head) && Catch::Contains(tail));
}

// |a - b| within `tol` of the larger magnitude.
inline bool rel_eq(double a, double b, double tol = 1e-9) {
  return std::fabs(a - b) <= tol * std::max(std::fabs(a), std::fabs(b));
}

// 1-based line of the first line of `text` containing `needle`.
inline int line_with(const std::string& text, const std::string& needle) {
  std::istringstream in(text);
  std::string l;
  for (int n = 1; std::getline(in, l); ++n)
    if (l.find(needle) != std::string::npos) return n;
  FAIL("no line contains " << needle);
  return 0;
}

// `text` with its one occurrence of `from` replaced by `to` (the test fails
// when `from` is absent or occurs twice).
inline std::string replace_once(std::string text, const std::string& from, const std::string& to) {
  INFO("replacing " << from);
  const auto pos = text.find(from);
  REQUIRE(pos != std::string::npos);
  REQUIRE(text.find(from, pos + 1) == std::string::npos);
  return text.replace(pos, from.size(), to);
}

}  // namespace clonesim::test
