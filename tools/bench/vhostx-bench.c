// SPDX-License-Identifier: GPL-2.0
/*
 * vhostx-bench: side-by-side benchmark of /dev/vhost-net (the kernel's
 * vhost-net) and /dev/vhostx-net, driven by the same userspace virtio
 * "guest driver" (tools/lib/vguest) in the same VM, alternating backends
 * over several rounds.  See Documentation/vhostx/performance.rst.
 *
 * Tests (one "cell" = one test x one backend x one round):
 *   tx64 tx1500 txgso   guest TX ring -> tap; frames are IPv4 to a foreign
 *                       unicast MAC, so the host stack drops them in
 *                       ip_rcv() right after the backend handed them over.
 *   rx64 rx1500         a thread injects frames on the tap (AF_PACKET,
 *                       qdisc bypass, sendmmsg) as fast as it can; we count
 *                       what arrives in the guest RX ring.
 *   tx64_io rx64_io     tx64 and rx64 with VIRTIO_F_IN_ORDER negotiated
 *                       where the backend offers it (vhostx always; the
 *                       kernel's vhost-net from 6.17): the cell records
 *                       whether it was ("in_order").
 *   tx64_pk tx1500_pk txgso_pk rx64_pk rx1500_pk lat_pk
 *                       the same tests on packed rings where the backend
 *                       offers VIRTIO_F_RING_PACKED (vhostx; no vhost-net
 *                       has it, so it runs them on split rings, as a
 *                       guest falls back): the cell records "packed".
 *   lat lat_bp          one packet in flight: guest TX -> tap -> AF_PACKET
 *   lat_poll            reflector -> tap -> guest RX; lat_bp with
 *                       VHOST_SET_VRING_BUSYLOOP_TIMEOUT on both queues;
 *                       lat_poll with it and a polling guest (it spins on
 *                       its RX ring and the reflector socket, with RX calls
 *                       off, as a poll-mode driver does) instead of
 *                       sleeping on the call eventfd and in poll().
 *
 * Backends: vhost-net, vhostx, and vhostx-zc (vhostx_net reloaded with
 * experimental_zcopytx=1, TX tests only, when the module has that
 * parameter and a reload command is given).
 *
 * Every cell records rate, the device worker's CPU time (schedstat ns and
 * utime+stime ticks) and context switches, the kicks we sent and calls we
 * received, the tap's counters and, for vhostx, the per-queue debugfs
 * counters.  Output: one JSON document (-o), progress on stdout.
 */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <math.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>

#include "vguest.h"
#include "vguest_net.h"
#include "vguest_stats.h"

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING	23
#endif
#ifndef PACKET_QDISC_BYPASS
#define PACKET_QDISC_BYPASS	20
#endif

#define HDR_LEN		((int)sizeof(struct virtio_net_hdr_mrg_rxbuf))
#define RX_BUF_LEN	2048
#define ETH_P_BENCH	0x88b5		/* IEEE local experimental */
#define INJECT_BATCH	64
#define GSO_FRAME	65536

/* ------------------------------------------------------------------ */
/* configuration                                                        */
/* ------------------------------------------------------------------ */

enum test_id { T_TX64, T_TX1500, T_TXGSO, T_RX64, T_RX1500, T_TX64IO,
	       T_RX64IO, T_LAT, T_LATBP, T_LATPOLL, T_TX64PK, T_TX1500PK,
	       T_TXGSOPK, T_RX64PK, T_RX1500PK, T_LATPK, T_MAX };

static const struct test_desc {
	const char *name;
	int kind;		/* 't' tx, 'r' rx, 'l' latency */
	size_t frame;		/* Ethernet frame bytes, no FCS, no vnet hdr */
	bool gso;
	bool busyloop;
	bool guest_poll;	/* latency: the driver spins, never sleeps */
	bool in_order;		/* VIRTIO_F_IN_ORDER where offered */
	bool packed;		/* VIRTIO_F_RING_PACKED where offered */
} tests[T_MAX] = {
	[T_TX64]    = { "tx64",     't', 64,        false, false, false },
	[T_TX1500]  = { "tx1500",   't', 1514,      false, false, false },
	[T_TXGSO]   = { "txgso",    't', GSO_FRAME, true,  false, false },
	[T_RX64]    = { "rx64",     'r', 64,        false, false, false },
	[T_RX1500]  = { "rx1500",   'r', 1514,      false, false, false },
	[T_TX64IO]  = { "tx64_io",  't', 64,        false, false, false, true },
	[T_RX64IO]  = { "rx64_io",  'r', 64,        false, false, false, true },
	[T_LAT]     = { "lat",      'l', 64,        false, false, false },
	[T_LATBP]   = { "lat_bp",   'l', 64,        false, true,  false },
	[T_LATPOLL] = { "lat_poll", 'l', 64,        false, true,  true  },
	[T_TX64PK]  = { "tx64_pk",  't', 64,        false, false, false, false, true },
	[T_TX1500PK] = { "tx1500_pk", 't', 1514,    false, false, false, false, true },
	[T_TXGSOPK] = { "txgso_pk", 't', GSO_FRAME, true,  false, false, false, true },
	[T_RX64PK]  = { "rx64_pk",  'r', 64,        false, false, false, false, true },
	[T_RX1500PK] = { "rx1500_pk", 'r', 1514,    false, false, false, false, true },
	[T_LATPK]   = { "lat_pk",   'l', 64,        false, false, false, false, true },
};

struct backend {
	const char *name;
	const char *path;
	const char *worker;	/* kthread name prefix: <worker>-<pid> */
	int zcopy;		/* vhostx_net experimental_zcopytx, -1 n/a */
	bool tx_only;
};

static const struct backend backends[] = {
	{ "vhost-net", "/dev/vhost-net",  "vhost",  -1, false },
	{ "vhostx",    "/dev/vhostx-net", "vhostx",  0, false },
	{ "vhostx-zc", "/dev/vhostx-net", "vhostx",  1, true  },
};
#define NBACKENDS	(int)(sizeof(backends) / sizeof(backends[0]))

static struct {
	int rounds;
	double dur;		/* measured seconds per cell */
	double warm;		/* warm-up seconds per cell */
	unsigned int ring;
	unsigned int busyloop_us;
	bool pin;
	unsigned int test_mask;
	unsigned int backend_mask;
	const char *out;
	const char *reload;	/* command: "<reload> 0|1" sets zcopytx */
	const char *rx_source;	/* "pktgen" or "packet" */
	unsigned int rx_burst;	/* RX: frames queued first; 0 = streaming */
	int reps;		/* pairs of cells per round, every test */
	int ncpu;
} cfg = {
	.rounds = 8, .dur = 1.0, .warm = 0.3, .ring = 256, .reps = 4,
	.busyloop_us = 200, .pin = true, .rx_burst = 30000,
	.test_mask = (1u << T_MAX) - 1, .backend_mask = 7,
	.out = "results.json",
};

/* One tap for the whole run: creating and destroying a netdev per cell
 * costs seconds of RCU grace periods under TCG. */
static int run_tap = -1;
static char run_ifname[IFNAMSIZ];

static FILE *json;
static bool json_first = true;

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "vhostx-bench: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec * 1e-9;
}

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static void pin_to(pid_t tid, int cpu)
{
	cpu_set_t s;

	if (!cfg.pin || cfg.ncpu < 2 || tid < 0)
		return;
	CPU_ZERO(&s);
	CPU_SET(cpu, &s);
	if (sched_setaffinity(tid, sizeof(s), &s))
		fprintf(stderr, "vhostx-bench: pinning %d to cpu %d: %s\n",
			(int)tid, cpu, strerror(errno));
}

static int read_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	return (int)n;
}

static uint64_t read_u64(const char *path)
{
	char b[64];

	return read_file(path, b, sizeof(b)) > 0 ? strtoull(b, NULL, 10) : 0;
}

/* ------------------------------------------------------------------ */
/* worker thread, debugfs and tap counters                              */
/* ------------------------------------------------------------------ */

/*
 * The newest thread named @want among the entries of /proc directory
 * @dir (its pids, or a process's tids), or @best.
 */
static pid_t newest_named(const char *dir, const char *want, pid_t best)
{
	char path[96], comm[64];
	struct dirent *e;
	DIR *d;

	d = opendir(dir);
	if (!d)
		return best;
	while ((e = readdir(d))) {
		pid_t p = (pid_t)atoi(e->d_name);

		if (p <= 0)
			continue;
		snprintf(path, sizeof(path), "%s/%d/comm", dir, (int)p);
		if (read_file(path, comm, sizeof(comm)) > 0 &&
		    !strcmp(comm, want) && p > best)
			best = p;
	}
	closedir(d);
	return best;
}

/*
 * The device's worker "<prefix>-<our pid>"; newest if several: a kthread
 * (vhost-net before 6.4, vhostx on 6.1 or in kthread mode) or a thread of
 * ours (vhost_task: vhost-net from 6.4, vhostx's task mode), which
 * /proc's own listing does not show.
 */
static pid_t find_worker(const char *prefix)
{
	char want[32], dir[32];

	snprintf(want, sizeof(want), "%s-%d\n", prefix, (int)getpid());
	snprintf(dir, sizeof(dir), "/proc/%d/task", (int)getpid());
	return newest_named(dir, want, newest_named("/proc", want, -1));
}

struct snap {
	double t;
	uint64_t wk_ns;		/* schedstat: ns on cpu */
	uint64_t drv_ns;	/* the driver thread's CPU time */
	uint64_t drv_vcsw, drv_nvcsw;	/* its voluntary / involuntary switches */
	uint64_t wk_ticks;	/* utime + stime, clock ticks */
	uint64_t vcsw, nvcsw;	/* voluntary / involuntary switches */
	bool vx_ok;		/* a vhostx device: its counters in vx */
	struct vg_stats vx;
	uint64_t tap_rx, tap_rx_drop, tap_tx, tap_tx_drop;
};

static void read_worker(pid_t tid, struct snap *s)
{
	char path[64], buf[2048], *p;
	unsigned long ut = 0, st = 0;

	if (tid <= 0)
		return;
	snprintf(path, sizeof(path), "/proc/%d/schedstat", (int)tid);
	if (read_file(path, buf, sizeof(buf)) > 0)
		s->wk_ns = strtoull(buf, NULL, 10);
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)tid);
	if (read_file(path, buf, sizeof(buf)) > 0) {
		p = strrchr(buf, ')');
		/* after ")": state(3) ... utime(14) stime(15) */
		if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
				&ut, &st) == 2)
			s->wk_ticks = ut + st;
	}
	snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
	if (read_file(path, buf, sizeof(buf)) > 0) {
		p = strstr(buf, "\nvoluntary_ctxt_switches:");
		if (p)
			s->vcsw = strtoull(strchr(p, ':') + 1, NULL, 10);
		p = strstr(buf, "\nnonvoluntary_ctxt_switches:");
		if (p)
			s->nvcsw = strtoull(strchr(p, ':') + 1, NULL, 10);
	}
}

static uint64_t tap_stat(const char *ifname, const char *what)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/class/net/%s/statistics/%s",
		 ifname, what);
	return read_u64(path);
}

/* ------------------------------------------------------------------ */
/* one cell: device + tap                                               */
/* ------------------------------------------------------------------ */

struct cell {
	const struct test_desc *t;
	const struct backend *b;
	int round;
	int rep;		/* pair within the round */
	double dur;		/* measured seconds (TX, latency: dur / reps) */
	struct vg_dev d;
	struct vg_vq rx, tx;
	int tap;		/* the run's tap (shared by all cells) */
	const char *ifname;
	pid_t worker;

	/* what the cell measured */
	struct snap s0, s1;
	double t_open;		/* wall clock at cell start */
	const char *block;	/* "zc": vhost-net paired with vhostx-zc */
	uint64_t pkts, bytes;
	uint64_t kicks_tx, kicks_rx, calls_tx, calls_rx;
	uint64_t reaps;		/* TX: driver passes that found used entries */
	uint64_t injected;
	/* latency */
	uint64_t *lat;
	size_t nlat;
};

/* An interface ioctl (SIOC*IF*) on a throwaway socket: 0 or -errno. */
static int if_ioctl(unsigned long req, struct ifreq *ifr)
{
	int sk = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), r = 0;

	if (sk < 0)
		return -errno;
	if (ioctl(sk, req, ifr) < 0)
		r = -errno;
	close(sk);
	return r;
}

/* Throw away what an earlier cell left queued on the tap (no backend now). */
static void tap_drain(int fd)
{
	char buf[2048];
	int fl = fcntl(fd, F_GETFL);

	fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	fcntl(fd, F_SETFL, fl);
}

/* CPU time of the calling thread (the guest driver), nanoseconds. */
static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts))
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void cell_snap(struct cell *c, struct snap *s)
{
	struct rusage ru;

	memset(s, 0, sizeof(*s));
	s->t = now_s();
	s->drv_ns = thread_cpu_ns();
	if (!getrusage(RUSAGE_THREAD, &ru)) {
		s->drv_vcsw = (uint64_t)ru.ru_nvcsw;
		s->drv_nvcsw = (uint64_t)ru.ru_nivcsw;
	}
	read_worker(c->worker, s);
	s->vx_ok = !vg_stats_read(&s->vx, c->d.fd);
	s->tap_rx = tap_stat(c->ifname, "rx_packets");
	s->tap_rx_drop = tap_stat(c->ifname, "rx_dropped");
	s->tap_tx = tap_stat(c->ifname, "tx_packets");
	s->tap_tx_drop = tap_stat(c->ifname, "tx_dropped");
}

static int cell_open(struct cell *c)
{
	uint64_t want = VG_F(VIRTIO_F_VERSION_1) |
			VG_F(VIRTIO_RING_F_EVENT_IDX) |
			VG_F(VIRTIO_NET_F_MRG_RXBUF);
	size_t arena = 8UL << 20;
	int r;

	if (c->t->gso)
		arena += 2 * GSO_FRAME;
	arena += (size_t)cfg.ring * RX_BUF_LEN * 2;
	if (c->t->in_order || c->t->packed) {
		uint64_t extra = c->t->in_order ? VG_F(VIRTIO_F_IN_ORDER) :
						  VG_F(VIRTIO_F_RING_PACKED);

		r = vg_net_open(&c->d, &c->rx, &c->tx, c->b->path, arena,
				want | extra, cfg.ring);
		if (r != -EOPNOTSUPP)
			goto opened;
		/*
		 * Not offered (in order: vhost-net before 6.17; packed: no
		 * vhost-net): compare without, as a guest falls back.
		 */
		vg_close(&c->d);
	}
	r = vg_net_open(&c->d, &c->rx, &c->tx, c->b->path, arena, want,
			cfg.ring);
opened:
	if (!r && c->t->busyloop) {
		r = vg_vq_set_state(&c->rx, VHOST_SET_VRING_BUSYLOOP_TIMEOUT,
				    cfg.busyloop_us);
		if (!r)
			r = vg_vq_set_state(&c->tx,
					    VHOST_SET_VRING_BUSYLOOP_TIMEOUT,
					    cfg.busyloop_us);
	}
	if (r)
		return r;
	c->tap = run_tap;
	c->ifname = run_ifname;
	tap_drain(c->tap);
	c->worker = find_worker(c->b->worker);
	if (c->worker <= 0)
		fprintf(stderr, "vhostx-bench: no worker thread %s-%d found\n",
			c->b->worker, (int)getpid());
	pin_to(c->worker, cfg.ncpu - 1);
	return 0;
}

static int cell_attach(struct cell *c)
{
	return vg_net_attach(&c->d, c->tap);
}

static void cell_close(struct cell *c)
{
	vg_net_close(&c->d, &c->rx, &c->tx);
	free(c->lat);
	c->lat = NULL;
}

/* Fill the RX ring with RX_BUF_LEN buffers (cookie = buffer). */
static int rx_fill(struct cell *c)
{
	unsigned int i;

	for (i = 0; i < cfg.ring; i++) {
		uint8_t *b = vg_alloc(&c->d, RX_BUF_LEN, 64);

		if (!b)
			return -ENOMEM;
		if (vg_vq_add_buf(&c->rx, NULL, 0, b, RX_BUF_LEN, b) < 0)
			return -ENOSPC;
	}
	if (vg_vq_kick(&c->rx) == 1)
		c->kicks_rx++;
	return 0;
}

/* Reap RX used entries and give the buffers back; returns count. */
static unsigned int rx_reap(struct cell *c, uint64_t *bytes)
{
	unsigned int n = 0;
	uint32_t len;
	void *ck;

	while (vg_vq_get_used(&c->rx, &len, &ck) >= 0) {
		n++;
		if (bytes && len > HDR_LEN)
			*bytes += len - HDR_LEN;
		vg_vq_add_buf(&c->rx, NULL, 0, ck, RX_BUF_LEN, ck);
	}
	if (n && vg_vq_kick(&c->rx) == 1)
		c->kicks_rx++;
	return n;
}

/* Ethernet + IPv4 + UDP (or TCP for GSO) frame to a foreign unicast MAC. */
static void make_frame(uint8_t *f, size_t len, bool gso, uint16_t ethertype)
{
	static const uint8_t dst[6] = { 0x02, 0, 0, 0, 0, 0x02 };
	static const uint8_t src[6] = { 0x02, 0, 0, 0, 0, 0x01 };
	uint8_t *ip = f + 14;
	size_t iplen = len - 14;
	unsigned int i;

	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = ethertype >> 8;
	f[13] = ethertype & 0xff;
	for (i = 14; i < len; i++)
		f[i] = (uint8_t)(i * 7);
	if (ethertype != ETH_P_IP)
		return;
	memset(ip, 0, 20);
	ip[0] = 0x45;
	if (iplen > 0xffff)
		die("frame too long");
	ip[2] = iplen >> 8;
	ip[3] = iplen & 0xff;
	ip[8] = 64;
	ip[9] = gso ? 6 : 17;	/* TCP : UDP */
	memcpy(ip + 12, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
	if (gso) {
		uint8_t *tcp = ip + 20;

		memset(tcp, 0, 20);
		tcp[0] = 0x30; tcp[1] = 0x39;	/* ports 12345 -> 80 */
		tcp[3] = 80;
		tcp[12] = 5 << 4;		/* data offset */
		tcp[13] = 0x18;			/* PSH ACK */
		tcp[14] = 0xff; tcp[15] = 0xff;	/* window */
	} else if (iplen >= 28) {
		uint8_t *udp = ip + 20;

		udp[0] = 0x30; udp[1] = 0x39; udp[2] = 0x30; udp[3] = 0x3a;
		udp[4] = (iplen - 20) >> 8;
		udp[5] = (iplen - 20) & 0xff;
		udp[6] = udp[7] = 0;		/* no checksum */
	}
}

/* ------------------------------------------------------------------ */
/* TX                                                                   */
/* ------------------------------------------------------------------ */

/*
 * Re-enable the queue's interrupts; unless used entries arrived meanwhile,
 * sleep up to 50 ms for a call and count it.  Interrupts are off again on
 * return, as the caller's loop expects.
 */
static void wait_for_call(struct vg_vq *vq, uint64_t *calls)
{
	int r;

	if (!vg_vq_enable_cb(vq)) {
		r = (int)vg_wait_eventfd(vq->call_fd, 50);
		if (r > 0)
			*calls += (uint64_t)r;
	}
	vg_vq_disable_cb(vq);
}

static int run_tx(struct cell *c)
{
	size_t flen = c->t->frame;
	struct virtio_net_hdr_mrg_rxbuf *h;
	double t_warm, t_end, now;
	bool measuring = false;
	uint8_t *pkt;
	int r, n;

	pkt = vg_alloc(&c->d, HDR_LEN + flen, 64);
	if (!pkt)
		return -ENOMEM;
	h = (void *)pkt;
	if (c->t->gso) {
		h->hdr.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		h->hdr.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
		h->hdr.hdr_len = 14 + 20 + 20;
		h->hdr.gso_size = 1448;
		h->hdr.csum_start = 14 + 20;
		h->hdr.csum_offset = 16;
	}
	make_frame(pkt + HDR_LEN, flen, c->t->gso, ETH_P_IP);

	r = rx_fill(c);
	if (!r)
		r = cell_attach(c);
	if (r)
		return r;
	pin_to(0, 0);
	vg_vq_disable_cb(&c->tx);
	while (vg_vq_add_buf(&c->tx, pkt, HDR_LEN + flen, NULL, 0, pkt) >= 0)
		;
	if (vg_vq_kick(&c->tx) == 1)
		c->kicks_tx++;

	now = now_s();
	t_warm = now + cfg.warm;
	t_end = t_warm + c->dur;
	for (;;) {
		now = now_s();
		if (!measuring && now >= t_warm) {
			cell_snap(c, &c->s0);
			c->pkts = c->kicks_tx = c->calls_tx = c->reaps = 0;
			c->calls_rx = c->kicks_rx = 0;
			measuring = true;
		}
		if (now >= t_end)
			break;
		n = 0;
		while (vg_vq_get_used(&c->tx, NULL, NULL) >= 0)
			n++;
		if (n) {
			c->pkts += n;
			c->reaps++;
			while (n-- > 0)
				vg_vq_add_buf(&c->tx, pkt, HDR_LEN + flen,
					      NULL, 0, pkt);
			if (vg_vq_kick(&c->tx) == 1)
				c->kicks_tx++;
			continue;
		}
		/* Ring full and nothing done: sleep until the device calls. */
		wait_for_call(&c->tx, &c->calls_tx);
	}
	cell_snap(c, &c->s1);
	c->bytes = c->pkts * flen;
	return 0;
}

/* ------------------------------------------------------------------ */
/* RX                                                                   */
/* ------------------------------------------------------------------ */

/* The tap's TX queue length, which is the size of tun's packet ring. */
static int tap_set_qlen(const char *ifname, unsigned int qlen)
{
	struct ifreq ifr = { .ifr_qlen = (int)qlen };

	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", ifname);
	return if_ioctl(SIOCSIFTXQLEN, &ifr);
}

struct injector {
	int sk;
	size_t len;
	uint8_t *frame;
	volatile bool stop;
	uint64_t sent;
	pthread_t th;
};

static void *inject_fn(void *arg)
{
	struct injector *in = arg;
	struct mmsghdr m[INJECT_BATCH];
	struct iovec iov = { .iov_base = in->frame, .iov_len = in->len };
	int i, r;

	pin_to(0, 0);
	memset(m, 0, sizeof(m));
	for (i = 0; i < INJECT_BATCH; i++) {
		m[i].msg_hdr.msg_iov = &iov;
		m[i].msg_hdr.msg_iovlen = 1;
	}
	while (!in->stop) {
		r = sendmmsg(in->sk, m, INJECT_BATCH, 0);
		if (r > 0)
			in->sent += (uint64_t)r;
		else if (r < 0 && errno != ENOBUFS && errno != EAGAIN)
			break;
	}
	return NULL;
}

/* A packet socket on @ifname (vguest) that skips the qdisc and ignores
 * what it sends itself. */
static int packet_socket(const char *ifname, uint16_t proto)
{
	int one = 1, s = vg_packet_socket(ifname, proto);

	if (s < 0)
		return s;
	setsockopt(s, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one));
	setsockopt(s, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
	return s;
}

/*
 * pktgen as the RX source: a kernel thread bound to CPU 0 that transmits
 * on the tap (straight into tun's ring, no qdisc, no syscall per batch).
 * "start" on pgctrl blocks until "stop", so it runs on its own thread.
 */
#define PG_DIR	"/proc/net/pktgen/"

static int pg_write(const char *file, const char *fmt, ...)
{
	char path[128], cmd[128];
	va_list ap;
	int fd, n, r = 0;

	va_start(ap, fmt);
	n = vsnprintf(cmd, sizeof(cmd) - 1, fmt, ap);
	va_end(ap);
	/* pktgen's pgctrl drops the last byte, meant to be a newline. */
	cmd[n++] = '\n';
	snprintf(path, sizeof(path), PG_DIR "%s", file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, cmd, (size_t)n) != n)
		r = -errno;
	close(fd);
	return r;
}

static void *pg_start_fn(void *arg)
{
	(void)arg;
	pg_write("pgctrl", "start");
	return NULL;
}

/*
 * The tap is added to pktgen's CPU 0 thread once per run (add and remove
 * are asynchronous: the thread applies them later), here we only set the
 * cell's parameters.
 */
static int pg_setup(const char *ifname, size_t frame)
{
	char path[128];
	int r;

	snprintf(path, sizeof(path), PG_DIR "%s", ifname);
	if (access(path, W_OK))
		return -ENODEV;
	r = pg_write(ifname, "count 0");
	if (!r)
		r = pg_write(ifname, "pkt_size %zu", frame);
	if (!r)
		r = pg_write(ifname, "delay 0");
	if (!r)
		r = pg_write(ifname, "clone_skb 0");
	if (!r)
		r = pg_write(ifname, "dst_mac 02:00:00:00:00:02");
	return r;
}

/*
 * One step of the RX guest: reap what arrived (and give the buffers back),
 * or, NAPI-like, re-enable interrupts, recheck and sleep for a call.
 */
static void rx_step(struct cell *c)
{
	unsigned int n = rx_reap(c, &c->bytes);

	if (n) {
		c->pkts += n;
		vg_vq_disable_cb(&c->rx);
		return;
	}
	wait_for_call(&c->rx, &c->calls_rx);
}

/*
 * RX, burst mode: queue cfg.rx_burst frames on the tap while no backend
 * is attached (tun keeps them in its ring), then attach and time how long
 * the backend takes to move them all into the guest ring.  The source's
 * speed does not enter the figure: the backend is the bottleneck, as in a
 * guest receiving a burst faster than it can take it.  The frames come
 * from an AF_PACKET socket (pktgen would spin until the last one is freed,
 * on the CPU the reaper needs).
 */
static int run_rx_burst(struct cell *c, struct injector *in)
{
	struct iovec iov = { .iov_base = in->frame, .iov_len = in->len };
	struct mmsghdr m[INJECT_BATCH];
	uint64_t drop0, dropped, sent = 0;
	unsigned int i, n;
	double t_end;
	int r;

	r = tap_set_qlen(c->ifname, cfg.rx_burst + 256);
	if (!r)
		r = rx_fill(c);
	if (r)
		return r;
	in->sk = packet_socket(c->ifname, 0);
	if (in->sk < 0)
		return in->sk;
	memset(m, 0, sizeof(m));
	for (i = 0; i < INJECT_BATCH; i++) {
		m[i].msg_hdr.msg_iov = &iov;
		m[i].msg_hdr.msg_iovlen = 1;
	}
	drop0 = tap_stat(c->ifname, "tx_dropped");
	/* A frame refused here never reached tun: not counted. */
	for (i = 0; i < cfg.rx_burst; i += INJECT_BATCH) {
		n = cfg.rx_burst - i < INJECT_BATCH ? cfg.rx_burst - i : INJECT_BATCH;
		r = sendmmsg(in->sk, m, n, 0);
		if (r > 0)
			sent += (uint64_t)r;
	}
	dropped = tap_stat(c->ifname, "tx_dropped") - drop0;
	c->injected = sent > dropped ? sent - dropped : 0;
	if (!c->injected)
		return -ENOBUFS;

	pin_to(0, 0);
	vg_vq_disable_cb(&c->rx);
	cell_snap(c, &c->s0);
	r = cell_attach(c);
	if (r)
		return r;
	t_end = now_s() + 30;
	while (c->pkts < c->injected && now_s() < t_end)
		rx_step(c);
	cell_snap(c, &c->s1);
	return c->pkts < c->injected ? -ETIMEDOUT : 0;
}

static int run_rx(struct cell *c)
{
	struct injector in = { .len = c->t->frame, .sk = -1 };
	bool pktgen = !strcmp(cfg.rx_source, "pktgen");
	double t_warm, t_end, now;
	bool measuring = false;
	uint64_t inj0 = 0;
	int r;

	in.frame = malloc(in.len);
	if (!in.frame)
		return -ENOMEM;
	make_frame(in.frame, in.len, false, ETH_P_BENCH);
	if (cfg.rx_burst) {
		r = run_rx_burst(c, &in);
		goto out;
	}
	r = tap_set_qlen(c->ifname, 1000);
	if (!r)
		r = rx_fill(c);
	if (!r)
		r = cell_attach(c);
	if (!r && pktgen)
		r = pg_setup(c->ifname, in.len);
	if (!r && !pktgen) {
		/* proto 0: this socket only sends. */
		in.sk = packet_socket(c->ifname, 0);
		if (in.sk < 0)
			r = in.sk;
	}
	if (r)
		goto out;
	pin_to(0, 0);
	vg_vq_disable_cb(&c->rx);
	r = pthread_create(&in.th, NULL, pktgen ? pg_start_fn : inject_fn, &in);
	if (r) {
		r = -r;
		goto out;
	}

	now = now_s();
	t_warm = now + cfg.warm;
	t_end = t_warm + cfg.dur;
	for (;;) {
		now = now_s();
		if (!measuring && now >= t_warm) {
			cell_snap(c, &c->s0);
			inj0 = in.sent;
			c->pkts = c->bytes = c->kicks_rx = c->calls_rx = 0;
			c->kicks_tx = c->calls_tx = 0;
			measuring = true;
		}
		if (now >= t_end)
			break;
		rx_step(c);
	}
	cell_snap(c, &c->s1);
	/* Frames offered to the tap: what the source sent in the window. */
	c->injected = pktgen ? (c->s1.tap_tx + c->s1.tap_tx_drop) -
			       (c->s0.tap_tx + c->s0.tap_tx_drop) :
			       in.sent - inj0;
	in.stop = true;
	if (pktgen)
		pg_write("pgctrl", "stop");
	pthread_join(in.th, NULL);
	r = 0;
	if (!c->injected && pktgen) {
		/* pktgen sent nothing: use the AF_PACKET thread from now on. */
		printf("vhostx-bench: pktgen sent nothing on %s, switching the RX source to AF_PACKET\n",
		       c->ifname);
		cfg.rx_source = "packet";
		r = -EAGAIN;
	}
out:
	if (in.sk >= 0)
		close(in.sk);
	free(in.frame);
	return r;
}

/* ------------------------------------------------------------------ */
/* latency                                                              */
/* ------------------------------------------------------------------ */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * The frame on the reflector socket: the polling driver spins, the other
 * sleeps in poll().  Return: recv()'s result, or -ETIMEDOUT after 2 s.
 */
static ssize_t lat_reflect_recv(const struct cell *c, int ps, void *buf,
				size_t size)
{
	struct pollfd p = { .fd = ps, .events = POLLIN };
	double give_up = now_s() + 2;
	ssize_t len;

	if (!c->t->guest_poll)
		return poll(&p, 1, 2000) > 0 ? recv(ps, buf, size, 0) :
					       -ETIMEDOUT;
	while ((len = recv(ps, buf, size, MSG_DONTWAIT)) < 0 &&
	       errno == EAGAIN)
		if (now_s() > give_up)
			return -ETIMEDOUT;
	return len;
}

/*
 * The reflected frame in the RX ring: the polling driver spins, the other
 * sleeps on the call eventfd.  Return: 0, or -ETIMEDOUT after 2 s.
 */
static int lat_rx_wait(struct cell *c)
{
	double give_up = now_s() + 2;
	int64_t k;

	while (!vg_vq_used_pending(&c->rx)) {
		if (c->t->guest_poll) {
			if (now_s() > give_up)
				return -ETIMEDOUT;
			continue;
		}
		if (vg_vq_enable_cb(&c->rx))
			break;
		k = vg_wait_eventfd(c->rx.call_fd, 2000);
		if (k > 0)
			c->calls_rx += (uint64_t)k;
		else if (!vg_vq_used_pending(&c->rx))
			return -ETIMEDOUT;
	}
	return 0;
}

static int run_lat(struct cell *c)
{
	struct sockaddr_ll to = { .sll_family = AF_PACKET, .sll_halen = 6 };
	size_t flen = c->t->frame, cap = 1 << 16;
	uint8_t buf[2048], *pkt;
	double t_start, t_warm, t_end;
	bool measuring = false;
	int ps, r, i;

	pkt = vg_alloc(&c->d, HDR_LEN + flen, 64);
	c->lat = malloc(cap * sizeof(*c->lat));
	if (!pkt || !c->lat)
		return -ENOMEM;
	make_frame(pkt + HDR_LEN, flen, false, ETH_P_BENCH);
	r = rx_fill(c);
	if (!r)
		r = cell_attach(c);
	if (r)
		return r;
	ps = packet_socket(c->ifname, ETH_P_BENCH);
	if (ps < 0)
		return ps;
	to.sll_ifindex = (int)if_nametoindex(c->ifname);
	pin_to(0, 0);
	vg_vq_disable_cb(&c->tx);
	/* A polling driver turns its RX interrupts off. */
	if (c->t->guest_poll)
		vg_vq_disable_cb(&c->rx);

	t_start = now_s();
	t_warm = t_start + cfg.warm;
	t_end = t_warm + c->dur;
	for (i = 0;; i++) {
		double now = now_s();
		uint64_t t0, t1;
		ssize_t len;

		if (!measuring && now >= t_warm && i >= 20) {
			t_end = now + c->dur;
			cell_snap(c, &c->s0);
			c->pkts = c->kicks_tx = c->kicks_rx = 0;
			c->calls_tx = c->calls_rx = 0;
			measuring = true;
		}
		if (measuring && (now >= t_end || c->nlat >= cap))
			break;
		if (!measuring && now > t_warm + 30) {
			r = -ETIMEDOUT;
			goto out;
		}

		t0 = now_ns();
		if (vg_vq_add_buf(&c->tx, pkt, HDR_LEN + flen, NULL, 0,
				  pkt) < 0) {
			r = -ENOSPC;
			goto out;
		}
		if (vg_vq_kick(&c->tx) == 1)
			c->kicks_tx++;
		/* Reflect: tap ingress -> us -> tap egress. */
		len = lat_reflect_recv(c, ps, buf, sizeof(buf));
		if (len == -ETIMEDOUT) {
			r = -ETIMEDOUT;
			fprintf(stderr, "vhostx-bench: %s %s: TX frame lost\n",
				c->b->name, c->t->name);
			goto out;
		}
		if (len <= 0 ||
		    sendto(ps, buf, (size_t)len, 0, (struct sockaddr *)&to,
			   sizeof(to)) != len) {
			r = -EIO;
			goto out;
		}
		r = lat_rx_wait(c);
		if (r) {
			fprintf(stderr, "vhostx-bench: %s %s: RX frame lost\n",
				c->b->name, c->t->name);
			goto out;
		}
		t1 = now_ns();
		rx_reap(c, NULL);
		while (vg_vq_get_used(&c->tx, NULL, NULL) >= 0)
			;
		if (measuring) {
			c->lat[c->nlat++] = t1 - t0;
			c->pkts++;
		}
	}
	cell_snap(c, &c->s1);
	c->bytes = c->pkts * flen;
	qsort(c->lat, c->nlat, sizeof(*c->lat), cmp_u64);
	r = c->nlat ? 0 : -ENODATA;
out:
	close(ps);
	return r;
}

/* ------------------------------------------------------------------ */
/* zero-copy module parameter                                           */
/* ------------------------------------------------------------------ */

#define ZC_PARAM "/sys/module/vhostx_net/parameters/experimental_zcopytx"

/* Current value (0/1), or -1 if vhostx_net has no such parameter. */
static int zc_get(void)
{
	char b[8];

	if (read_file(ZC_PARAM, b, sizeof(b)) <= 0)
		return -1;
	return b[0] == 'Y' || b[0] == '1';
}

static int zc_set(int v)
{
	char cmd[512];
	int fd;

	if (zc_get() == v)
		return 0;
	/* Writable parameter? */
	fd = open(ZC_PARAM, O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, v ? "1" : "0", 1) == 1) {
			close(fd);
			if (zc_get() == v)
				return 0;
		} else {
			close(fd);
		}
	}
	if (!cfg.reload)
		return -ENOTSUP;
	snprintf(cmd, sizeof(cmd), "%s %d", cfg.reload, v);
	if (system(cmd) != 0 || zc_get() != v)
		return -EIO;
	return 0;
}

/* ------------------------------------------------------------------ */
/* reporting                                                            */
/* ------------------------------------------------------------------ */

static void json_kv_u64(const char *k, uint64_t v, bool comma)
{
	fprintf(json, "\"%s\": %llu%s", k, (unsigned long long)v,
		comma ? ", " : "");
}

static void json_kv_dbl(const char *k, double v, bool comma)
{
	if (isfinite(v))
		fprintf(json, "\"%s\": %.6g%s", k, v, comma ? ", " : "");
	else
		fprintf(json, "\"%s\": null%s", k, comma ? ", " : "");
}

static double pct(const uint64_t *v, size_t n, double p)
{
	size_t i;

	if (!n)
		return NAN;
	i = (size_t)ceil(p * (double)n) - 1;
	if (i >= n)
		i = n - 1;
	return (double)v[i];
}

/* Counter @name of queue @vq from snapshot @a to @b: false if absent. */
static bool vx_delta(const struct snap *a, const struct snap *b,
		     unsigned int vq, const char *name, uint64_t *d)
{
	uint64_t va, vb;

	if (!a->vx_ok || !b->vx_ok || vg_stats_get(&a->vx, vq, name, &va) ||
	    vg_stats_get(&b->vx, vq, name, &vb))
		return false;
	*d = vb - va;
	return true;
}

static void cell_report(struct cell *c, int err)
{
	struct snap *a = &c->s0, *b = &c->s1;
	double secs = b->t - a->t, pk = c->pkts ? (double)c->pkts : NAN;
	double wk_ns = (double)(b->wk_ns - a->wk_ns);
	unsigned int q, k;
	uint64_t d;

	if (!json_first)
		fprintf(json, ",\n");
	json_first = false;
	fprintf(json, "  {\"round\": %d, \"rep\": %d, \"test\": \"%s\", \"backend\": \"%s\", \"block\": \"%s\", ",
		c->round, c->rep, c->t->name, c->b->name, c->block);
	if (err) {
		fprintf(json, "\"error\": \"%s\"}", strerror(-err));
		printf("  %-7s %-10s round %d: FAILED: %s\n", c->t->name,
		       c->b->name, c->round, strerror(-err));
		fflush(json);
		fflush(stdout);
		return;
	}
	json_kv_u64("frame_bytes", c->t->frame, true);
	json_kv_u64("in_order", c->tx.in_order, true);
	json_kv_u64("packed", c->tx.packed, true);
	if (c->t->kind == 'r') {
		fprintf(json, "\"rx_source\": \"%s\", ",
			cfg.rx_burst ? "packet" : cfg.rx_source);
		json_kv_u64("rx_burst", cfg.rx_burst, true);
	}
	json_kv_dbl("seconds", secs, true);
	json_kv_u64("packets", c->pkts, true);
	json_kv_u64("bytes", c->bytes, true);
	json_kv_dbl("pps", c->pkts / secs, true);
	json_kv_dbl("bps", c->bytes * 8.0 / secs, true);
	json_kv_u64("worker_tid", (uint64_t)(c->worker > 0 ? c->worker : 0), true);
	json_kv_dbl("worker_ns", wk_ns, true);
	json_kv_dbl("worker_ticks", (double)(b->wk_ticks - a->wk_ticks), true);
	json_kv_dbl("worker_util", wk_ns / 1e9 / secs, true);
	json_kv_dbl("worker_ns_per_pkt", wk_ns / pk, true);
	json_kv_dbl("driver_ns_per_pkt", (double)(b->drv_ns - a->drv_ns) / pk,
		    true);
	json_kv_dbl("worker_ns_per_byte",
		    c->bytes ? wk_ns / (double)c->bytes : NAN, true);
	json_kv_dbl("worker_sleeps_per_pkt", (double)(b->vcsw - a->vcsw) / pk,
		    true);
	json_kv_dbl("worker_preempts_per_pkt",
		    (double)(b->nvcsw - a->nvcsw) / pk, true);
	json_kv_dbl("driver_sleeps_per_pkt",
		    (double)(b->drv_vcsw - a->drv_vcsw) / pk, true);
	json_kv_dbl("driver_preempts_per_pkt",
		    (double)(b->drv_nvcsw - a->drv_nvcsw) / pk, true);
	if (c->t->kind == 't')
		json_kv_u64("reaps_tx", c->reaps, true);
	json_kv_u64("kicks_tx", c->kicks_tx, true);
	json_kv_u64("kicks_rx", c->kicks_rx, true);
	json_kv_u64("calls_tx", c->calls_tx, true);
	json_kv_u64("calls_rx", c->calls_rx, true);
	json_kv_u64("tap_rx_packets", b->tap_rx - a->tap_rx, true);
	json_kv_u64("tap_rx_dropped", b->tap_rx_drop - a->tap_rx_drop, true);
	json_kv_u64("tap_tx_packets", b->tap_tx - a->tap_tx, true);
	json_kv_u64("tap_tx_dropped", b->tap_tx_drop - a->tap_tx_drop, true);
	if (vx_delta(a, b, 1, "sent", &d))
		json_kv_u64("zc_sent", d, true);
	if (vx_delta(a, b, 1, "batched", &d))
		json_kv_u64("zc_batched", d, true);
	json_kv_u64("injected", c->injected, c->nlat || (a->vx_ok && b->vx_ok));
	if (c->nlat) {
		double sum = 0;
		size_t i;

		for (i = 0; i < c->nlat; i++)
			sum += (double)c->lat[i];
		fprintf(json, "\"lat_us\": {");
		json_kv_u64("n", c->nlat, true);
		json_kv_dbl("min", c->lat[0] / 1e3, true);
		json_kv_dbl("median", pct(c->lat, c->nlat, 0.5) / 1e3, true);
		json_kv_dbl("mean", sum / (double)c->nlat / 1e3, true);
		json_kv_dbl("p90", pct(c->lat, c->nlat, 0.9) / 1e3, true);
		json_kv_dbl("p99", pct(c->lat, c->nlat, 0.99) / 1e3, true);
		json_kv_dbl("max", c->lat[c->nlat - 1] / 1e3, false);
		fprintf(json, "}%s", a->vx_ok && b->vx_ok ? ", " : "");
	}
	if (a->vx_ok && b->vx_ok) {
		fprintf(json, "\"vhostx\": {");
		for (q = 0; q < 2; q++) {
			fprintf(json, "\"%s\": {", q ? "tx" : "rx");
			/* Deltas of every monotonic counter (not the state). */
			bool first = true;

			for (k = 0; k < b->vx.ncols; k++) {
				const char *n = b->vx.col[k];

				if (!strcmp(n, "num") || !strcmp(n, "last_avail") ||
				    !strcmp(n, "last_used") ||
				    !strcmp(n, "broken") ||
				    !strcmp(n, "net-zcopy") ||
				    !strcmp(n, "pending") ||
				    !strcmp(n, "min_len") ||
				    !vx_delta(a, b, q, n, &d))
					continue;
				fprintf(json, "%s\"%s\": %llu", first ? "" : ", ",
					n, (unsigned long long)d);
				first = false;
			}
			fprintf(json, "}%s", q ? "" : ", ");
		}
		fprintf(json, "}");
	}
	fprintf(json, "}");
	fflush(json);

	if (c->t->kind == 'l')
		printf("  %-7s %-10s round %d.%d: median %8.1f us  p99 %8.1f us  worker %7.0f ns/rt  (%zu rt, %.1fs)\n",
		       c->t->name, c->b->name, c->round, c->rep,
		       pct(c->lat, c->nlat, 0.5) / 1e3,
		       pct(c->lat, c->nlat, 0.99) / 1e3, wk_ns / pk, c->nlat,
		       now_s() - c->t_open);
	else
		printf("  %-7s %-10s round %d.%d: %10.0f pps %9.1f Mbit/s  worker %7.0f ns/pkt util %.2f (%.1fs)\n",
		       c->t->name, c->b->name, c->round, c->rep, c->pkts / secs,
		       c->bytes * 8.0 / secs / 1e6, wk_ns / pk,
		       wk_ns / 1e9 / secs, now_s() - c->t_open);
	fflush(stdout);
}

static void run_cell(int round, int rep, int ti, int bi, const char *block)
{
	struct cell c;
	int r;

again:
	memset(&c, 0, sizeof(c));
	c.d.fd = -1;
	c.tap = -1;
	c.ifname = run_ifname;
	c.rx.kick_fd = c.rx.call_fd = c.rx.err_fd = -1;
	c.tx.kick_fd = c.tx.call_fd = c.tx.err_fd = -1;
	c.t = &tests[ti];
	c.b = &backends[bi];
	c.round = round;
	c.rep = rep;
	/*
	 * TX and latency pairs split the round's time; RX cells drain a
	 * burst (or stream for the whole time).
	 */
	c.dur = tests[ti].kind == 'r' ? cfg.dur : cfg.dur / cfg.reps;
	c.t_open = now_s();

	if (c.b->zcopy >= 0) {
		r = zc_set(c.b->zcopy);
		if (r)
			goto report;
	}
	r = cell_open(&c);
	if (!r) {
		switch (c.t->kind) {
		case 't':
			r = run_tx(&c);
			break;
		case 'r':
			r = run_rx(&c);
			break;
		default:
			r = run_lat(&c);
			break;
		}
	}
	if (r == -EAGAIN) {
		cell_close(&c);
		goto again;
	}
report:
	c.block = block;
	cell_report(&c, r);
	cell_close(&c);
}

static unsigned int parse_list(const char *s, bool is_test)
{
	unsigned int mask = 0;
	char *dup = strdup(s), *save = NULL, *tok;
	int i;

	for (tok = strtok_r(dup, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		bool found = false;

		if (is_test) {
			for (i = 0; i < T_MAX; i++)
				if (!strcmp(tok, tests[i].name) ||
				    (!strcmp(tok, "tx") && tests[i].kind == 't') ||
				    (!strcmp(tok, "rx") && tests[i].kind == 'r') ||
				    (!strcmp(tok, "latency") && tests[i].kind == 'l'))
					mask |= 1u << i, found = true;
		} else {
			for (i = 0; i < NBACKENDS; i++)
				if (!strcmp(tok, backends[i].name))
					mask |= 1u << i, found = true;
		}
		if (!found)
			die("unknown %s '%s'", is_test ? "test" : "backend", tok);
	}
	free(dup);
	return mask;
}

static void usage(void)
{
	printf("usage: vhostx-bench [options]\n"
	       "  -r N      rounds (default 8; env BENCH_ROUNDS)\n"
	       "  -d S      measured seconds per test, backend and round (1; BENCH_DURATION)\n"
	       "  -w S      warm-up seconds per cell (0.3; BENCH_WARMUP)\n"
	       "  -n N      ring size (256; BENCH_RING)\n"
	       "  -B US     busy-loop timeout for lat_bp, lat_poll, us (200; BENCH_BUSYLOOP_US)\n"
	       "  -t LIST   tests: tx64,tx1500,txgso,rx64,rx1500,tx64_io,rx64_io,lat,lat_bp,lat_poll,\n"
	       "            tx64_pk,tx1500_pk,txgso_pk,rx64_pk,rx1500_pk,lat_pk or\n"
	       "            tx,rx,latency (all; BENCH_TESTS)\n"
	       "  -b LIST   backends: vhost-net,vhostx,vhostx-zc (all; BENCH_BACKENDS)\n"
	       "  -z CMD    command run as 'CMD 0|1' to reload vhostx_net with\n"
	       "            experimental_zcopytx=0|1 (BENCH_RELOAD)\n"
	       "  RX source: env BENCH_RX_SOURCE=pktgen (default when /proc/net/pktgen\n"
	       "            exists) or packet (AF_PACKET sendmmsg thread)\n"
	       "  RX mode: env BENCH_RX_BURST=N (30000, at most 32000): queue N frames\n"
	       "            on the tap, then time the backend moving them; 0: stream\n"
	       "            for -d seconds from a source running at full speed\n"
	       "  -P        do not pin threads to CPUs (BENCH_PIN=0)\n"
	       "  env BENCH_REPS=N (4) pairs of cells per round, alternating which\n"
	       "            backend goes first; a TX or latency cell measures for\n"
	       "            -d / N seconds, an RX cell drains a whole burst\n"
	       "  -o FILE   JSON output (results.json)\n");
	exit(2);
}

static const char *env(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

int main(int argc, char **argv)
{
	struct utsname u;
	char cpu[256] = "unknown", buf[65536], *p;
	int opt, round, ti, k, zc_have;

	if (env("BENCH_ROUNDS"))
		cfg.rounds = atoi(env("BENCH_ROUNDS"));
	if (env("BENCH_DURATION"))
		cfg.dur = atof(env("BENCH_DURATION"));
	if (env("BENCH_WARMUP"))
		cfg.warm = atof(env("BENCH_WARMUP"));
	if (env("BENCH_RING"))
		cfg.ring = (unsigned int)atoi(env("BENCH_RING"));
	if (env("BENCH_BUSYLOOP_US"))
		cfg.busyloop_us = (unsigned int)atoi(env("BENCH_BUSYLOOP_US"));
	if (env("BENCH_TESTS"))
		cfg.test_mask = parse_list(env("BENCH_TESTS"), true);
	if (env("BENCH_BACKENDS"))
		cfg.backend_mask = parse_list(env("BENCH_BACKENDS"), false);
	if (env("BENCH_RELOAD"))
		cfg.reload = env("BENCH_RELOAD");
	if (env("BENCH_RX_SOURCE"))
		cfg.rx_source = env("BENCH_RX_SOURCE");
	if (env("BENCH_RX_BURST"))
		cfg.rx_burst = (unsigned int)atoi(env("BENCH_RX_BURST"));
	/* tun's ring is the tap's txqueuelen: at most S16_MAX. */
	if (cfg.rx_burst > 32000)
		cfg.rx_burst = 32000;
	if (env("BENCH_PIN"))
		cfg.pin = atoi(env("BENCH_PIN")) != 0;
	if (env("BENCH_REPS"))
		cfg.reps = atoi(env("BENCH_REPS"));

	while ((opt = getopt(argc, argv, "r:d:w:n:B:t:b:z:Po:h")) != -1) {
		switch (opt) {
		case 'r': cfg.rounds = atoi(optarg); break;
		case 'd': cfg.dur = atof(optarg); break;
		case 'w': cfg.warm = atof(optarg); break;
		case 'n': cfg.ring = (unsigned int)atoi(optarg); break;
		case 'B': cfg.busyloop_us = (unsigned int)atoi(optarg); break;
		case 't': cfg.test_mask = parse_list(optarg, true); break;
		case 'b': cfg.backend_mask = parse_list(optarg, false); break;
		case 'z': cfg.reload = optarg; break;
		case 'P': cfg.pin = false; break;
		case 'o': cfg.out = optarg; break;
		default: usage();
		}
	}
	if (!cfg.rx_source)
		cfg.rx_source = access(PG_DIR "pgctrl", W_OK) ? "packet" : "pktgen";
	if (strcmp(cfg.rx_source, "pktgen") && strcmp(cfg.rx_source, "packet"))
		die("BENCH_RX_SOURCE must be pktgen or packet");
	if (cfg.rounds < 1 || cfg.dur <= 0 || cfg.ring < 64 || cfg.reps < 1 ||
	    (cfg.ring & (cfg.ring - 1)))
		die("bad rounds, duration or ring size (power of two >= 64)");
	signal(SIGPIPE, SIG_IGN);
	cfg.ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN);

	/* Skip what this kernel cannot run. */
	for (k = 0; k < NBACKENDS; k++)
		if ((cfg.backend_mask & (1u << k)) &&
		    access(backends[k].path, R_OK | W_OK)) {
			printf("vhostx-bench: %s not present, skipped\n",
			       backends[k].path);
			cfg.backend_mask &= ~(1u << k);
		}
	zc_have = zc_get();
	if (zc_have < 0 || (!cfg.reload && access(ZC_PARAM, W_OK))) {
		if (cfg.backend_mask & 4)
			printf("vhostx-bench: vhostx_net has no settable experimental_zcopytx: vhostx-zc skipped\n");
		cfg.backend_mask &= ~4u;
	}

	snprintf(run_ifname, sizeof(run_ifname), "vxbench%%d");
	run_tap = vg_tap_open(run_ifname, HDR_LEN, 0);
	if (run_tap < 0)
		die("cannot create a tap: %s", strerror(-run_tap));

	if (!strcmp(cfg.rx_source, "pktgen") && (cfg.test_mask & (1u << T_RX64 | 1u << T_RX1500 | 1u << T_RX64IO |
	     1u << T_RX64PK | 1u << T_RX1500PK))) {
		char path[128];
		int i;

		pg_write("kpktgend_0", "add_device %s", run_ifname);
		snprintf(path, sizeof(path), PG_DIR "%s", run_ifname);
		for (i = 0; i < 50 && access(path, W_OK); i++)
			usleep(100000);
	}

	json = fopen(cfg.out, "w");
	if (!json)
		die("%s: %s", cfg.out, strerror(errno));
	uname(&u);
	if (read_file("/proc/cpuinfo", buf, sizeof(buf)) > 0 &&
	    (p = strstr(buf, "model name"))) {
		p = strchr(p, ':') + 2;
		snprintf(cpu, sizeof(cpu), "%.*s", (int)strcspn(p, "\n"), p);
	}
	printf("vhostx-bench: kernel %s %s, %d CPUs (%s), %d rounds x %.1f s per backend and test, ring %u, RX %s, tap %s\n",
	       u.release, u.version, cfg.ncpu, cpu, cfg.rounds, cfg.dur,
	       cfg.ring, cfg.rx_burst ? "burst" : cfg.rx_source, run_ifname);
	fprintf(json, "{\"meta\": {\"kernel\": \"%s\", \"kernel_version\": \"%s\", "
		"\"machine\": \"%s\", \"cpu\": \"%s\", \"ncpu\": %d, "
		"\"rounds\": %d, \"seconds\": %g, \"warmup\": %g, \"ring\": %u, "
		"\"busyloop_us\": %u, \"pinned\": %s, \"zcopytx_param\": %d, \"reps\": %d, \"tx_reps\": true, "
		"\"rx_source\": \"%s\", \"rx_burst\": %u, \"start\": %lld},\n \"samples\": [\n",
		u.release, u.version, u.machine, cpu, cfg.ncpu, cfg.rounds,
		cfg.dur, cfg.warm, cfg.ring, cfg.busyloop_us,
		cfg.pin ? "true" : "false", zc_have, cfg.reps,
		cfg.rx_burst ? "packet" : cfg.rx_source, cfg.rx_burst,
		(long long)time(NULL));

	/*
	 * Each round: the main block (every test, vhost-net and vhostx back
	 * to back) and, when vhostx-zc is on, a zero-copy block (TX tests,
	 * vhost-net and vhostx-zc back to back) so that vhostx_net is
	 * reloaded about once per round, not once per cell.  The order of
	 * blocks and of backends flips every round against drift.
	 */
	for (round = 1; round <= cfg.rounds; round++) {
		int blk;

		printf("== round %d/%d\n", round, cfg.rounds);
		fflush(stdout);
		for (blk = 0; blk < 2; blk++) {
			bool zc = (blk == 1) == (round & 1);

			if (zc && !(cfg.backend_mask & 4))
				continue;
			for (ti = 0; ti < T_MAX; ti++) {
				if (!(cfg.test_mask & (1u << ti)))
					continue;
				if (zc && tests[ti].kind != 't')
					continue;
				int rep;

				/* Pairs alternate: A B, B A, A B... */
				for (rep = 0; rep < cfg.reps; rep++)
					for (k = 0; k < 2; k++) {
						int first = (round + rep) & 1;
						int bi = (first ? k : 1 - k) ?
							 (zc ? 2 : 1) : 0;

						if (!(cfg.backend_mask & (1u << bi)))
							continue;
						run_cell(round, rep, ti, bi,
							 zc ? "zc" : "main");
					}
			}
		}
	}
	/* Leave vhostx_net as we found it. */
	if (zc_have >= 0 && zc_get() != zc_have)
		zc_set(zc_have);
	fprintf(json, "\n]}\n");
	fclose(json);
	if (!strcmp(cfg.rx_source, "pktgen"))
		pg_write("kpktgend_0", "rem_device_all");
	close(run_tap);
	printf("vhostx-bench: results in %s\n", cfg.out);
	return 0;
}
