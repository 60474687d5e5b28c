/*
 * super.c: mounting ext2 (ext2_fs_type), the superblock and the group
 * descriptors, unmount, statfs and sync.
 *
 * Mount reads and checks the superblock and every group descriptor once;
 * from then on the superblock block and the descriptor blocks stay pinned in
 * the block cache and are changed in place (ext2_gd, ext2_sb_update_counts).
 * A read-write mount clears EXT2_VALID_FS on disk at once; unmount restores
 * the state found at mount (plus EXT2_ERROR_FS if errors were seen).
 */
#include <errno.h>
#include <string.h>

#include "alloc.h"
#include "blkdev.h"
#include "console.h"
#include "ext2.h"
#include "hal.h"
#include "jbd2.h"
#include "journal.h"

#define EXT2_CACHE_BYTES (32u << 20)
#define EXT2_COMMIT_MS 5000     /* journal commit interval, as ext3's default */

uint32_t ext2_now(void)
{
	return (uint32_t)(hal_realtime_ns() / 1000000000);
}

int64_t ext2_now_ns(void)
{
	return hal_realtime_ns();
}

int ext2_check_writable(struct ext2_fs *fs)
{
	return fs->vfs.read_only ? -EROFS : 0;
}

static bool is_power_of(uint32_t n, uint32_t base)
{
	while (n > 1 && n % base == 0)
		n /= base;
	return n == 1;
}

bool ext2_group_has_super(struct ext2_fs *fs, uint32_t group)
{
	if (!(fs->ro_compat & EXT2_FEATURE_RO_COMPAT_SPARSE_SUPER))
		return true;
	return group <= 1 || is_power_of(group, 3) || is_power_of(group, 5) || is_power_of(group, 7);
}

uint32_t ext2_group_first_block(struct ext2_fs *fs, uint32_t group)
{
	return fs->first_data_block + group * fs->blocks_per_group;
}

uint32_t ext2_group_nblocks(struct ext2_fs *fs, uint32_t group)
{
	if (group == fs->ngroups - 1)
		return fs->blocks_count - ext2_group_first_block(fs, group);
	return fs->blocks_per_group;
}

/* The first block of group g past its superblock and descriptor copies
 * (group 0: also past the boot block and the primary superblock). */
uint32_t ext2_group_meta_end(struct ext2_fs *fs, uint32_t group)
{
	uint32_t first = ext2_group_first_block(fs, group);
	uint32_t end = first + (ext2_group_has_super(fs, group) ?
	                        1 + fs->gdt_blocks + fs->reserved_gdt : 0);
	if (group == 0 && end < EXT2_SB_OFFSET / fs->bsize + 1 + fs->gdt_blocks)
		end = EXT2_SB_OFFSET / fs->bsize + 1 + fs->gdt_blocks;
	return end;
}

struct ext2_group_desc *ext2_gd(struct ext2_fs *fs, uint32_t group)
{
	struct buf *b = fs->gd_bufs[group / fs->desc_per_block];
	return (struct ext2_group_desc *)b->data + group % fs->desc_per_block;
}

void ext2_gd_dirty(struct ext2_fs *fs, uint32_t group)
{
	bdirty_kind(fs->gd_bufs[group / fs->desc_per_block], BK_EARLY);
}

void ext2_sb_dirty(struct ext2_fs *fs)
{
	bdirty_kind(fs->sb_buf, BK_EARLY);
}

void ext2_sb_update_counts(struct ext2_fs *fs)
{
	st32(&fs->sb->s_free_blocks_count, fs->free_blocks);
	st32(&fs->sb->s_free_inodes_count, fs->free_inodes);
	ext2_sb_dirty(fs);
}

/* ---- Checking what we read ------------------------------------------------ */

static int check_super(struct ext2_fs *fs, const struct ext2_super_block *sb,
                       struct blkdev *dev, unsigned *flags)
{
	const char *name = dev->name;
	if (ld16(sb->s_magic) != EXT2_SUPER_MAGIC) {
		kprintf("ext2: %s: no ext2 file system (bad magic)\n", name);
		return -EINVAL;
	}
	fs->rev = ld32(sb->s_rev_level);
	if (fs->rev > EXT2_DYNAMIC_REV) {
		kprintf("ext2: %s: revision %u not supported\n", name, fs->rev);
		return -EINVAL;
	}
	uint32_t log = ld32(sb->s_log_block_size);
	if (log > EXT2_MAX_BLOCK_LOG - EXT2_MIN_BLOCK_LOG) {
		kprintf("ext2: %s: block size 1024<<%u not supported\n", name, log);
		return -EINVAL;
	}
	fs->log_bsize = EXT2_MIN_BLOCK_LOG + log;
	fs->bsize = 1u << fs->log_bsize;
	fs->addr_per_block = fs->bsize / 4;
	if (fs->bsize < dev->sector_size) {
		kprintf("ext2: %s: block size %u below the sector size\n", name, fs->bsize);
		return -EINVAL;
	}
	fs->blocks_count = ld32(sb->s_blocks_count);
	fs->inodes_count = ld32(sb->s_inodes_count);
	fs->first_data_block = ld32(sb->s_first_data_block);
	fs->blocks_per_group = ld32(sb->s_blocks_per_group);
	fs->inodes_per_group = ld32(sb->s_inodes_per_group);
	fs->r_blocks = ld32(sb->s_r_blocks_count);
	if (fs->rev == EXT2_GOOD_OLD_REV) {
		fs->inode_size = EXT2_GOOD_OLD_INODE_SIZE;
		fs->first_ino = EXT2_GOOD_OLD_FIRST_INO;
		fs->compat = fs->incompat = fs->ro_compat = 0;
	} else {
		fs->inode_size = ld16(sb->s_inode_size);
		fs->first_ino = ld32(sb->s_first_ino);
		fs->compat = ld32(sb->s_feature_compat);
		fs->incompat = ld32(sb->s_feature_incompat);
		fs->ro_compat = ld32(sb->s_feature_ro_compat);
	}

	if ((fs->incompat & EXT3_FEATURE_INCOMPAT_RECOVER) &&
	    !(fs->compat & EXT3_FEATURE_COMPAT_HAS_JOURNAL)) {
		kprintf("ext2: %s: needs journal recovery but has no journal; mount refused\n",
		        name);
		return -EINVAL;
	}
	/* needs_recovery with a journal: the mount replays it (open_journal). */
	uint32_t unsupported = fs->incompat & ~(EXT2_INCOMPAT_SUPP | EXT3_FEATURE_INCOMPAT_RECOVER);
	if (unsupported) {
		ext2_report_features(name, unsupported,
		                     fs->ro_compat & ~EXT2_RO_COMPAT_SUPP, true);
		return -EOPNOTSUPP;
	}
	if ((fs->ro_compat & ~EXT2_RO_COMPAT_SUPP) && !(*flags & FS_MOUNT_RDONLY)) {
		ext2_report_features(name, 0, fs->ro_compat & ~EXT2_RO_COMPAT_SUPP, false);
		*flags |= FS_MOUNT_RDONLY;
	}

	if (fs->first_data_block != (fs->bsize == 1024 ? 1u : 0u) ||
	    fs->blocks_per_group == 0 || fs->blocks_per_group > 8 * fs->bsize ||
	    fs->blocks_per_group > EXT2_MAX_GROUP_COUNT ||
	    fs->inodes_per_group == 0 || fs->inodes_per_group > 8 * fs->bsize ||
	    fs->inodes_per_group > EXT2_MAX_GROUP_COUNT ||
	    fs->blocks_count <= fs->first_data_block + 1 || fs->inodes_count < EXT2_ROOT_INO ||
	    fs->inode_size < EXT2_GOOD_OLD_INODE_SIZE || fs->inode_size > fs->bsize ||
	    (fs->inode_size & (fs->inode_size - 1)) ||
	    fs->first_ino <= EXT2_ROOT_INO || fs->first_ino > fs->inodes_count) {
		kprintf("ext2: %s: superblock geometry is corrupt\n", name);
		return -EINVAL;
	}
	fs->ngroups = (fs->blocks_count - fs->first_data_block + fs->blocks_per_group - 1) /
	              fs->blocks_per_group;
	if ((uint64_t)fs->ngroups * fs->inodes_per_group < fs->inodes_count) {
		kprintf("ext2: %s: inode count %u does not fit %u groups\n", name,
		        fs->inodes_count, fs->ngroups);
		return -EINVAL;
	}
	if ((uint64_t)fs->blocks_count * (fs->bsize / dev->sector_size) > dev->sectors) {
		kprintf("ext2: %s: file system (%u blocks) larger than the device\n", name,
		        fs->blocks_count);
		return -EINVAL;
	}
	fs->desc_per_block = fs->bsize / sizeof(struct ext2_group_desc);
	fs->gdt_blocks = (fs->ngroups + fs->desc_per_block - 1) / fs->desc_per_block;
	fs->reserved_gdt = (fs->compat & EXT2_FEATURE_COMPAT_RESIZE_INODE)
	                   ? ld16(sb->s_reserved_gdt_blocks) : 0;
	fs->itb_per_group = (uint32_t)(((uint64_t)fs->inodes_per_group * fs->inode_size +
	                                fs->bsize - 1) / fs->bsize);
	if (fs->first_data_block + 1 + fs->gdt_blocks >= fs->blocks_count) {
		kprintf("ext2: %s: group descriptors past the end\n", name);
		return -EINVAL;
	}
	fs->want_extra_isize = 0;
	if (fs->inode_size > EXT2_GOOD_OLD_INODE_SIZE) {
		uint16_t want = ld16(sb->s_want_extra_isize);
		uint16_t min = ld16(sb->s_min_extra_isize);
		if (want < min)
			want = min;
		if (want == 0 || want % 4 || want > fs->inode_size - EXT2_GOOD_OLD_INODE_SIZE)
			want = 32 <= fs->inode_size - EXT2_GOOD_OLD_INODE_SIZE ? 32 : 4;
		fs->want_extra_isize = want;
	}
	fs->errors_policy = ld16(sb->s_errors);
	if (fs->errors_policy < EXT2_ERRORS_CONTINUE || fs->errors_policy > EXT2_ERRORS_PANIC)
		fs->errors_policy = EXT2_ERRORS_CONTINUE;
	return 0;
}

/* Check every descriptor (STYLE.md 6): the inode table inside the group
 * (without it no file can be read); sum the free counts. The bitmaps and
 * the counts are ext2_check_allocation's: when only they are wrong, the
 * files can still be read. */
static int check_groups(struct ext2_fs *fs)
{
	uint64_t free_blocks = 0, free_inodes = 0;
	for (uint32_t g = 0; g < fs->ngroups; g++) {
		struct ext2_group_desc *gd = ext2_gd(fs, g);
		uint32_t first = ext2_group_first_block(fs, g);
		uint32_t last = first + ext2_group_nblocks(fs, g) - 1;
		uint32_t bb = ld32(gd->bg_block_bitmap), ib = ld32(gd->bg_inode_bitmap);
		uint32_t it = ld32(gd->bg_inode_table);
		uint32_t meta_end = ext2_group_meta_end(fs, g);
		if (it < meta_end || it > last || fs->itb_per_group - 1 > last - it) {
			kprintf("ext2: %s: group descriptor %u: inode table at %u is outside the "
			        "group; not mountable (e2fsck -f)\n", fs->vfs.dev->name, g, it);
			return -EIO;
		}
		fs->groups[g].block_bitmap = bb;
		fs->groups[g].inode_bitmap = ib;
		fs->groups[g].inode_table = it;
		fs->groups[g].bitmap_checked = false;
		free_blocks += ld16(gd->bg_free_blocks_count);
		free_inodes += ld16(gd->bg_free_inodes_count);
	}
	/* Per group, ext2_check_allocation compares them with the bitmaps. */
	fs->free_blocks = (uint32_t)(free_blocks < fs->blocks_count ? free_blocks : fs->blocks_count);
	fs->free_inodes = (uint32_t)(free_inodes < fs->inodes_count ? free_inodes : fs->inodes_count);
	return 0;
}

/* Damaged allocation metadata (check.c): the files can be read but a write
 * would spread the damage, so only a read-only mount, as fuse2fs does. */
static int check_damage(struct ext2_fs *fs)
{
	int rc = ext2_check_allocation(fs);
	if (rc < 0 || !fs->damage[0])
		return rc;
	const char *dev = fs->vfs.dev->name;
	if (!fs->vfs.read_only) {
		kprintf("ext2: %s: %s; read-write mount refused (mount it read-only to copy "
		        "files out; e2fsck -f repairs it)\n", dev, fs->damage);
		return -EROFS;
	}
	kprintf("ext2: %s: %s; mounted read-only (e2fsck -f repairs it)\n", dev, fs->damage);
	return 0;
}

/* ---- Mount and unmount ---------------------------------------------------- */

/* Replay the journal if the file system needs it (a writable device is
 * needed for that, even for a read-only mount, as Linux does), then check
 * again what the replay may have rewritten: the superblock and the group
 * descriptors. A log with contents but no needs_recovery is dropped, as
 * Linux does (its transactions were written home already). */
static int open_journal(struct ext2_fs *fs, unsigned *flags)
{
	struct blkdev *dev = fs->vfs.dev;
	if (ld32(fs->sb->s_journal_inum) == 0) {
		bool external = ld32(fs->sb->s_journal_dev) != 0;
		kprintf("ext2: %s: %s; mount refused\n", dev->name, external ?
		        "external journal devices are not supported" :
		        "has_journal without a journal inode");
		return external ? -EOPNOTSUPP : -EINVAL;
	}
	bool ro_only = false;
	int rc = ext2_journal_load(fs, &fs->journal, &ro_only);
	if (rc < 0)
		return rc;
	if (ro_only)
		fs->vfs.read_only = true;
	bool recover = fs->incompat & EXT3_FEATURE_INCOMPAT_RECOVER;
	if (!recover && (fs->journal->start == 0 || fs->vfs.read_only))
		return 0;
	if (recover && (dev->read_only || ro_only)) {
		kprintf("ext2: %s: needs journal recovery but cannot write it; mount refused\n",
		        dev->name);
		return -EROFS;
	}
	if (recover) {
		unsigned bad;
		uint32_t ngroups = fs->ngroups;
		rc = ext2_journal_recover(fs->journal, &bad);
		if (rc == 0 && bad)
			fs->had_errors = true;
		if (rc == 0)
			rc = check_super(fs, fs->sb, dev, flags);
		if (rc == 0 && fs->ngroups != ngroups) {
			kprintf("ext2: %s: the journal changed the number of groups\n", dev->name);
			rc = -EIO;
		}
		if (rc == 0)
			rc = check_groups(fs);
	} else {
		kprintf("ext2: %s: journal holds transactions but recovery is not flagged; "
		        "clearing it\n", dev->name);
		rc = ext2_journal_mark_empty(fs->journal, fs->journal->sequence + 1);
	}
	if (rc < 0)
		return rc;
	fs->incompat &= ~EXT3_FEATURE_INCOMPAT_RECOVER;
	st32(&fs->sb->s_feature_incompat, fs->incompat);
	ext2_sb_dirty(fs);
	return bcache_flush(fs->bc);
}

static void release(struct ext2_fs *fs)
{
	if (fs->gd_bufs) {
		for (uint32_t i = 0; i < fs->gdt_blocks; i++)
			if (fs->gd_bufs[i])
				bput(fs->gd_bufs[i]);
		kfree(fs->gd_bufs);
	}
	if (fs->sb_buf)
		bput(fs->sb_buf);
	ext2_journal_free(fs->journal);
	bcache_destroy(fs->bc);
	kfree(fs->deferred);
	kfree(fs->groups);
	kfree(fs->bad);
	kfree(fs);
}

static int ext2_mount(struct blkdev *dev, unsigned flags, struct fs **out)
{
	if (!dev)
		return -EINVAL;
	if (dev->read_only)
		flags |= FS_MOUNT_RDONLY;
	uint32_t count = (EXT2_SB_OFFSET + EXT2_SB_SIZE + dev->sector_size - 1) / dev->sector_size;
	if (dev->sectors < count)
		return -EINVAL;
	uint8_t *raw = kmalloc_aligned(count * dev->sector_size, PAGE_SIZE);
	struct ext2_fs *fs = kzalloc(sizeof(*fs));
	if (!raw || !fs) {
		kfree(raw);
		kfree(fs);
		return -ENOMEM;
	}
	fs->vfs.ops = &ext2_ops;
	fs->vfs.dev = dev;
	mutex_init(&fs->lock, "ext2");
	for (unsigned i = 0; i < EXT2_INODE_BUCKETS; i++)
		list_init(&fs->inodes[i]);
	list_init(&fs->orphans);

	int rc = blkdev_read(dev, 0, raw, count);
	if (rc == 0)
		rc = check_super(fs, (struct ext2_super_block *)(raw + EXT2_SB_OFFSET), dev, &flags);
	kfree(raw);
	if (rc < 0) {
		kfree(fs);
		return rc;
	}
	fs->vfs.read_only = (flags & FS_MOUNT_RDONLY) != 0;

	rc = -ENOMEM;
	fs->bc = bcache_create(dev, fs->bsize, dev->cache_bytes ? dev->cache_bytes : EXT2_CACHE_BYTES);
	fs->groups = kzalloc(fs->ngroups * sizeof(*fs->groups));
	fs->gd_bufs = kzalloc(fs->gdt_blocks * sizeof(*fs->gd_bufs));
	if (!fs->bc || !fs->groups || !fs->gd_bufs)
		goto fail;
	rc = bread(fs->bc, EXT2_SB_OFFSET / fs->bsize, &fs->sb_buf);
	if (rc < 0)
		goto fail;
	bunlock(fs->sb_buf);
	fs->sb = (struct ext2_super_block *)(fs->sb_buf->data + EXT2_SB_OFFSET % fs->bsize);
	for (uint32_t i = 0; i < fs->gdt_blocks; i++) {
		rc = bread(fs->bc, fs->first_data_block + 1 + i, &fs->gd_bufs[i]);
		if (rc < 0)
			goto fail;
		bunlock(fs->gd_bufs[i]);
	}
	rc = check_groups(fs);
	if (rc == 0 && (fs->compat & EXT3_FEATURE_COMPAT_HAS_JOURNAL))
		rc = open_journal(fs, &flags);
	if (rc == 0)
		rc = check_damage(fs);     /* on what a replay wrote */
	if (rc < 0)
		goto fail;
	fs->mount_state = ld16(fs->sb->s_state);
	if (fs->mount_state & EXT2_ERROR_FS)
		kprintf("ext2: %s: mounting a file system with errors; run e2fsck\n", dev->name);
	else if (!(fs->mount_state & EXT2_VALID_FS))
		kprintf("ext2: %s: mounting a file system not cleanly unmounted; run e2fsck\n",
		        dev->name);

	/* The root must be a directory. */
	mutex_lock(&fs->lock);
	struct ext2_inode_info *root;
	rc = ext2_iget(fs, EXT2_ROOT_INO, &root);
	if (rc == 0) {
		if ((root->mode & 0170000) != 0040000)
			rc = EXT2_CORRUPT(fs, "root inode is not a directory");
		ext2_iput(fs, root);
	}
	if (rc == 0 && !fs->vfs.read_only) {
		st16(&fs->sb->s_state, fs->mount_state & ~EXT2_VALID_FS);
		st16(&fs->sb->s_mnt_count, ld16(fs->sb->s_mnt_count) + 1);
		st32(&fs->sb->s_mtime, ext2_now());
		if (fs->journal) {
			/* From now on a crash leaves transactions to replay. */
			fs->incompat |= EXT3_FEATURE_INCOMPAT_RECOVER;
			st32(&fs->sb->s_feature_incompat, fs->incompat);
		}
		ext2_sb_update_counts(fs);
		rc = bcache_flush(fs->bc);
	}
	mutex_unlock(&fs->lock);
	if (rc == 0 && !fs->vfs.read_only && fs->journal)
		rc = ext2_journal_start(fs, dev->commit_ms ? dev->commit_ms : EXT2_COMMIT_MS);
	if (rc == 0 && !fs->vfs.read_only && ld32(fs->sb->s_last_orphan)) {
		/* Unlinked inodes that were in use at a crash: free them now. A
		 * failure is reported (ext2_error) and leaves the mount as the
		 * error policy says; their space stays lost until e2fsck. */
		ext2_lock(fs);
		if (ext2_orphan_recover(fs) == 0)
			ext2_deferred_drain(fs);
		ext2_unlock(fs);
	}
	if (rc < 0)
		goto fail;
	*out = &fs->vfs;
	return 0;
fail:
	release(fs);
	return rc;
}

/* What the mount cost the device (blkdev.h's print_stats): bench/ counts
 * commits and flushes per workload with it. */
static void print_stats(struct ext2_fs *fs)
{
	struct bcache_stats st;
	bcache_stats(fs->bc, &st);
	struct blkdev *dev = fs->vfs.dev;
	kprintf("ext2: %s: stats: %lu cache misses, %lu write requests, %lu device flushes",
	        dev->name, (unsigned long)st.misses, (unsigned long)st.writes,
	        (unsigned long)__atomic_load_n(&dev->flushes, __ATOMIC_RELAXED));
	const struct ext2_journal *j = fs->journal;
	if (j)
		kprintf("; journal: %lu commits (%lu on the timer, %lu for size) in %lu ms, "
		        "%lu checkpoints, %lu log blocks",
		        (unsigned long)j->commits, (unsigned long)j->commits_timer,
		        (unsigned long)j->commits_full, (unsigned long)(j->commit_ns / 1000000),
		        (unsigned long)j->checkpoints, (unsigned long)j->log_blocks);
	kprintf("\n");
}

static int ext2_unmount(struct fs *vfs)
{
	struct ext2_fs *fs = EXT2(vfs);
	mutex_lock(&fs->lock);
	if (!fs->vfs.read_only) {
		/* Pending releases in order first, then open unlinked files. */
		ext2_deferred_drain(fs);
		ext2_release_inodes(fs);
		ext2_deferred_drain(fs);
	} else {
		ext2_release_inodes(fs);
	}
	mutex_unlock(&fs->lock);
	/* The last transaction committed and checkpointed: the log is empty. */
	int rc = ext2_journal_stop(fs);
	mutex_lock(&fs->lock);
	if (!fs->vfs.read_only) {
		fs->incompat &= ~EXT3_FEATURE_INCOMPAT_RECOVER;
		st32(&fs->sb->s_feature_incompat, fs->incompat);
		uint16_t state = fs->mount_state;
		if (fs->had_errors)
			state |= EXT2_ERROR_FS;
		st16(&fs->sb->s_state, state);
		st32(&fs->sb->s_wtime, ext2_now());
		ext2_sb_update_counts(fs);
	}
	if (!fs->vfs.dev->read_only) {
		int frc = bcache_flush(fs->bc);
		rc = rc ? rc : frc;
	}
	if (fs->vfs.dev->print_stats)
		print_stats(fs);
	mutex_unlock(&fs->lock);
	release(fs);
	return rc;
}

static int ext2_sync(struct fs *vfs)
{
	struct ext2_fs *fs = EXT2(vfs);
	mutex_lock(&fs->lock);
	int rc = 0;
	if (!fs->vfs.read_only) {
		st32(&fs->sb->s_wtime, ext2_now());
		ext2_sb_update_counts(fs);
		rc = ext2_checkpoint(fs);     /* a commit with a journal (deferred.c) */
	}
	mutex_unlock(&fs->lock);
	return rc;
}

static int ext2_statfs(struct fs *vfs, struct vfs_statfs *out)
{
	struct ext2_fs *fs = EXT2(vfs);
	mutex_lock(&fs->lock);
	/* Freed space waiting for a checkpoint (deferred.c) is free for the
	 * caller: make it so (an inode's release defers its own freeing). */
	for (int i = 0; i < 3 && fs->ndeferred && !fs->vfs.read_only; i++)
		if (ext2_checkpoint(fs) < 0)
			break;
	/* Like Linux: blocks excludes the metadata overhead of every group. */
	uint64_t overhead = fs->first_data_block;
	for (uint32_t g = 0; g < fs->ngroups; g++) {
		if (ext2_group_has_super(fs, g))
			overhead += 1 + fs->gdt_blocks + fs->reserved_gdt;
		overhead += 2 + fs->itb_per_group;
	}
	out->bsize = fs->bsize;
	out->blocks = fs->blocks_count > overhead ? fs->blocks_count - overhead : 0;
	out->bfree = fs->free_blocks;
	out->bavail = fs->free_blocks > fs->r_blocks ? fs->free_blocks - fs->r_blocks : 0;
	out->files = fs->inodes_count;
	out->ffree = fs->free_inodes;
	out->namemax = EXT2_NAME_LEN;
	out->read_only = fs->vfs.read_only;
	mutex_unlock(&fs->lock);
	return 0;
}

static uint64_t ext2_root(struct fs *fs)
{
	return EXT2_ROOT_INO;
}

const struct fs_ops ext2_ops = {
	.root = ext2_root,
	.unmount = ext2_unmount,
	.sync = ext2_sync,
	.statfs = ext2_statfs,
	.iget = ext2_vfs_iget,
	.iput = ext2_vfs_iput,
	.lookup = ext2_lookup,
	.getattr = ext2_getattr,
	.setattr = ext2_setattr,
	.mknod = ext2_mknod,
	.mkdir = ext2_mkdir,
	.symlink = ext2_symlink,
	.link = ext2_link,
	.unlink = ext2_unlink,
	.rmdir = ext2_rmdir,
	.rename = ext2_rename,
	.readlink = ext2_readlink,
	.read = ext2_read,
	.write = ext2_write,
	.readdir = ext2_readdir,
	.fsync = ext2_fsync,
	.getxattr = ext2_getxattr,
	.setxattr = ext2_setxattr,
	.listxattr = ext2_listxattr,
	.removexattr = ext2_removexattr,
};

const struct fs_type ext2_fs_type = {
	.name = "ext2",
	.mount = ext2_mount,
};
