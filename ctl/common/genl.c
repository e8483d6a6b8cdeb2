// SPDX-License-Identifier: GPL-2.0
/* Requests to the "funnel" generic netlink family with libnl-genl-3. */

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/genetlink.h>
#include <linux/netlink.h>

#include <netlink/errno.h>
#include <netlink/genl/ctrl.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#include <linux/funnel.h>

#include "common/genl.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK	270
#endif

/* Room for any request funnel-nl may build; replies are sized by peeking. */
#define FUNNEL_GENL_MSG_SIZE	65536

struct req_state {
	struct funnel_genl *g;
	funnel_genl_reply_fn fn;
	void *arg;
	int done;
	int err;
};

/* libnl reports its own NLE_* codes; turn them back into errno values. */
static int nlerr_to_errno(int err)
{
	switch (err < 0 ? -err : err) {
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_OBJ_NOTFOUND:
		return -ENOENT;
	case NLE_PERM:
		return -EPERM;
	case NLE_NOACCESS:
		return -EACCES;
	case NLE_AGAIN:
		return -EAGAIN;
	case NLE_INTR:
	case NLE_DUMP_INTR:
		return -EINTR;
	case NLE_INVAL:
		return -EINVAL;
	case NLE_RANGE:
		return -ERANGE;
	case NLE_MSGSIZE:
		return -EMSGSIZE;
	case NLE_BUSY:
		return -EBUSY;
	case NLE_EXIST:
		return -EEXIST;
	case NLE_BAD_SOCK:
		return -EBADF;
	case NLE_NOADDR:
		return -EADDRNOTAVAIL;
	case NLE_AF_NOSUPPORT:
		return -EAFNOSUPPORT;
	case NLE_PROTO_MISMATCH:
		return -EPROTONOSUPPORT;
	default:
		return -EIO;
	}
}

/*
 * Ask for error messages (NETLINK_EXT_ACK) and for errors without a copy
 * of the request (NETLINK_CAP_ACK; the request is kept here).  Kernels
 * without them answer with plain errors, so failures are ignored.
 */
static void enable_ext_ack(struct nl_sock *sk)
{
	int one = 1;

#ifdef HAVE_NL_SOCKET_SET_EXT_ACK
	(void)nl_socket_set_ext_ack(sk, 1);
#else
	(void)setsockopt(nl_socket_get_fd(sk), SOL_NETLINK, NETLINK_EXT_ACK,
			 &one, sizeof(one));
#endif
	(void)setsockopt(nl_socket_get_fd(sk), SOL_NETLINK, NETLINK_CAP_ACK,
			 &one, sizeof(one));
}

int funnel_genl_open(struct funnel_genl *g)
{
	return funnel_genl_open_family(g, FUNNEL_FAMILY_NAME);
}

int funnel_genl_open_family(struct funnel_genl *g, const char *name)
{
	int err;

	memset(g, 0, sizeof(*g));
	funnel_extack_clear(&g->ext);
	g->sk = nl_socket_alloc();
	if (!g->sk)
		return -ENOMEM;
	err = genl_connect(g->sk);
	if (err < 0)
		goto fail;
	enable_ext_ack(g->sk);
	nl_socket_enable_msg_peek(g->sk);
	err = genl_ctrl_resolve(g->sk, name);
	if (err < 0)
		goto fail;
	g->family = err;
	return 0;
fail:
	nl_socket_free(g->sk);
	g->sk = NULL;
	return nlerr_to_errno(err);
}

void funnel_genl_close(struct funnel_genl *g)
{
	if (g->sk)
		nl_socket_free(g->sk);
	g->sk = NULL;
}

struct nl_msg *funnel_genl_msg(const struct funnel_genl *g, uint8_t cmd,
			       int flags)
{
	struct nl_msg *msg = nlmsg_alloc_size(FUNNEL_GENL_MSG_SIZE);

	if (!msg)
		return NULL;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, g->family, 0, flags,
			 cmd, FUNNEL_FAMILY_VERSION)) {
		funnel_genl_msg_free(msg);
		return NULL;
	}
	return msg;
}

/*
 * The buffer has a fixed size (libnl never reallocates it: a put that
 * does not fit fails), so no stale copy of it exists elsewhere.  The
 * kernel echoes no request in its error ACKs (NETLINK_CAP_ACK, above).
 */
void funnel_genl_msg_free(struct nl_msg *msg)
{
	if (!msg)
		return;
	explicit_bzero(nlmsg_hdr(msg), nlmsg_get_max_size(msg));
	nlmsg_free(msg);
}

const char *funnel_genl_extack(const struct funnel_genl *g)
{
	return g->ext.msg;
}

static int on_valid(struct nl_msg *msg, void *arg)
{
	struct req_state *st = arg;
	int err;

	if (st->fn && !st->err) {
		err = st->fn(msg, st->arg);
		if (err < 0)
			st->err = err;
	}
	return NL_OK;
}

/* NLMSG_DONE ends a dump; it carries the dump's error and extack. */
static int on_finish(struct nl_msg *msg, void *arg)
{
	struct req_state *st = arg;
	struct nlmsghdr *nlh = nlmsg_hdr(msg);

	if (!funnel_extack_parse(nlh, nlh->nlmsg_len, &st->g->ext) &&
	    st->g->ext.error && !st->err)
		st->err = st->g->ext.error;
	st->done = 1;
	return NL_STOP;
}

/* NLMSG_ERROR with error 0; it may still carry a warning message. */
static int on_ack(struct nl_msg *msg, void *arg)
{
	struct req_state *st = arg;
	struct nlmsghdr *nlh = nlmsg_hdr(msg);

	(void)funnel_extack_parse(nlh, nlh->nlmsg_len, &st->g->ext);
	st->done = 1;
	return NL_STOP;
}

/* libnl passes the payload of NLMSG_ERROR; its header lies just before. */
static int on_error(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)
		((const char *)e - NLMSG_HDRLEN);
	struct req_state *st = arg;

	(void)nla;
	if (funnel_extack_parse(nlh, nlh->nlmsg_len, &st->g->ext))
		st->g->ext.error = e->error;
	st->err = e->error < 0 ? e->error : -EIO;
	st->done = 1;
	return NL_STOP;
}

int funnel_genl_request(struct funnel_genl *g, struct nl_msg *req,
			funnel_genl_reply_fn fn, void *arg)
{
	struct req_state st = { .g = g, .fn = fn, .arg = arg };
	struct nlmsghdr *nlh = nlmsg_hdr(req);
	struct nl_cb *cb;
	int err;

	funnel_extack_clear(&g->ext);
	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cb) {
		funnel_genl_msg_free(req);
		return -ENOMEM;
	}
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_valid, &st);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, on_finish, &st);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, on_ack, &st);
	nl_cb_err(cb, NL_CB_CUSTOM, on_error, &st);

	nlh->nlmsg_flags |= NLM_F_ACK;
	err = nl_send_auto(g->sk, req);
	if (err < 0) {
		st.err = nlerr_to_errno(err);
		goto out;
	}
	while (!st.done) {
		err = nl_recvmsgs(g->sk, cb);
		if (err < 0) {
			if (!st.err)
				st.err = nlerr_to_errno(err);
			break;
		}
	}
	funnel_extack_locate(nlh, nlh->nlmsg_len, GENL_HDRLEN, &g->ext);
out:
	nl_cb_put(cb);
	funnel_genl_msg_free(req);
	return st.err;
}
