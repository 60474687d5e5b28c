/*
 * readdir.c: a directory's entries read out in chunks. Each chunk is
 * copied out under the fs lock and handed to the callback without it, so
 * the callback may call the file system (stat each name, say); the cookie
 * says where the next chunk starts:
 *
 *   below DX_COOKIE   a byte offset into the directory. Linear directories
 *                     are read block by block; entries never move in them
 *                     (an insert takes free room, a removal merges into the
 *                     previous entry), so a reader that goes on later sees
 *                     no name twice and misses none that stayed.
 *   DX_COOKIE | key   indexed directories, after "." and ".." (offsets 0
 *                     and 12 of the root), are read in hash order: key is a
 *                     name's hash then its minor hash, 31 bits each. Leaf
 *                     splits and index rebuilds move entries between
 *                     blocks but no name across a reader's key. A chunk is
 *                     the leaf the cookie's hash leads to with the leaves
 *                     that continue its last hash, sorted by key.
 *
 * Limits: two names of one key (62 bits; the legacy hash has no minor
 * hash, so 31) that a stop falls between are both listed again. A reader
 * that began while its directory was linear and goes on after it got an
 * index keeps to byte offsets (a moved name can be seen twice or missed).
 * On a read-only mount an index that fails its checks is not used: a
 * reader in hash order then goes on linearly after ".." if it had read
 * nothing else, else it ends.
 */
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "alloc.h"
#include "ext2.h"
#include "htree_layout.h"

#define DX_COOKIE (1ull << 62)
#define DX_COOKIE_END (DX_COOKIE | (DX_COOKIE - 1))     /* past every key */
#define AFTER_DOTDOT_LINEAR 13u     /* a byte offset past ".." in any layout */

/* One entry copied out for the callback; its name is at name_off in the
 * names buffer (a block's worth per block read: names fit as they did in
 * their blocks). */
struct rd_entry {
	uint64_t next;              /* cookie past this entry */
	uint64_t key;               /* hash order: its key */
	uint32_t ino;
	uint32_t name_off;
	uint8_t dt, len;
};

/* A chunk: its entries and their names, with room for `blocks` blocks. */
struct rd_batch {
	struct rd_entry *v;
	char *names;
	uint32_t blocks;
	uint32_t n;
};

static unsigned ft_to_dt(unsigned ft)
{
	static const unsigned char dt[EXT2_FT_MAX] = {
		DT_UNKNOWN, DT_REG, DT_DIR, DT_CHR, DT_BLK, DT_FIFO, DT_SOCK, DT_LNK,
	};
	return ft < EXT2_FT_MAX ? dt[ft] : DT_UNKNOWN;
}

static uint32_t entries_per_block(struct ext2_fs *fs)
{
	return fs->bsize / 12 + 1;
}

/* Room in batch for the entries of `blocks` blocks. */
static int batch_room(struct ext2_fs *fs, struct rd_batch *batch, uint32_t blocks)
{
	if (blocks <= batch->blocks)
		return 0;
	kfree(batch->v);
	kfree(batch->names);
	batch->v = kmalloc(blocks * entries_per_block(fs) * sizeof(*batch->v));
	batch->names = kmalloc((size_t)blocks * fs->bsize);
	batch->blocks = batch->v && batch->names ? blocks : 0;
	return batch->blocks ? 0 : -ENOMEM;
}

/* Copy the live entries of b from byte from on into batch, their names at
 * block slot `slot` of the names buffer; base: b's byte offset in the
 * directory (for their byte-offset cookies). */
static void copy_entries(struct ext2_fs *fs, struct rd_batch *batch, struct buf *b,
                         uint32_t from, uint64_t base, uint32_t slot)
{
	uint32_t o = 0;
	while (o < from)
		o += ext2_rec_len(fs->bsize, (struct ext2_dir_entry *)(b->data + o));
	for (; o < fs->bsize; o += ext2_rec_len(fs->bsize, (struct ext2_dir_entry *)(b->data + o))) {
		const struct ext2_dir_entry *de = (const struct ext2_dir_entry *)(b->data + o);
		uint32_t eino = ld32(de->inode);
		if (!eino)
			continue;
		struct rd_entry *e = &batch->v[batch->n++];
		e->next = base + o + ext2_rec_len(fs->bsize, de);
		e->ino = eino;
		e->len = (uint8_t)ext2_dir_name_len(fs, de);
		e->name_off = slot * fs->bsize + o + 8;
		memcpy(batch->names + e->name_off, de->name, e->len);
		e->dt = DT_UNKNOWN;
		if (ext2_has_filetype(fs)) {
			e->dt = (uint8_t)ft_to_dt(de->file_type);
		} else {
			struct ext2_inode_info *ei;
			if (ext2_iget(fs, eino, &ei) == 0) {
				e->dt = (uint8_t)ft_to_dt(ext2_mode_to_ft(ei->mode));
				ext2_iput(fs, ei);
			}
		}
	}
}

/* The block holding byte *pos, from *pos on; *pos to the next block. */
static int linear_chunk(struct ext2_fs *fs, struct ext2_inode_info *dir, uint64_t *pos,
                        struct rd_batch *batch)
{
	if (*pos >= dir->size)
		return 0;
	uint64_t idx = *pos / fs->bsize;
	struct buf *b;
	int rc = ext2_dir_block(fs, dir, idx, &b);
	if (rc < 0)
		return rc;
	copy_entries(fs, batch, b, (uint32_t)(*pos % fs->bsize), idx * fs->bsize, 0);
	brelse(b);
	*pos = (idx + 1) * fs->bsize;
	return 0;
}

static uint64_t key_of(uint32_t hash, uint32_t minor)
{
	return (uint64_t)(hash >> 1) << 31 | minor >> 1;
}

/* The hash a key starts at. */
static uint32_t hash_of(uint64_t key)
{
	return (uint32_t)(key >> 31) << 1;
}

static void sort_by_key(struct rd_entry *v, uint32_t n)
{
	for (uint32_t i = 1; i < n; i++) {
		struct rd_entry e = v[i];
		uint32_t j = i;
		for (; j > 0 && v[j - 1].key > e.key; j--)
			v[j] = v[j - 1];
		v[j] = e;
	}
}

/* "." and ".." from the root, from byte *pos (0 or 12) on; then hash order. */
static int dots_chunk(struct ext2_fs *fs, struct ext2_inode_info *dir, uint64_t *pos,
                      struct rd_batch *batch)
{
	struct buf *b;
	int rc = ext2_dir_block(fs, dir, 0, &b);
	if (rc < 0)
		return rc;
	copy_entries(fs, batch, b, (uint32_t)*pos, 0, 0);
	brelse(b);
	for (uint32_t i = 0; i < batch->n; i++)
		if (batch->v[i].next >= fs->bsize)
			batch->v[i].next = DX_COOKIE;     /* past "..": the root's rest */
	*pos = DX_COOKIE;
	return 0;
}

/* The names of the leaves lv (read from hash from on), sorted by key, those
 * from key on; *pos past them. */
static int leaves_chunk(struct ext2_fs *fs, struct ext2_inode_info *dir, const struct dx_leaves *lv,
                        uint64_t key, uint64_t *pos, struct rd_batch *batch)
{
	int rc = batch_room(fs, batch, lv->n);
	for (uint32_t i = 0; rc == 0 && i < lv->n; i++) {
		struct buf *b;
		rc = ext2_dir_block(fs, dir, lv->blocks[i], &b);
		if (rc < 0)
			break;
		uint32_t first = batch->n;
		copy_entries(fs, batch, b, 0, 0, i);
		brelse(b);
		for (uint32_t j = first; rc == 0 && j < batch->n; j++) {
			struct rd_entry *e = &batch->v[j];
			uint32_t hash, minor;
			rc = ext2_dx_name_hash(fs, lv->version, batch->names + e->name_off, e->len, &hash,
			                       &minor);
			e->key = key_of(hash, minor);
		}
	}
	if (rc < 0)
		return rc;
	sort_by_key(batch->v, batch->n);
	uint32_t skip = 0;
	while (skip < batch->n && batch->v[skip].key < key)
		skip++;
	batch->n -= skip;
	memmove(batch->v, batch->v + skip, batch->n * sizeof(*batch->v));
	*pos = lv->next == EXT2_HASH_END ? DX_COOKIE_END : DX_COOKIE | key_of(lv->next, 0);
	if (*pos <= (DX_COOKIE | key))
		*pos = (DX_COOKIE | key) + 1;   /* hashes out of order: still move on */
	for (uint32_t i = 0; i < batch->n; i++)
		batch->v[i].next = i + 1 < batch->n ? DX_COOKIE | batch->v[i + 1].key : *pos;
	return 0;
}

/* The next chunk of indexed dir in hash order. *linear: the index is not
 * usable (read-only and damaged); nothing was read. */
static int hash_chunk(struct ext2_fs *fs, struct ext2_inode_info *dir, uint64_t *pos,
                      struct rd_batch *batch, bool *linear)
{
	if (*pos == DX_COOKIE_END)
		return 0;
	uint64_t key = *pos < DX_COOKIE ? 0 : *pos & (DX_COOKIE - 1);
	struct dx_leaves lv = { .from = hash_of(key) };
	int rc = ext2_htree_leaves(fs, dir, &lv);   /* checks (or rebuilds) the index */
	*linear = rc == EXT2_DX_LINEAR;
	if (rc == 0)
		rc = *pos < DX_COOKIE ? dots_chunk(fs, dir, pos, batch)
		                      : leaves_chunk(fs, dir, &lv, key, pos, batch);
	kfree(lv.blocks);
	return rc == EXT2_DX_LINEAR ? 0 : rc;
}

/* The chunk at *pos of directory ino into batch; *pos to the next. */
static int read_chunk(struct ext2_fs *fs, uint32_t ino, uint64_t *pos, struct rd_batch *batch)
{
	struct ext2_inode_info *dir;
	int rc = ext2_iget(fs, ino, &dir);
	if (rc < 0)
		return rc;
	batch->n = 0;
	if (!S_ISDIR(dir->mode)) {
		rc = -ENOTDIR;
	} else {
		bool linear = true;
		if (ext2_htree_active(fs, dir) && (*pos == 0 || *pos == 12 || *pos >= DX_COOKIE))
			rc = hash_chunk(fs, dir, pos, batch, &linear);
		if (linear && *pos >= DX_COOKIE)
			*pos = *pos == DX_COOKIE ? AFTER_DOTDOT_LINEAR : dir->size;
		if (linear && rc == 0)
			rc = linear_chunk(fs, dir, pos, batch);
	}
	ext2_iput(fs, dir);
	return rc;
}

int ext2_readdir(struct fs *vfs, uint64_t ino, uint64_t *cookie, vfs_filldir_fn fill, void *ctx)
{
	struct ext2_fs *fs = EXT2(vfs);
	if (ino > UINT32_MAX || !ext2_valid_ino(fs, (uint32_t)ino))
		return -ENOENT;
	struct rd_batch batch = { 0 };
	int rc = batch_room(fs, &batch, 1);
	while (rc == 0) {
		uint64_t pos = *cookie;
		mutex_lock(&fs->lock);
		rc = read_chunk(fs, (uint32_t)ino, &pos, &batch);
		ext2_unlock(fs);
		if (rc < 0 || (batch.n == 0 && pos == *cookie))
			break;          /* an error, or the end */
		for (uint32_t i = 0; i < batch.n; i++) {
			struct rd_entry *e = &batch.v[i];
			if (fill(ctx, batch.names + e->name_off, e->len, e->ino, e->dt))
				goto out;
			*cookie = e->next;
		}
		*cookie = pos;
	}
out:
	kfree(batch.v);
	kfree(batch.names);
	return rc;
}
