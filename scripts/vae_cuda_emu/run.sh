#!/usr/bin/env bash
# Runs tests/gpu/test_vae_direct_conv.c and tests/gpu/test_vae_cuda.c against dit/vae_cuda*.cu on the HOST, without a GPU: the CUDA
# runtime/cuBLAS subset the runner uses is emulated (cudaMallocAsync -> malloc filled with NaN
# bytes, so reads of unwritten memory show; cublasSgemm[StridedBatched] -> column-major cblas_sgemm
# with cuBLAS's leading-dimension checks; kernels run as grid-stride loops with one thread per
# block; lib's vd_softmax_cuda is a host softmax (fake_ctx.cpp); cuDNN convolutions by the direct
# NDHWC convolution of cudnn.h here). It checks the runner's indexing,
# GEMM parameters, caches and layer order, not CUDA-specific behaviour (warp shuffles, launch
# limits, races, TF32). The direct conv kernel (vae_cudnn_direct.cu) runs the same way, its
# shared-memory staging with one thread per block. Emulated cuDNN switches (cudnn.h):
# EMU_CUDNN_NO_BETA, EMU_CUDNN_FIND_FAIL, EMU_CUDNN_NO_ALGO=small|all. Needs a build dir with
# vdit_lib built (CPU or CUDA; the library's CUDA objects are left out):
#   scripts/vae_cuda_emu/run.sh [build-dir]        (default: build)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "${1:-$ROOT/build}" && pwd)
EMU=$(cd "$(dirname "$0")" && pwd)
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
mkdir -p "$W/lib"
# the runners: the GEMM one (vae_cuda.cu) and the cuDNN one (vae_cudnn*.cu, against cudnn.h here)
for cu in vae_cuda vae_cudnn vae_cudnn_dev vae_cudnn_conv vae_cudnn_direct; do
python3 - "$ROOT/dit/$cu.cu" "$W/${cu}_emu.cpp" <<'PY'
import re, sys
s = open(sys.argv[1]).read()
def rep(m):
    name, inside = m.group(1), m.group(2)
    depth, grid = 0, ''
    for ch in inside:
        depth += (ch == '(') - (ch == ')')
        if ch == ',' and depth == 0:
            break
        grid += ch
    return f'EMU_LAUNCH({name}, {grid})('
s = re.sub(r'(\w+)<<<(.*?)>>>\(', rep, s, flags=re.S)
s = '#include "cuda_runtime.h"\n#include "emu_launch.h"\n' + s
s = re.sub(r'\bNULL\b', 'nullptr', s)
open(sys.argv[2], 'w').write(s)
PY
done
(cd "$W/lib" && ar x "$BUILD/lib/libvdit_lib.a" && rm -f device_nocuda.c.o *.cu.o)
FL="-O1 -g -I$EMU -I$ROOT -I$ROOT/lib $(pkg-config --cflags libcjson)"
CF="-std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -fopenmp"
for cu in vae_cuda vae_cudnn vae_cudnn_dev vae_cudnn_conv vae_cudnn_direct; do
  g++ -std=c++17 $FL -fopenmp -DVDIT_HAVE_CUDA=1 -DVDIT_HAVE_CUDNN=1 -c "$W/${cu}_emu.cpp" -o "$W/$cu.o"
done
g++ -std=c++17 $FL -c "$EMU/fake_ctx.cpp" -o "$W/fake_ctx.o"
for f in vae_config vae_weights vae_cpu vae_decode; do gcc $CF $FL -c "$ROOT/dit/$f.c" -o "$W/$f.o"; done
gcc $CF $FL -c "$ROOT/tests/test_util.c" -o "$W/tu.o"
mkdir -p "$W/t"
for t in test_vae_direct_conv test_vae_cuda; do
  gcc $CF $FL -c "$ROOT/tests/gpu/$t.c" -o "$W/t/$t.o"
  g++ -fopenmp -o "$W/${t}_emu" "$W"/*.o "$W/t/$t.o" "$W"/lib/*.o $(pkg-config --libs openblas libcjson) -lm -lpthread
done
cd "$ROOT/tests"
VDIT_SOURCE_DIR="$ROOT" "$W/test_vae_direct_conv_emu"
VDIT_SOURCE_DIR="$ROOT" "$W/test_vae_cuda_emu"
