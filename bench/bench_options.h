// The options the language-model benchmarks share: --hw NAME, --model NAME,
// --quant NAME, --ctx N.
#pragma once

#include <cstdint>
#include <string>

#include "driver/compile_job.h"

namespace clonesim::bench {

struct ModelBenchOptions {
  std::string hw = "clone-28nm";
  compiler::ModelSpec spec;
  uint64_t ctx = 512;
  ModelBenchOptions() { spec.weights = "none"; }
  // Takes `key value` when it is one of the shared options.
  bool take(const std::string& k, const std::string& v) {
    if (k == "--hw") hw = v;
    else if (k == "--model") spec.model = v;
    else if (k == "--quant") spec.quant = v;
    else if (k == "--ctx") ctx = std::stoull(v);
    else return false;
    return true;
  }
};

}  // namespace clonesim::bench
