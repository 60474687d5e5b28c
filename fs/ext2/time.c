/*
 * time.c: inode times on disk and in the VFS.
 *
 * The 32-bit i_[acm]time fields hold signed seconds (1901..2038). Inodes
 * larger than 128 bytes may also hold i_*_extra (ext2_inode_extra): bits
 * 2-31 the nanoseconds, bits 0-1 an epoch added to the seconds as bits
 * 32-33, which reaches 2446. These are e2fsprogs' and Linux ext4's rules:
 *   seconds = (int32)i_xtime + (extra & 3) << 32
 *   extra   = ((seconds - (int32)seconds) >> 32 & 3) | nanoseconds << 2
 * The VFS counts signed 64-bit nanoseconds (1678..2262): later times read
 * from disk come out as its largest value.
 */
#include "ext2.h"

#define NSEC 1000000000

/* What an inode can store: 32-bit seconds, or with the extra field 34 bits
 * whose top two are the epoch. */
#define SEC_MIN ((int64_t)INT32_MIN)
#define SEC_MAX_NARROW ((int64_t)INT32_MAX)
#define SEC_MAX_WIDE ((int64_t)INT32_MAX + (3ll << 32))

void ext2_time_decode(struct ext2_time *t, le32 sec, const le32 *extra)
{
	t->sec = (int32_t)ld32(sec);
	t->ns = 0;
	if (extra) {
		uint32_t x = ld32(*extra);
		t->sec += (int64_t)(x & 3) << 32;
		t->ns = x >> 2 < NSEC ? x >> 2 : 0;   /* e2fsck clears a bad one */
	}
}

void ext2_time_encode(const struct ext2_time *t, le32 *sec, le32 *extra)
{
	st32(sec, (uint32_t)t->sec);
	if (extra) {
		uint32_t epoch = (uint32_t)((t->sec - (int32_t)t->sec) >> 32) & 3;
		st32(extra, epoch | t->ns << 2);
	}
}

void ext2_time_set(struct ext2_time *t, int64_t ns, bool wide)
{
	int64_t s = ns / NSEC, rem = ns % NSEC;
	if (rem < 0) {          /* round down, not toward zero */
		s--;
		rem += NSEC;
	}
	int64_t max = wide ? SEC_MAX_WIDE : SEC_MAX_NARROW;
	if (s < SEC_MIN) {
		s = SEC_MIN;
		rem = 0;
	} else if (s > max) {
		s = max;
		rem = NSEC - 1;
	}
	t->sec = s;
	t->ns = wide ? (uint32_t)rem : 0;   /* a narrow inode keeps whole seconds */
}

int64_t ext2_time_ns(const struct ext2_time *t)
{
	if (t->sec > INT64_MAX / NSEC - 1)
		return INT64_MAX;
	return t->sec * NSEC + t->ns;
}
