// SPDX-License-Identifier: GPL-2.0
/* funneld's requests to funnel.ko over generic netlink. */

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <linux/funnel.h>

#include <netlink/genl/ctrl.h>
#include <netlink/socket.h>

#include "common/info.h"
#include "funneld/datapath/kpath.h"

static int kp_fail(struct kpath *k, const char *op, int err, char *buf,
		   size_t len)
{
	const char *ext = funnel_genl_extack(&k->g);

	if (buf && len)
		snprintf(buf, len, "%s: %s%s%s", op, strerror(-err),
			 ext[0] ? ": " : "", ext);
	return err;
}

int kpath_open(struct kpath *k, char *err, size_t errlen)
{
	struct funnel_info info = { 0 };
	int ret;

	if (k->open)
		return 0;
	ret = funnel_genl_open(&k->g);
	if (ret) {
		snprintf(err, errlen, "%s",
			 ret == -ENOENT ? "funnel.ko is not loaded (no generic netlink family \"funnel\")" :
			 strerror(-ret));
		return ret;
	}
	/* a module of another wire version cannot carry this funneld's
	 * frames (sealed control messages, FLOW_END, R): not used at all
	 */
	ret = funnel_info_get(&k->g, &info);
	if (!ret && info.has_wire && info.wire != FUNNEL_WIRE_VERSION) {
		snprintf(err, errlen,
			 "funnel.ko speaks wire version %u, funneld %u: load the funnel.ko built with this funneld",
			 info.wire, FUNNEL_WIRE_VERSION);
		funnel_genl_close(&k->g);
		return -EPROTO;
	}
	k->open = true;
	k->caps_known = !ret && info.has_caps;
	k->caps = k->caps_known ? info.caps : 0;
	return 0;
}

bool kpath_has_sctp(struct kpath *k)
{
	if (k->open && !k->caps_known) {
		struct funnel_info info = { 0 };

		k->caps_known = true;
		if (!funnel_info_get(&k->g, &info) && info.has_caps)
			k->caps = info.caps;
	}
	return k->open && (k->caps & FUNNEL_CAP_SCTP);
}

void kpath_close(struct kpath *k)
{
	if (k->open)
		funnel_genl_close(&k->g);
	k->open = false;
	if (k->ev)
		nl_socket_free(k->ev);
	k->ev = NULL;
}

static int on_carrier_id(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[FUNNEL_A_MAX + 1];
	uint32_t *id = arg;

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, FUNNEL_A_MAX, NULL) < 0 ||
	    !tb[FUNNEL_A_CARRIER_ID])
		return -EBADMSG;
	*id = nla_get_u32(tb[FUNNEL_A_CARRIER_ID]);
	return 0;
}

int kpath_carrier_new(struct kpath *k, int fd, uint32_t *id,
		      char *err, size_t errlen)
{
	struct nl_msg *req;
	int ret;

	/* socket-owner: if funneld dies, funnel.ko drops its carriers */
	req = funnel_genl_msg(&k->g, FUNNEL_CMD_CARRIER_NEW, 0);
	if (!req || nla_put_s32(req, FUNNEL_A_SOCK_FD, fd) < 0 ||
	    nla_put_flag(req, FUNNEL_A_SOCKET_OWNER) < 0) {
		funnel_genl_msg_free(req);
		return kp_fail(k, "carrier-new", -ENOMEM, err, errlen);
	}
	*id = 0;
	ret = funnel_genl_request(&k->g, req, on_carrier_id, id);
	if (!ret && !*id)
		ret = -EBADMSG;
	return ret ? kp_fail(k, "carrier-new", ret, err, errlen) : 0;
}

static int put_addr(struct nl_msg *req, const struct sockaddr_storage *ss,
		    bool remote)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)ss;

		if (sin->sin_addr.s_addr != htonl(INADDR_ANY) &&
		    nla_put_u32(req, remote ? FUNNEL_A_REMOTE_IPV4 :
				FUNNEL_A_LOCAL_IPV4, sin->sin_addr.s_addr) < 0)
			return -1;
		return nla_put_u16(req, remote ? FUNNEL_A_REMOTE_PORT :
				   FUNNEL_A_LOCAL_PORT, sin->sin_port);
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)ss;

		if (!IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr) &&
		    nla_put(req, remote ? FUNNEL_A_REMOTE_IPV6 :
			    FUNNEL_A_LOCAL_IPV6, 16, &sin6->sin6_addr) < 0)
			return -1;
		return nla_put_u16(req, remote ? FUNNEL_A_REMOTE_PORT :
				   FUNNEL_A_LOCAL_PORT, sin6->sin6_port);
	}
	return -1;
}

static int put_keydir(struct nl_msg *req, int type, const uint8_t *key,
		      const uint8_t *salt)
{
	struct nlattr *nest = nla_nest_start(req, type);

	if (!nest || nla_put(req, FUNNEL_A_KEYDIR_KEY, FUNNEL_KEY_LEN, key) < 0 ||
	    nla_put(req, FUNNEL_A_KEYDIR_SALT, FUNNEL_SALT_LEN, salt) < 0)
		return -1;
	nla_nest_end(req, nest);
	return 0;
}

static int put_keyconf(struct nl_msg *req, uint32_t slot,
		       const struct kpath_key *key)
{
	struct nlattr *nest = nla_nest_start(req, FUNNEL_A_KEYCONF);

	if (!nest || nla_put_u32(req, FUNNEL_A_KEYCONF_SLOT, slot) < 0 ||
	    nla_put_u32(req, FUNNEL_A_KEYCONF_KEY_ID, key->id) < 0 ||
	    nla_put_u32(req, FUNNEL_A_KEYCONF_CIPHER,
			FUNNEL_CIPHER_AES_256_GCM) < 0 ||
	    put_keydir(req, FUNNEL_A_KEYCONF_ENCRYPT_DIR, key->enc_key,
		       key->enc_salt) ||
	    put_keydir(req, FUNNEL_A_KEYCONF_DECRYPT_DIR, key->dec_key,
		       key->dec_salt) ||
	    (key->soft_limit &&
	     nla_put_u64(req, FUNNEL_A_KEYCONF_SOFT_LIMIT, key->soft_limit) < 0) ||
	    (key->hard_limit &&
	     nla_put_u64(req, FUNNEL_A_KEYCONF_HARD_LIMIT, key->hard_limit) < 0))
		return -1;
	nla_nest_end(req, nest);
	return 0;
}

static int stream_new(struct kpath *k, uint32_t carrier, uint16_t stream,
		      int kind, bool unordered, uint32_t pr_ttl_ms,
		      const struct sockaddr_storage *addr,
		      const struct kpath_key *key, uint32_t rcarrier,
		      uint16_t rstream, char *err, size_t errlen)
{
	struct nl_msg *req;
	int ret, bad = 0;

	req = funnel_genl_msg(&k->g, FUNNEL_CMD_STREAM_NEW, 0);
	if (!req)
		return kp_fail(k, "stream-new", -ENOMEM, err, errlen);
	bad |= nla_put_u32(req, FUNNEL_A_CARRIER_ID, carrier) < 0;
	bad |= nla_put_u16(req, FUNNEL_A_STREAM_ID, stream) < 0;
	bad |= nla_put_u32(req, FUNNEL_A_STREAM_KIND, (uint32_t)kind) < 0;
	if (addr)
		bad |= put_addr(req, addr, kind == FUNNEL_STREAM_UDP_CONNECT) < 0;
	if (unordered)
		bad |= nla_put_flag(req, FUNNEL_A_UNORDERED) < 0;
	if (pr_ttl_ms)
		bad |= nla_put_u32(req, FUNNEL_A_PR_TTL_MS, pr_ttl_ms) < 0;
	if (key)
		bad |= put_keyconf(req, FUNNEL_KEY_SLOT_PRIMARY, key) < 0;
	if (rcarrier) {
		bad |= nla_put_u32(req, FUNNEL_A_RELAY_CARRIER_ID, rcarrier) < 0;
		bad |= nla_put_u16(req, FUNNEL_A_RELAY_STREAM_ID, rstream) < 0;
	}
	if (bad) {
		funnel_genl_msg_free(req);
		return kp_fail(k, "stream-new", -EMSGSIZE, err, errlen);
	}
	ret = funnel_genl_request(&k->g, req, NULL, NULL);
	return ret ? kp_fail(k, "stream-new", ret, err, errlen) : 0;
}

int kpath_stream_new(struct kpath *k, uint32_t carrier, uint16_t stream,
		     int kind, bool unordered, uint32_t pr_ttl_ms,
		     const struct sockaddr_storage *addr,
		     const struct kpath_key *key,
		     char *err, size_t errlen)
{
	return stream_new(k, carrier, stream, kind, unordered, pr_ttl_ms,
			  addr, key, 0, 0, err, errlen);
}

int kpath_relay_new(struct kpath *k, uint32_t carrier, uint16_t stream,
		    uint32_t pr_ttl_ms, const struct kpath_key *key,
		    uint32_t rcarrier, uint16_t rstream, char *err,
		    size_t errlen)
{
	return stream_new(k, carrier, stream, FUNNEL_STREAM_RELAY, true,
			  pr_ttl_ms, NULL, key, rcarrier, rstream, err,
			  errlen);
}

int kpath_stream_del(struct kpath *k, uint32_t carrier, uint16_t stream,
		     char *err, size_t errlen)
{
	struct nl_msg *req;
	int ret;

	req = funnel_genl_msg(&k->g, FUNNEL_CMD_STREAM_DEL, 0);
	if (!req || nla_put_u32(req, FUNNEL_A_CARRIER_ID, carrier) < 0 ||
	    nla_put_u16(req, FUNNEL_A_STREAM_ID, stream) < 0) {
		funnel_genl_msg_free(req);
		return kp_fail(k, "stream-del", -ENOMEM, err, errlen);
	}
	ret = funnel_genl_request(&k->g, req, NULL, NULL);
	return ret ? kp_fail(k, "stream-del", ret, err, errlen) : 0;
}

bool kpath_no_carrier(const struct kpath *k)
{
	return k->g.ext.bad_attr == FUNNEL_A_CARRIER_ID;
}

/* A request naming carrier and stream, with an optional key slot. */
static int key_op(struct kpath *k, uint8_t cmd, const char *op,
		  uint32_t carrier, uint16_t stream, int slot,
		  const struct kpath_key *key, char *err, size_t errlen)
{
	struct nl_msg *req = funnel_genl_msg(&k->g, cmd, 0);
	struct nlattr *nest;
	int ret, bad;

	if (!req)
		return kp_fail(k, op, -ENOMEM, err, errlen);
	bad = nla_put_u32(req, FUNNEL_A_CARRIER_ID, carrier) < 0 ||
	      nla_put_u16(req, FUNNEL_A_STREAM_ID, stream) < 0;
	if (key) {
		bad |= put_keyconf(req, (uint32_t)slot, key) < 0;
	} else if (slot >= 0) {
		nest = nla_nest_start(req, FUNNEL_A_KEYCONF);
		bad |= !nest ||
		       nla_put_u32(req, FUNNEL_A_KEYCONF_SLOT, (uint32_t)slot) < 0;
		if (nest)
			nla_nest_end(req, nest);
	}
	if (bad) {
		funnel_genl_msg_free(req);
		return kp_fail(k, op, -EMSGSIZE, err, errlen);
	}
	ret = funnel_genl_request(&k->g, req, NULL, NULL);
	return ret ? kp_fail(k, op, ret, err, errlen) : 0;
}

int kpath_key_new(struct kpath *k, uint32_t carrier, uint16_t stream,
		  uint32_t slot, const struct kpath_key *key,
		  char *err, size_t errlen)
{
	return key_op(k, FUNNEL_CMD_KEY_NEW, "key-new", carrier, stream,
		      (int)slot, key, err, errlen);
}

int kpath_key_swap(struct kpath *k, uint32_t carrier, uint16_t stream,
		   char *err, size_t errlen)
{
	return key_op(k, FUNNEL_CMD_KEY_SWAP, "key-swap", carrier, stream, -1,
		      NULL, err, errlen);
}

int kpath_key_del(struct kpath *k, uint32_t carrier, uint16_t stream,
		  uint32_t slot, char *err, size_t errlen)
{
	return key_op(k, FUNNEL_CMD_KEY_DEL, "key-del", carrier, stream,
		      (int)slot, NULL, err, errlen);
}

int kpath_events_open(struct kpath *k, char *err, size_t errlen)
{
	int grp, ret;

	if (k->ev)
		return nl_socket_get_fd(k->ev);
	k->ev = nl_socket_alloc();
	if (!k->ev) {
		snprintf(err, errlen, "events: out of memory");
		return -ENOMEM;
	}
	nl_socket_disable_seq_check(k->ev);
	ret = genl_connect(k->ev);
	if (!ret) {
		grp = genl_ctrl_resolve_grp(k->ev, FUNNEL_FAMILY_NAME,
					    FUNNEL_MCGRP_EVENTS);
		ret = grp < 0 ? grp : nl_socket_add_membership(k->ev, grp);
	}
	if (!ret)
		ret = nl_socket_set_nonblocking(k->ev);
	if (ret) {
		snprintf(err, errlen, "events group: %s", nl_geterror(ret));
		nl_socket_free(k->ev);
		k->ev = NULL;
		return -EIO;
	}
	return nl_socket_get_fd(k->ev);
}

struct ev_arg {
	void (*fn)(uint32_t carrier, uint16_t stream, uint32_t key_id,
		   void *arg);
	void *arg;
};

static int on_event(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[FUNNEL_A_MAX + 1], *kc[FUNNEL_A_KEYCONF_MAX + 1];
	struct genlmsghdr *gh = nlmsg_data(nlmsg_hdr(msg));
	struct ev_arg *ea = arg;

	if (gh->cmd != FUNNEL_CMD_KEY_EXPIRE_NTF ||
	    genlmsg_parse(nlmsg_hdr(msg), 0, tb, FUNNEL_A_MAX, NULL) < 0 ||
	    !tb[FUNNEL_A_CARRIER_ID] || !tb[FUNNEL_A_STREAM_ID] ||
	    !tb[FUNNEL_A_KEYCONF] ||
	    nla_parse_nested(kc, FUNNEL_A_KEYCONF_MAX, tb[FUNNEL_A_KEYCONF],
			     NULL) < 0 || !kc[FUNNEL_A_KEYCONF_KEY_ID])
		return NL_OK;
	ea->fn(nla_get_u32(tb[FUNNEL_A_CARRIER_ID]),
	       nla_get_u16(tb[FUNNEL_A_STREAM_ID]),
	       nla_get_u32(kc[FUNNEL_A_KEYCONF_KEY_ID]), ea->arg);
	return NL_OK;
}

void kpath_events_read(struct kpath *k,
		       void (*fn)(uint32_t carrier, uint16_t stream,
				  uint32_t key_id, void *arg), void *arg)
{
	struct ev_arg ea = { fn, arg };

	if (!k->ev)
		return;
	nl_socket_modify_cb(k->ev, NL_CB_VALID, NL_CB_CUSTOM, on_event, &ea);
	/* nonblocking: returns once the socket is empty */
	while (nl_recvmsgs_default(k->ev) >= 0)
		;
}

static void get_stats(struct nlattr *nest, struct fstats *st)
{
	struct nlattr *a;
	int rem;

	memset(st, 0, sizeof(*st));
	if (!nest)
		return;
	nla_for_each_nested(a, nest, rem) {
		int t = nla_type(a);

		if (t >= FUNNEL_A_STATS_RX_FRAMES && t < FSTATS_N &&
		    nla_len(a) == 8)
			st->v[t] = nla_get_u64(a);
	}
}

struct stats_arg {
	struct fstats *st;
	uint32_t *nflows;
};

static int on_stats(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[FUNNEL_A_MAX + 1];
	struct stats_arg *sa = arg;

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, FUNNEL_A_MAX, NULL) < 0)
		return -EBADMSG;
	get_stats(tb[FUNNEL_A_STATS], sa->st);
	if (sa->nflows && tb[FUNNEL_A_FLOW_COUNT])
		*sa->nflows = nla_get_u32(tb[FUNNEL_A_FLOW_COUNT]);
	return 0;
}

int kpath_carrier_stats(struct kpath *k, uint32_t carrier, struct fstats *st)
{
	struct stats_arg sa = { st, NULL };
	struct nl_msg *req;

	memset(st, 0, sizeof(*st));
	req = funnel_genl_msg(&k->g, FUNNEL_CMD_CARRIER_GET, 0);
	if (!req || nla_put_u32(req, FUNNEL_A_CARRIER_ID, carrier) < 0) {
		funnel_genl_msg_free(req);
		return -ENOMEM;
	}
	return funnel_genl_request(&k->g, req, on_stats, &sa);
}

int kpath_stream_stats(struct kpath *k, uint32_t carrier, uint16_t stream,
		       struct fstats *st, uint32_t *nflows)
{
	struct stats_arg sa = { st, nflows };
	struct nl_msg *req;

	memset(st, 0, sizeof(*st));
	*nflows = 0;
	req = funnel_genl_msg(&k->g, FUNNEL_CMD_STREAM_GET, 0);
	if (!req || nla_put_u32(req, FUNNEL_A_CARRIER_ID, carrier) < 0 ||
	    nla_put_u16(req, FUNNEL_A_STREAM_ID, stream) < 0) {
		funnel_genl_msg_free(req);
		return -ENOMEM;
	}
	return funnel_genl_request(&k->g, req, on_stats, &sa);
}

static void get_addr(struct nlattr **tb, bool remote,
		     struct sockaddr_storage *ss)
{
	struct nlattr *a4 = tb[remote ? FUNNEL_A_REMOTE_IPV4 : FUNNEL_A_LOCAL_IPV4];
	struct nlattr *a6 = tb[remote ? FUNNEL_A_REMOTE_IPV6 : FUNNEL_A_LOCAL_IPV6];
	struct nlattr *ap = tb[remote ? FUNNEL_A_REMOTE_PORT : FUNNEL_A_LOCAL_PORT];
	uint16_t port = ap ? nla_get_u16(ap) : 0;

	memset(ss, 0, sizeof(*ss));
	if (a6 && nla_len(a6) == 16) {
		struct sockaddr_in6 *sin6 = (void *)ss;

		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, nla_data(a6), 16);
		sin6->sin6_port = port;
	} else {
		struct sockaddr_in *sin = (void *)ss;

		sin->sin_family = AF_INET;
		if (a4)
			sin->sin_addr.s_addr = nla_get_u32(a4);
		sin->sin_port = port;
	}
}

struct flows_arg {
	void (*fn)(const struct kpath_flow *f, void *arg);
	void *arg;
};

static int on_flow(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[FUNNEL_A_MAX + 1];
	struct flows_arg *fa = arg;
	struct kpath_flow f;

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, FUNNEL_A_MAX, NULL) < 0 ||
	    !tb[FUNNEL_A_FLOW_ID])
		return -EBADMSG;
	memset(&f, 0, sizeof(f));
	f.id = nla_get_u32(tb[FUNNEL_A_FLOW_ID]);
	get_addr(tb, false, &f.local);
	get_addr(tb, true, &f.remote);
	if (tb[FUNNEL_A_IDLE_MS])
		f.idle_ms = nla_get_u32(tb[FUNNEL_A_IDLE_MS]);
	get_stats(tb[FUNNEL_A_STATS], &f.st);
	fa->fn(&f, fa->arg);
	return 0;
}

int kpath_flows(struct kpath *k, uint32_t carrier, uint16_t stream,
		void (*fn)(const struct kpath_flow *f, void *arg), void *arg)
{
	struct flows_arg fa = { fn, arg };
	struct nl_msg *req;

	req = funnel_genl_msg(&k->g, FUNNEL_CMD_FLOW_GET, NLM_F_DUMP);
	if (!req || nla_put_u32(req, FUNNEL_A_CARRIER_ID, carrier) < 0 ||
	    nla_put_u16(req, FUNNEL_A_STREAM_ID, stream) < 0) {
		funnel_genl_msg_free(req);
		return -ENOMEM;
	}
	return funnel_genl_request(&k->g, req, on_flow, &fa);
}
