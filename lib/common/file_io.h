// Writing whole files: one-line errors naming the path.
#pragma once

#include <string>

namespace clonesim {

// Writes `text` (any bytes) to `path`, replacing it; throws clonesim::Error
// "PATH: cannot open for writing" / "PATH: write failed".
void write_text_file(const std::string& path, const std::string& text);

// Throws the error write_text_file would give if `path` cannot be written,
// without changing an existing file (a long job checks its report path first).
void check_writable(const std::string& path);

}  // namespace clonesim
