#!/usr/bin/env bash
# Runs THERE (the GPU machine), from the repo root: builds vdit with CUDA and runs the gpu tests
# and any benchmarks named on the command line. The machine has nvcc 13, cmake, libpng and
# OpenBLAS but no cJSON, stb or FFmpeg dev packages: those come as .deb files fetched here by
# scripts/fetch_device_debs.sh into .deb/ (carried by the device call) and are unpacked with
# dpkg -x into .deb/root (no root rights, no network).
#
#   scripts/gpu_check.sh ["bench_prog [args...]" | "path/to/anchor.py [args...]"] ...
# Each argument is one benchmark command: a program of build-gpu/bench/ or a Python script.
# After bench_X, bench/anchors/X_torch.py runs too when it exists (the anchor, same run).
# Env: VDIT_BUILD_DIR (build-gpu), VDIT_CUDA_ARCHS (90), VDIT_CTEST_J (4), VDIT_CMAKE_ARGS (extra),
#      VDIT_GPU_CHECK_UNTIL=configure (stop after configuring: to test the .deb set-up),
#      VDIT_BUILD_TARGETS="t1 t2" (build only these), VDIT_CTEST_REGEX=re (only matching gpu tests),
#      VDIT_CUDNN_ROOT (cuDNN folder with include/ and lib/; default: the nvidia.cudnn pip package),
#      OUT (set by the device tool: logs and bench/results files are copied there; at most 8 files).
set -uo pipefail
root=$(pwd)
[ -f "$root/CMakeLists.txt" ] && [ -d "$root/lib" ] || { echo "gpu_check: run from the vdit repo root"; exit 2; }
build=${VDIT_BUILD_DIR:-build-gpu}
logdir=${OUT:-$root/$build/logs}
mkdir -p "$logdir" "$root/bench/results"
log=$logdir/gpu_check.log
: >"$log"
say() { echo "gpu_check: $*" | tee -a "$log"; }
t_start=$(date +%s)
stamp_file=$(mktemp)

{ nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm --format=csv 2>&1 || true
  nvcc --version 2>&1 | tail -2; cmake --version | head -1; uname -srm; grep PRETTY /etc/os-release 2>/dev/null; } | tee -a "$log"

# ---- unpack the carried .deb files --------------------------------------------------------
sysroot=$root/.deb/root
if ls "$root"/.deb/*.deb >/dev/null 2>&1; then
  rm -rf "$sysroot" && mkdir -p "$sysroot"
  for f in "$root"/.deb/*.deb; do dpkg -x "$f" "$sysroot" || say "dpkg -x failed for $f"; done
  # .pc files name /usr: point them at the unpacked tree
  find "$sysroot" -name '*.pc' -exec sed -i "s|=/usr|=$sysroot/usr|g" {} +
  libdir=$sysroot/usr/lib/x86_64-linux-gnu
  export PKG_CONFIG_PATH=$libdir/pkgconfig:$sysroot/usr/share/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
  export CMAKE_PREFIX_PATH=$sysroot/usr${CMAKE_PREFIX_PATH:+:$CMAKE_PREFIX_PATH}
  export LD_LIBRARY_PATH=$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  export LIBRARY_PATH=$libdir${LIBRARY_PATH:+:$LIBRARY_PATH}
  export CPATH=$sysroot/usr/include${CPATH:+:$CPATH}
  say "unpacked $(ls "$root"/.deb/*.deb | wc -l) .deb files into $sysroot"
  if ! command -v pkg-config >/dev/null && [ -x "$sysroot/usr/bin/pkgconf" ]; then
    export PATH=$PATH:$sysroot/usr/bin
    say "no pkg-config on this machine: using pkgconf from .deb"
  fi
  # FFmpeg only when every library it needs resolves here; otherwise hide its .pc files so that
  # CMake builds without FFmpeg instead of linking executables that cannot start.
  ff_libs=$(ls "$libdir"/libav*.so.* "$libdir"/libsw*.so.* 2>/dev/null || true)
  if [ -n "$ff_libs" ]; then
    missing=$(ldd $ff_libs 2>/dev/null | grep "not found" | sort -u)
    if [ -n "$missing" ]; then
      say "FFmpeg from .deb disabled: missing libraries:"; echo "$missing" | tee -a "$log"
      for pc in "$libdir"/pkgconfig/libav*.pc "$libdir"/pkgconfig/libsw*.pc; do [ -f "$pc" ] && mv "$pc" "$pc.off"; done
    else
      say "FFmpeg from .deb: all libraries resolve"
    fi
  fi
else
  say "no .deb files in .deb/ (run scripts/fetch_device_debs.sh here and carry .deb); using the system's packages"
fi

if ! command -v nvcc >/dev/null && [ -x /usr/local/cuda/bin/nvcc ]; then
  export PATH=$PATH:/usr/local/cuda/bin
  say "nvcc not on PATH: using /usr/local/cuda/bin/nvcc"
fi

# ---- cuDNN (the CUDA VAE's conv path; cmake/cudnn.cmake): here it comes from PyTorch's pip
# package. VDIT_CUDNN_ROOT set by the caller wins. Its lib/ goes on LD_LIBRARY_PATH too: libcudnn
# opens its engine libraries (libcudnn_cnn.so.9, ...) at run time.
if [ -z "${VDIT_CUDNN_ROOT:-}" ]; then
  cudnn_pip=$(python3 -c "import nvidia.cudnn as m; print(list(m.__path__)[0])" 2>/dev/null || true)
  [ -n "$cudnn_pip" ] && [ -f "$cudnn_pip/include/cudnn.h" ] && export VDIT_CUDNN_ROOT=$cudnn_pip
fi
if [ -n "${VDIT_CUDNN_ROOT:-}" ]; then
  for l in lib lib64; do
    [ -d "$VDIT_CUDNN_ROOT/$l" ] && export LD_LIBRARY_PATH=$VDIT_CUDNN_ROOT/$l${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  done
  say "cuDNN: VDIT_CUDNN_ROOT=$VDIT_CUDNN_ROOT ($(ls "$VDIT_CUDNN_ROOT"/lib*/libcudnn.so* 2>/dev/null | head -3 | tr '\n' ' '))"
else
  say "cuDNN: none found (no nvidia.cudnn pip package): the VAE builds with its GEMM convolutions only"
fi

# ---- configure, build ---------------------------------------------------------------------
say "configure $build (CUDA ON, archs ${VDIT_CUDA_ARCHS:-90})"
gen=(); keep=(-k)
if command -v ninja >/dev/null; then gen=(-G Ninja); keep=(-k 0); fi
cmake "${gen[@]}" -S "$root" -B "$root/$build" -DVDIT_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES="${VDIT_CUDA_ARCHS:-90}" \
  -DCMAKE_BUILD_TYPE=Release -DVDIT_ALLOW_MISSING_TESTS=ON ${VDIT_CMAKE_ARGS:-} >"$logdir/configure.log" 2>&1
rc_cfg=$?
grep -E "vdit:|Warning|Error" "$logdir/configure.log" | tee -a "$log"
[ $rc_cfg -eq 0 ] || { say "configure FAILED (rc $rc_cfg); see configure.log"; tail -30 "$logdir/configure.log"; exit 1; }
[ "${VDIT_GPU_CHECK_UNTIL:-}" = configure ] && { say "stopping after configure (VDIT_GPU_CHECK_UNTIL)"; exit 0; }
jobs=$(nproc 2>/dev/null || echo 16)
say "build -j$jobs"
t0=$(date +%s)
cmake --build "$root/$build" -j"$jobs" ${VDIT_BUILD_TARGETS:+--target $VDIT_BUILD_TARGETS} -- "${keep[@]}" >"$logdir/build.log" 2>&1
rc_build=$?
say "build rc $rc_build in $(($(date +%s) - t0)) s"
[ $rc_build -eq 0 ] || { grep -E "error|Error" "$logdir/build.log" | head -40 | tee -a "$log"; }

# ---- gpu tests ----------------------------------------------------------------------------
say "ctest -L gpu"
t0=$(date +%s)
ctest --test-dir "$root/$build" -L gpu ${VDIT_CTEST_REGEX:+-R $VDIT_CTEST_REGEX} --output-on-failure -j"${VDIT_CTEST_J:-4}" >"$logdir/ctest_gpu.log" 2>&1
rc_test=$?
tail -40 "$logdir/ctest_gpu.log" | tee -a "$log"
say "ctest rc $rc_test in $(($(date +%s) - t0)) s"

# ---- benchmarks ---------------------------------------------------------------------------
rc_bench=0
run_one() {
  local prog=$1; shift
  if [[ $prog == *.py ]]; then
    say "bench: python3 $prog $*"
    python3 "$prog" "$@" 2>&1 | tee -a "$log"
  elif [ -x "$root/$build/bench/$prog" ]; then
    say "bench: $prog $*"
    "$root/$build/bench/$prog" "$@" 2>&1 | tee -a "$log"
    local rc=${PIPESTATUS[0]}
    local anchor=$root/bench/anchors/${prog#bench_}_torch.py
    if [ $rc -eq 0 ] && [ -f "$anchor" ]; then
      say "anchor: python3 ${anchor#$root/}"
      python3 "$anchor" 2>&1 | tee -a "$log"
    fi
    return $rc
  else
    say "bench: $prog not found in $build/bench/ (not built?)"; return 1
  fi
}
for cmd in "$@"; do
  # shellcheck disable=SC2086
  run_one $cmd || rc_bench=1
done

# ---- results back -------------------------------------------------------------------------
if [ -n "${OUT:-}" ]; then
  new=$(find "$root/bench/results" -type f -newer "$stamp_file" 2>/dev/null)
  n_new=$(echo "$new" | grep -c . || true)
  if [ "$n_new" -gt 0 ] && [ "$n_new" -le 4 ]; then
    for f in $new; do cp "$f" "$OUT/"; done
  elif [ "$n_new" -gt 4 ]; then
    tar -czf "$OUT/bench_results.tgz" -C "$root" $(for f in $new; do echo "${f#$root/}"; done)
  fi
fi
rm -f "$stamp_file"
say "done in $(($(date +%s) - t_start)) s: configure 0, build $rc_build, ctest $rc_test, bench $rc_bench"
[ $rc_build -eq 0 ] && [ $rc_test -eq 0 ] && [ $rc_bench -eq 0 ]
