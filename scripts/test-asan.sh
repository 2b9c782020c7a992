#!/usr/bin/env bash
# Builds the native addon with AddressSanitizer into build-asan/ (the normal build in
# build/ is untouched) and runs the native kernel tests against it, with libasan
# preloaded into node. See native/README.md.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/build-asan"
rm -rf "$out"
mkdir -p "$out"
# node-gyp builds in <dir>/build, so give it a directory that mirrors the sources.
ln -s "$root/binding.gyp" "$out/binding.gyp"
ln -s "$root/native" "$out/native"
ln -s "$root/node_modules" "$out/node_modules"
gyp="$(dirname "$(dirname "$(command -v node)")")/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js"
[ -f "$gyp" ] || gyp="$(node -p "require.resolve('node-gyp/bin/node-gyp.js')")"
nodedir=()
# Offline machines: use the installed Node headers instead of downloading them.
if [ -f /usr/include/node/node_api.h ]; then nodedir=(--nodedir=/usr); fi
(
  cd "$out"
  CFLAGS="-fsanitize=address -fno-omit-frame-pointer -g" \
  CXXFLAGS="-fsanitize=address -fno-omit-frame-pointer -g" \
  LDFLAGS="-fsanitize=address" \
  node "$gyp" rebuild --release --jobs=max "${nodedir[@]}"
)
asan="$(g++ -print-file-name=libasan.so)"
echo "heed: running the native tests against $out/build/Release/heed.node with $asan"
# Node itself is not built with ASan and keeps memory alive at exit: leaks are not reported.
HEED_NATIVE_PATH="$out/build/Release/heed.node" \
LD_PRELOAD="$asan" \
ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:halt_on_error=1" \
node --import tsx --test "$root"/test/native/*.test.ts
