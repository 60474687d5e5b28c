/*
 * test_alloc.c: the per-CPU allocator, in a booted kernel.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "alloc.h"
#include "harness.h"
#include "hal.h"
#include "thread.h"

struct result {
	int failures;
	char what[128];
	struct alloc_stats before, after;
};

#define CHECK(r, cond) do { if (!(cond) && !(r)->failures++) \
		strncpy((r)->what, #cond, sizeof((r)->what) - 1); } while (0)

static int sizes_body(void *arg)
{
	struct result *r = arg;
	static void *p[64];
	size_t sizes[] = { 1, 7, 16, 17, 100, 255, 256, 1000, 2048, 2049, 4096, 5000, 65536, 1 << 20 };
	unsigned n = sizeof(sizes) / sizeof(sizes[0]);

	alloc_stats(-1, &r->before);
	for (unsigned i = 0; i < n; i++) {
		p[i] = kmalloc(sizes[i]);
		CHECK(r, p[i] != NULL);
		CHECK(r, ((uintptr_t)p[i] & 15) == 0);
		CHECK(r, kmalloc_usable_size(p[i]) >= sizes[i]);
		memset(p[i], (int)i, sizes[i]);
	}
	for (unsigned i = 0; i < n; i++) {   /* no object overlaps another */
		unsigned char *b = p[i];
		for (size_t k = 0; k < sizes[i]; k++)
			if (b[k] != (unsigned char)i) {
				CHECK(r, !"contents intact");
				break;
			}
	}
	for (unsigned i = 0; i < n; i++)
		kfree(p[i]);
	kfree(NULL);
	alloc_stats(-1, &r->after);
	return 0;
}

Test(alloc, sizes_contents_and_stats)
{
	struct result r = { 0 };
	cr_assert_eq(run_in_kernel(2, sizes_body, &r), 0);
	cr_assert_eq(r.failures, 0, "%s", r.what);
	cr_assert_eq(r.after.allocs - r.before.allocs, 14);
	cr_assert_eq(r.after.frees - r.before.frees, 14);
	cr_assert_eq(r.after.bytes_in_use, r.before.bytes_in_use);
	/* Large runs all go back; each size class may keep one empty slab. */
	cr_assert_leq(r.before.free_bytes - r.after.free_bytes, 17 * 4096, "pages returned");
}

static int alignment_body(void *arg)
{
	struct result *r = arg;
	for (size_t align = 1; align <= 4096; align <<= 1) {
		size_t sizes[] = { 1, align, align + 1, 3 * align + 5 };
		for (unsigned i = 0; i < 4; i++) {
			void *p = kmalloc_aligned(sizes[i], align);
			CHECK(r, p != NULL);
			CHECK(r, ((uintptr_t)p & (align - 1)) == 0);
			kfree(p);
		}
	}
	CHECK(r, kmalloc_aligned(16, 3) == NULL);
	CHECK(r, kmalloc_aligned(16, 8192) == NULL);
	return 0;
}

Test(alloc, any_alignment_up_to_a_page)
{
	struct result r = { 0 };
	cr_assert_eq(run_in_kernel(1, alignment_body, &r), 0);
	cr_assert_eq(r.failures, 0, "%s", r.what);
}

static int reuse_body(void *arg)
{
	struct result *r = arg;
	void *a = kmalloc(64);
	kfree(a);
	void *b = kmalloc(64);
	CHECK(r, a == b);               /* the per-CPU slab hands the hot object back */
	kfree(b);
	for (int round = 0; round < 3; round++) {   /* churn does not leak pages */
		static void *p[5000];
		for (int i = 0; i < 5000; i++)
			p[i] = kmalloc(48 + (i % 7) * 100);
		for (int i = 0; i < 5000; i++)
			kfree(p[i]);
		alloc_stats(-1, round == 0 ? &r->before : &r->after);
	}
	return 0;
}

Test(alloc, reuse_and_no_leak_under_churn)
{
	struct result r = { 0 };
	cr_assert_eq(run_in_kernel(1, reuse_body, &r), 0);
	cr_assert_eq(r.failures, 0, "%s", r.what);
	cr_assert_eq(r.after.free_bytes, r.before.free_bytes);
}

static int oom_body(void *arg)
{
	struct result *r = arg;
	void *huge = kmalloc((size_t)1 << 40);
	CHECK(r, huge == NULL);
	/* Exhaust memory with 1 MiB blocks, then give it all back. */
	static void *blocks[512];
	int n = 0;
	while (n < 512 && (blocks[n] = kmalloc(1 << 20)) != NULL)
		n++;
	CHECK(r, n > 0 && n < 512);
	alloc_stats(-1, &r->before);
	for (int i = 0; i < n; i++)
		kfree(blocks[i]);
	alloc_stats(-1, &r->after);
	CHECK(r, r->before.failed_allocs >= 2);
	void *again = kmalloc(1 << 20);
	CHECK(r, again != NULL);
	kfree(again);
	return 0;
}

Test(alloc, out_of_memory_is_null_and_recoverable)
{
	struct result r = { 0 };
	struct posix_config cfg = { .cpus = 1, .mem_bytes = 64 << 20 };
	cr_assert_eq(run_in_kernel_cfg(&cfg, oom_body, &r), 0);
	cr_assert_eq(r.failures, 0, "%s", r.what);
	cr_assert_gt(r.after.free_bytes, r.before.free_bytes);
}

/* Objects allocated on one CPU, freed on another, under load. */
struct exchange {
	void *slots[4096];
	int filled;         /* atomic: slots published by the producer */
	struct result *r;
};

static int producer(void *arg)
{
	struct exchange *x = arg;
	for (int i = 0; i < 4096; i++) {
		x->slots[i] = kmalloc(32 + (i % 16) * 8);
		memset(x->slots[i], 0xab, 32);
		__atomic_store_n(&x->filled, i + 1, __ATOMIC_RELEASE);
		if (i % 64 == 0)
			thread_yield();
	}
	return 0;
}

static int consumer(void *arg)
{
	struct exchange *x = arg;
	for (int i = 0; i < 4096; i++) {
		while (__atomic_load_n(&x->filled, __ATOMIC_ACQUIRE) <= i)
			thread_yield();
		kfree(x->slots[i]);
	}
	return 0;
}

static int cross_free_body(void *arg)
{
	struct result *r = arg;
	struct exchange *x = kzalloc(sizeof(*x));
	alloc_stats(-1, &r->before);
	struct thread *p = thread_create(0, producer, x, 0);
	struct thread *c = thread_create(1, consumer, x, 0);
	thread_join(p);
	thread_join(c);
	/* CPU 1 frees the consumer's struct after its last switch, a moment
	 * after the join; the owner takes objects back at its next kmalloc. */
	thread_sleep_ms(20);
	kfree(kmalloc(32));
	alloc_stats(-1, &r->after);
	kfree(x);
	return 0;
}

Test(alloc, cross_cpu_frees_return_to_owner)
{
	struct result r = { 0 };
	cr_assert_eq(run_in_kernel(2, cross_free_body, &r), 0);
	cr_assert_geq(r.after.remote_frees - r.before.remote_frees, 4096);
	cr_assert_eq(r.after.bytes_in_use, r.before.bytes_in_use, "in use %lu vs %lu",
	             (unsigned long)r.after.bytes_in_use, (unsigned long)r.before.bytes_in_use);
}
