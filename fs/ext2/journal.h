/*
 * journal.h: the driver's view of an ext3/ext4 internal journal (JBD2;
 * the on-disk format is in jbd2.h).
 *
 * Lifecycle: at mount, an image with has_journal gets ext2_journal_load
 * (map the journal inode, read and check the journal superblock and its
 * features); if the file system needs recovery, ext2_journal_recover
 * replays the committed transactions into their home blocks and marks the
 * journal empty; ext2_journal_free at unmount. Called with the fs lock held
 * or before the file system is visible (mount).
 */
#ifndef FS_EXT2_JOURNAL_H
#define FS_EXT2_JOURNAL_H

#include <stdbool.h>
#include <stdint.h>

struct ext2_fs;

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

#endif
