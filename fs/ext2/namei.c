/*
 * namei.c: the fs_ops that work on names and attributes: lookup, getattr,
 * setattr, mknod, mkdir, symlink, link, unlink, rmdir, rename, and the
 * VFS's inode references (iget/iput); fsync is fsync.c's.
 *
 * Each takes the fs lock for its whole length, holds its inodes with
 * ext2_iget/ext2_iput, and changes the disk in an order that a crash
 * leaves repairable: a new name is added before an old one is removed,
 * link counts err on the high side until the end.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "console.h"
#include "ext2.h"
#include "journal.h"

#define NAME_OK(len) ((len) >= 1 && (len) <= EXT2_NAME_LEN)

/* An inode number from the VFS: one it was given, or a stale or bogus one
 * (-ENOENT, not a corruption). */
static int get_ino(struct ext2_fs *fs, uint64_t ino, struct ext2_inode_info **out)
{
	if (ino > UINT32_MAX || !ext2_valid_ino(fs, (uint32_t)ino))
		return -ENOENT;
	return ext2_iget(fs, (uint32_t)ino, out);
}

/* A directory to change: exists, is a directory, still linked. */
static int get_dir(struct ext2_fs *fs, uint64_t ino, struct ext2_inode_info **out)
{
	int rc = get_ino(fs, ino, out);
	if (rc < 0)
		return rc;
	if (!S_ISDIR((*out)->mode))
		rc = -ENOTDIR;
	else if ((*out)->links == 0)
		rc = -ENOENT;
	if (rc < 0)
		ext2_iput(fs, *out);
	return rc;
}

static int put2(struct ext2_fs *fs, int rc, struct ext2_inode_info *a, struct ext2_inode_info *b)
{
	int r;
	if (b && (r = ext2_iput(fs, b)) < 0 && rc >= 0)
		rc = r;
	if (a && (r = ext2_iput(fs, a)) < 0 && rc >= 0)
		rc = r;
	return rc;
}

int ext2_vfs_iget(struct fs *vfs, uint64_t ino)
{
	struct ext2_fs *fs = EXT2(vfs);
	struct ext2_inode_info *ii;
	ext2_lock(fs);
	int rc = get_ino(fs, ino, &ii);
	ext2_unlock(fs);
	return rc;
}

void ext2_vfs_iput(struct fs *vfs, uint64_t ino)
{
	struct ext2_fs *fs = EXT2(vfs);
	ext2_lock(fs);
	struct ext2_inode_info *ii = ino <= UINT32_MAX ? ext2_ifind(fs, (uint32_t)ino) : NULL;
	if (ii)
		ext2_iput(fs, ii);
	else
		kprintf("ext2: iput of inode %lu that is not held\n", (unsigned long)ino);
	ext2_unlock(fs);
}

int ext2_lookup(struct fs *vfs, uint64_t dir, const char *name, size_t len, uint64_t *ino)
{
	struct ext2_fs *fs = EXT2(vfs);
	struct ext2_inode_info *d;
	if (!NAME_OK(len))
		return len ? -ENAMETOOLONG : -ENOENT;
	ext2_lock(fs);
	int rc = get_ino(fs, dir, &d);
	if (rc == 0) {
		uint32_t found = 0;
		if (!S_ISDIR(d->mode))
			rc = -ENOTDIR;
		else
			rc = ext2_dir_lookup(fs, d, name, len, &found);
		if (rc == 0)
			*ino = found;
		ext2_iput(fs, d);
	}
	ext2_unlock(fs);
	return rc;
}

/*
 * Device numbers: fs.h gives them in Linux's dev_t layout (glibc's makedev).
 * On disk a number that fits 8+8 bits takes the old encoding in i_block[0],
 * any other the new one in i_block[1], as Linux's ext2 writes them.
 */
static uint64_t decode_rdev(const struct ext2_inode_info *ii)
{
	uint32_t major, minor;
	if (ii->block[0]) {
		major = (ii->block[0] >> 8) & 0xff;
		minor = ii->block[0] & 0xff;
	} else {
		uint32_t x = ii->block[1];
		major = (x & 0xfff00) >> 8;
		minor = (x & 0xff) | ((x >> 12) & 0xfff00);
	}
	return ((uint64_t)minor & 0xff) | ((uint64_t)major << 8) | (((uint64_t)minor & ~0xffull) << 12);
}

static void encode_rdev(struct ext2_inode_info *ii, uint64_t rdev)
{
	uint32_t major = (uint32_t)((rdev >> 8) & 0xfff);
	uint32_t minor = (uint32_t)((rdev & 0xff) | ((rdev >> 12) & 0xfff00));
	if (major < 256 && minor < 256) {
		ii->block[0] = major << 8 | minor;
		ii->block[1] = 0;
	} else {
		ii->block[0] = 0;
		ii->block[1] = (minor & 0xff) | (major << 8) | ((minor & ~0xffu) << 12);
	}
}

int ext2_getattr(struct fs *vfs, uint64_t ino, struct vfs_stat *out)
{
	struct ext2_fs *fs = EXT2(vfs);
	struct ext2_inode_info *ii;
	ext2_lock(fs);
	int rc = get_ino(fs, ino, &ii);
	if (rc == 0) {
		memset(out, 0, sizeof(*out));
		out->ino = ii->ino;
		out->mode = ii->mode;
		out->nlink = ii->links;
		out->uid = ii->uid;
		out->gid = ii->gid;
		out->size = ii->size;
		out->blocks = ii->blocks;
		if (S_ISCHR(ii->mode) || S_ISBLK(ii->mode))
			out->rdev = decode_rdev(ii);
		out->blksize = fs->bsize;
		out->atime_ns = ext2_time_ns(&ii->atime);
		out->mtime_ns = ext2_time_ns(&ii->mtime);
		out->ctime_ns = ext2_time_ns(&ii->ctime);
		ext2_iput(fs, ii);
	}
	ext2_unlock(fs);
	return rc;
}

int ext2_setattr(struct fs *vfs, uint64_t ino, const struct vfs_setattr *attr)
{
	struct ext2_fs *fs = EXT2(vfs);
	struct ext2_inode_info *ii;
	bool sized = attr->mask & VFS_SET_SIZE;
	ext2_lock(fs);
	int rc = ext2_check_writable(fs);
	if (rc == 0)
		rc = get_ino(fs, ino, &ii);
	ext2_unlock(fs);
	if (rc < 0)
		return rc;
	if (sized)
		mutex_lock(&ii->io_lock);   /* no read or write of it meanwhile */
	ext2_lock(fs);
	rc = ext2_check_writable(fs);
	if (rc == 0 && sized) {
		if (S_ISDIR(ii->mode))
			rc = -EISDIR;
		else if (!S_ISREG(ii->mode))
			rc = -EINVAL;
		else if (attr->size > ext2_max_size(fs))
			rc = -EFBIG;
		if (rc == 0 && attr->size != ii->size) {
			if (attr->size > 0x7fffffffull &&
			    !(fs->ro_compat & EXT2_FEATURE_RO_COMPAT_LARGE_FILE)) {
				fs->ro_compat |= EXT2_FEATURE_RO_COMPAT_LARGE_FILE;
				st32(&fs->sb->s_feature_ro_compat, fs->ro_compat);
				ext2_sb_dirty(fs);
			}
			rc = ext2_truncate(fs, ii, attr->size);
			if (rc == 0)
				ext2_touch(ii, true, false);
		}
	}
	if (rc == 0) {
		if (attr->mask & VFS_SET_MODE)
			ii->mode = (uint16_t)((ii->mode & S_IFMT) | (attr->mode & 07777));
		if (attr->mask & VFS_SET_UID)
			ii->uid = attr->uid;
		if (attr->mask & VFS_SET_GID)
			ii->gid = attr->gid;
		/* Clamped to what the inode holds: 1901..2038, or 2446 with
		 * the extra fields. */
		if (attr->mask & VFS_SET_ATIME)
			ext2_time_set(&ii->atime, attr->atime_ns, EXT2_TIME_WIDE(ii, i_atime_extra));
		if (attr->mask & VFS_SET_MTIME)
			ext2_time_set(&ii->mtime, attr->mtime_ns, EXT2_TIME_WIDE(ii, i_mtime_extra));
		ext2_touch(ii, false, true);
	}
	if (ii->dirty) {
		int wrc = ext2_write_inode(fs, ii);
		if (rc == 0)
			rc = wrc;
	}
	ext2_unlock(fs);
	if (sized)
		mutex_unlock(&ii->io_lock);
	ext2_lock(fs);
	rc = put2(fs, rc, ii, NULL);
	ext2_unlock(fs);
	return rc;
}

/* Make a new inode of mode in directory d under name, with one link (two
 * and "." ".." for a directory); *out holds it (referenced). */
static int create(struct ext2_fs *fs, struct ext2_inode_info *d, const char *name, size_t len,
                  uint32_t mode, uint32_t uid, uint32_t gid, struct ext2_inode_info **out)
{
	uint32_t found;
	int rc = ext2_dir_lookup(fs, d, name, len, &found);
	if (rc == 0)
		return -EEXIST;
	if (rc != -ENOENT)
		return rc;
	bool is_dir = S_ISDIR(mode);
	if (is_dir && d->links >= EXT2_LINK_MAX)
		return -EMLINK;
	uint32_t ino;
	rc = ext2_new_inode(fs, d->ino, is_dir, &ino);
	if (rc < 0)
		return rc;
	struct ext2_inode_info *ii;
	rc = ext2_init_inode(fs, ino, mode, uid, gid, &ii);
	if (rc < 0) {
		ext2_free_inode_bit(fs, ino, is_dir);
		return rc;
	}
	ii->links = is_dir ? 2 : 1;
	if (is_dir)
		rc = ext2_dir_init(fs, ii, d->ino);
	if (rc == 0)
		rc = ext2_write_inode(fs, ii);
	if (rc == 0)
		rc = ext2_dir_add(fs, d, name, len, ino, mode);
	if (rc < 0) {
		ii->links = 0;      /* freed by the iput */
		ext2_iput(fs, ii);
		return rc;
	}
	if (is_dir) {
		d->links++;
		d->dirty = true;
	}
	*out = ii;
	return 0;
}

/*
 * begin_dir_change / end_dir_change: the frame of every change to a
 * directory under one name. begin checks the name's length, takes fs->lock,
 * checks the file system is writable and takes a reference on dir; on
 * failure it returns -errno with the lock released. end drops the
 * references (ii may be NULL), releases the lock and returns rc.
 */
static int begin_dir_change(struct ext2_fs *fs, uint64_t dir, size_t len,
                            struct ext2_inode_info **d)
{
	if (!NAME_OK(len))
		return -ENAMETOOLONG;
	ext2_lock(fs);
	int rc = ext2_check_writable(fs);
	if (rc == 0)
		rc = get_dir(fs, dir, d);
	if (rc < 0)
		ext2_unlock(fs);
	return rc;
}

static int end_dir_change(struct ext2_fs *fs, int rc, struct ext2_inode_info *d,
                          struct ext2_inode_info *ii)
{
	rc = put2(fs, rc, d, ii);
	ext2_unlock(fs);
	return rc;
}

int ext2_mknod(struct fs *vfs, uint64_t dir, const char *name, size_t len, uint32_t mode,
               uint64_t rdev, uint32_t uid, uint32_t gid, uint64_t *ino)
{
	struct ext2_fs *fs = EXT2(vfs);
	switch (mode & S_IFMT) {
	case S_IFREG: case S_IFCHR: case S_IFBLK: case S_IFIFO: case S_IFSOCK:
		break;
	case 0:
		mode |= S_IFREG;
		break;
	default:
		return -EINVAL;
	}
	struct ext2_inode_info *d, *ii = NULL;
	int rc = begin_dir_change(fs, dir, len, &d);
	if (rc < 0)
		return rc;
	rc = create(fs, d, name, len, mode & (S_IFMT | 07777), uid, gid, &ii);
	if (rc == 0) {
		if (S_ISCHR(mode) || S_ISBLK(mode)) {
			encode_rdev(ii, rdev);
			ii->dirty = true;
		}
		*ino = ii->ino;
	}
	return end_dir_change(fs, rc, d, ii);
}

int ext2_mkdir(struct fs *vfs, uint64_t dir, const char *name, size_t len, uint32_t mode,
               uint32_t uid, uint32_t gid, uint64_t *ino)
{
	struct ext2_fs *fs = EXT2(vfs);
	struct ext2_inode_info *d, *ii = NULL;
	int rc = begin_dir_change(fs, dir, len, &d);
	if (rc < 0)
		return rc;
	rc = create(fs, d, name, len, S_IFDIR | (mode & 07777), uid, gid, &ii);
	if (rc == 0)
		*ino = ii->ino;
	return end_dir_change(fs, rc, d, ii);
}

int ext2_symlink(struct fs *vfs, uint64_t dir, const char *name, size_t len,
                 const char *target, uint32_t uid, uint32_t gid, uint64_t *ino)
{
	struct ext2_fs *fs = EXT2(vfs);
	size_t tlen = strlen(target);
	if (tlen == 0)
		return -ENOENT;
	if (tlen >= fs->bsize)
		return -ENAMETOOLONG;
	struct ext2_inode_info *d, *ii = NULL;
	int rc = begin_dir_change(fs, dir, len, &d);
	if (rc < 0)
		return rc;
	rc = create(fs, d, name, len, S_IFLNK | 0777, uid, gid, &ii);
	if (rc == 0) {
		rc = ext2_symlink_write(fs, ii, target, tlen);
		if (rc < 0) {
			/* Undo: take the name away again; the iput frees the inode. */
			ext2_dir_remove(fs, d, name, len, NULL);
			ii->links = 0;
		} else {
			*ino = ii->ino;
		}
	}
	return end_dir_change(fs, rc, d, ii);
}

int ext2_link(struct fs *vfs, uint64_t ino, uint64_t dir, const char *name, size_t len)
{
	struct ext2_fs *fs = EXT2(vfs);
	struct ext2_inode_info *d, *ii = NULL;
	int rc = begin_dir_change(fs, dir, len, &d);
	if (rc < 0)
		return rc;
	rc = get_ino(fs, ino, &ii);
	if (rc < 0)
		return end_dir_change(fs, rc, d, NULL);
	uint32_t found;
	if (S_ISDIR(ii->mode))
		rc = -EPERM;
	else if (ii->links == 0)
		rc = -ENOENT;
	else if (ii->links >= EXT2_LINK_MAX)
		rc = -EMLINK;
	else if ((rc = ext2_dir_lookup(fs, d, name, len, &found)) == 0)
		rc = -EEXIST;
	else if (rc == -ENOENT)
		rc = ext2_dir_add(fs, d, name, len, ii->ino, ii->mode);
	if (rc == 0) {
		ii->links++;
		ext2_touch(ii, false, true);
	}
	return end_dir_change(fs, rc, d, ii);
}

/* Before a name of victim in directory d goes: its link count must agree
 * with what names it, else the removal would free an inode still named
 * elsewhere (or leave d counting a subdirectory that is gone). An empty
 * directory has exactly two (its entry and its "."), and its parent one
 * more than two for it; anything else has at least one. */
static int check_links(struct ext2_fs *fs, struct ext2_inode_info *d,
                       struct ext2_inode_info *victim)
{
	if (!S_ISDIR(victim->mode)) {
		if (victim->links == 0)
			return EXT2_CORRUPT(fs, "inode %u is named in directory %u but has no links",
			                    victim->ino, d->ino);
		return 0;
	}
	if (victim->links != 2)
		return EXT2_CORRUPT(fs, "empty directory %u has %u links, not 2", victim->ino,
		                    victim->links);
	if (d->links < 3)
		return EXT2_CORRUPT(fs, "directory %u has %u links but subdirectory %u", d->ino,
		                    d->links, victim->ino);
	return 0;
}

static int remove_name(struct fs *vfs, uint64_t dir, const char *name, size_t len, bool want_dir)
{
	struct ext2_fs *fs = EXT2(vfs);
	struct ext2_inode_info *d, *ii = NULL;
	int rc = begin_dir_change(fs, dir, len, &d);
	if (rc < 0)
		return rc;
	uint32_t ino;
	rc = ext2_dir_lookup(fs, d, name, len, &ino);
	if (rc == 0)
		rc = ext2_iget(fs, ino, &ii);
	if (rc < 0)
		return end_dir_change(fs, rc, d, NULL);
	if (want_dir && !S_ISDIR(ii->mode))
		rc = -ENOTDIR;
	else if (!want_dir && S_ISDIR(ii->mode))
		rc = -EISDIR;
	else if (want_dir && (rc = ext2_dir_is_empty(fs, ii)) >= 0)
		rc = rc ? 0 : -ENOTEMPTY;
	if (rc == 0)
		rc = check_links(fs, d, ii);
	if (rc == 0)
		rc = ext2_dir_remove(fs, d, name, len, NULL);
	if (rc == 0) {
		if (want_dir) {
			ii->links = 0;
			d->links--;
		} else {
			ii->links--;
		}
		ext2_touch(ii, false, true);
		d->dirty = true;
	}
	return end_dir_change(fs, rc, d, ii);
}

int ext2_unlink(struct fs *vfs, uint64_t dir, const char *name, size_t len)
{
	return remove_name(vfs, dir, name, len, false);
}

int ext2_rmdir(struct fs *vfs, uint64_t dir, const char *name, size_t len)
{
	return remove_name(vfs, dir, name, len, true);
}

/* Is directory anc an ancestor of (or equal to) directory d? Walks "..". */
static int is_ancestor(struct ext2_fs *fs, uint32_t anc, uint32_t d)
{
	uint32_t cur = d;
	for (uint32_t steps = 0; steps < 65536; steps++) {
		if (cur == anc)
			return 1;
		if (cur == EXT2_ROOT_INO)
			return 0;
		struct ext2_inode_info *ii;
		int rc = ext2_iget(fs, cur, &ii);
		if (rc < 0)
			return rc;
		uint32_t parent;
		rc = S_ISDIR(ii->mode) ? ext2_dir_lookup(fs, ii, "..", 2, &parent) : -ENOTDIR;
		ext2_iput(fs, ii);
		if (rc < 0)
			return rc == -ENOENT ? EXT2_CORRUPT(fs, "directory %u has no ..", cur) : rc;
		cur = parent;
	}
	return EXT2_CORRUPT(fs, "directory tree loops above %u", d);
}

int ext2_rename(struct fs *vfs, uint64_t from_dir, const char *from, size_t from_len,
                uint64_t to_dir, const char *to, size_t to_len)
{
	struct ext2_fs *fs = EXT2(vfs);
	if (!NAME_OK(from_len) || !NAME_OK(to_len))
		return -ENAMETOOLONG;
	struct ext2_inode_info *fd = NULL, *td = NULL, *src = NULL, *dst = NULL;
	ext2_lock(fs);
	int rc = ext2_check_writable(fs);
	if (rc == 0)
		rc = get_dir(fs, from_dir, &fd);
	if (rc < 0) {
		fd = NULL;
		goto out;
	}
	rc = get_dir(fs, to_dir, &td);
	if (rc < 0) {
		td = NULL;
		goto out;
	}
	uint32_t sino, dino = 0;
	rc = ext2_dir_lookup(fs, fd, from, from_len, &sino);
	if (rc == 0)
		rc = ext2_iget(fs, sino, &src);
	if (rc < 0) {
		src = NULL;
		goto out;
	}
	rc = ext2_dir_lookup(fs, td, to, to_len, &dino);
	if (rc == -ENOENT) {
		dino = 0;
		rc = 0;
	}
	if (rc < 0)
		goto out;
	if (sino == fd->ino || dino == td->ino) {
		rc = EXT2_CORRUPT(fs, "directory %u has an entry for itself", sino == fd->ino ?
		                  fd->ino : td->ino);
		goto out;
	}
	if (dino == sino) {
		rc = 0;             /* the same file: nothing to do */
		goto out;
	}
	bool is_dir = S_ISDIR(src->mode);
	if (dino) {
		rc = ext2_iget(fs, dino, &dst);
		if (rc < 0) {
			dst = NULL;
			goto out;
		}
		if (is_dir && !S_ISDIR(dst->mode)) {
			rc = -ENOTDIR;
			goto out;
		}
		if (!is_dir && S_ISDIR(dst->mode)) {
			rc = -EISDIR;
			goto out;
		}
		if (is_dir) {
			rc = ext2_dir_is_empty(fs, dst);
			if (rc <= 0) {
				rc = rc < 0 ? rc : -ENOTEMPTY;
				goto out;
			}
		}
		rc = check_links(fs, td, dst);
		if (rc < 0)
			goto out;
	}
	if (is_dir && fd != td) {
		rc = is_ancestor(fs, src->ino, td->ino);
		if (rc != 0) {
			rc = rc > 0 ? -EINVAL : rc;
			goto out;
		}
		if (!dst && td->links >= EXT2_LINK_MAX) {
			rc = -EMLINK;
			goto out;
		}
		if (fd->links < 3) {
			rc = EXT2_CORRUPT(fs, "directory %u has %u links but subdirectory %u",
			                  fd->ino, fd->links, src->ino);
			goto out;
		}
	}

	/* The new name first, then the old one goes. */
	if (dst)
		rc = ext2_dir_set(fs, td, to, to_len, src->ino, src->mode);
	else
		rc = ext2_dir_add(fs, td, to, to_len, src->ino, src->mode);
	if (rc < 0)
		goto out;
	rc = ext2_dir_remove(fs, fd, from, from_len, NULL);
	if (rc < 0)
		goto out;
	if (dst) {
		if (S_ISDIR(dst->mode)) {
			dst->links = 0;
			td->links--;
		} else {
			dst->links--;
		}
		ext2_touch(dst, false, true);
	}
	if (is_dir)
		ext2_note_dir_moved(fs);    /* every path under it changed (fsync.c) */
	if (is_dir && fd != td) {
		rc = ext2_dir_set(fs, src, "..", 2, td->ino, S_IFDIR);
		fd->links--;
		td->links++;
	}
	ext2_touch(src, false, true);
	fd->dirty = td->dirty = true;
out:
	rc = put2(fs, rc, src, dst);
	rc = put2(fs, rc, fd, td);
	ext2_unlock(fs);
	return rc;
}
