#!/bin/sh
# `vdit tokenize` and `vdit encode-text` end to end on the small fixtures, and their bad-input
# exits (1: runtime error with a message, 2: usage). Usage: text_cli.sh VDIT_BINARY SOURCE_DIR
set -u
VDIT="$1"; D="$2/tests/data/text"; TMP="${TMPDIR:-/tmp}/vdit_text_cli.$$"
mkdir -p "$TMP"; trap 'rm -rf "$TMP"' EXIT
fail=0
check() { if [ "$1" != "$2" ]; then echo "FAIL $3: got '$1' want '$2'"; fail=1; else echo "ok   $3"; fi; }

out=$("$VDIT" tokenize --tokenizer "$D/tok_umt5.json" "A cat walks on the grass.")
check "$?" 0 "tokenize exit"
check "${out##* }" 1 "tokenize ends with </s> (id 1)"
out=$("$VDIT" tokenize --tokenizer "$D/tok_umt5.json" "")
check "$out" 1 "empty prompt is </s> alone"
n=$("$VDIT" tokenize --tokenizer "$D/tok_umt5.json" --max-len 16 "$(printf 'word %.0s' $(seq 1 100))" 2>"$TMP/err" | wc -w)
check "$n" 16 "over-long prompt truncated to --max-len"
grep -q "truncated" "$TMP/err"; check "$?" 0 "truncation warns"
printf 'abc\377def' | "$VDIT" tokenize --tokenizer "$D/tok_umt5.json" --stdin >/dev/null 2>"$TMP/err"
check "$?" 0 "invalid UTF-8 accepted"
grep -q "U+FFFD" "$TMP/err"; check "$?" 0 "invalid UTF-8 warns"
"$VDIT" tokenize --tokenizer "$D/missing.json" "x" 2>"$TMP/err"; check "$?" 1 "missing tokenizer exit"
grep -q "cannot open" "$TMP/err"; check "$?" 0 "missing tokenizer message"
head -c 1000 "$D/tok_umt5.json" > "$TMP/trunc.json"
"$VDIT" tokenize --tokenizer "$TMP/trunc.json" "x" 2>"$TMP/err"; check "$?" 1 "truncated tokenizer exit"
"$VDIT" tokenize "x" 2>/dev/null; check "$?" 2 "tokenize usage exit"

"$VDIT" encode-text --model "$D/umt5_tok" --tokenizer "$D/tok_umt5.json" --device cpu --max-len 64 \
    --negative "" "A cat walks on the grass." --out "$TMP/emb.safetensors" >/dev/null
check "$?" 0 "encode-text exit"
[ -s "$TMP/emb.safetensors" ]; check "$?" 0 "encode-text wrote the file"
"$VDIT" encode-text --model "$D/umt5_a" --tokenizer "$D/tok_umt5.json" --device cpu "x" --out "$TMP/x.safetensors" 2>"$TMP/err"
check "$?" 1 "encoder/tokenizer mismatch exit"
grep -q "do not match" "$TMP/err"; check "$?" 0 "encoder/tokenizer mismatch message"
"$VDIT" encode-text --model "$TMP/nothing" --tokenizer "$D/tok_umt5.json" "x" --out "$TMP/x.safetensors" 2>/dev/null
check "$?" 1 "missing weights exit"
"$VDIT" encode-text --model "$D/umt5_tok" "x" 2>/dev/null; check "$?" 2 "encode-text usage exit"
exit $fail
