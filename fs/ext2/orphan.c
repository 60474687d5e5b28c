/*
 * orphan.c: the orphan list (ext3's s_last_orphan), for inodes whose last
 * name is gone while something still holds them (an open file, a FUSE
 * lookup), on a journalled file system.
 *
 * Without a journal an unlinked inode keeps its old link count on disk
 * until its release (deferred.c), which ordered write-back makes safe. With
 * a journal the name's removal commits at once, and so must the inode's
 * link count: else a crash before the release leaves an unnamed inode in
 * use (for a directory, one whose ".." its parent no longer counts). So the
 * inode is written with no links and put on the orphan list in the same
 * transaction; the release takes it off in the transaction that frees it.
 *
 * On disk: s_last_orphan names the newest orphan, and each orphan's i_dtime
 * the next one (0 ends the list). In memory, fs->orphans holds the same
 * inodes in the same order (each is referenced, so it stays in memory), and
 * ii->orphan_next the i_dtime written for it. At mount, a list left by a
 * crash is finished: inodes without links are freed, the others (ext3's
 * truncate orphans) lose the blocks past their size. Guarded by the fs lock.
 */
#include <errno.h>

#include "blkdev.h"
#include "ext2.h"

bool ext2_orphan_listed(const struct ext2_inode_info *ii)
{
	return list_linked(&ii->orphan_link);
}

void ext2_orphan_add(struct ext2_fs *fs, struct ext2_inode_info *ii)
{
	EXT2_ASSERT_LOCKED(fs);
	if (ext2_orphan_listed(ii))
		return;
	ii->orphan_next = ld32(fs->sb->s_last_orphan);
	st32(&fs->sb->s_last_orphan, ii->ino);
	ext2_sb_dirty(fs);
	list_push_front(&fs->orphans, &ii->orphan_link);
}

int ext2_orphan_del(struct ext2_fs *fs, struct ext2_inode_info *ii)
{
	EXT2_ASSERT_LOCKED(fs);
	if (!ext2_orphan_listed(ii))
		return 0;
	int rc = 0;
	struct list *prev = ii->orphan_link.prev;
	if (prev == &fs->orphans) {
		st32(&fs->sb->s_last_orphan, ii->orphan_next);
		ext2_sb_dirty(fs);
	} else {
		struct ext2_inode_info *newer = list_entry(prev, struct ext2_inode_info, orphan_link);
		newer->orphan_next = ii->orphan_next;
		rc = ext2_write_inode(fs, newer);
	}
	list_remove(&ii->orphan_link);
	list_init(&ii->orphan_link);
	ii->orphan_next = 0;
	return rc;
}

/* Read the list a crash left into fs->orphans (a reference on each). */
static int load(struct ext2_fs *fs)
{
	uint32_t ino = ld32(fs->sb->s_last_orphan);
	for (uint32_t n = 0; ino; n++) {
		if (n >= fs->inodes_count || ino < fs->first_ino || !ext2_valid_ino(fs, ino))
			return EXT2_CORRUPT(fs, "orphan list is damaged at inode %u", ino);
		struct ext2_inode_info *ii;
		int rc = ext2_iget_orphan(fs, ino, &ii);
		if (rc < 0)
			return rc;
		if (ext2_orphan_listed(ii)) {
			ext2_iput(fs, ii);
			return EXT2_CORRUPT(fs, "orphan list loops at inode %u", ino);
		}
		ii->orphan_next = ii->dtime;    /* on disk, the next orphan */
		ii->dtime = 0;
		list_push_back(&fs->orphans, &ii->orphan_link);
		ino = ii->orphan_next;
	}
	return 0;
}

int ext2_orphan_recover(struct ext2_fs *fs)
{
	EXT2_ASSERT_LOCKED(fs);
	if (!ld32(fs->sb->s_last_orphan))
		return 0;
	int rc = load(fs);
	unsigned freed = 0, truncated = 0;
	/* The releases wait (deferred.c): each inode stays listed until its own. */
	for (struct list *l = fs->orphans.next; l != &fs->orphans;) {
		struct ext2_inode_info *ii = list_entry(l, struct ext2_inode_info, orphan_link);
		l = l->next;
		int orc = 0;
		if (ii->links) {
			/* A truncate that a crash cut short. */
			orc = ext2_truncate(fs, ii, ii->size);
			truncated++;
			if (orc == 0)
				orc = ext2_orphan_del(fs, ii);
		} else {
			freed++;    /* the release (ext2_iput) takes it off the list */
		}
		ii->dirty = true;
		int prc = ext2_iput(fs, ii);
		rc = rc ? rc : orc ? orc : prc;
	}
	if (rc == 0) {
		st32(&fs->sb->s_last_orphan, 0);   /* a damaged list's tail goes too */
		ext2_sb_dirty(fs);
	}
	kprintf("ext2: %s: orphan list: %u inodes freed, %u truncated%s\n", fs->vfs.dev->name,
	        freed, truncated, rc < 0 ? " (stopped by an error)" : "");
	return rc;
}
