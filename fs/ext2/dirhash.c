/*
 * dirhash.c: the name hashes of hash-indexed (dir_index) directories, as
 * the ext2/3/4 on-disk format defines them: "legacy", half-MD4 and TEA,
 * each in a signed and an unsigned variant (name bytes taken as signed or
 * unsigned char; the superblock's flags say which one an image uses).
 *
 * A hash is 32 bits with the low bit clear (the index uses that bit to mark
 * a hash continued in the next leaf); 0xfffffffe is reserved for the end of
 * a directory and is moved one step down. half-MD4 and TEA start from the
 * superblock's hash seed (or, if it is all zero, the MD4 initial values)
 * and feed the name through their transform in pieces of 32 and 16 bytes.
 */
#include <errno.h>

#include "ext2.h"

static uint32_t rol32(uint32_t x, unsigned s)
{
	return x << s | x >> (32 - s);
}

/* A name byte as the variant reads it: sign-extended for signed hashes. */
static uint32_t name_byte(const char *p, size_t i, bool is_unsigned)
{
	uint8_t c = (uint8_t)p[i];
	return is_unsigned ? c : (uint32_t)(int32_t)(int8_t)c;
}

/* The legacy hash: a simple multiplicative mix, no seed. */
static uint32_t legacy_hash(const char *name, size_t len, bool is_unsigned)
{
	uint32_t h0 = 0x12a3fe2d, h1 = 0x37abe8f9;
	for (size_t i = 0; i < len; i++) {
		uint32_t h = h1 + (h0 ^ name_byte(name, i, is_unsigned) * 7152373u);
		if (h & 0x80000000u)
			h -= 0x7fffffffu;
		h1 = h0;
		h0 = h;
	}
	return h0 << 1;
}

/*
 * One piece of the name as nwords 32-bit words: bytes shifted in big-end
 * first, 4 to a word; the rest of the last word and the words after the
 * name are filled with a pad made of the (whole) remaining length.
 */
static void name_words(const char *p, size_t len, uint32_t *w, int nwords, bool is_unsigned)
{
	uint32_t pad = (uint32_t)len | (uint32_t)len << 8;
	pad |= pad << 16;
	size_t take = len < (size_t)nwords * 4 ? len : (size_t)nwords * 4;
	uint32_t v = pad;
	int n = 0;
	for (size_t i = 0; i < take; i++) {
		v = name_byte(p, i, is_unsigned) + (v << 8);
		if (i % 4 == 3) {
			w[n++] = v;
			v = pad;
		}
	}
	if (n < nwords)
		w[n++] = v;
	while (n < nwords)
		w[n++] = pad;
}

#define MD4_F(x, y, z) ((z) ^ ((x) & ((y) ^ (z))))
#define MD4_G(x, y, z) (((x) & (y)) + (((x) ^ (y)) & (z)))
#define MD4_H(x, y, z) ((x) ^ (y) ^ (z))
#define MD4_K2 0x5a827999u
#define MD4_K3 0x6ed9eba1u

/* MD4's three rounds cut to 8 words of input (and 8 steps a round). Step
 * i updates register r[i % 4] from the next three in the order a, b, c, d
 * rotated, as in MD4. */
static void half_md4(uint32_t buf[4], const uint32_t *in)
{
	uint32_t a = buf[0], b = buf[1], c = buf[2], d = buf[3];
	uint32_t *r[4] = { &a, &d, &c, &b };
	static const unsigned s1[4] = { 3, 7, 11, 19 }, s2[4] = { 3, 5, 9, 13 },
	                      s3[4] = { 3, 9, 11, 15 };
	static const unsigned x2[8] = { 1, 3, 5, 7, 0, 2, 4, 6 },
	                      x3[8] = { 3, 7, 2, 6, 1, 5, 0, 4 };
	for (int i = 0; i < 24; i++) {
		int k = i % 8, j = i % 4;
		uint32_t *w = r[j], x = *r[(j + 3) % 4], y = *r[(j + 2) % 4], z = *r[(j + 1) % 4];
		if (i < 8)
			*w = rol32(*w + MD4_F(x, y, z) + in[k], s1[j]);
		else if (i < 16)
			*w = rol32(*w + MD4_G(x, y, z) + in[x2[k]] + MD4_K2, s2[j]);
		else
			*w = rol32(*w + MD4_H(x, y, z) + in[x3[k]] + MD4_K3, s3[j]);
	}
	buf[0] += a;
	buf[1] += b;
	buf[2] += c;
	buf[3] += d;
}

/* 16 rounds of TEA over buf[0..1], keyed by the 4 input words. */
static void tea(uint32_t buf[4], const uint32_t *in)
{
	uint32_t sum = 0, b0 = buf[0], b1 = buf[1];
	for (int n = 0; n < 16; n++) {
		sum += 0x9e3779b9u;
		b0 += ((b1 << 4) + in[0]) ^ (b1 + sum) ^ ((b1 >> 5) + in[1]);
		b1 += ((b0 << 4) + in[2]) ^ (b0 + sum) ^ ((b0 >> 5) + in[3]);
	}
	buf[0] += b0;
	buf[1] += b1;
}

/* Feed the name through transform in pieces of nwords words. */
static void feed(uint32_t buf[4], const char *name, size_t len, int nwords, bool is_unsigned,
                 void (*transform)(uint32_t buf[4], const uint32_t *in))
{
	uint32_t in[8];
	for (size_t off = 0; off < len; off += (size_t)nwords * 4) {
		name_words(name + off, len - off, in, nwords, is_unsigned);
		transform(buf, in);
	}
}

int ext2_dirhash(unsigned version, const uint32_t seed[4], const char *name, size_t len,
                 uint32_t *hash, uint32_t *minor)
{
	uint32_t buf[4] = { 0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476 };
	if (seed && (seed[0] | seed[1] | seed[2] | seed[3])) {
		for (int i = 0; i < 4; i++)
			buf[i] = seed[i];
	}
	if (version >= 2 * EXT2_HASH_UNSIGNED)
		return -EINVAL;
	bool is_unsigned = version >= EXT2_HASH_UNSIGNED;
	uint32_t h, m = 0;
	switch (version % EXT2_HASH_UNSIGNED) {
	case EXT2_HASH_LEGACY:
		h = legacy_hash(name, len, is_unsigned);
		break;
	case EXT2_HASH_HALF_MD4:
		feed(buf, name, len, 8, is_unsigned, half_md4);
		h = buf[1];
		m = buf[2];
		break;
	default:        /* EXT2_HASH_TEA */
		feed(buf, name, len, 4, is_unsigned, tea);
		h = buf[0];
		m = buf[1];
		break;
	}
	h &= ~1u;
	if (h == EXT2_HASH_END)
		h = EXT2_HASH_END - 2;
	*hash = h;
	if (minor)
		*minor = m;
	return 0;
}
