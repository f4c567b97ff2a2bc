#!/usr/bin/env bash
# Regenerates transfer-cuda's PTX resource from its CUDA source (needs nvcc; the build itself does not: the PTX is
# committed). compute_75 is the oldest virtual architecture CUDA 13's nvcc accepts; the driver JIT-compiles the PTX
# for the GPU it runs on when the engine first loads it (CudaCopyKernel).
set -euo pipefail
cd "$(dirname "$0")/.."
NVCC=${NVCC:-/usr/local/cuda/bin/nvcc}
"$NVCC" -ptx -arch=compute_75 -o transfer-cuda/src/main/resources/dev/transferengine/cuda/te_copy_kernels.ptx \
    transfer-cuda/src/main/cuda/te_copy_kernels.cu
echo "wrote transfer-cuda/src/main/resources/dev/transferengine/cuda/te_copy_kernels.ptx"
