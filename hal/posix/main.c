/*
 * main.c: a service as a Linux process. The HAL takes its options
 * (--cpus N, --mem MiB, --disk PATH[,ro], --net SPEC; see run.c and
 * net_options.c); the kernel and the service get the rest. SIGINT and
 * SIGTERM become a stop request the service may wait for (SysWaitStop).
 */
#include "posix.h"

int main(int argc, char **argv)
{
	struct posix_config cfg = { 0 };
	argc = hal_posix_parse_options(&cfg, argc, argv);
	if (argc < 0)
		return 2;
	hal_posix_catch_stop_signals();
	return hal_posix_run(&cfg, argc, argv);
}
