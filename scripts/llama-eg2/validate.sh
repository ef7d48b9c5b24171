#!/usr/bin/env bash
# Opt-in check of the llama-eg2 build (build.sh) against ggufembed and, with WLLAMA=1, wllama 3.13
# (slow: minutes for 270m-sized files). Texts: tests/node/corpus.mjs's SHORT_TEXTS plus prose of
# 600 and 3,000 tokens (counted with the model's tokenizer). Prints, per pair, the minimum cosine
# of the raw pooled vectors and the texts whose token counts differ; exits 1 when a pair is below
# MIN_COS (default 0.999999) or a token count differs.
#
#   bash scripts/llama-eg2/validate.sh [MODEL.gguf ...]   # default: synthetic tiny f16 and f32
#   WLLAMA=1 bash scripts/llama-eg2/validate.sh ...
# Needs build/ggufembed (scripts/run.sh or test.sh) and node. LLAMA_EG2_FA=0|1 is passed through.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CLI=$ROOT/build/ggufembed
BINS=$ROOT/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64
[[ -x $CLI ]] || { echo "validate: build/ggufembed missing (bash scripts/run.sh)" >&2; exit 1; }
bash "$HERE/build.sh" >/dev/null
WORK=$(mktemp -d /tmp/llama-eg2-validate.XXXX)
trap 'rm -rf "$WORK"' EXIT

models=("$@")
if [[ ${#models[@]} -eq 0 ]]; then
  for w in f16 f32; do
    "$CLI" synth --arch gemma-embedding2 --preset tiny --wtype $w -o "$WORK/tiny-$w.gguf" >/dev/null
    models+=("$WORK/tiny-$w.gguf")
  done
fi

status=0
for m in "${models[@]}"; do
  echo "== $m"
  # the texts, as a JSON array, NUL-terminated and as JSONL records
  CLI=$CLI MODEL=$m OUT=$WORK node --input-type=module -e '
    import { SHORT_TEXTS, proseOfTokens } from "'"$ROOT"'/tests/node/corpus.mjs";
    import { execFileSync } from "node:child_process";
    import { writeFileSync } from "node:fs";
    const { CLI, MODEL, OUT } = process.env;
    const count = (s) => JSON.parse(execFileSync(CLI, ["tokenize", "-m", MODEL, s])).length;
    const texts = [...SHORT_TEXTS, proseOfTokens(600, count), proseOfTokens(3000, count)];
    writeFileSync(OUT + "/texts.json", JSON.stringify(texts));
    writeFileSync(OUT + "/texts.nul", texts.map((t) => t + "\0").join(""));
    writeFileSync(OUT + "/texts.jsonl", texts.map((t, i) => JSON.stringify({ id: i, text: t }) + "\n").join(""));'
  "$CLI" embed -m "$m" --no-normalize --input-format jsonl -f jsonl -t 1 -q -i "$WORK/texts.jsonl" >"$WORK/ggufembed.jsonl"
  "$ROOT/build/llama-eg2/embed" "$BINS" "$m" <"$WORK/texts.nul" >"$WORK/llama-eg2.jsonl" 2>"$WORK/llama-eg2.err" ||
    { cat "$WORK/llama-eg2.err" >&2; exit 1; }
  outs=("$WORK/ggufembed.jsonl" "$WORK/llama-eg2.jsonl")
  if [[ ${WLLAMA:-0} == 1 ]]; then
    node "$ROOT/bench/peers/wllama_runner.mjs" --model "$m" --texts "$WORK/texts.json" --runs 1 --warmup 0 \
      --ctx 4096 >"$WORK/wllama.out" 2>"$WORK/wllama.err" || { tail -5 "$WORK/wllama.err" >&2; exit 1; }
    outs+=("$WORK/wllama.out")
  fi
  MIN_COS=${MIN_COS:-0.999999} node -e '
    const fs = require("fs"), path = require("path");
    const load = (p) => {
      const lines = fs.readFileSync(p, "utf8").split("\n").filter((l) => l.trim());
      if (p.endsWith(".out")) return JSON.parse(lines.at(-1)).texts.map((t) => [t.tokens, t.vector]);
      return lines.map((l) => JSON.parse(l)).map((r) => [r.tokens, r.embedding]);
    };
    const cos = (a, b) => { let ab = 0, aa = 0, bb = 0;
      for (let i = 0; i < a.length; ++i) { ab += a[i] * b[i]; aa += a[i] * a[i]; bb += b[i] * b[i]; }
      return ab / Math.sqrt(aa * bb); };
    const files = process.argv.slice(1), V = files.map(load);
    let bad = false;
    for (let i = 0; i < files.length; ++i) for (let j = i + 1; j < files.length; ++j) {
      const A = V[i], B = V[j];
      if (A.length !== B.length) { console.log("text count differs"); bad = true; continue; }
      let min = 2, at = -1, same = 0; const tok = [];
      A.forEach((a, k) => { const b = B[k];
        if (a[0] !== b[0]) tok.push(k);
        if (!a[1].length || !b[1].length) return;
        const c = cos(a[1], b[1]); if (c < min) { min = c; at = k; }
        if (a[1].every((x, n) => x === b[1][n])) ++same; });
      const name = (f) => path.basename(f).replace(/\.(jsonl|out)$/, "");
      console.log(`${name(files[i])} vs ${name(files[j])}: ${A.length} texts (${A.at(-2)[0]} and ${A.at(-1)[0]} tokens last),` +
        ` min cosine ${min.toFixed(9)} (text ${at}), token counts differ: [${tok}], identical vectors: ${same}`);
      if (min < Number(process.env.MIN_COS) || tok.length) bad = true;
    }
    process.exit(bad ? 1 : 0);' "${outs[@]}" || status=1
done
exit $status
