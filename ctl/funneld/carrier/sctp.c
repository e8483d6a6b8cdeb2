// SPDX-License-Identifier: GPL-2.0
/*
 * SCTP carriers (Documentation/wire-format.md section 2): native SCTP
 * and SCTP over UDP (RFC 6951), one-to-one style sockets.  SCTP keeps
 * message boundaries: one frame is one SCTP message, with no preamble
 * and no length prefix.  CTRL frames travel on SCTP stream 0, ordered;
 * DATA and FLOW_END on the SCTP stream of their header, unordered when
 * the frame carries U, and DATA of unordered streams with the stream's
 * PR-SCTP lifetime (RFC 3758).  An association starts with
 * SCTP_INIT_STREAMS streams each way and grows with RFC 6525 add-streams
 * when a map needs a higher stream id.
 *
 * On the kernel path funnel.ko reads and writes the socket: funneld sends
 * and receives one whole frame per call, as on TCP, and funnel.ko picks
 * the SCTP stream and the ordering.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <netinet/in.h>
#include <netinet/sctp.h>
#include <sys/socket.h>

#include <linux/funnel.h>

#include "funneld/carrier/priv.h"
#include "funneld/log.h"

#define SCTP_RX_BATCH		16	/* reads per wakeup */
#define SCTP_INIT_STREAMS	32	/* each way, stream 0 included */
#define SCTP_ADD_STEP		32	/* streams added at a time, at least */
#define SCTP_ADD_WAIT_MS	3000	/* for the peer to answer add-streams */
/* Timers of the association: a lost datagram is sent again well within
 * its lifetime, and a dead path is noticed in a second, not minutes.
 *
 * A request whose datagram is lost and that nothing follows (one
 * request outstanding, as a DNS query or sockperf's ping-pong) is sent
 * again only at the RTO (RFC 4960 6.3.1/RFC 9260 6.3.1: SRTT + 4 RTTVAR,
 * not below RTO.Min), so the RTO is the tail latency under loss.  Two
 * choices keep it short where the round trip is short:
 *
 * - A SACK goes out at once for every packet (sack_freq 1: no delayed
 *   SACK).  Then every RTT sample is the path's round trip; a SACK held
 *   back for a second packet, for the reply or for the SACK timer adds
 *   up to that delay to samples now and then.  Linux keeps SRTT and
 *   RTTVAR in jiffies (4 ms at HZ 250) and RTTVAR -= RTTVAR >> 2 cannot
 *   fall below 3 jiffies once there: a few samples inflated by 4 jiffies
 *   or more hold the RTO at SRTT + 12 jiffies (48 ms and more) for the
 *   rest of the association, whatever RTO.Min is (/proc/net/sctp/remaddr
 *   showed 13-15 jiffies with SACKs delayed 20 or 5 ms; 5 with
 *   immediate ones).  With immediate SACKs RTTVAR stays about a jiffy
 *   and the RTO is SRTT + 4 jiffies, and RTO.Min binds.  The cost: one
 *   SACK packet for each packet of a one-way stream instead of one for
 *   two (bench/udp-paths.sh, SCTP one-way: see
 *   Documentation/operations.md).
 *
 * - RTO.Min is 20 ms, a tenth of TCP's 200 ms.  RFC 4960 recommends 1 s
 *   for the Internet at large; TCP's 200 ms floor is there to cover the
 *   peer's delayed ACK (up to 200 ms), which does not exist here, and
 *   QUIC (RFC 9002 6.2) has no floor beyond a 1 ms granularity.  On a
 *   path whose round trip is longer or varies, SRTT + 4 RTTVAR is above
 *   the floor and grows with the path: the floor decides only on short
 *   paths, where a needless retransmission costs one duplicate datagram
 *   (dropped by its TSN) and a congestion window reset.  The RTO doubles on
 *   each expiry up to RTO.Max: a path that stops answering is marked
 *   down after 4 expiries in a row, 0.3 s from a 20 ms RTO (0.75 s from
 *   50 ms), which matters only with a second path to fail over to.
 *
 * bench/loss.sh, ping-pong at 1% loss each way, TCG guest, 6.12: p99
 * 25 ms over SCTP with these values against 56-62 ms with a 50 ms floor
 * and SACKs delayed 20 ms, and 209 ms over TCP (tail loss probe, 200 ms).
 */
#define SCTP_RTO_INITIAL_MS	1000
#define SCTP_RTO_MIN_MS		20
#define SCTP_RTO_MAX_MS		3000
#define SCTP_HB_INTERVAL_MS	1000
#define SCTP_PATH_MAX_RETRANS	3
#define SCTP_SACK_FREQ		1	/* a SACK for every packet, at once */
/* how long a SACK may wait when FUNNELD_SCTP_SACK_FREQ asks for delayed
 * SACKs (measurements only): well below the lowest RTO (the default,
 * 200 ms, would have a datagram answered by nothing sent again for
 * nothing)
 */
#define SCTP_SACK_DELAY_MS	20

/* The number in environment variable NAME when it is one from LO to HI,
 * else DEF: the timers can be changed for measurements (bench/loss.sh),
 * not by configuration (funneld(8), ENVIRONMENT)
 */
static uint32_t sctp_env(const char *name, uint32_t def, uint32_t lo,
			 uint32_t hi)
{
	const char *e = getenv(name);
	char *end;
	unsigned long v;

	if (!e || !*e)
		return def;
	errno = 0;
	v = strtoul(e, &end, 10);
	return errno || *end || v < lo || v > hi ? def : (uint32_t)v;
}

/* Options every carrier socket needs before connect() or listen(). */
int car_sctp_sockopts(int fd, bool udp_encap, uint16_t udp_port, char *err,
		      size_t errlen)
{
	struct sctp_initmsg init = {
		.sinit_num_ostreams = SCTP_INIT_STREAMS,
		/* what a peer may ask for before it is authenticated: more
		 * come with add-streams, which needs no higher value here
		 */
		.sinit_max_instreams = SCTP_INIT_STREAMS,
	};
	struct sctp_assoc_value pr = { .assoc_id = SCTP_FUTURE_ASSOC,
				       .assoc_value = 1 };
	struct sctp_assoc_value sched = { .assoc_id = SCTP_FUTURE_ASSOC,
					  .assoc_value = SCTP_SS_RR };
	/* RFC 6525 offered in INIT; add-streams itself is enabled on an
	 * association only once its peer authenticated (sctp_authenticated)
	 */
	struct sctp_assoc_value reconf = { .assoc_id = SCTP_FUTURE_ASSOC,
					   .assoc_value = 1 };
	struct sctp_assoc_value strreset = { .assoc_id = SCTP_FUTURE_ASSOC,
					     .assoc_value = 0 };
	struct sctp_rtoinfo rto = {
		.srto_initial = SCTP_RTO_INITIAL_MS,
		.srto_max = SCTP_RTO_MAX_MS,
		.srto_min = sctp_env("FUNNELD_SCTP_RTO_MIN_MS",
				     SCTP_RTO_MIN_MS, 1, SCTP_RTO_MAX_MS),
	};
	struct sctp_paddrparams pp = {
		.spp_hbinterval = SCTP_HB_INTERVAL_MS,
		.spp_pathmaxrxt = SCTP_PATH_MAX_RETRANS,
		.spp_flags = SPP_HB_ENABLE,
	};
	struct sctp_sack_info sack = { .sack_assoc_id = SCTP_FUTURE_ASSOC,
				       .sack_delay = sctp_env(
					"FUNNELD_SCTP_SACK_DELAY_MS",
					SCTP_SACK_DELAY_MS, 1, 500),
				       .sack_freq = sctp_env(
					"FUNNELD_SCTP_SACK_FREQ", SCTP_SACK_FREQ, 1,
					16) };
	/* path changes (logged); a restart of the association (the
	 * carrier fails); a partial delivery aborted by PR-SCTP (the
	 * message in parts is dropped): the user path reads them, funnel.ko
	 * subscribes what it needs itself
	 */
	static const uint16_t events[] = { SCTP_PEER_ADDR_CHANGE,
					   SCTP_ASSOC_CHANGE,
					   SCTP_PARTIAL_DELIVERY_EVENT };
	int one = 1;
	const char *what;

	if (setsockopt(fd, IPPROTO_SCTP, SCTP_INITMSG, &init, sizeof(init))) {
		what = "SCTP_INITMSG";
		goto fail;
	}
	if (setsockopt(fd, IPPROTO_SCTP, SCTP_RECONFIG_SUPPORTED, &reconf,
		       sizeof(reconf)) ||
	    setsockopt(fd, IPPROTO_SCTP, SCTP_ENABLE_STREAM_RESET, &strreset,
		       sizeof(strreset))) {
		what = "stream reconfiguration (RFC 6525)";
		goto fail;
	}
	if (setsockopt(fd, IPPROTO_SCTP, SCTP_RTOINFO, &rto, sizeof(rto)) ||
	    setsockopt(fd, IPPROTO_SCTP, SCTP_DELAYED_SACK, &sack,
		       sizeof(sack)) ||
	    setsockopt(fd, IPPROTO_SCTP, SCTP_PEER_ADDR_PARAMS, &pp,
		       sizeof(pp))) {
		what = "SCTP timers";
		goto fail;
	}
	if (setsockopt(fd, IPPROTO_SCTP, SCTP_PR_SUPPORTED, &pr, sizeof(pr))) {
		what = "PR-SCTP (RFC 3758)";
		goto fail;
	}
	/* streams take turns on the wire: a bulk TCP service does not
	 * hold the datagrams of the others behind it (best effort)
	 */
	setsockopt(fd, IPPROTO_SCTP, SCTP_STREAM_SCHEDULER, &sched,
		   sizeof(sched));
	if (setsockopt(fd, IPPROTO_SCTP, SCTP_NODELAY, &one, sizeof(one)) ||
	    setsockopt(fd, IPPROTO_SCTP, SCTP_RECVRCVINFO, &one, sizeof(one))) {
		what = "SCTP socket options";
		goto fail;
	}
	for (size_t i = 0; i < sizeof(events) / sizeof(events[0]); i++) {
		struct sctp_event ev = { .se_assoc_id = SCTP_FUTURE_ASSOC,
					 .se_type = events[i], .se_on = 1 };

		if (setsockopt(fd, IPPROTO_SCTP, SCTP_EVENT, &ev, sizeof(ev))) {
			what = "SCTP_EVENT";
			goto fail;
		}
	}
	if (udp_encap) {
		struct sctp_udpencaps ue = { .sue_assoc_id = SCTP_FUTURE_ASSOC,
					     .sue_port = htons(udp_port) };

		if (setsockopt(fd, IPPROTO_SCTP, SCTP_REMOTE_UDP_ENCAPS_PORT,
			       &ue, sizeof(ue))) {
			what = "SCTP_REMOTE_UDP_ENCAPS_PORT (Linux 5.11 or later)";
			goto fail;
		}
	}
	return 0;
fail:
	snprintf(err, errlen, "%s: %s", what, strerror(errno));
	return -1;
}

/*
 * The UDP port an outgoing SCTP over UDP carrier sends to: the peer's
 * udp-port clause, else this end's own net.sctp.udp_port (both ends on
 * the same port, 9899 by default).  0: SCTP over UDP is off here.
 */
uint16_t car_sctp_udp_remote_port(const struct carrier *c)
{
	if (!c->d->sctp_udp_port)
		return 0;
	if (c->peer && c->peer->s.udp_port)
		return c->peer->s.udp_port;
	return c->d->sctp_udp_port;
}

/*
 * Before connect(): the association to be made takes the socket's
 * encapsulation port (SCTP_FUTURE_ASSOC on a one-to-one socket; the
 * kernel takes any value, 0 being "no encapsulation"), which it keeps
 * for every path.  The local port is net.sctp.udp_port, per netns.
 */
static int sctp_prepare(struct carrier *c, char *err, size_t errlen)
{
	bool encap = c->ops == &carrier_sctp_udp_ops;

	if (encap && !c->d->sctp_udp_port) {
		snprintf(err, errlen, "%s", c->d->sctp_udp_why);
		return -1;
	}
	return car_sctp_sockopts(c->fd, encap, car_sctp_udp_remote_port(c),
				 err, errlen);
}

static int sctp_connected(struct carrier *c, char *err, size_t errlen)
{
	(void)c;
	(void)err;
	(void)errlen;
	return 0;		/* no preamble: the association is the start */
}

static void sctp_setup(struct carrier *c)
{
	(void)c;		/* every option was set before connect/listen */
}

/*
 * The peer authenticated: the association may now grow by add-streams
 * (RFC 6525), asked by either end.  Not before: SCTP takes an
 * add-streams request whenever SCTP_ENABLE_CHANGE_ASSOC_REQ is on and
 * allocates state for up to 65535 streams each way (about 2.9 MB,
 * GFP_ATOMIC, charged to no one), which an unauthenticated peer could
 * have held for the handshake's time on every association it opened.
 * Until now the association has what INIT gave it: SCTP_INIT_STREAMS
 * each way at most (sinit_max_instreams bounds the peer's). Called
 * before this end's HELLO: the peer asks for streams only after that
 * HELLO, so this end takes them by then (a one-to-one socket: the
 * option reaches the association whatever the id).
 */
static int sctp_authenticated(struct carrier *c, char *err, size_t errlen)
{
	struct sctp_assoc_value strreset = {
		.assoc_value = SCTP_ENABLE_CHANGE_ASSOC_REQ,
	};
	struct sctp_status ss = { 0 };
	socklen_t len = sizeof(ss);

	if (getsockopt(c->fd, IPPROTO_SCTP, SCTP_STATUS, &ss, &len)) {
		snprintf(err, errlen, "SCTP_STATUS: %s", strerror(errno));
		return -1;
	}
	if (ss.sstat_instrms > SCTP_INIT_STREAMS ||
	    ss.sstat_outstrms > SCTP_INIT_STREAMS) {
		snprintf(err, errlen, "the SCTP association has %u/%u streams before authentication (at most %u)",
			 ss.sstat_instrms, ss.sstat_outstrms,
			 SCTP_INIT_STREAMS);
		return -1;
	}
	strreset.assoc_id = ss.sstat_assoc_id;
	if (setsockopt(c->fd, IPPROTO_SCTP, SCTP_ENABLE_STREAM_RESET,
		       &strreset, sizeof(strreset))) {
		snprintf(err, errlen, "SCTP_ENABLE_STREAM_RESET: %s",
			 strerror(errno));
		return -1;
	}
	return 0;
}

static int sctp_kernel_attach(struct carrier *c)
{
	/* funnel.ko takes the socket itself at carrier-new */
	return kpath_has_sctp(&c->d->kp) ? 0 : -EPROTONOSUPPORT;
}

/*
 * Is an SCTP message of sid a well-placed frame?  CTRL on stream 0,
 * DATA and FLOW_END on their own stream.
 */
static bool sctp_frame_placed(const uint8_t *buf, size_t len, uint16_t sid)
{
	uint16_t stream;

	if (len < FUNNEL_HDR_LEN)
		return false;
	stream = (uint16_t)(buf[0] << 8 | buf[1]);
	if (buf[2] == FUNNEL_T_CTRL)
		return sid == FUNNEL_CTRL_STREAM;
	return sid == stream;
}

static void sctp_paddr_change(struct carrier *c, const uint8_t *buf,
			      size_t len)
{
	struct sctp_paddr_change pc;
	struct sockaddr_storage ss;
	char addr[64];

	if (len < sizeof(pc))
		return;
	memcpy(&pc, buf, sizeof(pc));
	memcpy(&ss, buf + offsetof(struct sctp_paddr_change, spc_aaddr),
	       sizeof(ss));
	addr_format(&ss, addr, sizeof(addr));
	/* an incoming peer names its addresses itself, before it is
	 * authenticated: its path changes are not worth more than debug
	 */
	switch (pc.spc_state) {
	case SCTP_ADDR_UNREACHABLE:
		logmsg(c->peer ? LOG_WARNING : LOG_DEBUG,
		       "%s: SCTP path to %s unreachable", carrier_name(c),
		       addr);
		break;
	case SCTP_ADDR_AVAILABLE:
		logmsg(c->peer ? LOG_INFO : LOG_DEBUG,
		       "%s: SCTP path to %s available", carrier_name(c), addr);
		break;
	case SCTP_ADDR_MADE_PRIM:
		logmsg(c->peer ? LOG_INFO : LOG_DEBUG,
		       "%s: SCTP primary path now %s", carrier_name(c), addr);
		break;
	default:
		break;
	}
}

/*
 * A message in parts will not go on (partial delivery aborted, or a part
 * of another stream came): its head is dropped and counted as abandoned
 * (a loss, the peer's PR-SCTP, not a malformed frame), as funnel.ko
 * counts it.
 */
static void sctp_gave_up(struct carrier *c, const char *why)
{
	FST(&c->st, RX_ABANDONED)++;
	log_debug("%s: an SCTP message in parts given up: %s",
		  carrier_name(c), why);
}

/* 0, or -1 after carrier_fail() */
static int sctp_notification(struct carrier *c, const uint8_t *buf,
			     size_t len)
{
	uint16_t type;

	if (len < sizeof(type))
		return 0;
	memcpy(&type, buf, sizeof(type));
	switch (type) {
	case SCTP_PEER_ADDR_CHANGE:
		sctp_paddr_change(c, buf, len);
		break;
	case SCTP_ASSOC_CHANGE: {
		struct sctp_assoc_change ac;

		if (len < offsetof(struct sctp_assoc_change, sac_info))
			break;
		memcpy(&ac, buf, offsetof(struct sctp_assoc_change, sac_info));
		/* the peer's endpoint started again from the same
		 * addresses and port (RFC 9260 5.2.4.1): SCTP kept the
		 * association but dropped what was queued and in parts
		 * and reset the stream sequence numbers and counts; the
		 * carrier's state (keys, streams) is the old peer's.
		 * COMM_LOST and SHUTDOWN_COMP: the read that follows
		 * says how it ended.
		 */
		if (ac.sac_state == SCTP_RESTART) {
			carrier_fail(c, "the peer restarted the SCTP association (SCTP_RESTART): the carrier's state is gone with it");
			return -1;
		}
		break;
	}
	case SCTP_PARTIAL_DELIVERY_EVENT: {
		struct sctp_pdapi_event pd;

		if (len < sizeof(pd))
			break;
		memcpy(&pd, buf, sizeof(pd));
		/* PR-SCTP abandoned the rest (FORWARD-TSN): the next
		 * part of this stream starts another message
		 */
		if (pd.pdapi_indication == SCTP_PARTIAL_DELIVERY_ABORTED &&
		    sctprx_abort(&c->srx))
			sctp_gave_up(c, "partial delivery aborted");
		break;
	}
	default:
		break;
	}
	return 0;
}

/* User path: one message a frame, its parts joined until MSG_EOR. */
static void sctp_read_user(struct carrier *c)
{
	for (int i = 0; i < SCTP_RX_BATCH && c->fd >= 0; i++) {
		union {
			char buf[CMSG_SPACE(sizeof(struct sctp_rcvinfo))];
			struct cmsghdr align;
		} cb;
		struct iovec iov = {
			.iov_base = c->rbuf + c->srx.len,
			.iov_len = FUNNEL_DEFRAMER_BUFSZ - c->srx.len,
		};
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
				     .msg_control = cb.buf,
				     .msg_controllen = sizeof(cb.buf) };
		struct sctp_rcvinfo ri = { 0 };
		struct cmsghdr *cm;
		ssize_t n = recvmsg(c->fd, &mh, MSG_DONTWAIT);
		bool gaveup;
		size_t len;

		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				carrier_fail(c, "recv: %s", strerror(errno));
			return;
		}
		if (n == 0) {
			carrier_fail(c, "closed by the peer%s",
				     c->srx.len ? " in the middle of a frame" : "");
			return;
		}
		for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
			if (cm->cmsg_level == IPPROTO_SCTP &&
			    cm->cmsg_type == SCTP_RCVINFO &&
			    cm->cmsg_len >= CMSG_LEN(sizeof(ri)))
				memcpy(&ri, CMSG_DATA(cm), sizeof(ri));
		switch (sctprx_part(&c->srx, c->rbuf, FUNNEL_DEFRAMER_BUFSZ,
				    (size_t)n, mh.msg_flags & MSG_EOR,
				    mh.msg_flags & MSG_NOTIFICATION,
				    ri.rcv_sid, &len, &gaveup)) {
		case SCTPRX_MORE:
			if (gaveup)
				sctp_gave_up(c, "a part of another stream came");
			continue;
		case SCTPRX_OVERSIZE:
			carrier_fail(c, "oversize frame (an SCTP message over %u bytes)",
				     FUNNEL_MAX_FRAME);
			return;
		case SCTPRX_NOTE:
			if (sctp_notification(c, c->srx.note, len))
				return;
			continue;
		case SCTPRX_FRAME:
			break;
		}
		if (gaveup)
			sctp_gave_up(c, "a part of another stream came");
		if (len > FUNNEL_MAX_FRAME) {
			carrier_fail(c, "oversize frame (an SCTP message over %u bytes)",
				     FUNNEL_MAX_FRAME);
			return;
		}
		if (!sctp_frame_placed(c->rbuf, len, ri.rcv_sid)) {
			FST(&c->st, RX_FRAMES)++;
			FST(&c->st, RX_BYTES) += len;
			FST(&c->st, RX_DROP_MALFORMED)++;
			continue;
		}
		carrier_frame(c, c->rbuf, len);
	}
}

static void sctp_read(struct carrier *c)
{
	if (c->kernel)
		car_read_kernel(c);
	else
		sctp_read_user(c);
}

/* The stream's PR-SCTP lifetime, for a DATA frame of an unordered stream. */
static uint32_t sctp_lifetime(struct carrier *c, const uint8_t *frame)
{
	struct cstream *cs;

	if (frame[2] != FUNNEL_T_DATA || !(frame[3] & FUNNEL_F_UNORDERED))
		return 0;
	cs = cs_find(c, (uint16_t)(frame[0] << 8 | frame[1]));
	return cs ? cs->lifetime_ms : 0;
}

/* User path: one frame as one SCTP message.  0, or -errno. */
static int sctp_send_frame(struct carrier *c, const uint8_t *frame,
			   size_t flen)
{
	union {
		char buf[CMSG_SPACE(sizeof(struct sctp_sndinfo)) +
			 CMSG_SPACE(sizeof(struct sctp_prinfo))];
		struct cmsghdr align;
	} cb;
	struct iovec iov = { .iov_base = (void *)frame, .iov_len = flen };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = cb.buf,
			     .msg_controllen = CMSG_SPACE(sizeof(struct sctp_sndinfo)) };
	struct sctp_sndinfo si = { 0 };
	struct cmsghdr *cm;
	uint32_t ttl = sctp_lifetime(c, frame);

	memset(&cb, 0, sizeof(cb));
	if (frame[2] != FUNNEL_T_CTRL) {
		si.snd_sid = (uint16_t)(frame[0] << 8 | frame[1]);
		if (frame[3] & FUNNEL_F_UNORDERED)
			si.snd_flags = SCTP_UNORDERED;
	}
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = IPPROTO_SCTP;
	cm->cmsg_type = SCTP_SNDINFO;
	cm->cmsg_len = CMSG_LEN(sizeof(si));
	memcpy(CMSG_DATA(cm), &si, sizeof(si));
	if (ttl) {
		struct sctp_prinfo pi = { .pr_policy = SCTP_PR_SCTP_TTL,
					  .pr_value = ttl };

		mh.msg_controllen = sizeof(cb.buf);
		cm = CMSG_NXTHDR(&mh, cm);
		cm->cmsg_level = IPPROTO_SCTP;
		cm->cmsg_type = SCTP_PRINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
	}
	if (sendmsg(c->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		return errno == EWOULDBLOCK || errno == EINTR ? -EAGAIN : -errno;
	return 0;
}

/* User path: each queued frame is one SCTP message. */
static int sctp_write_user(struct carrier *c)
{
	while (c->ooff < c->olen) {
		uint8_t *p = c->obuf + c->ooff;
		size_t flen = (size_t)p[0] << 8 | p[1];
		int ret = sctp_send_frame(c, p + FUNNEL_LEN_PREFIX, flen);

		if (ret == -EAGAIN)
			return 0;
		if (ret)
			return ret;
		c->ooff += flen + FUNNEL_LEN_PREFIX;
	}
	return 0;
}

/*
 * User path, a datagram of an unordered stream: to the kernel now, so
 * that its PR-SCTP lifetime counts from when it was sent and it waits
 * behind nothing in funneld's queue.  When the socket is full (-EAGAIN)
 * the caller queues it after all (carrier.c), where its lifetime counts
 * only from when it is written: late rather than lost.
 */
static int sctp_send_now(struct carrier *c, const uint8_t *frame, size_t len)
{
	return c->kernel ? -EOPNOTSUPP : sctp_send_frame(c, frame, len);
}

static int sctp_write(struct carrier *c)
{
	return c->kernel ? car_write_kernel(c) : sctp_write_user(c);
}

/*
 * Are there streams for id both ways?  1: yes; 0: not yet (more were
 * asked for: try again shortly); -1: there will not be (err says why).
 */
static int sctp_stream_room(struct carrier *c, uint16_t id, bool add,
			    char *err, size_t errlen)
{
	struct sctp_status ss = { 0 };
	struct sctp_add_streams as = { 0 };
	socklen_t len = sizeof(ss);
	unsigned int want;

	if (getsockopt(c->fd, IPPROTO_SCTP, SCTP_STATUS, &ss, &len)) {
		snprintf(err, errlen, "SCTP_STATUS: %s", strerror(errno));
		return -1;
	}
	c->sctp_in = ss.sstat_instrms;
	c->sctp_out = ss.sstat_outstrms;
	if (id < ss.sstat_instrms && id < ss.sstat_outstrms)
		return 1;
	if (!add) {
		snprintf(err, errlen, "stream %u beyond the association's %u streams",
			 id, ss.sstat_instrms < ss.sstat_outstrms ?
			 ss.sstat_instrms : ss.sstat_outstrms);
		return -1;
	}
	if (c->streams_asked > id &&
	    loop_now_ms() - c->streams_asked_at < SCTP_ADD_WAIT_MS)
		return 0;
	if (c->streams_asked > id) {
		snprintf(err, errlen, "the peer did not add SCTP streams (the association has %u)",
			 ss.sstat_instrms < ss.sstat_outstrms ?
			 ss.sstat_instrms : ss.sstat_outstrms);
		c->streams_asked = 0;
		return -1;
	}
	want = (unsigned int)id + SCTP_ADD_STEP;
	if (want > 65535)
		want = 65535;
	if (want > ss.sstat_instrms)
		as.sas_instrms = (uint16_t)(want - ss.sstat_instrms);
	if (want > ss.sstat_outstrms)
		as.sas_outstrms = (uint16_t)(want - ss.sstat_outstrms);
	if (setsockopt(c->fd, IPPROTO_SCTP, SCTP_ADD_STREAMS, &as, sizeof(as))) {
		if (errno == EINPROGRESS) {
			/* another request is under way: ours is asked
			 * again, within the same time
			 */
			if (!c->streams_asked) {
				c->streams_asked = id + 1;
				c->streams_asked_at = loop_now_ms();
			}
			return 0;
		}
		snprintf(err, errlen, "cannot add SCTP streams (the association has %u): %s",
			 ss.sstat_instrms < ss.sstat_outstrms ?
			 ss.sstat_instrms : ss.sstat_outstrms,
			 errno == ENOPROTOOPT ?
			 "the peer does not take stream reconfiguration (RFC 6525)" :
			 strerror(errno));
		return -1;
	}
	log_info("%s: adding SCTP streams: %u in, %u out (association had %u/%u)",
		 carrier_name(c), as.sas_instrms, as.sas_outstrms,
		 ss.sstat_instrms, ss.sstat_outstrms);
	c->streams_asked = want;
	c->streams_asked_at = loop_now_ms();
	return 0;
}

/* native SCTP and SCTP over UDP differ in one socket option (prepare) */
#define SCTP_CARRIER_OPS(kind) {		\
	.name = kind,				\
	.socktype = SOCK_STREAM,		\
	.protocol = IPPROTO_SCTP,		\
	.multihome = true,			\
	.prepare = sctp_prepare,		\
	.connected = sctp_connected,		\
	.setup = sctp_setup,			\
	.kernel_attach = sctp_kernel_attach,	\
	.read = sctp_read,			\
	.write = sctp_write,			\
	.stream_room = sctp_stream_room,	\
	.send_now = sctp_send_now,		\
	.authenticated = sctp_authenticated,	\
}

const struct carrier_ops carrier_sctp_ops = SCTP_CARRIER_OPS("sctp");
const struct carrier_ops carrier_sctp_udp_ops = SCTP_CARRIER_OPS("sctp-udp");

#define SCTP_UDP_PORT_SYSCTL	"/proc/sys/net/sctp/udp_port"
#define SCTP_UDP_PORT_DEFAULT	9899	/* RFC 6951 */

static int sysctl_read_u16(const char *path, uint16_t *v)
{
	FILE *f = fopen(path, "re");
	unsigned int x;
	int ok;

	if (!f)
		return -errno;
	ok = fscanf(f, "%u", &x) == 1 && x <= 65535;
	fclose(f);
	if (!ok)
		return -EINVAL;
	*v = (uint16_t)x;
	return 0;
}

static int sysctl_write_u16(const char *path, uint16_t v)
{
	FILE *f = fopen(path, "we");
	int ret = 0;

	if (!f)
		return -errno;
	if (fprintf(f, "%u\n", v) < 0)
		ret = -EIO;
	if (fclose(f) && !ret)
		ret = -errno;
	return ret;
}

/*
 * Is there SCTP in this network namespace, and SCTP over UDP?  Asked
 * when a listener or a peer first needs it, not before: opening an SCTP
 * socket loads sctp.ko, and SCTP over UDP needs net.sctp.udp_port (the
 * local encapsulation port, per netns: every SCTP socket of the netns
 * then takes SCTP in UDP on that port), which funneld sets to 9899 when
 * it is 0.  Sockets made before take no encapsulation: this runs before
 * the socket of the listener or peer that needs it.
 */
void carrier_sctp_need(struct daemon *d, bool udp)
{
	uint16_t port = 0;
	int fd, ret;

	if (!d->sctp_asked) {
		d->sctp_asked = true;
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_SCTP);
		if (fd < 0) {
			snprintf(d->sctp_why, sizeof(d->sctp_why),
				 "no SCTP in this kernel (%s)", strerror(errno));
			snprintf(d->sctp_udp_why, sizeof(d->sctp_udp_why),
				 "%s", d->sctp_why);
			log_info("%s: carriers are TCP only", d->sctp_why);
		} else {
			close(fd);
			d->sctp_ok = true;
			snprintf(d->sctp_udp_why, sizeof(d->sctp_udp_why),
				 "not asked for");
		}
		/* an SCTP carrier would be accepted or made only to fail */
		if (d->sctp_ok && d->dp == DP_KERNEL &&
		    !kpath_has_sctp(&d->kp)) {
			d->sctp_ok = false;
			snprintf(d->sctp_why, sizeof(d->sctp_why),
				 "--datapath kernel, and funnel.ko takes no SCTP carrier");
			snprintf(d->sctp_udp_why, sizeof(d->sctp_udp_why),
				 "%s", d->sctp_why);
		}
	}
	if (!d->sctp_ok || !udp || d->sctp_udp_asked)
		return;
	d->sctp_udp_asked = true;
	ret = sysctl_read_u16(SCTP_UDP_PORT_SYSCTL, &port);
	if (!ret && !port) {
		ret = sysctl_write_u16(SCTP_UDP_PORT_SYSCTL,
				       SCTP_UDP_PORT_DEFAULT);
		if (!ret) {
			port = SCTP_UDP_PORT_DEFAULT;
			d->sctp_udp_set = true;
			/* netns-wide and left so at exit: every SCTP
			 * socket of the netns now takes SCTP in UDP on
			 * that port, which rules on IP protocol 132 do
			 * not see (operations.md)
			 */
			log_warn("SCTP over UDP: set net.sctp.udp_port to %u for the whole network namespace, left so at exit: every SCTP socket of it now takes SCTP in UDP on port %u (a firewall must filter that port, not only IP protocol 132)",
				 port, port);
		} else {
			snprintf(d->sctp_udp_why, sizeof(d->sctp_udp_why),
				 "net.sctp.udp_port is 0 and funneld cannot set it (%s): set net.sctp.udp_port=%u",
				 strerror(-ret), SCTP_UDP_PORT_DEFAULT);
			log_warn("SCTP over UDP off: %s", d->sctp_udp_why);
			return;
		}
	} else if (ret) {
		snprintf(d->sctp_udp_why, sizeof(d->sctp_udp_why),
			 "cannot read %s: %s", SCTP_UDP_PORT_SYSCTL,
			 strerror(-ret));
		log_warn("SCTP over UDP off: %s", d->sctp_udp_why);
		return;
	}
	d->sctp_udp_port = port;
}

int carrier_sctp_listener(const struct sockaddr_storage *ss,
			  socklen_t len, char *err, size_t errlen)
{
	char e[DAEMON_TEXT_MAX];
	int fd;

	fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    IPPROTO_SCTP);
	if (fd < 0) {
		snprintf(err, errlen, "SCTP socket: %s", strerror(errno));
		return -1;
	}
	if (car_sctp_sockopts(fd, false, 0, e, sizeof(e))) {
		snprintf(err, errlen, "SCTP listener: %s", e);
		close(fd);
		return -1;
	}
	{
		int one = 1, zero = 0;

		/* dual stack, as the TCP listener */
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (ss->ss_family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero,
				   sizeof(zero));
	}
	if (bind(fd, (const struct sockaddr *)ss, len) || listen(fd, 64)) {
		snprintf(err, errlen, "SCTP %s: %s", errno == EADDRINUSE ?
			 "bind" : "listen", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* An accepted association: encapsulated in UDP? */
bool car_sctp_is_udp(int fd)
{
	struct sctp_udpencaps ue = { 0 };
	socklen_t len = sizeof(ue);

	if (getsockopt(fd, IPPROTO_SCTP, SCTP_REMOTE_UDP_ENCAPS_PORT, &ue,
		       &len))
		return false;
	return ue.sue_port != 0;
}

void car_sctp_paths(struct carrier *c, char *buf, size_t len)
{
	struct sctp_setprim prim = { 0 };
	socklen_t plen = sizeof(prim);
	struct sockaddr *addrs = NULL;
	size_t off = 0, alen;
	uint8_t *p;
	int n;

	buf[0] = '\0';
	n = sctp_getpaddrs(c->fd, 0, &addrs);
	if (n <= 0)
		return;
	if (getsockopt(c->fd, IPPROTO_SCTP, SCTP_PRIMARY_ADDR, &prim, &plen))
		memset(&prim, 0, sizeof(prim));
	p = (uint8_t *)addrs;
	for (int i = 0; i < n && off + 1 < len; i++, p += alen) {
		struct sctp_paddrinfo pi = { 0 };
		struct sockaddr_storage ss = { 0 };
		socklen_t pilen = sizeof(pi);
		char text[64];
		int r;

		memcpy(&ss.ss_family, p, sizeof(ss.ss_family));
		alen = ss.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
						  sizeof(struct sockaddr_in);
		memcpy(&ss, p, alen);
		memcpy(&pi.spinfo_address, &ss, sizeof(ss));
		if (getsockopt(c->fd, IPPROTO_SCTP, SCTP_GET_PEER_ADDR_INFO,
			       &pi, &pilen))
			pi.spinfo_state = -1;
		addr_format(&ss, text, sizeof(text));
		r = snprintf(buf + off, len - off, "%s%s (%s%s)", i ? ", " : "",
			     text,
			     !memcmp(&prim.ssp_addr, &ss, alen) ? "primary, " : "",
			     pi.spinfo_state == SCTP_ACTIVE ? "active" :
			     pi.spinfo_state == SCTP_INACTIVE ? "inactive" :
			     pi.spinfo_state == SCTP_PF ? "potentially failed" :
			     pi.spinfo_state == SCTP_UNCONFIRMED ? "unconfirmed" :
			     "unknown");
		if (r < 0)
			break;
		off += (size_t)r;
	}
	sctp_freepaddrs(addrs);
}

uint64_t car_sctp_abandoned(struct carrier *c)
{
	struct sctp_prstatus ps = { .sprstat_policy = SCTP_PR_SCTP_ALL };
	socklen_t len = sizeof(ps);

	if (getsockopt(c->fd, IPPROTO_SCTP, SCTP_PR_ASSOC_STATUS, &ps, &len))
		return 0;
	return ps.sprstat_abandoned_unsent + ps.sprstat_abandoned_sent;
}
