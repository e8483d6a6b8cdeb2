// SPDX-License-Identifier: GPL-2.0
/*
 * Completion of statements from the grammar tables (grammar.h): the
 * words that may come next after the words typed so far.
 */

#include <stdbool.h>
#include <string.h>

#include "common/grammar.h"

static bool one_of(const char *w, const char *const *words)
{
	for (; *words; words++)
		if (!strcmp(w, *words))
			return true;
	return false;
}

static void each(const char *const *words,
		 void (*fn)(const char *word, void *arg), void *arg)
{
	for (; *words; words++)
		fn(*words, arg);
}

/* "lifetime" is for udp only, "proxy" and "plugin" for tcp only: is the statement's
 * protocol udp?
 */
static bool is_udp(const struct gram_stmt *g, char *const w[])
{
	for (unsigned int k = 0; k < g->n_args; k++)
		if (g->args[k].words == gram_protos ||
		    g->args[k].words == gram_relay_protos)
			return !strcmp(w[k], gram_protos[0]);
	return false;
}

/*
 * "udp-port" (peer add) is for carrier sctp-udp or auto only: may the
 * carrier named w come with it?
 */
static bool udp_carrier(const char *w)
{
	return !strcmp(w, gram_carriers[STMT_CARRIER_AUTO]) ||
	       !strcmp(w, gram_carriers[STMT_CARRIER_SCTP_UDP]);
}

/*
 * After the command (and subcommand) of g: its n words w.  False when
 * they fit no statement; else the placeholder of a free word that may
 * come next in *ph (or NULL).
 */
static bool complete_args(const struct gram_stmt *g, int n, char *const w[],
			  void (*fn)(const char *word, void *arg), void *arg,
			  const char **ph)
{
	const struct gram_clause_desc *cd;
	const char *carrier = NULL;	/* the carrier clause's value */
	unsigned int used = 0;
	enum gram_clause c;
	int i;

	for (int k = 0; k < n && k < (int)g->n_args; k++)
		if (g->args[k].words && !one_of(w[k], g->args[k].words))
			return false;
	if (n < (int)g->n_args) {
		if (g->args[n].words)
			each(g->args[n].words, fn, arg);
		else
			*ph = g->args[n].placeholder;
		return true;
	}
	for (i = (int)g->n_args; i < n; i++) {
		c = gram_clause_of(w[i]);
		if (c == CL_N || !(g->clauses & CL_BIT(c)) ||
		    (used & CL_BIT(c)))
			return false;
		used |= CL_BIT(c);
		if (c == CL_UDP_PORT && carrier && !udp_carrier(carrier))
			return false;
		cd = &gram_clauses[c];
		for (unsigned int v = 0; v < cd->n_vals; v++) {
			const struct gram_arg *a = &cd->vals[v];
			bool udp = c == CL_CARRIER && (used & CL_BIT(CL_UDP_PORT));

			if (i + 1 == n) {	/* this value comes next */
				if (!a->words)
					*ph = a->placeholder;
				else if (!udp)
					each(a->words, fn, arg);
				else
					for (const char *const *cw = a->words;
					     *cw; cw++)
						if (udp_carrier(*cw))
							fn(*cw, arg);
				return true;
			}
			i++;
			if (a->words && !one_of(w[i], a->words))
				return false;
			if (c == CL_CARRIER)
				carrier = w[i];
			if (udp && !udp_carrier(w[i]))
				return false;
		}
	}
	for (c = 0; c < CL_N; c++) {
		if (!(g->clauses & CL_BIT(c)) || (used & CL_BIT(c)))
			continue;
		if (c == CL_UDP_PORT && carrier && !udp_carrier(carrier))
			continue;
		if (c == CL_LIFETIME && !is_udp(g, w))
			continue;
		if ((c == CL_PROXY || c == CL_PLUGIN) && is_udp(g, w))
			continue;
		fn(gram_clauses[c].word, arg);
	}
	return true;
}

/* stmt_complete() and stmt_fits(): do argv's words fit a statement? */
static bool stmt_walk(int argc, char *const argv[],
		      void (*fn)(const char *word, void *arg), void *arg,
		      const char **ph)
{
	const struct gram_stmt *g;
	bool fits = !argc;

	*ph = NULL;
	for (unsigned int i = 0; i < gram_n_stmts; i++) {
		g = &gram_stmts[i];
		if (!argc) {
			/* each command once (peer add, peer del: "peer") */
			if (!i || strcmp(g->cmd, gram_stmts[i - 1].cmd))
				fn(g->cmd, arg);
			continue;
		}
		if (strcmp(argv[0], g->cmd))
			continue;
		if (!g->sub)
			return complete_args(g, argc - 1, argv + 1, fn, arg, ph);
		if (argc == 1) {
			fn(g->sub, arg);
			fits = true;
			continue;
		}
		if (!strcmp(argv[1], g->sub))
			return complete_args(g, argc - 2, argv + 2, fn, arg, ph);
	}
	return fits;
}

const char *stmt_complete(int argc, char *const argv[],
			  void (*fn)(const char *word, void *arg), void *arg)
{
	const char *ph;

	stmt_walk(argc, argv, fn, arg, &ph);
	return ph;
}

static void ignore(const char *word, void *arg)
{
	(void)word;
	(void)arg;
}

bool stmt_fits(int argc, char *const argv[])
{
	const char *ph;

	return stmt_walk(argc, argv, ignore, NULL, &ph);
}
