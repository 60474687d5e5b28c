/*
 * harness.h: run test code inside a real kernel (the posix build).
 *
 * A Criterion test calls run_in_kernel(); the kernel boots in the test's
 * process with the asked-for CPUs (and disks), runs body(arg) as the
 * service's main thread on CPU 0, and returns body's status once it ends.
 * Assert with cr_assert in the test itself, on what the body recorded:
 * Criterion's asserts must not fire on kernel threads.
 */
#ifndef TESTS_HARNESS_H
#define TESTS_HARNESS_H

#include "posix.h"

typedef int (*kernel_body)(void *arg);

int run_in_kernel(unsigned cpus, kernel_body body, void *arg);
int run_in_kernel_cfg(const struct posix_config *cfg, kernel_body body, void *arg);
/* run_in_kernel_opts: with kernel options too (kernel/main.c: "ip=..."),
 * opts NULL-terminated, at most 8 of them. */
int run_in_kernel_opts(const struct posix_config *cfg, const char *const *opts,
                       kernel_body body, void *arg);

#endif
