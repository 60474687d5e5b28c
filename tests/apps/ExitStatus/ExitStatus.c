/*
 * ExitStatus: exits with the status given as its first argument (decimal),
 * so the tests can check that a service's status reaches the host.
 */
#include "toro.h"

int main(int argc, char **argv)
{
	int status = 0;
	if (argc > 1)
		for (const char *p = argv[1]; *p >= '0' && *p <= '9'; p++)
			status = status * 10 + (*p - '0');
	WriteConsoleF("exiting with %d\n", status);
	return status;
}
