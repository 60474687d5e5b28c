/*
 * http_mime.c: the extension table of http_mime.h (IANA media types).
 */
#include <string.h>

#include "http_chars.h"
#include "http_mime.h"

static const struct {
	const char *ext;
	const char *type;
} types[] = {
	{ "html", "text/html; charset=utf-8" },
	{ "htm", "text/html; charset=utf-8" },
	{ "css", "text/css; charset=utf-8" },
	{ "js", "text/javascript; charset=utf-8" },
	{ "mjs", "text/javascript; charset=utf-8" },
	{ "json", "application/json" },
	{ "txt", "text/plain; charset=utf-8" },
	{ "md", "text/markdown; charset=utf-8" },
	{ "csv", "text/csv; charset=utf-8" },
	{ "xml", "application/xml" },
	{ "png", "image/png" },
	{ "jpg", "image/jpeg" },
	{ "jpeg", "image/jpeg" },
	{ "gif", "image/gif" },
	{ "svg", "image/svg+xml" },
	{ "ico", "image/vnd.microsoft.icon" },
	{ "webp", "image/webp" },
	{ "avif", "image/avif" },
	{ "pdf", "application/pdf" },
	{ "wasm", "application/wasm" },
	{ "woff", "font/woff" },
	{ "woff2", "font/woff2" },
	{ "ttf", "font/ttf" },
	{ "otf", "font/otf" },
	{ "mp4", "video/mp4" },
	{ "webm", "video/webm" },
	{ "mp3", "audio/mpeg" },
	{ "ogg", "audio/ogg" },
	{ "zip", "application/zip" },
	{ "gz", "application/gzip" },
	{ "tar", "application/x-tar" },
	{ "bin", "application/octet-stream" },
};

const char *http_mime_type(const char *name)
{
	const char *slash = strrchr(name, '/');
	const char *dot = strrchr(slash ? slash + 1 : name, '.');
	if (dot && dot[1] != '\0') {
		const char *ext = dot + 1;
		size_t n = strlen(ext);
		for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
			if (http_eq_nocase(ext, n, types[i].ext))
				return types[i].type;
	}
	return "application/octet-stream";
}
