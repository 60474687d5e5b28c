/*
 * acl.c: POSIX ACLs in the xattr API's format (acl.h): checking one, the
 * access decision it makes (POSIX.1e: owner entry; else a named-user
 * entry, masked; else any matching group entry, masked, that grants; else
 * other), and the correspondence with the mode bits (owner = USER_OBJ,
 * group = MASK or, without one, GROUP_OBJ, other = OTHER).
 */
#include <errno.h>

#include "acl.h"

static uint32_t le32_at(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

struct vfs_acl_entry acl_entry(const uint8_t *acl, size_t i)
{
	const uint8_t *p = acl + VFS_ACL_HEADER_LEN + i * VFS_ACL_ENTRY_LEN;
	return (struct vfs_acl_entry){ .tag = (uint16_t)(p[0] | p[1] << 8),
	                               .perm = (uint16_t)(p[2] | p[3] << 8),
	                               .id = le32_at(p + 4) };
}

static void set_perm(uint8_t *acl, size_t i, unsigned perm)
{
	uint8_t *p = acl + VFS_ACL_HEADER_LEN + i * VFS_ACL_ENTRY_LEN;
	p[2] = (uint8_t)perm;
	p[3] = 0;
}

int acl_check(const void *value, size_t size)
{
	const uint8_t *acl = value;
	if (!acl || size < VFS_ACL_HEADER_LEN || (size - VFS_ACL_HEADER_LEN) % VFS_ACL_ENTRY_LEN ||
	    le32_at(acl) != VFS_ACL_XATTR_VERSION)
		return -EINVAL;
	size_t n = (size - VFS_ACL_HEADER_LEN) / VFS_ACL_ENTRY_LEN;
	unsigned seen = 0, prev_tag = 0;
	uint32_t prev_id = 0;
	for (size_t i = 0; i < n; i++) {
		struct vfs_acl_entry e = acl_entry(acl, i);
		if (e.perm & ~7u || e.tag < prev_tag)
			return -EINVAL;
		switch (e.tag) {
		case VFS_ACL_USER:
		case VFS_ACL_GROUP:
			if (e.tag == prev_tag && e.id <= prev_id)
				return -EINVAL;     /* unsorted or twice */
			prev_id = e.id;
			break;
		case VFS_ACL_USER_OBJ: case VFS_ACL_GROUP_OBJ: case VFS_ACL_MASK: case VFS_ACL_OTHER:
			if (seen & e.tag)
				return -EINVAL;
			break;
		default:
			return -EINVAL;
		}
		seen |= e.tag;
		prev_tag = e.tag;
	}
	if (n == 0)
		return 0;
	unsigned objs = VFS_ACL_USER_OBJ | VFS_ACL_GROUP_OBJ | VFS_ACL_OTHER;
	if ((seen & objs) != objs)
		return -EINVAL;
	if ((seen & (VFS_ACL_USER | VFS_ACL_GROUP)) && !(seen & VFS_ACL_MASK))
		return -EINVAL;
	return (int)n;
}

bool acl_who_in_group(const struct acl_who *who, uint32_t gid)
{
	if (who->gid == gid)
		return true;
	for (unsigned i = 0; i < who->ngroups; i++)
		if (who->groups[i] == gid)
			return true;
	return false;
}

int acl_permits(const uint8_t *acl, size_t n, const struct acl_who *who, uint32_t owner,
                uint32_t group, unsigned want)
{
	unsigned mask = 7, user = 8, other = 0;
	bool group_matched = false, group_grants = false;
	for (size_t i = 0; i < n; i++) {
		struct vfs_acl_entry e = acl_entry(acl, i);
		if (e.tag == VFS_ACL_MASK)
			mask = e.perm;
		else if (e.tag == VFS_ACL_OTHER)
			other = e.perm;
	}
	for (size_t i = 0; i < n; i++) {
		struct vfs_acl_entry e = acl_entry(acl, i);
		bool match = false;
		switch (e.tag) {
		case VFS_ACL_USER_OBJ:
			if (who->uid == owner)
				return (e.perm & want) == want ? 0 : -EACCES;
			break;
		case VFS_ACL_USER:
			if (who->uid == e.id && user == 8)
				user = e.perm & mask;
			break;
		case VFS_ACL_GROUP_OBJ:
			match = acl_who_in_group(who, group);
			break;
		case VFS_ACL_GROUP:
			match = acl_who_in_group(who, e.id);
			break;
		}
		if (match) {
			group_matched = true;
			group_grants |= (e.perm & mask & want) == want;
		}
	}
	if (user != 8)
		return (user & want) == want ? 0 : -EACCES;
	if (group_matched)
		return group_grants ? 0 : -EACCES;
	return (other & want) == want ? 0 : -EACCES;
}

uint32_t acl_mode_bits(const uint8_t *acl, size_t n, bool *equivalent)
{
	uint32_t owner = 0, group_obj = 0, mask = 0, other = 0;
	bool has_mask = false;
	*equivalent = true;
	for (size_t i = 0; i < n; i++) {
		struct vfs_acl_entry e = acl_entry(acl, i);
		switch (e.tag) {
		case VFS_ACL_USER_OBJ: owner = e.perm; break;
		case VFS_ACL_GROUP_OBJ: group_obj = e.perm; break;
		case VFS_ACL_OTHER: other = e.perm; break;
		case VFS_ACL_MASK: mask = e.perm; has_mask = true; *equivalent = false; break;
		default: *equivalent = false; break;
		}
	}
	return owner << 6 | (has_mask ? mask : group_obj) << 3 | other;
}

void acl_chmod(uint8_t *acl, size_t n, uint32_t mode)
{
	bool has_mask = false;
	for (size_t i = 0; i < n; i++)
		has_mask |= acl_entry(acl, i).tag == VFS_ACL_MASK;
	for (size_t i = 0; i < n; i++) {
		uint16_t tag = acl_entry(acl, i).tag;
		if (tag == VFS_ACL_USER_OBJ)
			set_perm(acl, i, (mode >> 6) & 7);
		else if (tag == (has_mask ? VFS_ACL_MASK : VFS_ACL_GROUP_OBJ))
			set_perm(acl, i, (mode >> 3) & 7);
		else if (tag == VFS_ACL_OTHER)
			set_perm(acl, i, mode & 7);
	}
}

void acl_mask_by_mode(uint8_t *acl, size_t n, uint32_t mode)
{
	bool has_mask = false;
	for (size_t i = 0; i < n; i++)
		has_mask |= acl_entry(acl, i).tag == VFS_ACL_MASK;
	for (size_t i = 0; i < n; i++) {
		struct vfs_acl_entry e = acl_entry(acl, i);
		unsigned bits;
		if (e.tag == VFS_ACL_USER_OBJ)
			bits = (mode >> 6) & 7;
		else if (e.tag == (has_mask ? VFS_ACL_MASK : VFS_ACL_GROUP_OBJ))
			bits = (mode >> 3) & 7;
		else if (e.tag == VFS_ACL_OTHER)
			bits = mode & 7;
		else
			continue;
		set_perm(acl, i, e.perm & bits);
	}
}
