// SPDX-License-Identifier: GPL-2.0
/*
 * gss_pair: a GSS-API initiator and acceptor (ctl/funneld/sec/gss.c) in one process,
 * exchanging their tokens in memory, then deriving keys on both sides.
 *
 *   gss_pair [-t TARGET] [-c CLIENT_KEYTAB] [-k KEYTAB] [-a PRINCIPAL]...
 *            [-d STREAM:GEN]... [-x FLAG]
 *
 *   -t  target principal (default funnel/hoster; host-based if no '/')
 *   -c  initiator's client keytab (default: the ccache)
 *   -k  acceptor's keytab (default: the default keytab, KRB5_KTNAME)
 *   -a  allow-list entry for the acceptor (repeatable; none: allow all)
 *   -d  derive keys of STREAM (0..65535) and generation GEN (repeatable;
 *       default 1:1)
 *   -x  do not request FLAG (mutual, replay, sequence, conf, integ): the
 *       context must then be refused
 *
 * Prints, one per line:
 *   tokens N                          tokens exchanged
 *   target PRINCIPAL                  the acceptor, as the initiator sees it
 *   accepted PRINCIPAL                the initiator, as the acceptor sees it
 *   flags initiator 0xF acceptor 0xF
 *   lifetime initiator S acceptor S   seconds left
 *   label S:G "funnel v1 stream S gen G"
 *   initiator S:G HEX                 72 bytes from each side
 *   acceptor S:G HEX
 * Exit status: 0 success (and both sides derived the same bytes), 1
 * failure with a message on stderr, 2 bad usage.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "funneld/sec/gss.h"

#define PROG		"gss_pair"
#define EXIT_FAIL	1
#define EXIT_USAGE	2
#define MAX_ALLOW	16
#define MAX_DERIVE	16
#define MAX_TOKENS	10

struct derive_req {
	uint16_t stream;
	uint32_t gen;
};

struct opts {
	const char *target;
	const char *client_kt;
	const char *kt;
	const char *allow[MAX_ALLOW];
	size_t n_allow;
	struct derive_req der[MAX_DERIVE];
	size_t n_der;
	OM_uint32 drop;
};

static void usage(void)
{
	fprintf(stderr,
		"usage: %s [-t TARGET] [-c CLIENT_KEYTAB] [-k KEYTAB] [-a PRINCIPAL]...\n"
		"                [-d STREAM:GEN]... [-x mutual|replay|sequence|conf|integ]\n",
		PROG);
	exit(EXIT_USAGE);
}

static int parse_derive(const char *s, struct derive_req *d)
{
	unsigned long st, gen;
	char *end;

	st = strtoul(s, &end, 10);
	if (end == s || *end != ':' || st > 65535)
		return -1;
	s = end + 1;
	gen = strtoul(s, &end, 10);
	if (end == s || *end || gen > 0xffffffffUL)
		return -1;
	d->stream = st;
	d->gen = gen;
	return 0;
}

static OM_uint32 parse_flag(const char *s)
{
	static const struct {
		const char *name;
		OM_uint32 flag;
	} names[] = {
		{ "mutual", GSS_C_MUTUAL_FLAG }, { "replay", GSS_C_REPLAY_FLAG },
		{ "sequence", GSS_C_SEQUENCE_FLAG }, { "conf", GSS_C_CONF_FLAG },
		{ "integ", GSS_C_INTEG_FLAG },
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(s, names[i].name))
			return names[i].flag;
	return 0;
}

static void parse_opts(int argc, char **argv, struct opts *o)
{
	int c;

	memset(o, 0, sizeof(*o));
	o->target = "funnel/hoster";
	while ((c = getopt(argc, argv, "t:c:k:a:d:x:h")) != -1) {
		switch (c) {
		case 't':
			o->target = optarg;
			break;
		case 'c':
			o->client_kt = optarg;
			break;
		case 'k':
			o->kt = optarg;
			break;
		case 'a':
			if (o->n_allow == MAX_ALLOW)
				usage();
			o->allow[o->n_allow++] = optarg;
			break;
		case 'd':
			if (o->n_der == MAX_DERIVE ||
			    parse_derive(optarg, &o->der[o->n_der]))
				usage();
			o->n_der++;
			break;
		case 'x':
			o->drop |= parse_flag(optarg);
			if (!parse_flag(optarg))
				usage();
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (!o->n_der) {
		o->der[0].stream = 1;
		o->der[0].gen = 1;
		o->n_der = 1;
	}
}

static int fail(const char *side, const struct fgss *g)
{
	fprintf(stderr, "%s: %s: %s\n", PROG, side, fgss_error(g));
	return -1;
}

/*
 * Step both sides until both are established: side 0 the initiator,
 * side 1 the acceptor; a token produced by one goes to the other.
 */
static int exchange(struct fgss *side[2])
{
	static const char *const names[2] = { "initiator", "acceptor" };
	struct fgss_token in = { NULL, 0 }, out;
	int done[2] = { 0, 0 }, cur = 0, n = 0, ret = -1;
	enum fgss_status st;

	while (!done[0] || !done[1]) {
		if (n == MAX_TOKENS) {
			fprintf(stderr, "%s: no context after %d tokens\n", PROG, n);
			goto out;
		}
		st = fgss_step(side[cur], in.data, in.len, &out);
		fgss_token_free(&in);
		in = out;
		if (st == FGSS_ERROR) {
			fail(names[cur], side[cur]);
			goto out;
		}
		done[cur] = st == FGSS_DONE;
		if (!in.len && !done[cur ^ 1]) {
			fprintf(stderr, "%s: %s sent no token, %s not established\n",
				PROG, names[cur], names[cur ^ 1]);
			goto out;
		}
		n += in.len > 0;
		cur ^= 1;
	}
	if (in.len) {
		fprintf(stderr, "%s: %s has a token for an established peer\n",
			PROG, names[cur ^ 1]);
		goto out;
	}
	printf("tokens %d\n", n);
	ret = 0;
out:
	fgss_token_free(&in);
	return ret;
}

static void print_hex(const char *side, const struct derive_req *d,
		      const uint8_t *b)
{
	int i;

	printf("%s %u:%u ", side, (unsigned int)d->stream, (unsigned int)d->gen);
	for (i = 0; i < FGSS_DERIVE_LEN; i++)
		printf("%02x", b[i]);
	printf("\n");
}

static int derive_one(struct fgss *ini, struct fgss *acc,
		      const struct derive_req *d)
{
	uint8_t ki[FGSS_DERIVE_LEN], ka[FGSS_DERIVE_LEN];
	char label[64];
	int ret = 0;

	fgss_label(label, sizeof(label), d->stream, d->gen);
	printf("label %u:%u \"%s\"\n", (unsigned int)d->stream,
	       (unsigned int)d->gen, label);
	if (fgss_derive(ini, d->stream, d->gen, ki))
		return fail("initiator", ini);
	if (fgss_derive(acc, d->stream, d->gen, ka))
		return fail("acceptor", acc);
	print_hex("initiator", d, ki);
	print_hex("acceptor", d, ka);
	if (memcmp(ki, ka, sizeof(ki))) {
		fprintf(stderr, "%s: stream %u gen %u: the two sides derived different keys\n",
			PROG, (unsigned int)d->stream, (unsigned int)d->gen);
		ret = -1;
	}
	explicit_bzero(ki, sizeof(ki));
	explicit_bzero(ka, sizeof(ka));
	return ret;
}

static int report(struct fgss *ini, struct fgss *acc, const struct opts *o)
{
	long long li, la;
	size_t i;

	printf("target %s\n", fgss_peer(ini));
	printf("accepted %s\n", fgss_peer(acc));
	printf("flags initiator 0x%x acceptor 0x%x\n",
	       (unsigned int)ini->ret_flags, (unsigned int)acc->ret_flags);
	li = fgss_lifetime(ini);
	la = fgss_lifetime(acc);
	if (li < 0)
		return fail("initiator", ini);
	if (la < 0)
		return fail("acceptor", acc);
	printf("lifetime initiator %lld acceptor %lld\n", li, la);
	if (fgss_allowed(acc, o->allow, o->n_allow))
		return fail("acceptor", acc);
	for (i = 0; i < o->n_der; i++)
		if (derive_one(ini, acc, &o->der[i]))
			return -1;
	return 0;
}

static int run(const struct opts *o)
{
	struct fgss ini, acc;
	struct fgss *side[2] = { &ini, &acc };
	int ret = -1;

	if (fgss_init(&ini, o->target, o->client_kt)) {
		fail("initiator", &ini);
		fgss_free(&ini);
		return -1;
	}
	ini.req_flags &= ~o->drop;
	if (fgss_accept_init(&acc, o->kt))
		fail("acceptor", &acc);
	else if (!exchange(side))
		ret = report(&ini, &acc, o);
	fgss_free(&ini);
	fgss_free(&acc);
	return ret;
}

int main(int argc, char **argv)
{
	struct opts o;
	int ret;

	parse_opts(argc, argv, &o);
	ret = run(&o);
	fflush(stdout);
	return ret ? EXIT_FAIL : 0;
}
