// SPDX-License-Identifier: GPL-2.0
/*
 * net-demo: move packets through a vhost-net style device and a tap, the
 * way a VMM's guest would, and check every byte.
 *
 *   TX: frames queued on the guest TX ring leave through the tap (the
 *       device writes them into the tap; they are captured on the tap's
 *       interface with an AF_PACKET socket and compared byte for byte).
 *   RX: frames sent to the tap's interface are read by the device from the
 *       tap and land in guest RX buffers (compared byte for byte).
 *
 * The guest side is the vguest library (tools/lib/vguest).  Several
 * devices can be given (e.g. /dev/vhostx-net and the kernel's
 * /dev/vhost-net) to run the same traffic through each.
 *
 * With -u, the demo runs as an unprivileged VMM does: the taps and capture
 * sockets are opened first, with the caller's privileges (a VMM gets its
 * tap from a privileged helper such as libvirt), then the process becomes
 * user UID with primary group UID's number and the supplementary groups
 * GIDS (-g, comma separated; none without -g) and only then opens the
 * devices, so the device files' owner, group and mode decide.
 *
 * usage: net-demo [-n packets] [-s frame size] [-u uid [-g gid,...]]
 *                 [device...]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>

#include "vguest.h"
#include "vguest_net.h"
#include "vguest_stats.h"

#define HLEN		12	/* virtio_net_hdr_mrg_rxbuf (VERSION_1) */
#define RING		256
#define WINDOW		128	/* frames in flight before we wait */
#define TIMEOUT_MS	5000

struct result {
	unsigned long sent, ok, bad, lost;
};

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

/* 1: test frame intact and @want bytes long, 0: ours but not, -1: not ours. */
static int check_frame(const uint8_t *f, size_t len, size_t want)
{
	uint32_t seq;
	int r = vg_frame_parse(f, len, &seq);

	return r > 0 && len != want ? 0 : r;
}

struct demo {
	const char *path;
	struct vg_dev d;
	struct vg_vq rx, tx;
	int tap, pkt;
	char ifname[IFNAMSIZ];
};

/* The network side, which needs CAP_NET_ADMIN and CAP_NET_RAW. */
static int demo_open_tap(struct demo *m)
{
	int sz = 16 << 20;
	int r;

	r = vg_tap_capture(m->ifname, HLEN, &m->tap, &m->pkt);
	if (r) {
		fprintf(stderr, "tap and packet socket: %s\n", strerror(-r));
		return -1;
	}
	setsockopt(m->pkt, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz));
	return 0;
}

/* The VMM side: open the device, set it up, attach the tap. */
static int demo_open_dev(struct demo *m)
{
	uint64_t want = VG_F(VIRTIO_F_VERSION_1) |
			VG_F(VIRTIO_RING_F_EVENT_IDX);
	int r;

	r = vg_net_open(&m->d, &m->rx, &m->tx, m->path, 64 << 20, want, RING);
	if (!r)
		r = vg_net_attach(&m->d, m->tap);
	if (r) {
		fprintf(stderr, "%s: set-up failed: %s\n", m->path,
			strerror(-r));
		return -1;
	}
	return 0;
}

/*
 * Become @uid, primary group @uid's number, supplementary groups @gids
 * (comma separated, NULL: none), for good: every id, real, effective and
 * saved, so nothing of root is left.
 */
static int drop_privileges(uid_t uid, const char *gids)
{
	gid_t list[16];
	size_t n = 0;
	char *end;

	while (gids && *gids) {
		if (n == sizeof(list) / sizeof(list[0]))
			return -1;
		list[n++] = (gid_t)strtoul(gids, &end, 10);
		if (end == gids || (*end && *end != ','))
			return -1;
		gids = *end ? end + 1 : end;
	}
	if (setgroups(n, list) || setresgid(uid, uid, uid) ||
	    setresuid(uid, uid, uid)) {
		perror("dropping privileges");
		return -1;
	}
	if (!getuid() || !geteuid())
		return -1;
	return 0;
}

/* Print the counters of a vhostx device (its debugfs stats file). */
static void print_stats(const struct demo *m)
{
	char path[128], line[512];
	FILE *f;

	if (vg_stats_debugfs(m->d.fd, path, sizeof(path)))
		return;
	f = fopen(path, "r");
	if (!f)
		return;
	printf("  counters (%s; vq 0 = RX, 1 = TX):\n", path);
	while (fgets(line, sizeof(line), f))
		printf("    %s", line);
	fclose(f);
}

static void demo_close(struct demo *m)
{
	print_stats(m);
	vg_net_close(&m->d, &m->rx, &m->tx);
	close(m->pkt);
	close(m->tap);
}

/* Drain the capture socket, checking frames; returns frames seen. */
static unsigned long drain_capture(struct demo *m, uint8_t *buf, size_t flen,
				   struct result *res, int wait_ms)
{
	struct pollfd p = { .fd = m->pkt, .events = POLLIN };
	unsigned long seen = 0;

	while (poll(&p, 1, seen ? 0 : wait_ms) > 0) {
		ssize_t n = recv(m->pkt, buf, 65536, MSG_TRUNC | MSG_DONTWAIT);
		int c;

		if (n < 0)
			break;
		c = check_frame(buf, (size_t)n, flen);
		if (c < 0)
			continue;
		if (c)
			res->ok++;
		else
			res->bad++;
		seen++;
	}
	return seen;
}

static void run_tx(struct demo *m, unsigned long n, size_t flen,
		   struct result *res)
{
	uint8_t *bufs[RING], *cap = malloc(65536);
	unsigned long captured = 0;
	unsigned int i, slot = 0;
	double last;

	memset(res, 0, sizeof(*res));
	for (i = 0; i < RING; i++) {
		bufs[i] = vg_alloc(&m->d, HLEN + flen, 64);
		memset(bufs[i], 0, HLEN);
	}
	last = now();
	while (captured < n) {
		unsigned long seen;
		void *c;

		while (res->sent < n && m->tx.num_free &&
		       res->sent - captured < WINDOW) {
			uint8_t *b = bufs[slot++ % RING];

			vg_frame_make(b + HLEN, flen, (uint32_t)res->sent);
			vg_vq_add_buf(&m->tx, b, (uint32_t)(HLEN + flen),
				      NULL, 0, b);
			res->sent++;
		}
		vg_vq_kick(&m->tx);
		while (vg_vq_get_used(&m->tx, NULL, &c) >= 0)
			;
		seen = drain_capture(m, cap, flen, res, 100);
		captured += seen;
		if (seen) {
			last = now();
		} else if ((now() - last) * 1000 > TIMEOUT_MS) {
			/* Nothing came out for a while: the rest is lost. */
			res->lost = res->sent - captured;
			break;
		}
	}
	free(cap);
}

static void run_rx(struct demo *m, unsigned long n, size_t flen,
		   struct result *res)
{
	uint8_t *frame = malloc(flen);
	unsigned long got = 0;
	unsigned int i;

	memset(res, 0, sizeof(*res));
	for (i = 0; i < RING; i++) {
		uint8_t *b = vg_alloc(&m->d, 2048, 64);

		vg_vq_add_buf(&m->rx, NULL, 0, b, 2048, b);
	}
	vg_vq_kick(&m->rx);
	while (got < n) {
		uint32_t len;
		void *c;

		while (res->sent < n && res->sent - got < WINDOW) {
			vg_frame_make(frame, flen, (uint32_t)res->sent);
			if (vg_frame_inject(m->pkt, m->ifname, frame, flen))
				break;
			res->sent++;
		}
		if (!vg_vq_wait_used(&m->rx, 1, TIMEOUT_MS)) {
			res->lost = res->sent - got;
			break;
		}
		while (vg_vq_get_used(&m->rx, &len, &c) >= 0) {
			int r = len >= HLEN ?
				check_frame((uint8_t *)c + HLEN, len - HLEN,
					    flen) : 0;

			if (r > 0)
				res->ok++;
			else if (r == 0)
				res->bad++;
			if (r >= 0)
				got++;
			vg_vq_add_buf(&m->rx, NULL, 0, c, 2048, c);
		}
		vg_vq_kick(&m->rx);
	}
	free(frame);
}

/*
 * What moved, never how fast: one short cold run per device on an
 * emulated CPU says nothing about speed (make bench measures that).
 */
static void report(const char *dir, const char *path, const struct result *r)
{
	printf("  %-2s %-16s %7lu sent %7lu verified %4lu bad %4lu lost\n",
	       dir, path, r->sent, r->ok, r->bad, r->lost);
}

int main(int argc, char **argv)
{
	unsigned long n = 20000;
	size_t flen = 256;
	struct result tx[8], rx[8];
	struct demo *demos;
	const char *paths[8];
	const char *gids = NULL;
	long uid = -1;
	int ndev = 0, i, opt, fail = 0;

	while ((opt = getopt(argc, argv, "n:s:u:g:")) != -1) {
		switch (opt) {
		case 'n':
			n = strtoul(optarg, NULL, 0);
			break;
		case 's':
			flen = strtoul(optarg, NULL, 0);
			break;
		case 'u':
			uid = strtol(optarg, NULL, 10);
			break;
		case 'g':
			gids = optarg;
			break;
		default:
			fprintf(stderr, "usage: %s [-n packets] [-s frame size] [-u uid [-g gid,...]] [device...]\n",
				argv[0]);
			return 2;
		}
	}
	if (uid == 0 || (gids && uid < 0)) {
		fprintf(stderr, "-u takes a user id other than 0; -g needs -u\n");
		return 2;
	}
	if (flen < 60 || flen > 1514) {
		fprintf(stderr, "frame size must be 60..1514\n");
		return 2;
	}
	for (i = optind; i < argc && ndev < 8; i++)
		paths[ndev++] = argv[i];
	if (!ndev)
		paths[ndev++] = "/dev/vhostx-net";

	demos = calloc((size_t)ndev, sizeof(*demos));
	if (!demos)
		return 1;
	/* Every tap first: with -u the devices are opened unprivileged. */
	for (i = 0; i < ndev; i++) {
		struct demo *m = &demos[i];

		m->path = paths[i];
		m->tap = m->pkt = -1;
		if (access(m->path, F_OK)) {
			printf("%s: not present, skipped\n", m->path);
			continue;
		}
		if (demo_open_tap(m))
			return 1;
	}
	if (uid > 0) {
		if (drop_privileges((uid_t)uid, gids))
			return 1;
		printf("running as uid %u, gid %u, groups %s\n",
		       (unsigned int)getuid(), (unsigned int)getgid(),
		       gids ? gids : "(none)");
	}
	for (i = 0; i < ndev; i++) {
		struct demo *m = &demos[i];

		if (m->tap < 0)
			continue;
		if (demo_open_dev(m))
			return 1;
		printf("%s: tap %s, %lu frames of %zu bytes each way\n",
		       m->path, m->ifname, n, flen);
		run_tx(m, n, flen, &tx[i]);
		report("TX", m->path, &tx[i]);
		run_rx(m, n, flen, &rx[i]);
		report("RX", m->path, &rx[i]);
		if (tx[i].ok != n || rx[i].ok != n || tx[i].bad || rx[i].bad)
			fail = 1;
		demo_close(m);
	}
	free(demos);

	printf("\nSpeed: a single cold run is no measurement; 'make bench' compares\n"
	       "vhostx with vhost-net (both warmed, order alternated, several rounds,\n"
	       "ratios with their spread).\n");
	printf("\n%s\n", fail ? "FAIL: some frames were lost or damaged" :
	       "OK: every frame arrived intact, in both directions");
	return fail;
}
