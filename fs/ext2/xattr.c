/*
 * xattr.c: extended attributes (fs.h's getxattr, setxattr, listxattr,
 * removexattr) for ext2's ext_attr feature.
 *
 * A name's prefix picks its namespace, stored as an index beside the rest
 * of the name (xattr.h). A change loads all of the inode's attributes (its
 * own table first, then its block's), changes the set in memory and lays it
 * out again: attributes that were in the inode stay there while they fit,
 * new ones go there first, the rest go to the block (xattr_block.c: a
 * shared block is copied, not changed). Nothing on disk changes until the
 * new layout is known to fit. The first attribute written sets the ext_attr
 * feature. ACL values are converted at this boundary (xattr_acl.c).
 */
#include <errno.h>
#include <string.h>

#include "alloc.h"
#include "xattr.h"

/* ---- Names ------------------------------------------------------------------ */

struct name_space {
	const char *prefix;
	uint8_t index;
	bool whole;                 /* the prefix is the whole name */
};

static const struct name_space spaces[] = {
	{ "user.", EXT2_XATTR_INDEX_USER, false },
	{ "trusted.", EXT2_XATTR_INDEX_TRUSTED, false },
	{ "security.", EXT2_XATTR_INDEX_SECURITY, false },
	{ "system.posix_acl_access", EXT2_XATTR_INDEX_ACL_ACCESS, true },
	{ "system.posix_acl_default", EXT2_XATTR_INDEX_ACL_DEFAULT, true },
};
#define NSPACES (sizeof(spaces) / sizeof(spaces[0]))

struct xname {
	uint8_t index;
	const char *name;           /* after the prefix */
	size_t len;
};

static int parse_name(const char *full, struct xname *out)
{
	for (size_t i = 0; i < NSPACES; i++) {
		size_t plen = strlen(spaces[i].prefix);
		if (strncmp(full, spaces[i].prefix, plen) != 0)
			continue;
		out->index = spaces[i].index;
		out->name = full + plen;
		out->len = strlen(out->name);
		if (spaces[i].whole ? out->len != 0 : out->len == 0)
			return spaces[i].whole ? -EOPNOTSUPP : -EINVAL;
		return out->len > EXT2_NAME_LEN ? -ERANGE : 0;
	}
	return -EOPNOTSUPP;
}

static const struct name_space *space_of(uint8_t index)
{
	for (size_t i = 0; i < NSPACES; i++)
		if (spaces[i].index == index)
			return &spaces[i];
	return NULL;    /* a namespace we do not show (Lustre, richacl, ...) */
}

static bool is_acl(uint8_t index)
{
	return index == EXT2_XATTR_INDEX_ACL_ACCESS || index == EXT2_XATTR_INDEX_ACL_DEFAULT;
}

/* ---- The set in memory -------------------------------------------------------- */

void xattr_set_free(struct xattr_set *s)
{
	for (unsigned i = 0; i < s->n; i++)
		kfree(s->items[i].value);
	kfree(s->items);
	*s = (struct xattr_set){ 0 };
}

int xattr_set_add(struct xattr_set *s, uint8_t index, const char *name, size_t name_len,
                  const void *value, uint32_t size, bool in_inode)
{
	if (s->n == s->cap) {
		unsigned cap = s->cap ? s->cap * 2 : 8;
		struct xattr_item *v = kmalloc(cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		if (s->n)
			memcpy(v, s->items, s->n * sizeof(*v));
		kfree(s->items);
		s->items = v;
		s->cap = cap;
	}
	struct xattr_item *it = &s->items[s->n];
	*it = (struct xattr_item){ .index = index, .name_len = (uint8_t)name_len,
	                           .in_inode = in_inode, .size = size };
	memcpy(it->name, name, name_len);
	if (size) {
		it->value = kmalloc(size);
		if (!it->value)
			return -ENOMEM;
		memcpy(it->value, value, size);
	}
	s->n++;
	return 0;
}

static int find(const struct xattr_set *s, const struct xname *xn)
{
	for (unsigned i = 0; i < s->n; i++) {
		const struct xattr_item *it = &s->items[i];
		if (it->index == xn->index && it->name_len == xn->len &&
		    memcmp(it->name, xn->name, xn->len) == 0)
			return (int)i;
	}
	return -1;
}

/* Load the attributes of inode ino, held in *iip (ext2_iput after). */
static int load(struct ext2_fs *fs, uint64_t ino, struct ext2_inode_info **iip,
                struct xattr_set *s)
{
	*s = (struct xattr_set){ 0 };
	if (ino > UINT32_MAX)
		return -ENOENT;
	int rc = ext2_iget(fs, (uint32_t)ino, iip);
	if (rc < 0)
		return rc;
	rc = xattr_ibody_load(fs, *iip, s);
	if (rc == 0)
		rc = xattr_block_load(fs, *iip, s);
	if (rc < 0) {
		xattr_set_free(s);
		ext2_iput(fs, *iip);
	}
	return rc;
}

/* ---- Reading ---------------------------------------------------------------- */

static ssize_t copy_out(const void *src, size_t len, void *buf, size_t size)
{
	if (size == 0)
		return (ssize_t)len;
	if (size < len)
		return -ERANGE;
	memcpy(buf, src, len);
	return (ssize_t)len;
}

ssize_t ext2_getxattr(struct fs *vfs, uint64_t ino, const char *name, void *buf, size_t size)
{
	struct ext2_fs *fs = EXT2(vfs);
	struct xname xn;
	int prc = parse_name(name, &xn);
	if (prc < 0)
		return prc;
	struct ext2_inode_info *ii;
	struct xattr_set s;
	ext2_lock(fs);
	ssize_t rc = load(fs, ino, &ii, &s);
	if (rc == 0) {
		int i = find(&s, &xn);
		const struct xattr_item *it = i >= 0 ? &s.items[i] : NULL;
		if (!it) {
			rc = -ENODATA;
		} else if (!is_acl(xn.index)) {
			rc = copy_out(it->value, it->size, buf, size);
		} else {
			rc = ext2_acl_to_xattr(fs, ii->ino, it->value, it->size, NULL);
			if (rc >= 0 && size && size < (size_t)rc)
				rc = -ERANGE;
			else if (rc >= 0 && size)
				rc = ext2_acl_to_xattr(fs, ii->ino, it->value, it->size, buf);
		}
		xattr_set_free(&s);
		ext2_iput(fs, ii);
	}
	mutex_unlock(&fs->lock);
	return rc;
}

ssize_t ext2_listxattr(struct fs *vfs, uint64_t ino, char *buf, size_t size)
{
	struct ext2_fs *fs = EXT2(vfs);
	struct ext2_inode_info *ii;
	struct xattr_set s;
	ext2_lock(fs);
	ssize_t rc = load(fs, ino, &ii, &s);
	if (rc == 0) {
		size_t len = 0;
		for (unsigned i = 0; i < s.n && rc == 0; i++) {
			const struct xattr_item *it = &s.items[i];
			const struct name_space *sp = space_of(it->index);
			if (!sp)
				continue;
			size_t plen = strlen(sp->prefix), need = plen + it->name_len + 1;
			if (size && len + need > size) {
				rc = -ERANGE;
			} else if (size) {
				memcpy(buf + len, sp->prefix, plen);
				memcpy(buf + len + plen, it->name, it->name_len);
				buf[len + need - 1] = '\0';
			}
			len += need;
		}
		if (rc == 0)
			rc = (ssize_t)len;
		xattr_set_free(&s);
		ext2_iput(fs, ii);
	}
	mutex_unlock(&fs->lock);
	return rc;
}

/* ---- Changing ------------------------------------------------------------- */

/* Split s between the inode's table and the block: in-inode items first,
 * each to the inode while it has room. -ENOSPC if the rest overflows the
 * block. */
static int lay_out(struct ext2_fs *fs, struct ext2_inode_info *ii, struct xattr_set *s,
                   struct xattr_item **in_inode, unsigned *ni,
                   struct xattr_item **in_block, unsigned *nb)
{
	uint32_t room_i = xattr_ibody_room(fs, ii), used_i = 0, used_b = 0;
	*ni = *nb = 0;
	for (int pass = 0; pass < 2; pass++) {
		for (unsigned i = 0; i < s->n; i++) {
			struct xattr_item *it = &s->items[i];
			if (it->in_inode != (pass == 0))
				continue;
			uint32_t cost = xattr_item_cost(it);
			if (used_i + cost <= room_i) {
				used_i += cost;
				in_inode[(*ni)++] = it;
			} else {
				used_b += cost;
				in_block[(*nb)++] = it;
			}
		}
	}
	return used_b > xattr_block_room(fs) ? -ENOSPC : 0;
}

static void note_feature(struct ext2_fs *fs)
{
	if (fs->compat & EXT2_FEATURE_COMPAT_EXT_ATTR)
		return;
	fs->compat |= EXT2_FEATURE_COMPAT_EXT_ATTR;
	st32(&fs->sb->s_feature_compat, fs->compat);
	ext2_sb_dirty(fs);
}

static int store(struct ext2_fs *fs, struct ext2_inode_info *ii, struct xattr_set *s)
{
	struct xattr_item **in_inode = kmalloc((s->n + 1) * sizeof(*in_inode));
	struct xattr_item **in_block = kmalloc((s->n + 1) * sizeof(*in_block));
	unsigned ni, nb;
	int rc = -ENOMEM;
	if (in_inode && in_block)
		rc = lay_out(fs, ii, s, in_inode, &ni, in_block, &nb);
	if (rc == 0)
		rc = xattr_block_store(fs, ii, in_block, nb);
	if (rc == 0)
		rc = xattr_ibody_store(fs, ii, in_inode, ni);
	if (rc == 0) {
		if (ni + nb)
			note_feature(fs);
		ext2_touch(ii, false, true);
	}
	kfree(in_inode);
	kfree(in_block);
	return rc;
}

static int replace_value(struct xattr_item *it, const void *value, size_t size)
{
	uint8_t *v = NULL;
	if (size && !(v = kmalloc(size)))
		return -ENOMEM;
	if (size)
		memcpy(v, value, size);
	kfree(it->value);
	it->value = v;
	it->size = (uint32_t)size;
	return 0;
}

/* Set (value not NULL) or remove the attribute. */
static int change(struct ext2_fs *fs, uint64_t ino, const struct xname *xn, const void *value,
                  size_t size, int flags)
{
	struct ext2_inode_info *ii;
	struct xattr_set s;
	int rc = load(fs, ino, &ii, &s);
	if (rc < 0)
		return rc;
	int i = find(&s, xn);
	if (i >= 0 && (flags & VFS_XATTR_CREATE))
		rc = -EEXIST;
	else if (i < 0 && (!value || (flags & VFS_XATTR_REPLACE)))
		rc = -ENODATA;
	else if (i >= 0 && value)
		rc = replace_value(&s.items[i], value, size);
	else if (i >= 0) {
		kfree(s.items[i].value);
		s.items[i] = s.items[--s.n];
	} else
		rc = xattr_set_add(&s, xn->index, xn->name, xn->len, value, (uint32_t)size, true);
	if (rc == 0)
		rc = store(fs, ii, &s);
	if (rc == 0)
		ext2_note_change(fs, ii->ino);  /* fsync.c: attributes go with a checkpoint */
	xattr_set_free(&s);
	int prc = ext2_iput(fs, ii);
	return rc ? rc : prc;
}

int ext2_setxattr(struct fs *vfs, uint64_t ino, const char *name, const void *value,
                  size_t size, int flags)
{
	struct ext2_fs *fs = EXT2(vfs);
	struct xname xn;
	int rc = parse_name(name, &xn);
	if (rc < 0)
		return rc;
	if (size > fs->bsize)
		return -ENOSPC;     /* more than any table could hold */
	void *disk = NULL;
	if (is_acl(xn.index)) {
		ssize_t len = ext2_acl_from_xattr(value, size, NULL);
		if (len < 0)
			return (int)len;
		disk = kmalloc((size_t)len);
		if (!disk)
			return -ENOMEM;
		ext2_acl_from_xattr(value, size, disk);
		value = disk;
		size = (size_t)len;
	}
	static const uint8_t empty[1];
	ext2_lock(fs);
	rc = ext2_check_writable(fs);
	if (rc == 0)
		rc = change(fs, ino, &xn, value ? value : empty, size, flags);
	mutex_unlock(&fs->lock);
	kfree(disk);
	return rc;
}

int ext2_removexattr(struct fs *vfs, uint64_t ino, const char *name)
{
	struct ext2_fs *fs = EXT2(vfs);
	struct xname xn;
	int rc = parse_name(name, &xn);
	if (rc < 0)
		return rc;
	ext2_lock(fs);
	rc = ext2_check_writable(fs);
	if (rc == 0)
		rc = change(fs, ino, &xn, NULL, 0, 0);
	mutex_unlock(&fs->lock);
	return rc;
}
