/*
 * harness.c: the service side of run_in_kernel.
 */
#include "harness.h"

static kernel_body current_body;    /* set before boot, read by CPU 0 */
static void *current_arg;

int toro_main(int argc, char **argv)
{
	return current_body(current_arg);
}

int run_in_kernel_opts(const struct posix_config *cfg, const char *const *opts,
                       kernel_body body, void *arg)
{
	static char name[] = "test";
	static char *argv[10] = { name };
	int argc = 1;
	while (opts && *opts && argc < 9)
		argv[argc++] = (char *)*opts++;
	argv[argc] = NULL;
	current_body = body;
	current_arg = arg;
	return hal_posix_run(cfg, argc, argv);
}

int run_in_kernel_cfg(const struct posix_config *cfg, kernel_body body, void *arg)
{
	return run_in_kernel_opts(cfg, NULL, body, arg);
}

int run_in_kernel(unsigned cpus, kernel_body body, void *arg)
{
	struct posix_config cfg = { .cpus = cpus };
	return run_in_kernel_cfg(&cfg, body, arg);
}
