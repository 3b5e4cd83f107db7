// printf-style formatting into a std::string (any length).
#pragma once

#include <cstdarg>
#include <string>

namespace clonesim {

std::string strf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
std::string vstrf(const char* fmt, va_list ap);

}  // namespace clonesim
