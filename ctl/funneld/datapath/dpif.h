/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What a carrier and its userspace streams (upath.h, tpath.h) exchange:
 * the function a stream sends its frames with, and the report of a flow.
 * The names say "upath" because the UDP path had them first; the TCP
 * path uses the same.
 */
#ifndef FUNNEL_DPIF_H
#define FUNNEL_DPIF_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/fstats.h"

/*
 * Queue one frame (8-byte header and body, no length prefix) on the
 * carrier.  Returns 0, or a negative errno and the caller drops the
 * datagram: -EMSGSIZE, too big to seal (counted tx-drop-toobig); -ENOKEY,
 * the stream's key is used up (tx-drop-no-key); any other, the carrier
 * cannot take it now, its queue is full or it is going down
 * (tx-drop-queue).  A TCP stream keeps a refused frame and sends it after
 * tpath_stream_resume().
 */
typedef int (*upath_send_fn)(void *arg, const uint8_t *frame, size_t len);

/* A flow of a stream, as flow-get reports it. */
struct upath_flow_info {
	uint32_t id;
	struct sockaddr_storage local;	/* listen: our socket; connect: ours */
	struct sockaddr_storage remote;	/* listen: the client; connect: target */
	/* connect: the client the peer accepted the flow from
	 * (FEAT_ORIGIN); family 0: not known
	 */
	struct sockaddr_storage origin;
	uint32_t idle_ms;		/* since the flow's last frame */
	struct fstats st;		/* rx/tx frames and bytes */
};

#endif /* FUNNEL_DPIF_H */
