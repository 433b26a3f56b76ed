#!/usr/bin/env bash
# Builds llama.cpp's own `llama-bench` (and, with --server, `llama-server`) from the llama.cpp source that node-llama-cpp ships
# (node_modules/node-llama-cpp/llama/gitRelease.bundle — the same release its prebuilt binaries
# come from), offline, into bench/.llama.cpp/. bench/threads/threads.ts then runs it side by side with
# node-llama-cpp and RawrXD on the same model, so the "≥ 0.9× llama-bench" figure is a ratio
# measured in one run, not a comparison with numbers taken on another day. bench/peer/peer.ts
# (`npm run bench:peer`) runs it with --server to also get llama-server for the serving comparison.
# llama.cpp's defaults: GGML_NATIVE=ON (tuned to this CPU) and GGML_OPENMP=ON (a persistent
# thread team). About 5–8 minutes on 2 vCPUs; run once, never at install.
# Usage: bench/threads/build-llama-bench.sh [--jobs N] [--server]
set -euo pipefail
# Everything below is relative to bench/, where .llama.cpp/ lives.
cd "$(dirname "$0")/.."
jobs="$(nproc)"
server=OFF
targets=(llama-bench)
while [[ $# -gt 0 ]]; do
  case "$1" in
    --jobs) jobs="$2"; shift 2 ;;
    --server) server=ON; targets=(llama-server llama-bench); shift ;;
    *) echo "build-llama-bench: unknown argument $1 (use --jobs N, --server)" >&2; exit 2 ;;
  esac
done

bundle="../node_modules/node-llama-cpp/llama/gitRelease.bundle"
info="../node_modules/node-llama-cpp/llama/llama.cpp.info.json"
if [[ ! -f "$bundle" ]]; then
  echo "build-llama-bench: $bundle not found; run npm ci first" >&2
  exit 1
fi
for tool in git cmake make g++; do
  command -v "$tool" >/dev/null || { echo "build-llama-bench: $tool is needed (apt-get install -y cmake g++ make git)" >&2; exit 1; }
done

source_dir=".llama.cpp/src"
build_dir=".llama.cpp/build"
if [[ ! -d "$source_dir/.git" ]]; then
  rm -rf "$source_dir"
  mkdir -p .llama.cpp
  git clone --quiet "$bundle" "$source_dir"
fi
echo "llama.cpp source: $(cat "$info" | tr -d '\n ') at $(git -C "$source_dir" rev-parse --short HEAD)"

cmake -S "$source_dir" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release \
  -DGGML_NATIVE=ON -DGGML_OPENMP=ON -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF \
  -DLLAMA_BUILD_SERVER="$server" -DBUILD_SHARED_LIBS=OFF >/dev/null
cmake --build "$build_dir" --target "${targets[@]}" -j "$jobs"
for target in "${targets[@]}"; do echo "built: bench/$build_dir/bin/$target"; done
