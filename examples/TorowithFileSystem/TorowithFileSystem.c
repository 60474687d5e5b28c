/*
 * TorowithFileSystem: a static web server for the files under /web of the
 * first disk's ext2 (ToroFiles.img), with an access log in /web/logs.
 *
 *   TorowithFileSystem [--port N] [--duration S] [--max-conns N]
 *                      [--log-max BYTES] [--log-keep N] [--no-log] [--quiet]
 *                      [--header-timeout MS] [--idle-timeout MS]
 *
 * The pieces: http_parse (request heads), http_path (target to a name),
 * web_files (the name to a file, links refused), http_cond (304/206/416),
 * http_response (heads), serve (one response), conn (one connection),
 * server (the port and the acceptors), access_log and log_line (the log).
 * It runs until --duration passes or the platform asks it to stop (SIGINT,
 * SIGTERM on posix), then stops accepting, lets the connections finish,
 * syncs the log and unmounts. Exit status 0, or 1 with a message naming
 * the step that failed, 2 for a bad option.
 */
#include <errno.h>
#include <string.h>

#include "access_log.h"
#include "conn.h"
#include "server.h"
#include "toro.h"

#define WEB_ROOT "/web"

struct options {
	struct server_config server;
	struct access_log_config log;
	bool no_log;
	uint32_t duration_s;            /* 0: until stopped */
};

static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	if (!s || !*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (max - (uint64_t)(*s - '0')) / 10)
			return -EINVAL;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return 0;
}

static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct {
		const char *name;
		uint64_t min, max;
	} numeric[] = {
		{ "--port", 1, 65535 }, { "--duration", 1, 1u << 30 },
		{ "--max-conns", 1, 100000 }, { "--log-max", 0, UINT64_MAX / 2 },
		{ "--log-keep", 1, 9 }, { "--header-timeout", 100, 3600000 },
		{ "--idle-timeout", 100, 3600000 },
	};
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quiet") == 0) {
			o->server.quiet = true;
			continue;
		}
		if (strcmp(argv[i], "--no-log") == 0) {
			o->no_log = true;
			continue;
		}
		size_t k = 0, n = sizeof(numeric) / sizeof(numeric[0]);
		while (k < n && strcmp(argv[i], numeric[k].name) != 0)
			k++;
		uint64_t v;
		if (k == n) {
			WriteConsoleF("TorowithFileSystem: unknown option %s\n", argv[i]);
			return -EINVAL;
		}
		if (i + 1 >= argc || parse_u64(argv[i + 1], numeric[k].max, &v) < 0 ||
		    v < numeric[k].min) {
			WriteConsoleF("TorowithFileSystem: %s takes a number from %llu to %llu\n",
			              argv[i], (unsigned long long)numeric[k].min,
			              (unsigned long long)numeric[k].max);
			return -EINVAL;
		}
		i++;
		switch (k) {
		case 0: o->server.port = (uint16_t)v; break;
		case 1: o->duration_s = (uint32_t)v; break;
		case 2: o->server.max_conns = (unsigned)v; break;
		case 3: o->log.max_bytes = v; break;
		case 4: o->log.keep = (unsigned)v; break;
		case 5: o->server.header_timeout_ms = (uint32_t)v; break;
		case 6: o->server.idle_timeout_ms = (uint32_t)v; break;
		}
	}
	return 0;
}

static int fail(const char *what, long err)
{
	WriteConsoleF("TorowithFileSystem: %s failed: error %ld\n", what, -err);
	return 1;
}

static void print_stats(struct server *srv, struct access_log *log)
{
	struct server_stats *s = &srv->stats;
	WriteConsoleF("TorowithFileSystem: %llu connections, %llu requests (%llu 4xx, %llu 5xx), "
	              "%llu refused busy\n", (unsigned long long)s->connections,
	              (unsigned long long)s->requests, (unsigned long long)s->errors_4xx,
	              (unsigned long long)s->errors_5xx, (unsigned long long)s->refused_busy);
	if (log) {
		struct access_log_stats ls;
		access_log_get_stats(log, &ls);
		WriteConsoleF("TorowithFileSystem: access log: %llu lines written, %llu lost, "
		              "%llu rotations\n", (unsigned long long)ls.lines_written,
		              (unsigned long long)ls.lines_lost, (unsigned long long)ls.rotations);
	}
}

/* The service's life after its options: on a thread with a connection's
 * stack, since closing the port sends (resets to half-open connections). */
static int run(void *arg)
{
	struct options o = *(const struct options *)arg;
	static struct access_log log;
	static struct server srv;

	int rc = SysMount("/", "ext2", 0, 0);
	if (rc < 0)
		return fail("mounting the first disk's ext2 at /", rc);
	rc = vfs_node_at(NULL, WEB_ROOT, true, &o.server.root);
	if (rc < 0) {
		SysUnmount("/");
		return fail("finding " WEB_ROOT, rc);
	}
	if (!o.no_log) {
		rc = access_log_open(&log, &o.log);
		if (rc < 0)
			WriteConsoleF("TorowithFileSystem: no access log (%s: error %d)\n", o.log.file, -rc);
		else
			o.server.log = &log;
	}
	rc = server_start(&srv, &o.server);
	if (rc < 0) {
		if (rc == -EADDRINUSE)
			WriteConsoleF("TorowithFileSystem: port %u is taken\n", o.server.port);
		else
			fail("listening", rc);
		if (o.server.log)
			access_log_close(&log);
		vfs_node_put(o.server.root);
		SysUnmount("/");
		return 1;
	}
	WriteConsoleF("TorowithFileSystem: serving " WEB_ROOT " on port %u, %u CPUs\n",
	              o.server.port, GetCPUCount());

	bool stopped = SysWaitStop(o.duration_s ? o.duration_s * 1000u : UINT32_MAX);
	WriteConsoleF("TorowithFileSystem: %s, stopping\n", stopped ? "asked to stop" : "time is up");
	server_stop(&srv);
	if (o.server.log)
		access_log_close(&log);
	print_stats(&srv, o.server.log);
	vfs_node_put(o.server.root);
	rc = SysUnmount("/");
	if (rc < 0)
		return fail("unmounting /", rc);
	WriteConsoleF("TorowithFileSystem: stopped\n");
	return 0;
}

int main(int argc, char **argv)
{
	static struct options o = {
		.server = { .port = 80, .max_conns = 1024, .header_timeout_ms = 10000,
		            .idle_timeout_ms = 30000, .send_timeout_ms = 30000 },
		.log = { .dir = WEB_ROOT "/logs", .file = WEB_ROOT "/logs/access.log",
		         .max_bytes = 1 << 20, .keep = 3, .flush_ms = 500 },
	};
	o.server.limits = http_default_limits;
	if (parse_options(argc, argv, &o) < 0)
		return 2;
	TThread *t = BeginJoinableThread(CONN_STACK, run, &o, GetCoreId());
	if (!t)
		return fail("starting", -ENOMEM);
	return WaitThread(t);
}
