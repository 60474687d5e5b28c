/*
 * boot.c: from entry.S to kernel_main, on CPU 0 with interrupts off.
 * Order: per-CPU record (hal_cpu_id), 8259s off, serial console, IDT,
 * uncached MMIO pages, ACPI, local APIC; then, while the PIT measures the
 * clock rates (clock.c closes that window when a rate is first needed),
 * the command line and memory map out of hvm_start_info (nothing has reused
 * low memory yet), the CPUs (woken now, parked until hal_cpu_start), the
 * I/O APIC; the PCI list when the command line asks (--lspci). Disks are
 * probed later, when the kernel first asks for them (blk.c).
 */
#include <string.h>

#include "bare.h"
#include "pci.h"

#define CMDLINE_MAX 1024
#define ARGV_MAX    64

extern const char bare_app_name[];      /* appname.c, built per service */

static char cmdline[CMDLINE_MAX];
static char *argv[ARGV_MAX + 1];

/* Split the command line at spaces; argv[0] is the service's name. */
static int split_cmdline(const struct hvm_start_info *si)
{
	int argc = 0;
	argv[argc++] = (char *)bare_app_name;
	if (!si->cmdline_paddr)
		goto out;
	const char *src = (const char *)(uintptr_t)si->cmdline_paddr;
	size_t len = strnlen(src, CMDLINE_MAX - 1);
	memcpy(cmdline, src, len);
	cmdline[len] = 0;
	for (char *p = cmdline; *p && argc < ARGV_MAX;) {
		while (*p == ' ')
			*p++ = 0;
		if (!*p)
			break;
		argv[argc++] = p;
		while (*p && *p != ' ')
			p++;
	}
out:
	argv[argc] = NULL;
	return argc;
}

/* bare_cmdline_has: the boot command line holds word (a HAL option such as
 * --lspci; the service sees it in argv too and ignores it). */
bool bare_cmdline_has(const char *word)
{
	for (int i = 1; argv[i]; i++)
		if (strcmp(argv[i], word) == 0)
			return true;
	return false;
}

const char *bare_cmdline_value(const char *prefix, unsigned n)
{
	size_t len = strlen(prefix);
	for (int i = 1; argv[i]; i++)
		if (strncmp(argv[i], prefix, len) == 0 && n-- == 0)
			return argv[i] + len;
	return NULL;
}

bool bare_parse_num(const char **s, uint64_t *out, bool suffix)
{
	const char *p = *s;
	unsigned base = 10;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	uint64_t v = 0;
	const char *digits = p;
	for (;; p++) {
		unsigned d;
		if (*p >= '0' && *p <= '9')
			d = (unsigned)(*p - '0');
		else if (base == 16 && *p >= 'a' && *p <= 'f')
			d = (unsigned)(*p - 'a' + 10);
		else if (base == 16 && *p >= 'A' && *p <= 'F')
			d = (unsigned)(*p - 'A' + 10);
		else
			break;
		if (v > (UINT64_MAX - d) / base)
			return false;       /* overflow: not a number we take */
		v = v * base + d;
	}
	if (p == digits)
		return false;
	if (suffix) {
		unsigned shift = 0;
		switch (*p) {
		case 'k': case 'K': shift = 10; break;
		case 'm': case 'M': shift = 20; break;
		case 'g': case 'G': shift = 30; break;
		}
		if (shift) {
			if (v > UINT64_MAX >> shift)
				return false;
			v <<= shift;
			p++;
		}
	}
	*out = v;
	*s = p;
	return true;
}

void __attribute__((noreturn)) bare_main(uint32_t start_info)
{
	const struct hvm_start_info *si = (const void *)(uintptr_t)start_info;

	bare_cpu_set_gs(&bare_cpus[0]);
	pic_disable();
	serial_init();
	if (si->magic != HVM_START_MAGIC) {
		bare_printf("boot: no PVH start info (magic %x)\n", si->magic);
		hal_shutdown(BARE_FAULT_STATUS);
	}
	trap_init();
	trap_load();
	memory_set_cache_types(si);
	acpi_init(si);
	lapic_init();
	clock_calibrate_begin();
	int argc = split_cmdline(si);
	memory_init(si);
	smp_init();
	ioapic_init();
	if (bare_cmdline_has("--lspci")) {
		pci_init();
		pci_print();
	}
	kernel_main(argc, argv);
	hal_shutdown(0);
}
