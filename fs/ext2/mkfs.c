/*
 * mkfs.c: write a new ext2 file system on a block device (mkfs.h).
 *
 * Layout, per group of 8 * block-size blocks: a superblock copy and the
 * group descriptor table in groups 0, 1 and powers of 3, 5 and 7
 * (sparse_super), then the block bitmap, the inode bitmap and the inode
 * table, then data. A last group too small for its metadata and some data
 * is dropped. Group 0 holds the root directory (inode 2) and lost+found
 * (inode 11); inodes 1..10 are reserved. Bitmap bits past the end of a
 * group are set, as e2fsck expects.
 */
#include <errno.h>
#include <string.h>

#include "alloc.h"
#include "blkdev.h"
#include "ext2.h"
#include "hal.h"
#include "mkfs.h"

#define LPF_INO 11
#define ZERO_CHUNK (64 * 1024)

struct layout {
	uint32_t bsize, log, isz, blocks, fdb, bpg, ngroups, ipg, itb, gdt, ipb;
	uint32_t lpf_blocks;
};

static bool sparse_group(uint32_t g)
{
	if (g <= 1)
		return true;
	for (uint32_t base = 3; base <= 7; base += 2) {
		uint32_t n = g;
		while (n % base == 0)
			n /= base;
		if (n == 1)
			return true;
	}
	return false;
}

static uint32_t group_first(const struct layout *l, uint32_t g) { return l->fdb + g * l->bpg; }

static uint32_t group_blocks(const struct layout *l, uint32_t g)
{
	return g == l->ngroups - 1 ? l->blocks - group_first(l, g) : l->bpg;
}

/* Blocks at the start of group g before its data. */
static uint32_t group_overhead(const struct layout *l, uint32_t g)
{
	return (sparse_group(g) ? 1 + l->gdt : 0) + 2 + l->itb;
}

static int plan(struct blkdev *dev, const struct ext2_mkfs_opts *o, struct layout *l)
{
	uint64_t size = o->size ? o->size : dev->sectors * dev->sector_size;
	if (size > dev->sectors * dev->sector_size)
		return -EINVAL;
	l->bsize = o->block_size ? o->block_size : (size < (512ull << 20) ? 1024 : 4096);
	for (l->log = 0; (1024u << l->log) < l->bsize && l->log < 6; l->log++)
		;
	if (l->bsize != 1024u << l->log || l->log > EXT2_MAX_BLOCK_LOG - EXT2_MIN_BLOCK_LOG)
		return -EINVAL;
	if (l->bsize < dev->sector_size)
		return -EINVAL;
	l->isz = o->inode_size ? o->inode_size : 256;
	if (l->isz != 128 && l->isz != 256)
		return -EINVAL;
	uint32_t bpi = o->bytes_per_inode ? o->bytes_per_inode : (l->bsize == 1024 ? 4096 : 16384);
	if (!o->bytes_per_inode && bpi < l->bsize)
		bpi = l->bsize;
	if (bpi < l->bsize || o->reserved_percent > 50)
		return -EINVAL;
	uint64_t blocks = size / l->bsize;
	if (blocks > 0xffffffffull)
		blocks = 0xffffffffull;
	l->blocks = (uint32_t)blocks;
	l->fdb = l->bsize == 1024 ? 1 : 0;
	/* A group's free counts are 16-bit: mke2fs's 65528 blocks at most. */
	l->bpg = 8 * l->bsize < 65528 ? 8 * l->bsize : 65528;
	l->ipb = l->bsize / l->isz;
	l->lpf_blocks = l->bsize < 16384 ? 16384 / l->bsize : 1;
	if (l->lpf_blocks > EXT2_NDIR_BLOCKS)
		l->lpf_blocks = EXT2_NDIR_BLOCKS;
	for (;;) {
		if (l->blocks < l->fdb + 64)
			return -EINVAL;
		l->ngroups = (l->blocks - l->fdb + l->bpg - 1) / l->bpg;
		uint64_t inodes = (uint64_t)l->blocks * l->bsize / bpi;
		uint64_t ipg = (inodes + l->ngroups - 1) / l->ngroups;
		uint32_t unit = l->ipb > 8 ? l->ipb : 8;
		if (ipg < 16)
			ipg = 16;
		ipg = (ipg + unit - 1) / unit * unit;
		if (ipg > 8 * l->bsize)
			ipg = 8 * l->bsize;
		if (ipg > EXT2_MAX_GROUP_COUNT)
			ipg = EXT2_MAX_GROUP_COUNT / unit * unit;
		if (ipg * l->ngroups > 0xffffffffull)
			ipg = 0xffffffffull / l->ngroups / unit * unit;
		l->ipg = (uint32_t)ipg;
		l->itb = l->ipg / l->ipb;
		l->gdt = (l->ngroups * 32 + l->bsize - 1) / l->bsize;
		uint32_t last = l->ngroups - 1;
		uint32_t need = group_overhead(l, last) + (last == 0 ? 1 + l->lpf_blocks : 0) + 50;
		if (group_blocks(l, last) >= need)
			return 0;
		if (last == 0)
			return -EINVAL;
		l->blocks = group_first(l, last);     /* drop the runt group */
	}
}

static int write_blocks(struct blkdev *dev, const struct layout *l, uint32_t blk,
                        const void *data, uint32_t count)
{
	uint32_t spb = l->bsize / dev->sector_size;
	return blkdev_write(dev, (uint64_t)blk * spb, data, count * spb);
}

static int zero_blocks(struct blkdev *dev, const struct layout *l, uint8_t *zero,
                       uint32_t blk, uint32_t count)
{
	uint32_t per = ZERO_CHUNK / l->bsize;
	while (count) {
		uint32_t n = count < per ? count : per;
		int rc = write_blocks(dev, l, blk, zero, n);
		if (rc < 0)
			return rc;
		blk += n;
		count -= n;
	}
	return 0;
}

static void set_bits(uint8_t *map, uint32_t from, uint32_t to)
{
	for (uint32_t b = from; b < to; b++)
		map[b >> 3] |= (uint8_t)(1u << (b & 7));
}

static void make_dir_inode(struct ext2_inode *in, const struct layout *l, uint16_t mode,
                           uint16_t links, uint32_t first_block, uint32_t nblocks, uint32_t now)
{
	memset(in, 0, sizeof(*in));
	st16(&in->i_mode, mode);
	st32(&in->i_size, nblocks * l->bsize);
	st32(&in->i_atime, now);
	st32(&in->i_ctime, now);
	st32(&in->i_mtime, now);
	st16(&in->i_links_count, links);
	st32(&in->i_blocks, nblocks * (l->bsize / 512));
	for (uint32_t i = 0; i < nblocks; i++)
		st32(&in->i_block[i], first_block + i);
}

static void dirent(const struct layout *l, uint8_t *p, uint32_t ino, uint32_t rec_len,
                   const char *name)
{
	struct ext2_dir_entry *de = (struct ext2_dir_entry *)p;
	st32(&de->inode, ino);
	ext2_set_rec_len(l->bsize, de, rec_len);
	de->name_len = (uint8_t)strlen(name);
	de->file_type = ino ? EXT2_FT_DIR : 0;
	memcpy(de->name, name, strlen(name));
}

static uint64_t next_random(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

int ext2_mkfs(struct blkdev *dev, const struct ext2_mkfs_opts *o)
{
	struct ext2_mkfs_opts defaults = { 0 };
	struct layout l;
	if (!dev)
		return -EINVAL;
	if (dev->read_only)
		return -EROFS;
	if (!o)
		o = &defaults;
	int rc = plan(dev, o, &l);
	if (rc < 0)
		return rc;

	uint32_t now = (uint32_t)(hal_realtime_ns() / 1000000000);
	uint8_t *zero = kmalloc_aligned(ZERO_CHUNK, PAGE_SIZE);
	uint8_t *blk = kmalloc_aligned(l.bsize, PAGE_SIZE);
	uint8_t *gdt = kmalloc_aligned((size_t)l.gdt * l.bsize, PAGE_SIZE);
	uint32_t it0_blocks = (LPF_INO * l.isz + l.bsize - 1) / l.bsize;
	uint8_t *it0 = kmalloc_aligned((size_t)it0_blocks * l.bsize, PAGE_SIZE);
	if (!zero || !blk || !gdt || !it0) {
		rc = -ENOMEM;
		goto out;
	}
	memset(zero, 0, ZERO_CHUNK);
	memset(gdt, 0, (size_t)l.gdt * l.bsize);

	/* Group 0's first data blocks: the root directory, then lost+found. */
	uint32_t root_blk = group_first(&l, 0) + group_overhead(&l, 0);
	uint32_t lpf_blk = root_blk + 1;
	uint32_t used0 = 1 + l.lpf_blocks;
	uint64_t free_blocks = 0, free_inodes = 0;

	/* The journal: in the first group with room for it after its own
	 * metadata (and group 0's directories). */
	uint32_t jn = 0, jrun = 0, jgroup = 0, jstart = 0;
	if (o->journal) {
		jn = o->journal_blocks ? o->journal_blocks : ext2_mkfs_journal_default(l.blocks, l.bpg);
		jrun = jn ? ext2_mkfs_journal_footprint(l.bsize, jn) : 0;
		for (jgroup = 0; jrun && jgroup < l.ngroups; jgroup++) {
			uint32_t taken = group_overhead(&l, jgroup) + (jgroup == 0 ? used0 : 0);
			if (group_blocks(&l, jgroup) >= taken + jrun + 16) {
				jstart = group_first(&l, jgroup) + taken;
				break;
			}
		}
		if (jn < 1024 || jstart == 0) {
			rc = -EINVAL;       /* too small for a journal, or not in one group */
			goto out;
		}
	}
	uint8_t uuid[16];
	uint64_t seed = (uint64_t)hal_realtime_ns() ^ (hal_clock_ns() << 17) ^ (uintptr_t)&l;
	if (!seed)
		seed = 0x9e3779b97f4a7c15ull;
	for (int i = 0; i < 16; i += 8) {
		uint64_t r = next_random(&seed);
		memcpy(uuid + i, &r, 8);
	}
	uuid[6] = (uint8_t)((uuid[6] & 0x0f) | 0x40);
	uuid[8] = (uint8_t)((uuid[8] & 0x3f) | 0x80);

	for (uint32_t g = 0; g < l.ngroups; g++) {
		uint32_t first = group_first(&l, g), n = group_blocks(&l, g);
		uint32_t meta = sparse_group(g) ? 1 + l.gdt : 0;
		uint32_t bb = first + meta, ib = bb + 1, it = ib + 1;
		struct ext2_group_desc *gd = (struct ext2_group_desc *)gdt + g;
		uint32_t used = group_overhead(&l, g) + (g == 0 ? used0 : 0) +
		                (jn && g == jgroup ? jrun : 0);
		uint32_t iused = g == 0 ? LPF_INO : 0;
		st32(&gd->bg_block_bitmap, bb);
		st32(&gd->bg_inode_bitmap, ib);
		st32(&gd->bg_inode_table, it);
		st16(&gd->bg_free_blocks_count, (uint16_t)(n - used));
		st16(&gd->bg_free_inodes_count, (uint16_t)(l.ipg - iused));
		st16(&gd->bg_used_dirs_count, g == 0 ? 2 : 0);
		free_blocks += n - used;
		free_inodes += l.ipg - iused;

		memset(blk, 0, l.bsize);
		set_bits(blk, 0, used);
		set_bits(blk, n, 8 * l.bsize);
		if ((rc = write_blocks(dev, &l, bb, blk, 1)) < 0)
			goto out;
		memset(blk, 0, l.bsize);
		set_bits(blk, 0, iused);
		set_bits(blk, l.ipg, 8 * l.bsize);
		if ((rc = write_blocks(dev, &l, ib, blk, 1)) < 0)
			goto out;
		if ((rc = zero_blocks(dev, &l, zero, it, l.itb)) < 0)
			goto out;
	}

	/* The root directory and lost+found. */
	memset(it0, 0, (size_t)it0_blocks * l.bsize);
	struct ext2_inode *root = (struct ext2_inode *)(it0 + (EXT2_ROOT_INO - 1) * l.isz);
	struct ext2_inode *lpf = (struct ext2_inode *)(it0 + (LPF_INO - 1) * l.isz);
	make_dir_inode(root, &l, 040755, 3, root_blk, 1, now);
	make_dir_inode(lpf, &l, 040700, 2, lpf_blk, l.lpf_blocks, now);
	struct ext2_inode *jin = (struct ext2_inode *)(it0 + (EXT2_JOURNAL_INO - 1) * l.isz);
	if (jn && (rc = ext2_mkfs_journal(dev, l.bsize, jstart, jn, uuid, now, jin)) < 0)
		goto out;
	if (l.isz > EXT2_GOOD_OLD_INODE_SIZE) {
		for (uint32_t ino = 1; ino <= LPF_INO; ino++) {
			struct ext2_inode_extra *x = (struct ext2_inode_extra *)
				(it0 + (ino - 1) * l.isz + EXT2_GOOD_OLD_INODE_SIZE);
			st16(&x->i_extra_isize, 32);
		}
	}
	uint32_t it = group_first(&l, 0) + (sparse_group(0) ? 1 + l.gdt : 0) + 2;
	if ((rc = write_blocks(dev, &l, it, it0, it0_blocks)) < 0)
		goto out;
	memset(blk, 0, l.bsize);
	dirent(&l, blk, EXT2_ROOT_INO, 12, ".");
	dirent(&l, blk + 12, EXT2_ROOT_INO, 12, "..");
	dirent(&l, blk + 24, LPF_INO, l.bsize - 24, "lost+found");
	if ((rc = write_blocks(dev, &l, root_blk, blk, 1)) < 0)
		goto out;
	for (uint32_t i = 0; i < l.lpf_blocks; i++) {
		memset(blk, 0, l.bsize);
		if (i == 0) {
			dirent(&l, blk, LPF_INO, 12, ".");
			dirent(&l, blk + 12, EXT2_ROOT_INO, l.bsize - 12, "..");
		} else {
			dirent(&l, blk, 0, l.bsize, "");
		}
		if ((rc = write_blocks(dev, &l, lpf_blk + i, blk, 1)) < 0)
			goto out;
	}

	/* The superblock and descriptor copies. */
	struct ext2_super_block sb;
	memset(&sb, 0, sizeof(sb));
	st32(&sb.s_inodes_count, l.ipg * l.ngroups);
	st32(&sb.s_blocks_count, l.blocks);
	st32(&sb.s_r_blocks_count, (uint32_t)((uint64_t)l.blocks * o->reserved_percent / 100));
	st32(&sb.s_free_blocks_count, (uint32_t)free_blocks);
	st32(&sb.s_free_inodes_count, (uint32_t)free_inodes);
	st32(&sb.s_first_data_block, l.fdb);
	st32(&sb.s_log_block_size, l.log);
	st32(&sb.s_log_frag_size, l.log);
	st32(&sb.s_blocks_per_group, l.bpg);
	st32(&sb.s_frags_per_group, l.bpg);
	st32(&sb.s_inodes_per_group, l.ipg);
	st32(&sb.s_wtime, now);
	st16(&sb.s_max_mnt_count, 0xffff);
	st16(&sb.s_magic, EXT2_SUPER_MAGIC);
	st16(&sb.s_state, EXT2_VALID_FS);
	st16(&sb.s_errors, EXT2_ERRORS_CONTINUE);
	st32(&sb.s_lastcheck, now);
	st32(&sb.s_rev_level, EXT2_DYNAMIC_REV);
	st32(&sb.s_first_ino, EXT2_GOOD_OLD_FIRST_INO);
	st16(&sb.s_inode_size, (uint16_t)l.isz);
	st32(&sb.s_feature_incompat, EXT2_FEATURE_INCOMPAT_FILETYPE);
	st32(&sb.s_feature_ro_compat, EXT2_FEATURE_RO_COMPAT_SPARSE_SUPER |
	                              EXT2_FEATURE_RO_COMPAT_LARGE_FILE);
	memcpy(sb.s_uuid, uuid, sizeof(uuid));
	if (jn) {
		/* The journal inode's map and size, backed up as mke2fs does. */
		st32(&sb.s_feature_compat, EXT3_FEATURE_COMPAT_HAS_JOURNAL);
		st32(&sb.s_journal_inum, EXT2_JOURNAL_INO);
		sb.s_jnl_backup_type = EXT3_JNL_BACKUP_BLOCKS;
		for (int i = 0; i < EXT2_N_BLOCKS; i++)
			sb.s_jnl_blocks[i] = jin->i_block[i];
		sb.s_jnl_blocks[15] = jin->i_size_high;
		sb.s_jnl_blocks[16] = jin->i_size;
	}
	/* Large directories get a hash index (htree.c), as mke2fs makes them. */
	st32(&sb.s_feature_compat, ld32(sb.s_feature_compat) | EXT2_FEATURE_COMPAT_DIR_INDEX);
	for (int i = 0; i < 4; i += 2) {
		uint64_t r = next_random(&seed);
		st32(&sb.s_hash_seed[i], (uint32_t)r);
		st32(&sb.s_hash_seed[i + 1], (uint32_t)(r >> 32));
	}
	sb.s_def_hash_version = EXT2_HASH_HALF_MD4;
	st32(&sb.s_flags, EXT2_FLAGS_SIGNED_HASH);
	if (o->label) {
		size_t n = strlen(o->label);
		memcpy(sb.s_volume_name, o->label, n < sizeof(sb.s_volume_name) ? n : sizeof(sb.s_volume_name));
	}
	st32(&sb.s_mkfs_time, now);
	if (l.isz > EXT2_GOOD_OLD_INODE_SIZE) {
		st16(&sb.s_min_extra_isize, 32);
		st16(&sb.s_want_extra_isize, 32);
	}
	for (uint32_t g = 0; g < l.ngroups; g++) {
		if (!sparse_group(g))
			continue;
		uint32_t first = group_first(&l, g);
		st16(&sb.s_block_group_nr, (uint16_t)g);
		memset(blk, 0, l.bsize);
		if (g == 0 && l.bsize > EXT2_SB_OFFSET) {
			memcpy(blk + EXT2_SB_OFFSET, &sb, sizeof(sb));
		} else {
			memcpy(blk, &sb, sizeof(sb));
		}
		if ((rc = write_blocks(dev, &l, first, blk, 1)) < 0)
			goto out;
		if ((rc = write_blocks(dev, &l, first + 1, gdt, l.gdt)) < 0)
			goto out;
	}
	if (l.fdb == 1) {
		/* 1 KiB blocks: clear the boot block too. */
		if ((rc = write_blocks(dev, &l, 0, zero, 1)) < 0)
			goto out;
	}
	rc = blkdev_flush(dev);
out:
	kfree(zero);
	kfree(blk);
	kfree(gdt);
	kfree(it0);
	return rc;
}
