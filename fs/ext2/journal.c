/*
 * journal.c: finding and checking an internal JBD2 journal (journal.h):
 * the journal inode's block map and the journal superblock; and the log's
 * checksums, which the writer (transaction.c) and replay (recovery.c) must
 * compute the same way.
 */
#include <errno.h>
#include <string.h>

#include "alloc.h"
#include "blkdev.h"
#include "ext2.h"
#include "jbd2.h"
#include "journal.h"

#define JBD2_MIN_BLOCKS 1024    /* mke2fs never makes a smaller journal */

/* Fill j->map[*next..] from the subtree at blk (depth 0: blk is a journal
 * block; else an indirect block of that depth). A hole or a block outside
 * the data area is corruption: the journal is always fully allocated. */
static int map_tree(struct ext2_journal *j, uint32_t blk, int depth, uint32_t *next)
{
	struct ext2_fs *fs = j->fs;
	if (blk == 0 || blk >= fs->blocks_count || !ext2_valid_data_block(fs, blk))
		return -EIO;
	if (depth == 0) {
		j->map[(*next)++] = blk;
		return 0;
	}
	struct buf *b;
	int rc = bread(fs->bc, blk, &b);
	if (rc < 0)
		return rc;
	const le32 *ptr = (const le32 *)b->data;
	for (uint32_t i = 0; i < fs->addr_per_block && *next < j->maxlen && rc == 0; i++)
		rc = map_tree(j, ld32(ptr[i]), depth - 1, next);
	brelse(b);
	return rc;
}

/* Read the journal inode and map its first j->maxlen blocks. */
static int map_inode(struct ext2_journal *j, uint64_t *size)
{
	struct ext2_fs *fs = j->fs;
	const char *dev = fs->vfs.dev->name;
	if (j->ino == 0 || j->ino > fs->inodes_count) {
		kprintf("ext2: %s: journal inode %u out of range\n", dev, j->ino);
		return -EIO;
	}
	uint32_t blk, off;
	ext2_inode_locate(fs, j->ino, &blk, &off);
	struct buf *b;
	int rc = bread(fs->bc, blk, &b);
	if (rc < 0)
		return rc;
	struct ext2_inode raw = *(const struct ext2_inode *)(b->data + off);
	brelse(b);
	uint16_t mode = ld16(raw.i_mode);
	if ((mode & 0170000) != 0100000 || ld16(raw.i_links_count) == 0) {
		kprintf("ext2: %s: journal inode %u is not a regular file\n", dev, j->ino);
		return -EIO;
	}
	if (ld32(raw.i_flags) & (EXT4_EXTENTS_FL | EXT4_INLINE_DATA_FL)) {
		kprintf("ext2: %s: journal inode %u is mapped by extents (ext4); not supported\n",
		        dev, j->ino);
		return -EOPNOTSUPP;
	}
	*size = ld32(raw.i_size) | (uint64_t)ld32(raw.i_size_high) << 32;
	uint64_t nblocks = *size / fs->bsize;
	if (nblocks < JBD2_MIN_BLOCKS || nblocks > fs->blocks_count) {
		kprintf("ext2: %s: journal inode %u has a bad size %lu\n", dev, j->ino,
		        (unsigned long)*size);
		return -EIO;
	}
	j->maxlen = (uint32_t)nblocks;
	j->map = kmalloc(j->maxlen * sizeof(*j->map));
	if (!j->map)
		return -ENOMEM;
	uint32_t next = 0;
	for (int i = 0; i < EXT2_N_BLOCKS && next < j->maxlen && rc == 0; i++) {
		int depth = i < EXT2_NDIR_BLOCKS ? 0 : i - EXT2_NDIR_BLOCKS + 1;
		rc = map_tree(j, ld32(raw.i_block[i]), depth, &next);
	}
	if (rc == -EIO || (rc == 0 && next < j->maxlen)) {
		kprintf("ext2: %s: journal inode %u has holes or bad blocks\n", dev, j->ino);
		return -EIO;
	}
	return rc;
}

static unsigned tag_bytes(uint32_t incompat)
{
	if (incompat & JBD2_INCOMPAT_CSUM_V3)
		return sizeof(struct jbd2_tag3);
	unsigned n = sizeof(struct jbd2_tag);
	if (incompat & JBD2_INCOMPAT_CSUM_V2)
		n += sizeof(uint16_t);
	return incompat & JBD2_INCOMPAT_64BIT ? n : n - sizeof(uint32_t);
}

static uint32_t super_csum(const struct jbd2_super *sb)
{
	struct jbd2_super copy = *sb;
	stb32(&copy.s_checksum, 0);
	return jbd2_crc32c(~0u, &copy, sizeof(copy));
}

void ext2_journal_super_seal(const struct ext2_journal *j, struct jbd2_super *sb)
{
	if (j->csum)
		stb32(&sb->s_checksum, super_csum(sb));
}

uint32_t ext2_journal_block_csum(const struct ext2_journal *j, const void *block, size_t off)
{
	const uint8_t *data = block;
	uint32_t zero = 0, bsize = j->fs->bsize;
	uint32_t c = jbd2_crc32c(j->csum_seed, data, off);
	c = jbd2_crc32c(c, &zero, sizeof(zero));
	return jbd2_crc32c(c, data + off + sizeof(zero), bsize - off - sizeof(zero));
}

uint32_t ext2_journal_copy_csum(const struct ext2_journal *j, uint32_t seq, const void *data,
                                bool escaped)
{
	be32 s;
	stb32(&s, seq);
	uint32_t c = jbd2_crc32c(j->csum_seed, &s, sizeof(s));
	if (!escaped)
		return jbd2_crc32c(c, data, j->fs->bsize);
	uint32_t zero = 0;
	c = jbd2_crc32c(c, &zero, sizeof(zero));
	return jbd2_crc32c(c, (const uint8_t *)data + sizeof(zero), j->fs->bsize - sizeof(zero));
}

/* Check the journal superblock (journal block 0) and take its fields. */
static int check_super(struct ext2_journal *j, const struct jbd2_super *sb, bool *ro_only)
{
	const char *dev = j->fs->vfs.dev->name;
	uint32_t type = ldb32(sb->s_header.h_blocktype);
	if (ldb32(sb->s_header.h_magic) != JBD2_MAGIC ||
	    (type != JBD2_SUPERBLOCK_V1 && type != JBD2_SUPERBLOCK_V2)) {
		kprintf("ext2: %s: journal superblock has a bad magic or type\n", dev);
		return -EIO;
	}
	j->v2 = type == JBD2_SUPERBLOCK_V2;
	if (j->v2) {
		j->compat = ldb32(sb->s_feature_compat);
		j->incompat = ldb32(sb->s_feature_incompat);
		j->ro_compat = ldb32(sb->s_feature_ro_compat);
	}
	if (j->incompat & ~JBD2_INCOMPAT_SUPP) {
		kprintf("ext2: %s: journal features 0x%x not supported%s; mount refused\n", dev,
		        j->incompat & ~JBD2_INCOMPAT_SUPP,
		        (j->incompat & JBD2_INCOMPAT_FAST_COMMIT) ? " (fast_commit, ext4)" : "");
		return -EOPNOTSUPP;
	}
	if (j->ro_compat) {
		kprintf("ext2: %s: read-only journal features 0x%x not supported; "
		        "mounting read-only\n", dev, j->ro_compat);
		*ro_only = true;
	}
	j->csum = (j->incompat & (JBD2_INCOMPAT_CSUM_V2 | JBD2_INCOMPAT_CSUM_V3)) != 0;
	if (j->csum && (j->compat & JBD2_COMPAT_CHECKSUM)) {
		kprintf("ext2: %s: journal has checksum v1 and v2/v3 at once\n", dev);
		return -EIO;
	}
	if (j->csum) {
		if (sb->s_checksum_type != JBD2_CRC32C_CHKSUM) {
			kprintf("ext2: %s: journal checksum type %u not supported; mount refused\n",
			        dev, sb->s_checksum_type);
			return -EOPNOTSUPP;
		}
		if (super_csum(sb) != ldb32(sb->s_checksum)) {
			kprintf("ext2: %s: journal superblock checksum does not match\n", dev);
			return -EIO;
		}
		j->csum_seed = jbd2_crc32c(~0u, sb->s_uuid, sizeof(sb->s_uuid));
	}
	if (j->v2 && ldb32(sb->s_nr_users) > 1) {
		kprintf("ext2: %s: journal shared by %u file systems; not supported\n", dev,
		        ldb32(sb->s_nr_users));
		return -EOPNOTSUPP;
	}
	uint32_t maxlen = ldb32(sb->s_maxlen);
	j->first = ldb32(sb->s_first);
	j->start = ldb32(sb->s_start);
	j->sequence = ldb32(sb->s_sequence);
	if (ldb32(sb->s_blocksize) != j->fs->bsize || maxlen > j->maxlen ||
	    maxlen < JBD2_MIN_BLOCKS || j->first == 0 || j->first >= maxlen ||
	    (j->start && (j->start < j->first || j->start >= maxlen))) {
		kprintf("ext2: %s: journal superblock geometry is corrupt\n", dev);
		return -EIO;
	}
	j->maxlen = maxlen;
	j->tag_bytes = tag_bytes(j->incompat);
	return 0;
}

int ext2_journal_load(struct ext2_fs *fs, struct ext2_journal **out, bool *ro_only)
{
	*out = NULL;
	struct ext2_journal *j = kzalloc(sizeof(*j));
	if (!j)
		return -ENOMEM;
	j->fs = fs;
	j->ino = ld32(fs->sb->s_journal_inum);
	uint64_t size;
	int rc = map_inode(j, &size);
	struct buf *b = NULL;
	if (rc == 0)
		rc = bread(fs->bc, j->map[0], &b);
	if (rc == 0) {
		rc = check_super(j, (const struct jbd2_super *)b->data, ro_only);
		brelse(b);
	}
	if (rc < 0) {
		ext2_journal_free(j);
		return rc;
	}
	*out = j;
	return 0;
}

int ext2_journal_mark_empty(struct ext2_journal *j, uint32_t seq)
{
	struct buf *b;
	int rc = bread(j->fs->bc, j->map[0], &b);
	if (rc < 0)
		return rc;
	struct jbd2_super *sb = (struct jbd2_super *)b->data;
	stb32(&sb->s_sequence, seq);
	stb32(&sb->s_start, 0);
	ext2_journal_super_seal(j, sb);
	bdirty(b, true);
	brelse(b);
	j->start = 0;
	j->sequence = seq;
	return 0;
}

void ext2_journal_free(struct ext2_journal *j)
{
	if (!j)
		return;
	kfree(j->map);
	kfree(j);
}
