// Small helpers shared by the plain (non-SystemC) tests.
#pragma once

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

}  // namespace clonesim::test
