// Writing whole files: one-line errors naming the path.
#pragma once

#include <string>

namespace clonesim {

// Writes `text` (any bytes) to `path`, replacing it; throws clonesim::Error
// "PATH: cannot open for writing" / "PATH: write failed".
void write_text_file(const std::string& path, const std::string& text);

}  // namespace clonesim
