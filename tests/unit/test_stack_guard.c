/*
 * test_stack_guard.c: a kernel thread stack on posix has a guard page below
 * it: a thread that runs off its stack dies of SIGSEGV at once, with the
 * overflow named, instead of writing over the heap; and the whole size
 * asked for stays usable above the guard. A freed stack is kept for the
 * CPU's next thread of that size (no munmap per thread), guard and all.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "thread.h"

/* use_stack: recurse depth times, 512 bytes a frame, each frame written
 * (the compiler may neither drop the buffers nor turn this into a loop). */
static __attribute__((noinline)) unsigned use_stack(unsigned depth)
{
	volatile unsigned char frame[512];
	memset((void *)frame, (int)depth, sizeof(frame));
	if (depth == 0)
		return frame[0];
	return use_stack(depth - 1) + frame[depth % sizeof(frame)];
}

static int recurse(void *arg)
{
	return (int)(use_stack((unsigned)(uintptr_t)arg) & 0x7f);
}

/* One thread with a 32 KiB stack recursing `depth` frames; 0 once joined. */
static int one_thread(void *arg)
{
	struct thread *t = thread_create(0, recurse, arg, 32 * 1024);
	if (!t)
		return -1;
	thread_join(t);
	return 0;
}

/* 40 frames, about 21 KiB with their overhead: fits in 32 KiB. */
Test(stack_guard, the_whole_stack_stays_usable)
{
	cr_assert_eq(run_in_kernel(1, one_thread, (void *)(uintptr_t)40), 0);
}

/* 4096 frames, 2 MiB: far past the bottom; each 512-byte frame lands in
 * the guard first. ASan's own SEGV handler reports the overflow and exits
 * with status 1; without ASan the guard's SIGSEGV ends the process. */
#ifdef __SANITIZE_ADDRESS__
Test(stack_guard, an_overflow_dies_on_the_guard, .exit_code = 1)
#else
Test(stack_guard, an_overflow_dies_on_the_guard, .signal = SIGSEGV)
#endif
{
	run_in_kernel(1, one_thread, (void *)(uintptr_t)4096);
	cr_assert_fail("the overflowing thread returned");
}

static int note_stack(void *arg)
{
	*(void **)arg = thread_current()->stack;
	return 0;
}

/* Threads one after another on CPU 0: seen[0..2] at 32 KiB, seen[3] at
 * 64 KiB. A thread's stack is freed before its joiner runs again (the
 * scheduler finishes it on switching away). */
static int reuse_body(void *arg)
{
	void **seen = arg;
	for (unsigned i = 0; i < 4; i++) {
		struct thread *t = thread_create(0, note_stack, &seen[i], i < 3 ? 32 * 1024 : 64 * 1024);
		if (!t)
			return -1;
		thread_join(t);
	}
	return 0;
}

Test(stack_guard, a_freed_stack_serves_the_next_thread)
{
	void *seen[4] = { 0 };
	cr_assert_eq(run_in_kernel(1, reuse_body, seen), 0);
	cr_assert(seen[0] && seen[0] == seen[1] && seen[1] == seen[2],
	          "stacks %p %p %p", seen[0], seen[1], seen[2]);
	cr_assert(seen[3] && seen[3] != seen[0], "a 64 KiB thread got the 32 KiB stack");
}

/* A shallow thread, then one that overflows: on the reused stack. */
static int reuse_then_overflow(void *arg)
{
	one_thread((void *)(uintptr_t)1);
	return one_thread(arg);
}

#ifdef __SANITIZE_ADDRESS__
Test(stack_guard, a_reused_stack_keeps_its_guard, .exit_code = 1)
#else
Test(stack_guard, a_reused_stack_keeps_its_guard, .signal = SIGSEGV)
#endif
{
	run_in_kernel(1, reuse_then_overflow, (void *)(uintptr_t)4096);
	cr_assert_fail("the overflowing thread returned");
}

#ifndef __SANITIZE_ADDRESS__
/* The crash says what it is: run the overflow in a child, read its stderr. */
Test(stack_guard, the_crash_names_the_overflow)
{
	int pipefd[2];
	cr_assert_eq(pipe(pipefd), 0);
	pid_t pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		dup2(pipefd[1], STDERR_FILENO);
		close(pipefd[0]);
		run_in_kernel(1, one_thread, (void *)(uintptr_t)4096);
		_exit(0);
	}
	close(pipefd[1]);
	char out[512] = { 0 };
	size_t len = 0;
	ssize_t got;
	while (len < sizeof(out) - 1 && (got = read(pipefd[0], out + len, sizeof(out) - 1 - len)) > 0)
		len += (size_t)got;
	close(pipefd[0]);
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV, "status %#x", status);
	cr_assert(strstr(out, "kernel thread stack overflow"), "stderr: %s", out);
}
#endif
