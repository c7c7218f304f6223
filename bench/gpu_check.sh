#!/usr/bin/env bash
# One-GPU check of mtmixg: the CUDA tests, fused-vs-pure equality (when mamba_ssm imports), seq/s
# per arch at L 3,020 / batch 64 with AMP on and off, and one training epoch of full-size
# mtmixg on synthetic windows; prints one markdown table (a few minutes on one modern GPU).
# Needs Python with torch, numpy and pandas; the package comes from this checkout (model/).
#   bench/gpu_check.sh [--windows 4000] [--archs mtmixg cnn] [--skip-tests]
#   bench/gpu_check.sh --cpu-smoke     # no GPU: the same code paths on the CPU, tiny sizes
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
export PYTHONPATH="$repo/model${PYTHONPATH:+:$PYTHONPATH}"
exec "${PYTHON:-python3}" bench/gpu_check.py "$@"
