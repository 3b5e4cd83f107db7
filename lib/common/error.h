// One error type for every bad input the tools can meet: a design point, an
// assembly file, a program binary, a command-line value.  what() is a single
// line "FILE:LINE: KEY: message" (or "FILE: offset N: message"), ready to print.
#pragma once

#include <stdexcept>
#include <string>

namespace clonesim {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& msg) : std::runtime_error(msg) {}
};

// "file:line: key: what" -- line is 1-based; 0 leaves it out.
std::string where(const std::string& file, int line, const std::string& key);

}  // namespace clonesim
