/*
 * unistd.h: only constants (bare kernel build): seek origins and access
 * modes, Linux values.
 */
#ifndef BARE_UNISTD_H
#define BARE_UNISTD_H

#include <sys/types.h>

#define SEEK_SET 0
#define SEEK_CUR 1
#define SEEK_END 2

#define F_OK 0
#define X_OK 1
#define W_OK 2
#define R_OK 4

#endif
