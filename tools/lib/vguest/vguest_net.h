/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vguest_net: the network side of a vhost-net test, bench or demo: taps,
 * packet sockets on their interfaces, and test frames that carry their own
 * sequence number and a byte pattern derived from it.
 *
 * Traffic goes guest TX ring -> device -> tap -> AF_PACKET capture socket,
 * and AF_PACKET send -> tap -> device -> guest RX ring.  Test frames use an
 * experimental EtherType (VG_ETH_P) so other traffic on the tap is told
 * apart.  Functions returning int return a descriptor or 0 on success,
 * -errno on failure.
 */
#ifndef VGUEST_NET_H
#define VGUEST_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define VG_ETH_P	0x88b5		/* IEEE local experimental */
#define VG_ETH_HLEN	14
/* Smallest test frame: Ethernet header and the 4-byte sequence number. */
#define VG_FRAME_MIN	(VG_ETH_HLEN + 4)

/* ---- interfaces ---- */
int vg_if_up(const char *ifname);
void vg_if_ipv6_off(const char *ifname);
int vg_tap_open(char *name, int hdr_len, int flags);
int vg_packet_socket(const char *ifname, uint16_t proto);
int vg_tap_capture(char *ifname, int hdr_len, int *tap, int *pkt);

/* ---- a vhost-net device: RX is vq 0, TX vq 1 ---- */
struct vg_dev;
struct vg_vq;
int vg_net_open(struct vg_dev *d, struct vg_vq *rx, struct vg_vq *tx,
		const char *path, size_t arena_size, uint64_t features,
		unsigned int num);
int vg_net_attach(struct vg_dev *d, int fd);
void vg_net_close(struct vg_dev *d, struct vg_vq *rx, struct vg_vq *tx);

/* ---- test frames ---- */
void vg_frame_make(uint8_t *f, size_t len, uint32_t seq);
int vg_frame_parse(const uint8_t *f, size_t len, uint32_t *seq);
bool vg_frame_ok(const uint8_t *f, size_t len, uint32_t seq);
int vg_frame_inject(int pkt, const char *ifname, const void *f, size_t len);
ssize_t vg_frame_capture(int pkt, void *buf, size_t size, int timeout_ms);

#endif /* VGUEST_NET_H */
