// The shipped technology files (power_models/tech/*.yaml), compiled into the
// library.  The table is generated at build time by lib/hw/embed_configs.cmake.
#pragma once

#include <cstddef>

namespace clonesim::power::detail {

struct EmbeddedTech {
  const char* name;  // file name without .yaml, e.g. "tech-28nm"
  const char* text;  // the file's full text
};

extern const EmbeddedTech kEmbeddedTech[];  // sorted by name
extern const std::size_t kNumEmbeddedTech;

}  // namespace clonesim::power::detail
