/*
 * http_cond.c: the precondition order of RFC 9110 §13.2.2 and the byte
 * ranges of §14.1.2, for http_cond.h.
 */
#include <string.h>

#include "http_chars.h"
#include "http_cond.h"
#include "http_date.h"
#include "text.h"

void http_entity_init(struct http_entity *e, uint64_t ino, uint64_t size, int64_t mtime_ns)
{
	e->size = size;
	e->mtime = mtime_ns < 0 ? 0 : mtime_ns / 1000000000;
	struct text o = text_on(e->etag, sizeof(e->etag));     /* "ino-size-mtime", in hex */
	text_char(&o, '"');
	text_hex(&o, ino);
	text_char(&o, '-');
	text_hex(&o, size);
	text_char(&o, '-');
	text_hex(&o, mtime_ns < 0 ? 0 : (uint64_t)mtime_ns);
	text_char(&o, '"');
	text_end(&o);
}

/* One element of an entity-tag list against our strong tag (§8.8.3.2):
 * the weak comparison ignores a W/ prefix, the strong one refuses it. */
static bool etag_matches(const struct http_span *tag, const char *ours, bool weak)
{
	const char *p = tag->p;
	size_t n = tag->len;
	if (n >= 2 && p[0] == 'W' && p[1] == '/') {
		if (!weak)
			return false;
		p += 2;
		n -= 2;
	}
	return n == strlen(ours) && memcmp(p, ours, n) == 0;
}

/* Whether any field named name lists our tag (or "*"); *present whether
 * the field was sent at all. */
static bool etag_list_matches(const struct http_request *req, const char *name,
                              const char *ours, bool weak, bool *present)
{
	unsigned from = 0;
	const struct http_span *v;
	bool match = false;
	*present = false;
	while ((v = http_field_find(req, name, &from)) != NULL) {
		size_t pos = 0;
		struct http_span e;
		*present = true;
		while (http_list_next(v, &pos, &e))
			if ((e.len == 1 && e.p[0] == '*') || etag_matches(&e, ours, weak))
				match = true;
	}
	return match;
}

/* The date of the only field named name; false when absent, repeated or
 * not a date (the field is then ignored, §13.1.3-4). */
static bool date_field(const struct http_request *req, const char *name, int64_t *t)
{
	unsigned from = 0;
	const struct http_span *v = http_field_find(req, name, &from);
	if (!v || http_field_find(req, name, &from))
		return false;
	return http_date_parse(v->p, v->len, t) == 0;
}

/* A decimal number of up to 18 digits, saturating beyond; false if there
 * are no digits or something else. */
static bool range_number(const char *p, size_t n, uint64_t *out)
{
	if (n == 0)
		return false;
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (!http_is_digit((unsigned char)p[i]))
			return false;
		if (v < 100000000000000000ull)
			v = v * 10 + (uint64_t)(p[i] - '0');
	}
	*out = v;
	return true;
}

enum range_result { RANGE_IGNORE, RANGE_OK, RANGE_UNSATISFIABLE };

/* Range: bytes=first-last | bytes=first- | bytes=-suffix (§14.1.2). */
static enum range_result parse_range(const struct http_span *v, uint64_t size,
                                     uint64_t *off, uint64_t *len)
{
	if (v->len < 6 || !http_eq_nocase(v->p, 6, "bytes="))
		return RANGE_IGNORE;            /* another unit, or no unit */
	struct http_span set = { v->p + 6, v->len - 6 }, spec, more;
	size_t pos = 0;
	if (!http_list_next(&set, &pos, &spec) || http_list_next(&set, &pos, &more))
		return RANGE_IGNORE;            /* empty, or several ranges: send it all */
	const char *dash = memchr(spec.p, '-', spec.len);
	if (!dash)
		return RANGE_IGNORE;
	size_t first_len = (size_t)(dash - spec.p), last_len = spec.len - first_len - 1;
	uint64_t first, last;
	if (size == 0)
		return RANGE_IGNORE;            /* nothing to cut: the whole (empty) file */
	if (first_len == 0) {                   /* suffix */
		if (!range_number(dash + 1, last_len, &last))
			return RANGE_IGNORE;
		if (last == 0)
			return RANGE_UNSATISFIABLE;
		*len = last < size ? last : size;
		*off = size - *len;
		return RANGE_OK;
	}
	if (!range_number(spec.p, first_len, &first))
		return RANGE_IGNORE;
	if (last_len == 0) {
		last = size - 1;
	} else {
		if (!range_number(dash + 1, last_len, &last) || last < first)
			return RANGE_IGNORE;    /* invalid: ignored (§14.1.1) */
		if (last >= size)
			last = size - 1;
	}
	if (first >= size)
		return RANGE_UNSATISFIABLE;
	*off = first;
	*len = last - first + 1;
	return RANGE_OK;
}

/* If-Range (§13.1.5): the range applies only to the representation the
 * client has: a strong tag equal to ours, or a date equal to ours. */
static bool if_range_holds(const struct http_request *req, const struct http_entity *e)
{
	unsigned from = 0;
	const struct http_span *v = http_field_find(req, "if-range", &from);
	if (!v)
		return true;
	if (v->len > 0 && (v->p[0] == '"' || v->p[0] == 'W'))
		return etag_matches(v, e->etag, false);
	int64_t t;
	return http_date_parse(v->p, v->len, &t) == 0 && t == e->mtime;
}

void http_plan_response(const struct http_request *req, const struct http_entity *e,
                        struct http_plan *out)
{
	bool present;
	int64_t t;
	*out = (struct http_plan){ .status = 200, .offset = 0, .length = e->size };
	/* §13.2.2 steps 1-2 */
	bool match = etag_list_matches(req, "if-match", e->etag, false, &present);
	if (present ? !match : (date_field(req, "if-unmodified-since", &t) && e->mtime > t)) {
		*out = (struct http_plan){ .status = 412 };
		return;
	}
	/* steps 3-4: GET and HEAD only come here */
	match = etag_list_matches(req, "if-none-match", e->etag, true, &present);
	if (present ? match : (date_field(req, "if-modified-since", &t) && e->mtime <= t)) {
		*out = (struct http_plan){ .status = 304 };
		return;
	}
	/* step 5 */
	unsigned from = 0;
	const struct http_span *range = http_field_find(req, "range", &from);
	if (req->method != HTTP_GET || !range || http_field_find(req, "range", &from) ||
	    !if_range_holds(req, e))
		return;
	uint64_t off, len;
	switch (parse_range(range, e->size, &off, &len)) {
	case RANGE_OK:
		*out = (struct http_plan){ .status = 206, .offset = off, .length = len };
		break;
	case RANGE_UNSATISFIABLE:
		*out = (struct http_plan){ .status = 416 };
		break;
	case RANGE_IGNORE:
		break;
	}
}
