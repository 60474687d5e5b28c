/*
 * vfs_vnode.c: the table of open inodes, and the calls on held files that
 * need nothing else (vfs_node_at, _hold, _put, _ino, _stat).
 *
 * Every open file points to the vnode of its inode; two opens of one inode
 * share it, so its lock makes O_APPEND writes and size changes atomic
 * against each other. A vnode holds the driver's inode reference (iget), so
 * an unlinked file lives on until its last close, and a mount reference, so
 * the file system cannot be unmounted under it.
 */
#include <errno.h>

#include "alloc.h"
#include "spinlock.h"
#include "vfs_impl.h"

#define VNODE_BUCKETS 4096     /* torofuse holds every file its host knows */

/* vnode_lock guards the hash chains and every vnode's link and refs. */
static struct spinlock vnode_lock = SPINLOCK_INIT("vnode_lock");
static struct list buckets[VNODE_BUCKETS];
static bool buckets_ready;

static struct list *bucket(struct vloc loc)
{
	uintptr_t h = (uintptr_t)loc.m / 64 + loc.ino * 0x9e3779b97f4a7c15ull;
	return &buckets[(h >> 32) % VNODE_BUCKETS];
}

/* The vnode of loc with one more reference, or NULL. Caller holds vnode_lock. */
static struct vnode *find(struct vloc loc)
{
	assert_held(&vnode_lock);
	if (!buckets_ready) {
		for (int i = 0; i < VNODE_BUCKETS; i++)
			list_init(&buckets[i]);
		buckets_ready = true;
	}
	list_for_each(pos, bucket(loc)) {
		struct vnode *vn = list_entry(pos, struct vnode, link);
		if (vn->m == loc.m && vn->ino == loc.ino) {
			vn->refs++;
			return vn;
		}
	}
	return NULL;
}

int vnode_get(struct vloc loc, struct vnode **out)
{
	spin_lock(&vnode_lock);
	struct vnode *vn = find(loc);
	spin_unlock(&vnode_lock);
	if (vn) {
		*out = vn;
		return 0;
	}

	struct vnode *fresh = kzalloc(sizeof(*fresh));
	if (!fresh)
		return -ENOMEM;
	int rc = loc.m->fs->ops->iget(loc.m->fs, loc.ino);
	if (rc < 0) {
		kfree(fresh);
		return rc;
	}
	fresh->m = loc.m;
	fresh->ino = loc.ino;
	fresh->refs = 1;
	mutex_init(&fresh->lock, "vnode");
	list_init(&fresh->link);

	spin_lock(&vnode_lock);
	vn = find(loc);             /* another thread may have been faster */
	if (!vn)
		list_push_back(bucket(loc), &fresh->link);
	spin_unlock(&vnode_lock);
	if (vn) {
		loc.m->fs->ops->iput(loc.m->fs, loc.ino);
		kfree(fresh);
		*out = vn;
		return 0;
	}
	mount_get(loc.m);
	*out = fresh;
	return 0;
}

void vnode_put(struct vnode *vn)
{
	spin_lock(&vnode_lock);
	bool last = --vn->refs == 0;
	if (last)
		list_remove(&vn->link);
	spin_unlock(&vnode_lock);
	if (!last)
		return;
	vn->m->fs->ops->iput(vn->m->fs, vn->ino);
	mount_put(vn->m);
	kfree(vn);
}

/* ---- held files (vfs.h) ---- */

int vfs_node_at(struct vnode *dir, const char *path, bool follow, struct vnode **out)
{
	struct walk_result w = { 0 };
	int rc = path_walk(dir, path, follow ? WALK_FOLLOW : 0, &w);
	if (rc < 0)
		return rc;
	rc = vnode_get(w.loc, out);
	walk_done(&w);
	return rc;
}

void vfs_node_hold(struct vnode *vn)
{
	spin_lock(&vnode_lock);
	vn->refs++;
	spin_unlock(&vnode_lock);
}

void vfs_node_put(struct vnode *vn)
{
	vnode_put(vn);
}

uint64_t vfs_node_ino(const struct vnode *vn)
{
	return vn->ino;
}

int vfs_node_stat(struct vnode *vn, struct vfs_stat *out)
{
	return vn->m->fs->ops->getattr(vn->m->fs, vn->ino, out);
}
