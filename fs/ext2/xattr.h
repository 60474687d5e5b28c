/*
 * xattr.h: what the extended-attribute files of the ext2 driver share; not
 * for others.
 *
 *   xattr.c         the fs_ops: names and namespaces, the whole set of an
 *                   inode's attributes loaded, changed, laid out, stored
 *   xattr_table.c   an entry table (in an inode or a block): checked
 *                   parsing, building, the ext2 hashes
 *   xattr_inode.c   the table in a large inode's spare space
 *   xattr_block.c   the attribute block: reference counts, sharing, copy on
 *                   write, freeing
 *   xattr_acl.c     POSIX ACLs between the xattr API's format and ext2's
 *
 * Every call runs under the fs lock.
 */
#ifndef FS_EXT2_XATTR_H
#define FS_EXT2_XATTR_H

#include "ext2.h"

/* One attribute in memory. */
struct xattr_item {
	uint8_t index;              /* EXT2_XATTR_INDEX_* */
	uint8_t name_len;
	bool in_inode;              /* stored (or to be stored) in the inode */
	char name[EXT2_NAME_LEN];   /* without the namespace prefix */
	uint32_t size;
	uint8_t *value;             /* kmalloc'ed (NULL when size is 0) */
};

/* All attributes of an inode, the inode's first. */
struct xattr_set {
	struct xattr_item *items;
	unsigned n, cap;
};

void xattr_set_free(struct xattr_set *s);
/* xattr_set_add: append a copy of the attribute; 0 or -ENOMEM. */
int xattr_set_add(struct xattr_set *s, uint8_t index, const char *name, size_t name_len,
                  const void *value, uint32_t size, bool in_inode);

/* Bytes an attribute takes in a table: entry and value. */
static inline uint32_t xattr_item_cost(const struct xattr_item *it)
{
	return EXT2_XATTR_ENTRY_LEN(it->name_len) + EXT2_XATTR_VALUE_LEN(it->size);
}

/*
 * An entry table: the entries start at base + first, value offsets count
 * from base, and the table ends len bytes after base. The 4 zero bytes that
 * end the entries are part of it.
 */
struct xattr_area {
	uint8_t *base;
	uint32_t len;
	uint32_t first;
};

/* Room for entries and values (the end marker taken off). */
static inline uint32_t xattr_area_room(const struct xattr_area *a)
{
	return a->len - a->first - 4;
}

/* xattr_table_parse: check every entry (bounds, overlaps, ea_inode values,
 * hashes: need_hash, a block's entries must carry theirs; an inode's may be
 * 0) and add them to s (if not NULL). 0; -EIO (the fs error is reported,
 * what names where); -ENOMEM. *hash_out (if not NULL): the table's hash. */
int xattr_table_parse(struct ext2_fs *fs, const struct xattr_area *a, bool need_hash,
                      bool in_inode, struct xattr_set *s, uint32_t *hash_out,
                      const char *where, uint32_t where_no);
/* xattr_table_build: write items (whose costs fit the room) into a, zeroing
 * the rest of it; returns the table's hash (ext2's block hash). */
uint32_t xattr_table_build(const struct xattr_area *a, struct xattr_item *const *items,
                           unsigned n);

/* xattr_inode.c: the table in the inode (none in 128-byte inodes). */
uint32_t xattr_ibody_room(struct ext2_fs *fs, struct ext2_inode_info *ii);
int xattr_ibody_load(struct ext2_fs *fs, struct ext2_inode_info *ii, struct xattr_set *s);
int xattr_ibody_store(struct ext2_fs *fs, struct ext2_inode_info *ii,
                      struct xattr_item *const *items, unsigned n);

/* xattr_block.c: the attribute block. store: give the inode a block
 * holding items (n 0: none), sharing or copying as needed. */
uint32_t xattr_block_room(struct ext2_fs *fs);
int xattr_block_load(struct ext2_fs *fs, struct ext2_inode_info *ii, struct xattr_set *s);
int xattr_block_store(struct ext2_fs *fs, struct ext2_inode_info *ii,
                      struct xattr_item *const *items, unsigned n);

/* xattr_acl.c: value conversions for EXT2_XATTR_INDEX_ACL_*. Each returns
 * the converted size (out NULL: only the size) or -errno: from_xattr
 * -EINVAL on a malformed ACL, to_xattr -EIO (reported) on a corrupt one. */
ssize_t ext2_acl_from_xattr(const void *in, size_t size, void *out);
ssize_t ext2_acl_to_xattr(struct ext2_fs *fs, uint32_t ino, const void *in, size_t size,
                          void *out);

#endif
