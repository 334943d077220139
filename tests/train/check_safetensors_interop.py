#!/usr/bin/env python3
"""Checks that Strata's safetensors files and the Python safetensors package agree.

Not part of the C++ test suite (which needs no Python); run by hand:

  check_safetensors_interop.py read FILE [--expect EXPECT.json]
      Loads FILE with safetensors.torch.load_file and (for dtypes NumPy has)
      safetensors.numpy, prints every tensor's name, dtype and shape and the
      metadata, checks that both loaders agree, that a Strata checkpoint's
      "checksum" is the CRC32 of the data section, and, with --expect, that
      names, dtypes, shapes and values equal the JSON
      {name: {"dtype": "F32", "shape": [...], "values": [flat row-major]}}.

  check_safetensors_interop.py write FILE
      Writes FILE with safetensors.torch.save_file: one tensor of each dtype
      Strata reads (values below, in KNOWN) and metadata {"writer": "python"},
      for Strata's reader to check.

Needs: pip install safetensors numpy; torch (Debian's python3-torch works).
Exit status 0 when everything matched, 1 otherwise.
"""
import argparse
import json
import struct
import sys
import zlib

import numpy as np
from safetensors import safe_open

try:
    import torch
    from safetensors.torch import load_file as torch_load_file
    from safetensors.torch import save_file as torch_save_file
except ImportError:  # NumPy-only checks still run
    torch = None

# What `write` stores: name -> (safetensors dtype, shape, flat values).
KNOWN = {
    "f32": ("F32", [2, 3], [1.5, -2.0, 0.0, 3.25, -1e-3, 65504.0]),
    "f64": ("F64", [3], [1.0 / 3.0, -1e300, 5e-324]),
    "bf16": ("BF16", [2, 2], [1.0, -2.5, 0.15625, 3.0]),
    "i32": ("I32", [4], [0, -1, -(2**31), 2**31 - 1]),
    "i64": ("I64", [2], [-(2**62), 2**53 + 1]),
    "u8": ("U8", [3], [0, 128, 255]),
    "scalar": ("F32", [], [7.0]),
    "empty": ("F32", [0, 4], []),
}

TORCH_DTYPES = {}
if torch is not None:
    TORCH_DTYPES = {"F32": torch.float32, "F64": torch.float64, "BF16": torch.bfloat16,
                    "I32": torch.int32, "I64": torch.int64, "U8": torch.uint8}


def header_of(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    return header, data


def flat_values(tensor):
    """Row-major Python numbers of a torch tensor or NumPy array (bf16 as float)."""
    if torch is not None and isinstance(tensor, torch.Tensor):
        if tensor.dtype == torch.bfloat16:
            tensor = tensor.float()
        return tensor.reshape(-1).tolist()
    return np.asarray(tensor).reshape(-1).tolist()


def read(path, expect_path):
    ok = True
    header, data = header_of(path)
    dtypes = {k: v["dtype"] for k, v in header.items() if k != "__metadata__"}
    with safe_open(path, framework="np") as f:
        metadata = f.metadata() or {}
        names = list(f.keys())
        arrays = {name: f.get_tensor(name) for name in names if dtypes[name] != "BF16"}
    tensors = torch_load_file(path) if torch is not None else arrays
    print(f"{path}: {len(names)} tensors, {len(data)} data bytes, torch={'yes' if torch else 'no'}")
    for name in names:
        t = tensors.get(name)
        shape = list(t.shape) if t is not None else "?"
        print(f"  {name:40s} {dtypes[name]:5s} {shape}")
        if torch is not None and name in arrays:
            if flat_values(arrays[name]) != flat_values(tensors[name]):
                print(f"  MISMATCH: numpy and torch disagree on {name}")
                ok = False
    for key, value in sorted(metadata.items()):
        shown = value if len(value) <= 60 else value[:57].replace("\n", "\\n") + "..."
        print(f"  metadata {key} = {shown!r}")

    if metadata.get("format", "").startswith("strata-checkpoint"):
        crc = f"{zlib.crc32(data):08x}"
        match = crc == metadata.get("checksum")
        print(f"  checksum: CRC32(data section) = {crc}, metadata says {metadata.get('checksum')}: "
              f"{'OK' if match else 'MISMATCH'}")
        ok &= match

    if expect_path:
        with open(expect_path) as f:
            expected = json.load(f)
        if sorted(expected) != sorted(names):
            print(f"  MISMATCH: names {sorted(names)} != expected {sorted(expected)}")
            ok = False
        for name, want in expected.items():
            if name not in tensors:
                continue
            got = tensors[name]
            problems = []
            if dtypes[name] != want["dtype"]:
                problems.append(f"dtype {dtypes[name]} != {want['dtype']}")
            if list(got.shape) != want["shape"]:
                problems.append(f"shape {list(got.shape)} != {want['shape']}")
            if flat_values(got) != want["values"]:
                problems.append("values differ")
            if problems:
                print(f"  MISMATCH {name}: {'; '.join(problems)}")
                ok = False
        print(f"  expected values ({len(expected)} tensors): {'OK' if ok else 'MISMATCH'}")
    return ok


def write(path):
    if torch is None:
        sys.exit("write needs torch (for bf16)")
    tensors = {name: torch.tensor(values, dtype=TORCH_DTYPES[dtype]).reshape(shape)
               for name, (dtype, shape, values) in KNOWN.items()}
    torch_save_file(tensors, path, metadata={"writer": "python"})
    with open(path + ".expect.json", "w") as f:
        json.dump({name: {"dtype": d, "shape": s, "values": flat_values(tensors[name])}
                   for name, (d, s, _) in KNOWN.items()}, f)
    print(f"wrote {path} and {path}.expect.json")
    return True


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("read")
    r.add_argument("file")
    r.add_argument("--expect")
    w = sub.add_parser("write")
    w.add_argument("file")
    args = parser.parse_args()
    ok = read(args.file, args.expect) if args.command == "read" else write(args.file)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
