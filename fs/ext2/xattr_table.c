/*
 * xattr_table.c: an extended-attribute entry table, wherever it lies (an
 * inode's spare space or an attribute block): parsing with every bound
 * checked, building, and the hashes ext2/3 keep in it.
 *
 * The entry hash mixes the name's bytes (rotating by 5) and then the
 * value's little-endian 32-bit words, padding included (rotating by 16);
 * the table (block) hash mixes the entries' hashes in order (rotating by
 * 16), and is 0 if any entry's hash is 0. Older kernels hashed the name
 * with signed chars: a hash that matches that way is accepted too.
 */
#include <errno.h>
#include <string.h>

#include "xattr.h"

static uint32_t rot(uint32_t h, unsigned n) { return (h << n) ^ (h >> (32 - n)); }

static uint32_t load_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The hash of entry e whose value (padded to 4 bytes) is at value. */
static uint32_t entry_hash(const struct ext2_xattr_entry *e, const uint8_t *value,
                           bool signed_chars)
{
	uint32_t h = 0;
	for (unsigned i = 0; i < e->e_name_len; i++) {
		uint32_t c = signed_chars ? (uint32_t)(int32_t)(int8_t)e->e_name[i]
		                          : (uint8_t)e->e_name[i];
		h = rot(h, 5) ^ c;
	}
	uint32_t size = ld32(e->e_value_size);
	if (ld32(e->e_value_inum) == 0)
		for (uint32_t off = 0; off < size; off += 4)
			h = rot(h, 16) ^ load_le32(value + off);
	return h;
}

static uint32_t table_hash_step(uint32_t h, uint32_t entry)
{
	return rot(h, 16) ^ entry;
}

static struct ext2_xattr_entry *entry_at(const struct xattr_area *a, uint32_t off)
{
	return (struct ext2_xattr_entry *)(a->base + off);
}

/* The offset of the end marker; -EIO if the entries run past the table. */
static int64_t entries_end(const struct xattr_area *a)
{
	uint32_t off = a->first;
	for (;;) {
		if (off + 4 > a->len)
			return -EIO;
		if (load_le32(a->base + off) == 0)
			return off;
		if (off + sizeof(struct ext2_xattr_entry) > a->len)
			return -EIO;
		uint32_t elen = EXT2_XATTR_ENTRY_LEN(entry_at(a, off)->e_name_len);
		if (off + elen + 4 > a->len)
			return -EIO;
		off += elen;
	}
}

int xattr_table_parse(struct ext2_fs *fs, const struct xattr_area *a, bool need_hash,
                      bool in_inode, struct xattr_set *s, uint32_t *hash_out,
                      const char *where, uint32_t where_no)
{
	int64_t end = entries_end(a);
	if (end < 0)
		return EXT2_CORRUPT(fs, "%s %u: attribute entries run past the end", where, where_no);
	uint32_t values_from = (uint32_t)end + 4, table_hash = 0;
	bool hash_zero = false;
	for (uint32_t off = a->first; off < (uint32_t)end;) {
		const struct ext2_xattr_entry *e = entry_at(a, off);
		uint32_t size = ld32(e->e_value_size), voff = ld16(e->e_value_offs);
		if (ld32(e->e_value_inum) != 0)
			return EXT2_CORRUPT(fs, "%s %u: attribute value in an inode (ea_inode)",
			                    where, where_no);
		if (size && (size > a->len || voff < values_from || voff > a->len ||
		             EXT2_XATTR_VALUE_LEN(size) > a->len - voff))
			return EXT2_CORRUPT(fs, "%s %u: attribute value at %u size %u out of bounds",
			                    where, where_no, voff, size);
		const uint8_t *value = a->base + (size ? voff : 0);
		uint32_t h = ld32(e->e_hash);
		if ((h != 0 || need_hash) && h != entry_hash(e, value, false) &&
		    h != entry_hash(e, value, true))
			return EXT2_CORRUPT(fs, "%s %u: attribute hash 0x%x does not match", where,
			                    where_no, h);
		if (h == 0)
			hash_zero = true;
		table_hash = table_hash_step(table_hash, h);
		if (s) {
			int rc = xattr_set_add(s, e->e_name_index, e->e_name, e->e_name_len,
			                       size ? value : NULL, size, in_inode);
			if (rc < 0)
				return rc;
		}
		off += EXT2_XATTR_ENTRY_LEN(e->e_name_len);
	}
	if (hash_out)
		*hash_out = hash_zero ? 0 : table_hash;
	return 0;
}

uint32_t xattr_table_build(const struct xattr_area *a, struct xattr_item *const *items,
                           unsigned n)
{
	memset(a->base + a->first, 0, a->len - a->first);
	uint32_t off = a->first, vend = a->len, table_hash = 0;
	bool hash_zero = false;
	for (unsigned i = 0; i < n; i++) {
		const struct xattr_item *it = items[i];
		struct ext2_xattr_entry *e = entry_at(a, off);
		if (it->size) {
			vend -= EXT2_XATTR_VALUE_LEN(it->size);
			memcpy(a->base + vend, it->value, it->size);
			st16(&e->e_value_offs, (uint16_t)vend);
		}
		e->e_name_len = it->name_len;
		e->e_name_index = it->index;
		st32(&e->e_value_size, it->size);
		memcpy(e->e_name, it->name, it->name_len);
		uint32_t h = entry_hash(e, a->base + vend, false);
		st32(&e->e_hash, h);
		hash_zero |= h == 0;
		table_hash = table_hash_step(table_hash, h);
		off += EXT2_XATTR_ENTRY_LEN(it->name_len);
	}
	return hash_zero ? 0 : table_hash;
}
