/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the net_*_test programs (header-only).  Include after
 * kselftest_harness.h and vx_common.h.
 *
 * The device under test is /dev/vhostx-net, or $VX_NET_DEV when set: the
 * same programs run against the kernel's own /dev/vhost-net to check that
 * their expectations match upstream behaviour.
 *
 * Traffic goes guest TX ring -> device -> tap -> AF_PACKET capture socket,
 * and AF_PACKET send -> tap -> device -> guest RX ring.  Test frames carry
 * an experimental EtherType so other traffic on the tap is told apart.
 */
#ifndef NET_COMMON_H
#define NET_COMMON_H

#include <arpa/inet.h>
#include <stdarg.h>
#include <sys/wait.h>
#include <poll.h>
#include <sys/mount.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>

#define NET_ETH_P	0x88b5		/* IEEE local experimental */
#define NET_ETH_HLEN	14

static inline const char *net_dev_path(void)
{
	const char *p = getenv("VX_NET_DEV");

	return p && *p ? p : VX_NET_DEV;
}

#define NET_ZCOPY_PARAM "/sys/module/vhostx_net/parameters/experimental_zcopytx"
#define NET_ZCOPY_MIN_PARAM "/sys/module/vhostx_net/parameters/zcopy_min_len"

/* Write a module parameter: 0 or -errno. */
static inline int net_param_write(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), r = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		r = -errno;
	close(fd);
	return r;
}

/* Write vhostx_net's experimental_zcopytx ("0"/"1"): 0 or -errno. */
static inline int net_zcopy_param(const char *val)
{
	return net_param_write(NET_ZCOPY_PARAM, val);
}

/*
 * Write vhostx_net's zcopy_min_len (bytes, read at attach): 0 or -errno.
 * The zero-copy tests use upstream vhost-net's threshold, 256, so their
 * 1514-byte frames go zero-copy; NET_ZCOPY_MIN_DEFAULT restores the
 * module's default.
 */
#define NET_ZCOPY_MIN_TESTS	"256"
#define NET_ZCOPY_MIN_DEFAULT	"4096"
static inline int net_zcopy_min(const char *val)
{
	return net_param_write(NET_ZCOPY_MIN_PARAM, val);
}

/*
 * The kernel's vhost-net leaves num_buffers alone without MRG_RXBUF
 * (virtio 1.x wants 1 there, and vhostx writes it): checks of that field
 * are relaxed when running against upstream.
 */
static inline bool net_dev_is_upstream(void)
{
	return !strcmp(net_dev_path(), VHOST_NET_DEV);
}

#define NET_REQUIRE_DEV() do {						\
	VX_REQUIRE_DEV(net_dev_path());					\
	if (access("/dev/net/tun", F_OK))				\
		SKIP(return, "/dev/net/tun not present");		\
} while (0)

static inline void net_sysctl(const char *ifname, const char *knob,
			      const char *val)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/%s",
		 ifname, knob);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (write(fd, val, strlen(val)) < 0)
		; /* best effort: only keeps noise off the tap */
	close(fd);
}

static inline int net_if_up(const char *ifname)
{
	struct ifreq ifr;
	int sk, r = 0;

	sk = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sk < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", ifname);
	if (ioctl(sk, SIOCGIFFLAGS, &ifr) < 0) {
		r = -errno;
	} else {
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(sk, SIOCSIFFLAGS, &ifr) < 0)
			r = -errno;
	}
	close(sk);
	return r;
}

/*
 * Open a tap: IFF_TAP | IFF_NO_PI, with IFF_VNET_HDR of @hdr_len bytes
 * (0: no virtio-net header on the tap at all), IPv6 off so the host stack
 * stays quiet, link up.  @flags are extra IFF_* flags (IFF_MULTI_QUEUE...).
 * @name: in/out, IFNAMSIZ buffer; empty lets the kernel pick.
 */
static inline int net_tap_open(char *name, int hdr_len, int flags)
{
	struct ifreq ifr;
	int fd, r;

	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | flags;
	if (hdr_len)
		ifr.ifr_flags |= IFF_VNET_HDR;
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0)
		goto err;
	if (hdr_len && ioctl(fd, TUNSETVNETHDRSZ, &hdr_len) < 0)
		goto err;
	strcpy(name, ifr.ifr_name);
	net_sysctl(name, "disable_ipv6", "1");
	r = net_if_up(name);
	if (r) {
		close(fd);
		return r;
	}
	return fd;
err:
	r = -errno;
	close(fd);
	return r;
}

/* AF_PACKET socket on @ifname for our EtherType (capture and inject). */
static inline int net_packet_socket(const char *ifname)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(NET_ETH_P),
		.sll_ifindex = (int)if_nametoindex(ifname),
	};
	int s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(NET_ETH_P));

	if (s < 0)
		return -errno;
	if (bind(s, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		close(s);
		return -errno;
	}
	return s;
}

/*
 * A new tap with a @hdr_len-byte vnet header (net_tap_open(), @ifname
 * as there) and a packet socket capturing on it.  Either descriptor is
 * left in *@tap / *@pkt (or -1) for the caller to close.
 * Return: 0 or -errno.
 */
static inline int net_tap_capture(char *ifname, int hdr_len, int *tap,
				  int *pkt)
{
	*pkt = -1;
	*tap = net_tap_open(ifname, hdr_len, 0);
	if (*tap < 0)
		return *tap;
	*pkt = net_packet_socket(ifname);
	return *pkt < 0 ? *pkt : 0;
}

/* Run a shell command (printf-style); its exit status, or -1. */
static inline int net_sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	int r;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	r = system(cmd);
	return WIFEXITED(r) ? WEXITSTATUS(r) : -1;
}

/* Ethernet frame of @len bytes (>= 14), payload patterned by @seed. */
static inline void net_make_frame(uint8_t *f, size_t len, unsigned int seed)
{
	memset(f, 0xff, 6);
	memcpy(f + 6, "\x02\x00\x00\x00\x00\x01", 6);
	f[12] = NET_ETH_P >> 8;
	f[13] = NET_ETH_P & 0xff;
	vx_fill(f + NET_ETH_HLEN, len - NET_ETH_HLEN, seed);
}

static inline bool net_frame_ok(const uint8_t *f, size_t len,
				unsigned int seed)
{
	return len >= NET_ETH_HLEN && f[12] == (NET_ETH_P >> 8) &&
	       f[13] == (NET_ETH_P & 0xff) &&
	       vx_check(f + NET_ETH_HLEN, len - NET_ETH_HLEN, seed, 0) < 0;
}

/* Inject a frame into the tap's transmit side (towards the device's RX). */
static inline int net_inject(int pkt, const char *ifname, const void *f,
			     size_t len)
{
	struct sockaddr_ll to = {
		.sll_family = AF_PACKET,
		.sll_ifindex = (int)if_nametoindex(ifname),
		.sll_halen = 6,
	};
	ssize_t n = sendto(pkt, f, len, 0, (struct sockaddr *)&to, sizeof(to));

	return n == (ssize_t)len ? 0 : (n < 0 ? -errno : -EIO);
}

/*
 * Receive the next frame of ours from the capture socket within @ms:
 * returns its length, -ETIMEDOUT, or -errno.
 */
static inline ssize_t net_capture(int pkt, void *buf, size_t size, int ms)
{
	struct pollfd p = { .fd = pkt, .events = POLLIN };
	ssize_t n;

	if (poll(&p, 1, ms) <= 0)
		return -ETIMEDOUT;
	n = recv(pkt, buf, size, MSG_TRUNC);
	return n < 0 ? -errno : n;
}

/* Features: what the device must support for a variant. */
#define NET_F(bit)	(1ULL << (bit))

/*
 * Open the device and set up RX (vq 0) and TX (vq 1) with @features and
 * @num entries each; backends not attached.
 */
static inline int net_dev_setup(struct vg_dev *d, struct vg_vq *rx,
				struct vg_vq *tx, uint64_t features,
				unsigned int num)
{
	int r = vx_dev_setup(d, rx, net_dev_path(), features, 0, num, 0);

	return r ? r : vg_vq_setup(d, tx, 1, num, 0);
}

/* Attach @tap as the backend of both queues. */
static inline int net_attach_tap(struct vg_dev *d, int tap)
{
	int r = vg_net_set_backend(d, 0, tap);

	return r ? r : vg_net_set_backend(d, 1, tap);
}

/*
 * Fixture teardown: detach both queues (if the device is open), close
 * it, then the packet socket and the tap (each may be -1).
 */
static inline void net_teardown(struct vg_dev *d, int tap, int pkt)
{
	if (d->fd >= 0) {
		vg_net_set_backend(d, 0, -1);
		vg_net_set_backend(d, 1, -1);
	}
	vg_close(d);
	if (pkt >= 0)
		close(pkt);
	if (tap >= 0)
		close(tap);
}

/*
 * Virtio-net header bytes in guest buffers for @features: 12 with
 * MRG_RXBUF or VERSION_1, else 10.
 */
static inline size_t net_hdr_len(uint64_t features)
{
	return features & (NET_F(VIRTIO_NET_F_MRG_RXBUF) |
			   NET_F(VIRTIO_F_VERSION_1)) ?
		sizeof(struct virtio_net_hdr_mrg_rxbuf) :
		sizeof(struct virtio_net_hdr);
}

/* Reap used entries until one arrives (or timeout): returns head or -errno. */
static inline int net_wait_used(struct vg_vq *vq, uint32_t *len, void **cookie,
				int ms)
{
	if (!vg_vq_wait_used(vq, 1, ms))
		return -ETIMEDOUT;
	return vg_vq_get_used(vq, len, cookie);
}

/*
 * A per-queue counter of the newest vhostx net device (the core's debugfs
 * file /sys/kernel/debug/vhostx/net-N/stats: a header line naming the
 * columns, then one line per vq).  Returns -1 when unavailable (upstream
 * device, no debugfs).  Tests open one device at a time, so the newest
 * is theirs.
 */
static inline long long net_stat(unsigned int vq, const char *field)
{
	char path[96], line[512], *tok, *save;
	int i, best = -1, col = -1, c;
	long long val = -1;
	FILE *f;

	if (net_dev_is_upstream())
		return -1;
	if (access("/sys/kernel/debug/vhostx", F_OK))
		mount("none", "/sys/kernel/debug", "debugfs", 0, NULL);
	for (i = 0; i < 4096; i++) {
		snprintf(path, sizeof(path),
			 "/sys/kernel/debug/vhostx/net-%d/stats", i);
		if (!access(path, R_OK))
			best = i;
	}
	if (best < 0)
		return -1;
	snprintf(path, sizeof(path), "/sys/kernel/debug/vhostx/net-%d/stats",
		 best);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fgets(line, sizeof(line), f))
		for (c = 0, tok = strtok_r(line, " \n", &save); tok;
		     c++, tok = strtok_r(NULL, " \n", &save))
			if (!strcmp(tok, field))
				col = c;
	while (col >= 0 && fgets(line, sizeof(line), f)) {
		tok = strtok_r(line, " \n", &save);
		if (!tok || strtoul(tok, NULL, 10) != vq)
			continue;
		for (c = 1; c <= col && (tok = strtok_r(NULL, " \n", &save));
		     c++)
			;
		if (tok)
			val = strtoll(tok, NULL, 10);
		break;
	}
	fclose(f);
	return val;
}

#endif /* NET_COMMON_H */
