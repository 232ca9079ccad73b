#!/usr/bin/env bash
# Runs the Wan DiT benchmark of issue 4 on one GPU: for each config (1.3B at 480x832x81, 14B at
# 720x1280x81) the diffusers anchor builds random bf16 weights, saves them, times diffusers and
# writes inputs + its output; then bench_dit times vdit on the same files and appends its section
# to bench/results/dit_<date>.md (also copied to $OUT when set).
#   bench/run_dit_bench.sh BUILD_DIR [configs...]      e.g. bench/run_dit_bench.sh build 1.3B 14B
set -euo pipefail
cd "$(dirname "$0")/.."
# A build made by scripts/gpu_check.sh links libraries unpacked from .deb files (cJSON): find them.
if [ -d .deb/root/usr/lib/x86_64-linux-gnu ]; then
  export LD_LIBRARY_PATH=$PWD/.deb/root/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
fi
BUILD=${1:?usage: bench/run_dit_bench.sh BUILD_DIR [1.3B] [14B]}
shift
CONFIGS=("$@")
[ ${#CONFIGS[@]} -eq 0 ] && CONFIGS=(1.3B 14B)
WORK=${VDIT_BENCH_WORK:-/tmp/vdit_dit_bench}
RES=bench/results/dit_$(date +%Y-%m-%d).md
mkdir -p "$WORK" bench/results
[ -f "$RES" ] || printf '# Wan2.1 DiT forward: vdit vs diffusers\n\nWritten by bench/run_dit_bench.sh (bench/anchors/dit_diffusers.py + bench/bench_dit).\n\n' > "$RES"
for cfg in "${CONFIGS[@]}"; do
  d="$WORK/wan_$cfg"
  python3 bench/anchors/dit_diffusers.py --config "$cfg" --model-dir "$d" --io "$d.io.safetensors" --json "$d.diffusers.json"
  "$BUILD/bench/bench_dit" --model "$d" --io "$d.io.safetensors" --anchor "$d.diffusers.json" --label "$cfg" --results "$RES"
  cp "$d.diffusers.json" "bench/results/dit_${cfg}_diffusers_$(date +%Y-%m-%d).json"
  rm -rf "$d"   # 14B bf16 weights are 28.6 GB
done
if [ -n "${OUT:-}" ]; then cp "$RES" bench/results/dit_*_diffusers_*.json "$OUT"/; fi
echo "results: $RES"
