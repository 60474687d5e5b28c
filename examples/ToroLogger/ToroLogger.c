/*
 * ToroLogger: the first disk's ext2 at "/", /web/index.html to the console,
 * then one line appended to /web/logs/log (the directory and the file are
 * made on the first run; later runs find them, -EEXIST, and append). The
 * line numbers the run: "ToroLogger: run 3" (lines so far plus one, from
 * the file's size), the same on every platform.
 * Exit status 0, or 1 with a message naming the step that failed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>

#include "toro.h"

#define LOG_DIR  "/web/logs"
#define LOG_FILE "/web/logs/log"
#define LINE_LEN 21     /* "ToroLogger: run NNNN\n" */

static int fail(const char *what, long err)
{
	WriteConsoleF("ToroLogger: %s failed: error %ld\n", what, -err);
	return 1;
}

static int print_page(const char *path)
{
	char buf[512];
	THandle fd = SysOpenFile(path, O_RDONLY);
	if (fd < 0)
		return fd;
	long n;
	while ((n = SysReadFile(fd, sizeof(buf), buf)) > 0)
		WriteConsoleF("%.*s", (int)n, buf);
	SysCloseFile(fd);
	return n < 0 ? (int)n : 0;
}

int main(int argc, char **argv)
{
	int rc = SysMount("/", "ext2", 0, 0);
	if (rc < 0)
		return fail("mounting the first disk's ext2 at /", rc);
	rc = print_page("/web/index.html");
	if (rc < 0)
		return fail("printing /web/index.html", rc);

	rc = SysCreateDir(LOG_DIR);
	if (rc < 0 && rc != -EEXIST)
		return fail("creating " LOG_DIR, rc);
	int64_t end = 0;
	THandle fd = SysCreateFile(LOG_FILE);
	if (fd == -EEXIST) {
		fd = SysOpenFile(LOG_FILE, O_WRONLY);
		if (fd < 0)
			return fail("opening " LOG_FILE, fd);
		end = SysSeekFile(fd, 0, SEEK_END);
		if (end < 0)
			return fail("seeking to the end of " LOG_FILE, end);
	} else if (fd < 0) {
		return fail("creating " LOG_FILE, fd);
	}

	char line[LINE_LEN + 1];
	int len = ksnprintf(line, sizeof(line), "ToroLogger: run %04lu\n",
	                    (unsigned long)(end / LINE_LEN + 1));
	long n = SysWriteFile(fd, (size_t)len, line);
	if (n != len)
		return fail("writing " LOG_FILE, n < 0 ? n : -EIO);
	rc = SysCloseFile(fd);
	if (rc < 0)
		return fail("closing " LOG_FILE, rc);
	rc = SysUnmount("/");
	if (rc < 0)
		return fail("unmounting /", rc);
	WriteConsoleF("ToroLogger: appended to " LOG_FILE "\n");
	return 0;
}
