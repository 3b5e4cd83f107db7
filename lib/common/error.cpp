#include "common/error.h"

namespace clonesim {

std::string where(const std::string& file, int line, const std::string& key) {
  std::string s = file.empty() ? std::string("<input>") : file;
  if (line > 0) s += ":" + std::to_string(line);
  if (!key.empty()) s += ": " + key;
  return s;
}

}  // namespace clonesim
