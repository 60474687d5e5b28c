/*
 * Ticker: a guest for the tests of the QEMU watchdog (scripts/qemu-run.sh).
 * "Ticker COUNT MS" prints a first line at once, then "tick N" every MS
 * milliseconds, COUNT times, and exits 0: slow, but never silent for long. "Ticker 0" prints one line and
 * then sleeps for ever without a word, as a hung guest would.
 */
#include "toro.h"

static uint32_t number(const char *s)
{
	uint32_t n = 0;
	for (; s && *s >= '0' && *s <= '9'; s++)
		n = n * 10 + (uint32_t)(*s - '0');
	return n;
}

int main(int argc, char **argv)
{
	uint32_t count = argc > 1 ? number(argv[1]) : 0;
	uint32_t ms = argc > 2 ? number(argv[2]) : 1000;

	if (count == 0) {
		WriteConsoleF("Ticker: silent from now on\n");
		for (;;)
			Sleep(60000);
	}
	WriteConsoleF("Ticker: %u ticks, one every %u ms\n", count, ms);
	for (uint32_t i = 1; i <= count; i++) {
		Sleep(ms);
		WriteConsoleF("tick %u\n", i);
	}
	return 0;
}
