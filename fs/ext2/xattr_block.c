/*
 * xattr_block.c: the attribute block an inode names in i_file_acl: a
 * 32-byte header (magic, reference count, h_blocks 1, the table hash) and
 * an entry table, sorted by namespace, name length and name, values at the
 * end.
 *
 * Several inodes may share one block (h_refcount of them, at most
 * EXT2_XATTR_REFCOUNT_MAX): a block is never changed while shared; the
 * inode that changes its attributes gets its own copy (copy on write) and
 * drops its reference to the shared one. The last reference frees the
 * block, also when the inode itself is freed. New contents are shared with
 * an identical block written or read recently (fs->xattr_recent, found by
 * the table hash), as Linux shares the blocks of files with the same ACL.
 *
 * A block is checked whole each time it is read (header, every entry, the
 * hashes): its buffer's checked mark may belong to another reader of the
 * same block number on a corrupt image, so it is not relied on.
 */
#include <errno.h>
#include <string.h>

#include "alloc.h"
#include "xattr.h"

#define HEADER_LEN ((uint32_t)sizeof(struct ext2_xattr_header))

uint32_t xattr_block_room(struct ext2_fs *fs)
{
	return fs->bsize - HEADER_LEN - 4;
}

static struct xattr_area block_area(struct ext2_fs *fs, uint8_t *data)
{
	return (struct xattr_area){ .base = data, .len = fs->bsize, .first = HEADER_LEN };
}

static struct ext2_xattr_header *header(uint8_t *data)
{
	return (struct ext2_xattr_header *)data;
}

/* ---- Blocks recently seen, for sharing ---------------------------------------- */

static void remember(struct ext2_fs *fs, uint32_t blk, uint32_t hash)
{
	unsigned slot = fs->xattr_recent_next;
	for (unsigned i = 0; i < EXT2_XATTR_RECENT; i++)
		if (fs->xattr_recent[i].blk == blk)
			slot = i;
	if (slot == fs->xattr_recent_next)
		fs->xattr_recent_next = (slot + 1) % EXT2_XATTR_RECENT;
	fs->xattr_recent[slot].blk = hash ? blk : 0;    /* hash 0: not to be shared */
	fs->xattr_recent[slot].hash = hash;
}

static void forget(struct ext2_fs *fs, uint32_t blk)
{
	for (unsigned i = 0; i < EXT2_XATTR_RECENT; i++)
		if (fs->xattr_recent[i].blk == blk)
			fs->xattr_recent[i].blk = 0;
}

/* ---- Reading ---------------------------------------------------------------- */

/* Read attribute block blk of inode ino, checked; its entries go into s
 * (if not NULL). Returns it locked. */
static int read_block(struct ext2_fs *fs, uint32_t blk, uint32_t ino, struct xattr_set *s,
                      struct buf **out)
{
	if (!ext2_valid_data_block(fs, blk))
		return EXT2_CORRUPT(fs, "inode %u: attribute block %u out of range", ino, blk);
	struct buf *b;
	int rc = bread(fs->bc, blk, &b);
	if (rc < 0)
		return rc;
	struct ext2_xattr_header *h = header(b->data);
	uint32_t hash;
	if (ld32(h->h_magic) != EXT2_XATTR_MAGIC || ld32(h->h_blocks) != 1 ||
	    ld32(h->h_refcount) == 0) {
		rc = EXT2_CORRUPT(fs, "inode %u: attribute block %u: bad header (magic 0x%x, "
		                  "blocks %u, refcount %u)", ino, blk, ld32(h->h_magic),
		                  ld32(h->h_blocks), ld32(h->h_refcount));
	} else {
		struct xattr_area a = block_area(fs, b->data);
		rc = xattr_table_parse(fs, &a, true, false, s, &hash, "attribute block", blk);
		/* 0: "not to be shared" (e2fsprogs writes it so). */
		if (rc == 0 && ld32(h->h_hash) != 0 && hash != ld32(h->h_hash))
			rc = EXT2_CORRUPT(fs, "attribute block %u: block hash 0x%x, entries give 0x%x",
			                  blk, ld32(h->h_hash), hash);
	}
	if (rc < 0) {
		brelse(b);
		return rc;
	}
	remember(fs, blk, ld32(h->h_hash));
	*out = b;
	return 0;
}

int xattr_block_load(struct ext2_fs *fs, struct ext2_inode_info *ii, struct xattr_set *s)
{
	if (!ii->file_acl)
		return 0;
	struct buf *b;
	int rc = read_block(fs, ii->file_acl, ii->ino, s, &b);
	if (rc == 0)
		brelse(b);
	return rc;
}

/* ---- References ------------------------------------------------------------- */

static void account(struct ext2_fs *fs, struct ext2_inode_info *ii, bool add)
{
	uint32_t units = fs->bsize / 512;
	if (add)
		ii->blocks += units;
	else
		ii->blocks = ii->blocks >= units ? ii->blocks - units : 0;
	ii->dirty = true;
}

int ext2_xattr_drop_block(struct ext2_fs *fs, struct ext2_inode_info *ii)
{
	uint32_t blk = ii->file_acl;
	if (!blk)
		return 0;
	if (!ext2_valid_data_block(fs, blk))
		return EXT2_CORRUPT(fs, "inode %u: attribute block %u out of range", ii->ino, blk);
	struct buf *b;
	int rc = bread(fs->bc, blk, &b);
	if (rc < 0)
		return rc;
	/* Only the header matters for letting go; a damaged one is not ours to free. */
	struct ext2_xattr_header *h = header(b->data);
	if (ld32(h->h_magic) != EXT2_XATTR_MAGIC || ld32(h->h_refcount) == 0) {
		brelse(b);
		return EXT2_CORRUPT(fs, "inode %u: bad attribute block %u", ii->ino, blk);
	}
	uint32_t refs = ld32(h->h_refcount) - 1;
	st32(&h->h_refcount, refs);
	bdirty(b, true);
	brelse(b);
	ii->file_acl = 0;
	account(fs, ii, false);
	if (refs)
		return 0;
	forget(fs, blk);
	return ext2_free_block(fs, blk);
}

/* Is there a block recently seen with this hash (other than ii's own)? */
static bool share_candidate(struct ext2_fs *fs, struct ext2_inode_info *ii, uint32_t hash)
{
	for (unsigned i = 0; hash && i < EXT2_XATTR_RECENT; i++)
		if (fs->xattr_recent[i].blk && fs->xattr_recent[i].hash == hash &&
		    fs->xattr_recent[i].blk != ii->file_acl)
			return true;
	return false;
}

/* A block recently seen with exactly the contents of img (its refcount
 * aside) that can take one more reference: take it. 0 if none. */
static uint32_t share_existing(struct ext2_fs *fs, struct ext2_inode_info *ii,
                               const uint8_t *img, uint32_t hash)
{
	if (!hash)
		return 0;
	for (unsigned i = 0; i < EXT2_XATTR_RECENT; i++) {
		uint32_t blk = fs->xattr_recent[i].blk;
		if (!blk || fs->xattr_recent[i].hash != hash || blk == ii->file_acl)
			continue;
		struct buf *b;
		if (read_block(fs, blk, ii->ino, NULL, &b) < 0)
			continue;
		struct ext2_xattr_header *h = header(b->data);
		uint32_t refs = ld32(h->h_refcount);
		bool same = memcmp(b->data + 8, img + 8, fs->bsize - 8) == 0;
		if (same && refs < EXT2_XATTR_REFCOUNT_MAX) {
			st32(&h->h_refcount, refs + 1);
			bdirty(b, true);
			brelse(b);
			return blk;
		}
		brelse(b);
	}
	return 0;
}

/* A new block holding img. */
static int write_new(struct ext2_fs *fs, struct ext2_inode_info *ii, const uint8_t *img,
                     uint32_t hash, uint32_t *out)
{
	uint32_t goal = ii->file_acl ? ii->file_acl
	                             : ext2_group_first_block(fs, ext2_ino_group(fs, ii->ino));
	uint32_t blk;
	int rc = ext2_new_block(fs, goal, &blk);
	if (rc < 0)
		return rc;
	struct buf *b;
	rc = bget_zero(fs->bc, blk, &b);
	if (rc < 0) {
		ext2_free_block(fs, blk);
		return rc;
	}
	memcpy(b->data, img, fs->bsize);
	bdirty_kind(b, BK_EARLY);   /* unreachable on disk until the inode lands */
	brelse(b);
	remember(fs, blk, hash);
	*out = blk;
	return 0;
}

/* ---- Storing ---------------------------------------------------------------- */

static int item_order(const struct xattr_item *a, const struct xattr_item *b)
{
	if (a->index != b->index)
		return a->index - b->index;
	if (a->name_len != b->name_len)
		return a->name_len - b->name_len;
	return memcmp(a->name, b->name, a->name_len);
}

/* Insertion sort: a block holds at most a few hundred entries. */
static void sort_items(struct xattr_item **v, unsigned n)
{
	for (unsigned i = 1; i < n; i++) {
		struct xattr_item *x = v[i];
		unsigned j = i;
		for (; j > 0 && item_order(v[j - 1], x) > 0; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}

/* Point ii at blk (which holds its reference already) instead of its old block. */
static int switch_block(struct ext2_fs *fs, struct ext2_inode_info *ii, uint32_t blk)
{
	int rc = ext2_xattr_drop_block(fs, ii);
	ii->file_acl = blk;
	account(fs, ii, true);
	return rc;
}

int xattr_block_store(struct ext2_fs *fs, struct ext2_inode_info *ii,
                      struct xattr_item *const *items, unsigned n)
{
	if (n == 0)
		return ext2_xattr_drop_block(fs, ii);
	uint8_t *img = kzalloc(fs->bsize);
	struct xattr_item **sorted = kmalloc(n * sizeof(*sorted));
	int rc = -ENOMEM;
	if (!img || !sorted)
		goto out;
	memcpy(sorted, items, n * sizeof(*sorted));
	sort_items(sorted, n);
	struct xattr_area a = block_area(fs, img);
	uint32_t hash = xattr_table_build(&a, sorted, n);
	struct ext2_xattr_header *h = header(img);
	st32(&h->h_magic, EXT2_XATTR_MAGIC);
	st32(&h->h_refcount, 1);
	st32(&h->h_blocks, 1);
	st32(&h->h_hash, hash);

	if (ii->file_acl) {
		struct buf *b;
		rc = read_block(fs, ii->file_acl, ii->ino, NULL, &b);
		if (rc < 0)
			goto out;
		uint32_t refs = ld32(header(b->data)->h_refcount);
		bool done = memcmp(b->data + 8, img + 8, fs->bsize - 8) == 0;   /* unchanged */
		if (!done && refs == 1 && !share_candidate(fs, ii, hash)) {
			/* Ours alone, and nothing to share: change it in place. */
			memcpy(b->data, img, fs->bsize);
			bdirty(b, true);
			remember(fs, ii->file_acl, hash);
			done = true;
		}
		brelse(b);
		if (done)
			goto out;
	}
	uint32_t blk = share_existing(fs, ii, img, hash);
	rc = blk ? 0 : write_new(fs, ii, img, hash, &blk);
	if (rc == 0)
		rc = switch_block(fs, ii, blk);
out:
	kfree(sorted);
	kfree(img);
	return rc;
}
