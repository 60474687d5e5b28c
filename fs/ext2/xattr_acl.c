/*
 * xattr_acl.c: POSIX ACL values between the xattr API's format (acl.h:
 * version 2, every entry 8 bytes) and the one ext2/3 store: version 1,
 * with the entries that carry no id (owner, owning group, mask, other)
 * shortened to 4 bytes. Only the layout is converted here; what the entries
 * mean is checked by the VFS (acl_check) before a set.
 */
#include <errno.h>
#include <string.h>

#include "acl.h"
#include "xattr.h"

static bool has_id(uint16_t tag)
{
	return tag == VFS_ACL_USER || tag == VFS_ACL_GROUP;
}

static bool known_tag(uint16_t tag)
{
	return tag == VFS_ACL_USER_OBJ || tag == VFS_ACL_USER || tag == VFS_ACL_GROUP_OBJ ||
	       tag == VFS_ACL_GROUP || tag == VFS_ACL_MASK || tag == VFS_ACL_OTHER;
}

/* Little-endian 32-bit words (version, id) at any alignment. */
static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

ssize_t ext2_acl_from_xattr(const void *in, size_t size, void *out)
{
	const uint8_t *src = in;
	if (size < VFS_ACL_HEADER_LEN || (size - VFS_ACL_HEADER_LEN) % VFS_ACL_ENTRY_LEN ||
	    get_le32(src) != VFS_ACL_XATTR_VERSION)
		return -EINVAL;
	size_t n = (size - VFS_ACL_HEADER_LEN) / VFS_ACL_ENTRY_LEN, len = 4;
	uint8_t *dst = out;
	if (dst)
		put_le32(dst, EXT2_ACL_VERSION);
	for (size_t i = 0; i < n; i++) {
		struct vfs_acl_entry e = acl_entry(src, i);
		if (!known_tag(e.tag))
			return -EINVAL;
		if (dst) {
			struct ext2_acl_entry *d = (struct ext2_acl_entry *)(dst + len);
			st16(&d->e_tag, e.tag);
			st16(&d->e_perm, e.perm);
			if (has_id(e.tag))
				st32(&d->e_id, e.id);
		}
		len += has_id(e.tag) ? 8 : 4;
	}
	return (ssize_t)len;
}

ssize_t ext2_acl_to_xattr(struct ext2_fs *fs, uint32_t ino, const void *in, size_t size,
                          void *out)
{
	const uint8_t *src = in;
	if (size < 4 || get_le32(src) != EXT2_ACL_VERSION)
		return EXT2_CORRUPT(fs, "inode %u: ACL of %zu bytes, bad version", ino, size);
	size_t off = 4, len = VFS_ACL_HEADER_LEN;
	uint8_t *dst = out;
	if (dst)
		put_le32(dst, VFS_ACL_XATTR_VERSION);
	while (off < size) {
		const struct ext2_acl_entry *e = (const struct ext2_acl_entry *)(src + off);
		if (size - off < 4 || !known_tag(ld16(e->e_tag)) ||
		    (has_id(ld16(e->e_tag)) && size - off < 8))
			return EXT2_CORRUPT(fs, "inode %u: ACL entry at %zu is damaged", ino, off);
		uint16_t tag = ld16(e->e_tag);
		uint32_t id = has_id(tag) ? ld32(e->e_id) : VFS_ACL_UNDEFINED_ID;
		if (dst) {
			uint8_t *d = dst + len;
			d[0] = (uint8_t)tag;
			d[1] = (uint8_t)(tag >> 8);
			d[2] = (uint8_t)ld16(e->e_perm);
			d[3] = (uint8_t)(ld16(e->e_perm) >> 8);
			put_le32(d + 4, id);
		}
		off += has_id(tag) ? 8 : 4;
		len += VFS_ACL_ENTRY_LEN;
	}
	return (ssize_t)len;
}
