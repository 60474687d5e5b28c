/*
 * htree_build.c: building a directory's hash index from its entries
 * (htree.c keeps an index up as names come and go). Two callers:
 *   ext2_htree_make     a linear directory outgrows its first block;
 *   ext2_htree_rebuild  an index failed its checks on a read-write mount
 *                       (htree.c): it is replaced, never trusted, and the
 *                       directory's lookups are indexed again.
 *
 * Every live entry but "." and ".." is copied out, sorted by hash and laid
 * out again over the directory's blocks: block 0 the root ("." and ".."
 * then the table), then the index nodes if the leaves are more than the
 * root's table holds, then the leaves, filled about evenly so that the next
 * inserts find room. The directory keeps all its blocks (each becomes a
 * node or a leaf: an index reaches every block of its directory) and grows
 * only when the entries do not fit in the blocks it has. Names of one hash
 * that do not fit in one leaf continue in the next (its index hash with the
 * low bit set); blocks beyond the names (a directory that had many more)
 * are empty leaves above every name's hash.
 *
 * Nothing is changed until every block has been read and the new layout
 * computed; blocks the layout needs past the directory's end are added
 * first (a failure there leaves a valid linear directory with empty blocks
 * at its end); then every block is taken, and only then rewritten, all in
 * memory at once. They are written back in one phase (BK_LINKS): a crash
 * in the middle of it can leave a name in two blocks or in none, which
 * e2fsck repairs (an unnamed inode goes to lost+found), as after a leaf
 * split.
 */
#include <errno.h>
#include <string.h>

#include "alloc.h"
#include "ext2.h"
#include "htree_layout.h"

/* A directory copied out and its new layout. */
struct build {
	uint32_t nblocks;           /* the directory's blocks before */
	uint8_t *copy;              /* their contents, one after the other */
	struct leaf_entry *v;       /* live entries but "." and "..", by hash */
	uint32_t n;
	unsigned disk_version;      /* the new index's hash: EXT2_HASH_* */
	unsigned version;           /* ... and signedness (ext2_dx_hash_version) */
	uint32_t nodes, leaves;     /* blocks 1..nodes are nodes, then the leaves */
	uint32_t filled;            /* leaves with names: the first ones */
	uint32_t *first;            /* leaf j holds v[first[j] .. first[j + 1]) */
};

static struct ext2_dir_entry *entry_at(uint8_t *block, uint32_t off)
{
	return (struct ext2_dir_entry *)(block + off);
}

/* Block 0 starts with "." (rec_len 12) and ".." as every directory made by
 * mke2fs, e2fsck or us does; the root keeps them. */
static bool usual_first_block(struct ext2_fs *fs, uint8_t *b0)
{
	struct ext2_dir_entry *dot = entry_at(b0, 0), *dotdot = entry_at(b0, 12);
	return ext2_rec_len(fs->bsize, dot) == 12 && ext2_dir_name_len(fs, dot) == 1 &&
	       dot->name[0] == '.' && ext2_dir_name_len(fs, dotdot) == 2 &&
	       dotdot->name[0] == '.' && dotdot->name[1] == '.';
}

/* Copy every block of dir (checked as ext2_dir_block checks them). */
static int copy_blocks(struct ext2_fs *fs, struct ext2_inode_info *dir, struct build *bd)
{
	bd->copy = kmalloc((size_t)bd->nblocks * fs->bsize);
	if (!bd->copy)
		return -ENOMEM;
	for (uint32_t i = 0; i < bd->nblocks; i++) {
		struct buf *b;
		int rc = ext2_dir_block(fs, dir, i, &b);
		if (rc < 0)
			return rc;
		memcpy(bd->copy + (size_t)i * fs->bsize, b->data, fs->bsize);
		brelse(b);
	}
	return 0;
}

/* Sort v[0..n) by hash (stable: merging runs through tmp). */
static void sort_by_hash(struct leaf_entry *v, struct leaf_entry *tmp, uint32_t n)
{
	for (uint32_t width = 1; width < n; width *= 2) {
		for (uint32_t lo = 0; lo < n; lo += 2 * width) {
			uint32_t mid = lo + width < n ? lo + width : n;
			uint32_t hi = mid + width < n ? mid + width : n;
			uint32_t a = lo, b = mid, o = lo;
			while (a < mid || b < hi)
				tmp[o++] = b >= hi || (a < mid && v[a].hash <= v[b].hash) ? v[a++] : v[b++];
		}
		memcpy(v, tmp, n * sizeof(*v));
	}
}

/* The live entries of the copy (but "." and ".." at block 0's start) with
 * their hashes, sorted by hash. */
static int collect_entries(struct ext2_fs *fs, struct build *bd)
{
	uint32_t room = bd->nblocks * (fs->bsize / 12);
	bd->v = kmalloc(room * sizeof(*bd->v));
	struct leaf_entry *tmp = kmalloc(room * sizeof(*tmp));
	int rc = bd->v && tmp ? 0 : -ENOMEM;
	size_t end = (size_t)bd->nblocks * fs->bsize;
	for (size_t o = 12 + ext2_rec_len(fs->bsize, entry_at(bd->copy, 12)); rc == 0 && o < end;) {
		struct ext2_dir_entry *de = entry_at(bd->copy, (uint32_t)o);
		uint32_t nl = ext2_dir_name_len(fs, de);
		if (ld32(de->inode)) {
			struct leaf_entry *e = &bd->v[bd->n++];
			e->off = (uint32_t)o;
			e->size = (uint16_t)EXT2_DIR_REC_LEN(nl);
			rc = ext2_dx_name_hash(fs, bd->version, de->name, nl, &e->hash, NULL);
		}
		o += ext2_rec_len(fs->bsize, de);
	}
	if (rc == 0)
		sort_by_hash(bd->v, tmp, bd->n);
	kfree(tmp);
	return rc;
}

/* Leaves the entries fill when each leaf is packed full. */
static uint32_t leaves_needed(struct ext2_fs *fs, const struct build *bd)
{
	uint32_t leaves = 1, used = 0;
	for (uint32_t i = 0; i < bd->n; i++) {
		if (used + bd->v[i].size > fs->bsize) {
			leaves++;
			used = 0;
		}
		used += bd->v[i].size;
	}
	return leaves;
}

/* How many nodes and leaves: every block the directory has, more if the
 * entries need them, and nodes once the root's table cannot name every
 * leaf. EXT2_DX_LINEAR if two levels do not reach that many. */
static int choose_shape(struct ext2_fs *fs, struct build *bd)
{
	uint32_t root_limit = dx_table_limit(fs, 0), node_limit = dx_table_limit(fs, 1);
	uint32_t need = leaves_needed(fs, bd);
	for (uint32_t nodes = 0; nodes <= root_limit; nodes++) {
		uint32_t have = bd->nblocks > 1 + nodes ? bd->nblocks - 1 - nodes : 0;
		uint32_t leaves = need > have ? need : have;
		if (nodes == 0 ? leaves <= root_limit : leaves <= nodes * node_limit) {
			bd->nodes = nodes;
			bd->leaves = leaves;
			bd->filled = bd->n < leaves ? bd->n : leaves;
			return 0;
		}
	}
	return EXT2_DX_LINEAR;
}

/*
 * Put the sorted entries into the first bd->filled leaves, each at least
 * one, in order. even: each leaf stops at its share of the bytes (the
 * directory's room spread over its leaves); else each is packed full.
 * False if some entries are left over (even may leave some when the
 * leaves are nearly full; packed never does).
 */
static bool place_entries(struct ext2_fs *fs, struct build *bd, bool even)
{
	uint64_t total = 0, before = 0;
	for (uint32_t i = 0; i < bd->n; i++)
		total += bd->v[i].size;
	uint32_t i = 0;
	for (uint32_t j = 0; j < bd->leaves; j++) {
		bd->first[j] = i;
		if (j >= bd->filled)
			continue;
		uint64_t share = total * (j + 1) / bd->filled;
		for (uint32_t used = 0; i < bd->n; i++) {
			bool fits = used + bd->v[i].size <= fs->bsize;
			bool enough_left = bd->n - i > bd->filled - j - 1;
			if (used && (!fits || !enough_left || (even && before >= share)))
				break;
			used += bd->v[i].size;
			before += bd->v[i].size;
		}
	}
	bd->first[bd->leaves] = i;
	return i == bd->n;
}

/* The index hash of leaf j > 0: its least name's hash, with the low bit
 * if the previous leaf ends with that hash; an empty leaf's is above every
 * name's (and the empty leaves' before it). */
static uint32_t leaf_hash(const struct build *bd, uint32_t j)
{
	if (j < bd->filled) {
		uint32_t i = bd->first[j], h = bd->v[i].hash;
		return h | (bd->v[i - 1].hash == h);
	}
	uint32_t top = bd->n ? bd->v[bd->n - 1].hash : 0;
	return top + 2 * (j - bd->filled + 1);
}

/* Room for the empty leaves' hashes below the end-of-directory hash. */
static bool empty_leaves_fit(const struct build *bd)
{
	uint64_t top = bd->n ? bd->v[bd->n - 1].hash : 0;
	return top + 2 * (uint64_t)(bd->leaves - bd->filled) <= 0xfffffffcu;
}

/* Block 0: "." and ".." as they were (".." over the rest of the block),
 * the root info and table. */
static void write_root(struct ext2_fs *fs, const struct build *bd, uint8_t *dst)
{
	memset(dst, 0, fs->bsize);
	memcpy(dst, bd->copy, 24);
	ext2_set_rec_len(fs->bsize, entry_at(dst, 12), fs->bsize - 12);
	struct dx_root_info *info = dx_root_info(dst);
	info->hash_version = (uint8_t)bd->disk_version;
	info->info_length = 8;
	info->indirect_levels = bd->nodes ? 1 : 0;
	uint32_t count = bd->nodes ? bd->nodes : bd->leaves;
	struct dx_entry *t = dx_table_of(dst, 0);
	st16(&dx_countlimit(t)->limit, (uint16_t)dx_table_limit(fs, 0));
	st16(&dx_countlimit(t)->count, (uint16_t)count);
	for (uint32_t k = 0; k < count; k++) {
		/* A node's first leaf gives its hash. */
		uint32_t leaf = bd->nodes ? (uint32_t)((uint64_t)bd->leaves * k / bd->nodes) : k;
		if (k)
			st32(&t[k].hash, leaf_hash(bd, leaf));
		st32(&t[k].block, bd->nodes ? 1 + k : 1 + bd->nodes + leaf);
	}
}

/* Node k: its empty entry, then the table of its share of the leaves. */
static void write_node(struct ext2_fs *fs, const struct build *bd, uint32_t k, uint8_t *dst)
{
	uint32_t lo = (uint32_t)((uint64_t)bd->leaves * k / bd->nodes);
	uint32_t hi = (uint32_t)((uint64_t)bd->leaves * (k + 1) / bd->nodes);
	memset(dst, 0, fs->bsize);
	ext2_set_rec_len(fs->bsize, entry_at(dst, 0), fs->bsize);
	struct dx_entry *t = dx_table_of(dst, 1);
	st16(&dx_countlimit(t)->limit, (uint16_t)dx_table_limit(fs, 1));
	st16(&dx_countlimit(t)->count, (uint16_t)(hi - lo));
	for (uint32_t leaf = lo; leaf < hi; leaf++) {
		if (leaf > lo)
			st32(&t[leaf - lo].hash, leaf_hash(bd, leaf));
		st32(&t[leaf - lo].block, 1 + bd->nodes + leaf);
	}
}

/* Directory block idx of the new layout into dst. */
static void write_block(struct ext2_fs *fs, const struct build *bd, uint32_t idx, uint8_t *dst)
{
	if (idx == 0) {
		write_root(fs, bd, dst);
	} else if (idx <= bd->nodes) {
		write_node(fs, bd, idx - 1, dst);
	} else {
		uint32_t j = idx - 1 - bd->nodes;
		ext2_dx_write_leaf(fs, dst, bd->copy, bd->v + bd->first[j],
		                   bd->first[j + 1] - bd->first[j]);
	}
}

/* Grow dir to total blocks, then take every block (referenced, unlocked:
 * nothing can fail after) and rewrite them all. */
static int write_layout(struct ext2_fs *fs, struct ext2_inode_info *dir, const struct build *bd)
{
	uint32_t total = 1 + bd->nodes + bd->leaves;
	for (uint32_t i = bd->nblocks; i < total; i++) {
		uint32_t blk;
		struct buf *b;
		int rc = ext2_dx_append_block(fs, dir, &blk, &b);
		if (rc < 0)
			return rc;
		brelse(b);
	}
	struct buf **bufs = kmalloc(total * sizeof(*bufs));
	if (!bufs)
		return -ENOMEM;
	uint32_t taken = 0;
	int rc = 0;
	for (; taken < total; taken++) {
		uint32_t pblk;
		rc = ext2_bmap(fs, dir, taken, false, &pblk, NULL);
		if (rc == 0 && !pblk)
			rc = EXT2_CORRUPT(fs, "directory %u has a hole at block %u", dir->ino, taken);
		if (rc == 0)
			rc = bread(fs->bc, pblk, &bufs[taken]);
		if (rc < 0)
			break;
		bunlock(bufs[taken]);
	}
	for (uint32_t i = 0; i < taken; i++) {
		if (rc == 0) {
			block_buf(bufs[i]);
			write_block(fs, bd, i, bufs[i]->data);
			bdirty(bufs[i], true);
			bufs[i]->checked = true;    /* a valid directory block */
			bunlock(bufs[i]);
		}
		bput(bufs[i]);
	}
	kfree(bufs);
	return rc;
}

/* The superblock says which hash (signed or unsigned) indexes use; one
 * that says neither gets signed, as the hashes were made. */
static void set_hash_signedness(struct ext2_fs *fs)
{
	uint32_t flags = ld32(fs->sb->s_flags);
	if (!(flags & (EXT2_FLAGS_SIGNED_HASH | EXT2_FLAGS_UNSIGNED_HASH))) {
		st32(&fs->sb->s_flags, flags | EXT2_FLAGS_SIGNED_HASH);
		ext2_sb_dirty(fs);
	}
}

int ext2_htree_rebuild(struct ext2_fs *fs, struct ext2_inode_info *dir)
{
	EXT2_ASSERT_LOCKED(fs);
	unsigned def = fs->sb->s_def_hash_version;
	if (!(fs->compat & EXT2_FEATURE_COMPAT_DIR_INDEX) || def > EXT2_HASH_TEA || fs->vfs.read_only)
		return EXT2_DX_LINEAR;
	struct build bd = { .nblocks = (uint32_t)(dir->size / fs->bsize), .disk_version = def,
	                    .version = ext2_dx_hash_version(fs, def) };
	int rc = bd.nblocks ? copy_blocks(fs, dir, &bd) : EXT2_DX_LINEAR;
	if (rc == 0 && !usual_first_block(fs, bd.copy))
		rc = EXT2_DX_LINEAR;
	if (rc == 0)
		rc = collect_entries(fs, &bd);
	if (rc == 0)
		rc = choose_shape(fs, &bd);
	if (rc == 0 && !(bd.first = kmalloc((bd.leaves + 1) * sizeof(*bd.first))))
		rc = -ENOMEM;
	if (rc == 0 && !place_entries(fs, &bd, true) && !place_entries(fs, &bd, false))
		rc = EXT2_CORRUPT(fs, "directory %u: entries do not fit the leaves", dir->ino);
	if (rc == 0 && !empty_leaves_fit(&bd))
		rc = EXT2_DX_LINEAR;
	if (rc == 0)
		rc = write_layout(fs, dir, &bd);
	if (rc == 0) {
		set_hash_signedness(fs);
		dir->flags |= EXT2_INDEX_FL;
		dir->dirty = true;
	}
	kfree(bd.first);
	kfree(bd.v);
	kfree(bd.copy);
	return rc;
}

int ext2_htree_make(struct ext2_fs *fs, struct ext2_inode_info *dir)
{
	if (dir->size != fs->bsize)
		return EXT2_DX_LINEAR;
	return ext2_htree_rebuild(fs, dir);
}
