/*
 * e1000.c: the Intel 8254x NIC (QEMU's default: 82540EM, 8086:100e; also
 * its 82544GC and 82545EM models) behind hal_net_*, one queue pair.
 *
 * Registers in BAR0 (memory). At start: a device reset (CTRL.RST), the MAC
 * from receive address 0 (RAL0/RAH0, which the reset loads from the EEPROM;
 * the EEPROM itself through EERD when RAH0 holds no valid address), link
 * up (CTRL.SLU), the multicast table cleared, then two rings of 256 legacy
 * descriptors, each slot with a 2 KiB buffer of its own: frames are copied
 * between those and the caller's. Receive: RCTL with broadcasts accepted
 * and the CRC stripped, the ring kept full (RDT follows the last slot read).
 * Transmit: a legacy descriptor per frame with RS, reaped by its DD bit at
 * the next transmit; a HAL_NET_CSUM_PARTIAL frame goes behind a TCP/IP
 * context descriptor (TUCSS = csum_start, TUCSO = csum_start + csum_offset)
 * as an extended data descriptor with POPTS.TXSM: HAL_NET_TX_CSUM.
 * Receive checksums: RXCSUM.TUOFL; a descriptor with TCPCS and no TCPE/IPE
 * is HAL_NET_CSUM_VALID (HAL_NET_RX_CSUM).
 *
 * Interrupts: INTx through the I/O APIC (pci_irq.c; QEMU's 8254x models have
 * no MSI), possibly shared. Reading ICR clears it and lowers the line; the
 * handler then looks at the descriptors, not at ICR, for work (and at
 * ICR.LSC for the link). IMS enables receive causes only while armed (and
 * TXDW while a transmit came back short); the owner masks them (IMC) when
 * it finds itself unarmed. The arm/notify rule is virtio_net.c's: armed is
 * exchanged to 0 by the one who notifies; arm looks at the rings after
 * enabling and, for work already there, raises a vector of the device's
 * own (a self IPI; never the level-triggered pin's, irq.h) whose handler
 * is the same check without the ICR read.
 */
#include <errno.h>
#include <string.h>

#include "alloc.h"
#include "bare.h"
#include "console.h"
#include "irq.h"
#include "nic.h"
#include "pci.h"

#define REG_CTRL    0x0000
#define REG_STATUS  0x0008
#define REG_EERD    0x0014
#define REG_ICR     0x00c0
#define REG_ITR     0x00c4
#define REG_IMS     0x00d0
#define REG_IMC     0x00d8
#define REG_RCTL    0x0100
#define REG_TCTL    0x0400
#define REG_TIPG    0x0410
#define REG_RDBAL   0x2800
#define REG_RDBAH   0x2804
#define REG_RDLEN   0x2808
#define REG_RDH     0x2810
#define REG_RDT     0x2818
#define REG_RDTR    0x2820
#define REG_TDBAL   0x3800
#define REG_TDBAH   0x3804
#define REG_TDLEN   0x3808
#define REG_TDH     0x3810
#define REG_TDT     0x3818
#define REG_RXCSUM  0x5000
#define REG_MTA     0x5200
#define REG_RAL0    0x5400
#define REG_RAH0    0x5404

#define CTRL_ASDE   (1u << 5)
#define CTRL_SLU    (1u << 6)
#define CTRL_RST    (1u << 26)
#define STATUS_LU   (1u << 1)
#define EERD_START  1u
#define EERD_DONE   (1u << 4)
#define RAH_AV      (1u << 31)

#define ICR_TXDW    (1u << 0)
#define ICR_LSC     (1u << 2)
#define ICR_RXDMT0  (1u << 4)
#define ICR_RXO     (1u << 6)
#define ICR_RXT0    (1u << 7)
#define IMS_RX      (ICR_RXT0 | ICR_RXO | ICR_RXDMT0)

#define RCTL_EN     (1u << 1)
#define RCTL_BAM    (1u << 15)
#define RCTL_SECRC  (1u << 26)          /* BSIZE 00: 2048-byte buffers */
#define TCTL_EN     (1u << 1)
#define TCTL_PSP    (1u << 3)
#define TCTL_CT     (0x10u << 4)
#define TCTL_COLD   (0x40u << 12)
#define RXCSUM_IPOFL (1u << 8)
#define RXCSUM_TUOFL (1u << 9)

struct rx_desc {
	uint64_t addr;
	uint16_t len;
	uint16_t csum;
	uint8_t status;
	uint8_t errors;
	uint16_t special;
};

#define RXS_DD      0x01
#define RXS_EOP     0x02
#define RXS_IXSM    0x04
#define RXS_TCPCS   0x20
#define RXE_FRAME   0x97                /* CE, SE, SEQ, CXE, RXE */
#define RXE_CSUM    0x60                /* TCPE, IPE */

struct tx_desc {                        /* legacy, extended data and context alike: 16 bytes */
	uint64_t addr;                      /* context: IPCSS..TUCSE */
	uint32_t cmd_len;                   /* length; DTYP; command */
	uint32_t status;                    /* STA bits 0-3; POPTS 8-15 (data); CSS/HDRLEN */
};

#define TXC_EOP     (1u << 24)
#define TXC_IFCS    (1u << 25)
#define TXC_RS      (1u << 27)
#define TXC_DEXT    (1u << 29)
#define TXD_DTYP_D  (1u << 20)          /* extended data (DEXT set); 0: context */
#define TXS_DD      1u
#define POPTS_TXSM  (0x02u << 8)

#define RING        256u
#define BUF_SIZE    2048u
#define ETH_MIN     14u
#define RESET_TIMEOUT_NS 10000000ull

struct e1000 {
	struct hal_netdev hal;              /* first: nic.c hands us this */
	const struct pci_dev *pci;
	uintptr_t regs;
	int vector;                         /* the INTx pin's (shared) */
	int raise_vector;                   /* arm's self IPI: a vector of our own */
	bool started;

	/* Rings and buffers: queue 0's caller (one CPU at a time); the
	 * interrupt handler reads rx_next/tx_clean and the status bytes. */
	struct rx_desc *rx;
	struct tx_desc *tx;
	uint8_t *rx_mem, *tx_mem;           /* slot i's buffer at i * BUF_SIZE */
	unsigned rx_next;                   /* atomic for the handler: next slot to read */
	unsigned tx_clean;                  /* atomic for the handler: oldest slot in flight */
	unsigned tx_tail;                   /* atomic for the handler: next slot to fill (= TDT) */
	bool rx_in_chain;                   /* dropping the slots of a multi-slot frame */
	bool irqs_on;                       /* IMS has the receive causes (spares IMC writes) */

	int armed;                          /* atomic: a notify is owed */
	int tx_wanted;                      /* atomic: a transmit came back short */
};

static uint32_t rd(struct e1000 *e, uint32_t reg) { return mmio_read32(e->regs + reg); }
static void wr(struct e1000 *e, uint32_t reg, uint32_t v) { mmio_write32(e->regs + reg, v); }

static unsigned tx_used(const struct e1000 *e)
{
	return (e->tx_tail - e->tx_clean) % RING;
}

/* ---- Interrupts --------------------------------------------------------- */

static bool rx_waiting(struct e1000 *e)
{
	unsigned i = __atomic_load_n(&e->rx_next, __ATOMIC_RELAXED) % RING;
	return __atomic_load_n(&e->rx[i].status, __ATOMIC_ACQUIRE) & RXS_DD;
}

static bool tx_done_waiting(struct e1000 *e)
{
	unsigned i = __atomic_load_n(&e->tx_clean, __ATOMIC_RELAXED) % RING;
	return i != __atomic_load_n(&e->tx_tail, __ATOMIC_RELAXED) &&
	       (__atomic_load_n(&e->tx[i].status, __ATOMIC_ACQUIRE) & TXS_DD);
}

static bool work_waiting(struct e1000 *e)
{
	return rx_waiting(e) || (__atomic_load_n(&e->tx_wanted, __ATOMIC_RELAXED) &&
	                         tx_done_waiting(e));
}

/* Notify if armed and there is work: the armed flag goes to 0 first. */
static void notify_if_work(void *arg)
{
	struct e1000 *e = arg;
	if (e->started && __atomic_load_n(&e->armed, __ATOMIC_ACQUIRE) && work_waiting(e) &&
	    __atomic_exchange_n(&e->armed, 0, __ATOMIC_ACQ_REL))
		bare_nic_notify(&e->hal, 0);
}

static void e1000_irq(void *arg)
{
	struct e1000 *e = arg;
	uint32_t icr = rd(e, REG_ICR);      /* clears the causes, lowers the line */
	if (icr & ICR_LSC)
		__atomic_store_n(&e->hal.info.link_up, (rd(e, REG_STATUS) & STATUS_LU) != 0,
		                 __ATOMIC_RELAXED);
	notify_if_work(e);
}

/* ---- Receive ------------------------------------------------------------ */

static unsigned e1000_receive(struct hal_netdev *dev, unsigned queue,
                              struct hal_net_frame *frames, unsigned max)
{
	struct e1000 *e = (struct e1000 *)dev;
	if (!e->started)
		return 0;
	unsigned got = 0, i = e->rx_next;
	bool took = false;
	while (got < max) {
		struct rx_desc *d = &e->rx[i];
		uint8_t status = __atomic_load_n(&d->status, __ATOMIC_ACQUIRE);
		if (!(status & RXS_DD))
			break;
		struct hal_net_frame *f = &frames[got];
		unsigned len = d->len;
		unsigned room = f->len < HAL_NET_FRAME_MAX ? f->len : HAL_NET_FRAME_MAX;
		if (e->rx_in_chain || !(status & RXS_EOP)) {
			/* A frame over several slots is longer than any we take:
			 * drop its slots up to the one with EOP. */
			e->rx_in_chain = !(status & RXS_EOP);
			if (!e->rx_in_chain)
				e->hal.stats.rx_too_long++;
		} else if ((d->errors & RXE_FRAME) || len < ETH_MIN || len > BUF_SIZE) {
			e->hal.stats.rx_bad++;
		} else if (len > room) {
			e->hal.stats.rx_too_long++;
		} else {
			memcpy(f->data, e->rx_mem + (size_t)i * BUF_SIZE, len);
			f->len = (uint16_t)len;
			f->flags = !(status & RXS_IXSM) && (status & RXS_TCPCS) &&
			           !(d->errors & RXE_CSUM) ? HAL_NET_CSUM_VALID : 0;
			got++;
		}
		d->status = 0;
		took = true;
		i = (i + 1) % RING;
		__atomic_store_n(&e->rx_next, i, __ATOMIC_RELAXED);
	}
	if (took)                       /* the slots read are the device's again */
		wr(e, REG_RDT, (i + RING - 1) % RING);
	if (e->irqs_on && !__atomic_load_n(&e->armed, __ATOMIC_ACQUIRE)) {
		wr(e, REG_IMC, IMS_RX | ICR_TXDW);
		e->irqs_on = false;
	}
	return got;
}

/* ---- Transmit ----------------------------------------------------------- */

static void tx_reap(struct e1000 *e)
{
	while (e->tx_clean != e->tx_tail &&
	       (__atomic_load_n(&e->tx[e->tx_clean].status, __ATOMIC_ACQUIRE) & TXS_DD))
		__atomic_store_n(&e->tx_clean, (e->tx_clean + 1) % RING, __ATOMIC_RELAXED);
}

static bool tx_frame_ok(const struct hal_net_frame *f)
{
	if (f->len < ETH_MIN || f->len > HAL_NET_FRAME_MAX)
		return false;
	if (!(f->flags & HAL_NET_CSUM_PARTIAL))
		return true;
	/* TUCSS and TUCSO are 8-bit offsets. */
	return f->csum_start < f->len && f->csum_offset + 2u <= (unsigned)(f->len - f->csum_start) &&
	       f->csum_start + f->csum_offset < 256;
}

/* Put one frame on the ring: 1 slot, or 2 with its checksum context. */
static void tx_put(struct e1000 *e, const struct hal_net_frame *f)
{
	uint32_t cmd = TXC_EOP | TXC_IFCS | TXC_RS;
	uint32_t status = 0;
	if (f->flags & HAL_NET_CSUM_PARTIAL) {
		struct tx_desc *c = &e->tx[e->tx_tail];
		uint64_t tucss = f->csum_start, tucso = f->csum_start + f->csum_offset;
		c->addr = tucss << 32 | tucso << 40;    /* TUCSE 0: to the end */
		c->cmd_len = TXC_DEXT | TXC_RS;         /* DTYP 0: context */
		c->status = 0;
		__atomic_store_n(&e->tx_tail, (e->tx_tail + 1) % RING, __ATOMIC_RELAXED);
		cmd |= TXC_DEXT | TXD_DTYP_D;
		status = POPTS_TXSM;
	}
	unsigned slot = e->tx_tail;
	uint8_t *buf = e->tx_mem + (size_t)slot * BUF_SIZE;
	memcpy(buf, f->data, f->len);
	struct tx_desc *d = &e->tx[slot];
	d->addr = (uintptr_t)buf;
	d->cmd_len = cmd | f->len;
	d->status = status;
	__atomic_store_n(&e->tx_tail, (slot + 1) % RING, __ATOMIC_RELAXED);
}

static unsigned e1000_transmit(struct hal_netdev *dev, unsigned queue,
                               const struct hal_net_frame *frames, unsigned count)
{
	struct e1000 *e = (struct e1000 *)dev;
	if (!e->started)
		return 0;
	tx_reap(e);
	unsigned taken = 0;
	bool added = false;
	for (; taken < count; taken++) {
		const struct hal_net_frame *f = &frames[taken];
		if (!tx_frame_ok(f)) {
			e->hal.stats.tx_bad++;
			continue;
		}
		unsigned need = f->flags & HAL_NET_CSUM_PARTIAL ? 2 : 1;
		if (tx_used(e) + need > RING - 1)   /* one slot stays empty: full != empty */
			break;
		tx_put(e, f);
		added = true;
	}
	if (added) {
		__atomic_thread_fence(__ATOMIC_RELEASE);
		wr(e, REG_TDT, e->tx_tail);
	}
	bool short_taken = taken < count;
	__atomic_store_n(&e->tx_wanted, short_taken, __ATOMIC_RELEASE);
	return taken;
}

/* ---- Arm, start, probe -------------------------------------------------- */

static void e1000_arm(struct hal_netdev *dev, unsigned queue)
{
	struct e1000 *e = (struct e1000 *)dev;
	if (!e->started)
		return;
	__atomic_store_n(&e->armed, 1, __ATOMIC_RELEASE);
	bool tx_wanted = __atomic_load_n(&e->tx_wanted, __ATOMIC_RELAXED);
	wr(e, REG_IMS, IMS_RX | ICR_LSC | (tx_wanted ? ICR_TXDW : 0));
	e->irqs_on = true;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (work_waiting(e))
		bare_irq_self((unsigned)e->raise_vector);
}

static uint16_t eeprom_read(struct e1000 *e, unsigned word)
{
	wr(e, REG_EERD, EERD_START | word << 8);
	uint64_t end = hal_clock_ns() + RESET_TIMEOUT_NS;
	uint32_t v;
	while (!((v = rd(e, REG_EERD)) & EERD_DONE))
		if (hal_clock_ns() > end)
			return 0;
	return (uint16_t)(v >> 16);
}

/* Reset, and the MAC: false when the device did not come out of reset. */
static bool reset(struct e1000 *e)
{
	wr(e, REG_IMC, 0xffffffff);
	wr(e, REG_CTRL, rd(e, REG_CTRL) | CTRL_RST);
	uint64_t end = hal_clock_ns() + RESET_TIMEOUT_NS;
	while (rd(e, REG_CTRL) & CTRL_RST)
		if (hal_clock_ns() > end)
			return false;
	wr(e, REG_IMC, 0xffffffff);
	rd(e, REG_ICR);
	uint8_t *mac = e->hal.info.mac;
	uint32_t ral = rd(e, REG_RAL0), rah = rd(e, REG_RAH0);
	if (!(rah & RAH_AV) || (ral == 0 && (rah & 0xffff) == 0)) {
		for (unsigned w = 0; w < 3; w++) {
			uint16_t v = eeprom_read(e, w);
			mac[2 * w] = (uint8_t)v;
			mac[2 * w + 1] = (uint8_t)(v >> 8);
		}
	} else {
		for (unsigned b = 0; b < 4; b++)
			mac[b] = (uint8_t)(ral >> (8 * b));
		mac[4] = (uint8_t)rah;
		mac[5] = (uint8_t)(rah >> 8);
	}
	return true;
}

static int e1000_start(struct hal_netdev *dev)
{
	struct e1000 *e = (struct e1000 *)dev;
	if (e->started)
		return -EBUSY;
	e->rx = kmalloc_aligned(RING * sizeof(struct rx_desc), PAGE_SIZE);
	e->tx = kmalloc_aligned(RING * sizeof(struct tx_desc), PAGE_SIZE);
	e->rx_mem = kmalloc_aligned(RING * BUF_SIZE, PAGE_SIZE);
	e->tx_mem = kmalloc_aligned(RING * BUF_SIZE, PAGE_SIZE);
	if (!e->rx || !e->tx || !e->rx_mem || !e->tx_mem)
		return -ENOMEM;
	if (!reset(e)) {
		bare_printf("%s: stuck in reset\n", e->hal.info.name);
		return -EIO;
	}
	e->raise_vector = bare_irq_alloc_vector(notify_if_work, e);
	e->vector = e->raise_vector < 0 ? e->raise_vector :
	            bare_irq_route_pci(e->pci, 0, e1000_irq, e);
	if (e->vector < 0) {
		bare_printf("%s: no interrupt route (%d)\n", e->hal.info.name, e->vector);
		return -EIO;
	}
	memset(e->rx, 0, RING * sizeof(struct rx_desc));
	memset(e->tx, 0, RING * sizeof(struct tx_desc));
	for (unsigned i = 0; i < RING; i++)
		e->rx[i].addr = (uintptr_t)(e->rx_mem + (size_t)i * BUF_SIZE);
	for (unsigned i = 0; i < 128; i++)
		wr(e, REG_MTA + 4 * i, 0);
	wr(e, REG_CTRL, (rd(e, REG_CTRL) | CTRL_SLU | CTRL_ASDE));
	wr(e, REG_ITR, 0);
	wr(e, REG_RDTR, 0);
	wr(e, REG_RXCSUM, RXCSUM_TUOFL | RXCSUM_IPOFL);
	wr(e, REG_RDBAL, (uint32_t)(uintptr_t)e->rx);
	wr(e, REG_RDBAH, (uint32_t)((uint64_t)(uintptr_t)e->rx >> 32));
	wr(e, REG_RDLEN, RING * sizeof(struct rx_desc));
	wr(e, REG_RDH, 0);
	wr(e, REG_RDT, RING - 1);
	wr(e, REG_TDBAL, (uint32_t)(uintptr_t)e->tx);
	wr(e, REG_TDBAH, (uint32_t)((uint64_t)(uintptr_t)e->tx >> 32));
	wr(e, REG_TDLEN, RING * sizeof(struct tx_desc));
	wr(e, REG_TDH, 0);
	wr(e, REG_TDT, 0);
	wr(e, REG_TIPG, 10 | 8u << 10 | 6u << 20);
	wr(e, REG_TCTL, TCTL_EN | TCTL_PSP | TCTL_CT | TCTL_COLD);
	wr(e, REG_RCTL, RCTL_EN | RCTL_BAM | RCTL_SECRC);
	e->hal.info.link_up = (rd(e, REG_STATUS) & STATUS_LU) != 0;
	wr(e, REG_IMS, ICR_LSC);
	e->started = true;
	bare_printf("%s: link %s, INTx vector %d\n", e->hal.info.name,
	            e->hal.info.link_up ? "up" : "down", e->vector);
	return 0;
}

static const struct bare_nic_ops e1000_ops = {
	.start = e1000_start,
	.receive = e1000_receive,
	.transmit = e1000_transmit,
	.arm = e1000_arm,
};

static const uint16_t models[] = { 0x100e, 0x100c, 0x100f };   /* 82540EM, 82544GC, 82545EM */

static void attach(const struct pci_dev *d)
{
	const struct pci_bar *bar = &d->bar[0];
	if (bar->io || !bar->base || bar->size < 0x10000 || bar->base + bar->size > 0x100000000ull) {
		bare_printf("e1000 %02x:%02x.%x: BAR0 unusable, skipped\n", d->bus, d->dev, d->fn);
		return;
	}
	struct e1000 *e = kzalloc(sizeof(*e));
	if (!e)
		return;
	e->pci = d;
	e->regs = (uintptr_t)bar->base;
	e->hal.ops = &e1000_ops;
	pci_enable(d, true);
	struct hal_net_info *info = &e->hal.info;
	ksnprintf(info->name, sizeof(info->name), "e1000 %02x:%02x.%x", d->bus, d->dev, d->fn);
	if (!reset(e)) {
		bare_printf("%s: stuck in reset, skipped\n", info->name);
		kfree(e);
		return;
	}
	info->mtu = 1500;
	info->queues = 1;
	info->offloads = HAL_NET_TX_CSUM | HAL_NET_RX_CSUM;
	info->link_up = (rd(e, REG_STATUS) & STATUS_LU) != 0;
	if (bare_nic_add(&e->hal) < 0)
		kfree(e);
}

void e1000_probe(void)
{
	pci_init();
	for (unsigned m = 0; m < sizeof(models) / sizeof(models[0]); m++) {
		unsigned from = 0;
		const struct pci_dev *d;
		while ((d = pci_find_dev(0x8086, models[m], &from)))
			attach(d);
	}
}
