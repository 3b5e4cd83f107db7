#include "common/file_io.h"

#include <filesystem>
#include <fstream>

#include "common/error.h"

namespace clonesim {

void write_text_file(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary);
  if (!f) throw Error(path + ": cannot open for writing");
  f << text;
  f.close();
  if (!f) throw Error(path + ": write failed");
}

void check_writable(const std::string& path) {
  std::error_code ec;
  const bool existed = std::filesystem::exists(path, ec);
  {
    std::ofstream f(path, std::ios::binary | std::ios::app);
    if (!f) throw Error(path + ": cannot open for writing");
  }
  if (!existed) std::filesystem::remove(path, ec);
}

}  // namespace clonesim
