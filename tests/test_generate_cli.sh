#!/bin/sh
# `vdit generate` end to end: the fixture model (tests/data/pipeline/model) to mp4 and y4m with the
# sidecar, the bundled model found with no --model (tiny settings), and the usage/runtime exits
# (2 for bad flags and values, 1 for missing model/unwritable output) with no output left behind.
# Usage: test_generate_cli.sh VDIT_BINARY SOURCE_DIR
set -u
VDIT="$1"; M="$2/tests/data/pipeline/model"; TMP="${TMPDIR:-/tmp}/vdit_gen_cli.$$"
mkdir -p "$TMP"; trap 'rm -rf "$TMP"' EXIT
fail=0
check() { if [ "$1" != "$2" ]; then echo "FAIL $3: got '$1' want '$2'"; fail=1; else echo "ok   $3"; fi; }
SMALL="--width 32 --height 32 --frames 5 --steps 2"

"$VDIT" generate --model "$M" --prompt "a red circle" $SMALL --seed 3 -o "$TMP/a.y4m" 2>"$TMP/log"
check "$?" 0 "generate y4m exit"
[ -s "$TMP/a.y4m" ]; check "$?" 0 "y4m written"
[ -s "$TMP/a.y4m.json" ]; check "$?" 0 "sidecar written"
grep -q '"seed":	"3"' "$TMP/a.y4m.json"; check "$?" 0 "sidecar has the seed"
grep -q 'denoise' "$TMP/log" && grep -q 'peak host RSS' "$TMP/log"; check "$?" 0 "progress and stage table printed"
"$VDIT" generate --model "$M" --prompt "a red circle" $SMALL --seed 3 -o "$TMP/b.y4m" 2>/dev/null
cmp -s "$TMP/a.y4m" "$TMP/b.y4m"; check "$?" 0 "same seed, same bytes"
if "$VDIT" version | grep -q "ffmpeg: yes"; then
  "$VDIT" generate --model "$M" --prompt "a red circle" $SMALL --sampler euler --fps 8 -o "$TMP/c.mp4" 2>/dev/null
  check "$?" 0 "generate mp4 (euler) exit"
  [ -s "$TMP/c.mp4" ]; check "$?" 0 "mp4 written"
fi
# The bundled model, found without --model (tiny settings to stay fast).
(cd "$TMP" && "$VDIT" generate --prompt "a small red circle moving left" --width 32 --height 32 --frames 1 --steps 1 \
   -o "$TMP/bundled.y4m" 2>"$TMP/log")
check "$?" 0 "bundled model exit"
grep -q "vdit-tiny" "$TMP/log"; check "$?" 0 "bundled model used"
VDIT_MODEL_DIR="$M" "$VDIT" generate --prompt "x" $SMALL --guidance 1 -o "$TMP/env.y4m" 2>"$TMP/log"
check "$?" 0 "VDIT_MODEL_DIR exit"
grep -q "tests/data/pipeline/model" "$TMP/log"; check "$?" 0 "VDIT_MODEL_DIR honoured"

# The attention method is chosen per run and told the step: radial with dense_steps = steps is
# dense exactly; dense_steps 0 and 1 (sparse from step 0 / step 1 on) each give other frames.
R="--model $M --prompt x --width 128 --height 128 --frames 17 --steps 2 --no-sidecar"
RO="--attention radial --attn-opt dense_layers=0 --attn-opt tile=64"
"$VDIT" generate $R -o "$TMP/rd.y4m" 2>/dev/null; check "$?" 0 "dense run"
for k in 0 1 2; do
  "$VDIT" generate $R $RO --attn-opt dense_steps=$k -o "$TMP/r$k.y4m" 2>/dev/null; check "$?" 0 "radial dense_steps=$k run"
done
cmp -s "$TMP/rd.y4m" "$TMP/r2.y4m"; check "$?" 0 "radial with all steps dense == dense"
cmp -s "$TMP/rd.y4m" "$TMP/r1.y4m"; check "$?" 1 "radial sparse from step 1 != dense"
cmp -s "$TMP/r0.y4m" "$TMP/r1.y4m"; check "$?" 1 "radial sparse from step 0 != from step 1"
[ ! -e "$TMP/rd.y4m.json" ]; check "$?" 0 "--no-sidecar honoured"

# Usage errors: exit 2, message names the fix, no file.
bad() { # want_rc pattern name args...
  want=$1; pat=$2; name=$3; shift 3
  "$VDIT" generate "$@" 2>"$TMP/err" >/dev/null; rc=$?
  check "$rc" "$want" "$name exit"
  grep -q -- "$pat" "$TMP/err"; check "$?" 0 "$name message"
  [ ! -e "$TMP/bad.mp4" ] && [ ! -e "$TMP/bad.mp4.json" ]; check "$?" 0 "$name leaves no file"
}
bad 2 "4k+1" "frames 10" --model "$M" --prompt x --frames 10 -o "$TMP/bad.mp4"
bad 2 "multiple of 16" "width 40" --model "$M" --prompt x --width 40 -o "$TMP/bad.mp4"
bad 2 "not a known method" "unknown attention" --model "$M" --prompt x --attention nope -o "$TMP/bad.mp4"
bad 2 "no_such_key" "unknown attention option" --model "$M" --prompt x --attn-opt no_such_key=1 -o "$TMP/bad.mp4"
bad 2 "unknown option" "unknown flag" --model "$M" --prompt x --bogus 1 -o "$TMP/bad.mp4"
bad 2 "not one of" "bad sampler" --model "$M" --prompt x --sampler ddim -o "$TMP/bad.mp4"
bad 2 "integer" "bad steps" --model "$M" --prompt x --steps two -o "$TMP/bad.mp4"
bad 2 "--prompt" "no prompt" --model "$M" -o "$TMP/bad.mp4"
if "$VDIT" version | grep -q "cuda: not built"; then
  bad 2 "has no CUDA" "cuda device in a CPU build" --model "$M" --prompt x --device cuda -o "$TMP/bad.mp4"
fi
bad 1 "does not exist" "missing model" --model "$TMP/nope" --prompt x -o "$TMP/bad.mp4"
bad 1 "does not exist" "missing output dir" --model "$M" --prompt x -o "$TMP/nodir/bad.mp4"
"$VDIT" generate --help >/dev/null; check "$?" 0 "help exit"
exit $fail
