#!/usr/bin/env bash
# One short check for a machine with an NVIDIA GPU (docs/decisions/0010):
#   1. installs the project exactly as locked (npm ci; node-llama-cpp's prebuilt CUDA build
#      comes with it, nothing is compiled),
#   2. writes a synthetic ~1 B-parameter q8_0 llama model with the project's GGUF writer,
#   3. prints the detection report (`rawrxd gpu --local`),
#   4. measures prompt and decode tokens/s on CUDA and on the CPU, one after the other, in one run.
# Usage: bench/gpu/gpu-check.sh [--skip-install] [--size 1b|134m] [--backends cuda,cpu] [--reps 3]
# Takes about 5 minutes on a small GPU box (most of it npm ci and writing the 1.0 GiB model).
set -euo pipefail
cd "$(dirname "$0")/../.."

skip_install=false
passthrough=()
for arg in "$@"; do
  if [[ "$arg" == "--skip-install" ]]; then skip_install=true; else passthrough+=("$arg"); fi
done

echo "== machine"
uname -srm
node --version
if command -v nvidia-smi >/dev/null 2>&1; then
  nvidia-smi --query-gpu=index,name,memory.total,memory.free,driver_version --format=csv
else
  echo "nvidia-smi not found: the CUDA half will fail and say why"
fi
node -e 'const [major] = process.versions.node.split("."); if (Number(major) < 20) { console.error("Node 20 or newer is needed"); process.exit(1); }'

if [[ "$skip_install" == false ]]; then
  echo "== npm ci"
  # The prebuilt binaries are optional dependencies; node-llama-cpp's postinstall may be skipped:
  # the runner loads them with build:"never" and never compiles.
  if ! npm ci --no-audit --no-fund; then
    echo "npm ci failed (no registry access?). If node_modules is already installed, rerun with --skip-install." >&2
    exit 1
  fi
fi

echo "== detection report"
node bin/rawrxd.js gpu --local

echo "== prompt and decode tok/s, CUDA vs CPU"
# ${passthrough[@]+...} keeps `set -u` quiet when no options were given.
node --import tsx bench/gpu/gpu-check.ts ${passthrough[@]+"${passthrough[@]}"}
