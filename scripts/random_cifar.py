#!/usr/bin/env python3
"""Writes CIFAR-10 binary files of random pixels and labels, for timing a
training step where the real set is absent (bench/README.md, gpu-check.sh).

  python3 scripts/random_cifar.py DIR [RECORDS_PER_FILE]

DIR gets data_batch_1.bin .. data_batch_5.bin and test_batch.bin, each
RECORDS_PER_FILE (default 1024) records of 1 label byte and 3072 pixel bytes,
the real files' layout. Seeded, so the same call writes the same bytes.
"""
import os
import random
import sys


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    folder = sys.argv[1]
    records = int(sys.argv[2]) if len(sys.argv) == 3 else 1024
    os.makedirs(folder, exist_ok=True)
    rng = random.Random(0)
    for name in [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]:
        with open(os.path.join(folder, name), "wb") as f:
            for _ in range(records):
                f.write(bytes([rng.randrange(10)]) + rng.randbytes(3072))


if __name__ == "__main__":
    main()
