/*
 * serve.h: the answer to one parsed request on a connection: the status,
 * the head, the file's bytes through SysSocketSendFile (never copied
 * through the service), and what the access log needs to know.
 */
#ifndef SERVE_H
#define SERVE_H

#include "conn.h"

struct served {
	int status;
	uint64_t body_bytes;    /* sent */
	bool keep_alive;        /* the connection may take another request */
	bool broken;            /* sending failed: close at once */
	long error;             /* then the -errno of the send that failed */
};

/* serve_request: answer c->req. */
void serve_request(struct conn *c, struct served *out);

/* serve_error: answer status (a parse error, 408, 503) on c->sock and close
 * nothing; version as the request said (11 when unknown). */
void serve_error(struct conn *c, int status, unsigned version, struct served *out);

#endif
