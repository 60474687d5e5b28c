/*
 * attrcache.h: attributes a directory read fetched in bulk, for the getattr
 * calls libfuse makes for each entry right after (see attrcache.c).
 * Host threads only.
 */
#ifndef FUSEMOUNT_ATTRCACHE_H
#define FUSEMOUNT_ATTRCACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "fs.h"

/* The generation to pass to attrcache_put: read it before the kernel call
 * that fetches the attributes. */
uint64_t attrcache_gen(void);
/* Something may have changed: forget everything (before and after every
 * call that modifies the file system). */
void attrcache_changed(void);
/* Remember path's attributes, unless a change began since gen. */
void attrcache_put(uint64_t gen, const char *path, const struct vfs_stat *st);
/* Take (and forget) path's attributes if remembered and fresh. */
bool attrcache_take(const char *path, struct vfs_stat *st);

#endif
