/*
 * test_vfs_perm.c: the VFS's permission checks for a thread that is not
 * root (search, open, create, remove, the sticky bit, chmod), the xattr
 * calls' rules by namespace and their limits, and POSIX ACLs: granting,
 * masking by chmod, the mode set from an access ACL, an ACL the mode says
 * entirely not stored, malformed ACLs refused. On ramfs, which keeps no
 * attributes, the xattr calls are -EOPNOTSUPP and the rest holds.
 */
#include "acl.h"
#include "test_vfs.h"
#include "thread.h"

static void become(uint32_t uid)
{
	struct thread *me = thread_current();
	me->uid = me->gid = uid;
	me->ngroups = 0;
}

/* An access ACL: owner rw, user 1000 with perm, group r, mask, other none. */
static size_t make_acl(uint8_t *acl, unsigned named_perm, unsigned mask)
{
	static const uint16_t tags[] = { VFS_ACL_USER_OBJ, VFS_ACL_USER, VFS_ACL_GROUP_OBJ,
	                                 VFS_ACL_MASK, VFS_ACL_OTHER };
	uint16_t perms[] = { 6, (uint16_t)named_perm, 4, (uint16_t)mask, 0 };
	memset(acl, 0, 44);
	acl[0] = VFS_ACL_XATTR_VERSION;
	for (int i = 0; i < 5; i++) {
		uint8_t *e = acl + 4 + 8 * i;
		e[0] = (uint8_t)tags[i];
		e[2] = (uint8_t)perms[i];
		uint32_t id = tags[i] == VFS_ACL_USER ? 1000 : VFS_ACL_UNDEFINED_ID;
		memcpy(e + 4, &id, 4);
	}
	return 44;
}

FS_TEST(vfs_perm, checks_and_acls)
{
	struct vfs_stat st;
	char buf[64];
	uint8_t acl[44];
	EXPECT_RC(vfs_mkdir("/d", 0755), 0);
	EXPECT_RC(put_file("/d/f", "data"), 0);
	EXPECT_RC(vfs_chmod("/d/f", 0600), 0);
	EXPECT_RC(vfs_mkdir("/priv", 0700), 0);
	EXPECT_RC(put_file("/priv/x", "x"), 0);
	EXPECT_RC(vfs_mkdir("/tmp", 01777), 0);
	EXPECT_RC(put_file("/tmp/roots", "r"), 0);
	EXPECT_RC(vfs_chmod("/tmp/roots", 02666), 0);
	int rc = vfs_setxattr("/d/f", true, "user.k", "v", 1, 0);
	bool xattrs = rc != -EOPNOTSUPP;
	if (xattrs)
		EXPECT_RC(rc, 0);

	become(1000);
	EXPECT_RC(vfs_open("/d/f", O_RDONLY, 0), -EACCES);
	EXPECT_RC(vfs_open("/d/g", O_CREAT | O_WRONLY, 0644), -EACCES);
	EXPECT_RC(vfs_mkdir("/d/x", 0755), -EACCES);
	EXPECT_RC(vfs_unlink("/d/f"), -EACCES);
	EXPECT_RC(vfs_chmod("/d/f", 0777), -EPERM);
	EXPECT_RC(vfs_chown("/d/f", 1000, 1000), -EPERM);
	EXPECT_RC(vfs_chown("/tmp/roots", (uint32_t)-1, 0), -EPERM);    /* not its owner */
	EXPECT_RC(vfs_chmod("/tmp/roots", 04666), -EPERM);      /* a writer may not add set-id */
	EXPECT_RC(vfs_chmod("/tmp/roots", 0666), 0);            /* but may clear it, as a write does */
	EXPECT_RC(vfs_stat("/priv/x", &st), -EACCES);
	EXPECT_RC(put_file("/tmp/mine", "m"), 0);
	EXPECT_RC(vfs_unlink("/tmp/roots"), -EPERM);
	EXPECT_RC(vfs_unlink("/tmp/mine"), 0);
	if (xattrs) {
		EXPECT_RC(vfs_getxattr("/d/f", true, "user.k", buf, sizeof(buf)), -EACCES);
		EXPECT_RC(vfs_setxattr("/d/f", true, "trusted.t", "t", 1, 0), -EPERM);
		EXPECT_RC(vfs_setxattr("/d/f", true, VFS_ACL_ACCESS, acl, make_acl(acl, 6, 6), 0),
		          -EPERM);
	}
	become(0);
	if (!xattrs)
		return 0;

	/* An ACL grants user 1000 rw; the mode's group bits become the mask. */
	EXPECT_RC(vfs_setxattr("/d/f", true, VFS_ACL_ACCESS, acl, make_acl(acl, 6, 6), 0), 0);
	EXPECT_RC(vfs_stat("/d/f", &st), 0);
	EXPECT_RC(st.mode & 0777, 0660);
	become(1000);
	int fd = vfs_open("/d/f", O_RDWR, 0);
	EXPECT(fd >= 0);
	vfs_close(fd);
	EXPECT_RC(vfs_getxattr("/d/f", true, "user.k", buf, sizeof(buf)), 1);
	become(0);
	/* chmod masks it; the ACL follows. */
	EXPECT_RC(vfs_chmod("/d/f", 0600), 0);
	EXPECT_RC(vfs_getxattr("/d/f", true, VFS_ACL_ACCESS, acl, sizeof(acl)), 44);
	EXPECT_RC(acl_entry(acl, 3).perm, 0);
	become(1000);
	EXPECT_RC(vfs_open("/d/f", O_RDONLY, 0), -EACCES);
	become(0);
	/* An ACL of just owner, group, other is the mode: not stored. */
	uint8_t base[28] = { 2, 0, 0, 0, 1, 0, 7, 0, 0xff, 0xff, 0xff, 0xff,
	                     4, 0, 5, 0, 0xff, 0xff, 0xff, 0xff, 0x20, 0, 1, 0, 0xff, 0xff, 0xff, 0xff };
	EXPECT_RC(vfs_setxattr("/d/f", true, VFS_ACL_ACCESS, base, sizeof(base), 0), 0);
	EXPECT_RC(vfs_getxattr("/d/f", true, VFS_ACL_ACCESS, acl, sizeof(acl)), -ENODATA);
	EXPECT_RC(vfs_stat("/d/f", &st), 0);
	EXPECT_RC(st.mode & 0777, 0751);
	/* Refused: malformed, a default ACL on a file, too big, name too long. */
	EXPECT_RC(vfs_setxattr("/d/f", true, VFS_ACL_ACCESS, base, 27, 0), -EINVAL);
	base[12] = 0x10;        /* group_obj -> mask: no group_obj */
	EXPECT_RC(vfs_setxattr("/d/f", true, VFS_ACL_ACCESS, base, sizeof(base), 0), -EINVAL);
	EXPECT_RC(vfs_setxattr("/d/f", true, VFS_ACL_DEFAULT, acl, make_acl(acl, 6, 6), 0), -EACCES);
	EXPECT_RC(vfs_setxattr("/d", true, VFS_ACL_DEFAULT, acl, make_acl(acl, 6, 6), 0), 0);
	static char huge[VFS_XATTR_SIZE_MAX + 1];
	EXPECT_RC(vfs_setxattr("/d/f", true, "user.h", huge, sizeof(huge), 0), -E2BIG);
	char name[300];
	memset(name, 'n', sizeof(name));
	memcpy(name, "user.", 5);
	name[299] = '\0';
	EXPECT_RC(vfs_setxattr("/d/f", true, name, "v", 1, 0), -ERANGE);
	/* The directory's default ACL goes to what is made in it. */
	EXPECT_RC(put_file("/d/new", "n"), 0);
	EXPECT_RC(vfs_getxattr("/d/new", true, VFS_ACL_ACCESS, acl, sizeof(acl)), 44);
	EXPECT_RC(acl_entry(acl, 1).id, 1000);
	EXPECT_RC(vfs_listxattr("/d/new", true, buf, sizeof(buf)),
	          (ssize_t)sizeof(VFS_ACL_ACCESS));
	return 0;
}
