/*
 * vfs_path.c: path resolution (path_walk).
 *
 * A walk keeps the directories it went through on a stack, from "/" (or the
 * directory a relative walk starts from) down to the current one, each
 * entry holding a mount reference: ".." pops (and so crosses back out of a
 * mount, since a mount's root sits on the stack right above the directory
 * it covers; it never pops the first entry), "." stays, a name is looked up
 * in the driver and pushed, after moving onto whatever is mounted there. A
 * symbolic link is spliced in front of the rest of the path (an absolute one
 * starts again from "/"), at most VFS_SYMLOOP_MAX times per walk. Drivers
 * never see "." or ".." (fs.h).
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "alloc.h"
#include "vfs_impl.h"

struct walk {
	struct vloc *stack;         /* stack[depth - 1]: the current directory */
	size_t depth, cap;
	char *buf[2];               /* the rest of the path after a link */
	int cur;                    /* which buf the rest is in */
	int links;
};

int loc_mode(struct vloc loc, uint32_t *mode)
{
	struct vfs_stat st;
	int rc = loc.m->fs->ops->getattr(loc.m->fs, loc.ino, &st);
	if (rc == 0)
		*mode = st.mode;
	return rc;
}

/* Push loc, whose mount reference passes to the stack. */
static int push(struct walk *w, struct vloc loc)
{
	if (w->depth == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 16;
		struct vloc *s = kmalloc(cap * sizeof(*s));
		if (!s) {
			mount_put(loc.m);
			return -ENOMEM;
		}
		if (w->stack)
			memcpy(s, w->stack, w->depth * sizeof(*s));
		kfree(w->stack);
		w->stack = s;
		w->cap = cap;
	}
	w->stack[w->depth++] = loc;
	return 0;
}

static void pop(struct walk *w)
{
	mount_put(w->stack[--w->depth].m);
}

static void walk_free(struct walk *w)
{
	while (w->depth)
		pop(w);
	kfree(w->stack);
	kfree(w->buf[0]);
	kfree(w->buf[1]);
}

/*
 * Follow the link at loc: the new rest of the path is its target followed by
 * rest. Returns the new rest through *out, or -errno.
 */
static int follow(struct walk *w, struct vloc loc, const char *rest, const char **out)
{
	if (++w->links > VFS_SYMLOOP_MAX)
		return -ELOOP;
	int next = !w->cur;
	if (!w->buf[next]) {
		w->buf[next] = kmalloc(VFS_PATH_MAX);
		if (!w->buf[next])
			return -ENOMEM;
	}
	char *b = w->buf[next];
	ssize_t n = loc.m->fs->ops->readlink(loc.m->fs, loc.ino, b, VFS_PATH_MAX);
	if (n < 0)
		return (int)n;
	if (n == 0)
		return -ENOENT;
	size_t rlen = strlen(rest);
	if ((size_t)n + rlen >= VFS_PATH_MAX)
		return -ENAMETOOLONG;
	memmove(b + n, rest, rlen + 1);
	w->cur = next;
	*out = b;
	if (b[0] != '/')
		return 0;
	/* Absolute: from "/" again, even in a walk that began elsewhere. */
	while (w->depth > 0)
		pop(w);
	struct vloc root;
	int rc = mount_root(&root);
	return rc < 0 ? rc : push(w, root);
}

static void set_result(struct walk *w, struct walk_result *res, uint32_t mode)
{
	res->loc = w->stack[w->depth - 1];
	mount_get(res->loc.m);
	res->mode = mode;
	res->hit_avoid = false;
	if (res->avoid.m)
		for (size_t i = 0; i < w->depth; i++)
			if (loc_eq(w->stack[i], res->avoid))
				res->hit_avoid = true;
}

/* A lookup in dir needs search permission (root needs none on a directory). */
static int may_search(struct vloc dir)
{
	return vfs_is_root() ? 0 : vfs_loc_permission(dir, VFS_MAY_EXEC);
}

int path_walk(struct vnode *dir, const char *path, unsigned flags, struct walk_result *res)
{
	if (!path)
		return -EFAULT;
	size_t plen = strnlen(path, VFS_PATH_MAX);
	if (plen == 0)
		return -ENOENT;
	if (plen >= VFS_PATH_MAX)
		return -ENAMETOOLONG;

	struct walk w = { 0 };
	struct vloc start;
	int rc = 0;
	if (dir && path[0] != '/') {
		uint32_t mode = 0;
		start = vnode_loc(dir);
		rc = loc_mode(start, &mode);
		if (rc == 0 && !S_ISDIR(mode))
			rc = -ENOTDIR;  /* else "." would name a file as a directory */
		if (rc < 0)
			return rc;
		mount_get(start.m);
	} else {
		rc = mount_root(&start);
	}
	if (rc < 0)
		return rc;
	rc = push(&w, start);
	uint32_t mode = S_IFDIR;
	res->len = 0;
	res->dot = res->trailing_slash = false;
	const char *p = path;
	while (rc == 0) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		const char *comp = p;
		while (*p && *p != '/')
			p++;
		size_t len = (size_t)(p - comp);
		if (len > VFS_NAME_MAX) {
			rc = -ENAMETOOLONG;
			break;
		}
		const char *q = p;
		while (*q == '/')
			q++;
		bool last = !*q, trailing = last && q != p;
		bool dot = len == 1 && comp[0] == '.';
		bool dotdot = len == 2 && comp[0] == '.' && comp[1] == '.';
		if (last && (flags & WALK_PARENT)) {
			if ((rc = may_search(w.stack[w.depth - 1])) < 0)
				break;
			memcpy(res->name, comp, len);
			res->name[len] = '\0';
			res->len = len;
			res->dot = dot || dotdot;
			res->trailing_slash = trailing;
			mode = S_IFDIR;
			break;
		}
		if (dot || dotdot) {
			if (dotdot && w.depth > 1)
				pop(&w);
			mode = S_IFDIR;
			continue;
		}
		struct vloc dir = w.stack[w.depth - 1], child = { dir.m, 0 };
		if ((rc = may_search(dir)) < 0)
			break;
		rc = dir.m->fs->ops->lookup(dir.m->fs, dir.ino, comp, len, &child.ino);
		if (rc < 0)
			break;
		mount_get(child.m);
		mount_cross(&child);
		uint32_t cmode = 0;
		rc = loc_mode(child, &cmode);
		if (rc == 0 && S_ISLNK(cmode) && (!last || trailing || (flags & WALK_FOLLOW))) {
			rc = follow(&w, child, p, &p);
			mount_put(child.m);
			mode = S_IFDIR;
			continue;
		}
		if (rc == 0 && !S_ISDIR(cmode) && (!last || trailing))
			rc = -ENOTDIR;
		if (rc < 0) {
			mount_put(child.m);
			break;
		}
		rc = push(&w, child);
		mode = cmode;
	}
	if (rc == 0)
		set_result(&w, res, mode);
	walk_free(&w);
	return rc;
}

void walk_done(struct walk_result *res)
{
	if (res->loc.m)
		mount_put(res->loc.m);
	res->loc.m = NULL;
}
