/*
 * stdio.h: only the constants the kernel takes from it (bare kernel
 * build). There are no FILE streams; the kernel prints with kprintf.
 */
#ifndef BARE_STDIO_H
#define BARE_STDIO_H

#include <stddef.h>

#define SEEK_SET 0
#define SEEK_CUR 1
#define SEEK_END 2
#define EOF      (-1)

#endif
