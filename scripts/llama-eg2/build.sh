#!/usr/bin/env bash
# Opt-in, for measurement only: a native llama.cpp that knows gemma-embedding2, built from the
# llama.cpp tree node-llama-cpp bundles (node_modules/node-llama-cpp/llama/gitRelease.bundle, which
# predates the architecture) plus ggufembed's own graph (gemma-embedding2.cpp) and registration
# (registration.patch). Only libllama is compiled; it links node-llama-cpp's PREBUILT ggml
# (libggml, libggml-base, and the CPU backends loaded at run time), so the arithmetic is
# node-llama-cpp's. Also builds the driver embed.cpp.
#
#   bash scripts/llama-eg2/build.sh            # needs node_modules (bash scripts/setup.sh), g++, make
#   build/llama-eg2/embed node_modules/@node-llama-cpp/linux-x64/bins/linux-x64 M.gguf < texts
#
# Output in build/llama-eg2/: src/ (the clone, patched), obj/ (objects, Makefile), lib/
# (libllama.so + copies of the ggml libraries), embed. Re-running rebuilds only what changed
# (a changed patch resets the clone and rebuilds everything). Environment: JOBS (make -j, default
# 1), OPT (default -O1: libllama does no heavy arithmetic; ggml is prebuilt).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
OUT=$ROOT/build/llama-eg2
SRC=$OUT/src
OBJ=$OUT/obj
LIB=$OUT/lib
BUNDLE=$ROOT/node_modules/node-llama-cpp/llama/gitRelease.bundle
BINS=$ROOT/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64
JOBS=${JOBS:-1}
OPT=${OPT:--O1}

for f in "$BUNDLE" "$BINS/libggml.v0.5.0.so" "$BINS/libggml-base.so"; do
  [[ -e $f ]] || { echo "llama-eg2: missing $f (run bash scripts/setup.sh first)" >&2; exit 1; }
done
command -v g++ >/dev/null && command -v make >/dev/null && command -v git >/dev/null ||
  { echo "llama-eg2: needs g++, make and git (apt-get install g++ make git)" >&2; exit 1; }
mkdir -p "$OUT" "$OBJ" "$LIB"

# Writes stdin to $1 only when it differs, so make sees unchanged files as unchanged.
put() { local t; t=$(mktemp "$1.XXXX"); cat >"$t"; if cmp -s "$t" "$1"; then rm -f "$t"; else mv "$t" "$1"; fi; }

# 1. The clone, with the registration applied (reset and re-applied when the patch changes).
if [[ ! -d $SRC/.git ]]; then
  rm -rf "$SRC"
  git -c advice.detachedHead=false clone -q "$BUNDLE" "$SRC"
  rm -f "$OUT/.patch-sha"
fi
patch_sha=$(sha256sum "$HERE/registration.patch" | cut -d' ' -f1)
if [[ $(cat "$OUT/.patch-sha" 2>/dev/null) != "$patch_sha" ]]; then
  git -C "$SRC" checkout -q -- .
  git -C "$SRC" apply "$HERE/registration.patch"
  echo "$patch_sha" >"$OUT/.patch-sha"
  touch "$OBJ/tree.stamp"  # the patched headers changed: rebuild every object
fi
[[ -e $OBJ/tree.stamp ]] || touch "$OBJ/tree.stamp"
put "$SRC/src/models/gemma-embedding2.cpp" <"$HERE/gemma-embedding2.cpp"
printf '#pragma once\n#define LLAMA_VERSION "%s-eg2"\n#define LLAMA_COMMIT "%s+ggufembed-eg2"\n' \
  "$(node -p "require('$ROOT/node_modules/node-llama-cpp/llama/llama.cpp.info.json').tag" 2>/dev/null || echo unknown)" \
  "$(git -C "$SRC" rev-parse --short HEAD)" | put "$OBJ/llama-version.h"

# 2. The prebuilt ggml libraries libllama links (copies, so the build outlives a reinstall).
for f in libggml.v0.5.0.so libggml-base.so; do cmp -s "$BINS/$f" "$LIB/$f" || cp "$BINS/$f" "$LIB/$f"; done

# 3. A Makefile: core sources one object each (as upstream), the model files in unity batches of
#    16 (as upstream), ours alone.
{
  echo "CXXFLAGS = $OPT -g0 -std=c++17 -fPIC -DLLAMA_BUILD -DLLAMA_SHARED -I$SRC/src -I$SRC/include -I$SRC/ggml/include -I$OBJ"
  echo "OBJS ="
  for s in "$SRC"/src/*.cpp; do
    o=$(basename "$s" .cpp).o
    echo "OBJS += $o"
    echo "$o: $s tree.stamp llama-version.h"
    echo "	\$(CXX) \$(CXXFLAGS) -c \$< -o \$@"
  done
  mapfile -t models < <(ls "$SRC"/src/models/*.cpp | grep -v '/gemma-embedding2\.cpp$' | LC_ALL=C sort)
  for ((i = 0; i < ${#models[@]}; i += 16)); do
    u=unity_$((i / 16))
    printf '#include "%s"\n' "${models[@]:i:16}" | put "$OBJ/$u.cpp"
    echo "OBJS += $u.o"
    echo "$u.o: $u.cpp ${models[*]:i:16} tree.stamp"
    echo "	\$(CXX) \$(CXXFLAGS) -c \$< -o \$@"
  done
  echo "OBJS += gemma-embedding2.o"
  echo "gemma-embedding2.o: $SRC/src/models/gemma-embedding2.cpp tree.stamp"
  echo "	\$(CXX) \$(CXXFLAGS) -c \$< -o \$@"
  echo "$LIB/libllama.so: \$(OBJS) $LIB/libggml.v0.5.0.so $LIB/libggml-base.so"
  echo "	\$(CXX) -shared -Wl,-soname,libllama.so -o \$@ \$(OBJS) -L$LIB -l:libggml.v0.5.0.so -l:libggml-base.so -Wl,-rpath,'\$\$ORIGIN'"
  echo "$OUT/embed: $HERE/embed.cpp $LIB/libllama.so"
  echo "	\$(CXX) -O2 -std=c++17 -I$SRC/include -I$SRC/ggml/include \$< -o \$@ -L$LIB -lllama -l:libggml.v0.5.0.so -l:libggml-base.so -Wl,-rpath,'\$\$ORIGIN/lib'"
  echo "all: $LIB/libllama.so $OUT/embed"
  echo ".DEFAULT_GOAL := all"
} | put "$OBJ/Makefile"

# 4. Build (idempotent: make skips what is up to date).
if make -q -C "$OBJ" all 2>/dev/null; then
  echo "llama-eg2: up to date ($OUT/embed)"
else
  nice -n 10 make -C "$OBJ" -j"$JOBS" all
  echo "llama-eg2: built $OUT/embed (libllama: $LIB/libllama.so)"
fi
