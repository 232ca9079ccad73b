#!/bin/sh
# `vdit inspect` on hand-made files: a valid file lists its tensors (text and --json); malformed
# files exit 1 with a message naming the tensor and byte offsets; usage errors exit 2.
# Usage: inspect_check.sh VDIT WORKDIR
set -u
vdit=$1
dir=$2
rm -rf "$dir" && mkdir -p "$dir" || exit 1
fails=0

# Writes an 8-byte little-endian length (< 256) and a header; $3 = number of zero data bytes.
mkfile() {
    n=$(printf '%s' "$2" | wc -c)
    printf "\\$(printf '%03o' "$n")\\000\\000\\000\\000\\000\\000\\000" > "$1"
    printf '%s' "$2" >> "$1"
    if [ "$3" -gt 0 ]; then head -c "$3" /dev/zero >> "$1"; fi
}

# expect NAME CODE PATTERN -- command...: runs it, checks the exit code and that stdout+stderr matches PATTERN.
expect() {
    name=$1 code=$2 pat=$3
    shift 4
    out=$("$@" 2>&1)
    rc=$?
    if [ "$rc" -ne "$code" ] || ! printf '%s' "$out" | grep -q -- "$pat"; then
        echo "FAIL $name: exit $rc (want $code), output:"
        printf '%s\n' "$out" | sed 's/^/    /'
        fails=$((fails + 1))
    else
        echo "ok   $name: exit $rc: $(printf '%s' "$out" | head -n 1)"
    fi
}

mkfile "$dir/good.safetensors" '{"__metadata__":{"format":"pt"},"blocks.0.w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},"blocks.0.b":{"dtype":"BF16","shape":[3],"data_offsets":[24,30]}}' 30
mkfile "$dir/trunc.safetensors" '{"blocks.3.ffn.0.weight":{"dtype":"F32","shape":[4,4],"data_offsets":[0,64]}}' 40
mkfile "$dir/badjson.safetensors" '{"blocks.0.w":{"dtype":"F32","shape":[1],' 0
mkfile "$dir/overlap.safetensors" '{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}}' 24
printf 'abc' > "$dir/tiny.safetensors"
mkdir -p "$dir/model" && cp "$dir/good.safetensors" "$dir/model/model.safetensors"

expect "valid file" 0 "blocks.0.w *F32 *\[2, 3\] *24" -- "$vdit" inspect "$dir/good.safetensors"
expect "valid file totals" 0 "2 tensors" -- "$vdit" inspect "$dir/good.safetensors"
expect "valid file metadata" 0 '"format"' -- "$vdit" inspect "$dir/good.safetensors"
expect "valid file --json" 0 '"name":[[:space:]]*"blocks.0.b"' -- "$vdit" inspect "$dir/good.safetensors" --json
expect "directory" 0 "blocks.0.b" -- "$vdit" inspect "$dir/model"
expect "ambiguous directory" 2 "no index" -- "$vdit" inspect "$dir"
expect "truncated" 1 "tensor 'blocks.3.ffn.0.weight' ends at byte 64 but the data region has 40 bytes" -- "$vdit" inspect "$dir/trunc.safetensors"
expect "truncated hint" 1 "truncated" -- "$vdit" inspect "$dir/trunc.safetensors" --json
expect "bad JSON" 1 "JSON is invalid" -- "$vdit" inspect "$dir/badjson.safetensors"
expect "overlap" 1 "tensors 'a'.*and 'b'.*overlap" -- "$vdit" inspect "$dir/overlap.safetensors"
expect "3-byte file" 1 "3 bytes" -- "$vdit" inspect "$dir/tiny.safetensors"
expect "missing file" 1 "no/such" -- "$vdit" inspect "$dir/no/such.safetensors"
expect "no argument" 2 "usage" -- "$vdit" inspect
expect "unknown option" 2 "--bogus" -- "$vdit" inspect "$dir/good.safetensors" --bogus
expect "two paths" 2 "usage" -- "$vdit" inspect "$dir/good.safetensors" "$dir/good.safetensors"
expect "help" 0 "usage" -- "$vdit" inspect --help

if [ "$fails" -ne 0 ]; then
    echo "inspect_check: $fails failure(s)"
    exit 1
fi
rm -rf "$dir"
echo "inspect_check: all passed"
