/*
 * http_path.h: from a request's path to a file name under the web root.
 *
 * The path is percent-decoded once and cut into segments; the result is a
 * relative name ("", "index.html", "css/site.css") that cannot leave the
 * root: no "." or ".." segment, no empty segment, no NUL or other control
 * character, no '/' or '\' that came from an encoding (%2f, %5c) or a raw
 * backslash, valid UTF-8 only (no overlong forms, which once smuggled "../"
 * past checks), at most HTTP_PATH_MAX bytes. Whatever breaks these rules is
 * refused rather than repaired, since a client that sends it is not a
 * browser following a link.
 *
 * Symbolic links are the file layer's business (web_files.h): this module
 * only sees names.
 */
#ifndef HTTP_PATH_H
#define HTTP_PATH_H

#include <stdbool.h>

#include "http_parse.h"

#define HTTP_PATH_MAX 1024

struct http_path {
	char rel[HTTP_PATH_MAX];   /* NUL-terminated; no leading '/' */
	bool trailing_slash;       /* the path ended in '/' ("/" itself too) */
};

/* http_path_normalise: target is path [ "?" query ], as the parser left it.
 * Returns 0, or -400 (malformed or hostile), -404 (a private name: the
 * access log's directory "logs"), -414 (longer than HTTP_PATH_MAX). */
int http_path_normalise(const struct http_span *target, struct http_path *out);

#endif
