// SPDX-License-Identifier: GPL-2.0
/*
 * stmt_complete() (ctl/common/complete.c) against the parser
 * (stmt_parse_argv()): starting from no words, every path through the
 * completions is walked, a free word filled in with a valid sample of its
 * placeholder.  At each point:
 *
 *   - a word completion offers is not refused by the parser (its error,
 *     if any, does not name that word: "missing ..." is fine);
 *   - a keyword of the language that completion does not offer there is
 *     refused by the parser (where only keywords may come);
 *   - where completion offers nothing more, the parser accepts the words;
 *
 * and every kind of statement is reached by some path.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/grammar.h"
#include "common/stmt.h"

#define MAX_WORDS	24
#define MAX_CAND	32

static const struct {
	const char *placeholder, *sample;
} samples[] = {
	{ "PRINCIPAL", "funnel/gw@EXAMPLE.NET" },
	{ "PATH", "/etc/funnel/funnel.keytab" },
	{ "[ADDR]:PORT", ":9899" },
	{ "NAME", "gw1" },
	{ "HOST[,HOST...][:PORT]", "192.0.2.1,192.0.2.2:9899" },
	{ "TARGET:PORT", "127.0.0.1:53" },
	{ "[ADDR:]PORT", "127.0.0.1:5300" },
	{ "PRINCIPAL[,PRINCIPAL...]", "a@R,b@R" },
	{ "MS", "250" },
	{ "PORT", "9900" },
};

struct cand {
	const char *w[MAX_CAND];
	int n;
};

static void collect(const char *word, void *arg)
{
	struct cand *c = arg;

	assert_true(c->n < MAX_CAND);
	c->w[c->n++] = word;
}

static bool offered(const struct cand *c, const char *w)
{
	for (int i = 0; i < c->n; i++)
		if (!strcmp(c->w[i], w))
			return true;
	return false;
}

static const char *sample(const char *placeholder)
{
	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++)
		if (!strcmp(samples[i].placeholder, placeholder))
			return samples[i].sample;
	fail_msg("no sample word for the placeholder '%s' (add one)",
		 placeholder);
	return NULL;
}

/* Every keyword of the language, from the tables, and one that is not. */
static struct cand vocabulary;

static void add_word(const char *w)
{
	if (!offered(&vocabulary, w))
		collect(w, &vocabulary);
}

static void build_vocabulary(void)
{
	vocabulary.n = 0;
	add_word("bogus");
	for (unsigned int i = 0; i < gram_n_stmts; i++) {
		add_word(gram_stmts[i].cmd);
		if (gram_stmts[i].sub)
			add_word(gram_stmts[i].sub);
		for (unsigned int k = 0; k < gram_stmts[i].n_args; k++)
			for (const char *const *w = gram_stmts[i].args[k].words;
			     w && *w; w++)
				add_word(*w);
	}
	for (unsigned int c = 0; c < CL_N; c++) {
		add_word(gram_clauses[c].word);
		for (unsigned int v = 0; v < gram_clauses[c].n_vals; v++)
			for (const char *const *w = gram_clauses[c].vals[v].words;
			     w && *w; w++)
				add_word(*w);
	}
}

static struct stmt st;
static char err[512];
static unsigned int kinds_reached;
static unsigned int paths;

static char *show(char **w, int n)
{
	static char buf[1024];
	size_t o = 0;

	buf[0] = '\0';
	for (int i = 0; i < n; i++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s",
				      i ? " " : "", w[i]);
	return buf;
}

/* words + extra[0..n_extra-1]: parsed; 0 or -1 with err */
static int parse_with(char **w, int n, const char *const *extra,
		      unsigned int n_extra)
{
	assert_true(n + n_extra <= MAX_WORDS);
	for (unsigned int i = 0; i < n_extra; i++)
		w[n + i] = (char *)extra[i];
	return stmt_parse_argv(n + (int)n_extra, w, &st, err, sizeof(err));
}

static int parse_with1(char **w, int n, const char *extra)
{
	return parse_with(w, n, &extra, 1);
}

/*
 * The keyword k and, when it starts a clause, valid values of that
 * clause after it, in kw[]; returns how many words.
 */
static unsigned int with_values(const char *k,
				const char *kw[1 + GRAM_CLAUSE_VALS_MAX])
{
	enum gram_clause cl = gram_clause_of(k);
	unsigned int n = 0;

	kw[n++] = k;
	if (cl == CL_N)
		return n;
	for (unsigned int v = 0; v < gram_clauses[cl].n_vals; v++) {
		const struct gram_arg *a = &gram_clauses[cl].vals[v];

		kw[n++] = a->words ? a->words[0] : sample(a->placeholder);
	}
	return n;
}

/* kw[0..n-1] as one text */
static const char *joined(const char *const *kw, unsigned int n)
{
	static char buf[256];
	size_t o = 0;

	buf[0] = '\0';
	for (unsigned int i = 0; i < n; i++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s",
				      i ? " " : "", kw[i]);
	return buf;
}

/*
 * The parser refused the word w itself: its message names it, and does
 * not merely ask for what comes after it ("missing PATH after 'keytab'").
 */
static bool names(const char *w)
{
	char q[128];

	snprintf(q, sizeof(q), "'%s'", w);
	return strstr(err, q) && !strstr(err, ": missing ");
}

static void walk(char **w, int n)
{
	const char *kw[1 + GRAM_CLAUSE_VALS_MAX];
	struct cand c = { .n = 0 };
	unsigned int nk;
	const char *ph;

	assert_true(n + 1 + GRAM_CLAUSE_VALS_MAX <= MAX_WORDS);
	ph = stmt_complete(n, w, collect, &c);

	if (n && !c.n && !ph) {
		if (stmt_parse_argv(n, w, &st, err, sizeof(err)))
			fail_msg("completion offers nothing after '%s', the parser wants more: %s",
				 show(w, n), err);
		kinds_reached |= 1U << st.kind;
		paths++;
	}
	/* offered words are taken */
	for (int i = 0; i < c.n; i++)
		if (parse_with1(w, n, c.w[i]) && names(c.w[i]))
			fail_msg("completion offers '%s' after '%s', the parser refuses it: %s",
				 c.w[i], show(w, n), err);
	if (ph && parse_with1(w, n, sample(ph)) && names(sample(ph)))
		fail_msg("completion wants %s ('%s') after '%s', the parser refuses it: %s",
			 ph, sample(ph), show(w, n), err);
	/* where only keywords may come, those not offered are refused */
	if (!ph) {
		for (int i = 0; i < vocabulary.n; i++) {
			if (offered(&c, vocabulary.w[i]))
				continue;
			nk = with_values(vocabulary.w[i], kw);
			if (!parse_with(w, n, kw, nk))
				fail_msg("the parser takes '%s' after '%s', completion does not offer it",
					 joined(kw, nk), show(w, n));
		}
	}
	for (int i = 0; i < c.n; i++) {
		w[n] = (char *)c.w[i];
		walk(w, n + 1);
	}
	if (ph) {
		w[n] = (char *)sample(ph);
		walk(w, n + 1);
	}
}

static void test_complete_vs_parser(void **state)
{
	char *w[MAX_WORDS];

	(void)state;
	build_vocabulary();
	kinds_reached = 0;
	paths = 0;
	walk(w, 0);
	for (unsigned int i = 0; i < gram_n_stmts; i++)
		if (!(kinds_reached & (1U << gram_stmts[i].kind)))
			fail_msg("no completion path reaches '%s %s'",
				 gram_stmts[i].cmd,
				 gram_stmts[i].sub ? gram_stmts[i].sub : "");
	print_message("%u complete statements along the completions\n",
		      paths);
}

/* Words that fit no statement give nothing. */
static void test_complete_nothing(void **state)
{
	static const char *const lines[][4] = {
		{ "bogus" }, { "peer", "bogus" }, { "show", "x" },
		{ "map", "add", "sctp", "1" }, { "identity", "p", "key" },
		{ "peer", "add", "a", "h" },
	};
	static const int n[] = { 1, 2, 2, 4, 3, 4 };
	struct cand c = { .n = 0 };
	const char *ph;

	(void)state;
	for (size_t i = 0; i < sizeof(n) / sizeof(n[0]); i++) {
		c.n = 0;
		ph = stmt_complete(n[i], (char **)lines[i], collect, &c);
		if (i < 5) {
			assert_int_equal(c.n, 0);
			assert_null(ph);
		}
	}
	/* peer add NAME HOST: the three clauses */
	assert_int_equal(c.n, 3);
	assert_string_equal(c.w[0], "carrier");
	assert_string_equal(c.w[1], "principal");
	assert_string_equal(c.w[2], "udp-port");
	/* the words fit a statement so far, or not (funnelctl's --json) */
	for (size_t i = 0; i < sizeof(n) / sizeof(n[0]); i++)
		assert_int_equal(stmt_fits(n[i], (char **)lines[i]), i == 5);
	assert_true(stmt_fits(0, NULL));
	assert_true(stmt_fits(1, (char *[]){ "show" }));
	assert_true(stmt_fits(1, (char *[]){ "peer" }));
	assert_true(stmt_fits(2, (char *[]){ "stats", "--prometheus" }));
}

/* "udp-port" goes with carrier sctp-udp or auto only, either order. */
static void test_complete_udp_port(void **state)
{
	char *tcp[] = { "peer", "add", "a", "h", "carrier", "tcp" };
	char *sctp_port[] = { "peer", "add", "a", "h", "carrier", "sctp",
			      "udp-port" };
	char *port_carrier[] = { "peer", "add", "a", "h", "udp-port", "9900",
				 "carrier" };
	char *port_tcp[] = { "peer", "add", "a", "h", "udp-port", "9900",
			     "carrier", "tcp" };
	char *udp[] = { "peer", "add", "a", "h", "carrier", "sctp-udp" };
	struct cand c = { .n = 0 };

	(void)state;
	assert_null(stmt_complete(6, tcp, collect, &c));
	assert_int_equal(c.n, 1);
	assert_string_equal(c.w[0], "principal");
	assert_false(stmt_fits(7, sctp_port));
	c.n = 0;
	assert_null(stmt_complete(7, port_carrier, collect, &c));
	assert_int_equal(c.n, 2);
	assert_string_equal(c.w[0], "auto");
	assert_string_equal(c.w[1], "sctp-udp");
	assert_false(stmt_fits(8, port_tcp));
	c.n = 0;
	assert_null(stmt_complete(6, udp, collect, &c));
	assert_int_equal(c.n, 2);
	assert_string_equal(c.w[1], "udp-port");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_complete_vs_parser),
		cmocka_unit_test(test_complete_nothing),
		cmocka_unit_test(test_complete_udp_port),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
