/*
 * BigMem: takes memory in 32 MiB pieces until there is none left, writing
 * the first and last byte of each, and reports how much it got and how much
 * of it lay above 4 GiB (bare: RAM there is mapped with 1 GiB pages, or
 * with 2 MiB pages when the CPU has none; boot QEMU with more than 4 GiB to
 * see it). Exits 0.
 */
#include "toro.h"

#define PIECE (32u << 20)

int main(void)
{
	uint64_t total = 0, high = 0;
	char *p;

	while ((p = ToroGetMem(PIECE)) != NULL) {
		p[0] = 1;
		p[PIECE - 1] = 2;
		total += PIECE;
		if ((uintptr_t)p >= (1ull << 32))
			high += PIECE;
	}
	WriteConsoleF("BigMem: %lu MiB, %lu MiB above 4 GiB\n",
	              (unsigned long)(total >> 20), (unsigned long)(high >> 20));
	return 0;
}
