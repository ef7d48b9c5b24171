#!/usr/bin/env bash
# README command 2: set up, build the native, sanitizer and WebAssembly targets, and run every test
# (Catch2 through CTest natively, under ASan+UBSan and in wasm; node --test for the CLI, the wasm
# module and the llama.cpp peers). Exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
jobs=$(nproc)
t0=$SECONDS
declare -a timings
phase() {  # phase NAME COMMAND...: runs and records how long it took
  local name=$1 start=$SECONDS
  shift
  echo "=== $name"
  "$@"
  timings+=("$(printf '%-28s %4d s' "$name" $((SECONDS - start)))")
}

phase "setup" bash scripts/setup.sh

phase "native build" bash -c "cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DGGUFEMBED_BUILD_TESTS=ON >/dev/null && cmake --build build"
phase "native tests" ctest --test-dir build -j "$jobs" --output-on-failure

# The sanitizer build is clang's, with the libFuzzer harnesses in it (GGUFEMBED_FUZZ implies ASan
# and UBSan; GCC has no libFuzzer): one build serves the Catch2 suite, the corpus replays and the
# fuzzing. A build directory configured otherwise (an older GCC one) is started afresh.
if [[ -f build-asan/CMakeCache.txt ]] && ! grep -q '^GGUFEMBED_FUZZ:BOOL=ON' build-asan/CMakeCache.txt; then
  rm -rf build-asan
fi
phase "sanitizer build" bash -c "cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DGGUFEMBED_FUZZ=ON -DGGUFEMBED_BUILD_TESTS=ON >/dev/null \
  && cmake --build build-asan"
phase "sanitizer tests" ctest --test-dir build-asan -j "$jobs" --output-on-failure
# Every harness for 30 s, two at a time (README, Fuzzing); longer runs are scripts/fuzz.sh SECONDS.
phase "fuzzing (30 s a harness)" env FUZZ_BUILD=build-asan FUZZ_JOBS="$jobs" bash scripts/fuzz.sh 30

# ThreadSanitizer on the tests that run several threads (batches, packing, the C API's threads).
phase "thread sanitizer build" bash -c "cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DGGUFEMBED_TSAN=ON >/dev/null && cmake --build build-tsan --target ggufembed_thread_tests"
phase "thread sanitizer tests" build-tsan/tests/ggufembed_thread_tests "[batch],[c_api]"

# The npm package's threads build (js/dist/threads), which the wasm tests use in Node: the
# library only, every object compiled with -pthread.
phase "wasm threads build" bash -c "emcmake cmake -S . -B build-wasm-threads -G Ninja \
  -DCMAKE_BUILD_TYPE=Release -DGGUFEMBED_WASM_THREADS=ON -DGGUFEMBED_BUILD_TESTS=OFF >/dev/null \
  && cmake --build build-wasm-threads"
# CMAKE_CROSSCOMPILING_EMULATOR: emcmake's default adds a flag Node 20 rejects.
phase "wasm build" bash -c "emcmake cmake -S . -B build-wasm -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CROSSCOMPILING_EMULATOR=$(command -v node) -DGGUFEMBED_NATIVE_CLI=$root/build/ggufembed >/dev/null \
  && cmake --build build-wasm"
phase "wasm tests" ctest --test-dir build-wasm -j "$jobs" --output-on-failure

echo
echo "=== all tests passed"
printf '%s\n' "${timings[@]}"
printf '%-28s %4d s\n' "total" $((SECONDS - t0))
