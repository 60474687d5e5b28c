/*
 * run.c: booting the kernel inside this process, and the HAL's options.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hal.h"
#include "posix.h"

static unsigned host_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		return 1;
	return n > HAL_MAX_CPUS ? HAL_MAX_CPUS : (unsigned)n;
}

int hal_posix_run(const struct posix_config *cfg, int argc, char **argv)
{
	unsigned n = cfg->cpus ? cfg->cpus : host_cpus();
	if (n > HAL_MAX_CPUS)
		n = HAL_MAX_CPUS;
	if (posix_disks_open(cfg) < 0)
		return 2;       /* posix_disks_open said which image and why */
	/* A host peer that closes its end must not end the process: libslirp
	 * writes to host sockets, and a write to a closed one raises SIGPIPE.
	 * Ignored, the write fails with EPIPE and the connection is reset. */
	signal(SIGPIPE, SIG_IGN);
	/* A multi-queue TAP has one queue per CPU. */
	if (posix_nics_open(cfg, n) < 0) {
		posix_disks_close();
		return 2;       /* posix_nics_open said which NIC and why */
	}
	posix_clock_init();
	posix_memory_init(cfg->mem_bytes);
	int rc = posix_cpus_init(n, cfg->idle_poll_ns);
	if (rc < 0) {
		fprintf(stderr, "toro: cannot set up %u CPUs: %s\n", n, strerror(-rc));
		posix_memory_fini();
		posix_nics_close();
		posix_disks_close();
		return 2;
	}
	posix_cpus_start_boot(argc, argv);
	int status = posix_cpus_wait_shutdown();
	posix_nics_close();
	posix_disks_close();
	return status;
}

static int parse_number(const char *opt, const char *text, unsigned long max,
                        unsigned long *out)
{
	char *end;
	errno = 0;
	unsigned long v = text ? strtoul(text, &end, 10) : 0;
	if (!text || errno || *end || v == 0 || v > max) {
		fprintf(stderr, "%s: expected a number from 1 to %lu, got '%s'\n",
		        opt, max, text ? text : "");
		return -1;
	}
	*out = v;
	return 0;
}

int hal_posix_parse_options(struct posix_config *cfg, int argc, char **argv)
{
	int out = 1;
	for (int i = 1; i < argc; i++) {
		unsigned long v;
		if (strcmp(argv[i], "--cpus") == 0) {
			if (parse_number("--cpus", i + 1 < argc ? argv[++i] : NULL, HAL_MAX_CPUS, &v) < 0)
				return -1;
			cfg->cpus = (unsigned)v;
		} else if (strcmp(argv[i], "--mem") == 0) {
			if (parse_number("--mem", i + 1 < argc ? argv[++i] : NULL, 1ul << 20, &v) < 0)
				return -1;
			cfg->mem_bytes = (size_t)v << 20;
		} else if (strcmp(argv[i], "--disk") == 0) {
			char *path = i + 1 < argc ? argv[++i] : NULL;
			if (!path || !*path) {
				fprintf(stderr, "--disk: expected PATH[,ro]\n");
				return -1;
			}
			if (cfg->ndisks >= POSIX_MAX_DISKS) {
				fprintf(stderr, "--disk: at most %d disks\n", POSIX_MAX_DISKS);
				return -1;
			}
			size_t n = strlen(path);
			bool ro = n > 3 && strcmp(path + n - 3, ",ro") == 0;
			if (ro)
				path[n - 3] = '\0';     /* argv's strings are the process's own */
			cfg->disk_path[cfg->ndisks] = path;
			cfg->disk_read_only[cfg->ndisks] = ro;
			cfg->ndisks++;
		} else if (strcmp(argv[i], "--net") == 0) {
			if (cfg->nnets >= POSIX_MAX_NICS) {
				fprintf(stderr, "--net: at most %d NICs\n", POSIX_MAX_NICS);
				return -1;
			}
			if (posix_net_parse(i + 1 < argc ? argv[++i] : NULL, &cfg->net[cfg->nnets]) < 0)
				return -1;
			cfg->nnets++;
		} else {
			argv[out++] = argv[i];
		}
	}
	argv[out] = NULL;
	return out;
}
