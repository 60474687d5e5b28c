/*
 * crc32.c: the journal's checksums (jbd2.h). Both are the plain running
 * update, with no inversion before or after: the caller starts from ~0 (or
 * a seed) as the JBD2 format prescribes. A constant table of 16 entries
 * per polynomial, a nibble at a time, needs no table built at run time;
 * only journals that ask for checksums pay for them, once per logged block
 * at commit and at replay.
 */
#include "jbd2.h"

/* Castagnoli, reflected (0x82F63B78): entries for one nibble. */
static const uint32_t crc32c_nibble[16] = {
	0x00000000, 0x105ec76f, 0x20bd8ede, 0x30e349b1, 0x417b1dbc, 0x5125dad3,
	0x61c69362, 0x7198540d, 0x82f63b78, 0x92a8fc17, 0xa24bb5a6, 0xb21572c9,
	0xc38d26c4, 0xd3d3e1ab, 0xe330a81a, 0xf36e6f75,
};

/* IEEE 802.3, most significant bit first (0x04C11DB7). */
static const uint32_t crc32be_nibble[16] = {
	0x00000000, 0x04c11db7, 0x09823b6e, 0x0d4326d9, 0x130476dc, 0x17c56b6b,
	0x1a864db2, 0x1e475005, 0x2608edb8, 0x22c9f00f, 0x2f8ad6d6, 0x2b4bcb61,
	0x350c9b64, 0x31cd86d3, 0x3c8ea00a, 0x384fbdbd,
};

uint32_t jbd2_crc32c(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	for (size_t i = 0; i < len; i++) {
		crc ^= p[i];
		crc = (crc >> 4) ^ crc32c_nibble[crc & 15];
		crc = (crc >> 4) ^ crc32c_nibble[crc & 15];
	}
	return crc;
}

uint32_t jbd2_crc32_be(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	for (size_t i = 0; i < len; i++) {
		crc ^= (uint32_t)p[i] << 24;
		crc = (crc << 4) ^ crc32be_nibble[crc >> 28];
		crc = (crc << 4) ^ crc32be_nibble[crc >> 28];
	}
	return crc;
}
