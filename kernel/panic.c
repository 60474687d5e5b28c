/*
 * panic.c: the end of the kernel when an invariant is broken. Disk data
 * never leads here (the file system reports it as an error); only bugs do.
 */
#include <stdarg.h>

#include "console.h"
#include "hal.h"

void panic(const char *fmt, ...)
{
	char reason[256];
	va_list ap;

	hal_irq_save();
	va_start(ap, fmt);
	kvsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	kprintf("\npanic on CPU %u: %s\n", hal_cpu_id(), reason);
	hal_dump_state();
	hal_shutdown(PANIC_STATUS);
}
