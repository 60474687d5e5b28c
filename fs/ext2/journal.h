/*
 * journal.h: the driver's view of an ext3/ext4 internal journal (JBD2;
 * the on-disk format is in jbd2.h).
 *
 * Lifecycle: at mount, an image with has_journal gets ext2_journal_load
 * (map the journal inode, read and check the journal superblock and its
 * features); if the file system needs recovery, ext2_journal_recover
 * replays the committed transactions into their home blocks and marks the
 * journal empty; on a read-write mount, ext2_journal_start, after which
 * metadata changes go through transactions (transaction.c) until
 * ext2_journal_stop at unmount; ext2_journal_free last. Called with the fs
 * lock held or before the file system is visible (mount), unless said.
 */
#ifndef FS_EXT2_JOURNAL_H
#define FS_EXT2_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "waitq.h"

struct ext2_fs;
struct buf;
struct jbd2_super;
struct thread;

struct ext2_journal {
	struct ext2_fs *fs;
	uint32_t ino;               /* the journal inode */
	uint32_t *map;              /* journal block -> file system block, maxlen entries */
	uint32_t maxlen;            /* journal blocks (s_maxlen) */
	uint32_t first;             /* first log block (s_first) */
	uint32_t start;             /* log block of the oldest transaction; 0: empty */
	uint32_t sequence;          /* its sequence number (or the next one if empty) */
	uint32_t compat, incompat, ro_compat;
	bool v2;                    /* superblock v2 (has features) */
	bool csum;                  /* checksum v2 or v3: every log block has a crc32c */
	uint32_t csum_seed;         /* crc32c(~0, journal uuid) */
	unsigned tag_bytes;         /* size of a descriptor tag (without its uuid) */

	/* Writing (transaction.c), while mounted read-write. Guarded by the
	 * fs lock. */
	bool writing;
	uint8_t *jsb;               /* the journal superblock as we write it */
	struct buf **tx;            /* the running transaction's buffers */
	uint32_t ntx, tx_cap;       /* tx_cap: the most one transaction may hold */
	uint32_t tx_limit;          /* from this many buffers, commit soon */
	uint32_t *revokes;          /* blocks freed in it that the log holds */
	uint32_t nrev, rev_cap;
	uint32_t *logged;           /* set (open addressing, 0 free) of blocks in the log */
	uint8_t **busy;             /* per group, a bitmap of blocks freed in the running
	                             * transaction (NULL: none); nbusy set bits in all */
	uint32_t nbusy;
	uint32_t logged_cap, nlogged;
	uint32_t head;              /* next free log block */
	uint32_t tx_seq;            /* the running transaction's sequence */
	uint64_t tx_start_ns;       /* when it got its first block */
	uint64_t interval_ns;       /* commit a transaction this old */
	bool overflowed;            /* a transaction outgrew the journal (said once) */
	/* What it wrote since the mount (the stats line at unmount). */
	uint64_t commits, commits_timer, commits_full, checkpoints, log_blocks;
	uint64_t commit_ns;         /* time in commits (and their checkpoints) */

	/* The commit thread: commits on the timer and when a transaction is
	 * large. stop and due are guarded by wq.lock. */
	struct thread *thread;
	struct waitq wq;
	bool stop, due;
};

/* ext2_journal_load: the journal of fs (has_journal); 0, -ENOMEM, -EIO
 * (corrupt: said on the console), -EOPNOTSUPP (features we do not
 * implement, named on the console). *ro_only is set when the journal may be
 * read but not written (unknown read-only features). */
int ext2_journal_load(struct ext2_fs *fs, struct ext2_journal **out, bool *ro_only);
void ext2_journal_free(struct ext2_journal *j);

/* ext2_journal_recover (recovery.c): replay every committed transaction
 * of the log into the file system through the block cache, make it durable,
 * then mark the journal empty (s_start 0, next sequence past the last one
 * seen). The caller clears needs_recovery afterwards. 0 or -errno; a block
 * whose checksum fails is skipped and counted in *bad. */
int ext2_journal_recover(struct ext2_journal *j, unsigned *bad);

/* ext2_journal_mark_empty: write the journal superblock with an empty log
 * starting at sequence seq. Does not flush. 0 or -errno. */
int ext2_journal_mark_empty(struct ext2_journal *j, uint32_t seq);

/* The log's checksums (journal.c), as the journal's features ask: the
 * writer puts them in, replay checks them.
 * super_seal: store sb's s_checksum (csum v2/v3; nothing otherwise), after
 * any change to sb and before it is written.
 * block_csum (csum v2/v3): crc32c of a descriptor, revoke or commit block
 * whose 4-byte checksum field at off counts as zero.
 * copy_csum (csum v2/v3): the checksum of a block's copy in transaction
 * seq, as its tag holds it (v3 all 32 bits, v2 the low 16). escaped: the
 * log holds data with its first word zeroed (JBD2_FLAG_ESCAPE), which is
 * what the checksum covers. */
void ext2_journal_super_seal(const struct ext2_journal *j, struct jbd2_super *sb);
uint32_t ext2_journal_block_csum(const struct ext2_journal *j, const void *block, size_t off);
uint32_t ext2_journal_copy_csum(const struct ext2_journal *j, uint32_t seq, const void *data,
                                bool escaped);

/* transaction.c: writing through the journal (ordered mode). start: on a
 * read-write mount, after needs_recovery was set on disk: attach to the
 * block cache (bcache.h's journalling) and start the commit thread;
 * metadata changes then join the running transaction. stop: at unmount,
 * with the fs lock not held: stop the thread, commit, checkpoint (every
 * home block written, the log empty) and detach; the caller then clears
 * needs_recovery. */
int ext2_journal_start(struct ext2_fs *fs, uint32_t interval_ms);
int ext2_journal_stop(struct ext2_fs *fs);
/* ext2_journal_commit: fs lock held, no buffer lock. Data in new blocks
 * first (ordered mode), then the running transaction, durable on return:
 * sync, fsync (fsync.c).
 * May drop the fs lock while file writes finish (ext2_wait_writes). */
int ext2_journal_commit(struct ext2_fs *fs);
/* ext2_journal_sync: the commit, then every committed block written home
 * in one sorted pass, not flushed (the log holds them until the next
 * checkpoint), as Linux's syncfs of ext3 writes the block device after the
 * commit; otherwise eviction writes them later, a few at a time, in short
 * runs, while the next workload waits. ext2_checkpoint with a journal:
 * sync, fsync of a directory (as a full checkpoint without one). fs lock
 * held, as ext2_journal_commit. */
int ext2_journal_sync(struct ext2_fs *fs);
/* Block blk is freed (its bit cleared) in the running transaction: it is
 * busy until the transaction commits, and if the log holds a copy, that is
 * revoked (replay must not write it over the block's next user). 0 or
 * -ENOMEM (before anything changed); 0 without a journal. fs lock held. */
int ext2_journal_block_freed(struct ext2_fs *fs, uint32_t blk);
/* ext2_journal_block_busy: blk was freed in the running transaction. */
bool ext2_journal_block_busy(struct ext2_fs *fs, uint32_t blk);
/* Is a journal attached and taking transactions (mounted read-write)? */
bool ext2_journal_writing(struct ext2_fs *fs);

#endif
