/*
 * http_date.h: HTTP dates (RFC 9110 §5.6.7) and the access log's date.
 * Times are seconds since 1970-01-01 UTC; years 1970 to 9999.
 */
#ifndef HTTP_DATE_H
#define HTTP_DATE_H

#include <stddef.h>
#include <stdint.h>

#define HTTP_DATE_LEN 29        /* "Sun, 06 Nov 1994 08:49:37 GMT" */
#define HTTP_LOG_DATE_LEN 26    /* "06/Nov/1994:08:49:37 +0000" */

/* http_date_format: IMF-fixdate of t into out (HTTP_DATE_LEN + 1 bytes). */
void http_date_format(int64_t t, char *out);
/* http_log_date_format: Common Log Format's date (HTTP_LOG_DATE_LEN + 1 bytes). */
void http_log_date_format(int64_t t, char *out);
/* http_date_parse: any of the three forms a recipient must accept
 * (IMF-fixdate, RFC 850, asctime); 0 with *t, or -1 when s is none. */
int http_date_parse(const char *s, size_t n, int64_t *t);

#endif
