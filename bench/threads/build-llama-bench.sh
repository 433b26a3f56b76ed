#!/usr/bin/env bash
# Builds llama.cpp's own `llama-bench` from the llama.cpp source that node-llama-cpp ships
# (node_modules/node-llama-cpp/llama/gitRelease.bundle — the same release its prebuilt binaries
# come from), offline, into bench/.llama.cpp/. bench/threads/threads.ts then runs it side by side with
# node-llama-cpp and RawrXD on the same model, so the "≥ 0.9× llama-bench" figure is a ratio
# measured in one run, not a comparison with numbers taken on another day.
# llama.cpp's defaults: GGML_NATIVE=ON (tuned to this CPU) and GGML_OPENMP=ON (a persistent
# thread team). About 5–8 minutes on 2 vCPUs; run once, never at install.
# Usage: bench/threads/build-llama-bench.sh [--jobs N]
set -euo pipefail
# Everything below is relative to bench/, where .llama.cpp/ lives.
cd "$(dirname "$0")/.."
jobs="$(nproc)"
if [[ "${1:-}" == "--jobs" ]]; then jobs="$2"; fi

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
  -DLLAMA_BUILD_SERVER=OFF -DBUILD_SHARED_LIBS=OFF >/dev/null
cmake --build "$build_dir" --target llama-bench -j "$jobs"
echo "built: bench/$build_dir/bin/llama-bench"
