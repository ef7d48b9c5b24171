// Catch2 main for builds without Debian's prebuilt Catch2WithMain library (Emscripten).
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
