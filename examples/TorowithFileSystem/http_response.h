/*
 * http_response.h: the bytes of a response head (RFC 9112 §4, RFC 9110
 * §15 and the fields it names), and whole error responses.
 */
#ifndef HTTP_RESPONSE_H
#define HTTP_RESPONSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http_cond.h"

#define HTTP_SERVER_NAME "Toro"

struct http_reply {
	int status;
	unsigned version;               /* 10 or 11: the request's */
	bool keep_alive;                /* the connection stays open after this one */
	int64_t now;                    /* seconds since 1970, for Date */
	/* A file's answer (200, 206, 304, 412, 416): entity not NULL. */
	const struct http_entity *entity;
	const char *content_type;       /* 200 and 206 */
	uint64_t offset, length;        /* 200 and 206: the part of the file that follows */
	/* A redirect (301): where to. */
	const char *location;
};

/* http_reason: the reason phrase of a status ("Not Found"). */
const char *http_reason(int status);

/* http_format_head: the status line and fields of r into buf, blank line
 * included; the length, or -ENOSPC when cap is too small. The body of a
 * 200/206 (r->length bytes) follows from the file; 304 has none; for other
 * statuses use http_format_error. */
long http_format_head(char *buf, size_t cap, const struct http_reply *r);

/* http_format_error: a whole response for an error or redirect status: the
 * head (with Allow for 405, Content-Range for 416, Location for 301) and a
 * short HTML body, or the head alone when head_only (a HEAD request); the
 * length, or -ENOSPC. */
long http_format_error(char *buf, size_t cap, const struct http_reply *r, bool head_only);

/* The body length http_format_error gives status (for the access log). */
size_t http_error_body_length(int status);

#endif
