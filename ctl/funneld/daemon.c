// SPDX-License-Identifier: GPL-2.0
/*
 * funneld's statements: the configuration file and funnelctl commands
 * go through daemon_apply(), which checks everything first and changes
 * nothing when it refuses.  Also the snapshot that show and stats print.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <linux/funnel.h>

#include "funneld/carrier/carrier.h"
#include "funneld/daemon.h"
#include "funneld/keytab.h"
#include "funneld/log.h"
#include "funneld/report/snap.h"
#include "funneld/sec/gss.h"

_Static_assert(SNAP_PEER_ADDRS_MAX == STMT_PEER_ADDRS_MAX,
	       "show lists every address of a peer");

/* At shutdown, jobs still running are waited for this long (each pool). */
#define WK_STOP_GRACE_MS	500

#ifndef FUNNEL_VERSION
#error "build with -DFUNNEL_VERSION"
#endif

/* ---- statements ---- */

static void listener_io(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct listener *ln = arg;

	(void)l;
	(void)fd;
	(void)events;
	carrier_accept(ln->d, ln);
}

/* One listening socket of proto on ss, added to d's listeners. */
static int listener_add(struct daemon *d, int proto,
			const struct sockaddr_storage *ss, socklen_t len,
			const char *text, char *err, size_t errlen)
{
	struct listener *ln = calloc(1, sizeof(*ln));
	char e[DAEMON_TEXT_MAX];
	int fd, ret;

	if (!ln) {
		snprintf(err, errlen, "listen: out of memory");
		return -1;
	}
	if (proto == IPPROTO_SCTP) {
		fd = carrier_sctp_listener(ss, len, e, sizeof(e));
		if (fd < 0)
			snprintf(err, errlen, "listen %s: %s", text, e);
	} else {
		fd = bind_socket(ss, len, SOCK_STREAM, "listen", err, errlen);
		if (fd >= 0 && listen(fd, 64)) {
			snprintf(err, errlen, "listen %s: %s", text,
				 strerror(errno));
			close(fd);
			fd = -1;
		}
	}
	if (fd < 0) {
		free(ln);
		return -1;
	}
	ln->d = d;
	ln->proto = proto;
	ret = loop_add(d->loop, fd, EPOLLIN, listener_io, ln);
	if (ret) {
		snprintf(err, errlen, "listen %s: %s", text, strerror(-ret));
		close(fd);
		free(ln);
		return -1;
	}
	if (!d->listeners)
		carrier_accept_init(d);
	ln->fd = fd;
	ln->ss = *ss;
	ln->len = len;
	snprintf(ln->text, sizeof(ln->text), "%s", text);
	ln->next = d->listeners;
	d->listeners = ln;
	return 0;
}

/*
 * listen: carriers of every kind on one port number: a TCP socket and,
 * when the kernel has SCTP, an SCTP socket (which takes SCTP over UDP
 * too, with net.sctp.udp_port set).  Both or neither.
 */
static int do_listen(struct daemon *d, const struct stmt *s, char *err,
		     size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char text[64];

	addr_resolve(&s->addr, SOCK_STREAM, &ss, &len, err, errlen);
	addr_format(&ss, text, sizeof(text));
	for (struct listener *ln = d->listeners; ln; ln = ln->next) {
		if (addr_equal(&ln->ss, &ss)) {
			snprintf(err, errlen, "listen: already listening on %s",
				 text);
			return -1;
		}
	}
	carrier_sctp_need(d, true);
	if (listener_add(d, IPPROTO_TCP, &ss, len, text, err, errlen))
		return -1;
	if (d->sctp_ok &&
	    listener_add(d, IPPROTO_SCTP, &ss, len, text, err, errlen)) {
		/* TCP carriers still come in: say why not SCTP */
		log_warn("%s: carriers on tcp only", err);
		snprintf(d->sctp_listen_why, sizeof(d->sctp_listen_why), "%s",
			 err);
	}
	if (!d->sctp_ok)
		log_info("listening for carriers on %s: tcp (%s)", text,
			 d->sctp_why);
	else if (d->sctp_udp_port)
		log_info("listening for carriers on %s: tcp, sctp, sctp-udp (udp %u)",
			 text, d->sctp_udp_port);
	else
		log_info("listening for carriers on %s: tcp, sctp (sctp-udp: %s)",
			 text, d->sctp_udp_why);
	return 0;
}

/*
 * In plaintext mode no principal is authenticated: the identity
 * statement and the identity, principal and allow clauses are not used,
 * and a warning says so, lest one take them for a protection.
 */
static void plaintext_unused(const struct daemon *d, const struct stmt *s,
			     const char *what)
{
	const char *names[3];
	unsigned int n = 0;

	if (!d->plaintext)
		return;
	if (s->kind == STMT_IDENTITY) {
		log_warn("identity %s: not used in plaintext mode (nothing is authenticated)",
			 s->principal);
		return;
	}
	if ((s->kind == STMT_SERVICE_ADD || s->kind == STMT_MAP_ADD ||
	     s->kind == STMT_RELAY_ADD) && s->identity[0])
		names[n++] = "identity";
	if ((s->kind == STMT_PEER_ADD || s->kind == STMT_MAP_ADD ||
	     s->kind == STMT_RELAY_ADD) && s->principal[0])
		names[n++] = "principal";
	if ((s->kind == STMT_SERVICE_ADD || s->kind == STMT_RELAY_ADD) &&
	    s->n_allow)
		names[n++] = "allow";
	if (!n)
		return;
	log_warn("%s: the %s%s%s%s%s clause%s not used in plaintext mode (nothing is authenticated)",
		 what, names[0], n > 1 ? (n > 2 ? ", " : " and ") : "",
		 n > 1 ? names[1] : "", n > 2 ? " and " : "",
		 n > 2 ? names[2] : "", n > 1 ? "s are" : " is");
}

static int do_peer_add(struct daemon *d, const struct stmt *s, char *err,
		       size_t errlen)
{
	struct peer *p;

	if (config_peer(d, s->name)) {
		snprintf(err, errlen, "peer add: peer '%s' exists (peer del first)",
			 s->name);
		return -1;
	}
	if (s->carrier != STMT_CARRIER_TCP)
		carrier_sctp_need(d, s->carrier != STMT_CARRIER_SCTP);
	if ((s->carrier == STMT_CARRIER_SCTP ||
	     s->carrier == STMT_CARRIER_SCTP_UDP) && !d->sctp_ok) {
		snprintf(err, errlen, "peer add: carrier %s: %s (use tcp or auto)",
			 stmt_carrier_name(s->carrier), d->sctp_why);
		return -1;
	}
	if (s->carrier == STMT_CARRIER_SCTP_UDP && !d->sctp_udp_port) {
		snprintf(err, errlen, "peer add: carrier sctp-udp: %s",
			 d->sctp_udp_why);
		return -1;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		snprintf(err, errlen, "peer add: out of memory");
		return -1;
	}
	p->s = *s;
	p->car = carrier_new_out(d, p);
	if (!p->car) {
		free(p);
		snprintf(err, errlen, "peer add: out of memory");
		return -1;
	}
	p->next = d->peers;
	d->peers = p;
	{
		char hp[STMT_HOST_MAX + 16];

		host_port(&s->addr, FUNNEL_DEFAULT_PORT, hp, sizeof(hp));
		log_info("peer %s at %s", s->name, hp);
	}
	{
		char what[STMT_NAME_MAX + 8];

		snprintf(what, sizeof(what), "peer %s", s->name);
		plaintext_unused(d, s, what);
	}
	carrier_start(p->car);
	return 0;
}

static unsigned int maps_of_peer(struct daemon *d, const char *name)
{
	unsigned int n = 0;

	for (struct map *m = d->maps; m; m = m->next)
		n += !strcmp(m->s.peer, name);
	return n;
}

static int do_peer_del(struct daemon *d, const struct stmt *s, char *err,
		       size_t errlen)
{
	struct peer **pp, *p = config_peer(d, s->name);
	unsigned int n;

	if (!p) {
		snprintf(err, errlen, "peer del: no peer '%s'", s->name);
		return -1;
	}
	for (const struct service *v = d->services; v; v = v->next) {
		if (v->s.kind == STMT_RELAY_ADD && !strcmp(v->s.peer, s->name)) {
			snprintf(err, errlen, "peer del: peer '%s' is the next hop of relay '%s' (relay del first)",
				 s->name, v->s.name);
			return -1;
		}
	}
	n = maps_of_peer(d, s->name);
	if (n) {
		snprintf(err, errlen, "peer del: peer '%s' is used by %u map%s (map del first)",
			 s->name, n, n == 1 ? "" : "s");
		return -1;
	}
	for (pp = &d->peers; *pp != p; pp = &(*pp)->next)
		;
	*pp = p->next;
	carrier_free(p->car, CTRL_R_CLOSED_BY_USER);
	free(p);
	log_info("peer %s deleted", s->name);
	return 0;
}

/*
 * The identity clause of service add or map add: its keytab is checked
 * as the identity statement's (csec.c checks it again at each use).
 */
static int ident_clause_check(const struct stmt *s, const char *what,
			      char *err, size_t errlen)
{
	char why[DAEMON_TEXT_MAX];

	if (!s->identity[0])
		return 0;
	if (keytab_check(s->path, why, sizeof(why))) {
		snprintf(err, errlen, "%s: identity %s: %s",
			 stmt_kind_name(s->kind), s->identity, why);
		return -1;
	}
	if (access(s->path, F_OK))
		log_warn("%s: identity %s: keytab %s does not exist yet: its streams fail until it does",
			 what, s->identity, s->path);
	return 0;
}

static int do_service_add(struct daemon *d, const struct stmt *s, char *err,
			  size_t errlen)
{
	struct service *svc;
	char what[STMT_NAME_MAX + 16];

	svc = config_service(d, s->name);
	if (svc) {
		snprintf(err, errlen, "service add: %s '%s' exists (%s del first)",
			 svc->s.kind == STMT_RELAY_ADD ? "relay" : "service",
			 s->name,
			 svc->s.kind == STMT_RELAY_ADD ? "relay" : "service");
		return -1;
	}
	snprintf(what, sizeof(what), "service %s", s->name);
	if (ident_clause_check(s, what, err, errlen))
		return -1;
	svc = calloc(1, sizeof(*svc));
	if (!svc) {
		snprintf(err, errlen, "service add: out of memory");
		return -1;
	}
	svc->s = *s;
	svc->next = d->services;
	d->services = svc;
	log_info("service %s %s %s:%u%s%s", s->name, stmt_proto_name(s->proto),
		 s->addr.host, s->addr.port, s->identity[0] ? ", identity " : "",
		 s->identity);
	plaintext_unused(d, s, what);
	return 0;
}

/*
 * relay add: a service of this end whose streams go on, each to a stream
 * of its own, to a service of a peer (Documentation/switchbox.md).
 */
static int do_relay_add(struct daemon *d, const struct stmt *s, char *err,
			size_t errlen)
{
	struct service *svc = config_service(d, s->name);
	char what[STMT_NAME_MAX + 16];

	if (svc) {
		snprintf(err, errlen, "relay add: %s '%s' exists (%s del first)",
			 svc->s.kind == STMT_RELAY_ADD ? "relay" : "service",
			 s->name,
			 svc->s.kind == STMT_RELAY_ADD ? "relay" : "service");
		return -1;
	}
	if (!config_peer(d, s->peer)) {
		snprintf(err, errlen, "relay add: no peer '%s' (peer add first)",
			 s->peer);
		return -1;
	}
	snprintf(what, sizeof(what), "relay %s", s->name);
	if (ident_clause_check(s, what, err, errlen))
		return -1;
	svc = calloc(1, sizeof(*svc));
	if (!svc) {
		snprintf(err, errlen, "relay add: out of memory");
		return -1;
	}
	svc->s = *s;
	svc->next = d->services;
	d->services = svc;
	log_info("relay %s %s -> peer %s service %s%s%s", s->name,
		 stmt_proto_name(s->proto), s->peer,
		 s->service[0] ? s->service : s->name,
		 s->identity[0] ? ", identity " : "", s->identity);
	if (!s->n_allow && !d->plaintext)
		log_warn("relay %s has no allow list: any principal of the realm reaches peer %s's service %s as %s",
			 s->name, s->peer, s->service[0] ? s->service : s->name,
			 s->identity[0] ? s->identity :
			 d->identity.kind ? d->identity.principal :
			 "this side's identity");
	plaintext_unused(d, s, what);
	return 0;
}

/* service del and relay del: each takes its own kind only */
static int do_service_del(struct daemon *d, const struct stmt *s, char *err,
			  size_t errlen)
{
	struct service **pp, *svc = config_service(d, s->name);
	bool relay = s->kind == STMT_RELAY_DEL;
	const char *what = relay ? "relay" : "service";

	if (!svc) {
		snprintf(err, errlen, "%s del: no %s '%s'", what, what,
			 s->name);
		return -1;
	}
	if ((svc->s.kind == STMT_RELAY_ADD) != relay) {
		snprintf(err, errlen, "%s del: '%s' is a %s (%s del)", what,
			 s->name, relay ? "service" : "relay",
			 relay ? "service" : "relay");
		return -1;
	}
	/* a relay's streams close their next hops' streams too */
	carrier_service_deleted(d, s->name);
	for (pp = &d->services; *pp != svc; pp = &(*pp)->next)
		;
	*pp = svc->next;
	if (relay)
		carrier_ident_release(d, &svc->s);
	free(svc);
	log_info("%s %s deleted", what, s->name);
	return 0;
}

static int map_addr(const struct stmt *s, struct sockaddr_storage *ss,
		    socklen_t *len)
{
	char dummy[8];

	return addr_resolve(&s->addr, SOCK_DGRAM, ss, len, dummy,
			    sizeof(dummy));
}

static int do_map_add(struct daemon *d, const struct stmt *s,
		      bool from_config, char *err, size_t errlen)
{
	struct peer *p = config_peer(d, s->peer);
	struct sockaddr_storage ss;
	socklen_t len;
	struct map *m;
	char text[64];
	int fd;

	if (!p) {
		snprintf(err, errlen, "map add: no peer '%s' (peer add first)",
			 s->peer);
		return -1;
	}
	map_addr(s, &ss, &len);
	addr_format(&ss, text, sizeof(text));
	if (config_map_find(d, s->proto, &ss)) {
		snprintf(err, errlen, "map add: %s %s is already mapped",
			 stmt_proto_name(s->proto), text);
		return -1;
	}
	{
		char what[80];

		snprintf(what, sizeof(what), "map %s %s",
			 stmt_proto_name(s->proto), text);
		if (ident_clause_check(s, what, err, errlen))
			return -1;
	}
	/*
	 * The port must be free now, not only when the stream opens.  At
	 * start-up a port still held by a previous funneld's carrier is
	 * only a warning: the map is offered again until it is free.
	 */
	fd = bind_socket(&ss, len, s->proto == IPPROTO_TCP ? SOCK_STREAM :
			 SOCK_DGRAM, "map add: bind", err, errlen);
	if (fd < 0 && !from_config)
		return -1;
	if (fd < 0)
		log_warn("%s (will retry)", err);
	m = calloc(1, sizeof(*m));
	if (!m) {
		if (fd >= 0)
			close(fd);
		snprintf(err, errlen, "map add: out of memory");
		return -1;
	}
	m->hold_fd = fd;
	m->s = *s;
	m->local = ss;
	m->local_len = len;
	snprintf(m->addr, sizeof(m->addr), "%s", text);
	m->state = MAP_WAITING;
	/* keep the order of the statements: append */
	{
		struct map **pp = &d->maps;

		while (*pp)
			pp = &(*pp)->next;
		*pp = m;
	}
	log_info("map %s %s -> peer %s service %s%s%s%s%s",
		 stmt_proto_name(s->proto), text, s->peer, s->service,
		 s->identity[0] ? ", identity " : "", s->identity,
		 s->principal[0] ? ", principal " : "", s->principal);
	{
		char what[80];

		snprintf(what, sizeof(what), "map %s %s",
			 stmt_proto_name(s->proto), text);
		plaintext_unused(d, s, what);
	}
	carrier_map_added(p->car, m);
	return 0;
}

static int do_map_del(struct daemon *d, const struct stmt *s, char *err,
		      size_t errlen)
{
	struct sockaddr_storage ss;
	struct map **pp, *m;
	struct peer *p;
	socklen_t len;
	char text[64];

	map_addr(s, &ss, &len);
	addr_format(&ss, text, sizeof(text));
	m = config_map_find(d, s->proto, &ss);
	if (!m) {
		snprintf(err, errlen, "map del: no map %s %s",
			 stmt_proto_name(s->proto), text);
		return -1;
	}
	p = config_peer(d, m->s.peer);
	if (p)
		carrier_map_deleted(p->car, m);
	for (pp = &d->maps; *pp != m; pp = &(*pp)->next)
		;
	*pp = m->next;
	carrier_ident_release(d, &m->s);
	map_release(m);
	free(m);
	log_info("map %s %s deleted", stmt_proto_name(s->proto), text);
	return 0;
}

static int do_show(struct daemon *d, const struct stmt *s, bool json,
		   FILE *out, char *err, size_t errlen);

/* plaintext given after statements with clauses it leaves unused */
static void plaintext_unused_all(const struct daemon *d)
{
	char what[80];

	if (d->identity.kind)
		plaintext_unused(d, &d->identity, NULL);
	for (const struct peer *p = d->peers; p; p = p->next) {
		snprintf(what, sizeof(what), "peer %s", p->s.name);
		plaintext_unused(d, &p->s, what);
	}
	for (const struct service *v = d->services; v; v = v->next) {
		snprintf(what, sizeof(what), "%s %s",
			 v->s.kind == STMT_RELAY_ADD ? "relay" : "service",
			 v->s.name);
		plaintext_unused(d, &v->s, what);
	}
	for (const struct map *m = d->maps; m; m = m->next) {
		snprintf(what, sizeof(what), "map %s %s",
			 stmt_proto_name(m->s.proto), m->addr);
		plaintext_unused(d, &m->s, what);
	}
}

int daemon_apply(struct daemon *d, const struct stmt *s, bool from_config,
		 bool json, FILE *out, char *err, size_t errlen)
{
	switch (s->kind) {
	case STMT_EMPTY:
		return 0;
	case STMT_IDENTITY:
		if (keytab_check(s->path, err, errlen))
			return -1;
		/* the tickets of the old identity go with it */
		fgss_ccache_destroy(d->gss_ccache);
		d->gss_ccache[0] = '\0';
		d->identity = *s;
		log_info("identity %s, keytab %s", s->principal, s->path);
		if (access(s->path, F_OK))
			log_warn("identity %s: keytab %s does not exist yet: every GSS-API context fails until it does",
				 s->principal, s->path);
		plaintext_unused(d, s, NULL);
		return 0;
	case STMT_LISTEN:
		return do_listen(d, s, err, errlen);
	case STMT_PEER_ADD:
		return do_peer_add(d, s, err, errlen);
	case STMT_PEER_DEL:
		return do_peer_del(d, s, err, errlen);
	case STMT_SERVICE_ADD:
		return do_service_add(d, s, err, errlen);
	case STMT_SERVICE_DEL:
	case STMT_RELAY_DEL:
		return do_service_del(d, s, err, errlen);
	case STMT_RELAY_ADD:
		return do_relay_add(d, s, err, errlen);
	case STMT_MAP_ADD:
		return do_map_add(d, s, from_config, err, errlen);
	case STMT_MAP_DEL:
		return do_map_del(d, s, err, errlen);
	case STMT_SHOW:
	case STMT_STATS:
		if (from_config) {
			snprintf(err, errlen, "%s: not a configuration statement",
				 stmt_kind_name(s->kind));
			return -1;
		}
		return do_show(d, s, json, out, err, errlen);
	case STMT_PLAINTEXT:
		/* carriers up with GSS-API would go on without it */
		if (!from_config && !d->plaintext) {
			snprintf(err, errlen, "plaintext: only in the configuration file (carriers up now are authenticated; restart funneld to change)");
			return -1;
		}
		if (d->plaintext)
			return 0;
		log_warn("plaintext: carriers run WITHOUT authentication and encryption");
		d->plaintext = true;
		plaintext_unused_all(d);
		return 0;
	}
	snprintf(err, errlen, "unknown statement");
	return -1;
}

int daemon_load(struct daemon *d, const char *path, bool must_exist,
		char *err, size_t errlen)
{
	char msg[DAEMON_TEXT_MAX];
	unsigned int lineno = 0;
	char *line = NULL;
	size_t cap = 0;
	struct stmt *s;
	FILE *f;
	int ret = 0;

	f = fopen(path, "re");
	if (!f) {
		if (errno == ENOENT && !must_exist)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	s = malloc(sizeof(*s));
	if (!s) {
		fclose(f);
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	while (getline(&line, &cap, f) > 0) {
		lineno++;
		if (stmt_parse_line(line, s, msg, sizeof(msg)) ||
		    daemon_apply(d, s, true, false, NULL, msg, sizeof(msg))) {
			snprintf(err, errlen, "%s:%u: %s", path, lineno, msg);
			ret = -1;
			break;
		}
	}
	free(line);
	free(s);
	fclose(f);
	return ret;
}

void daemon_shutdown(struct daemon *d)
{
	unsigned int left;

	d->stopping = true;
	while (d->carriers)
		carrier_free(d->carriers, CTRL_R_SHUTDOWN);
	while (d->peers) {
		struct peer *p = d->peers;

		d->peers = p->next;
		free(p);
	}
	while (d->maps) {
		struct map *m = d->maps;

		d->maps = m->next;
		map_release(m);
		free(m);
	}
	while (d->services) {
		struct service *s = d->services;

		d->services = s->next;
		free(s);
	}
	carrier_pause_cancel(d);
	/* every job was cancelled with its carrier or stream */
	left = workers_free(d->wk_dns, WK_STOP_GRACE_MS) +
	       workers_free(d->wk_gss, WK_STOP_GRACE_MS);
	d->wk_dns = d->wk_gss = NULL;
	d->workers_left = left;
	if (left)
		log_info("%u name or KDC lookup%s still running: left to the exit",
			 left, left == 1 ? "" : "s");
	/* a thread still in the KDC exchange may use the shared ccache */
	if (!left)
		fgss_ccache_destroy(d->gss_ccache);
	d->gss_ccache[0] = '\0';
	carrier_ident_free_all(d, !left);
	while (d->listeners) {
		struct listener *ln = d->listeners;

		d->listeners = ln->next;
		loop_del(d->loop, ln->fd);
		close(ln->fd);
		free(ln);
	}
}

/* ---- show and stats ---- */

static size_t list_len(const void *head, size_t next_off)
{
	size_t n = 0;

	for (const char *p = head; p; p = *(const char * const *)(p + next_off))
		n++;
	return n;
}

#define LIST_LEN(head, type) list_len(head, offsetof(type, next))

static void snap_free(struct snapshot *sn)
{
	carrier_snap_free(sn);
	free(sn->listens);
	free(sn->peers);
	free(sn->services);
	free(sn->maps);
}

static void allow_text(const struct stmt *s, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (unsigned int i = 0; i < s->n_allow && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s",
					 i ? "," : "", s->allow[i]);
}

static int snap_fill(struct daemon *d, struct snapshot *sn)
{
	size_t i;

	memset(sn, 0, sizeof(*sn));
	sn->version = FUNNEL_VERSION;
	sn->datapath = d->dp == DP_AUTO ? "auto" :
		       d->dp == DP_KERNEL ? "kernel" : "user";
	sn->kernel_available = d->kp.open;
	sn->plaintext = d->plaintext;
	if (d->identity.kind)
		snprintf(sn->identity, sizeof(sn->identity), "%s",
			 d->identity.principal);
	sn->uptime_ms = loop_now_ms() - d->started;
	sn->refused_handshakes = d->refused_handshakes;
	sn->refused_address = d->refused_address;
	sn->refused_principal = d->refused_principal;
	sn->refused_streams = d->refused_streams;

	sn->n_listens = LIST_LEN(d->listeners, struct listener);
	sn->n_peers = LIST_LEN(d->peers, struct peer);
	sn->n_services = LIST_LEN(d->services, struct service);
	sn->n_maps = LIST_LEN(d->maps, struct map);
	sn->listens = calloc(sn->n_listens + 1, sizeof(*sn->listens));
	sn->peers = calloc(sn->n_peers + 1, sizeof(*sn->peers));
	sn->services = calloc(sn->n_services + 1, sizeof(*sn->services));
	sn->maps = calloc(sn->n_maps + 1, sizeof(*sn->maps));
	if (!sn->listens || !sn->peers || !sn->services || !sn->maps ||
	    carrier_snap_fill(d, sn)) {
		snap_free(sn);
		return -1;
	}
	i = 0;
	for (struct listener *ln = d->listeners; ln; ln = ln->next)
		if (ln->proto != IPPROTO_SCTP)
			snprintf(sn->listens[i++], SNAP_ADDR_MAX, "%s", ln->text);
	sn->n_listens = i;
	if (!i)
		sn->accepts[0] = '\0';
	else if (!d->sctp_ok || d->sctp_listen_why[0])
		snprintf(sn->accepts, sizeof(sn->accepts), "tcp; sctp: %.200s",
			 d->sctp_ok ? d->sctp_listen_why : d->sctp_why);
	else if (!d->sctp_udp_port)
		snprintf(sn->accepts, sizeof(sn->accepts),
			 "tcp, sctp; sctp-udp: %.200s", d->sctp_udp_why);
	else
		snprintf(sn->accepts, sizeof(sn->accepts),
			 "tcp, sctp, sctp-udp on udp %u%s", d->sctp_udp_port,
			 d->sctp_udp_set ? " (net.sctp.udp_port set by funneld)" : "");
	i = 0;
	for (struct peer *p = d->peers; p; p = p->next, i++) {
		struct snap_peer *sp = &sn->peers[i];

		snprintf(sp->name, sizeof(sp->name), "%s", p->s.name);
		host_port(&p->s.addr, FUNNEL_DEFAULT_PORT, sp->host,
			  sizeof(sp->host));
		snprintf(sp->addrs[0], sizeof(sp->addrs[0]), "%s", sp->host);
		sp->n_addrs = 1;
		for (unsigned int k = 0; k < p->s.n_more &&
		     sp->n_addrs < SNAP_PEER_ADDRS_MAX; k++)
			host_port(&p->s.more[k], FUNNEL_DEFAULT_PORT,
				  sp->addrs[sp->n_addrs++],
				  sizeof(sp->addrs[0]));
		sp->udp_port = p->s.udp_port;
		sp->carrier = stmt_carrier_name(p->s.carrier);
		snprintf(sp->principal, sizeof(sp->principal), "%s",
			 p->s.principal);
	}
	i = 0;
	for (struct service *s = d->services; s; s = s->next, i++) {
		struct snap_service *ss = &sn->services[i];

		snprintf(ss->name, sizeof(ss->name), "%s", s->s.name);
		ss->proto = stmt_proto_name(s->s.proto);
		host_port(&s->s.addr, 0, ss->target, sizeof(ss->target));
		allow_text(&s->s, ss->allow, sizeof(ss->allow));
		snprintf(ss->identity, sizeof(ss->identity), "%s",
			 s->s.identity);
		ss->opens = s->opens;
		ss->refusals = s->refusals;
		snprintf(ss->last_refusal, sizeof(ss->last_refusal), "%s",
			 s->last_refusal);
		ss->proxy = s->s.proxy == 2 ? "v2" : NULL;
		ss->plugin = s->s.plugin ? stmt_plugin_name(s->s.plugin) : NULL;
		if (s->s.kind == STMT_RELAY_ADD) {
			ss->target[0] = '\0';
			snprintf(ss->relay, sizeof(ss->relay), "%s/%s",
				 s->s.peer,
				 s->s.service[0] ? s->s.service : s->s.name);
		}
		ss->relayed = s->relayed;
		ss->relay_drops = s->relay_drops;
	}
	i = 0;
	for (struct map *m = d->maps; m; m = m->next, i++) {
		struct snap_map *sm = &sn->maps[i];

		sm->proto = stmt_proto_name(m->s.proto);
		snprintf(sm->addr, sizeof(sm->addr), "%s", m->addr);
		snprintf(sm->peer, sizeof(sm->peer), "%s", m->s.peer);
		snprintf(sm->service, sizeof(sm->service), "%s", m->s.service);
		snprintf(sm->identity, sizeof(sm->identity), "%s",
			 m->s.identity);
		snprintf(sm->principal, sizeof(sm->principal), "%s",
			 m->s.principal);
		sm->plugin = m->s.plugin ? stmt_plugin_name(m->s.plugin) : NULL;
		sm->stream = m->stream;
		sm->state = map_state_name(m->state);
		snprintf(sm->reason, sizeof(sm->reason), "%s", m->reason);
	}
	return 0;
}

static int do_show(struct daemon *d, const struct stmt *s, bool json,
		   FILE *out, char *err, size_t errlen)
{
	struct snapshot sn;

	if (snap_fill(d, &sn)) {
		snprintf(err, errlen, "%s: out of memory",
			 stmt_kind_name(s->kind));
		return -1;
	}
	if (s->kind == STMT_SHOW)
		(json ? show_json : show_text)(out, &sn);
	else if (s->prometheus)
		stats_prometheus(out, &sn);
	else
		(json ? stats_json : stats_text)(out, &sn);
	snap_free(&sn);
	return 0;
}
