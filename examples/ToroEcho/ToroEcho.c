/*
 * ToroEcho: the echo service (RFC 862) on port 7, over UDP and TCP.
 *
 * UDP: main's thread answers each datagram with itself. TCP: one listening
 * socket, a thread on every CPU accepting on it; each connection gets a
 * thread on the accepting CPU (which owns it) that echoes until the peer
 * ends its stream. Runs until the machine is stopped, or until asked to
 * stop (SIGINT/SIGTERM on posix), when main returns 0 (so the kernel's
 * --netstat option prints the counters).
 *
 *   build/posix/bin/ToroEcho --net slirp,hostfwd=udp:127.0.0.1:7007-:7
 *   build/posix/bin/ToroEcho --net tap:tap0 ip=192.168.7.2/24
 * With -v each datagram is logged ("ToroEcho: udp N bytes from A:P").
 */
#include <errno.h>
#include <string.h>

#include "toro.h"

#define ECHO_PORT 7
#define BUF_SIZE  (64 * 1024)

static int echo_connection(void *param)
{
	TSocket conn = (TSocket)(intptr_t)param;
	char *buf = ToroGetMem(BUF_SIZE);
	if (buf) {
		long n;
		while ((n = SysSocketRecv(conn, buf, BUF_SIZE, 0)) > 0) {
			if (SysSocketSend(conn, buf, (size_t)n, 0) != n)
				break;
		}
		ToroFreeMem(buf);
	}
	SysSocketClose(conn);
	return 0;
}

static int accept_loop(void *param)
{
	TSocket listener = (TSocket)(intptr_t)param;
	for (;;) {
		TSocket conn = SysSocketAccept(listener, NULL);
		if (conn < 0) {
			WriteConsoleF("ToroEcho: accept on CPU %u: %d\n", GetCoreId(), conn);
			Sleep(100);
			continue;
		}
		if (!BeginThread(NULL, 0, echo_connection, (void *)(intptr_t)conn, GetCoreId(), NULL))
			SysSocketClose(conn);
	}
	return 0;
}

static void start_tcp(void)
{
	TSocket listener = SysSocket(SOCKET_STREAM);
	if (listener < 0) {
		WriteConsoleF("ToroEcho: no TCP echo (%d)\n", listener);
		return;
	}
	struct TSockAddr local = { 0, ECHO_PORT };
	int rc = SysSocketBind(listener, &local);
	if (rc == 0)
		rc = SysSocketListen(listener, 64);
	if (rc < 0) {
		WriteConsoleF("ToroEcho: TCP port %u: %d\n", ECHO_PORT, rc);
		SysSocketClose(listener);
		return;
	}
	for (uint32_t cpu = 0; cpu < GetCPUCount(); cpu++)
		BeginThread(NULL, 0, accept_loop, (void *)(intptr_t)listener, cpu, NULL);
	WriteConsoleF("ToroEcho: TCP echo on port %u\n", ECHO_PORT);
}

static int udp_echo(bool verbose)
{
	TSocket s = SysSocket(SOCKET_DGRAM);
	struct TSockAddr local = { 0, ECHO_PORT };
	int rc = s < 0 ? s : SysSocketBind(s, &local);
	if (rc < 0) {
		WriteConsoleF("ToroEcho: UDP port %u: %d\n", ECHO_PORT, rc);
		return 1;
	}
	WriteConsoleF("ToroEcho: UDP echo on port %u\n", ECHO_PORT);
	char *buf = ToroGetMem(BUF_SIZE);
	if (!buf)
		return 1;
	while (!SysWaitStop(0)) {
		/* Wake now and then to look for a stop request. */
		if (SysSocketSelectOne(s, SOCKET_READABLE, 200) <= 0)
			continue;
		struct TSockAddr from;
		long n = SysSocketRecvFrom(s, buf, BUF_SIZE, SOCKET_DONTWAIT, &from);
		if (n == -EAGAIN)
			continue;
		if (n < 0) {
			WriteConsoleF("ToroEcho: UDP receive: %ld\n", n);
			continue;
		}
		if (verbose)
			WriteConsoleF("ToroEcho: udp %ld bytes from %u.%u.%u.%u:%u\n", n, from.ip >> 24,
			              (from.ip >> 16) & 0xff, (from.ip >> 8) & 0xff, from.ip & 0xff,
			              from.port);
		SysSocketSendTo(s, buf, (size_t)n, &from);
	}
	WriteConsoleF("ToroEcho: stopping\n");
	return 0;
}

int main(int argc, char **argv)
{
	bool verbose = argc > 1 && strcmp(argv[1], "-v") == 0;
	uint32_t a = SysNetAddress();
	if (!a) {
		WriteConsoleF("ToroEcho: no network address\n");
		return 1;
	}
	WriteConsoleF("ToroEcho: address %u.%u.%u.%u\n", a >> 24, (a >> 16) & 0xff,
	              (a >> 8) & 0xff, a & 0xff);
	start_tcp();
	return udp_echo(verbose);
}
