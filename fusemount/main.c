/*
 * main.c: torofuse, an ext2 image mounted on the host through the kernel's
 * own VFS and ext2 driver (the way LKL's lklfuse and fuse2fs do it).
 *
 *   torofuse IMAGE MOUNTPOINT [-o OPTIONS] [-f] [-d] [-s]
 *
 * Order of events: options; a lock on the image (flock: exclusive, shared
 * for ro) so a second torofuse on the same image is refused; unless -f, a
 * fork, the parent waiting for the child to say whether the mount worked
 * (so the command returns once the mount is usable, with its status); the
 * kernel boots and mounts the image (serve_boot); libfuse mounts, and the
 * kernel's threads serve the requests (serve_start) while the main thread
 * waits for a signal: SIGINT, SIGTERM, SIGHUP, or SIGUSR1 when
 * `fusermount3 -u` ended the session; then open files are closed, the image
 * unmounted (flushed, marked clean), the kernel ends; the lock goes with the
 * process, so a script can wait for the flush with `flock IMAGE true`.
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ops.h"
#include "serve.h"
#include "session_io.h"
#include "uring.h"

struct options {
	char *image;
	char *mountpoint;
	int foreground;
	int debug;
	int single;
	int read_only;
	int allow_other;
	int default_permissions;
	int help;
	int version;
	unsigned cpus;
	unsigned mem_mib;
	unsigned workers;
	unsigned max_write_kib;
	unsigned cache_kib;
	unsigned commit;
	int stats;
	int keep_cache;
	int uring;
	char *timeout;
	char *fstype;
	char *log;
};

enum { KEY_FG, KEY_DEBUG, KEY_SINGLE, KEY_RO, KEY_RW, KEY_ALLOW_OTHER,
       KEY_DEFAULT_PERMS, KEY_HELP, KEY_VERSION };

#define OPT(t, f) { t, offsetof(struct options, f), 1 }
static const struct fuse_opt option_spec[] = {
	OPT("cpus=%u", cpus),
	OPT("mem=%u", mem_mib),
	OPT("workers=%u", workers),
	OPT("max_write_kib=%u", max_write_kib),
	OPT("cache_kib=%u", cache_kib),
	OPT("commit=%u", commit),
	OPT("cache_timeout=%s", timeout),
	OPT("fstype=%s", fstype),
	OPT("log=%s", log),
	OPT("keep_cache=%d", keep_cache),
	OPT("uring=%d", uring),
	OPT("stats", stats),
	FUSE_OPT_KEY("-f", KEY_FG),
	FUSE_OPT_KEY("-d", KEY_DEBUG),
	FUSE_OPT_KEY("debug", KEY_DEBUG),
	FUSE_OPT_KEY("-s", KEY_SINGLE),
	FUSE_OPT_KEY("ro", KEY_RO),
	FUSE_OPT_KEY("rw", KEY_RW),
	FUSE_OPT_KEY("allow_other", KEY_ALLOW_OTHER),
	FUSE_OPT_KEY("default_permissions", KEY_DEFAULT_PERMS),
	FUSE_OPT_KEY("-h", KEY_HELP),
	FUSE_OPT_KEY("--help", KEY_HELP),
	FUSE_OPT_KEY("-V", KEY_VERSION),
	FUSE_OPT_KEY("--version", KEY_VERSION),
	FUSE_OPT_END
};

static void usage(FILE *f)
{
	fprintf(f,
	"usage: torofuse IMAGE MOUNTPOINT [-o OPTIONS] [-f] [-d] [-s]\n"
	"Mount the ext2 file system in IMAGE at MOUNTPOINT through Toro/C's VFS.\n"
	"  -f                 stay in the foreground\n"
	"  -d, -o debug       print every FUSE request (implies -f)\n"
	"  -s                 serve one request at a time (one CPU, one worker)\n"
	"  -o ro              read only\n"
	"  -o allow_other     let other users in (Toro's VFS checks their rights,\n"
	"                     POSIX ACLs included)\n"
	"  -o default_permissions  the host kernel checks the mode bits too (it\n"
	"                     ignores ACLs: an ACL may then deny, never grant)\n"
	"  -o cpus=N          kernel CPUs (default: every host CPU)\n"
	"  -o mem=MiB         kernel memory (default: the HAL's)\n"
	"  -o workers=N       kernel worker threads per CPU (default 8)\n"
	"  -o cache_timeout=S how long the host caches names, absent names and\n"
	"                     attributes (10)\n"
	"  -o log=FILE        the daemon's messages (file system errors) go to FILE\n"
	"  -o keep_cache=0    drop a file's host pages at each open (default 1: keep)\n"
	"  -o max_write_kib=K largest write request (1024)\n"
	"  -o cache_kib=K     the file system's block cache (default: a quarter of\n"
	"                     mem, at most 256 MiB and 1/8 of the host's RAM)\n"
	"  -o commit=S        ext3: commit the journal every S seconds (default 5)\n"
	"  -o uring=0         take requests through /dev/fuse only (default 1: a\n"
	"                     queue per host CPU through io_uring where the host\n"
	"                     allows it: /sys/module/fuse/parameters/enable_uring)\n"
	"  -o fstype=ramfs    serve an empty in-memory file system instead (IMAGE\n"
	"                     is not opened): FUSE's and the VFS's own cost\n"
	"  -o stats           at unmount, print cache misses, writes, device flushes\n"
	"                     and journal commits\n"
	"FUSE's other mount options pass through (see mount.fuse3(8)).\n"
	"Stop with fusermount3 -u MOUNTPOINT, SIGINT or SIGTERM.\n");
}

static int opt_proc(void *data, const char *arg, int key, struct fuse_args *out)
{
	struct options *o = data;
	switch (key) {
	case FUSE_OPT_KEY_NONOPT:
		if (!o->image) {
			o->image = strdup(arg);
			return 0;
		}
		if (!o->mountpoint) {
			o->mountpoint = strdup(arg);
			return 0;
		}
		fprintf(stderr, "torofuse: unexpected argument '%s'\n", arg);
		return -1;
	case KEY_FG: o->foreground = 1; return 0;
	case KEY_DEBUG: o->debug = o->foreground = 1; return 1;
	case KEY_SINGLE: o->single = 1; return 0;
	case KEY_RO: o->read_only = 1; return 1;
	case KEY_RW: o->read_only = 0; return 1;
	case KEY_ALLOW_OTHER: o->allow_other = 1; return 1;
	case KEY_DEFAULT_PERMS: o->default_permissions = 1; return 1;
	case KEY_HELP: o->help = 1; return 0;
	case KEY_VERSION: o->version = 1; return 0;
	default: return 1;
	}
}

/* "-o fsname=..." escapes commas and backslashes of the image's path. */
static char *fsname_option(const char *image)
{
	size_t n = strlen(image);
	char *s = malloc(2 * n + 32);
	if (!s)
		return NULL;
	char *p = s + sprintf(s, "fsname=");
	for (size_t i = 0; i < n; i++) {
		if (image[i] == ',' || image[i] == '\\')
			*p++ = '\\';
		*p++ = image[i];
	}
	strcpy(p, ",subtype=torofuse");
	return s;
}

/* Tell the waiting parent how it went (one byte: the exit status). */
static void tell_parent(int fd, int status)
{
	if (fd < 0)
		return;
	unsigned char b = (unsigned char)status;
	ssize_t rc = write(fd, &b, 1);
	(void)rc;
	close(fd);
}

/* Fork; the parent waits for the child's verdict and exits with it. */
static int daemonize(void)
{
	int p[2];
	if (pipe(p) < 0) {
		perror("torofuse: pipe");
		exit(1);
	}
	pid_t pid = fork();
	if (pid < 0) {
		perror("torofuse: fork");
		exit(1);
	}
	if (pid > 0) {
		close(p[1]);
		unsigned char b = 1;
		if (read(p[0], &b, 1) != 1)
			b = 1;          /* the child died before telling */
		_exit(b);
	}
	close(p[0]);
	setsid();
	return p[1];
}

/* A daemon's console (stdout: the kernel's messages, file system errors)
 * goes to log, or to /dev/null, before the kernel serves requests: what it
 * prints from then on (a CPU that cannot open its ring) belongs in the
 * log, not on the terminal the mount was typed at. Opened before the
 * daemon leaves the working directory, so a relative log is found there.
 * Startup errors still go to stderr, the terminal, until detach_stdio. */
static void console_to_log(const char *log)
{
	int fd = log ? open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644) : -1;
	if (log && fd < 0)
		fprintf(stderr, "torofuse: log %s: %s; the daemon's messages are dropped\n",
		        log, strerror(errno));
	if (fd < 0)
		fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (fd >= 0 && fd != STDOUT_FILENO) {
		dup2(fd, STDOUT_FILENO);
		close(fd);
	}
}

/* Once the parent is told: stdin is /dev/null, stderr joins the console. */
static void detach_stdio(void)
{
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (null > STDIN_FILENO) {
		dup2(null, STDIN_FILENO);
		close(null);
	}
	dup2(STDOUT_FILENO, STDERR_FILENO);
}

static const char *mount_error(int rc)
{
	switch (-rc) {
	case EIO: case EUCLEAN: case EINVAL:
		return "not a valid ext2 file system, or corrupt (check it with e2fsck -f)";
	case EROFS:
		return "the file system can only be mounted read-only (try -o ro)";
	case EOPNOTSUPP:
		return "the file system uses features this ext2 driver does not support (named above)";
	default:
		return strerror(-rc);
	}
}

/* Wait for the end: a signal to stop, or SIGUSR1 when the host ended the
 * session. Returns the signal. */
static int wait_for_end(const sigset_t *set)
{
	int sig = 0;
	while (sigwait(set, &sig) != 0)
		;
	return sig;
}

/* A lock on the image so that a second torofuse on it is refused (shared
 * for ro). The locked fd, or -1 after a message. */
static int lock_image(const struct options *o)
{
	int fd = open(o->image, (o->read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "torofuse: %s: %s\n", o->image, strerror(errno));
		return -1;
	}
	if (flock(fd, (o->read_only ? LOCK_SH : LOCK_EX) | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK)
			fprintf(stderr, "torofuse: %s is already mounted by another torofuse "
			        "(the image is locked); unmount it first\n", o->image);
		else
			fprintf(stderr, "torofuse: cannot lock %s: %s\n", o->image, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* Boot, mount, serve until the end, unmount. The exit status. */
static int mount_and_serve(const struct options *o, struct fuse_args *args)
{
	struct serve_config sc = {
		.image = o->image,
		.read_only = o->read_only,
		.fstype = o->fstype ? o->fstype : "ext2",
		.cpus = o->single ? 1 : o->cpus,
		.mem_bytes = (size_t)o->mem_mib << 20,
		.workers_per_cpu = o->single ? 1 : o->workers,
		.cache_bytes = (size_t)o->cache_kib << 10,
		.commit_ms = o->commit * 1000,
		.print_stats = o->stats,
	};
	struct stat st;
	if (stat(o->mountpoint, &st) < 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "torofuse: mount point %s: %s\n", o->mountpoint,
		        errno ? strerror(errno) : "not a directory");
		return 1;
	}

	int parent_fd = o->foreground ? -1 : daemonize();

	int rc = serve_boot(&sc);
	if (rc < 0) {
		fprintf(stderr, "torofuse: cannot mount %s: %s\n", o->image, mount_error(rc));
		tell_parent(parent_fd, 1);
		return 1;
	}

	struct fuse_session *se = fuse_session_new(args, &torofuse_ops, sizeof(torofuse_ops), NULL);
	if (!se) {
		serve_stop();
		tell_parent(parent_fd, 2);
		return 2;
	}
	if (fuse_session_mount(se, o->mountpoint) != 0) {
		fuse_session_destroy(se);
		serve_stop();
		tell_parent(parent_fd, 1);
		return 1;
	}
	ops_settings.session = se;
	rc = session_io_install(se, serve_init_written);
	if (rc < 0)
		goto unmount;
	/* The signals that end the mount are taken by sigwait alone. */
	sigset_t ends;
	sigemptyset(&ends);
	sigaddset(&ends, SIGINT);
	sigaddset(&ends, SIGTERM);
	sigaddset(&ends, SIGHUP);
	sigaddset(&ends, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &ends, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (parent_fd >= 0)
		console_to_log(o->log);
	rc = serve_start(se);
	if (rc < 0)
		goto unmount;
	if (parent_fd >= 0) {
		if (chdir("/") < 0)
			perror("torofuse: chdir");
		detach_stdio();
		tell_parent(parent_fd, 0);
	}

	int sig = wait_for_end(&ends);
	if (sig != SIGUSR1)
		fuse_session_unmount(se);
	rc = serve_stop();
	if (sig == SIGUSR1)
		fuse_session_unmount(se);   /* fusermount3 -u did it; nothing left but the name */
	fuse_session_destroy(se);
	if (rc < 0) {
		fprintf(stderr, "torofuse: unmounting %s failed: %s; check it with e2fsck -f\n",
		        o->image, strerror(-rc));
		return 1;
	}
	return 0;

unmount:
	fprintf(stderr, "torofuse: %s\n", strerror(-rc));
	fuse_session_unmount(se);
	fuse_session_destroy(se);
	serve_stop();
	tell_parent(parent_fd, 1);
	return 1;
}

int main(int argc, char **argv)
{
	struct options o = { .keep_cache = 1, .uring = 1 };
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	char *fsname = NULL;
	int status = 2, lock_fd = -1;
	if (fuse_opt_parse(&args, &o, option_spec, opt_proc) < 0)
		goto out;
	status = 0;
	if (o.help) {
		usage(stdout);
		goto out;
	}
	if (o.version) {
		printf("torofuse (Toro/C), libfuse %s\n", fuse_pkgversion());
		goto out;
	}
	status = 2;
	if (!o.image || !o.mountpoint) {
		usage(stderr);
		goto out;
	}
	status = 1;
	/* Without default_permissions the host checks nothing and every
	 * request passes the VFS's checks (mode bits and POSIX ACLs); with it
	 * the host checks the mode bits first and never consults ACLs. */
	ops_settings.own_checks = o.allow_other && !o.default_permissions;
	fsname = fsname_option(o.image);
	if (!fsname || fuse_opt_add_arg(&args, "-o") < 0 || fuse_opt_add_arg(&args, fsname) < 0)
		goto out;
	if (o.timeout)
		ops_settings.timeout = atof(o.timeout);
	ops_settings.kernel_cache = o.keep_cache;
	uring_allow(o.uring != 0);
	if (o.max_write_kib)
		ops_settings.max_write = o.max_write_kib * 1024;
	/* Read and copy buffers (up to 1 MiB) come and go with each request:
	 * keep them off mmap, and keep their memory when freed. glibc would
	 * otherwise give the top of a thread's heap back above 128 KiB free
	 * (madvise, a TLB shootdown on every host CPU) and fault it in again
	 * at the next request: a sixth of cp -a's time. */
	mallopt(M_MMAP_THRESHOLD, 8 << 20);
	mallopt(M_TRIM_THRESHOLD, 64 << 20);

	bool ramfs = o.fstype && strcmp(o.fstype, "ramfs") == 0;
	if (ramfs || (lock_fd = lock_image(&o)) >= 0)
		status = mount_and_serve(&o, &args);
out:
	if (lock_fd >= 0)
		close(lock_fd);
	fuse_opt_free_args(&args);
	free(fsname);
	free(o.image);
	free(o.mountpoint);
	free(o.timeout);
	free(o.fstype);
	free(o.log);
	return status;
}
