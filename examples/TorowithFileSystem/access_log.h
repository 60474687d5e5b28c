/*
 * access_log.h: the access log file: lines gathered in memory, written in
 * batches, synced at least every flush_ms, rotated past max_bytes.
 *
 * Usual order: access_log_open() once at start (it makes the directory and
 * the file when missing, and starts the flusher thread), access_log_append()
 * from any thread on any CPU for each request, access_log_close() at
 * shutdown (a last flush and sync). Appending never blocks on the disk
 * unless the memory batch is full, and never fails: a line that cannot be
 * written (a full disk, an I/O error) is counted as lost, and the server
 * goes on serving.
 *
 * Whole lines only: every write to the file holds whole lines, and a write
 * that stops short (the disk filled up in its middle) is cut back to the
 * last batch's end, so the file never ends inside a line while the service
 * runs. What a crash can leave: ext2 has no journal, so a crash (kill -9,
 * power) while the block cache writes a batch out may leave the file's new
 * size on disk without all of its new data blocks: the file then ends in
 * zero bytes or a part of a batch. access_log_open() therefore cuts the file
 * back to its last '\n' when it finds such a tail, so a log a service
 * restarted on always ends in a whole line.
 */
#ifndef ACCESS_LOG_H
#define ACCESS_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mutex.h"
#include "toro.h"

#define ACCESS_LOG_BATCH (64 * 1024)    /* bytes of lines held in memory per batch */

struct access_log_config {
	const char *dir;        /* "/web/logs" */
	const char *file;       /* "/web/logs/access.log"; rotated ones add ".1", ".2", ... */
	uint64_t max_bytes;     /* rotate when a batch would pass it; 0: never */
	unsigned keep;          /* rotated files kept (1..9) */
	unsigned flush_ms;      /* write and sync at least this often (<= 1000) */
	uint32_t flusher_cpu;
};

struct access_log_stats {
	uint64_t lines_written;         /* synced to the file */
	uint64_t lines_lost;            /* could not be written */
	uint64_t rotations;
	uint64_t trimmed_bytes;         /* a torn tail cut at open */
	int last_error;                 /* -errno of the last failed write, 0 */
};

struct access_log_batch {
	char data[ACCESS_LOG_BATCH];
	size_t len;
	uint64_t lines;
};

struct access_log {
	struct access_log_config cfg;
	/* lock guards fill and the batch it points to. Lock order: io before lock. */
	struct mutex lock;
	struct access_log_batch *fill;
	/* io guards the file and the spare batch: one writer at a time. */
	struct mutex io;
	struct access_log_batch *spare;
	THandle fd;
	uint64_t size;                  /* the file's size: where the next batch goes */
	uint64_t unsynced;              /* lines written since the last sync (io's) */
	struct access_log_stats stats;  /* guarded by io */
	bool stop;                      /* the flusher ends; atomic */
	TThread *flusher;
};

/* access_log_open: 0, or -errno when the directory or the file cannot be
 * made or opened (the server then runs without a log, saying so). */
int access_log_open(struct access_log *log, const struct access_log_config *cfg);
/* access_log_append: one whole line (ending in '\n', at most a batch). */
void access_log_append(struct access_log *log, const char *line, size_t len);
/* access_log_flush: write the lines gathered so far and sync them; 0 or
 * the -errno that lost lines. */
int access_log_flush(struct access_log *log);
/* access_log_close: stop the flusher, flush, close. */
void access_log_close(struct access_log *log);
void access_log_get_stats(struct access_log *log, struct access_log_stats *out);

#endif
