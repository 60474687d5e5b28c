/*
 * link_util.h: what the tests over the in-memory link (memlink.h) share:
 * the two ends' addresses, booting a kernel with the link, and the
 * first-failed-check record that Criterion asserts on afterwards.
 */
#ifndef TESTS_UNIT_LINK_UTIL_H
#define TESTS_UNIT_LINK_UTIL_H

#include <string.h>

#include "harness.h"
#include "memlink.h"

#define LINK_A_IP 0x0a090001u   /* 10.9.0.1: interface 0 */
#define LINK_B_IP 0x0a090002u   /* 10.9.0.2: interface 1 */

/* The first check that failed, kernel side (Criterion must not assert
 * on kernel threads). */
struct link_result {
	int line;
	char what[160];
	long value;             /* what the failed expression's main value was */
};

#define LCHECK(r, cond, val) do { \
	if (!(cond) && !(r)->line) { \
		(r)->line = __LINE__; \
		(r)->value = (long)(val); \
		strncpy((r)->what, #cond, sizeof((r)->what) - 1); \
	} \
} while (0)

/* link_boot: run body in a kernel of cpus CPUs whose interfaces 0 and 1
 * (10.9.0.1/24 and 10.9.0.2/24) are the two sides of a link made with lc. */
static inline int link_boot(unsigned cpus, const struct memlink_config *lc, kernel_body body,
                            void *arg)
{
	static const char *const opts[] = { "ip=10.9.0.1/24", "ip=10.9.0.2/24", NULL };
	struct posix_config cfg = { .cpus = cpus };
	if (!memlink_add(&cfg, lc))
		return -1;
	return run_in_kernel_opts(&cfg, opts, body, arg);
}

#endif
