// The options the language-model benchmarks share: --hw NAME, --model NAME,
// --quant NAME, --ctx N, and -h/--help.
#pragma once

#include <cstdint>
#include <cstdio>
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

// Parses `--key value` pairs: the shared options, then `extra(key, value)`
// (true when it took them).  -h or --help prints `usage`.  Returns -1 to go
// on, else the exit code: 0 after --help, 2 for an unknown option or one
// without its value.
template <class Extra>
int parse_args(int argc, char* argv[], const char* name, const char* usage, ModelBenchOptions& o, Extra extra) {
  for (int i = 1; i < argc; i += 2) {
    const std::string k = argv[i];
    if (k == "-h" || k == "--help") {
      std::printf("usage: %s %s\n", name, usage);
      return 0;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "%s: %s needs a value\n", name, k.c_str());
      return 2;
    }
    const std::string v = argv[i + 1];
    if (!o.take(k, v) && !extra(k, v)) {
      std::fprintf(stderr, "%s: unknown option %s (--help lists them)\n", name, k.c_str());
      return 2;
    }
  }
  return -1;
}

}  // namespace clonesim::bench
