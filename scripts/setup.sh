#!/usr/bin/env bash
# Installs everything ggufembed needs to build and test, idempotently: Debian packages (as root),
# the emscripten fix-up for Node from outside Debian, and the npm dev dependencies (from the lock
# file). Safe to run again; it only does what is missing.
# Usage: setup.sh [--native]   (--native: only what the native CLI needs to build and run)
set -euo pipefail
cd "$(dirname "$0")/.."

native_only=0
[[ ${1:-} == --native ]] && native_only=1

APT_PACKAGES=(g++ cmake ninja-build libhwy-dev catch2)
# python3-distributed: the Dask example and its test (examples/dask/); clang and its runtime
# (libFuzzer, ASan, UBSan): the fuzz harnesses the test command runs (scripts/fuzz.sh).
((native_only)) || APT_PACKAGES+=(emscripten chromium python3-distributed clang libclang-rt-14-dev)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup: need root for apt-get (run: sudo $0)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${APT_PACKAGES[@]}"
fi

((native_only)) && exit 0

# Node >= 20 (playwright-core and node-llama-cpp need it; Debian bookworm's own nodejs is 18).
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if ((node_major < 20)); then
  echo "setup: Node.js >= 20 is required (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi

# Debian's emscripten finds its 'acorn' module through Debian's Node search path, which a Node
# from elsewhere (nodesource) does not search: without this link, optimized emcc links fail with
# "Cannot find module 'acorn'".
if [[ ! -e /usr/share/emscripten/node_modules ]]; then
  if [[ $(id -u) -eq 0 ]]; then
    ln -sfn /usr/share/nodejs /usr/share/emscripten/node_modules
  else
    echo "setup: run as root once to link /usr/share/emscripten/node_modules" >&2
    exit 1
  fi
fi

# npm dev dependencies (reference peers and the browser driver), installed from the lock file and
# again when it changes. `npm install`, not `npm ci`: node-llama-cpp names optional binaries for
# platforms the registry mirror does not carry, so the lock can never list them all and `npm ci`
# would refuse it; .npmrc omits optional packages anyway.
stamp=node_modules/.ggufembed-lock.sha256
want=$(sha256sum package.json package-lock.json | sha256sum | cut -d' ' -f1)
if [[ ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
  echo "setup: npm install (from package-lock.json)"
  npm install --no-audit --no-fund --loglevel=error
  echo "$want" > "$stamp"
fi
