// The shipped models (configs/models/*.json and *.yaml), compiled into the
// library.  The table is generated at build time by lib/hw/embed_configs.cmake
// (compiler/model/CMakeLists.txt).
#pragma once

#include <cstddef>

namespace clonesim::compiler::detail {

struct EmbeddedModel {
  const char* name;  // file name with its extension, e.g. "llama-2-7b.json", "tiny.yaml"
  const char* text;  // the file's full text
};

extern const EmbeddedModel kEmbeddedModels[];  // sorted by file name
extern const std::size_t kNumEmbeddedModels;

}  // namespace clonesim::compiler::detail
