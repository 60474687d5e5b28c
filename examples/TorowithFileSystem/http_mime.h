/*
 * http_mime.h: the Content-Type of a file, from its name's extension.
 */
#ifndef HTTP_MIME_H
#define HTTP_MIME_H

/* http_mime_type: the media type for name's extension (case-insensitive);
 * application/octet-stream for an unknown one or none. Text types carry
 * charset=utf-8. */
const char *http_mime_type(const char *name);

#endif
