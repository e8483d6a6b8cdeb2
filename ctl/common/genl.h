/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Requests to the "funnel" generic netlink family with libnl-genl-3, with
 * the kernel's extended ACK message returned to the caller.
 */
#ifndef FUNNEL_GENL_H
#define FUNNEL_GENL_H

#include <stdint.h>

#include <netlink/genl/genl.h>
#include <netlink/msg.h>

#include "common/extack.h"

struct funnel_genl {
	struct nl_sock *sk;
	int family;			/* resolved family id */
	struct funnel_extack ext;	/* extended ACK of the last request */
};

/*
 * Open a generic netlink socket and resolve the "funnel" family.
 * Returns 0, -ENOENT when the family does not exist (funnel.ko is not
 * loaded and could not be autoloaded), or another -errno.  On error
 * nothing needs closing.
 */
int funnel_genl_open(struct funnel_genl *g);

/* The same for another family (tests use "nlctrl"). */
int funnel_genl_open_family(struct funnel_genl *g, const char *name);
void funnel_genl_close(struct funnel_genl *g);

/* A new request for cmd with NLM_F_REQUEST | flags, or NULL (no memory). */
struct nl_msg *funnel_genl_msg(const struct funnel_genl *g, uint8_t cmd,
			       int flags);

/*
 * Free a request that is not sent: its whole buffer is wiped first, since
 * a request may hold key bytes (key-new, stream-new).  funnel_genl_request()
 * frees the requests it sends in the same way.
 */
void funnel_genl_msg_free(struct nl_msg *msg);

/*
 * Called for each reply message of a request.  Return 0, or a negative
 * errno: the request then fails with it (the rest of the replies are
 * still read and dropped).
 */
typedef int (*funnel_genl_reply_fn)(struct nl_msg *msg, void *arg);

/*
 * Send req with NLM_F_ACK, hand every reply to fn (may be NULL) and wait
 * for the ACK, the end of a dump or an error.  req is freed (and wiped,
 * see funnel_genl_msg_free()).  Returns 0 or
 * -errno; g->ext holds the kernel's extended ACK (message, offending or
 * missing attribute) whether the request failed or not.
 */
int funnel_genl_request(struct funnel_genl *g, struct nl_msg *req,
			funnel_genl_reply_fn fn, void *arg);

/* The kernel's message about the last request, or "" if none. */
const char *funnel_genl_extack(const struct funnel_genl *g);

#endif /* FUNNEL_GENL_H */
