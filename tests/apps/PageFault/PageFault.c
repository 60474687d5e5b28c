/*
 * PageFault: a test kernel that touches an unmapped address. The bare HAL
 * must report exception 14 (page fault) with CR2 = 0x7f0000000000 and end
 * QEMU with a non-zero status (tests/integration/qemu_boot.sh).
 */
#include "toro.h"

int main(void)
{
	volatile uint64_t *unmapped = (volatile uint64_t *)0x7f0000000000ull;
	WriteConsoleF("PageFault: touching %p\n", (void *)unmapped);
	*unmapped = 42;
	WriteConsoleF("PageFault: still alive, the fault was missed\n");
	return 0;
}
