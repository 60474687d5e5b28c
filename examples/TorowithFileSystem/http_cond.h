/*
 * http_cond.h: which part of a file a GET or HEAD answers with, given the
 * request's preconditions (RFC 9110 §13: If-Match, If-Unmodified-Since,
 * If-None-Match, If-Modified-Since, If-Range) and its Range (§14).
 *
 * The file is described by its validators: an entity-tag made from the
 * inode number, size and modification time in nanoseconds (strong: any
 * change of content changes size or mtime, and a new file a new inode or
 * mtime) and the modification time in seconds for Last-Modified.
 */
#ifndef HTTP_COND_H
#define HTTP_COND_H

#include <stdint.h>

#include "http_parse.h"

#define HTTP_ETAG_MAX 56        /* "\"" + three 16-digit hex numbers + "--\"" + NUL */

struct http_entity {
	uint64_t size;
	int64_t mtime;                  /* seconds since 1970 */
	char etag[HTTP_ETAG_MAX];       /* quoted, strong */
};

void http_entity_init(struct http_entity *e, uint64_t ino, uint64_t size, int64_t mtime_ns);

struct http_plan {
	int status;             /* 200, 206, 304, 412 or 416 */
	uint64_t offset;        /* the bytes of the file to send: 200 the whole, */
	uint64_t length;        /* 206 the range, 0 for the others */
};

/* http_plan_response: for a GET or HEAD of e. A Range is honoured for a
 * GET with one range; several ranges are answered with the whole file
 * (RFC 9110 §14.2 lets a server ignore Range), as is a Range that does not
 * parse. */
void http_plan_response(const struct http_request *req, const struct http_entity *e,
                        struct http_plan *out);

#endif
