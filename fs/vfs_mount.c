/*
 * vfs_mount.c: the mount table: which file system covers which directory.
 *
 * vfs_mount(path, type, dev, flags) mounts a new file system over the
 * directory at path (the first mount is "/"); path walks move into a mount's
 * root when they reach the directory it covers (mount_cross) and back out
 * through ".." (vfs_path.c keeps the way it came). vfs_unmount refuses while
 * any walk, open file or other mount uses the file system (-EBUSY).
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "alloc.h"
#include "ramfs.h"
#include "spinlock.h"
#include "thread.h"
#include "vfs_impl.h"

/* mount_lock guards mount_list and every mount's link and refs. Taken last:
 * never held across a driver call. */
static struct spinlock mount_lock = SPINLOCK_INIT("mount_lock");
static struct list mount_list = LIST_INIT(mount_list);

static const struct fs_type *const fs_types[] = { &ext2_fs_type, &ramfs_fs_type };

static const struct fs_type *find_type(const char *name)
{
	for (size_t i = 0; i < sizeof(fs_types) / sizeof(fs_types[0]); i++)
		if (strcmp(fs_types[i]->name, name) == 0)
			return fs_types[i];
	return NULL;
}

void mount_get(struct mount *m)
{
	spin_lock(&mount_lock);
	m->refs++;
	spin_unlock(&mount_lock);
}

void mount_put(struct mount *m)
{
	spin_lock(&mount_lock);
	if (m->refs <= 0)
		panic("mount_put: reference count underflow");
	m->refs--;
	spin_unlock(&mount_lock);
}

/* The newest mount covering loc, or NULL. Caller holds mount_lock. */
static struct mount *covering(struct vloc loc)
{
	assert_held(&mount_lock);
	list_for_each(pos, &mount_list) {
		struct mount *c = list_entry(pos, struct mount, link);
		if (c->parent == loc.m && c->mp_ino == loc.ino)
			return c;
	}
	return NULL;
}

void mount_cross(struct vloc *loc)
{
	spin_lock(&mount_lock);
	struct mount *c;
	while ((c = covering(*loc)) != NULL) {
		c->refs++;
		loc->m->refs--;
		loc->m = c;
		loc->ino = c->root;
	}
	spin_unlock(&mount_lock);
}

int mount_root(struct vloc *out)
{
	int rc = -ENOENT;
	spin_lock(&mount_lock);
	list_for_each(pos, &mount_list) {
		struct mount *m = list_entry(pos, struct mount, link);
		if (!m->parent) {
			m->refs++;
			out->m = m;
			out->ino = m->root;
			rc = 0;
			break;
		}
	}
	spin_unlock(&mount_lock);
	if (rc == 0)
		mount_cross(out);
	return rc;
}

bool mount_busy_at(struct vloc loc)
{
	if (loc.ino == loc.m->root)
		return true;
	spin_lock(&mount_lock);
	bool covered = covering(loc) != NULL;
	spin_unlock(&mount_lock);
	return covered;
}

/* Is dev already mounted? Caller holds mount_lock. */
static bool dev_in_use(struct blkdev *dev)
{
	list_for_each(pos, &mount_list)
		if (dev && list_entry(pos, struct mount, link)->fs->dev == dev)
			return true;
	return false;
}

int vfs_mount(const char *path, const char *fstype, struct blkdev *dev, unsigned flags)
{
	const struct fs_type *type = fstype ? find_type(fstype) : NULL;
	if (!type)
		return -ENODEV;
	if (flags & ~FS_MOUNT_RDONLY)
		return -EINVAL;
	if (!dev && type != &ramfs_fs_type)
		return -ENXIO;          /* every type but ramfs reads a device */
	spin_lock(&mount_lock);
	bool busy = dev_in_use(dev);
	spin_unlock(&mount_lock);
	if (busy)
		return -EBUSY;          /* two drivers on one disk would ruin it */

	/* Where: the first mount needs no directory under it. */
	struct walk_result w = { 0 };
	bool first;
	spin_lock(&mount_lock);
	first = list_empty(&mount_list);
	spin_unlock(&mount_lock);
	if (first) {
		if (!path || strcmp(path, "/") != 0)
			return -ENOENT;
	} else {
		int rc = path_walk(NULL, path, WALK_FOLLOW, &w);
		if (rc < 0)
			return rc;
		if (!S_ISDIR(w.mode)) {
			walk_done(&w);
			return -ENOTDIR;
		}
	}

	struct mount *m = kzalloc(sizeof(*m));
	struct fs *fs = NULL;
	int rc = m ? type->mount(dev, flags, &fs) : -ENOMEM;
	if (rc == 0 && (flags & FS_MOUNT_RDONLY))
		fs->read_only = true;
	if (rc == 0) {
		m->fs = fs;
		m->type = type;
		m->root = fs->ops->root(fs);
		list_init(&m->link);
		spin_lock(&mount_lock);
		if (dev_in_use(dev) || (first && !list_empty(&mount_list))) {
			rc = -EBUSY;
		} else {
			m->parent = first ? NULL : w.loc.m;
			m->mp_ino = first ? 0 : w.loc.ino;
			list_push_front(&mount_list, &m->link);
		}
		spin_unlock(&mount_lock);
		if (rc < 0)
			fs->ops->unmount(fs);
	}
	if (rc < 0)
		kfree(m);
	if (!first)
		walk_done(&w);
	return rc;
}

int vfs_unmount(const char *path)
{
	struct walk_result w = { 0 };
	int rc = path_walk(NULL, path, WALK_FOLLOW, &w);
	if (rc < 0)
		return rc;
	struct mount *m = w.loc.m;
	if (w.loc.ino != m->root) {
		walk_done(&w);
		return -EINVAL;
	}
	spin_lock(&mount_lock);
	bool has_children = false;
	list_for_each(pos, &mount_list)
		if (list_entry(pos, struct mount, link)->parent == m)
			has_children = true;
	if (m->refs != 1 || has_children) {
		rc = -EBUSY;
	} else {
		list_remove(&m->link);
		m->refs = 0;
	}
	spin_unlock(&mount_lock);
	if (rc < 0) {
		walk_done(&w);
		return rc;
	}
	rc = m->fs->ops->unmount(m->fs);
	kfree(m);
	return rc;
}

/* Take a reference on every mount, in an array the caller frees. */
static struct mount **mounts_snapshot(size_t *count)
{
	for (;;) {
		size_t n = 0;
		spin_lock(&mount_lock);
		list_for_each(pos, &mount_list)
			n++;
		spin_unlock(&mount_lock);
		struct mount **all = kmalloc((n ? n : 1) * sizeof(*all));
		if (!all)
			return NULL;
		size_t got = 0;
		spin_lock(&mount_lock);
		list_for_each(pos, &mount_list) {
			if (got == n) {
				got = n + 1;
				break;
			}
			all[got] = list_entry(pos, struct mount, link);
			all[got++]->refs++;
		}
		if (got <= n) {
			spin_unlock(&mount_lock);
			*count = got;
			return all;
		}
		for (size_t i = 0; i < n; i++)
			all[i]->refs--;
		spin_unlock(&mount_lock);
		kfree(all);
	}
}

int vfs_sync(void)
{
	size_t n;
	struct mount **all = mounts_snapshot(&n);
	if (!all)
		return -ENOMEM;
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		int r = all[i]->fs->read_only ? 0 : all[i]->fs->ops->sync(all[i]->fs);
		if (r < 0 && rc == 0)
			rc = r;
		mount_put(all[i]);
	}
	kfree(all);
	return rc;
}

int vfs_statfs(const char *path, struct vfs_statfs *out)
{
	struct walk_result w = { 0 };
	int rc = path_walk(NULL, path, WALK_FOLLOW, &w);
	if (rc < 0)
		return rc;
	memset(out, 0, sizeof(*out));
	rc = w.loc.m->fs->ops->statfs(w.loc.m->fs, out);
	out->read_only = w.loc.m->fs->read_only;
	walk_done(&w);
	return rc;
}

void vfs_owner(uint32_t *uid, uint32_t *gid)
{
	struct thread *t = thread_current();
	*uid = t->uid;
	*gid = t->gid;
}
