/*
 * inode.c: in-core inodes (see the lifecycle in ext2.h), reading and
 * writing on-disk inodes, the block map (12 direct blocks, then single,
 * double and triple indirect blocks; a zero entry is a hole) and truncate.
 *
 * An inode is checked once, when read from disk; block numbers found in
 * the map are range-checked every time they are followed or freed.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "alloc.h"
#include "ext2.h"
#include "journal.h"

static struct list *bucket(struct ext2_fs *fs, uint32_t ino)
{
	return &fs->inodes[ino % EXT2_INODE_BUCKETS];
}

static struct ext2_inode_info *find(struct ext2_fs *fs, uint32_t ino)
{
	list_for_each(l, bucket(fs, ino)) {
		struct ext2_inode_info *ii = list_entry(l, struct ext2_inode_info, link);
		if (ii->ino == ino)
			return ii;
	}
	return NULL;
}

struct ext2_inode_info *ext2_ifind(struct ext2_fs *fs, uint32_t ino)
{
	return find(fs, ino);
}

uint64_t ext2_max_size(struct ext2_fs *fs)
{
	if (fs->rev == EXT2_GOOD_OLD_REV)
		return 0x7fffffffull;
	uint64_t apb = fs->addr_per_block;
	uint64_t blocks = EXT2_NDIR_BLOCKS + apb + apb * apb + apb * apb * apb;
	uint64_t bytes = blocks * fs->bsize;
	uint64_t cap = (1ull << 41) - (1ull << 32);    /* i_blocks (512-byte units) stays 32-bit */
	return bytes < cap ? bytes : cap;
}

bool ext2_is_fast_symlink(struct ext2_fs *fs, struct ext2_inode_info *ii)
{
	if (!S_ISLNK(ii->mode))
		return false;
	uint32_t ea = ii->file_acl ? fs->bsize / 512 : 0;
	return ii->blocks == ea;
}

bool ext2_has_blocks(struct ext2_fs *fs, struct ext2_inode_info *ii)
{
	if (S_ISREG(ii->mode) || S_ISDIR(ii->mode))
		return true;
	return S_ISLNK(ii->mode) && !ext2_is_fast_symlink(fs, ii);
}

void ext2_touch(struct ext2_inode_info *ii, bool m, bool c)
{
	int64_t now = ext2_now_ns();
	if (m)
		ext2_time_set(&ii->mtime, now, EXT2_TIME_WIDE(ii, i_mtime_extra));
	if (c)
		ext2_time_set(&ii->ctime, now, EXT2_TIME_WIDE(ii, i_ctime_extra));
	ii->dirty = true;
}

/* Where inode ino lives: its inode-table block and byte offset in it. */
void ext2_inode_locate(struct ext2_fs *fs, uint32_t ino, uint32_t *blk, uint32_t *off)
{
	uint32_t g = ext2_ino_group(fs, ino), idx = (ino - 1) % fs->inodes_per_group;
	uint64_t byte = (uint64_t)idx * fs->inode_size;
	*blk = fs->groups[g].inode_table + (uint32_t)(byte / fs->bsize);
	*off = (uint32_t)(byte % fs->bsize);
}

bool ext2_valid_ino(struct ext2_fs *fs, uint32_t ino)
{
	return (ino == EXT2_ROOT_INO || ino >= fs->first_ino) && ino <= fs->inodes_count;
}

/* Read (store false) or write the times of the on-disk inode raw, with
 * the extra fields its extra size covers. */
static void times_io(struct ext2_inode_info *ii, struct ext2_inode *raw, bool store)
{
	struct ext2_inode_extra *x = (struct ext2_inode_extra *)(raw + 1);
	struct { struct ext2_time *t; le32 *sec, *extra; } f[] = {
		{ &ii->atime, &raw->i_atime,
		  EXT2_TIME_WIDE(ii, i_atime_extra) ? &x->i_atime_extra : NULL },
		{ &ii->ctime, &raw->i_ctime,
		  EXT2_TIME_WIDE(ii, i_ctime_extra) ? &x->i_ctime_extra : NULL },
		{ &ii->mtime, &raw->i_mtime,
		  EXT2_TIME_WIDE(ii, i_mtime_extra) ? &x->i_mtime_extra : NULL },
		{ &ii->crtime, &x->i_crtime,
		  EXT2_TIME_WIDE(ii, i_crtime_extra) ? &x->i_crtime_extra : NULL },
	};
	/* crtime only with its extra field (i_crtime sits just before it). */
	unsigned n = f[3].extra ? 4 : 3;
	for (unsigned i = 0; i < n; i++) {
		if (store)
			ext2_time_encode(f[i].t, f[i].sec, f[i].extra);
		else
			ext2_time_decode(f[i].t, *f[i].sec, f[i].extra);
	}
}

int ext2_inode_buf(struct ext2_fs *fs, uint32_t ino, struct buf **out, uint32_t *off)
{
	uint32_t blk;
	ext2_inode_locate(fs, ino, &blk, off);
	return bread(fs->bc, blk, out);
}

/* orphan: ii is read from the orphan list, where no links is expected and
 * i_dtime names the next orphan. */
static int read_inode(struct ext2_fs *fs, struct ext2_inode_info *ii, bool orphan)
{
	uint32_t blk, off;
	struct buf *b;
	ext2_inode_locate(fs, ii->ino, &blk, &off);
	int rc = bread(fs->bc, blk, &b);
	if (rc < 0)
		return rc;
	const struct ext2_inode *raw = (const struct ext2_inode *)(b->data + off);
	ii->mode = ld16(raw->i_mode);
	ii->uid = ld16(raw->i_uid) | (uint32_t)ld16(raw->l_i_uid_high) << 16;
	ii->gid = ld16(raw->i_gid) | (uint32_t)ld16(raw->l_i_gid_high) << 16;
	ii->size = ld32(raw->i_size);
	if (S_ISREG(ii->mode))
		ii->size |= (uint64_t)ld32(raw->i_size_high) << 32;
	ii->dtime = ld32(raw->i_dtime);
	ii->links = ld16(raw->i_links_count);
	ii->blocks = ld32(raw->i_blocks);
	ii->flags = ld32(raw->i_flags);
	for (int i = 0; i < EXT2_N_BLOCKS; i++)
		ii->block[i] = ld32(raw->i_block[i]);
	ii->generation = ld32(raw->i_generation);
	ii->file_acl = ld32(raw->i_file_acl);
	if (fs->inode_size > EXT2_GOOD_OLD_INODE_SIZE) {
		const struct ext2_inode_extra *x = (const struct ext2_inode_extra *)
			(b->data + off + EXT2_GOOD_OLD_INODE_SIZE);
		uint16_t isize = ld16(x->i_extra_isize);
		/* A bad size (e2fsck fixes it) means: no extra fields. */
		if (isize % 4 || isize > fs->inode_size - EXT2_GOOD_OLD_INODE_SIZE)
			isize = 0;
		ii->extra_isize = isize;
	}
	times_io(ii, (struct ext2_inode *)raw, false);
	brelse(b);

	/* Check it once, here. */
	if (ii->links == 0 && ii->ino < fs->first_ino)
		return EXT2_CORRUPT(fs, "reserved inode %u has no links", ii->ino);
	if (orphan && ii->mode == 0)
		return EXT2_CORRUPT(fs, "the orphan list names unused inode %u", ii->ino);
	if (ii->links == 0 && !orphan && (ii->mode == 0 || ii->dtime))
		return -ENOENT;     /* deleted: a stale number, as Linux's -ESTALE */
	/* No links but not deleted: whatever names it, the count is wrong, and
	 * the last iput would free an inode the bitmap still holds. */
	if (ii->links == 0 && !orphan)
		return EXT2_CORRUPT(fs, "inode %u is in use (mode 0%o) but has no links", ii->ino,
		                    ii->mode);
	switch (ii->mode & S_IFMT) {
	case S_IFREG: case S_IFDIR: case S_IFLNK: case S_IFCHR: case S_IFBLK:
	case S_IFIFO: case S_IFSOCK:
		break;
	default:
		return EXT2_CORRUPT(fs, "inode %u has bad mode 0%o", ii->ino, ii->mode);
	}
	if (ii->flags & (EXT4_EXTENTS_FL | EXT4_INLINE_DATA_FL))
		return EXT2_CORRUPT(fs, "inode %u uses extents or inline data", ii->ino);
	if (S_ISDIR(ii->mode) && (ii->size % fs->bsize || ii->size == 0))
		return EXT2_CORRUPT(fs, "directory %u has size %lu", ii->ino, (unsigned long)ii->size);
	if (ii->size > ext2_max_size(fs) && S_ISREG(ii->mode))
		return EXT2_CORRUPT(fs, "inode %u has size %lu", ii->ino, (unsigned long)ii->size);
	if (S_ISLNK(ii->mode)) {
		if (ii->size == 0 || ii->size >= fs->bsize ||
		    (ext2_is_fast_symlink(fs, ii) && ii->size > EXT2_FAST_SYMLINK_MAX))
			return EXT2_CORRUPT(fs, "symlink %u has size %lu", ii->ino,
			                    (unsigned long)ii->size);
	}
	if (ii->file_acl && !ext2_valid_data_block(fs, ii->file_acl))
		return EXT2_CORRUPT(fs, "inode %u has bad attribute block %u", ii->ino, ii->file_acl);
	return 0;
}

/* Whether two on-disk inodes differ in their times at most (the 128
 * bytes every inode has; the extra fields hold only times and the
 * creation time). */
static bool same_but_times(const struct ext2_inode *a, const struct ext2_inode *b)
{
	struct ext2_inode x = *a, y = *b;
	y.i_atime = x.i_atime;
	y.i_ctime = x.i_ctime;
	y.i_mtime = x.i_mtime;
	return memcmp(&x, &y, sizeof(x)) == 0;
}

int ext2_write_inode(struct ext2_fs *fs, struct ext2_inode_info *ii)
{
	EXT2_ASSERT_LOCKED(fs);
	if (ii->freed || fs->vfs.read_only)
		return 0;
	/* Unlinked. Without a journal the disk keeps the old link count until
	 * the release (deferred.c), so no entry on disk ever names an unused
	 * inode; with one, the name's removal commits now and so must the
	 * count: the inode goes on the orphan list (orphan.c). */
	if (ii->links == 0 && !ii->dtime && ii->ino >= fs->first_ino) {
		if (!ext2_journal_writing(fs) && !ext2_orphan_listed(ii))
			return 0;
		ext2_orphan_add(fs, ii);
	}
	uint32_t blk, off;
	struct buf *b;
	ext2_inode_locate(fs, ii->ino, &blk, &off);
	int rc = bread(fs->bc, blk, &b);
	if (rc < 0)
		return rc;
	struct ext2_inode *raw = (struct ext2_inode *)(b->data + off);
	struct ext2_inode before = *raw;
	st16(&raw->i_mode, ii->mode);
	st16(&raw->i_uid, (uint16_t)ii->uid);
	st16(&raw->l_i_uid_high, (uint16_t)(ii->uid >> 16));
	st16(&raw->i_gid, (uint16_t)ii->gid);
	st16(&raw->l_i_gid_high, (uint16_t)(ii->gid >> 16));
	st32(&raw->i_size, (uint32_t)ii->size);
	if (S_ISREG(ii->mode))
		st32(&raw->i_size_high, (uint32_t)(ii->size >> 32));
	st32(&raw->i_dtime, ii->dtime ? ii->dtime : ii->orphan_next);
	st16(&raw->i_links_count, ii->links);
	st32(&raw->i_blocks, ii->blocks);
	st32(&raw->i_flags, ii->flags);
	for (int i = 0; i < EXT2_N_BLOCKS; i++)
		st32(&raw->i_block[i], ii->block[i]);
	st32(&raw->i_generation, ii->generation);
	st32(&raw->i_file_acl, ii->file_acl);
	times_io(ii, raw, true);
	if (ext2_journal_writing(fs) && !same_but_times(&before, raw))
		ext2_note_change(fs, ii->ino);  /* fsync commits it (fsync.c) */
	bdirty_kind(b, BK_INODE);
	brelse(b);
	ii->dirty = false;
	return 0;
}

static int get(struct ext2_fs *fs, uint32_t ino, bool orphan, struct ext2_inode_info **out)
{
	EXT2_ASSERT_LOCKED(fs);
	if (!ext2_valid_ino(fs, ino))
		return EXT2_CORRUPT(fs, "bad inode number %u", ino);
	struct ext2_inode_info *ii = find(fs, ino);
	if (ii && ii->release_due)
		return -ENOENT;         /* unlinked and closed: only its release holds it */
	if (ii) {
		ii->refs++;
		*out = ii;
		return 0;
	}
	ii = kzalloc(sizeof(*ii));
	if (!ii)
		return -ENOMEM;
	ii->ino = ino;
	mutex_init(&ii->io_lock, "ext2.inode");
	list_init(&ii->orphan_link);
	int rc = read_inode(fs, ii, orphan);
	if (rc < 0) {
		kfree(ii);
		return rc;
	}
	ii->refs = 1;
	list_push_back(bucket(fs, ino), &ii->link);
	*out = ii;
	return 0;
}

int ext2_iget(struct ext2_fs *fs, uint32_t ino, struct ext2_inode_info **out)
{
	return get(fs, ino, false, out);
}

int ext2_iget_orphan(struct ext2_fs *fs, uint32_t ino, struct ext2_inode_info **out)
{
	return get(fs, ino, true, out);
}

static uint32_t next_generation;

int ext2_init_inode(struct ext2_fs *fs, uint32_t ino, uint32_t mode, uint32_t uid,
                    uint32_t gid, struct ext2_inode_info **out)
{
	if (find(fs, ino))
		return EXT2_CORRUPT(fs, "new inode %u is still in use", ino);
	struct ext2_inode_info *ii = kzalloc(sizeof(*ii));
	if (!ii)
		return -ENOMEM;
	/* Clear the whole on-disk slot, then set the extra size. */
	uint32_t blk, off;
	struct buf *b;
	ext2_inode_locate(fs, ino, &blk, &off);
	int rc = bread(fs->bc, blk, &b);
	if (rc < 0) {
		kfree(ii);
		return rc;
	}
	/* The bitmap said free; the inode must agree (links, or a mode without
	 * a deletion time, is a file in use), else its bitmap lies and taking
	 * it would give one inode two files. The caller clears the bit again. */
	const struct ext2_inode *old = (const struct ext2_inode *)(b->data + off);
	uint16_t links = ld16(old->i_links_count), omode = ld16(old->i_mode);
	if (links || (omode && !ld32(old->i_dtime)) || ext2_is_bad_block(fs, blk)) {
		brelse(b);
		kfree(ii);
		if (links || omode)
			return EXT2_CORRUPT(fs, "inode %u is free in the bitmap but in use "
			                    "(links %u, mode 0%o)", ino, links, omode);
		return EXT2_CORRUPT(fs, "inode %u is in bad block %u", ino, blk);
	}
	memset(b->data + off, 0, fs->inode_size);
	if (fs->inode_size > EXT2_GOOD_OLD_INODE_SIZE) {
		struct ext2_inode_extra *x = (struct ext2_inode_extra *)(b->data + off +
		                                                          EXT2_GOOD_OLD_INODE_SIZE);
		st16(&x->i_extra_isize, fs->want_extra_isize);
	}
	bdirty_kind(b, BK_INODE);
	brelse(b);

	ii->ino = ino;
	mutex_init(&ii->io_lock, "ext2.inode");
	list_init(&ii->orphan_link);
	ii->mode = (uint16_t)mode;
	ii->uid = uid;
	ii->gid = gid;
	ii->extra_isize = fs->inode_size > EXT2_GOOD_OLD_INODE_SIZE ? fs->want_extra_isize : 0;
	ext2_touch(ii, true, true);
	ii->atime = ii->crtime = ii->mtime = ii->ctime;
	ii->generation = __atomic_add_fetch(&next_generation, 1, __ATOMIC_RELAXED) ^
	                 (uint32_t)ii->ctime.sec;
	ii->refs = 1;
	ii->dirty = true;
	list_push_back(bucket(fs, ino), &ii->link);
	*out = ii;
	return 0;
}

/* The last reference to an unlinked inode is gone: free it on disk. */
static int free_inode(struct ext2_fs *fs, struct ext2_inode_info *ii)
{
	int rc = ext2_orphan_del(fs, ii);
	if (rc == 0 && ext2_has_blocks(fs, ii))
		rc = ext2_truncate(fs, ii, 0);
	if (rc == 0 && ii->file_acl)
		rc = ext2_xattr_drop_block(fs, ii);
	if (S_ISCHR(ii->mode) || S_ISBLK(ii->mode) || ext2_is_fast_symlink(fs, ii))
		memset(ii->block, 0, sizeof(ii->block));
	ii->dtime = ext2_now();
	ii->size = 0;
	int wrc = ext2_write_inode(fs, ii);
	if (rc == 0)
		rc = wrc;
	int frc = ext2_free_inode_bit(fs, ii->ino, S_ISDIR(ii->mode));
	ii->freed = true;
	return rc ? rc : frc;
}

int ext2_iput(struct ext2_fs *fs, struct ext2_inode_info *ii)
{
	EXT2_ASSERT_LOCKED(fs);
	int rc = 0;
	if (ii->dirty)
		rc = ext2_write_inode(fs, ii);
	if (--ii->refs > 0)
		return rc;
	if (ii->links == 0 && !ii->freed && !fs->vfs.read_only && ii->ino >= fs->first_ino &&
	    !ii->release_due) {
		/* Free it once its entry's removal is on disk: the record holds
		 * a reference until then (deferred.c). */
		int drc = ext2_defer(fs, EXT2_DEFER_RELEASE, ii->ino);
		if (drc == 0) {
			ii->refs = 1;
			ii->release_due = true;
			return rc;
		}
	}
	list_remove(&ii->link);
	if (ii->links == 0 && !ii->freed && !fs->vfs.read_only && ii->ino >= fs->first_ino) {
		int frc = free_inode(fs, ii);
		if (rc == 0)
			rc = frc;
	}
	list_remove(&ii->orphan_link);  /* still listed if not freed (read-only now) */
	kfree(ii);
	return rc;
}

void ext2_release_inodes(struct ext2_fs *fs)
{
	for (unsigned i = 0; i < EXT2_INODE_BUCKETS; i++) {
		struct list *l;
		while ((l = fs->inodes[i].next) != &fs->inodes[i]) {
			struct ext2_inode_info *ii = list_entry(l, struct ext2_inode_info, link);
			ii->refs = 1;
			ii->release_due = true;     /* unmount: free unlinked ones now */
			ext2_iput(fs, ii);
		}
	}
}

/* ---- Block map ------------------------------------------------------------ */

/* The path to logical block lblk: offsets per level; returns the depth
 * (0: direct) or -1 past the largest file. */
static int block_path(struct ext2_fs *fs, uint64_t lblk, uint32_t path[4])
{
	uint64_t apb = fs->addr_per_block;
	if (lblk < EXT2_NDIR_BLOCKS) {
		path[0] = (uint32_t)lblk;
		return 0;
	}
	lblk -= EXT2_NDIR_BLOCKS;
	if (lblk < apb) {
		path[0] = EXT2_IND_BLOCK;
		path[1] = (uint32_t)lblk;
		return 1;
	}
	lblk -= apb;
	if (lblk < apb * apb) {
		path[0] = EXT2_DIND_BLOCK;
		path[1] = (uint32_t)(lblk / apb);
		path[2] = (uint32_t)(lblk % apb);
		return 2;
	}
	lblk -= apb * apb;
	if (lblk < apb * apb * apb) {
		path[0] = EXT2_TIND_BLOCK;
		path[1] = (uint32_t)(lblk / (apb * apb));
		path[2] = (uint32_t)(lblk / apb % apb);
		path[3] = (uint32_t)(lblk % apb);
		return 3;
	}
	return -1;
}

static uint32_t alloc_goal(struct ext2_fs *fs, struct ext2_inode_info *ii, uint64_t lblk,
                           uint32_t near)
{
	if (ii->last_pblk && ii->last_lblk + 1 == lblk)
		return ii->last_pblk + 1;
	if (near)
		return near + 1;
	uint32_t g = ext2_ino_group(fs, ii->ino);
	return fs->groups[g].inode_table + fs->itb_per_group;
}

static int alloc_block(struct ext2_fs *fs, struct ext2_inode_info *ii, uint32_t goal,
                       uint32_t *out)
{
	int rc = ext2_new_block(fs, goal, out);
	if (rc < 0)
		return rc;
	ii->blocks += fs->bsize / 512;
	ii->dirty = true;
	return 0;
}

static int release_block(struct ext2_fs *fs, struct ext2_inode_info *ii, uint32_t blk)
{
	int rc = ext2_free_block(fs, blk);
	if (rc == 0 && ii->blocks >= fs->bsize / 512)
		ii->blocks -= fs->bsize / 512;
	ii->dirty = true;
	return rc;
}

/* Without a journal an indirect block that is on disk is never changed in
 * place: its pointers and the size that covers them would reach the disk
 * in two writes, and a crash between them leaves a hole under the size
 * (zeros at the end of an appended file) or blocks past it (which e2fsck
 * makes the size cover: truncated data back). So before a change, such a
 * block is replaced by a copy that nothing on disk points at (BK_EARLY:
 * written before the inode), its parent pointed at the copy, itself a
 * copy up to the inode: the inode then switches to the new map and size
 * in one write. The old block is freed after the checkpoint that drops it
 * (deferred.c). A block still dirty as BK_EARLY is such a copy, or new,
 * already: kept; one that eviction wrote is copied again, which costs a
 * block, not the order. On a full disk the block changes in place, so
 * that a truncation still frees space (the order is lost then).
 * make_writable: *b (block *blk of ii's map, locked) made one that may
 * change: *b and *blk are the copy's when one was made (the old block let
 * go), even if freeing the old block failed (-errno). */
static int make_writable(struct ext2_fs *fs, struct ext2_inode_info *ii, struct buf **b,
                         uint32_t *blk)
{
	if (ext2_journal_writing(fs) || bis_dirty_early(*b))
		return 0;
	uint32_t copy;
	struct buf *nb;
	int rc = alloc_block(fs, ii, *blk, &copy);
	if (rc == -ENOSPC)
		return 0;
	if (rc == 0 && (rc = bget_zero(fs->bc, copy, &nb)) < 0)
		release_block(fs, ii, copy);
	if (rc < 0)
		return rc;
	memcpy(nb->data, (*b)->data, fs->bsize);
	bdirty_owned(nb, BK_EARLY, ii->ino);
	brelse(*b);
	rc = release_block(fs, ii, *blk);
	*b = nb;
	*blk = copy;
	return rc;
}

/* The phase of a changed block of the map: with a journal, journalled;
 * without, a copy (make_writable), written before the inode. */
static enum bkind map_kind(struct ext2_fs *fs, enum bkind journalled)
{
	return ext2_journal_writing(fs) ? journalled : BK_EARLY;
}

/* The walk of ext2_bmap down path (depth levels). */
static int walk(struct ext2_fs *fs, struct ext2_inode_info *ii, uint64_t lblk,
                const uint32_t *path, int depth, bool create, uint32_t *pblk, bool *fresh)
{

	uint32_t cur = ii->block[path[0]];
	if (cur && !ext2_valid_data_block(fs, cur))
		return EXT2_CORRUPT(fs, "inode %u: bad block %u in its map", ii->ino, cur);
	if (!cur) {
		if (!create)
			return 0;
		uint32_t goal = depth == 0 ? alloc_goal(fs, ii, lblk, 0) :
		                alloc_goal(fs, ii, ii->last_lblk + 1, 0);
		int rc = alloc_block(fs, ii, goal, &cur);
		if (rc < 0)
			return rc;
		ii->block[path[0]] = cur;
		if (depth > 0) {
			struct buf *nb;     /* a new, empty indirect block */
			rc = bget_zero(fs->bc, cur, &nb);
			if (rc < 0)
				return rc;
			bdirty_owned(nb, BK_EARLY, ii->ino);  /* unreachable on disk until the inode lands */
			brelse(nb);
		} else if (fresh) {
			*fresh = true;      /* the caller fills it (bget_zero) */
		}
	}
	for (int level = 1; level <= depth; level++) {
		struct buf *b;
		int rc = bread(fs->bc, cur, &b);
		if (rc < 0)
			return rc;
		le32 *entries = (le32 *)b->data;
		uint32_t next = ld32(entries[path[level]]);
		if (next && !ext2_valid_data_block(fs, next)) {
			brelse(b);
			return EXT2_CORRUPT(fs, "inode %u: bad block %u in indirect block %u",
			                    ii->ino, next, cur);
		}
		if (!next) {
			if (!create) {
				brelse(b);
				return 0;
			}
			uint32_t goal = level == depth ? alloc_goal(fs, ii, lblk, cur) : cur;
			rc = alloc_block(fs, ii, goal, &next);
			if (rc < 0) {
				brelse(b);
				return rc;
			}
			st32(&entries[path[level]], next);
			bdirty_owned(b, map_kind(fs, BK_INODE), ii->ino);
			brelse(b);
			if (level < depth) {
				struct buf *nb;
				rc = bget_zero(fs->bc, next, &nb);
				if (rc < 0)
					return rc;
				bdirty_owned(nb, BK_EARLY, ii->ino);
				brelse(nb);
			} else if (fresh) {
				*fresh = true;
			}
		} else {
			brelse(b);
		}
		cur = next;
	}
	if (create) {
		ii->last_lblk = lblk;
		ii->last_pblk = cur;
	}
	*pblk = cur;
	return 0;
}

/* Fill the hole on path (ext2_bmap): each indirect block from the top
 * down to the one that gets the pointer made writable, its parent pointed
 * at the copy where one was made. */
static int unshare_path(struct ext2_fs *fs, struct ext2_inode_info *ii, const uint32_t *path,
                        int depth)
{
	uint32_t cur = ii->block[path[0]];
	struct buf *parent = NULL;      /* the writable block one level up, locked */
	int rc = 0;
	for (int level = 1; level <= depth && cur && rc == 0; level++) {
		struct buf *b;
		rc = bread(fs->bc, cur, &b);
		if (rc < 0)
			break;
		uint32_t was = cur;
		rc = make_writable(fs, ii, &b, &cur);
		if (cur != was && parent) {
			st32(&((le32 *)parent->data)[path[level - 1]], cur);
			bdirty_owned(parent, BK_EARLY, ii->ino);
		} else if (cur != was) {
			ii->block[path[0]] = cur;
		}
		if (parent)
			brelse(parent);
		parent = b;
		if (rc < 0)
			break;
		cur = ld32(((le32 *)b->data)[path[level]]);
		if (cur && !ext2_valid_data_block(fs, cur))
			rc = EXT2_CORRUPT(fs, "inode %u: bad block %u in indirect block %llu", ii->ino,
			                  cur, (unsigned long long)b->blockno);
	}
	if (parent)
		brelse(parent);
	return rc;
}

/* ext2_bmap: the physical block of logical block lblk (0: a hole). With
 * create, a hole gets a new block and *fresh is set: its contents are
 * undefined until the caller takes it with bget_zero. */
int ext2_bmap(struct ext2_fs *fs, struct ext2_inode_info *ii, uint64_t lblk, bool create,
              uint32_t *pblk, bool *fresh)
{
	EXT2_ASSERT_LOCKED(fs);
	uint32_t path[4];
	int depth = block_path(fs, lblk, path);
	*pblk = 0;
	if (fresh)
		*fresh = false;
	if (depth < 0)
		return create ? -EFBIG : 0;
	if (create && depth > 0 && !ext2_journal_writing(fs)) {
		int rc = walk(fs, ii, lblk, path, depth, false, pblk, fresh);
		if (rc < 0)
			return rc;
		if (*pblk) {
			ii->last_lblk = lblk;
			ii->last_pblk = *pblk;
			return 0;
		}
		rc = unshare_path(fs, ii, path, depth);
		if (rc < 0)
			return rc;
	}
	return walk(fs, ii, lblk, path, depth, create, pblk, fresh);
}

/* ext2_bmap_run: ext2_bmap without create for up to max blocks from lblk,
 * as far as the block holding their pointers goes (the inode's direct
 * ones, or one indirect block): a sequential read looks the path up once
 * per run, not once per block. How many were mapped (at least one), or
 * -errno. */
int ext2_bmap_run(struct ext2_fs *fs, struct ext2_inode_info *ii, uint64_t lblk, unsigned max,
                  uint32_t *pblk)
{
	EXT2_ASSERT_LOCKED(fs);
	uint32_t path[4];
	int depth = block_path(fs, lblk, path);
	if (depth < 0) {
		pblk[0] = 0;
		return 1;
	}
	const le32 *entries = NULL;
	struct buf *b = NULL;
	uint32_t room = depth == 0 ? EXT2_NDIR_BLOCKS - path[0] : fs->addr_per_block - path[depth];
	unsigned n = max < room ? max : room;
	if (depth > 0) {
		uint32_t leaf = 0;      /* the indirect block holding the pointers */
		int rc = walk(fs, ii, lblk, path, depth - 1, false, &leaf, NULL);
		if (rc < 0)
			return rc;
		if (!leaf) {
			memset(pblk, 0, n * sizeof(*pblk));
			return (int)n;
		}
		rc = bread(fs->bc, leaf, &b);
		if (rc < 0)
			return rc;
		entries = (const le32 *)b->data + path[depth];
	}
	for (unsigned i = 0; i < n; i++) {
		uint32_t blk = b ? ld32(entries[i]) : ii->block[path[0] + i];
		if (blk && !ext2_valid_data_block(fs, blk)) {
			if (!b)
				return EXT2_CORRUPT(fs, "inode %u: bad block %u in its map", ii->ino, blk);
			uint64_t leaf = b->blockno;
			brelse(b);
			return EXT2_CORRUPT(fs, "inode %u: bad block %u in indirect block %llu", ii->ino,
			                    blk, (unsigned long long)leaf);
		}
		pblk[i] = blk;
	}
	if (b)
		brelse(b);
	return (int)n;
}

/* ---- Truncate ------------------------------------------------------------- */

/* Free what indirect block *blk (depth levels above the data; it maps
 * logical blocks from base on) maps at or past keep; set *empty when
 * nothing it maps is left, so the caller frees *blk itself. A block that
 * keeps part of its map is changed through make_writable: *blk may become
 * a copy, which the caller points at. One wholly past keep is freed with
 * its children as it is: nothing will point at it. */
static int trim_tree(struct ext2_fs *fs, struct ext2_inode_info *ii, uint32_t *blk, int depth,
                     uint64_t base, uint64_t keep, bool *empty)
{
	uint64_t span = 1;
	for (int i = 1; i < depth; i++)
		span *= fs->addr_per_block;
	struct buf *b;
	int rc = bread(fs->bc, *blk, &b);
	if (rc < 0)
		return rc;
	bool whole = base >= keep, any = false;
	for (uint32_t j = 0; j < fs->addr_per_block && rc == 0; j++) {
		uint32_t child = ld32(((le32 *)b->data)[j]);
		if (!child)
			continue;
		uint64_t lo = base + j * span;
		if (lo + span <= keep) {
			any = true;
			continue;
		}
		if (!ext2_valid_data_block(fs, child)) {
			brelse(b);
			return EXT2_CORRUPT(fs, "inode %u: bad block %u in indirect block %u",
			                    ii->ino, child, *blk);
		}
		uint32_t now = child;
		bool child_empty = true;
		if (depth > 1) {
			/* Children are indirect blocks: recurse without holding b. */
			brelse(b);
			rc = trim_tree(fs, ii, &now, depth - 1, lo, keep, &child_empty);
			int rc2 = bread(fs->bc, *blk, &b);
			if (rc2 < 0)
				return rc ? rc : rc2;
			if (rc < 0)
				child_empty = false;    /* keep what is left of it */
		}
		if (child_empty) {
			int rc2 = release_block(fs, ii, now);
			rc = rc ? rc : rc2;
			now = 0;
		}
		any |= now != 0;
		if (now != child && !whole) {
			int rc2 = make_writable(fs, ii, &b, blk);
			st32(&((le32 *)b->data)[j], now);
			bdirty_owned(b, map_kind(fs, BK_LINKS), ii->ino);
			rc = rc ? rc : rc2;
		}
	}
	brelse(b);
	*empty = !any;
	return rc;
}

int ext2_map_new_block(struct ext2_fs *fs, struct ext2_inode_info *ii, uint64_t lblk,
                       struct buf **out)
{
	uint32_t pblk;
	bool fresh;
	int rc = ext2_bmap(fs, ii, lblk, true, &pblk, &fresh);
	if (rc < 0)
		return rc;
	return bget_zero(fs->bc, pblk, out);
}

void ext2_grow_size(struct ext2_fs *fs, struct ext2_inode_info *ii, uint64_t size)
{
	EXT2_ASSERT_LOCKED(fs);
	/* Without a journal, a truncation since the last checkpoint may have
	 * left the zeroed tail of the block the size ends in to be written
	 * after the inode (BK_LINKS); the larger size must not reach the disk
	 * before it, or a crash shows the old bytes inside the longer file. */
	uint32_t pblk;
	if (!ext2_journal_writing(fs) && ii->size % fs->bsize &&
	    ext2_bmap(fs, ii, ii->size / fs->bsize, false, &pblk, NULL) == 0 && pblk)
		bcache_hasten(fs->bc, pblk, BK_DATA);
	ii->size = size;
}

int ext2_truncate(struct ext2_fs *fs, struct ext2_inode_info *ii, uint64_t size)
{
	EXT2_ASSERT_LOCKED(fs);
	if (size > ext2_max_size(fs))
		return -EFBIG;
	uint64_t keep = (size + fs->bsize - 1) / fs->bsize;
	int rc = 0;
	if (size < ii->size || size == 0) {
		for (uint64_t i = keep; i < EXT2_NDIR_BLOCKS && rc == 0; i++) {
			uint32_t blk = ii->block[i];
			if (!blk)
				continue;
			if (!ext2_valid_data_block(fs, blk))
				return EXT2_CORRUPT(fs, "inode %u: bad block %u", ii->ino, blk);
			rc = release_block(fs, ii, blk);
			ii->block[i] = 0;
		}
		uint64_t apb = fs->addr_per_block;
		uint64_t base[3] = { EXT2_NDIR_BLOCKS, EXT2_NDIR_BLOCKS + apb,
		                     EXT2_NDIR_BLOCKS + apb + apb * apb };
		for (int level = 0; level < 3 && rc == 0; level++) {
			uint32_t blk = ii->block[EXT2_IND_BLOCK + level];
			if (!blk)
				continue;
			if (!ext2_valid_data_block(fs, blk))
				return EXT2_CORRUPT(fs, "inode %u: bad indirect block %u", ii->ino, blk);
			bool empty;
			rc = trim_tree(fs, ii, &blk, level + 1, base[level], keep, &empty);
			if (rc == 0 && empty) {
				rc = release_block(fs, ii, blk);
				blk = 0;
			}
			ii->block[EXT2_IND_BLOCK + level] = blk;
		}
		/* Keep the bytes past the end of the last block zero. */
		if (rc == 0 && size % fs->bsize && size < ii->size) {
			uint32_t pblk;
			rc = ext2_bmap(fs, ii, size / fs->bsize, false, &pblk, NULL);
			if (rc == 0 && pblk) {
				struct buf *b;
				rc = bread(fs->bc, pblk, &b);
				if (rc == 0) {
					memset(b->data + size % fs->bsize, 0, fs->bsize - size % fs->bsize);
					b->checked = false;
					/* With a journal, ordered: a later size must not
					 * uncover the old bytes. Without one, after the
					 * smaller size (BK_LINKS): before it, a crash shows
					 * the zeros inside the longer file. A size grown
					 * again before the next checkpoint moves it before
					 * the inode (ext2_grow_size). */
					bool ordered = ext2_journal_writing(fs) && !S_ISDIR(ii->mode);
					bdirty_owned(b, ordered ? BK_DATA_NEW : BK_LINKS, ii->ino);
					brelse(b);
				}
			}
		}
	}
	ii->last_pblk = 0;
	if (rc == 0 && size > ii->size)
		ext2_grow_size(fs, ii, size);
	else if (rc == 0)
		ii->size = size;
	ii->dirty = true;
	return rc;
}
