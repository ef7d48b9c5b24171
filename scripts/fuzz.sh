#!/usr/bin/env bash
# Runs every libFuzzer harness (tests/fuzz/) for SECONDS each (default 60) and prints per harness
# the executions, executions per second, coverage (libFuzzer's cov/ft) and crashes.
#   scripts/fuzz.sh [SECONDS] [HARNESS ...]   fuzz (all harnesses when none is named)
#   scripts/fuzz.sh --seeds [HARNESS ...]     rewrite tests/fuzz/corpus/ from make_seeds.cc's
#                                             seeds and the committed corpus, minimized (-merge=1)
#   scripts/fuzz.sh --merge [HARNESS ...]     the same with the last run's new inputs too
# Environment: FUZZ_BUILD (build directory, default build-asan: the sanitizer build of
# scripts/test.sh, configured the same way here if it is not yet), FUZZ_JOBS (harnesses at once, default 2),
# FUZZ_OUT (default $FUZZ_BUILD/fuzz-out: working corpora, logs, and crashes/<harness>/),
# FUZZ_RUNS (stop a harness after this many executions, if its time is not up first).
# Exits 1 when a harness crashed, leaked or timed out; its input is left in the crash directory
# (replay: $FUZZ_BUILD/tests/fuzz/fuzz_<harness> FILE; then copy it into
# tests/fuzz/regressions/<harness>/, which the test suites replay).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build=${FUZZ_BUILD:-build-asan}
out=${FUZZ_OUT:-$build/fuzz-out}
jobs=${FUZZ_JOBS:-2}
all=(gguf tokenizer model embed records args)
seeds=0
seconds=60
if [[ ${1:-} == --seeds || ${1:-} == --merge ]]; then
  seeds=1
  [[ $1 == --merge ]] && seeds=2
  shift
elif [[ ${1:-} =~ ^[0-9]+$ ]]; then
  seconds=$1
  shift
fi
harnesses=("$@")
((${#harnesses[@]})) || harnesses=("${all[@]}")

# Largest input per harness: models of 12-80 KB, texts and records up to a few KB.
declare -A max_len=([gguf]=8192 [model]=98304 [embed]=4096 [tokenizer]=4096 [records]=4096
  [args]=1024)
# Dictionaries (tests/fuzz/NAME.dict): GGUF tags and keys for both model harnesses.
declare -A dict_of=([gguf]=gguf [model]=gguf [embed]=embed [tokenizer]=embed [records]=records
  [args]=args)

if [[ ! -f $build/build.ninja ]] || ! grep -q '^GGUFEMBED_FUZZ:BOOL=ON' "$build/CMakeCache.txt"; then
  if [[ -f $build/CMakeCache.txt ]]; then
    echo "$build is not configured with GGUFEMBED_FUZZ=ON (clang); remove it or set FUZZ_BUILD" >&2
    exit 1
  fi
  echo "=== configuring $build (clang, GGUFEMBED_FUZZ=ON, as scripts/test.sh does)"
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang \
    -DCMAKE_CXX_COMPILER=clang++ -DGGUFEMBED_FUZZ=ON -DGGUFEMBED_BUILD_TESTS=ON >/dev/null
fi
targets=(fuzz_make_seeds)
for h in "${all[@]}"; do targets+=("fuzz_$h"); done
mkdir -p "$out"
if ! cmake --build "$build" --target "${targets[@]}" -- -j "$jobs" >"$out/build.log" 2>&1; then
  cat "$out/build.log"
  exit 1
fi
bin=$build/tests/fuzz

if ((seeds)); then
  tmp=$(mktemp -d)
  "$bin/fuzz_make_seeds" "$tmp" >/dev/null
  for h in "${harnesses[@]}"; do
    mkdir -p "$tmp/$h" "$tmp/merged-$h" "$out/corpus/$h" "tests/fuzz/corpus/$h"
    from=("tests/fuzz/corpus/$h" "$tmp/$h")
    ((seeds == 2)) && from+=("$out/corpus/$h")
    "$bin/fuzz_$h" -merge=1 -max_len="${max_len[$h]}" "$tmp/merged-$h" "${from[@]}" \
      2>"$tmp/$h.log" || { cat "$tmp/$h.log"; exit 1; }
    rm -rf "tests/fuzz/corpus/$h"
    mv "$tmp/merged-$h" "tests/fuzz/corpus/$h"
    printf '%-10s %4d inputs %8d bytes\n' "$h" "$(ls "tests/fuzz/corpus/$h" | wc -l)" \
      "$(cat "tests/fuzz/corpus/$h"/* | wc -c)"
  done
  rm -rf "$tmp"
  exit 0
fi

run() {  # run HARNESS: fuzzes it for $seconds into $out/corpus/HARNESS; log in $out/HARNESS.log
  local h=$1 dict=()
  [[ -f tests/fuzz/${dict_of[$h]}.dict ]] && dict=(-dict="tests/fuzz/${dict_of[$h]}.dict")
  local inputs=("tests/fuzz/corpus/$h")
  [[ -d tests/fuzz/regressions/$h ]] && inputs+=("tests/fuzz/regressions/$h")
  mkdir -p "$out/corpus/$h" "$out/crashes/$h"
  "$bin/fuzz_$h" -max_total_time="$seconds" -print_final_stats=1 -max_len="${max_len[$h]}" \
    ${FUZZ_RUNS:+-runs=$FUZZ_RUNS} -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$out/crashes/$h/" "${dict[@]}" \
    "$out/corpus/$h" "${inputs[@]}" >"$out/$h.log" 2>&1 || true
}

echo "=== fuzzing ${harnesses[*]} for $seconds s each, $jobs at a time (logs in $out)"
rm -rf "$out/crashes"
running=0
for h in "${harnesses[@]}"; do
  run "$h" &
  if ((++running >= jobs)); then
    wait -n
    ((running--))
  fi
done
wait

failed=0
printf '%-10s %12s %9s %7s %7s %8s %s\n' harness executions exec/s cov ft corpus crashes
for h in "${harnesses[@]}"; do
  log=$out/$h.log
  stat() { sed -n "s/^stat::$1: *//p" "$log" | tail -1; }
  execs=$(stat number_of_executed_units)
  rate=$(stat average_exec_per_sec)
  last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  corpus=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$last")
  crashes=$(find "$out/crashes/$h" -type f | wc -l)
  printf '%-10s %12s %9s %7s %7s %8s %s\n' "$h" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" \
    "${corpus:-?}" "$crashes"
  if ((crashes)) || [[ -z $execs ]]; then
    failed=1
    echo "  $h: see $log; inputs in $out/crashes/$h/"
    grep -m3 -E 'ERROR: |runtime error|SUMMARY' "$log" | sed 's/^/    /' || true
  fi
done
exit $failed
