#!/usr/bin/env bash
# README command 1: set up, build the native CLI, generate the default demo model (a synthetic
# EmbeddingGemma-300M, Q8_0, random weights), show its metadata summary, then embed a few
# sentences with a task prompt and print their cosine-similarity matrix; then embed a small JSONL
# corpus the way a search index is built (ids in, vectors out, every core).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh --native
cmake -S . -B build-cli -G Ninja -DCMAKE_BUILD_TYPE=Release -DGGUFEMBED_BUILD_TESTS=OFF >/dev/null
cmake --build build-cli --target ggufembed
model=models/embeddinggemma-300m-synthetic-q8_0.gguf
if [[ ! -f $model ]]; then
  mkdir -p models
  ./build-cli/ggufembed synth --preset 300m --wtype q8_0 -o "$model"
fi
./build-cli/ggufembed info "$model" | sed -n '1,2p;/tensors:/p'
echo
echo "Embedding with $model (random weights: the similarities show the engine working, not meaning):"
./build-cli/ggufembed embed -m "$model" --prompt sentence-similarity --format similarity \
  "The cat sleeps on the sofa." \
  "A kitten naps on the couch." \
  "Stock markets fell sharply today." \
  "Investors sold shares as prices dropped." \
  "The cat sleeps on the sofa."
echo
echo "The corpus job: 200 JSONL records with ids, every core, short texts packed into shared passes:"
corpus=models/demo-corpus.jsonl
for i in $(seq 1 200); do
  printf '{"id":"doc-%d","text":"Document %d talks about topic %d and a few other things."}\n' \
    "$i" "$i" $((i % 7))
done > "$corpus"
time ./build-cli/ggufembed embed -q -m "$model" --input-format jsonl -i "$corpus" \
  -o models/demo-vectors.jsonl --prompt document
echo "wrote models/demo-vectors.jsonl ($(wc -l < models/demo-vectors.jsonl) records); the first:"
head -c 160 models/demo-vectors.jsonl
echo " ..."
