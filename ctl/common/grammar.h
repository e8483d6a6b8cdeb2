/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The words of the statement language (stmt.h), as data: which commands
 * there are, the positional words of each, and its optional clauses.
 * stmt.c parses with these tables (a keyword it takes is a keyword
 * here) and stmt_complete() (complete.c) offers what they list, so the
 * shell completion of funnelctl cannot offer what the parser refuses or
 * miss what it takes; selftests/unit/test_complete.c checks both ways.
 */
#ifndef FUNNEL_GRAMMAR_H
#define FUNNEL_GRAMMAR_H

#include "common/stmt.h"

/* The optional clauses: a keyword, and the values that follow it. */
enum gram_clause {
	CL_CARRIER,		/* carrier auto|sctp|sctp-udp|tcp */
	CL_PRINCIPAL,		/* principal P (peer add, map add) */
	CL_ALLOW,		/* allow PRINCIPAL[,PRINCIPAL...] */
	CL_LIFETIME,		/* lifetime MS (udp only) */
	CL_PEER,		/* peer NAME */
	CL_SERVICE,		/* service NAME */
	CL_PROMETHEUS,		/* --prometheus */
	CL_PROXY,		/* proxy v2 (tcp only) */
	CL_PLUGIN,		/* plugin ldap (tcp only) */
	CL_IDENTITY,		/* identity PRINCIPAL keytab PATH (service
				 * add, map add)
				 */
	CL_UDP_PORT,		/* udp-port PORT (peer add: the peer's SCTP
				 * over UDP encapsulation port)
				 */
	CL_N
};

#define CL_BIT(c)	(1U << (c))

/*
 * A positional word: one of words (NULL-terminated), or with words NULL
 * anything, shown as the placeholder ("NAME", "PATH"...).
 */
struct gram_arg {
	const char *placeholder;
	const char *const *words;
};

#define GRAM_CLAUSE_VALS_MAX	3

/* An optional clause: its keyword, then n_vals words in this order. */
struct gram_clause_desc {
	const char *word;
	unsigned int n_vals;		/* 0: the keyword alone */
	struct gram_arg vals[GRAM_CLAUSE_VALS_MAX];
};

extern const struct gram_clause_desc gram_clauses[CL_N];

#define GRAM_ARGS_MAX	3

struct gram_stmt {
	const char *cmd;
	const char *sub;		/* NULL: none */
	enum stmt_kind kind;
	unsigned int n_args;
	struct gram_arg args[GRAM_ARGS_MAX];
	unsigned int clauses;		/* CL_BIT()s */
};

extern const struct gram_stmt gram_stmts[];
extern const unsigned int gram_n_stmts;

/* Values: "udp", "tcp" (IPPROTO_UDP, IPPROTO_TCP); carrier names in the
 * order of enum stmt_carrier.
 */
extern const char *const gram_protos[];
/* relay add takes udp and tcp (Documentation/switchbox.md) */
extern const char *const gram_relay_protos[];
extern const char *const gram_carriers[];
/* The values of "proxy": the PROXY protocol versions (v2 only). */
extern const char *const gram_proxies[];
/* The values of "plugin" (Documentation/plugins.md), in the order of
 * enum stmt_plugin from 1 on.
 */
extern const char *const gram_plugins[];
/* identity PRINCIPAL keytab PATH (the statement, and the clause of
 * service add and map add)
 */
#define GRAM_KEYTAB	"keytab"

/* The clause whose keyword is w, or CL_N. */
enum gram_clause gram_clause_of(const char *w);

/*
 * Completion (complete.c): what may follow the words argv[0..argc-1] of
 * a statement.  Calls fn(word, arg) for each keyword that may come next
 * and returns the placeholder of a free word that may come next ("NAME",
 * "PATH"...), or NULL when none may.  Words that fit no statement give
 * nothing.  Free words are not checked (any word fits a NAME).
 */
const char *stmt_complete(int argc, char *const argv[],
			  void (*fn)(const char *word, void *arg), void *arg);

/* Whether argv[0..argc-1] begin a statement (what stmt_complete takes). */
bool stmt_fits(int argc, char *const argv[]);

#endif /* FUNNEL_GRAMMAR_H */
