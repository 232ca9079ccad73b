#!/usr/bin/env bash
# Runs tests/gpu/test_vae_cuda.c against dit/vae_cuda.cu on the HOST, without a GPU: the CUDA
# runtime/cuBLAS subset the runner uses is emulated (cudaMallocAsync -> malloc filled with NaN
# bytes, so reads of unwritten memory show; cublasSgemm[StridedBatched] -> column-major cblas_sgemm
# with cuBLAS's leading-dimension checks; kernels run as grid-stride loops with one thread per
# block; the softmax kernel is replaced by a host softmax). It checks the runner's indexing,
# GEMM parameters, caches and layer order, not CUDA-specific behaviour (warp shuffles, launch
# limits, races, TF32). Needs a CPU build dir with vdit_lib built:
#   scripts/vae_cuda_emu/run.sh [build-dir]        (default: build)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "${1:-$ROOT/build}" && pwd)
EMU=$(cd "$(dirname "$0")" && pwd)
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
mkdir -p "$W/lib"
python3 - "$ROOT/dit/vae_cuda.cu" "$W/vae_cuda_emu.cpp" <<'PY'
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
    return 'emu_softmax(' if name == 'vae_softmax_kernel' else f'EMU_LAUNCH({name}, {grid})('
s = re.sub(r'(\w+)<<<(.*?)>>>\(', rep, s, flags=re.S)
s = s.replace('#include <cublas_v2.h>', '#include <cublas_v2.h>\n#include "emu_launch.h"')
s = re.sub(r'\bNULL\b', 'nullptr', s)
open(sys.argv[2], 'w').write(s)
PY
(cd "$W/lib" && ar x "$BUILD/lib/libvdit_lib.a" && rm -f device_nocuda.c.o)
FL="-O1 -g -I$EMU -I$ROOT -I$ROOT/lib $(pkg-config --cflags libcjson)"
CF="-std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -fopenmp"
g++ -std=c++17 $FL -fopenmp -DVDIT_HAVE_CUDA=1 -c "$W/vae_cuda_emu.cpp" -o "$W/vae_cuda.o"
g++ -std=c++17 $FL -c "$EMU/fake_ctx.cpp" -o "$W/fake_ctx.o"
for f in vae_config vae_weights vae_cpu vae_decode; do gcc $CF $FL -c "$ROOT/dit/$f.c" -o "$W/$f.o"; done
gcc $CF $FL -c "$ROOT/tests/gpu/test_vae_cuda.c" -o "$W/t.o"
gcc $CF $FL -c "$ROOT/tests/test_util.c" -o "$W/tu.o"
g++ -fopenmp -o "$W/test_vae_cuda_emu" "$W"/*.o "$W"/lib/*.o $(pkg-config --libs openblas libcjson) -lm -lpthread
cd "$ROOT/tests" && VDIT_SOURCE_DIR="$ROOT" "$W/test_vae_cuda_emu"
