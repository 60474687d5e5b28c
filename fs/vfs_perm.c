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
		perm = acl_who_in_group(&who, st->gid) ? (st->mode >> 3) & 7 : st->mode & 7;
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

int vfs_may_create(struct vloc dir)
{
	return vfs_loc_permission(dir, VFS_MAY_WRITE | VFS_MAY_EXEC);
}

int vfs_may_delete(struct vloc dir, struct vloc victim)
{
	if (vfs_is_root())
		return 0;
	struct vfs_stat ds, vs;
	struct fs *fs = dir.m->fs;
	int rc = fs->ops->getattr(fs, dir.ino, &ds);
	if (rc == 0)
		rc = vfs_permission(dir, &ds, VFS_MAY_WRITE | VFS_MAY_EXEC);
	if (rc == 0 && (ds.mode & S_ISVTX)) {
		/* Sticky: only the owner of the file or of the directory. */
		uint32_t uid = thread_current()->uid;
		rc = victim.m->fs->ops->getattr(victim.m->fs, victim.ino, &vs);
		if (rc == 0 && uid != ds.uid && uid != vs.uid)
			rc = -EPERM;
	}
	return rc;
}

int vfs_may_setattr(struct vloc loc, struct vfs_setattr *a)
{
	if (vfs_is_root())
		return 0;
	struct acl_who who;
	vfs_who(&who);
	struct vfs_stat st;
	int rc = loc.m->fs->ops->getattr(loc.m->fs, loc.ino, &st);
	if (rc < 0)
		return rc;
	bool owner = who.uid == st.uid;
	/* chown: only root gives a file away; the owner may change its group
	 * to one of its own. */
	if ((a->mask & VFS_SET_UID) && (a->uid != st.uid || !owner))
		return -EPERM;
	if ((a->mask & VFS_SET_GID) &&
	    (!owner || (a->gid != st.gid && !acl_who_in_group(&who, a->gid))))
		return -EPERM;
	if (a->mask & VFS_SET_MODE) {
		/* Anyone who may write may clear the set-id bits (a write does). */
		uint32_t kept = st.mode & 07777 & ~(uint32_t)(S_ISUID | S_ISGID);
		bool only_clears = (a->mode & ~(uint32_t)(S_ISUID | S_ISGID)) == kept &&
		                   (a->mode & ~st.mode & 07777) == 0;
		if (!owner && !(only_clears && vfs_permission(loc, &st, VFS_MAY_WRITE) == 0))
			return -EPERM;
		if (owner && !acl_who_in_group(&who, (a->mask & VFS_SET_GID) ? a->gid : st.gid))
			a->mode &= ~(uint32_t)S_ISGID;
	}
	if (a->mask & (VFS_SET_ATIME | VFS_SET_MTIME)) {
		if ((a->mask & VFS_SET_TIMES_NOW) && !owner)
			rc = vfs_permission(loc, &st, VFS_MAY_WRITE);
		else if (!owner)
			rc = -EPERM;
	}
	if (rc == 0 && (a->mask & VFS_SET_SIZE))
		rc = vfs_permission(loc, &st, VFS_MAY_WRITE);
	return rc;
}

int vfs_node_access(struct vnode *vn, int mask)
{
	struct vloc loc = vnode_loc(vn);
	struct vfs_stat st;
	int rc = loc.m->fs->ops->getattr(loc.m->fs, loc.ino, &st);
	if (rc < 0 || mask == 0)
		return rc;
	if ((mask & VFS_MAY_WRITE) && loc_read_only(loc) && !S_ISCHR(st.mode) &&
	    !S_ISBLK(st.mode) && !S_ISFIFO(st.mode) && !S_ISSOCK(st.mode))
		return -EROFS;
	return vfs_permission(loc, &st, (unsigned)mask);
}
