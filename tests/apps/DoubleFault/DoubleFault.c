/*
 * DoubleFault: a test kernel that loses its stack (rsp at an unmapped
 * address), so the page fault cannot be delivered and the CPU raises a
 * double fault. The bare HAL runs #DF on its own stack (IST1) and must
 * still print the report (exception 8) and end with a non-zero status.
 */
#include "toro.h"

int main(void)
{
	WriteConsoleF("DoubleFault: dropping the stack\n");
	__asm__ volatile("movq $0x7f0000000000, %%rsp\n\tpushq $0" : : : "memory");
	return 0;
}
