#!/usr/bin/env bash
# Opt-in (slow: minutes): conformance of gemma-embedding2 with llama.cpp b12211 (wllama 3.13.0)
# on the synthetic model with EmbeddingGemma 2's real shapes, Q8_0 and F16, for the 47-text
# corpus plus prose of 600 and 3,000 tokens. Needs a native build in build/ (scripts/test.sh).
# Usage: bash scripts/conformance-eg2-270m.sh
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p models
for wtype in q8_0 f16; do
  model=models/embeddinggemma2-270m-synthetic-$wtype.gguf
  [[ -f $model ]] || ./build/ggufembed synth --arch gemma-embedding2 --preset 270m --wtype $wtype -o "$model"
  GGUFEMBED_CLI=$PWD/build/ggufembed GGUFEMBED_MODEL=$PWD/$model GGUFEMBED_REPORT_DIR=$PWD/build/reports \
    node --test tests/node/conformance_wllama.test.mjs
done
