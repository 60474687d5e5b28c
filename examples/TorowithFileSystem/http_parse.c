/*
 * http_parse.c: the request head parser of http_parse.h: a scan for the end
 * of the head that enforces the limits as bytes arrive, then one pass over
 * the complete head: the request line (RFC 9112 §3), the field lines (§5)
 * and the fields that frame the message (§6: Content-Length,
 * Transfer-Encoding) or decide the connection (Host, Connection).
 */
#include <string.h>

#include "http_chars.h"
#include "http_parse.h"

const struct http_limits http_default_limits = {
	.request_line = 8192,
	.field_line = 8192,
	.head = 16384,
	.fields = 64,
	.body = 65536,
};

/* Empty lines tolerated before the request line (RFC 9112 §2.2: at least one). */
#define MAX_LEADING_EMPTY_LINES 8

void http_parser_init(struct http_parser *p, const struct http_limits *lim)
{
	memset(p, 0, sizeof(*p));
	p->lim = *lim;
	if (p->lim.fields > HTTP_MAX_FIELDS)
		p->lim.fields = HTTP_MAX_FIELDS;
}

/* The status for a line that is already too long: the request line's own
 * limit, or the field line's. */
static long too_long(const struct http_parser *p)
{
	return p->lines == 0 ? -414 : -431;
}

/* Scan buf[p->scanned..len) for the end of the head. Returns the head's end
 * (after its blank line), 0 when more is needed, or -status. */
static long scan(struct http_parser *p, const char *buf, size_t len)
{
	size_t i = p->scanned;
	for (; i < len; i++) {
		unsigned char c = (unsigned char)buf[i];
		if (c == '\r') {
			if (i + 1 == len)
				break;          /* is an LF next? look again with more bytes */
			if (buf[i + 1] != '\n')
				return -400;    /* a bare CR (RFC 9112 §2.2) */
			continue;
		}
		if (c != '\n') {
			size_t line_len = i + 1 - p->line_start;
			if (line_len > (p->lines == 0 ? p->lim.request_line : p->lim.field_line))
				return too_long(p);
			if (i + 1 - p->start > p->lim.head)
				return -431;
			continue;
		}
		size_t end = i > p->line_start && buf[i - 1] == '\r' ? i - 1 : i;
		if (end == p->line_start) {             /* an empty line */
			if (p->lines > 0) {
				p->scanned = i + 1;
				return (long)(i + 1);
			}
			if (i + 1 > MAX_LEADING_EMPTY_LINES * 2)
				return -400;
			p->start = p->line_start = i + 1;
			continue;
		}
		p->lines++;
		if (p->lines - 1 > p->lim.fields)
			return -431;
		p->line_start = i + 1;
	}
	p->scanned = i;
	return 0;
}

/* The next line of a head known to be complete and free of bare CRs:
 * [*pos, end of line) into *line, *pos moved past the line's end. */
static void next_line(const char *buf, size_t *pos, struct http_span *line)
{
	const char *s = buf + *pos;
	const char *nl = s;
	while (*nl != '\n')
		nl++;
	line->p = s;
	line->len = (size_t)(nl - s);
	if (line->len > 0 && s[line->len - 1] == '\r')
		line->len--;
	*pos += (size_t)(nl - s) + 1;
}

static enum http_method method_of(const struct http_span *m)
{
	static const char *const others[] = {
		"POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
	};
	if (m->len == 3 && memcmp(m->p, "GET", 3) == 0)
		return HTTP_GET;
	if (m->len == 4 && memcmp(m->p, "HEAD", 4) == 0)
		return HTTP_HEAD;
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
		if (m->len == strlen(others[i]) && memcmp(m->p, others[i], m->len) == 0)
			return HTTP_METHOD_OTHER;
	return HTTP_METHOD_UNKNOWN;
}

/* HTTP-version = "HTTP/" DIGIT "." DIGIT (RFC 9112 §2.3). 1.x is served as
 * 1.0 or 1.1; another major version is 505. */
static long parse_version(const char *v, size_t len, unsigned *out)
{
	if (len != 8 || memcmp(v, "HTTP/", 5) != 0 || !http_is_digit(v[5]) || v[6] != '.' ||
	    !http_is_digit(v[7]))
		return -400;
	if (v[5] != '1')
		return -505;
	*out = v[7] == '0' ? 10 : 11;
	return 0;
}

/* The path of an absolute-form target "http://authority/path?query"
 * (RFC 9112 §3.2.2): the server is the authority, so only the path counts. */
static long absolute_form_path(struct http_span *target)
{
	const char *t = target->p;
	size_t n = target->len, i = 0;
	while (i < n && (http_is_alpha(t[i]) || http_is_digit(t[i]) || t[i] == '+' ||
	                 t[i] == '-' || t[i] == '.'))
		i++;
	if (!(http_eq_nocase(t, i, "http") || http_eq_nocase(t, i, "https")) ||
	    n - i < 3 || memcmp(t + i, "://", 3) != 0)
		return -400;
	i += 3;
	size_t authority = i;
	while (i < n && t[i] != '/' && t[i] != '?')
		i++;
	if (i == authority)
		return -400;
	if (i == n || t[i] == '?') {
		/* No path: the path is "/" (RFC 9110 §4.2.3); keep any query out of
		 * it, since it names nothing on disk. */
		target->p = "/";
		target->len = 1;
		return 0;
	}
	target->p = t + i;
	target->len = n - i;
	return 0;
}

/* request-line = method SP request-target SP HTTP-version (RFC 9112 §3),
 * single spaces, a visible-ASCII target. */
static long parse_request_line(const struct http_span *line, struct http_request *req)
{
	const char *s = line->p, *end = s + line->len;
	const char *sp1 = memchr(s, ' ', line->len);
	if (!sp1 || sp1 == s)
		return -400;
	const char *sp2 = memchr(sp1 + 1, ' ', (size_t)(end - sp1 - 1));
	if (!sp2 || sp2 == sp1 + 1)
		return -400;
	/* The version first, so that an error answer can speak it. */
	long rc = parse_version(sp2 + 1, (size_t)(end - sp2 - 1), &req->version);
	if (rc < 0)
		return rc;
	for (const char *c = s; c < sp1; c++)
		if (!http_is_tchar((unsigned char)*c))
			return -400;
	for (const char *c = sp1 + 1; c < sp2; c++)
		if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f)
			return -400;
	req->request_line = *line;
	req->method_name = (struct http_span){ s, (size_t)(sp1 - s) };
	req->method = method_of(&req->method_name);
	req->path = (struct http_span){ sp1 + 1, (size_t)(sp2 - sp1 - 1) };
	if (req->path.p[0] == '/')
		return 0;                       /* origin-form */
	if (req->method == HTTP_GET || req->method == HTTP_HEAD)
		return absolute_form_path(&req->path);
	return 0;   /* authority- or asterisk-form: the method is refused anyway */
}

/* field-line = field-name ":" OWS field-value OWS (RFC 9112 §5). */
static long parse_field_line(const struct http_span *line, struct http_field *f)
{
	const char *s = line->p, *end = s + line->len;
	if (http_is_ows((unsigned char)s[0]))
		return -400;    /* obs-fold, or white space before the first field (§5.2, §2.2) */
	const char *c = s;
	while (c < end && http_is_tchar((unsigned char)*c))
		c++;
	if (c == s || c == end || *c != ':')
		return -400;    /* no name, or white space (or junk) before the colon (§5.1) */
	f->name = (struct http_span){ s, (size_t)(c - s) };
	const char *v = c + 1;
	for (const char *x = v; x < end; x++)
		if (!http_is_field_char((unsigned char)*x))
			return -400;    /* NUL or another control character */
	while (v < end && http_is_ows((unsigned char)*v))
		v++;
	while (end > v && http_is_ows((unsigned char)end[-1]))
		end--;
	f->value = (struct http_span){ v, (size_t)(end - v) };
	return 0;
}

/* Content-Length = 1*DIGIT, possibly a list of one number repeated
 * (RFC 9110 §8.6); every Content-Length line must agree. */
static long parse_content_length(const struct http_span *value, bool *seen, uint64_t *out)
{
	size_t pos = 0;
	struct http_span e;
	bool any = false;
	while (http_list_next(value, &pos, &e)) {
		uint64_t n = 0;
		if (e.len > 18)
			return -400;        /* more than we could ever want, and no overflow */
		for (size_t i = 0; i < e.len; i++) {
			if (!http_is_digit((unsigned char)e.p[i]))
				return -400;
			n = n * 10 + (uint64_t)(e.p[i] - '0');
		}
		if (*seen && n != *out)
			return -400;
		*seen = true;
		*out = n;
		any = true;
	}
	return any ? 0 : -400;
}

/* Host (RFC 9110 §7.2): uri-host [ ":" port ], or empty. */
static bool host_ok(const struct http_span *v)
{
	for (size_t i = 0; i < v->len; i++) {
		unsigned char c = (unsigned char)v->p[i];
		if (!(http_is_alpha(c) || http_is_digit(c) || strchr("-._~%!$&'()*+,;=:[]", c)))
			return false;
	}
	return true;
}

struct framing {
	bool content_length, transfer_encoding, close, keep_alive;
	unsigned hosts;
};

/* What the fields that frame the message or steer the connection say. */
static long note_field(const struct http_field *f, struct framing *fr, struct http_request *req)
{
	const struct http_span *n = &f->name;
	if (http_eq_nocase(n->p, n->len, "content-length"))
		return parse_content_length(&f->value, &fr->content_length, &req->body_length);
	if (http_eq_nocase(n->p, n->len, "transfer-encoding")) {
		fr->transfer_encoding = true;
		return 0;
	}
	if (http_eq_nocase(n->p, n->len, "host")) {
		fr->hosts++;
		return host_ok(&f->value) ? 0 : -400;
	}
	if (http_eq_nocase(n->p, n->len, "connection")) {
		size_t pos = 0;
		struct http_span e;
		while (http_list_next(&f->value, &pos, &e)) {
			if (http_eq_nocase(e.p, e.len, "close"))
				fr->close = true;
			else if (http_eq_nocase(e.p, e.len, "keep-alive"))
				fr->keep_alive = true;
		}
	}
	return 0;
}

/* The whole head, buf[p->start..end). */
static long parse_head(const struct http_parser *p, const char *buf, size_t end,
                       struct http_request *req)
{
	size_t pos = p->start;
	struct http_span line;
	next_line(buf, &pos, &line);
	long rc = parse_request_line(&line, req);
	if (rc < 0)
		return rc;
	struct framing fr = { 0 };
	for (;;) {
		next_line(buf, &pos, &line);
		if (line.len == 0)
			break;
		struct http_field *f = &req->fields[req->nfields];
		rc = parse_field_line(&line, f);
		if (rc == 0)
			rc = note_field(f, &fr, req);
		if (rc < 0)
			return rc;
		req->nfields++;
	}
	if (pos != end)
		return -400;    /* cannot happen: scan() found this blank line */
	/* RFC 9112 §3.2: a 1.1 request has exactly one Host. */
	if (fr.hosts > 1 || (req->version == 11 && fr.hosts == 0))
		return -400;
	if (fr.transfer_encoding) {
		/* §6.1: with 1.0 the framing is faulty; §6.3: with Content-Length
		 * too it is a smuggling shape. Otherwise: we decode no transfer
		 * coding, and GET and HEAD need no body. */
		if (req->version == 10 || fr.content_length)
			return -400;
		return -501;
	}
	if (req->body_length > p->lim.body)
		return -413;
	req->keep_alive = !fr.close && (req->version == 11 || fr.keep_alive);
	return 0;
}

long http_parse(struct http_parser *p, const char *buf, size_t len, struct http_request *req)
{
	long end = scan(p, buf, len);
	if (end <= 0) {
		req->version = 11;
		return end;
	}
	memset(req, 0, offsetof(struct http_request, fields));
	req->version = 11;
	long rc = parse_head(p, buf, (size_t)end, req);
	return rc < 0 ? rc : end;
}

const struct http_span *http_field_find(const struct http_request *req, const char *name,
                                        unsigned *from)
{
	for (unsigned i = *from; i < req->nfields; i++) {
		const struct http_span *n = &req->fields[i].name;
		if (http_eq_nocase(n->p, n->len, name)) {
			*from = i + 1;
			return &req->fields[i].value;
		}
	}
	*from = req->nfields;
	return NULL;
}

bool http_list_next(const struct http_span *value, size_t *pos, struct http_span *elem)
{
	const char *s = value->p;
	size_t n = value->len, i = *pos;
	for (;;) {
		while (i < n && (http_is_ows((unsigned char)s[i]) || s[i] == ','))
			i++;
		if (i >= n) {
			*pos = n;
			return false;
		}
		size_t start = i;
		bool quoted = false;
		for (; i < n; i++) {
			if (s[i] == '"')
				quoted = !quoted;       /* an entity-tag may hold a comma */
			else if (s[i] == ',' && !quoted)
				break;
		}
		size_t stop = i;
		while (stop > start && http_is_ows((unsigned char)s[stop - 1]))
			stop--;
		*pos = i;
		elem->p = s + start;
		elem->len = stop - start;
		return true;
	}
}
