/*
 * session_io.h: the FUSE device's reads and writes for torofuse's session
 * (libfuse's custom I/O), so that the INIT reply carries the capabilities
 * libfuse 3.14 cannot pass on (the host then sends fewer requests, or
 * sends them through io_uring), and so that replies to requests that came
 * through io_uring go back that way.
 */
#ifndef FUSEMOUNT_SESSION_IO_H
#define FUSEMOUNT_SESSION_IO_H

struct fuse_session;

/* session_io_install: se, mounted, reads and writes its device through
 * session_io from now on, before its first request; init_written (if not
 * NULL) runs once the INIT reply is written, in the thread that wrote it.
 * 0 or -errno. */
int session_io_install(struct fuse_session *se, void (*init_written)(void));

#endif
