/*
 * http_response.c: response heads for http_response.h, appended field by
 * field into the caller's buffer (text.h); no allocation.
 */
#include <errno.h>
#include <string.h>

#include "http_date.h"
#include "http_response.h"
#include "text.h"

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

/* "Name: value\r\n" */
static void field(struct text *o, const char *name, const char *value)
{
	text_str(o, name);
	text_bytes(o, ": ", 2);
	text_str(o, value);
	text_bytes(o, "\r\n", 2);
}

static void field_uint(struct text *o, const char *name, uint64_t value)
{
	text_str(o, name);
	text_bytes(o, ": ", 2);
	text_uint(o, value);
	text_bytes(o, "\r\n", 2);
}

static void field_date(struct text *o, const char *name, int64_t t)
{
	char date[HTTP_DATE_LEN + 1];
	http_date_format(t, date);
	field(o, name, date);
}

/* "404 Not Found" */
static void status_words(struct text *o, int status)
{
	text_uint(o, (unsigned)status);
	text_char(o, ' ');
	text_str(o, http_reason(status));
}

/* Status line, Date, Server and Connection: what every response carries. */
static void common_fields(struct text *o, const struct http_reply *r)
{
	text_bytes(o, "HTTP/1.1 ", 9);
	status_words(o, r->status);
	text_bytes(o, "\r\n", 2);
	field_date(o, "Date", r->now);
	field(o, "Server", HTTP_SERVER_NAME);
	/* RFC 9112 §9.3: 1.1 stays open unless told; 1.0 closes unless told. */
	if (!r->keep_alive)
		field(o, "Connection", "close");
	else if (r->version == 10)
		field(o, "Connection", "keep-alive");
}

/* "Content-Range: bytes first-last/size" or, with no range, "bytes *\/size". */
static void content_range(struct text *o, const struct http_reply *r, bool unsatisfied)
{
	text_str(o, "Content-Range: bytes ");
	if (unsatisfied) {
		text_char(o, '*');
	} else {
		text_uint(o, r->offset);
		text_char(o, '-');
		text_uint(o, r->offset + r->length - 1);
	}
	text_char(o, '/');
	text_uint(o, r->entity->size);
	text_bytes(o, "\r\n", 2);
}

static long finish(struct text *o)
{
	return text_end(o) < 0 ? -ENOSPC : (long)o->len;
}

long http_format_head(char *buf, size_t cap, const struct http_reply *r)
{
	struct text o = text_on(buf, cap);
	common_fields(&o, r);
	if (r->entity) {
		field_date(&o, "Last-Modified", r->entity->mtime);
		field(&o, "ETag", r->entity->etag);
	}
	if (r->status != 304) {         /* no body, so no Content-Length (RFC 9110 §15.4.5) */
		if (r->status == 206)
			content_range(&o, r, false);
		field(&o, "Accept-Ranges", "bytes");
		field(&o, "Content-Type",
		      r->content_type ? r->content_type : "application/octet-stream");
		field_uint(&o, "Content-Length", r->length);
	}
	text_bytes(&o, "\r\n", 2);
	return finish(&o);
}

/* A short HTML page that names the status. */
static void error_body(struct text *o, int status)
{
	text_str(o, "<!DOCTYPE html>\n<html><head><title>");
	status_words(o, status);
	text_str(o, "</title></head><body><h1>");
	status_words(o, status);
	text_str(o, "</h1></body></html>\n");
}

size_t http_error_body_length(int status)
{
	char body[256];
	struct text o = text_on(body, sizeof(body));
	error_body(&o, status);
	return o.len;
}

long http_format_error(char *buf, size_t cap, const struct http_reply *r, bool head_only)
{
	struct text o = text_on(buf, cap);
	common_fields(&o, r);
	if (r->status == 405)
		field(&o, "Allow", "GET, HEAD");
	if (r->status == 416 && r->entity)
		content_range(&o, r, true);
	if (r->status == 301 && r->location)
		field(&o, "Location", r->location);
	field(&o, "Content-Type", "text/html; charset=utf-8");
	field_uint(&o, "Content-Length", http_error_body_length(r->status));
	text_bytes(&o, "\r\n", 2);
	if (!head_only)
		error_body(&o, r->status);
	return finish(&o);
}
