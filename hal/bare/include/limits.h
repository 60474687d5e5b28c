/*
 * limits.h: the compiler's limits plus the POSIX ones the kernel uses,
 * Linux x86-64 values (bare kernel build).
 */
#ifndef BARE_LIMITS_H
#define BARE_LIMITS_H

#include_next <limits.h>

#define SSIZE_MAX LONG_MAX
#define PATH_MAX  4096
#define NAME_MAX  255

#endif
