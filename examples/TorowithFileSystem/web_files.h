/*
 * web_files.h: the file a normalised path names under the web root.
 *
 * The path is walked one name at a time from the held root directory, and
 * nothing is followed: a symbolic link anywhere on the way is "not found",
 * so no link (absolute or relative) can lead out of the root, and what is
 * served is what the names say. A directory answers with its index.html
 * (with a trailing slash; without one the client is redirected to it, so
 * its relative links resolve), never with a listing.
 */
#ifndef WEB_FILES_H
#define WEB_FILES_H

#include "http_path.h"
#include "toro.h"

#define WEB_INDEX "index.html"

struct web_file {
	THandle fd;                     /* open for reading; the caller closes it */
	struct vfs_stat st;
	const char *content_type;
};

/* web_open: 0 with *out; -301 for a directory named without its trailing
 * slash; -404 when there is no regular file there (or a link is on the
 * way); -500 for an error of the file system (-EIO ...). */
int web_open(struct vnode *root, const struct http_path *path, struct web_file *out);

#endif
