#!/usr/bin/env bash
# Opt-in (slow: an hour or more): conformance for every quantization people download (issue 13),
# on the synthetic models with the real shapes, each file made by `ggufembed synth --ftype T`
# exactly as llama-quantize would make it:
#   - EmbeddingGemma 300m (gemma-embedding) against native llama.cpp (node-llama-cpp), the 47-text
#     corpus; and, in the same run, native llama.cpp against llama.cpp b12211 in wasm (wllama
#     3.13.0) text by text, the floor (tests/node/conformance.test.mjs with GGUFEMBED_FLOOR=wllama:
#     the threshold is min(0.9995, that floor));
#   - EmbeddingGemma 2 270m (gemma-embedding2) against wllama 3.13.0, the corpus plus prose of 600
#     and 3,000 tokens; and, in the same run, a native llama.cpp made to know gemma-embedding2
#     (scripts/llama-eg2/build.sh, built first: node-llama-cpp's llama.cpp with our port of the
#     graph): ours against it, with native vs wllama text by text as the floor, as for 300m
#     (conformance_wllama.test.mjs with GGUFEMBED_FLOOR=native); ours vs wllama reported too.
# Then a summary: build/reports/ftypes/summary.{json,md} (preset, tensor-type mix, minimum cosine,
# worst text, floor). Needs a native build in build/ (scripts/test.sh).
#
# Usage: bash scripts/conformance-ftypes.sh [300m|270m|all] [FTYPE...]
#   default: all, every type; JOBS=2 runs two files at a time (each run is single-threaded);
#   GGUFEMBED_CLI=path uses that ggufembed binary instead of build/ggufembed.
# The files are kept under models/: embeddinggemma-300m-synthetic-T.gguf (shared with
# bench/bench.mjs --ftype) and embeddinggemma2-270m-synthetic-ftype-T.gguf (not -T.gguf: the
# existing embeddinggemma2-270m-synthetic-q8_0.gguf is synth --wtype q8_0, which keeps the
# per-layer projection in Q8_0 where llama-quantize's q8_0 keeps F16).
set -euo pipefail
cd "$(dirname "$0")/.."
which=${1:-all}
[[ $# -gt 0 ]] && shift
ftypes=("$@")
[[ ${#ftypes[@]} -gt 0 ]] || ftypes=(q4_k_m q4_0 q6_k q5_k_m q4_0_qat q4_1 q5_0 q5_1 q8_0 bf16 f16 f32)
case $which in 300m | 270m | all) ;; *) echo "usage: $0 [300m|270m|all] [FTYPE...]" >&2; exit 2 ;; esac
jobs=${JOBS:-1}
cli=${GGUFEMBED_CLI:-$PWD/build/ggufembed}  # a copy keeps a long run on one binary while build/ changes
reports=$PWD/build/reports/ftypes
mkdir -p models "$reports/logs"

model_of() {  # arch ftype -> path
  if [[ $1 == 300m ]]; then echo "models/embeddinggemma-300m-synthetic-$2.gguf"
  else echo "models/embeddinggemma2-270m-synthetic-ftype-$2.gguf"; fi
}

synth() {  # arch ftype
  local model; model=$(model_of "$1" "$2")
  [[ -f $model ]] && return 0
  if [[ $1 == 300m ]]; then "$cli" synth --preset 300m --ftype "$2" -o "$model.tmp" >/dev/null
  else "$cli" synth --arch gemma-embedding2 --preset 270m --ftype "$2" -o "$model.tmp" >/dev/null; fi
  mv "$model.tmp" "$model"
}

check() {  # arch ftype: one conformance run, its log under $reports/logs
  local model start status=0; model=$PWD/$(model_of "$1" "$2"); start=$(date +%s)
  if [[ $1 == 300m ]]; then
    GGUFEMBED_CLI=$cli GGUFEMBED_MODEL=$model GGUFEMBED_REPORT_DIR=$reports GGUFEMBED_FLOOR=wllama \
      node --test --test-name-pattern="matches llama.cpp" tests/node/conformance.test.mjs \
      >"$reports/logs/$1-$2.log" 2>&1 || status=$?
  else
    GGUFEMBED_CLI=$cli GGUFEMBED_MODEL=$model GGUFEMBED_REPORT_DIR=$reports GGUFEMBED_FLOOR=native \
      GGUFEMBED_TIMEOUT_MINUTES=${GGUFEMBED_TIMEOUT_MINUTES:-60} node --test tests/node/conformance_wllama.test.mjs >"$reports/logs/$1-$2.log" 2>&1 || status=$?
  fi
  echo "$1 $2: $([[ $status == 0 ]] && echo pass || echo FAIL) in $(( $(date +%s) - start )) s" \
       "(load average $(cut -d' ' -f1-3 /proc/loadavg))" | tee -a "$reports/logs/runs.txt"
}

runs=()
for arch in 300m 270m; do
  [[ $which == all || $which == "$arch" ]] || continue
  for ftype in "${ftypes[@]}"; do synth "$arch" "$ftype"; runs+=("$arch $ftype"); done
done
if [[ $which != 300m ]]; then bash scripts/llama-eg2/build.sh; fi
echo "commit $(git rev-parse --short HEAD); $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)," \
     "$(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg) at start" | tee -a "$reports/logs/runs.txt"
for run in "${runs[@]}"; do
  while [[ $(jobs -rp | wc -l) -ge $jobs ]]; do wait -n || true; done
  # shellcheck disable=SC2086
  check $run &
done
wait

# The summary, from the tests' JSON reports and each file's tensor table: this run's files and
# those of earlier runs whose reports are still in $reports.
GGUFEMBED_CLI=$cli node --input-type=module - "$reports" "${runs[@]}" <<'EOF'
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";

const [reports, ...runs] = process.argv.slice(2);
const modelOf = (arch, ftype) => arch === "300m" ? `models/embeddinggemma-300m-synthetic-${ftype}.gguf`
                                                 : `models/embeddinggemma2-270m-synthetic-ftype-${ftype}.gguf`;
const reportOf = (arch, model) =>
  join(reports, `${arch === "300m" ? "conformance" : "wllama"}-${basename(model)}.json`);
const all = ["q4_0", "q4_0_qat", "q4_1", "q5_0", "q5_1", "q4_k_m", "q5_k_m", "q6_k", "q8_0", "bf16", "f16", "f32"];
const shown = ["300m", "270m"].flatMap((arch) => all.map((ftype) => [arch, ftype])).filter(([arch, ftype]) =>
  runs.includes(`${arch} ${ftype}`) || existsSync(reportOf(arch, modelOf(arch, ftype))));
const rows = [];
for (const [arch, ftype] of shown) {
  const model = modelOf(arch, ftype);
  const info = JSON.parse(execFileSync(process.env.GGUFEMBED_CLI, ["info", "--json", model],
                                       { maxBuffer: 1 << 28 }));
  const counts = {};
  for (const t of info.tensors) counts[t.type] = (counts[t.type] ?? 0) + 1;
  const mix = Object.entries(counts).sort((a, b) => b[1] - a[1]).map(([t, n]) => `${n} ${t}`).join(", ");
  const file = reportOf(arch, model);
  const r = existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : null;
  rows.push({
    arch: arch === "300m" ? "gemma-embedding 300m" : "gemma-embedding2 270m", ftype, mix,
    file_mb: +(info.file_size / 1e6).toFixed(1),
    peer: arch === "300m" ? "llama.cpp native (node-llama-cpp)"
        : r?.against ?? "llama.cpp b12211 (wllama 3.13.0)",
    min_wasm: r?.minWasm ?? null,
    texts: r?.texts ?? null, min_cosine: r?.minCosine ?? null, worst_text: r?.worst?.text ?? null,
    worst_tokens: r?.worst?.tokens ?? null, floor: r?.floor ?? null, floor_text: r?.floorWorst?.text ?? null,
    threshold: r?.threshold ?? null, pass: r ? r.rows.every((x) => x.cosine >= r.threshold) : false,
  });
}
writeFileSync(join(reports, "summary.json"), JSON.stringify(rows, null, 1) + "\n");
const cell = (s) => String(s).replaceAll("|", "\\|");
const f6 = (x) => (typeof x === "number" ? x.toFixed(6) : "n/a");
const md = ["| model | preset | tensor types | MB | against | minimum cosine | worst text (tokens) | " +
            "llama.cpp native vs wasm, minimum (text) | threshold | pass | 270m: ours vs wasm |",
            "|---|---|---|---:|---|---:|---|---:|---:|---|---:|"];
for (const r of rows) {
  md.push(`| ${r.arch} | ${r.ftype} | ${r.mix} | ${r.file_mb.toFixed(0)} | ${r.peer} | ${f6(r.min_cosine)} | ` +
          `${cell(r.worst_text ?? "n/a")} (${r.worst_tokens ?? "?"}) | ` +
          `${r.floor === null ? "—" : `${f6(r.floor)} (${cell(r.floor_text)})`} | ${f6(r.threshold)} | ${r.pass ? "yes" : "**no**"} | ${r.min_wasm === null ? "—" : f6(r.min_wasm)} |`);
}
writeFileSync(join(reports, "summary.md"), md.join("\n") + "\n");
process.stdout.write(md.join("\n") + "\n");
EOF
