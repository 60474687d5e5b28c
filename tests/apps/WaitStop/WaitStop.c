/*
 * WaitStop: a test service for the stop request (SysWaitStop). With no
 * argument it prints "waiting" and waits without limit, then prints
 * "stop requested" and returns 0; with "--ms N" it waits N ms at most and
 * prints "no stop" when none came (status 3); with "--ignore" it never asks
 * and sleeps, so SIGTERM keeps its usual meaning.
 */
#include <stdint.h>
#include <string.h>

#include "toro.h"

int main(int argc, char **argv)
{
	uint32_t ms = UINT32_MAX;
	if (argc == 2 && strcmp(argv[1], "--ignore") == 0) {
		WriteConsoleF("ignoring\n");
		for (;;)
			Sleep(1000);
	}
	if (argc == 3 && strcmp(argv[1], "--ms") == 0) {
		ms = 0;
		for (const char *p = argv[2]; *p >= '0' && *p <= '9'; p++)
			ms = ms * 10 + (uint32_t)(*p - '0');
	}
	WriteConsoleF("waiting\n");
	if (!SysWaitStop(ms)) {
		WriteConsoleF("no stop\n");
		return 3;
	}
	WriteConsoleF("stop requested\n");
	return 0;
}
