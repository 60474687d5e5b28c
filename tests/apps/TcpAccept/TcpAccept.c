/*
 * TcpAccept: a listener on port 7200 accepted on from every CPU with a
 * short accept timeout (SOCKOPT_RCVTIMEO_MS 5), so accepts time out all
 * the time while connections pour in; each connection is answered with
 * what it sent and closed by us first. Stops after argv[1] seconds (10 by
 * default), closing the listener while acceptors may be waiting, and
 * prints "TcpAccept: N connections served".
 */
#include <errno.h>

#include "toro.h"

static TSocket listener;
static volatile int stopping;
static int served;      /* atomic */

static int serve(void *param)
{
	TSocket s = (TSocket)(intptr_t)param;
	char buf[512];
	SysSocketSetOpt(s, SOCKOPT_RCVTIMEO_MS, 5000);
	long n = SysSocketRecv(s, buf, sizeof(buf), 0);
	if (n > 0 && SysSocketSend(s, buf, (size_t)n, 0) == n)
		__atomic_add_fetch(&served, 1, __ATOMIC_RELAXED);
	SysSocketClose(s);
	return 0;
}

static int acceptor(void *param)
{
	while (!__atomic_load_n(&stopping, __ATOMIC_ACQUIRE)) {
		TSocket s = SysSocketAccept(listener, NULL);
		if (s >= 0) {
			if (!BeginThread(NULL, 0, serve, (void *)(intptr_t)s, GetCoreId(), NULL))
				SysSocketClose(s);
		} else if (s != -ETIMEDOUT && s != -EAGAIN) {
			break;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	int seconds = 0;
	for (const char *p = argc > 1 ? argv[1] : ""; *p >= '0' && *p <= '9'; p++)
		seconds = seconds * 10 + (*p - '0');
	if (seconds <= 0 || seconds > 3600)
		seconds = 10;
	listener = SysSocket(SOCKET_STREAM);
	struct TSockAddr local = { 0, 7200 };
	int rc = SysSocketBind(listener, &local);
	if (rc == 0)
		rc = SysSocketListen(listener, 128);
	if (rc == 0)
		rc = SysSocketSetOpt(listener, SOCKOPT_RCVTIMEO_MS, 5);
	if (rc < 0) {
		WriteConsoleF("TcpAccept: listen: %d\n", rc);
		return 1;
	}
	TThread *t[64];
	uint32_t n = GetCPUCount() < 64 ? GetCPUCount() : 64;
	for (uint32_t cpu = 0; cpu < n; cpu++)
		t[cpu] = BeginJoinableThread(0, acceptor, NULL, cpu);
	WriteConsoleF("TcpAccept: listening on 7200\n");
	Sleep((uint32_t)seconds * 1000);
	__atomic_store_n(&stopping, 1, __ATOMIC_RELEASE);
	for (uint32_t cpu = 0; cpu < n; cpu++)
		if (t[cpu])
			WaitThread(t[cpu]);
	SysSocketClose(listener);
	Sleep(500);
	WriteConsoleF("TcpAccept: %d connections served\n", __atomic_load_n(&served, __ATOMIC_RELAXED));
	return 0;
}
