// SPDX-License-Identifier: GPL-2.0
/*
 * Security of carriers and streams: GSS-API contexts, keys and rekeys
 * (see csec.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/funnel.h>

#include "funneld/carrier/priv.h"
#include "funneld/carrier/csec.h"
#include "funneld/carrier/ctlseal.h"
#include "funneld/keytab.h"
#include "funneld/sec/gss.h"
#include "funneld/log.h"
#include "funneld/sec/seal.h"
#include "funneld/sec/ctrmark.h"
#include "funneld/datapath/tpath.h"
#include "funneld/worker.h"

struct gjob;

/* The carrier's context, from its first step to HELLO. */
struct csec_car {
	struct fgss g;
	struct fgss_token first;	/* initiator: sent after the preamble */
	struct gjob *job;		/* initiator: the first step, running */
};

struct csec {
	struct fgss g;			/* established context of the keys */
	struct fgss ng;			/* context being run (ng.role set) */
	struct gjob *job;		/* client: the first step of ng, running */
	bool ready;			/* client: keys of generation 1 derived */
	uint32_t gen;			/* generation installed (primary) */
	uint32_t next_gen;		/* server: derived, waiting REKEY_DONE */
	uint64_t rekeys;
	char principal[FGSS_NAME_MAX];	/* the initiator's principal */
	uint8_t keys[FGSS_DERIVE_LEN];	/* last derived, cleared once used */
	struct fgss_token first;	/* client: first token, after OPEN */

	/* sealing in funneld */
	bool user;
	unsigned int primary;		/* slot index of the primary key */
	bool used[2];
	bool want_rekey;		/* asked while the old key was in use */
	bool fresh;			/* the next rekey: fresh tickets */
	struct seal_key tx[2];
	struct seal_rx rx[2];
	/* ordered streams: counters go on across generations; the last
	 * accepted and its generation (no older one is accepted after it)
	 */
	uint64_t rx_top;
	uint32_t rx_gen;
	uint64_t del_wait;		/* ms the old key is kept, so far */

	struct loop_timer t_rekey;	/* client: before the context ends */
	struct loop_timer t_del;	/* delete the old (secondary) key */

	/* counter marks (FEAT_MARK, plugins.md 5.4), keyed unordered
	 * plugin streams: per key slot the counter its last MARK sent (0:
	 * none), the timer that sends the next, and per key slot what came
	 */
	bool mark;			/* marks in use (set with the keys) */
	uint64_t mark_ctr[2];
	struct loop_timer t_mark;	/* send MARK */
	struct cmark rxm[2];		/* per slot, receive side */
	struct loop_timer t_mdl;	/* the earliest mark deadline */
	struct carrier *c;
	struct cstream *cs;
};

static const char *keytab(const struct daemon *d)
{
	return d->identity.kind ? d->identity.path : NULL;
}

/*
 * The MEMORY ccache the initiator contexts of this identity share, named
 * on first use (daemon.c destroys it with the identity); NULL without a
 * keytab, when the credentials come from the default ccache anyway.
 */
static const char *shared_ccache(struct daemon *d)
{
	if (!d->identity.kind)
		return NULL;
	if (!d->gss_ccache[0])
		fgss_ccache_new(d->gss_ccache, sizeof(d->gss_ccache));
	return d->gss_ccache;
}

/* This end's principal: the identity's, or any the credentials hold. */
static const char *me(const struct daemon *d)
{
	return d->identity.kind ? d->identity.principal : NULL;
}

/* ---- identities of services and maps (security.md section 2) ---- */

/*
 * The ccache shared by the streams of maps with the identity principal
 * and keytab, other than the daemon's: one of d->idents (made now if new;
 * NULL: out of memory).
 */
static struct ident_cc *ident_get(struct daemon *d, const char *principal,
				  const char *kt)
{
	struct ident_cc *ic;

	for (ic = d->idents; ic; ic = ic->next)
		if (!strcmp(ic->principal, principal) && !strcmp(ic->keytab, kt))
			return ic;
	ic = calloc(1, sizeof(*ic));
	if (!ic)
		return NULL;
	snprintf(ic->principal, sizeof(ic->principal), "%s", principal);
	snprintf(ic->keytab, sizeof(ic->keytab), "%s", kt);
	fgss_ccache_new(ic->ccache, sizeof(ic->ccache));
	ic->next = d->idents;
	d->idents = ic;
	return ic;
}

/*
 * A first step that ran with ic is done: the last one of a released
 * identity destroys its ccache (a worker that had not yet opened it when
 * its last map went would otherwise make it again, under the same name,
 * with nobody left to destroy it).
 */
static void ident_put(struct ident_cc *ic)
{
	if (--ic->busy || !ic->released)
		return;
	fgss_ccache_destroy(ic->ccache);
	free(ic);
}

/* another map or relay than s initiates contexts as s's identity */
static bool ident_used(const struct daemon *d, const struct stmt *s)
{
	for (const struct map *o = d->maps; o; o = o->next)
		if (&o->s != s && !strcmp(o->s.identity, s->identity) &&
		    !strcmp(o->s.path, s->path))
			return true;
	for (const struct service *o = d->services; o; o = o->next)
		if (&o->s != s && o->s.kind == STMT_RELAY_ADD &&
		    !strcmp(o->s.identity, s->identity) &&
		    !strcmp(o->s.path, s->path))
			return true;
	return false;
}

void carrier_ident_release(struct daemon *d, const struct stmt *s)
{
	struct ident_cc **pp, *ic;

	if (!s->identity[0] || ident_used(d, s))
		return;
	for (pp = &d->idents; (ic = *pp); pp = &ic->next) {
		if (strcmp(ic->principal, s->identity) ||
		    strcmp(ic->keytab, s->path))
			continue;
		*pp = ic->next;
		if (ic->busy) {
			ic->released = true;	/* ident_put() finishes */
			return;
		}
		fgss_ccache_destroy(ic->ccache);
		free(ic);
		return;
	}
}

void carrier_ident_free_all(struct daemon *d, bool destroy)
{
	while (d->idents) {
		struct ident_cc *ic = d->idents;

		d->idents = ic->next;
		if (destroy)
			fgss_ccache_destroy(ic->ccache);
		free(ic);
	}
}

/*
 * The keytab of an identity clause, when a context is about to use it:
 * it must be there, and pass the identity statement's checks (it may
 * have been removed, replaced or opened up since the statement).  A
 * check before the KDC is asked, with the identity's name in the text:
 * the context itself reads the keytab through the file gss.c opens and
 * checks again (keytab_open()).
 */
static int ident_keytab_ok(const char *kt, char *err, size_t errlen)
{
	int fd = keytab_open(kt, "keytab", err, errlen);

	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

/*
 * The identity clause of a service, NULL if none.  A relay's is its
 * next hop's initiator credential (switchbox.md): its service side
 * accepts as the daemon.
 */
static const char *svc_identity(const struct service *svc)
{
	if (!svc || svc->s.kind == STMT_RELAY_ADD || !svc->s.identity[0])
		return NULL;
	return svc->s.identity;
}

/* The principal a stream's acceptor takes tickets for; NULL: any. */
static const char *acceptor_name(const struct daemon *d,
				 const struct service *svc)
{
	return svc_identity(svc) ? svc_identity(svc) : me(d);
}

/*
 * Acceptor credentials of stream cs into g: its service's identity, else
 * the daemon's.  0, or -1 with err naming the service and the keytab of
 * its identity clause, for this side's log, and wire, what the peer is
 * told: the service and its identity's principal, nothing of the keytab,
 * its owner or mode, or funneld's user (security.md section 2).
 */
static int accept_init(struct carrier *c, struct cstream *cs, struct fgss *g,
		       char *err, size_t errlen, char *wire, size_t wirelen)
{
	const struct service *svc = config_service(c->d, cs->service);
	char why[1024];

	if (!svc) {
		snprintf(err, errlen, "service %s is gone", cs->service);
		snprintf(wire, wirelen, "%s", err);
		return -1;
	}
	if (!svc_identity(svc)) {
		if (!fgss_accept_init_as(g, keytab(c->d), me(c->d)))
			return 0;
		snprintf(err, errlen, "service %s: GSS-API: %s", svc->s.name,
			 fgss_error(g));
		snprintf(wire, wirelen,
			 "service %s: this side's credentials are not usable here; see its log",
			 svc->s.name);
		return -1;
	}
	snprintf(wire, wirelen,
		 "service %s (identity %s): its credentials are not usable here; see this side's log",
		 svc->s.name, svc->s.identity);
	if (ident_keytab_ok(svc->s.path, why, sizeof(why))) {
		snprintf(err, errlen, "service %s (identity %s): %s",
			 svc->s.name, svc->s.identity, why);
		return -1;
	}
	if (fgss_accept_init_as(g, svc->s.path, svc->s.identity)) {
		/* the keytab named once */
		bool named = strstr(fgss_error(g), svc->s.path);

		snprintf(err, errlen, "service %s (identity %s%s%s): GSS-API: %s",
			 svc->s.name, svc->s.identity,
			 named ? "" : ", keytab ", named ? "" : svc->s.path,
			 fgss_error(g));
		return -1;
	}
	return 0;
}

/*
 * The acceptor's name as the initiator asks for it: the map's
 * "principal" clause (m: a stream's map, NULL for the carrier), else the
 * peer's, else the host-based service funnel@HOST.
 */
static void target_name(const struct carrier *c, const struct stmt *m,
			char *buf, size_t len)
{
	const struct peer *p = c->peer;

	if (m && m->principal[0])
		snprintf(buf, len, "%s", m->principal);
	else if (p->s.principal[0])
		snprintf(buf, len, "%s", p->s.principal);
	else
		snprintf(buf, len, "funnel@%s", p->s.addr.host);
}

static int send_token(struct carrier *c, uint16_t stream,
		      struct fgss_token *t)
{
	int ret = 0;

	if (t->len)
		ret = carrier_send_token(c, stream, t->data, t->len);
	fgss_token_free(t);
	return ret;
}

/* ---- an initiator's first step, in a worker ---- */

/*
 * fgss_init_cc() and the first fgss_step() of an initiator: the calls
 * that may ask the KDC for a TGT and a service ticket, and wait for it
 * (krb5's timeouts: 18 s and more for a KDC that drops packets).  They
 * run in a worker thread on copies of their input; the context and the
 * token come back to the loop, where cb takes them (and must free them)
 * unless the requester cancelled the job.
 */
struct gjob {
	struct worker_job w;		/* first: the job is the gjob */
	char target[FGSS_NAME_MAX + 16];
	char keytab[STMT_PATH_MAX + 1];	/* "": none (the default ccache) */
	char me[STMT_PRINCIPAL_MAX + 1];	/* "": any */
	char ccache[64];		/* "": a private one */
	struct ident_cc *ic;		/* ccache's identity, or NULL */
	struct fgss g;
	struct fgss_token tok;
	bool ok;
	void (*cb)(struct gjob *j, void *arg);
	void *arg;
};

static void gjob_run(struct worker_job *w)
{
	struct gjob *j = (struct gjob *)w;

	j->ok = !fgss_init_cc(&j->g, j->target, j->keytab[0] ? j->keytab : NULL,
			      j->me[0] ? j->me : NULL,
			      j->ccache[0] ? j->ccache : NULL) &&
		fgss_step(&j->g, NULL, 0, &j->tok) != FGSS_ERROR;
}

static void gjob_done(struct worker_job *w, bool cancelled)
{
	struct gjob *j = (struct gjob *)w;

	if (!cancelled)
		j->cb(j, j->arg);
	/* what cb did not take */
	fgss_token_free(&j->tok);
	fgss_free(&j->g);
	if (j->ic)
		ident_put(j->ic);
	free(j);
}

/*
 * Start the first step of an initiator context for carrier c, or for its
 * stream of map m (its identity and target clauses); fresh: a private
 * ccache, fresh tickets.  NULL with err: not started.
 */
static struct gjob *gjob_start(struct carrier *c, const struct stmt *m,
			       bool fresh,
			       void (*cb)(struct gjob *j, void *arg),
			       void *arg, char *err, size_t errlen)
{
	struct daemon *d = c->d;
	const char *kt = keytab(d), *who = me(d), *cc = NULL;
	struct ident_cc *ic = NULL;
	struct workers *wk;
	struct gjob *j;
	int ret;

	if (m && m->identity[0]) {
		char why[DAEMON_TEXT_MAX];

		if (ident_keytab_ok(m->path, why, sizeof(why))) {
			snprintf(err, errlen, "identity %s: %s", m->identity,
				 why);
			return NULL;
		}
		kt = m->path;
		who = m->identity;
		if (fresh) {
			/* a private ccache */
		} else if (d->identity.kind &&
			   !strcmp(d->identity.principal, who) &&
			   !strcmp(d->identity.path, kt)) {
			cc = shared_ccache(d);	/* the daemon's identity */
		} else {
			ic = ident_get(d, who, kt);
			if (!ic) {
				snprintf(err, errlen, "out of memory");
				return NULL;
			}
			cc = ic->ccache;
		}
	} else if (!fresh) {
		cc = shared_ccache(d);
	}
	j = calloc(1, sizeof(*j));
	if (!j) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	target_name(c, m, j->target, sizeof(j->target));
	snprintf(j->keytab, sizeof(j->keytab), "%s", kt ? kt : "");
	snprintf(j->me, sizeof(j->me), "%s", who ? who : "");
	snprintf(j->ccache, sizeof(j->ccache), "%s", cc ? cc : "");
	j->cb = cb;
	j->arg = arg;
	wk = config_workers_gss(d);
	ret = wk ? worker_submit(wk, &j->w, gjob_run, gjob_done) : -ENOMEM;
	if (!ret && ic) {
		j->ic = ic;
		ic->busy++;
	}
	if (ret) {
		snprintf(err, errlen, "GSS-API: %s",
			 ret == -EAGAIN ? "too many contexts waiting for the KDC" :
			 strerror(-ret));
		free(j);
		return NULL;
	}
	return j;
}

static void gjob_cancel(struct gjob *j)
{
	if (j)
		worker_cancel(&j->w);
}

/* The job's context and token become *g and *tok (cb only). */
static void gjob_take(struct gjob *j, struct fgss *g, struct fgss_token *tok)
{
	*g = j->g;
	memset(&j->g, 0, sizeof(j->g));
	*tok = j->tok;
	j->tok.data = NULL;
	j->tok.len = 0;
}

/* ---- the carrier's context ---- */

static void car_prepared(struct gjob *j, void *arg)
{
	struct carrier *c = arg;

	c->gss->job = NULL;
	if (!j->ok) {
		carrier_prepared(c, fgss_error(&j->g));
		return;
	}
	gjob_take(j, &c->gss->g, &c->gss->first);
	carrier_prepared(c, NULL);
}

int csec_carrier_prepare(struct carrier *c, char *err, size_t errlen)
{
	csec_carrier_free(c);
	c->gss = calloc(1, sizeof(*c->gss));
	if (!c->gss) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	c->gss->job = gjob_start(c, NULL, false, car_prepared, c, err, errlen);
	return c->gss->job ? 0 : -1;
}

int csec_carrier_start(struct carrier *c)
{
	struct daemon *d = c->d;

	c->state = CAR_AUTH;
	if (c->peer) {
		/* the first step ran before the connection was made */
		if (!c->gss || !c->gss->g.role || c->gss->job) {
			carrier_fail(c, "GSS-API: the first step is missing");
			return -1;
		}
		return send_token(c, FUNNEL_CTRL_STREAM, &c->gss->first);
	}
	c->gss = calloc(1, sizeof(*c->gss));
	if (!c->gss) {
		carrier_fail(c, "out of memory");
		return -1;
	}
	if (fgss_accept_init_as(&c->gss->g, keytab(d), me(d))) {
		carrier_fail(c, "GSS-API: %s", fgss_error(&c->gss->g));
		return -1;
	}
	return 0;
}

void csec_carrier_token(struct carrier *c, const uint8_t *tok, size_t len)
{
	struct fgss_token t = { 0 };
	enum fgss_status st;

	if (c->gss->g.established) {
		carrier_fail(c, "protocol error: a token after the context");
		return;
	}
	if (len >= CTRL_HDR_LEN && tok[0] == CTRL_VERSION &&
	    tok[1] == CTRL_HELLO) {
		struct ctrl_msg m;
		const char *why;

		/* a peer in plaintext says HELLO at once (a token is ASN.1,
		 * 0x60...): answer ours so that it logs why, and give up;
		 * a carrier never comes up without its context
		 */
		if (!ctrl_decode(tok, len, &m, &why) &&
		    m.features & CTRL_FEAT_PLAINTEXT) {
			carrier_hello(c);
			carrier_fail(c, "plaintext mismatch: this side is not plaintext, the peer is plaintext; both ends need the 'plaintext' statement, or neither");
		} else {
			carrier_fail(c, "protocol error: HELLO before the carrier's GSS-API context");
		}
		return;
	}
	st = fgss_step(&c->gss->g, tok, len, &t);
	if (st == FGSS_ERROR) {
		carrier_fail(c, "GSS-API: %s", fgss_error(&c->gss->g));
		return;
	}
	if (send_token(c, FUNNEL_CTRL_STREAM, &t) || c->fd < 0)
		return;
	if (st == FGSS_CONTINUE)
		return;
	snprintf(c->peer_principal, sizeof(c->peer_principal), "%s",
		 fgss_peer(&c->gss->g));
	log_info("%s: carrier authenticated: the peer is %s",
		 carrier_name(c), c->peer_principal);
	/* from HELLO on, stream 0 is sealed with the context's keys */
	if (ctlseal_init(c, &c->gss->g)) {
		carrier_fail(c, "GSS-API: the control messages' keys: %s",
			     fgss_error(&c->gss->g));
		return;
	}
	csec_carrier_free(c);
	carrier_hello(c);
}

void csec_carrier_free(struct carrier *c)
{
	if (!c->gss)
		return;
	gjob_cancel(c->gss->job);
	fgss_token_free(&c->gss->first);
	fgss_free(&c->gss->g);
	free(c->gss);
	c->gss = NULL;
}

/* ---- keys ---- */

/* This end's encrypt and decrypt halves of sec->keys. */
static void halves(const struct csec *sec, const uint8_t **enc,
		   const uint8_t **dec)
{
	bool init = sec->g.role == FGSS_INITIATOR;

	*enc = sec->keys + (init ? FGSS_OFF_I2A : FGSS_OFF_A2I);
	*dec = sec->keys + (init ? FGSS_OFF_A2I : FGSS_OFF_I2A);
}

static void fill_kpath_key(const struct daemon *d, const struct csec *sec,
			   uint32_t gen, struct kpath_key *kk)
{
	const uint8_t *enc, *dec;

	halves(sec, &enc, &dec);
	kk->id = gen;
	kk->enc_key = enc;
	kk->enc_salt = enc + FGSS_KEY_LEN;
	kk->dec_key = dec;
	kk->dec_salt = dec + FGSS_KEY_LEN;
	kk->soft_limit = d->key_soft_limit ? d->key_soft_limit :
			 CSEC_SOFT_LIMIT;
	kk->hard_limit = CSEC_HARD_LIMIT > kk->soft_limit ? CSEC_HARD_LIMIT :
			 kk->soft_limit;
}

static void slot_free(struct csec *sec, unsigned int i)
{
	cmark_free(&sec->rxm[i]);
	cmark_init(&sec->rxm[i]);
	sec->mark_ctr[i] = 0;
	if (!sec->used[i])
		return;
	seal_key_free(&sec->tx[i]);
	seal_rx_free(&sec->rx[i]);
	sec->used[i] = false;
}

/* Put generation gen (sec->keys) into physical slot i of funneld's keys. */
static int slot_set(struct carrier *c, struct csec *sec, unsigned int i,
		    uint32_t gen)
{
	struct kpath_key kk;

	fill_kpath_key(c->d, sec, gen, &kk);
	slot_free(sec, i);
	if (seal_key_init(&sec->tx[i], gen, kk.enc_key, kk.enc_salt,
			  kk.soft_limit, kk.hard_limit))
		return -1;
	if (seal_rx_init(&sec->rx[i], gen, kk.dec_key, kk.dec_salt,
			 !sec->cs->unordered)) {
		seal_key_free(&sec->tx[i]);
		return -1;
	}
	/* an unordered plugin stream: replay per (flow, Sequence) in the
	 * data path, no counter window (plugins.md 5.4)
	 */
	if (sec->cs->unordered && sec->cs->plugin)
		seal_rx_no_window(&sec->rx[i]);
	sec->used[i] = true;
	return 0;
}

int csec_install_first(struct carrier *c, struct cstream *cs,
		       struct kpath_key *kk, char *err, size_t errlen)
{
	struct csec *sec = cs->sec;

	sec->gen = 1;
	/* funnel.ko seals the UDP streams it forwards, and a relay's when
	 * it relays them itself (both hops' carriers in it, switchbox.md)
	 */
	sec->user = !c->kernel || cs->proto != IPPROTO_UDP ||
		    (cs->rsvc && !cs->krelay);
	if (!sec->user) {
		fill_kpath_key(c->d, sec, 1, kk);
		return 1;
	}
	sec->mark = sec->cs->unordered && sec->cs->plugin &&
		    (c->peer_features & car_features(c) & CTRL_FEAT_MARK);
	if (sec->cs->unordered && sec->cs->plugin && !sec->mark)
		log_warn("%s: stream %u: the peer sends no counter marks (no FEAT_MARK): a frame deleted on the way is noticed by its flow only (plugins.md 5.4)",
			 carrier_name(c), sec->cs->id);
	sec->primary = 0;
	if (slot_set(c, sec, 0, 1)) {
		snprintf(err, errlen, "cannot set up AES-256-GCM");
		return -1;
	}
	explicit_bzero(sec->keys, sizeof(sec->keys));
	return 0;
}

void csec_forget_keys(struct cstream *cs)
{
	if (cs->sec)
		explicit_bzero(cs->sec->keys, sizeof(cs->sec->keys));
}

/* Install generation gen (sec->keys) as the secondary key. */
static int install_next(struct carrier *c, struct csec *sec, uint32_t gen)
{
	char err[DAEMON_TEXT_MAX];
	struct kpath_key kk;
	int ret = 0;

	/* the old key in the secondary slot goes now, not later: a timer
	 * left running would delete the new one
	 */
	loop_timer_cancel(c->d->loop, &sec->t_del);
	if (sec->user) {
		/* no MARK of the old key here, even one still to go: the
		 * initiator starts a rekey only once it deleted its old
		 * key (rekey_start()), so on the initiator the slot is
		 * empty, and on the acceptor it holds a key the initiator
		 * has deleted: a MARK of it would only be counted in the
		 * peer's marks_ignored (review-lows L1)
		 */
		ret = slot_set(c, sec, !sec->primary, gen);
		if (ret)
			log_warn("%s: stream %u: cannot set up AES-256-GCM",
				 carrier_name(c), sec->cs->id);
	} else {
		fill_kpath_key(c->d, sec, gen, &kk);
		kpath_key_del(&c->d->kp, c->kid, sec->cs->id,
			      FUNNEL_KEY_SLOT_SECONDARY, NULL, 0);
		ret = kpath_key_new(&c->d->kp, c->kid, sec->cs->id,
				    FUNNEL_KEY_SLOT_SECONDARY, &kk, err,
				    sizeof(err));
		if (ret)
			log_warn("%s: stream %u: %s", carrier_name(c),
				 sec->cs->id, err);
	}
	explicit_bzero(sec->keys, sizeof(sec->keys));
	return ret;
}

/* ---- counter marks (FEAT_MARK, plugins.md 5.4) ---- */

/* MARK is sent this long after a frame was sealed (one timer a stream). */
#define CSEC_MARK_DELAY_MS	200

/*
 * Does the stream use counter marks?  A keyed unordered plugin stream
 * sealed in funneld (its receive side has no counter window), both
 * HELLOs with FEAT_MARK.
 */
static bool mark_on(const struct carrier *c, const struct csec *sec)
{
	(void)c;
	return sec->mark;
}

/* How long a mark may stay unmet: CMARK_WAIT_MS, or less for tests
 * (FUNNELD_MARK_WAIT_MS).
 */
static uint64_t mark_wait_ms(void)
{
	const char *e = getenv("FUNNELD_MARK_WAIT_MS");
	char *end;
	unsigned long v;

	if (!e || !*e)
		return CMARK_WAIT_MS;
	v = strtoul(e, &end, 10);
	return *end || !v || v > CMARK_WAIT_MS ? CMARK_WAIT_MS : v;
}

/* Send MARK for key slot i if it sealed something since the last. */
static void mark_send(struct carrier *c, struct csec *sec, unsigned int i)
{
	struct ctrl_msg m = { .type = CTRL_MARK };
	uint64_t ctr;

	if (!sec->used[i] || !mark_on(c, sec))
		return;
	ctr = sec->tx[i].next - 1;
	if (ctr < sec->tx[i].first || ctr > UINT32_MAX ||
	    sec->mark_ctr[i] == ctr)
		return;
	m.present = CTRL_BIT(CTRL_A_STREAM) | CTRL_BIT(CTRL_A_GENERATION) |
		    CTRL_BIT(CTRL_A_COUNTER);
	m.stream = sec->cs->id;
	m.generation = sec->tx[i].id;
	m.counter = (uint32_t)ctr;
	if (carrier_send_ctrl(c, &m)) {
		/* no room now: try again */
		loop_timer_arm(c->d->loop, &sec->t_mark, CSEC_MARK_DELAY_MS);
		return;
	}
	sec->mark_ctr[i] = ctr;
}

static void mark_fire(struct loop *l, void *arg)
{
	struct csec *sec = arg;

	(void)l;
	/* both slots: the old key's MARK at the swap may have found no
	 * room (review-ctrmark L1); nothing for a slot whose MARK went.
	 * Their order does not matter: the receiver checks each MARK
	 * against the key slot of its generation alone, and both go
	 * back to back on the ordered control stream (review-lows L2).
	 */
	mark_send(sec->c, sec, !sec->primary);
	mark_send(sec->c, sec, sec->primary);
}

/* Arm the deadline timer to the earliest pending mark's deadline. */
static void mark_arm_deadline(struct carrier *c, struct csec *sec)
{
	uint64_t when = 0, now = loop_now_ms();

	for (int i = 0; i < 2; i++)
		if (cmark_pending(&sec->rxm[i]) &&
		    (!when || sec->rxm[i].deadline < when))
			when = sec->rxm[i].deadline;
	if (!when)
		loop_timer_cancel(c->d->loop, &sec->t_mdl);
	else
		loop_timer_arm(c->d->loop, &sec->t_mdl,
			       when > now ? when - now : 0);
}

/* Fail the stream for the unmet mark of slot i; cs is gone after it. */
static void mark_fail(struct carrier *c, struct csec *sec, unsigned int i,
		      const char *when)
{
	char text[DAEMON_TEXT_MAX];

	snprintf(text, sizeof(text),
		 "frame(s) up to counter %llu of key generation %u did not come %s: every flow reset",
		 (unsigned long long)sec->rxm[i].mark, sec->rx[i].id, when);
	carrier_stream_fail(c, sec->cs, CTRL_R_INTEGRITY, text);
}

static void mdl_fire(struct loop *l, void *arg)
{
	struct csec *sec = arg;
	struct carrier *c = sec->c;
	uint64_t now = loop_now_ms();
	char when[64];

	(void)l;
	for (unsigned int i = 0; i < 2; i++) {
		if (sec->used[i] && cmark_expired(&sec->rxm[i], now)) {
			snprintf(when, sizeof(when),
				 "within %llu s of the sender's mark",
				 (unsigned long long)(mark_wait_ms() + 999) /
				 1000);
			mark_fail(c, sec, i, when);
			return;
		}
	}
	mark_arm_deadline(c, sec);
}

/*
 * A new key is about to replace the old one kept in the secondary slot
 * (a rekey within its retention): a mark of the old key still unmet
 * can no longer be met.  True: the stream is closed (cs and sec gone).
 */
static bool old_mark_unmet(struct carrier *c, struct csec *sec)
{
	unsigned int i = !sec->primary;

	if (!sec->user || !sec->used[i] || !cmark_pending(&sec->rxm[i]))
		return false;
	mark_fail(c, sec, i, "before the key was replaced");
	return true;
}

/*
 * Counter ctr of key slot i authenticated.  -1: it would pass counters
 * never authenticated (plugins.md 5.4: deeper than SCTP can reorder),
 * or no memory for the window: the caller fails the stream.
 */
static int mark_seen(struct carrier *c, struct csec *sec, unsigned int i,
		     const uint8_t *be)
{
	uint64_t ctr = 0, low = sec->rxm[i].low;
	enum cmark_verdict v;

	for (int k = 0; k < 8; k++)
		ctr = ctr << 8 | be[k];
	v = cmark_seen(&sec->rxm[i], ctr, loop_now_ms());
	if (v == CMARK_OVERFLOW) {
		log_warn("%s: stream %u: counter %llu of key generation %u came while counter %llu never did: frames deleted",
			 carrier_name(c), sec->cs->id,
			 (unsigned long long)ctr, sec->rx[i].id,
			 (unsigned long long)low);
		return -1;
	}
	if (v == CMARK_NOMEM) {
		log_warn("%s: stream %u: no memory for the counter window",
			 carrier_name(c), sec->cs->id);
		return -1;
	}
	return 0;
}

void csec_mark(struct carrier *c, struct cstream *cs, uint32_t gen,
	       uint32_t ctr)
{
	struct csec *sec = cs ? cs->sec : NULL;

	if (!sec || !mark_on(c, sec) || cs->state != CS_OPEN) {
		c->marks_ignored++;
		log_debug("%s: MARK for stream %u ignored: not a keyed unordered plugin stream",
			  carrier_name(c), cs ? cs->id : 0);
		return;
	}
	for (unsigned int i = 0; i < 2; i++) {
		if (!sec->used[i] || sec->rx[i].id != gen)
			continue;
		if (!cmark_mark(&sec->rxm[i], ctr, loop_now_ms(),
				mark_wait_ms()))
			mark_arm_deadline(c, sec);
		return;
	}
	c->marks_ignored++;
	log_debug("%s: stream %u: MARK for key generation %u ignored: not installed",
		  carrier_name(c), cs->id, gen);
}

/*
 * Make the secondary key primary; the old one goes CSEC_DEL_OLD_MS later.
 * -1: the swap failed, the stream is closed (the two ends would be out
 * of step for good).
 */
static int swap_keys(struct carrier *c, struct csec *sec, uint32_t gen)
{
	struct cstream *cs = sec->cs;
	char err[DAEMON_TEXT_MAX];

	if (sec->user) {
		if (!sec->used[!sec->primary]) {
			snprintf(err, sizeof(err), "key swap: no new key");
			goto fail;
		}
		/* the old key's mark goes before the new key is used */
		loop_timer_cancel(c->d->loop, &sec->t_mark);
		mark_send(c, sec, sec->primary);
		sec->primary = !sec->primary;
		/* ordered: the new key's first counter follows the old's
		 * last, so that a frame dropped or moved across the
		 * boundary shows
		 */
		if (!cs->unordered)
			seal_key_start_at(&sec->tx[sec->primary],
					  sec->tx[!sec->primary].next);
	} else if (kpath_key_swap(&c->d->kp, c->kid, cs->id, err,
				  sizeof(err))) {
		goto fail;
	}
	sec->gen = gen;
	sec->rekeys++;
	sec->del_wait = c->ops->protocol == IPPROTO_SCTP ?
			CSEC_DEL_OLD_SCTP_MS : CSEC_DEL_OLD_MS;
	loop_timer_arm(c->d->loop, &sec->t_del, sec->del_wait);
	log_info("%s: stream %u: key generation %u in use", carrier_name(c),
		 cs->id, gen);
	/* a TCP stream may have stopped on a frame it could not seal */
	if (cs->tp)
		tpath_stream_resume(cs->tp);
	else if (cs->rtcp)
		rtcp_resume(cs);
	return 0;
fail:
	carrier_stream_fail(c, cs, CTRL_R_INTERNAL, err);
	return -1;
}

static void rekey_start(struct carrier *c, struct csec *sec);

static void del_fire(struct loop *l, void *arg)
{
	struct csec *sec = arg;
	struct carrier *c = sec->c;

	(void)l;
	/*
	 * Ordered: the peer's frames sealed with the old key come before
	 * any with the new one; keep the old key until one with the new
	 * one came (it cannot be used after that), CSEC_DEL_OLD_SCTP_MS at
	 * most, however slowly the peer's queue drains.
	 */
	if (sec->user && !sec->cs->unordered && sec->rx_gen < sec->gen &&
	    sec->del_wait < CSEC_DEL_OLD_SCTP_MS) {
		sec->del_wait += CSEC_DEL_OLD_MS;
		loop_timer_arm(c->d->loop, &sec->t_del, CSEC_DEL_OLD_MS);
		return;
	}
	if (sec->user && cmark_pending(&sec->rxm[!sec->primary])) {
		/* its frames cannot come any more */
		mark_fail(c, sec, !sec->primary,
			  "before the key was deleted");
		return;
	}
	if (sec->user)
		slot_free(sec, !sec->primary);
	else
		kpath_key_del(&c->d->kp, c->kid, sec->cs->id,
			      FUNNEL_KEY_SLOT_SECONDARY, NULL, 0);
	if (sec->want_rekey && sec->g.role == FGSS_INITIATOR)
		rekey_start(c, sec);
}

/* ---- stream contexts ---- */

static void arm_rekey(struct carrier *c, struct csec *sec)
{
	long long life = fgss_lifetime(&sec->g);
	long long margin, at;

	if (sec->g.role != FGSS_INITIATOR || life < 0 ||
	    life == (long long)GSS_C_INDEFINITE) {
		loop_timer_cancel(c->d->loop, &sec->t_rekey);
		return;
	}
	/* security.md section 6: the larger of 60 s and a tenth, but not
	 * sooner than 10 s (half the lifetime if shorter) from now
	 */
	margin = life / 10 > 60 ? life / 10 : 60;
	at = life - margin;
	if (at < (life / 2 < 10 ? life / 2 : 10))
		at = life / 2 < 10 ? life / 2 : 10;
	if (at < 1)
		at = 1;
	loop_timer_arm(c->d->loop, &sec->t_rekey, (uint64_t)at * 1000);
	log_debug("%s: stream %u: context valid %lld s, rekey in %lld s",
		  carrier_name(c), sec->cs->id, life, at);
}

static struct csec *sec_new(struct carrier *c, struct cstream *cs);

/* Room for init_failed()'s text. */
#define CSEC_INIT_ERR_MAX	(FGSS_ERR_MAX + STMT_PRINCIPAL_MAX + \
				 STMT_PATH_MAX + 64)

/*
 * Why the first step of an initiator for map m (NULL: the carrier's)
 * failed: with the map's identity clause, and its keytab unless the
 * error names it, as gjob_start()'s keytab checks say it.
 */
static void init_failed(const struct stmt *m, const struct fgss *g,
			char *why, size_t len)
{
	const char *e = fgss_error(g);
	bool named;

	if (!m || !m->identity[0]) {
		snprintf(why, len, "GSS-API: %s", e);
		return;
	}
	named = strstr(e, m->path);
	snprintf(why, len, "identity %s%s%s: GSS-API: %s", m->identity,
		 named ? "" : ", keytab ", named ? "" : m->path, e);
}

/*
 * The statement whose identity and principal clauses a client stream's
 * context follows: its map's, or the relay's of a relay's next hop.
 */
static const struct stmt *cs_ini(const struct cstream *cs)
{
	if (cs->map)
		return &cs->map->s;
	return cs->rsvc ? &cs->rsvc->s : NULL;
}

static void stream_prepared(struct gjob *j, void *arg)
{
	struct csec *sec = arg;
	struct carrier *c = sec->c;

	sec->job = NULL;
	if (!j->ok) {
		char why[CSEC_INIT_ERR_MAX];

		init_failed(cs_ini(sec->cs), &j->g, why, sizeof(why));
		carrier_stream_prepared(c, sec->cs, why);
		return;
	}
	gjob_take(j, &sec->ng, &sec->first);
	/* the server's deadline starts with OPEN: ours too */
	loop_timer_arm(c->d->loop, &sec->t_rekey, CSEC_DEADLINE_MS);
	carrier_stream_prepared(c, sec->cs, NULL);
}

int csec_client_start(struct carrier *c, struct cstream *cs,
		      char *err, size_t errlen)
{
	struct csec *sec = sec_new(c, cs);

	if (!sec) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	sec->job = gjob_start(c, cs_ini(cs), false, stream_prepared, sec, err,
			      errlen);
	return sec->job ? 0 : -1;
}

void csec_send_first(struct carrier *c, struct cstream *cs)
{
	send_token(c, cs->id, &cs->sec->first);
}

int csec_server_start(struct carrier *c, struct cstream *cs,
		      char *err, size_t errlen, char *wire, size_t wirelen)
{
	struct csec *sec = sec_new(c, cs);

	if (!sec) {
		snprintf(err, errlen, "out of memory");
		snprintf(wire, wirelen, "%s", err);
		return -1;
	}
	if (accept_init(c, cs, &sec->ng, err, errlen, wire, wirelen))
		return -1;
	loop_timer_arm(c->d->loop, &sec->t_rekey, CSEC_DEADLINE_MS);
	return 0;
}

bool csec_ready(const struct cstream *cs)
{
	return cs->sec && cs->sec->ready;
}

static void rekey_prepared(struct gjob *j, void *arg)
{
	struct csec *sec = arg;
	struct carrier *c = sec->c;
	struct fgss_token t = { 0 };

	sec->job = NULL;
	if (!j->ok) {
		char why[CSEC_INIT_ERR_MAX];

		init_failed(cs_ini(sec->cs), &j->g, why, sizeof(why));
		log_warn("%s: stream %u: rekey: %s (again in %u s)",
			 carrier_name(c), sec->cs->id, why,
			 CSEC_RETRY_MS / 1000);
		loop_timer_arm(c->d->loop, &sec->t_rekey, CSEC_RETRY_MS);
		return;
	}
	gjob_take(j, &sec->ng, &t);
	log_debug("%s: stream %u: rekey to generation %u", carrier_name(c),
		  sec->cs->id, sec->gen + 1);
	loop_timer_arm(c->d->loop, &sec->t_rekey, CSEC_DEADLINE_MS);
	send_token(c, sec->cs->id, &t);
}

/*
 * Client: start a new context on an open stream.  Its first step runs in
 * a worker; the stream goes on with its keys meanwhile.
 */
static void rekey_start(struct carrier *c, struct csec *sec)
{
	char err[DAEMON_TEXT_MAX];
	bool fresh;

	if (sec->ng.role || sec->job)
		return;		/* one at a time */
	if (sec->t_del.armed) {
		sec->want_rekey = true;	/* once the old key is gone */
		return;
	}
	sec->want_rekey = false;
	/* a rekey for the context's lifetime needs a new service ticket,
	 * not the one the shared ccache holds: a private ccache of its own
	 */
	fresh = sec->fresh;
	sec->fresh = false;
	/* no deadline while the KDC is asked: krb5 gives up by itself */
	loop_timer_cancel(c->d->loop, &sec->t_rekey);
	log_debug("%s: stream %u: rekey: a new context%s", carrier_name(c),
		  sec->cs->id, fresh ? ", fresh tickets" : "");
	sec->job = gjob_start(c, cs_ini(sec->cs), fresh, rekey_prepared, sec, err,
			      sizeof(err));
	if (!sec->job) {
		log_warn("%s: stream %u: rekey: %s (again in %u s)",
			 carrier_name(c), sec->cs->id, err,
			 CSEC_RETRY_MS / 1000);
		loop_timer_arm(c->d->loop, &sec->t_rekey, CSEC_RETRY_MS);
	}
}

/*
 * t_rekey: the lifetime timer of an open stream (client), and the
 * deadline of a context being run: a stream that does not open in
 * time is given up, a rekey that does not complete is run again.
 */
static void rekey_fire(struct loop *l, void *arg)
{
	struct csec *sec = arg;

	(void)l;
	if (sec->cs->state != CS_OPEN) {
		carrier_stream_fail(sec->c, sec->cs, CTRL_R_NOT_AUTHORIZED,
				    "no GSS-API context within the time allowed");
		return;
	}
	if (sec->ng.role) {
		log_warn("%s: stream %u: rekey not done in %u s: again",
			 carrier_name(sec->c), sec->cs->id,
			 CSEC_DEADLINE_MS / 1000);
		fgss_free(&sec->ng);
	}
	sec->fresh = true;
	rekey_start(sec->c, sec);
}

static struct csec *sec_new(struct carrier *c, struct cstream *cs)
{
	struct csec *sec = calloc(1, sizeof(*sec));

	if (!sec)
		return NULL;
	sec->c = c;
	sec->cs = cs;
	loop_timer_init(&sec->t_rekey, rekey_fire, sec);
	loop_timer_init(&sec->t_del, del_fire, sec);
	loop_timer_init(&sec->t_mark, mark_fire, sec);
	loop_timer_init(&sec->t_mdl, mdl_fire, sec);
	cmark_init(&sec->rxm[0]);
	cmark_init(&sec->rxm[1]);
	cs->sec = sec;
	return sec;
}

/*
 * The context being run failed: the stream ends, or the rekey is retried.
 * why: for this side's log and show; wire: what the peer is told.
 */
static void ctx_failed(struct carrier *c, struct cstream *cs, const char *why,
		       const char *wire)
{
	struct csec *sec = cs->sec;

	if (cs->state == CS_OPEN && sec->g.role == FGSS_INITIATOR) {
		log_warn("%s: stream %u: rekey: %s", carrier_name(c), cs->id,
			 why);
		fgss_free(&sec->ng);
		loop_timer_arm(c->d->loop, &sec->t_rekey, CSEC_RETRY_MS);
		return;
	}
	/* the server: a refused rekey (not authorized any more, a bad
	 * ticket) ends the stream; the client offers its map again
	 */
	carrier_stream_fail_detail(c, cs, CTRL_R_NOT_AUTHORIZED, wire, why);
}

/* Server: the allow list of the stream's service. */
static int authorized(struct carrier *c, struct cstream *cs, struct fgss *g)
{
	const struct service *svc = config_service(c->d, cs->service);
	const char *allow[STMT_ALLOW_MAX];

	if (!svc) {
		fgss_set_error(g, "service %s is gone", cs->service);
		return -1;
	}
	for (unsigned int i = 0; i < svc->s.n_allow; i++)
		allow[i] = svc->s.allow[i];
	return fgss_allowed(g, allow, svc->s.n_allow);
}

/* The context being run is established: it becomes the keys' context. */
static int ctx_done(struct carrier *c, struct cstream *cs, uint32_t gen)
{
	struct csec *sec = cs->sec;
	const char *who = fgss_peer(&sec->ng);

	if (sec->g.role && strcmp(who, sec->principal) &&
	    sec->ng.role == FGSS_ACCEPTOR) {
		fgss_set_error(&sec->ng, "rekey by %s, the stream is %s's", who,
			       sec->principal);
		return -1;
	}
	if (sec->ng.role == FGSS_ACCEPTOR && authorized(c, cs, &sec->ng))
		return -1;
	if (fgss_derive(&sec->ng, cs->id, gen, sec->keys))
		return -1;
	fgss_free(&sec->g);
	sec->g = sec->ng;
	memset(&sec->ng, 0, sizeof(sec->ng));
	if (sec->g.role == FGSS_ACCEPTOR)	/* the client renews */
		loop_timer_cancel(c->d->loop, &sec->t_rekey);
	snprintf(sec->principal, sizeof(sec->principal), "%s",
		 fgss_peer(&sec->g));
	return 0;
}

/*
 * Why an acceptor's step failed, into why (this side's) and wire (the
 * peer's, without what the library says of local files): a ticket for
 * another principal or key names the principal the service accepts (a
 * map may ask for another); any other failure (clock skew, a replay, an
 * expired ticket) the service and its identity.
 */
static void accept_failed(struct carrier *c, struct cstream *cs,
			  const struct fgss *g, char *why, size_t len,
			  char *wire, size_t wirelen)
{
	const struct service *svc = config_service(c->d, cs->service);
	const char *name = acceptor_name(c->d, svc);
	char pub[FGSS_ERR_MAX];

	fgss_error_peer(g, pub, sizeof(pub));
	if (name && fgss_wrong_key(g)) {
		snprintf(why, len, "service %s accepts %s only: GSS-API: %s",
			 cs->service, name, fgss_error(g));
		snprintf(wire, wirelen, "service %s accepts %s only: GSS-API: %s",
			 cs->service, name, pub);
	} else if (svc_identity(svc)) {
		snprintf(why, len, "service %s (identity %s): GSS-API: %s",
			 cs->service, svc->s.identity, fgss_error(g));
		snprintf(wire, wirelen, "service %s (identity %s): GSS-API: %s",
			 cs->service, svc->s.identity, pub);
	} else {
		snprintf(why, len, "service %s: GSS-API: %s", cs->service,
			 fgss_error(g));
		snprintf(wire, wirelen, "service %s: GSS-API: %s", cs->service,
			 pub);
	}
}

void csec_stream_token(struct carrier *c, struct cstream *cs,
		       const uint8_t *tok, size_t len)
{
	char why[FGSS_ERR_MAX + 2 * STMT_PRINCIPAL_MAX + 64];
	char wire[sizeof(why)];		/* the peer's (cut at CTRL_TEXT_MAX) */
	struct csec *sec = cs->sec;
	struct fgss_token t = { 0 };
	enum fgss_status st;
	uint32_t gen;

	if (!sec->ng.role) {
		/* the client starts a rekey: only the server takes that; a
		 * rekey whose REKEY_DONE never came is dropped for it
		 */
		if (cs->state == CS_OPEN && sec->g.role == FGSS_ACCEPTOR &&
		    sec->next_gen) {
			log_warn("%s: stream %u: generation %u dropped, the client rekeys again",
				 carrier_name(c), cs->id, sec->next_gen);
			sec->next_gen = 0;
			del_fire(c->d->loop, sec);
		}
		if (cs->state != CS_OPEN || sec->g.role != FGSS_ACCEPTOR) {
			log_warn("%s: stream %u: unexpected token dropped",
				 carrier_name(c), cs->id);
			return;
		}
		if (accept_init(c, cs, &sec->ng, why, sizeof(why), wire,
				sizeof(wire))) {
			log_warn("%s: stream %u: rekey token dropped: %s",
				 carrier_name(c), cs->id, why);
			fgss_free(&sec->ng);
			return;
		}
	}
	st = fgss_step(&sec->ng, tok, len, &t);
	if (st == FGSS_ERROR) {
		char pub[FGSS_ERR_MAX];

		if (sec->ng.role == FGSS_ACCEPTOR) {
			accept_failed(c, cs, &sec->ng, why, sizeof(why), wire,
				      sizeof(wire));
		} else {
			snprintf(why, sizeof(why), "GSS-API: %s",
				 fgss_error(&sec->ng));
			snprintf(wire, sizeof(wire), "GSS-API: %s",
				 fgss_error_peer(&sec->ng, pub, sizeof(pub)));
		}
		ctx_failed(c, cs, why, wire);
		return;
	}
	if (st == FGSS_CONTINUE) {
		send_token(c, cs->id, &t);
		return;
	}
	gen = cs->state == CS_OPEN ? sec->gen + 1 : 1;
	if (ctx_done(c, cs, gen)) {
		fgss_token_free(&t);
		snprintf(why, sizeof(why), "%s", fgss_error(&sec->ng));
		fgss_error_peer(&sec->ng, wire, sizeof(wire));
		ctx_failed(c, cs, why, wire);
		return;
	}
	if (sec->g.role == FGSS_ACCEPTOR) {
		if (cs->state != CS_OPEN) {
			/* install, last token, OPEN_OK (ctrl.c) */
			log_info("%s: stream %u: %s authenticated for service %s",
				 carrier_name(c), cs->id, sec->principal,
				 cs->service);
			carrier_stream_accept(c, cs, t.data, t.len);
			fgss_token_free(&t);
			return;
		}
		/* rekey: decrypt with G+1 now, encrypt on REKEY_DONE */
		if (old_mark_unmet(c, sec)) {
			fgss_token_free(&t);
			return;		/* the stream is closed */
		}
		if (install_next(c, sec, gen)) {
			fgss_token_free(&t);
			carrier_stream_fail(c, cs, CTRL_R_INTERNAL,
					    "cannot install the new key");
			return;
		}
		sec->next_gen = gen;
		send_token(c, cs->id, &t);
		return;
	}
	fgss_token_free(&t);
	arm_rekey(c, sec);
	if (cs->state != CS_OPEN) {
		sec->ready = true;	/* OPEN_OK comes next */
		return;
	}
	/* client rekey: the server decrypts G+1 already */
	if (old_mark_unmet(c, sec))
		return;		/* the stream is closed */
	if (install_next(c, sec, gen)) {
		loop_timer_arm(c->d->loop, &sec->t_rekey, CSEC_RETRY_MS);
		return;
	}
	if (swap_keys(c, sec, gen))
		return;		/* the stream is closed */
	{
		struct ctrl_msg m = { .type = CTRL_REKEY_DONE,
				      .stream = cs->id, .generation = gen };

		m.present = CTRL_BIT(CTRL_A_STREAM) |
			    CTRL_BIT(CTRL_A_GENERATION);
		carrier_send_ctrl(c, &m);
	}
}

void csec_rekey_done(struct carrier *c, struct cstream *cs, uint32_t gen)
{
	struct csec *sec = cs->sec;

	if (!sec || !sec->next_gen || gen != sec->next_gen) {
		log_warn("%s: stream %u: REKEY_DONE for generation %u ignored",
			 carrier_name(c), cs->id, gen);
		return;
	}
	sec->next_gen = 0;
	swap_keys(c, sec, gen);
}

/* A key of this end reached its soft limit: the client rekeys, or is asked. */
static void soft_limit(struct carrier *c, struct csec *sec)
{
	struct ctrl_msg m = { .type = CTRL_REKEY, .stream = sec->cs->id,
			      .generation = sec->gen };

	log_info("%s: stream %u: key %u reached its soft limit",
		 carrier_name(c), sec->cs->id, sec->gen);
	if (sec->g.role == FGSS_INITIATOR) {
		rekey_start(c, sec);
		return;
	}
	m.present = CTRL_BIT(CTRL_A_STREAM) | CTRL_BIT(CTRL_A_GENERATION);
	carrier_send_ctrl(c, &m);
}

void csec_rekey_asked(struct carrier *c, struct cstream *cs, uint32_t gen)
{
	struct csec *sec = cs->sec;

	if (sec && cs->state == CS_OPEN && gen == sec->gen)
		rekey_start(c, sec);
}

void csec_key_expire(struct daemon *d, uint32_t kid, uint16_t stream,
		     uint32_t key_id)
{
	for (struct carrier *c = d->carriers; c; c = c->next) {
		struct cstream *cs;

		if (!c->kernel || c->kid != kid)
			continue;
		for (cs = c->streams; cs; cs = cs->next)
			if (cs->id == stream)
				break;
		if (cs && cs->sec && cs->sec->gen == key_id)
			soft_limit(c, cs->sec);
		return;
	}
}

void csec_free(struct carrier *c, struct cstream *cs)
{
	struct csec *sec = cs->sec;

	if (!sec)
		return;
	gjob_cancel(sec->job);
	loop_timer_cancel(c->d->loop, &sec->t_rekey);
	loop_timer_cancel(c->d->loop, &sec->t_del);
	/* no last MARK: the CLOSE (or the carrier's end) resets every
	 * flow of the stream at the peer anyway, and would come right
	 * after it (control-protocol.md section 9)
	 */
	loop_timer_cancel(c->d->loop, &sec->t_mark);
	loop_timer_cancel(c->d->loop, &sec->t_mdl);
	fgss_free(&sec->g);
	fgss_free(&sec->ng);
	fgss_token_free(&sec->first);
	slot_free(sec, 0);
	slot_free(sec, 1);
	explicit_bzero(sec->keys, sizeof(sec->keys));
	free(sec);
	cs->sec = NULL;
}

/* ---- sealing in funneld ---- */

bool csec_user_sealed(const struct cstream *cs)
{
	return cs->sec && cs->sec->user && cs->sec->gen;
}

bool csec_sealed_type(const struct cstream *cs, uint8_t type)
{
	/* FLOW_END: ordered streams' and plugin streams' (a forged one
	 * with R would reset an LDAP connection; wire-format.md 6)
	 */
	return type == FUNNEL_T_DATA ||
	       (type == FUNNEL_T_FLOW_END && (!cs->unordered || cs->plugin));
}

size_t csec_overhead(const struct cstream *cs)
{
	return csec_user_sealed(cs) ? FUNNEL_SEAL_OVERHEAD : 0;
}

int csec_seal(struct carrier *c, struct cstream *cs, const uint8_t *frame,
	      size_t len, const uint8_t **out, size_t *outlen)
{
	struct csec *sec = cs->sec;
	bool soft = false;
	int n;

	*out = frame;
	*outlen = len;
	if (!csec_user_sealed(cs) || !csec_sealed_type(cs, frame[2]))
		return 0;
	n = seal_frame(&sec->tx[sec->primary], frame, frame + FUNNEL_HDR_LEN,
		       len - FUNNEL_HDR_LEN, c->sbuf, FUNNEL_MAX_FRAME, &soft);
	if (n == -ENOKEY)
		FST(&c->st, TX_DROP_NO_KEY)++;
	else if (n == -EIO)
		FST(&c->st, TX_DROP_QUEUE)++;
	if (n < 0)
		return n == -EMSGSIZE || n == -ENOKEY ? n : -EIO;
	if (soft)
		soft_limit(c, sec);
	if (!sec->t_mark.armed && mark_on(c, sec))
		loop_timer_arm(c->d->loop, &sec->t_mark, CSEC_MARK_DELAY_MS);
	*out = c->sbuf;
	*outlen = (size_t)n;
	return 0;
}

int csec_open(struct carrier *c, struct cstream *cs, const uint8_t *buf,
	      size_t len, struct funnel_frame *f)
{
	struct csec *sec = cs->sec;
	struct seal_rx *slot[2] = { NULL, NULL };
	enum seal_verdict v;
	struct seal_rx *rx;
	size_t n = 0;

	if (!(f->flags & FUNNEL_F_SEALED)) {
		FST(&c->st, RX_DROP_NO_KEY)++;
		return -2;
	}
	if (sec->used[sec->primary])
		slot[FUNNEL_KEY_SLOT_PRIMARY] = &sec->rx[sec->primary];
	if (sec->used[!sec->primary])
		slot[FUNNEL_KEY_SLOT_SECONDARY] = &sec->rx[!sec->primary];
	rx = seal_rx_pick(slot, f->flags);
	if (!rx) {
		v = SEAL_NO_KEY;
	} else if (cs->unordered) {
		v = seal_open(rx, buf, len, c->sbuf, FUNNEL_MAX_FRAME, &n);
		if (v == SEAL_OK && mark_on(c, sec) &&
		    mark_seen(c, sec, (unsigned int)(rx - sec->rx),
			      buf + FUNNEL_HDR_LEN))
			return -1;
	} else if (rx->id < sec->rx_gen) {
		/* an older generation after a newer one: out of order */
		v = SEAL_REPLAY;
	} else {
		/* exactly the stream's next counter, whatever the key */
		rx->top = sec->rx_top;
		v = seal_open(rx, buf, len, c->sbuf, FUNNEL_MAX_FRAME, &n);
		if (v == SEAL_OK) {
			sec->rx_top = rx->top;
			sec->rx_gen = rx->id;
		}
	}
	if (v != SEAL_OK) {
		csec_count_drop(c, v);
		return v == SEAL_NO_KEY ? -2 : -1;
	}
	f->flags &= (uint8_t)~(FUNNEL_F_SEALED | FUNNEL_F_KEY_PHASE);
	f->body = c->sbuf;
	f->body_len = n;
	return 0;
}

void csec_count_drop(struct carrier *c, enum seal_verdict v)
{
	switch (v) {
	case SEAL_OK:
		break;
	case SEAL_MALFORMED:
		FST(&c->st, RX_DROP_MALFORMED)++;
		break;
	case SEAL_NO_KEY:
		FST(&c->st, RX_DROP_NO_KEY)++;
		break;
	case SEAL_REPLAY:
		FST(&c->st, RX_DROP_REPLAY)++;
		break;
	case SEAL_AUTH:
		FST(&c->st, RX_DROP_AUTH)++;
		break;
	}
}

/* ---- show ---- */

uint32_t csec_generation(const struct cstream *cs)
{
	return cs->sec ? cs->sec->gen : 0;
}

uint64_t csec_rekeys(const struct cstream *cs)
{
	return cs->sec ? cs->sec->rekeys : 0;
}

const char *csec_principal(const struct cstream *cs)
{
	return cs->sec ? cs->sec->principal : "";
}
