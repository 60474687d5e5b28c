/*
 * shutdown.c: the end of the machine. QEMU's isa-debug-exit device
 * (-device isa-debug-exit,iobase=0xf4,iosize=0x04) exits QEMU with
 * (value << 1) | 1, which scripts/qemu-run.sh maps back to value. Without
 * the device the write does nothing: then every CPU halts for good.
 */
#include "bare.h"

#define DEBUG_EXIT_PORT 0xf4

bool hal_stop_requested(void)
{
	return false;   /* no source of a stop request yet (ACPI power button) */
}

void hal_shutdown(int status)
{
	__asm__ volatile("cli");
	outl(DEBUG_EXIT_PORT, (uint32_t)status & 0xff);
	lapic_broadcast_stop();
	for (;;)
		__asm__ volatile("cli; hlt");
}
