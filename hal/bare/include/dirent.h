/*
 * dirent.h: directory entry types (d_type), Linux values (bare kernel
 * build). No DIR stream: the kernel reads directories through its VFS.
 */
#ifndef BARE_DIRENT_H
#define BARE_DIRENT_H

#define DT_UNKNOWN 0
#define DT_FIFO    1
#define DT_CHR     2
#define DT_DIR     4
#define DT_BLK     6
#define DT_REG     8
#define DT_LNK     10
#define DT_SOCK    12
#define DT_WHT     14

#endif
