#include "common/strf.h"

#include <cstdio>
#include <vector>

namespace clonesim {

std::string vstrf(const char* fmt, va_list ap) {
  char buf[512];
  va_list ap2;
  va_copy(ap2, ap);
  const int n = std::vsnprintf(buf, sizeof buf, fmt, ap);
  if (n < 0) {
    va_end(ap2);
    return {};
  }
  if (size_t(n) < sizeof buf) {
    va_end(ap2);
    return std::string(buf, size_t(n));
  }
  std::vector<char> big(size_t(n) + 1);
  std::vsnprintf(big.data(), big.size(), fmt, ap2);
  va_end(ap2);
  return std::string(big.data(), size_t(n));
}

std::string strf(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  std::string s = vstrf(fmt, ap);
  va_end(ap);
  return s;
}

}  // namespace clonesim
