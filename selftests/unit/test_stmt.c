// SPDX-License-Identifier: GPL-2.0
/* Unit tests of the statement parser (ctl/common/stmt.c). */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "common/stmt.h"

#define MAX_WORDS	64

static struct stmt st, st_argv, st_again;
static char err[512], err_argv[512];
static char text[STMT_LINE_MAX], text_again[STMT_LINE_MAX];
static char words_buf[STMT_LINE_MAX * 2];

/* Split line at spaces (only) into argv words in words_buf. */
static int split(const char *line, char **argv)
{
	char *save = NULL, *w;
	int n = 0;

	assert_true(strlen(line) < sizeof(words_buf));
	strcpy(words_buf, line);
	for (w = strtok_r(words_buf, " ", &save); w;
	     w = strtok_r(NULL, " ", &save)) {
		assert_true(n < MAX_WORDS);
		argv[n++] = w;
	}
	return n;
}

/*
 * Parse line with stmt_parse_line() into st and, split at spaces, with
 * stmt_parse_argv(): both must agree.  Returns the result.
 */
static int parse2(const char *line)
{
	char *argv[MAX_WORDS];
	int r, ra, n;

	memset(err, 'x', sizeof(err));
	r = stmt_parse_line(line, &st, err, sizeof(err));
	assert_non_null(memchr(err, '\0', sizeof(err)));
	n = split(line, argv);
	if (!n)
		return r;
	ra = stmt_parse_argv(n, argv, &st_argv, err_argv, sizeof(err_argv));
	assert_int_equal(r, ra);
	assert_string_equal(err, err_argv);
	if (!r)
		assert_memory_equal(&st, &st_argv, sizeof(st));
	return r;
}

static void ok(const char *line)
{
	int r = parse2(line);

	if (r)
		print_error("'%s': %s\n", line, err);
	assert_int_equal(r, 0);
	assert_string_equal(err, "");
}

/* The line must fail with a message containing want. */
static void bad(const char *line, const char *want)
{
	int r = parse2(line);

	if (!r || !strstr(err, want))
		print_error("'%s': got '%s', want '%s'\n", line,
			    r ? err : "(success)", want);
	assert_int_equal(r, -1);
	assert_non_null(strstr(err, want));
	for (const char *c = err; *c; c++)
		assert_true((unsigned char)*c >= 0x20 && *c != 0x7f);
}

/* The line must fail with exactly this message. */
static void bad_exact(const char *line, const char *want)
{
	bad(line, want);
	assert_string_equal(err, want);
}

/* Format st; it must re-parse to the same struct and format the same. */
static void check_roundtrip(void)
{
	int n, r;

	n = stmt_format(&st, text, sizeof(text));
	assert_true(n >= 0 && (size_t)n < sizeof(text));
	assert_int_equal(strlen(text), n);
	r = stmt_parse_line(text, &st_again, err, sizeof(err));
	if (r)
		print_error("'%s': %s\n", text, err);
	assert_int_equal(r, 0);
	assert_memory_equal(&st, &st_again, sizeof(st));
	assert_int_equal(stmt_format(&st_again, text_again,
				     sizeof(text_again)), n);
	assert_string_equal(text, text_again);
}

/* Parse line; its canonical form must be want (NULL: line itself). */
static void canon(const char *line, const char *want)
{
	ok(line);
	check_roundtrip();
	assert_string_equal(text, want ? want : line);
}

static void check_v4(const struct stmt_addr *a, const char *addr,
		     uint16_t port)
{
	struct in_addr in;

	assert_int_equal(a->family, AF_INET);
	assert_false(a->is_name);
	assert_int_equal(inet_pton(AF_INET, addr, &in), 1);
	assert_memory_equal(&a->in4, &in, sizeof(in));
	assert_string_equal(a->host, addr);
	assert_int_equal(a->port, port);
}

static void check_v6(const struct stmt_addr *a, const char *addr,
		     uint16_t port)
{
	struct in6_addr in6;

	assert_int_equal(a->family, AF_INET6);
	assert_false(a->is_name);
	assert_int_equal(inet_pton(AF_INET6, addr, &in6), 1);
	assert_memory_equal(&a->in6, &in6, sizeof(in6));
	assert_string_equal(a->host, addr);
	assert_int_equal(a->port, port);
}

static void check_any(const struct stmt_addr *a, uint16_t port)
{
	static const struct in6_addr zero;

	assert_int_equal(a->family, 0);
	assert_false(a->is_name);
	assert_memory_equal(&a->in6, &zero, sizeof(zero));
	assert_string_equal(a->host, "");
	assert_int_equal(a->port, port);
}

static void check_name(const struct stmt_addr *a, const char *name,
		       uint16_t port)
{
	assert_int_equal(a->family, 0);
	assert_true(a->is_name);
	assert_string_equal(a->host, name);
	assert_int_equal(a->port, port);
}

static void check_unused_empty(void)
{
	assert_string_equal(st.peer, "");
	assert_string_equal(st.service, "");
	assert_int_equal(st.n_allow, 0);
	assert_false(st.prometheus);
	assert_string_equal(st.path, "");
	assert_string_equal(st.identity, "");
}

/* A string of n copies of c (in a buffer shared by all calls). */
static const char *repeat(char c, size_t n)
{
	static char buf[16384];

	assert_true(n < sizeof(buf));
	memset(buf, c, n);
	buf[n] = '\0';
	return buf;
}

/* ---- success ---- */

static void test_identity(void **state)
{
	(void)state;
	ok("identity host/gw.example.com@EXAMPLE.COM keytab /etc/krb5.keytab");
	assert_int_equal(st.kind, STMT_IDENTITY);
	assert_string_equal(st.principal, "host/gw.example.com@EXAMPLE.COM");
	assert_string_equal(st.path, "/etc/krb5.keytab");
	assert_string_equal(st.name, "");
	assert_int_equal(st.addr.family, 0);

	ok("identity a keytab /");
	assert_string_equal(st.principal, "a");
	assert_string_equal(st.path, "/");
}

static void test_listen(void **state)
{
	(void)state;
	ok("listen :9899");
	assert_int_equal(st.kind, STMT_LISTEN);
	check_any(&st.addr, 9899);

	ok("listen 9899");		/* the port alone: same thing */
	check_any(&st.addr, 9899);

	ok("listen 0.0.0.0:1");
	check_v4(&st.addr, "0.0.0.0", 1);
	ok("listen 192.0.2.7:65535");
	check_v4(&st.addr, "192.0.2.7", 65535);
	ok("listen [::1]:53");
	check_v6(&st.addr, "::1", 53);
	ok("listen [::]:9899");
	check_v6(&st.addr, "::", 9899);
	ok("listen [fd00::2]:00080");	/* leading zeros are fine */
	check_v6(&st.addr, "fd00::2", 80);
	ok("listen [::ffff:192.0.2.1]:7");
	check_v6(&st.addr, "::ffff:192.0.2.1", 7);
	check_unused_empty();
}

static void test_peer_add(void **state)
{
	(void)state;
	ok("peer add gw1 192.0.2.1");
	assert_int_equal(st.kind, STMT_PEER_ADD);
	assert_string_equal(st.name, "gw1");
	check_v4(&st.addr, "192.0.2.1", 0);
	assert_int_equal(st.carrier, STMT_CARRIER_AUTO);
	assert_string_equal(st.principal, "");
	check_unused_empty();

	ok("peer add gw1 192.0.2.1:9899");
	check_v4(&st.addr, "192.0.2.1", 9899);
	ok("peer add gw1 [fd00::2]:9899");
	check_v6(&st.addr, "fd00::2", 9899);
	ok("peer add gw1 [fd00::2]");
	check_v6(&st.addr, "fd00::2", 0);
	ok("peer add gw1 [FD00:0::2]");		/* canonical host text */
	check_v6(&st.addr, "fd00::2", 0);
	ok("peer add gw.east-1 gw1.example.com");
	assert_string_equal(st.name, "gw.east-1");
	check_name(&st.addr, "gw1.example.com", 0);
	ok("peer add 9_a gw1.Example.COM:443");
	assert_string_equal(st.name, "9_a");
	check_name(&st.addr, "gw1.Example.COM", 443);
	ok("peer add a localhost");
	check_name(&st.addr, "localhost", 0);

	ok("peer add gw1 192.0.2.1 carrier tcp principal host/gw1@EXAMPLE.COM");
	assert_int_equal(st.carrier, STMT_CARRIER_TCP);
	assert_string_equal(st.principal, "host/gw1@EXAMPLE.COM");
	memcpy(&st_again, &st, sizeof(st));
	ok("peer add gw1 192.0.2.1 principal host/gw1@EXAMPLE.COM carrier tcp");
	assert_memory_equal(&st, &st_again, sizeof(st));

	ok("peer add p h carrier auto");
	assert_int_equal(st.carrier, STMT_CARRIER_AUTO);
	ok("peer add p h carrier sctp");
	assert_int_equal(st.carrier, STMT_CARRIER_SCTP);
	ok("peer add p h carrier sctp-udp");
	assert_int_equal(st.carrier, STMT_CARRIER_SCTP_UDP);
	ok("peer add p h principal p@R");
	assert_string_equal(st.principal, "p@R");
	assert_int_equal(st.carrier, STMT_CARRIER_AUTO);

	/* Names: 63 characters, digits first, all allowed characters. */
	ok("peer add 0 h");
	ok("peer add Az09_.- h");
	assert_string_equal(st.name, "Az09_.-");
	{
		char line[128];

		snprintf(line, sizeof(line), "peer add %s h", repeat('n', 63));
		ok(line);
		assert_int_equal(strlen(st.name), 63);
	}
}

static void test_peer_del(void **state)
{
	(void)state;
	ok("peer del gw1");
	assert_int_equal(st.kind, STMT_PEER_DEL);
	assert_string_equal(st.name, "gw1");
	check_any(&st.addr, 0);
}

static void test_service_add(void **state)
{
	(void)state;
	ok("service add dns udp 127.0.0.1:53");
	assert_int_equal(st.kind, STMT_SERVICE_ADD);
	assert_string_equal(st.name, "dns");
	assert_int_equal(st.proto, IPPROTO_UDP);
	check_v4(&st.addr, "127.0.0.1", 53);
	assert_int_equal(st.n_allow, 0);

	ok("service add web tcp [fd00::80]:8080");
	assert_int_equal(st.proto, IPPROTO_TCP);
	check_v6(&st.addr, "fd00::80", 8080);

	ok("service add web tcp www.example.com:80 allow alice@EXAMPLE.COM");
	check_name(&st.addr, "www.example.com", 80);
	assert_int_equal(st.n_allow, 1);
	assert_string_equal(st.allow[0], "alice@EXAMPLE.COM");

	ok("service add web tcp web:80 allow a@R,host/b@R,c");
	assert_int_equal(st.n_allow, 3);
	assert_string_equal(st.allow[0], "a@R");
	assert_string_equal(st.allow[1], "host/b@R");
	assert_string_equal(st.allow[2], "c");
	assert_string_equal(st.principal, "");
}

/* service add ... identity PRINCIPAL keytab PATH */
static void test_service_identity(void **state)
{
	(void)state;
	ok("service add dns udp 127.0.0.1:53 identity dns/hoster@EXAMPLE.NET keytab /etc/funnel/dns.keytab");
	assert_int_equal(st.kind, STMT_SERVICE_ADD);
	assert_string_equal(st.identity, "dns/hoster@EXAMPLE.NET");
	assert_string_equal(st.path, "/etc/funnel/dns.keytab");
	/* not the statement's other principal fields */
	assert_string_equal(st.principal, "");
	assert_int_equal(st.n_allow, 0);

	/* any order among the other clauses */
	ok("service add dns udp 127.0.0.1:53 allow a@R,b@R identity dns/h keytab /k lifetime 250");
	memcpy(&st_again, &st, sizeof(st));
	ok("service add dns udp 127.0.0.1:53 identity dns/h keytab /k lifetime 250 allow a@R,b@R");
	assert_memory_equal(&st, &st_again, sizeof(st));
	ok("service add dns udp 127.0.0.1:53 lifetime 250 allow a@R,b@R identity dns/h keytab /k");
	assert_memory_equal(&st, &st_again, sizeof(st));
	assert_string_equal(st.identity, "dns/h");
	assert_string_equal(st.path, "/k");
	assert_int_equal(st.n_allow, 2);
	assert_int_equal(st.lifetime_ms, 250);

	ok("service add ldap tcp 127.0.0.1:389 proxy v2 identity ldap/hoster keytab /etc/funnel/ldap.keytab");
	assert_int_equal(st.proxy, 2);
	assert_string_equal(st.identity, "ldap/hoster");

	/* without the clause: the daemon's identity */
	ok("service add dns udp 127.0.0.1:53 allow a@R");
	assert_string_equal(st.identity, "");
	assert_string_equal(st.path, "");
}

/* map add ... identity PRINCIPAL keytab PATH, principal P */
static void test_map_identity(void **state)
{
	(void)state;
	ok("map add udp 5300 peer hoster service dns identity alice@R keytab /etc/funnel/alice.keytab");
	assert_int_equal(st.kind, STMT_MAP_ADD);
	assert_string_equal(st.identity, "alice@R");
	assert_string_equal(st.path, "/etc/funnel/alice.keytab");
	assert_string_equal(st.principal, "");

	ok("map add udp 5300 peer hoster service dns principal dns/hoster@R");
	assert_string_equal(st.principal, "dns/hoster@R");
	assert_string_equal(st.identity, "");
	assert_string_equal(st.path, "");

	/* every clause, in several orders: the same statement */
	ok("map add udp 127.0.0.1:5300 peer hoster service dns identity alice keytab /k principal dns/hoster lifetime 0");
	assert_string_equal(st.identity, "alice");
	assert_string_equal(st.path, "/k");
	assert_string_equal(st.principal, "dns/hoster");
	assert_true(st.has_lifetime);
	memcpy(&st_again, &st, sizeof(st));
	ok("map add udp 127.0.0.1:5300 principal dns/hoster lifetime 0 identity alice keytab /k service dns peer hoster");
	assert_memory_equal(&st, &st_again, sizeof(st));
	ok("map add udp 127.0.0.1:5300 identity alice keytab /k service dns principal dns/hoster peer hoster lifetime 0");
	assert_memory_equal(&st, &st_again, sizeof(st));

	/* a principal clause word may be a principal named "identity" */
	ok("map add tcp 3890 peer h service ldap principal identity");
	assert_string_equal(st.principal, "identity");
	assert_string_equal(st.identity, "");
}

/* relay add NAME udp peer P [service S] [allow] [identity] [principal] [lifetime] */
static void test_relay(void **state)
{
	(void)state;
	ok("relay add dns udp peer hoster");
	assert_int_equal(st.kind, STMT_RELAY_ADD);
	assert_string_equal(st.name, "dns");
	assert_int_equal(st.proto, IPPROTO_UDP);
	assert_string_equal(st.peer, "hoster");
	assert_string_equal(st.service, "");
	check_roundtrip();
	assert_string_equal(text, "relay add dns udp peer hoster");

	ok("relay add rdns udp service dns peer hoster allow a@R,b@R identity dns/gw keytab /k principal dns/hoster lifetime 250");
	assert_string_equal(st.service, "dns");
	assert_int_equal(st.n_allow, 2);
	assert_string_equal(st.identity, "dns/gw");
	assert_string_equal(st.path, "/k");
	assert_string_equal(st.principal, "dns/hoster");
	assert_true(st.has_lifetime);
	assert_int_equal(st.lifetime_ms, 250);
	check_roundtrip();
	assert_string_equal(text, "relay add rdns udp peer hoster service dns allow a@R,b@R identity dns/gw keytab /k principal dns/hoster lifetime 250");

	ok("relay del rdns");
	assert_int_equal(st.kind, STMT_RELAY_DEL);
	assert_string_equal(st.name, "rdns");
	check_roundtrip();
	assert_string_equal(stmt_kind_name(STMT_RELAY_ADD), "relay add");

	ok("relay add ldap tcp peer hoster service ldap allow a@R principal ldap/hoster");
	assert_int_equal(st.proto, IPPROTO_TCP);
	assert_false(st.has_lifetime);
	check_roundtrip();
	assert_string_equal(text, "relay add ldap tcp peer hoster service ldap allow a@R principal ldap/hoster");
	bad_exact("relay add ldap tcp peer h lifetime 250",
		  "relay add: 'lifetime' is for udp only (tcp data is never abandoned)");
	bad_exact("relay add ldap sctp peer h",
		  "relay add: bad protocol 'sctp' (udp, tcp)");
	bad_exact("relay add dns udp", "relay add: missing 'peer NAME'");
	bad_exact("relay add dns udp service dns",
		  "relay add: missing 'peer NAME'");
	bad_exact("relay add dns udp peer h peer g",
		  "relay add: duplicate 'peer'");
	bad_exact("relay add dns udp peer h service a service b",
		  "relay add: duplicate 'service'");
	bad_exact("relay add dns udp peer h proxy v2",
		  "relay add: unexpected word 'proxy'");
	bad_exact("relay add dns udp peer h plugin ldap",
		  "relay add: unexpected word 'plugin'");
	bad_exact("relay add dns udp peer h 127.0.0.1:53",
		  "relay add: unexpected word '127.0.0.1:53'");
	bad_exact("relay add dns udp peer h lifetime 700000",
		  "relay add: bad lifetime '700000' (0-600000 ms; 0: fully reliable)");
	bad_exact("relay del dns x", "relay del: unexpected word 'x'");
	bad("relay add d/ns udp peer h", "relay add: bad name 'd/ns'");
}

static void test_err_identity(void **state)
{
	(void)state;
	/* incomplete clauses */
	bad_exact("service add s udp h:1 identity",
		  "service add: missing PRINCIPAL after 'identity'");
	bad_exact("service add s udp h:1 identity dns/h",
		  "service add: missing 'keytab PATH' after 'identity PRINCIPAL'");
	bad_exact("service add s udp h:1 identity dns/h keytab",
		  "service add: missing PATH after 'keytab'");
	bad_exact("service add s udp h:1 identity dns/h allow a",
		  "service add: expected 'keytab' after 'identity dns/h', got 'allow'");
	bad_exact("map add udp 1 peer a service b identity alice",
		  "map add: missing 'keytab PATH' after 'identity PRINCIPAL'");
	bad_exact("map add udp 1 peer a service b identity alice file /k",
		  "map add: expected 'keytab' after 'identity alice', got 'file'");
	bad_exact("map add udp 1 peer a service b principal",
		  "map add: missing PRINCIPAL after 'principal'");
	/* bad values */
	bad_exact("service add s udp h:1 identity dns/h keytab k",
		  "service add: keytab path must be absolute: 'k'");
	bad_exact("map add udp 1 peer a service b identity a,b keytab /k",
		  "map add: bad principal 'a,b': character ',' not allowed (printable, no space, ',' or '#')");
	bad_exact("map add udp 1 peer a service b principal x,y",
		  "map add: bad principal 'x,y': character ',' not allowed (printable, no space, ',' or '#')");
	/* each clause at most once */
	bad_exact("service add s udp h:1 identity a keytab /k identity a keytab /k",
		  "service add: duplicate 'identity'");
	bad_exact("map add udp 1 identity a keytab /k peer a service b identity c keytab /l",
		  "map add: duplicate 'identity'");
	bad_exact("map add udp 1 peer a principal p service b principal p",
		  "map add: duplicate 'principal'");
	/* where the clauses do not belong */
	bad_exact("peer add a h identity a keytab /k",
		  "peer add: unexpected word 'identity'");
	bad_exact("service add s udp h:1 principal p",
		  "service add: unexpected word 'principal'");
	bad_exact("map del udp 1 identity a keytab /k",
		  "map del: unexpected word 'identity'");
	bad_exact("identity a keytab /k identity b keytab /l",
		  "identity: unexpected word 'identity'");
	/* the 16 words of the longest statement, then one more */
	bad_exact("map add udp 1 peer a service b identity c keytab /k principal p lifetime 5 extra",
		  "map add: unexpected word 'extra'");
}

static void test_service_allow_max(void **state)
{
	char line[1024];
	size_t off;

	(void)state;
	off = (size_t)snprintf(line, sizeof(line), "service add s udp 10.0.0.1:1 allow ");
	for (int i = 0; i < STMT_ALLOW_MAX; i++)
		off += (size_t)snprintf(line + off, sizeof(line) - off, "%sp%d@R",
					i ? "," : "", i);
	ok(line);
	assert_int_equal(st.n_allow, STMT_ALLOW_MAX);
	assert_string_equal(st.allow[31], "p31@R");
	check_roundtrip();

	/* One more is too many. */
	snprintf(line + off, sizeof(line) - off, ",extra");
	bad_exact(line, "service add: too many principals in allow list (max 32)");

	/* A principal of 255 characters is fine, 256 is not. */
	snprintf(line, sizeof(line), "service add s udp 10.0.0.1:1 allow a,%s",
		 repeat('p', 255));
	ok(line);
	assert_int_equal(strlen(st.allow[1]), 255);
	check_roundtrip();
	snprintf(line, sizeof(line), "service add s udp 10.0.0.1:1 allow a,%s",
		 repeat('p', 256));
	bad(line, "service add: principal too long (256 characters, max 255)");
}

static void test_service_del(void **state)
{
	(void)state;
	ok("service del dns");
	assert_int_equal(st.kind, STMT_SERVICE_DEL);
	assert_string_equal(st.name, "dns");
}

static void test_map_add(void **state)
{
	(void)state;
	ok("map add udp 5353 peer gw1 service dns");
	assert_int_equal(st.kind, STMT_MAP_ADD);
	assert_int_equal(st.proto, IPPROTO_UDP);
	check_any(&st.addr, 5353);
	assert_string_equal(st.peer, "gw1");
	assert_string_equal(st.service, "dns");
	assert_string_equal(st.name, "");

	memcpy(&st_again, &st, sizeof(st));
	ok("map add udp 5353 service dns peer gw1");
	assert_memory_equal(&st, &st_again, sizeof(st));
	ok("map add udp :5353 peer gw1 service dns");	/* ":PORT" as well */
	assert_memory_equal(&st, &st_again, sizeof(st));

	ok("map add tcp 127.0.0.2:8080 peer gw1 service web");
	assert_int_equal(st.proto, IPPROTO_TCP);
	check_v4(&st.addr, "127.0.0.2", 8080);
	ok("map add tcp [::1]:8080 peer gw1 service web");
	check_v6(&st.addr, "::1", 8080);
}

static void test_map_del(void **state)
{
	(void)state;
	ok("map del udp 5353");
	assert_int_equal(st.kind, STMT_MAP_DEL);
	assert_int_equal(st.proto, IPPROTO_UDP);
	check_any(&st.addr, 5353);
	assert_string_equal(st.peer, "");
	ok("map del tcp [fd00::1]:1");
	assert_int_equal(st.proto, IPPROTO_TCP);
	check_v6(&st.addr, "fd00::1", 1);
	ok("map del tcp 10.1.2.3:65535");
	check_v4(&st.addr, "10.1.2.3", 65535);
}

static void test_simple(void **state)
{
	(void)state;
	ok("show");
	assert_int_equal(st.kind, STMT_SHOW);
	ok("stats");
	assert_int_equal(st.kind, STMT_STATS);
	assert_false(st.prometheus);
	ok("stats --prometheus");
	assert_int_equal(st.kind, STMT_STATS);
	assert_true(st.prometheus);
	ok("plaintext");
	assert_int_equal(st.kind, STMT_PLAINTEXT);
	check_unused_empty();
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(stmt_kind_name(STMT_EMPTY), "empty");
	assert_string_equal(stmt_kind_name(STMT_IDENTITY), "identity");
	assert_string_equal(stmt_kind_name(STMT_LISTEN), "listen");
	assert_string_equal(stmt_kind_name(STMT_PEER_ADD), "peer add");
	assert_string_equal(stmt_kind_name(STMT_PEER_DEL), "peer del");
	assert_string_equal(stmt_kind_name(STMT_SERVICE_ADD), "service add");
	assert_string_equal(stmt_kind_name(STMT_SERVICE_DEL), "service del");
	assert_string_equal(stmt_kind_name(STMT_MAP_ADD), "map add");
	assert_string_equal(stmt_kind_name(STMT_MAP_DEL), "map del");
	assert_string_equal(stmt_kind_name(STMT_SHOW), "show");
	assert_string_equal(stmt_kind_name(STMT_STATS), "stats");
	assert_string_equal(stmt_kind_name(STMT_PLAINTEXT), "plaintext");
	assert_string_equal(stmt_kind_name((enum stmt_kind)99), "?");
	assert_string_equal(stmt_kind_name((enum stmt_kind)-1), "?");

	assert_string_equal(stmt_carrier_name(STMT_CARRIER_AUTO), "auto");
	assert_string_equal(stmt_carrier_name(STMT_CARRIER_SCTP), "sctp");
	assert_string_equal(stmt_carrier_name(STMT_CARRIER_SCTP_UDP), "sctp-udp");
	assert_string_equal(stmt_carrier_name(STMT_CARRIER_TCP), "tcp");
	assert_string_equal(stmt_carrier_name((enum stmt_carrier)4), "?");

	assert_string_equal(stmt_proto_name(IPPROTO_UDP), "udp");
	assert_string_equal(stmt_proto_name(IPPROTO_TCP), "tcp");
	assert_string_equal(stmt_proto_name(0), "?");
}

/* ---- errors ---- */

static void test_err_command(void **state)
{
	char *none[] = { NULL };

	(void)state;
	bad_exact("mpa add udp 53 peer a service b",
		  "unknown command 'mpa' (try: identity, listen, peer, service, map, show, stats, plaintext)");
	bad_exact("Show", "unknown command 'Show' (try: identity, listen, peer, service, map, show, stats, plaintext)");
	bad_exact("add", "unknown command 'add' (try: identity, listen, peer, service, map, show, stats, plaintext)");
	bad_exact("peer", "peer: missing add or del");
	bad_exact("service", "service: missing add or del");
	bad_exact("map", "map: missing add or del");
	bad_exact("peer remove gw1", "peer: unknown subcommand 'remove' (add, del)");
	bad_exact("map ad udp 53", "map: unknown subcommand 'ad' (add, del)");

	assert_int_equal(stmt_parse_argv(0, none, &st, err, sizeof(err)), -1);
	assert_string_equal(err, "missing command (try: identity, listen, peer, service, map, show, stats, plaintext)");
}

static void test_err_missing(void **state)
{
	(void)state;
	bad_exact("identity", "identity: missing PRINCIPAL");
	bad_exact("identity a@R", "identity: missing 'keytab PATH'");
	bad_exact("identity a@R keytab", "identity: missing PATH after 'keytab'");
	bad_exact("identity a@R file /k", "identity: expected 'keytab', got 'file'");
	bad_exact("listen", "listen: missing [ADDR]:PORT");
	bad_exact("peer add", "peer add: missing NAME");
	bad_exact("peer add gw1", "peer add: missing HOST[:PORT]");
	bad_exact("peer add gw1 h carrier",
		  "peer add: missing carrier after 'carrier' (auto, sctp, sctp-udp, tcp)");
	bad_exact("peer add gw1 h principal",
		  "peer add: missing PRINCIPAL after 'principal'");
	bad_exact("peer del", "peer del: missing NAME");
	bad_exact("service add", "service add: missing NAME");
	bad_exact("service add s", "service add: missing udp|tcp");
	bad_exact("service add s udp", "service add: missing TARGET:PORT");
	bad_exact("service add s udp h:1 allow",
		  "service add: missing PRINCIPAL[,PRINCIPAL...] after 'allow'");
	bad_exact("service del", "service del: missing NAME");
	bad_exact("map add", "map add: missing udp|tcp");
	bad_exact("map add udp", "map add: missing [ADDR:]PORT");
	bad_exact("map add udp 53", "map add: missing 'peer NAME'");
	bad_exact("map add udp 53 peer a", "map add: missing 'service NAME'");
	bad_exact("map add udp 53 service s", "map add: missing 'peer NAME'");
	bad_exact("map add udp 53 peer", "map add: missing NAME after 'peer'");
	bad_exact("map add udp 53 peer a service",
		  "map add: missing NAME after 'service'");
	bad_exact("map del", "map del: missing udp|tcp");
	bad_exact("map del tcp", "map del: missing [ADDR:]PORT");
}

static void test_err_extra(void **state)
{
	(void)state;
	bad_exact("identity a keytab /k extra", "identity: unexpected word 'extra'");
	bad_exact("listen :1 extra", "listen: unexpected word 'extra'");
	bad_exact("peer add a h extra", "peer add: unexpected word 'extra'");
	bad_exact("peer add a h carrier tcp extra", "peer add: unexpected word 'extra'");
	bad_exact("peer add a h 53", "peer add: unexpected word '53'");
	bad_exact("peer del a b", "peer del: unexpected word 'b'");
	bad_exact("service add s udp h:1 extra", "service add: unexpected word 'extra'");
	bad_exact("service add s udp h:1 allow a extra",
		  "service add: unexpected word 'extra'");
	bad_exact("service add s udp h:1 allow a b", "service add: unexpected word 'b'");
	bad_exact("service del s t", "service del: unexpected word 't'");
	bad_exact("map add udp 53 peer a service b extra",
		  "map add: unexpected word 'extra'");
	bad_exact("map add udp 53 extra", "map add: unexpected word 'extra'");
	bad_exact("map del udp 53 extra", "map del: unexpected word 'extra'");
	bad_exact("show all", "show: unexpected word 'all' (show takes no argument)");
	bad_exact("stats --json", "stats: unexpected word '--json'");
	bad_exact("stats prometheus", "stats: unexpected word 'prometheus'");
	bad_exact("plaintext yes",
		  "plaintext: unexpected word 'yes' (plaintext takes no argument)");
	bad_exact("plaintext on off",
		  "plaintext: unexpected word 'on' (plaintext takes no argument)");
}

static void test_err_port(void **state)
{
	(void)state;
	bad_exact("map add udp 127.0.0.1:70000 peer a service b",
		  "map add: bad port '70000' in '127.0.0.1:70000' (1-65535)");
	bad_exact("map add udp 70000 peer a service b",
		  "map add: bad port '70000' (1-65535)");
	bad_exact("map del udp 0", "map del: bad port '0' (1-65535)");
	bad_exact("listen :0", "listen: bad port '0' in ':0' (1-65535)");
	bad_exact("listen :65536", "listen: bad port '65536' in ':65536' (1-65535)");
	bad_exact("listen :99999999999999999999999",
		  "listen: bad port '99999999999999999999999' in ':99999999999999999999999' (1-65535)");
	bad_exact("listen [::1]:0", "listen: bad port '0' in '[::1]:0' (1-65535)");
	bad_exact("listen :http", "listen: bad port 'http' in ':http' (1-65535)");
	bad_exact("listen :-1", "listen: bad port '-1' in ':-1' (1-65535)");
	bad_exact("listen :+53", "listen: bad port '+53' in ':+53' (1-65535)");
	bad_exact("listen :53x", "listen: bad port '53x' in ':53x' (1-65535)");
	bad_exact("listen 1.2.3.4:", "listen: missing port after ':' in '1.2.3.4:'");
	bad_exact("listen :", "listen: missing port after ':' in ':'");
	bad_exact("peer add a h:0", "peer add: bad port '0' in 'h:0' (1-65535)");
	bad_exact("peer add a [::1]:", "peer add: missing port after ':' in '[::1]:'");
	bad_exact("service add s tcp 10.0.0.1:0",
		  "service add: bad port '0' in '10.0.0.1:0' (1-65535)");
	bad_exact("service add s tcp 10.0.0.1",
		  "service add: missing port in '10.0.0.1' (TARGET:PORT)");
	bad_exact("service add s tcp [::1]",
		  "service add: missing port in '[::1]' (TARGET:PORT)");
	bad_exact("listen [::1]", "listen: missing port in '[::1]' ([ADDR]:PORT)");
	bad_exact("listen 10.0.0.1", "listen: missing port in '10.0.0.1' ([ADDR]:PORT)");
	bad_exact("map del udp 10.0.0.1",
		  "map del: missing port in '10.0.0.1' ([ADDR:]PORT)");
}

static void test_err_address(void **state)
{
	(void)state;
	/* IPv6 needs brackets. */
	bad_exact("listen ::1:53",
		  "listen: IPv6 address must be in brackets: '::1:53' (e.g. '[fd00::1]:9899')");
	bad("peer add a fd00::2", "IPv6 address must be in brackets: 'fd00::2'");
	bad("peer add a fd00::2:9899", "must be in brackets");
	bad("service add s udp ::1:53", "service add: IPv6 address must be in brackets");
	bad("map add udp ::1:53 peer a service b", "map add: IPv6 address must be in brackets");
	bad("map del tcp ::", "map del: IPv6 address must be in brackets: '::'");

	bad_exact("listen [::1:53", "listen: missing ']' in '[::1:53'");
	bad_exact("listen [::1]53",
		  "listen: unexpected '53' after ']' in '[::1]53' (expected ':PORT')");
	bad_exact("listen [::g]:53", "listen: bad IPv6 address '::g' in '[::g]:53'");
	bad_exact("listen [1.2.3.4]:53",
		  "listen: bad IPv6 address '1.2.3.4' in '[1.2.3.4]:53'");
	bad_exact("listen []:53", "listen: bad IPv6 address '' in '[]:53'");
	bad("peer add a [fe80::1%eth0]:1", "bad IPv6 address 'fe80::1%eth0'");
	bad_exact("listen 1.2.3.256:53",
		  "listen: bad IPv4 address '1.2.3.256' in '1.2.3.256:53'");
	bad_exact("peer add a 1.2.3", "peer add: bad IPv4 address '1.2.3' in '1.2.3'");
	bad_exact("peer add a 12345", "peer add: bad IPv4 address '12345' in '12345'");

	/* listen and map take numeric addresses only. */
	bad_exact("listen localhost:53",
		  "listen: bad address 'localhost' in 'localhost:53' (numeric IPv4 or [IPv6])");
	bad_exact("map add udp gw:53 peer a service b",
		  "map add: bad address 'gw' in 'gw:53' (numeric IPv4 or [IPv6])");
	bad("map del udp x", "map del: bad address 'x' in 'x'");

	/* Host names. */
	bad_exact("peer add a -gw", "peer add: bad host name '-gw' in '-gw'");
	bad_exact("peer add a gw-.example", "peer add: bad host name 'gw-.example' in 'gw-.example'");
	bad_exact("peer add a gw..example", "peer add: bad host name 'gw..example' in 'gw..example'");
	bad_exact("peer add a gw.example.", "peer add: bad host name 'gw.example.' in 'gw.example.'");
	bad_exact("peer add a g/w:1", "peer add: bad host name 'g/w' in 'g/w:1'");
	bad_exact("service add s udp :53", "service add: missing host in ':53'");
	bad_exact("peer add a :53", "peer add: missing host in ':53'");
	{
		char line[512];

		/* 63-character labels, 253 characters in all */
		strcpy(line, "peer add a ");
		for (int i = 0; i < 3; i++) {
			strcat(line, repeat((char)('a' + i), 63));
			strcat(line, ".");
		}
		strcat(line, repeat('d', 61));
		strcat(line, ":1");
		ok(line);
		assert_int_equal(strlen(st.addr.host), 253);
		check_roundtrip();
		strcpy(strstr(line, ":1"), "d:1");
		bad(line, "peer add: host name too long (254 characters, max 253)");
		snprintf(line, sizeof(line), "peer add a %s.x", repeat('a', 64));
		bad(line, "peer add: bad host name");
	}
}

/* SCTP: several peer addresses (multihoming) and PR-SCTP lifetimes. */
static void test_sctp_clauses(void **state)
{
	(void)state;
	canon("peer add gw 10.0.0.1,10.0.1.1:7000 carrier sctp", NULL);
	assert_int_equal(st.n_more, 1);
	assert_int_equal(st.addr.port, 7000);
	assert_int_equal(st.more[0].port, 7000);
	assert_string_equal(st.more[0].host, "10.0.1.1");
	canon("peer add gw [fd00::1],[fd01::1],192.0.2.1", NULL);
	assert_int_equal(st.n_more, 2);
	assert_int_equal(st.addr.port, 0);
	canon("peer add gw a.example,192.0.2.1:9899", NULL);
	bad_exact("peer add gw a.example,b.example",
		  "peer add: only the first address may be a name: 'b.example' in 'a.example,b.example'");
	canon("service add dns udp 127.0.0.1:53 lifetime 250 allow a@R",
	      "service add dns udp 127.0.0.1:53 allow a@R lifetime 250");
	assert_true(st.has_lifetime);
	assert_int_equal(st.lifetime_ms, 250);
	canon("service add dns udp 127.0.0.1:53 lifetime 0", NULL);
	assert_true(st.has_lifetime);
	assert_int_equal(st.lifetime_ms, 0);
	canon("map add udp 5300 lifetime 600000 peer p service s",
	      "map add udp 5300 peer p service s lifetime 600000");
	bad_exact("peer add gw 10.0.0.1:7000,10.0.1.1",
		  "peer add: a port only after the last address, in '10.0.0.1:7000,10.0.1.1'");
	bad_exact("peer add gw 10.0.0.1,,10.0.1.1",
		  "peer add: empty address in '10.0.0.1,,10.0.1.1'");
	bad_exact("peer add gw a,1.0.0.2,1.0.0.3,1.0.0.4,1.0.0.5",
		  "peer add: more than 4 addresses in 'a,1.0.0.2,1.0.0.3,1.0.0.4,1.0.0.5'");
	bad_exact("peer add gw 10.0.0.1,fd00::1",
		  "peer add: IPv6 address must be in brackets: 'fd00::1' (e.g. '[fd00::1]:9899')");
	bad_exact("service add web tcp 127.0.0.1:80 lifetime 100",
		  "service add: 'lifetime' is for udp only (tcp data is never abandoned)");
	bad_exact("map add udp 5300 peer p service s lifetime 600001",
		  "map add: bad lifetime '600001' (0-600000 ms; 0: fully reliable)");
	bad_exact("map add udp 5300 peer p service s lifetime -1",
		  "map add: bad lifetime '-1' (0-600000 ms; 0: fully reliable)");
	bad_exact("map add udp 5300 peer p service s lifetime 1 lifetime 2",
		  "map add: duplicate 'lifetime'");
	bad_exact("service add dns udp 127.0.0.1:53 lifetime",
		  "service add: missing MS after 'lifetime'");
	bad_exact("service add dns udp 127.0.0.1:53 allow a@R allow b@R",
		  "service add: duplicate 'allow'");
}

/*
 * "udp-port PORT" of peer add: the peer's SCTP over UDP port, for carrier
 * sctp-udp and auto only (sctp and tcp use no UDP encapsulation), once,
 * 1-65535; in either order with "carrier".
 */
static void test_udp_port(void **state)
{
	(void)state;
	canon("peer add gw 10.0.0.1 carrier sctp-udp udp-port 9900", NULL);
	assert_int_equal(st.carrier, STMT_CARRIER_SCTP_UDP);
	assert_int_equal(st.udp_port, 9900);
	canon("peer add gw 10.0.0.1 udp-port 1", NULL);
	assert_int_equal(st.carrier, STMT_CARRIER_AUTO);
	assert_int_equal(st.udp_port, 1);
	canon("peer add gw 10.0.0.1 udp-port 65535 carrier auto",
	      "peer add gw 10.0.0.1 udp-port 65535");
	assert_int_equal(st.udp_port, 65535);
	canon("peer add gw h principal p@R udp-port 9900 carrier sctp-udp",
	      "peer add gw h carrier sctp-udp udp-port 9900 principal p@R");
	canon("peer add gw 10.0.0.1,10.0.1.1:7000 carrier sctp-udp udp-port 09900",
	      "peer add gw 10.0.0.1,10.0.1.1:7000 carrier sctp-udp udp-port 9900");
	ok("peer add gw 10.0.0.1");
	assert_int_equal(st.udp_port, 0);

	bad_exact("peer add gw 10.0.0.1 carrier tcp udp-port 9900",
		  "peer add: 'udp-port' is for carrier sctp-udp or auto (carrier tcp uses no SCTP over UDP)");
	bad_exact("peer add gw 10.0.0.1 udp-port 9900 carrier tcp",
		  "peer add: 'udp-port' is for carrier sctp-udp or auto (carrier tcp uses no SCTP over UDP)");
	bad_exact("peer add gw 10.0.0.1 carrier sctp udp-port 9900",
		  "peer add: 'udp-port' is for carrier sctp-udp or auto (carrier sctp is SCTP without UDP)");
	bad_exact("peer add gw 10.0.0.1 udp-port 0",
		  "peer add: bad udp-port '0' (1-65535)");
	bad_exact("peer add gw 10.0.0.1 udp-port 65536",
		  "peer add: bad udp-port '65536' (1-65535)");
	bad_exact("peer add gw 10.0.0.1 udp-port 99999999999999999999",
		  "peer add: bad udp-port '99999999999999999999' (1-65535)");
	bad_exact("peer add gw 10.0.0.1 udp-port -1",
		  "peer add: bad udp-port '-1' (1-65535)");
	bad_exact("peer add gw 10.0.0.1 udp-port +9900",
		  "peer add: bad udp-port '+9900' (1-65535)");
	bad_exact("peer add gw 10.0.0.1 udp-port 9900x",
		  "peer add: bad udp-port '9900x' (1-65535)");
	bad_exact("peer add gw 10.0.0.1 udp-port 0x2694",
		  "peer add: bad udp-port '0x2694' (1-65535)");
	bad_exact("peer add gw 10.0.0.1 udp-port",
		  "peer add: missing PORT after 'udp-port'");
	bad_exact("peer add gw 10.0.0.1 udp-port 9900 udp-port 9900",
		  "peer add: duplicate 'udp-port'");
	bad_exact("peer add gw 10.0.0.1 udp-port 9900 9901",
		  "peer add: unexpected word '9901'");
	/* a clause of peer add only */
	bad_exact("map add udp 5300 peer p service s udp-port 9900",
		  "map add: unexpected word 'udp-port'");
	bad_exact("service add dns udp 127.0.0.1:53 udp-port 9900",
		  "service add: unexpected word 'udp-port'");
}

/* "proxy v2": TCP services only, v2 only, once. */
static void test_proxy(void **state)
{
	(void)state;
	canon("service add ldap tcp 127.0.0.1:389 proxy v2", NULL);
	assert_int_equal(st.proxy, 2);
	canon("service add ldap tcp [::1]:389 proxy v2 allow a@R",
	      "service add ldap tcp [::1]:389 allow a@R proxy v2");
	assert_int_equal(st.proxy, 2);
	canon("service add ldap tcp 127.0.0.1:389", NULL);
	assert_int_equal(st.proxy, 0);
	bad_exact("service add ldap tcp 127.0.0.1:389 proxy v1",
		  "service add: unknown PROXY protocol version 'v1' (v2 only)");
	bad_exact("service add ldap tcp 127.0.0.1:389 proxy V2",
		  "service add: unknown PROXY protocol version 'V2' (v2 only)");
	bad_exact("service add ldap tcp 127.0.0.1:389 proxy",
		  "service add: missing version after 'proxy' (v2)");
	bad_exact("service add ldap tcp 127.0.0.1:389 proxy v2 proxy v2",
		  "service add: duplicate 'proxy'");
	bad_exact("service add dns udp 127.0.0.1:53 proxy v2",
		  "service add: 'proxy' is for tcp only (the PROXY protocol header goes before the bytes of a TCP connection)");
	bad_exact("map add tcp 3890 peer p service s proxy v2",
		  "map add: unexpected word 'proxy'");
}

/* "plugin ldap": TCP services and maps only, known names only, once. */
static void test_plugin(void **state)
{
	(void)state;
	canon("service add ldap tcp 127.0.0.1:389 plugin ldap", NULL);
	assert_int_equal(st.plugin, STMT_PLUGIN_LDAP);
	canon("service add ldap tcp 127.0.0.1:389 plugin ldap proxy v2 allow a@R",
	      "service add ldap tcp 127.0.0.1:389 allow a@R proxy v2 plugin ldap");
	assert_int_equal(st.plugin, STMT_PLUGIN_LDAP);
	assert_int_equal(st.proxy, 2);
	canon("map add tcp 3890 plugin ldap service ldap peer p",
	      "map add tcp 3890 peer p service ldap plugin ldap");
	assert_int_equal(st.plugin, STMT_PLUGIN_LDAP);
	canon("map add tcp 3890 peer p service ldap", NULL);
	assert_int_equal(st.plugin, 0);
	/* with the identity clauses, in any order */
	canon("service add ldap tcp 127.0.0.1:389 plugin ldap identity ldap/h keytab /k proxy v2 allow a@R",
	      "service add ldap tcp 127.0.0.1:389 allow a@R identity ldap/h keytab /k proxy v2 plugin ldap");
	assert_int_equal(st.plugin, STMT_PLUGIN_LDAP);
	assert_string_equal(st.identity, "ldap/h");
	canon("map add tcp 3890 plugin ldap principal ldap/h identity alice keytab /k service ldap peer p",
	      "map add tcp 3890 peer p service ldap identity alice keytab /k principal ldap/h plugin ldap");
	assert_int_equal(st.plugin, STMT_PLUGIN_LDAP);
	assert_string_equal(st.identity, "alice");
	assert_string_equal(st.principal, "ldap/h");
	bad_exact("map add tcp 3890 peer p service s plugin ldap identity a keytab /k plugin ldap",
		  "map add: duplicate 'plugin'");
	bad_exact("map add tcp 3890 peer p service s identity a keytab /k plugin ldap identity a keytab /k",
		  "map add: duplicate 'identity'");
	assert_string_equal(stmt_plugin_name(STMT_PLUGIN_LDAP), "ldap");
	assert_string_equal(stmt_plugin_name(0), "");
	assert_string_equal(stmt_plugin_name(9), "?");
	bad_exact("service add ldap tcp 127.0.0.1:389 plugin x500",
		  "service add: unknown plugin 'x500' (ldap)");
	bad_exact("service add ldap tcp 127.0.0.1:389 plugin LDAP",
		  "service add: unknown plugin 'LDAP' (ldap)");
	bad_exact("service add ldap tcp 127.0.0.1:389 plugin",
		  "service add: missing NAME after 'plugin' (ldap)");
	bad_exact("map add tcp 3890 peer p service s plugin ldap plugin ldap",
		  "map add: duplicate 'plugin'");
	bad_exact("service add dns udp 127.0.0.1:53 plugin ldap",
		  "service add: 'plugin' is for tcp only (it reads the messages of a TCP connection)");
	bad_exact("map add udp 5353 peer p service s plugin ldap",
		  "map add: 'plugin' is for tcp only (it reads the messages of a TCP connection)");
	bad_exact("peer add p h plugin ldap",
		  "peer add: unexpected word 'plugin'");
}

static void test_err_carrier_proto(void **state)
{
	(void)state;
	bad_exact("peer add a h carrier quic",
		  "peer add: unknown carrier 'quic' (auto, sctp, sctp-udp, tcp)");
	bad_exact("peer add a h carrier TCP",
		  "peer add: unknown carrier 'TCP' (auto, sctp, sctp-udp, tcp)");
	bad_exact("service add s sctp h:1", "service add: bad protocol 'sctp' (udp, tcp)");
	bad_exact("service add s UDP h:1", "service add: bad protocol 'UDP' (udp, tcp)");
	bad_exact("map add icmp 53 peer a service b",
		  "map add: bad protocol 'icmp' (udp, tcp)");
	bad_exact("map del 53", "map del: bad protocol '53' (udp, tcp)");
}

static void test_err_name(void **state)
{
	char line[256];

	(void)state;
	snprintf(line, sizeof(line), "peer add %s h", repeat('n', 64));
	bad(line, "peer add: name too long (64 characters, max 63): 'nnnn");
	snprintf(line, sizeof(line), "map add udp 1 peer %s service s", repeat('n', 64));
	bad(line, "map add: peer name too long (64 characters, max 63)");
	snprintf(line, sizeof(line), "map add udp 1 peer p service %s", repeat('n', 100));
	bad(line, "map add: service name too long (100 characters, max 63)");

	bad_exact("peer add -a h",
		  "peer add: bad name '-a' (must start with a letter or digit)");
	bad_exact("peer add .a h",
		  "peer add: bad name '.a' (must start with a letter or digit)");
	bad_exact("service del _x",
		  "service del: bad name '_x' (must start with a letter or digit)");
	bad_exact("peer add gw/1 h",
		  "peer add: bad name 'gw/1': character '/' not allowed (A-Z a-z 0-9 _ . -)");
	bad_exact("peer del gw@1",
		  "peer del: bad name 'gw@1': character '@' not allowed (A-Z a-z 0-9 _ . -)");
	bad_exact("map add udp 1 peer p service s,t",
		  "map add: bad service name 's,t': character ',' not allowed (A-Z a-z 0-9 _ . -)");
	bad("peer add g\xc3\xa9 h", "peer add: bad name 'g");
}

static void test_err_principal_path(void **state)
{
	char line[8192];

	(void)state;
	bad_exact("identity a@R keytab etc/krb5.keytab",
		  "identity: keytab path must be absolute: 'etc/krb5.keytab'");
	bad_exact("identity a@R keytab ./k", "identity: keytab path must be absolute: './k'");
	bad_exact("identity a,b@R keytab /k",
		  "identity: bad principal 'a,b@R': character ',' not allowed (printable, no space, ',' or '#')");
	bad_exact("peer add a h principal x,y",
		  "peer add: bad principal 'x,y': character ',' not allowed (printable, no space, ',' or '#')");
	bad("identity a\x7f keytab /k", "identity: bad principal 'a?'");
	bad("identity \xc3\xa9 keytab /k", "identity: bad principal");

	snprintf(line, sizeof(line), "identity a keytab /%s", repeat('k', 4094));
	ok(line);
	assert_int_equal(strlen(st.path), 4095);
	check_roundtrip();
	snprintf(line, sizeof(line), "identity a keytab /%s", repeat('k', 4095));
	bad(line, "identity: keytab path too long (4096 characters, max 4095)");
	snprintf(line, sizeof(line), "identity %s keytab /k", repeat('p', 256));
	bad(line, "identity: principal too long (256 characters, max 255)");

	/* Non-ASCII in a path is fine. */
	ok("identity a keytab /etc/\xc3\xa9.keytab");

	/* allow lists */
	bad_exact("service add s udp h:1 allow a,,b",
		  "service add: empty principal in allow list 'a,,b'");
	bad_exact("service add s udp h:1 allow ,a",
		  "service add: empty principal in allow list ',a'");
	bad_exact("service add s udp h:1 allow a,",
		  "service add: empty principal in allow list 'a,'");
	bad_exact("service add s udp h:1 allow ,",
		  "service add: empty principal in allow list ','");
	bad_exact("service add s udp h:1 allow a,b,a",
		  "service add: duplicate principal 'a' in allow list");
}

static void test_err_duplicate(void **state)
{
	(void)state;
	bad_exact("peer add a h carrier tcp carrier tcp", "peer add: duplicate 'carrier'");
	bad_exact("peer add a h carrier tcp principal p carrier sctp",
		  "peer add: duplicate 'carrier'");
	bad_exact("peer add a h carrier auto carrier auto", "peer add: duplicate 'carrier'");
	bad_exact("peer add a h principal p principal p", "peer add: duplicate 'principal'");
	bad_exact("service add s udp h:1 allow a allow b", "service add: duplicate 'allow'");
	bad_exact("map add udp 1 peer a service b peer a", "map add: duplicate 'peer'");
	bad_exact("map add udp 1 service b peer a service b", "map add: duplicate 'service'");
	bad_exact("stats --prometheus --prometheus", "stats: duplicate '--prometheus'");
}

/* argv words may hold what no line can: it is refused. */
static void test_err_argv_only(void **state)
{
	char *path_space[] = { "identity", "a@R", "keytab", "/etc/my keytab" };
	char *path_hash[] = { "identity", "a@R", "keytab", "/etc/k#1" };
	char *princ_hash[] = { "peer", "add", "a", "h", "principal", "p#1" };
	char *princ_space[] = { "identity", "a b", "keytab", "/k" };
	char *host_space[] = { "peer", "add", "a", "h x" };
	char *empty_name[] = { "peer", "del", "" };
	char *empty_addr[] = { "map", "del", "udp", "" };
	char *empty_cmd[] = { "" };
	char *tab_path[] = { "identity", "a", "keytab", "/k\t" };
	char *empty_port[] = { "peer", "add", "a", "h", "udp-port", "" };
	char *space_port[] = { "peer", "add", "a", "h", "udp-port", "99 00" };

	(void)state;
	assert_int_equal(stmt_parse_argv(4, path_space, &st, err, sizeof(err)), -1);
	assert_string_equal(err, "identity: bad keytab path '/etc/my keytab': character ' ' not allowed (no space, control or '#')");
	assert_int_equal(stmt_parse_argv(4, path_hash, &st, err, sizeof(err)), -1);
	assert_string_equal(err, "identity: bad keytab path '/etc/k#1': character '#' not allowed (no space, control or '#')");
	assert_int_equal(stmt_parse_argv(6, princ_hash, &st, err, sizeof(err)), -1);
	assert_string_equal(err, "peer add: bad principal 'p#1': character '#' not allowed (printable, no space, ',' or '#')");
	assert_int_equal(stmt_parse_argv(4, princ_space, &st, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "bad principal 'a b'"));
	assert_int_equal(stmt_parse_argv(4, host_space, &st, err, sizeof(err)), -1);
	assert_string_equal(err, "peer add: bad host name 'h x' in 'h x'");
	assert_int_equal(stmt_parse_argv(3, empty_name, &st, err, sizeof(err)), -1);
	assert_string_equal(err, "peer del: bad name '' (must start with a letter or digit)");
	assert_int_equal(stmt_parse_argv(4, empty_addr, &st, err, sizeof(err)), -1);
	assert_string_equal(err, "map del: missing port in '' ([ADDR:]PORT)");
	assert_int_equal(stmt_parse_argv(1, empty_cmd, &st, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "unknown command ''"));
	assert_int_equal(stmt_parse_argv(4, tab_path, &st, err, sizeof(err)), -1);
	/* the tab is shown as '?' */
	assert_string_equal(err, "identity: bad keytab path '/k?': character '?' not allowed (no space, control or '#')");
	assert_int_equal(stmt_parse_argv(6, empty_port, &st, err, sizeof(err)), -1);
	assert_string_equal(err, "peer add: bad udp-port '' (1-65535)");
	assert_int_equal(stmt_parse_argv(6, space_port, &st, err, sizeof(err)), -1);
	assert_string_equal(err, "peer add: bad udp-port '99 00' (1-65535)");
}

static void test_err_buffer(void **state)
{
	char small[12];
	char *argv[] = { "mpa" };

	(void)state;
	/* Truncated, terminated, nothing written past the end. */
	memset(small, 'x', sizeof(small));
	assert_int_equal(stmt_parse_line("mpa", &st, small, 8), -1);
	assert_string_equal(small, "unknown");
	assert_int_equal(small[8], 'x');
	assert_int_equal(stmt_parse_line("peer add a h:0", &st, small, 6), -1);
	assert_string_equal(small, "peer ");
	assert_int_equal(stmt_parse_line("peer add a h:0", &st, small, 1), -1);
	assert_string_equal(small, "");
	/* No buffer at all. */
	assert_int_equal(stmt_parse_line("mpa", &st, NULL, 0), -1);
	assert_int_equal(stmt_parse_argv(1, argv, &st, NULL, 0), -1);
	assert_int_equal(stmt_parse_line("show", &st, NULL, 0), 0);
	assert_int_equal(stmt_parse_line("", &st, NULL, 0), 0);
}

/* ---- configuration lines ---- */

static void test_lines(void **state)
{
	static const char *const empty[] = {
		"", " ", "\t", "\n", "\r\n", " \t \f\v ", "#", "# comment",
		"   # indented comment", "#show", "\t#\tlisten :1\n",
	};
	char line[2 * STMT_LINE_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(empty) / sizeof(empty[0]); i++) {
		memset(&st, 0xff, sizeof(st));
		assert_int_equal(stmt_parse_line(empty[i], &st, err, sizeof(err)), 0);
		assert_int_equal(st.kind, STMT_EMPTY);
		assert_string_equal(err, "");
		assert_int_equal(stmt_format(&st, text, sizeof(text)), 0);
		assert_string_equal(text, "");
	}

	assert_int_equal(stmt_parse_line("  listen\t:9899   # the default\n",
					 &st, err, sizeof(err)), 0);
	assert_int_equal(st.kind, STMT_LISTEN);
	check_any(&st.addr, 9899);
	assert_int_equal(stmt_parse_line("listen :9899#no space before", &st,
					 err, sizeof(err)), 0);
	check_any(&st.addr, 9899);
	assert_int_equal(stmt_parse_line("show#", &st, err, sizeof(err)), 0);
	assert_int_equal(st.kind, STMT_SHOW);
	assert_int_equal(stmt_parse_line("plaintext # both ends, see show\r\n",
					 &st, err, sizeof(err)), 0);
	assert_int_equal(st.kind, STMT_PLAINTEXT);
	assert_int_equal(stmt_parse_line("\tpeer  add\tgw1 \t [fd00::2]:9899\r",
					 &st, err, sizeof(err)), 0);
	assert_int_equal(st.kind, STMT_PEER_ADD);
	check_v6(&st.addr, "fd00::2", 9899);
	/* A comment hides the rest of the statement. */
	assert_int_equal(stmt_parse_line("peer add gw1 h # carrier tcp", &st,
					 err, sizeof(err)), 0);
	assert_int_equal(st.carrier, STMT_CARRIER_AUTO);
	assert_int_equal(stmt_parse_line("peer add gw1 #h", &st, err,
					 sizeof(err)), -1);
	assert_string_equal(err, "peer add: missing HOST[:PORT]");
	assert_int_equal(stmt_parse_line("identity a keytab /etc/k#eytab", &st,
					 err, sizeof(err)), 0);
	assert_string_equal(st.path, "/etc/k");

	/* Many words: the first extra one is named. */
	assert_int_equal(stmt_parse_line("show a b c d e f g h i j k l m n o p q r s t",
					 &st, err, sizeof(err)), -1);
	assert_string_equal(err, "show: unexpected word 'a' (show takes no argument)");
	assert_int_equal(stmt_parse_line("map add udp 1 peer a service b x y z 1 2 3 4 5 6 7 8 9",
					 &st, err, sizeof(err)), -1);
	assert_string_equal(err, "map add: unexpected word 'x'");

	/* Long lines: white space and comments do not count. */
	snprintf(line, sizeof(line), "show %*s# %s", 10000, "",
		 repeat('c', 8000));
	assert_int_equal(stmt_parse_line(line, &st, err, sizeof(err)), 0);
	assert_int_equal(st.kind, STMT_SHOW);
	snprintf(line, sizeof(line), "# %s", repeat('c', 8000));
	assert_int_equal(stmt_parse_line(line, &st, err, sizeof(err)), 0);
	assert_int_equal(st.kind, STMT_EMPTY);
	strcpy(line, "identity a keytab /");
	strcat(line, repeat('k', 8000));
	strcat(line, " ");
	strcat(line, repeat('y', 8500));
	assert_int_equal(stmt_parse_line(line, &st, err, sizeof(err)), -1);
	assert_string_equal(err, "line too long (max 16383 characters)");
}

/* ---- formatting ---- */

static void test_format_canonical(void **state)
{
	(void)state;
	canon("identity host/gw@EXAMPLE.COM keytab /etc/krb5.keytab", NULL);
	canon("listen :9899", NULL);
	canon("listen 9899", "listen :9899");
	canon("listen 10.0.0.1:9899", NULL);
	canon("listen [::]:9899", NULL);
	canon("listen [0:0::0:1]:9899", "listen [::1]:9899");
	canon("peer add gw1 192.0.2.1", NULL);
	canon("peer add gw1 192.0.2.1:9899", NULL);
	canon("peer add gw1 [fd00::2]", NULL);
	canon("peer add gw1 [FD00::2]:9899", "peer add gw1 [fd00::2]:9899");
	canon("peer add gw1 gw1.example.com:9899 carrier auto",
	      "peer add gw1 gw1.example.com:9899");
	canon("peer add gw1 h principal p@R carrier sctp-udp",
	      "peer add gw1 h carrier sctp-udp principal p@R");
	canon("peer del gw1", NULL);
	canon("service add dns udp 127.0.0.1:53", NULL);
	canon("service add web tcp [fd00::80]:80 allow a@R,b@R", NULL);
	canon("service del dns", NULL);
	canon("map add udp 5353 peer gw1 service dns", NULL);
	canon("map add udp :5353 service dns peer gw1",
	      "map add udp 5353 peer gw1 service dns");
	canon("map add tcp [::1]:80 peer p service s", NULL);
	canon("service add dns udp 127.0.0.1:53 lifetime 250 identity dns/h@R keytab /k allow a@R",
	      "service add dns udp 127.0.0.1:53 allow a@R identity dns/h@R keytab /k lifetime 250");
	canon("service add ldap tcp 127.0.0.1:389 proxy v2 identity ldap/h keytab /etc/l.keytab",
	      "service add ldap tcp 127.0.0.1:389 identity ldap/h keytab /etc/l.keytab proxy v2");
	canon("map add udp 5300 lifetime 0 principal dns/h@R identity alice@R keytab /k service dns peer h",
	      "map add udp 5300 peer h service dns identity alice@R keytab /k principal dns/h@R lifetime 0");
	canon("map add tcp 3890 peer h service ldap principal ldap/h", NULL);
	canon("map del tcp 127.0.0.1:80", NULL);
	canon("map del udp 53", NULL);
	canon("show", NULL);
	canon("stats", NULL);
	canon("stats --prometheus", NULL);
	canon("plaintext", NULL);
}

static void test_format_roundtrip(void **state)
{
	static const char *const lines[] = {
		"identity a keytab /k",
		"identity HTTP/www.example.com@EXAMPLE.COM keytab /var/lib/funnel/http.keytab",
		"listen :1",
		"listen 65535",
		"listen 255.255.255.255:65535",
		"listen [fe80::1:2:3:4]:9899",
		"listen [::ffff:10.0.0.1]:9899",
		"peer add a 10.0.0.1 carrier sctp",
		"peer add a [::1]:1 carrier tcp principal host/x@Y",
		"peer add a 10.0.0.1,[fd00::1]:7 carrier sctp-udp udp-port 9900 principal p",
		"peer add a.b-c_d x-y.example:2 principal p",
		"peer add 0 0x",
		"peer del Z",
		"service add s udp [2001:db8::1]:53 allow a",
		"service add s tcp t:1 allow !x,~y,z@R/s",
		"service del s",
		"map add tcp 0.0.0.0:1 service s peer p",
		"map add udp [::]:65535 peer p service s",
		"map add udp 1 peer p service s identity a keytab /k principal b/c@R lifetime 1",
		"service add s tcp t:1 allow a identity s/t@R keytab /k/s.keytab proxy v2",
		"map del udp [::1]:53",
		"stats --prometheus",
		"plaintext",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		ok(lines[i]);
		check_roundtrip();
		/* format -> parse -> format: a fixed point */
		assert_int_equal(stmt_parse_line(text, &st, err, sizeof(err)), 0);
		check_roundtrip();
	}
}

static void test_format_buffer(void **state)
{
	char small[10];
	int n;

	(void)state;
	ok("peer add gw1 [fd00::2]:9899 carrier tcp");
	n = stmt_format(&st, text, sizeof(text));
	assert_string_equal(text, "peer add gw1 [fd00::2]:9899 carrier tcp");
	assert_int_equal(n, strlen(text));

	/* Like snprintf: the full length, a truncated terminated text. */
	memset(small, 'x', sizeof(small));
	assert_int_equal(stmt_format(&st, small, 8), n);
	assert_string_equal(small, "peer ad");
	assert_int_equal(small[8], 'x');
	assert_int_equal(stmt_format(&st, small, 1), n);
	assert_string_equal(small, "");
	assert_int_equal(stmt_format(&st, NULL, 0), n);

	/* The longest statements fit in STMT_LINE_MAX. */
	memset(&st, 0, sizeof(st));
	st.kind = STMT_SERVICE_ADD;
	memset(st.name, 'n', STMT_NAME_MAX);
	st.proto = IPPROTO_TCP;
	st.addr.is_name = true;
	memset(st.addr.host, 'h', STMT_HOST_MAX);
	st.addr.port = 65535;
	st.n_allow = STMT_ALLOW_MAX;
	for (int i = 0; i < STMT_ALLOW_MAX; i++) {
		memset(st.allow[i], 'a', STMT_PRINCIPAL_MAX);
		st.allow[i][0] = (char)('A' + i);
	}
	n = stmt_format(&st, text, sizeof(text));
	assert_true(n > 8000 && n < STMT_LINE_MAX);
	memset(&st, 0, sizeof(st));
	st.kind = STMT_IDENTITY;
	memset(st.principal, 'p', STMT_PRINCIPAL_MAX);
	st.path[0] = '/';
	memset(st.path + 1, 'k', STMT_PATH_MAX - 1);
	n = stmt_format(&st, text, sizeof(text));
	assert_true(n > 4000 && n < STMT_LINE_MAX);
	check_roundtrip();

	/* Unknown kind. */
	st.kind = (enum stmt_kind)42;
	assert_int_equal(stmt_format(&st, text, sizeof(text)), -1);
}

/* A hand-made struct: numeric hosts come from the binary address. */
static void test_format_built(void **state)
{
	(void)state;
	memset(&st, 0, sizeof(st));
	st.kind = STMT_MAP_ADD;
	st.proto = IPPROTO_UDP;
	st.addr.family = AF_INET6;
	assert_int_equal(inet_pton(AF_INET6, "fd00::53", &st.addr.in6), 1);
	st.addr.port = 53;
	strcpy(st.peer, "p");
	strcpy(st.service, "s");
	stmt_format(&st, text, sizeof(text));
	assert_string_equal(text, "map add udp [fd00::53]:53 peer p service s");

	memset(&st, 0, sizeof(st));
	st.kind = STMT_LISTEN;
	st.addr.family = AF_INET;
	st.addr.in4.s_addr = htonl(0x7f000001);
	st.addr.port = 9899;
	stmt_format(&st, text, sizeof(text));
	assert_string_equal(text, "listen 127.0.0.1:9899");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identity),
		cmocka_unit_test(test_listen),
		cmocka_unit_test(test_peer_add),
		cmocka_unit_test(test_peer_del),
		cmocka_unit_test(test_service_add),
		cmocka_unit_test(test_service_allow_max),
		cmocka_unit_test(test_service_del),
		cmocka_unit_test(test_map_add),
		cmocka_unit_test(test_map_del),
		cmocka_unit_test(test_service_identity),
		cmocka_unit_test(test_map_identity),
		cmocka_unit_test(test_err_identity),
		cmocka_unit_test(test_simple),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_err_command),
		cmocka_unit_test(test_err_missing),
		cmocka_unit_test(test_err_extra),
		cmocka_unit_test(test_err_port),
		cmocka_unit_test(test_err_address),
		cmocka_unit_test(test_err_carrier_proto),
		cmocka_unit_test(test_udp_port),
		cmocka_unit_test(test_sctp_clauses),
		cmocka_unit_test(test_err_name),
		cmocka_unit_test(test_err_principal_path),
		cmocka_unit_test(test_err_duplicate),
		cmocka_unit_test(test_err_argv_only),
		cmocka_unit_test(test_err_buffer),
		cmocka_unit_test(test_proxy),
		cmocka_unit_test(test_plugin),
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_format_canonical),
		cmocka_unit_test(test_relay),
		cmocka_unit_test(test_format_roundtrip),
		cmocka_unit_test(test_format_buffer),
		cmocka_unit_test(test_format_built),
	};

	return cmocka_run_group_tests_name("stmt", tests, NULL, NULL);
}
