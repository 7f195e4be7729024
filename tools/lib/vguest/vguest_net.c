// SPDX-License-Identifier: GPL-2.0
/*
 * vguest_net: taps, packet sockets and test frames (see vguest_net.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>

#include "vguest.h"
#include "vguest_net.h"

/** vg_if_up() - set interface @ifname up. */
int vg_if_up(const char *ifname)
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

/**
 * vg_if_ipv6_off() - disable IPv6 on @ifname, so the host stack sends no
 * neighbour discovery or autoconfiguration traffic there (best effort).
 */
void vg_if_ipv6_off(const char *ifname)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6",
		 ifname);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (write(fd, "1", 1) < 0)
		; /* best effort: only keeps noise off the interface */
	close(fd);
}

/**
 * vg_tap_open() - open a tap: IFF_TAP | IFF_NO_PI, with IFF_VNET_HDR of
 * @hdr_len bytes (0: no virtio-net header on the tap), IPv6 off, link up.
 * @name: in/out, IFNAMSIZ buffer; empty lets the kernel pick, a "%d"
 *        pattern picks the first free number.
 * @flags: extra IFF_* flags (IFF_MULTI_QUEUE...).
 * Return: the tap descriptor, or -errno.
 */
int vg_tap_open(char *name, int hdr_len, int flags)
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
	snprintf(name, IFNAMSIZ, "%s", ifr.ifr_name);
	vg_if_ipv6_off(name);
	r = vg_if_up(name);
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

/**
 * vg_packet_socket() - raw AF_PACKET socket bound to @ifname for EtherType
 * @proto (host order; VG_ETH_P for test frames, 0 to send only).
 * Return: the socket, or -errno.
 */
int vg_packet_socket(const char *ifname, uint16_t proto)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(proto),
		.sll_ifindex = (int)if_nametoindex(ifname),
	};
	int s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(proto));

	if (s < 0)
		return -errno;
	if (bind(s, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		close(s);
		return -errno;
	}
	return s;
}

/**
 * vg_tap_capture() - a new tap with a @hdr_len-byte vnet header
 * (vg_tap_open(), @ifname as there) and a packet socket for test frames on
 * it.  Either descriptor is left in *@tap / *@pkt (or -1) for the caller
 * to close.
 * Return: 0 or -errno.
 */
int vg_tap_capture(char *ifname, int hdr_len, int *tap, int *pkt)
{
	*pkt = -1;
	*tap = vg_tap_open(ifname, hdr_len, 0);
	if (*tap < 0)
		return *tap;
	*pkt = vg_packet_socket(ifname, VG_ETH_P);
	return *pkt < 0 ? *pkt : 0;
}

/**
 * vg_net_open() - a vhost-net style device at @path: vg_dev_init() with
 * @arena_size and @features, RX (vq 0) and TX (vq 1) rings of @num
 * entries; no backend attached.
 */
int vg_net_open(struct vg_dev *d, struct vg_vq *rx, struct vg_vq *tx,
		const char *path, size_t arena_size, uint64_t features,
		unsigned int num)
{
	int r = vg_dev_init(d, path, arena_size, features);

	if (!r)
		r = vg_vq_setup(d, rx, 0, num, 0);
	return r ? r : vg_vq_setup(d, tx, 1, num, 0);
}

/** vg_net_attach() - @fd as the backend of both queues (-1: detach). */
int vg_net_attach(struct vg_dev *d, int fd)
{
	int r = vg_net_set_backend(d, 0, fd);

	return r ? r : vg_net_set_backend(d, 1, fd);
}

/** vg_net_close() - detach both queues (if open), free them, close. */
void vg_net_close(struct vg_dev *d, struct vg_vq *rx, struct vg_vq *tx)
{
	if (d->fd >= 0)
		vg_net_attach(d, -1);
	vg_vq_free(rx);
	vg_vq_free(tx);
	vg_close(d);
}

/**
 * vg_frame_make() - test frame of @len bytes: broadcast, EtherType
 * VG_ETH_P, @seq (4 bytes, host order), then vg_fill(@seq).  A frame
 * shorter than VG_FRAME_MIN is cut from that.
 */
void vg_frame_make(uint8_t *f, size_t len, uint32_t seq)
{
	uint8_t h[VG_FRAME_MIN];

	memset(h, 0xff, 6);
	memcpy(h + 6, "\x02\x00\x00\x00\x00\x01", 6);
	h[12] = VG_ETH_P >> 8;
	h[13] = VG_ETH_P & 0xff;
	memcpy(h + VG_ETH_HLEN, &seq, 4);
	memcpy(f, h, len < VG_FRAME_MIN ? len : VG_FRAME_MIN);
	if (len > VG_FRAME_MIN)
		vg_fill(f + VG_FRAME_MIN, len - VG_FRAME_MIN, seq);
}

/**
 * vg_frame_parse() - is @f (@len bytes) a test frame?
 * Return: 1 and its sequence number in *@seq if it is one, intact; 0 if it
 * is one of ours but damaged (*@seq as found); -1 if it is not ours.
 */
int vg_frame_parse(const uint8_t *f, size_t len, uint32_t *seq)
{
	if (len < VG_FRAME_MIN || f[12] != (VG_ETH_P >> 8) ||
	    f[13] != (VG_ETH_P & 0xff))
		return -1;
	memcpy(seq, f + VG_ETH_HLEN, 4);
	return vg_check(f + VG_FRAME_MIN, len - VG_FRAME_MIN, *seq, 0) < 0;
}

/** vg_frame_ok() - @f is test frame @seq of exactly @len bytes, intact. */
bool vg_frame_ok(const uint8_t *f, size_t len, uint32_t seq)
{
	uint32_t got;

	return vg_frame_parse(f, len, &got) == 1 && got == seq;
}

/**
 * vg_frame_inject() - send @f through packet socket @pkt out of @ifname
 * (for a tap: towards the device's RX queue).
 * Return: 0 or -errno.
 */
int vg_frame_inject(int pkt, const char *ifname, const void *f, size_t len)
{
	struct sockaddr_ll to = {
		.sll_family = AF_PACKET,
		.sll_ifindex = (int)if_nametoindex(ifname),
		.sll_halen = 6,
	};
	ssize_t n = sendto(pkt, f, len, 0, (struct sockaddr *)&to, sizeof(to));

	return n == (ssize_t)len ? 0 : (n < 0 ? -errno : -EIO);
}

/**
 * vg_frame_capture() - receive the next frame from @pkt within
 * @timeout_ms into @buf.
 * Return: its full length (it may be longer than @size), -ETIMEDOUT, or
 * -errno.
 */
ssize_t vg_frame_capture(int pkt, void *buf, size_t size, int timeout_ms)
{
	int r = vg_wait_readable(pkt, timeout_ms);
	ssize_t n;

	if (r <= 0)
		return r ? r : -ETIMEDOUT;
	n = recv(pkt, buf, size, MSG_TRUNC);
	return n < 0 ? -errno : n;
}
