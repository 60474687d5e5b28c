/*
 * http_response.c: response heads for http_response.h. One ksnprintf per
 * field into the caller's buffer; no allocation.
 */
#include <errno.h>
#include <string.h>

#include "console.h"
#include "http_date.h"
#include "http_response.h"

const char *http_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 206: return "Partial Content";
	case 301: return "Moved Permanently";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 412: return "Precondition Failed";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 416: return "Range Not Satisfiable";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	}
	return "Unknown";
}

struct out {
	char *buf;
	size_t cap, len;
	bool full;
};

static void put(struct out *o, const char *fmt, ...) PRINTF_LIKE(2, 3);
static void put(struct out *o, const char *fmt, ...)
{
	if (o->full)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = kvsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->cap - o->len)
		o->full = true;
	else
		o->len += (size_t)n;
}

/* Status line, Date, Server and Connection: what every response carries. */
static void common_fields(struct out *o, const struct http_reply *r)
{
	char date[HTTP_DATE_LEN + 1];
	http_date_format(r->now, date);
	put(o, "HTTP/1.1 %d %s\r\nDate: %s\r\nServer: " HTTP_SERVER_NAME "\r\n", r->status,
	    http_reason(r->status), date);
	/* RFC 9112 §9.3: 1.1 stays open unless told; 1.0 closes unless told. */
	if (!r->keep_alive)
		put(o, "Connection: close\r\n");
	else if (r->version == 10)
		put(o, "Connection: keep-alive\r\n");
}

static void validator_fields(struct out *o, const struct http_entity *e)
{
	char date[HTTP_DATE_LEN + 1];
	http_date_format(e->mtime, date);
	put(o, "Last-Modified: %s\r\nETag: %s\r\n", date, e->etag);
}

static long finish(struct out *o)
{
	put(o, "\r\n");
	return o->full ? -ENOSPC : (long)o->len;
}

long http_format_head(char *buf, size_t cap, const struct http_reply *r)
{
	struct out o = { buf, cap, 0, false };
	common_fields(&o, r);
	if (r->entity)
		validator_fields(&o, r->entity);
	if (r->status == 304)
		return finish(&o);      /* no body, so no Content-Length (RFC 9110 §15.4.5) */
	if (r->status == 206)
		put(&o, "Content-Range: bytes %llu-%llu/%llu\r\n", (unsigned long long)r->offset,
		    (unsigned long long)(r->offset + r->length - 1),
		    (unsigned long long)r->entity->size);
	put(&o, "Accept-Ranges: bytes\r\nContent-Type: %s\r\nContent-Length: %llu\r\n",
	    r->content_type ? r->content_type : "application/octet-stream",
	    (unsigned long long)r->length);
	return finish(&o);
}

static const char body_format[] =
	"<!DOCTYPE html>\n<html><head><title>%d %s</title></head>"
	"<body><h1>%d %s</h1></body></html>\n";

size_t http_error_body_length(int status)
{
	char body[256];
	int n = ksnprintf(body, sizeof(body), body_format, status, http_reason(status), status,
	                  http_reason(status));
	return n > 0 ? (size_t)n : 0;
}

long http_format_error(char *buf, size_t cap, const struct http_reply *r, bool head_only)
{
	struct out o = { buf, cap, 0, false };
	common_fields(&o, r);
	if (r->status == 405)
		put(&o, "Allow: GET, HEAD\r\n");
	if (r->status == 416 && r->entity)
		put(&o, "Content-Range: bytes */%llu\r\n", (unsigned long long)r->entity->size);
	if (r->status == 301 && r->location)
		put(&o, "Location: %s\r\n", r->location);
	put(&o, "Content-Type: text/html; charset=utf-8\r\nContent-Length: %zu\r\n\r\n",
	    http_error_body_length(r->status));
	if (!head_only)
		put(&o, body_format, r->status, http_reason(r->status), r->status,
		    http_reason(r->status));
	return o.full ? -ENOSPC : (long)o.len;
}
