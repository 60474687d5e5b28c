/*
 * http_parse.h: an HTTP/1.x request head parser (RFC 9112), incremental.
 *
 * The connection keeps the bytes received so far in one buffer and calls
 * http_parse() after each receive with the whole buffer: the parser only
 * looks at the new bytes for the end of the head (it remembers how far it
 * got), enforces the size limits as the bytes arrive, and once the blank
 * line is in, parses the head in one pass. The answer is "need more" (0),
 * "done: the head is N bytes" (N > 0; a body of req->body_length bytes
 * follows, then possibly the next pipelined request), or an error status
 * (-400, -413, -414, -431, -501, -505) to answer with before closing: after
 * a framing error the rest of the stream cannot be trusted.
 *
 * The syntax is strict where leniency lets two parsers disagree about where
 * a message ends (request smuggling): no obs-fold, no bare CR, no space
 * before a field's colon, Content-Length with Transfer-Encoding, differing
 * Content-Lengths, a second Host. A single LF ends a line (RFC 9112 §2.2
 * allows it), the same for every line.
 *
 * The request's spans point into the caller's buffer, which must stay as it
 * is while the request is used. Memory: one struct http_request per
 * connection (about 2 KiB); nothing is allocated.
 */
#ifndef HTTP_PARSE_H
#define HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_MAX_FIELDS 100     /* the highest header_count limit */

struct http_limits {
	size_t request_line;    /* bytes of the request line; beyond: 414 */
	size_t field_line;      /* bytes of one header field line; beyond: 431 */
	size_t head;            /* the whole head, blank line included; beyond: 431 */
	unsigned fields;        /* header field lines (<= HTTP_MAX_FIELDS); beyond: 431 */
	uint64_t body;          /* a Content-Length body read and dropped; beyond: 413 */
};

/* The limits the server uses unless told otherwise. */
extern const struct http_limits http_default_limits;

enum http_method {
	HTTP_GET,
	HTTP_HEAD,
	HTTP_METHOD_OTHER,      /* a method of RFC 9110 this server does not allow: 405 */
	HTTP_METHOD_UNKNOWN,    /* any other token: 501 */
};

struct http_span {
	const char *p;
	size_t len;
};

struct http_field {
	struct http_span name, value;   /* value without surrounding white space */
};

struct http_request {
	enum http_method method;
	struct http_span method_name;
	struct http_span request_line;  /* for the access log */
	struct http_span path;          /* path and query of the target (absolute-form: its path) */
	unsigned version;               /* 10 or 11 (1.2 and above answer as 1.1) */
	bool keep_alive;                /* the client lets the connection stay open */
	uint64_t body_length;           /* Content-Length; 0 without one */
	unsigned nfields;
	struct http_field fields[HTTP_MAX_FIELDS];
};

struct http_parser {
	struct http_limits lim;
	size_t start;           /* where the request line starts (after empty lines) */
	size_t line_start;      /* where the line being scanned starts */
	size_t scanned;         /* bytes looked at so far */
	unsigned lines;         /* lines ended so far, the request line included */
};

void http_parser_init(struct http_parser *p, const struct http_limits *lim);

/* http_parse: the head in buf[0..len) so far (see above). On an error,
 * req->version is the request line's when it was parsed, 11 otherwise. */
long http_parse(struct http_parser *p, const char *buf, size_t len, struct http_request *req);

/* http_field_find: the value of the first field named name (lower case),
 * searching from index *from on and leaving *from after the match; NULL when
 * there is no (further) such field. *from starts at 0. */
const struct http_span *http_field_find(const struct http_request *req, const char *name,
                                        unsigned *from);

/* http_list_next: the next element of a comma-separated list value
 * (RFC 9110 §5.6.1), white space trimmed and empty elements skipped; false at
 * the end. *pos starts at 0. */
bool http_list_next(const struct http_span *value, size_t *pos, struct http_span *elem);

#endif
