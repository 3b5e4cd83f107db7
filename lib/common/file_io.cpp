#include "common/file_io.h"

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

}  // namespace clonesim
