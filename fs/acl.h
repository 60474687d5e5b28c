/*
 * acl.h: POSIX ACLs as the xattr API carries them (the value of
 * "system.posix_acl_access" / "_default" in getxattr and setxattr): a
 * little-endian 32-bit version (2), then 8-byte entries { le16 tag,
 * le16 perm, le32 id }, sorted by tag, then id. A file system driver may
 * store another format (ext2 does) and converts at its boundary.
 *
 * The VFS side (acl.c): checking an ACL, the permission check an access ACL
 * makes, and keeping it and the mode bits in step.
 */
#ifndef FS_ACL_H
#define FS_ACL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VFS_ACL_XATTR_VERSION   0x0002
#define VFS_ACL_UNDEFINED_ID    0xffffffffu
#define VFS_ACL_ACCESS          "system.posix_acl_access"
#define VFS_ACL_DEFAULT         "system.posix_acl_default"

/* Entry tags (the same numbers in every format). */
enum {
	VFS_ACL_USER_OBJ  = 0x01,   /* the owner: the mode's owner bits */
	VFS_ACL_USER      = 0x02,   /* a named user (id: uid) */
	VFS_ACL_GROUP_OBJ = 0x04,   /* the owning group */
	VFS_ACL_GROUP     = 0x08,   /* a named group (id: gid) */
	VFS_ACL_MASK      = 0x10,   /* the most USER, GROUP_OBJ and GROUP grant: the mode's group bits */
	VFS_ACL_OTHER     = 0x20,   /* everyone else: the mode's other bits */
};

#define VFS_ACL_HEADER_LEN 4
#define VFS_ACL_ENTRY_LEN  8

struct vfs_acl_entry {
	uint16_t tag, perm;
	uint32_t id;
};

/* acl_entry: entry i of an ACL in xattr format (whose size was checked). */
struct vfs_acl_entry acl_entry(const uint8_t *acl, size_t i);
/* acl_check: is value a well-formed ACL (version, sizes, tags, perms, one
 * of each object entry, a mask when there are named entries, sorted,
 * unique ids)? Its entry count, or -EINVAL. */
int acl_check(const void *value, size_t size);

/* Who asks. */
struct acl_who {
	uint32_t uid, gid;
	const uint32_t *groups;     /* supplementary */
	unsigned ngroups;
};

/* acl_who_in_group: is gid who's group, or one of its supplementary groups? */
bool acl_who_in_group(const struct acl_who *who, uint32_t gid);
/* acl_permits: may who have want (rwx bits: 4 read, 2 write, 1 search or
 * execute) on a file of owner:group with this checked ACL of n entries?
 * 0 or -EACCES. */
int acl_permits(const uint8_t *acl, size_t n, const struct acl_who *who, uint32_t owner,
                uint32_t group, unsigned want);
/* acl_mode_bits: the mode's permission bits (0777) an access ACL implies;
 * *equivalent: the mode says all of it (no named entries, no mask). */
uint32_t acl_mode_bits(const uint8_t *acl, size_t n, bool *equivalent);
/* acl_chmod: a chmod to mode, carried into an access ACL. */
void acl_chmod(uint8_t *acl, size_t n, uint32_t mode);
/* acl_mask_by_mode: a default ACL becoming the access ACL of a file
 * created with mode: the entries the mode's bits stand for keep only
 * what mode grants. */
void acl_mask_by_mode(uint8_t *acl, size_t n, uint32_t mode);

#endif
