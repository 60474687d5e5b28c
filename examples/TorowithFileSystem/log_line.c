/*
 * log_line.c: Combined Log Format lines for log_line.h. Inside quotes, '"'
 * and '\' are escaped with '\', and bytes outside printable ASCII are
 * written \xHH (as Apache does since 2.0.46), so a hostile request line can
 * neither end the field nor the line.
 */
#include <string.h>

#include "http_date.h"
#include "log_line.h"
#include "text.h"

#define FIELD_MAX 512           /* escaped bytes of one quoted value, at most */

/* value escaped and quoted, "-" when empty; cut with "..." past FIELD_MAX. */
static void quoted(struct text *o, const struct http_span *v)
{
	static const char hex[] = "0123456789abcdef";
	char out[FIELD_MAX];
	size_t n = 0;
	if (v->len == 0)
		out[n++] = '-';
	for (size_t i = 0; i < v->len; i++) {
		unsigned char c = (unsigned char)v->p[i];
		if (n + 4 > FIELD_MAX - 3) {
			memcpy(out + n, "...", 3);
			n += 3;
			break;
		}
		if (c == '"' || c == '\\') {
			out[n++] = '\\';
			out[n++] = (char)c;
		} else if (c < 0x20 || c >= 0x7f) {
			out[n++] = '\\';
			out[n++] = 'x';
			out[n++] = hex[c >> 4];
			out[n++] = hex[c & 15];
		} else {
			out[n++] = (char)c;
		}
	}
	text_char(o, '"');
	text_bytes(o, out, n);
	text_char(o, '"');
}

size_t log_line_format(char *buf, const struct log_entry *e)
{
	char date[HTTP_LOG_DATE_LEN + 1];
	struct text o = text_on(buf, LOG_LINE_MAX);
	for (int shift = 24; shift >= 0; shift -= 8) {
		text_uint(&o, (e->peer_ip >> shift) & 255);
		text_char(&o, shift ? '.' : ' ');
	}
	http_log_date_format(e->time, date);
	text_bytes(&o, "- - [", 5);
	text_bytes(&o, date, HTTP_LOG_DATE_LEN);
	text_bytes(&o, "] ", 2);
	quoted(&o, &e->request_line);
	text_char(&o, ' ');
	text_uint(&o, (unsigned)e->status);
	text_char(&o, ' ');
	if (e->bytes)
		text_uint(&o, e->bytes);
	else
		text_char(&o, '-');
	text_char(&o, ' ');
	quoted(&o, &e->referer);
	text_char(&o, ' ');
	quoted(&o, &e->user_agent);
	text_char(&o, '\n');
	/* Three quoted fields of at most FIELD_MAX + 2 and the rest fit in
	 * LOG_LINE_MAX, so the line is never cut here. */
	text_end(&o);
	return o.len;
}
