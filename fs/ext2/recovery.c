/*
 * recovery.c: replaying a JBD2 log at mount (ext2_journal_recover,
 * journal.h), in the three passes the format implies:
 *
 *   scan    from s_start/s_sequence, follow transactions while each block
 *           carries the expected sequence number, up to the last one whose
 *           commit block is present and whose checksums hold: the end of
 *           the log;
 *   revoke  collect every revoke record of those transactions (a block
 *           revoked in transaction T is not replayed from T or earlier);
 *   replay  copy each logged block that is not revoked to its home block.
 *
 * Replay is idempotent: a crash during it replays again at the next mount.
 */
#include <errno.h>
#include <string.h>

#include "alloc.h"
#include "blkdev.h"
#include "ext2.h"
#include "jbd2.h"
#include "journal.h"

enum pass { PASS_SCAN, PASS_REVOKE, PASS_REPLAY };

#define REVOKE_BUCKETS 1024

struct revoke {
	struct revoke *next;
	uint64_t block;
	uint32_t seq;               /* the latest transaction revoking it */
};

struct recovery {
	struct ext2_journal *j;
	uint32_t end;               /* first sequence not committed (after the scan) */
	struct revoke *revoked[REVOKE_BUCKETS];
	unsigned replayed, bad;
};

/* Sequence numbers wrap: a is after b. */
static bool seq_after(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) > 0;
}

static uint32_t log_next(struct ext2_journal *j, uint32_t n)
{
	return n + 1 >= j->maxlen ? j->first : n + 1;
}

static int read_log(struct ext2_journal *j, uint32_t n, struct buf **out)
{
	return bread(j->fs->bc, j->map[n], out);
}

static bool tail_ok(struct ext2_journal *j, const uint8_t *data)
{
	size_t off = j->fs->bsize - sizeof(struct jbd2_tail);
	return !j->csum || ext2_journal_block_csum(j, data, off) ==
	       ldb32(((const struct jbd2_tail *)(data + off))->t_checksum);
}

/* ---- Revoke table -------------------------------------------------------- */

static struct revoke **revoke_slot(struct recovery *r, uint64_t block)
{
	struct revoke **p = &r->revoked[(block * 0x9e3779b97f4a7c15ull) >> 54];
	while (*p && (*p)->block != block)
		p = &(*p)->next;
	return p;
}

static int revoke_add(struct recovery *r, uint64_t block, uint32_t seq)
{
	struct revoke **p = revoke_slot(r, block);
	if (*p) {
		if (seq_after(seq, (*p)->seq))
			(*p)->seq = seq;
		return 0;
	}
	struct revoke *rv = kmalloc(sizeof(*rv));
	if (!rv)
		return -ENOMEM;
	rv->next = NULL;
	rv->block = block;
	rv->seq = seq;
	*p = rv;
	return 0;
}

/* Is block's copy in transaction seq revoked (by seq or a later one)? */
static bool revoked(struct recovery *r, uint64_t block, uint32_t seq)
{
	struct revoke *rv = *revoke_slot(r, block);
	return rv && !seq_after(seq, rv->seq);
}

static void revoke_free(struct recovery *r)
{
	for (unsigned i = 0; i < REVOKE_BUCKETS; i++)
		while (r->revoked[i]) {
			struct revoke *rv = r->revoked[i];
			r->revoked[i] = rv->next;
			kfree(rv);
		}
}

/* ---- Blocks of a transaction --------------------------------------------- */

struct tag {
	uint64_t block;
	uint32_t flags;
	uint32_t csum;
};

/* The tag at off of a descriptor block, and the offset of the next. */
static size_t parse_tag(struct ext2_journal *j, const uint8_t *p, size_t off, struct tag *t)
{
	if (j->incompat & JBD2_INCOMPAT_CSUM_V3) {
		const struct jbd2_tag3 *t3 = (const struct jbd2_tag3 *)(p + off);
		t->block = ldb32(t3->t_blocknr);
		t->flags = ldb32(t3->t_flags);
		t->csum = ldb32(t3->t_checksum);
		if (j->incompat & JBD2_INCOMPAT_64BIT)
			t->block |= (uint64_t)ldb32(t3->t_blocknr_high) << 32;
	} else {
		const struct jbd2_tag *t2 = (const struct jbd2_tag *)(p + off);
		t->block = ldb32(t2->t_blocknr);
		t->flags = ldb16(t2->t_flags);
		t->csum = ldb16(t2->t_checksum);
		if (j->incompat & JBD2_INCOMPAT_64BIT)
			t->block |= (uint64_t)ldb32(t2->t_blocknr_high) << 32;
	}
	off += j->tag_bytes;
	if (!(t->flags & JBD2_FLAG_SAME_UUID))
		off += 16;
	return off;
}

/* Where a descriptor's tags end: before the tail with checksums. */
static size_t tags_end(struct ext2_journal *j)
{
	return j->fs->bsize - (j->csum ? sizeof(struct jbd2_tail) : 0);
}

static bool data_csum_ok(struct ext2_journal *j, const struct tag *t, uint32_t seq,
                         const uint8_t *data)
{
	if (!j->csum)
		return true;
	uint32_t c = ext2_journal_copy_csum(j, seq, data, false);
	if (j->incompat & JBD2_INCOMPAT_CSUM_V3)
		return c == t->csum;
	return (c & 0xffff) == t->csum;
}

/* Copy log block n (the copy of t->block in transaction seq) home. */
static int replay_block(struct recovery *r, const struct tag *t, uint32_t n, uint32_t seq)
{
	struct ext2_journal *j = r->j;
	struct ext2_fs *fs = j->fs;
	if (t->block >= fs->blocks_count) {
		kprintf("ext2: %s: journal names block %lu past the end\n", fs->vfs.dev->name,
		        (unsigned long)t->block);
		return -EIO;
	}
	if (revoked(r, t->block, seq))
		return 0;
	struct buf *src, *dst;
	int rc = read_log(j, n, &src);
	if (rc < 0)
		return rc;
	if (!data_csum_ok(j, t, seq, src->data)) {
		kprintf("ext2: %s: journal block %u (home %lu, transaction %u): bad checksum, "
		        "not replayed\n", fs->vfs.dev->name, n, (unsigned long)t->block, seq);
		r->bad++;
		brelse(src);
		return 0;
	}
	rc = bget_zero(fs->bc, t->block, &dst);
	if (rc == 0) {
		memcpy(dst->data, src->data, fs->bsize);
		if (t->flags & JBD2_FLAG_ESCAPE) {
			be32 magic;
			stb32(&magic, JBD2_MAGIC);
			memcpy(dst->data, &magic, sizeof(magic));
		}
		bdirty(dst, true);
		brelse(dst);
		r->replayed++;
	}
	brelse(src);
	return rc;
}

/* A descriptor block at log block *n: handle its tags for the pass (v1
 * checksum: fold the blocks into *crc) and step *n past its data blocks.
 * 0, or -EAGAIN if the descriptor is not valid (the log ends here). */
static int do_descriptor(struct recovery *r, enum pass pass, const uint8_t *desc,
                         uint32_t seq, uint32_t *n, uint32_t *crc)
{
	struct ext2_journal *j = r->j;
	if (!tail_ok(j, desc))
		return -EAGAIN;
	bool v1 = pass == PASS_SCAN && (j->compat & JBD2_COMPAT_CHECKSUM);
	if (v1)
		*crc = jbd2_crc32_be(*crc, desc, j->fs->bsize);
	size_t off = sizeof(struct jbd2_header), end = tags_end(j);
	while (off + j->tag_bytes <= end) {
		struct tag t;
		off = parse_tag(j, desc, off, &t);
		*n = log_next(j, *n);
		int rc = 0;
		if (pass == PASS_REPLAY) {
			rc = replay_block(r, &t, *n, seq);
		} else if (v1) {
			struct buf *b;
			rc = read_log(j, *n, &b);
			if (rc == 0) {
				*crc = jbd2_crc32_be(*crc, b->data, j->fs->bsize);
				brelse(b);
			}
		}
		if (rc < 0)
			return rc;
		if (t.flags & JBD2_FLAG_LAST_TAG)
			break;
	}
	return 0;
}

/* Is this commit block (of transaction seq) valid? crc: the v1 sum. */
static bool commit_ok(struct ext2_journal *j, const uint8_t *data, uint32_t crc)
{
	const struct jbd2_commit *c = (const struct jbd2_commit *)data;
	if (j->csum) {
		size_t off = offsetof(struct jbd2_commit, h_chksum);
		return ext2_journal_block_csum(j, data, off) == ldb32(c->h_chksum[0]);
	}
	if (j->compat & JBD2_COMPAT_CHECKSUM) {
		uint32_t found = ldb32(c->h_chksum[0]);
		bool used = c->h_chksum_type == JBD2_CRC32_CHKSUM &&
		            c->h_chksum_size == JBD2_CRC32_CHKSUM_SIZE && found == crc;
		bool unused = c->h_chksum_type == 0 && c->h_chksum_size == 0 && found == 0;
		return used || unused;
	}
	return true;
}

static int do_revoke(struct recovery *r, const uint8_t *data, uint32_t seq)
{
	struct ext2_journal *j = r->j;
	uint32_t count = ldb32(((const struct jbd2_revoke_header *)data)->r_count);
	size_t rec = (j->incompat & JBD2_INCOMPAT_64BIT) ? 8 : 4;
	if (count < sizeof(struct jbd2_revoke_header) || count > tags_end(j))
		return -EIO;
	for (size_t off = sizeof(struct jbd2_revoke_header); off + rec <= count; off += rec) {
		uint64_t block = ldb32(*(const be32 *)(data + off));
		if (rec == 8)
			block = block << 32 | ldb32(*(const be32 *)(data + off + 4));
		int rc = revoke_add(r, block, seq);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* One pass over the log. The scan sets r->end; the others stop there. */
static int do_pass(struct recovery *r, enum pass pass)
{
	struct ext2_journal *j = r->j;
	uint32_t n = j->start, seq = j->sequence, crc = ~0u;
	int rc = 0;
	/* Bounded: a log cannot hold more transactions than it has blocks. */
	for (uint32_t walked = 0; walked < j->maxlen; walked++) {
		if (pass != PASS_SCAN && seq == r->end)
			break;
		struct buf *b;
		rc = read_log(j, n, &b);
		if (rc < 0)
			break;
		const struct jbd2_header *h = (const struct jbd2_header *)b->data;
		uint32_t type = ldb32(h->h_blocktype);
		if (ldb32(h->h_magic) != JBD2_MAGIC || ldb32(h->h_sequence) != seq) {
			brelse(b);
			break;
		}
		if (type == JBD2_DESCRIPTOR_BLOCK) {
			rc = do_descriptor(r, pass, b->data, seq, &n, &crc);
		} else if (type == JBD2_COMMIT_BLOCK) {
			if (pass == PASS_SCAN && !commit_ok(j, b->data, crc))
				rc = -EAGAIN;
			else
				seq++;
			crc = ~0u;
		} else if (type == JBD2_REVOKE_BLOCK) {
			if (!tail_ok(j, b->data))
				rc = -EAGAIN;
			else if (pass == PASS_REVOKE)
				rc = do_revoke(r, b->data, seq);
		} else {
			rc = -EAGAIN;   /* not a log block: the log ends */
		}
		brelse(b);
		if (rc < 0)
			break;
		n = log_next(j, n);
	}
	if (pass == PASS_SCAN)
		r->end = seq;
	if (rc == -EAGAIN && pass == PASS_SCAN)
		rc = 0;     /* the last transaction was not complete: not replayed */
	else if (rc == -EAGAIN)
		rc = -EIO;  /* the scan accepted it, now it is different */
	return rc;
}

int ext2_journal_recover(struct ext2_journal *j, unsigned *bad)
{
	struct ext2_fs *fs = j->fs;
	*bad = 0;
	if (j->start == 0)
		return 0;
	struct recovery *r = kzalloc(sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->j = j;
	int rc = do_pass(r, PASS_SCAN);
	if (rc == 0 && (j->incompat & JBD2_INCOMPAT_REVOKE))
		rc = do_pass(r, PASS_REVOKE);
	if (rc == 0)
		rc = do_pass(r, PASS_REPLAY);
	if (rc == 0)
		rc = bcache_flush(fs->bc);  /* home blocks durable before the log is dropped */
	if (rc == 0) {
		if (r->end != j->sequence)
			kprintf("ext2: %s: journal replayed: transactions %u..%u, %u blocks\n",
			        fs->vfs.dev->name, j->sequence, r->end - 1, r->replayed);
		else
			kprintf("ext2: %s: journal holds no complete transaction\n", fs->vfs.dev->name);
		/* Past the last sequence seen, as jbd2 does: a half-written
		 * transaction's blocks can never match the next one. */
		rc = ext2_journal_mark_empty(j, r->end + 1);
	}
	*bad = r->bad;
	revoke_free(r);
	kfree(r);
	return rc;
}
