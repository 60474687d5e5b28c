/*
 * uring.c: FUSE over io_uring (uring.h).
 *
 * A kernel CPU's ring holds ENTRIES_PER_QUEUE entries for each queue it
 * serves: the queue of the host CPU it is pinned to, and of host CPUs that
 * no kernel CPU is pinned to (qid % CPUs). Each entry always has one SQE
 * with the host: REGISTER, then COMMIT_AND_FETCH after each reply; its CQE
 * says a request is in the entry (res 0) or that the entry is gone (res < 0:
 * the connection ended, or the host refused it).
 *
 * An entry's payload buffer has HEADROOM bytes in front: the request's
 * header and fixed argument are copied there, so that libfuse sees the
 * request laid out as /dev/fuse gives it (header, argument, payload) with
 * no copy of the payload. The fixed argument's size is what the header's
 * length leaves once the payload is counted.
 *
 * Every SQE is submitted from the ring's own kernel CPU (its host thread):
 * the host runs the work that fills an entry in the thread that submitted
 * the entry's SQE, and that thread is pinned to the queue's CPU.
 *
 * Once the INIT reply has asked for io_uring, the host holds every request
 * back until each queue has an entry. So the INIT reply asks only after a
 * trial ring could be made, and a CPU that cannot serve its queues turns
 * io_uring off for the connection (a REGISTER the host refuses makes it
 * give io_uring up and let the requests through /dev/fuse), rather than
 * leave the mount waiting forever. A ring that has registered an entry is
 * never closed before the end: its queue may be live.
 */
#include <errno.h>
#include <linux/fuse.h>
#include <linux/io_uring.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define FUSE_USE_VERSION 314
#include <fuse_lowlevel.h>

#include "console.h"
#include "hal.h"
#include "posix.h"
#include "spinlock.h"
#include "uring.h"

/* From the kernel's uapi fuse.h (protocol 7.42), newer than Debian 12's. */
#define FUSE_OVER_IO_URING_FLAG2 (1u << (41 - 32))
#define FUSE_IO_URING_CMD_REGISTER 1
#define FUSE_IO_URING_CMD_COMMIT_AND_FETCH 2
#define FUSE_URING_IN_OUT_HEADER_SZ 128
#define FUSE_URING_OP_IN_OUT_SZ 128

struct fuse_uring_ent_in_out {
	uint64_t flags;
	uint64_t commit_id;         /* the request's unique: echoed on commit */
	uint32_t payload_sz;        /* bytes in the payload, either way */
	uint32_t padding;
	uint64_t reserved;
};

struct fuse_uring_req_header {
	char in_out[FUSE_URING_IN_OUT_HEADER_SZ];   /* fuse_in_header / fuse_out_header */
	char op_in[FUSE_URING_OP_IN_OUT_SZ];        /* the opcode's fixed argument */
	struct fuse_uring_ent_in_out ring;
};

struct fuse_uring_cmd_req {     /* in the SQE's command area */
	uint64_t flags;
	uint64_t commit_id;
	uint16_t qid;
	uint8_t padding[6];
};

#define ENTRIES_PER_QUEUE 4
#define HEADROOM 256            /* >= fuse_in_header + FUSE_URING_OP_IN_OUT_SZ */
#define SQE_BYTES 128           /* IORING_SETUP_SQE128 */

struct entry {
	struct fuse_uring_req_header hdr;
	struct iovec iov[2];        /* hdr, payload: read by the host at REGISTER */
	char *mem;                  /* HEADROOM, then the payload */
	struct uring *ring;
	uint16_t qid;
	bool delivered;             /* holds a request not yet answered (ring->lock) */
	uint64_t commit_id;
};

struct uring {
	struct spinlock lock;       /* the SQ tail, the CQ head, entries' delivered */
	int fd, dev_fd;
	unsigned cpu;
	void *sq_map, *cq_map, *sqes;
	size_t sq_map_len, cq_map_len, sqes_len;
	unsigned *sq_tail, *sq_mask, *sq_array;
	unsigned *cq_head, *cq_tail, *cq_mask;
	struct io_uring_cqe *cqes;
	unsigned nentries;
	struct entry *entries;
};

/* Set before the session starts (uring_allow) and by uring_init_reply,
 * before any ring opens; then read only. */
static struct {
	bool refused;               /* -o uring=0 */
	bool asked;                 /* the INIT reply asked for io_uring */
	size_t payload;             /* the host's largest request or reply argument */
	unsigned nqueues;           /* the host's possible CPUs: one queue each */
	int host_cpu[HAL_MAX_CPUS]; /* kernel CPU -> the host CPU it is pinned to */
} cfg;

/* turn_off's REGISTER: a queue the host does not have. */
static struct entry refused = { .qid = UINT16_MAX };

static struct uring *rings[HAL_MAX_CPUS];   /* set by its CPU, cleared by uring_close */
static uint64_t delivered_total;            /* atomic */

void uring_allow(bool allowed)
{
	cfg.refused = !allowed;
}

static bool host_offers_uring(void)
{
	char c = 'N';
	FILE *f = fopen("/sys/module/fuse/parameters/enable_uring", "r");
	if (!f)
		return false;
	if (fscanf(f, " %c", &c) != 1)
		c = 'N';
	fclose(f);
	return c == 'Y' || c == '1';
}

/* The host's queue count: its possible CPUs ("0-3" or "0,2-5"). */
static unsigned possible_cpus(void)
{
	FILE *f = fopen("/sys/devices/system/cpu/possible", "r");
	unsigned n = 0, a, b;
	if (!f)
		return 0;
	for (;;) {
		if (fscanf(f, "%u", &a) != 1)
			break;
		b = a;
		int c = fgetc(f);
		if (c == '-') {
			if (fscanf(f, "%u", &b) != 1)
				break;
			c = fgetc(f);
		}
		n += b - a + 1;
		if (c != ',')
			break;
	}
	fclose(f);
	return n;
}

/* Kernel CPU c runs on the c-th host CPU the process may use (taskset). */
static bool plan_cpus(void)
{
	cpu_set_t allowed;
	if (sched_getaffinity(0, sizeof(allowed), &allowed) < 0)
		return false;
	unsigned ncpus = hal_cpu_count(), c = 0;
	for (int h = 0; h < CPU_SETSIZE && c < ncpus; h++)
		if (CPU_ISSET(h, &allowed))
			cfg.host_cpu[c++] = h;
	for (unsigned i = c; i < ncpus; i++)    /* more kernel CPUs than host ones */
		cfg.host_cpu[i] = -1;
	return c > 0;
}

static int sys_setup(unsigned entries, struct io_uring_params *p);

/* The host lets this process make a ring of 128-byte SQEs (io_uring may
 * be disabled, or filtered by seccomp). */
static bool can_make_ring(void)
{
	struct io_uring_params p = { .flags = IORING_SETUP_SQE128 };
	int fd = sys_setup(1, &p);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

bool uring_init_reply(struct fuse_init_out *init)
{
	if (cfg.refused || !host_offers_uring() || !can_make_ring())
		return false;
	cfg.nqueues = possible_cpus();
	if (cfg.nqueues == 0 || !plan_cpus())
		return false;
	size_t pages = (init->flags & FUSE_MAX_PAGES) ? init->max_pages : 32;
	size_t payload = pages * (size_t)getpagesize();
	if (payload < init->max_write)
		payload = init->max_write;
	if (payload < 8192)
		payload = 8192;
	cfg.payload = payload;
	init->flags |= FUSE_INIT_EXT;   /* flags2 is read only with it */
	init->flags2 |= FUSE_OVER_IO_URING_FLAG2;
	cfg.asked = true;
	return true;
}

/* owner: the kernel CPU that serves queue qid. */
static unsigned owner(unsigned qid)
{
	unsigned ncpus = hal_cpu_count();
	for (unsigned c = 0; c < ncpus; c++)
		if (cfg.host_cpu[c] == (int)qid)
			return c;
	return qid % ncpus;
}

static int sys_setup(unsigned entries, struct io_uring_params *p)
{
	return (int)syscall(__NR_io_uring_setup, entries, p);
}

static int sys_enter(int fd, unsigned to_submit)
{
	return (int)syscall(__NR_io_uring_enter, fd, to_submit, 0, 0, NULL, 0);
}

/* submit: one command SQE for e (REGISTER or COMMIT_AND_FETCH). */
static int submit(struct uring *r, struct entry *e, uint32_t cmd_op)
{
	spin_lock(&r->lock);
	unsigned tail = *r->sq_tail, idx = tail & *r->sq_mask;
	struct io_uring_sqe *sqe = (struct io_uring_sqe *)((char *)r->sqes + idx * SQE_BYTES);
	memset(sqe, 0, SQE_BYTES);
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = r->dev_fd;
	sqe->cmd_op = cmd_op;
	sqe->user_data = (uint64_t)(uintptr_t)e;
	if (cmd_op == FUSE_IO_URING_CMD_REGISTER) {
		sqe->addr = (uint64_t)(uintptr_t)e->iov;
		sqe->len = 2;
	}
	struct fuse_uring_cmd_req *req = (struct fuse_uring_cmd_req *)sqe->cmd;
	req->commit_id = e->commit_id;
	req->qid = e->qid;
	r->sq_array[idx] = idx;
	__atomic_store_n(r->sq_tail, tail + 1, __ATOMIC_RELEASE);
	spin_unlock(&r->lock);
	/* Another thread of this CPU may have queued an SQE and not entered
	 * yet: each enter submits one, in order, so none is left behind. */
	int n;
	while ((n = sys_enter(r->fd, 1)) < 0 && (errno == EINTR || errno == EAGAIN))
		;
	return n < 0 ? -errno : 0;
}

static void unmap(struct uring *r)
{
	if (r->sqes)
		munmap(r->sqes, r->sqes_len);
	if (r->cq_map && r->cq_map != r->sq_map)
		munmap(r->cq_map, r->cq_map_len);
	if (r->sq_map)
		munmap(r->sq_map, r->sq_map_len);
}

static int map_rings(struct uring *r, const struct io_uring_params *p)
{
	r->sq_map_len = p->sq_off.array + p->sq_entries * sizeof(unsigned);
	r->cq_map_len = p->cq_off.cqes + p->cq_entries * sizeof(struct io_uring_cqe);
	if (p->features & IORING_FEAT_SINGLE_MMAP) {
		if (r->cq_map_len > r->sq_map_len)
			r->sq_map_len = r->cq_map_len;
		r->cq_map_len = r->sq_map_len;
	}
	r->sq_map = mmap(NULL, r->sq_map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
	                 r->fd, IORING_OFF_SQ_RING);
	if (r->sq_map == MAP_FAILED) {
		r->sq_map = NULL;
		return -errno;
	}
	r->cq_map = r->sq_map;
	if (!(p->features & IORING_FEAT_SINGLE_MMAP)) {
		r->cq_map = mmap(NULL, r->cq_map_len, PROT_READ | PROT_WRITE,
		                 MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_CQ_RING);
		if (r->cq_map == MAP_FAILED) {
			r->cq_map = NULL;
			return -errno;
		}
	}
	r->sqes_len = p->sq_entries * SQE_BYTES;
	r->sqes = mmap(NULL, r->sqes_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
	               r->fd, IORING_OFF_SQES);
	if (r->sqes == MAP_FAILED) {
		r->sqes = NULL;
		return -errno;
	}
	char *sq = r->sq_map, *cq = r->cq_map;
	r->sq_tail = (unsigned *)(sq + p->sq_off.tail);
	r->sq_mask = (unsigned *)(sq + p->sq_off.ring_mask);
	r->sq_array = (unsigned *)(sq + p->sq_off.array);
	r->cq_head = (unsigned *)(cq + p->cq_off.head);
	r->cq_tail = (unsigned *)(cq + p->cq_off.tail);
	r->cq_mask = (unsigned *)(cq + p->cq_off.ring_mask);
	r->cqes = (struct io_uring_cqe *)(cq + p->cq_off.cqes);
	return 0;
}

/* The queues this CPU serves, ENTRIES_PER_QUEUE entries each. */
static int make_entries(struct uring *r)
{
	unsigned nq = 0;
	for (unsigned q = 0; q < cfg.nqueues; q++)
		nq += owner(q) == r->cpu;
	r->nentries = nq * ENTRIES_PER_QUEUE;
	if (r->nentries == 0)
		return 0;
	r->entries = calloc(r->nentries, sizeof(*r->entries));
	if (!r->entries)
		return -ENOMEM;
	unsigned i = 0;
	for (unsigned q = 0; q < cfg.nqueues; q++) {
		if (owner(q) != r->cpu)
			continue;
		for (unsigned k = 0; k < ENTRIES_PER_QUEUE; k++, i++) {
			struct entry *e = &r->entries[i];
			e->mem = malloc(HEADROOM + cfg.payload);
			if (!e->mem)
				return -ENOMEM;
			e->ring = r;
			e->qid = (uint16_t)q;
			e->iov[0] = (struct iovec){ &e->hdr, sizeof(e->hdr) };
			e->iov[1] = (struct iovec){ e->mem + HEADROOM, cfg.payload };
		}
	}
	return 0;
}

static void free_ring(struct uring *r)
{
	if (r->fd >= 0)
		close(r->fd);       /* the host cancels what the entries still wait for */
	unmap(r);
	for (unsigned i = 0; r->entries && i < r->nentries; i++)
		free(r->entries[i].mem);
	free(r->entries);
	free(r);
}

/* pin_to_host_cpu: where that fails (a cpuset changed) the CPU serves its
 * queues from wherever it runs: slower, not wrong. */
static void pin_to_host_cpu(unsigned cpu)
{
	if (cfg.host_cpu[cpu] < 0)
		return;
	cpu_set_t one;
	CPU_ZERO(&one);
	CPU_SET(cfg.host_cpu[cpu], &one);
	if (sched_setaffinity(0, sizeof(one), &one) < 0)
		kprintf("torofuse: CPU %u not pinned to host CPU %d: %s\n", cpu,
		        cfg.host_cpu[cpu], strerror(errno));
}

/* setup: r's ring (entries SQEs), mapped. */
static int setup(struct uring *r, unsigned entries)
{
	struct io_uring_params p = { .flags = IORING_SETUP_SQE128 };
	r->fd = sys_setup(entries, &p);
	return r->fd < 0 ? -errno : map_rings(r, &p);
}

/* turn_off: make the host give io_uring up for the connection (see the
 * top), through r's ring or, without one, a ring made for it. */
static void turn_off(struct uring *r)
{
	struct uring spare = { .fd = -1, .dev_fd = r->dev_fd };
	struct uring *via = r->sqes ? r : &spare;
	if (via == &spare) {
		spin_init(&spare.lock, "uring spare");
		if (setup(&spare, 1) < 0) {
			kprintf("torofuse: cannot turn io_uring off: requests will wait\n");
			if (spare.fd >= 0)
				close(spare.fd);
			unmap(&spare);
			return;
		}
	}
	if (submit(via, &refused, FUSE_IO_URING_CMD_REGISTER) < 0)
		kprintf("torofuse: cannot turn io_uring off: requests will wait\n");
	if (via == &spare) {
		close(spare.fd);
		unmap(&spare);
	}
}

int uring_open(int dev_fd, void (*ready)(void *), void *arg, struct uring **out)
{
	if (!cfg.asked)
		return -EOPNOTSUPP;
	unsigned cpu = hal_cpu_id();
	struct uring *r = calloc(1, sizeof(*r));
	if (!r) {
		struct uring bare = { .fd = -1, .dev_fd = dev_fd };
		turn_off(&bare);
		return -ENOMEM;
	}
	spin_init(&r->lock, "uring");
	r->fd = -1;
	r->dev_fd = dev_fd;
	r->cpu = cpu;
	int rc = make_entries(r);
	if (rc == 0 && r->nentries == 0) {
		free_ring(r);       /* no queue of its own: more kernel CPUs than host ones */
		return -ENOENT;
	}
	if (rc == 0 && getenv("TOROFUSE_URING_FAIL_CPU") &&
	    (unsigned)atoi(getenv("TOROFUSE_URING_FAIL_CPU")) == cpu)
		rc = -EIO;          /* tests: this CPU fails as if out of memory */
	if (rc == 0) {
		pin_to_host_cpu(cpu);
		rc = setup(r, r->nentries);
	}
	if (rc == 0)
		rc = hal_posix_watch_fd_only(r->fd, cpu, ready, arg);
	if (rc < 0) {
		turn_off(r);
		free_ring(r);
		return rc;
	}
	rings[cpu] = r;
	*out = r;
	/* From the first entry on the queue may be live: r stays, whatever
	 * fails (the host gives io_uring up itself when it refuses one). */
	for (unsigned i = 0; i < r->nentries; i++) {
		rc = submit(r, &r->entries[i], FUSE_IO_URING_CMD_REGISTER);
		if (rc < 0) {
			kprintf("torofuse: io_uring queue %u: %s\n", r->entries[i].qid, strerror(-rc));
			if (i == 0)
				turn_off(r);
			break;
		}
	}
	return 0;
}

/* A request whose sizes do not add up: answered -EIO, the entry fetches
 * the next one. */
static void refuse(struct uring *r, struct entry *e)
{
	struct fuse_out_header oh = { sizeof(oh), -EIO, e->commit_id };
	memcpy(e->hdr.in_out, &oh, sizeof(oh));
	e->hdr.ring.payload_sz = 0;
	submit(r, e, FUSE_IO_URING_CMD_COMMIT_AND_FETCH);
}

int uring_next(struct uring *r, struct fuse_buf *buf)
{
	for (;;) {
		spin_lock(&r->lock);
		unsigned head = *r->cq_head;
		if (head == __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE)) {
			spin_unlock(&r->lock);
			return 0;
		}
		struct io_uring_cqe cqe = r->cqes[head & *r->cq_mask];
		__atomic_store_n(r->cq_head, head + 1, __ATOMIC_RELEASE);
		struct entry *e = (struct entry *)(uintptr_t)cqe.user_data;
		if (e == &refused) {
			spin_unlock(&r->lock);      /* turn_off's, refused as meant */
			continue;
		}
		if (cqe.res < 0) {
			/* The entry is gone: the connection ended (-ENOTCONN) or
			 * the host turned the ring down. */
			spin_unlock(&r->lock);
			if (cqe.res != -ENOTCONN && cqe.res != -ECANCELED)
				kprintf("torofuse: io_uring queue %u: %s\n", e->qid,
				        strerror(-cqe.res));
			continue;
		}
		struct fuse_in_header in;
		memcpy(&in, e->hdr.in_out, sizeof(in));
		size_t payload = e->hdr.ring.payload_sz;
		e->commit_id = e->hdr.ring.commit_id;
		bool sane = payload <= cfg.payload && in.len >= sizeof(in) + payload &&
		            in.len - sizeof(in) - payload <= FUSE_URING_OP_IN_OUT_SZ;
		e->delivered = sane;
		spin_unlock(&r->lock);
		if (!sane) {
			refuse(r, e);
			continue;
		}
		size_t arg = in.len - sizeof(in) - payload;
		char *start = e->mem + HEADROOM - arg - sizeof(in);
		memcpy(start, &in, sizeof(in));
		memcpy(start + sizeof(in), e->hdr.op_in, arg);
		*buf = (struct fuse_buf){ .size = in.len, .mem = start, .fd = -1 };
		__atomic_add_fetch(&delivered_total, 1, __ATOMIC_RELAXED);
		return 1;
	}
}

/* find_delivered: r's entry that holds request unique, marked answered. */
static struct entry *find_delivered(struct uring *r, uint64_t unique)
{
	struct entry *found = NULL;
	spin_lock(&r->lock);
	for (unsigned i = 0; i < r->nentries && !found; i++) {
		struct entry *e = &r->entries[i];
		if (e->delivered && e->commit_id == unique) {
			e->delivered = false;
			found = e;
		}
	}
	spin_unlock(&r->lock);
	return found;
}

bool uring_reply(const struct iovec *iov, int count, ssize_t *res)
{
	if (!cfg.asked || count < 1 || iov[0].iov_len < sizeof(struct fuse_out_header))
		return false;
	struct fuse_out_header oh;
	memcpy(&oh, iov[0].iov_base, sizeof(oh));
	if (oh.unique == 0)         /* a notification */
		return false;
	/* The request's own CPU first: replies come from the thread that read it. */
	unsigned self = hal_cpu_id(), ncpus = hal_cpu_count();
	struct entry *e = NULL;
	for (unsigned i = 0; i < ncpus && !e; i++) {
		struct uring *r = __atomic_load_n(&rings[(self + i) % ncpus], __ATOMIC_ACQUIRE);
		if (r)
			e = find_delivered(r, oh.unique);
	}
	if (!e)
		return false;
	size_t total = iov[0].iov_len, args = 0;
	for (int i = 1; i < count; i++)
		args += iov[i].iov_len;
	total += args;
	if (args > cfg.payload) {
		oh = (struct fuse_out_header){ sizeof(oh), -EIO, oh.unique };
		args = 0;
	}
	char *p = e->mem + HEADROOM;
	for (int i = 1; i < count && args; i++) {
		memcpy(p, iov[i].iov_base, iov[i].iov_len);
		p += iov[i].iov_len;
	}
	memcpy(e->hdr.in_out, &oh, sizeof(oh));
	e->hdr.ring.payload_sz = (uint32_t)args;
	int rc = submit(e->ring, e, FUSE_IO_URING_CMD_COMMIT_AND_FETCH);
	if (rc < 0) {
		errno = -rc;
		*res = -1;
	} else {
		*res = (ssize_t)total;
	}
	return true;
}

uint64_t uring_requests(void)
{
	return __atomic_load_n(&delivered_total, __ATOMIC_RELAXED);
}

void uring_close(struct uring *r)
{
	hal_posix_unwatch_fd(r->fd);
	__atomic_store_n(&rings[r->cpu], NULL, __ATOMIC_RELEASE);
	free_ring(r);
}
