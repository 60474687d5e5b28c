/*
 * attrcache.c: attributes fetched in bulk by a directory read (readdirplus).
 *
 * When the host reads a directory with READDIRPLUS, libfuse asks getattr of
 * every entry, one by one. The kernel worker that read the directory has
 * already looked them all up in the same call; the host thread leaves them
 * here and each getattr takes its own entry instead of a kernel call of its
 * own. An entry is used once, lives at most TTL_NS, and everything is
 * dropped whenever anything changes: every modifying operation calls
 * attrcache_changed() before and after its kernel call, and a bulk fetch
 * that overlapped a change (the generation moved) is not kept.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "attrcache.h"

#define BUCKETS 4096
#define MAX_ENTRIES 65536
#define TTL_NS 1000000000ull

struct entry {
	struct entry *next;
	uint64_t expires;
	struct vfs_stat st;
	char path[];
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
/* Guarded by lock (gen and count also read without it, as hints). */
static struct entry *table[BUCKETS];
static unsigned count;
static uint64_t gen;

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static unsigned hash(const char *p)
{
	unsigned h = 2166136261u;
	while (*p)
		h = (h ^ (unsigned char)*p++) * 16777619u;
	return h % BUCKETS;
}

uint64_t attrcache_gen(void)
{
	return __atomic_load_n(&gen, __ATOMIC_ACQUIRE);
}

void attrcache_changed(void)
{
	__atomic_add_fetch(&gen, 1, __ATOMIC_ACQ_REL);
	if (__atomic_load_n(&count, __ATOMIC_RELAXED) == 0)
		return;
	pthread_mutex_lock(&lock);
	for (unsigned b = 0; b < BUCKETS && count; b++) {
		while (table[b]) {
			struct entry *e = table[b];
			table[b] = e->next;
			free(e);
			count--;
		}
	}
	pthread_mutex_unlock(&lock);
}

void attrcache_put(uint64_t g, const char *path, const struct vfs_stat *st)
{
	size_t n = strlen(path);
	struct entry *e = malloc(sizeof(*e) + n + 1);
	if (!e)
		return;
	memcpy(e->path, path, n + 1);
	e->st = *st;
	e->expires = now_ns() + TTL_NS;
	pthread_mutex_lock(&lock);
	if (g != gen || count >= MAX_ENTRIES) {
		pthread_mutex_unlock(&lock);
		free(e);
		return;
	}
	unsigned b = hash(path);
	e->next = table[b];
	table[b] = e;
	__atomic_store_n(&count, count + 1, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&lock);
}

bool attrcache_take(const char *path, struct vfs_stat *st)
{
	if (!path || __atomic_load_n(&count, __ATOMIC_RELAXED) == 0)
		return false;
	bool found = false;
	pthread_mutex_lock(&lock);
	for (struct entry **pp = &table[hash(path)]; *pp; pp = &(*pp)->next) {
		struct entry *e = *pp;
		if (strcmp(e->path, path) != 0)
			continue;
		*pp = e->next;
		__atomic_store_n(&count, count - 1, __ATOMIC_RELAXED);
		if (e->expires > now_ns()) {
			*st = e->st;
			found = true;
		}
		free(e);
		break;
	}
	pthread_mutex_unlock(&lock);
	return found;
}
