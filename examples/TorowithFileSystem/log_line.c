/*
 * log_line.c: Combined Log Format lines for log_line.h. Inside quotes, '"'
 * and '\' are escaped with '\', and bytes outside printable ASCII are
 * written \xHH (as Apache does since 2.0.46), so a hostile request line can
 * neither end the field nor the line.
 */
#include "console.h"
#include "http_date.h"
#include "log_line.h"

#define FIELD_MAX 512           /* escaped bytes of one quoted value, at most */

/* value escaped into out (FIELD_MAX + 1 bytes), "-" when empty; cut with
 * "..." when longer. */
static void escape(char *out, const struct http_span *v)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	if (v->len == 0) {
		out[0] = '-';
		out[1] = '\0';
		return;
	}
	for (size_t i = 0; i < v->len; i++) {
		unsigned char c = (unsigned char)v->p[i];
		if (o + 4 > FIELD_MAX - 3) {
			out[o++] = '.';
			out[o++] = '.';
			out[o++] = '.';
			break;
		}
		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c < 0x20 || c >= 0x7f) {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		} else {
			out[o++] = (char)c;
		}
	}
	out[o] = '\0';
}

size_t log_line_format(char *buf, const struct log_entry *e)
{
	char date[HTTP_LOG_DATE_LEN + 1], bytes[24];
	char request[FIELD_MAX + 1], referer[FIELD_MAX + 1], agent[FIELD_MAX + 1];
	http_log_date_format(e->time, date);
	escape(request, &e->request_line);
	escape(referer, &e->referer);
	escape(agent, &e->user_agent);
	if (e->bytes)
		ksnprintf(bytes, sizeof(bytes), "%llu", (unsigned long long)e->bytes);
	else
		bytes[0] = '-', bytes[1] = '\0';
	/* Three escaped fields of at most FIELD_MAX and the rest fit in
	 * LOG_LINE_MAX, so the line is never cut here. */
	int n = ksnprintf(buf, LOG_LINE_MAX, "%u.%u.%u.%u - - [%s] \"%s\" %d %s \"%s\" \"%s\"\n",
	                  e->peer_ip >> 24, (e->peer_ip >> 16) & 255, (e->peer_ip >> 8) & 255,
	                  e->peer_ip & 255, date, request, e->status, bytes, referer, agent);
	return (size_t)n;
}
