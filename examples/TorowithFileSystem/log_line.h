/*
 * log_line.h: one access log line in the Combined Log Format (Apache's
 * "combined": host ident user [date] "request" status bytes "referer"
 * "user-agent"), escaped so that whatever a client sent stays inside its
 * quotes and on its line.
 */
#ifndef LOG_LINE_H
#define LOG_LINE_H

#include <stddef.h>
#include <stdint.h>

#include "http_parse.h"

#define LOG_LINE_MAX 2048       /* a line is cut to fit: values shortened, never the '\n' */

struct log_entry {
	uint32_t peer_ip;                       /* host order */
	int64_t time;                           /* seconds since 1970 */
	struct http_span request_line;          /* len 0: "-" */
	int status;
	uint64_t bytes;                         /* body bytes sent; 0: "-" */
	struct http_span referer, user_agent;   /* len 0: "-" */
};

/* log_line_format: the line, '\n' included, into buf (LOG_LINE_MAX bytes);
 * its length. */
size_t log_line_format(char *buf, const struct log_entry *e);

#endif
