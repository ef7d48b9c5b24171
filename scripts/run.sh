#!/usr/bin/env bash
# README command 1: set up, build the native CLI, generate the default demo model (a synthetic
# EmbeddingGemma-300M, Q8_0, random weights) and print its metadata and tensor table.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh --native
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DGGUFEMBED_BUILD_TESTS=OFF >/dev/null
cmake --build build --target ggufembed
model=models/embeddinggemma-300m-synthetic-q8_0.gguf
if [[ ! -f $model ]]; then
  mkdir -p models
  ./build/ggufembed synth --preset 300m --wtype q8_0 -o "$model"
fi
./build/ggufembed info "$model"
