/*
 * tcp_impl.h: what the tcp_*.c files share: the wire format of the TCP
 * header, the connection record, and the calls between the files.
 *
 * Lifecycle of a connection (struct tcp_conn): made by tcp_open (socket
 * layer) or by a listener for an arriving SYN; entered in the connection
 * table when its 4-tuple is known (connect, SYN arrival); taken out when it
 * reaches CLOSED. It is freed when both hold: it is CLOSED and nobody holds
 * it (user_ref false: tcp_close ran, or it never had a socket and was never
 * accepted). Every field is touched only on the owner CPU (c->cpu), except
 * the table links, guarded by the table's locks (tcp_conn.c).
 */
#ifndef NET_TCP_IMPL_H
#define NET_TCP_IMPL_H

#include <stdbool.h>
#include <stdint.h>

#include "net.h"
#include "netbuf.h"
#include "tcp.h"
#include "tcp_seq.h"
#include "waitq.h"

/* ---- Wire format -------------------------------------------------------- */

/* Big-endian fields of packet bytes, read and written only through these. */
static inline uint16_t tcp_get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t tcp_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void tcp_put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline void tcp_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

/* The fixed header (RFC 9293 §3.1): byte offsets. */
enum {
	TCP_OFF_SPORT = 0, TCP_OFF_DPORT = 2, TCP_OFF_SEQ = 4, TCP_OFF_ACK = 8,
	TCP_OFF_DOFF = 12, TCP_OFF_FLAGS = 13, TCP_OFF_WND = 14, TCP_OFF_CSUM = 16,
	TCP_OFF_URP = 18, TCP_HDR_MIN = 20, TCP_HDR_MAX = 60, TCP_OPT_MAX = 40,
};

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_URG 0x20

/* ---- Options (tcp_options.c) ------------------------------------------- */

#define TCP_MAX_SACK 4
#define TCP_TS_OPT_LEN 12       /* NOP NOP TS: in every segment once agreed */

/* The options of one segment, as parsed or as to be written. */
struct tcp_opts {
	bool has_mss, has_ws, sack_permitted, has_ts;
	uint16_t mss;
	uint8_t wscale;                 /* as sent; parse clamps nothing */
	uint32_t tsval, tsecr;
	uint8_t nsack;                  /* SACK blocks (data segments only) */
	struct { uint32_t left, right; } sack[TCP_MAX_SACK];
};

/* tcp_options_parse: the options in p[0..len); -EINVAL when any is
 * malformed (a length that runs past the end or is wrong for its kind, a
 * SYN-only option with bad values), so the segment gets dropped. syn: MSS
 * and window scale count only on SYNs (RFC 9293 §3.2, RFC 7323 §2.2). */
int tcp_options_parse(const uint8_t *p, size_t len, bool syn, struct tcp_opts *o);
/* tcp_options_size / tcp_options_write: the bytes o takes (a multiple of
 * 4, at most 40) / writes them at p; the same layout both times. */
size_t tcp_options_size(const struct tcp_opts *o, bool syn);
size_t tcp_options_write(uint8_t *p, const struct tcp_opts *o, bool syn);

/* ---- An arriving segment ------------------------------------------------ */

struct tcp_seg {
	ip4_addr src, dst;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t wnd;                   /* as sent, unscaled */
	uint32_t len;                   /* payload bytes */
	uint16_t seg_size;              /* 0, or the sender's MSS when this is
	                                   many segments as one (HAL_NET_RX_GSO) */
	struct tcp_opts opts;
	struct netbuf *nb;              /* data at the payload, len bytes */
};

/* tcp_seg_parse: header fields and options of the segment in nb (data at
 * the TCP header, its length checked by tcp_input); on success nb->data is
 * at the payload. -EINVAL for a malformed header or option. */
int tcp_seg_parse(struct netbuf *nb, struct tcp_seg *s);

/* tcp_seg_space: sequence space the segment occupies (SYN and FIN count). */
static inline uint32_t tcp_seg_space(const struct tcp_seg *s)
{
	return s->len + !!(s->flags & TCP_SYN) + !!(s->flags & TCP_FIN);
}

/* ---- Round-trip time (tcp_rtt.c), RFC 6298 ----------------------------- */

#define TCP_RTO_INITIAL_US 1000000u     /* RFC 6298 §2.1 */
/* RFC 6298 §2.4 says SHOULD round up to 1 s; like most stacks we take the
 * lower bound the "MAY" of its §4 permits for timers as fine as ours, so a
 * lost tail on a LAN costs 200 ms instead of a second. */
#define TCP_RTO_MIN_US     200000u
#define TCP_RTO_MAX_US     60000000u     /* RFC 6298 §2.5 */
#define TCP_RTT_G_US       1000u         /* clock granularity G */

struct tcp_rtt {
	uint32_t srtt_us, rttvar_us;    /* 0/0 until the first measurement */
	uint32_t rto_us;                /* before backoff */
	bool measured;
};

void tcp_rtt_init(struct tcp_rtt *r);
/* tcp_rtt_sample: one measurement R (RFC 6298 §2.2, §2.3). */
void tcp_rtt_sample(struct tcp_rtt *r, uint32_t r_us);
/* tcp_rtt_rto: the timeout after backoff doublings (§5.5), clamped. */
uint32_t tcp_rtt_rto(const struct tcp_rtt *r, unsigned backoff);

/* ---- SACK scoreboard (tcp_sack.c), RFC 2018 / RFC 6675 ---------------- */

/* A data segment sent and not yet cumulatively acked. */
#define TCP_SEG_SACKED  0x01
#define TCP_SEG_LOST    0x02            /* loss detection took it as lost */
#define TCP_SEG_RETRANS 0x04            /* sent again since sent first or lost */
#define TCP_SEG_RESENT  0x08            /* ever sent again: an ACK of it may be
                                           the first send's (RACK) */

struct tcp_sent_seg {
	uint32_t seq, len;
	uint64_t xmit_ns;               /* when last sent */
	uint8_t flags;
};

/* Records seg[head .. head + n) of cap, in sequence order, disjoint. */
struct tcp_sackboard {
	struct tcp_sent_seg *seg;       /* kmalloc'd; NULL until the first */
	uint32_t head, n, cap;
	uint32_t sacked, lost, retrans; /* bytes of the records with each flag */
};

struct tcp_rack;

void tcp_sack_free(struct tcp_sackboard *sb);
/* tcp_sack_clear: forget every SACK, loss and resend mark (at an RTO that
 * finds SND.UNA's segment SACKed: RFC 2018 §8, the receiver threw SACKed
 * data away; or that the board cannot serve). */
void tcp_sack_clear(struct tcp_sackboard *sb);
/* tcp_sack_sent: [seq, seq + len) went out at now_ns: new records (one per
 * mss) past the last one, or the records it covers marked resent. */
void tcp_sack_sent(struct tcp_sackboard *sb, uint32_t seq, uint32_t len, uint32_t mss,
                   uint64_t now_ns);
/* tcp_sack_update: the peer acked up to snd_una and SACKed o's blocks
 * within (snd_una, snd_max]; each segment this delivers (first cumulative
 * ACK or SACK) goes to tcp_rack_delivered. True if any was newly SACKed. */
bool tcp_sack_update(struct tcp_sackboard *sb, struct tcp_rack *rack, uint32_t snd_una,
                     uint32_t snd_max, const struct tcp_opts *o, uint64_t now_ns);
/* tcp_sack_lost: mark s lost (to be resent, again if it was). */
void tcp_sack_lost(struct tcp_sackboard *sb, struct tcp_sent_seg *s);
/* tcp_sack_next_lost: the first segment marked lost and not resent since
 * (RFC 6675 NextSeg rule 1, with RACK's loss marks), or NULL. */
struct tcp_sent_seg *tcp_sack_next_lost(const struct tcp_sackboard *sb);
/* tcp_sack_pipe: octets taken to be in the network (RFC 6675 SetPipe). */
uint32_t tcp_sack_pipe(const struct tcp_sackboard *sb, uint32_t snd_una, uint32_t snd_max);

/* ---- RACK-TLP loss detection (tcp_rack.c), RFC 8985 ------------------- */

#define TCP_TLP_WCDELACK_US 200000u     /* §7.2 WCDelAckT: worst-case delayed ACK */

struct tcp_rack {
	/* RACK.xmit_ts / end_seq: the most recently sent segment delivered;
	 * RACK.rtt its round trip; RACK.fack the highest end delivered. */
	uint64_t xmit_ns;
	uint32_t end_seq;
	uint32_t rtt_us, min_rtt_us;    /* 0: no sample yet */
	uint32_t fack;
	bool reordering_seen;
	/* §6.2 step 4: the reordering window is reo_wnd_mult quarters of
	 * the least RTT. A D-SACK (a resend that was not needed) widens it
	 * by one, at most once a round trip (until SND.UNA passes
	 * dsack_round); reo_wnd_persist recoveries without one narrow it
	 * back to one quarter. */
	uint8_t reo_wnd_mult, reo_wnd_persist;
	bool dsack_round_open;
	uint32_t dsack_round;
	/* Timers (one net_timer, tcp_conn.rack_timer): 0 when not armed. */
	uint64_t reo_due_ns;            /* the reordering window of a segment ends */
	uint64_t pto_due_ns;            /* probe timeout (TLP, §7.2) */
	/* TLP.end_seq, when tlp_out: a probe is unanswered. */
	bool tlp_out, tlp_is_retrans;
	uint32_t tlp_end_seq;
};

/* tcp_rack_delivered: s was acked or SACKed for the first time now
 * (§6.2 steps 2-3: RACK.xmit_ts, RACK.rtt, reordering). */
void tcp_rack_delivered(struct tcp_rack *r, const struct tcp_sent_seg *s, uint64_t now_ns);
/* tcp_rack_reo_wnd_us: the reordering window now (§6.2 step 4). */
uint32_t tcp_rack_reo_wnd_us(const struct tcp_conn *c);
/* tcp_rack_detect_loss: mark lost what was sent a RACK.rtt + reo_wnd
 * before the latest delivered segment (§6.2 step 5); the number marked.
 * *wait_ns: 0, or how long until the last one not yet marked would be. */
unsigned tcp_rack_detect_loss(struct tcp_conn *c, uint64_t now_ns, uint64_t *wait_ns);
/* tcp_rack_ack: after an ACK went through the scoreboard (c->sack_ok):
 * the TLP's answer, the reordering window's adaptation (recovery_ended:
 * this ACK ended fast or RTO recovery), loss detection and its timer;
 * loss found starts recovery and its first resend. */
void tcp_rack_ack(struct tcp_conn *c, const struct tcp_seg *s, bool recovery_ended,
                  uint64_t now_ns);
/* tcp_rack_rto: the retransmission timer expired (§6.3): mark lost the
 * segment at SND.UNA and every other one not SACKed that was sent a
 * RACK.rtt + reo_wnd ago or more, forget the probe and the RACK timer.
 * False when the scoreboard does not hold SND.UNA's segment (only the
 * FIN is left, or the board was full): the caller goes back to SND.UNA. */
bool tcp_rack_rto(struct tcp_conn *c, uint64_t now_ns);
/* tcp_tlp_schedule: arm the probe timeout if §7.2's conditions hold
 * (after sending new data or taking an ACK). */
void tcp_tlp_schedule(struct tcp_conn *c, uint64_t now_ns);
/* tcp_rack_timeout: the RACK timer's work due at now_ns: losses after
 * the reordering window, or the loss probe. tcp_tlp_due: whether a probe
 * is due (the RTO timer, due at the same time, lets it go first). */
void tcp_rack_timeout(struct tcp_conn *c, uint64_t now_ns);
bool tcp_tlp_due(const struct tcp_conn *c, uint64_t now_ns);

/* ---- Secrets (tcp_isn.c) ------------------------------------------------ */

/* SipHash-2-4 of n 64-bit words under key k. */
uint64_t tcp_siphash(const uint64_t k[2], const uint64_t *words, unsigned n);
/* tcp_secret_hash: SipHash of the 4-tuple (and extra) under the boot-time
 * secret, which is made on first use. */
uint64_t tcp_secret_hash(ip4_addr laddr, uint16_t lport, ip4_addr raddr, uint16_t rport,
                         uint64_t extra);
/* tcp_isn: RFC 6528 ISN = M + F(4-tuple, secret), M a 4 µs clock. */
uint32_t tcp_isn(ip4_addr laddr, uint16_t lport, ip4_addr raddr, uint16_t rport);
uint32_t tcp_isn_at(ip4_addr laddr, uint16_t lport, ip4_addr raddr, uint16_t rport,
                    uint64_t now_ns);

/* ---- SYN cookies (tcp_cookie.c) ---------------------------------------- */

/* tcp_cookie_make: an ISN for a SYN-ACK that carries the peer's MSS class
 * and a 64-second time slot, authenticated by the secret. tcp_cookie_check:
 * the MSS it carries if ack-1 is a cookie made for this tuple and peer ISN
 * (irs) in the last two slots, else 0. now_s: seconds of hal_clock_ns. */
uint32_t tcp_cookie_make(ip4_addr laddr, uint16_t lport, ip4_addr raddr, uint16_t rport,
                         uint32_t irs, uint16_t mss, uint64_t now_s);
uint16_t tcp_cookie_check(ip4_addr laddr, uint16_t lport, ip4_addr raddr, uint16_t rport,
                          uint32_t irs, uint32_t cookie, uint64_t now_s);

/* ---- The connection ----------------------------------------------------- */

enum tcp_state {
	TCP_CLOSED, TCP_LISTEN, TCP_SYN_SENT, TCP_SYN_RECEIVED, TCP_ESTABLISHED,
	TCP_FIN_WAIT_1, TCP_FIN_WAIT_2, TCP_CLOSE_WAIT, TCP_CLOSING, TCP_LAST_ACK,
	TCP_TIME_WAIT,
};

#define TCP_MSL_NS          (30ull * 1000000000ull)    /* RFC 9293 §3.4.2: 2 min; ours is short */
#define TCP_DEFAULT_MSS     536                        /* RFC 9293 §3.7.1 */
#define TCP_DEFAULT_BUF     (256 * 1024)
#define TCP_MIN_BUF         (4 * 1024)
#define TCP_SBUF_INITIAL    (16 * 1024)
#define TCP_MAX_BUF         (8 * 1024 * 1024)
#define TCP_RCVBUF_AUTO_MAX (4 * 1024 * 1024)          /* autotuning's ceilings */
#define TCP_SNDBUF_AUTO_MAX (4 * 1024 * 1024)
#define TCP_DELACK_NS       (40ull * 1000000ull)
#define TCP_SYN_RETRIES     6
#define TCP_DATA_RETRIES    12
#define TCP_FIN_WAIT_2_NS   (60ull * 1000000000ull)   /* after close, as Linux */
#define TCP_KEEP_INTVL_NS   (75ull * 1000000000ull)   /* RFC 9293 §3.8.4 */
#define TCP_KEEP_PROBES     9
#define TCP_CC_CUBIC        1          /* 0: Reno's avoidance instead */

struct tcp_listener;

struct tcp_conn {
	unsigned cpu;                   /* owner; changes only when a listener
	                                   hands it to an accepting CPU
	                                   (tcp_conn_set_cpu) */
	enum tcp_state state;
	bool user_ref;                  /* a socket holds it (tcp_close not yet) */
	bool in_table;                  /* in the 4-tuple table */
	bool bound;                     /* in the port table */
	bool reuseaddr, nodelay, cork;
	bool rd_shut, wr_shut;          /* shutdown(0), shutdown(1) or close */
	int error;                      /* pending -errno for the user */
	long linger_s;

	ip4_addr laddr, raddr;
	uint16_t lport, rport;
	struct netif *nif;              /* the route's interface, for checksums */

	/* Table links and what other CPUs read there: guarded by the
	 * tcp_conn.c lock. */
	struct list hash_link;          /* 4-tuple table bucket */
	struct list port_link;          /* port table bucket */
	bool port_listening;            /* takes SYNs for its port */
	bool port_released;             /* its user let go: REUSEADDR may take it */

	/* Send sequence space (RFC 9293 §3.3.1); snd_max: highest sent, as
	 * snd_nxt goes back to snd_una on a timeout. */
	uint32_t iss, snd_una, snd_nxt, snd_max;
	uint32_t snd_wnd, max_snd_wnd, snd_wl1, snd_wl2;
	uint8_t snd_wscale, rcv_wscale;
	bool ws_ok, ts_ok, sack_ok;
	uint16_t mss;                   /* segment payload we send */
	uint16_t adv_mss;               /* what we announced */
	bool fin_queued, fin_sent;
	uint32_t fin_seq;

	/* Send buffer: a ring of sbuf_size bytes; sbuf_len bytes from the byte
	 * with sequence number sbuf_seq (snd_una once the SYN is acked). */
	uint8_t *sbuf;
	uint32_t sbuf_size, sbuf_head, sbuf_len, sbuf_seq;
	uint32_t sndbuf;                /* limit asked for, or the least one */
	bool sndbuf_auto;               /* unless the user set SNDBUF: the ring
	                                   may grow with the windows (tcp_sbuf_limit) */
	/* A send call is filling the ring (its fill may sleep: a file read),
	 * so another sender waits: it would write at the same tail, or grow
	 * the ring and free the one being filled. */
	bool sending;

	/* Receive sequence space; rcv_adv: the right edge announced. */
	uint32_t irs, rcv_nxt, rcv_adv;
	uint32_t rcvbuf;
	/* Autotuning (tcp_rcv_autotune): on unless the user set RCVBUF; bytes
	 * the reader took since the round trip that began at rcv_epoch_ns. */
	bool rcvbuf_auto;
	uint32_t rcv_copied;
	uint64_t rcv_epoch_ns;
	struct list rcvq;               /* netbufs in order, data at what is left */
	uint32_t rcvq_bytes, rcvq_bufs;
	struct list oooq;               /* out of order, by sequence; tcp_reass.c */
	uint32_t ooo_bytes, ooo_bufs;
	bool fin_rcvd;                  /* FIN taken in order: end of stream */

	/* Timestamps (RFC 7323): ts_recent and when it was stored. */
	uint32_t ts_recent, ts_offset;
	uint64_t ts_recent_ns;

	/* Acknowledging. */
	unsigned unacked_segs;          /* full segments since our last ACK */
	bool ack_now;
	uint64_t last_challenge_ns;
	unsigned challenges;

	/* Retransmission and timing. */
	struct tcp_rtt rtt;
	unsigned backoff;               /* RTO doublings in a row */
	unsigned retries;
	bool rtt_timing;                /* a segment is being timed (no TS) */
	uint32_t rtt_seq;
	uint64_t rtt_start_ns;
	uint64_t last_rx_ns;            /* for keep-alive */
	unsigned keep_probes;
	uint32_t keepidle_s;

	/* Congestion control (tcp_cc.c). */
	uint32_t cwnd, ssthresh, recover;
	unsigned dupacks;
	bool in_recovery;
	uint32_t cubic_w_max, cubic_w_last_max, cubic_k_ms, cubic_w_est;
	uint64_t cubic_epoch_ns;        /* 0: no epoch (tcp_cubic.c) */
	struct tcp_sackboard sb;        /* when sack_ok */
	struct tcp_rack rack;           /* when sack_ok */
	uint32_t last_ooo_seq;          /* receiver: latest out-of-order arrival */
	/* Receiver: data that arrived twice, [dsack_left, dsack_right), for
	 * the first SACK block of the next segment (RFC 2883 D-SACK). */
	bool dsack_due;
	uint32_t dsack_left, dsack_right;

	/* The rtx and delack timers are lazy: rtx_due_ns / delack_due_ns say
	 * when they are really due (0: not at all), and a timer armed sooner
	 * than that just re-arms itself when it fires. Stopping or pushing
	 * them back, which happens on nearly every segment, is then a store
	 * instead of a walk of the CPU's sorted timer list. */
	struct net_timer rtx_timer;     /* retransmission or persist */
	struct net_timer delack_timer;
	uint64_t rtx_due_ns, delack_due_ns;
	struct net_timer keep_timer;    /* keep-alive, FIN-WAIT-2, TIME-WAIT */
	struct net_timer rack_timer;    /* RACK's reordering window, TLP (tcp_rack.c) */
	bool persisting;

	struct waitq wait;              /* tcp_waitq */

	/* Listening: the shared part; owned connections made for it. */
	struct tcp_listener *ls;        /* when state is LISTEN */
	struct tcp_conn *parent;        /* the listener of a not yet accepted one */
	struct list accept_link;        /* parent's per-CPU embryo or accept list */
	bool accept_ready;              /* established, on the accept list */
	bool moving;                    /* handed to its new owner, which has
	                                   not taken it yet: on no accept list,
	                                   and not to be freed (tcp_listen.c) */
};

/* ---- tcp_conn.c: tables ------------------------------------------------- */

struct tcp_conn *tcp_conn_new(unsigned cpu);
/* tcp_conn_lookup_cpu: the owner CPU of the connection with this 4-tuple,
 * or -1 if none. tcp_conn_lookup: the connection itself, only for the owner
 * CPU (NULL if none or owned elsewhere). */
int tcp_conn_lookup_cpu(ip4_addr laddr, uint16_t lport, ip4_addr raddr, uint16_t rport);
struct tcp_conn *tcp_conn_lookup(ip4_addr laddr, uint16_t lport, ip4_addr raddr, uint16_t rport);
/* tcp_conn_lookup_here: tcp_conn_lookup that also says the owner (-1: no
 * connection), for a segment to follow its connection to another CPU. */
struct tcp_conn *tcp_conn_lookup_here(ip4_addr laddr, uint16_t lport, ip4_addr raddr,
                                      uint16_t rport, int *owner);
/* tcp_conn_set_cpu: c now belongs to cpu. By its old owner, which touches
 * it no more after this. */
void tcp_conn_set_cpu(struct tcp_conn *c, unsigned cpu);
/* tcp_conn_hash_insert: enter c's 4-tuple; -EADDRINUSE if taken. */
int tcp_conn_hash_insert(struct tcp_conn *c);
void tcp_conn_hash_remove(struct tcp_conn *c);
/* Ports: tcp_port_bind takes c->lport (0: an ephemeral one, for raddr:
 * rport if given) for c->laddr. */
int tcp_port_bind(struct tcp_conn *c, ip4_addr raddr, uint16_t rport);
void tcp_port_unbind(struct tcp_conn *c);
/* tcp_port_listen: c's port takes SYNs from now on (state LISTEN);
 * tcp_port_release: its user closed c, the port may be reused. */
void tcp_port_listen(struct tcp_conn *c);
void tcp_port_release(struct tcp_conn *c);
/* tcp_listener_find: the listener for addr:port with a reference taken
 * (tcp_listener_put), or NULL. */
struct tcp_conn *tcp_listener_find(ip4_addr addr, uint16_t port);
/* tcp_conn_maybe_free: free c if CLOSED and unheld. */
void tcp_conn_maybe_free(struct tcp_conn *c);
/* tcp_conn_count: connections allocated and not freed (tests). */
unsigned tcp_conn_count(void);

/* ---- tcp_listen.c ------------------------------------------------------- */

/* tcp_listen_input: a segment for a listener (owner-CPU side of a
 * connection that does not exist yet); takes s->nb. */
void tcp_listen_input(struct tcp_conn *l, struct tcp_seg *s);
/* tcp_listen_pick_cpu: the CPU that will own a new connection of this
 * tuple for listener l, for a segment that arrived on the calling CPU
 * from a NIC with a receive queue per CPU (nic_spreads) or not. */
unsigned tcp_listen_pick_cpu(struct tcp_conn *l, const struct tcp_seg *s, bool nic_spreads);
/* tcp_listen_established: a connection made by l reached ESTABLISHED;
 * tcp_listen_detach: it died before being accepted. */
void tcp_listen_established(struct tcp_conn *c);
void tcp_listen_detach(struct tcp_conn *c);
void tcp_listener_get(struct tcp_conn *l);
void tcp_listener_put(struct tcp_conn *l);
int tcp_listen_start(struct tcp_conn *l, int backlog);
int tcp_listen_accept(struct tcp_conn *l, struct tcp_conn **out, int flags, uint64_t deadline_ns);
/* tcp_listen_shutdown: accept no more (accepters wake, held connections
 * are reset); tcp_listen_close: that, and the socket's reference goes. */
void tcp_listen_shutdown(struct tcp_conn *l);
void tcp_listen_close(struct tcp_conn *l);
unsigned tcp_listen_poll(struct tcp_conn *l);
struct waitq *tcp_listen_waitq(struct tcp_conn *l);

/* ---- tcp_input.c -------------------------------------------------------- */

/* tcp_input_owned: the segment in nb (already checked, data at the TCP
 * header) on the CPU that owns its connection or will. Takes nb. */
void tcp_input_owned(struct netbuf *nb);
/* tcp_set_state: every state change goes through here (wakes waiters,
 * leaves the tables at CLOSED). */
void tcp_set_state(struct tcp_conn *c, enum tcp_state st);
/* tcp_synchronized_input: a segment for a connection past SYN-SENT (also
 * used for a cookie-born connection). Takes s->nb. */
void tcp_conn_input(struct tcp_conn *c, struct tcp_seg *s);
/* tcp_drop: abort c with error err (0: none to report): CLOSED at once. */
void tcp_drop(struct tcp_conn *c, int err);

/* ---- tcp_reass.c: the receive queues ----------------------------------- */

/* tcp_rcv_data: payload of s at seq (already trimmed to the window) into
 * the in-order or out-of-order queue; returns true if the segment filled
 * in order (rcv_nxt moved). Takes s->nb. fin: s carries a FIN after it. */
bool tcp_rcv_data(struct tcp_conn *c, struct tcp_seg *s, bool *fin_in_order);
/* tcp_rcv_sack_blocks: the SACK blocks of the segment about to go, up to
 * max: a D-SACK first if one is due (reported this once), then the block
 * of oooq that holds it, then the others with the one of the latest
 * arrival first (RFC 2883 §4, RFC 2018 §4); how many. */
unsigned tcp_rcv_sack_blocks(struct tcp_conn *c, struct tcp_opts *o, unsigned max);
/* tcp_rcv_dsack: [left, right) arrived again; with SACK, the next ACK,
 * sent at once, reports it (RFC 2883). */
void tcp_rcv_dsack(struct tcp_conn *c, uint32_t left, uint32_t right);
/* tcp_rcv_autotune: the reader took copied bytes; grow rcvbuf when that
 * pace would outrun the window. tcp_rcv_wscale: the window scale to offer
 * for c's receive buffer, as it is or as autotuning may make it. */
void tcp_rcv_autotune(struct tcp_conn *c, uint32_t copied);
uint8_t tcp_rcv_wscale(const struct tcp_conn *c);
/* tcp_rcv_window: the window to announce now (bytes, unscaled). */
uint32_t tcp_rcv_window(struct tcp_conn *c);
void tcp_rcv_purge(struct tcp_conn *c);
/* tcp_rcv_copy: up to len bytes from the in-order queue (consume: take
 * them off). */
size_t tcp_rcv_copy(struct tcp_conn *c, uint8_t *buf, size_t len, bool consume);

/* ---- tcp_output.c ------------------------------------------------------- */

/* tcp_output: send what the windows, Nagle and the ACK state allow. */
void tcp_output(struct tcp_conn *c);
void tcp_send_ack(struct tcp_conn *c);
void tcp_send_keepalive(struct tcp_conn *c);    /* a probe: SEQ = SND.UNA - 1 */
void tcp_send_challenge_ack(struct tcp_conn *c);
void tcp_send_syn(struct tcp_conn *c);          /* SYN or SYN-ACK by state */
void tcp_send_rst(struct tcp_conn *c);          /* abort of c */
/* tcp_send_reset_for: RFC 9293 §3.10.7.1 reply to s when no connection
 * takes it (never to a RST). */
void tcp_send_reset_for(const struct tcp_seg *s);
/* tcp_send_raw: a segment with no connection state (SYN-ACK of a cookie). */
void tcp_send_raw(ip4_addr src, uint16_t sport, ip4_addr dst, uint16_t dport,
                  uint32_t seq, uint32_t ack, uint8_t flags, uint16_t wnd,
                  const struct tcp_opts *o);
/* tcp_retransmit_first: resend the segment at snd_una (fast retransmit). */
void tcp_retransmit_first(struct tcp_conn *c);
/* tcp_sack_fast_retransmit: on entering SACK recovery (fast or RTO), the
 * first segment marked lost, whatever the pipe (RFC 6675 §5 step 4.3). */
void tcp_sack_fast_retransmit(struct tcp_conn *c);
/* tcp_tlp_send_probe: a loss probe (RFC 8985 §7.3): a new segment if the
 * windows allow one, else the last segment sent again; true if one went
 * and it was a resend in *resent. */
bool tcp_tlp_send_probe(struct tcp_conn *c, bool *resent);
/* tcp_persist_probe: one byte beyond a zero window (RFC 9293 §3.8.6.1). */
void tcp_persist_probe(struct tcp_conn *c);
/* tcp_sbuf_limit: the size the send ring may reach: sndbuf, or with
 * sndbuf_auto what two windows' worth of data in flight needs. */
uint32_t tcp_sbuf_limit(const struct tcp_conn *c);
/* tcp_sbuf_free / tcp_sbuf_space: send buffer release and room. */
void tcp_sbuf_drop(struct tcp_conn *c, uint32_t n);
uint32_t tcp_sbuf_space(const struct tcp_conn *c);
/* tcp_sbuf_reserve: a ring with room, made or grown (doubling up to
 * sndbuf) as needed; 0, or -ENOMEM when there is none at all. */
int tcp_sbuf_reserve(struct tcp_conn *c);
/* tcp_sbuf_release: free an empty ring no sender is filling (a connection
 * that sends no more: TIME-WAIT keeps only its record). */
void tcp_sbuf_release(struct tcp_conn *c);
uint32_t tcp_ts_now(const struct tcp_conn *c);

/* ---- tcp_timer.c -------------------------------------------------------- */

void tcp_timers_init(struct tcp_conn *c);
void tcp_timers_cancel(struct tcp_conn *c);
/* A connection changing owner: tcp_timers_hand_over takes its timers off
 * the old owner's wheel (sending an owed ACK), tcp_timers_take_over puts
 * them on the new owner's, each on its own CPU. */
void tcp_timers_hand_over(struct tcp_conn *c);
void tcp_timers_take_over(struct tcp_conn *c);
void tcp_rtx_arm(struct tcp_conn *c);           /* RTO from now, with backoff */
void tcp_rtx_stop(struct tcp_conn *c);
static inline bool tcp_rtx_pending(const struct tcp_conn *c) { return c->rtx_due_ns != 0; }
void tcp_delack_stop(struct tcp_conn *c);
void tcp_delack_arm(struct tcp_conn *c);
void tcp_persist_arm(struct tcp_conn *c);
void tcp_keep_arm(struct tcp_conn *c);          /* by state: keep-alive, FW2, TW */
/* tcp_rack_timer_arm: the RACK timer fires by due_ns (lazily, as rtx). */
void tcp_rack_timer_arm(struct tcp_conn *c, uint64_t due_ns);

/* ---- tcp_cc.c ----------------------------------------------------------- */

void tcp_cc_init(struct tcp_conn *c);
/* tcp_cc_ack: acked bytes of new data arrived (outside recovery). */
void tcp_cc_ack(struct tcp_conn *c, uint32_t acked);
/* tcp_cc_dupack: a duplicate ACK; true when it is the third (fast
 * retransmit starts). */
bool tcp_cc_dupack(struct tcp_conn *c);
/* tcp_cc_recovery_ack: new data acked during recovery; true if partial. */
bool tcp_cc_recovery_ack(struct tcp_conn *c, uint32_t ack, uint32_t acked);
/* tcp_cc_timeout: the retransmission timer expired: the window cut to
 * one segment; in_recovery (RTO recovery) when the SACK scoreboard is to
 * pick the resends, else the caller goes back to SND.UNA. */
void tcp_cc_timeout(struct tcp_conn *c);
/* tcp_cc_loss: loss detection (RACK) found a loss: enter recovery unless
 * in it or still within the last one's window (RFC 6582 "recover");
 * true if entered. tcp_cc_tlp_repaired: a loss probe's resend repaired a
 * loss outside recovery (RFC 8985 §7.4.2): the window is cut as for one. */
bool tcp_cc_loss(struct tcp_conn *c);
void tcp_cc_tlp_repaired(struct tcp_conn *c);
/* tcp_cubic.c (RFC 9438): the window growth above ssthresh, the cut on
 * congestion (returns the new ssthresh), and the pure formulas: K from
 * W_max and the window after the cut; W_cubic(t). Bytes, milliseconds. */
void tcp_cubic_ack(struct tcp_conn *c, uint32_t acked);
uint32_t tcp_cubic_reduce(struct tcp_conn *c);
uint32_t tcp_cubic_k_ms(uint32_t w_max, uint32_t cwnd_after, uint32_t mss);
uint32_t tcp_cubic_window(uint32_t w_max, uint32_t k_ms, uint32_t t_ms, uint32_t mss);
static inline uint32_t tcp_flight(const struct tcp_conn *c) { return c->snd_max - c->snd_una; }

/* ---- Counters ----------------------------------------------------------- */

enum tcp_drop_reason { TCP_BAD_HDR, TCP_BAD_CSUM, TCP_NO_SOCKET };
void tcp_count(const struct netbuf *nb, enum tcp_drop_reason why);

/* Events of the whole TCP layer (a connection has no one interface):
 * any CPU adds with TCP_COUNT (atomics); netstat.c reads them. */
struct tcp_counters {
	uint64_t retransmits;           /* segments sent again (timer, fast, SACK) */
	uint64_t timeouts;              /* retransmission timeouts (RTO) that fired */
	uint64_t tlp_probes;            /* tail loss probes sent (RFC 8985 §7) */
	uint64_t rack_lost;             /* segments RACK marked lost */
	uint64_t syn_cookies;           /* SYN-ACKs with a cookie (backlog full) */
	uint64_t challenge_acks;        /* RFC 5961 challenge ACKs sent */
};
extern struct tcp_counters tcp_counters;
#define TCP_COUNT(field) TCP_COUNT_N(field, 1)
#define TCP_COUNT_N(field, n) __atomic_add_fetch(&tcp_counters.field, (n), __ATOMIC_RELAXED)
#define TCP_STATE_COUNT (TCP_TIME_WAIT + 1)
/* tcp_count_states: how many connections are in each state now (the
 * listeners and the connection table; a snapshot, states read unlocked). */
void tcp_count_states(uint32_t counts[TCP_STATE_COUNT]);

#endif
