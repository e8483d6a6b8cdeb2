/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One GSS-API (Kerberos) security context, as funneld runs one per carrier
 * control stream and one per service stream: acquire credentials, step
 * the token exchange (tokens travel in CTRL frames), check the flags and
 * the peer's principal, and derive the stream's AEAD keys with
 * gss_pseudo_random().  Documentation/security.md defines the exchange,
 * the required flags and the exact key derivation.
 *
 * Nothing here does I/O of its own apart from what libgssapi_krb5 does
 * (reading keytabs and ccaches, asking the KDC for a service ticket in the
 * initiator's first step).  Every failure leaves a one-line message in
 * g->err, including the GSS major and minor status text.
 */
#ifndef FUNNEL_GSS_H
#define FUNNEL_GSS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gssapi/gssapi.h>

/* Output of fgss_derive(): key i->a || salt i->a || key a->i || salt a->i */
#define FGSS_KEY_LEN		32
#define FGSS_SALT_LEN		4
#define FGSS_DIR_LEN		(FGSS_KEY_LEN + FGSS_SALT_LEN)
#define FGSS_DERIVE_LEN		(2 * FGSS_DIR_LEN)	/* 72 */
#define FGSS_OFF_I2A		0
#define FGSS_OFF_A2I		FGSS_DIR_LEN

/* A token must fit one CTRL frame body (FUNNEL_MAX_PAYLOAD). */
#define FGSS_MAX_TOKEN		65527

/* Flags both ends must have in ret_flags, or the context is refused. */
#define FGSS_REQUIRED_FLAGS	(GSS_C_MUTUAL_FLAG | GSS_C_CONF_FLAG | \
				 GSS_C_INTEG_FLAG | GSS_C_REPLAY_FLAG)
/* Flags the initiator asks for. */
#define FGSS_REQ_FLAGS		(FGSS_REQUIRED_FLAGS | GSS_C_SEQUENCE_FLAG)

#define FGSS_ERR_MAX		512
#define FGSS_NAME_MAX		256

enum fgss_role {
	FGSS_NONE = 0,
	FGSS_INITIATOR,
	FGSS_ACCEPTOR,
};

enum fgss_status {
	FGSS_ERROR = -1,
	FGSS_DONE = 0,		/* established; send out if non-empty */
	FGSS_CONTINUE = 1,	/* send out, wait for the peer's token */
};

/* A token to send; free it with fgss_token_free(). */
struct fgss_token {
	void *data;
	size_t len;
};

struct fgss {
	enum fgss_role role;
	gss_cred_id_t cred;
	gss_ctx_id_t ctx;
	gss_name_t target;		/* initiator: the acceptor's name */
	OM_uint32 req_flags;		/* initiator: FGSS_REQ_FLAGS */
	OM_uint32 ret_flags;		/* once established */
	int established;
	int failed;			/* a step failed: the context is dead */
	char ccache[64];		/* private MEMORY ccache, or "" */
	/* a keytab given by its path: open once (keytab.h), and given to
	 * krb5 as kt_name, "FILE:/proc/self/fd/N", until fgss_free()
	 */
	bool kt_open;
	int kt_fd;
	char kt_name[40];
	char peer[FGSS_NAME_MAX];	/* the other end's principal */
	char err[FGSS_ERR_MAX];		/* last error, "" if none */
	/* the last error's GSS-API status (what: NULL for an error of
	 * funneld's own), and whether it is about local files
	 */
	const char *err_what;
	OM_uint32 err_major, err_minor;
	int err_local;
};

/*
 * Initiator: acquire initiator credentials, from client_keytab (cred
 * store "client_keytab", the keytab's first principal, tickets kept in
 * a MEMORY ccache of this context alone, destroyed by fgss_free()) or,
 * when it is NULL, from the default ccache.  With me (fgss_init_as(),
 * fgss_init_cc()), the keytab must hold me's key, wherever it is in the
 * keytab; an error of the keytab names it.
 * A keytab that is a path ("/..." or "FILE:/...") is opened once and
 * checked as keytab_open() says (keytab.h: its directory, owner and
 * mode, not a symbolic link); krb5 reads that open file and no other.
 * target names the acceptor: with a '/' it is a Kerberos principal
 * ("funnel/hoster" or "funnel/hoster@REALM"), without one a host-based
 * service name ("funnel@hoster", GSS_C_NT_HOSTBASED_SERVICE).  Returns
 * 0, or -1 with g->err set; call fgss_free() in either case.
 */
int fgss_init(struct fgss *g, const char *target, const char *client_keytab);
/* The same as principal me ("alice", "funnel/hoster@REALM") alone. */
int fgss_init_as(struct fgss *g, const char *target, const char *client_keytab,
		 const char *me);
/*
 * The same with the tickets from client_keytab kept in ccache, a MEMORY
 * ccache the caller shares between contexts (fgss_ccache_new()): the
 * first context gets the TGT, later ones reuse it and the service
 * tickets already there, so they need not ask the KDC.  NULL: a private
 * ccache, fresh tickets, as fgss_init_as().  fgss_free() leaves a shared
 * ccache alone.
 */
int fgss_init_cc(struct fgss *g, const char *target, const char *client_keytab,
		 const char *me, const char *ccache);
/* Name a new shared MEMORY ccache into buf (64 bytes is enough). */
void fgss_ccache_new(char *buf, size_t size);
/* Destroy a shared ccache and the tickets in it; "" does nothing. */
void fgss_ccache_destroy(const char *name);

/*
 * Acceptor: acquire acceptor credentials from keytab (cred store
 * "keytab"), or from the default keytab when it is NULL.  Any principal
 * in the keytab may be the target.  Returns 0 or -1 as fgss_init().
 */
int fgss_accept_init(struct fgss *g, const char *keytab);
/* The same, accepting only contexts for principal me. */
int fgss_accept_init_as(struct fgss *g, const char *keytab, const char *me);

/*
 * One step of the exchange.  in/in_len: the peer's token (NULL/0 for the
 * initiator's first step).  out receives the token to send (len 0: none).
 * FGSS_CONTINUE: send out and call again with the peer's answer.
 * FGSS_DONE: established, flags checked, g->peer set; send out if its
 * length is not 0.  FGSS_ERROR: g->err says why; out is empty and the
 * context cannot be used any more.
 */
enum fgss_status fgss_step(struct fgss *g, const void *in, size_t in_len,
			   struct fgss_token *out);

void fgss_token_free(struct fgss_token *t);

/* The peer's principal as text ("alice@FUNNEL.TEST"), "" before DONE. */
const char *fgss_peer(const struct fgss *g);

/*
 * Allow-list check of the peer's principal: exact, case-sensitive match
 * against one of the n entries.  n == 0 allows every principal.  Returns
 * 0, or -1 with g->err "principal P is not authorized ...".
 */
int fgss_allowed(struct fgss *g, const char *const *allow, size_t n);

/*
 * Seconds the established context stays valid (GSS_C_INDEFINITE for no
 * limit), 0 if expired; -1 on error with g->err set.
 */
long long fgss_lifetime(struct fgss *g);

/*
 * Keys of the given stream and key generation (1..0xffffffff; key id =
 * generation): out = key i->a (32) || salt i->a (4) || key a->i (32) ||
 * salt a->i (4), where i is the context initiator.  Returns 0, or -1 with
 * g->err set (out zeroed).
 */
int fgss_derive(struct fgss *g, uint16_t stream, uint32_t generation,
		uint8_t out[FGSS_DERIVE_LEN]);

/* The exact PRF input of fgss_derive(); returns its length, no NUL. */
size_t fgss_label(char *buf, size_t size, uint16_t stream, uint32_t generation);

const char *fgss_error(const struct fgss *g);

/*
 * The last error as the peer may be told it, into buf: a GSS-API status
 * with its codes' texts alone, without the message the library added
 * (which may name a keytab or a ccache file); an error about a local
 * keytab as "this side's credentials are not usable"; any other error of
 * funneld's own (flags, token sizes, the allow list) as in g->err.
 * Returns buf.
 */
const char *fgss_error_peer(const struct fgss *g, char *buf, size_t size);

/*
 * Whether the last error says the peer's ticket is for another principal
 * or key than this acceptor's (wrong principal, no such key, bad key
 * version, a ticket that does not decrypt): not a clock skew, a replay,
 * an expired ticket or a bad token.
 */
int fgss_wrong_key(const struct fgss *g);

/* Set g->err (an error of the caller's, no GSS-API status). */
void fgss_set_error(struct fgss *g, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Release everything; g is zeroed and may be initialised again. */
void fgss_free(struct fgss *g);

#endif /* FUNNEL_GSS_H */
