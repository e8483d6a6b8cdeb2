/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Statements of the Funnel user interface: the commands funnelctl takes
 * and the lines of the configuration file are the same language:
 *
 *   identity PRINCIPAL keytab PATH
 *   listen [ADDR]:PORT
 *   peer add NAME HOST[,HOST...][:PORT] [carrier auto|sctp|sctp-udp|tcp]
 *            [udp-port PORT] [principal P]
 *   peer del NAME
 *   service add NAME udp|tcp TARGET:PORT [allow PRINCIPAL[,PRINCIPAL...]]
 *               [identity PRINCIPAL keytab PATH] [lifetime MS] [proxy v2]
 *               [plugin ldap]
 *   service del NAME
 *   relay add NAME udp|tcp peer NAME [service NAME] [allow PRINCIPAL[,...]]
 *             [identity PRINCIPAL keytab PATH] [principal P] [lifetime MS]
 *   relay del NAME
 *   map add udp|tcp [ADDR:]PORT peer NAME service NAME
 *           [identity PRINCIPAL keytab PATH] [principal P] [lifetime MS]
 *           [plugin ldap]
 *   map del udp|tcp [ADDR:]PORT
 *   show
 *   stats [--prometheus]
 *   plaintext
 *
 * Optional clauses ("carrier", "udp-port", "principal"; "allow",
 * "identity", "lifetime", "proxy", "plugin"; "peer", "service",
 * "identity", "principal", "lifetime" and "plugin" of map add) come in
 * any order, each at most once.  The "identity" clause is the local principal and
 * keytab of the streams of that service (acceptor) or map (initiator)
 * instead of the daemon's identity; "principal" of map add is the
 * principal the service must prove (the target of the stream's context)
 * instead of the peer's.
 * "udp-port" of peer add (carrier sctp-udp or auto only) is the UDP port
 * the peer takes SCTP over UDP on (its net.sctp.udp_port) when it is not
 * this end's own.
 * "lifetime" (UDP only) is the PR-SCTP lifetime of the datagrams
 * this end sends on an SCTP carrier, in ms, 0: fully reliable.  "proxy
 * v2" (TCP services only): a PROXY protocol v2 header with the client's
 * address goes to the service before each connection's bytes.  "plugin
 * ldap" (TCP services and maps only): this end reads its sockets as
 * LDAP messages, one DATA frame each (Documentation/plugins.md).  A peer
 * may have several addresses, for SCTP multihoming: the port after the
 * last applies to all.  IPv6 addresses are written
 * in brackets: "[fd00::2]:9899".  listen and map take numeric addresses
 * only; peer HOST and service TARGET may also be DNS names.  Words never
 * contain white space or '#' (which starts a comment in a configuration
 * line), so whatever stmt_parse_argv() accepts can be written as a line.
 *
 * Nothing here allocates memory or keeps state: a struct stmt holds
 * everything in fixed-size arrays, owned by the caller.
 */
#ifndef FUNNEL_STMT_H
#define FUNNEL_STMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <netinet/in.h>

#define STMT_NAME_MAX		63	/* peer and service names */
#define STMT_PRINCIPAL_MAX	255	/* Kerberos principal */
#define STMT_PATH_MAX		4095	/* keytab path */
#define STMT_HOST_MAX		253	/* DNS name (or numeric address text) */
#define STMT_ALLOW_MAX		32	/* principals in an allow list */
#define STMT_PEER_ADDRS_MAX	4	/* addresses of a peer (multihoming) */
#define STMT_LIFETIME_MAX	600000	/* lifetime MS, at most */

/*
 * Longest configuration line stmt_parse_line() takes (the words and one
 * separator each; comments and extra white space do not count), and a
 * buffer of this size always holds the output of stmt_format().
 */
#define STMT_LINE_MAX		16384

enum stmt_kind {
	STMT_EMPTY = 0,		/* blank or comment-only line */
	STMT_IDENTITY,
	STMT_LISTEN,
	STMT_PEER_ADD,
	STMT_PEER_DEL,
	STMT_SERVICE_ADD,
	STMT_SERVICE_DEL,
	STMT_MAP_ADD,
	STMT_MAP_DEL,
	STMT_SHOW,
	STMT_STATS,
	STMT_PLAINTEXT,
	STMT_RELAY_ADD,
	STMT_RELAY_DEL,
};

enum stmt_carrier {
	STMT_CARRIER_AUTO = 0,	/* default: SCTP, then SCTP over UDP, then TCP */
	STMT_CARRIER_SCTP,
	STMT_CARRIER_SCTP_UDP,
	STMT_CARRIER_TCP,
};

/*
 * An address and port.  family is AF_INET or AF_INET6 for a numeric
 * address (in4 or in6 set), or 0 when there is none: the ADDR of listen
 * and map was omitted (any address), or the host is a DNS name (is_name;
 * peer HOST and service TARGET only).
 */
struct stmt_addr {
	int family;
	bool is_name;
	union {
		struct in_addr in4;
		struct in6_addr in6;
	};
	uint16_t port;		/* host order, 1..65535; 0: peer HOST
				 * without a port (funneld's default) */
	/*
	 * The host as text, without brackets: a DNS name as written, a
	 * numeric address in its canonical form (inet_ntop), "" when
	 * omitted.
	 */
	char host[STMT_HOST_MAX + 1];
};

/*
 * A parsed statement.  Fields a kind does not use are zero / "".
 *
 *   kind          fields
 *   IDENTITY      principal, path
 *   LISTEN        addr (family 0: any address)
 *   PEER_ADD      name, addr (HOST[:PORT]), more[n_more] (its other
 *                 HOSTs, same port), carrier, udp_port (0: none),
 *                 principal ("": any)
 *   PEER_DEL      name
 *   SERVICE_ADD   name, proto, addr (TARGET:PORT), allow[n_allow]
 *                 (n_allow 0: no allow clause), lifetime, proxy, plugin
 *   (SERVICE_ADD and MAP_ADD: has_lifetime, lifetime_ms; identity and
 *   path, its keytab: "" without the identity clause)
 *   SERVICE_DEL   name
 *   RELAY_ADD     name, proto (udp), peer (the next hop), service (the
 *                 service there; "": name), allow[n_allow], identity and
 *                 path, principal (the next hop's, "": the peer's),
 *                 lifetime (Documentation/switchbox.md)
 *   RELAY_DEL     name
 *   MAP_ADD       proto, addr ([ADDR:]PORT), peer, service, principal
 *                 (the stream's target, "": the peer's), plugin
 *   MAP_DEL       proto, addr
 *   STATS         prometheus
 *   SHOW, PLAINTEXT, EMPTY: none
 */
struct stmt {
	enum stmt_kind kind;
	char name[STMT_NAME_MAX + 1];
	char principal[STMT_PRINCIPAL_MAX + 1];
	char identity[STMT_PRINCIPAL_MAX + 1];	/* the identity clause */
	char path[STMT_PATH_MAX + 1];
	int proto;			/* IPPROTO_UDP or IPPROTO_TCP */
	enum stmt_carrier carrier;
	struct stmt_addr addr;
	unsigned int n_more;
	struct stmt_addr more[STMT_PEER_ADDRS_MAX - 1];
	bool has_lifetime;
	uint32_t lifetime_ms;
	char peer[STMT_NAME_MAX + 1];
	char service[STMT_NAME_MAX + 1];
	unsigned int n_allow;
	char allow[STMT_ALLOW_MAX][STMT_PRINCIPAL_MAX + 1];
	bool prometheus;
	uint8_t proxy;			/* service add: 2 (proxy v2), 0: none */
	uint8_t plugin;			/* service add, map add: STMT_PLUGIN_* */
	/* peer add: the remote SCTP over UDP encapsulation port, 0: the
	 * local net.sctp.udp_port (RFC 6951)
	 */
	uint16_t udp_port;
};

/* The plugins of "plugin NAME" (0: none): gram_plugins[plugin - 1]. */
enum stmt_plugin {
	STMT_PLUGIN_NONE = 0,
	STMT_PLUGIN_LDAP,
};

/*
 * Parse one statement given as words (argv[0] is the command, e.g.
 * "peer").  Returns 0 with *out filled in, or -1 with a one-line message
 * in err (errlen bytes, may be 0) naming what is wrong and the offending
 * word, e.g. "map add: bad port '70000' in '127.0.0.1:70000' (1-65535)".
 * On error *out is unspecified.  No words (argc 0) is an error.
 */
int stmt_parse_argv(int argc, char **argv, struct stmt *out,
		    char *err, size_t errlen);

/*
 * Parse one line of a configuration file: words are separated by white
 * space, '#' starts a comment that runs to the end of the line.  A blank
 * or comment-only line gives kind STMT_EMPTY and returns 0.  Otherwise
 * as stmt_parse_argv() on the words.
 */
int stmt_parse_line(const char *line, struct stmt *out,
		    char *err, size_t errlen);

/*
 * Write s in canonical form (single spaces, clauses in the order of the
 * grammar, default carrier omitted, IPv6 in brackets) to buf, like
 * snprintf: returns the length of the whole text, which was truncated
 * when it is >= len; -1 for an unknown kind.  STMT_EMPTY gives "".  The
 * text parses back to the same struct stmt.
 */
int stmt_format(const struct stmt *s, char *buf, size_t len);

/*
 * NULL if s may be asked for JSON output; else why not (a message for
 * the user): "stats --prometheus" has only its text form.
 */
const char *stmt_json_refusal(const struct stmt *s);

/* "peer add", "stats", ...; "empty" for STMT_EMPTY, "?" if unknown. */
const char *stmt_kind_name(enum stmt_kind kind);

/* "auto", "sctp", "sctp-udp", "tcp"; "?" if unknown. */
const char *stmt_carrier_name(enum stmt_carrier carrier);

/* "ldap"; "" for none, "?" if unknown. */
const char *stmt_plugin_name(unsigned int plugin);

/* "udp", "tcp"; "?" for anything else. */
const char *stmt_proto_name(int proto);

#endif /* FUNNEL_STMT_H */
