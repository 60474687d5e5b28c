/*
 * access_log.c: the batched, rotating access log of access_log.h.
 *
 * Two batches: appenders fill one under lock while a flush writes the
 * other under io, so a request never waits for the disk unless a whole
 * batch filled up before the flusher came round. The file calls are toro.h's
 * where it has them, and the VFS's (vfs.h) for pwrite, truncate, fsync and
 * rename.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "access_log.h"
#include "console.h"
#include "vfs.h"

#define TRIM_SCAN_MAX (1024 * 1024)     /* how far back open looks for a line's end */
#define NAME_MAX_LEN 256

static bool stopping(struct access_log *log)
{
	return __atomic_load_n(&log->stop, __ATOMIC_ACQUIRE);
}

/* The end of the file's last whole line: size when it ends in '\n', 0 when
 * it holds no '\n' at all, size too when none is found in TRIM_SCAN_MAX
 * bytes (a line that long is not ours: leave it); or -errno. */
static int64_t whole_lines_end(THandle fd, uint64_t size)
{
	char buf[4096];
	uint64_t pos = size, scanned = 0;
	while (pos > 0 && scanned < TRIM_SCAN_MAX) {
		size_t chunk = pos < sizeof(buf) ? (size_t)pos : sizeof(buf);
		pos -= chunk;
		ssize_t n = vfs_pread(fd, buf, chunk, pos);
		if (n < 0)
			return n;
		if ((size_t)n != chunk)
			return -EIO;
		for (size_t i = chunk; i-- > 0;)
			if (buf[i] == '\n')
				return (int64_t)(pos + i + 1);
		scanned += chunk;
	}
	return pos == 0 ? 0 : (int64_t)size;
}

/* Open the log file, making it when missing; cut a torn tail. Caller holds io. */
static int open_file(struct access_log *log)
{
	THandle fd = SysCreateFile(log->cfg.file);
	bool created = fd >= 0;
	if (fd == -EEXIST)
		fd = SysOpenFile(log->cfg.file, O_RDWR);
	if (fd < 0)
		return fd;
	int64_t size = SysSeekFile(fd, 0, SEEK_END);
	int64_t end = size < 0 ? size : whole_lines_end(fd, (uint64_t)size);
	if (end >= 0 && end < size) {
		int rc = vfs_ftruncate(fd, (uint64_t)end);
		if (rc < 0)
			end = rc;
		else
			log->stats.trimmed_bytes += (uint64_t)(size - end);
	}
	if (end < 0) {
		SysCloseFile(fd);
		return (int)end;
	}
	if (created)
		SysSync();      /* the new directory entry, not only the file */
	log->fd = fd;
	log->size = (uint64_t)end;
	return 0;
}

static void count_lost(struct access_log *log, int rc, uint64_t lines)
{
	if (log->stats.lines_lost == 0 || rc != log->stats.last_error)
		WriteConsoleF("access log: %s: error %d, lines are lost (and counted)\n",
		              log->cfg.file, -rc);
	log->stats.lines_lost += lines;
	log->stats.last_error = rc;
}

/* Make the lines written so far durable. Caller holds io. */
static int sync_lines(struct access_log *log)
{
	if (log->unsynced == 0)
		return 0;
	int rc = log->fd >= 0 ? vfs_fsync(log->fd) : -EBADF;
	if (rc == 0)
		log->stats.lines_written += log->unsynced;
	else
		count_lost(log, rc, log->unsynced);     /* written, but maybe not on disk */
	log->unsynced = 0;
	return rc;
}

/* access.log.(k-1) -> access.log.k, ..., access.log -> access.log.1, then a
 * new access.log. Caller holds io. */
static int rotate(struct access_log *log)
{
	char from[NAME_MAX_LEN], to[NAME_MAX_LEN];
	sync_lines(log);
	SysCloseFile(log->fd);
	log->fd = -1;
	for (unsigned k = log->cfg.keep; k > 1; k--) {
		ksnprintf(from, sizeof(from), "%s.%u", log->cfg.file, k - 1);
		ksnprintf(to, sizeof(to), "%s.%u", log->cfg.file, k);
		int rc = vfs_rename(from, to);
		if (rc < 0 && rc != -ENOENT)
			return rc;
	}
	ksnprintf(to, sizeof(to), "%s.1", log->cfg.file);
	int rc = vfs_rename(log->cfg.file, to);
	if (rc < 0 && rc != -ENOENT)
		return rc;
	log->stats.rotations++;
	return open_file(log);
}

/* Write batch b at the end of the file, whole or not at all. Caller holds io. */
static int write_batch(struct access_log *log, struct access_log_batch *b)
{
	int rc = 0;
	if (log->fd >= 0 && log->cfg.max_bytes && log->size > 0 &&
	    log->size + b->len > log->cfg.max_bytes)
		rc = rotate(log);
	if (log->fd < 0 && rc == 0)
		rc = open_file(log);    /* a failed rotation or open: try again now */
	if (rc == 0) {
		ssize_t n = vfs_pwrite(log->fd, b->data, b->len, log->size);
		if (n == (ssize_t)b->len) {
			log->size += b->len;
			log->unsynced += b->lines;
			return 0;
		}
		rc = n < 0 ? (int)n : -ENOSPC;
		if (n > 0)
			vfs_ftruncate(log->fd, log->size);      /* no part of a line stays */
	}
	count_lost(log, rc, b->lines);
	return rc;
}

/* Write the lines gathered so far, and sync them when sync (a batch that
 * fills up between two flushes is written without: one sync a flush_ms
 * keeps the file system's lock, which every request's lookup needs, free
 * of a device flush per batch). */
static int write_out(struct access_log *log, bool sync)
{
	mutex_lock(&log->io);
	mutex_lock(&log->lock);
	struct access_log_batch *b = log->fill;
	log->fill = log->spare;
	log->spare = b;
	mutex_unlock(&log->lock);
	int rc = 0;
	if (b->len > 0)
		rc = write_batch(log, b);
	b->len = 0;
	b->lines = 0;
	if (sync) {
		int src = sync_lines(log);
		rc = rc ? rc : src;
	}
	mutex_unlock(&log->io);
	return rc;
}

int access_log_flush(struct access_log *log)
{
	return write_out(log, true);
}

void access_log_append(struct access_log *log, const char *line, size_t len)
{
	if (len == 0 || len > ACCESS_LOG_BATCH)
		return;
	mutex_lock(&log->lock);
	while (log->fill->len + len > ACCESS_LOG_BATCH) {
		/* Full before the flusher came: write it out from here. */
		mutex_unlock(&log->lock);
		write_out(log, false);
		mutex_lock(&log->lock);
	}
	memcpy(log->fill->data + log->fill->len, line, len);
	log->fill->len += len;
	log->fill->lines++;
	mutex_unlock(&log->lock);
}

static int flusher_main(void *arg)
{
	struct access_log *log = arg;
	while (!stopping(log)) {
		Sleep(log->cfg.flush_ms);
		access_log_flush(log);
	}
	return 0;
}

int access_log_open(struct access_log *log, const struct access_log_config *cfg)
{
	memset(log, 0, sizeof(*log));
	log->cfg = *cfg;
	if (log->cfg.keep < 1 || log->cfg.keep > 9)
		log->cfg.keep = 1;
	if (log->cfg.flush_ms == 0 || log->cfg.flush_ms > 1000)
		log->cfg.flush_ms = 1000;
	log->fd = -1;
	mutex_init(&log->lock, "access_log");
	mutex_init(&log->io, "access_log_io");
	int rc = SysCreateDir(cfg->dir);
	if (rc < 0 && rc != -EEXIST)
		return rc;
	log->fill = ToroGetMem(sizeof(*log->fill));
	log->spare = ToroGetMem(sizeof(*log->spare));
	if (!log->fill || !log->spare) {
		rc = -ENOMEM;
		goto fail;
	}
	log->fill->len = log->spare->len = 0;
	log->fill->lines = log->spare->lines = 0;
	mutex_lock(&log->io);
	rc = open_file(log);
	mutex_unlock(&log->io);
	if (rc < 0)
		goto fail;
	log->flusher = BeginJoinableThread(0, flusher_main, log, cfg->flusher_cpu);
	if (!log->flusher) {
		SysCloseFile(log->fd);
		rc = -ENOMEM;
		goto fail;
	}
	return 0;
fail:
	ToroFreeMem(log->fill);
	ToroFreeMem(log->spare);
	log->fill = log->spare = NULL;
	return rc;
}

void access_log_close(struct access_log *log)
{
	__atomic_store_n(&log->stop, true, __ATOMIC_RELEASE);
	WaitThread(log->flusher);
	access_log_flush(log);
	if (log->fd >= 0)
		SysCloseFile(log->fd);
	log->fd = -1;
	ToroFreeMem(log->fill);
	ToroFreeMem(log->spare);
	log->fill = log->spare = NULL;
}

void access_log_get_stats(struct access_log *log, struct access_log_stats *out)
{
	mutex_lock(&log->io);
	*out = log->stats;
	mutex_unlock(&log->io);
}
