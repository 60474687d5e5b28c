/*
 * tcp_isn.c: the stack's boot-time secret, SipHash-2-4 keyed with it, and
 * initial sequence numbers per RFC 6528: ISN = M + F(localip, localport,
 * remoteip, remoteport, secretkey), M a timer ticking every 4 µs, F
 * SipHash (a keyed PRF, as §3 asks).
 *
 * Where the secret comes from: the HAL offers no random number source, so
 * the key is SipHash (under a fixed constant) of what differs from boot to
 * boot and is hard to guess from outside: the TSC (cycles since power-on,
 * to the cycle), the wall clock and monotonic clock in nanoseconds, and
 * addresses of a stack and of this file's data (randomised by the host's
 * ASLR on posix). That is weaker than a hardware RNG: an attacker who can
 * time the boot to the microsecond narrows it, which is why RDRAND or a
 * virtio-rng would be the better source once the HAL has one.
 */
#include "hal.h"
#include "spinlock.h"
#include "tcp_impl.h"

static inline uint64_t rotl(uint64_t x, unsigned b) { return x << b | x >> (64 - b); }

#define SIPROUND                                                                        \
	do {                                                                            \
		v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32);               \
		v2 += v3; v3 = rotl(v3, 16); v3 ^= v2;                                  \
		v0 += v3; v3 = rotl(v3, 21); v3 ^= v0;                                  \
		v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32);               \
	} while (0)

/* SipHash-2-4 over whole 64-bit words (the length byte counts 8 each). */
uint64_t tcp_siphash(const uint64_t k[2], const uint64_t *words, unsigned n)
{
	uint64_t v0 = 0x736f6d6570736575ull ^ k[0], v1 = 0x646f72616e646f6dull ^ k[1];
	uint64_t v2 = 0x6c7967656e657261ull ^ k[0], v3 = 0x7465646279746573ull ^ k[1];
	for (unsigned i = 0; i < n; i++) {
		v3 ^= words[i];
		SIPROUND;
		SIPROUND;
		v0 ^= words[i];
	}
	uint64_t b = (uint64_t)(n * 8) << 56;
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

static struct spinlock secret_lock = SPINLOCK_INIT("tcp_secret");
static uint64_t secret[2];      /* written once under secret_lock */
static int secret_ready;        /* atomic: 1 once secret is set */

static const uint64_t *boot_secret(void)
{
	if (__atomic_load_n(&secret_ready, __ATOMIC_ACQUIRE))
		return secret;
	spin_lock(&secret_lock);
	if (!secret_ready) {
		uint64_t here;
		uint64_t seed[6] = {
			__builtin_ia32_rdtsc(), hal_clock_ns(), (uint64_t)hal_realtime_ns(),
			(uint64_t)(uintptr_t)&here, (uint64_t)(uintptr_t)&secret,
			__builtin_ia32_rdtsc(),
		};
		static const uint64_t mix[2] = { 0x546f726f2f432054ull, 0x4350206973 };
		secret[0] = tcp_siphash(mix, seed, 6);
		seed[5] ^= secret[0];
		secret[1] = tcp_siphash(mix, seed, 6);
		__atomic_store_n(&secret_ready, 1, __ATOMIC_RELEASE);
	}
	spin_unlock(&secret_lock);
	return secret;
}

uint64_t tcp_secret_hash(ip4_addr laddr, uint16_t lport, ip4_addr raddr, uint16_t rport,
                         uint64_t extra)
{
	uint64_t w[3] = {
		(uint64_t)laddr << 32 | raddr,
		(uint64_t)lport << 16 | rport,
		extra,
	};
	return tcp_siphash(boot_secret(), w, 3);
}

uint32_t tcp_isn_at(ip4_addr laddr, uint16_t lport, ip4_addr raddr, uint16_t rport,
                    uint64_t now_ns)
{
	uint32_t m = (uint32_t)(now_ns / 4000);         /* RFC 6528 §3: 4 µs ticks */
	return m + (uint32_t)tcp_secret_hash(laddr, lport, raddr, rport, 0);
}

uint32_t tcp_isn(ip4_addr laddr, uint16_t lport, ip4_addr raddr, uint16_t rport)
{
	return tcp_isn_at(laddr, lport, raddr, rport, hal_clock_ns());
}
