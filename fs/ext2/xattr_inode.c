/*
 * xattr_inode.c: attributes in a large inode's spare space. After the 128
 * bytes of the base inode and the i_extra_isize bytes of extra fields comes
 * a 4-byte magic (EXT2_XATTR_MAGIC when the space holds attributes), then
 * an entry table to the end of the on-disk inode whose value offsets count
 * from its first entry. No magic: no attributes there.
 */
#include <errno.h>
#include <string.h>

#include "xattr.h"

/* Where the inode's table starts in the on-disk inode; 0: it has none (a
 * 128-byte inode, or one without extra fields). */
static uint32_t ibody_start(struct ext2_fs *fs, struct ext2_inode_info *ii)
{
	uint32_t start = EXT2_GOOD_OLD_INODE_SIZE + ii->extra_isize + 4;
	if (fs->inode_size <= EXT2_GOOD_OLD_INODE_SIZE || ii->extra_isize < 4 ||
	    start + 8 > fs->inode_size)
		return 0;
	return start;
}

/* The inode's table, in its inode-table block (returned locked). */
static int ibody_read(struct ext2_fs *fs, struct ext2_inode_info *ii, uint32_t start,
                      struct buf **b, struct xattr_area *a)
{
	uint32_t off;
	int rc = ext2_inode_buf(fs, ii->ino, b, &off);
	if (rc == 0)
		*a = (struct xattr_area){ .base = (*b)->data + off + start,
		                          .len = fs->inode_size - start };
	return rc;
}

static le32 *ibody_magic(const struct xattr_area *a)
{
	return (le32 *)(a->base - 4);
}

uint32_t xattr_ibody_room(struct ext2_fs *fs, struct ext2_inode_info *ii)
{
	uint32_t start = ibody_start(fs, ii);
	return start ? fs->inode_size - start - 4 : 0;
}

int xattr_ibody_load(struct ext2_fs *fs, struct ext2_inode_info *ii, struct xattr_set *s)
{
	uint32_t start = ibody_start(fs, ii);
	if (!start)
		return 0;
	struct buf *b;
	struct xattr_area a;
	int rc = ibody_read(fs, ii, start, &b, &a);
	if (rc < 0)
		return rc;
	if (ld32(*ibody_magic(&a)) == EXT2_XATTR_MAGIC)
		rc = xattr_table_parse(fs, &a, false, true, s, NULL, "inode", ii->ino);
	brelse(b);
	return rc;
}

int xattr_ibody_store(struct ext2_fs *fs, struct ext2_inode_info *ii,
                      struct xattr_item *const *items, unsigned n)
{
	uint32_t start = ibody_start(fs, ii);
	if (!start)
		return n ? -ENOSPC : 0;
	struct buf *b;
	struct xattr_area a;
	int rc = ibody_read(fs, ii, start, &b, &a);
	if (rc < 0)
		return rc;
	if (n) {
		st32(ibody_magic(&a), EXT2_XATTR_MAGIC);
		xattr_table_build(&a, items, n);
	} else if (ld32(*ibody_magic(&a)) != 0) {
		memset(a.base - 4, 0, a.len + 4);
	}
	bdirty_kind(b, BK_INODE);
	brelse(b);
	return 0;
}
