/*
 * vfs_perm.c: may the calling thread do this to a file? Its identity is
 * thread_current()'s uid, gid and supplementary groups (0 for the kernel's
 * own threads; torofuse sets a request's caller). uid 0 may do anything
 * but run a file that has no execute bit. The owner gets the owner bits;
 * anyone else gets what the file's access ACL (system.posix_acl_access, if
 * the file system keeps one) grants, or else the group or other bits.
 */
#include <errno.h>
#include <sys/stat.h>

#include "acl.h"
#include "alloc.h"
#include "thread.h"
#include "vfs_impl.h"

void vfs_who(struct acl_who *who)
{
	struct thread *t = thread_current();
	who->uid = t->uid;
	who->gid = t->gid;
	who->groups = t->groups;
	who->ngroups = t->ngroups < THREAD_NGROUPS ? t->ngroups : THREAD_NGROUPS;
}

bool vfs_is_root(void)
{
	return thread_current()->uid == 0;
}

ssize_t vfs_read_acl(struct vloc loc, const char *name, uint8_t **out)
{
	struct fs *fs = loc.m->fs;
	*out = NULL;
	if (!fs->ops->getxattr)
		return 0;
	ssize_t size = fs->ops->getxattr(fs, loc.ino, name, NULL, 0);
	if (size == -ENODATA || size == -EOPNOTSUPP || size == 0)
		return 0;
	if (size < 0)
		return size;
	uint8_t *buf = kmalloc((size_t)size);
	if (!buf)
		return -ENOMEM;
	ssize_t got = fs->ops->getxattr(fs, loc.ino, name, buf, (size_t)size);
	if (got < 0 || acl_check(buf, (size_t)got) < 0) {
		kfree(buf);
		return got == -ENODATA ? 0 : got < 0 ? got : -EIO;
	}
	*out = buf;
	return got;
}

int vfs_permission(struct vloc loc, const struct vfs_stat *st, unsigned want)
{
	struct acl_who who;
	vfs_who(&who);
	want &= 7;
	if (who.uid == 0) {
		bool runs = (want & 1) && !S_ISDIR(st->mode) && !(st->mode & 0111);
		return runs ? -EACCES : 0;
	}
	unsigned perm;
	if (who.uid == st->uid) {
		perm = (st->mode >> 6) & 7;
	} else {
		uint8_t *acl;
		ssize_t size = S_ISLNK(st->mode) ? 0 : vfs_read_acl(loc, VFS_ACL_ACCESS, &acl);
		if (size < 0)
			return (int)size;
		if (size > 0) {
			int rc = acl_permits(acl, (size_t)acl_check(acl, (size_t)size), &who,
			                     st->uid, st->gid, want);
			kfree(acl);
			return rc;
		}
		bool member = who.gid == st->gid;
		for (unsigned i = 0; i < who.ngroups && !member; i++)
			member = who.groups[i] == st->gid;
		perm = member ? (st->mode >> 3) & 7 : st->mode & 7;
	}
	return (perm & want) == want ? 0 : -EACCES;
}

int vfs_loc_permission(struct vloc loc, unsigned want)
{
	if (vfs_is_root() && !(want & 1))
		return 0;       /* spares a getattr on the common path */
	struct vfs_stat st;
	int rc = loc.m->fs->ops->getattr(loc.m->fs, loc.ino, &st);
	return rc < 0 ? rc : vfs_permission(loc, &st, want);
}
