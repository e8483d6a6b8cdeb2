/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Carriers, as the rest of funneld sees them: created for a peer or
 * accepted on a listener, told when maps and services change, described
 * in a snapshot.  struct carrier itself is private to carrier/ (priv.h).
 */
#ifndef FUNNEL_CARRIER_CARRIER_H
#define FUNNEL_CARRIER_CARRIER_H

#include "funneld/config.h"
#include "funneld/report/snap.h"

struct carrier *carrier_new_out(struct daemon *d, struct peer *p);
/* Start (or restart) an outgoing carrier, from the loop, at once. */
void carrier_start(struct carrier *c);
/* Tear down and free (peer del, shutdown). */
void carrier_free(struct carrier *c, int reason);
/* Accept a connection (TCP) or an association (SCTP) on a listener. */
void carrier_accept(struct daemon *d, struct listener *ln);
/*
 * SCTP in this netns (the first call), and with udp SCTP over UDP (sets
 * net.sctp.udp_port when 0): fills d->sctp_*; before the socket of the
 * listener or peer that needs it.
 */
void carrier_sctp_need(struct daemon *d, bool udp);
/* An SCTP listening socket on ss (its options set); -1 with err. */
int carrier_sctp_listener(const struct sockaddr_storage *ss, socklen_t len,
			  char *err, size_t errlen);
/* The map was added / is being deleted: open or close its stream. */
void carrier_map_added(struct carrier *c, struct map *m);
void carrier_map_deleted(struct carrier *c, struct map *m);
/* The service is deleted: close the streams that use it. */
void carrier_service_deleted(struct daemon *d, const char *name);
/*
 * A map or relay (statement s, unlinked from d's lists) is deleted: the
 * ccache of its identity clause goes unless another map or relay has
 * that identity.  At shutdown every
 * one goes (destroy: also their tickets; false while workers may still
 * use them).
 */
void carrier_ident_release(struct daemon *d, const struct stmt *s);
void carrier_ident_free_all(struct daemon *d, bool destroy);
/* The first listener: set up the accept pause timer (accept.c). */
void carrier_accept_init(struct daemon *d);
/* Shutdown: the accept pause timer must not outlive the loop. */
void carrier_pause_cancel(struct daemon *d);

/*
 * Fill sn's carriers (every carrier of d, with their streams and flows).
 * 0, or -1 when out of memory (sn's carriers are freed then).
 */
int carrier_snap_fill(struct daemon *d, struct snapshot *sn);
void carrier_snap_free(struct snapshot *sn);

#endif /* FUNNEL_CARRIER_CARRIER_H */
