// SPDX-License-Identifier: GPL-2.0
/*
 * GSS-API contexts and key derivation for funneld (Kerberos mechanism
 * only).  Documentation/security.md is the specification.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <gssapi/gssapi.h>
#include <gssapi/gssapi_ext.h>
#include <gssapi/gssapi_krb5.h>
#include <krb5/krb5.h>
#include <com_err.h>

#include "funneld/keytab.h"
#include "funneld/sec/gss.h"

static const struct {
	OM_uint32 flag;
	const char *name;
} required_flags[] = {
	{ GSS_C_MUTUAL_FLAG, "mutual (GSS_C_MUTUAL_FLAG)" },
	{ GSS_C_CONF_FLAG, "conf (GSS_C_CONF_FLAG)" },
	{ GSS_C_INTEG_FLAG, "integ (GSS_C_INTEG_FLAG)" },
	{ GSS_C_REPLAY_FLAG, "replay (GSS_C_REPLAY_FLAG)" },
};

static void set_err(struct fgss *g, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void set_err_v(struct fgss *g, const char *fmt, va_list ap)
{
	vsnprintf(g->err, sizeof(g->err), fmt, ap);
	g->err_what = NULL;
	g->err_major = 0;
	g->err_minor = 0;
	g->err_local = 0;
}

static void set_err(struct fgss *g, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_err_v(g, fmt, ap);
	va_end(ap);
}

void fgss_set_error(struct fgss *g, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_err_v(g, fmt, ap);
	va_end(ap);
}

static void append(char *buf, size_t size, const char *s, size_t len)
{
	size_t n = strlen(buf);

	if (n + 1 >= size)
		return;
	if (len > size - n - 1)
		len = size - n - 1;
	memcpy(buf + n, s, len);
	buf[n + len] = '\0';
}

/* Append the text of one status code (all its messages) to buf. */
static void status_text(char *buf, size_t size, OM_uint32 code, int type)
{
	OM_uint32 major, minor, more = 0;
	gss_buffer_desc msg;
	int first = 1;

	do {
		major = gss_display_status(&minor, code, type, gss_mech_krb5,
					   &more, &msg);
		if (GSS_ERROR(major))
			break;
		if (!first)
			append(buf, size, "; ", 2);
		append(buf, size, msg.value, msg.length);
		gss_release_buffer(&minor, &msg);
		first = 0;
	} while (more);
}

/*
 * buf = "what: major text: minor text (major 0x..., minor ...)"; the
 * major text of GSS_S_FAILURE ("Unspecified GSS failure.  Minor code may
 * provide more information") is left out when there is a minor one.
 * generic: the minor code's text from its error table alone, without
 * the message the library added for this failure (which may name a
 * keytab or a ccache file).
 */
static void gss_text(char *buf, size_t size, const char *what,
		     OM_uint32 major, OM_uint32 minor, bool generic)
{
	char num[64];

	snprintf(buf, size, "%s: ", what);
	if (!minor || GSS_ROUTINE_ERROR(major) != GSS_S_FAILURE) {
		status_text(buf, size, major, GSS_C_GSS_CODE);
		if (minor)
			append(buf, size, ": ", 2);
	}
	if (minor && generic) {
		const char *m = error_message((errcode_t)minor);

		append(buf, size, m, strlen(m));
	} else if (minor) {
		status_text(buf, size, minor, GSS_C_MECH_CODE);
	}
	snprintf(num, sizeof(num), " (major 0x%x, minor %u)",
		 (unsigned int)major, (unsigned int)minor);
	append(buf, size, num, strlen(num));
}

/* g->err from a GSS-API status (what: a string literal). */
static void set_gss_err(struct fgss *g, const char *what, OM_uint32 major,
			OM_uint32 minor)
{
	gss_text(g->err, sizeof(g->err), what, major, minor, false);
	g->err_what = what;
	g->err_major = major;
	g->err_minor = minor;
	g->err_local = 0;
}

static int name_text(gss_name_t name, char *buf, size_t size)
{
	OM_uint32 major, minor;
	gss_buffer_desc text;
	int ret = -1;

	major = gss_display_name(&minor, name, &text, NULL);
	if (GSS_ERROR(major))
		return -1;
	if (text.length > 0 && text.length < size &&
	    !memchr(text.value, '\0', text.length)) {
		memcpy(buf, text.value, text.length);
		buf[text.length] = '\0';
		ret = 0;
	}
	gss_release_buffer(&minor, &text);
	return ret;
}

static void fgss_reset(struct fgss *g, enum fgss_role role)
{
	memset(g, 0, sizeof(*g));
	g->role = role;
	g->cred = GSS_C_NO_CREDENTIAL;
	g->ctx = GSS_C_NO_CONTEXT;
	g->target = GSS_C_NO_NAME;
}

static void close_keytab(struct fgss *g)
{
	if (g->kt_open)
		close(g->kt_fd);
	g->kt_open = false;
	g->kt_name[0] = '\0';
}

/*
 * A keytab that is a plain path or "FILE:path" is opened once and
 * checked (keytab_open()); *kt becomes the name krb5 reads that open
 * file by, "FILE:/proc/self/fd/N", and *shown the path, for messages.
 * Another keytab type is left to the library.
 */
static int open_keytab(struct fgss *g, const char *what, const char **kt,
		       const char **shown)
{
	const char *path = *kt;
	int fd;

	*shown = *kt;
	if (!strncmp(path, "FILE:", 5))
		path += 5;
	else if (path[0] != '/')
		return 0;	/* another keytab type: the library checks */
	*shown = path;
	fd = keytab_open(path, what, g->err, sizeof(g->err));
	if (fd < 0)
		goto fail;
	g->kt_fd = fd;
	g->kt_open = true;
	snprintf(g->kt_name, sizeof(g->kt_name), "FILE:/proc/self/fd/%d", fd);
	/* krb5 opens it again by that name: /proc must be there */
	if (access(g->kt_name + 5, R_OK)) {
		snprintf(g->err, sizeof(g->err),
			 "%s %s: cannot be read as %s (is /proc mounted?): %s",
			 what, path, g->kt_name + 5, strerror(errno));
		close_keytab(g);
		goto fail;
	}
	*kt = g->kt_name;
	return 0;
fail:
	g->err_what = NULL;
	g->err_major = 0;
	g->err_minor = 0;
	g->err_local = 1;
	return -1;
}

static int import_target(struct fgss *g, const char *target)
{
	OM_uint32 major, minor;
	gss_buffer_desc buf;
	gss_OID type;

	if (!target || !*target) {
		set_err(g, "no target principal");
		return -1;
	}
	type = strchr(target, '/') ? (gss_OID)GSS_KRB5_NT_PRINCIPAL_NAME :
				     GSS_C_NT_HOSTBASED_SERVICE;
	buf.value = (void *)target;
	buf.length = strlen(target);
	major = gss_import_name(&minor, &buf, type, &g->target);
	if (GSS_ERROR(major)) {
		set_gss_err(g, "target name", major, minor);
		return -1;
	}
	return 0;
}

/*
 * Credentials of the krb5 mechanism from the store (n elements), for
 * principal "me" (NULL: whatever the store holds).
 */
static int acquire(struct fgss *g, gss_cred_usage_t usage,
		   gss_const_key_value_set_t store, const char *me,
		   const char *what)
{
	gss_OID_set_desc mechs = { 1, (gss_OID)gss_mech_krb5 };
	gss_name_t name = GSS_C_NO_NAME;
	OM_uint32 major, minor;

	if (me) {
		gss_buffer_desc buf = { strlen(me), (void *)me };

		major = gss_import_name(&minor, &buf,
					(gss_OID)GSS_KRB5_NT_PRINCIPAL_NAME,
					&name);
		if (GSS_ERROR(major)) {
			set_gss_err(g, "identity", major, minor);
			return -1;
		}
	}
	major = gss_acquire_cred_from(&minor, name, GSS_C_INDEFINITE,
				      &mechs, usage, store, &g->cred, NULL,
				      NULL);
	if (name != GSS_C_NO_NAME)
		gss_release_name(&minor, &name);
	if (GSS_ERROR(major)) {
		set_gss_err(g, what, major, minor);
		return -1;
	}
	return 0;
}

/*
 * Tickets obtained with a client keytab go to a MEMORY ccache of
 * funneld's own (one context's, or shared by the contexts of one
 * identity): never into the user's ccache, and never a ticket of another
 * principal found there.
 */
void fgss_ccache_new(char *buf, size_t size)
{
	static unsigned int seq;

	snprintf(buf, size, "MEMORY:funnel-gss-%ld-%u", (long)getpid(),
		 __atomic_add_fetch(&seq, 1, __ATOMIC_RELAXED));
}

void fgss_ccache_destroy(const char *name)
{
	krb5_context kctx;
	krb5_ccache cc;

	if (!name[0] || krb5_init_context(&kctx))
		return;
	if (!krb5_cc_resolve(kctx, name, &cc))
		krb5_cc_destroy(kctx, cc);
	krb5_free_context(kctx);
}

/*
 * A keytab that krb5 cannot read as a keytab, or that holds no key for
 * me (NULL: any key will do): said plainly, with the keytab's name
 * (shown: kt as the configuration names it).
 * MIT's gss_acquire_cred_from() reports either only as "no credentials",
 * and on an unreadable acceptor keytab loses its copy of the name.
 * *first (if not NULL): whether the keytab's first entry is me's.
 */
static int check_keytab_keys(struct fgss *g, const char *kt,
			     const char *shown, const char *me, bool *first)
{
	krb5_principal princ = NULL;
	krb5_keytab_entry entry;
	krb5_kt_cursor cursor;
	krb5_keytab k = NULL;
	krb5_context kctx;
	krb5_error_code code;
	const char *msg;

	if (first)
		*first = false;
	code = krb5_init_context(&kctx);
	if (code) {
		set_err(g, "keytab %s: krb5_init_context failed (%d)", shown,
			(int)code);
		g->err_local = 1;
		return -1;
	}
	if (me) {
		code = krb5_parse_name(kctx, me, &princ);
		if (code) {
			/* the name's fault (or krb5.conf's), not the keytab's */
			msg = krb5_get_error_message(kctx, code);
			set_err(g, "identity %s: %s", me, msg);
			krb5_free_error_message(kctx, msg);
			goto out;
		}
	}
	code = krb5_kt_resolve(kctx, kt, &k);
	/* its first entry: the library's own reason if it cannot be read */
	if (!code)
		code = krb5_kt_start_seq_get(kctx, k, &cursor);
	if (!code) {
		code = krb5_kt_next_entry(kctx, k, &entry, &cursor);
		if (!code) {
			if (first && princ)
				*first = krb5_principal_compare(kctx, princ,
							entry.principal);
			krb5_free_keytab_entry_contents(kctx, &entry);
		}
		krb5_kt_end_seq_get(kctx, k, &cursor);
		if (code == KRB5_KT_END) {
			set_err(g, "keytab %s: holds no key", shown);
			g->err_local = 1;
			goto out;
		}
	}
	if (!code && princ) {
		code = krb5_kt_get_entry(kctx, k, princ, 0, 0, &entry);
		if (!code)
			krb5_free_keytab_entry_contents(kctx, &entry);
	}
	if (code) {
		msg = krb5_get_error_message(kctx, code);
		set_err(g, "keytab %s: %s", shown, msg);
		g->err_local = 1;
		krb5_free_error_message(kctx, msg);
	}
out:
	krb5_free_principal(kctx, princ);
	if (k)
		krb5_kt_close(kctx, k);
	krb5_free_context(kctx);
	return code ? -1 : 0;
}

/*
 * The initiator's credentials are for principal me.  Asked for by name,
 * MIT reports a KDC that cannot be reached only as "no credentials": when
 * me is the keytab's first principal (the usual keytab of one), they are
 * acquired for whatever principal comes first and compared afterwards;
 * a keytab of several principals is asked for me by name.
 */
static int check_me(struct fgss *g, const char *me)
{
	gss_buffer_desc buf = { strlen(me), (void *)me };
	gss_name_t want = GSS_C_NO_NAME, have = GSS_C_NO_NAME;
	OM_uint32 major, minor;
	int same = 0;

	major = gss_import_name(&minor, &buf,
				(gss_OID)GSS_KRB5_NT_PRINCIPAL_NAME, &want);
	if (GSS_ERROR(major)) {
		set_gss_err(g, "identity", major, minor);
		return -1;
	}
	major = gss_inquire_cred(&minor, g->cred, &have, NULL, NULL, NULL);
	if (!GSS_ERROR(major))
		major = gss_compare_name(&minor, want, have, &same);
	if (GSS_ERROR(major))
		set_gss_err(g, "initiator credentials", major, minor);
	else if (!same)
		set_err(g, "the credentials are not for the identity %s", me);
	gss_release_name(&minor, &want);
	if (have != GSS_C_NO_NAME)
		gss_release_name(&minor, &have);
	return GSS_ERROR(major) || !same ? -1 : 0;
}

int fgss_init(struct fgss *g, const char *target, const char *client_keytab)
{
	return fgss_init_as(g, target, client_keytab, NULL);
}

int fgss_init_as(struct fgss *g, const char *target, const char *client_keytab,
		 const char *me)
{
	return fgss_init_cc(g, target, client_keytab, me, NULL);
}

int fgss_init_cc(struct fgss *g, const char *target, const char *client_keytab,
		 const char *me, const char *ccache)
{
	gss_key_value_element_desc el[2] = {
		{ "client_keytab", client_keytab },
		{ "ccache", ccache },
	};
	gss_key_value_set_desc store = { 2, el };
	const char *shown;
	bool first = false;

	fgss_reset(g, FGSS_INITIATOR);
	g->req_flags = FGSS_REQ_FLAGS;
	if (import_target(g, target))
		return -1;
	if (!client_keytab)
		return acquire(g, GSS_C_INITIATE, GSS_C_NO_CRED_STORE, NULL,
			       "initiator credentials from the ccache") ||
		       (me && check_me(g, me)) ? -1 : 0;
	if (open_keytab(g, "client keytab", &client_keytab, &shown) ||
	    (me && check_keytab_keys(g, client_keytab, shown, me, &first)))
		return -1;
	el[0].value = client_keytab;
	if (!ccache) {
		fgss_ccache_new(g->ccache, sizeof(g->ccache));
		el[1].value = g->ccache;
	}
	return acquire(g, GSS_C_INITIATE, &store, me && !first ? me : NULL,
		       "initiator credentials from client keytab") ||
	       (me && check_me(g, me)) ? -1 : 0;
}

int fgss_accept_init(struct fgss *g, const char *keytab)
{
	return fgss_accept_init_as(g, keytab, NULL);
}

int fgss_accept_init_as(struct fgss *g, const char *keytab, const char *me)
{
	gss_key_value_element_desc el = { "keytab", keytab };
	gss_key_value_set_desc store = { 1, &el };
	const char *shown;

	fgss_reset(g, FGSS_ACCEPTOR);
	if (keytab && (open_keytab(g, "keytab", &keytab, &shown) ||
		       check_keytab_keys(g, keytab, shown, me, NULL)))
		return -1;
	el.value = keytab;
	return acquire(g, GSS_C_ACCEPT, keytab ? &store : GSS_C_NO_CRED_STORE,
		       me, keytab ? "acceptor credentials from keytab" :
				"acceptor credentials from the default keytab");
}

void fgss_token_free(struct fgss_token *t)
{
	gss_buffer_desc buf = { t->len, t->data };
	OM_uint32 minor;

	if (t->data)
		gss_release_buffer(&minor, &buf);
	t->data = NULL;
	t->len = 0;
}

/* A dead context: free it and the token, keep g->err. */
static enum fgss_status step_failed(struct fgss *g, struct fgss_token *out)
{
	OM_uint32 minor;

	fgss_token_free(out);
	if (g->ctx != GSS_C_NO_CONTEXT)
		gss_delete_sec_context(&minor, &g->ctx, GSS_C_NO_BUFFER);
	g->failed = 1;
	return FGSS_ERROR;
}

static int check_flags(struct fgss *g)
{
	char missing[FGSS_ERR_MAX / 2] = "";
	size_t i;

	for (i = 0; i < sizeof(required_flags) / sizeof(required_flags[0]); i++) {
		if (g->ret_flags & required_flags[i].flag)
			continue;
		if (missing[0])
			append(missing, sizeof(missing), ", ", 2);
		append(missing, sizeof(missing), required_flags[i].name,
		       strlen(required_flags[i].name));
	}
	if (!missing[0])
		return 0;
	set_err(g, "context refused: required flag missing: %s (ret_flags 0x%x)",
		missing, (unsigned int)g->ret_flags);
	return -1;
}

/* Established: flags, then the peer's name from the context. */
static int complete(struct fgss *g)
{
	gss_name_t src = GSS_C_NO_NAME, targ = GSS_C_NO_NAME;
	OM_uint32 major, minor;
	int ret = -1;

	if (check_flags(g))
		return -1;
	major = gss_inquire_context(&minor, g->ctx, &src, &targ, NULL, NULL,
				    NULL, NULL, NULL);
	if (GSS_ERROR(major)) {
		set_gss_err(g, "inquire context", major, minor);
		return -1;
	}
	if (name_text(g->role == FGSS_ACCEPTOR ? src : targ, g->peer,
		      sizeof(g->peer)))
		set_err(g, "cannot display the peer's principal name");
	else
		ret = 0;
	gss_release_name(&minor, &src);
	gss_release_name(&minor, &targ);
	if (ret)
		return ret;
	g->established = 1;
	/* the context has its keys: the credentials and the keytab are
	 * not read again (the next context opens the keytab afresh)
	 */
	if (g->cred != GSS_C_NO_CREDENTIAL)
		gss_release_cred(&minor, &g->cred);
	close_keytab(g);
	return 0;
}

static OM_uint32 step_init(struct fgss *g, gss_buffer_t in,
			   gss_buffer_t out, OM_uint32 *minor)
{
	return gss_init_sec_context(minor, g->cred, &g->ctx, g->target,
				    (gss_OID)gss_mech_krb5, g->req_flags, 0,
				    GSS_C_NO_CHANNEL_BINDINGS, in, NULL, out,
				    &g->ret_flags, NULL);
}

static OM_uint32 step_accept(struct fgss *g, gss_buffer_t in,
			     gss_buffer_t out, OM_uint32 *minor)
{
	return gss_accept_sec_context(minor, &g->ctx, g->cred, in,
				      GSS_C_NO_CHANNEL_BINDINGS, NULL, NULL,
				      out, &g->ret_flags, NULL, NULL);
}

static int step_usable(struct fgss *g, const void *in, size_t in_len)
{
	if (g->role == FGSS_NONE || g->failed) {
		set_err(g, "GSS context not initialised or failed before");
		return -1;
	}
	if (g->established) {
		set_err(g, "GSS context already established");
		return -1;
	}
	if (in_len > FGSS_MAX_TOKEN) {
		set_err(g, "peer's token of %zu bytes is too long", in_len);
		return -1;
	}
	if (!in || !in_len) {
		if (g->role == FGSS_ACCEPTOR || g->ctx != GSS_C_NO_CONTEXT) {
			set_err(g, "GSS step without the peer's token");
			return -1;
		}
	}
	return 0;
}

enum fgss_status fgss_step(struct fgss *g, const void *in, size_t in_len,
			   struct fgss_token *out)
{
	gss_buffer_desc ib = { in_len, (void *)in };
	gss_buffer_desc ob = GSS_C_EMPTY_BUFFER;
	OM_uint32 major, minor = 0;

	out->data = NULL;
	out->len = 0;
	if (step_usable(g, in, in_len))
		return step_failed(g, out);
	if (g->role == FGSS_INITIATOR)
		major = step_init(g, in_len ? &ib : GSS_C_NO_BUFFER, &ob, &minor);
	else
		major = step_accept(g, &ib, &ob, &minor);
	out->data = ob.value;
	out->len = ob.length;
	if (GSS_ERROR(major)) {
		set_gss_err(g, g->role == FGSS_INITIATOR ?
			    "gss_init_sec_context" : "gss_accept_sec_context",
			    major, minor);
		return step_failed(g, out);
	}
	if (out->len > FGSS_MAX_TOKEN) {
		set_err(g, "GSS token of %zu bytes does not fit a CTRL frame",
			out->len);
		return step_failed(g, out);
	}
	if (major & GSS_S_CONTINUE_NEEDED)
		return FGSS_CONTINUE;
	if (complete(g))
		return step_failed(g, out);
	return FGSS_DONE;
}

const char *fgss_peer(const struct fgss *g)
{
	return g->established ? g->peer : "";
}

int fgss_allowed(struct fgss *g, const char *const *allow, size_t n)
{
	size_t i;

	if (!g->established) {
		set_err(g, "allow list check before the context is established");
		return -1;
	}
	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (allow[i] && !strcmp(allow[i], g->peer))
			return 0;
	set_err(g, "principal %s is not authorized (not in the allow list of %zu entr%s)",
		g->peer, n, n == 1 ? "y" : "ies");
	return -1;
}

long long fgss_lifetime(struct fgss *g)
{
	OM_uint32 major, minor, t = 0;

	if (!g->established) {
		set_err(g, "lifetime of a context not established");
		return -1;
	}
	major = gss_context_time(&minor, g->ctx, &t);
	if (major == GSS_S_CONTEXT_EXPIRED)
		return 0;
	if (GSS_ERROR(major)) {
		set_gss_err(g, "gss_context_time", major, minor);
		return -1;
	}
	return t;
}

size_t fgss_label(char *buf, size_t size, uint16_t stream, uint32_t generation)
{
	int n = snprintf(buf, size, "funnel v1 stream %u gen %u",
			 (unsigned int)stream, (unsigned int)generation);

	return n < 0 ? 0 : (size_t)n;
}

int fgss_derive(struct fgss *g, uint16_t stream, uint32_t generation,
		uint8_t out[FGSS_DERIVE_LEN])
{
	gss_buffer_desc in, prf = GSS_C_EMPTY_BUFFER;
	OM_uint32 major, minor;
	char label[64];
	int ret = -1;

	memset(out, 0, FGSS_DERIVE_LEN);
	if (!g->established) {
		set_err(g, "key derivation before the context is established");
		return -1;
	}
	if (generation == 0) {
		set_err(g, "key generation 0 is not used (generations start at 1)");
		return -1;
	}
	in.length = fgss_label(label, sizeof(label), stream, generation);
	in.value = label;
	major = gss_pseudo_random(&minor, g->ctx, GSS_C_PRF_KEY_FULL, &in,
				  FGSS_DERIVE_LEN, &prf);
	if (GSS_ERROR(major)) {
		set_gss_err(g, "gss_pseudo_random", major, minor);
		return -1;
	}
	if (prf.length == FGSS_DERIVE_LEN) {
		memcpy(out, prf.value, FGSS_DERIVE_LEN);
		ret = 0;
	} else {
		set_err(g, "gss_pseudo_random returned %zu bytes, not %d",
			prf.length, FGSS_DERIVE_LEN);
	}
	if (prf.value)
		explicit_bzero(prf.value, prf.length);
	gss_release_buffer(&minor, &prf);
	return ret;
}

const char *fgss_error(const struct fgss *g)
{
	return g->err[0] ? g->err : "no error";
}

const char *fgss_error_peer(const struct fgss *g, char *buf, size_t size)
{
	if (g->err_local)
		snprintf(buf, size, "this side's credentials are not usable");
	else if (g->err_what)
		gss_text(buf, size, g->err_what, g->err_major, g->err_minor,
			 true);
	else
		snprintf(buf, size, "%s", fgss_error(g));
	return buf;
}

int fgss_wrong_key(const struct fgss *g)
{
	switch ((krb5_error_code)g->err_minor) {
	case KRB5KRB_AP_WRONG_PRINC:
	case KRB5KRB_AP_ERR_NOT_US:
	case KRB5KRB_AP_ERR_NOKEY:
	case KRB5KRB_AP_ERR_BADKEYVER:
	case KRB5KRB_AP_ERR_BAD_INTEGRITY:
	case KRB5_KT_NOTFOUND:
		return g->err_what != NULL;
	default:
		return 0;
	}
}

void fgss_free(struct fgss *g)
{
	OM_uint32 minor;

	if (g->ctx != GSS_C_NO_CONTEXT)
		gss_delete_sec_context(&minor, &g->ctx, GSS_C_NO_BUFFER);
	if (g->cred != GSS_C_NO_CREDENTIAL)
		gss_release_cred(&minor, &g->cred);
	if (g->target != GSS_C_NO_NAME)
		gss_release_name(&minor, &g->target);
	fgss_ccache_destroy(g->ccache);
	close_keytab(g);
	fgss_reset(g, FGSS_NONE);
}
