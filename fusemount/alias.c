/*
 * alias.c: the names of hard-linked files, so that a change made through
 * one name drops what the host kernel cached under the others.
 *
 * libfuse's high-level API gives every name its own host inode, so the host
 * caches attributes (link count, size, times) and pages per name. For a file
 * with one name that is right; for a hard-linked one, a write, truncate,
 * chmod or unlink through one name would leave the others stale for the
 * cache timeout. So every name the host looks up whose file has more than
 * one link is remembered here with its inode number, and after a change the
 * other names are invalidated (fuse_invalidate_path). Host threads only.
 *
 * Entries can go stale (a directory renamed above them): invalidating a
 * stale path is harmless, and the entry is dropped once the host looks the
 * name up again with a different inode or one link.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "alias.h"

#define BUCKETS 1024
#define MAX_ALIASES 4096            /* beyond this, new names are not tracked */

struct alias {
	uint64_t ino;
	char *path;
	struct alias *next_ino, *next_path;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
/* Guarded by lock. */
static struct alias *by_ino[BUCKETS], *by_path[BUCKETS];
static unsigned count;
static struct fuse *fuse;

void alias_init(struct fuse *f)
{
	fuse = f;
}

static unsigned hash_path(const char *p)
{
	unsigned h = 2166136261u;
	while (*p)
		h = (h ^ (unsigned char)*p++) * 16777619u;
	return h % BUCKETS;
}

static unsigned hash_ino(uint64_t ino)
{
	return (unsigned)((ino * 0x9e3779b97f4a7c15ull) >> 54) % BUCKETS;
}

static struct alias *find_path(const char *path)
{
	for (struct alias *a = by_path[hash_path(path)]; a; a = a->next_path)
		if (strcmp(a->path, path) == 0)
			return a;
	return NULL;
}

static void unlink_entry(struct alias *e)
{
	struct alias **pp = &by_path[hash_path(e->path)];
	while (*pp != e)
		pp = &(*pp)->next_path;
	*pp = e->next_path;
	pp = &by_ino[hash_ino(e->ino)];
	while (*pp != e)
		pp = &(*pp)->next_ino;
	*pp = e->next_ino;
	count--;
}

static void link_entry(struct alias *e)
{
	unsigned hp = hash_path(e->path), hi = hash_ino(e->ino);
	e->next_path = by_path[hp];
	by_path[hp] = e;
	e->next_ino = by_ino[hi];
	by_ino[hi] = e;
	count++;
}

void alias_seen(const char *path, uint64_t ino, uint32_t mode, uint32_t nlink)
{
	if (!path || !fuse)
		return;
	bool multi = !S_ISDIR(mode) && nlink > 1;
	pthread_mutex_lock(&lock);
	if (!multi && count == 0) {
		pthread_mutex_unlock(&lock);
		return;
	}
	struct alias *e = find_path(path);
	if (e && (!multi || e->ino != ino)) {
		unlink_entry(e);
		free(e->path);
		free(e);
		e = NULL;
	}
	if (multi && !e && count < MAX_ALIASES) {
		e = malloc(sizeof(*e));
		if (e && (e->path = strdup(path)) != NULL) {
			e->ino = ino;
			link_entry(e);
		} else {
			free(e);
		}
	}
	pthread_mutex_unlock(&lock);
}

/* Invalidate every name of ino but except (under lock: collect them). */
static void invalidate_others(uint64_t ino, const char *except)
{
	char *paths[16];
	unsigned n = 0;
	for (struct alias *a = by_ino[hash_ino(ino)]; a && n < 16; a = a->next_ino)
		if (a->ino == ino && (!except || strcmp(a->path, except) != 0))
			paths[n++] = strdup(a->path);
	pthread_mutex_unlock(&lock);
	for (unsigned i = 0; i < n; i++) {
		if (paths[i])
			fuse_invalidate_path(fuse, paths[i]);
		free(paths[i]);
	}
}

void alias_changed_ino(uint64_t ino, const char *path)
{
	pthread_mutex_lock(&lock);
	if (count == 0) {
		pthread_mutex_unlock(&lock);
		return;
	}
	invalidate_others(ino, path);
}

void alias_changed_path(const char *path)
{
	if (!path)
		return;
	pthread_mutex_lock(&lock);
	struct alias *e = count ? find_path(path) : NULL;
	if (!e) {
		pthread_mutex_unlock(&lock);
		return;
	}
	invalidate_others(e->ino, path);
}

void alias_unlinked(const char *path)
{
	pthread_mutex_lock(&lock);
	struct alias *e = count ? find_path(path) : NULL;
	if (!e) {
		pthread_mutex_unlock(&lock);
		return;
	}
	uint64_t ino = e->ino;
	unlink_entry(e);
	free(e->path);
	free(e);
	invalidate_others(ino, NULL);
}

void alias_renamed(const char *from, const char *to)
{
	alias_unlinked(to);             /* replaced: one link fewer */
	pthread_mutex_lock(&lock);
	struct alias *e = count ? find_path(from) : NULL;
	char *p = e ? strdup(to) : NULL;
	if (p) {
		unlink_entry(e);
		free(e->path);
		e->path = p;
		link_entry(e);
	}
	pthread_mutex_unlock(&lock);
}
