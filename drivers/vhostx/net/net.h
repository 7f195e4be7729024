/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vhostx_net internals: the device and virtqueue structures shared by the
 * device glue (device.c), backend attach (backend.c) and the data paths
 * (tx.c, rx.c, and what they share: datapath.c).
 */
#ifndef _VHOSTX_NET_H
#define _VHOSTX_NET_H

#include <linux/atomic.h>
#include <linux/if_vlan.h>
#include <linux/sizes.h>
#include <linux/net.h>
#include <linux/skbuff.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <net/xdp.h>
#include <vhostx/vhostx.h>

#include "net_compat.h"

struct ptr_ring;
struct tun_msg_ctl;

enum {
	VHOSTX_NET_VQ_RX = 0,
	VHOSTX_NET_VQ_TX = 1,
	VHOSTX_NET_VQ_MAX = 2,
};

/* Used entries collected before they are published to the guest. */
#define VHOSTX_NET_BATCH	64
/* Upper bound of iovecs (and so of buffers) one packet may span. */
#define VHOSTX_NET_IOV_MAX	VHOSTX_IOV_MAX
/*
 * Longest frame (after the virtio-net headers) a TX buffer may carry: a
 * 64 KiB GSO packet, the most a virtio-net driver sends, behind an
 * Ethernet header with a VLAN tag.  tun/tap refuse longer ones; vhostx
 * drops them before copying anything.
 */
#define VHOSTX_NET_TX_MAX_FRAME	(SZ_64K + VLAN_ETH_HLEN)
/* Default budgets of one handler run (as vhost-net). */
#define VHOSTX_NET_PKT_WEIGHT	256
#define VHOSTX_NET_BYTE_WEIGHT	0x80000
/*
 * Longest busy-poll spin, whatever the VMM asked: the spin holds the vq
 * mutex, so it also bounds how long an ioctl or a detach waits for it.
 */
#define VHOSTX_NET_BUSYLOOP_MAX_US	10000

/*
 * Zero-copy TX: default of zcopy_min_len, the shortest packet (socket
 * header included) sent from guest pages.  Shorter ones are copied, in
 * batches when they fit a page: pinning and completing a 1514-byte frame
 * cost more than copying it (performance.rst).
 */
#define VHOSTX_NET_ZC_MIN_LEN	4096
/* Most zero-copy packets in flight (also at most a quarter of the ring). */
#define VHOSTX_NET_ZC_MAX_PEND	128
/* Slots of the in-order completion ring (a power of 2). */
#define VHOSTX_NET_ZC_SLOTS	1024

struct vhostx_net_vq;
struct vhostx_net_zc;

/**
 * struct vhostx_net_ubuf - a zero-copy TX packet handed to the socket
 * @ubuf: what the skb carries; the stack calls our completion through it
 * @zc: the zero-copy state it belongs to
 * @slot: the packet's slot in nvq->zc_used / zc->state
 */
struct vhostx_net_ubuf {
	struct ubuf_info ubuf;
	struct vhostx_net_zc *zc;
	u16 slot;
};

/**
 * struct vhostx_net_zc - what zero-copy completions write, apart from the queue
 * @rcu: frees it after the last reference (completions read it under RCU)
 * @ref: one for the TX queue that owns it, one per packet in flight
 * @nvq: the owning TX queue, NULL once the queue gave it up (RCU)
 * @orphaned: given up with packets in flight: holds a module reference,
 *	dropped with the last reference
 * @pending: zero-copy packets the stack has not completed yet
 * @wait: woken when @pending drops to 0
 * @state: per slot, VHOSTX_NET_ZC_* (written by callbacks)
 * @ubuf: per slot, the ubuf of a zero-copy packet
 *
 * Separate from the queue and refcounted: a detach or close whose wait
 * for the stack is cut short (a fatal signal) gives it up, and the
 * packets still in flight complete on it, however long after the queue,
 * the device or the file went away (zerocopy.c).
 */
struct vhostx_net_zc {
	struct rcu_head rcu;
	refcount_t ref;
	struct vhostx_net_vq __rcu *nvq;
	bool orphaned;
	atomic_t pending;
	wait_queue_head_t wait;
	u8 state[VHOSTX_NET_ZC_SLOTS];
	struct vhostx_net_ubuf ubuf[VHOSTX_NET_ZC_SLOTS];
};

/*
 * The net backend's own per-queue columns (the core's rule and expanders
 * are in <vhostx/vhostx.h>), printed after the core's.  Counters, each
 * written under the vq mutex:
 *
 * drops      packets dropped (by the socket, or too long)
 * spins      busy-poll spins
 * spin_hits  spins that found work (their own queue's or, for RX, TX's)
 * spin_timeouts  spins that ran to the timeout
 * sent       TX: packets sent from guest pages (zero-copy)
 * completed  TX: of those, completed with the guest pages still in use
 * copied     TX: of those, copied by the stack before completion
 * fallback   TX: large packets copied because too many were in flight
 * batched    TX: packets copied into a TX batch (zero-copy on or off)
 */
#define VHOSTX_NET_VQ_STATS(U64, ATOMIC)				\
	U64(drops)							\
	U64(spins)							\
	U64(spin_hits)							\
	U64(spin_timeouts)						\
	U64(sent)							\
	U64(completed)							\
	U64(copied)							\
	U64(fallback)							\
	U64(batched)

/*
 * State columns, X(name, value) of a struct vhostx_net_vq *nvq:
 * net-zcopy (zero-copy on for the attached socket), pending (zero-copy
 * packets the stack has not completed), min_len (the zero-copy threshold
 * read at attach).
 */
#define VHOSTX_NET_VQ_STATE(X)						\
	X("net-zcopy", READ_ONCE(nvq->zcopy))				\
	X("pending", nvq->zc ? atomic_read(&nvq->zc->pending) : 0)	\
	X("min_len", READ_ONCE(nvq->zc_min_len))

/* The counters of one network virtqueue. */
struct vhostx_net_vq_stats {
	VHOSTX_NET_VQ_STATS(VHOSTX_STAT_U64, VHOSTX_STAT_ATOMIC)
};

/**
 * struct vhostx_net_vq - a network virtqueue
 * @vq: the core's virtqueue; private_data is the attached struct socket
 * @poll: readiness of the attached socket (EPOLLIN for RX, EPOLLOUT for TX)
 * @vhost_hlen: virtio-net header bytes the device adds (RX) or strips (TX)
 * @sock_hlen: virtio-net header bytes the socket expects
 * @done: used entries collected in @used, not yet published
 * @iov: scratch iovecs for the descriptor chains of one packet
 * @used: scratch used entries
 * @log: scratch dirty-log entries (RX only)
 * @xdp: TX: packets built for one batched sendmsg() to tun
 * @batched_xdp: TX: packets in @xdp
 * @frag: TX: memory the batched packets are built in
 * @rx_ring: RX: the attached tun/tap's packet ring, NULL for other sockets
 * @rxq: RX: packets taken from @rx_ring in one batch, not yet received
 * @rxq_head: next packet of @rxq
 * @rxq_tail: end of @rxq
 * @zcopy: zero-copy TX is on for the attached socket
 * @zc_min_len: shortest packet sent without copying (read at attach)
 * @zc_upend: next slot of the in-order completion ring
 * @zc_done: oldest slot not yet returned to the guest (read by callbacks)
 * @zc_in_send: the handler is in sendmsg() and will look at the ring next
 * @zc_ever: zero-copy was used since open (release must wait for RCU)
 * @zc: TX: the slots' states and ubufs, what completions write (NULL on
 *	RX, or when a new one could not be allocated: no zero-copy then)
 * @stats: the backend's counters (VHOSTX_NET_VQ_STATS)
 * @zc_used: per slot, the used entry to return
 *
 * Everything but @vq and @poll is protected by @vq.mutex; @zc is also
 * replaced only with the device mutex held (or in release).
 */
struct vhostx_net_vq {
	struct vhostx_vq vq;
	struct vhostx_poll poll;
	size_t vhost_hlen;
	size_t sock_hlen;
	unsigned int done;
	struct iovec iov[VHOSTX_NET_IOV_MAX];
	struct vhostx_used used[VHOSTX_NET_IOV_MAX];
	struct vhostx_log log[VHOSTX_NET_IOV_MAX];

	struct xdp_buff xdp[VHOSTX_NET_BATCH];
	unsigned int batched_xdp;
	struct page_frag_cache frag;

	struct ptr_ring *rx_ring;
	void *rxq[VHOSTX_NET_BATCH];
	unsigned int rxq_head;
	unsigned int rxq_tail;

	bool zcopy;
	unsigned int zc_min_len;
	u16 zc_upend;
	u16 zc_done;
	bool zc_in_send;
	bool zc_ever;
	struct vhostx_net_zc *zc;
	struct vhostx_net_vq_stats stats;
	struct vhostx_used zc_used[VHOSTX_NET_ZC_SLOTS];
};

/**
 * struct vhostx_net - one open /dev/vhostx-net
 * @dev: the core device
 * @vqs: RX and TX virtqueues, indexed by VHOSTX_NET_VQ_*
 * @vq_ptrs: the core's view of @vqs (it keeps the array)
 */
struct vhostx_net {
	struct vhostx_dev dev;
	struct vhostx_net_vq vqs[VHOSTX_NET_VQ_MAX];
	struct vhostx_vq *vq_ptrs[VHOSTX_NET_VQ_MAX];
};

static inline struct vhostx_net_vq *to_net_vq(struct vhostx_vq *vq)
{
	return container_of(vq, struct vhostx_net_vq, vq);
}

static inline struct vhostx_net *to_net(struct vhostx_dev *dev)
{
	return container_of(dev, struct vhostx_net, dev);
}

/*
 * TX buffers go back through the in-order ring of zerocopy.c while it
 * holds any: from a zero-copy packet's send until every slot up to and
 * after it went back.  Else (and always on RX) they are completed
 * directly, zero-copy on or not.  vq mutex held.
 */
static inline bool vhostx_net_in_order(const struct vhostx_net_vq *nvq)
{
	return nvq->zc_upend != nvq->zc_done;
}

/* backend.c */
long vhostx_net_set_backend(struct vhostx_net *n, unsigned int index, int fd);
void vhostx_net_set_base(struct vhostx_vq *vq);
void vhostx_net_stop(struct vhostx_net *n, bool releasing);

/**
 * struct vhostx_net_budget - what one handler run may move before yielding
 * @pkts: packets (RX: or four times as many buffers)
 * @bytes: bytes
 */
struct vhostx_net_budget {
	int pkts;
	int bytes;
};

/* datapath.c: the completion sink, budget and socket poll of the handlers */
void vhostx_net_budget(struct vhostx_net_budget *budget);
bool vhostx_net_exceeds_weight(struct vhostx_net_vq *nvq,
			       const struct vhostx_net_budget *budget,
			       int pkts, size_t bytes);
void vhostx_net_complete(struct vhostx_net_vq *nvq,
			 const struct vhostx_buf *buf, u32 len);
bool vhostx_net_complete_due(struct vhostx_net_vq *nvq);
bool vhostx_net_complete_room(struct vhostx_net_vq *nvq);
void vhostx_net_flush(struct vhostx_net_vq *nvq);
int vhostx_net_enable_poll(struct vhostx_net_vq *nvq);
void vhostx_net_disable_poll(struct vhostx_net_vq *nvq);

/* busypoll.c */
bool vhostx_net_sock_has_data(struct socket *sock);
bool vhostx_net_busy_poll(struct vhostx_net_vq *nvq, bool rx);

/* zerocopy.c */
bool vhostx_net_zc_supported(struct socket *sock);
bool vhostx_net_zc_full(struct vhostx_net_vq *nvq);
unsigned int vhostx_net_zc_unreturned(struct vhostx_net_vq *nvq);
bool vhostx_net_zc_room(struct vhostx_net_vq *nvq);
u16 vhostx_net_zc_add(struct vhostx_net_vq *nvq, const struct vhostx_buf *buf,
		      struct msghdr *msg, struct tun_msg_ctl *ctl);
void vhostx_net_zc_sent(struct vhostx_net_vq *nvq, u16 slot, int err,
			bool retry);
void vhostx_net_zc_add_done(struct vhostx_net_vq *nvq,
			    const struct vhostx_buf *buf, u32 len);
void vhostx_net_zc_publish(struct vhostx_net_vq *nvq);
int vhostx_net_zc_wait(struct vhostx_net_vq *nvq);
struct vhostx_net_zc *vhostx_net_zc_alloc(struct vhostx_net_vq *nvq);
void vhostx_net_zc_give_up(struct vhostx_net_vq *nvq, bool renew);

/* tx.c */
void vhostx_net_tx_cleanup(struct vhostx_net_vq *nvq);
void vhostx_net_handle_tx_kick(struct vhostx_work *work);
void vhostx_net_handle_tx_sock(struct vhostx_work *work);

/* rx.c */
struct ptr_ring *vhostx_net_rx_ring(struct socket *sock);
void vhostx_net_rx_unproduce(struct vhostx_net_vq *nvq);
void vhostx_net_handle_rx_kick(struct vhostx_work *work);
void vhostx_net_handle_rx_sock(struct vhostx_work *work);

/* zerocopy.c: module parameters */
extern bool vhostx_net_zcopytx;
extern unsigned int vhostx_net_zcopy_min_len;

#endif /* _VHOSTX_NET_H */
