/*
 * htree.c: the hash index of dir_index directories (the on-disk layout is
 * described at struct dx_entry in ext2.h), so that finding, adding and
 * removing a name reads a root, at most one node and a leaf, whatever the
 * size of the directory.
 *
 * Interface (dir.c and readdir.c call these, fs lock held):
 *   ext2_htree_active  the directory has an index we should use;
 *   ext2_htree_find    the leaf entry of a name (then dir.c removes it or
 *                      changes it in place: the index does not change);
 *   ext2_htree_add     a name into its leaf, splitting a full leaf in two by
 *                      hash (the new block's least hash goes into the index
 *                      node above it), a full node in two (its upper half's
 *                      least hash into the root), or moving a full root's
 *                      table into a new node (the second level);
 *   ext2_htree_leaves  the leaves readdir reads next, in hash order.
 * Building an index from a directory's entries (ext2_htree_make,
 * ext2_htree_rebuild) is htree_build.c's.
 *
 * An index is checked each time it is walked: the root's "." and "..",
 * version, levels, every table's limit and count, hashes in order and
 * inside the range the level above gives, blocks inside the directory. One
 * that fails is never trusted: on a read-write mount a new index is built
 * from the entries and the walk starts again on it; read-only (nothing may
 * be written), the directory's index flag is cleared in memory and the
 * callers scan it linearly (the old index blocks read as empty directory
 * blocks then).
 *
 * readdir reads indexed directories in hash order (readdir.c), leaf by
 * leaf (ext2_htree_leaves), so that the entries a split moves do not move
 * across a reader's cookie.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "alloc.h"
#include "console.h"
#include "ext2.h"
#include "htree_layout.h"

/* One index table on the path from the root to a leaf. */
struct dx_node {
	uint32_t blk;           /* directory block holding it (0: the root) */
	uint32_t at;            /* entry the path goes through */
	uint32_t count, limit;
};

/* Where a name's hash leads. */
struct dx_path {
	unsigned version;       /* EXT2_HASH_* + EXT2_HASH_UNSIGNED if unsigned */
	uint32_t hash;
	unsigned levels;        /* tables on the path: 1 (root) or 2 */
	struct dx_node node[EXT2_DX_MAX_LEVELS];
	uint32_t leaf;
};

static uint32_t dir_blocks(struct ext2_fs *fs, struct ext2_inode_info *dir)
{
	return (uint32_t)(dir->size / fs->bsize);
}

static bool has_dir_index(struct ext2_fs *fs)
{
	return fs->compat & EXT2_FEATURE_COMPAT_DIR_INDEX;
}

bool ext2_htree_active(struct ext2_fs *fs, struct ext2_inode_info *dir)
{
	return has_dir_index(fs) && (dir->flags & EXT2_INDEX_FL);
}

/* dx_drop's answer when it rebuilt the index: the caller walks it again. */
#define DX_REBUILT 2

/*
 * dir's index failed a check (why): never trust it again. Read-write, a
 * new index is built from the entries (htree_build.c) and DX_REBUILT
 * returned; read-only, or if it cannot be built, the flag is cleared (read-
 * only, in memory alone) and EXT2_DX_LINEAR returned for a linear scan.
 * Said once per directory (read-only, the flag comes back each time the
 * inode is read).
 */
static int dx_drop(struct ext2_fs *fs, struct ext2_inode_info *dir, const char *why)
{
	int rc = fs->vfs.read_only ? EXT2_DX_LINEAR : ext2_htree_rebuild(fs, dir);
	if (fs->dx_warned != dir->ino || rc != EXT2_DX_LINEAR)
		kprintf("ext2: directory %u: hash index damaged (%s); %s\n", dir->ino, why,
		        rc == 0 ? "rebuilt" : "using a linear scan");
	fs->dx_warned = dir->ino;
	if (rc == 0)
		return DX_REBUILT;
	dir->flags &= ~EXT2_INDEX_FL;
	if (!fs->vfs.read_only)
		dir->dirty = true;
	return rc < 0 ? rc : EXT2_DX_LINEAR;
}

/* Run an index walk again after its index was rebuilt; a rebuilt index
 * that fails a check again is a bug here, not damage on disk. */
static int after_rebuild(struct ext2_fs *fs, struct ext2_inode_info *dir, int rc)
{
	return rc == DX_REBUILT ? EXT2_CORRUPT(fs, "directory %u: rebuilt index fails its checks",
	                                       dir->ino)
	                        : rc;
}

static const uint32_t *hash_seed(struct ext2_fs *fs, uint32_t seed[4])
{
	for (int i = 0; i < 4; i++)
		seed[i] = ld32(fs->sb->s_hash_seed[i]);
	return seed;
}

/* The superblock tells signed from unsigned (neither: signed, x86's char). */
unsigned ext2_dx_hash_version(struct ext2_fs *fs, unsigned disk_version)
{
	bool is_unsigned = ld32(fs->sb->s_flags) & EXT2_FLAGS_UNSIGNED_HASH;
	return disk_version + (is_unsigned ? EXT2_HASH_UNSIGNED : 0);
}

int ext2_dx_name_hash(struct ext2_fs *fs, unsigned version, const char *name, size_t len,
                      uint32_t *hash, uint32_t *minor)
{
	uint32_t seed[4];
	return ext2_dirhash(version, hash_seed(fs, seed), name, len, hash, minor);
}

/* Check the root block's fixed part ("." and ".." in place, the info);
 * sets the hash version and the number of tables. */
static const char *check_root_head(struct ext2_fs *fs, struct buf *b, struct dx_path *p)
{
	const struct ext2_dir_entry *dot = (const void *)b->data;
	const struct ext2_dir_entry *dotdot = (const void *)(b->data + 12);
	if (ext2_rec_len(fs->bsize, dot) != 12 || ext2_dir_name_len(fs, dot) != 1 || dot->name[0] != '.')
		return "no \".\" at the root's start";
	if (ext2_rec_len(fs->bsize, dotdot) != fs->bsize - 12 || ext2_dir_name_len(fs, dotdot) != 2)
		return "no \"..\" spanning the root";
	const struct dx_root_info *info = dx_root_info(b->data);
	if (ld32(info->reserved_zero) || info->info_length != 8 || (info->unused_flags & 1))
		return "bad root info";
	if (info->hash_version > EXT2_HASH_TEA)
		return "unknown hash version";
	if (info->indirect_levels >= EXT2_DX_MAX_LEVELS)
		return "too many levels";
	p->version = ext2_dx_hash_version(fs, info->hash_version);
	p->levels = info->indirect_levels + 1u;
	return NULL;
}

/* Check a node block's empty entry. */
static const char *check_node_head(struct ext2_fs *fs, struct buf *b)
{
	const struct ext2_dir_entry *de = (const void *)b->data;
	if (ld32(de->inode) || ext2_rec_len(fs->bsize, de) != fs->bsize || ext2_dir_name_len(fs, de))
		return "node without its empty entry";
	return NULL;
}

/* Check a table: its limit as the block size gives, count in 1..limit,
 * hashes in order within [lo, hi], blocks inside the directory past the
 * root. */
static const char *check_table(struct ext2_fs *fs, struct ext2_inode_info *dir,
                               struct dx_entry *t, unsigned level, uint32_t lo, uint32_t hi)
{
	uint32_t limit = ld16(dx_countlimit(t)->limit), count = ld16(dx_countlimit(t)->count);
	if (limit != dx_table_limit(fs, level) || count == 0 || count > limit)
		return "bad count or limit";
	uint32_t prev = lo & ~1u, nblocks = dir_blocks(fs, dir);
	for (uint32_t i = 0; i < count; i++) {
		uint32_t blk = ld32(t[i].block);
		if (blk == 0 || blk >= nblocks)
			return "block outside the directory";
		if (i == 0)
			continue;
		uint32_t h = ld32(t[i].hash) & ~1u;
		if (h < prev || h > (hi & ~1u))
			return "hashes out of order";
		prev = h;
	}
	return NULL;
}

/* Binary search: the last entry whose hash is at most hash (entry 0 covers
 * everything below entry 1). */
static uint32_t table_search(struct dx_entry *t, uint32_t count, uint32_t hash)
{
	uint32_t lo = 1, hi = count;        /* answer - 1 in [lo - 1, hi - 1] */
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (ld32(t[mid].hash) > hash)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo - 1;
}

/*
 * Read the table at level in block blk, check it against the range [lo, hi]
 * the level above gives it, and put it on the path at the entry for
 * p->hash (or at its first entry if first). *next: that entry's block.
 * Returns 0, -errno, or a reason to drop the index in *why.
 */
static int read_table(struct ext2_fs *fs, struct ext2_inode_info *dir, struct dx_path *p,
                      unsigned level, uint32_t blk, uint32_t lo, uint32_t hi, bool first,
                      uint32_t *next, const char **why)
{
	struct buf *b;
	int rc = ext2_dir_block(fs, dir, blk, &b);
	if (rc < 0)
		return rc;
	*why = level ? check_node_head(fs, b) : NULL;
	struct dx_entry *t = dx_table_of(b->data, level);
	if (!*why)
		*why = check_table(fs, dir, t, level, lo, hi);
	if (!*why) {
		struct dx_node *n = &p->node[level];
		n->blk = blk;
		n->count = ld16(dx_countlimit(t)->count);
		n->limit = ld16(dx_countlimit(t)->limit);
		n->at = first ? 0 : table_search(t, n->count, p->hash);
		*next = ld32(t[n->at].block);
		if (level + 1 < p->levels) {
			/* The range of the level below, for its checks. */
			uint32_t child_lo = n->at ? ld32(t[n->at].hash) : lo;
			uint32_t child_hi = n->at + 1 < n->count ? ld32(t[n->at + 1].hash) : hi;
			brelse(b);
			return read_table(fs, dir, p, level + 1, *next, child_lo, child_hi, first, next,
			                  why);
		}
	}
	brelse(b);
	return 0;
}

/* Check dir's root: sets p's version and levels. 0, -errno, or as dx_drop. */
static int probe_root(struct ext2_fs *fs, struct ext2_inode_info *dir, struct dx_path *p)
{
	struct buf *b;
	int rc = ext2_dir_block(fs, dir, 0, &b);
	if (rc < 0)
		return rc;
	const char *why = check_root_head(fs, b, p);
	brelse(b);
	return why ? dx_drop(fs, dir, why) : 0;
}

/* Walk the tables to the leaf for p->hash. 0, -errno, or as dx_drop. */
static int probe_tables(struct ext2_fs *fs, struct ext2_inode_info *dir, struct dx_path *p)
{
	const char *why;
	int rc = read_table(fs, dir, p, 0, 0, 0, UINT32_MAX, false, &p->leaf, &why);
	if (rc < 0)
		return rc;
	return why ? dx_drop(fs, dir, why) : 0;
}

/* Walk dir's index to the leaf for name. 0, -errno, EXT2_DX_LINEAR, or
 * DX_REBUILT. */
static int dx_probe(struct ext2_fs *fs, struct ext2_inode_info *dir, const char *name,
                    size_t len, struct dx_path *p)
{
	int rc = probe_root(fs, dir, p);
	if (rc)
		return rc;
	if (ext2_dx_name_hash(fs, p->version, name, len, &p->hash, NULL) < 0)
		return dx_drop(fs, dir, "unknown hash version");
	return probe_tables(fs, dir, p);
}

/* The hash and block of entry i of the table p->node[level]. */
static int table_entry(struct ext2_fs *fs, struct ext2_inode_info *dir, struct dx_path *p,
                       unsigned level, uint32_t i, uint32_t *hash, uint32_t *blk)
{
	struct buf *b;
	int rc = ext2_dir_block(fs, dir, p->node[level].blk, &b);
	if (rc < 0)
		return rc;
	struct dx_entry *t = dx_table_of(b->data, level);
	*hash = ld32(t[i].hash);
	*blk = ld32(t[i].block);
	brelse(b);
	return 0;
}

/* Move p to the next leaf in hash order, *hash its index hash: 0, -ENOENT
 * past the last leaf, -errno, or as dx_drop. */
static int step_leaf(struct ext2_fs *fs, struct ext2_inode_info *dir, struct dx_path *p,
                     uint32_t *hash)
{
	int level = (int)p->levels - 1;
	while (level >= 0 && p->node[level].at + 1 >= p->node[level].count)
		level--;
	if (level < 0)
		return -ENOENT;
	uint32_t blk;
	int rc = table_entry(fs, dir, p, (unsigned)level, p->node[level].at + 1, hash, &blk);
	if (rc < 0)
		return rc;
	p->node[level].at++;
	if ((unsigned)level + 1 < p->levels) {
		uint32_t hi = UINT32_MAX, h2;
		if (p->node[level].at + 1 < p->node[level].count &&
		    (rc = table_entry(fs, dir, p, (unsigned)level, p->node[level].at + 1, &hi, &h2)) < 0)
			return rc;
		const char *why;
		rc = read_table(fs, dir, p, (unsigned)level + 1, blk, *hash, hi, true, &blk, &why);
		if (rc < 0)
			return rc;
		if (why)
			return dx_drop(fs, dir, why);
	}
	p->leaf = blk;
	return 0;
}

/* Names of p->hash may continue in the next leaf (its index hash is the
 * same, with the continuation bit). Move p there: 0 if moved, -ENOENT if
 * the names of this hash end here, -errno, or as dx_drop. */
static int next_leaf(struct ext2_fs *fs, struct ext2_inode_info *dir, struct dx_path *p)
{
	uint32_t hash;
	int rc = step_leaf(fs, dir, p, &hash);
	return rc ? rc : (hash & ~1u) == p->hash ? 0 : -ENOENT;
}

/* ext2_htree_leaves's walk; DX_REBUILT if it rebuilt the index. */
static int leaves_once(struct ext2_fs *fs, struct ext2_inode_info *dir, struct dx_leaves *out)
{
	struct dx_path p;
	int rc = probe_root(fs, dir, &p);
	if (rc)
		return rc;
	p.hash = out->from;
	rc = probe_tables(fs, dir, &p);
	out->n = 0;
	out->version = p.version;
	while (rc == 0) {
		if (out->n == out->cap) {
			uint32_t cap = out->cap ? out->cap * 2 : 4;
			uint32_t *v = kmalloc(cap * sizeof(*v));
			if (!v)
				return -ENOMEM;
			if (out->n)
				memcpy(v, out->blocks, out->n * sizeof(*v));
			kfree(out->blocks);
			out->blocks = v;
			out->cap = cap;
		}
		out->blocks[out->n++] = p.leaf;
		uint32_t hash;
		rc = step_leaf(fs, dir, &p, &hash);
		if (rc == -ENOENT) {
			out->next = EXT2_HASH_END;
			return 0;
		}
		if (rc == 0 && !(hash & 1)) {
			out->next = hash;
			return 0;
		}
	}
	return rc;
}

int ext2_htree_leaves(struct ext2_fs *fs, struct ext2_inode_info *dir, struct dx_leaves *out)
{
	EXT2_ASSERT_LOCKED(fs);
	int rc = leaves_once(fs, dir, out);
	if (rc == DX_REBUILT)
		rc = after_rebuild(fs, dir, leaves_once(fs, dir, out));
	return rc;
}

static int find_once(struct ext2_fs *fs, struct ext2_inode_info *dir, const char *name,
                     size_t len, struct buf **out, uint32_t *off, uint32_t *prev)
{
	struct dx_path p;
	int rc = dx_probe(fs, dir, name, len, &p);
	if (rc)
		return rc;
	for (;;) {
		struct buf *b;
		rc = ext2_dir_block(fs, dir, p.leaf, &b);
		if (rc < 0)
			return rc;
		if (ext2_dir_find_in_block(fs, b, name, len, off, prev) == 0) {
			*out = b;
			return 0;
		}
		brelse(b);
		rc = next_leaf(fs, dir, &p);
		if (rc)
			return rc;
	}
}

/* Insert (hash, blk) into the table p->node[level] after the path's entry. */
static int table_insert(struct ext2_fs *fs, struct ext2_inode_info *dir, struct dx_path *p,
                        unsigned level, uint32_t hash, uint32_t blk)
{
	struct dx_node *n = &p->node[level];
	struct buf *b;
	int rc = ext2_dir_block(fs, dir, n->blk, &b);
	if (rc < 0)
		return rc;
	struct dx_entry *t = dx_table_of(b->data, level);
	memmove(&t[n->at + 2], &t[n->at + 1], (n->count - n->at - 1) * sizeof(*t));
	st32(&t[n->at + 1].hash, hash);
	st32(&t[n->at + 1].block, blk);
	n->count++;
	st16(&dx_countlimit(t)->count, (uint16_t)n->count);
	bdirty(b, true);
	brelse(b);
	return 0;
}

int ext2_dx_append_block(struct ext2_fs *fs, struct ext2_inode_info *dir, uint32_t *blk,
                         struct buf **out)
{
	if (dir_blocks(fs, dir) >= (1u << 20))
		return -ENOSPC;
	*blk = dir_blocks(fs, dir);
	int rc = ext2_map_new_block(fs, dir, *blk, out);
	if (rc < 0)
		return rc;
	ext2_set_rec_len(fs->bsize, (struct ext2_dir_entry *)(*out)->data, fs->bsize);
	bdirty(*out, true);
	(*out)->checked = true;
	dir->size += fs->bsize;
	dir->dirty = true;
	return 0;
}

/* A new block at the directory's end (*nb, as append_block) and block blk
 * read (*b), both locked, for moving entries from one to the other. */
static int append_and_read(struct ext2_fs *fs, struct ext2_inode_info *dir, uint32_t blk,
                           uint32_t *nblk, struct buf **nb, struct buf **b)
{
	int rc = ext2_dx_append_block(fs, dir, nblk, nb);
	if (rc < 0)
		return rc;
	rc = ext2_dir_block(fs, dir, blk, b);
	if (rc < 0)
		brelse(*nb);
	return rc;
}

/* The root is full with no level below: its table moves into a new node
 * and the root keeps one entry for that node. */
static int add_level(struct ext2_fs *fs, struct ext2_inode_info *dir, struct dx_path *p)
{
	uint32_t nblk;
	struct buf *nb, *rb;
	int rc = append_and_read(fs, dir, 0, &nblk, &nb, &rb);
	if (rc < 0)
		return rc;
	struct dx_entry *rt = dx_table_of(rb->data, 0), *nt = dx_table_of(nb->data, 1);
	memcpy(nt, rt, p->node[0].count * sizeof(*nt));
	st16(&dx_countlimit(nt)->limit, (uint16_t)dx_table_limit(fs, 1));
	st16(&dx_countlimit(rt)->count, 1);
	st32(&rt[0].block, nblk);
	dx_root_info(rb->data)->indirect_levels = 1;
	bdirty(nb, true);
	bdirty(rb, true);
	brelse(nb);
	brelse(rb);
	p->node[1] = (struct dx_node){ nblk, p->node[0].at, p->node[0].count, dx_table_limit(fs, 1) };
	p->node[0] = (struct dx_node){ 0, 0, 1, dx_table_limit(fs, 0) };
	p->levels = 2;
	return 0;
}

/* The node on the path is full: its upper half moves to a new node, whose
 * least hash goes into the root. */
static int split_node(struct ext2_fs *fs, struct ext2_inode_info *dir, struct dx_path *p)
{
	struct dx_node *n = &p->node[1];
	if (p->node[0].count >= p->node[0].limit)
		return -ENOSPC;     /* both levels full: the directory is at its maximum */
	uint32_t nblk;
	struct buf *nb, *b;
	int rc = append_and_read(fs, dir, n->blk, &nblk, &nb, &b);
	if (rc < 0)
		return rc;
	struct dx_entry *t = dx_table_of(b->data, 1), *nt = dx_table_of(nb->data, 1);
	uint32_t half = n->count / 2, moved = n->count - half;
	uint32_t key = ld32(t[half].hash);
	memcpy(nt, &t[half], moved * sizeof(*nt));
	st16(&dx_countlimit(nt)->limit, (uint16_t)n->limit);
	st16(&dx_countlimit(nt)->count, (uint16_t)moved);
	st16(&dx_countlimit(t)->count, (uint16_t)half);
	bdirty(nb, true);
	bdirty(b, true);
	brelse(nb);
	brelse(b);
	rc = table_insert(fs, dir, p, 0, key, nblk);
	if (rc < 0)
		return rc;
	if (n->at >= half) {
		p->node[0].at++;
		n->blk = nblk;
		n->at -= half;
		n->count = moved;
	} else {
		n->count = half;
	}
	return 0;
}

void ext2_dx_write_leaf(struct ext2_fs *fs, uint8_t *dst, const uint8_t *src,
                       const struct leaf_entry *v, uint32_t n)
{
	uint32_t o = 0;
	memset(dst, 0, fs->bsize);
	for (uint32_t i = 0; i < n; i++) {
		memcpy(dst + o, src + v[i].off, v[i].size);
		struct ext2_dir_entry *de = (struct ext2_dir_entry *)(dst + o);
		ext2_set_rec_len(fs->bsize, de, i + 1 < n ? v[i].size : fs->bsize - o);
		o += v[i].size;
	}
	if (n == 0)
		ext2_set_rec_len(fs->bsize, (struct ext2_dir_entry *)dst, fs->bsize);
}

/* The leaf's live entries with their hashes, sorted by hash; their count. */
static int collect_leaf(struct ext2_fs *fs, struct dx_path *p, const uint8_t *data,
                        struct leaf_entry *v)
{
	int n = 0;
	for (uint32_t o = 0; o < fs->bsize;) {
		const struct ext2_dir_entry *de = (const struct ext2_dir_entry *)(data + o);
		uint32_t nl = ext2_dir_name_len(fs, de);
		if (ld32(de->inode)) {
			struct leaf_entry e = { 0, o, (uint16_t)EXT2_DIR_REC_LEN(nl) };
			int rc = ext2_dx_name_hash(fs, p->version, de->name, nl, &e.hash, NULL);
			if (rc < 0)
				return rc;
			int i = n++;
			for (; i > 0 && v[i - 1].hash > e.hash; i--)   /* insertion sort */
				v[i] = v[i - 1];
			v[i] = e;
		}
		o += ext2_rec_len(fs->bsize, de);
	}
	return n;
}

/*
 * The leaf on the path is full: its entries are sorted by hash and the
 * upper half (by size) moves to a new block, whose least hash (with the
 * continuation bit if the lower half ends with the same hash) goes into the
 * node above. The path's leaf becomes whichever half p->hash belongs to.
 */
static int split_leaf(struct ext2_fs *fs, struct ext2_inode_info *dir, struct dx_path *p)
{
	uint32_t nblk;
	struct buf *nb, *b;
	struct leaf_entry *v = kmalloc((fs->bsize / 12 + 1) * sizeof(*v));
	uint8_t *copy = kmalloc(fs->bsize);
	int rc = v && copy ? append_and_read(fs, dir, p->leaf, &nblk, &nb, &b) : -ENOMEM;
	if (rc < 0)
		goto out;
	memcpy(copy, b->data, fs->bsize);
	int n = collect_leaf(fs, p, copy, v);
	uint32_t split = 0, moved = 0;
	if (n >= 2) {
		/* Move from the top while the moved part stays under half a block. */
		split = (uint32_t)n;
		while (split > 1 && moved + v[split - 1].size / 2 <= fs->bsize / 2)
			moved += v[--split].size;
	}
	if (n < 2 || split == (uint32_t)n) {
		brelse(b);
		brelse(nb);
		rc = n < 0 ? n : EXT2_CORRUPT(fs, "directory %u: full leaf %u with %d names",
		                               dir->ino, p->leaf, n);
		goto out;
	}
	uint32_t hash2 = v[split].hash;
	bool continued = v[split - 1].hash == hash2;
	ext2_dx_write_leaf(fs, b->data, copy, v, split);
	ext2_dx_write_leaf(fs, nb->data, copy, v + split, (uint32_t)n - split);
	bdirty(b, true);
	bdirty(nb, true);
	b->checked = nb->checked = true;
	brelse(b);
	brelse(nb);
	rc = table_insert(fs, dir, p, p->levels - 1, hash2 | continued, nblk);
	if (rc == 0 && p->hash >= hash2) {
		p->node[p->levels - 1].at++;
		p->leaf = nblk;
	}
out:
	kfree(v);
	kfree(copy);
	return rc;
}

/* A leaf that looks like an index node would be clobbered by an insert:
 * only a damaged index points at one. (A false alarm costs the index.) */
static bool looks_like_node(struct ext2_fs *fs, struct buf *b)
{
	struct dx_entry *t = dx_table_of(b->data, 1);
	return !check_node_head(fs, b) && ld16(dx_countlimit(t)->limit) == dx_table_limit(fs, 1) &&
	       ld16(dx_countlimit(t)->count) != 0;
}

int ext2_htree_find(struct ext2_fs *fs, struct ext2_inode_info *dir, const char *name,
                    size_t len, struct buf **out, uint32_t *off, uint32_t *prev)
{
	EXT2_ASSERT_LOCKED(fs);
	int rc = find_once(fs, dir, name, len, out, off, prev);
	if (rc == DX_REBUILT)
		rc = after_rebuild(fs, dir, find_once(fs, dir, name, len, out, off, prev));
	return rc;
}

static int add_once(struct ext2_fs *fs, struct ext2_inode_info *dir, const char *name,
                    size_t len, uint32_t ino, uint32_t mode)
{
	struct dx_path p;
	int rc = dx_probe(fs, dir, name, len, &p);
	if (rc)
		return rc;
	for (int round = 0; round < 2; round++) {
		struct buf *b;
		rc = ext2_dir_block(fs, dir, p.leaf, &b);
		if (rc < 0)
			return rc;
		if (looks_like_node(fs, b)) {
			brelse(b);
			return dx_drop(fs, dir, "a leaf pointer to an index node");
		}
		bool done = ext2_dir_insert_in_block(fs, b, name, len, ino, mode);
		brelse(b);
		if (done)
			return 0;
		if (round)
			break;
		struct dx_node *bottom = &p.node[p.levels - 1];
		if (bottom->count >= bottom->limit) {
			rc = p.levels == 1 ? add_level(fs, dir, &p) : split_node(fs, dir, &p);
			if (rc < 0)
				return rc;
		}
		rc = split_leaf(fs, dir, &p);
		if (rc < 0)
			return rc;
	}
	return EXT2_CORRUPT(fs, "directory %u: no room for a name in a split leaf", dir->ino);
}

int ext2_htree_add(struct ext2_fs *fs, struct ext2_inode_info *dir, const char *name,
                   size_t len, uint32_t ino, uint32_t mode)
{
	EXT2_ASSERT_LOCKED(fs);
	int rc = add_once(fs, dir, name, len, ino, mode);
	if (rc == DX_REBUILT)
		rc = after_rebuild(fs, dir, add_once(fs, dir, name, len, ino, mode));
	return rc;
}
