#!/usr/bin/env python3
"""safetensors interop with the reference implementation (the `safetensors` Python package).

1. Files written by vd_st_write (st_make_seeds) load in safetensors with the same names, dtypes,
   shapes, bytes and metadata (its reader rejects holes and bad offsets).
2. A file written by safetensors (every dtype it shares with vdit; BF16 through torch when
   present) is listed by `vdit inspect --json` with the same names, dtypes, shapes and offsets,
   and its values read through vd_st_read_f32 (`test_safetensors --check-py`) match.
Exits 77 (skipped) when numpy or safetensors is not installed.
Usage: st_interop.py VDIT TEST_SAFETENSORS ST_MAKE_SEEDS WORKDIR
"""
import json, os, shutil, struct, subprocess, sys

try:
    import numpy as np
    from safetensors import safe_open
    from safetensors.numpy import save_file
except ImportError as e:
    print(f"skipped: {e}")
    sys.exit(77)

vdit, test_bin, seeds_bin, work = sys.argv[1:5]
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
fails = 0

def check(ok, what):
    global fails
    print(("ok   " if ok else "FAIL ") + what)
    fails += 0 if ok else 1

def header(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        return json.loads(f.read(n))

# 1. vdit -> safetensors
seed_dir = os.path.join(work, "seeds")
os.makedirs(seed_dir)
subprocess.run([seeds_bin, seed_dir], check=True)
pattern = bytes((i * 37 + 1) & 255 for i in range(64))
for name in sorted(os.listdir(seed_dir)):
    path = os.path.join(seed_dir, name)
    hdr = header(path)
    try:
        with safe_open(path, framework="numpy") as f:
            keys = sorted(f.keys())
            meta = f.metadata()
            arrays = {}
            for k in keys:
                try:
                    arrays[k] = f.get_tensor(k)
                except (TypeError, ValueError):  # BF16 has no numpy dtype
                    arrays[k] = None
    except Exception as e:  # the reference reader refused our file
        check(False, f"{name}: safetensors refused it: {e}")
        continue
    ok = keys == sorted(k for k in hdr if k != "__metadata__")
    ok &= meta == hdr.get("__metadata__")
    for k, a in arrays.items():
        if a is None:
            continue
        ok &= list(a.shape) == hdr[k]["shape"]
        nb = a.nbytes
        ok &= a.tobytes() == pattern[:nb]
    check(ok, f"{name}: safetensors reads vd_st_write's file ({len(keys)} tensors, metadata {meta})")

# 2. safetensors -> vdit
vals = lambda n: (np.arange(n, dtype=np.float64) - 7) * 0.5
tensors = {
    "t.F32": vals(30).astype(np.float32).reshape(2, 3, 5),
    "t.F16": vals(30).astype(np.float16).reshape(5, 6),
    "t.F64": vals(30).reshape(30),
    "t.I64": (np.arange(30) - 7).astype(np.int64).reshape(3, 10),
    "t.I32": (np.arange(30) - 7).astype(np.int32).reshape(1, 30),
    "t.I16": (np.arange(30) - 7).astype(np.int16).reshape(2, 15),
    "t.I8": (np.arange(30) - 7).astype(np.int8).reshape(6, 5),
    "t.U8": np.arange(30).astype(np.uint8).reshape(30, 1),
    "t.BOOL": (np.arange(30) % 2 == 1).reshape(2, 15),
    "t.scalar": np.array(2.5, dtype=np.float32),
    "t.empty": np.zeros((2, 0, 3), dtype=np.float32),
}
py = os.path.join(work, "py.safetensors")
save_file(tensors, py, metadata={"made_by": "safetensors-python"})
try:
    import torch
    from safetensors.torch import save_file as save_torch
    tt = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in tensors.items()}
    tt["t.BF16"] = torch.tensor(vals(30), dtype=torch.bfloat16).reshape(3, 2, 5)
    save_torch(tt, py, metadata={"made_by": "safetensors-python"})
    print("note: BF16 included (torch present)")
except ImportError:
    print("note: torch missing, BF16 left out")

hdr = header(py)
out = subprocess.run([vdit, "inspect", py, "--json"], capture_output=True, text=True)
check(out.returncode == 0, f"vdit inspect --json exit {out.returncode} {out.stderr.strip()}")
if out.returncode == 0:
    got = json.loads(out.stdout)
    listed = {t["name"]: t for t in got["tensors"]}
    ok = set(listed) == set(k for k in hdr if k != "__metadata__")
    for k, t in listed.items():
        h = hdr[k]
        ok &= t["dtype"] == h["dtype"] and t["shape"] == h["shape"] and t["data_offsets"] == h["data_offsets"]
    ok &= got["files"][0]["metadata"] == {"made_by": "safetensors-python"}
    check(ok, f"vdit inspect lists safetensors' file as its header says ({len(listed)} tensors)")
r = subprocess.run([test_bin, "--check-py", py])
check(r.returncode == 0, "vd_st_read_f32 values of safetensors' file")
if fails:
    print(f"st_interop: {fails} failure(s)")
    sys.exit(1)
shutil.rmtree(work, ignore_errors=True)
print("st_interop: all passed")
