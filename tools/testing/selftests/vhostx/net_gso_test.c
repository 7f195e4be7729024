// SPDX-License-Identifier: GPL-2.0
/*
 * net_gso_test: virtio-net GSO headers pass through the device untouched.
 * A TCPv4 GSO packet from the guest reaches the tap's interface as one GSO
 * skb (seen by a capture socket with PACKET_VNET_HDR), and a GSO packet
 * sent to a tap with TSO offloads reaches the guest as one buffer with its
 * GSO header.  Headers that need correcting or refusing (tx_header_corrections)
 * cost the guest that packet only.
 */
#include <netinet/ip.h>
#include <netinet/tcp.h>

#include "kselftest_harness.h"
#include "vx_common.h"
#include "net_common.h"

#define RING	64
#define HLEN	12
#define MSS	1000
#define PAYLOAD	3000
#define L2L3L4	(14 + 20 + 20)
#define FRAME	(L2L3L4 + PAYLOAD)

/* n.pkt: a capture socket for IPv4 with virtio-net headers (below). */
FIXTURE(gso) {
	struct net_fx n;
};

static int gso_capture_socket(const char *ifname)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_IP),
		.sll_ifindex = (int)if_nametoindex(ifname),
	};
	int one = 1, s;

	s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_IP));
	if (s < 0)
		return -errno;
	if (setsockopt(s, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)) ||
	    bind(s, (struct sockaddr *)&sll, sizeof(sll))) {
		close(s);
		return -errno;
	}
	return s;
}

FIXTURE_SETUP(gso)
{
	unsigned int off = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;

	net_fx_init(&self->n);
	NET_REQUIRE_DEV();
	self->n.tap = vg_tap_open(self->n.ifname, HLEN, 0);
	ASSERT_LE(0, self->n.tap);
	ASSERT_EQ(0, ioctl(self->n.tap, TUNSETOFFLOAD, off));
	self->n.pkt = gso_capture_socket(self->n.ifname);
	ASSERT_LE(0, self->n.pkt);
	ASSERT_EQ(0, net_fx_dev(&self->n, VG_F(VIRTIO_F_VERSION_1), RING));
}

FIXTURE_TEARDOWN(gso)
{
	net_fx_teardown(&self->n);
}

static uint16_t gso_csum(const void *p, size_t len)
{
	const uint16_t *w = p;
	uint32_t sum = 0;

	while (len > 1) {
		sum += *w++;
		len -= 2;
	}
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* A TCPv4 frame of FRAME bytes: eth + ip + tcp + patterned payload. */
static void gso_make_tcp(uint8_t *f, unsigned int seed)
{
	struct iphdr *ip = (void *)(f + 14);
	struct tcphdr *th = (void *)(f + 34);

	memset(f, 0, L2L3L4);
	memcpy(f, "\x02\x00\x00\x00\x00\x02", 6);
	memcpy(f + 6, "\x02\x00\x00\x00\x00\x01", 6);
	f[12] = 0x08;
	f[13] = 0x00;
	ip->version = 4;
	ip->ihl = 5;
	ip->ttl = 64;
	ip->protocol = IPPROTO_TCP;
	ip->tot_len = htons(FRAME - 14);
	ip->saddr = htonl(0x0a000001);
	ip->daddr = htonl(0x0a000002);
	ip->check = gso_csum(ip, 20);
	th->source = htons(1234);
	th->dest = htons(5678);
	th->seq = htonl(1);
	th->doff = 5;
	th->ack = 1;
	th->window = htons(65535);
	vg_fill(f + L2L3L4, PAYLOAD, seed);
}

static void gso_make_hdr(struct virtio_net_hdr *h)
{
	memset(h, 0, sizeof(*h));
	h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h->gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	h->hdr_len = L2L3L4;
	h->gso_size = MSS;
	h->csum_start = 34;
	h->csum_offset = 16;
}

/* Guest GSO packet -> one GSO skb on the tap's interface. */
VX_TEST_F(gso, tx_tcpv4)
{
	uint8_t *b = vg_alloc(&self->n.d, HLEN + FRAME, 64);
	uint8_t *cap = malloc(65536);
	struct virtio_net_hdr *vh = (void *)cap;
	int tries;

	ASSERT_NE(NULL, cap);
	memset(b, 0, HLEN);
	gso_make_hdr((void *)b);
	gso_make_tcp(b + HLEN, 5);
	ASSERT_LE(0, vg_vq_add_buf(&self->n.tx, b, HLEN + FRAME, NULL, 0, b));
	vg_vq_kick(&self->n.tx);
	ASSERT_LE(0, net_wait_used(&self->n.tx, NULL, NULL, VX_TIMEOUT_MS));

	for (tries = 0; tries < 16; tries++) {
		ssize_t n = vg_frame_capture(self->n.pkt, cap, 65536, VX_TIMEOUT_MS);

		ASSERT_LT(0, n) TH_LOG("GSO frame not seen on the tap");
		if (n != (ssize_t)(sizeof(*vh) + FRAME))
			continue;
		ASSERT_EQ(VIRTIO_NET_HDR_GSO_TCPV4, vh->gso_type);
		ASSERT_EQ(MSS, vh->gso_size);
		ASSERT_EQ(0, memcmp(cap + sizeof(*vh), b + HLEN, L2L3L4));
		ASSERT_EQ(-1, vg_check(cap + sizeof(*vh) + L2L3L4, PAYLOAD,
				       5, 0));
		break;
	}
	ASSERT_GT(16, tries);
	free(cap);
}

/* A GSO packet sent to a TSO-capable tap reaches the guest unsegmented. */
VX_TEST_F(gso, rx_tcpv4)
{
	struct sockaddr_ll to = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_IP),
		.sll_ifindex = (int)if_nametoindex(self->n.ifname),
		.sll_halen = 6,
	};
	uint8_t *msg = malloc(sizeof(struct virtio_net_hdr) + FRAME);
	const struct virtio_net_hdr_mrg_rxbuf *h;
	uint8_t *b = vg_alloc(&self->n.d, 65536, 64);
	uint32_t len;
	void *c;

	ASSERT_NE(NULL, msg);
	ASSERT_LE(0, vg_vq_add_buf(&self->n.rx, NULL, 0, b, 65536, b));
	vg_vq_kick(&self->n.rx);
	gso_make_hdr((void *)msg);
	gso_make_tcp(msg + sizeof(struct virtio_net_hdr), 6);
	ASSERT_EQ((ssize_t)(sizeof(struct virtio_net_hdr) + FRAME),
		  sendto(self->n.pkt, msg, sizeof(struct virtio_net_hdr) + FRAME,
			 0, (struct sockaddr *)&to, sizeof(to)));
	ASSERT_LE(0, net_wait_used(&self->n.rx, &len, &c, VX_TIMEOUT_MS));
	h = c;
	ASSERT_EQ(HLEN + FRAME, len)
		TH_LOG("got %u bytes, gso_type %u", len, h->hdr.gso_type);
	ASSERT_EQ(VIRTIO_NET_HDR_GSO_TCPV4, h->hdr.gso_type & 0x7f);
	ASSERT_EQ(MSS, h->hdr.gso_size);
	if (!net_dev_is_upstream())
		ASSERT_EQ(1, h->num_buffers);
	ASSERT_EQ(-1, vg_check(b + HLEN + L2L3L4, PAYLOAD, 6, 0));
	free(msg);
}

/*
 * TX headers the device or tap must correct or refuse.  Each bad packet is
 * followed by a good one; the good one must reach the tap (the first test
 * frame seen, unless the bad one may pass), the bad one's buffer must come
 * back, and nothing may stop the queue.  Frames fit a page: they take the
 * batched path, whose header checks (vhostx_net_tx_build_xdp()) correct a
 * hdr_len short of the checksum field and refuse one past the frame; a
 * refused packet goes the plain way to tap, which refuses it too (counted
 * in "drops").  What tap alone judges (GSO type and size) it drops or
 * passes itself.
 */
/* Past the packet, header and frame (both device and tap refuse it). */
#define PAST	(HLEN + FRAME + 1)

enum gso_fate {
	GSO_DELIVERED,		/* on the tap, as sent */
	GSO_DROPPED,		/* refused, counted in "drops" */
	GSO_TAP_DECIDES,	/* tap's business: only the good one checked */
};

static const struct {
	const char *what;
	uint8_t flags, gso_type;
	uint16_t hdr_len, gso_size, csum_start, csum_offset;
	enum gso_fate fate;
} gso_bad[] = {
	{ "hdr_len 0, checksum needed", VIRTIO_NET_HDR_F_NEEDS_CSUM,
	  VIRTIO_NET_HDR_GSO_NONE, 0, 0, 34, 16, GSO_DELIVERED },
	{ "GSO hdr_len short of the checksum field",
	  VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, 20, MSS, 34,
	  16, GSO_DELIVERED },
	{ "csum_start past the frame", VIRTIO_NET_HDR_F_NEEDS_CSUM,
	  VIRTIO_NET_HDR_GSO_NONE, 0, 0, PAST, 0, GSO_DROPPED },
	{ "csum_offset past the frame", VIRTIO_NET_HDR_F_NEEDS_CSUM,
	  VIRTIO_NET_HDR_GSO_NONE, 0, 0, 34, PAST, GSO_DROPPED },
	{ "GSO hdr_len past the frame", VIRTIO_NET_HDR_F_NEEDS_CSUM,
	  VIRTIO_NET_HDR_GSO_TCPV4, PAST, MSS, 34, 16, GSO_DROPPED },
	{ "hdr_len past the frame, no checksum", 0,
	  VIRTIO_NET_HDR_GSO_TCPV4, PAST, MSS, 0, 0, GSO_TAP_DECIDES },
	{ "GSO with gso_size 0", VIRTIO_NET_HDR_F_NEEDS_CSUM,
	  VIRTIO_NET_HDR_GSO_TCPV4, L2L3L4, 0, 34, 16, GSO_TAP_DECIDES },
	{ "unknown GSO type", VIRTIO_NET_HDR_F_NEEDS_CSUM, 7, L2L3L4, MSS, 34,
	  16, GSO_TAP_DECIDES },
};

/* Queue header @h + a TCP frame of payload @seed; wait for its buffer. */
static void gso_send(struct __test_metadata *_metadata, struct net_fx *n,
		     const struct virtio_net_hdr *h, unsigned int seed)
{
	uint8_t *b = vg_alloc(&n->d, HLEN + FRAME, 64);

	ASSERT_NE(NULL, b);
	memset(b, 0, HLEN);
	memcpy(b, h, sizeof(*h));
	gso_make_tcp(b + HLEN, seed);
	ASSERT_LE(0, vg_vq_add_buf(&n->tx, b, HLEN + FRAME, NULL, 0, b));
	vg_vq_kick(&n->tx);
	ASSERT_LE(0, net_wait_used(&n->tx, NULL, NULL, VX_TIMEOUT_MS));
}

/* The next test frame on the tap: the payload seed it carries, or -1. */
static int gso_next_seed(int pkt, uint8_t *cap, unsigned int lo,
			 unsigned int hi)
{
	int tries;

	for (tries = 0; tries < 16; tries++) {
		ssize_t n = vg_frame_capture(pkt, cap, 65536, VX_TIMEOUT_MS);
		unsigned int seed;

		if (n <= 0)
			return -1;
		if (n != (ssize_t)(sizeof(struct virtio_net_hdr) + FRAME))
			continue;
		for (seed = lo; seed <= hi; seed++)
			if (vg_check(cap + sizeof(struct virtio_net_hdr) +
				     L2L3L4, PAYLOAD, seed, 0) < 0)
				return (int)seed;
	}
	return -1;
}

VX_TEST_F(gso, tx_header_corrections)
{
	uint8_t *cap = malloc(65536);
	unsigned int i;

	ASSERT_NE(NULL, cap);
	for (i = 0; i < sizeof(gso_bad) / sizeof(gso_bad[0]); i++) {
		struct virtio_net_hdr h = {
			.flags = gso_bad[i].flags,
			.gso_type = gso_bad[i].gso_type,
			.hdr_len = gso_bad[i].hdr_len,
			.gso_size = gso_bad[i].gso_size,
			.csum_start = gso_bad[i].csum_start,
			.csum_offset = gso_bad[i].csum_offset,
		}, good;
		unsigned int bad_seed = 100 + 2 * i, good_seed = bad_seed + 1;
		uint64_t drops0 = NET_COUNTER(&self->n, 1, "drops");
		int seen;

		gso_make_hdr(&good);
		gso_send(_metadata, &self->n, &h, bad_seed);
		gso_send(_metadata, &self->n, &good, good_seed);
		seen = gso_next_seed(self->n.pkt, cap, bad_seed, good_seed);
		switch (gso_bad[i].fate) {
		case GSO_DELIVERED:
			ASSERT_EQ(bad_seed, seen) TH_LOG("%s: not delivered",
							 gso_bad[i].what);
			seen = gso_next_seed(self->n.pkt, cap, bad_seed,
					     good_seed);
			break;
		case GSO_DROPPED:
			if (!net_dev_is_upstream())
				ASSERT_LT(drops0, NET_COUNTER(&self->n, 1, "drops"))
					TH_LOG("%s: drop not counted",
					       gso_bad[i].what);
			break;
		case GSO_TAP_DECIDES:
			if (seen == (int)bad_seed)
				seen = gso_next_seed(self->n.pkt, cap, bad_seed,
						     good_seed);
			break;
		}
		ASSERT_EQ(good_seed, seen) TH_LOG("%s: the next packet lost",
						  gso_bad[i].what);
		if (!net_dev_is_upstream())
			ASSERT_EQ(0, NET_COUNTER(&self->n, 1, "errors"));
	}
	free(cap);
}

/*
 * A TX buffer shorter than the header tap expects (the device passes the
 * header on, VHOST_NET_F_VIRTIO_NET_HDR not negotiated): the batched path
 * refuses it, tap too; dropped and counted, its buffer back, the next
 * packet goes out.
 */
VX_TEST_F(gso, tx_shorter_than_header)
{
	uint64_t drops0 = NET_COUNTER(&self->n, 1, "drops");
	uint8_t *b = vg_alloc(&self->n.d, HLEN, 64), *cap = malloc(65536);
	struct virtio_net_hdr good;

	ASSERT_NE(NULL, b);
	ASSERT_NE(NULL, cap);
	memset(b, 0, HLEN);
	ASSERT_LE(0, vg_vq_add_buf(&self->n.tx, b, HLEN / 2, NULL, 0, b));
	vg_vq_kick(&self->n.tx);
	ASSERT_LE(0, net_wait_used(&self->n.tx, NULL, NULL, VX_TIMEOUT_MS));
	if (!net_dev_is_upstream()) {
		ASSERT_LT(drops0, NET_COUNTER(&self->n, 1, "drops"));
		ASSERT_EQ(0, NET_COUNTER(&self->n, 1, "errors"));
	}
	gso_make_hdr(&good);
	gso_send(_metadata, &self->n, &good, 50);
	ASSERT_EQ(50, gso_next_seed(self->n.pkt, cap, 50, 50));
	free(cap);
}

VX_HARNESS_MAIN
