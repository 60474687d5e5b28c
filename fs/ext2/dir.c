/*
 * dir.c: directories. A directory is a file of blocks, each tiled exactly
 * by entries (inode, rec_len, name_len, file_type, name); inode 0 is an
 * unused entry. Every block is checked once when read (rec_len, name_len,
 * inode number in range) and marked checked in the block cache; the code
 * that walks entries relies on that. Removing an entry merges it into the
 * previous one (or clears its inode if first in the block); inserting takes
 * an unused entry or splits the slack of a used one, or appends a block.
 * A directory that outgrows its first block on a dir_index file system
 * gets a hash index (htree.c); finding and adding names then go through
 * it, and the entries themselves are handled here as in any block.
 * Reading the entries out is readdir.c's.
 *
 * Without the filetype feature (revision 0) name_len is 16 bits and there
 * is no file_type.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "alloc.h"
#include "ext2.h"

uint32_t ext2_dir_name_len(struct ext2_fs *fs, const struct ext2_dir_entry *de)
{
	if (ext2_has_filetype(fs))
		return de->name_len;
	return de->name_len | (uint32_t)de->file_type << 8;
}

static void set_name(struct ext2_fs *fs, struct ext2_dir_entry *de, const char *name,
                     size_t len, uint32_t mode)
{
	de->name_len = (uint8_t)len;
	de->file_type = ext2_has_filetype(fs) ? (uint8_t)ext2_mode_to_ft(mode) : 0;
	memcpy(de->name, name, len);
}

unsigned ext2_mode_to_ft(uint32_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG: return EXT2_FT_REG_FILE;
	case S_IFDIR: return EXT2_FT_DIR;
	case S_IFCHR: return EXT2_FT_CHRDEV;
	case S_IFBLK: return EXT2_FT_BLKDEV;
	case S_IFIFO: return EXT2_FT_FIFO;
	case S_IFSOCK: return EXT2_FT_SOCK;
	case S_IFLNK: return EXT2_FT_SYMLINK;
	}
	return EXT2_FT_UNKNOWN;
}

static struct ext2_dir_entry *entry_at(struct buf *b, uint32_t off)
{
	return (struct ext2_dir_entry *)(b->data + off);
}

/* Check one directory block's entries (STYLE.md 6). */
static bool check_block(struct ext2_fs *fs, const uint8_t *data)
{
	uint32_t off = 0;
	while (off < fs->bsize) {
		if (fs->bsize - off < 8)
			return false;
		const struct ext2_dir_entry *de = (const struct ext2_dir_entry *)(data + off);
		uint32_t rl = ext2_rec_len(fs->bsize, de), nl = ext2_dir_name_len(fs, de), ino = ld32(de->inode);
		if (rl < 8 || rl % 4 || rl > fs->bsize - off)
			return false;
		if (nl > EXT2_NAME_LEN || EXT2_DIR_REC_LEN(nl) > rl)
			return false;
		if (ino > fs->inodes_count || (ino && nl == 0))
			return false;
		off += rl;
	}
	return true;
}

/* Read block idx of directory dir, checked; returned locked. */
int ext2_dir_block(struct ext2_fs *fs, struct ext2_inode_info *dir, uint64_t idx,
                   struct buf **out)
{
	uint32_t pblk;
	int rc = ext2_bmap(fs, dir, idx, false, &pblk, NULL);
	if (rc < 0)
		return rc;
	if (!pblk)
		return EXT2_CORRUPT(fs, "directory %u has a hole at block %lu", dir->ino,
		                    (unsigned long)idx);
	rc = bread(fs->bc, pblk, out);
	if (rc < 0)
		return rc;
	if (!(*out)->checked) {
		if (!check_block(fs, (*out)->data)) {
			brelse(*out);
			return EXT2_CORRUPT(fs, "directory %u: bad entry in block %u", dir->ino, pblk);
		}
		(*out)->checked = true;
	}
	return 0;
}

static bool same_name(struct ext2_fs *fs, const struct ext2_dir_entry *de, const char *name,
                      size_t len)
{
	return ld32(de->inode) && ext2_dir_name_len(fs, de) == len &&
	       memcmp(de->name, name, len) == 0;
}

/* Find name in block b: its entry's offset and the previous entry's
 * (UINT32_MAX if first); -ENOENT if absent. */
int ext2_dir_find_in_block(struct ext2_fs *fs, struct buf *b, const char *name, size_t len,
                           uint32_t *off, uint32_t *prev)
{
	uint32_t p = UINT32_MAX;
	for (uint32_t o = 0; o < fs->bsize; o += ext2_rec_len(fs->bsize, entry_at(b, o))) {
		if (same_name(fs, entry_at(b, o), name, len)) {
			*off = o;
			*prev = p;
			return 0;
		}
		p = o;
	}
	return -ENOENT;
}

static bool is_dot_or_dotdot(const char *name, size_t len)
{
	return name[0] == '.' && (len == 1 || (len == 2 && name[1] == '.'));
}

/* Find name: the block (locked), the entry's offset and the previous
 * entry's offset (UINT32_MAX if first). -ENOENT if absent. Through the
 * index if there is one ("." and ".." are in block 0, outside it). */
static int find_entry(struct ext2_fs *fs, struct ext2_inode_info *dir, const char *name,
                      size_t len, struct buf **out, uint32_t *off, uint32_t *prev)
{
	uint64_t nblocks = dir->size / fs->bsize;
	if (ext2_htree_active(fs, dir)) {
		if (is_dot_or_dotdot(name, len)) {
			nblocks = 1;
		} else {
			int rc = ext2_htree_find(fs, dir, name, len, out, off, prev);
			if (rc != EXT2_DX_LINEAR)
				return rc;
		}
	}
	struct ext2_lookup_hint *hint = &fs->lookup_hint[dir->ino % EXT2_LOOKUP_HINTS];
	uint64_t start = hint->dir == dir->ino && hint->block < nblocks ? hint->block : 0;
	for (uint64_t k = 0; k < nblocks; k++) {
		uint64_t i = (start + k) % nblocks;
		struct buf *b;
		int rc = ext2_dir_block(fs, dir, i, &b);
		if (rc < 0)
			return rc;
		if (ext2_dir_find_in_block(fs, b, name, len, off, prev) == 0) {
			if (nblocks > 1) {
				hint->dir = dir->ino;
				hint->block = (uint32_t)i;
			}
			*out = b;
			return 0;
		}
		brelse(b);
	}
	return -ENOENT;
}

int ext2_dir_lookup(struct ext2_fs *fs, struct ext2_inode_info *dir, const char *name,
                    size_t len, uint32_t *ino)
{
	EXT2_ASSERT_LOCKED(fs);
	struct buf *b;
	uint32_t off, prev;
	int rc = find_entry(fs, dir, name, len, &b, &off, &prev);
	if (rc < 0)
		return rc;
	*ino = ld32(entry_at(b, off)->inode);
	brelse(b);
	if (!ext2_valid_ino(fs, *ino))
		return EXT2_CORRUPT(fs, "directory %u: entry for reserved inode %u", dir->ino, *ino);
	return 0;
}

static void dir_changed(struct ext2_fs *fs, struct ext2_inode_info *dir)
{
	/* An index on a file system without dir_index is not kept up. */
	if (!(fs->compat & EXT2_FEATURE_COMPAT_DIR_INDEX))
		dir->flags &= ~EXT2_INDEX_FL;
	ext2_touch(dir, true, true);
}

/* Put the entry into an unused entry of b or the slack after a used one;
 * false if no room. */
bool ext2_dir_insert_in_block(struct ext2_fs *fs, struct buf *b, const char *name, size_t len,
                              uint32_t ino, uint32_t mode)
{
	uint32_t need = EXT2_DIR_REC_LEN(len);
	for (uint32_t o = 0; o < fs->bsize; o += ext2_rec_len(fs->bsize, entry_at(b, o))) {
		struct ext2_dir_entry *de = entry_at(b, o);
		uint32_t rl = ext2_rec_len(fs->bsize, de);
		uint32_t used = ld32(de->inode) ? EXT2_DIR_REC_LEN(ext2_dir_name_len(fs, de)) : 0;
		if (rl - used < need)
			continue;
		if (used) {
			ext2_set_rec_len(fs->bsize, de, used);
			de = entry_at(b, o + used);
			ext2_set_rec_len(fs->bsize, de, rl - used);
		}
		st32(&de->inode, ino);
		set_name(fs, de, name, len, mode);
		bdirty(b, true);
		b->checked = true;      /* still a valid directory block */
		return true;
	}
	return false;
}

/* Add the entry: through the index if the directory has one, else into
 * the first block with room, else into a new block (indexing a directory
 * that outgrows its first block). */
static int add_entry(struct ext2_fs *fs, struct ext2_inode_info *dir, const char *name,
                     size_t len, uint32_t ino, uint32_t mode)
{
	int rc;
	if (ext2_htree_active(fs, dir) &&
	    (rc = ext2_htree_add(fs, dir, name, len, ino, mode)) != EXT2_DX_LINEAR)
		return rc;
	uint64_t nblocks = dir->size / fs->bsize;
	for (uint64_t i = 0; i < nblocks; i++) {
		struct buf *b;
		rc = ext2_dir_block(fs, dir, i, &b);
		if (rc < 0)
			return rc;
		bool done = ext2_dir_insert_in_block(fs, b, name, len, ino, mode);
		brelse(b);
		if (done)
			return 0;
	}
	rc = ext2_htree_make(fs, dir);
	if (rc < 0)
		return rc;
	if (rc == 0 && (rc = ext2_htree_add(fs, dir, name, len, ino, mode)) != EXT2_DX_LINEAR)
		return rc;
	if ((dir->size + fs->bsize) / fs->bsize > (1u << 20))
		return -ENOSPC;
	struct buf *b;
	rc = ext2_map_new_block(fs, dir, nblocks, &b);
	if (rc < 0)
		return rc;
	/* On disk empty before the directory's inode points at it (ordered
	 * write-back, bcache.h); the entry is an ordinary change after. */
	struct ext2_dir_entry *de = entry_at(b, 0);
	ext2_set_rec_len(fs->bsize, de, fs->bsize);
	rc = bwrite_new(b);
	if (rc < 0) {
		brelse(b);
		return rc;
	}
	st32(&de->inode, ino);
	set_name(fs, de, name, len, mode);
	bdirty(b, true);
	b->checked = true;      /* still a valid directory block */
	brelse(b);
	dir->size += fs->bsize;
	return 0;
}

int ext2_dir_add(struct ext2_fs *fs, struct ext2_inode_info *dir, const char *name,
                 size_t len, uint32_t ino, uint32_t mode)
{
	EXT2_ASSERT_LOCKED(fs);
	int rc = add_entry(fs, dir, name, len, ino, mode);
	if (rc == 0) {
		dir_changed(fs, dir);
		ext2_note_change(fs, ino);      /* a new name: fsync.c */
	}
	return rc;
}

int ext2_dir_remove(struct ext2_fs *fs, struct ext2_inode_info *dir, const char *name,
                    size_t len, uint32_t *ino)
{
	EXT2_ASSERT_LOCKED(fs);
	struct buf *b;
	uint32_t off, prev;
	int rc = find_entry(fs, dir, name, len, &b, &off, &prev);
	if (rc < 0)
		return rc;
	struct ext2_dir_entry *de = entry_at(b, off);
	if (ino)
		*ino = ld32(de->inode);
	ext2_note_change(fs, ld32(de->inode));
	if (prev != UINT32_MAX) {
		struct ext2_dir_entry *p = entry_at(b, prev);
		uint32_t merged = ext2_rec_len(fs->bsize, p) + ext2_rec_len(fs->bsize, de);
		ext2_set_rec_len(fs->bsize, p, merged);
	} else {
		st32(&de->inode, 0);
	}
	bdirty(b, true);
	b->checked = true;      /* still a valid directory block */
	brelse(b);
	dir_changed(fs, dir);
	return 0;
}

int ext2_dir_set(struct ext2_fs *fs, struct ext2_inode_info *dir, const char *name,
                 size_t len, uint32_t ino, uint32_t mode)
{
	struct buf *b;
	uint32_t off, prev;
	int rc = find_entry(fs, dir, name, len, &b, &off, &prev);
	if (rc < 0)
		return rc;
	struct ext2_dir_entry *de = entry_at(b, off);
	ext2_note_change(fs, ld32(de->inode));
	ext2_note_change(fs, ino);
	st32(&de->inode, ino);
	if (ext2_has_filetype(fs))
		de->file_type = (uint8_t)ext2_mode_to_ft(mode);
	bdirty(b, true);
	b->checked = true;      /* still a valid directory block */
	brelse(b);
	dir_changed(fs, dir);
	return 0;
}

/* 1 if dir holds only "." and "..", 0 if not, or -errno. */
int ext2_dir_is_empty(struct ext2_fs *fs, struct ext2_inode_info *dir)
{
	uint64_t nblocks = dir->size / fs->bsize;
	for (uint64_t i = 0; i < nblocks; i++) {
		struct buf *b;
		int rc = ext2_dir_block(fs, dir, i, &b);
		if (rc < 0)
			return rc;
		for (uint32_t o = 0; o < fs->bsize; o += ext2_rec_len(fs->bsize, entry_at(b, o))) {
			struct ext2_dir_entry *de = entry_at(b, o);
			if (!ld32(de->inode))
				continue;
			uint32_t nl = ext2_dir_name_len(fs, de);
			if ((nl == 1 && de->name[0] == '.') ||
			    (nl == 2 && de->name[0] == '.' && de->name[1] == '.'))
				continue;
			brelse(b);
			return 0;
		}
		brelse(b);
	}
	return 1;
}

int ext2_dir_init(struct ext2_fs *fs, struct ext2_inode_info *dir, uint32_t parent)
{
	struct buf *b;
	int rc = ext2_map_new_block(fs, dir, 0, &b);
	if (rc < 0)
		return rc;
	struct ext2_dir_entry *de = entry_at(b, 0);
	st32(&de->inode, dir->ino);
	ext2_set_rec_len(fs->bsize, de, 12);
	set_name(fs, de, ".", 1, S_IFDIR);
	de = entry_at(b, 12);
	st32(&de->inode, parent);
	ext2_set_rec_len(fs->bsize, de, fs->bsize - 12);
	set_name(fs, de, "..", 2, S_IFDIR);
	/* On disk before the inode points at it; entries added later are
	 * ordinary changes (ordered write-back, bcache.h). */
	rc = bwrite_new(b);
	if (rc < 0) {
		brelse(b);
		return rc;
	}
	b->checked = true;      /* still a valid directory block */
	brelse(b);
	dir->size = fs->bsize;
	dir->dirty = true;
	return 0;
}
