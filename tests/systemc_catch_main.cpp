// Catch2 runner for tests that elaborate SystemC modules: libsystemc defines
// main() and calls sc_main, so Catch2 starts from here.  CTest runs every
// test case in its own process (one SystemC kernel per process).
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#include <systemc>

int sc_main(int argc, char* argv[]) { return Catch::Session().run(argc, argv); }
