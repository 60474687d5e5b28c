/*
 * features.c: the superblock's feature flags by the names e2fsprogs gives
 * them, so that a refusal names exactly what an image has (and what kind of
 * file system it is) instead of a bare mask.
 */
#include "ext2.h"

struct feature_name {
	uint32_t bit;
	const char *name;
};

static const struct feature_name incompat_names[] = {
	{ 0x0001, "compression" }, { 0x0002, "filetype" }, { 0x0004, "needs_recovery" },
	{ 0x0008, "journal_dev" }, { 0x0010, "meta_bg" }, { 0x0040, "extent" },
	{ 0x0080, "64bit" }, { 0x0100, "mmp" }, { 0x0200, "flex_bg" },
	{ 0x0400, "ea_inode" }, { 0x1000, "dirdata" }, { 0x2000, "metadata_csum_seed" },
	{ 0x4000, "large_dir" }, { 0x8000, "inline_data" }, { 0x10000, "encrypt" },
	{ 0x20000, "casefold" }, { 0, NULL },
};

static const struct feature_name ro_compat_names[] = {
	{ 0x0001, "sparse_super" }, { 0x0002, "large_file" }, { 0x0004, "btree_dir" },
	{ 0x0008, "huge_file" }, { 0x0010, "uninit_bg" }, { 0x0020, "dir_nlink" },
	{ 0x0040, "extra_isize" }, { 0x0100, "quota" }, { 0x0200, "bigalloc" },
	{ 0x0400, "metadata_csum" }, { 0x0800, "replica" }, { 0x1000, "read-only" },
	{ 0x2000, "project" }, { 0x4000, "shared_blocks" }, { 0x8000, "verity" },
	{ 0, NULL },
};

/* Features only ext4 sets: an image with any of them is ext4, not ext2/3. */
#define EXT4_ONLY_INCOMPAT 0x3ffc0u
#define EXT4_ONLY_RO_COMPAT 0xfff8u

static void list_names(const struct feature_name *table, uint32_t mask, char *out, size_t size)
{
	size_t n = 0;
	out[0] = '\0';
	for (const struct feature_name *f = table; f->name && n < size; f++) {
		if (mask & f->bit) {
			n += (size_t)ksnprintf(out + n, size - n, "%s%s", n ? " " : "", f->name);
			mask &= ~f->bit;
		}
	}
	if (mask && n < size)
		ksnprintf(out + n, size - n, "%sunknown 0x%x", n ? " " : "", mask);
}

void ext2_report_features(const char *dev, uint32_t incompat, uint32_t ro_compat,
                          bool refused)
{
	char names[200];
	bool ext4 = (incompat & EXT4_ONLY_INCOMPAT) || (ro_compat & EXT4_ONLY_RO_COMPAT);
	if (refused) {
		list_names(incompat_names, incompat, names, sizeof(names));
		if (incompat & EXT3_FEATURE_INCOMPAT_JOURNAL_DEV)
			kprintf("ext2: %s: an external journal device, not a file system; "
			        "mount refused\n", dev);
		else
			kprintf("ext2: %s: %s with features this ext2 driver does not support (%s); "
			        "mount refused\n", dev, ext4 ? "an ext4 file system" : "a file system",
			        names);
	} else {
		list_names(ro_compat_names, ro_compat, names, sizeof(names));
		kprintf("ext2: %s: %s with read-only features this driver does not write (%s); "
		        "mounting read-only\n", dev, ext4 ? "an ext4 file system" : "a file system",
		        names);
	}
}
