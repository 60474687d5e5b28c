/*
 * test_ext2_time.c: fs/ext2/time.c against ext4's on-disk time encoding
 * (the raw "seconds:extra" pairs below are what debugfs 1.47 prints for
 * these times), its clamping, and rec_len's 64 KiB encoding (ext2.h).
 */
#include <criterion/criterion.h>

#include "ext2/ext2.h"

struct raw { uint32_t sec, extra; };

static struct raw encode(int64_t ns, bool wide)
{
	struct ext2_time t;
	ext2_time_set(&t, ns, wide);
	le32 s, x = { 0 };
	ext2_time_encode(&t, &s, wide ? &x : NULL);
	return (struct raw){ ld32(s), ld32(x) };
}

static int64_t decode(uint32_t sec, uint32_t extra, bool wide)
{
	le32 s, x;
	st32(&s, sec);
	st32(&x, extra);
	struct ext2_time t;
	ext2_time_decode(&t, s, wide ? &x : NULL);
	return ext2_time_ns(&t);
}

#define NS 1000000000ll

Test(ext2_time, ext4_encoding_both_ways)
{
	struct { int64_t ns; uint32_t sec, extra; } v[] = {
		{ -631054555 * NS + 123456789, 0xda62df25, 0x1d6f3454 },  /* 1950-01-02 03:04:05.123456789 */
		{ 2147483648 * NS, 0x80000000, 0x00000001 },              /* 2038-01-19 03:14:08 */
		{ 4113270489 * NS + 500000000, 0xf52b86d9, 0x77359401 },  /* 2100-05-06 07:08:09.5 */
		{ 7258118401 * NS + 250000000, 0xb09e1901, 0x3b9aca02 },  /* 2200-01-01 00:00:01.25 */
		{ -2147483648 * NS, 0x80000000, 0x00000000 },             /* 1901-12-13 20:45:52 */
		{ 0, 0, 0 },
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(*v); i++) {
		struct raw r = encode(v[i].ns, true);
		cr_expect_eq(r.sec, v[i].sec, "case %zu: seconds %#x", i, r.sec);
		cr_expect_eq(r.extra, v[i].extra, "case %zu: extra %#x", i, r.extra);
		cr_expect_eq(decode(v[i].sec, v[i].extra, true), v[i].ns, "case %zu: decoded", i);
	}
}

Test(ext2_time, clamping)
{
	/* Narrow (128-byte) inodes: whole seconds, 1901..2038, rounded down. */
	cr_expect_eq(encode(-1, false).sec, 0xffffffffu);
	cr_expect_eq(encode(3000000000 * NS, false).sec, 0x7fffffffu);
	cr_expect_eq(encode(-3000000000 * NS, false).sec, 0x80000000u);
	cr_expect_eq(decode(0x80000000, 0, false), -2147483648 * NS);
	/* Wide: up to 2446-05-10 22:38:55.999999999. */
	struct raw top = encode(INT64_MAX, true);
	cr_expect_eq(decode(top.sec, top.extra, true), INT64_MAX, "past the VFS's range: its largest");
	cr_expect_eq(top.extra & 3, 2, "2262 is in epoch 2");
	cr_expect_eq(decode(0x7fffffff, 3 | (999999999u << 2), true), INT64_MAX);
	/* A bad nanosecond field reads as 0 (e2fsck clears it). */
	cr_expect_eq(decode(5, 0xfffffffc, true), 5 * NS);
}

Test(ext2_time, rec_len_64k)
{
	struct ext2_dir_entry de;
	ext2_set_rec_len(65536, &de, 65536);
	cr_expect_eq(ld16(de.rec_len), 65535);
	cr_expect_eq(ext2_rec_len(65536, &de), 65536);
	st16(&de.rec_len, 0);
	cr_expect_eq(ext2_rec_len(65536, &de), 65536);
	ext2_set_rec_len(65536, &de, 65524);
	cr_expect_eq(ext2_rec_len(65536, &de), 65524);
	ext2_set_rec_len(4096, &de, 4096);
	cr_expect_eq(ld16(de.rec_len), 4096);
	st16(&de.rec_len, 0);
	cr_expect_eq(ext2_rec_len(4096, &de), 0, "below 64 KiB, 0 is 0 (and corrupt)");
}
