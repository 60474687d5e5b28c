#!/usr/bin/env python3
"""tests/integration/crash_churn.py: metadata churn for the crash tests.

    crash_churn.py DIR SEED SECONDS SYNCLOG

Creates, appends to, renames and removes files and directories under DIR
(create, append, rename, unlink, mkdir, rmdir), chosen by a seeded random
generator, until SECONDS have passed or the file system stops answering
(the crash test kills the server under it). What it writes holds no NUL
byte (data()), so a NUL read back after a crash is a size past the data
that reached the disk. Every 300 operations it writes
a file under DIR/keep with random contents, fsyncs it and its directory,
and only then appends "NAME MD5" to SYNCLOG (a host file): those files must
survive any crash intact. Never writes outside DIR and SYNCLOG.

With CRASH_CHURN_MORE=1 in the environment it also fills DIR/big with
long names (a directory of many blocks: a dir_index image indexes it) and
sets and removes user.* extended attributes of 10 to 600 bytes (in the
inode or in an attribute block).
"""
import hashlib
import os
import random
import sys
import time


def data(rng, n):
    """n random bytes, none of them NUL."""
    return rng.randbytes(n).replace(b"\0", b"\1")


def main():
    top, seed, seconds, synclog = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
    rng = random.Random(seed)
    keep = os.path.join(top, "keep")
    os.makedirs(keep, exist_ok=True)
    dirs = [top]
    files = []
    more = os.environ.get("CRASH_CHURN_MORE") == "1"
    if more:
        os.makedirs(os.path.join(top, "big"), exist_ok=True)
    end = time.monotonic() + seconds
    n = 0
    with open(synclog, "a") as log:
        while time.monotonic() < end:
            n += 1
            try:
                if not (more and step_more(rng, top, files, n)):
                    step(rng, top, dirs, files, n)
                if n % 300 == 0:
                    name = "k%d" % n
                    kept = data(rng, rng.randrange(1, 200000))
                    path = os.path.join(keep, name)
                    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
                    os.write(fd, kept)
                    os.fsync(fd)
                    os.close(fd)
                    dfd = os.open(keep, os.O_RDONLY)
                    os.fsync(dfd)
                    os.close(dfd)
                    log.write("keep/%s %s\n" % (name, hashlib.md5(kept).hexdigest()))
                    log.flush()
            except OSError as e:
                if e.errno in (107, 5, 103, 2, 20, 39, 17, 21):  # ENOTCONN EIO ... races with rmdir
                    if e.errno in (107, 103):
                        return
                    continue
                raise


def step_more(rng, top, files, n):
    """A big-directory or attribute step (True), or none (False)."""
    op = rng.random()
    if op < 0.15:                                    # a long name in the big directory
        path = os.path.join(top, "big", "entry-with-a-long-name-%040d" % n)
        with open(path, "wb") as f:
            f.write(data(rng, rng.choice((0, 100, 3000))))
        files.append(path)
        return True
    if op < 0.30 and files:                          # set or remove an attribute
        path = rng.choice(files)
        name = "user.k%d" % rng.randrange(8)
        try:
            if rng.random() < 0.25:
                os.removexattr(path, name)
            else:
                os.setxattr(path, name, data(rng, rng.choice((10, 100, 600))))
        except OSError as e:
            if e.errno not in (61, 28):              # ENODATA, ENOSPC (no room for it)
                raise
        return True
    return False


def step(rng, top, dirs, files, n):
    op = rng.random()
    if op < 0.30 or not files:                       # create (and write)
        d = rng.choice(dirs)
        path = os.path.join(d, "f%d" % n)
        with open(path, "wb") as f:
            f.write(data(rng, rng.choice((0, 100, 3000, 20000, 70000))))
        files.append(path)
    elif op < 0.55:                                  # append
        path = rng.choice(files)
        with open(path, "ab") as f:
            f.write(data(rng, rng.choice((10, 4096, 50000))))
    elif op < 0.65:                                  # rename (maybe across directories)
        i = rng.randrange(len(files))
        new = os.path.join(rng.choice(dirs), "r%d" % n)
        os.rename(files[i], new)
        files[i] = new
    elif op < 0.82:                                  # unlink
        path = files.pop(rng.randrange(len(files)))
        os.unlink(path)
    elif op < 0.93:                                  # mkdir
        d = os.path.join(rng.choice(dirs), "d%d" % n)
        os.mkdir(d)
        dirs.append(d)
    elif len(dirs) > 1:                              # rmdir (after emptying it)
        d = dirs[rng.randrange(1, len(dirs))]
        if any(x != d and x.startswith(d + "/") for x in dirs):
            return
        for path in [p for p in files if os.path.dirname(p) == d]:
            os.unlink(path)
            files.remove(path)
        os.rmdir(d)
        dirs.remove(d)


if __name__ == "__main__":
    main()
