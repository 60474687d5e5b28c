#!/usr/bin/env python3
"""bench/fuse_tree.py FILES > tree.tar: a fixed tree shaped like a source
tree, the same bytes on every machine for the same FILES (bench/fuse.sh).

Shape, from one seeded generator (Python's Mersenne Twister, whose integer
seeding and getrandbits are stable across versions):
  tree/dNN/sNN/...  directories of 1 to 20 files (about 10 on average, as
                    in /usr/include), a few of them 200 to 600 (large
                    directories: hashed indexes, long scans), two or three
                    levels deep, ten subdirectories per directory above;
  sizes             log-uniform from 100 B to 64 KiB (median 2.5 KiB,
                    mean about 10 KiB), contents slices of one random
                    block (incompressible, never sparse);
  metadata          mode 0644 (files) / 0755 (directories), owner 0:0,
                    one fixed mtime.
The archive is written without randomness of its own (GNU format, sorted
member order), so its bytes depend on FILES alone.
"""
import io
import math
import random
import sys
import tarfile

SEED = 20261130
MTIME = 1700000000
MIN_SIZE, MAX_SIZE = 100, 64 * 1024
FANOUT = 10


def uniform(rng):
    return rng.getrandbits(53) / float(1 << 53)


def file_count(rng):
    if rng.getrandbits(6) == 0:             # 1 in 64: a large directory
        return 200 + rng.getrandbits(9) % 401
    return 1 + rng.getrandbits(5) % 20


def file_size(rng):
    lo, hi = math.log(MIN_SIZE), math.log(MAX_SIZE)
    return int(math.exp(lo + uniform(rng) * (hi - lo)))


def leaf_dirs(nfiles, rng):
    """(directory path, file count) until nfiles files are placed."""
    placed, i = 0, 0
    while placed < nfiles:
        n = min(file_count(rng), nfiles - placed)
        top, mid, low = i // (FANOUT * FANOUT), (i // FANOUT) % FANOUT, i % FANOUT
        path = "tree/d%02d/s%02d" % (top, mid)
        if low % 3:                          # two leaves in three: one level deeper
            path += "/l%02d" % low
        yield path, n
        placed += n
        i += 1


def add_dir(tar, path, seen):
    parts = path.split("/")
    for k in range(1, len(parts) + 1):
        p = "/".join(parts[:k])
        if p in seen:
            continue
        seen.add(p)
        info = tarfile.TarInfo(p)
        info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, MTIME
        tar.addfile(info)


def main():
    nfiles = int(sys.argv[1])
    rng = random.Random(SEED)
    block = bytes(rng.getrandbits(8) for _ in range(2 * MAX_SIZE))
    out = sys.stdout.buffer
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.GNU_FORMAT) as tar:
        seen = set()
        serial = 0
        for path, n in leaf_dirs(nfiles, rng):
            add_dir(tar, path, seen)
            for k in range(n):
                size = file_size(rng)
                start = rng.getrandbits(16) % MAX_SIZE
                info = tarfile.TarInfo("%s/f%04d.h" % (path, serial))
                info.size, info.mode, info.mtime = size, 0o644, MTIME
                tar.addfile(info, io.BytesIO(block[start:start + size]))
                serial += 1


if __name__ == "__main__":
    main()
