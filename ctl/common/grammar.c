// SPDX-License-Identifier: GPL-2.0
/* The tables of the statement language: see grammar.h. */

#include <string.h>

#include "common/grammar.h"

const char *const gram_protos[] = { "udp", "tcp", NULL };
const char *const gram_relay_protos[] = { "udp", "tcp", NULL };
const char *const gram_carriers[] = {
	[STMT_CARRIER_AUTO]	= "auto",
	[STMT_CARRIER_SCTP]	= "sctp",
	[STMT_CARRIER_SCTP_UDP]	= "sctp-udp",
	[STMT_CARRIER_TCP]	= "tcp",
	NULL,
};
const char *const gram_proxies[] = { "v2", NULL };
const char *const gram_plugins[] = { "ldap", NULL };
static const char *const keytab[] = { GRAM_KEYTAB, NULL };

#define NAME		{ "NAME", NULL }
#define PROTO		{ "udp|tcp", gram_protos }
#define PRINCIPAL	{ "PRINCIPAL", NULL }
#define KEYTAB		{ GRAM_KEYTAB, keytab }
#define PATH		{ "PATH", NULL }

const struct gram_clause_desc gram_clauses[CL_N] = {
	[CL_CARRIER]	= { "carrier", 1, { { NULL, gram_carriers } } },
	[CL_PRINCIPAL]	= { "principal", 1, { PRINCIPAL } },
	[CL_ALLOW]	= { "allow", 1, { { "PRINCIPAL[,PRINCIPAL...]", NULL } } },
	[CL_LIFETIME]	= { "lifetime", 1, { { "MS", NULL } } },
	[CL_PEER]	= { "peer", 1, { NAME } },
	[CL_SERVICE]	= { "service", 1, { NAME } },
	[CL_PROMETHEUS]	= { "--prometheus", 0, { { NULL, NULL } } },
	[CL_PROXY]	= { "proxy", 1, { { NULL, gram_proxies } } },
	[CL_PLUGIN]	= { "plugin", 1, { { NULL, gram_plugins } } },
	[CL_IDENTITY]	= { "identity", 3, { PRINCIPAL, KEYTAB, PATH } },
	[CL_UDP_PORT]	= { "udp-port", 1, { { "PORT", NULL } } },
};

const struct gram_stmt gram_stmts[] = {
	{ "identity", NULL, STMT_IDENTITY, 3,
	  { PRINCIPAL, KEYTAB, PATH }, 0 },
	{ "listen", NULL, STMT_LISTEN, 1, { { "[ADDR]:PORT", NULL } }, 0 },
	{ "peer", "add", STMT_PEER_ADD, 2,
	  { NAME, { "HOST[,HOST...][:PORT]", NULL } },
	  CL_BIT(CL_CARRIER) | CL_BIT(CL_UDP_PORT) | CL_BIT(CL_PRINCIPAL) },
	{ "peer", "del", STMT_PEER_DEL, 1, { NAME }, 0 },
	{ "service", "add", STMT_SERVICE_ADD, 3,
	  { NAME, PROTO, { "TARGET:PORT", NULL } },
	  CL_BIT(CL_ALLOW) | CL_BIT(CL_IDENTITY) | CL_BIT(CL_LIFETIME) |
	  CL_BIT(CL_PROXY) | CL_BIT(CL_PLUGIN) },
	{ "service", "del", STMT_SERVICE_DEL, 1, { NAME }, 0 },
	{ "relay", "add", STMT_RELAY_ADD, 2, { NAME, { "udp|tcp", gram_relay_protos } },
	  CL_BIT(CL_PEER) | CL_BIT(CL_SERVICE) | CL_BIT(CL_ALLOW) |
	  CL_BIT(CL_IDENTITY) | CL_BIT(CL_PRINCIPAL) | CL_BIT(CL_LIFETIME) },
	{ "relay", "del", STMT_RELAY_DEL, 1, { NAME }, 0 },
	{ "map", "add", STMT_MAP_ADD, 2, { PROTO, { "[ADDR:]PORT", NULL } },
	  CL_BIT(CL_PEER) | CL_BIT(CL_SERVICE) | CL_BIT(CL_IDENTITY) |
	  CL_BIT(CL_PRINCIPAL) | CL_BIT(CL_LIFETIME) | CL_BIT(CL_PLUGIN) },
	{ "map", "del", STMT_MAP_DEL, 2, { PROTO, { "[ADDR:]PORT", NULL } }, 0 },
	{ "show", NULL, STMT_SHOW, 0, { { NULL, NULL } }, 0 },
	{ "stats", NULL, STMT_STATS, 0, { { NULL, NULL } }, CL_BIT(CL_PROMETHEUS) },
	{ "plaintext", NULL, STMT_PLAINTEXT, 0, { { NULL, NULL } }, 0 },
};

const unsigned int gram_n_stmts = sizeof(gram_stmts) / sizeof(gram_stmts[0]);

enum gram_clause gram_clause_of(const char *w)
{
	unsigned int c;

	for (c = 0; c < CL_N; c++)
		if (!strcmp(w, gram_clauses[c].word))
			break;
	return (enum gram_clause)c;
}
