/*
 * sys/types.h: the POSIX scalar types the kernel's sources name, with the
 * sizes they have on x86-64 Linux (bare kernel build).
 */
#ifndef BARE_SYS_TYPES_H
#define BARE_SYS_TYPES_H

#include <stddef.h>
#include <stdint.h>

typedef long ssize_t;
typedef int64_t off_t;
typedef uint32_t mode_t;
typedef uint32_t uid_t;
typedef uint32_t gid_t;
typedef int pid_t;
typedef uint64_t dev_t;
typedef uint64_t ino_t;
typedef uint64_t nlink_t;
typedef int64_t time_t;
typedef int64_t blksize_t;
typedef int64_t blkcnt_t;

#endif
