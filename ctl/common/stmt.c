// SPDX-License-Identifier: GPL-2.0
/*
 * Statement parser shared by funnelctl (argv) and funneld (configuration
 * file lines); see stmt.h for the grammar.
 *
 * Each statement has a small recursive-descent function over the words.
 * Errors are reported through fail(), which prefixes the command ("peer
 * add: ") and replaces control characters so that a message is always
 * one printable line.
 */

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "common/grammar.h"
#include "common/stmt.h"

#define COMMANDS	"identity, listen, peer, service, map, show, stats, plaintext"
#define CARRIERS	"auto, sctp, sctp-udp, tcp"

/* Allowed forms of an address word, see parse_addr(). */
#define ADDR_NAME	0x1	/* a DNS name may stand for the host */
#define ADDR_NO_PORT	0x2	/* the port may be omitted (port 0) */
#define ADDR_NO_HOST	0x4	/* the host may be omitted (family 0) */

struct parser {
	char **w;		/* the words */
	int n;			/* number of words */
	int i;			/* next word */
	const char *cmd;	/* error message prefix, NULL for none */
	char *err;
	size_t errlen;
};

static const char *const kind_names[] = {
	[STMT_EMPTY]		= "empty",
	[STMT_IDENTITY]		= "identity",
	[STMT_LISTEN]		= "listen",
	[STMT_PEER_ADD]		= "peer add",
	[STMT_PEER_DEL]		= "peer del",
	[STMT_SERVICE_ADD]	= "service add",
	[STMT_SERVICE_DEL]	= "service del",
	[STMT_MAP_ADD]		= "map add",
	[STMT_MAP_DEL]		= "map del",
	[STMT_SHOW]		= "show",
	[STMT_STATS]		= "stats",
	[STMT_PLAINTEXT]	= "plaintext",
	[STMT_RELAY_ADD]	= "relay add",
	[STMT_RELAY_DEL]	= "relay del",
};

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

const char *stmt_kind_name(enum stmt_kind kind)
{
	if ((unsigned int)kind >= ARRAY_SIZE(kind_names))
		return "?";
	return kind_names[kind];
}

const char *stmt_carrier_name(enum stmt_carrier carrier)
{
	if ((unsigned int)carrier > STMT_CARRIER_TCP)
		return "?";
	return gram_carriers[carrier];
}

const char *stmt_plugin_name(unsigned int plugin)
{
	if (!plugin)
		return "";
	if (plugin > STMT_PLUGIN_LDAP)
		return "?";
	return gram_plugins[plugin - 1];
}

const char *stmt_proto_name(int proto)
{
	switch (proto) {
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_TCP:
		return "tcp";
	}
	return "?";
}

/* ---- errors and words ---- */

__attribute__((format(printf, 2, 3)))
static int fail(struct parser *p, const char *fmt, ...)
{
	size_t off = 0;
	va_list ap;
	int r;

	if (!p->err || !p->errlen)
		return -1;
	p->err[0] = '\0';
	if (p->cmd) {
		r = snprintf(p->err, p->errlen, "%s: ", p->cmd);
		if (r > 0)
			off = (size_t)r < p->errlen ? (size_t)r : p->errlen - 1;
	}
	va_start(ap, fmt);
	vsnprintf(p->err + off, p->errlen - off, fmt, ap);
	va_end(ap);
	for (char *c = p->err; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
	return -1;
}

static const char *next(struct parser *p)
{
	return p->i < p->n ? p->w[p->i++] : NULL;
}

/* The next word, or NULL after "missing WHAT". */
static const char *need(struct parser *p, const char *what)
{
	const char *w = next(p);

	if (!w)
		fail(p, "missing %s", what);
	return w;
}

/* Fails unless all words were used. */
static int done(struct parser *p)
{
	if (p->i < p->n)
		return fail(p, "unexpected word '%s'", p->w[p->i]);
	return 0;
}

static bool is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static bool is_alnum(int c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	       c == '\f';
}

/* ---- field checks ---- */

static int check_name(struct parser *p, const char *what, const char *w,
		      char out[STMT_NAME_MAX + 1])
{
	size_t len = strlen(w);

	if (len > STMT_NAME_MAX)
		return fail(p, "%s too long (%zu characters, max %d): '%s'",
			    what, len, STMT_NAME_MAX, w);
	if (!is_alnum(w[0]))
		return fail(p, "bad %s '%s' (must start with a letter or digit)",
			    what, w);
	for (const char *c = w; *c; c++)
		if (!is_alnum(*c) && *c != '_' && *c != '.' && *c != '-')
			return fail(p, "bad %s '%s': character '%c' not allowed (A-Z a-z 0-9 _ . -)",
				    what, w, *c);
	memcpy(out, w, len + 1);
	return 0;
}

/* A principal of len bytes at w (not terminated in an allow list). */
static int check_principal(struct parser *p, const char *w, size_t len,
			   char out[STMT_PRINCIPAL_MAX + 1])
{
	if (!len)
		return fail(p, "empty principal");
	if (len > STMT_PRINCIPAL_MAX)
		return fail(p, "principal too long (%zu characters, max %d): '%.*s'",
			    len, STMT_PRINCIPAL_MAX, (int)len, w);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)w[i] <= ' ' || (unsigned char)w[i] >= 0x7f ||
		    w[i] == ',' || w[i] == '#')
			return fail(p, "bad principal '%.*s': character '%c' not allowed (printable, no space, ',' or '#')",
				    (int)len, w, w[i]);
	memcpy(out, w, len);
	out[len] = '\0';
	return 0;
}

static int check_path(struct parser *p, const char *w,
		      char out[STMT_PATH_MAX + 1])
{
	size_t len = strlen(w);

	if (len > STMT_PATH_MAX)
		return fail(p, "keytab path too long (%zu characters, max %d): '%s'",
			    len, STMT_PATH_MAX, w);
	if (w[0] != '/')
		return fail(p, "keytab path must be absolute: '%s'", w);
	for (const char *c = w; *c; c++)
		if ((unsigned char)*c <= ' ' || *c == 0x7f || *c == '#')
			return fail(p, "bad keytab path '%s': character '%c' not allowed (no space, control or '#')",
				    w, *c);
	memcpy(out, w, len + 1);
	return 0;
}

static int parse_proto(struct parser *p, int *proto)
{
	const char *w = need(p, "udp|tcp");

	if (!w)
		return -1;
	if (!strcmp(w, gram_protos[0]))
		*proto = IPPROTO_UDP;
	else if (!strcmp(w, gram_protos[1]))
		*proto = IPPROTO_TCP;
	else
		return fail(p, "bad protocol '%s' (udp, tcp)", w);
	return 0;
}

/* Comma-separated principals of an allow clause. */
static int parse_allow(struct parser *p, const char *w, struct stmt *s)
{
	const char *c = w;
	size_t len;

	for (;;) {
		len = strcspn(c, ",");
		if (!len)
			return fail(p, "empty principal in allow list '%s'", w);
		if (s->n_allow == STMT_ALLOW_MAX)
			return fail(p, "too many principals in allow list (max %d)",
				    STMT_ALLOW_MAX);
		if (check_principal(p, c, len, s->allow[s->n_allow]))
			return -1;
		for (unsigned int i = 0; i < s->n_allow; i++)
			if (!strcmp(s->allow[i], s->allow[s->n_allow]))
				return fail(p, "duplicate principal '%s' in allow list",
					    s->allow[i]);
		s->n_allow++;
		c += len;
		if (!*c)
			return 0;
		c++;		/* the comma */
	}
}

/* ---- addresses ---- */

static const void *addr_bytes(const struct stmt_addr *a)
{
	if (a->family == AF_INET)
		return &a->in4;
	return &a->in6;
}

/* A port of len bytes at s, inside the address word w. */
static int parse_port(struct parser *p, const char *s, size_t len,
		      const char *w, uint16_t *port)
{
	unsigned long v = 0;
	size_t i;

	if (!len)
		return fail(p, "missing port after ':' in '%s'", w);
	for (i = 0; i < len && is_digit(s[i]) && v <= 65535; i++)
		v = v * 10 + (unsigned long)(s[i] - '0');
	if (i < len || v < 1 || v > 65535) {
		if (s == w)
			return fail(p, "bad port '%s' (1-65535)", w);
		return fail(p, "bad port '%.*s' in '%s' (1-65535)",
			    (int)len, s, w);
	}
	*port = (uint16_t)v;
	return 0;
}

static bool digits_and_dots(const char *s)
{
	for (; *s; s++)
		if (!is_digit(*s) && *s != '.')
			return false;
	return true;
}

/* Labels (1..63 of A-Z a-z 0-9 - _, no '-' at either end) joined by dots */
static bool valid_dns_name(const char *s)
{
	size_t len;

	for (;;) {
		len = strcspn(s, ".");
		if (!len || len > 63 || s[0] == '-' || s[len - 1] == '-')
			return false;
		for (size_t i = 0; i < len; i++)
			if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '_')
				return false;
		s += len;
		if (!*s)
			return true;
		s++;
	}
}

/*
 * Parse an address word: "[IPV6]:PORT", "IPV4:PORT" or "NAME:PORT"; with
 * ADDR_NO_PORT also without ":PORT", with ADDR_NO_HOST also ":PORT" and
 * "PORT".  what names the word in "missing" messages.
 */
static int parse_addr_word(struct parser *p, const char *w, const char *what,
			   unsigned int flags, struct stmt_addr *a)
{
	const char *port = NULL, *c, *end;
	char host[STMT_HOST_MAX + 1];
	size_t hlen;

	if (w[0] == '[') {
		end = strchr(w, ']');
		if (!end)
			return fail(p, "missing ']' in '%s'", w);
		if (end[1] == ':')
			port = end + 2;
		else if (end[1])
			return fail(p, "unexpected '%s' after ']' in '%s' (expected ':PORT')",
				    end + 1, w);
		hlen = (size_t)(end - (w + 1));
		if (hlen >= sizeof(host))
			return fail(p, "bad IPv6 address in '%s'", w);
		memcpy(host, w + 1, hlen);
		host[hlen] = '\0';
		if (inet_pton(AF_INET6, host, &a->in6) != 1)
			return fail(p, "bad IPv6 address '%s' in '%s'", host, w);
		a->family = AF_INET6;
	} else {
		c = strchr(w, ':');
		if (c && strchr(c + 1, ':'))
			return fail(p, "IPv6 address must be in brackets: '%s' (e.g. '[fd00::1]:9899')",
				    w);
		hlen = c ? (size_t)(c - w) : strlen(w);
		if (c) {
			port = c + 1;
		} else if ((flags & ADDR_NO_HOST) && w[0] &&
			   !w[strspn(w, "0123456789")]) {
			port = w;	/* just "PORT" */
			hlen = 0;
		}
		if (hlen >= sizeof(host))
			return fail(p, "host name too long (%zu characters, max %d) in '%s'",
				    hlen, STMT_HOST_MAX, w);
		memcpy(host, w, hlen);
		host[hlen] = '\0';
		if (!hlen) {
			if (!(flags & ADDR_NO_HOST))
				return fail(p, "missing host in '%s'", w);
		} else if (inet_pton(AF_INET, host, &a->in4) == 1) {
			a->family = AF_INET;
		} else if (digits_and_dots(host)) {
			return fail(p, "bad IPv4 address '%s' in '%s'", host, w);
		} else if (!(flags & ADDR_NAME)) {
			return fail(p, "bad address '%s' in '%s' (numeric IPv4 or [IPv6])",
				    host, w);
		} else if (!valid_dns_name(host)) {
			return fail(p, "bad host name '%s' in '%s'", host, w);
		} else {
			a->is_name = true;
			memcpy(a->host, host, hlen + 1);
		}
	}
	if (a->family &&
	    !inet_ntop(a->family, addr_bytes(a), a->host, sizeof(a->host)))
		return fail(p, "bad address in '%s'", w);
	if (!port) {
		if (!(flags & ADDR_NO_PORT))
			return fail(p, "missing port in '%s' (%s)", w, what);
		return 0;
	}
	return parse_port(p, port, strlen(port), w, &a->port);
}

static int parse_addr(struct parser *p, const char *what, unsigned int flags,
		      struct stmt_addr *a)
{
	const char *w = need(p, what);

	return w ? parse_addr_word(p, w, what, flags, a) : -1;
}

/*
 * The HOST[,HOST...][:PORT] of peer add: the port, if any, follows the
 * last host and applies to every one.
 */
static int parse_peer_hosts(struct parser *p, struct stmt *s)
{
	const char *w = need(p, "HOST[:PORT]");
	char part[STMT_HOST_MAX + 16];	/* "[HOST]:PORT" */
	const char *c;
	unsigned int n = 0;

	if (!w)
		return -1;
	for (c = w;; n++) {
		const char *comma = strchr(c, ',');
		size_t len = comma ? (size_t)(comma - c) : strlen(c);
		struct stmt_addr *a = n ? &s->more[n - 1] : &s->addr;

		if (n == STMT_PEER_ADDRS_MAX)
			return fail(p, "more than %d addresses in '%s'",
				    STMT_PEER_ADDRS_MAX, w);
		if (!len)
			return fail(p, "empty address in '%s'", w);
		if (len >= sizeof(part))
			return fail(p, "host name too long (%zu characters, max %d) in '%s'",
				    len, STMT_HOST_MAX, w);
		memcpy(part, c, len);
		part[len] = '\0';
		if (parse_addr_word(p, part, "HOST[:PORT]",
				    ADDR_NAME | ADDR_NO_PORT, a))
			return -1;
		if (n && a->is_name)
			return fail(p, "only the first address may be a name: '%s' in '%s'",
				    a->host, w);
		if (!comma)
			break;
		if (a->port)
			return fail(p, "a port only after the last address, in '%s'",
				    w);
		c = comma + 1;
	}
	s->n_more = n;
	if (n) {
		s->addr.port = s->more[n - 1].port;
		for (unsigned int i = 0; i < n; i++)
			s->more[i].port = s->addr.port;
	}
	return 0;
}

/* "lifetime MS" (UDP only): the PR-SCTP lifetime of sent datagrams */
static int parse_lifetime(struct parser *p, struct stmt *s)
{
	const char *w;
	unsigned long v = 0;
	size_t i;

	if (s->has_lifetime)
		return fail(p, "duplicate 'lifetime'");
	if (!(w = need(p, "MS after 'lifetime'")))
		return -1;
	for (i = 0; w[i] && is_digit(w[i]) && v <= STMT_LIFETIME_MAX; i++)
		v = v * 10 + (unsigned long)(w[i] - '0');
	if (!i || w[i] || v > STMT_LIFETIME_MAX)
		return fail(p, "bad lifetime '%s' (0-%d ms; 0: fully reliable)",
			    w, STMT_LIFETIME_MAX);
	if (s->proto != IPPROTO_UDP)
		return fail(p, "'lifetime' is for udp only (tcp data is never abandoned)");
	s->has_lifetime = true;
	s->lifetime_ms = (uint32_t)v;
	return 0;
}

/*
 * "udp-port PORT" of peer add: the UDP port the peer takes SCTP over UDP
 * on (RFC 6951), when it is not this end's net.sctp.udp_port
 */
static int parse_udp_port(struct parser *p, struct stmt *s)
{
	const char *w;
	unsigned long v = 0;
	size_t i;

	if (s->udp_port)
		return fail(p, "duplicate 'udp-port'");
	if (!(w = need(p, "PORT after 'udp-port'")))
		return -1;
	for (i = 0; w[i] && is_digit(w[i]) && v <= 65535; i++)
		v = v * 10 + (unsigned long)(w[i] - '0');
	if (!i || w[i] || v < 1 || v > 65535)
		return fail(p, "bad udp-port '%s' (1-65535)", w);
	s->udp_port = (uint16_t)v;
	return 0;
}

/* "proxy v2" (TCP only): a PROXY protocol v2 header to the service */
static int parse_proxy(struct parser *p, struct stmt *s)
{
	const char *w;

	if (s->proxy)
		return fail(p, "duplicate 'proxy'");
	if (!(w = need(p, "version after 'proxy' (v2)")))
		return -1;
	if (strcmp(w, gram_proxies[0]))
		return fail(p, "unknown PROXY protocol version '%s' (v2 only)",
			    w);
	if (s->proto != IPPROTO_TCP)
		return fail(p, "'proxy' is for tcp only (the PROXY protocol header goes before the bytes of a TCP connection)");
	s->proxy = 2;
	return 0;
}

/* "plugin NAME" (TCP only): a protocol plugin (plugins.md) */
static int parse_plugin(struct parser *p, struct stmt *s)
{
	const char *w;
	unsigned int i;

	if (s->plugin)
		return fail(p, "duplicate 'plugin'");
	if (!(w = need(p, "NAME after 'plugin' (ldap)")))
		return -1;
	for (i = 0; gram_plugins[i]; i++)
		if (!strcmp(w, gram_plugins[i]))
			break;
	if (!gram_plugins[i])
		return fail(p, "unknown plugin '%s' (ldap)", w);
	if (s->proto != IPPROTO_TCP)
		return fail(p, "'plugin' is for tcp only (it reads the messages of a TCP connection)");
	s->plugin = (uint8_t)(i + 1);
	return 0;
}

/* ---- statements ---- */

static int parse_identity(struct parser *p, struct stmt *s)
{
	const char *w;

	if (!(w = need(p, "PRINCIPAL")) ||
	    check_principal(p, w, strlen(w), s->principal))
		return -1;
	if (!(w = need(p, "'keytab PATH'")))
		return -1;
	if (strcmp(w, GRAM_KEYTAB))
		return fail(p, "expected 'keytab', got '%s'", w);
	if (!(w = need(p, "PATH after 'keytab'")) ||
	    check_path(p, w, s->path))
		return -1;
	return done(p);
}

/* The identity clause of service add and map add. */
static int parse_identity_clause(struct parser *p, struct stmt *s)
{
	const char *w;

	if (s->identity[0])
		return fail(p, "duplicate 'identity'");
	if (!(w = need(p, "PRINCIPAL after 'identity'")) ||
	    check_principal(p, w, strlen(w), s->identity))
		return -1;
	if (!(w = need(p, "'keytab PATH' after 'identity PRINCIPAL'")))
		return -1;
	if (strcmp(w, GRAM_KEYTAB))
		return fail(p, "expected 'keytab' after 'identity %s', got '%s'",
			    s->identity, w);
	if (!(w = need(p, "PATH after 'keytab'")) ||
	    check_path(p, w, s->path))
		return -1;
	return 0;
}

/* The principal clause of peer add and map add. */
static int parse_principal_clause(struct parser *p, struct stmt *s)
{
	const char *w;

	if (s->principal[0])
		return fail(p, "duplicate 'principal'");
	if (!(w = need(p, "PRINCIPAL after 'principal'")))
		return -1;
	return check_principal(p, w, strlen(w), s->principal);
}

/* The peer and service clauses of map add and relay add. */
static int parse_peer_clause(struct parser *p, struct stmt *s)
{
	const char *w;

	if (s->peer[0])
		return fail(p, "duplicate 'peer'");
	if (!(w = need(p, "NAME after 'peer'")))
		return -1;
	return check_name(p, "peer name", w, s->peer);
}

static int parse_service_clause(struct parser *p, struct stmt *s)
{
	const char *w;

	if (s->service[0])
		return fail(p, "duplicate 'service'");
	if (!(w = need(p, "NAME after 'service'")))
		return -1;
	return check_name(p, "service name", w, s->service);
}

/* The allow clause of service add and relay add. */
static int parse_allow_clause(struct parser *p, struct stmt *s)
{
	const char *w;

	if (s->n_allow)
		return fail(p, "duplicate 'allow'");
	if (!(w = need(p, "PRINCIPAL[,PRINCIPAL...] after 'allow'")))
		return -1;
	return parse_allow(p, w, s);
}

static int parse_listen(struct parser *p, struct stmt *s)
{
	if (parse_addr(p, "[ADDR]:PORT", ADDR_NO_HOST, &s->addr))
		return -1;
	return done(p);
}

static int parse_peer_add(struct parser *p, struct stmt *s)
{
	bool seen_carrier = false;
	const char *w;
	unsigned int i;

	if (!(w = need(p, "NAME")) || check_name(p, "name", w, s->name))
		return -1;
	if (parse_peer_hosts(p, s))
		return -1;
	while ((w = next(p))) {
		switch (gram_clause_of(w)) {
		case CL_CARRIER:
			if (seen_carrier)
				return fail(p, "duplicate 'carrier'");
			seen_carrier = true;
			if (!(w = need(p, "carrier after 'carrier' (" CARRIERS ")")))
				return -1;
			for (i = 0; gram_carriers[i]; i++)
				if (!strcmp(w, gram_carriers[i]))
					break;
			if (!gram_carriers[i])
				return fail(p, "unknown carrier '%s' (" CARRIERS ")", w);
			s->carrier = (enum stmt_carrier)i;
			break;
		case CL_UDP_PORT:
			if (parse_udp_port(p, s))
				return -1;
			break;
		case CL_PRINCIPAL:
			if (parse_principal_clause(p, s))
				return -1;
			break;
		default:
			return fail(p, "unexpected word '%s'", w);
		}
	}
	/* after every clause: "carrier" may follow "udp-port" */
	if (s->udp_port && s->carrier == STMT_CARRIER_SCTP)
		return fail(p, "'udp-port' is for carrier sctp-udp or auto (carrier sctp is SCTP without UDP)");
	if (s->udp_port && s->carrier == STMT_CARRIER_TCP)
		return fail(p, "'udp-port' is for carrier sctp-udp or auto (carrier tcp uses no SCTP over UDP)");
	return 0;
}

static int parse_service_add(struct parser *p, struct stmt *s)
{
	const char *w;

	if (!(w = need(p, "NAME")) || check_name(p, "name", w, s->name))
		return -1;
	if (parse_proto(p, &s->proto) ||
	    parse_addr(p, "TARGET:PORT", ADDR_NAME, &s->addr))
		return -1;
	while ((w = next(p))) {
		switch (gram_clause_of(w)) {
		case CL_ALLOW:
			if (parse_allow_clause(p, s))
				return -1;
			break;
		case CL_IDENTITY:
			if (parse_identity_clause(p, s))
				return -1;
			break;
		case CL_LIFETIME:
			if (parse_lifetime(p, s))
				return -1;
			break;
		case CL_PROXY:
			if (parse_proxy(p, s))
				return -1;
			break;
		case CL_PLUGIN:
			if (parse_plugin(p, s))
				return -1;
			break;
		default:
			return fail(p, "unexpected word '%s'", w);
		}
	}
	return 0;
}

static int parse_map_add(struct parser *p, struct stmt *s)
{
	const char *w;

	if (parse_proto(p, &s->proto) ||
	    parse_addr(p, "[ADDR:]PORT", ADDR_NO_HOST, &s->addr))
		return -1;
	while ((w = next(p))) {
		switch (gram_clause_of(w)) {
		case CL_PEER:
			if (parse_peer_clause(p, s))
				return -1;
			break;
		case CL_SERVICE:
			if (parse_service_clause(p, s))
				return -1;
			break;
		case CL_IDENTITY:
			if (parse_identity_clause(p, s))
				return -1;
			break;
		case CL_PRINCIPAL:
			if (parse_principal_clause(p, s))
				return -1;
			break;
		case CL_LIFETIME:
			if (parse_lifetime(p, s))
				return -1;
			break;
		case CL_PLUGIN:
			if (parse_plugin(p, s))
				return -1;
			break;
		default:
			return fail(p, "unexpected word '%s'", w);
		}
	}
	if (!s->peer[0])
		return fail(p, "missing 'peer NAME'");
	if (!s->service[0])
		return fail(p, "missing 'service NAME'");
	return 0;
}

/*
 * relay add NAME udp|tcp peer NAME [service NAME] [allow ...] [identity P
 * keytab PATH] [principal P] [lifetime MS (udp only)]: a service of this
 * end whose streams go on to the service of a peer
 * (Documentation/switchbox.md).
 */
static int parse_relay_add(struct parser *p, struct stmt *s)
{
	const char *w;

	if (!(w = need(p, "NAME")) || check_name(p, "name", w, s->name))
		return -1;
	if (parse_proto(p, &s->proto))
		return -1;
	while ((w = next(p))) {
		switch (gram_clause_of(w)) {
		case CL_PEER:
			if (parse_peer_clause(p, s))
				return -1;
			break;
		case CL_SERVICE:
			if (parse_service_clause(p, s))
				return -1;
			break;
		case CL_ALLOW:
			if (parse_allow_clause(p, s))
				return -1;
			break;
		case CL_IDENTITY:
			if (parse_identity_clause(p, s))
				return -1;
			break;
		case CL_PRINCIPAL:
			if (parse_principal_clause(p, s))
				return -1;
			break;
		case CL_LIFETIME:
			if (parse_lifetime(p, s))
				return -1;
			break;
		default:
			return fail(p, "unexpected word '%s'", w);
		}
	}
	if (!s->peer[0])
		return fail(p, "missing 'peer NAME'");
	return 0;
}

static int parse_map_del(struct parser *p, struct stmt *s)
{
	if (parse_proto(p, &s->proto) ||
	    parse_addr(p, "[ADDR:]PORT", ADDR_NO_HOST, &s->addr))
		return -1;
	return done(p);
}

/* "peer del NAME", "service del NAME" */
static int parse_del(struct parser *p, struct stmt *s)
{
	const char *w;

	if (!(w = need(p, "NAME")) || check_name(p, "name", w, s->name))
		return -1;
	return done(p);
}

/* "show", "plaintext" */
static int parse_bare(struct parser *p, struct stmt *s)
{
	(void)s;
	if (p->i < p->n)
		return fail(p, "unexpected word '%s' (%s takes no argument)",
			    p->w[p->i], p->cmd);
	return 0;
}

static int parse_stats(struct parser *p, struct stmt *s)
{
	const char *w;

	while ((w = next(p))) {
		if (gram_clause_of(w) != CL_PROMETHEUS)
			return fail(p, "unexpected word '%s'", w);
		if (s->prometheus)
			return fail(p, "duplicate '--prometheus'");
		s->prometheus = true;
	}
	return 0;
}

const char *stmt_json_refusal(const struct stmt *s)
{
	if (s->kind == STMT_STATS && s->prometheus)
		return "stats: --prometheus and --json exclude each other (the Prometheus text format has no JSON form)";
	return NULL;
}

/*
 * The parser of each kind of statement; its command and subcommand
 * words are in gram_stmts[] (grammar.c).
 */
static int (*const parsers[])(struct parser *p, struct stmt *s) = {
	[STMT_IDENTITY]		= parse_identity,
	[STMT_LISTEN]		= parse_listen,
	[STMT_PEER_ADD]		= parse_peer_add,
	[STMT_PEER_DEL]		= parse_del,
	[STMT_SERVICE_ADD]	= parse_service_add,
	[STMT_SERVICE_DEL]	= parse_del,
	[STMT_MAP_ADD]		= parse_map_add,
	[STMT_MAP_DEL]		= parse_map_del,
	[STMT_SHOW]		= parse_bare,
	[STMT_STATS]		= parse_stats,
	[STMT_PLAINTEXT]	= parse_bare,
	[STMT_RELAY_ADD]	= parse_relay_add,
	[STMT_RELAY_DEL]	= parse_del,
};

int stmt_parse_argv(int argc, char **argv, struct stmt *out,
		    char *err, size_t errlen)
{
	struct parser p = {
		.w = argv, .n = argc, .i = 1, .err = err, .errlen = errlen,
	};
	const char *cmd = NULL;

	memset(out, 0, sizeof(*out));
	if (err && errlen)
		err[0] = '\0';
	if (argc < 1)
		return fail(&p, "missing command (try: " COMMANDS ")");
	for (size_t i = 0; i < gram_n_stmts; i++) {
		const struct gram_stmt *g = &gram_stmts[i];

		if (strcmp(argv[0], g->cmd))
			continue;
		cmd = g->cmd;
		if (g->sub) {
			if (argc < 2 || strcmp(argv[1], g->sub))
				continue;
			p.i = 2;
		}
		out->kind = g->kind;
		p.cmd = stmt_kind_name(out->kind);
		return parsers[g->kind](&p, out);
	}
	if (!cmd)
		return fail(&p, "unknown command '%s' (try: " COMMANDS ")",
			    argv[0]);
	p.cmd = cmd;
	if (argc < 2)
		return fail(&p, "missing add or del");
	return fail(&p, "unknown subcommand '%s' (add, del)", argv[1]);
}

int stmt_parse_line(const char *line, struct stmt *out,
		    char *err, size_t errlen)
{
	/*
	 * Any statement has at most 16 words (map add with every clause):
	 * 24 leave room to say "unexpected".
	 */
	char buf[STMT_LINE_MAX], *words[24];
	const char *c = line;
	size_t used = 0, len;
	int n = 0;

	while (n < (int)ARRAY_SIZE(words)) {
		while (is_space(*c))
			c++;
		if (!*c || *c == '#')
			break;
		for (len = 0; c[len] && !is_space(c[len]) && c[len] != '#'; len++)
			;
		if (len >= sizeof(buf) - used) {
			struct parser p = { .err = err, .errlen = errlen };

			memset(out, 0, sizeof(*out));
			return fail(&p, "line too long (max %d characters)",
				    STMT_LINE_MAX - 1);
		}
		memcpy(buf + used, c, len);
		buf[used + len] = '\0';
		words[n++] = buf + used;
		used += len + 1;
		c += len;
	}
	if (!n) {
		memset(out, 0, sizeof(*out));
		if (err && errlen)
			err[0] = '\0';
		out->kind = STMT_EMPTY;
		return 0;
	}
	return stmt_parse_argv(n, words, out, err, errlen);
}

/* ---- formatting ---- */

struct outbuf {
	char *buf;
	size_t len;
	size_t pos;		/* length of the whole text so far */
};

__attribute__((format(printf, 2, 3)))
static void put(struct outbuf *o, const char *fmt, ...)
{
	size_t room = o->pos < o->len ? o->len - o->pos : 0;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vsnprintf(room ? o->buf + o->pos : NULL, room, fmt, ap);
	va_end(ap);
	if (r > 0)
		o->pos += (size_t)r;
}

/* any_prefix: what an omitted host looks like (listen ":", map "") */
static void put_addr(struct outbuf *o, const struct stmt_addr *a,
		     const char *any_prefix)
{
	char text[INET6_ADDRSTRLEN];

	if (a->family == AF_INET || a->family == AF_INET6) {
		if (!inet_ntop(a->family, addr_bytes(a), text, sizeof(text)))
			text[0] = '\0';
		put(o, a->family == AF_INET6 ? "[%s]" : "%s", text);
	} else if (a->is_name) {
		put(o, "%s", a->host);
	} else {
		put(o, "%s", any_prefix);
	}
	if (a->port)
		put(o, "%s%u", a->family || a->is_name ? ":" : "", a->port);
}

int stmt_format(const struct stmt *s, char *buf, size_t len)
{
	struct outbuf o = { .buf = buf, .len = len };

	if (len)
		buf[0] = '\0';
	switch (s->kind) {
	case STMT_EMPTY:
		break;
	case STMT_IDENTITY:
		put(&o, "identity %s keytab %s", s->principal, s->path);
		break;
	case STMT_LISTEN:
		put(&o, "listen ");
		put_addr(&o, &s->addr, ":");
		break;
	case STMT_PEER_ADD:
		put(&o, "peer add %s ", s->name);
		{
			struct stmt_addr a = s->addr;

			/* the port once, after the last address */
			a.port = s->n_more ? 0 : s->addr.port;
			put_addr(&o, &a, "");
			for (unsigned int i = 0; i < s->n_more &&
			     i < STMT_PEER_ADDRS_MAX - 1; i++) {
				a = s->more[i];
				if (i + 1 < s->n_more)
					a.port = 0;
				put(&o, ",");
				put_addr(&o, &a, "");
			}
		}
		if (s->carrier != STMT_CARRIER_AUTO)
			put(&o, " carrier %s", stmt_carrier_name(s->carrier));
		if (s->udp_port)
			put(&o, " udp-port %u", s->udp_port);
		if (s->principal[0])
			put(&o, " principal %s", s->principal);
		break;
	case STMT_SERVICE_ADD:
		put(&o, "service add %s %s ", s->name, stmt_proto_name(s->proto));
		put_addr(&o, &s->addr, "");
		for (unsigned int i = 0; i < s->n_allow && i < STMT_ALLOW_MAX; i++)
			put(&o, "%s%s", i ? "," : " allow ", s->allow[i]);
		if (s->identity[0])
			put(&o, " identity %s keytab %s", s->identity, s->path);
		if (s->has_lifetime)
			put(&o, " lifetime %u", s->lifetime_ms);
		if (s->proxy)
			put(&o, " proxy v%u", s->proxy);
		if (s->plugin)
			put(&o, " plugin %s", stmt_plugin_name(s->plugin));
		break;
	case STMT_RELAY_ADD:
		put(&o, "relay add %s %s peer %s", s->name,
		    stmt_proto_name(s->proto), s->peer);
		if (s->service[0])
			put(&o, " service %s", s->service);
		for (unsigned int i = 0; i < s->n_allow && i < STMT_ALLOW_MAX; i++)
			put(&o, "%s%s", i ? "," : " allow ", s->allow[i]);
		if (s->identity[0])
			put(&o, " identity %s keytab %s", s->identity, s->path);
		if (s->principal[0])
			put(&o, " principal %s", s->principal);
		if (s->has_lifetime)
			put(&o, " lifetime %u", s->lifetime_ms);
		break;
	case STMT_PEER_DEL:
	case STMT_SERVICE_DEL:
	case STMT_RELAY_DEL:
		put(&o, "%s %s", stmt_kind_name(s->kind), s->name);
		break;
	case STMT_MAP_ADD:
	case STMT_MAP_DEL:
		put(&o, "%s %s ", stmt_kind_name(s->kind),
		    stmt_proto_name(s->proto));
		put_addr(&o, &s->addr, "");
		if (s->kind != STMT_MAP_ADD)
			break;
		put(&o, " peer %s service %s", s->peer, s->service);
		if (s->identity[0])
			put(&o, " identity %s keytab %s", s->identity, s->path);
		if (s->principal[0])
			put(&o, " principal %s", s->principal);
		if (s->has_lifetime)
			put(&o, " lifetime %u", s->lifetime_ms);
		if (s->kind == STMT_MAP_ADD && s->plugin)
			put(&o, " plugin %s", stmt_plugin_name(s->plugin));
		break;
	case STMT_SHOW:
	case STMT_PLAINTEXT:
		put(&o, "%s", stmt_kind_name(s->kind));
		break;
	case STMT_STATS:
		put(&o, "stats%s", s->prometheus ? " --prometheus" : "");
		break;
	default:
		return -1;
	}
	return (int)o.pos;
}
