/*
 * Panic: a test kernel that panics a few calls deep, so the report shows
 * hal_dump_state's registers and backtrace. Expect status 70 (PANIC_STATUS).
 */
#include "toro.h"

static void __attribute__((noinline)) third(int x)
{
	panic("Panic: on purpose (%d)", x);
}

static void __attribute__((noinline)) second(int x)
{
	third(x + 1);
	__asm__ volatile("");   /* keep the frame: no tail call */
}

static void __attribute__((noinline)) first(int x)
{
	second(x + 1);
	__asm__ volatile("");
}

int main(void)
{
	first(1);
	return 0;
}
