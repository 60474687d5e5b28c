/*
 * web_files.c: the name-by-name walk of web_files.h over the VFS's held
 * files (vfs_node_at without following links).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "http_mime.h"
#include "vfs.h"
#include "web_files.h"

static int status_of(int err)
{
	switch (err) {
	case -ENOENT: case -ENOTDIR: case -ENAMETOOLONG: case -EACCES: case -ELOOP:
		return -404;
	}
	return -500;
}

/* Hold the entry name of directory dir, refusing links; *st its attributes. */
static int step(struct vnode *dir, const char *name, struct vnode **out, struct vfs_stat *st)
{
	struct vnode *vn;
	int rc = vfs_node_at(dir, name, false, &vn);
	if (rc < 0)
		return status_of(rc);
	rc = vfs_node_stat(vn, st);
	if (rc < 0 || S_ISLNK(st->mode)) {
		vfs_node_put(vn);
		return rc < 0 ? status_of(rc) : -404;
	}
	*out = vn;
	return 0;
}

int web_open(struct vnode *root, const struct http_path *path, struct web_file *out)
{
	struct vnode *cur = root;
	struct vfs_stat st;
	char name[VFS_NAME_MAX + 1];
	const char *p = path->rel;
	int rc = vfs_node_stat(root, &st);
	if (rc < 0)
		return status_of(rc);
	vfs_node_hold(root);
	while (*p) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		if (!S_ISDIR(st.mode) || n > VFS_NAME_MAX) {
			rc = -404;
			goto out;
		}
		memcpy(name, p, n);
		name[n] = '\0';
		struct vnode *next;
		rc = step(cur, name, &next, &st);
		if (rc < 0)
			goto out;
		vfs_node_put(cur);
		cur = next;
		p += n + (slash ? 1 : 0);
	}
	const char *type_name = path->rel;
	if (S_ISDIR(st.mode)) {
		if (!path->trailing_slash && path->rel[0]) {
			rc = -301;
			goto out;
		}
		struct vnode *index;
		rc = step(cur, WEB_INDEX, &index, &st);
		if (rc < 0)
			goto out;
		vfs_node_put(cur);
		cur = index;
		type_name = WEB_INDEX;
	} else if (path->trailing_slash) {
		rc = -404;      /* "file.html/" names a directory that is not there */
		goto out;
	}
	if (!S_ISREG(st.mode)) {
		rc = -404;
		goto out;
	}
	rc = vfs_node_open(cur, O_RDONLY);
	if (rc < 0) {
		rc = status_of(rc);
		goto out;
	}
	out->fd = rc;
	out->st = st;
	out->content_type = http_mime_type(type_name);
	rc = 0;
out:
	vfs_node_put(cur);
	return rc;
}
