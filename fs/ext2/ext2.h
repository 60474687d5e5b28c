/*
 * ext2.h: the ext2 on-disk format, and the driver's in-memory records.
 *
 * On-disk structures are little-endian. Their fields have the wrapper types
 * le16/le32 so that they can only be read and written through ld16/ld32 and
 * st16/st32 (a plain assignment does not compile).
 *
 * Locking: one sleeping lock per mounted file system (ext2_fs.lock) guards
 * all of its state, the in-core inodes and the metadata buffers; every
 * fs_ops entry takes it, and all but file reads and writes hold it to the
 * end. Those hold their inode's io_lock instead and take the fs lock only
 * to map blocks (file.c), so file data moves in parallel. Order: io_lock,
 * fs lock, buffer locks (at most a directory block and an inode-table
 * block, or one indirect block, at a time; two directory blocks while
 * htree.c moves entries from one to the other).
 */
#ifndef FS_EXT2_EXT2_H
#define FS_EXT2_EXT2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bcache.h"
#include "console.h"
#include "fs.h"
#include "list.h"
#include "mutex.h"

struct ext2_journal;

/* ---- Little-endian fields --------------------------------------------- */

typedef struct { uint16_t v; } __attribute__((packed)) le16;
typedef struct { uint32_t v; } __attribute__((packed)) le32;

#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
static inline uint16_t ld16(le16 x) { return __builtin_bswap16(x.v); }
static inline uint32_t ld32(le32 x) { return __builtin_bswap32(x.v); }
static inline void st16(le16 *p, uint16_t v) { p->v = __builtin_bswap16(v); }
static inline void st32(le32 *p, uint32_t v) { p->v = __builtin_bswap32(v); }
#else
static inline uint16_t ld16(le16 x) { return x.v; }
static inline uint32_t ld32(le32 x) { return x.v; }
static inline void st16(le16 *p, uint16_t v) { p->v = v; }
static inline void st32(le32 *p, uint32_t v) { p->v = v; }
#endif

/* ---- Constants ------------------------------------------------------------ */

#define EXT2_SUPER_MAGIC        0xEF53
#define EXT2_SB_OFFSET          1024    /* byte offset of the primary superblock */
#define EXT2_SB_SIZE            1024
#define EXT2_BAD_INO            1
#define EXT2_ROOT_INO           2
#define EXT2_JOURNAL_INO        8       /* ext3's journal, by convention */
#define EXT2_GOOD_OLD_FIRST_INO 11
#define EXT2_GOOD_OLD_INODE_SIZE 128
#define EXT2_GOOD_OLD_REV       0
#define EXT2_DYNAMIC_REV        1
#define EXT2_MIN_BLOCK_LOG      10      /* 1 KiB */
#define EXT2_MAX_BLOCK_LOG      16      /* 64 KiB: the largest ext2 block */
#define EXT2_MAX_GROUP_COUNT    65535   /* blocks or inodes per group: free counts are 16-bit */
#define EXT2_NDIR_BLOCKS        12
#define EXT2_IND_BLOCK          12
#define EXT2_DIND_BLOCK         13
#define EXT2_TIND_BLOCK         14
#define EXT2_N_BLOCKS           15
#define EXT2_LINK_MAX           32000
#define EXT2_NAME_LEN           255
#define EXT2_FAST_SYMLINK_MAX   (EXT2_N_BLOCKS * 4 - 1)   /* 59 bytes + NUL */

#define EXT3_JNL_BACKUP_BLOCKS   1       /* s_jnl_backup_type: s_jnl_blocks holds the map */

/* s_state */
#define EXT2_VALID_FS           0x0001  /* unmounted cleanly */
#define EXT2_ERROR_FS           0x0002  /* errors detected */
/* s_errors */
#define EXT2_ERRORS_CONTINUE    1
#define EXT2_ERRORS_RO          2
#define EXT2_ERRORS_PANIC       3       /* treated as read-only: never panic on disk data */

/* s_feature_compat: all safe to ignore for ext2 without a journal. */
#define EXT2_FEATURE_COMPAT_DIR_PREALLOC   0x0001
#define EXT2_FEATURE_COMPAT_IMAGIC_INODES  0x0002
#define EXT3_FEATURE_COMPAT_HAS_JOURNAL    0x0004
#define EXT2_FEATURE_COMPAT_EXT_ATTR       0x0008
#define EXT2_FEATURE_COMPAT_RESIZE_INODE   0x0010
#define EXT2_FEATURE_COMPAT_DIR_INDEX      0x0020
/* s_feature_ro_compat */
#define EXT2_FEATURE_RO_COMPAT_SPARSE_SUPER 0x0001
#define EXT2_FEATURE_RO_COMPAT_LARGE_FILE   0x0002
#define EXT2_FEATURE_RO_COMPAT_BTREE_DIR    0x0004
#define EXT4_FEATURE_RO_COMPAT_GDT_CSUM     0x0010  /* uninit_bg: read-only here */
#define EXT4_FEATURE_RO_COMPAT_METADATA_CSUM 0x0400 /* read-only here */
#define EXT4_BG_UNINIT_FLAGS                0x0003  /* bg_flags: bitmaps never written */
#define EXT2_RO_COMPAT_SUPP (EXT2_FEATURE_RO_COMPAT_SPARSE_SUPER | \
                             EXT2_FEATURE_RO_COMPAT_LARGE_FILE | \
                             EXT2_FEATURE_RO_COMPAT_BTREE_DIR)
/* s_feature_incompat */
#define EXT2_FEATURE_INCOMPAT_COMPRESSION  0x0001
#define EXT2_FEATURE_INCOMPAT_FILETYPE     0x0002
#define EXT3_FEATURE_INCOMPAT_RECOVER      0x0004
#define EXT3_FEATURE_INCOMPAT_JOURNAL_DEV  0x0008
#define EXT2_FEATURE_INCOMPAT_META_BG      0x0010
#define EXT4_FEATURE_INCOMPAT_EXTENTS      0x0040
#define EXT4_FEATURE_INCOMPAT_64BIT        0x0080
#define EXT4_FEATURE_INCOMPAT_MMP          0x0100
#define EXT4_FEATURE_INCOMPAT_FLEX_BG      0x0200
#define EXT2_INCOMPAT_SUPP EXT2_FEATURE_INCOMPAT_FILETYPE

/* s_flags */
#define EXT2_FLAGS_SIGNED_HASH   0x0001     /* dir_index hashes read names as signed char */
#define EXT2_FLAGS_UNSIGNED_HASH 0x0002     /* ... as unsigned char */

/* Directory hashes (dirhash.c): s_def_hash_version and dx_root's version;
 * the unsigned variants are these plus EXT2_HASH_UNSIGNED (in memory only). */
#define EXT2_HASH_LEGACY        0
#define EXT2_HASH_HALF_MD4      1
#define EXT2_HASH_TEA           2
#define EXT2_HASH_UNSIGNED      3
#define EXT2_HASH_END           0xfffffffeu /* no name hashes to this */

/* i_flags */
#define EXT2_INDEX_FL           0x00001000  /* hash-indexed directory (htree.c) */
#define EXT4_EXTENTS_FL         0x00080000  /* extents: not ext2 */
#define EXT4_INLINE_DATA_FL     0x10000000

/* Directory entry file types (with the filetype feature). */
enum {
	EXT2_FT_UNKNOWN, EXT2_FT_REG_FILE, EXT2_FT_DIR, EXT2_FT_CHRDEV,
	EXT2_FT_BLKDEV, EXT2_FT_FIFO, EXT2_FT_SOCK, EXT2_FT_SYMLINK, EXT2_FT_MAX
};

/* ---- On-disk structures --------------------------------------------------- */

/* The superblock: 1024 bytes at byte 1024 of the device (backups at the
 * start of some groups). */
struct ext2_super_block {
	le32 s_inodes_count;        /* inodes in the file system */
	le32 s_blocks_count;        /* blocks in the file system */
	le32 s_r_blocks_count;      /* blocks reserved for the super user */
	le32 s_free_blocks_count;   /* free blocks (sum of the groups') */
	le32 s_free_inodes_count;   /* free inodes (sum of the groups') */
	le32 s_first_data_block;    /* block of the superblock: 1 for 1 KiB blocks, else 0 */
	le32 s_log_block_size;      /* block size = 1024 << this */
	le32 s_log_frag_size;       /* fragment size (= block size) */
	le32 s_blocks_per_group;    /* blocks in each group */
	le32 s_frags_per_group;     /* fragments in each group */
	le32 s_inodes_per_group;    /* inodes in each group */
	le32 s_mtime;               /* last mount time */
	le32 s_wtime;               /* last write time */
	le16 s_mnt_count;           /* mounts since the last check */
	le16 s_max_mnt_count;       /* mounts allowed before a check (signed) */
	le16 s_magic;               /* EXT2_SUPER_MAGIC */
	le16 s_state;               /* EXT2_VALID_FS, EXT2_ERROR_FS */
	le16 s_errors;              /* EXT2_ERRORS_*: what to do on an error */
	le16 s_minor_rev_level;     /* minor revision */
	le32 s_lastcheck;           /* time of the last check */
	le32 s_checkinterval;       /* seconds allowed between checks */
	le32 s_creator_os;          /* 0: Linux */
	le32 s_rev_level;           /* EXT2_GOOD_OLD_REV or EXT2_DYNAMIC_REV */
	le16 s_def_resuid;          /* uid allowed to use reserved blocks */
	le16 s_def_resgid;          /* gid allowed to use reserved blocks */
	/* EXT2_DYNAMIC_REV only from here on. */
	le32 s_first_ino;           /* first non-reserved inode */
	le16 s_inode_size;          /* size of an on-disk inode */
	le16 s_block_group_nr;      /* group holding this copy */
	le32 s_feature_compat;      /* compatible features */
	le32 s_feature_incompat;    /* incompatible features */
	le32 s_feature_ro_compat;   /* read-only compatible features */
	uint8_t s_uuid[16];         /* volume id */
	char s_volume_name[16];     /* volume label */
	char s_last_mounted[64];    /* where last mounted */
	le32 s_algorithm_usage_bitmap; /* compression */
	uint8_t s_prealloc_blocks;  /* blocks to preallocate for files */
	uint8_t s_prealloc_dir_blocks; /* ... for directories */
	le16 s_reserved_gdt_blocks; /* blocks reserved after the descriptors (resize_inode) */
	uint8_t s_journal_uuid[16]; /* ext3 journal's uuid */
	le32 s_journal_inum;        /* ext3 journal inode */
	le32 s_journal_dev;         /* ext3 journal device */
	le32 s_last_orphan;         /* ext3 orphan list head */
	le32 s_hash_seed[4];        /* dir_index hash seed */
	uint8_t s_def_hash_version; /* dir_index hash */
	uint8_t s_jnl_backup_type;  /* journal backup kind */
	le16 s_desc_size;           /* group descriptor size (64bit only) */
	le32 s_default_mount_opts;  /* default mount options */
	le32 s_first_meta_bg;       /* meta_bg: first group */
	le32 s_mkfs_time;           /* creation time */
	le32 s_jnl_blocks[17];      /* journal inode backup */
	le32 s_blocks_count_hi;     /* 64bit */
	le32 s_r_blocks_count_hi;   /* 64bit */
	le32 s_free_blocks_hi;      /* 64bit */
	le16 s_min_extra_isize;     /* every inode has at least this extra size */
	le16 s_want_extra_isize;    /* new inodes should have this extra size */
	le32 s_flags;               /* EXT2_FLAGS_*: which dir_index hash variant */
	uint8_t s_rest[1024 - 356]; /* unused here, preserved */
};

/* A block group descriptor (32 bytes; the table follows the superblock). */
struct ext2_group_desc {
	le32 bg_block_bitmap;       /* block of the block bitmap */
	le32 bg_inode_bitmap;       /* block of the inode bitmap */
	le32 bg_inode_table;        /* first block of the inode table */
	le16 bg_free_blocks_count;  /* free blocks in the group */
	le16 bg_free_inodes_count;  /* free inodes in the group */
	le16 bg_used_dirs_count;    /* directories in the group */
	le16 bg_flags;              /* ext4 uninit flags (unused by ext2) */
	le32 bg_reserved[3];        /* unused */
};

/* An inode: the first 128 bytes; larger inodes have extra fields after. */
struct ext2_inode {
	le16 i_mode;                /* S_IF* type and permission bits */
	le16 i_uid;                 /* owner, low 16 bits */
	le32 i_size;                /* size, low 32 bits */
	le32 i_atime;               /* access time, seconds */
	le32 i_ctime;               /* change time */
	le32 i_mtime;               /* modification time */
	le32 i_dtime;               /* deletion time (0 while in use) */
	le16 i_gid;                 /* group, low 16 bits */
	le16 i_links_count;         /* hard links */
	le32 i_blocks;              /* 512-byte units allocated (data, indirect, EA) */
	le32 i_flags;               /* EXT2_*_FL */
	le32 i_osd1;                /* OS dependent */
	le32 i_block[EXT2_N_BLOCKS]; /* block map; fast symlink text; device numbers */
	le32 i_generation;          /* file version (NFS) */
	le32 i_file_acl;            /* extended attribute block */
	le32 i_size_high;           /* regular files: size, high 32 bits (i_dir_acl) */
	le32 i_faddr;               /* fragment address (unused) */
	uint8_t l_i_frag;           /* fragment number (unused) */
	uint8_t l_i_fsize;          /* fragment size (unused) */
	le16 l_i_blocks_hi;         /* huge_file: i_blocks high bits (unused) */
	le16 l_i_uid_high;          /* owner, high 16 bits */
	le16 l_i_gid_high;          /* group, high 16 bits */
	le32 l_i_reserved2;         /* unused */
};

/* The extra fields of inodes larger than 128 bytes (at byte 128); a field
 * exists only if i_extra_isize covers it. */
struct ext2_inode_extra {
	le16 i_extra_isize;         /* bytes of extra fields in use after the first 128 */
	le16 i_checksum_hi;         /* metadata_csum (unused) */
	le32 i_ctime_extra;         /* nanoseconds << 2 | epoch (seconds' bits 32-33): time.c */
	le32 i_mtime_extra;         /* the same for mtime */
	le32 i_atime_extra;         /* the same for atime */
	le32 i_crtime;              /* creation time, seconds */
	le32 i_crtime_extra;        /* the same as i_ctime_extra for crtime */
};
#define EXT2_EXTRA_COVERS(isize, field) \
	((isize) >= offsetof(struct ext2_inode_extra, field) + 4)

/* A directory entry; entries tile each directory block exactly. */
struct ext2_dir_entry {
	le32 inode;                 /* 0: unused entry */
	le16 rec_len;               /* bytes to the next entry, a multiple of 4 */
	uint8_t name_len;           /* name length (low 8 bits without filetype) */
	uint8_t file_type;          /* EXT2_FT_* with filetype, else name_len's high bits */
	char name[];                /* not NUL-terminated */
};

#define EXT2_DIR_REC_LEN(n)     (((n) + 8 + 3) & ~3u)

/* rec_len of 64 KiB blocks: an entry spanning the whole block does not fit
 * 16 bits, so 65535 (or 0) stands for 65536, and bits 0-1 (always 0 in a
 * multiple of 4) carry bits 16-17. Smaller blocks store the value itself.
 * These two are the only way rec_len is read and written. */
static inline uint32_t ext2_rec_len(uint32_t bsize, const struct ext2_dir_entry *de)
{
	uint32_t len = ld16(de->rec_len);
	if (bsize < 65536)
		return len;
	if (len == 65535 || len == 0)
		return bsize;
	return (len & 65532) | (len & 3) << 16;
}

static inline void ext2_set_rec_len(uint32_t bsize, struct ext2_dir_entry *de, uint32_t len)
{
	if (len < 65536)
		st16(&de->rec_len, (uint16_t)len);
	else if (len == bsize)
		st16(&de->rec_len, 65535);
	else
		st16(&de->rec_len, (uint16_t)((len & 65532) | (len >> 16 & 3)));
}

/*
 * The hash index of a dir_index directory (EXT2_INDEX_FL; htree.c). Block
 * 0 is the root: "." (rec_len 12) and ".." (rec_len: the rest of the
 * block), so that a reader without the index sees only those two, then
 * dx_root_info and a table of dx_entry. Interior nodes (indirect_levels 1)
 * are blocks holding one unused entry of rec_len bsize, then a table. A
 * table's entry 0 has limit and count (struct dx_countlimit) where the
 * others have their hash: it covers hashes below entry 1's. Every entry
 * names a directory block (a leaf, or a node one level down) whose names
 * hash to at least its hash and below the next entry's; a hash with the low
 * bit set says the names of the previous block's last hash continue here.
 */
struct dx_root_info {
	le32 reserved_zero;         /* 0 */
	uint8_t hash_version;       /* EXT2_HASH_* (signedness: the superblock's s_flags) */
	uint8_t info_length;        /* 8 */
	uint8_t indirect_levels;    /* index levels below the root: 0 or 1 */
	uint8_t unused_flags;       /* bit 0 is unimplemented in ext2/3/4 */
};

struct dx_entry {
	le32 hash;                  /* least hash of the block's names (| 1: continued) */
	le32 block;                 /* directory block (logical) */
};

struct dx_countlimit {          /* in place of entry 0's hash */
	le16 limit;                 /* entries the block holds */
	le16 count;                 /* entries in use, entry 0 included */
};

#define EXT2_DX_ROOT_TABLE      32  /* table offset in the root block: "." ".." info */
#define EXT2_DX_NODE_TABLE      8   /* ... in a node: the empty entry */
#define EXT2_DX_MAX_LEVELS      2   /* root and one level of nodes (no large_dir) */

/*
 * Extended attributes: an entry table, either in the space after the extra
 * fields of a large inode (after a 4-byte magic) or in one block (after a
 * 32-byte header) named by i_file_acl and shared by reference count. The
 * entries run up from the start, 4-byte aligned, ended by 4 zero bytes;
 * the values (padded to 4 bytes) lie at the end. e_value_offs counts from
 * the block's start, or in an inode from the first entry.
 */
#define EXT2_XATTR_MAGIC        0xEA020000
#define EXT2_XATTR_REFCOUNT_MAX 1024    /* more sharers get their own block */
struct ext2_xattr_header {
	le32 h_magic;               /* EXT2_XATTR_MAGIC */
	le32 h_refcount;            /* inodes sharing this block */
	le32 h_blocks;              /* blocks of attributes: always 1 */
	le32 h_hash;                /* hash of the entries' hashes (0: not to be shared) */
	le32 h_checksum;            /* metadata_csum only (0 here) */
	le32 h_reserved[3];         /* zero */
};

struct ext2_xattr_entry {
	uint8_t e_name_len;         /* name length */
	uint8_t e_name_index;       /* namespace: EXT2_XATTR_INDEX_* */
	le16 e_value_offs;          /* value offset (see above) */
	le32 e_value_inum;          /* ea_inode: the inode holding the value (0 here) */
	le32 e_value_size;          /* value length */
	le32 e_hash;                /* hash of name and value */
	char e_name[];              /* not NUL-terminated, padded to 4 bytes */
};

#define EXT2_XATTR_ENTRY_LEN(name_len)  (((name_len) + 16 + 3) & ~3u)
#define EXT2_XATTR_VALUE_LEN(size)      (((size) + 3) & ~3u)

/* e_name_index: the namespaces (the name is stored without the prefix). */
#define EXT2_XATTR_INDEX_USER           1   /* "user." */
#define EXT2_XATTR_INDEX_ACL_ACCESS     2   /* "system.posix_acl_access", name "" */
#define EXT2_XATTR_INDEX_ACL_DEFAULT    3   /* "system.posix_acl_default", name "" */
#define EXT2_XATTR_INDEX_TRUSTED        4   /* "trusted." */
#define EXT2_XATTR_INDEX_SECURITY       6   /* "security." */

/* A POSIX ACL as ext2 stores it: a version-1 header, then entries of 4
 * bytes (owner, owning group, mask, other) or 8 bytes (named user, group). */
#define EXT2_ACL_VERSION        0x0001
struct ext2_acl_entry {
	le16 e_tag;                 /* ACL_USER_OBJ ... ACL_OTHER (acl.h) */
	le16 e_perm;                /* rwx bits */
	le32 e_id;                  /* uid or gid: ACL_USER and ACL_GROUP only */
};

_Static_assert(sizeof(struct ext2_super_block) == 1024, "superblock size");
_Static_assert(sizeof(struct ext2_group_desc) == 32, "group descriptor size");
_Static_assert(sizeof(struct ext2_inode) == 128, "inode size");
_Static_assert(sizeof(struct ext2_dir_entry) == 8, "dir entry size");
_Static_assert(sizeof(struct dx_root_info) == 8 && sizeof(struct dx_entry) == 8 &&
               sizeof(struct dx_countlimit) == 4, "dx sizes");
_Static_assert(sizeof(struct ext2_xattr_header) == 32, "xattr header size");
_Static_assert(sizeof(struct ext2_xattr_entry) == 16, "xattr entry size");

/* ---- In memory ------------------------------------------------------------ */

/* An inode time: seconds (1901..2446, what the inode can hold) and, where
 * the inode keeps them, nanoseconds. */
struct ext2_time {
	int64_t sec;
	uint32_t ns;
};

/* Per group, checked at mount (descriptor) and on first bitmap use. */
struct ext2_group {
	uint32_t block_bitmap, inode_bitmap, inode_table;
	bool bitmap_checked;        /* block bitmap's own metadata bits were set */
};

/*
 * In-core inode. Lifecycle: ext2_iget() finds it in the fs's table or reads
 * and validates the on-disk inode into it (refs 1); every change goes to the
 * in-core copy and sets dirty; ext2_iput() writes a dirty inode back into
 * its inode-table block and drops the reference. At zero references it
 * leaves the table; if its link count is zero it is freed on disk then
 * (blocks released, dtime set, bitmap bit cleared). The VFS's iget/iput
 * hold a reference while a file is open; the driver's calls take their own
 * for the length of one operation. Guarded by the fs lock.
 */
struct ext2_inode_info {
	/* io_lock: held by file reads, writes and truncate for their whole
	 * length, keeping the size and block map stable while data is copied
	 * without the fs lock. Lock order: io_lock, then the fs lock, then
	 * buffer locks. Everything else here is guarded by the fs lock. */
	struct mutex io_lock;

	struct list link;           /* fs->inodes hash chain */
	uint32_t ino;
	int refs;
	bool dirty;
	bool freed;                 /* freed on disk: must not be written back */
	bool release_due;           /* unlinked: its release waits (deferred.c) */
	struct list orphan_link;    /* fs->orphans, while on the orphan list */
	uint32_t orphan_next;       /* the next orphan (its i_dtime on disk), or 0 */

	uint16_t mode;
	uint32_t uid, gid;
	uint64_t size;
	struct ext2_time atime, ctime, mtime;
	struct ext2_time crtime;    /* creation (large inodes only) */
	uint32_t dtime;
	uint16_t extra_isize;       /* of the on-disk inode (0 in 128-byte ones) */
	uint16_t links;
	uint32_t blocks;            /* i_blocks: 512-byte units */
	uint32_t flags;
	uint32_t block[EXT2_N_BLOCKS];
	uint32_t generation;
	uint32_t file_acl;

	/* Allocation hint: the last block mapped for a write. */
	uint64_t last_lblk;
	uint32_t last_pblk;
};

#define EXT2_XATTR_RECENT 32       /* attribute blocks remembered for sharing */
#define EXT2_CHANGE_SLOT_BITS 10   /* fsync.c's notes: 1024 slots */
#define EXT2_LOOKUP_HINTS 16        /* directories whose lookups resume (dir.c) */
#define EXT2_INODE_BUCKETS 4096    /* in-memory inodes: a FUSE host may hold tens of thousands */

struct ext2_fs {
	struct fs vfs;              /* first: the VFS's view */
	struct mutex lock;          /* guards everything below */
	struct bcache *bc;

	/* Geometry, fixed at mount. */
	uint32_t bsize, log_bsize;  /* block size and log2 */
	uint32_t addr_per_block;    /* block numbers per indirect block */
	uint32_t blocks_count, inodes_count;
	uint32_t first_data_block;
	uint32_t blocks_per_group, inodes_per_group;
	uint32_t ngroups;
	uint32_t inode_size, first_ino;
	uint32_t desc_per_block, gdt_blocks, reserved_gdt;
	uint32_t rev;
	uint32_t compat, incompat, ro_compat;
	uint32_t itb_per_group;     /* inode table blocks per group */
	uint16_t want_extra_isize;  /* for new inodes of size > 128 */

	/* Counters (kept equal to the sum of the group descriptors). */
	uint32_t free_blocks, free_inodes, r_blocks;

	struct buf *sb_buf;         /* pinned (referenced, not locked) */
	struct ext2_super_block *sb;
	struct buf **gd_bufs;       /* pinned descriptor blocks */
	struct ext2_group *groups;

	struct ext2_journal *journal; /* has_journal: the internal journal, else NULL */
	/* File writes between mapping blocks and updating the size (write
	 * handles, deferred.c); a commit or checkpoint waiting for them to end
	 * sets quiesce_wanted, and no new one starts meanwhile. */
	int write_handles;
	bool quiesce_wanted;

	unsigned errors_policy;
	bool had_errors;
	uint16_t mount_state;       /* s_state when mounted, restored at unmount */

	/* Found at mount by ext2_check_allocation (check.c), fixed after. */
	char damage[112];           /* what is wrong with the allocation metadata, or "" */
	uint32_t *bad, nbad;        /* the bad-blocks inode's list, sorted */

	struct list inodes[EXT2_INODE_BUCKETS];
	struct list orphans;        /* the orphan list, newest first (orphan.c) */
	uint32_t dir_rotor;         /* spreading of new directories */
	/* Freeing that waits for a checkpoint (deferred.c), oldest first. */
	struct ext2_deferred *deferred;
	size_t ndeferred, deferred_cap;

	uint32_t dx_warned;         /* last directory whose index was dropped (said once) */
	/* Where the last name was found in a directory of several blocks
	 * without an index, a slot per directory by inode number. A walk looks
	 * names up in the order readdir gave them, so the next is in that
	 * block or the one after: the walk stays linear instead of scanning
	 * the directory for every name (dir.c). Hints only. */
	struct ext2_lookup_hint { uint32_t dir, block; } lookup_hint[EXT2_LOOKUP_HINTS];

	/* fsync.c's notes: per slot of inode numbers, and for any directory
	 * moved, the epoch of the last change fsync cannot write alone, + 1. */
	uint64_t changed[1u << EXT2_CHANGE_SLOT_BITS];
	uint64_t dir_moved;

	/* Attribute blocks recently written or read: candidates for sharing
	 * (xattr_block.c); 0: empty slot. */
	struct { uint32_t blk, hash; } xattr_recent[EXT2_XATTR_RECENT];
	unsigned xattr_recent_next;
};

static inline struct ext2_fs *EXT2(struct fs *fs) { return (struct ext2_fs *)fs; }

/* ext2_lock: take the fs lock where an operation (or a section of one)
 * starts: no change is half made there, so with a journal the running
 * transaction is committed first if it is due (transaction.c). The caller
 * holds no journal handle and no buffer lock. */
void ext2_lock(struct ext2_fs *fs);

/* "Caller holds the fs lock", checked (STYLE.md 3). */
#define EXT2_ASSERT_LOCKED(fs) \
	((void)(mutex_held(&(fs)->lock) || (panic("%s: ext2 fs lock not held", __func__), 0)))

/* error.c: the one path for corrupt metadata. Marks the fs, logs, applies
 * the errors policy; returns -EIO. */
int ext2_error(struct ext2_fs *fs, const char *func, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
#define EXT2_CORRUPT(fs, ...) ext2_error(fs, __func__, __VA_ARGS__)

/* super.c */
extern const struct fs_ops ext2_ops;
void ext2_sb_update_counts(struct ext2_fs *fs);
/* features.c: say on the console which unsupported features an image has
 * (by e2fsprogs' names, and whether they make it ext4): refused, for
 * incompatible ones; else the read-only ones it is mounted read-only for. */
void ext2_report_features(const char *dev, uint32_t incompat, uint32_t ro_compat, bool refused);
void ext2_sb_dirty(struct ext2_fs *fs);
struct ext2_group_desc *ext2_gd(struct ext2_fs *fs, uint32_t group);
void ext2_gd_dirty(struct ext2_fs *fs, uint32_t group);
bool ext2_group_has_super(struct ext2_fs *fs, uint32_t group);
uint32_t ext2_group_first_block(struct ext2_fs *fs, uint32_t group);
uint32_t ext2_group_nblocks(struct ext2_fs *fs, uint32_t group);
uint32_t ext2_group_meta_end(struct ext2_fs *fs, uint32_t group);
uint32_t ext2_now(void);
int64_t ext2_now_ns(void);
int ext2_check_writable(struct ext2_fs *fs);

/* balloc.c */
bool ext2_block_is_meta(struct ext2_fs *fs, uint32_t blk);
/* ext2_find_zero_bit: the first clear bit of a bitmap in [from, to), or to. */
uint32_t ext2_find_zero_bit(const uint8_t *map, uint32_t from, uint32_t to);
bool ext2_valid_data_block(struct ext2_fs *fs, uint32_t blk);
int ext2_new_block(struct ext2_fs *fs, uint32_t goal, uint32_t *out);
/* ext2_free_block: blk is no longer used; its bit is cleared once the
 * change is on disk (deferred.c). ext2_release_block_bit clears it now. */
int ext2_free_block(struct ext2_fs *fs, uint32_t blk);
int ext2_release_block_bit(struct ext2_fs *fs, uint32_t blk);
int ext2_read_block_bitmap(struct ext2_fs *fs, uint32_t group, struct buf **out);

/* time.c: decode and encode a time (extra NULL: the inode has no extra
 * field for it); set one from VFS nanoseconds, rounded down and clamped to
 * what the inode holds (wide: it has the extra field); the VFS value. */
void ext2_time_decode(struct ext2_time *t, le32 sec, const le32 *extra);
void ext2_time_encode(const struct ext2_time *t, le32 *sec, le32 *extra);
void ext2_time_set(struct ext2_time *t, int64_t ns, bool wide);
int64_t ext2_time_ns(const struct ext2_time *t);
#define EXT2_TIME_WIDE(ii, field) EXT2_EXTRA_COVERS((ii)->extra_isize, field)

/* check.c: at mount, compare the bitmaps with the descriptors, the
 * group metadata and the bad-blocks list; what is wrong goes into
 * fs->damage (0, or -errno for I/O). ext2_is_bad_block: blk is on that list. */
int ext2_check_allocation(struct ext2_fs *fs);
bool ext2_is_bad_block(struct ext2_fs *fs, uint32_t blk);

/* ialloc.c */
int ext2_new_inode(struct ext2_fs *fs, uint32_t dir_ino, bool is_dir, uint32_t *out);
/* ext2_free_inode_bit: deferred like ext2_free_block; the release_ one
 * clears the bit now. */
int ext2_free_inode_bit(struct ext2_fs *fs, uint32_t ino, bool is_dir);
int ext2_release_inode_bit(struct ext2_fs *fs, uint32_t ino, bool is_dir);
uint32_t ext2_ino_group(struct ext2_fs *fs, uint32_t ino);

/* inode.c */
int ext2_iget(struct ext2_fs *fs, uint32_t ino, struct ext2_inode_info **out);
/* ext2_iget of an inode on the orphan list (orphan.c): no links expected. */
int ext2_iget_orphan(struct ext2_fs *fs, uint32_t ino, struct ext2_inode_info **out);
int ext2_iput(struct ext2_fs *fs, struct ext2_inode_info *ii);
struct ext2_inode_info *ext2_ifind(struct ext2_fs *fs, uint32_t ino);   /* in-core only */
bool ext2_valid_ino(struct ext2_fs *fs, uint32_t ino);   /* root, or first_ino..count */
/* Where inode ino lives: its inode-table block and byte offset in it. */
void ext2_inode_locate(struct ext2_fs *fs, uint32_t ino, uint32_t *blk, uint32_t *off);
int ext2_write_inode(struct ext2_fs *fs, struct ext2_inode_info *ii);
/* ext2_inode_buf: the inode-table block holding inode ino, read and locked,
 * and the inode's byte offset in it (brelse when done). */
int ext2_inode_buf(struct ext2_fs *fs, uint32_t ino, struct buf **out, uint32_t *off);
int ext2_init_inode(struct ext2_fs *fs, uint32_t ino, uint32_t mode, uint32_t uid,
                    uint32_t gid, struct ext2_inode_info **out);
int ext2_bmap(struct ext2_fs *fs, struct ext2_inode_info *ii, uint64_t lblk, bool create,
              uint32_t *pblk, bool *fresh);
/* ext2_bmap_run: the blocks (0: holes) of up to max logical blocks from
 * lblk that one block of pointers maps; how many (at least one), or -errno. */
int ext2_bmap_run(struct ext2_fs *fs, struct ext2_inode_info *ii, uint64_t lblk, unsigned max,
                  uint32_t *pblk);
/* ext2_map_new_block: map (allocating) block lblk of ii and hand it back zeroed
 * and referenced, for the caller to fill, mark dirty and release. */
int ext2_map_new_block(struct ext2_fs *fs, struct ext2_inode_info *ii, uint64_t lblk,
                       struct buf **out);
int ext2_truncate(struct ext2_fs *fs, struct ext2_inode_info *ii, uint64_t size);
/* ext2_grow_size: ii's size becomes size, larger than it is. */
void ext2_grow_size(struct ext2_fs *fs, struct ext2_inode_info *ii, uint64_t size);
bool ext2_has_blocks(struct ext2_fs *fs, struct ext2_inode_info *ii);
bool ext2_is_fast_symlink(struct ext2_fs *fs, struct ext2_inode_info *ii);
uint64_t ext2_max_size(struct ext2_fs *fs);
void ext2_touch(struct ext2_inode_info *ii, bool m, bool c);
void ext2_release_inodes(struct ext2_fs *fs);

/* orphan.c: inodes without names still in use, on the orphan list (with a
 * journal): add when written with no links, del at the release; recover
 * finishes a list left by a crash (at mount). */
bool ext2_orphan_listed(const struct ext2_inode_info *ii);
void ext2_orphan_add(struct ext2_fs *fs, struct ext2_inode_info *ii);
int ext2_orphan_del(struct ext2_fs *fs, struct ext2_inode_info *ii);
int ext2_orphan_recover(struct ext2_fs *fs);

/* deferred.c: freeing after a checkpoint (ordered write-back, bcache.h). */
enum ext2_defer_kind {
	EXT2_DEFER_BLOCK,           /* clear a block's bitmap bit */
	EXT2_DEFER_INODE,           /* clear an inode's bitmap bit */
	EXT2_DEFER_DIR_INODE,       /* the same for a directory's */
	EXT2_DEFER_RELEASE,         /* free an unlinked in-core inode (holds a reference) */
};
struct ext2_deferred {
	uint64_t after;             /* due once bcache_checkpoints() > after */
	uint32_t num;
	uint8_t kind;               /* enum ext2_defer_kind */
};
int ext2_defer(struct ext2_fs *fs, enum ext2_defer_kind kind, uint32_t num);
/* ext2_deferred_run: do the records that are due. */
void ext2_deferred_run(struct ext2_fs *fs);
/* ext2_checkpoint: bcache_flush, then the records it made due. */
int ext2_checkpoint(struct ext2_fs *fs);
/* ext2_deferred_drain: checkpoints until nothing waits (unmount). */
int ext2_deferred_drain(struct ext2_fs *fs);
/* ext2_reclaim_deferred: the allocator found nothing free: checkpoint now so
 * that freeing waiting for one is done (0), or -ENOSPC if none waits. Called
 * before the allocating operation has changed anything of its own. */
int ext2_reclaim_deferred(struct ext2_fs *fs);
/* A file write's span from mapping blocks to updating the size: no commit
 * or checkpoint in between (it would put on disk pointers to blocks whose
 * data is not written, or past the size). fs lock held; start may drop it
 * while a commit or checkpoint waits. */
void ext2_write_handle_start(struct ext2_fs *fs);
void ext2_write_handle_stop(struct ext2_fs *fs);
/* ext2_wait_writes: wait (dropping the fs lock) until no write handle is
 * held; the caller holds none. */
void ext2_wait_writes(struct ext2_fs *fs);
/* ext2_unlock: the end of an operation: a checkpoint if one is wanted,
 * the freeing that is due, then the fs lock is released. */
void ext2_unlock(struct ext2_fs *fs);

/* dirhash.c: the hash of a name under version (EXT2_HASH_*, + EXT2_HASH_UNSIGNED
 * for the unsigned variants) and seed (NULL or all zero: the default);
 * -EINVAL for an unknown version. */
int ext2_dirhash(unsigned version, const uint32_t seed[4], const char *name, size_t len,
                 uint32_t *hash, uint32_t *minor);

/* Entries say their file type (name_len 8 bits); else name_len is 16. */
static inline bool ext2_has_filetype(struct ext2_fs *fs)
{
	return fs->incompat & EXT2_FEATURE_INCOMPAT_FILETYPE;
}

/* dir.c */
int ext2_dir_block(struct ext2_fs *fs, struct ext2_inode_info *dir, uint64_t idx,
                   struct buf **out);
uint32_t ext2_dir_name_len(struct ext2_fs *fs, const struct ext2_dir_entry *de);
int ext2_dir_find_in_block(struct ext2_fs *fs, struct buf *b, const char *name, size_t len,
                           uint32_t *off, uint32_t *prev);
bool ext2_dir_insert_in_block(struct ext2_fs *fs, struct buf *b, const char *name, size_t len,
                              uint32_t ino, uint32_t mode);
int ext2_dir_lookup(struct ext2_fs *fs, struct ext2_inode_info *dir, const char *name,
                    size_t len, uint32_t *ino);
int ext2_dir_add(struct ext2_fs *fs, struct ext2_inode_info *dir, const char *name,
                 size_t len, uint32_t ino, uint32_t mode);
int ext2_dir_remove(struct ext2_fs *fs, struct ext2_inode_info *dir, const char *name,
                    size_t len, uint32_t *ino);
int ext2_dir_set(struct ext2_fs *fs, struct ext2_inode_info *dir, const char *name,
                 size_t len, uint32_t ino, uint32_t mode);
int ext2_dir_is_empty(struct ext2_fs *fs, struct ext2_inode_info *dir);
int ext2_dir_init(struct ext2_fs *fs, struct ext2_inode_info *dir, uint32_t parent);
unsigned ext2_mode_to_ft(uint32_t mode);
/* readdir.c */
int ext2_readdir(struct fs *fs, uint64_t dir, uint64_t *cookie, vfs_filldir_fn fill, void *ctx);

/* htree.c: the hash index (see struct dx_entry). These return
 * EXT2_DX_LINEAR when the directory has no usable index (one that fails its
 * checks is rebuilt on a read-write mount; read-only, or if that is not
 * possible, its flag is cleared), for the caller to fall back to a linear
 * scan. */
#define EXT2_DX_LINEAR 1
bool ext2_htree_active(struct ext2_fs *fs, struct ext2_inode_info *dir);
int ext2_htree_find(struct ext2_fs *fs, struct ext2_inode_info *dir, const char *name,
                    size_t len, struct buf **out, uint32_t *off, uint32_t *prev);
int ext2_htree_add(struct ext2_fs *fs, struct ext2_inode_info *dir, const char *name,
                   size_t len, uint32_t ino, uint32_t mode);
/* ext2_htree_leaves: for readdir in hash order, the leaf that names of
 * hash `from` go to and the leaves continuing its last hash. */
struct dx_leaves {
	uint32_t from;              /* in: the hash */
	uint32_t *blocks;           /* out: the leaves (kmalloc'ed, grown as needed;
	                             * the caller frees) */
	uint32_t n, cap;
	uint32_t next;              /* out: the next leaf's index hash, EXT2_HASH_END if none */
	unsigned version;           /* out: the index's hash (ext2_dirhash's version) */
};
int ext2_htree_leaves(struct ext2_fs *fs, struct ext2_inode_info *dir, struct dx_leaves *out);
/* htree_build.c: index a linear directory as it outgrows its first block;
 * build a new index for one whose index failed its checks. 0 if indexed,
 * EXT2_DX_LINEAR if it stays linear (no dir_index, a first block not in
 * the usual shape, more blocks than two levels reach), or -errno. */
int ext2_htree_make(struct ext2_fs *fs, struct ext2_inode_info *dir);
int ext2_htree_rebuild(struct ext2_fs *fs, struct ext2_inode_info *dir);

/* file.c */
ssize_t ext2_read(struct fs *fs, uint64_t ino, void *buf, size_t len, uint64_t off);
ssize_t ext2_write(struct fs *fs, uint64_t ino, const void *buf, size_t len, uint64_t off);
ssize_t ext2_file_read(struct ext2_fs *fs, struct ext2_inode_info *ii, void *buf,
                       size_t len, uint64_t off);
ssize_t ext2_file_write(struct ext2_fs *fs, struct ext2_inode_info *ii, const void *buf,
                        size_t len, uint64_t off);

/* namei.c */
int ext2_lookup(struct fs *fs, uint64_t dir, const char *name, size_t len, uint64_t *ino);
int ext2_getattr(struct fs *fs, uint64_t ino, struct vfs_stat *out);
int ext2_setattr(struct fs *fs, uint64_t ino, const struct vfs_setattr *attr);
int ext2_mknod(struct fs *fs, uint64_t dir, const char *name, size_t len, uint32_t mode,
               uint64_t rdev, uint32_t uid, uint32_t gid, uint64_t *ino);
int ext2_mkdir(struct fs *fs, uint64_t dir, const char *name, size_t len, uint32_t mode,
               uint32_t uid, uint32_t gid, uint64_t *ino);
int ext2_symlink(struct fs *fs, uint64_t dir, const char *name, size_t len,
                 const char *target, uint32_t uid, uint32_t gid, uint64_t *ino);
int ext2_link(struct fs *fs, uint64_t ino, uint64_t dir, const char *name, size_t len);
int ext2_unlink(struct fs *fs, uint64_t dir, const char *name, size_t len);
int ext2_rmdir(struct fs *fs, uint64_t dir, const char *name, size_t len);
int ext2_rename(struct fs *fs, uint64_t from_dir, const char *from, size_t from_len,
                uint64_t to_dir, const char *to, size_t to_len);

/* fsync.c: fsync of one file (the fs_op), and the notes it needs: a change
 * to inode ino that only a checkpoint (plain) or a commit (journal) makes
 * durable: its names (dir.c), its attributes, and with a journal anything
 * of its inode but times (ext2_write_inode); a directory moved. fs lock
 * held. */
int ext2_fsync(struct fs *fs, uint64_t ino);
void ext2_note_change(struct ext2_fs *fs, uint32_t ino);
void ext2_note_dir_moved(struct ext2_fs *fs);
int ext2_vfs_iget(struct fs *fs, uint64_t ino);
void ext2_vfs_iput(struct fs *fs, uint64_t ino);

/* xattr.c: the fs_ops for extended attributes (fs.h); names with their
 * namespace prefix ("user.x"). */
ssize_t ext2_getxattr(struct fs *fs, uint64_t ino, const char *name, void *buf, size_t size);
int ext2_setxattr(struct fs *fs, uint64_t ino, const char *name, const void *value,
                  size_t size, int flags);
ssize_t ext2_listxattr(struct fs *fs, uint64_t ino, char *buf, size_t size);
int ext2_removexattr(struct fs *fs, uint64_t ino, const char *name);
/* xattr_block.c: the inode is being freed: drop its reference to its
 * attribute block (freeing the block at zero). */
int ext2_xattr_drop_block(struct ext2_fs *fs, struct ext2_inode_info *ii);

/* symlink.c */
ssize_t ext2_readlink(struct fs *fs, uint64_t ino, char *buf, size_t size);
int ext2_symlink_write(struct ext2_fs *fs, struct ext2_inode_info *ii, const char *target,
                       size_t len);

#endif
