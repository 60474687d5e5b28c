/*
 * tcp_options.c: the TCP options we know (RFC 9293 §3.1 MSS, RFC 7323
 * window scale and timestamps, RFC 2018 SACK), read with every length
 * checked and written in one fixed layout.
 */
#include <errno.h>
#include <string.h>

#include "tcp_impl.h"

enum {
	OPT_EOL = 0, OPT_NOP = 1, OPT_MSS = 2, OPT_WS = 3, OPT_SACK_PERM = 4,
	OPT_SACK = 5, OPT_TS = 8,
};

int tcp_options_parse(const uint8_t *p, size_t len, bool syn, struct tcp_opts *o)
{
	memset(o, 0, sizeof(*o));
	size_t i = 0;
	while (i < len) {
		uint8_t kind = p[i];
		if (kind == OPT_EOL)
			break;
		if (kind == OPT_NOP) {
			i++;
			continue;
		}
		/* Every other kind has a length byte that counts kind and
		 * itself and must stay inside the option space (§3.1). */
		if (i + 1 >= len)
			return -EINVAL;
		size_t olen = p[i + 1];
		if (olen < 2 || olen > len - i)
			return -EINVAL;
		const uint8_t *v = p + i + 2;
		switch (kind) {
		case OPT_MSS:
			if (olen != 4)
				return -EINVAL;
			if (syn) {      /* only meaningful on a SYN (§3.7.1) */
				o->has_mss = true;
				o->mss = tcp_get16(v);
			}
			break;
		case OPT_WS:
			if (olen != 3)
				return -EINVAL;
			if (syn) {      /* RFC 7323 §2.2: ignored on others */
				o->has_ws = true;
				/* §2.3: a shift above 14 is taken as 14. */
				o->wscale = v[0] > 14 ? 14 : v[0];
			}
			break;
		case OPT_SACK_PERM:
			if (olen != 2)
				return -EINVAL;
			if (syn)
				o->sack_permitted = true;
			break;
		case OPT_SACK:
			if (olen < 10 || (olen - 2) % 8 != 0 || (olen - 2) / 8 > TCP_MAX_SACK)
				return -EINVAL;
			o->nsack = (uint8_t)((olen - 2) / 8);
			for (unsigned b = 0; b < o->nsack; b++) {
				o->sack[b].left = tcp_get32(v + 8 * b);
				o->sack[b].right = tcp_get32(v + 8 * b + 4);
			}
			break;
		case OPT_TS:
			if (olen != 10)
				return -EINVAL;
			o->has_ts = true;
			o->tsval = tcp_get32(v);
			o->tsecr = tcp_get32(v + 4);
			break;
		default:
			break;  /* unknown kinds are skipped by their length */
		}
		i += olen;
	}
	return 0;
}

size_t tcp_options_size(const struct tcp_opts *o, bool syn)
{
	size_t n = 0;
	if (syn) {
		n += o->has_mss ? 4 : 0;
		n += (o->has_ts || o->sack_permitted) ? (o->has_ts ? 12 : 4) : 0;
		n += o->has_ws ? 4 : 0;
		return n;
	}
	n += o->has_ts ? 12 : 0;
	unsigned nsack = o->nsack;
	if (nsack > (o->has_ts ? 3u : 4u))
		nsack = o->has_ts ? 3 : 4;
	n += nsack ? 4 + 8 * nsack : 0;
	return n;
}

static uint8_t *put_ts(uint8_t *p, const struct tcp_opts *o)
{
	p[0] = OPT_TS;
	p[1] = 10;
	tcp_put32(p + 2, o->tsval);
	tcp_put32(p + 6, o->tsecr);
	return p + 10;
}

size_t tcp_options_write(uint8_t *p, const struct tcp_opts *o, bool syn)
{
	uint8_t *start = p;
	if (syn) {
		if (o->has_mss) {
			p[0] = OPT_MSS;
			p[1] = 4;
			tcp_put16(p + 2, o->mss);
			p += 4;
		}
		if (o->has_ts) {
			if (o->sack_permitted) {
				*p++ = OPT_SACK_PERM;
				*p++ = 2;
			} else {
				*p++ = OPT_NOP;
				*p++ = OPT_NOP;
			}
			p = put_ts(p, o);
		} else if (o->sack_permitted) {
			*p++ = OPT_NOP;
			*p++ = OPT_NOP;
			*p++ = OPT_SACK_PERM;
			*p++ = 2;
		}
		if (o->has_ws) {
			*p++ = OPT_NOP;
			*p++ = OPT_WS;
			*p++ = 3;
			*p++ = o->wscale;
		}
		return (size_t)(p - start);
	}
	if (o->has_ts) {
		*p++ = OPT_NOP;
		*p++ = OPT_NOP;
		p = put_ts(p, o);
	}
	unsigned nsack = o->nsack;
	if (nsack > (o->has_ts ? 3u : 4u))
		nsack = o->has_ts ? 3 : 4;
	if (nsack) {
		*p++ = OPT_NOP;
		*p++ = OPT_NOP;
		*p++ = OPT_SACK;
		*p++ = (uint8_t)(2 + 8 * nsack);
		for (unsigned b = 0; b < nsack; b++) {
			tcp_put32(p, o->sack[b].left);
			tcp_put32(p + 4, o->sack[b].right);
			p += 8;
		}
	}
	return (size_t)(p - start);
}
