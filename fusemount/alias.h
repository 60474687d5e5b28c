/*
 * alias.h: the host-cached names of hard-linked files (see alias.c).
 * Host threads only; every call is cheap when no file has two names.
 */
#ifndef FUSEMOUNT_ALIAS_H
#define FUSEMOUNT_ALIAS_H

#include <stdbool.h>
#include <stdint.h>

#include "ops.h"

void alias_init(struct fuse *f);
/* The host looked path up (or opened it): remember it if it is one of
 * several names of ino, forget it otherwise. */
void alias_seen(const char *path, uint64_t ino, uint32_t mode, uint32_t nlink);
/* The file changed through path (or through a descriptor of ino, opened as
 * path): the host's cache of its other names is dropped. */
void alias_changed_path(const char *path);
void alias_changed_ino(uint64_t ino, const char *path);
/* path was unlinked, or renamed to another name. */
void alias_unlinked(const char *path);
void alias_renamed(const char *from, const char *to);

#endif
