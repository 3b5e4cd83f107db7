// The shipped design points (configs/hw/*.yaml), compiled into the library.
// The table is generated at build time by lib/hw/embed_configs.cmake.
#pragma once

#include <cstddef>

namespace clonesim::hw::detail {

struct EmbeddedConfig {
  const char* name;  // file name without .yaml, e.g. "clone-28nm"
  const char* text;  // the file's full text
};

extern const EmbeddedConfig kEmbeddedConfigs[];  // sorted by name
extern const std::size_t kNumEmbeddedConfigs;

}  // namespace clonesim::hw::detail
