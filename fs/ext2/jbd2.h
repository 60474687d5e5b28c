/*
 * jbd2.h: the JBD2 journal's on-disk format (as ext3/ext4 write it), and
 * the driver's in-memory view of a journal.
 *
 * The journal lives in the blocks of one inode (s_journal_inum, usually 8);
 * its block 0 is the journal superblock, the log runs from s_first to
 * s_maxlen - 1 and wraps. Every log block that is not a copy of a file
 * system block starts with a header. A transaction is: descriptor blocks
 * (each followed by the copies of the blocks its tags name), revoke blocks,
 * then one commit block, all with the transaction's sequence number.
 * Unlike ext2's, journal fields are big-endian: be32 fields are read and
 * written only through ldb32/stb32.
 */
#ifndef FS_EXT2_JBD2_H
#define FS_EXT2_JBD2_H

#include <stddef.h>
#include <stdint.h>

typedef struct { uint32_t v; } __attribute__((packed)) be32;
typedef struct { uint16_t v; } __attribute__((packed)) be16;

#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
static inline uint32_t ldb32(be32 x) { return x.v; }
static inline uint16_t ldb16(be16 x) { return x.v; }
static inline void stb32(be32 *p, uint32_t v) { p->v = v; }
static inline void stb16(be16 *p, uint16_t v) { p->v = v; }
#else
static inline uint32_t ldb32(be32 x) { return __builtin_bswap32(x.v); }
static inline uint16_t ldb16(be16 x) { return __builtin_bswap16(x.v); }
static inline void stb32(be32 *p, uint32_t v) { p->v = __builtin_bswap32(v); }
static inline void stb16(be16 *p, uint16_t v) { p->v = __builtin_bswap16(v); }
#endif

#define JBD2_MAGIC              0xC03B3998u

/* h_blocktype */
#define JBD2_DESCRIPTOR_BLOCK   1
#define JBD2_COMMIT_BLOCK       2
#define JBD2_SUPERBLOCK_V1      3
#define JBD2_SUPERBLOCK_V2      4
#define JBD2_REVOKE_BLOCK       5

/* Journal features (superblock v2 only). */
#define JBD2_COMPAT_CHECKSUM        0x0001  /* v1: crc32 of each transaction in its commit */
#define JBD2_INCOMPAT_REVOKE        0x0001  /* revoke blocks */
#define JBD2_INCOMPAT_64BIT         0x0002  /* 64-bit block numbers in tags and revokes */
#define JBD2_INCOMPAT_ASYNC_COMMIT  0x0004  /* commit written without waiting for its blocks */
#define JBD2_INCOMPAT_CSUM_V2       0x0008  /* crc32c of every log block, 16 bits in tags */
#define JBD2_INCOMPAT_CSUM_V3       0x0010  /* the same with 32-bit tag checksums */
#define JBD2_INCOMPAT_FAST_COMMIT   0x0020  /* ext4 fast commits after the log */
#define JBD2_INCOMPAT_SUPP (JBD2_INCOMPAT_REVOKE | JBD2_INCOMPAT_64BIT | \
                            JBD2_INCOMPAT_ASYNC_COMMIT | JBD2_INCOMPAT_CSUM_V2 | \
                            JBD2_INCOMPAT_CSUM_V3)

/* Tag flags */
#define JBD2_FLAG_ESCAPE        0x1     /* the block began with JBD2_MAGIC: restore it */
#define JBD2_FLAG_SAME_UUID     0x2     /* no 16-byte uuid follows the tag */
#define JBD2_FLAG_DELETED       0x4     /* unused */
#define JBD2_FLAG_LAST_TAG      0x8     /* the descriptor's last tag */

/* Commit checksum types (checksum v1) */
#define JBD2_CRC32_CHKSUM       1
#define JBD2_CRC32_CHKSUM_SIZE  4
/* s_checksum_type for v2/v3 */
#define JBD2_CRC32C_CHKSUM      4

/* Every log block except data copies starts with this. */
struct jbd2_header {
	be32 h_magic;               /* JBD2_MAGIC */
	be32 h_blocktype;           /* JBD2_*_BLOCK */
	be32 h_sequence;            /* transaction id */
};

/* The journal superblock: block 0 of the journal (1024 bytes used). */
struct jbd2_super {
	struct jbd2_header s_header;
	be32 s_blocksize;           /* journal block size: the file system's */
	be32 s_maxlen;              /* blocks in the journal */
	be32 s_first;               /* first log block */
	be32 s_sequence;            /* first transaction expected in the log */
	be32 s_start;               /* log block of that transaction; 0: log empty */
	be32 s_errno;               /* error recorded by the journal, if any */
	/* Superblock v2 only from here on. */
	be32 s_feature_compat;      /* JBD2_COMPAT_* */
	be32 s_feature_incompat;    /* JBD2_INCOMPAT_* */
	be32 s_feature_ro_compat;   /* none defined */
	uint8_t s_uuid[16];         /* journal uuid: seeds the v2/v3 checksums */
	be32 s_nr_users;            /* file systems sharing it (1 for an internal journal) */
	be32 s_dynsuper;            /* unused */
	be32 s_max_transaction;     /* unused */
	be32 s_max_trans_data;      /* unused */
	uint8_t s_checksum_type;    /* JBD2_CRC32C_CHKSUM with v2/v3 */
	uint8_t s_padding2[3];
	be32 s_num_fc_blks;         /* fast commit blocks */
	be32 s_head;                /* unused here */
	be32 s_padding[40];
	be32 s_checksum;            /* crc32c(~0, superblock with this field 0) */
	uint8_t s_users[16 * 48];   /* ids of the sharing file systems */
};

/* The commit block. */
struct jbd2_commit {
	struct jbd2_header h;
	uint8_t h_chksum_type;      /* v1: JBD2_CRC32_CHKSUM */
	uint8_t h_chksum_size;      /* v1: JBD2_CRC32_CHKSUM_SIZE */
	uint8_t h_padding[2];
	be32 h_chksum[8];           /* [0]: v1 crc32 of the transaction, v2/v3 crc32c of this block */
	be32 h_commit_sec_hi;       /* commit time, seconds (64 bits, high first) */
	be32 h_commit_sec_lo;
	be32 h_commit_nsec;
};

/* A tag in a descriptor block, for one journalled block: tag3 with
 * csum v3 (16 bytes); else the short form, 8 bytes, +4 with 64bit, +2 with
 * csum v2 (jbd2_tag_bytes). A tag without SAME_UUID is followed by 16
 * bytes of uuid. */
struct jbd2_tag3 {
	be32 t_blocknr;             /* file system block, low 32 bits */
	be32 t_flags;               /* JBD2_FLAG_* */
	be32 t_blocknr_high;        /* high 32 bits (64bit) */
	be32 t_checksum;            /* crc32c(seed, sequence, block) */
};
struct jbd2_tag {
	be32 t_blocknr;             /* file system block, low 32 bits */
	be16 t_checksum;            /* v2: low 16 bits of crc32c(seed, sequence, block) */
	be16 t_flags;               /* JBD2_FLAG_* */
	be32 t_blocknr_high;        /* high 32 bits, only with 64bit */
};

/* The revoke block: records of 4 (8 with 64bit) bytes after the header. */
struct jbd2_revoke_header {
	struct jbd2_header h;
	be32 r_count;               /* bytes used in the block, header included */
};

/* Descriptor and revoke blocks end with this with csum v2/v3. */
struct jbd2_tail {
	be32 t_checksum;            /* crc32c(seed, block with this field 0) */
};

_Static_assert(sizeof(struct jbd2_super) == 1024, "journal superblock size");
_Static_assert(offsetof(struct jbd2_super, s_checksum) == 0xFC, "s_checksum offset");
_Static_assert(offsetof(struct jbd2_commit, h_commit_sec_hi) == 0x30, "commit time offset");
_Static_assert(sizeof(struct jbd2_tag3) == 16 && sizeof(struct jbd2_tag) == 12, "tag size");

/* crc32.c: the two checksums the journal uses. crc32c: Castagnoli,
 * reflected, as jbd2 v2/v3 (the caller passes the running value, ~0 to
 * start). crc32_be: the big-endian IEEE crc of checksum v1. */
uint32_t jbd2_crc32c(uint32_t crc, const void *buf, size_t len);
uint32_t jbd2_crc32_be(uint32_t crc, const void *buf, size_t len);

#endif
