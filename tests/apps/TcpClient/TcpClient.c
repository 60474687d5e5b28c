/*
 * TcpClient: Toro's TCP as the active side, against a Linux peer at
 * 192.168.7.1 (tests/integration/net_tcp.sh runs the peer):
 *   port 7009  closed: connect is refused (-ECONNREFUSED)
 *   port 7001  an echo server that echoes until our FIN, then closes:
 *              we send 4 MB in small and large writes, shut down writing
 *              (half-close: FIN from us first, so we end in TIME-WAIT),
 *              keep receiving the whole echo, then the end of stream
 *   port 7002  an echo server again, with NODELAY and KEEPALIVE set, many
 *              small request/answer rounds (Nagle off must not stall)
 * then, as a server that closes first:
 *   port 7100  accepts two connections one after the other, says "bye" and
 *              closes each at once: we end in TIME-WAIT, and the peer's
 *              second connection comes from the same port, so it can only
 *              be taken by reusing the TIME-WAIT (RFC 9293 §3.10.7.4 note,
 *              RFC 6191)
 * One line per case, "TcpClient: CASE ok" or "... FAILED ...", and the
 * exit status is the number of failed cases.
 */
#include <errno.h>
#include <string.h>

#include "toro.h"

#define PEER 0xc0a80701u        /* 192.168.7.1 */
#define TOTAL (4u << 20)

static int failures;

static void report(const char *what, int ok, long detail)
{
	if (ok)
		WriteConsoleF("TcpClient: %s ok\n", what);
	else
		WriteConsoleF("TcpClient: %s FAILED (%ld)\n", what, detail);
	failures += !ok;
}

static uint8_t pattern(uint32_t i) { return (uint8_t)(i * 2654435761u >> 24); }

static TSocket dial(uint16_t port, long *err)
{
	TSocket s = SysSocket(SOCKET_STREAM);
	if (s < 0) {
		*err = s;
		return s;
	}
	struct TSockAddr to = { PEER, port };
	int rc = SysSocketConnect(s, &to);
	if (rc < 0) {
		SysSocketClose(s);
		*err = rc;
		return rc;
	}
	return s;
}

static int half_close_echo(void)
{
	long err = 0;
	TSocket s = dial(7001, &err);
	if (s < 0)
		return (int)err;
	SysSocketSetOpt(s, SOCKOPT_RCVTIMEO_MS, 20000);
	SysSocketSetOpt(s, SOCKOPT_SNDTIMEO_MS, 20000);
	static uint8_t out[65536], in[65536];
	uint32_t sent = 0, got = 0;
	size_t sizes[] = { 1, 7, 100, 1460, 3000, 65536 };
	unsigned k = 0;
	/* The server echoes as it reads, so read while sending to keep both
	 * directions moving (each side's buffers are bounded). */
	while (sent < TOTAL) {
		size_t n = sizes[k++ % 6];
		if (n > TOTAL - sent)
			n = TOTAL - sent;
		for (size_t i = 0; i < n; i++)
			out[i] = pattern(sent + (uint32_t)i);
		long w = SysSocketSend(s, out, n, 0);
		if (w != (long)n) {
			SysSocketClose(s);
			return w < 0 ? (int)w : -EIO;
		}
		sent += (uint32_t)n;
		long r;
		while ((r = SysSocketRecv(s, in, sizeof(in), SOCKET_DONTWAIT)) > 0) {
			for (long i = 0; i < r; i++)
				if (in[i] != pattern(got + (uint32_t)i))
					return -EBADMSG;
			got += (uint32_t)r;
		}
	}
	int rc = SysSocketShutdown(s, 1);
	if (rc < 0)
		return rc;
	long r;
	while ((r = SysSocketRecv(s, in, sizeof(in), 0)) > 0) {
		for (long i = 0; i < r; i++)
			if (in[i] != pattern(got + (uint32_t)i))
				return -EBADMSG;
		got += (uint32_t)r;
	}
	SysSocketClose(s);
	if (r < 0)
		return (int)r;
	return got == TOTAL ? 0 : -EPIPE;
}

static int small_rounds(void)
{
	long err = 0;
	TSocket s = dial(7002, &err);
	if (s < 0)
		return (int)err;
	SysSocketSetOpt(s, SOCKOPT_NODELAY, 1);
	SysSocketSetOpt(s, SOCKOPT_KEEPALIVE, 1);
	SysSocketSetOpt(s, SOCKOPT_RCVTIMEO_MS, 5000);
	char q[16], a[16];
	for (int i = 0; i < 200; i++) {
		int n = ksnprintf(q, sizeof(q), "q%d", i);
		if (SysSocketSend(s, q, (size_t)n, 0) != n)
			return -EIO;
		long got = 0;
		while (got < n) {
			long r = SysSocketRecv(s, a + got, (size_t)(n - got), 0);
			if (r <= 0)
				return r < 0 ? (int)r : -EPIPE;
			got += r;
		}
		if (memcmp(q, a, (size_t)n) != 0)
			return -EBADMSG;
	}
	/* Idle past the keep-alive time: the probes keep it, the peer
	 * answers them, and it still works afterwards. */
	Sleep(2500);
	if (SysSocketSend(s, "end", 3, 0) != 3 || SysSocketRecv(s, a, 3, 0) != 3)
		return -EIO;
	SysSocketClose(s);
	return 0;
}

static int close_first_server(void)
{
	TSocket l = SysSocket(SOCKET_STREAM);
	struct TSockAddr local = { 0, 7100 };
	int rc = SysSocketBind(l, &local);
	if (rc == 0)
		rc = SysSocketListen(l, 4);
	if (rc < 0)
		return rc;
	SysSocketSetOpt(l, SOCKOPT_RCVTIMEO_MS, 20000);
	WriteConsoleF("TcpClient: listening on 7100\n");
	for (int i = 0; i < 2; i++) {
		struct TSockAddr peer;
		TSocket c = SysSocketAccept(l, &peer);
		if (c < 0) {
			SysSocketClose(l);
			return c;
		}
		long n = SysSocketSend(c, "bye\n", 4, 0);
		SysSocketClose(c);
		if (n != 4) {
			SysSocketClose(l);
			return n < 0 ? (int)n : -EIO;
		}
	}
	SysSocketClose(l);
	return 0;
}

int main(void)
{
	long err = 0;
	TSocket s = dial(7009, &err);
	report("connect to a closed port is refused", s < 0 && err == -ECONNREFUSED, err);
	int rc = half_close_echo();
	report("4 MB echo with half-close (shutdown write, receive to the end)", rc == 0, rc);
	rc = small_rounds();
	report("200 small rounds with NODELAY, then idle with KEEPALIVE", rc == 0, rc);
	rc = close_first_server();
	report("a server closing first twice to the same peer port (TIME-WAIT reuse)", rc == 0, rc);
	return failures;
}
